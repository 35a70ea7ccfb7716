/* journal_csv: the revenue journal as a generic GL import CSV (journal.csv).
 *
 * Owns the journal.csv layout: one row per journal line with the entry date, journal code,
 * entry number, GL account and label, debit and credit in the functional currency (the
 * books'), that currency, the line's signed amount and code in the transaction (invoice)
 * currency, the reference (invoice number), a line label, the line type and the customer
 * sub-ledger id and name. Text cells are formula-neutralised. Columns are documented in
 * formats/README.md. */
#ifndef RT_JOURNAL_CSV_H
#define RT_JOURNAL_CSV_H

#include "engine/run.h"

#define RT_JOURNAL_CSV_HEADER                                                                   \
    "date,journal_code,entry,gl_account,gl_label,debit,credit,currency,txn_amount,"             \
    "txn_currency,reference,label,line_type,customer_id,customer_name\n"

/* Write journal.csv (journal.csv.zst when res->tables_zstd_level is set) into dir, formatting
 * on up to `threads` threads, and append it to files. */
rt_status rt_journal_csv_write(const char *dir, const rt_run_result *res, unsigned threads,
                               rt_output_list *files, rt_error *err);

/* The human label of a journal line ("Invoice INV-1 Voice revenue"), into buf. */
void rt_journal_line_label(const rt_run_result *res, const rt_journal_line *l, char *buf,
                           size_t buf_size);

/* The functional currency of the run's books (company.functional_currency). */
const rt_currency *rt_journal_functional_currency(const rt_run_result *res);

#endif

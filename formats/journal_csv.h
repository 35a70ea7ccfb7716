/* journal_csv: the revenue journal as a generic GL import CSV (journal.csv).
 *
 * Owns the journal.csv layout: one row per journal line with entry number, date, journal
 * code, GL account and label, debit, credit, currency, reference (invoice number), customer
 * sub-ledger id and name, and a line label. Columns are documented in formats/README.md. */
#ifndef RT_JOURNAL_CSV_H
#define RT_JOURNAL_CSV_H

#include "engine/run.h"

rt_status rt_journal_csv_write(const char *dir, const rt_run_result *res, rt_output_list *files,
                               rt_error *err);

/* The human label of a journal line ("Invoice INV-1 / Voice revenue"), into buf. */
void rt_journal_line_label(const rt_run_result *res, const rt_journal_line *l, char *buf,
                           size_t buf_size);

#endif

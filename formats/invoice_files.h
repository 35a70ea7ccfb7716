/* invoice_files: the invoice outputs of a run in JSON Lines and CSV.
 *
 * Owns invoices.jsonl (one JSON object per invoice with its lines and VAT breakdown),
 * invoices.csv (one summary row per invoice) and invoice_lines.csv (one row per line); their
 * columns are documented in formats/README.md. */
#ifndef RT_INVOICE_FILES_H
#define RT_INVOICE_FILES_H

#include "engine/run.h"

/* Write the three files into dir (zstd-compressed and named *.zst when
 * res->tables_zstd_level is set), formatting on up to `threads` threads, and append them to
 * files. The bytes do not depend on the thread count. */
rt_status rt_invoice_files_write(const char *dir, const rt_run_result *res, unsigned threads,
                                 rt_output_list *files, rt_error *err);

/* Text of an invoice line's description: the charge's, else the product's name. */
const char *rt_invoice_line_description(const rt_catalog *cat, const rt_invoice_line *l);

/* "invoice" or "credit_note": the type column of invoices.csv and invoices.jsonl. */
const char *rt_invoice_type_name(const rt_invoice *inv);

#endif

/* run_outputs: the output directory of a run.
 *
 * Owns the set of files a run writes and their order: rated_usage.csv.zst (every billed event),
 * rejects.csv.zst (every rejected record with reason, source and original text),
 * duplicates.csv.zst, usage_detail.csv.zst and usage_detail_index.csv (the events behind each
 * invoice line), invoices.jsonl, invoices.csv, invoice_lines.csv, journal.csv, the FEC file
 * (SIREN + FEC + closing date + .txt, when the company has a SIREN), ubl/<number>.xml and
 * html/<number>.html per invoice and credit note, and manifest.json, which lists every other
 * file. Detail files are multi-frame zstd: each chunk is encoded and compressed on its own
 * thread into a frame, and frames are appended in input order. The rt_output_list handed
 * back to the run holds the top-level files; the per-document files are listed in the
 * manifest only (whose checksum the registry records). Implements rt_output_ops for the run. */
#ifndef RT_RUN_OUTPUTS_H
#define RT_RUN_OUTPUTS_H

#include "engine/run.h"

/* The output writer to put in rt_run_config.outputs. */
const rt_output_ops *rt_run_outputs(void);

#endif

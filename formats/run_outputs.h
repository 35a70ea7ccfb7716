/* run_outputs: the output directory of a run.
 *
 * Owns the set of files a run writes and their order: rated_usage.csv.zst (every billed event),
 * rejects.csv.zst (every rejected record with reason, source and original text),
 * duplicates.csv.zst, invoices.jsonl, invoices.csv, invoice_lines.csv, journal.csv and
 * manifest.json. Detail files are multi-frame zstd: each chunk is encoded and compressed on
 * its own thread into a frame, and frames are appended in input order. Implements
 * rt_output_ops for the run. */
#ifndef RT_RUN_OUTPUTS_H
#define RT_RUN_OUTPUTS_H

#include "engine/run.h"

/* The output writer to put in rt_run_config.outputs. */
const rt_output_ops *rt_run_outputs(void);

#endif

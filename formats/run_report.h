/* run_report: the HTML report of a committed run (`ratel report`).
 *
 * Owns reading a run's output directory for the figures a billing team looks at after a run
 * (counts and their reconciliation, totals per currency, revenue by product, usage by hour of
 * day, the top accounts, rejects by reason) and rendering them as one self-contained HTML page
 * with inline SVG charts (no scripts, no external resources). Usage is streamed from
 * rated_usage.csv.zst, never loaded whole. The page depends only on the directory's contents. */
#ifndef RT_RUN_REPORT_H
#define RT_RUN_REPORT_H

#include "engine/status.h"

/* Write the report of run directory `dir` to html_path (which must not exist).
 * RT_ENOTFOUND / RT_EPARSE when the directory is not a run's output; RT_EIO, RT_ENOMEM. */
rt_status rt_run_report_write(const char *dir, const char *html_path, rt_error *err);

#endif

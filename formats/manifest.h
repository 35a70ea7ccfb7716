/* manifest: manifest.json, the proof of what a run read and wrote.
 *
 * Owns the manifest layout (documented in formats/README.md): the run number and period, the
 * book fingerprint, every input with its size, XXH64 and record count, every output with its
 * size, XXH64 and row count, the counts (read = rated + rejected + duplicate), rejects by
 * reason, invoice count and number range, totals per currency and journal debits/credits,
 * and the per-document files (UBL, HTML) with their counts by document type.
 * It holds no time stamp and no thread count, so the same inputs give the same bytes. */
#ifndef RT_MANIFEST_H
#define RT_MANIFEST_H

#include "engine/run.h"
#include "formats/json.h"

#define RT_MANIFEST_NAME "manifest.json"
/* Version 2 lists per-document files (ubl/..., html/...) among the outputs and adds the
 * "documents" counts; verify reads versions 1 and 2. */
#define RT_MANIFEST_FORMAT "ratel-manifest/2"
#define RT_MANIFEST_FORMAT_V1 "ratel-manifest/1"

/* Write dir/manifest.json listing `files`; *xxh64 receives the manifest's own checksum. */
rt_status rt_manifest_write(const char *dir, const rt_run_result *res,
                            const rt_output_list *files, uint64_t *xxh64, rt_error *err);

/* Read and parse dir/manifest.json into a tree in arena. RT_ENOTFOUND, RT_EPARSE. */
rt_status rt_manifest_read(const char *dir, rt_arena *arena, const rt_json **root,
                           rt_error *err);

#endif

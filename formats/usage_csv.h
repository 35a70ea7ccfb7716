/* usage_csv: the usage CSV reader (plain or zstd-compressed).
 *
 * Owns the usage CSV layout (a header row naming the columns event_id, account_id,
 * product_id, start_time, quantity and optionally called_number, in any order; other columns
 * are ignored), cutting the stream into chunks at record boundaries, and parsing a chunk's
 * records into events or rejects. Implements rt_usage_reader. */
#ifndef RT_USAGE_CSV_H
#define RT_USAGE_CSV_H

#include <stddef.h>

#include "engine/usage.h"

/* Open a usage CSV file and read its header. chunk_bytes 0 picks 4 MiB.
 * RT_ENOTFOUND, RT_EIO, RT_ECORRUPT (damaged zstd), RT_EPARSE (header missing a required
 * column, with the column name in err). */
rt_status rt_usage_csv_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                            rt_error *err);

/* Parse the records of an in-memory buffer that holds whole records (no header) with the
 * standard column order. For fuzzing and tests: the same code path as a file's chunks. */
rt_status rt_usage_csv_parse_buffer(const char *data, size_t len, rt_event_batch *batch);

#endif

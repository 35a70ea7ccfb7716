/* usage_open: picks the usage reader a file needs.
 *
 * Owns the mapping from a usage file's name to its reader: names ending in .csv or .csv.zst
 * are usage CSV (compression is recognised from the content, not the name). */
#ifndef RT_USAGE_OPEN_H
#define RT_USAGE_OPEN_H

#include <stddef.h>

#include "engine/usage.h"

/* Open path with the reader its name calls for. RT_EINVAL for an unknown extension, else
 * whatever the reader's open returns. Matches rt_usage_open_fn. */
rt_status rt_usage_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                        rt_error *err);

#endif

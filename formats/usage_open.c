/* usage_open: usage reader by file name. */
#include "formats/usage_open.h"

#include <string.h>

#include "formats/usage_csv.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

rt_status rt_usage_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                        rt_error *err)
{
    if (ends_with(path, ".csv") || ends_with(path, ".csv.zst"))
        return rt_usage_csv_open(path, chunk_bytes, out, err);
    return rt_error_set(err, RT_EINVAL, path, 0, 0, NULL,
                        "unknown usage format (expected .csv or .csv.zst)");
}

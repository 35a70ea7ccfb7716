/* usage_open: usage reader by format or file name. */
#include "formats/usage_open.h"

#include <string.h>

#include "formats/usage_csv.h"
#include "formats/usage_native.h"

static const char *const format_names[] = {"auto", "csv", "native", "asterisk", "freeswitch"};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

rt_status rt_usage_format_parse(const char *name, rt_usage_format *out)
{
    for (size_t i = 0; i < RT_ARRAY_LEN(format_names); i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (rt_usage_format)i;
            return RT_OK;
        }
    return RT_EINVAL;
}

rt_usage_format rt_usage_format_of(const char *path)
{
    const char *base = base_name(path);
    if (ends_with(path, ".rtu")) return RT_USAGE_NATIVE;
    if (ends_with(path, ".asterisk.csv") || ends_with(path, ".asterisk.csv.zst") ||
        strcmp(base, "Master.csv") == 0 || strcmp(base, "Master.csv.zst") == 0)
        return RT_USAGE_ASTERISK;
    if (ends_with(path, ".freeswitch.csv") || ends_with(path, ".freeswitch.csv.zst"))
        return RT_USAGE_FREESWITCH;
    if (ends_with(path, ".csv") || ends_with(path, ".csv.zst")) return RT_USAGE_CSV;
    return RT_USAGE_AUTO;
}

void rt_usage_open_opts_init(rt_usage_open_opts *o)
{
    memset(o, 0, sizeof *o);
    rt_cdr_opts_init(&o->cdr, RT_CDR_ASTERISK);
}

rt_status rt_usage_open_with(const char *path, const rt_usage_open_opts *o, size_t chunk_bytes,
                             rt_usage_reader **out, rt_error *err)
{
    rt_usage_format f = o->format != RT_USAGE_AUTO ? o->format : rt_usage_format_of(path);
    rt_cdr_opts cdr = o->cdr;
    rt_status st = RT_EINVAL;
    switch (f) {
    case RT_USAGE_CSV: st = rt_usage_csv_open(path, chunk_bytes, out, err); break;
    case RT_USAGE_NATIVE: st = rt_usage_native_open(path, chunk_bytes, out, err); break;
    case RT_USAGE_ASTERISK:
    case RT_USAGE_FREESWITCH:
        cdr.flavor = f == RT_USAGE_ASTERISK ? RT_CDR_ASTERISK : RT_CDR_FREESWITCH;
        st = rt_usage_cdr_open(path, chunk_bytes, &cdr, out, err);
        break;
    case RT_USAGE_AUTO:
        return rt_error_set(err, RT_EINVAL, path, 0, 0, NULL,
                            "unknown usage format (expected .csv, .csv.zst, .rtu, "
                            ".asterisk.csv, .freeswitch.csv or Master.csv; or name the format)");
    }
    if (st == RT_OK) (*out)->threads = o->threads;
    return st;
}

static rt_status open_as(rt_usage_format f, const char *path, size_t chunk_bytes,
                         rt_usage_reader **out, rt_error *err)
{
    rt_usage_open_opts o;
    rt_usage_open_opts_init(&o);
    o.format = f;
    return rt_usage_open_with(path, &o, chunk_bytes, out, err);
}

rt_status rt_usage_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                        rt_error *err)
{
    return open_as(RT_USAGE_AUTO, path, chunk_bytes, out, err);
}

rt_status rt_usage_open_opts_fn(const void *ctx, const char *path, size_t chunk_bytes,
                                rt_usage_reader **out, rt_error *err)
{
    if (!ctx) return open_as(RT_USAGE_AUTO, path, chunk_bytes, out, err);
    return rt_usage_open_with(path, ctx, chunk_bytes, out, err);
}

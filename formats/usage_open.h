/* usage_open: picks the usage reader a file needs.
 *
 * Owns the mapping from a usage file to its reader: by an explicit format name, or by the
 * file's name:
 *   *.rtu                                  native columnar usage (usage_native)
 *   *.asterisk.csv[.zst], Master.csv[.zst] Asterisk cdr-csv (usage_asterisk)
 *   *.freeswitch.csv[.zst]                 FreeSWITCH cdr_csv, example template
 *   *.csv, *.csv.zst                       usage CSV (usage_csv)
 * Compression is recognised from the content, not the name. */
#ifndef RT_USAGE_OPEN_H
#define RT_USAGE_OPEN_H

#include <stddef.h>

#include "engine/run.h"
#include "engine/usage.h"
#include "formats/usage_asterisk.h"

typedef enum rt_usage_format {
    RT_USAGE_AUTO = 0, /* from the file name */
    RT_USAGE_CSV,
    RT_USAGE_NATIVE,
    RT_USAGE_ASTERISK,
    RT_USAGE_FREESWITCH,
} rt_usage_format;

/* "csv", "native", "asterisk", "freeswitch" (and "auto"). RT_EINVAL for any other name. */
rt_status rt_usage_format_parse(const char *name, rt_usage_format *out);
/* The format a file name calls for, RT_USAGE_AUTO when the name says nothing. */
rt_usage_format rt_usage_format_of(const char *path);

/* How to open a usage file: the format (AUTO: by name) and the CDR options. */
typedef struct rt_usage_open_opts {
    rt_usage_format format;
    rt_cdr_opts cdr;  /* flavor is set from the format */
    unsigned threads; /* rt_usage_reader.threads of the readers opened (0: every core) */
} rt_usage_open_opts;

void rt_usage_open_opts_init(rt_usage_open_opts *o);

rt_status rt_usage_open_with(const char *path, const rt_usage_open_opts *o, size_t chunk_bytes,
                             rt_usage_reader **out, rt_error *err);

/* Open path with the reader its name calls for. RT_EINVAL for an unknown extension, else
 * whatever the reader's open returns. */
rt_status rt_usage_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                        rt_error *err);

/* An rt_usage_open_fn: ctx is a const rt_usage_open_opts * (NULL: the defaults, every file
 * opened as its name calls for). */
rt_status rt_usage_open_opts_fn(const void *ctx, const char *path, size_t chunk_bytes,
                                rt_usage_reader **out, rt_error *err);

#endif

/* usage_convert: `ratel convert`, usage files from one format to another.
 *
 * Owns the copy of every record of a usage file (any format usage_open reads) into a usage
 * CSV (plain or a multi-frame indexed CSV.zst) or a native file, chosen by the output name:
 * *.csv, *.csv.zst or *.rtu. Records come out in input order as canonical text (usage_csv) or
 * native blocks (usage_native), so csv -> native -> csv gives back the same bytes for
 * canonical input. Input is parsed in parallel. */
#ifndef RT_USAGE_CONVERT_H
#define RT_USAGE_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "formats/usage_open.h"

typedef struct rt_convert_opts {
    rt_usage_open_opts in; /* input format and CDR options */
    int level;             /* zstd level of the output (0: the format's default) */
    unsigned threads;      /* 0: every core */
    bool skip_bad;         /* drop records the input reader rejects instead of failing */
    uint32_t block_records; /* native: records per block (0: default) */
    size_t frame_bytes;     /* csv.zst: text per frame (0: RT_USAGE_CSV_FRAME_BYTES) */
} rt_convert_opts;

void rt_convert_opts_init(rt_convert_opts *o);

typedef struct rt_convert_result {
    uint64_t read;         /* records read */
    uint64_t written;      /* records written */
    uint64_t not_answered; /* CDRs of unanswered calls, never written */
    uint64_t skipped;      /* other rejected records dropped under skip_bad */
    uint64_t bytes;        /* size of the output as stored */
} rt_convert_result;

/* Convert in to out (out must not exist; on failure it is removed). RT_EINVAL for an
 * unknown output extension; RT_EPARSE with the first bad record's line and reason when the
 * input has records the reader rejects (other than unanswered calls) and skip_bad is off;
 * the input reader's errors; RT_EEXIST, RT_EIO, RT_ENOMEM, RT_EZSTD. */
rt_status rt_usage_convert(const char *in, const char *out, const rt_convert_opts *o,
                           rt_convert_result *res, rt_error *err);

#endif

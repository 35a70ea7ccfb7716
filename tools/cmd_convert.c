/* cmd_convert: `ratel convert IN OUT`, usage files between formats. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/usage_convert.h"
#include "formats/usage_native.h"
#include "tools/cli.h"

static const char convert_usage[] =
    "usage: ratel convert IN OUT [--from FORMAT] [--product ID] [--utc-offset +hh:mm]\n"
    "                     [--skip-bad] [--level N] [--threads N]\n"
    "                     [--frame-bytes N] [--block-records N]\n"
    "\n"
    "Copies every usage record of IN into OUT (which must not exist). Formats come from the\n"
    "names: .csv, .csv.zst (multi-frame, indexed for parallel reading), .rtu (native\n"
    "columnar); IN may also be Asterisk cdr-csv (Master.csv, *.asterisk.csv) or FreeSWITCH\n"
    "cdr_csv (*.freeswitch.csv). --from csv|native|asterisk|freeswitch overrides the name.\n"
    "CDRs: --product ID bills every call as that product (default: the dialplan context),\n"
    "--utc-offset gives the switch's local time offset (default UTC); unanswered calls are\n"
    "not copied. Records the input reader rejects stop the conversion unless --skip-bad.\n"
    "--frame-bytes (csv.zst, default 4 MiB) and --block-records (.rtu, default 65536) size\n"
    "the units that are read in parallel.\n";

static int parse_args(int argc, char **argv, rt_convert_opts *o, const char **in,
                      const char **out)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        uint64_t v;
        if (strcmp(a, "--from") == 0 && has) {
            if (rt_usage_format_parse(argv[++i], &o->in.format) != RT_OK)
                return rt_cli_usage_error("convert", "--from takes csv, native, asterisk or "
                                                     "freeswitch");
        } else if (strcmp(a, "--product") == 0 && has) {
            if (rt_cdr_opts_set_product(&o->in.cdr, argv[++i]) != RT_OK)
                return rt_cli_usage_error("convert", "--product takes an id of 1 to 64 bytes");
        } else if (strcmp(a, "--utc-offset") == 0 && has) {
            if (rt_cdr_parse_utc_offset(argv[++i], &o->in.cdr.utc_offset_s) != RT_OK)
                return rt_cli_usage_error("convert", "--utc-offset takes Z or +hh:mm");
        } else if (strcmp(a, "--skip-bad") == 0) {
            o->skip_bad = true;
        } else if (strcmp(a, "--level") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &v) || v < 1 || v > 19)
                return rt_cli_usage_error("convert", "--level takes 1 to 19");
            o->level = (int)v;
        } else if (strcmp(a, "--threads") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &v) || v < 1 || v > 256)
                return rt_cli_usage_error("convert", "--threads takes 1 to 256");
            o->threads = (unsigned)v;
        } else if (strcmp(a, "--frame-bytes") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &v) || v < 1024 || v > ((uint64_t)64 << 20))
                return rt_cli_usage_error("convert", "--frame-bytes takes 1024 to 64 MiB");
            o->frame_bytes = (size_t)v;
        } else if (strcmp(a, "--block-records") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &v) || v < 1 || v > RT_NATIVE_BLOCK_RECORDS_MAX)
                return rt_cli_usage_error("convert", "--block-records takes 1 to %d",
                                          RT_NATIVE_BLOCK_RECORDS_MAX);
            o->block_records = (uint32_t)v;
        } else if (a[0] == '-' && a[1]) {
            return rt_cli_usage_error("convert", "unexpected option '%s'", a);
        } else if (!*in) {
            *in = a;
        } else if (!*out) {
            *out = a;
        } else {
            return rt_cli_usage_error("convert", "unexpected argument '%s'", a);
        }
    }
    if (!*in || !*out) return rt_cli_usage_error("convert", "needs IN and OUT");
    return RT_EXIT_OK;
}

int rt_cmd_convert(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(convert_usage, stdout);
            return RT_EXIT_OK;
        }
    rt_convert_opts o;
    rt_convert_opts_init(&o);
    const char *in = NULL, *out = NULL;
    int rc = parse_args(argc, argv, &o, &in, &out);
    if (rc != RT_EXIT_OK) return rc;
    rt_convert_result res;
    rt_error err;
    rt_status st = rt_usage_convert(in, out, &o, &res, &err);
    if (st != RT_OK) {
        rt_cli_error(&err);
        /* An unknown format is a bad command line, not a failed conversion. */
        return st == RT_EINVAL ? RT_EXIT_USAGE : rt_cli_exit_for(st);
    }
    printf("ratel convert: %s -> %s: read %" PRIu64 ", written %" PRIu64, in, out, res.read,
           res.written);
    if (res.not_answered) printf(", not answered %" PRIu64, res.not_answered);
    if (res.skipped) printf(", skipped %" PRIu64, res.skipped);
    printf(" (%" PRIu64 " bytes)\n", res.bytes);
    return RT_EXIT_OK;
}

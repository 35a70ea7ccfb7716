/* cmd_gen: `ratel gen`, a deterministic sample generator. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "formats/sample_gen.h"
#include "tools/cli.h"

static const char gen_usage[] =
    "usage: ratel gen --out DIR --accounts N --records M [--seed S] [--format csv.zst|native]\n"
    "                 [--bad-share F] [--dup-share F] [--period YYYY-MM] [--threads N]\n"
    "                 [--level N]\n"
    "\n"
    "Writes a realistic sample into DIR: book/ (a price book source using every pricing\n"
    "model, with a destination deck of 10k+ prefixes and rates per zone and time band),\n"
    "orders.csv.zst, and usage.csv.zst or usage.rtu with M records (skewed accounts, numbers\n"
    "of the deck, calls across time bands, weekends and DST), F of them bad and F duplicates\n"
    "(shares from 0 to 1). The same seed gives the same bytes whatever the thread count.\n";

static int parse_args(int argc, char **argv, rt_gen_opts *o)
{
    bool have_accounts = false, have_records = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        uint64_t v;
        if (strcmp(a, "--out") == 0 && has) {
            o->out_dir = argv[++i];
        } else if (strcmp(a, "--accounts") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &o->accounts) || o->accounts == 0)
                return rt_cli_usage_error("gen", "--accounts takes a number from 1");
            have_accounts = true;
        } else if (strcmp(a, "--records") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &o->records))
                return rt_cli_usage_error("gen", "--records takes a number");
            have_records = true;
        } else if (strcmp(a, "--seed") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &o->seed))
                return rt_cli_usage_error("gen", "--seed takes a number");
        } else if (strcmp(a, "--format") == 0 && has) {
            const char *f = argv[++i];
            if (strcmp(f, "csv.zst") != 0 && strcmp(f, "native") != 0)
                return rt_cli_usage_error("gen", "--format takes csv.zst or native");
            o->native = strcmp(f, "native") == 0;
        } else if (strcmp(a, "--bad-share") == 0 && has) {
            if (rt_gen_parse_share(argv[++i], &o->bad_ppm) != RT_OK)
                return rt_cli_usage_error("gen", "--bad-share takes a decimal from 0 to 1");
        } else if (strcmp(a, "--dup-share") == 0 && has) {
            if (rt_gen_parse_share(argv[++i], &o->dup_ppm) != RT_OK)
                return rt_cli_usage_error("gen", "--dup-share takes a decimal from 0 to 1");
        } else if (strcmp(a, "--period") == 0 && has) {
            o->period = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &v) || v < 1 || v > 256)
                return rt_cli_usage_error("gen", "--threads takes 1 to 256");
            o->threads = (unsigned)v;
        } else if (strcmp(a, "--level") == 0 && has) {
            if (!rt_cli_parse_uint(argv[++i], &v) || v < 1 || v > 19)
                return rt_cli_usage_error("gen", "--level takes 1 to 19");
            o->level = (int)v;
        } else {
            return rt_cli_usage_error("gen", "unexpected argument '%s'", a);
        }
    }
    if (!o->out_dir || !have_accounts || !have_records)
        return rt_cli_usage_error("gen", "needs --out, --accounts and --records");
    return RT_EXIT_OK;
}

int rt_cmd_gen(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(gen_usage, stdout);
            return RT_EXIT_OK;
        }
    rt_gen_opts o;
    rt_gen_opts_init(&o);
    int rc = parse_args(argc, argv, &o);
    if (rc != RT_EXIT_OK) return rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rt_gen_result res;
    rt_error err;
    rt_status st = rt_gen_run(&o, &res, &err);
    if (st != RT_OK) {
        rt_cli_error(&err);
        return rt_cli_exit_for(st);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("ratel gen: %s: %" PRIu64 " accounts, %" PRIu64 " order lines, %" PRIu64
           " deck prefixes, %" PRIu64 " usage records (%" PRIu64 " bad, %" PRIu64
           " duplicates, %" PRIu64 " bytes) in %.2f s (%.0f records/s)\n",
           o.out_dir, res.accounts, res.order_lines, res.deck_prefixes, res.records, res.bad,
           res.duplicates, res.usage_bytes, secs, secs > 0 ? (double)res.records / secs : 0);
    return RT_EXIT_OK;
}

/* cmd_run: `ratel run`, one billing run with progress and a summary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "engine/run.h"
#include "formats/orders_csv.h"
#include "formats/run_outputs.h"
#include "formats/usage_open.h"
#include "tools/cli.h"

/* --late and --id-scan take their values' index in these enums (rt_cli_choice). */
_Static_assert(RT_LATE_BILL == 0 && RT_LATE_REJECT == 1, "--late's names are in enum order");
_Static_assert(RT_ID_SCAN_AUTO == 0 && RT_ID_SCAN_ON == 1 && RT_ID_SCAN_OFF == 2,
               "--id-scan's names are in enum order");

static const char run_usage[] =
    "usage: ratel run --book BOOK_DIR --period YYYY-MM --usage FILE... [--orders FILE...]\n"
    "                 --out OUT_DIR\n"
    "                 [--threads N] [--rerun] [--late bill|reject] [--quiet]\n"
    "                 [--late-window MONTHS] [--accrue-only] [--chunk-size BYTES]\n"
    "                 [--usage-format csv|native|asterisk|freeswitch]\n"
    "                 [--cdr-product ID] [--cdr-utc-offset Z|+hh:mm] [--compress-tables]\n"
    "                 [--id-scan auto|on|off] [--distributed]\n"
    "\n"
    "Rates the usage files against the price book for the period, writes invoices, the\n"
    "revenue journal and a manifest into OUT_DIR (which must not exist) and commits the run\n"
    "in the book's run registry. A period is billed once; --rerun bills it again.\n"
    "CDR files (Asterisk cdr-csv, FreeSWITCH cdr_csv) are rated as --cdr-product (default:\n"
    "the dialplan context) with their local times at --cdr-utc-offset (default: UTC).\n"
    "--compress-tables writes the invoice, journal and FEC tables zstd-compressed (*.zst).\n"
    "--threads N (default: every core): the threads that rate, bill and write; with 2 or more\n"
    "the orders are read on one thread more while the usage is rated, with 1 the run uses one\n"
    "thread only.\n"
    "--id-scan: read the usage files once for their event ids before rating, so that the\n"
    "in-run duplicate check holds only ids seen more than once instead of every event\n"
    "(~25 bytes each); costs a second parse. auto (default): when that set would pass a\n"
    "quarter of the memory. The outputs are the same either way.\n"
    "--distributed: one process of a run across several (started by Open MPI's mpirun, every\n"
    "process with the same arguments, book and inputs): the chunks are rated by all, rank 0\n"
    "writes OUT_DIR and commits; the outputs are those of a run in one process. Every process\n"
    "exits with the run's status; only rank 0 prints.\n";

typedef struct progress_state {
    int tty;
} progress_state;

static void on_progress(void *ctx, const rt_run_progress *p)
{
    progress_state *ps = ctx;
    if (!ps->tty) return;
    double secs = (double)p->elapsed_ns / 1e9;
    double rate = secs > 0 ? (double)p->records / secs : 0;
    double frac = p->bytes_total ? (double)p->bytes_done / (double)p->bytes_total : 0;
    double eta = frac > 0.001 ? secs / frac - secs : 0;
    fprintf(stderr, "\r  %12" PRIu64 " records  %8.2f M rec/s  %5.1f%%  ETA %5.0f s ",
            p->records, rate / 1e6, frac * 100, eta);
    fflush(stderr);
}

static void money(char *buf, size_t n, int64_t v, const char *currency)
{
    const rt_currency *c = rt_currency_find(currency);
    rt_decimal_str(v, c ? c->minor_units : 2, buf, n);
}

static void print_summary(const rt_run_config *cfg, const rt_run_summary *s)
{
    const rt_run_counts *c = &s->counts;
    double secs = (double)s->times.total_ns / 1e9;
    printf("ratel run %s: committed %srun %" PRIu64 " -> %s\n", cfg->period,
           cfg->accrue_only ? "accrual " : "", s->run_no, cfg->out_dir);
    printf("  records   read %" PRIu64 " = rated %" PRIu64 " + rejected %" PRIu64
           " + duplicate %" PRIu64 " (late billed %" PRIu64 ")\n",
           c->read, c->rated, c->rejected, c->duplicate, c->late);
    if (c->order_lines)
        printf("  orders    %" PRIu64 " lines = used %" PRIu64 " + rejected %" PRIu64 "\n",
               c->order_lines, c->order_lines - c->order_rejected, c->order_rejected);
    for (unsigned r = 1; r < RT_REJ_REASON_COUNT_; r++)
        if (c->by_reason[r])
            printf("            %-18s %" PRIu64 "\n", rt_reject_reason_code((rt_reject_reason)r),
                   c->by_reason[r]);
    printf("  invoices  %" PRIu64, s->invoices);
    if (s->invoices) printf("  %s .. %s", s->first_invoice, s->last_invoice);
    printf("\n");
    if (s->corrects_run)
        printf("  rerun     corrects run %" PRIu64 ": %" PRIu64 " credit notes, %" PRIu64
               " new invoices, %" PRIu64 " invoices unchanged\n",
               s->corrects_run, s->credit_notes, s->invoices, s->unchanged);
    for (size_t i = 0; i < s->total_count; i++) {
        const rt_currency_total *t = &s->totals[i];
        char net[48], tax[48], gross[48];
        money(net, sizeof net, t->net_minor, t->currency);
        money(tax, sizeof tax, t->tax_minor, t->currency);
        money(gross, sizeof gross, t->gross_minor, t->currency);
        printf("  totals    %s  net %s  tax %s  gross %s  (%" PRIu64 " invoices)\n", t->currency,
               net, tax, gross, t->invoices);
    }
    printf("  journal   %" PRIu64 " lines, debits %s credits\n", s->journal_lines,
           s->journal_debit_minor == s->journal_credit_minor ? "=" : "!=");
    printf("  time      %.3f s, %.0f records/s (load %.3f, read %.3f, rate %.3f, dedup %.3f, "
           "output %.3f, bill %.3f, commit %.3f; ",
           secs, secs > 0 ? (double)c->read / secs : 0, (double)s->times.load_ns / 1e9,
           (double)s->times.read_ns / 1e9, (double)s->times.rate_ns / 1e9,
           (double)s->times.dedup_ns / 1e9, (double)s->times.output_ns / 1e9,
           (double)s->times.bill_ns / 1e9, (double)s->times.commit_ns / 1e9);
    if (s->times.orders_alongside)
        printf("orders %.3f alongside, waited for %.3f)\n", (double)s->times.orders_ns / 1e9,
               (double)s->times.orders_wait_ns / 1e9);
    else
        printf("orders %.3f after the usage)\n", (double)s->times.orders_ns / 1e9);
    /* Read .. output by step, in seconds of thread time (summed over the threads). */
    printf("  threads   decompress %.3f, parse %.3f, rate %.3f, aggregate %.3f, encode %.3f, "
           "write %.3f (thread-seconds)\n",
           (double)s->times.thread_ns.decompress / 1e9, (double)s->times.thread_ns.parse / 1e9,
           (double)s->times.thread_ns.rate / 1e9, (double)s->times.thread_ns.aggregate / 1e9,
           (double)s->times.thread_ns.encode / 1e9, (double)s->times.thread_ns.write / 1e9);
    /* The registry's part runs alongside the outputs, or (one thread) after them. */
    bool along = s->times.registry_alongside;
    printf("  commit    books %.3f, usage detail %.3f, tables %.3f, documents %.3f%sregistry "
           "%.3f%s, sync %.3f\n",
           (double)s->times.books_ns / 1e9, (double)s->times.detail_ns / 1e9,
           (double)s->times.tables_ns / 1e9, (double)s->times.documents_ns / 1e9,
           along ? " (" : ", ", (double)s->times.registry_ns / 1e9, along ? " alongside)" : "",
           (double)s->times.sync_ns / 1e9);
}

int rt_cmd_run(int argc, char **argv)
{
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    rt_usage_open_opts open_opts;
    rt_usage_open_opts_init(&open_opts);
    const char **usage = calloc((size_t)argc + 1, sizeof *usage);
    const char **orders = calloc((size_t)argc + 1, sizeof *orders);
/* A bad command line: the path lists freed, the error printed, exit status 2. */
#define RUN_USAGE_ERROR(...) (free(usage), free(orders), rt_cli_usage_error("run", __VA_ARGS__))
    if (!usage || !orders) {
        free(usage);
    free(orders);
        return RT_EXIT_FAILED;
    }
    int quiet = 0, distributed = 0, rc;
    size_t nusage = 0, norders = 0;
    /* Options given once: a second --period (or --threads...) is refused rather than taking
     * the last, so a scheduler's slip cannot bill another month. --usage and --orders add. */
    static const char *const once[] = {
        "--book",         "--period",       "--out",         "--threads",       "--late-window",
        "--chunk-size",   "--id-scan",      "--accrue-only", "--compress-tables",
        "--usage-format", "--cdr-product",  "--cdr-utc-offset", "--rerun",      "--late",
        "--quiet",        "--distributed", NULL};
    static const char *const valued[] = {
        "--book",       "--period",     "--out",         "--usage",        "--orders",
        "--threads",    "--late-window", "--chunk-size", "--id-scan",      "--usage-format",
        "--cdr-product", "--cdr-utc-offset", "--late",   NULL};
    uint32_t seen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        int one = rt_cli_choice(a, once);
        if (one >= 0 && (seen >> one & 1u)) return RUN_USAGE_ERROR("%s is given twice", a);
        if (one >= 0) seen |= 1u << one;
        if (!has && rt_cli_choice(a, valued) >= 0)
            return RUN_USAGE_ERROR("%s needs a value", a);
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(run_usage, stdout);
            free(usage);
            free(orders);
            return RT_EXIT_OK;
        } else if (strcmp(a, "--book") == 0 && has) {
            cfg.book_dir = argv[++i];
        } else if (strcmp(a, "--period") == 0 && has) {
            cfg.period = argv[++i];
        } else if (strcmp(a, "--out") == 0 && has) {
            cfg.out_dir = argv[++i];
        } else if (strcmp(a, "--usage") == 0 && has) {
            while (i + 1 < argc && argv[i + 1][0] != '-') usage[nusage++] = argv[++i];
        } else if (strcmp(a, "--orders") == 0 && has) {
            while (i + 1 < argc && argv[i + 1][0] != '-') orders[norders++] = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && has) {
            uint64_t t;
            if (!rt_cli_parse_uint(argv[++i], &t) || t == 0 || t > 256) {
                return RUN_USAGE_ERROR("--threads takes a number from 1 to 256");
            }
            cfg.threads = (unsigned)t;
        } else if (strcmp(a, "--late-window") == 0 && has) {
            uint64_t m;
            if (!rt_cli_parse_uint(argv[++i], &m) || m == 0 || m > RT_LATE_WINDOW_MAX_MONTHS) {
                return RUN_USAGE_ERROR("--late-window takes months from 1 to %d",
                                       RT_LATE_WINDOW_MAX_MONTHS);
            }
            cfg.late_window_months = (unsigned)m;
        } else if (strcmp(a, "--chunk-size") == 0 && has) {
            uint64_t b;
            if (!rt_cli_parse_uint(argv[++i], &b) || b < 4096 || b > ((uint64_t)1 << 30)) {
                return RUN_USAGE_ERROR("--chunk-size takes bytes from 4096 to 1 GiB");
            }
            cfg.chunk_bytes = (size_t)b;
        } else if (strcmp(a, "--id-scan") == 0 && has) {
            static const char *const scans[] = {"auto", "on", "off", NULL}; /* rt_id_scan order */
            int k = rt_cli_choice(argv[++i], scans);
            if (k < 0) {
                return RUN_USAGE_ERROR("--id-scan takes auto, on or off");
            }
            cfg.id_scan = (rt_id_scan)k;
        } else if (strcmp(a, "--accrue-only") == 0) {
            cfg.accrue_only = true;
        } else if (strcmp(a, "--compress-tables") == 0) {
            cfg.tables_zstd_level = RT_TABLES_ZSTD_LEVEL;
        } else if (strcmp(a, "--usage-format") == 0 && has) {
            rt_usage_format f;
            if (rt_usage_format_parse(argv[++i], &f) != RT_OK) {
                return RUN_USAGE_ERROR("--usage-format takes csv, native, asterisk or freeswitch");
            }
            open_opts.format = f;
        } else if (strcmp(a, "--cdr-product") == 0 && has) {
            if (rt_cdr_opts_set_product(&open_opts.cdr, argv[++i]) != RT_OK) {
                return RUN_USAGE_ERROR("--cdr-product takes an id of 1 to 64 bytes");
            }
        } else if (strcmp(a, "--cdr-utc-offset") == 0 && has) {
            if (rt_cdr_parse_utc_offset(argv[++i], &open_opts.cdr.utc_offset_s) != RT_OK) {
                return RUN_USAGE_ERROR("--cdr-utc-offset takes Z or +hh:mm");
            }
        } else if (strcmp(a, "--rerun") == 0) {
            cfg.rerun = true;
        } else if (strcmp(a, "--late") == 0 && has) {
            static const char *const lates[] = {"bill", "reject", NULL}; /* rt_late_policy order */
            int k = rt_cli_choice(argv[++i], lates);
            if (k < 0) {
                return RUN_USAGE_ERROR("--late takes bill or reject");
            }
            cfg.late = (rt_late_policy)k;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--distributed") == 0) {
#ifdef RATEL_HAVE_MPI
            distributed = 1;
#else
            return RUN_USAGE_ERROR("--distributed: this ratel was built without Open MPI");
#endif
        } else {
            return RUN_USAGE_ERROR("unexpected argument '%s'", a);
        }
    }
    if (!cfg.book_dir || !cfg.period || !cfg.out_dir || nusage + norders == 0) {
        return RUN_USAGE_ERROR("needs --book, --period, --out and --usage or --orders");
    }
    rt_period period;
    if (rt_period_parse(cfg.period, &period) != RT_OK)
        return RUN_USAGE_ERROR("--period takes a month as YYYY-MM, not '%s'", cfg.period);
#undef RUN_USAGE_ERROR
    cfg.usage_paths = usage;
    cfg.usage_count = nusage;
    cfg.order_paths = orders;
    cfg.order_count = norders;
    cfg.read_orders = rt_orders_csv_read;
    cfg.open_usage = rt_usage_open_opts_fn;
    open_opts.threads = cfg.threads; /* 0 (every core) unless --threads */
    cfg.open_ctx = &open_opts;
    cfg.outputs = rt_run_outputs();
    rt_run_summary sum;
    rt_error err;
    bool speak = true; /* in a distributed run, rank 0 alone prints */
#ifdef RATEL_HAVE_MPI
    rt_peers peers;
    if (distributed) {
        if (rt_peers_mpi_open(NULL, NULL, &peers, &err) != RT_OK) {
            rt_cli_error(&err);
            free(usage);
            free(orders);
            return RT_EXIT_USAGE;
        }
        cfg.peers = &peers;
        speak = peers.rank == 0;
        /* Every process must have been given the same command line (mpirun's colon syntax
         * can give each its own). */
        XXH3_state_t *h = XXH3_createState();
        if (h && XXH3_64bits_reset(h) == XXH_OK) {
            for (int i = 1; i < argc; i++) XXH3_64bits_update(h, argv[i], strlen(argv[i]) + 1);
            cfg.args_digest = XXH3_64bits_digest(h);
        }
        XXH3_freeState(h);
    }
#endif
    progress_state ps = {speak && !quiet && isatty(STDERR_FILENO)};
    cfg.progress = on_progress;
    cfg.progress_ctx = &ps;

    rt_status st = rt_run_execute(&cfg, &sum, &err);
    if (ps.tty) fprintf(stderr, "\r%78s\r", "");
    if (st != RT_OK) {
        if (speak) {
            rt_cli_error(&err);
            fprintf(stderr, "ratel: run failed; nothing was committed\n");
        }
        rc = rt_cli_exit_for(st);
    } else {
        if (!quiet && speak) print_summary(&cfg, &sum);
        rc = RT_EXIT_OK;
    }
#ifdef RATEL_HAVE_MPI
    if (distributed) rt_peers_mpi_close(&peers);
#endif
    free(usage);
    free(orders);
    return rc;
}

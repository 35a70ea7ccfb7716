/* test_distributed: `ratel run --distributed` under Open MPI's mpirun (engine/run.c's
 * distributed runs, engine/peers_mpi.c), end to end: the output directory of a run across 2
 * and 3 processes is byte for byte that of a run in one process (the telco sample; a
 * generated month with duplicates and bad records cut into many chunks; its rerun; the next
 * period, whose duplicates were billed by the first; an accrual), and a failure on any process
 * fails the run on every process, reported once by rank 0, with nothing committed. Every
 * process bills and formats its share of the tables and documents (engine/spread), which
 * rank 0 writes.
 *
 * Built with Open MPI (RATEL_TEST_MPIEXEC is mpirun); without it, only the refusal of the
 * flag is tested. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SAMPLE_USAGE                                                                            \
    "data-samples/telco/usage-2026-10-voice.csv.zst data-samples/telco/usage-2026-10-other.csv.zst"
#define SAMPLE_ORDERS "data-samples/telco/orders-2026.csv.zst"

#ifdef RATEL_TEST_MPIEXEC
/* mpirun as root needs its consent; the processes share this machine's two cores; a
 * sanitizer build's leak check is told what Open MPI keeps until the process ends (found by
 * full stacks: the fast unwinder stops in its plugins, which are unloaded by then). */
#define MPI_ENV                                                                                 \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "                                \
    "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 "                                      \
    "LSAN_OPTIONS=suppressions=" RATEL_SOURCE_DIR "/tests/lsan-mpi.supp:print_suppressions=0 "
/* Its first argument is the directory Open MPI keeps its session files under: one per test,
 * as mpiruns started at once race to create a shared one (mkdir: File exists). */
#define MPIRUN                                                                                  \
    MPI_ENV "OMPI_MCA_orte_tmpdir_base='%s' '" RATEL_TEST_MPIEXEC "' --oversubscribe "            \
            "-x LSAN_OPTIONS -x ASAN_OPTIONS"

/* `ratel run ARGS` on n processes, from the source directory, every process's exit status
 * and output in tmp/NAME.log; the status mpirun returns. */
static int mpi_run(const char *tmp, unsigned n, const char *name, const char *args)
{
    return rt_test_sh("cd '%s' && " MPIRUN " -np %u '%s' run --distributed %s > '%s/%s.log' 2>&1",
                      RATEL_SOURCE_DIR, tmp, n, RATEL_BIN, args, tmp, name);
}

static int one_run(const char *args)
{
    return rt_test_sh("cd '%s' && '%s' run %s", RATEL_SOURCE_DIR, RATEL_BIN, args);
}

static void import(const char *src, const char *book)
{
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s' > /dev/null", src, book), 0);
}

/* The two output directories hold the same files with the same bytes. */
static void assert_same(const char *tmp, const char *a, const char *b)
{
    cr_assert_eq(rt_test_sh("diff -r '%s/%s' '%s/%s' > /dev/null", tmp, a, tmp, b), 0,
                 "%s and %s differ", a, b);
    cr_assert_eq(rt_test_ratel("verify '%s/%s' > /dev/null", tmp, b), 0);
}

static char *read_log(const char *tmp, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.log", tmp, name);
    char *text = rt_test_read(path, NULL);
    cr_assert_not_null(text);
    return text;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

Test(distributed, telco_sample_on_two_processes_is_the_one_process_run)
{
    char tmp[256], args[2048];
    rt_test_tmpdir(tmp, sizeof tmp);
    char b1[300], b2[300];
    snprintf(b1, sizeof b1, "%s/b1", tmp);
    snprintf(b2, sizeof b2, "%s/b2", tmp);
    import(rt_test_src("data-samples/telco/book"), b1);
    import(rt_test_src("data-samples/telco/book"), b2);
    /* Small chunks: the sample's two files become chunks on both processes. */
    snprintf(args, sizeof args,
             "--quiet --book '%s' --period 2026-10 --usage " SAMPLE_USAGE " --orders " SAMPLE_ORDERS
             " --late bill --chunk-size 4096 --out '%s/one'",
             b1, tmp);
    cr_assert_eq(one_run(args), 0);
    snprintf(args, sizeof args,
             "--book '%s' --period 2026-10 --usage " SAMPLE_USAGE " --orders " SAMPLE_ORDERS
             " --late bill --chunk-size 4096 --out '%s/two'",
             b2, tmp);
    cr_assert_eq(mpi_run(tmp, 2, "two", args), 0);
    assert_same(tmp, "one", "two");
    /* Rank 0 alone printed the summary. */
    char *log = read_log(tmp, "two");
    cr_assert_eq(count(log, "ratel run 2026-10: committed run 1"), 1, "one summary: %s", log);
    cr_assert(strstr(log, "records   read 3732 = rated 3713 + rejected 10 + duplicate 9"), "%s", log);
    free(log);

    /* The run is committed in rank 0's registry: the period is billed, on every process. */
    snprintf(args, sizeof args,
             "--book '%s' --period 2026-10 --usage " SAMPLE_USAGE " --out '%s/again'", b2, tmp);
    cr_assert_neq(mpi_run(tmp, 2, "again", args), 0);
    log = read_log(tmp, "again");
    cr_assert_eq(count(log, "was already billed by run 1"), 1, "%s", log);
    free(log);
    cr_assert_neq(rt_test_sh("test -e '%s/again'", tmp), 0);
    rt_test_rmtree(tmp);
}

Test(distributed, generated_month_rerun_and_next_period_match_on_two_and_three)
{
    char tmp[256], args[2048];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("gen --out '%s/g' --accounts 3000 --records 60000 --seed 11 "
                               "--bad-share 0.01 --dup-share 0.02 > /dev/null",
                               tmp),
                 0);
    char src[300];
    snprintf(src, sizeof src, "%s/g/book", tmp);
    const char *books[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        char b[300];
        snprintf(b, sizeof b, "%s/book-%s", tmp, books[i]);
        import(src, b);
    }
    /* The month, its rerun without the orders, and November (October's usage again: late
     * events under --late bill, the rest duplicates of October's run). */
    const char *steps[][2] = {
        {"m", "--period 2026-10 --orders '%s/g/orders.csv.zst'"},
        {"r", "--period 2026-10 --rerun"},
        {"n", "--period 2026-11 --late bill"},
        {"a", "--period 2026-10 --accrue-only --orders '%s/g/orders.csv.zst'"},
    };
    for (int s = 0; s < 4; s++) {
        char extra[600], out[64];
        snprintf(extra, sizeof extra, steps[s][1], tmp);
        snprintf(out, sizeof out, "%s-one", steps[s][0]);
        snprintf(args, sizeof args,
                 "--quiet --book '%s/book-one' --usage '%s/g/usage.csv.zst' %s --chunk-size 16384 "
                 "--threads 2 --out '%s/%s'",
                 tmp, tmp, extra, tmp, out);
        cr_assert_eq(one_run(args), 0, "%s", out);
        for (unsigned n = 2; n <= 3; n++) {
            char name[64];
            snprintf(name, sizeof name, "%s-%s", steps[s][0], books[n - 1]);
            snprintf(args, sizeof args,
                     "--quiet --book '%s/book-%s' --usage '%s/g/usage.csv.zst' %s --chunk-size "
                     "16384 --threads %u --out '%s/%s'",
                     tmp, books[n - 1], tmp, extra, n == 2 ? 2u : 1u, tmp, name);
            cr_assert_eq(mpi_run(tmp, n, name, args), 0, "%s", name);
            assert_same(tmp, out, name);
        }
    }
    /* The billed-events files of the committed runs (written by rank 0 from every process's
     * partitions of the duplicate set) are those of the one-process runs. */
    for (int run = 1; run <= 3; run++)
        for (int i = 1; i < 3; i++)
            cr_assert_eq(rt_test_sh("cmp -s '%s/book-one/billed/%d.fps' '%s/book-%s/billed/%d.fps'",
                                    tmp, run, tmp, books[i], run),
                         0, "run %d's billed events, %s processes", run, books[i]);
    /* The figures are real: duplicates, rejects and, in November, events billed in October. */
    char path[400];
    snprintf(path, sizeof path, "%s/m-three/manifest.json", tmp);
    char *m = rt_test_read(path, NULL);
    cr_assert(strstr(m, "\"counts\": {\"read\": 60000, \"rated\": 58242, \"rejected\": 566, "
                        "\"duplicate\": 1192, \"late\": 0}"),
              "%s", m);
    free(m);
    cr_assert_eq(rt_test_sh("zstd -dc '%s/n-three/duplicates.csv.zst' | grep -q ',2$'", tmp), 0,
                 "November's duplicates name October's rerun (run 2)");
    rt_test_rmtree(tmp);
}

/* Two processes with the same command line (relative paths) in working directories of their
 * own, tmp/A (rank 0) and tmp/B, as on two machines; the log in tmp/NAME.log. */
static int pair(const char *tmp, const char *name, const char *args)
{
    return rt_test_sh("cd '%s' && " MPIRUN " -np 1 -wdir '%s/A' '%s' run --distributed --quiet %s "
                      ": -np 1 -wdir '%s/B' '%s' run --distributed --quiet %s > '%s/%s.log' 2>&1",
                      tmp, tmp, tmp, RATEL_BIN, args, tmp, RATEL_BIN, args, tmp, name);
}

static void expect_failure(const char *tmp, const char *name, const char *args, const char *says)
{
    cr_assert_neq(pair(tmp, name, args), 0, "%s", name);
    char *log = read_log(tmp, name);
    cr_assert_eq(count(log, says), 1, "%s: %s", name, log);
    cr_assert_eq(count(log, "nothing was committed"), 1, "%s: %s", name, log);
    free(log);
    cr_assert_neq(rt_test_sh("ls -d '%s'/A/x* '%s'/B/x* > /dev/null 2>&1", tmp, tmp), 0);
}

Test(distributed, a_failure_on_any_process_fails_every_process)
{
    char tmp[256], path[400];
    rt_test_tmpdir(tmp, sizeof tmp);
    rt_test_sh("mkdir -p '%s/A' '%s/B' && zstd -qdc '%s' > '%s/A/u.csv' && cp '%s/A/u.csv' '%s/B/'",
               tmp, tmp, rt_test_src("data-samples/telco/usage-2026-10-voice.csv.zst"), tmp, tmp,
               tmp);
    snprintf(path, sizeof path, "%s/A/b", tmp);
    import(rt_test_src("data-samples/telco/book"), path);
    snprintf(path, sizeof path, "%s/B/b", tmp);
    import(rt_test_src("data-samples/utility/book"), path);
    const char *run = "--book b --period 2026-10 --usage u.csv --out x";

    /* Another price book on process 1. */
    expect_failure(tmp, "book", run, "ratel: process 1 has another price book than process 0");
    rt_test_rmtree(path);
    import(rt_test_src("data-samples/telco/book"), path);
    /* Other arguments (mpirun's colon syntax gives each process its own). */
    cr_assert_neq(rt_test_sh("cd '%s' && " MPIRUN " -np 1 -wdir '%s/A' '%s' run --distributed %s : "
                             "-np 1 -wdir '%s/B' '%s' run --distributed %s --late reject > "
                             "'%s/args.log' 2>&1",
                             tmp, tmp, tmp, RATEL_BIN, run, tmp, RATEL_BIN, run, tmp),
                  0);
    char *log = read_log(tmp, "args");
    cr_assert_eq(count(log, "process 1 was given other arguments than process 0"), 1, "%s", log);
    free(log);
    /* A book whose registry lacks a run rank 0's has (November, billed on A only): the
     * duplicates of that run would go unseen on process 1. */
    cr_assert_eq(rt_test_sh("cd '%s/A' && '%s' run --quiet --book b --period 2026-11 --usage u.csv "
                            "--out nov --late bill",
                            tmp, RATEL_BIN),
                 0);
    expect_failure(tmp, "window", run, "has other committed runs in its book's registry");
    rt_test_sh("rm -rf '%s/B/b' && cp -r '%s/A/b' '%s/B/b'", tmp, tmp, tmp);
    /* A usage file of the same size and other contents on process 1: found once read. */
    rt_test_sh("sed -i '2s/0/1/' '%s/B/u.csv'", tmp);
    expect_failure(tmp, "contents", run, "process 1 read usage files with other contents");
    /* An order file of the same size and other contents on process 1: found when the
     * processes compare what they billed, before any output is written. */
    rt_test_sh("cp '%s/A/u.csv' '%s/B/u.csv'", tmp, tmp);
    rt_test_sh("zstd -qdc '%s' > '%s/A/o.csv' && sed 's/On-site installation/On-site "
               "Installation/' '%s/A/o.csv' > '%s/B/o.csv'",
               rt_test_src(SAMPLE_ORDERS), tmp, tmp, tmp);
    char with_orders[256];
    snprintf(with_orders, sizeof with_orders, "%s --orders o.csv", run);
    expect_failure(tmp, "orders", with_orders,
                   "ratel: process 1 billed other documents than process 0");
    /* A usage file missing on process 1. */
    rt_test_sh("rm '%s/B/u.csv'", tmp);
    expect_failure(tmp, "missing", run, "u.csv: process 1: cannot open usage file");
    /* A damaged input fails every process as it fails one, with the same message. */
    rt_test_sh("head -c 3000 '%s' > '%s/A/cut.csv.zst' && cp '%s/A/cut.csv.zst' '%s/B/'",
               rt_test_src("data-samples/telco/usage-2026-10-voice.csv.zst"), tmp, tmp, tmp);
    expect_failure(tmp, "cut", "--book b --period 2026-10 --usage cut.csv.zst --out x",
                   "cut.csv.zst: truncated zstd frame");
    /* Nothing was left behind, and the book still bills the month, distributed. */
    rt_test_sh("cp '%s/A/u.csv' '%s/B/u.csv'", tmp, tmp);
    cr_assert_eq(pair(tmp, "ok", run), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/A/x' > /dev/null", tmp), 0);
    rt_test_rmtree(tmp);
}
#endif

Test(distributed, the_flag_needs_a_build_with_open_mpi)
{
#ifdef RATEL_TEST_MPIEXEC
    /* Outside mpirun, Open MPI starts a job of one process: a run like any other. */
    char tmp[256], b[300], args[2048];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s' > /dev/null",
                               rt_test_src("data-samples/telco/book"), b),
                 0);
    snprintf(args, sizeof args,
             "--quiet --distributed --book '%s' --period 2026-10 --usage " SAMPLE_USAGE
             " --out '%s/out'",
             b, tmp);
    cr_assert_eq(rt_test_sh("cd '%s' && " MPI_ENV "'%s' run %s", RATEL_SOURCE_DIR, RATEL_BIN, args),
                 0);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
    rt_test_rmtree(tmp);
#else
    cr_assert_eq(rt_test_ratel("run --distributed --book b --period 2026-10 --usage u --out o "
                               "2> /dev/null"),
                 2);
#endif
}

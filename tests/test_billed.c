/* test_billed: billed-events files (write, load, order and checksum checks, lookups, the
 * all-zero fingerprint) and windows of several runs behind one filter (first run wins,
 * misses, many fingerprints at once, an empty window); the writer that spills fingerprints as
 * a run bills them (the set's bytes, spilled or not; a fingerprint added twice; freed
 * unfinished). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/billed.h"
#include "engine/dedup.h"
#include "testutil.h"

static char dir[512];

static void setup(void) { rt_test_tmpdir(dir, sizeof dir); }
static void teardown(void) { rt_test_rmtree(dir); }

TestSuite(billed, .init = setup, .fini = teardown);

static rt_fp128 fp(uint64_t i)
{
    /* splitmix64 of i: spread like XXH3-128 fingerprints */
    uint64_t x = i * UINT64_C(0x9e3779b97f4a7c15) + 1;
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return (rt_fp128){x ^ (x >> 31), (x * 31) ^ (i << 17)};
}

/* Write the fingerprints fp(from) .. fp(to - 1) (plus the all-zero one when zero) as run's
 * billed events and load them back. */
/* A set holding fp(from) .. fp(to - 1). */
static void fill(rt_dedup *d, uint64_t from, uint64_t to)
{
    cr_assert_eq(rt_dedup_init(d, 16), RT_OK);
    bool seen;
    for (uint64_t i = from; i < to; i++) {
        rt_fp128 f = fp(i);
        cr_assert_eq(rt_dedup_insert(d, f.lo, f.hi, &seen), RT_OK);
    }
}

/* What a run does: write the set's fingerprints, sorted, partition by partition. Loading
 * checks the order and the checksum. */
static rt_status write_set(const char *path, const rt_dedup *d, uint64_t *count, uint64_t *xxh,
                           rt_error *err)
{
    return rt_billed_write_set(path, d, 2, count, xxh, err);
}

static rt_billed_set *make(uint64_t run, uint64_t from, uint64_t to, bool zero)
{
    rt_dedup d;
    fill(&d, from, to);
    bool seen;
    if (zero) cr_assert_eq(rt_dedup_insert(&d, 0, 0, &seen), RT_OK);
    char path[600];
    rt_billed_path(dir, run, path, sizeof path);
    uint64_t count, xxh;
    rt_error err;
    cr_assert_eq(write_set(path, &d, &count, &xxh, &err), RT_OK, "%s", err.message);
    cr_assert_eq(count, to - from + zero);
    rt_dedup_free(&d);
    rt_billed_set *s;
    cr_assert_eq(rt_billed_load(path, count, xxh, run, &s, &err), RT_OK, "%s", err.message);
    cr_assert_eq(rt_billed_run(s), run);
    return s;
}

Test(billed, written_events_are_found_and_others_not)
{
    rt_billed_set *s = make(7, 0, 20000, true);
    for (uint64_t i = 0; i < 20000; i++) {
        rt_fp128 f = fp(i);
        cr_assert(rt_billed_contains(s, f.lo, f.hi), "event %llu", (unsigned long long)i);
    }
    for (uint64_t i = 20000; i < 40000; i++) {
        rt_fp128 f = fp(i);
        cr_assert_not(rt_billed_contains(s, f.lo, f.hi));
    }
    cr_assert(rt_billed_contains(s, 0, 0), "the all-zero fingerprint, stored as (0, 1)");
    cr_assert(rt_billed_contains(s, 0, 1));
    cr_assert_not(rt_billed_contains(s, 0, 2));
    rt_billed_free(s);
}

Test(billed, an_empty_set)
{
    rt_billed_set *s = make(1, 0, 0, false);
    cr_assert_not(rt_billed_contains(s, 1, 2));
    rt_billed_free(s);
}

Test(billed, the_file_is_sorted_by_high_then_low_word)
{
    rt_billed_set *s = make(3, 0, 5000, false);
    rt_billed_free(s);
    char path[600];
    rt_billed_path(dir, 3, path, sizeof path);
    size_t len;
    char *data = rt_test_read(path, &len);
    cr_assert_not_null(data);
    cr_assert_eq(len, 16 + 5000 * 16 + 8);
    cr_assert(memcmp(data, "RTBILLD2", 8) == 0);
    const rt_fp128 *e = (const rt_fp128 *)(const void *)(data + 16);
    for (size_t i = 1; i < 5000; i++)
        cr_assert(e[i - 1].hi < e[i].hi || (e[i - 1].hi == e[i].hi && e[i - 1].lo < e[i].lo));
    free(data);
}

static rt_status load_as(const char *path, uint64_t count, uint64_t xxh);

/* The file does not depend on the thread count; a pending file is published by a rename. */
Test(billed, the_file_is_the_same_for_any_thread_count_and_published_by_rename)
{
    rt_dedup d;
    fill(&d, 0, 30000);
    char one[600], many[600], pending[600], final[600];
    snprintf(one, sizeof one, "%s/one.fps", dir);
    snprintf(many, sizeof many, "%s/many.fps", dir);
    uint64_t c1, h1, c3, h3;
    rt_error err;
    cr_assert_eq(rt_billed_write_set(one, &d, 1, &c1, &h1, &err), RT_OK, "%s", err.message);
    cr_assert_eq(rt_billed_write_set(many, &d, 3, &c3, &h3, &err), RT_OK, "%s", err.message);
    cr_assert(c1 == 30000 && c3 == c1 && h3 == h1);
    size_t l1, l3;
    char *b1 = rt_test_read(one, &l1), *b3 = rt_test_read(many, &l3);
    cr_assert(b1 && b3 && l1 == l3 && memcmp(b1, b3, l1) == 0);
    free(b1);
    free(b3);

    rt_billed_pending_path(dir, pending, sizeof pending);
    cr_assert(strncmp(pending, dir, strlen(dir)) == 0 && strstr(pending, "/billed/pending-"),
              "%s", pending);
    uint64_t cp, hp;
    cr_assert_eq(rt_billed_write_set(pending, &d, 2, &cp, &hp, &err), RT_OK, "%s",
                 err.message);
    rt_dedup_free(&d);
    rt_billed_path(dir, 4, final, sizeof final);
    cr_assert_eq(rt_billed_publish(pending, final, &err), RT_OK, "%s", err.message);
    cr_assert_null(rt_test_read(pending, &l1));
    cr_assert_eq(load_as(final, cp, hp), RT_OK);
    /* Publishing twice fails cleanly: the pending file is gone. */
    cr_assert_eq(rt_billed_publish(pending, final, &err), RT_EIO);
}

static rt_status load_as(const char *path, uint64_t count, uint64_t xxh)
{
    rt_billed_set *s = NULL;
    rt_error err;
    rt_status st = rt_billed_load(path, count, xxh, 1, &s, &err);
    if (st == RT_OK) rt_billed_free(s);
    return st;
}

Test(billed, damaged_or_replaced_files_are_refused)
{
    rt_dedup d;
    fill(&d, 0, 100);
    char path[600];
    rt_billed_path(dir, 9, path, sizeof path);
    uint64_t count, xxh;
    rt_error err;
    cr_assert_eq(write_set(path, &d, &count, &xxh, &err), RT_OK);
    rt_dedup_free(&d);
    cr_assert_eq(load_as(path, count, xxh), RT_OK);
    cr_assert_eq(load_as(path, count + 1, xxh), RT_ECORRUPT, "size does not match the count");
    cr_assert_eq(load_as(path, count, xxh ^ 1), RT_ECORRUPT, "checksum from the registry");

    /* Swap two entries and fix the checksum: the order check still catches it. */
    size_t len;
    char *data = rt_test_read(path, &len);
    char tmp[16];
    memcpy(tmp, data + 16, 16);
    memcpy(data + 16, data + 32, 16);
    memcpy(data + 32, tmp, 16);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    free(data);
    cr_assert_eq(load_as(path, count, xxh), RT_ECORRUPT, "same bytes, other order");

    char missing[700];
    snprintf(missing, sizeof missing, "%s/billed/404.fps", dir);
    cr_assert_eq(load_as(missing, 0, 0), RT_ENOTFOUND);
}

Test(billed, a_window_names_the_first_run_that_billed_an_event)
{
    rt_billed_set *sets[2] = {make(4, 0, 3000, false), make(5, 2000, 6000, true)};
    rt_billed_window *w;
    cr_assert_eq(rt_billed_window_build(sets, 2, &w), RT_OK);
    enum { N = 9001 };
    rt_fp128 *fps = malloc(N * sizeof *fps);
    uint64_t *runs = malloc(N * sizeof *runs);
    for (uint64_t i = 0; i < N - 1; i++) fps[i] = fp(i);
    fps[N - 1] = (rt_fp128){0, 0};
    rt_billed_window_find(w, fps, N, runs);
    for (uint64_t i = 0; i < N - 1; i++) {
        uint64_t want = i < 3000 ? 4 : i < 6000 ? 5 : 0;
        cr_assert_eq(runs[i], want, "event %llu: run %llu, expected %llu", (unsigned long long)i,
                     (unsigned long long)runs[i], (unsigned long long)want);
    }
    cr_assert_eq(runs[N - 1], 5, "the all-zero fingerprint");
    /* Fewer fingerprints than the read-ahead distance. */
    rt_billed_window_find(w, fps + 2500, 3, runs);
    cr_assert(runs[0] == 4 && runs[1] == 4 && runs[2] == 4);
    rt_billed_window_find(w, fps, 0, runs);
    rt_billed_window_free(w);
    free(fps);
    free(runs);
    rt_billed_free(sets[0]);
    rt_billed_free(sets[1]);
}

Test(billed, an_empty_window_finds_nothing)
{
    rt_billed_window *w;
    cr_assert_eq(rt_billed_window_build(NULL, 0, &w), RT_OK);
    rt_fp128 f = fp(1);
    uint64_t run = 99;
    rt_billed_window_find(w, &f, 1, &run);
    cr_assert_eq(run, 0);
    rt_billed_window_free(w);
}

/* The writer's file: the bytes rt_billed_write_set writes for a set of the same fingerprints,
 * whatever was spilled (a budget of 0 spills after every settle) and the thread count. */
static void write_with_writer(const char *path, size_t budget, unsigned threads, uint64_t n,
                              uint64_t *count, uint64_t *xxh)
{
    rt_billed_writer *w;
    rt_error err;
    cr_assert_eq(rt_billed_writer_open(path, budget, &w, &err), RT_OK, "%s", err.message);
    for (uint64_t i = 0; i < n; i++) {
        rt_fp128 f = fp(i);
        cr_assert(rt_billed_writer_add(w, f.lo, f.hi));
        if (i % 1000 == 999) cr_assert_eq(rt_billed_writer_settle(w, &err), RT_OK, "%s", err.message);
    }
    cr_assert(rt_billed_writer_add(w, 0, 0), "the all-zero fingerprint, held as (0, 1)");
    cr_assert_eq(rt_billed_writer_settle(w, &err), RT_OK, "%s", err.message);
    if (budget == 0) cr_assert_gt(rt_billed_writer_spilled_bytes(w), n * 16 / 2);
    if (budget > n * 32) cr_assert_eq(rt_billed_writer_spilled_bytes(w), 0);
    cr_assert_eq(rt_billed_writer_finish(w, threads, count, xxh, &err), RT_OK, "%s", err.message);
    rt_billed_writer_free(w);
}

Test(billed, the_writer_writes_what_the_set_writes_spilled_or_not)
{
    rt_dedup d;
    fill(&d, 0, 25000);
    bool seen;
    cr_assert_eq(rt_dedup_insert(&d, 0, 0, &seen), RT_OK);
    char from_set[600], held[600], spilled[600];
    snprintf(from_set, sizeof from_set, "%s/set.fps", dir);
    snprintf(held, sizeof held, "%s/held.fps", dir);
    snprintf(spilled, sizeof spilled, "%s/sub/spilled.fps", dir);
    uint64_t c0, h0, c1, h1, c2, h2;
    rt_error err;
    cr_assert_eq(rt_billed_write_set(from_set, &d, 2, &c0, &h0, &err), RT_OK, "%s", err.message);
    rt_dedup_free(&d);
    write_with_writer(held, 64u << 20, 1, 25000, &c1, &h1);
    write_with_writer(spilled, 0, 3, 25000, &c2, &h2);
    cr_assert(c0 == 25001 && c1 == c0 && c2 == c0);
    cr_assert(h1 == h0 && h2 == h0);
    size_t l0, l1, l2;
    char *b0 = rt_test_read(from_set, &l0), *b1 = rt_test_read(held, &l1),
         *b2 = rt_test_read(spilled, &l2);
    cr_assert(b0 && b1 && b2 && l1 == l0 && l2 == l0);
    cr_assert(memcmp(b0, b1, l0) == 0 && memcmp(b0, b2, l0) == 0);
    free(b0);
    free(b1);
    free(b2);
    cr_assert_eq(load_as(spilled, c2, h2), RT_OK);
    /* The scratch files are gone (unlinked as soon as made). */
    char scratch[700];
    snprintf(scratch, sizeof scratch, "%s.spill", spilled);
    cr_assert_null(rt_test_read(scratch, &l0));
}

/* A writer for dir/name that spills at every settle. */
static rt_billed_writer *spilling_writer(const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    rt_billed_writer *w;
    rt_error err;
    cr_assert_eq(rt_billed_writer_open(path, 0, &w, &err), RT_OK);
    return w;
}

Test(billed, a_fingerprint_billed_twice_fails_the_writer_and_leaves_no_file)
{
    char path[600];
    rt_billed_writer *w = spilling_writer("twice.fps", path, sizeof path);
    rt_error err;
    for (uint64_t i = 0; i < 3000; i++) {
        rt_fp128 f = fp(i % 2000);
        cr_assert(rt_billed_writer_add(w, f.lo, f.hi));
        if (i == 1500) cr_assert_eq(rt_billed_writer_settle(w, &err), RT_OK);
    }
    uint64_t c, h;
    cr_assert_eq(rt_billed_writer_finish(w, 2, &c, &h, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "billed twice"), "%s", err.message);
    rt_billed_writer_free(w);
    size_t len;
    cr_assert_null(rt_test_read(path, &len));
}

Test(billed, a_writer_freed_unfinished_leaves_nothing)
{
    char path[600];
    rt_billed_writer *w = spilling_writer("unfinished.fps", path, sizeof path);
    rt_error err;
    for (uint64_t i = 0; i < 500; i++) cr_assert(rt_billed_writer_add(w, fp(i).lo, fp(i).hi));
    cr_assert_eq(rt_billed_writer_settle(w, &err), RT_OK);
    cr_assert_gt(rt_billed_writer_spilled_bytes(w), 0);
    rt_billed_writer_free(w);
    rt_billed_writer_free(NULL);
    size_t len;
    cr_assert_null(rt_test_read(path, &len));
    char scratch[700];
    snprintf(scratch, sizeof scratch, "%s.spill", path);
    cr_assert_null(rt_test_read(scratch, &len));
}

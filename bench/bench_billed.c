/* bench_billed: the cross-run duplicate registry at scale. Fills a run's de-duplication set
 * with N event fingerprints (default 100,000,000), writes its billed-events file (sort,
 * checksum, fsync, rename: what a commit does), loads it back as a later run does (map, check
 * order and checksum), and looks up M fingerprints (default 50,000,000, half of them billed) on
 * 1 and on every thread: one at a time, then in batches through a window (the filter rating
 * uses). Prints each step's time and rate and the file size.
 * Usage: bench_billed [EVENTS] [LOOKUPS] [DIR]. Deterministic (fixed seed). */
#include <inttypes.h>
#include <omp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/billed.h"
#include "engine/dedup.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: fingerprint i of the bench, reproducible from i alone (so threads need no
 * shared state); event ids hashed by XXH3-128 look like this. */
static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static void fp_of(uint64_t i, uint64_t *lo, uint64_t *hi)
{
    *lo = mix(2 * i);
    *hi = mix(2 * i + 1);
}

static double per_s(uint64_t n, uint64_t ns) { return ns ? (double)n * 1e9 / (double)ns : 0; }
static double secs(uint64_t ns) { return (double)ns / 1e9; }

/* Lookups of fingerprints 0..m-1 scaled so that half fall in [0, n): billed, half not. */
static uint64_t lookups(const rt_billed_set *set, uint64_t n, uint64_t m, int threads)
{
    uint64_t hits = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : hits)
    for (uint64_t k = 0; k < m; k++) {
        uint64_t i = (k & 1) ? mix(k) % n : n + k, lo, hi;
        fp_of(i, &lo, &hi);
        hits += rt_billed_contains(set, lo, hi);
    }
    return hits;
}

/* The same lookups through a window (filter, then the set), in batches as rating does. */
static uint64_t window_lookups(const rt_billed_window *w, uint64_t n, uint64_t m, int threads,
                               bool all_new)
{
    enum { BATCH = 4096 };
    uint64_t hits = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : hits)
    for (uint64_t b = 0; b < (m + BATCH - 1) / BATCH; b++) {
        rt_fp128 fps[BATCH];
        uint64_t runs[BATCH];
        size_t cnt = 0;
        for (uint64_t k = b * BATCH; k < m && cnt < BATCH; k++, cnt++) {
            uint64_t i = (k & 1) && !all_new ? mix(k) % n : n + k;
            fp_of(i, &fps[cnt].lo, &fps[cnt].hi);
        }
        rt_billed_window_find(w, fps, cnt, runs);
        for (size_t q = 0; q < cnt; q++) hits += runs[q] != 0;
    }
    return hits;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000000u;
    uint64_t m = argc > 2 ? strtoull(argv[2], NULL, 10) : 50000000u;
    const char *dir = argc > 3 ? argv[3] : "/tmp/ratel-bench-billed";
    if (n == 0 || m == 0) {
        fprintf(stderr, "usage: bench_billed [EVENTS] [LOOKUPS] [DIR]\n");
        return 2;
    }
    rt_error err;
    rt_dedup d;
    if (rt_dedup_init(&d, (size_t)n) != RT_OK) return 1;

    /* Fingerprints grouped by partition (a counting sort), then each partition filled in
     * input order by one thread, partitions in parallel: what the run's de-duplication wave
     * does. The grouping is set-up, not timed. */
    uint64_t start[RT_DEDUP_PARTS + 1] = {0};
    for (uint64_t i = 0; i < n; i++) {
        uint64_t lo, hi;
        fp_of(i, &lo, &hi);
        start[rt_dedup_part_of(hi) + 1]++;
    }
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) start[k + 1] += start[k];
    rt_fp128 *byp = malloc(n * sizeof *byp);
    if (!byp) return 1;
    uint64_t fill[RT_DEDUP_PARTS];
    memcpy(fill, start, sizeof fill);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t lo, hi;
        fp_of(i, &lo, &hi);
        byp[fill[rt_dedup_part_of(hi)]++] = (rt_fp128){lo, hi};
    }
    uint64_t t0 = now_ns();
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (unsigned part = 0; part < RT_DEDUP_PARTS; part++) {
        for (uint64_t q = start[part]; q < start[part + 1]; q++) {
            bool seen;
            if (rt_dedup_insert(&d, byp[q].lo, byp[q].hi, &seen) != RT_OK) failed = 1;
        }
    }
    free(byp);
    rt_dedup_sum_counts(&d);
    uint64_t t1 = now_ns();
    if (failed || d.count != n) {
        fprintf(stderr, "bench_billed: the set holds %zu of %" PRIu64 "\n", d.count, n);
        return 1;
    }

    char path[512];
    mkdir(dir, 0755);
    rt_billed_path(dir, 1, path, sizeof path);
    unlink(path);
    uint64_t count, xxh;
    uint64_t t2 = now_ns();
    if (rt_billed_write_set(path, &d, 2, &count, &xxh, &err) != RT_OK) {
        fprintf(stderr, "bench_billed: %s\n", err.message);
        return 1;
    }
    uint64_t t3 = now_ns();
    size_t set_bytes = rt_dedup_bytes(&d);
    rt_dedup_free(&d);

    rt_billed_set *set;
    uint64_t t4 = now_ns();
    if (rt_billed_load(path, count, xxh, 1, &set, &err) != RT_OK) {
        fprintf(stderr, "bench_billed: %s\n", err.message);
        return 1;
    }
    uint64_t t5 = now_ns();
    uint64_t h1 = lookups(set, n, m, 1);
    uint64_t t6 = now_ns();
    int threads = omp_get_max_threads();
    uint64_t hn = lookups(set, n, m, threads);
    uint64_t t7 = now_ns();
    rt_billed_window *w;
    uint64_t t8 = now_ns();
    if (rt_billed_window_build(&set, 1, &w) != RT_OK) return 1;
    uint64_t t9 = now_ns();
    uint64_t w1 = window_lookups(w, n, m, 1, false);
    uint64_t t10 = now_ns();
    uint64_t wn = window_lookups(w, n, m, threads, false);
    uint64_t t11 = now_ns();
    uint64_t z1 = window_lookups(w, n, m, 1, true);
    uint64_t t12 = now_ns();
    uint64_t zn = window_lookups(w, n, m, threads, true);
    uint64_t t13 = now_ns();
    rt_billed_window_free(w);
    struct stat sb;
    stat(path, &sb);
    printf("events %" PRIu64 ", lookups %" PRIu64 " (half billed), threads %d\n", n, m, threads);
    printf("dedup set   fill %.2f s (%.1f M/s), %.0f MiB in memory\n", secs(t1 - t0),
           per_s(n, t1 - t0) / 1e6, (double)set_bytes / 1048576.0);
    printf("billed file write %.2f s (%.1f M/s), %.0f MiB on disk\n", secs(t3 - t2),
           per_s(n, t3 - t2) / 1e6, (double)sb.st_size / 1048576.0);
    printf("billed file load  %.2f s (map, order and checksum check)\n", secs(t5 - t4));
    printf("lookups     1 thread  %.2f s (%.1f M/s), %d threads %.2f s (%.1f M/s)\n",
           secs(t6 - t5), per_s(m, t6 - t5) / 1e6, threads, secs(t7 - t6),
           per_s(m, t7 - t6) / 1e6);
    printf("window      build %.2f s; batched lookups 1 thread %.2f s (%.1f M/s), %d threads "
           "%.2f s (%.1f M/s)\n",
           secs(t9 - t8), secs(t10 - t9), per_s(m, t10 - t9) / 1e6, threads, secs(t11 - t10),
           per_s(m, t11 - t10) / 1e6);
    printf("window      new events only: 1 thread %.2f s (%.1f M/s), %d threads %.2f s (%.1f M/s)\n",
           secs(t12 - t11), per_s(m, t12 - t11) / 1e6, threads, secs(t13 - t12),
           per_s(m, t13 - t12) / 1e6);
    int ok = h1 == m / 2 && hn == m / 2 && w1 == m / 2 && wn == m / 2 && z1 == 0 && zn == 0;
    if (!ok) fprintf(stderr, "bench_billed: %" PRIu64 " hits, expected %" PRIu64 "\n", h1, m / 2);
    rt_billed_free(set);
    unlink(path);
    return ok ? 0 : 1;
}

/* bench_usage_decode: parse/decode throughput of a usage file (any format ratel reads).
 *
 * Reads the file the way `ratel run` does (chunks cut in order on one thread, parsed in
 * parallel waves of 2 x threads chunks) without rating, and prints records/s for each
 * repetition with the time spent cutting chunks (serial) and parsing (parallel).
 * usage: bench_usage_decode FILE [THREADS [REPEAT]] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "formats/usage_open.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of every thread: on a shared machine it says what the work costs even when the
 * wall time says mostly how busy the neighbours are. */
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

typedef struct slot {
    rt_chunk chunk;
    rt_event_batch batch;
    rt_status st;
    rt_error err;
} slot;

static int one_pass(const char *path, unsigned threads, slot *slots, unsigned nslots)
{
    rt_usage_reader *r;
    rt_error err;
    double t0 = now_s(), c0 = cpu_s(), cut = 0, parse = 0;
    if (rt_usage_open(path, 0, &r, &err) != RT_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 1;
    }
    unsigned long long records = 0, events = 0;
    int eof = 0;
    while (!eof) {
        double a = now_s();
        unsigned n = 0;
        while (n < nslots && !eof) {
            if (r->ops->next_chunk(r, &slots[n].chunk, &eof, &err) != RT_OK) {
                fprintf(stderr, "%s: %s\n", path, err.message);
                return 1;
            }
            if (!eof) n++;
        }
        double b = now_s();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (unsigned i = 0; i < n; i++) {
            rt_event_batch_clear(&slots[i].batch);
            slots[i].st = r->ops->parse_chunk(r, &slots[i].chunk, &slots[i].batch, &slots[i].err);
        }
        for (unsigned i = 0; i < n; i++) {
            if (slots[i].st != RT_OK) {
                fprintf(stderr, "%s: %s\n", path, slots[i].err.message);
                return 1;
            }
            records += slots[i].batch.records;
            events += slots[i].batch.count;
        }
        cut += b - a;
        parse += now_s() - b;
    }
    r->ops->close(r);
    double total = now_s() - t0, cpu = cpu_s() - c0;
    printf("%s threads=%u records=%llu events=%llu time=%.3f s  %.2f M rec/s  (cut %.3f s, "
           "parse %.3f s; cpu %.3f s, %.2f M rec per cpu-s)\n",
           path, threads, records, events, total, (double)records / total / 1e6, cut, parse, cpu,
           (double)records / cpu / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [THREADS [REPEAT]]\n", argv[0]);
        return 2;
    }
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)omp_get_num_procs();
    int repeat = argc > 3 ? atoi(argv[3]) : 3;
    if (threads < 1) threads = 1;
    unsigned nslots = 2 * threads;
    slot *slots = calloc(nslots, sizeof *slots);
    if (!slots) return 1;
    for (unsigned i = 0; i < nslots; i++) rt_event_batch_init(&slots[i].batch);
    int rc = 0;
    for (int k = 0; k < repeat && rc == 0; k++) rc = one_pass(argv[1], threads, slots, nslots);
    for (unsigned i = 0; i < nslots; i++) {
        free(slots[i].chunk.data);
        rt_event_batch_free(&slots[i].batch);
    }
    free(slots);
    return rc;
}

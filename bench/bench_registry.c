/* bench_registry: how the invoices in effect of a committed run are best stored. Reads them
 * back from a book's registry (their packed content, as engine/corrections makes it), then
 * compresses them the ways a run could: one zstd frame per invoice at level 1 and at level
 * -1, and blocks of 16 and of 64 consecutive invoices at level 1 (what the registry stores).
 * Prints each way's time, bytes and ratio. Single-threaded, as the registry thread is.
 * Usage: bench_registry BOOK_DIR [RUN] (RUN: the run number, default 1). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "engine/corrections.h"
#include "engine/registry.h"
#include "engine/store.h"

typedef struct invoices {
    rt_buf data; /* the contents, one after another */
    size_t *end; /* where each one ends in data */
    size_t count;
} invoices;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Compress the invoices `block` at a time at `level`; prints the result. */
static int measure(const invoices *v, size_t block, int level, ZSTD_CCtx *cctx)
{
    size_t cap = 0;
    unsigned char *out = NULL;
    uint64_t stored = 0;
    double t0 = now_s();
    for (size_t i = 0; i < v->count; i += block) {
        size_t last = i + block < v->count ? i + block : v->count;
        size_t from = i ? v->end[i - 1] : 0, len = v->end[last - 1] - from;
        size_t need = ZSTD_compressBound(len);
        if (need > cap) {
            unsigned char *o = realloc(out, need);
            if (!o) {
                free(out);
                return 1;
            }
            out = o;
            cap = need;
        }
        size_t n = ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
        if (!ZSTD_isError(n)) n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
        if (!ZSTD_isError(n)) n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
        if (!ZSTD_isError(n)) n = ZSTD_compress2(cctx, out, cap, v->data.data + from, len);
        if (ZSTD_isError(n)) {
            fprintf(stderr, "bench_registry: %s\n", ZSTD_getErrorName(n));
            free(out);
            return 1;
        }
        stored += n;
    }
    double secs = now_s() - t0;
    char what[40];
    if (block == 1) snprintf(what, sizeof what, "one frame per invoice");
    else snprintf(what, sizeof what, "blocks of %zu", block);
    printf("  %-24s level %2d: %7.3f s, %12" PRIu64 " bytes stored (x%.2f)\n", what, level, secs,
           stored, stored ? (double)v->data.len / (double)stored : 0.0);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_registry BOOK_DIR [RUN]\n");
        return 2;
    }
    uint64_t run = argc == 3 ? strtoull(argv[2], NULL, 10) : 1;
    rt_store *store;
    rt_error err;
    if (rt_store_open(argv[1], false, &store, &err) != RT_OK) {
        fprintf(stderr, "bench_registry: %s\n", err.message);
        return 1;
    }
    invoices v;
    memset(&v, 0, sizeof v);
    rt_buf_init(&v.data);
    double t0 = now_s();
    rt_registry_invoices got;
    rt_registry_invoices_init(&got);
    rt_status st = rt_registry_invoices_load(store, run, &got, &err);
    rt_store_close(store);
    if (st != RT_OK) {
        fprintf(stderr, "bench_registry: %s\n", err.message);
        rt_registry_invoices_free(&got);
        return 1;
    }
    double loaded = now_s() - t0;
    size_t held = 0, entries = got.entry_count;
    for (size_t e = 0; e < got.entry_count; e++) held += got.entries[e].len;
    /* Laid end to end, as a run hands them to the registry one after another. */
    rt_registry_invoice_reader reader;
    rt_registry_invoice_reader_init(&reader, &got);
    v.end = malloc((got.count ? got.count : 1) * sizeof *v.end);
    for (size_t i = 0; v.end && st == RT_OK && i < got.count; i++) {
        const void *content;
        size_t len;
        if ((st = rt_registry_invoice_content(&reader, i, &content, &len, &err)) != RT_OK) break;
        rt_buf_append(&v.data, content, len);
        v.end[v.count++] = v.data.len;
    }
    rt_registry_invoice_reader_free(&reader);
    rt_registry_invoices_free(&got);
    if (st != RT_OK) {
        fprintf(stderr, "bench_registry: %s\n", err.message);
        return 1;
    }
    printf("run %" PRIu64 ": loaded in %.3f s, %zu entries holding %zu bytes as stored\n", run,
           loaded, entries, held);
    if (!v.end || v.data.failed) {
        fprintf(stderr, "bench_registry: out of memory\n");
        return 1;
    }
    printf("run %" PRIu64 ": %zu invoices in effect, %zu bytes packed, read back in %.3f s\n",
           run, v.count, v.data.len, now_s() - t0);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    int rc = !cctx || !v.count;
    if (!rc) rc = measure(&v, 1, 1, cctx) || measure(&v, 1, -1, cctx) ||
                  measure(&v, 16, 1, cctx) || measure(&v, RT_REGISTRY_INVOICE_BLOCK, 1, cctx);
    ZSTD_freeCCtx(cctx);
    rt_buf_free(&v.data);
    free(v.end);
    return rc;
}

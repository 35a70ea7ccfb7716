/* run: the billing run pipeline and its commit protocol.
 *
 * Before the waves, with --id-scan, the usage files are read once for their event ids alone
 * (scan_ids), so that the dedup step holds only ids seen more than once.
 * Pipeline, per wave of `slots` chunks (slots = 2 x threads):
 *   1. read:   chunks are cut from the inputs in order (one thread);
 *   2. rate:   each chunk is parsed and rated on its own thread;
 *   3. dedup:  fingerprints are checked in input order (each partition of them on one
 *              thread), so the first occurrence of an event id is the one billed, whatever
 *              the thread count;
 *   4. output: each thread adds the wave's billed events of its range of accounts to its
 *              aggregates, then the chunks' rows are encoded (parallel) and written in input
 *              order (one thread, while the next wave is rated).
 * No two threads' aggregates share an account, so billing places them side by side; integer
 * sums are associative, so the totals are the same for any thread count, and every byte
 * written depends only on the inputs. The order files are read and billed on a thread of their
 * own alongside the usage waves (they need only the catalog, and their result is first used
 * by billing): at a million accounts that takes seconds which would otherwise be serial.
 *
 * A distributed run (cfg->peers: processes joined by Open MPI) runs these waves on every
 * process, each rating its share of the chunks; see "distributed runs" below.
 *
 * Commit protocol: outputs are written into "<out>.staging" (on a thread of their own, while
 * the registry transaction's thread publishes the billed events, written under a pending name
 * once the usage was read, and stores the invoices in effect) with a marker file naming the
 * run number; the registry transaction (run number, invoice numbers, invoices in effect, run
 * record) commits; the staging directory is renamed to <out> and the parent directory
 * fsynced. A crash before the commit leaves a staging directory that the next run removes; a
 * crash between commit and rename leaves one that the next run (or verify) renames: that is
 * the only roll-forward. */
#include "engine/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <inttypes.h>
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/billed.h"
#include "engine/bloom.h"
#include "engine/corrections.h"
#include "engine/dedup.h"

#include <xxhash.h>
#include <zstd.h>

#define MARKER_NAME ".ratel-run"
/* The billed fingerprints held in memory before they are spilled (engine/billed). */
#define BILLED_HELD_BYTES (32u << 20)

/* ---- file system helpers ---- */

void rt_run_staging_path(const char *out_dir, char *buf, size_t n)
{
    size_t len = strlen(out_dir);
    while (len > 1 && out_dir[len - 1] == '/') len--;
    snprintf(buf, n, "%.*s.staging", (int)len, out_dir);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static rt_status fsync_path(const char *path, rt_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "fsync: %s", strerror(e));
    return RT_OK;
}

static void parent_dir(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "%s", path);
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/') buf[--len] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, n, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

static rt_status write_marker(const char *staging, uint64_t run_no, rt_error *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", staging, MARKER_NAME);
    FILE *f = fopen(path, "w");
    if (!f) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    int ok = fprintf(f, "run %" PRIu64 "\n", run_no) > 0;
    ok = (fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot write the run marker");
    return RT_OK;
}

static rt_status commit_rename(const char *staging, const char *out_dir, rt_error *err)
{
    char path[PATH_MAX + 32], parent[PATH_MAX];
    /* The marker's job ends with the rename, so it is removed from the published directory
     * right after. A crash between the two leaves a stray ".ratel-run" that verify ignores. */
    if (rename(staging, out_dir) != 0)
        return rt_error_set(err, RT_EIO, out_dir, 0, 0, NULL, "cannot rename %s: %s", staging,
                            strerror(errno));
    snprintf(path, sizeof path, "%s/%s", out_dir, MARKER_NAME);
    unlink(path);
    rt_status st = fsync_path(out_dir, err);
    if (st != RT_OK) return st;
    parent_dir(out_dir, parent, sizeof parent);
    return fsync_path(parent, err);
}

rt_status rt_run_recover(rt_store *store, const char *out_dir, bool *rolled_forward,
                         rt_error *err)
{
    char staging[PATH_MAX], marker[PATH_MAX + 32];
    struct stat sb;
    *rolled_forward = false;
    rt_run_staging_path(out_dir, staging, sizeof staging);
    if (stat(staging, &sb) != 0) return RT_OK;
    snprintf(marker, sizeof marker, "%s/%s", staging, MARKER_NAME);
    uint64_t run_no = 0;
    FILE *f = fopen(marker, "r");
    if (f) {
        if (fscanf(f, "run %" SCNu64, &run_no) != 1) run_no = 0;
        fclose(f);
    }
    if (run_no != 0 && stat(out_dir, &sb) != 0) {
        rt_run_record rec;
        rt_error e2;
        if (rt_registry_get_run(store, run_no, &rec, &e2) == RT_OK) {
            rt_run_record_free(&rec);
            rt_status st = commit_rename(staging, out_dir, err);
            if (st == RT_OK) *rolled_forward = true;
            return st;
        }
    }
    /* Not committed: whatever it holds was never billed. */
    remove_tree(staging);
    return RT_OK;
}

/* ---- the pipeline state ---- */

typedef struct slot {
    rt_chunk chunk;
    rt_usage_reader *reader;
    rt_event_batch batch;
    rt_rated *rated;
    size_t rated_count, rated_cap;
    /* Rated records to check for in-run duplicates, grouped by dedup partition (in input
     * order within each): part_start[k] .. part_start[k + 1] index by_part. */
    uint32_t *by_part;
    size_t by_part_cap;
    rt_fp128 *fps;  /* the rated records' fingerprints, for the billed-events window */
    uint64_t *runs; /* the committed run that billed each, or 0 */
    size_t fps_cap;
    rt_fp128 *ids; /* the scan's: every parsed event's fingerprint (scan_ids) */
    size_t ids_cap;
    uint32_t part_start[RT_DEDUP_PARTS + 1];
    uint64_t parse_ns, rate_ns, encode_ns; /* thread time on this chunk (rt_stage_times.thread_ns) */
    /* Distributed runs: another process rates this chunk. Until the wave's duplicates are
     * marked, xfp[q] holds the fingerprint of its q-th record in partition order (part_start
     * bounds them; only this process's partitions are filled) and xdup[q] whether it is a
     * duplicate; rated[] holds nothing of it. */
    bool foreign;
    rt_fp128 *xfp;
    uint8_t *xdup;
    size_t x_cap;
    bool came; /* rank 0: its rows came from its process (exchange_encoded) */
    rt_status status;
    rt_error err;
} slot;

/* What one thread adds to its aggregates in a wave: the rated events of its range of
 * accounts, from every chunk. */
typedef struct agg_worker {
    uint32_t *pick; /* the chunk's rated records in the range, by index */
    size_t pick_cap;
    uint64_t rated, duplicate, late; /* counted in the range, added to the run's after the wave */
    unsigned fail_slot; /* the first chunk whose events could not be added, or UINT_MAX */
    rt_status status;
    uint64_t aggregate_ns; /* thread time spent adding the range's events, since the last wave */
} agg_worker;

typedef struct pipeline {
    const rt_run_config *cfg;
    rt_rating_ctx rctx;
    unsigned threads, nslots;
    slot *slots;
    /* Thread t aggregates the accounts [range_end[t - 1], range_end[t]) (from 0 for t = 0)
     * into aggs[t], so that no two threads' aggregates share a line: the ranges are cut once,
     * by the events of the first wave, and only decide which thread adds what. */
    rt_aggregates *aggs;
    uint32_t *range_end;
    agg_worker *workers;
    /* In-run duplicates. The ids are read once ahead of rating (scan_ids) into a filter, and
     * the fingerprints seen more than once by it (every repeated id, and ~1% of the others)
     * are the candidates: only those go through the exact set `dedup`, so neither holds one
     * entry per event. Without candidates (no scan: --id-scan off, auto below its threshold,
     * or an input that cannot be read twice) every fingerprint goes through `dedup`. */
    rt_dedup cand;
    bool has_cand;
    rt_dedup dedup;
    /* After an id scan: the fingerprints billed, spilled to a scratch file as they come and
     * written sorted as the pending billed-events file once the usage is read (NULL without
     * a scan, when `dedup` holds them all, and for an accrual). */
    rt_billed_writer *billed;
    bool inputs_regular; /* every usage input is a regular file (one a scan may read twice) */
    uint64_t billed_count, billed_xxh64; /* of that file */
    rt_billed_set **prior; /* billed events of committed runs of nearby periods */
    size_t prior_count;
    rt_billed_window *window; /* the prior sets behind one filter (NULL without any) */
    rt_run_counts counts;
    rt_run_input *inputs;
    rt_output_sink *sink;
    uint32_t next_seq;
    rt_stage_times times;
    uint64_t bytes_total, bytes_done, started_ns;
    /* Distributed runs (cfg->peers, else NULL): what this process sends and receives. */
    const rt_peers *peers;
    rt_buf xout, xin;
    uint64_t *xlens;    /* per process */
    rt_error x_later;   /* a failure of exchange_rated's second half, shared by the next step */
    uint64_t window_digest, sizes_digest; /* compared between processes (x_check) */
} pipeline;

/* Distributed runs: dedup partition `part` is marked by process part mod size. */
static bool owns_part(const pipeline *p, unsigned part)
{
    return part % p->peers->size == p->peers->rank;
}

static int reject_cmp(const void *x, const void *y)
{
    const rt_reject *a = x, *b = y;
    return a->rec_no < b->rec_no ? -1 : a->rec_no > b->rec_no;
}

/* Record k's dedup partition, or RT_DEDUP_PARTS to leave it out of the index. */
typedef unsigned (*part_fn)(const slot *s, size_t k);

/* Index a slot's records [0, n) by dedup partition in input order (a counting sort):
 * part_start[q] .. part_start[q + 1] of by_part are partition q's. False when memory runs out.
 * Always inlined, so that each caller's `part` is too: it runs twice per record. */
static inline __attribute__((always_inline)) bool index_by_part(slot *s, size_t n, part_fn part)
{
    if (s->by_part_cap < n) {
        uint32_t *bp = realloc(s->by_part, n * sizeof *bp);
        if (!bp) return false;
        s->by_part = bp;
        s->by_part_cap = n;
    }
    memset(s->part_start, 0, sizeof s->part_start);
    for (size_t k = 0; k < n; k++) {
        unsigned q = part(s, k);
        if (q < RT_DEDUP_PARTS) s->part_start[q + 1]++;
    }
    for (unsigned q = 0; q < RT_DEDUP_PARTS; q++) s->part_start[q + 1] += s->part_start[q];
    uint32_t fill[RT_DEDUP_PARTS];
    memcpy(fill, s->part_start, sizeof fill);
    for (size_t k = 0; k < n; k++) {
        unsigned q = part(s, k);
        if (q < RT_DEDUP_PARTS) s->by_part[fill[q]++] = (uint32_t)k;
    }
    return true;
}

/* Rated records, but those billed by an earlier run (already duplicates). */
static unsigned rated_part(const slot *s, size_t k)
{
    return s->rated[k].prior_run ? RT_DEDUP_PARTS : rt_dedup_part_of(s->rated[k].fp_hi);
}

/* Every event the scan parsed. */
static unsigned id_part(const slot *s, size_t k) { return rt_dedup_part_of(s->ids[k].hi); }

/* Parse a slot's chunk into its batch (for rating, or for the id scan); false on failure, in
 * s->status. Runs on any thread. */
static bool parse_slot(slot *s)
{
    rt_event_batch_clear(&s->batch);
    s->rated_count = 0;
    s->status = s->reader->ops->parse_chunk(s->reader, &s->chunk, &s->batch, &s->err);
    return s->status == RT_OK;
}

/* Rate a parsed chunk: runs on any thread. */
static void rate_parsed(pipeline *p, slot *s)
{
    size_t parse_rejects = s->batch.reject_count;
    if (s->rated_cap < s->batch.count) {
        rt_rated *r = realloc(s->rated, s->batch.count * sizeof *r);
        if (!r) {
            s->status = rt_error_set(&s->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
            return;
        }
        s->rated = r;
        s->rated_cap = s->batch.count;
    }
    /* The account lookups go to random places of tables as large as the customer base: each
     * id is hashed once, its memory asked for in steps ahead of its lookup, and the lookup made
     * ahead of its rating (see rt_catalog_account_prefetch), so that several misses are in
     * flight while events are rated. */
    const rt_catalog *cat = p->rctx.cat;
    const rt_event *evs = s->batch.events;
    enum { AHEAD = 6, RING = 32 }; /* RING > 3 * AHEAD: a slot is reused after its rating */
    uint64_t hashes[RING];
    uint32_t accounts[RING];
    size_t n = s->batch.count;
    for (size_t j = 0; j < n + 3 * AHEAD; j++) {
        if (j < n) { /* step 1 for event j */
            hashes[j % RING] = rt_catalog_account_hash(evs[j].account, evs[j].account_len);
            rt_catalog_account_prefetch(cat, hashes[j % RING], 1);
        }
        if (j >= AHEAD && j - AHEAD < n) /* step 2 for event j - AHEAD */
            rt_catalog_account_prefetch(cat, hashes[(j - AHEAD) % RING], 2);
        if (j >= 2 * AHEAD && j - 2 * AHEAD < n) { /* the lookup of event j - 2 AHEAD */
            size_t k = j - 2 * AHEAD;
            accounts[k % RING] = rt_catalog_account_hashed(cat, hashes[k % RING], evs[k].account,
                                                           evs[k].account_len);
            rt_catalog_account_plans_prefetch(cat, accounts[k % RING]);
        }
        if (j < 3 * AHEAD) continue;
        size_t i = j - 3 * AHEAD; /* rated now */
        const rt_event *ev = &evs[i];
        rt_rated *r = &s->rated[s->rated_count];
        const char *field = "";
        char msg[RT_REJECT_MESSAGE_MAX];
        rt_reject_reason why =
            rt_rate_event_of(&p->rctx, ev, accounts[i % RING], r, &field, msg, sizeof msg);
        if (why == RT_REJ_NONE) {
            r->ordinal = (uint64_t)s->chunk.seq << 32 | ev->rec_no;
            r->event = (uint32_t)i;
            s->rated_count++;
        } else if (!rt_event_batch_reject(&s->batch, why, ev->rec_no, ev->line_rel, ev->raw,
                                          ev->raw_len, field, "%s", msg)) {
            s->status = rt_error_set(&s->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
            return;
        }
    }
    /* Events billed by committed runs of nearby periods: looked up for the whole chunk at
     * once, so the window's memory reads overlap. */
    if (p->window && s->rated_count) {
        if (s->fps_cap < s->rated_count) {
            rt_fp128 *f = realloc(s->fps, s->rated_count * sizeof *f);
            uint64_t *u = f ? realloc(s->runs, s->rated_count * sizeof *u) : NULL;
            if (f) s->fps = f;
            if (u) s->runs = u;
            if (!f || !u) {
                s->status = rt_error_set(&s->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
                return;
            }
            s->fps_cap = s->rated_count;
        }
        for (size_t k = 0; k < s->rated_count; k++)
            s->fps[k] = (rt_fp128){s->rated[k].fp_lo, s->rated[k].fp_hi};
        rt_billed_window_find(p->window, s->fps, s->rated_count, s->runs);
        for (size_t k = 0; k < s->rated_count; k++) {
            if (s->runs[k]) {
                s->rated[k].flags |= RT_RATED_DUPLICATE;
                s->rated[k].prior_run = (uint32_t)s->runs[k];
            }
        }
    }
    /* The records to de-duplicate (not billed by an earlier run), by partition. */
    if (!index_by_part(s, s->rated_count, rated_part)) {
        s->status = rt_error_set(&s->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        return;
    }

    /* Parser and rater rejects interleave: one order, by record number. */
    if (parse_rejects && parse_rejects < s->batch.reject_count)
        qsort(s->batch.rejects, s->batch.reject_count, sizeof *s->batch.rejects, reject_cmp);
}

/* Parse and rate a chunk, timing the two (the reader's decompression apart). Runs on any
 * thread. */
static void rate_slot(pipeline *p, slot *s)
{
    uint64_t t0 = rt_clock_ns();
    bool parsed = parse_slot(s);
    uint64_t t1 = rt_clock_ns();
    s->parse_ns = t1 - t0 > s->batch.decompress_ns ? t1 - t0 - s->batch.decompress_ns : 0;
    if (parsed) rate_parsed(p, s);
    s->rate_ns = rt_clock_ns() - t1;
}

/* Mark duplicates: each dedup partition is fed its records in input order (chunk by chunk),
 * partitions in parallel. Which occurrence is first does not depend on the thread count. */
static rt_status dedup_wave(pipeline *p, unsigned n, rt_error *err)
{
    int failed = 0;
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 8) reduction(| : failed)
    for (unsigned part = 0; part < RT_DEDUP_PARTS; part++) {
        /* A distributed run's partitions are each on one process (see exchange_rated). */
        if (p->peers && !owns_part(p, part)) continue;
        for (unsigned i = 0; i < n && !failed; i++) {
            slot *s = &p->slots[i];
            /* Records and set slots asked for ahead: both are random reads. */
            enum { AHEAD = 8 };
            uint32_t end = s->part_start[part + 1];
            if (s->foreign) { /* fingerprints another process sent (no candidates then) */
                for (uint32_t q = s->part_start[part]; q < end; q++) {
                    if (q + AHEAD < end)
                        rt_dedup_prefetch(&p->dedup, s->xfp[q + AHEAD].lo, s->xfp[q + AHEAD].hi);
                    bool seen = false;
                    if (rt_dedup_insert(&p->dedup, s->xfp[q].lo, s->xfp[q].hi, &seen) != RT_OK) {
                        failed = 1;
                        break;
                    }
                    s->xdup[q] = seen;
                }
                continue;
            }
            const rt_dedup *first = p->has_cand ? &p->cand : &p->dedup;
            for (uint32_t q = s->part_start[part]; q < end; q++) {
                if (q + 2 * AHEAD < end) __builtin_prefetch(&s->rated[s->by_part[q + 2 * AHEAD]]);
                if (q + AHEAD < end) {
                    const rt_rated *ahead = &s->rated[s->by_part[q + AHEAD]];
                    rt_dedup_prefetch(first, ahead->fp_lo, ahead->fp_hi);
                }
                rt_rated *r = &s->rated[s->by_part[q]];
                bool seen = false;
                /* An id the scan saw once is not repeated: it needs no place in the set. */
                if ((!p->has_cand || rt_dedup_contains(&p->cand, r->fp_lo, r->fp_hi)) &&
                    rt_dedup_insert(&p->dedup, r->fp_lo, r->fp_hi, &seen) != RT_OK) {
                    failed = 1;
                    break;
                }
                if (seen)
                    r->flags |= RT_RATED_DUPLICATE;
                else if (p->billed && !rt_billed_writer_add(p->billed, r->fp_lo, r->fp_hi)) {
                    failed = 1;
                    break;
                }
            }
        }
    }
    if (failed) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

static void count_slot(pipeline *p, const slot *s)
{
    rt_run_counts *c = &p->counts;
    c->read += s->batch.records;
    p->inputs[s->chunk.file_index].info.records += s->batch.records;
    c->rejected += s->batch.reject_count;
    for (size_t k = 0; k < s->batch.reject_count; k++) c->by_reason[s->batch.rejects[k].reason]++;
    /* Every record of the chunk is accounted for exactly once (its rated records are counted
     * by the threads that aggregate them). */
    RT_ASSERT(s->batch.records == s->batch.reject_count + s->rated_count);
}

static rt_chunk_view slot_view(const pipeline *p, const slot *s)
{
    return (rt_chunk_view){p->rctx.cat, s->reader, &s->chunk, &s->batch, s->rated, s->rated_count};
}

/* Cut the accounts into one range per thread of about equal events, as the first wave's
 * chunks [0, n), de-duplicated, sample them (even ranges of accounts when they bill none). */
static rt_status cut_ranges(pipeline *p, unsigned n, rt_error *err)
{
    size_t accounts = p->rctx.cat->account_count;
    for (unsigned t = 0; t < p->threads; t++)
        p->range_end[t] = (uint32_t)(accounts * (t + 1) / p->threads);
    if (p->threads == 1) return RT_OK;
    uint64_t *weight = calloc(accounts ? accounts : 1, sizeof *weight);
    if (!weight) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        const slot *s = &p->slots[i];
        for (size_t k = 0; k < s->rated_count; k++) {
            if (s->rated[k].flags & RT_RATED_DUPLICATE) continue;
            weight[s->rated[k].account] += s->rated[k].part_count;
            total += s->rated[k].part_count;
        }
    }
    if (total) {
        uint64_t sum = 0;
        unsigned t = 0;
        for (size_t a = 0; a < accounts && t + 1 < p->threads; a++) {
            sum += weight[a];
            /* Range t ends after the account that brings it to its share of the events. */
            while (t + 1 < p->threads && sum * p->threads >= total * (t + 1))
                p->range_end[t++] = (uint32_t)(a + 1);
        }
    }
    free(weight);
    return RT_OK;
}

/* Thread t's part of a wave's aggregation: the rated events of its accounts in chunks [0, n),
 * in chunk and input order, counted as rated, late or duplicate. */
static void aggregate_range(pipeline *p, unsigned n, unsigned t)
{
    agg_worker *w = &p->workers[t];
    rt_aggregates *agg = &p->aggs[t];
    uint32_t lo = t ? p->range_end[t - 1] : 0, hi = p->range_end[t];
    enum { AHEAD = 8 }; /* the aggregates' memory asked for ahead: see rt_agg_prefetch */
    for (unsigned i = 0; i < n && w->fail_slot == UINT_MAX; i++) {
        const slot *s = &p->slots[i];
        if (w->pick_cap < s->rated_count) {
            uint32_t *pk = realloc(w->pick, s->rated_count * sizeof *pk);
            if (!pk) {
                w->fail_slot = i;
                w->status = RT_ENOMEM;
                return;
            }
            w->pick = pk;
            w->pick_cap = s->rated_count;
        }
        size_t m = 0;
        for (size_t k = 0; k < s->rated_count; k++) {
            const rt_rated *r = &s->rated[k];
            if (r->account < lo || r->account >= hi) continue;
            if (r->flags & RT_RATED_DUPLICATE) {
                w->duplicate++;
                continue;
            }
            w->rated++;
            if (r->flags & RT_RATED_LATE) w->late++;
            w->pick[m++] = (uint32_t)k;
        }
        for (size_t q = 0; q < m; q++) {
            if (q + 2 * AHEAD < m) rt_agg_prefetch(agg, &s->rated[w->pick[q + 2 * AHEAD]], 1);
            if (q + AHEAD < m) rt_agg_prefetch(agg, &s->rated[w->pick[q + AHEAD]], 2);
            if (rt_agg_add(agg, &s->rated[w->pick[q]]) != RT_OK) {
                w->fail_slot = i;
                w->status = RT_EOVERFLOW;
                return;
            }
        }
    }
}

/* Aggregate a wave (every thread its accounts), then encode its chunks (any thread, any
 * chunk). An aggregation failure is reported at the first chunk it happened in, before that
 * chunk's encoding would be: as aggregating and encoding chunk after chunk would. */
static void output_wave(pipeline *p, unsigned n)
{
    for (unsigned t = 0; t < p->threads; t++) p->workers[t].fail_slot = UINT_MAX;
#pragma omp parallel num_threads(p->threads)
    {
        /* Every range is taken, even by a smaller team than asked for. */
        unsigned team = (unsigned)omp_get_num_threads();
        for (unsigned t = (unsigned)omp_get_thread_num(); t < p->threads; t += team) {
            uint64_t t0 = rt_clock_ns();
            aggregate_range(p, n, t);
            p->workers[t].aggregate_ns += rt_clock_ns() - t0;
        }
#pragma omp for schedule(dynamic, 1)
        for (unsigned i = 0; i < n; i++) {
            slot *s = &p->slots[i];
            if (s->foreign) continue; /* encoded by the process that rated it */
            rt_chunk_view v = slot_view(p, s);
            uint64_t t0 = rt_clock_ns();
            s->status = p->cfg->outputs->encode_chunk(p->sink, i, &v, &s->err);
            s->encode_ns = rt_clock_ns() - t0;
        }
    }
    const agg_worker *first = NULL;
    for (unsigned t = 0; t < p->threads; t++) {
        agg_worker *w = &p->workers[t];
        p->counts.rated += w->rated;
        p->counts.duplicate += w->duplicate;
        p->counts.late += w->late;
        p->times.thread_ns.aggregate += w->aggregate_ns;
        w->rated = w->duplicate = w->late = 0;
        w->aggregate_ns = 0;
        if (w->fail_slot != UINT_MAX && (!first || w->fail_slot < first->fail_slot)) first = w;
    }
    if (first) {
        slot *s = &p->slots[first->fail_slot];
        s->status = rt_error_set(&s->err, first->status, NULL, 0, 0, NULL,
                                 first->status == RT_ENOMEM
                                     ? "out of memory"
                                     : "aggregate out of range or out of memory");
    }
}

static rt_status first_failure(pipeline *p, unsigned n, rt_error *err)
{
    for (unsigned i = 0; i < n; i++) {
        if (p->slots[i].status != RT_OK) {
            if (err) *err = p->slots[i].err;
            if (!p->slots[i].err.file[0] && err)
                snprintf(err->file, sizeof err->file, "%s", p->slots[i].reader->path);
            return p->slots[i].status;
        }
    }
    return RT_OK;
}

/* Fill up to nslots chunks from the inputs, in order. Readers that reach their end are
 * closed only after the wave, since their chunks still point at them. */
static rt_status read_wave(pipeline *p, unsigned want, size_t *file, rt_usage_reader **cur,
                           rt_usage_reader **done, size_t *ndone, unsigned *n, rt_error *err)
{
    const rt_run_config *cfg = p->cfg;
    *n = 0;
    while (*n < want) {
        if (!*cur) {
            if (*file >= cfg->usage_count) break;
            rt_status st = cfg->open_usage(cfg->open_ctx, cfg->usage_paths[*file], cfg->chunk_bytes,
                                            cur, err);
            if (st != RT_OK) return st;
        }
        slot *s = &p->slots[*n];
        int eof = 0;
        rt_status st = (*cur)->ops->next_chunk(*cur, &s->chunk, &eof, err);
        if (st != RT_OK) {
            if (!err->file[0]) snprintf(err->file, sizeof err->file, "%s", (*cur)->path);
            return st;
        }
        if (eof) {
            /* A file read a second time (after the id scan) must be the one the scan read. */
            rt_input_info *in = &p->inputs[*file].info, now = *in;
            (*cur)->ops->info(*cur, &now);
            if (p->has_cand && (now.bytes != in->bytes || now.xxh64 != in->xxh64))
                return rt_error_set(err, RT_EIO, (*cur)->path, 0, 0, NULL,
                                    "the file changed while the run read it");
            *in = now;
            p->bytes_done += in->bytes;
            done[(*ndone)++] = *cur;
            *cur = NULL;
            (*file)++;
            continue;
        }
        s->chunk.file_index = (uint32_t)*file;
        s->chunk.seq = p->next_seq++;
        s->reader = *cur;
        s->status = RT_OK;
        (*n)++;
    }
    return RT_OK;
}

/* After the first wave: the records to expect, extrapolated at the density (records per
 * stored byte) of what the wave read. *in_file counts the rest of the file being read only,
 * for the dedup set (later files are not guessed at: a mix of compressed and plain files would
 * make a guess wrong by their compression ratio, and the set grows for them as it fills);
 * *in_run counts every input, for sizing the outputs' work only. */
/* `records`, read from the inputs' first p->bytes_done bytes and `at` bytes into the file
 * being read, scaled to every input's bytes (at most 2^40). */
static uint64_t extrapolate(const pipeline *p, uint64_t records, uint64_t at)
{
    const uint64_t most = UINT64_C(1) << 40;
    unsigned __int128 run = records;
    uint64_t done = p->bytes_done + at;
    if (done && p->bytes_total > done) run = run * p->bytes_total / done;
    return run > most ? most : (uint64_t)run;
}

static void estimate_records(const pipeline *p, const rt_usage_reader *cur, unsigned n,
                             uint64_t *in_file, uint64_t *in_run)
{
    uint64_t records = 0, in_cur = 0;
    for (unsigned i = 0; i < n; i++) {
        records += p->slots[i].rated_count;
        if (cur && p->slots[i].reader == cur) in_cur += p->slots[i].rated_count;
    }
    const uint64_t most = UINT64_C(1) << 40;
    uint64_t at = cur && n ? p->slots[n - 1].chunk.source_offset : 0;
    unsigned __int128 file = records;
    struct stat sb;
    if (in_cur && at && stat(cur->path, &sb) == 0 && (uint64_t)sb.st_size > at)
        file += (unsigned __int128)in_cur * ((uint64_t)sb.st_size - at) / at;
    *in_file = file > most ? most : (uint64_t)file;
    *in_run = extrapolate(p, records, at);
}

/* Room in the dedup set for about `expected` records, plus a tenth (at most 2^32). */
static rt_status reserve_dedup(pipeline *p, uint64_t expected, rt_error *err)
{
    uint64_t room = expected + expected / 10;
    if (room > (UINT64_C(1) << 32)) room = UINT64_C(1) << 32;
    if (rt_dedup_reserve(&p->dedup, (size_t)room) != RT_OK)
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

/* Give every thread's aggregates room for its share of about `expected` records (and half as
 * many again, since its range is cut from a sample), so they are not copied while growing.
 * Only an optimisation: when the room cannot be had, they grow as before. */
static void reserve_aggs(pipeline *p, uint64_t expected)
{
    uint64_t per = expected / p->threads;
    per += per / 2;
    if (per > (UINT64_C(1) << 26)) per = UINT64_C(1) << 26;
    for (unsigned t = 0; t < p->threads; t++) (void)rt_agg_reserve(&p->aggs[t], (size_t)per);
}

/* Let the output writer size its work to a run of about `expected` records, from the first
 * wave. */
static rt_status plan_outputs(pipeline *p, unsigned n, uint64_t expected, rt_error *err)
{
    const rt_output_ops *ops = p->cfg->outputs;
    if (!ops->plan || n == 0) return RT_OK;
    rt_chunk_view *views = malloc(n * sizeof *views);
    if (!views) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (unsigned i = 0; i < n; i++) views[i] = slot_view(p, &p->slots[i]);
    rt_status st = ops->plan(p->sink, views, n, expected, err);
    free(views);
    return st;
}

/* Append the encoded chunks of slots [0, n) to the output files, in order (on one thread). */
static rt_status write_pending(pipeline *p, unsigned n, rt_error *err)
{
    rt_status st = RT_OK;
    uint64_t t0 = rt_clock_ns();
    for (unsigned i = 0; i < n && st == RT_OK; i++)
        st = p->cfg->outputs->write_chunk(p->sink, i, err);
    if (n) p->times.thread_ns.write += rt_clock_ns() - t0;
    return st;
}

/* ---- distributed runs (cfg->peers) ----
 *
 * Every process runs the same waves: it cuts the same chunks, rates those whose sequence
 * number falls to it (seq mod size), and then:
 *   1. exchange_rated (every process to every process): each process's status, the number of
 *      chunks it cut, and per chunk it rated its status and partition bounds; then each
 *      chunk's fingerprints to the processes that own their dedup partitions (partition k:
 *      process k mod size), each of which marks the duplicates of its partitions over every
 *      chunk in input order, exactly as one process would, and sends those it found in other
 *      processes' chunks back to them (exchange_duplicates);
 *   2. each process aggregates and encodes its chunks;
 *   3. exchange_encoded (to rank 0): per chunk its status, counts and encoded rows, which
 *      rank 0 writes in input order; rank 0 then tells every process the wave's first
 *      failure, if any.
 * After the waves the aggregates are summed by their accounts' owners and go to rank 0
 * (exchange_aggregates), rank 0 writes the billed-events file from every process's sorted
 * partitions (write_billed), bills and commits, and finally tells the others how that went. Every call is made by every process in the
 * same order, whatever fails, so that no process waits for one that stopped. */

static bool is_root(const pipeline *p) { return !p->peers || p->peers->rank == 0; }

typedef struct x_reader {
    const char *data;
    size_t len, at;
    bool bad;
} x_reader;

static bool x_take(x_reader *r, void *dst, size_t n)
{
    if (r->bad || r->len - r->at < n) {
        r->bad = true;
        return false;
    }
    if (dst) memcpy(dst, r->data + r->at, n);
    r->at += n;
    return true;
}

static rt_status x_memory(rt_error *err)
{
    return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
}


/* Every process's status: the first failure by rank becomes every process's. */
static rt_status x_agree(pipeline *p, rt_status st, rt_error *err)
{
    if (!p->peers) return st;
    rt_error mine = rt_peers_status(st, err);
    if (p->peers->allgather(p->peers, &mine, sizeof mine, &p->xin, p->xlens) != RT_OK)
        return x_memory(err);
    for (unsigned r = 0; r < p->peers->size; r++) {
        rt_error e;
        if (p->xlens[r] != sizeof e) return rt_peers_damaged(r, err);
        memcpy(&e, p->xin.data + r * sizeof e, sizeof e);
        if (e.code != RT_OK) return rt_peers_failure(&e, r, err);
    }
    return RT_OK;
}

/* What must be the same on every process before the waves: the build (and what it sends
 * raw), the command line, the price book and the committed runs it holds, the inputs'
 * sizes (chunks are cut alike only from the same bytes). */
typedef struct x_hello {
    rt_error status;
    char version[16];
    uint64_t build;
    uint64_t args;
    uint64_t book_fingerprint, book_version, window;
    uint64_t inputs;
} x_hello;

static uint64_t build_digest(void)
{
    const uint32_t one = 1;
    uint64_t parts[5] = {ZSTD_versionNumber(), sizeof(rt_rated), sizeof(rt_agg_entry),
                         sizeof(rt_error), *(const unsigned char *)&one};
    return XXH3_64bits(parts, sizeof parts);
}

static rt_status x_check(pipeline *p, rt_status st, const rt_pricebook_info *book,
                         rt_error *err)
{
    if (!p->peers) return st;
    x_hello mine;
    memset(&mine, 0, sizeof mine);
    mine.status = rt_peers_status(st, err);
    snprintf(mine.version, sizeof mine.version, "%s", RATEL_VERSION);
    mine.build = build_digest();
    mine.args = p->cfg ? p->cfg->args_digest : 0;
    mine.book_fingerprint = book->fingerprint;
    mine.book_version = book->version;
    mine.window = p->window_digest;
    mine.inputs = p->sizes_digest;
    p->peers->allgather(p->peers, &mine, sizeof mine, &p->xin, p->xlens);
    x_hello h0, h;
    for (unsigned r = 0; r < p->peers->size; r++) {
        if (p->xlens[r] != sizeof h) return rt_peers_damaged(r, err);
        memcpy(&h, p->xin.data + r * sizeof h, sizeof h);
        if (h.status.code != RT_OK) return rt_peers_failure(&h.status, r, err);
        if (r == 0) {
            h0 = h;
            continue;
        }
        const char *what = NULL;
        if (strcmp(h.version, h0.version) != 0 || h.build != h0.build)
            what = "runs another build of ratel (or of zstd) than process 0";
        else if (h.args != h0.args)
            what = "was given other arguments than process 0";
        else if (h.book_fingerprint != h0.book_fingerprint || h.book_version != h0.book_version)
            what = "has another price book than process 0";
        else if (h.window != h0.window)
            what = "has other committed runs in its book's registry than process 0 (copy rank "
                   "0's book to it again)";
        else if (h.inputs != h0.inputs)
            what = "reads usage files of other sizes than process 0";
        if (what)
            return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                                "process %u %s: a distributed run needs the same build, "
                                "arguments, book and inputs on every process",
                                r, what);
    }
    return RT_OK;
}

/* After the waves: `st` agreed on, and every input read as rank 0 read it (its size and
 * XXH64, taken at its end by every process). */
static rt_status x_agree_inputs(pipeline *p, rt_status st, rt_error *err)
{
    uint64_t digest = 0;
    size_t inputs = p->cfg && p->inputs ? p->cfg->usage_count : 0; /* (none: prepare failed) */
    for (size_t i = 0; i < inputs; i++) {
        uint64_t two[3] = {digest, p->inputs[i].info.bytes, p->inputs[i].info.xxh64};
        digest = XXH3_64bits(two, sizeof two);
    }
    rt_error e = rt_peers_status(st, err);
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    rt_buf_append(b, &e, sizeof e);
    rt_buf_append(b, &digest, sizeof digest);
    if (b->failed) return x_memory(err); /* (a few dozen bytes into a buffer that held more) */
    p->peers->allgather(p->peers, b->data, b->len, &p->xin, p->xlens);
    const size_t one = sizeof e + sizeof digest;
    uint64_t d0 = 0;
    for (unsigned r = 0; r < p->peers->size; r++) {
        if (p->xlens[r] != one) return rt_peers_damaged(r, err);
        uint64_t d;
        memcpy(&e, p->xin.data + r * one, sizeof e);
        memcpy(&d, p->xin.data + r * one + sizeof e, sizeof d);
        if (e.code != RT_OK) return rt_peers_failure(&e, r, err);
        if (r == 0) d0 = d;
        if (d != d0)
            return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                                "process %u read usage files with other contents than process "
                                "0: a distributed run needs the same inputs on every process",
                                r);
    }
    return RT_OK;
}

/* A foreign chunk before rating: nothing of its own to rate, count or encode. */
static void x_foreign(slot *s)
{
    rt_event_batch_clear(&s->batch);
    s->batch.decompress_ns = 0;
    s->rated_count = 0;
    s->parse_ns = s->rate_ns = s->encode_ns = 0;
    s->status = RT_OK;
    s->foreign = true;
}

/* A foreign chunk's room for the fingerprints of its m records (xfp, xdup). rated_count
 * says m until the duplicates are marked (the run's estimates count it). */
static bool shadow_room(slot *s, uint32_t m)
{
    if (s->x_cap < m) {
        rt_fp128 *f = realloc(s->xfp, m * sizeof *f);
        if (f) s->xfp = f;
        uint8_t *d = f ? realloc(s->xdup, m) : NULL;
        if (d) s->xdup = d;
        if (!f || !d) return false;
        s->x_cap = m;
    }
    s->rated_count = m;
    return true;
}

/* Step 1: statuses and partition bounds to every process, then every chunk's fingerprints to
 * the processes that own their dedup partitions (partition k: process k mod size). `own` is
 * this process's status apart from its chunks (reading the wave, writing the last one); n
 * the chunks it cut. On return the foreign chunks hold their status and, in the partitions
 * this process owns, their fingerprints. A failure to send the fingerprints is left in
 * p->x_later, for the next step to share. */
static rt_status exchange_rated(pipeline *p, rt_status own, const rt_error *own_err,
                                unsigned n, rt_error *err)
{
    unsigned size = p->peers->size, me = p->peers->rank;
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    rt_error e = rt_peers_status(own, own_err);
    uint32_t cut = n;
    rt_buf_append(b, &e, sizeof e);
    rt_buf_append(b, &cut, sizeof cut);
    for (unsigned i = 0; i < n && own == RT_OK; i++) {
        const slot *s = &p->slots[i];
        if (s->foreign) continue;
        rt_error se = rt_peers_status(s->status, &s->err);
        rt_buf_append(b, &i, sizeof i);
        rt_buf_append(b, &se, sizeof se);
        if (s->status == RT_OK) rt_buf_append(b, s->part_start, sizeof s->part_start);
    }
    if (b->failed) { /* only the status, then: every process stops */
        rt_buf_reset(b);
        e = rt_peers_status(RT_ENOMEM, NULL);
        snprintf(e.message, sizeof e.message, "out of memory");
        rt_buf_append(b, &e, sizeof e);
        rt_buf_append(b, &cut, sizeof cut);
    }
    if (p->peers->allgather(p->peers, b->data, b->len, &p->xin, p->xlens) != RT_OK)
        return x_memory(err);
    /* Each process's status and count of chunks (by rank), then the chunks. */
    size_t at = 0;
    for (unsigned r = 0; r < size; r++) {
        x_reader rd = {p->xin.data + at, p->xlens[r], 0, false};
        rt_error pe;
        uint32_t pn;
        if (!x_take(&rd, &pe, sizeof pe) || !x_take(&rd, &pn, sizeof pn))
            return rt_peers_damaged(r, err);
        if (pe.code != RT_OK) return rt_peers_failure(&pe, r, err);
        if (pn != n)
            return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                                "process %u cut %u chunks of the usage where process %u cut %u: "
                                "the inputs differ between the processes", r, pn, me, n);
        at += p->xlens[r];
    }
    at = 0;
    bool room = true;
    for (unsigned r = 0; r < size; r++) {
        x_reader rd = {p->xin.data + at, p->xlens[r], 0, false};
        at += p->xlens[r];
        x_take(&rd, NULL, sizeof(rt_error) + sizeof(uint32_t));
        if (r == me) continue;
        while (rd.at < rd.len) {
            uint32_t i;
            rt_error se;
            if (!x_take(&rd, &i, sizeof i) || !x_take(&rd, &se, sizeof se) || i >= n ||
                !p->slots[i].foreign || p->slots[i].chunk.seq % size != r)
                return rt_peers_damaged(r, err);
            slot *s = &p->slots[i];
            s->status = se.code;
            s->err = se;
            if (se.code != RT_OK) continue;
            if (!x_take(&rd, s->part_start, sizeof s->part_start)) return rt_peers_damaged(r, err);
            for (unsigned k = 0; k < RT_DEDUP_PARTS; k++)
                if (s->part_start[k + 1] < s->part_start[k]) return rt_peers_damaged(r, err);
            if (room && !shadow_room(s, s->part_start[RT_DEDUP_PARTS])) room = false;
        }
    }
    for (unsigned i = 0; i < n; i++)
        if (p->slots[i].status != RT_OK) return RT_OK; /* the caller stops at the first one */

    /* The fingerprints, by the owner of their partition: per destination, every chunk of
     * this process in order, its partitions of that destination in order. */
    uint64_t *lens_out = p->peers->lens_out;
    rt_buf_reset(b);
    for (unsigned d = 0; d < size; d++) {
        size_t before = b->len;
        for (unsigned i = 0; i < n; i++) {
            const slot *s = &p->slots[i];
            if (s->foreign) continue;
            for (unsigned k = d; k < RT_DEDUP_PARTS; k += size) {
                for (uint32_t q = s->part_start[k]; q < s->part_start[k + 1]; q++) {
                    const rt_rated *r = &s->rated[s->by_part[q]];
                    rt_fp128 f = {r->fp_lo, r->fp_hi};
                    rt_buf_append(b, &f, sizeof f);
                }
            }
        }
        lens_out[d] = b->len - before;
    }
    if (b->failed) { /* nothing is sent; every process learns why at the next step */
        memset(lens_out, 0, size * sizeof *lens_out);
        rt_error_set(&p->x_later, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    p->peers->alltoall(p->peers, b->data, lens_out, &p->xin, p->xlens);
    if (!room) {
        rt_error_set(&p->x_later, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        return RT_OK;
    }
    /* Into the foreign chunks' partitions of this process (its own chunks have theirs). A
     * block that is not what the bounds say (a sender that could not send, or damage) is a
     * failure for the next step to share: no foreign chunk is marked from a partial block. */
    at = 0;
    for (unsigned r = 0; r < size; r++) {
        x_reader rd = {p->xin.data + at, p->xlens[r], 0, false};
        at += p->xlens[r];
        if (r == me) continue;
        uint64_t expect = 0;
        for (unsigned i = 0; i < n; i++) {
            const slot *s = &p->slots[i];
            if (s->chunk.seq % size != r) continue;
            for (unsigned k = me; k < RT_DEDUP_PARTS; k += size)
                expect += (uint64_t)(s->part_start[k + 1] - s->part_start[k]) * sizeof(rt_fp128);
        }
        if (rd.len != expect) {
            if (p->x_later.code == RT_OK)
                rt_error_set(&p->x_later, RT_ECORRUPT, NULL, 0, 0, NULL,
                             "process %u sent %" PRIu64 " bytes of fingerprints where %" PRIu64
                             " were due",
                             r, (uint64_t)rd.len, expect);
            continue;
        }
        for (unsigned i = 0; i < n; i++) {
            slot *s = &p->slots[i];
            if (s->chunk.seq % size != r) continue;
            for (unsigned k = me; k < RT_DEDUP_PARTS; k += size) {
                uint32_t lo = s->part_start[k], cnt = s->part_start[k + 1] - lo;
                if (!cnt) continue;
                x_take(&rd, s->xfp + lo, cnt * sizeof(rt_fp128));
                memset(s->xdup + lo, 0, cnt);
            }
        }
    }
    return RT_OK;
}

/* Step 1b, after each process marked duplicates in its partitions: those it found in
 * foreign chunks go to the chunks' processes, with every process's status (`st`, or a
 * failure step 1 left in p->x_later), so that every process stops at the same place. */
static rt_status exchange_duplicates(pipeline *p, unsigned n, rt_status st, rt_error *err)
{
    unsigned size = p->peers->size, me = p->peers->rank;
    rt_error e = rt_peers_status(st, err);
    if (st == RT_OK && p->x_later.code != RT_OK) e = p->x_later;
    rt_error_clear(&p->x_later);
    uint64_t *lens_out = p->peers->lens_out;
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    for (unsigned d = 0; d < size; d++) {
        size_t before = b->len;
        rt_buf_append(b, &e, sizeof e);
        for (unsigned i = 0; i < n && e.code == RT_OK; i++) {
            const slot *s = &p->slots[i];
            if (!s->foreign || s->chunk.seq % size != d) continue;
            for (unsigned k = me; k < RT_DEDUP_PARTS; k += size)
                for (uint32_t q = s->part_start[k]; q < s->part_start[k + 1]; q++)
                    if (s->xdup[q]) {
                        uint32_t at[2] = {i, q};
                        rt_buf_append(b, at, sizeof at);
                    }
        }
        lens_out[d] = b->len - before;
    }
    if (b->failed) { /* a status alone to every process */
        rt_buf_reset(b);
        rt_error_set(&e, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        for (unsigned d = 0; d < size; d++) {
            rt_buf_append(b, &e, sizeof e);
            lens_out[d] = sizeof e;
        }
    }
    p->peers->alltoall(p->peers, b->data, lens_out, &p->xin, p->xlens);
    size_t at = 0;
    for (unsigned r = 0; r < size; r++) {
        rt_error pe;
        if (p->xlens[r] < sizeof pe) return rt_peers_damaged(r, err);
        memcpy(&pe, p->xin.data + at, sizeof pe);
        if (pe.code != RT_OK) return rt_peers_failure(&pe, r, err);
        at += p->xlens[r];
    }
    at = 0;
    for (unsigned r = 0; r < size; r++) {
        x_reader rd = {p->xin.data + at, p->xlens[r], 0, false};
        at += p->xlens[r];
        x_take(&rd, NULL, sizeof(rt_error));
        while (rd.at < rd.len) {
            uint32_t pos[2];
            if (!x_take(&rd, pos, sizeof pos) || pos[0] >= n || p->slots[pos[0]].foreign ||
                pos[1] >= p->slots[pos[0]].part_start[RT_DEDUP_PARTS])
                return rt_peers_damaged(r, err);
            slot *s = &p->slots[pos[0]];
            s->rated[s->by_part[pos[1]]].flags |= RT_RATED_DUPLICATE;
        }
    }
    return RT_OK;
}

/* After the duplicates are marked: the foreign chunks' fingerprints are done with. */
static void x_forget_foreign(pipeline *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p->slots[i].foreign) p->slots[i].rated_count = 0;
}

/* After the first wave's duplicates are marked (`st`: how that went here): rank 0 plans the
 * outputs from its chunks and its estimate of the run, and every other process takes its
 * plan, so that the chunks they encode are written alike; or every process stops. */
static rt_status share_plan(pipeline *p, unsigned n, uint64_t expected, rt_status st,
                            rt_error *err)
{
    const rt_output_ops *ops = p->cfg->outputs;
    if (st == RT_OK && is_root(p)) st = plan_outputs(p, n, expected, err);
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    rt_error e = rt_peers_status(st, err);
    rt_buf_append(b, &e, sizeof e);
    if (st == RT_OK && is_root(p) && ops->pack_plan(p->sink, p->rctx.cat, b) != RT_OK) {
        rt_buf_reset(b);
        e = rt_peers_status(x_memory(err), err);
        rt_buf_append(b, &e, sizeof e);
    }
    if (b->failed) { /* the status alone */
        rt_buf_reset(b);
        e = rt_peers_status(x_memory(err), err);
        rt_buf_append(b, &e, sizeof e);
    }
    p->peers->allgather(p->peers, b->data, b->len, &p->xin, p->xlens);
    size_t at = 0;
    for (unsigned r = 0; r < p->peers->size; r++) {
        if (p->xlens[r] < sizeof e) return rt_peers_damaged(r, err);
        memcpy(&e, p->xin.data + at, sizeof e);
        if (e.code != RT_OK) return rt_peers_failure(&e, r, err);
        at += p->xlens[r];
    }
    if (!is_root(p))
        st = ops->unpack_plan(p->sink, p->rctx.cat, p->xin.data + sizeof e,
                              p->xlens[0] - sizeof e, err);
    return x_agree(p, st, err); /* every process, rank 0 too */
}

/* What a process sends rank 0 per chunk it rated (after the counts of the wave). */
typedef struct x_chunk_head {
    uint32_t slot;
    rt_error status;
    uint64_t records, rejected;
    uint64_t by_reason[RT_REJ_REASON_COUNT_];
    uint64_t packed; /* bytes of encoded rows that follow */
} x_chunk_head;

/* Step 3: chunks to rank 0, written there in input order; then the wave's first failure to
 * every process. `before` are this process's counts before the wave's aggregation; `own`
 * (with *err) its status apart from its chunks (marking duplicates, planning). */
static rt_status exchange_encoded(pipeline *p, unsigned n, const rt_run_counts *before,
                                  rt_status own, rt_error *err)
{
    const rt_output_ops *ops = p->cfg->outputs;
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    rt_error own_err = rt_peers_status(own, err);
    if (!is_root(p)) {
        rt_buf_append(b, &own_err, sizeof own_err);
    }
    if (!is_root(p) && own == RT_OK) {
        uint64_t wave[3] = {p->counts.rated - before->rated,
                            p->counts.duplicate - before->duplicate,
                            p->counts.late - before->late};
        rt_buf_append(b, wave, sizeof wave);
        for (unsigned i = 0; i < n; i++) {
            const slot *s = &p->slots[i];
            if (s->foreign) continue;
            x_chunk_head h;
            memset(&h, 0, sizeof h);
            h.slot = i;
            h.status = rt_peers_status(s->status, &s->err);
            h.records = s->batch.records;
            h.rejected = s->batch.reject_count;
            for (size_t k = 0; k < s->batch.reject_count; k++)
                h.by_reason[s->batch.rejects[k].reason]++;
            size_t head_at = b->len;
            rt_buf_append(b, &h, sizeof h);
            if (s->status != RT_OK) continue;
            size_t start = b->len;
            if (ops->pack_chunk(p->sink, i, b) != RT_OK) break;
            h.packed = b->len - start;
            if (!b->failed) memcpy(b->data + head_at, &h, sizeof h);
        }
    }
    rt_status st = b->failed ? RT_ENOMEM : RT_OK;
    if (p->peers->gather(p->peers, b->data, b->failed ? 0 : b->len, &p->xin, p->xlens) != RT_OK)
        st = RT_ENOMEM;
    rt_error verdict;
    rt_error_clear(&verdict);
    if (is_root(p) && own != RT_OK) {
        verdict = own_err;
        st = own;
    }
    for (unsigned i = 0; i < n; i++) p->slots[i].came = false; /* each foreign chunk comes once */
    if (is_root(p)) {
        size_t at = p->xlens[0];
        for (unsigned r = 1; r < p->peers->size && st == RT_OK; r++) {
            x_reader rd = {p->xin.data + at, p->xlens[r], 0, false};
            at += p->xlens[r];
            uint64_t wave[3];
            rt_error pe;
            if (rd.len == 0) { /* it had no memory for what it was to send */
                st = rt_error_set(&verdict, RT_ENOMEM, NULL, 0, 0, NULL,
                                  "process %u: out of memory", r);
                break;
            }
            if (x_take(&rd, &pe, sizeof pe) && pe.code != RT_OK) {
                st = rt_peers_failure(&pe, r, &verdict);
                break;
            }
            if (!x_take(&rd, wave, sizeof wave)) {
                st = rt_peers_damaged(r, &verdict);
                break;
            }
            p->counts.rated += wave[0];
            p->counts.duplicate += wave[1];
            p->counts.late += wave[2];
            while (rd.at < rd.len && st == RT_OK) {
                x_chunk_head h;
                if (!x_take(&rd, &h, sizeof h) || h.slot >= n || !p->slots[h.slot].foreign ||
                    rd.len - rd.at < h.packed) {
                    st = rt_peers_damaged(r, &verdict);
                    break;
                }
                slot *s = &p->slots[h.slot];
                if (s->chunk.seq % p->peers->size != r || s->came) {
                    st = rt_peers_damaged(r, &verdict);
                    break;
                }
                s->came = true;
                s->status = h.status.code;
                s->err = h.status;
                if (s->status == RT_OK)
                    s->status = ops->unpack_chunk(p->sink, h.slot, rd.data + rd.at,
                                                  (size_t)h.packed, &s->err);
                rd.at += (size_t)h.packed;
                rt_run_counts *c = &p->counts;
                c->read += h.records;
                p->inputs[s->chunk.file_index].info.records += h.records;
                c->rejected += h.rejected;
                for (unsigned k = 0; k < RT_REJ_REASON_COUNT_; k++)
                    c->by_reason[k] += h.by_reason[k];
            }
        }
        for (unsigned i = 0; i < n && st == RT_OK; i++)
            if (p->slots[i].foreign && !p->slots[i].came)
                st = rt_peers_damaged(p->slots[i].chunk.seq % p->peers->size, &verdict);
        if (st == RT_OK) {
            rt_error fe;
            rt_error_clear(&fe);
            st = first_failure(p, n, &fe);
            verdict = rt_peers_status(st, &fe);
        } else if (verdict.code == RT_OK) { /* the gather found no memory */
            rt_error_set(&verdict, st, NULL, 0, 0, NULL, "out of memory");
        }
    }
    /* Rank 0's verdict to every process (a process that could not send is told so too). */
    if (!rt_peers_bcast_record(p->peers, &verdict, sizeof verdict, b)) return x_memory(err);
    if (verdict.code != RT_OK) return rt_peers_failure(&verdict, 0, err);
    return st == RT_OK ? RT_OK : x_memory(err);
}

/* The process that sums an account's aggregates: by a hash of its row, so that each takes
 * about as many accounts of every part of the book. */
static unsigned account_owner(uint32_t account, unsigned size)
{
    return (unsigned)(((uint64_t)account * UINT64_C(0x9E3779B97F4A7C15)) >> 33) % size;
}

/* Received entries as parts to merge: one per block of lens[0..n) bytes in `in`, starting at
 * parts[0]. A block must hold whole entries (else the process that sent it is named). */
static rt_status parts_of_blocks(const rt_buf *in, const uint64_t *lens, unsigned n,
                                 rt_aggregates *parts, rt_error *err)
{
    size_t at = 0;
    for (unsigned r = 0; r < n; r++) {
        if (lens[r] % sizeof(rt_agg_entry)) return rt_peers_damaged(r, err);
        if (rt_agg_from_entries(&parts[r], in->data + at,
                                (size_t)(lens[r] / sizeof(rt_agg_entry))) != RT_OK)
            return x_memory(err);
        at += lens[r];
    }
    return RT_OK;
}

static void free_parts(rt_aggregates *parts, unsigned n)
{
    for (unsigned k = 0; k < n; k++) rt_agg_free(&parts[k]);
    free(parts);
}

/* After the waves, the aggregates partitioned by account hash: every process sends each of
 * its entries to the account's owner (alltoall), each owner sums what it was sent for its
 * accounts, and the sums go to every process, which keeps them as parts to bill (*parts,
 * *nparts: one per process, no two sharing an account). So every process takes every
 * account's sum once, however many processes saw its events. Failures are agreed on before
 * the sums are sent; a process that cannot send its sums fails every process alike. */
static rt_status exchange_aggregates(pipeline *p, rt_aggregates **parts, unsigned *nparts,
                                     rt_error *err)
{
    unsigned size = p->peers->size;
    *parts = NULL;
    *nparts = 0;
    rt_status st = RT_OK;
    /* 1. Entries by owner, in one buffer of `size` blocks. */
    uint64_t *lens_out = p->peers->lens_out;
    memset(lens_out, 0, size * sizeof *lens_out);
    uint64_t *start = calloc(size, sizeof *start);
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    if (!start) st = x_memory(err);
    for (unsigned t = 0; t < p->threads && st == RT_OK; t++)
        for (size_t i = 0; i < p->aggs[t].count; i++)
            lens_out[account_owner(p->aggs[t].entries[i].account, size)] += sizeof(rt_agg_entry);
    uint64_t bytes = 0;
    for (unsigned d = 0; d < size && st == RT_OK; d++) {
        start[d] = bytes;
        bytes += lens_out[d];
    }
    if (st == RT_OK && !rt_buf_reserve(b, bytes)) st = x_memory(err);
    if (st == RT_OK) {
        for (unsigned t = 0; t < p->threads; t++) {
            for (size_t i = 0; i < p->aggs[t].count; i++) {
                const rt_agg_entry *e = &p->aggs[t].entries[i];
                unsigned d = account_owner(e->account, size);
                memcpy(b->data + start[d], e, sizeof *e);
                start[d] += sizeof *e;
            }
            rt_agg_free(&p->aggs[t]);
        }
        b->len = bytes;
    }
    free(start);
    st = x_agree(p, st, err);
    /* 2. Each owner's share, summed. */
    if (st == RT_OK) p->peers->alltoall(p->peers, b->data, lens_out, &p->xin, p->xlens);
    rt_buf_free(b);
    rt_aggregates *got = st == RT_OK ? calloc(size, sizeof *got) : NULL;
    if (st == RT_OK && !got) st = x_memory(err);
    if (st == RT_OK) st = parts_of_blocks(&p->xin, p->xlens, size, got, err);
    rt_buf_free(&p->xin);
    rt_agg_chunks mine;
    memset(&mine, 0, sizeof mine);
    rt_status ms;
    if (st == RT_OK &&
        (ms = rt_agg_merge_sorted(got, size, p->threads, (12 << 20) / sizeof(rt_agg_entry),
                                  &mine)) != RT_OK)
        st = rt_error_set(err, ms, NULL, 0, 0, NULL, "cannot merge aggregates: %s",
                          rt_status_str(ms));
    if (got) free_parts(got, size);
    /* 3. The sums to every process (each bills every account: the tables and documents are
     * then shared out, engine/spread): the others' in one block each, a process's own chunks
     * kept. */
    st = x_agree(p, st, err);
    rt_status agreed = st;
    /* The count first, in 16 bytes (so that the entries after it keep their alignment), then
     * the entries. A process without the memory to send them sends the count UINT64_MAX (in
     * the room a failed buffer is left), which every process takes as its failure. */
    uint64_t count[2] = {0, 0};
    for (size_t c = 0; c < mine.count; c++) count[0] += mine.items[c].count;
    rt_buf_reset(b);
    if (agreed == RT_OK && rt_buf_reserve(b, sizeof count + count[0] * sizeof(rt_agg_entry))) {
        rt_buf_append(b, count, sizeof count);
        for (size_t c = 0; c < mine.count; c++)
            rt_buf_append(b, mine.items[c].entries, mine.items[c].count * sizeof(rt_agg_entry));
    } else if (agreed == RT_OK) {
        st = x_memory(err);
    }
    uint64_t failed[2] = {UINT64_MAX, 0};
    if (agreed == RT_OK) {
        if (p->peers->allgather(p->peers, b->failed ? (const void *)failed : b->data,
                                b->failed ? sizeof failed : b->len, &p->xin, p->xlens) != RT_OK)
            st = x_memory(err);
    } else {
        st = agreed;
    }
    rt_buf_free(b);
    unsigned total = (unsigned)mine.count + size - 1, rank = p->peers->rank;
    rt_aggregates *all = st == RT_OK ? calloc(total ? total : 1, sizeof *all) : NULL;
    if (st == RT_OK && !all) st = x_memory(err);
    if (st == RT_OK) {
        if (mine.count) memcpy(all, mine.items, mine.count * sizeof *all);
        free(mine.items);
        memset(&mine, 0, sizeof mine);
        size_t at = 0, k = total - (size - 1);
        for (unsigned r = 0; r < size && st == RT_OK; r++) {
            uint64_t hdr[2] = {UINT64_MAX, 0}, len = p->xlens[r];
            if (len >= sizeof hdr) memcpy(hdr, p->xin.data + at, sizeof hdr);
            if (hdr[0] == UINT64_MAX)
                st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "process %u: out of memory",
                                  r);
            else if (len - sizeof hdr != hdr[0] * sizeof(rt_agg_entry))
                st = rt_peers_damaged(r, err);
            else if (r != rank && rt_agg_from_entries(&all[k++], p->xin.data + at + sizeof hdr,
                                                      (size_t)hdr[0]) != RT_OK)
                st = x_memory(err);
            at += len;
        }
    }
    rt_agg_chunks_free(&mine);
    rt_buf_free(&p->xin);
    if (st != RT_OK) {
        if (all) free_parts(all, total);
        return st;
    }
    *parts = all;
    *nparts = total;
    return RT_OK;
}

/* After the waves (not for an accrual, which keeps nothing): the billed-events file, written
 * by rank 0 at `path` from every process's dedup partitions. Each process sorts its
 * partitions (on its threads) and frees its set; then, partition after partition in order,
 * the owner sends its sorted fingerprints to rank 0, which appends them. Rank 0's *count and
 * *xxh64 are for the registry, and *written says the file exists (to be removed if the run
 * fails after all). Every process returns the same status. */
static rt_status write_billed(pipeline *p, const char *path, uint64_t *count, uint64_t *xxh64,
                              bool *written, rt_error *err)
{
    unsigned size = p->peers->size;
    size_t start[RT_DEDUP_PARTS + 1];
    start[0] = 0;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++)
        start[k + 1] = start[k] + (owns_part(p, k) ? p->dedup.parts[k].count : 0);
    rt_fp128 *sorted = malloc((start[RT_DEDUP_PARTS] ? start[RT_DEDUP_PARTS] : 1) * sizeof *sorted);
    rt_status st = sorted ? RT_OK : x_memory(err);
    int failed = 0;
    if (st == RT_OK) {
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 4) reduction(| : failed)
        for (unsigned k = 0; k < RT_DEDUP_PARTS; k++)
            if (owns_part(p, k) && rt_billed_sort_part(&p->dedup, k, sorted + start[k]) != RT_OK)
                failed = 1;
        if (failed) st = x_memory(err);
    }
    rt_dedup_free(&p->dedup);
    /* The total, for the header; and every status, so that all go on or none. */
    rt_error e = rt_peers_status(st, err);
    rt_buf *b = &p->xout;
    rt_buf_reset(b);
    uint64_t mine = start[RT_DEDUP_PARTS];
    rt_buf_append(b, &e, sizeof e);
    rt_buf_append(b, &mine, sizeof mine);
    if (p->peers->allgather(p->peers, b->data, b->len, &p->xin, p->xlens) != RT_OK) {
        free(sorted);
        return x_memory(err);
    }
    uint64_t total = 0;
    for (unsigned r = 0; r < size; r++) {
        if (p->xlens[r] != sizeof e + sizeof mine) {
            free(sorted);
            return rt_peers_damaged(r, err);
        }
        memcpy(&e, p->xin.data + r * p->xlens[r], sizeof e);
        memcpy(&mine, p->xin.data + r * p->xlens[r] + sizeof e, sizeof mine);
        if (e.code != RT_OK) {
            free(sorted);
            return rt_peers_failure(&e, r, err);
        }
        total += mine;
    }
    rt_billed_file *f = NULL;
    if (is_root(p)) st = rt_billed_file_open(path, total, &f, err);
    /* Every round is made whatever rank 0 met, so that the processes stay in step. */
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) {
        bool mine_k = owns_part(p, k);
        const rt_fp128 *part = sorted + start[k];
        size_t n = start[k + 1] - start[k];
        if (p->peers->gather(p->peers, mine_k && !is_root(p) ? (const void *)part : NULL,
                             mine_k && !is_root(p) ? n * sizeof *part : 0, &p->xin,
                             p->xlens) != RT_OK &&
            st == RT_OK)
            st = x_memory(err);
        if (!is_root(p) || st != RT_OK) continue;
        if (mine_k) {
            st = rt_billed_file_append(f, part, n, err);
        } else {
            unsigned from = k % size;
            size_t at = 0;
            for (unsigned r = 0; r < from; r++) at += p->xlens[r];
            if (p->xlens[from] % sizeof(rt_fp128)) {
                st = rt_peers_damaged(from, err);
                continue;
            }
            /* (Only the owner sends: its block is at offset 0 of the gathered bytes, aligned.) */
            st = rt_billed_file_append(f, (const rt_fp128 *)(const void *)(p->xin.data + at),
                                       p->xlens[from] / sizeof(rt_fp128), err);
        }
    }
    free(sorted);
    rt_buf_free(&p->xin);
    if (is_root(p)) {
        if (st == RT_OK) {
            st = rt_billed_file_close(f, xxh64, err);
            *count = total;
            *written = st == RT_OK;
        } else {
            rt_billed_file_abort(f);
        }
    }
    return x_agree(p, st, err);
}

/* ---- the ids read ahead of rating ---- */

/* What the scan keeps: a filter of the ids seen, and per dedup partition the fingerprints the
 * filter had seen before (in input order). */
typedef struct id_scan {
    rt_bloom seen;
    rt_fp_list cand[RT_DEDUP_PARTS];
} id_scan;

/* Parse a chunk and take its events' fingerprints (as rating takes them) into s->ids, indexed
 * by partition. Runs on any thread. */
static void scan_slot(slot *s)
{
    if (!parse_slot(s)) return;
    size_t n = s->batch.count;
    if (s->ids_cap < n) {
        rt_fp128 *f = realloc(s->ids, n * sizeof *f);
        if (!f) {
            s->status = rt_error_set(&s->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
            return;
        }
        s->ids = f;
        s->ids_cap = n;
    }
    for (size_t k = 0; k < n; k++) s->ids[k] = rt_rate_event_fingerprint(&s->batch.events[k]);
    if (!index_by_part(s, n, id_part))
        s->status = rt_error_set(&s->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* Pass the chunks' fingerprints [0, n) through the filter, each partition on one thread in
 * input order (a partition owns whole blocks of the filter): those it had seen are candidates. */
static rt_status scan_filter(pipeline *p, id_scan *sc, unsigned n, rt_error *err)
{
    int failed = 0;
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 8) reduction(| : failed)
    for (unsigned part = 0; part < RT_DEDUP_PARTS; part++) {
        for (unsigned i = 0; i < n && !failed; i++) {
            const slot *s = &p->slots[i];
            enum { AHEAD = 8 };
            uint32_t end = s->part_start[part + 1];
            for (uint32_t q = s->part_start[part]; q < end; q++) {
                if (q + AHEAD < end) rt_bloom_prefetch(&sc->seen, s->ids[s->by_part[q + AHEAD]].hi);
                rt_fp128 f = s->ids[s->by_part[q]];
                if (rt_bloom_test_add(&sc->seen, f.lo, f.hi) &&
                    !rt_fp_list_push(&sc->cand[part], f)) {
                    failed = 1;
                    break;
                }
            }
        }
    }
    if (failed) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

/* A limit file's number: a decimal count of bytes ("max", or anything else, is no limit). */
static uint64_t limit_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return UINT64_MAX;
    char text[32] = "";
    bool got = fgets(text, sizeof text, f) != NULL;
    fclose(f);
    uint64_t v = 0;
    size_t i = 0;
    for (; got && text[i] >= '0' && text[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10) return UINT64_MAX;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    return got && i > 0 && (text[i] == '\n' || text[i] == '\0') ? v : UINT64_MAX;
}

uint64_t rt_run_memory_limit(const char *proc_cgroup, const char *cgroup_fs, uint64_t physical)
{
    uint64_t limit = physical;
    FILE *f = fopen(proc_cgroup, "r");
    if (!f) return limit;
    char line[PATH_MAX + 64];
    while (fgets(line, sizeof line, f)) {
        /* "0::PATH" (v2, unified) or "N:memory:PATH" (v1, the memory controller). */
        char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (!b) continue;
        bool v2 = b == a + 1 && strncmp(line, "0:", 2) == 0;
        bool v1 = (size_t)(b - a - 1) == strlen("memory") && strncmp(a + 1, "memory", 6) == 0;
        if (!v1 && !v2) continue;
        char *path = b + 1;
        path[strcspn(path, "\n")] = '\0';
        /* The group and every ancestor up to the root: the lowest limit holds. */
        for (;;) {
            char file[PATH_MAX * 2];
            snprintf(file, sizeof file, "%s%s%s/%s", cgroup_fs, v1 ? "/memory" : "",
                     strcmp(path, "/") == 0 ? "" : path,
                     v1 ? "memory.limit_in_bytes" : "memory.max");
            uint64_t v = limit_file(file);
            if (v < limit) limit = v;
            char *slash = strrchr(path, '/');
            if (!slash || slash == path) {
                if (strcmp(path, "/") == 0 || !slash) break;
                path[1] = '\0'; /* the root */
                continue;
            }
            *slash = '\0';
        }
    }
    fclose(f);
    return limit;
}

/* RT_ID_SCAN_AUTO scans when the run expects more events than this: where the set of every
 * fingerprint (about 25 bytes an event at its load) would pass a quarter of the memory the
 * run may count on (6 GiB, some 250 million events, with 24 GiB; a container's cgroup limit
 * when lower). Below that the scan's second parse costs more than the set: at 100M events it
 * took the run from 251 to 300 s for a peak 6% lower, billing's structures (which grow with
 * accounts and charges) setting it then. */
static uint64_t scan_threshold(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t mem = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : (uint64_t)1 << 34;
    mem = rt_run_memory_limit("/proc/self/cgroup", "/sys/fs/cgroup", mem);
    return mem / 4 / 25;
}

/* Read every usage file once for its event ids alone, before rating, so that the in-run
 * de-duplication holds only the ids that occur more than once (and the filter's false hits)
 * instead of every event: what it holds then grows with the duplicates, not with the records.
 * Records a parser rejects have no id to scan, and ids of records rating rejects are scanned
 * all the same: the candidates are a superset of the ids rating will see twice, which is all
 * the check needs. Inputs that cannot be read twice (not regular files) skip the scan. */
static rt_status scan_ids(pipeline *p, const char *billed_path, rt_error *err)
{
    const rt_run_config *cfg = p->cfg;
    if (cfg->id_scan == RT_ID_SCAN_OFF) return RT_OK;
    if (!p->inputs_regular) return RT_OK;
    id_scan *sc = calloc(1, sizeof *sc);
    rt_usage_reader **done = calloc(cfg->usage_count + 1, sizeof *done);
    if (!sc || !done) {
        free(sc);
        free(done);
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    rt_status st = RT_OK;
    bool skip = false;
    size_t file = 0, ndone = 0;
    rt_usage_reader *cur = NULL;
    for (;;) {
        /* Waves cut as the rating's are (with auto, one chunk first, to decide); each input's
         * size and checksum are recorded for the rating's read to check. */
        unsigned n, want = sc->seen.blocks || cfg->id_scan != RT_ID_SCAN_AUTO ? p->nslots : 1;
        if ((st = read_wave(p, want, &file, &cur, done, &ndone, &n, err)) != RT_OK) break;
        if (n == 0) break;
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 1)
        for (unsigned i = 0; i < n; i++) scan_slot(&p->slots[i]);
        if ((st = first_failure(p, n, err)) != RT_OK) break;
        if (!sc->seen.blocks) {
            /* Sized from the first chunks' density over every input's bytes, with a quarter
             * to spare: a wrong guess costs more false hits (more candidates), never a
             * missed duplicate. */
            uint64_t events = 0;
            for (unsigned i = 0; i < n; i++) events += p->slots[i].batch.count;
            uint64_t expected =
                extrapolate(p, events, cur ? p->slots[n - 1].chunk.source_offset : 0);
            if (cfg->id_scan == RT_ID_SCAN_AUTO && expected < scan_threshold()) {
                skip = true; /* the set of every fingerprint is cheaper than a second read */
                break;
            }
            expected += expected / 4 + 4096;
            if (rt_bloom_init(&sc->seen, expected, RT_DEDUP_PART_BITS) != RT_OK) {
                st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
                break;
            }
        }
        if ((st = scan_filter(p, sc, n, err)) != RT_OK) break;
        for (size_t k = 0; k < ndone; k++) done[k]->ops->close(done[k]);
        ndone = 0;
    }
    for (size_t k = 0; k < ndone; k++) done[k]->ops->close(done[k]);
    if (cur) cur->ops->close(cur);
    free(done);
    rt_bloom_free(&sc->seen);
    /* The rating reads from the start again. */
    p->bytes_done = 0;
    p->next_seq = 0;
    if (skip) {
        free(sc);
        return RT_OK;
    }
    /* The candidates as a set, and room in the exact set for all of them. */
    size_t total = 0;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) total += sc->cand[k].count;
    if (st == RT_OK && (rt_dedup_init(&p->cand, total) != RT_OK ||
                        rt_dedup_reserve(&p->dedup, total + total / 10) != RT_OK))
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    int failed = 0;
    if (st == RT_OK) {
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 8) reduction(| : failed)
        for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) {
            bool seen;
            for (size_t q = 0; q < sc->cand[k].count && !failed; q++)
                if (rt_dedup_insert(&p->cand, sc->cand[k].items[q].lo, sc->cand[k].items[q].hi,
                                    &seen) != RT_OK)
                    failed = 1;
        }
        if (failed) st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) rt_fp_list_free(&sc->cand[k]);
    free(sc);
    /* No set holds every billed fingerprint now: a writer takes them as they are billed. */
    if (st == RT_OK && billed_path)
        st = rt_billed_writer_open(billed_path, BILLED_HELD_BYTES, &p->billed, err);
    if (st == RT_OK) p->has_cand = true;
    return st;
}

/* A rated wave's duplicates marked and its chunks counted (sizing the run's structures after
 * the first wave). */
static rt_status settle_wave(pipeline *p, bool first, const rt_usage_reader *cur, unsigned n,
                             uint64_t *expected, rt_error *err)
{
    rt_status st;
    uint64_t in_file = 0, in_run = 0;
    if (first) estimate_records(p, cur, n, &in_file, &in_run);
    *expected = in_run;
    if (p->peers) {
        /* Every process its partitions' share of the set; the duplicates found go to the
         * chunks' processes, whatever happened here. */
        st = first ? reserve_dedup(p, in_file, err) : RT_OK; /* (pages of the others'
                                                                  partitions stay untouched) */
        /* Not when the fingerprints did not all come (the foreign chunks may lack room). */
        if (st == RT_OK && p->x_later.code == RT_OK) st = dedup_wave(p, n, err);
        if ((st = exchange_duplicates(p, n, st, err)) != RT_OK) return st;
        x_forget_foreign(p, n);
    } else {
        if (first && !p->has_cand && (st = reserve_dedup(p, in_file, err)) != RT_OK) return st;
        if ((st = dedup_wave(p, n, err)) != RT_OK) return st;
    }
    if (first) reserve_aggs(p, in_run);
    if (p->billed && (st = rt_billed_writer_settle(p->billed, err)) != RT_OK) return st;
    if (first && (st = cut_ranges(p, n, err)) != RT_OK) return st;
    /* A distributed run's plan is rank 0's, shared once every process got this far. */
    if (first && !p->peers && (st = plan_outputs(p, n, in_run, err)) != RT_OK) return st;
    for (unsigned i = 0; i < n; i++)
        if (!p->slots[i].foreign) count_slot(p, &p->slots[i]);
    return RT_OK;
}

static rt_status run_waves(pipeline *p, rt_error *err)
{
    const rt_run_config *cfg = p->cfg;
    size_t file = 0, ndone = 0;
    rt_usage_reader *cur = NULL;
    rt_usage_reader **done = calloc(cfg->usage_count + 1, sizeof *done);
    if (!done) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    rt_status st = RT_OK;
    bool first = true;
    unsigned pending = 0; /* slots of the last wave encoded but not yet written */
    for (;;) {
        unsigned n = 0;
        uint64_t t0 = rt_clock_ns();
        st = read_wave(p, p->nslots, &file, &cur, done, &ndone, &n, err);
        uint64_t t1 = rt_clock_ns();
        p->times.read_ns += t1 - t0;
        if (!p->peers && (st != RT_OK || n == 0)) break;

        /* The last wave's encoded chunks are written, in order, by one thread while the
         * others start rating this wave (the writes only read the output slots, which this
         * wave does not touch before its output step; rating reports into the slots, so err
         * is the writer's alone). */
        rt_status wst = RT_OK;
        if (st == RT_OK && n > 0) {
            for (unsigned i = 0; i < n; i++) {
                p->slots[i].foreign = false;
                if (p->peers && p->slots[i].chunk.seq % p->peers->size != p->peers->rank)
                    x_foreign(&p->slots[i]);
            }
#pragma omp parallel num_threads(p->threads)
            {
#pragma omp single nowait
                wst = write_pending(p, pending, err);
#pragma omp for schedule(dynamic, 1)
                for (unsigned i = 0; i < n; i++)
                    if (!p->slots[i].foreign) rate_slot(p, &p->slots[i]);
            }
            pending = 0;
        }
        uint64_t t2 = rt_clock_ns();
        p->times.rate_ns += t2 - t1;
        if (p->peers) {
            rt_error own_err = *err; /* the read's or the write's */
            st = exchange_rated(p, st != RT_OK ? st : wst, &own_err, n, err);
            if (st != RT_OK || n == 0) break;
        } else if ((st = wst) != RT_OK) {
            break;
        }
        if ((st = first_failure(p, n, err)) != RT_OK) break;

        uint64_t expected = 0;
        st = settle_wave(p, first, cur, n, &expected, err);
        if (first && p->peers) st = share_plan(p, n, expected, st, err);
        first = false;
        uint64_t t3 = rt_clock_ns();
        p->times.dedup_ns += t3 - t2;

        rt_run_counts before = p->counts;
        if (st == RT_OK) {
            output_wave(p, n);
            for (unsigned i = 0; i < n; i++) {
                const slot *s = &p->slots[i];
                p->times.thread_ns.decompress += s->batch.decompress_ns;
                p->times.thread_ns.parse += s->parse_ns;
                p->times.thread_ns.rate += s->rate_ns;
                p->times.thread_ns.encode += s->encode_ns;
            }
        }
        if (p->peers)
            st = exchange_encoded(p, n, &before, st, err);
        else if (st == RT_OK)
            st = first_failure(p, n, err);
        if (st != RT_OK) break;
        pending = is_root(p) ? n : 0; /* written while the next wave is rated, or after */
        p->times.output_ns += rt_clock_ns() - t3;

        for (size_t k = 0; k < ndone; k++) done[k]->ops->close(done[k]);
        ndone = 0;
        if (cfg->progress) {
            uint64_t partial = 0;
            if (cur && n) partial = p->slots[n - 1].chunk.source_offset;
            rt_run_progress pr = {p->counts.read, p->bytes_done + partial, p->bytes_total,
                                  rt_clock_ns() - p->started_ns};
            cfg->progress(cfg->progress_ctx, &pr);
        }
    }
    if (st == RT_OK && pending) {
        uint64_t t = rt_clock_ns();
        st = write_pending(p, pending, err);
        p->times.output_ns += rt_clock_ns() - t;
    }
    for (size_t k = 0; k < ndone; k++) done[k]->ops->close(done[k]);
    if (cur) cur->ops->close(cur);
    free(done);
    return st;
}

/* ---- set-up, billing and commit ---- */

static rt_status check_out_dir(const char *out_dir, rt_error *err)
{
    struct stat sb;
    if (stat(out_dir, &sb) == 0)
        return rt_error_set(err, RT_EEXIST, out_dir, 0, 0, NULL,
                            "output directory already exists; choose a new one");
    char parent[PATH_MAX];
    parent_dir(out_dir, parent, sizeof parent);
    if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return rt_error_set(err, RT_ENOTFOUND, parent, 0, 0, NULL,
                            "parent of the output directory does not exist");
    return RT_OK;
}

static rt_status totals_by_currency(const rt_invoice_set *inv, rt_currency_total *t, size_t *n,
                                    rt_error *err)
{
    *n = 0;
    for (size_t i = 0; i < inv->count; i++) {
        const rt_invoice *x = &inv->items[i];
        size_t k = 0;
        while (k < *n && strcmp(t[k].currency, x->currency->code) != 0) k++;
        if (k == *n) {
            if (*n == RT_RUN_CURRENCIES_MAX)
                return rt_error_set(err, RT_ELIMIT, NULL, 0, 0, NULL,
                                    "more than %d invoice currencies in one run",
                                    RT_RUN_CURRENCIES_MAX);
            memset(&t[k], 0, sizeof t[k]);
            memcpy(t[k].currency, x->currency->code, 4);
            (*n)++;
        }
        t[k].invoices++;
        if (rt_add_i64(t[k].net_minor, x->net_minor, &t[k].net_minor) != RT_OK ||
            rt_add_i64(t[k].tax_minor, x->tax_minor, &t[k].tax_minor) != RT_OK ||
            rt_add_i64(t[k].gross_minor, x->gross_minor, &t[k].gross_minor) != RT_OK)
            return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "run totals overflow");
    }
    /* Sorted by code so the manifest does not depend on account order. */
    for (size_t i = 1; i < *n; i++)
        for (size_t j = i; j > 0 && strcmp(t[j - 1].currency, t[j].currency) > 0; j--) {
            rt_currency_total tmp = t[j];
            t[j] = t[j - 1];
            t[j - 1] = tmp;
        }
    return RT_OK;
}

/* Number the documents of one type, in document (account) order, from `next` on. */
static rt_status apply_numbers(const char *prefix, rt_invoice_set *docs, uint32_t type,
                               uint64_t next, rt_error *err)
{
    /* prefix, then the number with at least six digits (zero-padded): a million of them on
     * the committing thread, so without printf. */
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < docs->count; i++) {
        rt_invoice *d = &docs->items[i];
        if (d->type != type) continue;
        char digits[RT_U64_TEXT_MAX];
        size_t nd = rt_u64_text(next++, digits);
        size_t pad = nd < 6 ? 6 - nd : 0;
        if (plen + pad + nd >= sizeof d->number)
            return rt_error_set(err, RT_ELIMIT, NULL, 0, 0, NULL, "invoice number too long");
        memcpy(d->number, prefix, plen);
        memset(d->number + plen, '0', pad);
        memcpy(d->number + plen + pad, digits, nd);
        d->number[plen + pad + nd] = '\0';
    }
    return RT_OK;
}

/* The series' next numbers, taken from the registry, and the documents numbered from them
 * (*first: the first number taken). */
static rt_status number_series(rt_registry_txn *txn, const char *prefix, rt_invoice_set *docs,
                               uint32_t type, uint64_t *first, rt_error *err)
{
    uint64_t count = 0;
    for (size_t i = 0; i < docs->count; i++) count += docs->items[i].type == type;
    rt_status st = rt_registry_take_numbers(txn, prefix, count, first, err);
    return st == RT_OK ? apply_numbers(prefix, docs, type, *first, err) : st;
}

/* Invoices from the invoice series and credit notes from theirs, each gap-free and in document
 * (account) order; first[0] and first[1], the first number each took (what the other
 * processes of a distributed run number from). */
static rt_status assign_numbers(rt_registry_txn *txn, const rt_company *co, rt_invoice_set *docs,
                                uint64_t first[2], rt_error *err)
{
    rt_status st = number_series(txn, co->invoice_prefix, docs, RT_INVOICE, &first[0], err);
    if (st == RT_OK)
        st = number_series(txn, co->credit_note_prefix, docs, RT_CREDIT_NOTE, &first[1], err);
    return st;
}

static void first_last(const rt_invoice_set *docs, uint32_t type, char *first, char *last,
                       size_t n)
{
    first[0] = last[0] = '\0';
    for (size_t i = 0; i < docs->count; i++) {
        if (docs->items[i].type != type) continue;
        if (!first[0]) snprintf(first, n, "%s", docs->items[i].number);
        snprintf(last, n, "%s", docs->items[i].number);
    }
}

typedef struct run_state {
    rt_store *store;
    rt_book book;
    rt_pricebook_info info;
    rt_catalog cat;
    bool cat_built;
    pipeline p;
    rt_agg_chunks total;
    rt_order_book orders;
    rt_order_result order_result;
    rt_invoice_set invoices;     /* the run's documents: new invoices and credit notes */
    uint64_t corrected_run;      /* --rerun: the committed run of the period it corrects */
    rt_run_record corrected;     /* its record (releases to reverse) */
    rt_registry_invoices old;    /* the invoices in effect after it */
    rt_correction_result corr;
    rt_journal journal;
    rt_registry_txn *txn;
    char staging[PATH_MAX];
    bool staging_made;
    char billed_path[PATH_MAX];
    bool billed_written; /* the billed-events file exists but the run is not committed */
    char billed_pending[PATH_MAX];
    bool pending_written; /* the pending billed-events file exists (not yet published) */
    /* The order files: read and billed alongside the usage waves on a thread of their own
     * (orders_started), or on the run's one thread once the usage is read (orders_due). The
     * thread starts before the price book is loaded, reads and parses the files while the
     * book loads (the load runs on one thread), and waits for the catalog to bill them. */
    const rt_run_config *orders_cfg;
    pthread_t orders_thread;
    bool orders_started, orders_due, orders_alongside;
    rt_status orders_status;
    rt_error orders_err;
    uint64_t orders_ns;
    rt_input_info *order_info; /* per order file, filled where the files are read */
    /* Distributed runs: rank 0's thread count, which sizes every process's waves; and on
     * rank 0 the aggregates to bill (its threads', then one part per other process). */
    unsigned wave_threads;
    rt_aggregates *parts;
    unsigned nparts;
    rt_spread spread; /* the writers' exchange (share_books on) */
    pthread_mutex_t catalog_mu;
    pthread_cond_t catalog_cv;
    bool catalog_sync;  /* catalog_mu and catalog_cv are initialised */
    int catalog_state;  /* 0: being built; 1: ready; -1: not coming (the run failed) */
} run_state;

/* Load the billed events of the last committed run of every period within `window` months
 * of this one (before and after: a later period's run may have billed this period's late
 * usage). This period's own runs are left out: there are none, or --rerun replaces them. */
static rt_status load_prior_runs(run_state *rs, const rt_run_config *cfg, unsigned window,
                                 rt_error *err)
{
    pipeline *p = &rs->p;
    int32_t here = rt_month_index(p->rctx.period.start_day);
    p->prior = calloc(2 * window + 1, sizeof *p->prior);
    if (!p->prior) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (int32_t m = here - (int32_t)window; m <= here + (int32_t)window; m++) {
        if (m == here) continue;
        rt_period q;
        int year = m / 12;
        rt_period_of_month(year, (unsigned)(m - year * 12 + 1), &q);
        char name[8];
        rt_period_format(&q, name, sizeof name);
        uint64_t run_no;
        rt_status st = rt_registry_find_period(rs->store, name, &run_no, err);
        if (st == RT_ENOTFOUND) continue;
        if (st != RT_OK) return st;
        rt_run_record rec;
        if ((st = rt_registry_get_run(rs->store, run_no, &rec, err)) != RT_OK) return st;
        char path[PATH_MAX];
        rt_billed_path(cfg->book_dir, run_no, path, sizeof path);
        uint64_t seen[4] = {p->window_digest, run_no, rec.billed_count, rec.billed_xxh64};
        p->window_digest = XXH3_64bits(seen, sizeof seen);
        st = rt_billed_load(path, rec.billed_count, rec.billed_xxh64, run_no,
                            &p->prior[p->prior_count], err);
        rt_run_record_free(&rec);
        if (st != RT_OK) return st;
        p->prior_count++;
    }
    if (p->prior_count && rt_billed_window_build(p->prior, p->prior_count, &p->window) != RT_OK)
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

/* Say whether the catalog is ready (1) or will not come (-1), once: the orders thread may be
 * waiting for it. */
static void catalog_signal(run_state *rs, int state)
{
    if (!rs->catalog_sync) {
        if (rs->catalog_state == 0) rs->catalog_state = state;
        return;
    }
    pthread_mutex_lock(&rs->catalog_mu);
    if (rs->catalog_state == 0) rs->catalog_state = state;
    pthread_cond_broadcast(&rs->catalog_cv);
    pthread_mutex_unlock(&rs->catalog_mu);
}

/* Wait until the catalog is ready (true) or will not come (false). */
static bool catalog_wait(run_state *rs)
{
    if (!rs->catalog_sync) return rs->catalog_state == 1;
    pthread_mutex_lock(&rs->catalog_mu);
    while (rs->catalog_state == 0) pthread_cond_wait(&rs->catalog_cv, &rs->catalog_mu);
    bool ready = rs->catalog_state == 1;
    pthread_mutex_unlock(&rs->catalog_mu);
    return ready;
}

/* Read every order file and, once the catalog is built, bill the order book for the period. */
static rt_status read_orders(run_state *rs, const rt_run_config *cfg, rt_error *err)
{
    rt_status st;
    for (size_t i = 0; i < cfg->order_count; i++) {
        uint64_t before = rs->orders.read;
        RT_ASSERT(cfg->read_orders != NULL);
        if ((st = cfg->read_orders(cfg->order_paths[i], (uint32_t)i, &rs->orders,
                                   &rs->order_info[i], err)) != RT_OK)
            return st;
        rs->order_info[i].records = rs->orders.read - before;
    }
    /* The run failed before its catalog was built: its own error is the one reported. */
    if (!catalog_wait(rs))
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL, "the run stopped before billing");
    if ((st = rt_orders_bill(&rs->cat, &rs->p.rctx.period, &rs->orders, &rs->order_result, err)) !=
        RT_OK)
        return st;
    /* Every order line read is either used or rejected. */
    RT_ASSERT(rs->orders.read == rs->order_result.lines_used + rs->orders.reject_count);
    if (!rt_order_book_compact(&rs->orders))
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

static void *orders_main(void *arg)
{
    run_state *rs = arg;
    uint64_t t0 = rt_clock_ns();
    rs->orders_status = read_orders(rs, rs->orders_cfg, &rs->orders_err);
    rs->orders_ns = rt_clock_ns() - t0;
    return NULL;
}

/* Start reading and billing the orders on a thread of their own, when the run may use more
 * than one. A run limited to one thread (or one that cannot make a thread) reads them on
 * that thread after the usage: the result is the same, only later. */
static void start_orders(run_state *rs, const rt_run_config *cfg)
{
    rs->orders_cfg = cfg;
    rt_error_clear(&rs->orders_err);
    if (rs->p.threads >= 2 && pthread_mutex_init(&rs->catalog_mu, NULL) == 0) {
        if (pthread_cond_init(&rs->catalog_cv, NULL) == 0) {
            rs->catalog_sync = true;
            if (pthread_create(&rs->orders_thread, NULL, orders_main, rs) == 0) {
                rs->orders_started = rs->orders_alongside = true;
                return;
            }
            pthread_cond_destroy(&rs->catalog_cv);
            rs->catalog_sync = false;
        }
        pthread_mutex_destroy(&rs->catalog_mu);
    }
    rs->orders_due = true;
}

static void count_orders(run_state *rs)
{
    rs->p.counts.order_lines = rs->orders.read;
    rs->p.counts.order_rejected = rs->orders.reject_count;
    const rt_run_config *cfg = rs->orders_cfg;
    if (!rs->p.inputs) return; /* the run failed before it listed its inputs */
    for (size_t i = 0; i < cfg->order_count; i++) {
        rt_run_input *in = &rs->p.inputs[cfg->usage_count + i];
        in->path = (char *)cfg->order_paths[i];
        in->kind = RT_INPUT_ORDERS;
        in->info = rs->order_info[i];
    }
}

/* Wait for the orders (or read them now, when they are due on this thread); their status
 * (and error). Safe to call again. */
static rt_status join_orders(run_state *rs)
{
    if (rs->orders_started) {
        pthread_join(rs->orders_thread, NULL);
        rs->orders_started = false;
        count_orders(rs);
    } else if (rs->orders_due) {
        rs->orders_due = false;
        orders_main(rs);
        count_orders(rs);
    }
    return rs->orders_status;
}

/* Whatever becomes of the run: a thread still reading the orders is waited for; orders not
 * yet read are not read any more. */
static void stop_orders(run_state *rs)
{
    rs->orders_due = false;
    catalog_signal(rs, -1);
    join_orders(rs);
}

/* The threads a run uses: cfg->threads, or every core (at most 256). */
static unsigned run_threads(const rt_run_config *cfg)
{
    unsigned t = cfg->threads ? cfg->threads : (unsigned)omp_get_num_procs();
    return t > 256 ? 256 : t;
}

static rt_status prepare(run_state *rs, const rt_run_config *cfg, rt_error *err)
{
    pipeline *p = &rs->p;
    rt_status st;
    if (rt_period_parse(cfg->period, &p->rctx.period) != RT_OK)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, "period", "'%s' is not YYYY-MM",
                            cfg->period ? cfg->period : "");
    if ((st = rt_store_open(cfg->book_dir, false, &rs->store, err)) != RT_OK) return st;
    rt_registry_invoices_init(&rs->old);
    /* The output directory and the staging directory are rank 0's; every process of a
     * distributed run bills, so each reads the period's runs (a rerun's from its copy of the
     * book, which x_check compares with rank 0's: window_digest). */
    if (is_root(p)) {
        bool rolled;
        if ((st = rt_run_recover(rs->store, cfg->out_dir, &rolled, err)) != RT_OK) return st;
        if ((st = check_out_dir(cfg->out_dir, err)) != RT_OK) return st;
    }
    uint64_t prior;
    st = rt_registry_find_period(rs->store, cfg->period, &prior, err);
    if (cfg->accrue_only && (st == RT_OK || st == RT_ENOTFOUND)) st = RT_ENOTFOUND;
    if (cfg->rerun && cfg->accrue_only)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                            "--rerun and --accrue-only do not go together");
    if (st == RT_OK && !cfg->rerun)
        return rt_error_set(err, RT_ECOMMITTED, NULL, 0, 0, "period",
                            "period %s was already billed by run %" PRIu64
                            "; use --rerun to bill it again with corrections",
                            cfg->period, prior);
    if (st != RT_OK && st != RT_ENOTFOUND) return st;
    if (st == RT_OK) {
        rs->corrected_run = prior;
        if ((st = rt_registry_get_run(rs->store, prior, &rs->corrected, err)) != RT_OK) return st;
        if ((st = rt_registry_invoices_load(rs->store, prior, &rs->old, err)) != RT_OK) return st;
        uint64_t seen[3] = {p->window_digest, prior, rs->corrected.manifest_xxh64};
        p->window_digest = XXH3_64bits(seen, sizeof seen);
    }

    rt_book_init(&rs->book);
    rt_order_book_init(&rs->orders);
    p->threads = run_threads(cfg);
    if (!(rs->order_info = calloc(cfg->order_count + 1, sizeof *rs->order_info)))
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    start_orders(rs, cfg);
    if ((st = rt_pricebook_load(rs->store, &rs->book, &rs->info, err)) != RT_OK) return st;
    if ((st = rt_catalog_build(&rs->book, &rs->cat, err)) != RT_OK) return st;
    rs->cat_built = true;
    catalog_signal(rs, 1);
    p->rctx.cat = &rs->cat;
    p->rctx.late = cfg->late;
    unsigned window = cfg->late_window_months ? cfg->late_window_months
                                               : RT_LATE_WINDOW_DEFAULT_MONTHS;
    if (window > RT_LATE_WINDOW_MAX_MONTHS)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, "late_window",
                            "the late-usage window is at most %d months", RT_LATE_WINDOW_MAX_MONTHS);
    p->rctx.late_limit_s =
        rt_time_of_days(rt_month_start(rt_month_index(p->rctx.period.start_day) - (int32_t)window));
    if ((st = load_prior_runs(rs, cfg, window, err)) != RT_OK) return st;
    /* Book and prior runs are in memory now: the store's pages (the book file's size) need not
     * stay mapped through rating and billing. */
    rt_store_release_pages(rs->store);

    p->cfg = cfg;
    /* A distributed run's waves are cut alike everywhere: rank 0's two chunks per thread for
     * every process. */
    p->nslots = p->peers ? 2 * rs->wave_threads * p->peers->size : 2 * p->threads;
    p->slots = calloc(p->nslots, sizeof *p->slots);
    p->aggs = calloc(p->threads, sizeof *p->aggs);
    p->range_end = calloc(p->threads, sizeof *p->range_end);
    p->workers = calloc(p->threads, sizeof *p->workers);
    p->inputs = calloc(cfg->usage_count + cfg->order_count + 1, sizeof *p->inputs);
    if (!p->slots || !p->aggs || !p->range_end || !p->workers || !p->inputs)
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (unsigned i = 0; i < p->threads; i++)
        if (rt_agg_init(&p->aggs[i]) != RT_OK)
            return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (unsigned i = 0; i < p->nslots; i++) rt_event_batch_init(&p->slots[i].batch);
    if (rt_dedup_init(&p->dedup, 1 << 16) != RT_OK)
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    /* An accrual bills nothing and keeps nothing. */
    if (!cfg->accrue_only)
        rt_billed_pending_path(cfg->book_dir, rs->billed_pending, sizeof rs->billed_pending);
    p->inputs_regular = true;
    for (size_t i = 0; i < cfg->usage_count; i++) {
        struct stat sb;
        if (stat(cfg->usage_paths[i], &sb) != 0)
            return rt_error_set(err, RT_ENOTFOUND, cfg->usage_paths[i], 0, 0, NULL,
                                "cannot open usage file: %s", strerror(errno));
        p->bytes_total += (uint64_t)sb.st_size;
        uint64_t sized[2] = {p->sizes_digest, (uint64_t)sb.st_size};
        p->sizes_digest = XXH3_64bits(sized, sizeof sized);
        if (!S_ISREG(sb.st_mode)) p->inputs_regular = false;
        p->inputs[i].path = (char *)cfg->usage_paths[i];
        p->inputs[i].kind = RT_INPUT_USAGE;
    }

    if (!is_root(p)) return cfg->outputs->begin(NULL, p->nslots, p->threads, &p->sink, err);
    rt_run_staging_path(cfg->out_dir, rs->staging, sizeof rs->staging);
    if (mkdir(rs->staging, 0777) != 0)
        return rt_error_set(err, RT_EIO, rs->staging, 0, 0, NULL, "cannot create: %s",
                            strerror(errno));
    rs->staging_made = true;
    return cfg->outputs->begin(rs->staging, p->nslots, p->threads, &p->sink, err);
}

static rt_status bill(run_state *rs, rt_error *err)
{
    pipeline *p = &rs->p;
    rt_status st;
    /* The fingerprints billed are written, sorted, as the billed-events file under a pending
     * name (published at commit): from the writer that took them as they were billed (after
     * an id scan), else from the set, which holds them all. The sets are released before
     * billing, so that their memory is the aggregates' and invoices'. */
    if (p->billed) {
        st = rt_billed_writer_finish(p->billed, p->threads, &p->billed_count, &p->billed_xxh64,
                                     err);
        rt_billed_writer_free(p->billed);
        p->billed = NULL;
        if (st != RT_OK) return st;
        rs->pending_written = true;
    } else if (!p->cfg->accrue_only && !p->peers) { /* (a distributed run wrote it: write_billed) */
        st = rt_billed_write_set(rs->billed_pending, &p->dedup, p->threads, &p->billed_count,
                                 &p->billed_xxh64, err);
        if (st != RT_OK) return st;
        rs->pending_written = true;
    }
    rt_dedup_free(&p->dedup);
    rt_dedup_free(&p->cand);
    /* Every thread's aggregates (ranges of accounts) sorted, each on its own thread, and
     * placed side by side in chunks of 12 MiB, each freed as soon as its accounts are billed:
     * the invoices' arena blocks (8 MiB) take its memory over instead of fresh pages, so the
     * aggregates and the invoices are not both whole at once. */
    if ((st = rt_agg_merge_sorted(rs->parts ? rs->parts : p->aggs,
                                  rs->parts ? rs->nparts : p->threads, p->threads,
                                  (12 << 20) / sizeof(rt_agg_entry), &rs->total)) != RT_OK)
        return rt_error_set(err, st, NULL, 0, 0, NULL, "cannot merge aggregates: %s",
                            rt_status_str(st));
    /* An accrual is of the usage alone: its would-be invoices leave the orders' lines out, so
     * that what the period rules add (allowances, minimums, percentages, discounts) is
     * reckoned on the usage. */
    bool orders = !p->cfg->accrue_only;
    st = rt_billing_build(&rs->cat, &p->rctx.period, rs->total.items, rs->total.count, true,
                          orders ? rs->order_result.charges : NULL,
                          orders ? rs->order_result.charge_count : 0, p->threads, &rs->invoices,
                          err);
    /* The invoices hold all the aggregates and the orders' charges said. */
    rt_agg_chunks_free(&rs->total);
    rt_order_result_drop_charges(&rs->order_result);
    return st;
}

/* Compare the fresh invoices with those in effect (none unless --rerun): the run's documents
 * become credit notes and new invoices; unchanged invoices are carried. */
static rt_status correct(run_state *rs, rt_error *err)
{
    rt_status st = rt_corrections_build(&rs->cat, &rs->old, &rs->invoices, rs->p.threads,
                                        &rs->corr, err);
    if (st != RT_OK) return st;
    rs->invoices = rs->corr.documents;
    memset(&rs->corr.documents, 0, sizeof rs->corr.documents);
    return RT_OK;
}

/* Invoicing entries of every document, then deferred revenue: a rerun first reverses what the
 * corrected run released, then books this run's release. */
static rt_status book_journal(run_state *rs, rt_error *err)
{
    rt_status st = rt_journal_book_invoices(&rs->cat, &rs->invoices, rs->p.threads, &rs->journal,
                                            err);
    if (st != RT_OK) return st;
    rt_days day = rs->p.rctx.period.end_day - 1;
    const rt_order_result *o = &rs->order_result;
    bool same = rs->corrected_run && rs->corrected.release_count == o->release_count;
    for (size_t i = 0; same && i < o->release_count; i++)
        same = strcmp(rs->corrected.releases[i].gl_account,
                      rs->cat.gl_accounts[o->releases[i].gl].gl_account) == 0 &&
               rs->corrected.releases[i].amount_minor == o->releases[i].amount_minor;
    if (same) return RT_OK; /* the corrected run released exactly this: it stands */
    if (rs->corrected.release_count) {
        rt_revenue_release rev[RT_RUN_RELEASES_MAX];
        for (size_t i = 0; i < rs->corrected.release_count; i++) {
            rev[i].gl = rt_catalog_gl(&rs->cat, rs->corrected.releases[i].gl_account);
            rev[i].amount_minor = -rs->corrected.releases[i].amount_minor;
            if (rev[i].gl == RT_NO_INDEX)
                return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                                    "GL account %s released by run %" PRIu64
                                    " is no longer in the price book",
                                    rs->corrected.releases[i].gl_account, rs->corrected_run);
        }
        if ((st = rt_journal_book_releases(&rs->cat, rev, rs->corrected.release_count, day,
                                           &rs->journal, err)) != RT_OK)
            return st;
    }
    return rt_journal_book_releases(&rs->cat, rs->order_result.releases,
                                    rs->order_result.release_count, day, &rs->journal, err);
}

/* The invoices in effect after this run (what a later rerun compares with) go to the
 * registry, packed, in account order (the registry stores them in compressed blocks). This
 * runs on the registry transaction's thread (LMDB's write transaction belongs to it) while the
 * outputs are written on the others (see commit). */
typedef struct effective_src {
    run_state *rs;
    rt_buf pack;
    rt_registry_invoice_reader carried; /* the contents of the invoices carried over */
} effective_src;

static rt_status effective_invoice(void *ctx, size_t i, const char **account, const char **number,
                                   const void **content, size_t *len, rt_error *err)
{
    effective_src *x = ctx;
    run_state *rs = x->rs;
    const rt_effective_invoice *e = &rs->corr.effective[i];
    const rt_invoice *inv = e->carried ? NULL : &rs->invoices.items[e->document];
    *account = rs->cat.accounts[e->account].account_id;
    if (!inv) {
        *number = e->carried->number;
        return rt_registry_invoice_content(&x->carried, (size_t)(e->carried - rs->old.items),
                                           content, len, err);
    }
    rt_buf_reset(&x->pack);
    rt_status st = rt_invoice_pack(&rs->cat, inv, &x->pack, err);
    *number = inv->number;
    *content = x->pack.data;
    *len = x->pack.len;
    return st;
}

static rt_status store_effective(run_state *rs, uint64_t run_no, rt_error *err)
{
    effective_src x;
    x.rs = rs;
    rt_buf_init(&x.pack);
    rt_registry_invoice_reader_init(&x.carried, &rs->old);
    rt_status st = rt_registry_put_invoices(rs->txn, run_no, rs->corr.effective_count,
                                            effective_invoice, &x, err);
    rt_registry_invoice_reader_free(&x.carried);
    rt_buf_free(&x.pack);
    return st;
}

static void record_releases(const run_state *rs, rt_run_record *rec)
{
    const rt_order_result *o = &rs->order_result;
    for (size_t i = 0; i < o->release_count && rec->release_count < RT_RUN_RELEASES_MAX; i++) {
        rt_run_release *r = &rec->releases[rec->release_count++];
        snprintf(r->gl_account, sizeof r->gl_account, "%s", rs->cat.gl_accounts[o->releases[i].gl].gl_account);
        r->amount_minor = o->releases[i].amount_minor;
    }
}

/* The output directory's absolute path for the registry. It does not exist yet (the staging
 * directory is renamed to it after the commit), so its parent is resolved and its name
 * appended. */
static void absolute_out_dir(const char *out_dir, char *buf, size_t n)
{
    char parent[PATH_MAX], real[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", out_dir);
    size_t len = strlen(parent);
    while (len > 1 && parent[len - 1] == '/') parent[--len] = '\0';
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : parent;
    const char *dir = slash ? (slash == parent ? "/" : parent) : ".";
    if (slash && slash != parent) *slash = '\0';
    size_t rl = 0, nl = strlen(name);
    if (realpath(dir, real)) rl = strlen(real);
    if (rl && rl + 1 + nl < n) {
        memcpy(buf, real, rl);
        if (real[rl - 1] != '/') buf[rl++] = '/';
        memcpy(buf + rl, name, nl + 1);
    } else {
        snprintf(buf, n, "%s", out_dir);
    }
}

/* What the writer of the outputs tells the run (rt_run_result's hooks, see commit): the
 * journal's lines are written, so they are freed; the usage detail is written (or the writer
 * stopped), which opens the gate the registry's work waits at. */
typedef struct commit_hooks {
    rt_journal *journal;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
} commit_hooks;

static void hook_journal_written(void *ctx)
{
    commit_hooks *h = ctx;
    rt_journal_drop_lines(h->journal);
}

static void gate_open(void *ctx)
{
    commit_hooks *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_wait(commit_hooks *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* Writing the output directory, on a thread of its own (see commit). */
typedef struct finish_job {
    const rt_output_ops *ops;
    rt_output_sink *sink;
    const rt_run_result *res;
    rt_output_list *files;
    uint64_t *manifest_xxh64;
    commit_hooks *hooks;
    rt_status st;
    rt_error err;
} finish_job;

static void *finish_main(void *arg)
{
    finish_job *j = arg;
    j->st = j->ops->finish(j->sink, j->res, j->files, j->manifest_xxh64, &j->err);
    /* (A distributed run: the processes' writers end together, and agree on how.) */
    if (j->res->spread) j->st = rt_spread_end(j->res->spread, j->st, &j->err);
    gate_open(j->hooks); /* in case the writer stopped before the usage detail */
    return NULL;
}

/* The run's books, on every process alike: the accrual (and no document), or the rerun's
 * corrections and the journal. The journal refers to documents by index, so it is booked
 * before they are numbered (assign_numbers, apply_numbers), and a distributed run's
 * processes compare it with rank 0's (share_books). */
static rt_status book(run_state *rs, const rt_run_config *cfg, rt_error *err)
{
    rt_status st;
    if (cfg->accrue_only) {
        /* Accrue what the invoices would bill, then issue none of them. */
        st = rt_journal_book_accrual(&rs->cat, &rs->invoices, &rs->p.rctx.period, &rs->journal,
                                     err);
        rt_invoice_set_free(&rs->invoices);
        rt_arena_init(&rs->invoices.arena, 4096);
        return st;
    }
    if ((st = correct(rs, err)) != RT_OK) return st;
    return book_journal(rs, err);
}

/* What each process of a distributed run billed and booked, to be compared with rank 0's
 * before any process writes: every document (all it holds but its number, which only rank 0
 * has yet: header, lines, VAT subtotals), every journal line, and the order files (sizes and
 * XXH64s). 0: no memory to tell. */
static void digest_text(XXH3_state_t *h, const char *s)
{
    XXH3_64bits_update(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static uint64_t books_digest(const run_state *rs)
{
    XXH3_state_t *h = XXH3_createState();
    if (!h) return 0;
    XXH3_64bits_reset(h);
    const rt_invoice_set *d = &rs->invoices;
    for (size_t i = 0; i < d->count; i++) {
        const rt_invoice *inv = &d->items[i];
        int64_t v[12] = {inv->type,           inv->account,   inv->issue_day,
                         inv->due_day,        inv->tax_point_day, (int64_t)inv->line_count,
                         (int64_t)inv->tax_count, inv->net_minor, inv->tax_minor,
                         inv->gross_minor,    (int64_t)inv->events, inv->fx_rate_nanos};
        XXH3_64bits_update(h, v, sizeof v);
        digest_text(h, inv->currency ? inv->currency->code : NULL);
        digest_text(h, inv->corrects);
        for (size_t k = 0; k < inv->line_count; k++) {
            const rt_invoice_line *l = &inv->lines[k];
            /* Every field up to the description (the line has no padding). */
            XXH3_64bits_update(h, l, offsetof(rt_invoice_line, description));
            digest_text(h, l->description);
        }
        for (size_t k = 0; k < inv->tax_count; k++) {
            const rt_tax_subtotal *t = &inv->taxes[k];
            int64_t tv[5] = {t->tax, t->vat_code, t->rate_e4, t->base_minor, t->tax_minor};
            XXH3_64bits_update(h, tv, sizeof tv);
        }
    }
    const rt_journal *j = &rs->journal;
    for (size_t i = 0; j->lines && i < j->count; i++) {
        const rt_journal_line *l = &j->lines[i];
        XXH3_64bits_update(h, l, offsetof(rt_journal_line, txn_currency));
        digest_text(h, l->txn_currency ? l->txn_currency->code : NULL);
    }
    const rt_run_config *cfg = rs->p.cfg;
    for (size_t i = 0; cfg && rs->order_info && i < cfg->order_count; i++) {
        uint64_t v[2] = {rs->order_info[i].bytes, rs->order_info[i].xxh64};
        XXH3_64bits_update(h, v, sizeof v);
    }
    uint64_t digest = XXH3_64bits_digest(h) | 1;
    XXH3_freeState(h);
    return digest;
}

/* A distributed run, once every process has billed and booked (and rank 0 numbered its
 * documents, first):
 * st agreed on, each process's documents compared with rank 0's, and rank 0's first numbers
 * to the others (into first). On success every process goes on to write (engine/spread). */
static rt_status share_books(run_state *rs, rt_status st, uint64_t first[2], rt_error *err)
{
    pipeline *p = &rs->p;
    struct {
        rt_error status;
        uint64_t first[2], digest;
    } mine, r0, h;
    memset(&mine, 0, sizeof mine);
    memset(&r0, 0, sizeof r0);
    mine.status = rt_peers_status(st, err);
    memcpy(mine.first, first, sizeof mine.first);
    mine.digest = st == RT_OK ? books_digest(rs) : 0;
    if (st == RT_OK && !mine.digest) mine.status = rt_peers_status(x_memory(err), err);
    p->peers->allgather(p->peers, &mine, sizeof mine, &p->xin, p->xlens);
    for (unsigned r = 0; r < p->peers->size; r++) {
        if (p->xlens[r] != sizeof h) return rt_peers_damaged(r, err);
        memcpy(&h, p->xin.data + r * sizeof h, sizeof h);
        if (h.status.code != RT_OK) return rt_peers_failure(&h.status, r, err);
        if (r == 0) r0 = h;
        else if (h.digest != r0.digest || !h.digest)
            return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                                "process %u billed other documents than process 0 (are its "
                                "order files the same?): a distributed run needs the same "
                                "build, arguments, book and inputs on every process", r);
    }
    rt_buf_reset(&p->xin);
    memcpy(first, r0.first, sizeof r0.first);
    return RT_OK;
}

/* A distributed run's process other than rank 0, once it has billed: its books (book), the
 * documents numbered as rank 0 numbered them, and its part of the writers' work (the tables,
 * the usage detail and the documents, for rank 0 to write); rank 0's outcome comes after
 * (share_outcome). */
static rt_status assist(run_state *rs, const rt_run_config *cfg, rt_status st, rt_error *err)
{
    pipeline *p = &rs->p;
    uint64_t first[2] = {0, 0};
    if (st == RT_OK) st = book(rs, cfg, err);
    if ((st = share_books(rs, st, first, err)) != RT_OK) return st;
    if (!cfg->accrue_only) {
        const rt_company *co = rs->cat.company;
        st = apply_numbers(co->invoice_prefix, &rs->invoices, RT_INVOICE, first[0], err);
        if (st == RT_OK)
            st = apply_numbers(co->credit_note_prefix, &rs->invoices, RT_CREDIT_NOTE, first[1],
                               err);
    }
    commit_hooks hooks = {&rs->journal, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                          false};
    rt_run_result res = {
        .period = p->rctx.period,
        .inputs = p->inputs,
        .input_count = cfg->usage_count + cfg->order_count,
        .usage_input_count = cfg->usage_count,
        .cat = &rs->cat,
        .invoices = &rs->invoices,
        .journal = &rs->journal,
        .accrual = cfg->accrue_only,
        .tables_zstd_level = cfg->tables_zstd_level,
        .journal_written = hook_journal_written,
        .hooks_ctx = &hooks,
        .spread = &rs->spread,
    };
    rt_period_format(&p->rctx.period, res.period_text, sizeof res.period_text);
    rt_output_list files = {0};
    uint64_t manifest_xxh64 = 0;
    if (st == RT_OK) st = cfg->outputs->finish(p->sink, &res, &files, &manifest_xxh64, err);
    return rt_spread_end(&rs->spread, st, err);
}

/* Rank 0's books before its outputs: the registry's write transaction begun, the period
 * checked again, the run's number, the books (book), the documents' numbers (first[2], see
 * assign_numbers), and the totals for its record. */
static rt_status commit_books(run_state *rs, const rt_run_config *cfg, uint64_t *run_no,
                              uint64_t first[2], rt_run_record *rec, rt_error *err)
{
    rt_status st;
    uint64_t prior;
    if ((st = rt_registry_begin(rs->store, &rs->txn, err)) != RT_OK) return st;
    /* Checked again inside the writer lock: another run of the period may have committed. */
    st = rt_registry_period_last_run(rs->txn, cfg->period, &prior, err);
    if (cfg->accrue_only) st = RT_ENOTFOUND, prior = 0;
    if (st == RT_OK && !cfg->rerun)
        return rt_error_set(err, RT_ECOMMITTED, NULL, 0, 0, "period",
                            "period %s was billed by run %" PRIu64 " while this run was rating",
                            cfg->period, prior);
    if (st != RT_OK && st != RT_ENOTFOUND) return st;
    if (st == RT_OK && prior != rs->corrected_run)
        return rt_error_set(err, RT_ECOMMITTED, NULL, 0, 0, "period",
                            "period %s was billed again by run %" PRIu64 " while this rerun was "
                            "rating", cfg->period, prior);
    if ((st = rt_registry_next_run_no(rs->txn, run_no, err)) != RT_OK) return st;
    if ((st = book(rs, cfg, err)) != RT_OK) return st;
    if (!cfg->accrue_only &&
        (st = assign_numbers(rs->txn, rs->cat.company, &rs->invoices, first, err)) != RT_OK)
        return st;
    memset(rec, 0, sizeof *rec);
    return totals_by_currency(&rs->invoices, rec->totals, &rec->total_count, err);
}

static rt_status commit(run_state *rs, const rt_run_config *cfg, rt_status st,
                        rt_run_summary *sum, rt_error *err)
{
    pipeline *p = &rs->p;
    uint64_t run_no = 0, first[2] = {0, 0}, t_begin = rt_clock_ns();
    rt_run_record rec;
    memset(&rec, 0, sizeof rec);
    if (st == RT_OK) st = commit_books(rs, cfg, &run_no, first, &rec, err);
    /* A distributed run: the other processes number their documents as rank 0 did, and from
     * here on every process writes (engine/spread) until the writer's end. */
    if (p->peers) st = share_books(rs, st, first, err);
    if (st != RT_OK) return st;
    uint64_t t_books = rt_clock_ns();
    p->times.books_ns = t_books - t_begin;

    rt_run_result res = {
        .run_no = run_no,
        .period = p->rctx.period,
        .rerun = rs->corrected_run != 0, /* --rerun of a period never billed is a first run */
        .late = cfg->late,
        .cat = &rs->cat,
        .book = rs->info,
        .inputs = p->inputs,
        .input_count = cfg->usage_count + cfg->order_count,
        .usage_input_count = cfg->usage_count,
        .counts = p->counts,
        .orders = &rs->orders,
        .invoices = &rs->invoices,
        .journal = &rs->journal,
        .totals = rec.totals,
        .total_count = rec.total_count,
        .accrual = cfg->accrue_only,
        .corrects_run = rs->corrected_run,
        .credit_notes = rs->corr.credit_notes,
        .unchanged = rs->corr.unchanged,
        .tables_zstd_level = cfg->tables_zstd_level,
        .times = &p->times,
    };
    res.spread = p->peers ? &rs->spread : NULL;
    rt_period_format(&p->rctx.period, res.period_text, sizeof res.period_text);
    rt_output_list files = {0};
    uint64_t manifest_xxh64 = 0;
    commit_hooks hooks = {&rs->journal, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                          false};
    res.journal_written = hook_journal_written;
    res.detail_written = gate_open;
    res.hooks_ctx = &hooks;
    /* With 2 or more threads the outputs are written on a thread of their own while this
     * one, the registry transaction's, publishes the billed events and stores the invoices in
     * effect, once the usage detail is written: the registry's dirty pages then reuse the
     * memory the usage detail sorted in, and the two are not held at once (at 50M records
     * they are a few hundred megabytes each), while the documents, which take longer, are
     * written. With one thread, first the outputs, then those, on this thread only. The
     * journal's lines are freed once written, before the usage detail (see the hooks). */
    finish_job job = {cfg->outputs, p->sink, &res, &files, &manifest_xxh64, &hooks, RT_OK, {0}};
    rt_error_clear(&job.err);
    pthread_t finisher;
    bool apart = p->threads > 1 && pthread_create(&finisher, NULL, finish_main, &job) == 0;
    if (!apart) finish_main(&job);
    gate_wait(&hooks);
    uint64_t t_reg = rt_clock_ns();
    if (!apart && job.st != RT_OK) {
        *err = job.err;
        return job.st;
    }
    if (!cfg->accrue_only) {
        /* An accrual bills nothing: its events stay billable. */
        rt_billed_path(cfg->book_dir, run_no, rs->billed_path, sizeof rs->billed_path);
        rec.billed_count = p->billed_count;
        rec.billed_xxh64 = p->billed_xxh64;
        st = rt_billed_publish(rs->billed_pending, rs->billed_path, err);
        if (st == RT_OK) {
            rs->pending_written = false;
            rs->billed_written = true;
        }
    }
    if (st == RT_OK) st = store_effective(rs, run_no, err);
    p->times.registry_ns = rt_clock_ns() - t_reg;
    p->times.registry_alongside = apart;
    if (apart) pthread_join(finisher, NULL);
    uint64_t t_sync = rt_clock_ns();
    if (job.st != RT_OK) {
        *err = job.err;
        return job.st;
    }
    if (st != RT_OK) return st;
    if ((st = write_marker(rs->staging, run_no, err)) != RT_OK) return st;
    if ((st = fsync_path(rs->staging, err)) != RT_OK) return st;

    rec.run_no = run_no;
    memcpy(rec.period, res.period_text, sizeof rec.period);
    rec.flags = (rs->corrected_run ? RT_RUN_FLAG_RERUN : 0) |
                (cfg->accrue_only ? RT_RUN_FLAG_ACCRUAL : 0);
    rec.book_fingerprint = rs->info.fingerprint;
    rec.book_version = rs->info.version;
    rec.read = p->counts.read;
    rec.rated = p->counts.rated;
    rec.rejected = p->counts.rejected;
    rec.duplicate = p->counts.duplicate;
    rec.invoices = rs->corr.new_invoices;
    first_last(&rs->invoices, RT_INVOICE, rec.first_invoice, rec.last_invoice,
               sizeof rec.first_invoice);
    rec.supersedes = rs->corrected_run;
    rec.credit_notes = rs->corr.credit_notes;
    rec.unchanged = rs->corr.unchanged;
    if (!cfg->accrue_only) record_releases(rs, &rec);
    rec.manifest_xxh64 = manifest_xxh64;
    absolute_out_dir(cfg->out_dir, rec.out_dir, sizeof rec.out_dir);
    rec.inputs = p->inputs;
    rec.input_count = cfg->usage_count + cfg->order_count;
    if ((st = rt_registry_put_run(rs->txn, &rec, err)) != RT_OK) return st;
    st = rt_registry_commit(rs->txn, err);
    rs->txn = NULL;
    if (st != RT_OK) return st;
    /* Committed: from here on the staging directory is the run's output and is never removed. */
    rs->staging_made = false;
    rs->billed_written = false;
    if ((st = commit_rename(rs->staging, cfg->out_dir, err)) != RT_OK) return st;
    p->times.sync_ns = rt_clock_ns() - t_sync;

    sum->run_no = run_no;
    sum->invoices = rs->corr.new_invoices;
    sum->credit_notes = rs->corr.credit_notes;
    sum->unchanged = rs->corr.unchanged;
    sum->corrects_run = rs->corrected_run;
    snprintf(sum->first_invoice, sizeof sum->first_invoice, "%s", rec.first_invoice);
    snprintf(sum->last_invoice, sizeof sum->last_invoice, "%s", rec.last_invoice);
    memcpy(sum->totals, rec.totals, sizeof sum->totals);
    sum->total_count = rec.total_count;
    sum->journal_debit_minor = rs->journal.sums.debit_minor;
    sum->journal_credit_minor = rs->journal.sums.credit_minor;
    sum->journal_lines = rs->journal.count;
    return RT_OK;
}

static void cleanup(run_state *rs, const rt_run_config *cfg)
{
    pipeline *p = &rs->p;
    stop_orders(rs);
    if (rs->catalog_sync) {
        pthread_cond_destroy(&rs->catalog_cv);
        pthread_mutex_destroy(&rs->catalog_mu);
    }
    free(rs->order_info);
    rt_registry_abort(rs->txn);
    if (p->sink) cfg->outputs->destroy(p->sink);
    if (rs->staging_made) remove_tree(rs->staging);
    if (rs->billed_written) unlink(rs->billed_path);
    if (rs->pending_written) unlink(rs->billed_pending);
    rt_billed_window_free(p->window);
    for (size_t i = 0; i < p->prior_count; i++) rt_billed_free(p->prior[i]);
    free(p->prior);
    if (p->slots) {
        for (unsigned i = 0; i < p->nslots; i++) {
            free(p->slots[i].chunk.data);
            rt_event_batch_free(&p->slots[i].batch);
            free(p->slots[i].rated);
            free(p->slots[i].by_part);
            free(p->slots[i].fps);
            free(p->slots[i].runs);
            free(p->slots[i].ids);
            free(p->slots[i].xfp);
            free(p->slots[i].xdup);
        }
        free(p->slots);
    }
    if (p->aggs) {
        for (unsigned i = 0; i < p->threads; i++) rt_agg_free(&p->aggs[i]);
        free(p->aggs);
    }
    for (unsigned i = 0; i < rs->nparts; i++) rt_agg_free(&rs->parts[i]);
    free(rs->parts);
    rt_buf_free(&p->xout);
    rt_buf_free(&p->xin);
    if (p->peers) rt_spread_free(&rs->spread);
    if (p->workers)
        for (unsigned i = 0; i < p->threads; i++) free(p->workers[i].pick);
    free(p->workers);
    free(p->range_end);
    free(p->inputs);
    rt_dedup_free(&p->dedup);
    rt_dedup_free(&p->cand);
    rt_billed_writer_free(p->billed);
    rt_agg_chunks_free(&rs->total);
    rt_order_result_free(&rs->order_result);
    rt_order_book_free(&rs->orders);
    rt_invoice_set_free(&rs->invoices);
    rt_correction_result_free(&rs->corr);
    rt_registry_invoices_free(&rs->old);
    rt_run_record_free(&rs->corrected);
    rt_journal_free(&rs->journal);
    if (rs->cat_built) rt_catalog_free(&rs->cat);
    rt_book_free(&rs->book);
    rt_store_close(rs->store);
}

/* A distributed run's first step, before anything can fail: rank 0's thread count to every
 * process (it sizes the waves). */
static rt_status share_threads(run_state *rs, const rt_run_config *cfg, rt_error *err)
{
    pipeline *p = &rs->p;
    rs->wave_threads = run_threads(cfg);
    p->xlens = p->peers->lens_in;
    if (!rt_peers_bcast_record(p->peers, &rs->wave_threads, sizeof rs->wave_threads, &p->xout))
        return x_memory(err);
    return RT_OK;
}

/* Rank 0's final status to the other processes of a distributed run, which return it. */
static rt_status share_outcome(pipeline *p, rt_status st, rt_error *err)
{
    rt_error e = rt_peers_status(st, err);
    if (!rt_peers_bcast_record(p->peers, &e, sizeof e, &p->xout)) return x_memory(err);
    if (e.code != RT_OK && err) *err = e;
    return e.code;
}

rt_status rt_run_execute(const rt_run_config *cfg_in, rt_run_summary *sum, rt_error *err)
{
    run_state rs;
    memset(&rs, 0, sizeof rs);
    memset(sum, 0, sizeof *sum);
    rt_error_clear(err);
    RT_ASSERT(cfg_in->open_usage && cfg_in->outputs && cfg_in->out_dir && cfg_in->book_dir);
    /* In a distributed run the ids are not scanned ahead, and only rank 0 shows progress. */
    rt_run_config dcfg = *cfg_in;
    const rt_run_config *cfg = cfg_in;
    if (cfg_in->peers) {
        RT_ASSERT(cfg_in->outputs->pack_chunk && cfg_in->outputs->unpack_chunk &&
                  cfg_in->outputs->pack_plan && cfg_in->outputs->unpack_plan);
        dcfg.id_scan = RT_ID_SCAN_OFF;
        if (cfg_in->peers->rank != 0) dcfg.progress = NULL;
        cfg = &dcfg;
        rs.p.peers = cfg->peers;
        rt_spread_init(&rs.spread, cfg->peers);
    }
    uint64_t t0 = rt_clock_ns();
    rs.p.started_ns = t0;
    rt_status st = RT_OK;
    if (rs.p.peers) st = share_threads(&rs, cfg, err);
    if (st == RT_OK) st = prepare(&rs, cfg, err);
    if (rs.p.peers) st = x_check(&rs.p, st, &rs.info, err);
    rs.p.times.load_ns = rt_clock_ns() - t0;
    if (st != RT_OK) { /* orders not read yet are not read; a thread reading them stops */
        rs.orders_due = false;
        catalog_signal(&rs, -1);
    }
    if (st == RT_OK) {
        uint64_t ts = rt_clock_ns();
        st = scan_ids(&rs.p, cfg->accrue_only ? NULL : rs.billed_pending, err);
        rs.p.times.dedup_ns += rt_clock_ns() - ts;
    }
    if (st == RT_OK) st = run_waves(&rs.p, err);
    if (rs.p.peers) {
        /* The waves ended alike everywhere (their exchanges saw to it) but for rank 0's last
         * write; then the aggregates go to every process, and each bills. */
        st = x_agree_inputs(&rs.p, st, err);
        if (st == RT_OK) st = exchange_aggregates(&rs.p, &rs.parts, &rs.nparts, err);
        st = x_agree(&rs.p, st, err);
        if (st == RT_OK && !cfg->accrue_only)
            st = write_billed(&rs.p, rs.billed_pending, &rs.p.billed_count, &rs.p.billed_xxh64,
                              &rs.pending_written, err);
    }
    uint64_t tw = rt_clock_ns();
    rt_status ost = join_orders(&rs);
    if (st == RT_OK && ost != RT_OK) {
        *err = rs.orders_err;
        st = ost;
    }
    uint64_t t1 = rt_clock_ns();
    if (st == RT_OK) {
        const rt_run_counts *c = &rs.p.counts;
        RT_ASSERT(c->read == c->rated + c->rejected + c->duplicate);
        st = bill(&rs, err);
    }
    uint64_t t2 = rt_clock_ns();
    /* (A distributed run's processes meet in commit or assist whatever failed before.) */
    if (!is_root(&rs.p))
        st = assist(&rs, cfg, st, err);
    else if (st == RT_OK || rs.p.peers)
        st = commit(&rs, cfg, st, sum, err);
    if (rs.p.peers) st = share_outcome(&rs.p, st, err);
    uint64_t t3 = rt_clock_ns();
    sum->counts = rs.p.counts;
    sum->input_bytes = rs.p.bytes_total;
    sum->times = rs.p.times;
    sum->times.orders_ns = rs.orders_ns;
    sum->times.orders_wait_ns = t1 - tw;
    sum->times.orders_alongside = rs.orders_alongside;
    sum->times.bill_ns = t2 - t1;
    sum->times.commit_ns = t3 - t2;
    sum->times.total_ns = t3 - t0;
    cleanup(&rs, cfg);
    return st;
}

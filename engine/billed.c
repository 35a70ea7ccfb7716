/* billed: sorted fingerprint files of committed runs.
 *
 * Layout: "RTBILLD2" (8 bytes), entry count (u64 LE), entries (lo u64 LE, hi u64 LE) sorted by
 * (hi, lo), XXH64 of the entry bytes (u64 LE). Fingerprints are XXH3-128 of event ids, so the
 * top 16 bits of hi spread evenly: a 65,536-bucket index on them leaves ~N/65,536 entries per
 * lookup, and the next 32 bits say about where in its bucket an entry is. */
#include "engine/billed.h"

#include "engine/bigmem.h"
#include "engine/bloom.h"
#include "engine/ordered.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC "RTBILLD2"
#define BUCKET_BITS 16
#define BUCKETS (1u << BUCKET_BITS)
#define HEADER_BYTES 16
#define TRAILER_BYTES 8

struct rt_billed_set {
    const unsigned char *map; /* the file's bytes, in `alloc` */
    size_t map_len;
    void *alloc;
    const rt_fp128 *entries; /* in the map (the file is little-endian, as the machine) */
    uint64_t count;
    uint64_t *bucket; /* BUCKETS + 1 offsets */
    uint64_t run_no;
};

_Static_assert(sizeof(rt_fp128) == 16, "fingerprint entries are 16 bytes");

void rt_billed_path(const char *book_dir, uint64_t run_no, char *buf, size_t n)
{
    snprintf(buf, n, "%s/billed/%llu.fps", book_dir, (unsigned long long)run_no);
}

/* Entries are ordered by (hi, lo): the de-duplication set is partitioned by the top bits of
 * hi, so each partition sorts on its own and the partitions concatenate in order. */
static inline int fp_cmp(const rt_fp128 *a, const rt_fp128 *b)
{
    if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sort the n fingerprints among items[0, cap) (empty slots, all zero, skipped) of one
 * partition into out: a counting sort on the bits of hi below the
 * partition bits (fingerprints are uniform, so each bucket holds a few entries), then an
 * insertion sort within buckets. */
static bool sort_part(const rt_fp128 *items, size_t cap, size_t n, rt_fp128 *out)
{
    if (n == 0) return true;
    unsigned k = 1;
    while (k < 24 && ((size_t)1 << (k + 2)) < n) k++; /* ~4 entries per bucket */
    unsigned shift = 64 - RT_DEDUP_PART_BITS - k;
    size_t nb = (size_t)1 << k, mask = nb - 1;
    uint32_t *start = calloc(nb + 1, sizeof *start);
    if (!start) return false;
    for (size_t i = 0; i < cap; i++) {
        const rt_fp128 *f = &items[i];
        if (f->lo || f->hi) start[((f->hi >> shift) & mask) + 1]++;
    }
    for (size_t b = 0; b < nb; b++) start[b + 1] += start[b];
    RT_ASSERT(start[nb] == n);
    for (size_t i = 0; i < cap; i++) {
        const rt_fp128 *f = &items[i];
        if (f->lo || f->hi) out[start[(f->hi >> shift) & mask]++] = *f;
    }
    /* start[b] is now the end of bucket b. */
    size_t lo = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t hi = start[b];
        for (size_t i = lo + 1; i < hi; i++) {
            rt_fp128 x = out[i];
            size_t j = i;
            while (j > lo && fp_cmp(&out[j - 1], &x) > 0) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = x;
        }
        lo = hi;
    }
    free(start);
    return true;
}

static rt_status write_all(int fd, const void *data, size_t len, const char *path, rt_error *err)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0)
            return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "write: %s", strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return RT_OK;
}

/* A billed-events file from partitions of fingerprints: each partition gathered and sorted on
 * one of the threads into that thread's buffer, appended in partition order, so the sorted
 * whole (16 bytes per event) is never held. The partitions come from a set (rt_billed_write_set)
 * or from a writer's spilled pieces (rt_billed_writer_finish). */
typedef struct sort_buf {
    rt_fp128 *items, *raw; /* sorted; gathered (the writer's only) */
    size_t cap, raw_cap, count;
} sort_buf;

typedef struct write_job write_job;
/* Fill b->items with partition k's fingerprints sorted, and b->count. */
typedef rt_status (*gather_fn)(write_job *j, size_t k, sort_buf *b, rt_error *err);

struct write_job {
    gather_fn gather;
    const rt_dedup *set;
    rt_billed_writer *writer;
    sort_buf *bufs; /* one per thread */
    XXH64_state_t *hash;
    int fd;
    const char *path;
};

static bool grow_buf(rt_fp128 **items, size_t *cap, size_t n)
{
    if (n <= *cap) return true;
    free(*items);
    *cap = n + n / 4;
    if (!(*items = malloc(*cap * sizeof **items))) {
        *cap = 0;
        return false;
    }
    return true;
}

static rt_status sort_work(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    write_job *j = ctx;
    return j->gather(j, k, &j->bufs[slot], err);
}

static rt_status sort_commit(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    (void)k;
    write_job *j = ctx;
    size_t bytes = j->bufs[slot].count * sizeof(rt_fp128);
    XXH64_update(j->hash, j->bufs[slot].items, bytes);
    return write_all(j->fd, j->bufs[slot].items, bytes, j->path, err);
}

static rt_status make_parent(const char *path, rt_error *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return RT_OK;
    *slash = '\0';
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return rt_error_set(err, RT_EIO, dir, 0, 0, NULL, "cannot create: %s", strerror(errno));
    return RT_OK;
}

/* Header, the partitions in order, trailer; the file is removed on failure. */
static rt_status write_sorted(write_job *job, uint64_t n, unsigned threads, uint64_t *count,
                              uint64_t *xxh64, rt_error *err)
{
    const char *path = job->path;
    rt_status st = make_parent(path, err);
    if (st != RT_OK) return st;
    if (threads == 0) threads = 1;
    job->bufs = calloc(threads, sizeof *job->bufs);
    job->hash = XXH64_createState();
    if (!job->bufs || !job->hash || XXH64_reset(job->hash, 0) == XXH_ERROR) {
        free(job->bufs);
        XXH64_freeState(job->hash);
        return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    }
    job->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (job->fd < 0)
        st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    unsigned char header[HEADER_BYTES];
    memcpy(header, MAGIC, 8);
    for (int i = 0; i < 8; i++) header[8 + i] = (unsigned char)(n >> (8 * i));
    if (st == RT_OK) st = write_all(job->fd, header, sizeof header, path, err);
    if (st == RT_OK)
        st = rt_ordered_run(RT_DEDUP_PARTS, threads, threads, sort_work, sort_commit, job, err);
    uint64_t h = XXH64_digest(job->hash);
    unsigned char trailer[TRAILER_BYTES];
    for (int i = 0; i < 8; i++) trailer[i] = (unsigned char)(h >> (8 * i));
    if (st == RT_OK) st = write_all(job->fd, trailer, sizeof trailer, path, err);
    if (job->fd >= 0) {
        close(job->fd);
        if (st != RT_OK) unlink(path);
    }
    for (unsigned t = 0; t < threads; t++) {
        free(job->bufs[t].items);
        free(job->bufs[t].raw);
    }
    free(job->bufs);
    XXH64_freeState(job->hash);
    *count = n;
    *xxh64 = h;
    return st;
}

static rt_status gather_set(write_job *j, size_t k, sort_buf *b, rt_error *err)
{
    const rt_dedup_part *p = &j->set->parts[k];
    if (!grow_buf(&b->items, &b->cap, p->count) ||
        !sort_part(p->slots, p->cap, p->count, b->items))
        return rt_error_set(err, RT_ENOMEM, j->path, 0, 0, NULL, "out of memory");
    b->count = p->count;
    return RT_OK;
}

rt_status rt_billed_write_set(const char *path, const rt_dedup *set, unsigned threads,
                              uint64_t *count, uint64_t *xxh64, rt_error *err)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) n += set->parts[k].count;
    write_job job = {.gather = gather_set, .set = set, .path = path, .fd = -1};
    return write_sorted(&job, n, threads, count, xxh64, err);
}

/* ---- a file written from partitions handed in order (distributed runs) ---- */

rt_status rt_billed_sort_part(const rt_dedup *set, unsigned k, rt_fp128 *out)
{
    const rt_dedup_part *p = &set->parts[k];
    return sort_part(p->slots, p->cap, p->count, out) ? RT_OK : RT_ENOMEM;
}

struct rt_billed_file {
    char path[PATH_MAX];
    int fd;
    uint64_t count, written;
    XXH64_state_t *hash;
};

rt_status rt_billed_file_open(const char *path, uint64_t count, rt_billed_file **out,
                              rt_error *err)
{
    rt_status st = make_parent(path, err);
    if (st != RT_OK) return st;
    rt_billed_file *f = calloc(1, sizeof *f);
    if (f) f->hash = XXH64_createState();
    if (!f || !f->hash || XXH64_reset(f->hash, 0) == XXH_ERROR) {
        if (f) XXH64_freeState(f->hash);
        free(f);
        return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->count = count;
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f->fd < 0) {
        st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
        XXH64_freeState(f->hash);
        free(f);
        return st;
    }
    unsigned char header[HEADER_BYTES];
    memcpy(header, MAGIC, 8);
    for (int i = 0; i < 8; i++) header[8 + i] = (unsigned char)(count >> (8 * i));
    if ((st = write_all(f->fd, header, sizeof header, path, err)) != RT_OK) {
        rt_billed_file_abort(f);
        return st;
    }
    *out = f;
    return RT_OK;
}

rt_status rt_billed_file_append(rt_billed_file *f, const rt_fp128 *items, size_t n,
                                rt_error *err)
{
    if (f->written + n > f->count)
        return rt_error_set(err, RT_ECORRUPT, f->path, 0, 0, NULL,
                            "more billed events than the %" PRIu64 " announced", f->count);
    f->written += n;
    XXH64_update(f->hash, items, n * sizeof *items);
    return write_all(f->fd, items, n * sizeof *items, f->path, err);
}

rt_status rt_billed_file_close(rt_billed_file *f, uint64_t *xxh64, rt_error *err)
{
    rt_status st = RT_OK;
    if (f->written != f->count)
        st = rt_error_set(err, RT_ECORRUPT, f->path, 0, 0, NULL,
                          "%" PRIu64 " billed events written of the %" PRIu64 " announced",
                          f->written, f->count);
    uint64_t h = XXH64_digest(f->hash);
    unsigned char trailer[TRAILER_BYTES];
    for (int i = 0; i < 8; i++) trailer[i] = (unsigned char)(h >> (8 * i));
    if (st == RT_OK) st = write_all(f->fd, trailer, sizeof trailer, f->path, err);
    if (st != RT_OK) {
        rt_billed_file_abort(f);
        return st;
    }
    close(f->fd);
    XXH64_freeState(f->hash);
    free(f);
    *xxh64 = h;
    return RT_OK;
}

void rt_billed_file_abort(rt_billed_file *f)
{
    if (!f) return;
    close(f->fd);
    unlink(f->path);
    XXH64_freeState(f->hash);
    free(f);
}

/* ---- a file written from fingerprints added as they are billed ---- */

struct rt_billed_writer {
    char path[PATH_MAX];
    char scratch_path[PATH_MAX];
    size_t budget;
    rt_fp_list part[RT_DEDUP_PARTS];
    int scratch;    /* unlinked file of the spilled pieces; -1 before the first spill */
    uint64_t scratch_end;
    uint32_t (*spilled)[RT_DEDUP_PARTS]; /* per spill, each partition's fingerprints in it */
    uint64_t *spill_at;                  /* per spill, its offset in the scratch file */
    size_t spills, spills_cap;
};

rt_status rt_billed_writer_open(const char *path, size_t budget, rt_billed_writer **out,
                                rt_error *err)
{
    rt_billed_writer *w = calloc(1, sizeof *w);
    if (!w) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->scratch_path, sizeof w->scratch_path, "%s.spill", path);
    w->budget = budget;
    w->scratch = -1;
    *out = w;
    return RT_OK;
}

bool rt_billed_writer_add(rt_billed_writer *w, uint64_t lo, uint64_t hi)
{
    rt_dedup_normalise(&lo, &hi);
    return rt_fp_list_push(&w->part[rt_dedup_part_of(hi)], (rt_fp128){lo, hi});
}

/* Append every partition's held fingerprints to the scratch file as one spill. */
static rt_status spill(rt_billed_writer *w, rt_error *err)
{
    rt_status st = make_parent(w->scratch_path, err);
    if (st != RT_OK) return st;
    if (w->scratch < 0) {
        /* Unlinked at once: a run that dies leaves nothing behind. */
        w->scratch = open(w->scratch_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (w->scratch < 0)
            return rt_error_set(err, RT_EIO, w->scratch_path, 0, 0, NULL, "cannot create: %s",
                                strerror(errno));
        unlink(w->scratch_path);
    }
    if (w->spills == w->spills_cap) {
        size_t cap = w->spills_cap ? w->spills_cap * 2 : 16;
        uint32_t(*sp)[RT_DEDUP_PARTS] = realloc(w->spilled, cap * sizeof *sp);
        if (sp) w->spilled = sp;
        uint64_t *at = sp ? realloc(w->spill_at, cap * sizeof *at) : NULL;
        if (at) w->spill_at = at;
        if (!sp || !at) return rt_error_set(err, RT_ENOMEM, w->path, 0, 0, NULL, "out of memory");
        w->spills_cap = cap;
    }
    w->spill_at[w->spills] = w->scratch_end;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) {
        rt_fp_list *p = &w->part[k];
        size_t bytes = p->count * sizeof *p->items;
        if ((st = write_all(w->scratch, p->items, bytes, w->scratch_path, err)) != RT_OK) return st;
        w->scratch_end += bytes;
        w->spilled[w->spills][k] = (uint32_t)p->count;
        p->count = 0;
    }
    w->spills++;
    return RT_OK;
}

rt_status rt_billed_writer_settle(rt_billed_writer *w, rt_error *err)
{
    size_t held = 0, most = 0;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) {
        held += w->part[k].count;
        if (w->part[k].count > most) most = w->part[k].count;
    }
    /* A spill's counts are 32-bit: spill before any partition could pass them. */
    if (held * sizeof(rt_fp128) <= w->budget && most < (UINT32_MAX >> 1)) return RT_OK;
    return spill(w, err);
}

static rt_status read_at(int fd, void *buf, size_t len, uint64_t at, const char *path,
                         rt_error *err)
{
    unsigned char *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "read: %s",
                                r < 0 ? strerror(errno) : "the file is shorter than written");
        p += r;
        at += (uint64_t)r;
        len -= (size_t)r;
    }
    return RT_OK;
}

static rt_status gather_writer(write_job *j, size_t k, sort_buf *b, rt_error *err)
{
    rt_billed_writer *w = j->writer;
    const rt_fp_list *p = &w->part[k];
    size_t n = p->count;
    for (size_t r = 0; r < w->spills; r++) n += w->spilled[r][k];
    if (!grow_buf(&b->raw, &b->raw_cap, n) || !grow_buf(&b->items, &b->cap, n))
        return rt_error_set(err, RT_ENOMEM, w->path, 0, 0, NULL, "out of memory");
    size_t got = 0;
    for (size_t r = 0; r < w->spills; r++) {
        uint64_t at = w->spill_at[r];
        for (size_t q = 0; q < k; q++) at += (uint64_t)w->spilled[r][q] * sizeof(rt_fp128);
        size_t m = w->spilled[r][k];
        rt_status st = read_at(w->scratch, b->raw + got, m * sizeof(rt_fp128), at,
                               w->scratch_path, err);
        if (st != RT_OK) return st;
        got += m;
    }
    if (p->count) memcpy(b->raw + got, p->items, p->count * sizeof *p->items);
    if (!sort_part(b->raw, n, n, b->items))
        return rt_error_set(err, RT_ENOMEM, w->path, 0, 0, NULL, "out of memory");
    /* Each event is billed once: a fingerprint added twice is a fault of the caller's, and
     * the file must not hide it. */
    for (size_t i = 1; i < n; i++)
        if (b->items[i - 1].lo == b->items[i].lo && b->items[i - 1].hi == b->items[i].hi)
            return rt_error_set(err, RT_ECORRUPT, w->path, 0, 0, NULL,
                                "an event fingerprint was billed twice in this run");
    b->count = n;
    return RT_OK;
}

rt_status rt_billed_writer_finish(rt_billed_writer *w, unsigned threads, uint64_t *count,
                                  uint64_t *xxh64, rt_error *err)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) {
        n += w->part[k].count;
        for (size_t r = 0; r < w->spills; r++) n += w->spilled[r][k];
    }
    write_job job = {.gather = gather_writer, .writer = w, .path = w->path, .fd = -1};
    return write_sorted(&job, n, threads, count, xxh64, err);
}

uint64_t rt_billed_writer_spilled_bytes(const rt_billed_writer *w) { return w->scratch_end; }

void rt_billed_writer_free(rt_billed_writer *w)
{
    if (!w) return;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) rt_fp_list_free(&w->part[k]);
    if (w->scratch >= 0) close(w->scratch);
    free(w->spilled);
    free(w->spill_at);
    free(w);
}

void rt_billed_pending_path(const char *book_dir, char *buf, size_t n)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    snprintf(buf, n, "%s/billed/pending-%ld-%lld%09ld.fps", book_dir, (long)getpid(),
             (long long)t.tv_sec, (long)t.tv_nsec);
}

rt_status rt_billed_publish(const char *pending, const char *path, rt_error *err)
{
    int fd = open(pending, O_RDONLY);
    if (fd < 0) return rt_error_set(err, RT_EIO, pending, 0, 0, NULL, "open: %s", strerror(errno));
    rt_status st = RT_OK;
    if (fsync(fd) != 0)
        st = rt_error_set(err, RT_EIO, pending, 0, 0, NULL, "fsync: %s", strerror(errno));
    close(fd);
    if (st == RT_OK && rename(pending, path) != 0)
        st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "rename: %s", strerror(errno));
    return st;
}

rt_status rt_billed_load(const char *path, uint64_t expect_count, uint64_t expect_xxh64,
                         uint64_t run_no, rt_billed_set **out, rt_error *err)
{
    rt_billed_set *s = calloc(1, sizeof *s);
    if (!s) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    s->run_no = run_no;
    rt_status st;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        st = rt_error_set(err, errno == ENOENT ? RT_ENOTFOUND : RT_EIO, path, 0, 0, NULL,
                          "billed events of run %llu: %s", (unsigned long long)run_no,
                          strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != HEADER_BYTES + expect_count * 16 + TRAILER_BYTES) {
        close(fd);
        st = rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL,
                          "billed events file has the wrong size for %llu entries",
                          (unsigned long long)expect_count);
        goto fail;
    }
    s->map_len = (size_t)sb.st_size;
    /* Read into memory in 2 MiB pages where the kernel has them (bigmem): lookups land at
     * random all over the file. */
    void *m = rt_big_alloc(s->map_len);
    if (!m) {
        close(fd);
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    s->alloc = m;
    unsigned char *base = m;
    size_t got = 0;
    while (got < s->map_len) {
        ssize_t r = read(fd, base + got, s->map_len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            close(fd);
            st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "read: %s",
                              r < 0 ? strerror(errno) : "the file is shorter than it was");
            goto fail;
        }
        got += (size_t)r;
    }
    close(fd);
    m = base;
    s->map = m;
    uint64_t n = 0, h = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)s->map[8 + i] << (8 * i);
    for (int i = 0; i < 8; i++) h |= (uint64_t)s->map[s->map_len - 8 + (size_t)i] << (8 * i);
    s->entries = (const rt_fp128 *)(const void *)(s->map + HEADER_BYTES);
    s->count = n;
    if (memcmp(s->map, MAGIC, 8) != 0 || n != expect_count || h != expect_xxh64 ||
        XXH64(s->entries, n * 16, 0) != h) {
        st = rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL,
                          "billed events file does not match the registry (damaged or replaced)");
        goto fail;
    }
    s->bucket = calloc(BUCKETS + 1, sizeof *s->bucket);
    if (!s->bucket) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    /* One pass: bucket starts, and a check that the file is sorted. */
    for (uint64_t i = 0; i < n; i++) {
        if (i && fp_cmp(&s->entries[i - 1], &s->entries[i]) >= 0) {
            st = rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL, "billed events are not sorted");
            goto fail;
        }
        s->bucket[(s->entries[i].hi >> (64 - BUCKET_BITS)) + 1]++;
    }
    for (uint32_t b = 0; b < BUCKETS; b++) s->bucket[b + 1] += s->bucket[b];
    *out = s;
    return RT_OK;
fail:
    rt_billed_free(s);
    return st;
}

bool rt_billed_contains(const rt_billed_set *s, uint64_t lo, uint64_t hi)
{
    rt_dedup_normalise(&lo, &hi);
    uint32_t b = (uint32_t)(hi >> (64 - BUCKET_BITS));
    uint64_t a = s->bucket[b], z = s->bucket[b + 1];
    if (a == z) return false;
    /* Fingerprints are uniform, so the key's place in its bucket is about its fraction of the
     * bucket's range: start there and walk (a few entries, one or two cache lines), instead of
     * a binary search's cache miss per step. */
    uint64_t frac = (hi << BUCKET_BITS) >> 32; /* the next 32 bits, 0 .. 2^32-1 */
    uint64_t i = a + (uint64_t)(((unsigned __int128)frac * (z - a)) >> 32);
    rt_fp128 key = {lo, hi};
    if (fp_cmp(&s->entries[i], &key) < 0) {
        while (++i < z && fp_cmp(&s->entries[i], &key) < 0) {
        }
    } else {
        while (i > a && fp_cmp(&s->entries[i - 1], &key) >= 0) i--;
    }
    return i < z && s->entries[i].lo == lo && s->entries[i].hi == hi;
}

uint64_t rt_billed_run(const rt_billed_set *s) { return s->run_no; }

void rt_billed_free(rt_billed_set *s)
{
    if (!s) return;
    rt_big_free(s->alloc, s->map_len);
    free(s->bucket);
    free(s);
}

/* ---- a window of sets behind one filter ---- */

enum { FIND_AHEAD = 16 };

struct rt_billed_window {
    rt_billed_set *const *sets;
    size_t count;
    rt_bloom filter;
};

rt_status rt_billed_window_build(rt_billed_set *const *sets, size_t n, rt_billed_window **out)
{
    rt_billed_window *w = calloc(1, sizeof *w);
    if (!w) return RT_ENOMEM;
    w->sets = sets;
    w->count = n;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += sets[i]->count;
    if (rt_bloom_init(&w->filter, total, 0) != RT_OK) {
        free(w);
        return RT_ENOMEM;
    }
    /* The sets are sorted by hi, which picks the block: the filter is filled in order. */
    for (size_t i = 0; i < n; i++)
        for (uint64_t k = 0; k < sets[i]->count; k++)
            rt_bloom_add(&w->filter, sets[i]->entries[k].lo, sets[i]->entries[k].hi);
    *out = w;
    return RT_OK;
}

static uint64_t window_probe(const rt_billed_window *w, uint64_t lo, uint64_t hi)
{
    rt_dedup_normalise(&lo, &hi);
    if (!rt_bloom_test(&w->filter, lo, hi)) return 0;
    for (size_t i = 0; i < w->count; i++)
        if (rt_billed_contains(w->sets[i], lo, hi)) return w->sets[i]->run_no;
    return 0;
}

void rt_billed_window_find(const rt_billed_window *w, const rt_fp128 *fps, size_t n,
                           uint64_t *runs)
{
    for (size_t i = 0; i < n + FIND_AHEAD; i++) {
        if (i < n) {
            uint64_t lo = fps[i].lo, hi = fps[i].hi;
            rt_dedup_normalise(&lo, &hi); /* as window_probe will look it up */
            rt_bloom_prefetch(&w->filter, hi);
        }
        if (i >= FIND_AHEAD) {
            size_t j = i - FIND_AHEAD;
            runs[j] = w->count ? window_probe(w, fps[j].lo, fps[j].hi) : 0;
        }
    }
}

void rt_billed_window_free(rt_billed_window *w)
{
    if (!w) return;
    rt_bloom_free(&w->filter);
    free(w);
}

/* billed: sorted fingerprint files of committed runs.
 *
 * Layout: "RTBILLD2" (8 bytes), entry count (u64 LE), entries (lo u64 LE, hi u64 LE) sorted by
 * (hi, lo), XXH64 of the entry bytes (u64 LE). Fingerprints are XXH3-128 of event ids, so the
 * top 16 bits of hi spread evenly: a 65,536-bucket index on them leaves ~N/65,536 entries per
 * lookup, and the next 32 bits say about where in its bucket an entry is. */
#include "engine/billed.h"

#include "engine/bigmem.h"
#include "engine/ordered.h"

#include <errno.h>
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

/* Sort one partition's fingerprints into out: a counting sort on the bits of hi below the
 * partition bits (fingerprints are uniform, so each bucket holds a few entries), then an
 * insertion sort within buckets. */
static bool sort_part(const rt_dedup_part *p, rt_fp128 *out)
{
    size_t n = p->count;
    if (n == 0) return true;
    unsigned k = 1;
    while (k < 24 && ((size_t)1 << (k + 2)) < n) k++; /* ~4 entries per bucket */
    unsigned shift = 64 - RT_DEDUP_PART_BITS - k;
    size_t nb = (size_t)1 << k, mask = nb - 1;
    uint32_t *start = calloc(nb + 1, sizeof *start);
    if (!start) return false;
    for (size_t i = 0; i < p->cap; i++) {
        const rt_fp128 *f = &p->slots[i];
        if (f->lo || f->hi) start[((f->hi >> shift) & mask) + 1]++;
    }
    for (size_t b = 0; b < nb; b++) start[b + 1] += start[b];
    RT_ASSERT(start[nb] == n);
    for (size_t i = 0; i < p->cap; i++) {
        const rt_fp128 *f = &p->slots[i];
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

/* rt_billed_write_set: partitions sorted on every thread, appended in order. */
typedef struct sort_buf {
    rt_fp128 *items;
    size_t cap;
} sort_buf;

typedef struct write_job {
    const rt_dedup *set;
    sort_buf *bufs; /* one per thread */
    XXH64_state_t *hash;
    int fd;
    const char *path;
} write_job;

static rt_status sort_work(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    write_job *j = ctx;
    const rt_dedup_part *p = &j->set->parts[k];
    sort_buf *b = &j->bufs[slot];
    if (p->count > b->cap) {
        free(b->items);
        b->cap = p->count + p->count / 4;
        if (!(b->items = malloc(b->cap * sizeof *b->items))) {
            b->cap = 0;
            return rt_error_set(err, RT_ENOMEM, j->path, 0, 0, NULL, "out of memory");
        }
    }
    if (!sort_part(p, b->items)) return rt_error_set(err, RT_ENOMEM, j->path, 0, 0, NULL, "out of memory");
    return RT_OK;
}

static rt_status sort_commit(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    write_job *j = ctx;
    size_t bytes = j->set->parts[k].count * sizeof(rt_fp128);
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

rt_status rt_billed_write_set(const char *path, const rt_dedup *set, unsigned threads,
                              uint64_t *count, uint64_t *xxh64, rt_error *err)
{
    rt_status st = make_parent(path, err);
    if (st != RT_OK) return st;
    uint64_t n = 0;
    for (unsigned k = 0; k < RT_DEDUP_PARTS; k++) n += set->parts[k].count;
    if (threads == 0) threads = 1;
    sort_buf *bufs = calloc(threads, sizeof *bufs);
    XXH64_state_t *hash = XXH64_createState();
    if (!bufs || !hash || XXH64_reset(hash, 0) == XXH_ERROR) {
        free(bufs);
        XXH64_freeState(hash);
        return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    unsigned char header[HEADER_BYTES];
    memcpy(header, MAGIC, 8);
    for (int i = 0; i < 8; i++) header[8 + i] = (unsigned char)(n >> (8 * i));
    if (st == RT_OK) st = write_all(fd, header, sizeof header, path, err);
    write_job job = {set, bufs, hash, fd, path};
    if (st == RT_OK)
        st = rt_ordered_run(RT_DEDUP_PARTS, threads, threads, sort_work, sort_commit, &job, err);
    uint64_t h = XXH64_digest(hash);
    unsigned char trailer[TRAILER_BYTES];
    for (int i = 0; i < 8; i++) trailer[i] = (unsigned char)(h >> (8 * i));
    if (st == RT_OK) st = write_all(fd, trailer, sizeof trailer, path, err);
    if (fd >= 0) {
        close(fd);
        if (st != RT_OK) unlink(path);
    }
    for (unsigned t = 0; t < threads; t++) free(bufs[t].items);
    free(bufs);
    XXH64_freeState(hash);
    *count = n;
    *xxh64 = h;
    return st;
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
    if (lo == 0 && hi == 0) hi = 1; /* as rt_dedup stores it */
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

enum { BLOOM_WORDS = 8, BLOOM_PROBES = 7, BLOOM_BITS_PER_EVENT = 10, FIND_AHEAD = 16 };

struct rt_billed_window {
    rt_billed_set *const *sets;
    size_t count;
    uint64_t *blocks; /* nblocks x BLOOM_WORDS words: one 64-byte line per block */
    size_t nblocks;
    unsigned block_bits; /* nblocks = 2^block_bits */
};

/* The block is chosen by the top bits of hi (so building from sets sorted by hi walks the
 * filter in order), the bits within it by 9-bit slices of lo. */
static const uint64_t *block_of(const rt_billed_window *w, uint64_t hi)
{
    size_t b = w->block_bits ? (size_t)(hi >> (64 - w->block_bits)) : 0;
    return w->blocks + b * BLOOM_WORDS;
}

rt_status rt_billed_window_build(rt_billed_set *const *sets, size_t n, rt_billed_window **out)
{
    rt_billed_window *w = calloc(1, sizeof *w);
    if (!w) return RT_ENOMEM;
    w->sets = sets;
    w->count = n;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += sets[i]->count;
    uint64_t want = total * BLOOM_BITS_PER_EVENT / (BLOOM_WORDS * 64) + 1;
    while (w->block_bits < 40 && ((uint64_t)1 << w->block_bits) < want) w->block_bits++;
    w->nblocks = (size_t)1 << w->block_bits;
    w->blocks = rt_big_alloc(w->nblocks * BLOOM_WORDS * sizeof *w->blocks);
    if (!w->blocks) {
        free(w);
        return RT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        for (uint64_t k = 0; k < sets[i]->count; k++) {
            const rt_fp128 *f = &sets[i]->entries[k];
            uint64_t *blk = (uint64_t *)block_of(w, f->hi);
            for (unsigned j = 0; j < BLOOM_PROBES; j++) {
                unsigned bit = (unsigned)(f->lo >> (9 * j)) & 511;
                blk[bit >> 6] |= UINT64_C(1) << (bit & 63);
            }
        }
    }
    *out = w;
    return RT_OK;
}

static uint64_t window_probe(const rt_billed_window *w, uint64_t lo, uint64_t hi)
{
    if (lo == 0 && hi == 0) hi = 1; /* as rt_dedup stores it */
    const uint64_t *blk = block_of(w, hi);
    for (unsigned j = 0; j < BLOOM_PROBES; j++) {
        unsigned bit = (unsigned)(lo >> (9 * j)) & 511;
        if (!(blk[bit >> 6] >> (bit & 63) & 1)) return 0;
    }
    for (size_t i = 0; i < w->count; i++)
        if (rt_billed_contains(w->sets[i], lo, hi)) return w->sets[i]->run_no;
    return 0;
}

void rt_billed_window_find(const rt_billed_window *w, const rt_fp128 *fps, size_t n,
                           uint64_t *runs)
{
    for (size_t i = 0; i < n + FIND_AHEAD; i++) {
        if (i < n) __builtin_prefetch(block_of(w, fps[i].lo || fps[i].hi ? fps[i].hi : 1));
        if (i >= FIND_AHEAD) {
            size_t j = i - FIND_AHEAD;
            runs[j] = w->count ? window_probe(w, fps[j].lo, fps[j].hi) : 0;
        }
    }
}

void rt_billed_window_free(rt_billed_window *w)
{
    if (!w) return;
    rt_big_free(w->blocks, w->nblocks * BLOOM_WORDS * sizeof *w->blocks);
    free(w);
}

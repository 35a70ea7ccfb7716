/* billed: sorted fingerprint files of committed runs.
 *
 * Layout: "RTBILLD1" (8 bytes), entry count (u64 LE), entries (lo u64 LE, hi u64 LE) sorted by
 * (lo, hi), XXH64 of the entry bytes (u64 LE). Fingerprints are XXH3-128 of event ids, so their
 * top 16 bits spread evenly: a 65,536-bucket index on them leaves ~N/65,536 entries per
 * lookup. */
#include "engine/billed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC "RTBILLD1"
#define BUCKET_BITS 16
#define BUCKETS (1u << BUCKET_BITS)
#define HEADER_BYTES 16
#define TRAILER_BYTES 8

struct rt_billed_set {
    const unsigned char *map;
    size_t map_len;
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

static int fp_cmp(const void *x, const void *y)
{
    const rt_fp128 *a = x, *b = y;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    return a->hi < b->hi ? -1 : a->hi > b->hi;
}

/* Sorted copy of the set's fingerprints: bucket by the top bits, then sort each bucket. */
static rt_fp128 *sorted_entries(const rt_dedup *set, uint64_t *count)
{
    uint64_t n = 0;
    for (unsigned p = 0; p < RT_DEDUP_PARTS; p++) n += set->parts[p].count;
    rt_fp128 *out = malloc((n ? n : 1) * sizeof *out);
    uint64_t *start = calloc(BUCKETS + 1, sizeof *start);
    if (!out || !start) {
        free(out);
        free(start);
        return NULL;
    }
    for (unsigned p = 0; p < RT_DEDUP_PARTS; p++)
        for (size_t i = 0; i <= set->parts[p].mask; i++) {
            const rt_fp128 *f = &set->parts[p].slots[i];
            if (f->lo || f->hi) start[(f->lo >> (64 - BUCKET_BITS)) + 1]++;
        }
    for (uint32_t b = 0; b < BUCKETS; b++) start[b + 1] += start[b];
    RT_ASSERT(start[BUCKETS] == n);
    uint64_t *fill = malloc(BUCKETS * sizeof *fill);
    if (!fill) {
        free(out);
        free(start);
        return NULL;
    }
    memcpy(fill, start, BUCKETS * sizeof *fill);
    for (unsigned p = 0; p < RT_DEDUP_PARTS; p++)
        for (size_t i = 0; i <= set->parts[p].mask; i++) {
            const rt_fp128 *f = &set->parts[p].slots[i];
            if (f->lo || f->hi) out[fill[f->lo >> (64 - BUCKET_BITS)]++] = *f;
        }
    for (uint32_t b = 0; b < BUCKETS; b++)
        qsort(out + start[b], (size_t)(start[b + 1] - start[b]), sizeof *out, fp_cmp);
    free(fill);
    free(start);
    *count = n;
    return out;
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

rt_status rt_billed_write(const char *path, const rt_dedup *set, uint64_t *count,
                          uint64_t *xxh64, rt_error *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return rt_error_set(err, RT_EIO, dir, 0, 0, NULL, "cannot create: %s", strerror(errno));
    }
    uint64_t n;
    rt_fp128 *e = sorted_entries(set, &n);
    if (!e) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    rt_status st;
    if (fd < 0) {
        st = rt_error_set(err, RT_EIO, tmp, 0, 0, NULL, "cannot create: %s", strerror(errno));
        goto done;
    }
    unsigned char header[HEADER_BYTES];
    memcpy(header, MAGIC, 8);
    for (int i = 0; i < 8; i++) header[8 + i] = (unsigned char)(n >> (8 * i));
    uint64_t h = XXH64(e, n * sizeof *e, 0);
    unsigned char trailer[TRAILER_BYTES];
    for (int i = 0; i < 8; i++) trailer[i] = (unsigned char)(h >> (8 * i));
    st = write_all(fd, header, sizeof header, tmp, err);
    if (st == RT_OK) st = write_all(fd, e, n * sizeof *e, tmp, err);
    if (st == RT_OK) st = write_all(fd, trailer, sizeof trailer, tmp, err);
    if (st == RT_OK && fsync(fd) != 0)
        st = rt_error_set(err, RT_EIO, tmp, 0, 0, NULL, "fsync: %s", strerror(errno));
    close(fd);
    if (st == RT_OK && rename(tmp, path) != 0)
        st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "rename: %s", strerror(errno));
    if (st != RT_OK) unlink(tmp);
    *count = n;
    *xxh64 = h;
done:
    free(e);
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
    void *m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "mmap: %s", strerror(errno));
        goto fail;
    }
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
        s->bucket[(s->entries[i].lo >> (64 - BUCKET_BITS)) + 1]++;
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
    uint32_t b = (uint32_t)(lo >> (64 - BUCKET_BITS));
    uint64_t a = s->bucket[b], z = s->bucket[b + 1];
    rt_fp128 key = {lo, hi};
    while (a < z) {
        uint64_t mid = a + (z - a) / 2;
        int c = fp_cmp(&s->entries[mid], &key);
        if (c == 0) return true;
        if (c < 0)
            a = mid + 1;
        else
            z = mid;
    }
    return false;
}

uint64_t rt_billed_run(const rt_billed_set *s) { return s->run_no; }

void rt_billed_free(rt_billed_set *s)
{
    if (!s) return;
    if (s->map) munmap((void *)s->map, s->map_len);
    free(s->bucket);
    free(s);
}

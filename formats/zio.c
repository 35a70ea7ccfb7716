/* zio: plain-or-zstd streaming files with XXH64 checksums. */
#ifdef __linux__
#define _GNU_SOURCE /* sync_file_range */
#endif
#include "formats/zio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define ZSTD_MAGIC 0xFD2FB528u
#define IO_BUF_SIZE ((size_t)1 << 20)
/* A writer asks the kernel to start writing its file out every this many bytes, so that the
 * fsync at close finds little left to do: the page cache would otherwise hold a run's
 * outputs (gigabytes) until each file's fsync, with the writing thread waiting on the disk. */
#define WRITEBACK_STEP ((uint64_t)16 << 20)
#define SLURP_MIN_ROOM ((size_t)64 << 10)

struct rt_zreader {
    int fd;
    char *path;
    bool compressed;
    bool eof_in;        /* the file has been read to its end */
    bool frame_open;    /* inside a zstd frame (ZSTD_decompressStream returned non-zero) */
    ZSTD_DStream *ds;
    unsigned char *in;
    ZSTD_inBuffer ib;
    uint64_t offset;
    XXH64_state_t *hash;
    rt_buf *raw; /* when set, every byte read from the file is appended to it as stored */
};

static rt_status fill(rt_zreader *r, rt_error *err)
{
    ssize_t n;
    do {
        n = read(r->fd, r->in, IO_BUF_SIZE);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return rt_error_set(err, RT_EIO, r->path, 0, 0, NULL, "read: %s", strerror(errno));
    if (n == 0) r->eof_in = true;
    if (r->raw) {
        rt_buf_append(r->raw, r->in, (size_t)n);
        if (r->raw->failed) return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
    }
    XXH64_update(r->hash, r->in, (size_t)n);
    r->offset += (uint64_t)n;
    r->ib.src = r->in;
    r->ib.size = (size_t)n;
    r->ib.pos = 0;
    return RT_OK;
}

static rt_status zreader_open(const char *path, rt_buf *raw, rt_zreader **out, rt_error *err)
{
    rt_zreader *r = calloc(1, sizeof *r);
    if (!r) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    r->raw = raw;
    r->fd = open(path, O_RDONLY);
    r->path = strdup(path);
    r->in = malloc(IO_BUF_SIZE);
    r->hash = XXH64_createState();
    rt_status st;
    if (r->fd < 0) {
        st = rt_error_set(err, errno == ENOENT ? RT_ENOTFOUND : RT_EIO, path, 0, 0, NULL,
                          "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (!r->path || !r->in || !r->hash) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    XXH64_reset(r->hash, 0);
    if ((st = fill(r, err)) != RT_OK) goto fail;
    if (r->ib.size >= 4) {
        uint32_t magic = (uint32_t)r->in[0] | (uint32_t)r->in[1] << 8 |
                         (uint32_t)r->in[2] << 16 | (uint32_t)r->in[3] << 24;
        /* A zstd file may start with a skippable frame (ratel's frame index does). */
        r->compressed = magic == ZSTD_MAGIC || (magic & 0xFFFFFFF0u) == 0x184D2A50u;
    }
    if (r->compressed) {
        r->ds = ZSTD_createDStream();
        if (!r->ds) {
            st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
            goto fail;
        }
    }
    *out = r;
    return RT_OK;
fail:
    rt_zreader_close(r);
    return st;
}

rt_status rt_zreader_open(const char *path, rt_zreader **out, rt_error *err)
{
    return zreader_open(path, NULL, out, err);
}

rt_status rt_zreader_read(rt_zreader *r, void *buf, size_t cap, size_t *got, rt_error *err)
{
    *got = 0;
    rt_status st;
    if (!r->compressed) {
        while (*got < cap) {
            if (r->ib.pos == r->ib.size) {
                if (r->eof_in) break;
                if ((st = fill(r, err)) != RT_OK) return st;
                continue;
            }
            size_t n = r->ib.size - r->ib.pos;
            if (n > cap - *got) n = cap - *got;
            memcpy((char *)buf + *got, (const char *)r->ib.src + r->ib.pos, n);
            r->ib.pos += n;
            *got += n;
        }
        return RT_OK;
    }
    ZSTD_outBuffer ob = {buf, cap, 0};
    while (ob.pos < ob.size) {
        if (r->ib.pos == r->ib.size && !r->eof_in) {
            if ((st = fill(r, err)) != RT_OK) return st;
            continue;
        }
        size_t before = ob.pos, in_before = r->ib.pos;
        size_t rc = ZSTD_decompressStream(r->ds, &ob, &r->ib);
        if (ZSTD_isError(rc))
            return rt_error_set(err, RT_ECORRUPT, r->path, 0, 0, NULL, "corrupt zstd data: %s",
                                ZSTD_getErrorName(rc));
        /* rc == 0 exactly when a frame has just been completed and flushed; a call that
         * neither read nor wrote says nothing new (between frames it asks for a header). */
        if (ob.pos != before || r->ib.pos != in_before) r->frame_open = rc != 0;
        /* At the end of the file the decoder may still flush buffered output; once it makes
         * no progress, an open frame means the file was cut short. */
        if (r->ib.pos == r->ib.size && r->eof_in && ob.pos == before) {
            if (r->frame_open)
                return rt_error_set(err, RT_ECORRUPT, r->path, 0, 0, NULL,
                                    "truncated zstd frame at the end of the file");
            break;
        }
    }
    *got = ob.pos;
    return RT_OK;
}

uint64_t rt_zreader_offset(const rt_zreader *r) { return r->offset; }
bool rt_zreader_compressed(const rt_zreader *r) { return r->compressed; }

void rt_zreader_checksum(const rt_zreader *r, uint64_t *bytes, uint64_t *xxh64)
{
    *bytes = r->offset;
    *xxh64 = XXH64_digest(r->hash);
}

void rt_zreader_close(rt_zreader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    ZSTD_freeDStream(r->ds);
    XXH64_freeState(r->hash);
    free(r->in);
    free(r->path);
    free(r);
}

void rt_zio_find(const char *dir, const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s.zst", dir, name);
    if (access(path, F_OK) != 0) snprintf(path, n, "%s/%s", dir, name);
}

rt_status rt_zio_slurp(const char *path, rt_buf *b, rt_error *err)
{
    return rt_zio_slurp_raw(path, b, NULL, err);
}

rt_status rt_zio_slurp_raw(const char *path, rt_buf *b, rt_buf *raw, rt_error *err)
{
    rt_zreader *r;
    rt_status st = zreader_open(path, raw, &r, err);
    if (st != RT_OK) return st;
    for (;;) {
        /* Read into whatever room there is, growing only when little is left: asking for a
         * full IO_BUF_SIZE every time doubled the buffer (and copied it) even for the final,
         * empty read of a small file. */
        if (!rt_buf_reserve(b, SLURP_MIN_ROOM)) {
            st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
            break;
        }
        size_t got;
        if ((st = rt_zreader_read(r, b->data + b->len, b->cap - b->len, &got, err)) != RT_OK)
            break;
        if (got == 0) break;
        b->len += got;
    }
    rt_zreader_close(r);
    return st;
}

rt_status rt_zio_checksum_file(const char *path, uint64_t *bytes, uint64_t *xxh64, rt_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return rt_error_set(err, errno == ENOENT ? RT_ENOTFOUND : RT_EIO, path, 0, 0, NULL,
                            "cannot open: %s", strerror(errno));
    XXH64_state_t *h = XXH64_createState();
    unsigned char *buf = malloc(IO_BUF_SIZE);
    rt_status st = RT_OK;
    uint64_t total = 0;
    if (!h || !buf) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto done;
    }
    XXH64_reset(h, 0);
    for (;;) {
        ssize_t n = read(fd, buf, IO_BUF_SIZE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "read: %s", strerror(errno));
            goto done;
        }
        if (n == 0) break;
        XXH64_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    *bytes = total;
    *xxh64 = XXH64_digest(h);
done:
    close(fd);
    XXH64_freeState(h);
    free(buf);
    return st;
}

/* ---- writer ---- */

struct rt_zwriter {
    int fd;
    char *path;
    int level;
    ZSTD_CStream *cs;
    unsigned char *out;
    size_t out_len;
    uint64_t bytes;
    uint64_t written_back; /* bytes whose write-out was started (WRITEBACK_STEP) */
    XXH64_state_t *hash;
    bool defer_sync; /* the caller fsyncs the file after close */
};

static rt_status write_all(rt_zwriter *w, const void *data, size_t len, rt_error *err)
{
    const char *p = data;
    XXH64_update(w->hash, data, len);
    w->bytes += len;
    while (len) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return rt_error_set(err, RT_EIO, w->path, 0, 0, NULL, "write: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
#ifdef __linux__
    if (w->bytes - w->written_back >= WRITEBACK_STEP) {
        /* Only a hint (it does not wait): its failure is the fsync's to report. */
        (void)sync_file_range(w->fd, (off_t)w->written_back, (off_t)(w->bytes - w->written_back),
                              SYNC_FILE_RANGE_WRITE);
        w->written_back = w->bytes;
    }
#endif
    return RT_OK;
}

/* Buffered so that small rows do not each become a system call. */
static rt_status emit(rt_zwriter *w, const void *data, size_t len, rt_error *err)
{
    if (w->out_len + len > IO_BUF_SIZE) {
        rt_status st = write_all(w, w->out, w->out_len, err);
        w->out_len = 0;
        if (st != RT_OK) return st;
        if (len > IO_BUF_SIZE) return write_all(w, data, len, err);
    }
    if (len) memcpy(w->out + w->out_len, data, len);
    w->out_len += len;
    return RT_OK;
}

rt_status rt_zwriter_open(const char *path, int level, rt_zwriter **out, rt_error *err)
{
    rt_zwriter *w = calloc(1, sizeof *w);
    if (!w) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    w->path = strdup(path);
    w->level = level;
    w->out = malloc(IO_BUF_SIZE);
    w->hash = XXH64_createState();
    rt_status st;
    if (w->fd < 0) {
        st = rt_error_set(err, errno == EEXIST ? RT_EEXIST : RT_EIO, path, 0, 0, NULL,
                          "cannot create: %s", strerror(errno));
        goto fail;
    }
    if (!w->path || !w->out || !w->hash) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    XXH64_reset(w->hash, 0);
    if (level > 0) {
        w->cs = ZSTD_createCStream();
        if (!w->cs || ZSTD_isError(ZSTD_CCtx_setParameter(w->cs, ZSTD_c_compressionLevel, level))) {
            st = rt_error_set(err, RT_EZSTD, path, 0, 0, NULL, "cannot set up zstd");
            goto fail;
        }
    }
    *out = w;
    return RT_OK;
fail:
    rt_zwriter_abort(w);
    return st;
}

static rt_status compress_some(rt_zwriter *w, const void *data, size_t len,
                               ZSTD_EndDirective mode, rt_error *err)
{
    ZSTD_inBuffer ib = {data, len, 0};
    unsigned char tmp[1 << 16];
    for (;;) {
        ZSTD_outBuffer ob = {tmp, sizeof tmp, 0};
        size_t rc = ZSTD_compressStream2(w->cs, &ob, &ib, mode);
        if (ZSTD_isError(rc))
            return rt_error_set(err, RT_EZSTD, w->path, 0, 0, NULL, "zstd: %s",
                                ZSTD_getErrorName(rc));
        rt_status st = emit(w, tmp, ob.pos, err);
        if (st != RT_OK) return st;
        if (mode == ZSTD_e_end ? rc == 0 : ib.pos == ib.size) return RT_OK;
    }
}

rt_status rt_zwriter_write(rt_zwriter *w, const void *data, size_t len, rt_error *err)
{
    if (!w->cs) return emit(w, data, len, err);
    return compress_some(w, data, len, ZSTD_e_continue, err);
}

rt_status rt_zwriter_write_raw(rt_zwriter *w, const void *data, size_t len, rt_error *err)
{
    return emit(w, data, len, err);
}

rt_status rt_zwriter_close(rt_zwriter *w, uint64_t *bytes, uint64_t *xxh64, rt_error *err)
{
    rt_status st = RT_OK;
    if (w->cs) st = compress_some(w, "", 0, ZSTD_e_end, err);
    if (st == RT_OK && w->out_len) st = write_all(w, w->out, w->out_len, err);
    w->out_len = 0;
    if (st == RT_OK && !w->defer_sync && fsync(w->fd) != 0)
        st = rt_error_set(err, RT_EIO, w->path, 0, 0, NULL, "fsync: %s", strerror(errno));
    if (close(w->fd) != 0 && st == RT_OK)
        st = rt_error_set(err, RT_EIO, w->path, 0, 0, NULL, "close: %s", strerror(errno));
    w->fd = -1;
    if (bytes) *bytes = w->bytes;
    if (xxh64) *xxh64 = XXH64_digest(w->hash);
    rt_zwriter_abort(w);
    return st;
}

void rt_zwriter_abort(rt_zwriter *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    ZSTD_freeCStream(w->cs);
    XXH64_freeState(w->hash);
    free(w->out);
    free(w->path);
    free(w);
}

void rt_zwriter_defer_sync(rt_zwriter *w) { w->defer_sync = true; }

rt_status rt_zio_fsync(const char *path, rt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "open: %s", strerror(errno));
    int rc = fsync(fd), e = errno;
    close(fd);
    if (rc != 0) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "fsync: %s", strerror(e));
    return RT_OK;
}

rt_status rt_zframe_compress_hashed(ZSTD_CCtx *cctx, int level, int hash_log, const void *src,
                                    size_t len, rt_buf *out)
{
    size_t bound = ZSTD_compressBound(len);
    if (!rt_buf_reserve(out, bound)) return RT_ENOMEM;
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, hash_log)))
        return RT_EZSTD;
    size_t n = ZSTD_compress2(cctx, out->data + out->len, bound, src, len);
    if (ZSTD_isError(n)) return RT_EZSTD;
    out->len += n;
    return RT_OK;
}

rt_status rt_zframe_compress(ZSTD_CCtx *cctx, int level, const void *src, size_t len,
                             rt_buf *out)
{
    return rt_zframe_compress_hashed(cctx, level, 0, src, len, out);
}

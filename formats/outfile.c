/* outfile: buffered row writer with manifest bookkeeping. */
#include "formats/outfile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ordered.h"

#define FLUSH_BYTES ((size_t)1 << 20)

void rt_outfile_name(const char *name, int level, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", name, level > 0 ? ".zst" : "");
}

rt_status rt_outfile_open(rt_outfile *f, const char *dir, const char *name, int level,
                          rt_error *err)
{
    char path[PATH_MAX];
    memset(f, 0, sizeof *f);
    rt_buf_init(&f->buf);
    rt_buf_init(&f->frame);
    f->level = level;
    snprintf(f->name, sizeof f->name, "%s", name);
    if (!dir) return RT_OK;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (level > 0 && !(f->cctx = ZSTD_createCCtx()))
        return rt_error_set(err, RT_ENOMEM, name, 0, 0, NULL, "out of memory");
    /* The frames are made here, so the writer itself stores bytes as they come. */
    rt_status st = rt_zwriter_open(path, 0, &f->w, err);
    if (st != RT_OK) {
        ZSTD_freeCCtx(f->cctx);
        f->cctx = NULL;
    }
    return st;
}

void rt_outfile_defer_sync(rt_outfile *f)
{
    if (f->w) rt_zwriter_defer_sync(f->w);
}

/* Append text to the file: as it is, or as one zstd frame made with cctx into frame. */
static rt_status put_text(rt_outfile *f, ZSTD_CCtx *cctx, rt_buf *frame, const rt_buf *text,
                          rt_error *err)
{
    if (text->failed) return rt_error_set(err, RT_ENOMEM, f->name, 0, 0, NULL, "out of memory");
    if (!text->len || !f->w) return RT_OK;
    if (!f->level) return rt_zwriter_write_raw(f->w, text->data, text->len, err);
    rt_buf_reset(frame);
    rt_status st = rt_zframe_compress(cctx, f->level, text->data, text->len, frame);
    if (st != RT_OK) return rt_error_set(err, st, f->name, 0, 0, NULL, "cannot compress a frame");
    return rt_zwriter_write_raw(f->w, frame->data, frame->len, err);
}

static rt_status flush(rt_outfile *f, rt_error *err)
{
    rt_status st = put_text(f, f->cctx, &f->frame, &f->buf, err);
    rt_buf_reset(&f->buf);
    return st;
}

/* Per slot of rt_outfile_write_items: the chunk's text, its frame, its rows. */
typedef struct items_lane {
    rt_buf text, frame;
    ZSTD_CCtx *cctx;
    uint64_t rows;
} items_lane;

typedef struct items_job {
    rt_outfile *f;
    size_t n, chunk;
    rt_outfile_items_fn fn;
    const void *ctx;
    items_lane *lane;
} items_job;

static rt_status items_work(void *ctx, unsigned slot, size_t c, rt_error *err)
{
    items_job *j = ctx;
    items_lane *l = &j->lane[slot];
    size_t from = c * j->chunk, to = from + j->chunk < j->n ? from + j->chunk : j->n;
    rt_buf_reset(&l->text);
    l->rows = j->fn(j->ctx, from, to, &l->text);
    if (l->text.failed || (j->f->level && !l->cctx && !(l->cctx = ZSTD_createCCtx())))
        return rt_error_set(err, RT_ENOMEM, j->f->name, 0, 0, NULL, "out of memory");
    if (!j->f->level) return RT_OK;
    /* Compressed here, on this thread: the commit only appends. */
    rt_buf_reset(&l->frame);
    rt_status st = rt_zframe_compress(l->cctx, j->f->level, l->text.data, l->text.len, &l->frame);
    return st == RT_OK ? RT_OK
                       : rt_error_set(err, st, j->f->name, 0, 0, NULL, "cannot compress a frame");
}

/* A distributed run: a chunk's rows and bytes (text or frame) travel to rank 0. */
static rt_status items_pack(void *ctx, unsigned slot, rt_buf *out)
{
    items_job *j = ctx;
    items_lane *l = &j->lane[slot];
    const rt_buf *bytes = j->f->level ? &l->frame : &l->text;
    uint64_t head[2] = {l->rows, bytes->len};
    rt_buf_put_framed(out, head, 2, bytes->data);
    return rt_buf_status(out);
}

static rt_status items_put(void *ctx, size_t c, const char *data, size_t len, rt_error *err)
{
    (void)c;
    items_job *j = ctx;
    uint64_t head[2];
    size_t at = 0;
    const char *bytes;
    if (!rt_buf_peek_framed(data, len, &at, head, 2, &bytes) || at != len)
        return rt_error_set(err, RT_ECORRUPT, j->f->name, 0, 0, NULL,
                            "a chunk from another process is damaged");
    rt_status st = rt_zwriter_write_raw(j->f->w, bytes, (size_t)head[1], err);
    if (st == RT_OK) j->f->rows += head[0];
    return st;
}

static rt_status items_commit(void *ctx, unsigned slot, size_t c, rt_error *err)
{
    (void)c;
    items_job *j = ctx;
    items_lane *l = &j->lane[slot];
    const rt_buf *out = j->f->level ? &l->frame : &l->text;
    rt_status st = rt_zwriter_write_raw(j->f->w, out->data, out->len, err);
    if (st == RT_OK) j->f->rows += l->rows;
    return st;
}

rt_status rt_outfile_write_items(rt_outfile *f, size_t n, size_t chunk, unsigned threads,
                                 rt_outfile_items_fn fn, const void *ctx, rt_error *err)
{
    rt_status st = flush(f, err);
    if (st != RT_OK || !n) return st;
    if (!chunk) chunk = 1;
    if (threads < 1) threads = 1;
    unsigned slots = rt_ordered_slots(threads);
    items_lane *lane = calloc(slots, sizeof *lane);
    if (!lane) return rt_error_set(err, RT_ENOMEM, f->name, 0, 0, NULL, "out of memory");
    items_job j = {f, n, chunk, fn, ctx, lane};
    size_t chunks = (n + chunk - 1) / chunk;
    rt_spread_job sj = {items_work, items_commit, items_pack, items_put, NULL, NULL, &j};
    st = rt_spread_run(f->spread, chunks, threads, slots, &sj, err);
    for (unsigned t = 0; t < slots; t++) {
        rt_buf_free(&lane[t].text);
        rt_buf_free(&lane[t].frame);
        ZSTD_freeCCtx(lane[t].cctx);
    }
    free(lane);
    return st;
}

rt_status rt_outfile_row_done(rt_outfile *f, rt_error *err)
{
    f->rows++;
    return f->buf.len >= FLUSH_BYTES || f->buf.failed ? flush(f, err) : RT_OK;
}

rt_status rt_outfile_close(rt_outfile *f, rt_output_list *list, rt_output_file *entry,
                           rt_error *err)
{
    rt_output_file e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "%s", f->name);
    e.rows = f->rows;
    rt_status st = flush(f, err);
    if (!f->w) { /* (a process that writes nothing: nothing to list) */
        rt_outfile_abort(f);
        return st;
    }
    if (st == RT_OK) {
        st = rt_zwriter_close(f->w, &e.bytes, &e.xxh64, err);
    } else {
        rt_zwriter_abort(f->w);
    }
    f->w = NULL;
    rt_buf_free(&f->buf);
    rt_buf_free(&f->frame);
    ZSTD_freeCCtx(f->cctx);
    f->cctx = NULL;
    if (st != RT_OK) return st;
    if (list) {
        if (list->count == RT_OUTPUT_FILES_MAX)
            return rt_error_set(err, RT_ELIMIT, NULL, 0, 0, NULL, "too many output files");
        list->items[list->count++] = e;
    }
    if (entry) *entry = e;
    return RT_OK;
}

void rt_outfile_abort(rt_outfile *f)
{
    rt_zwriter_abort(f->w);
    f->w = NULL;
    rt_buf_free(&f->buf);
    rt_buf_free(&f->frame);
    ZSTD_freeCCtx(f->cctx);
    f->cctx = NULL;
}

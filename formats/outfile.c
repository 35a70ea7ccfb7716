/* outfile: buffered row writer with manifest bookkeeping. */
#include "formats/outfile.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <omp.h>

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

/* Append text to the file: as it is, or as one zstd frame made with cctx into frame. */
static rt_status put_text(rt_outfile *f, ZSTD_CCtx *cctx, rt_buf *frame, const rt_buf *text,
                          rt_error *err)
{
    if (text->failed) return rt_error_set(err, RT_ENOMEM, f->name, 0, 0, NULL, "out of memory");
    if (!text->len) return RT_OK;
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

rt_status rt_outfile_write_items(rt_outfile *f, size_t n, size_t chunk, unsigned threads,
                                 rt_outfile_items_fn fn, const void *ctx, rt_error *err)
{
    rt_status st = flush(f, err);
    if (st != RT_OK || !n) return st;
    if (!chunk) chunk = 1;
    size_t chunks = (n + chunk - 1) / chunk;
    if (threads < 1) threads = 1;
    if (threads > chunks) threads = (unsigned)chunks;
    /* Each thread formats every threads-th chunk; the ordered section appends them in turn,
     * so one thread writes while the others format. After a failure the rest is skipped. */
    int failed = 0;
    rt_error ferr;
    rt_error_clear(&ferr);
    rt_status fst = RT_OK;
    uint64_t rows = 0;
#pragma omp parallel num_threads(threads)
    {
        rt_buf text, frame;
        rt_buf_init(&text);
        rt_buf_init(&frame);
        ZSTD_CCtx *cctx = f->level ? ZSTD_createCCtx() : NULL;
#pragma omp for ordered schedule(static, 1)
        for (size_t c = 0; c < chunks; c++) {
            size_t from = c * chunk, to = from + chunk < n ? from + chunk : n;
            uint64_t r = 0;
            rt_status cst = RT_OK;
            rt_error cerr;
            rt_error_clear(&cerr);
            int skip;
#pragma omp atomic read
            skip = failed;
            if (!skip) {
                rt_buf_reset(&text);
                r = fn(ctx, from, to, &text);
                if (text.failed || (f->level && !cctx)) {
                    cst = rt_error_set(&cerr, RT_ENOMEM, f->name, 0, 0, NULL, "out of memory");
                } else if (f->level) {
                    rt_buf_reset(&frame);
                    cst = rt_zframe_compress(cctx, f->level, text.data, text.len, &frame);
                    if (cst != RT_OK)
                        rt_error_set(&cerr, cst, f->name, 0, 0, NULL, "cannot compress a frame");
                }
            }
#pragma omp ordered
            {
                if (!failed && cst == RT_OK) {
                    const rt_buf *out = f->level ? &frame : &text;
                    cst = rt_zwriter_write_raw(f->w, out->data, out->len, &cerr);
                    rows += r;
                }
                if (!failed && cst != RT_OK) {
                    fst = cst;
                    ferr = cerr;
#pragma omp atomic write
                    failed = 1;
                }
            }
        }
        ZSTD_freeCCtx(cctx);
        rt_buf_free(&text);
        rt_buf_free(&frame);
    }
    f->rows += rows;
    if (fst != RT_OK) *err = ferr;
    return fst;
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

/* invoice_docs: document archives, rendered in parallel groups. */
#include "formats/invoice_docs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <zstd.h>

#include "formats/invoice_html.h"
#include "formats/invoice_ubl.h"
#include "formats/invoice_view.h"
#include "formats/tar.h"
#include "formats/zio.h"

/* Document archives compress well (markup); level 3 is zstd's default balance. */
#define DOCS_LEVEL 3

typedef struct doc_kind {
    const char *file;
    const char *ext;
    int ubl;
} doc_kind;

static const doc_kind kinds[2] = {{RT_DOCS_UBL, ".xml", 1}, {RT_DOCS_HTML, ".html", 0}};

/* What one thread keeps between groups. */
typedef struct worker {
    rt_doc_view view;
    rt_buf doc, tar;
    ZSTD_CCtx *cctx;
} worker;

/* Render documents [first, first + n) of one kind into one tar fragment, compressed as one
 * zstd frame into `frame`. */
static rt_status render_group(const rt_run_result *res, const doc_kind *k, size_t first, size_t n,
                              worker *w, rt_buf *frame, rt_error *err)
{
    int64_t mtime = rt_time_of_days(res->period.end_day);
    rt_buf_reset(&w->tar);
    for (size_t i = first; i < first + n; i++) {
        const rt_invoice *inv = &res->invoices->items[i];
        char name[RT_TAR_NAME_MAX + 1];
        if (rt_doc_file_name(inv->number, k->ext, name, sizeof name) != RT_OK)
            return rt_error_set(err, RT_ELIMIT, k->file, 0, 0, NULL,
                                "invoice number '%s' cannot name an archive member", inv->number);
        rt_buf_reset(&w->doc);
        rt_status st = k->ubl ? rt_invoice_ubl(res->cat, &res->period, inv, &w->view, &w->doc)
                              : rt_invoice_html(res->cat, &res->period, inv, &w->view, &w->doc);
        if (st == RT_OK) st = rt_tar_member(&w->tar, name, w->doc.data, w->doc.len, mtime);
        if (st != RT_OK) return rt_error_set(err, st, k->file, 0, 0, name, "cannot render");
    }
    rt_buf_reset(frame);
    if (rt_zframe_compress(w->cctx, DOCS_LEVEL, w->tar.data, w->tar.len, frame) != RT_OK)
        return rt_error_set(err, RT_EZSTD, k->file, 0, 0, NULL, "cannot compress");
    return RT_OK;
}

/* One archive: waves of groups rendered in parallel, frames appended in order. */
static rt_status write_archive(const char *out_dir, const rt_run_result *res, const doc_kind *k,
                               unsigned threads, worker *workers, rt_output_list *files,
                               rt_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", out_dir, k->file);
    rt_zwriter *zw;
    rt_status st = rt_zwriter_open(path, 0, &zw, err);
    if (st != RT_OK) return st;
    size_t n = res->invoices->count, groups = (n + RT_DOC_GROUP - 1) / RT_DOC_GROUP;
    size_t wave = (size_t)threads * 4;
    rt_buf *frames = calloc(wave, sizeof *frames);
    rt_status *status = calloc(wave, sizeof *status);
    rt_error *errs = calloc(wave, sizeof *errs);
    if (!frames || !status || !errs) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto done;
    }
    for (size_t g0 = 0; g0 < groups && st == RT_OK; g0 += wave) {
        size_t m = groups - g0 < wave ? groups - g0 : wave;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (size_t j = 0; j < m; j++) {
            size_t first = (g0 + j) * RT_DOC_GROUP;
            size_t count = n - first < RT_DOC_GROUP ? n - first : RT_DOC_GROUP;
            worker *w = &workers[omp_get_thread_num()];
            status[j] = render_group(res, k, first, count, w, &frames[j], &errs[j]);
        }
        for (size_t j = 0; j < m && st == RT_OK; j++) {
            if (status[j] != RT_OK) {
                *err = errs[j];
                st = status[j];
                break;
            }
            st = rt_zwriter_write_raw(zw, frames[j].data, frames[j].len, err);
        }
    }
    if (st == RT_OK) {
        rt_buf end;
        rt_buf_init(&end);
        rt_tar_end(&end);
        rt_buf frame;
        rt_buf_init(&frame);
        st = rt_zframe_compress(workers[0].cctx, DOCS_LEVEL, end.data, end.len, &frame);
        if (st == RT_OK) st = rt_zwriter_write_raw(zw, frame.data, frame.len, err);
        else rt_error_set(err, st, path, 0, 0, NULL, "cannot compress");
        rt_buf_free(&end);
        rt_buf_free(&frame);
    }
    if (st == RT_OK) {
        rt_output_file *o = &files->items[files->count];
        if (files->count == RT_OUTPUT_FILES_MAX) {
            st = rt_error_set(err, RT_ELIMIT, path, 0, 0, NULL, "too many output files");
        } else {
            memset(o, 0, sizeof *o);
            snprintf(o->name, sizeof o->name, "%s", k->file);
            o->rows = n;
            st = rt_zwriter_close(zw, &o->bytes, &o->xxh64, err);
            zw = NULL;
            if (st == RT_OK) files->count++;
        }
    }
done:
    if (zw) rt_zwriter_abort(zw);
    for (size_t j = 0; frames && j < wave; j++) rt_buf_free(&frames[j]);
    free(frames);
    free(status);
    free(errs);
    return st;
}

rt_status rt_invoice_docs_write(const char *out_dir, const rt_run_result *res, unsigned threads,
                                rt_output_list *files, rt_error *err)
{
    if (threads == 0) threads = 1;
    worker *workers = calloc(threads, sizeof *workers);
    rt_status st = RT_OK;
    if (!workers) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (unsigned t = 0; t < threads; t++) {
        rt_doc_view_init(&workers[t].view);
        rt_buf_init(&workers[t].doc);
        rt_buf_init(&workers[t].tar);
        if (!(workers[t].cctx = ZSTD_createCCtx()))
            st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    for (int k = 0; k < 2 && st == RT_OK; k++)
        st = write_archive(out_dir, res, &kinds[k], threads, workers, files, err);
    for (unsigned t = 0; t < threads; t++) {
        rt_doc_view_free(&workers[t].view);
        rt_buf_free(&workers[t].doc);
        rt_buf_free(&workers[t].tar);
        ZSTD_freeCCtx(workers[t].cctx);
    }
    free(workers);
    return st;
}

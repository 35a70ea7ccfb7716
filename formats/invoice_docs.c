/* invoice_docs: document archives, rendered in parallel groups. */
#include "formats/invoice_docs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "engine/ordered.h"
#include "formats/invoice_html.h"
#include "formats/invoice_ubl.h"
#include "formats/invoice_view.h"
#include "formats/tar.h"
#include "formats/zio.h"

/* Document archives compress about 45 times (markup). On a million UBL documents (15 GB of
 * tar) level 1 came within 3% of level 3's size in three quarters of its time. */
#define DOCS_LEVEL 1

typedef struct doc_kind {
    const char *file;
    const char *ext;
    int ubl;
} doc_kind;

static const doc_kind kinds[2] = {{RT_DOCS_UBL, ".xml", 1}, {RT_DOCS_HTML, ".html", 0}};

/* What one slot keeps between groups: per kind, the group's tar fragment and its frame. */
typedef struct worker {
    rt_doc_view view;
    rt_buf tar[2], frame[2];
    ZSTD_CCtx *cctx;
} worker;

/* Render invoices [first, first + n) as both documents, building each invoice's view once:
 * one tar fragment per kind, each compressed as one zstd frame into w->frame[kind]. */
static rt_status render_group(const rt_run_result *res, size_t first, size_t n, worker *w,
                              rt_error *err)
{
    int64_t mtime = rt_time_of_days(res->period.end_day);
    for (int k = 0; k < 2; k++) rt_buf_reset(&w->tar[k]);
    for (size_t i = first; i < first + n; i++) {
        const rt_invoice *inv = &res->invoices->items[i];
        rt_status st = rt_doc_view_build(&w->view, res->cat, inv);
        if (st == RT_ENOTFOUND)
            return rt_error_set(err, st, kinds[0].file, 0, 0, inv->number,
                                "cannot render: the book has no FX rate from %s to %s for "
                                "its issue date",
                                inv->currency->code, res->cat->company->functional_currency);
        if (st != RT_OK)
            return rt_error_set(err, st, kinds[0].file, 0, 0, inv->number, "cannot render");
        for (int k = 0; k < 2; k++) {
            char name[RT_TAR_NAME_MAX + 1];
            if (rt_doc_file_name(inv->number, kinds[k].ext, name, sizeof name) != RT_OK)
                return rt_error_set(err, RT_ELIMIT, kinds[k].file, 0, 0, NULL,
                                    "invoice number '%s' cannot name an archive member",
                                    inv->number);
            /* Rendered straight into the archive, after its member header. */
            size_t at = rt_tar_open_member(&w->tar[k]);
            st = kinds[k].ubl
                     ? rt_invoice_ubl_of_view(res->cat, &res->period, inv, &w->view, &w->tar[k])
                     : rt_invoice_html_of_view(res->cat, &res->period, inv, &w->view, &w->tar[k]);
            if (st == RT_OK) st = rt_tar_close_member(&w->tar[k], at, name, mtime);
            if (st != RT_OK)
                return rt_error_set(err, st, kinds[k].file, 0, 0, name, "cannot render");
        }
    }
    for (int k = 0; k < 2; k++) {
        rt_buf_reset(&w->frame[k]);
        if (rt_zframe_compress(w->cctx, DOCS_LEVEL, w->tar[k].data, w->tar[k].len,
                               &w->frame[k]) != RT_OK)
            return rt_error_set(err, RT_EZSTD, kinds[k].file, 0, 0, NULL, "cannot compress");
    }
    return RT_OK;
}

/* Groups rendered on every thread (each by the next free one) and, in group order, each
 * group's two frames appended to the two archives while the other threads render. */
typedef struct groups_job {
    const rt_run_result *res;
    worker *workers;
    rt_zwriter *const *zw;
} groups_job;

static rt_status group_work(void *ctx, unsigned slot, size_t g, rt_error *err)
{
    const groups_job *j = ctx;
    size_t n = j->res->invoices->count, first = g * RT_DOC_GROUP;
    size_t count = n - first < RT_DOC_GROUP ? n - first : RT_DOC_GROUP;
    return render_group(j->res, first, count, &j->workers[slot], err);
}

/* A distributed run: a group's two frames travel to rank 0. */
static rt_status group_pack(void *ctx, unsigned slot, rt_buf *out)
{
    const groups_job *j = ctx;
    const worker *w = &j->workers[slot];
    for (int k = 0; k < 2; k++) {
        uint64_t len = w->frame[k].len;
        rt_buf_put_framed(out, &len, 1, w->frame[k].data);
    }
    return rt_buf_status(out);
}

static rt_status group_put(void *ctx, size_t g, const char *data, size_t len, rt_error *err)
{
    (void)g;
    const groups_job *j = ctx;
    size_t at = 0;
    for (int k = 0; k < 2; k++) {
        uint64_t flen;
        const char *frame;
        if (!rt_buf_peek_framed(data, len, &at, &flen, 1, &frame))
            return rt_error_set(err, RT_ECORRUPT, kinds[k].file, 0, 0, NULL,
                                "documents from another process are damaged");
        rt_status st = rt_zwriter_write_raw(j->zw[k], frame, (size_t)flen, err);
        if (st != RT_OK) return st;
    }
    return at == len ? RT_OK
                     : rt_error_set(err, RT_ECORRUPT, kinds[0].file, 0, 0, NULL,
                                    "documents from another process are damaged");
}

static rt_status group_commit(void *ctx, unsigned slot, size_t g, rt_error *err)
{
    (void)g;
    const groups_job *j = ctx;
    const worker *w = &j->workers[slot];
    rt_status st = RT_OK;
    for (int k = 0; k < 2 && st == RT_OK; k++)
        st = rt_zwriter_write_raw(j->zw[k], w->frame[k].data, w->frame[k].len, err);
    return st;
}

/* Finish one archive: the tar end blocks as a last frame, then close and list it. */
static rt_status close_archive(const rt_run_result *res, const doc_kind *k, rt_zwriter *zw,
                               ZSTD_CCtx *cctx, rt_output_list *files, rt_error *err)
{
    rt_buf end, frame;
    rt_buf_init(&end);
    rt_buf_init(&frame);
    rt_tar_end(&end);
    rt_status st = rt_zframe_compress(cctx, DOCS_LEVEL, end.data, end.len, &frame);
    if (st == RT_OK)
        st = rt_zwriter_write_raw(zw, frame.data, frame.len, err);
    else
        rt_error_set(err, st, k->file, 0, 0, NULL, "cannot compress");
    rt_buf_free(&end);
    rt_buf_free(&frame);
    if (st != RT_OK) {
        rt_zwriter_abort(zw);
        return st;
    }
    if (files->count == RT_OUTPUT_FILES_MAX) {
        rt_zwriter_abort(zw);
        return rt_error_set(err, RT_ELIMIT, k->file, 0, 0, NULL, "too many output files");
    }
    rt_output_file *o = &files->items[files->count];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", k->file);
    o->rows = res->invoices->count;
    st = rt_zwriter_close(zw, &o->bytes, &o->xxh64, err);
    if (st == RT_OK) files->count++;
    return st;
}

rt_status rt_invoice_docs_write(const char *out_dir, const rt_run_result *res, unsigned threads,
                                rt_output_list *files, rt_error *err)
{
    if (threads == 0) threads = 1;
    unsigned slots = rt_ordered_slots(threads);
    worker *workers = calloc(slots, sizeof *workers);
    rt_zwriter *zw[2] = {NULL, NULL};
    rt_status st = RT_OK;
    if (!workers) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (unsigned t = 0; t < slots; t++) {
        rt_doc_view_init(&workers[t].view);
        for (int k = 0; k < 2; k++) {
            rt_buf_init(&workers[t].tar[k]);
            rt_buf_init(&workers[t].frame[k]);
        }
        if (!(workers[t].cctx = ZSTD_createCCtx()))
            st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    /* (A distributed run's other processes render their groups and write nothing.) */
    for (int k = 0; k < 2 && st == RT_OK && out_dir; k++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", out_dir, kinds[k].file);
        st = rt_zwriter_open(path, 0, &zw[k], err);
        if (st == RT_OK) rt_zwriter_defer_sync(zw[k]); /* the run syncs its outputs together */
    }
    groups_job job = {res, workers, zw};
    size_t groups = (res->invoices->count + RT_DOC_GROUP - 1) / RT_DOC_GROUP;
    rt_spread_job sj = {group_work, group_commit, group_pack, group_put, NULL, NULL, &job};
    if (st == RT_OK) st = rt_spread_run(res->spread, groups, threads, slots, &sj, err);
    for (int k = 0; k < 2 && out_dir; k++) {
        if (st == RT_OK)
            st = close_archive(res, &kinds[k], zw[k], workers[0].cctx, files, err);
        else
            rt_zwriter_abort(zw[k]);
        zw[k] = NULL;
    }
    for (unsigned t = 0; t < slots; t++) {
        rt_doc_view_free(&workers[t].view);
        for (int k = 0; k < 2; k++) {
            rt_buf_free(&workers[t].tar[k]);
            rt_buf_free(&workers[t].frame[k]);
        }
        ZSTD_freeCCtx(workers[t].cctx);
    }
    free(workers);
    return st;
}

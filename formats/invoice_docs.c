/* invoice_docs: per-document output files. syncfs is Linux's one-call flush of a file
 * system, far cheaper than an fsync per document when a run writes many thousands. */
#define _GNU_SOURCE 1
#include "formats/invoice_docs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "formats/invoice_html.h"
#include "formats/invoice_ubl.h"

enum { DOC_NAME_MAX = 4 * RT_INVOICE_NUMBER_MAX + 16 };

void rt_doc_sets_free(rt_doc_set sets[RT_DOC_SETS])
{
    for (int k = 0; k < RT_DOC_SETS; k++) {
        free(sets[k].files);
        sets[k].files = NULL;
        sets[k].count = 0;
    }
}

static rt_status write_file(const char *path, const rt_buf *b, rt_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    size_t done = 0;
    while (done < b->len) {
        ssize_t n = write(fd, b->data + done, b->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "write: %s", strerror(e));
        }
        done += (size_t)n;
    }
    if (close(fd) != 0)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "close: %s", strerror(errno));
    return RT_OK;
}

/* Render and write one document of invoice i. */
static rt_status one_doc(const char *out_dir, const rt_run_result *res, size_t i, int kind,
                         rt_doc_set *set, rt_doc_view *view, rt_buf *b, rt_error *err)
{
    const rt_invoice *inv = &res->invoices->items[i];
    char name[DOC_NAME_MAX], path[PATH_MAX];
    if (rt_doc_file_name(inv->number, set->ext, name, sizeof name) != RT_OK)
        return rt_error_set(err, RT_ELIMIT, NULL, 0, 0, NULL,
                            "invoice number '%s' cannot name a file", inv->number);
    rt_buf_reset(b);
    rt_status st = kind == 0 ? rt_invoice_ubl(res->cat, &res->period, inv, view, b)
                             : rt_invoice_html(res->cat, &res->period, inv, view, b);
    if (st != RT_OK) return rt_error_set(err, st, name, 0, 0, NULL, "cannot render");
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, set->dir, name);
    if ((st = write_file(path, b, err)) != RT_OK) return st;
    set->files[i].bytes = b->len;
    set->files[i].xxh64 = XXH64(b->data, b->len, 0);
    return RT_OK;
}

/* Every document, in parallel; the error reported is that of the first failing document in
 * invoice order, so it too is independent of the thread count. */
static rt_status render_all(const char *out_dir, const rt_run_result *res, unsigned threads,
                            rt_doc_set sets[RT_DOC_SETS], rt_error *err)
{
    long n = (long)res->invoices->count;
    long first_bad = n;
    rt_error bad;
    rt_error_clear(&bad);
#pragma omp parallel num_threads(threads)
    {
        rt_doc_view view;
        rt_buf b;
        rt_error e;
        rt_doc_view_init(&view);
        rt_buf_init(&b);
#pragma omp for schedule(dynamic, 8)
        for (long i = 0; i < n; i++) {
            for (int k = 0; k < RT_DOC_SETS; k++) {
                if (one_doc(out_dir, res, (size_t)i, k, &sets[k], &view, &b, &e) == RT_OK) continue;
#pragma omp critical(rt_docs_error)
                if (i < first_bad) {
                    first_bad = i;
                    bad = e;
                }
                break;
            }
        }
        rt_doc_view_free(&view);
        rt_buf_free(&b);
    }
    if (first_bad == n) return RT_OK;
    if (err) *err = bad;
    return bad.code;
}

static rt_status sync_dir(const char *path, bool whole_fs, rt_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
    int rc = 0;
#ifdef __linux__
    if (whole_fs) rc = syncfs(fd);
#else
    (void)whole_fs;
#endif
    if (rc == 0) rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "sync: %s", strerror(e));
    return RT_OK;
}

#ifndef __linux__
static rt_status sync_files(const char *out_dir, const rt_run_result *res, const rt_doc_set *set,
                            rt_error *err)
{
    for (size_t i = 0; i < res->invoices->count; i++) {
        char name[DOC_NAME_MAX], path[PATH_MAX];
        if (rt_doc_file_name(res->invoices->items[i].number, set->ext, name, sizeof name) != RT_OK)
            continue;
        snprintf(path, sizeof path, "%s/%s/%s", out_dir, set->dir, name);
        int fd = open(path, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) {
            if (fd >= 0) close(fd);
            return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "fsync: %s", strerror(errno));
        }
        close(fd);
    }
    return RT_OK;
}
#endif

rt_status rt_invoice_docs_write(const char *out_dir, const rt_run_result *res, unsigned threads,
                                rt_doc_set sets[RT_DOC_SETS], rt_error *err)
{
    static const char *const dirs[RT_DOC_SETS] = {"ubl", "html"};
    static const char *const exts[RT_DOC_SETS] = {".xml", ".html"};
    size_t n = res->invoices->count;
    for (int k = 0; k < RT_DOC_SETS; k++) {
        char path[PATH_MAX];
        sets[k] = (rt_doc_set){dirs[k], exts[k], calloc(n ? n : 1, sizeof(rt_doc_file)), n};
        if (!sets[k].files) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        snprintf(path, sizeof path, "%s/%s", out_dir, dirs[k]);
        if (mkdir(path, 0777) != 0)
            return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s",
                                strerror(errno));
    }
    rt_status st = render_all(out_dir, res, threads ? threads : 1, sets, err);
    /* Durable before the commit: one file-system flush, then the directory entries. */
    for (int k = 0; k < RT_DOC_SETS && st == RT_OK; k++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", out_dir, dirs[k]);
#ifndef __linux__
        st = sync_files(out_dir, res, &sets[k], err);
        if (st != RT_OK) break;
#endif
        st = sync_dir(path, k == 0, err);
    }
    return st;
}

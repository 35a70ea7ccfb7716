/* outfile: buffered row writer with manifest bookkeeping. */
#include "formats/outfile.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define FLUSH_BYTES ((size_t)1 << 20)

rt_status rt_outfile_open(rt_outfile *f, const char *dir, const char *name, int level,
                          rt_error *err)
{
    char path[PATH_MAX];
    memset(f, 0, sizeof *f);
    rt_buf_init(&f->buf);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return rt_zwriter_open(path, level, &f->w, err);
}

static rt_status flush(rt_outfile *f, rt_error *err)
{
    if (f->buf.failed)
        return rt_error_set(err, RT_ENOMEM, f->name, 0, 0, NULL, "out of memory");
    rt_status st = rt_zwriter_write(f->w, f->buf.data, f->buf.len, err);
    rt_buf_reset(&f->buf);
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
    if (st == RT_OK) {
        st = rt_zwriter_close(f->w, &e.bytes, &e.xxh64, err);
    } else {
        rt_zwriter_abort(f->w);
    }
    f->w = NULL;
    rt_buf_free(&f->buf);
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
}

/* status: error vocabulary, error records and diagnostics lists. */
#include "engine/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[RT_STATUS_COUNT_] = {
    [RT_OK] = "RT_OK: success",
    [RT_ENOMEM] = "RT_ENOMEM: out of memory",
    [RT_EINVAL] = "RT_EINVAL: invalid argument",
    [RT_EIO] = "RT_EIO: input/output error",
    [RT_EPARSE] = "RT_EPARSE: malformed input",
    [RT_EOVERFLOW] = "RT_EOVERFLOW: arithmetic overflow",
    [RT_ENOTFOUND] = "RT_ENOTFOUND: not found",
    [RT_EEXIST] = "RT_EEXIST: already exists",
    [RT_ECORRUPT] = "RT_ECORRUPT: corrupt data",
    [RT_ELMDB] = "RT_ELMDB: LMDB error",
    [RT_EZSTD] = "RT_EZSTD: zstd error",
    [RT_ELIMIT] = "RT_ELIMIT: limit exceeded",
    [RT_EINVALID] = "RT_EINVALID: validation failed",
    [RT_ECOMMITTED] = "RT_ECOMMITTED: period already committed",
    [RT_EVERIFY] = "RT_EVERIFY: verification failed",
};

const char *rt_status_str(rt_status status)
{
    if ((unsigned)status >= RT_STATUS_COUNT_) return "RT_?: unknown status";
    return status_names[status];
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void error_vset(rt_error *err, rt_status code, const char *file, uint64_t line,
                       uint32_t column, const char *field, const char *fmt, va_list ap)
{
    err->code = code;
    err->line = line;
    err->column = column;
    copy_str(err->file, sizeof err->file, file);
    copy_str(err->field, sizeof err->field, field);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

rt_status rt_error_set(rt_error *err, rt_status code, const char *file, uint64_t line,
                       uint32_t column, const char *field, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, code, file, line, column, field, fmt, ap);
        va_end(ap);
    }
    return code;
}

void rt_error_clear(rt_error *err)
{
    if (err) memset(err, 0, sizeof *err);
}

/* Append printf-formatted text at *n, never past size - 1. */
static void append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
    if (*n + 1 >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, size - *n, fmt, ap);
    va_end(ap);
    if (w < 0) return;
    *n += (size_t)w < size - *n ? (size_t)w : size - *n - 1;
}

void rt_error_format(const rt_error *err, char *buf, size_t buf_size)
{
    if (buf_size == 0) return;
    size_t n = 0;
    buf[0] = '\0';
    if (err->file[0]) {
        append(buf, buf_size, &n, "%s:", err->file);
        if (err->line) append(buf, buf_size, &n, "%llu:", (unsigned long long)err->line);
        if (err->line && err->column) append(buf, buf_size, &n, "%u:", err->column);
        append(buf, buf_size, &n, " ");
    }
    if (err->field[0]) append(buf, buf_size, &n, "%s: ", err->field);
    append(buf, buf_size, &n, "%s", err->message);
}

void rt_diags_init(rt_diags *d) { memset(d, 0, sizeof *d); }

void rt_diags_free(rt_diags *d)
{
    free(d->items);
    memset(d, 0, sizeof *d);
}

void rt_diags_add(rt_diags *d, const char *file, uint64_t line, uint32_t column,
                  const char *field, const char *fmt, ...)
{
    if (d->count >= RT_DIAGS_MAX) {
        d->dropped++;
        return;
    }
    if (d->count == d->capacity) {
        size_t cap = d->capacity ? d->capacity * 2 : 16;
        rt_error *items = realloc(d->items, cap * sizeof *items);
        if (!items) {
            d->dropped++;
            return;
        }
        d->items = items;
        d->capacity = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    error_vset(&d->items[d->count++], RT_EINVALID, file, line, column, field, fmt, ap);
    va_end(ap);
}

void rt_diags_append(rt_diags *d, const rt_diags *from)
{
    for (size_t i = 0; i < from->count; i++) {
        const rt_error *e = &from->items[i];
        rt_diags_add(d, e->file, e->line, e->column, e->field[0] ? e->field : NULL, "%s",
                     e->message);
    }
    d->dropped += from->dropped;
}

size_t rt_diags_total(const rt_diags *d) { return d->count + d->dropped; }

const rt_failure *rt_failure_first(const rt_failure *f, size_t n)
{
    const rt_failure *first = NULL;
    for (size_t i = 0; i < n; i++)
        if (f[i].item != SIZE_MAX && (!first || f[i].item < first->item)) first = &f[i];
    return first;
}

void rt__assert_fail(const char *expr, const char *file, int line)
{
    /* An invariant is broken: this is a bug, not bad input. Stopping is the only safe act. */
    fprintf(stderr, "ratel: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

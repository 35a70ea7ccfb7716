/* buf: growable byte buffer. */
#include "engine/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_buf_init(rt_buf *b) { memset(b, 0, sizeof *b); }

void rt_buf_free(rt_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void rt_buf_reset(rt_buf *b)
{
    b->len = 0;
    b->failed = false;
}

bool rt_buf_reserve(rt_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (b->cap - b->len >= extra) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void rt_buf_append(rt_buf *b, const void *data, size_t len)
{
    if (!rt_buf_reserve(b, len)) return;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
}

void rt_buf_putc(rt_buf *b, char c)
{
    if (!rt_buf_reserve(b, 1)) return;
    b->data[b->len++] = c;
}

void rt_buf_puts(rt_buf *b, const char *s) { rt_buf_append(b, s, strlen(s)); }

void rt_buf_printf(rt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !rt_buf_reserve(b, (size_t)n + 1)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* buf: growable byte buffer. */
#include "engine/buf.h"

#include <stdarg.h>
#include <stdint.h>
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

bool rt_buf_grow(rt_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (b->cap - b->len >= extra) return true;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
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

void rt_buf_put_u64(rt_buf *b, uint64_t v)
{
    char t[RT_U64_TEXT_MAX];
    rt_buf_append(b, t, rt_u64_text(v, t));
}

size_t rt_u64_text(uint64_t v, char buf[RT_U64_TEXT_MAX])
{
    char t[20];
    size_t n = 0, k = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) buf[k++] = t[--n];
    buf[k] = '\0';
    return k;
}

size_t rt_i64_text(int64_t v, char buf[RT_I64_TEXT_MAX])
{
    if (v >= 0) return rt_u64_text((uint64_t)v, buf);
    buf[0] = '-';
    return 1 + rt_u64_text((uint64_t)0 - (uint64_t)v, buf + 1);
}

void rt_buf_put_i64(rt_buf *b, int64_t v)
{
    char t[RT_I64_TEXT_MAX];
    rt_buf_append(b, t, rt_i64_text(v, t));
}

void rt_buf_put_framed(rt_buf *b, const uint64_t *head, size_t n, const void *bytes)
{
    rt_buf_append(b, head, n * sizeof *head);
    rt_buf_append(b, bytes, (size_t)head[n - 1]);
}

bool rt_buf_peek_framed(const char *data, size_t len, size_t *at, uint64_t *head, size_t n,
                        const char **bytes)
{
    if (*at > len || len - *at < n * sizeof *head) return false;
    memcpy(head, data + *at, n * sizeof *head);
    size_t after = *at + n * sizeof *head;
    if (len - after < head[n - 1]) return false;
    *bytes = data + after;
    *at = after + (size_t)head[n - 1];
    return true;
}

bool rt_buf_take_framed(const char *data, size_t len, size_t *at, uint64_t *head, size_t n,
                        rt_buf *bytes)
{
    const char *from;
    size_t was = *at;
    if (!rt_buf_peek_framed(data, len, at, head, n, &from)) return false;
    rt_buf_reset(bytes);
    rt_buf_append(bytes, from, (size_t)head[n - 1]);
    if (bytes->failed) *at = was;
    return !bytes->failed;
}

void rt_buf_printf(rt_buf *b, const char *fmt, ...)
{
    /* One pass when the text fits the room there is (the usual case), a second when not. */
    if (!rt_buf_reserve(b, 128)) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= b->cap - b->len) {
        if (!rt_buf_reserve(b, (size_t)n + 1)) return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void rt_text_join(char *dst, size_t n, const char *const *parts, size_t count)
{
    size_t at = 0;
    for (size_t i = 0; i < count && at + 1 < n; i++) {
        size_t len = strlen(parts[i]);
        if (len > n - 1 - at) len = n - 1 - at;
        memcpy(dst + at, parts[i], len);
        at += len;
    }
    if (n) dst[at] = '\0';
}

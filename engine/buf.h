/* buf: a growable byte buffer.
 *
 * Owns one heap block that grows geometrically. Writes after a failed allocation are ignored
 * and remembered in `failed`, so a writer checks once at the end instead of after every
 * append. Used for encoded records (pack) and for text rows before they are written. Also
 * the printf-free text joins of fixed arrays that hot writers use. */
#ifndef RT_BUF_H
#define RT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/status.h"

typedef struct rt_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} rt_buf;

void rt_buf_init(rt_buf *b);
void rt_buf_free(rt_buf *b);
/* Empty the buffer, keeping its memory, and clear `failed`. */
void rt_buf_reset(rt_buf *b);
/* The slow path of rt_buf_reserve: reallocate to fit `extra` more bytes. */
bool rt_buf_grow(rt_buf *b, size_t extra);
/* Make room for `extra` more bytes; false (and `failed`) when memory runs out. */
static inline bool rt_buf_reserve(rt_buf *b, size_t extra)
{
    if (b->failed) return false;
    return b->cap - b->len >= extra || rt_buf_grow(b, extra);
}
/* Appends run once per output cell of every rated event, so their fast path is inline. */
static inline void rt_buf_append(rt_buf *b, const void *data, size_t len)
{
    if (!rt_buf_reserve(b, len)) return;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
}
static inline void rt_buf_putc(rt_buf *b, char c)
{
    if (!rt_buf_reserve(b, 1)) return;
    b->data[b->len++] = c;
}
static inline void rt_buf_puts(rt_buf *b, const char *s) { rt_buf_append(b, s, strlen(s)); }
/* Decimal digits of v (with a '-' when negative), without printf. */
void rt_buf_put_u64(rt_buf *b, uint64_t v);
/* The decimal digits of v into buf, NUL-terminated, without printf; returns their count. */
#define RT_U64_TEXT_MAX 21
size_t rt_u64_text(uint64_t v, char buf[RT_U64_TEXT_MAX]);
/* The same for a signed value, with a '-' when negative (as printf's "%" PRId64). */
#define RT_I64_TEXT_MAX (1 + RT_U64_TEXT_MAX)
size_t rt_i64_text(int64_t v, char buf[RT_I64_TEXT_MAX]);
void rt_buf_put_i64(rt_buf *b, int64_t v);
/* A framed block: n heads (uint64, the last the length of what follows) and those bytes,
 * as a writer's encoded slot travels between the processes of a distributed run. take reads
 * one at *at (advanced) into head[0..n) and `bytes` (reset first); false when data[0..len)
 * holds no whole block there (`bytes` may have failed: check its status). peek reads it the
 * same way but points *bytes at its bytes in data instead of copying them. */
void rt_buf_put_framed(rt_buf *b, const uint64_t *head, size_t n, const void *bytes);
bool rt_buf_take_framed(const char *data, size_t len, size_t *at, uint64_t *head, size_t n,
                        rt_buf *bytes);
bool rt_buf_peek_framed(const char *data, size_t len, size_t *at, uint64_t *head, size_t n,
                        const char **bytes);
/* Formatted text; for rows written per event prefer the appenders above (printf is slow). */
void rt_buf_printf(rt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline rt_status rt_buf_status(const rt_buf *b) { return b->failed ? RT_ENOMEM : RT_OK; }

/* Into a fixed array: dst = the count strings of parts joined, cut to fit n bytes with the
 * terminator exactly as snprintf("%s%s...") cuts, without printf (labels made per line). */
void rt_text_join(char *dst, size_t n, const char *const *parts, size_t count);
#define RT_TEXT_JOIN(dst, n, ...)                                                                 \
    rt_text_join(dst, n, (const char *const[]){__VA_ARGS__},                                      \
                 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#endif

/* buf: a growable byte buffer.
 *
 * Owns one heap block that grows geometrically. Writes after a failed allocation are ignored
 * and remembered in `failed`, so a writer checks once at the end instead of after every
 * append. Used for encoded records (pack) and for text rows before they are written. */
#ifndef RT_BUF_H
#define RT_BUF_H

#include <stdbool.h>
#include <stddef.h>

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
/* Make room for `extra` more bytes; false (and `failed`) when memory runs out. */
bool rt_buf_reserve(rt_buf *b, size_t extra);
void rt_buf_append(rt_buf *b, const void *data, size_t len);
void rt_buf_putc(rt_buf *b, char c);
void rt_buf_puts(rt_buf *b, const char *s);
void rt_buf_printf(rt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline rt_status rt_buf_status(const rt_buf *b) { return b->failed ? RT_ENOMEM : RT_OK; }

#endif

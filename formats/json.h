/* json: the JSON that ratel writes (manifests, invoices) and reads back (verify).
 *
 * Owns string escaping for writers and a small strict parser into a tree allocated in an
 * arena. Numbers are kept as their text, so money written as a JSON string or number is never
 * routed through a binary float. Depth and size are limited. */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/buf.h"
#include "engine/status.h"

/* Append s as a JSON string literal (quotes included). */
void rt_json_str(rt_buf *b, const char *s, size_t len);
static inline void rt_json_cstr(rt_buf *b, const char *s);

typedef enum rt_json_type {
    RT_JSON_NULL,
    RT_JSON_BOOL,
    RT_JSON_NUMBER,
    RT_JSON_STRING,
    RT_JSON_ARRAY,
    RT_JSON_OBJECT
} rt_json_type;

typedef struct rt_json rt_json;
struct rt_json {
    rt_json_type type;
    const char *text; /* string contents (unescaped) or number text; NUL-terminated */
    size_t len;
    int boolean;
    const char *key; /* member name when inside an object */
    rt_json *child;  /* first element or member */
    rt_json *next;   /* next sibling */
};

enum { RT_JSON_DEPTH_MAX = 32 };

/* Parse text (whole document). Nodes live in arena. RT_EPARSE with the byte offset in *where. */
rt_status rt_json_parse(const char *text, size_t len, rt_arena *arena, rt_json **root,
                        size_t *where);
/* Member of an object by name, or NULL. */
const rt_json *rt_json_get(const rt_json *obj, const char *key);
/* Number member as an unsigned integer; RT_EPARSE when absent or not a whole number. */
rt_status rt_json_u64(const rt_json *obj, const char *key, uint64_t *out);
/* String member, or NULL. */
const char *rt_json_string(const rt_json *obj, const char *key);

static inline void rt_json_cstr(rt_buf *b, const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    rt_json_str(b, s, n);
}

#endif

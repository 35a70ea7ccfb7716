/* fuzz_json: the strict JSON parser and the string writer.
 *
 * Invariants (abort on violation): a refused document reports an offset inside it; an
 * accepted one nests at most RT_JSON_DEPTH_MAX deep, and writing its tree back out (strings
 * through rt_json_str, numbers as their text) gives a document that parses to a tree that
 * writes out to the very same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json.h"

#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #x), abort()))

/* Write a tree without recursion: an explicit stack of the containers being written. */
static void write_tree(const rt_json *root, rt_buf *out)
{
    const rt_json *stack[RT_JSON_DEPTH_MAX + 1];
    int depth = 0;
    const rt_json *v = root;
    for (;;) {
        if (v) {
            if (depth > 0 && stack[depth - 1]->type == RT_JSON_OBJECT) {
                rt_json_str(out, v->key, strlen(v->key));
                rt_buf_putc(out, ':');
            }
            switch (v->type) {
            case RT_JSON_NULL: rt_buf_puts(out, "null"); break;
            case RT_JSON_BOOL: rt_buf_puts(out, v->boolean ? "true" : "false"); break;
            case RT_JSON_NUMBER: rt_buf_append(out, v->text, v->len); break;
            case RT_JSON_STRING: rt_json_str(out, v->text, v->len); break;
            case RT_JSON_ARRAY:
            case RT_JSON_OBJECT:
                rt_buf_putc(out, v->type == RT_JSON_ARRAY ? '[' : '{');
                CHECK(depth < RT_JSON_DEPTH_MAX);
                stack[depth++] = v;
                v = v->child;
                continue;
            }
        } else {
            if (depth == 0) return;
            v = stack[--depth];
            rt_buf_putc(out, v->type == RT_JSON_ARRAY ? ']' : '}');
        }
        if (depth == 0) return;
        v = v->next;
        if (v) rt_buf_putc(out, ',');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_arena arena;
    rt_arena_init(&arena, 4096);
    rt_json *root = NULL;
    size_t where = SIZE_MAX;
    rt_status st = rt_json_parse((const char *)data, size, &arena, &root, &where);
    CHECK(st == RT_OK || st == RT_EPARSE);
    if (st != RT_OK) {
        CHECK(where <= size);
    } else {
        rt_buf a, b;
        rt_buf_init(&a);
        rt_buf_init(&b);
        write_tree(root, &a);
        rt_json *again = NULL;
        CHECK(rt_json_parse(a.data, a.len, &arena, &again, &where) == RT_OK);
        write_tree(again, &b);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        /* Accessors on whatever came out never misbehave. */
        uint64_t u;
        (void)rt_json_u64(root, "count", &u);
        (void)rt_json_string(root, "format");
        rt_buf_free(&a);
        rt_buf_free(&b);
    }
    rt_arena_free(&arena);
    return 0;
}

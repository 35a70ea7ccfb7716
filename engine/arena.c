/* arena: bump allocator in linked blocks. */
#include "engine/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rt_arena_block {
    rt_arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void rt_arena_init(rt_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->bytes_allocated = 0;
}

void rt_arena_free(rt_arena *a)
{
    rt_arena_block *b = a->head;
    while (b) {
        rt_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->bytes_allocated = 0;
}

void rt_arena_reset(rt_arena *a)
{
    if (!a->head) return;
    rt_arena_block *keep = a->head;
    while (keep->next) {
        rt_arena_block *next = keep->next;
        a->bytes_allocated -= keep->size;
        free(keep);
        keep = next;
    }
    keep->used = 0;
    a->head = keep;
}

void *rt_arena_alloc(rt_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    rt_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > a->block_size ? size : a->block_size;
        rt_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->size = cap;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        a->bytes_allocated += cap;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

char *rt_arena_strndup(rt_arena *a, const char *s, size_t len)
{
    char *p = rt_arena_alloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

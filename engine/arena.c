/* arena: bump allocator in linked blocks. */
#include "engine/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bigmem.h"

/* Blocks of 2 MiB or more come from bigmem (huge-page-friendly, rounded to whole 2 MiB):
 * a large arena is filled once, front to back, and on a virtual machine faulting it in 4 KiB
 * at a time costs more than writing it. */
#define BIG_BLOCK ((size_t)2 << 20)

struct rt_arena_block {
    rt_arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static rt_arena_block *block_new(size_t cap)
{
    size_t total = sizeof(rt_arena_block) + cap;
    rt_arena_block *b;
    if (total >= BIG_BLOCK) {
        total = (total + BIG_BLOCK - 1) / BIG_BLOCK * BIG_BLOCK;
        b = rt_big_alloc_dirty(total);
    } else {
        b = malloc(total);
    }
    if (!b) return NULL;
    b->size = total - sizeof *b;
    return b;
}

static void block_free(rt_arena_block *b)
{
    size_t total = sizeof *b + b->size;
    if (total >= BIG_BLOCK)
        rt_big_free(b, total);
    else
        free(b);
}

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
        block_free(b);
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
        block_free(keep);
        keep = next;
    }
    keep->used = 0;
    a->head = keep;
}

void rt_arena_adopt(rt_arena *dst, rt_arena *src)
{
    if (!src->head) return;
    if (!dst->head) {
        dst->head = src->head;
    } else {
        /* Behind dst's head, which stays the block being filled. */
        rt_arena_block *tail = src->head;
        while (tail->next) tail = tail->next;
        tail->next = dst->head->next;
        dst->head->next = src->head;
    }
    dst->bytes_allocated += src->bytes_allocated;
    src->head = NULL;
    src->bytes_allocated = 0;
}

void *rt_arena_alloc(rt_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    rt_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > a->block_size ? size : a->block_size;
        rt_arena_block *nb = block_new(cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        a->bytes_allocated += nb->size;
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

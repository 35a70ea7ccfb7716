/* arena: bump allocation for data that lives and dies together (a price book, a batch).
 *
 * Owns blocks of memory handed out in order and released all at once. It does not free single
 * allocations. Not thread-safe: one arena per thread or per object. */
#ifndef RT_ARENA_H
#define RT_ARENA_H

#include <stddef.h>

typedef struct rt_arena_block rt_arena_block;
typedef struct rt_arena {
    rt_arena_block *head;   /* block being filled */
    size_t block_size;      /* default size of new blocks */
    size_t bytes_allocated; /* total of all blocks, for memory reports */
} rt_arena;

/* block_size 0 picks 64 KiB. */
void rt_arena_init(rt_arena *a, size_t block_size);
/* Release every block. */
void rt_arena_free(rt_arena *a);
/* Keep the first block, drop the rest, and start filling from its beginning again. */
void rt_arena_reset(rt_arena *a);
/* Take over every block of src (which is left empty): they are released with dst. */
void rt_arena_adopt(rt_arena *dst, rt_arena *src);
/* size bytes aligned to 16; NULL when memory runs out. Valid until reset or free. */
void *rt_arena_alloc(rt_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len). NULL when memory runs out. */
char *rt_arena_strndup(rt_arena *a, const char *s, size_t len);

#endif

/* bigmem: zeroed allocations for large tables probed at random (de-duplication partitions,
 * billed-event sets, the period aggregates) and the arenas' large blocks.
 *
 * Owns nothing beyond the blocks it hands out. Blocks of half a megabyte or more are sized to
 * whole 2 MiB pages and offered to the kernel for transparent huge pages (madvise), because a
 * random probe into a large table otherwise also misses the TLB (on a virtual machine a TLB
 * miss is a two-level page walk), and a huge page is cleared in one fault instead of 512.
 * Every block comes from malloc's heap: ratel's start-up keeps every malloc block in the heap
 * and freed memory there (tools/cli.c), so a table freed by one stage is reused by the next
 * instead of being unmapped and touched afresh, which costs far more than clearing it. */
#ifndef RT_BIGMEM_H
#define RT_BIGMEM_H

#include <stddef.h>

/* The bytes a block of `size` really holds (size, or whole 2 MiB pages from half a megabyte
 * on): a table can be sized to fill them, since they are touched all the same. */
size_t rt_big_usable(size_t size);
/* size zeroed bytes, or NULL when memory runs out. */
void *rt_big_alloc(size_t size);
/* The same, its bytes not cleared (for a caller that writes before it reads). */
void *rt_big_alloc_dirty(size_t size);
/* A block of new_size holding the old one's first bytes (the rest zeroed); the old block is
 * released. NULL when memory runs out (the old block is then kept). p may be NULL. */
void *rt_big_realloc(void *p, size_t old_size, size_t new_size);
/* Release a block of rt_big_alloc or rt_big_alloc_dirty (size as allocated; NULL is allowed). */
void rt_big_free(void *p, size_t size);

#endif

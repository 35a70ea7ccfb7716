/* bigmem: huge-page-friendly zeroed blocks. */
#include "engine/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_BYTES ((size_t)2 << 20)

size_t rt_big_usable(size_t size)
{
    return size < HUGE_BYTES / 4 ? size : (size + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
}

/* Offer the whole 2 MiB pages inside a block to the kernel for transparent huge pages. The
 * heap ratel's start-up asks glibc for is advised already; a block malloc maps on its own (a
 * process started without those tunables) is not. Advice only: 4 KiB pages work the same. */
static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    uintptr_t lo = ((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    uintptr_t hi = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE_BYTES - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

void *rt_big_alloc(size_t size)
{
    size_t len = rt_big_usable(size);
    /* calloc clears only memory that is not fresh from the kernel, and a block freed earlier
     * in the run is reused from the heap instead of being mapped and cleared afresh. */
    void *p = calloc(1, len ? len : 1);
    if (p && len >= HUGE_BYTES) advise_huge(p, len);
    return p;
}

void *rt_big_alloc_dirty(size_t size)
{
    size_t len = rt_big_usable(size);
    void *p = malloc(len ? len : 1);
    if (p && len >= HUGE_BYTES) advise_huge(p, len);
    return p;
}

void rt_big_free(void *p, size_t size)
{
    (void)size;
    free(p);
}

void *rt_big_realloc(void *p, size_t old_size, size_t new_size)
{
    if (!p) return rt_big_alloc(new_size);
    /* A heap block: realloc grows it in place where it can (a table growing at the top of
     * the heap leaves no hole behind), else moves it; only the new part is cleared. */
    size_t len = rt_big_usable(new_size), keep = old_size < new_size ? old_size : new_size;
    unsigned char *n = realloc(p, len ? len : 1);
    if (!n) return NULL;
    memset(n + keep, 0, len - keep);
    if (len >= HUGE_BYTES) advise_huge(n, len);
    return n;
}

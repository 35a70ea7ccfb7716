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

void *rt_big_alloc(size_t size)
{
    size_t len = rt_big_usable(size);
    if (len < HUGE_BYTES) return calloc(1, size ? size : 1);
    /* Map one huge page more, then trim both ends so the block starts on a 2 MiB boundary. */
    unsigned char *m = mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    uintptr_t at = ((uintptr_t)m + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    size_t head = at - (uintptr_t)m;
    if (head) munmap(m, head);
    size_t tail = HUGE_BYTES - head;
    if (tail) munmap((unsigned char *)at + len, tail);
#ifdef MADV_HUGEPAGE
    madvise((void *)at, len, MADV_HUGEPAGE); /* advice only: 4 KiB pages work the same */
#endif
    return (void *)at; /* anonymous mappings are zero-filled */
}

void rt_big_free(void *p, size_t size)
{
    if (!p) return;
    size_t len = rt_big_usable(size);
    if (len < HUGE_BYTES) {
        free(p);
        return;
    }
    munmap(p, len);
}

void *rt_big_realloc(void *p, size_t old_size, size_t new_size)
{
    if (!p) return rt_big_alloc(new_size);
    void *n = rt_big_alloc(new_size);
    if (!n) return NULL;
    memcpy(n, p, old_size < new_size ? old_size : new_size);
    rt_big_free(p, old_size);
    return n;
}

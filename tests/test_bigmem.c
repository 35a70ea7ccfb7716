/* test_bigmem: small and huge blocks are zeroed, writable to their last byte, 2 MiB aligned
 * when huge, and released. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "engine/bigmem.h"

static void check(size_t size)
{
    unsigned char *p = rt_big_alloc(size);
    cr_assert_not_null(p);
    for (size_t i = 0; i < size; i += 4093) cr_assert_eq(p[i], 0, "zeroed at %zu", i);
    cr_assert_eq(p[size - 1], 0);
    memset(p, 0xab, size);
    if (size >= ((size_t)2 << 20)) cr_assert_eq((uintptr_t)p % ((size_t)2 << 20), 0);
    rt_big_free(p, size);
}

Test(bigmem, blocks_of_every_size)
{
    check(1);
    check(4096);
    check(((size_t)2 << 20) - 1);
    check((size_t)2 << 20);
    check(((size_t)2 << 20) + 1);
    check((size_t)9 << 20);
    rt_big_free(NULL, 0);
}

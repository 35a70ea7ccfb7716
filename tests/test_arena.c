/* test_arena: bump allocation: alignment, no overlap, blocks larger than the block size,
 * reset keeping one block, strndup. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "engine/arena.h"

Test(arena, alignment_and_no_overlap)
{
    rt_arena a;
    rt_arena_init(&a, 1024);
    unsigned char *p[64];
    size_t sizes[64];
    for (int i = 0; i < 64; i++) {
        sizes[i] = (size_t)(i * 7 % 50);
        p[i] = rt_arena_alloc(&a, sizes[i]);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t)p[i] % 16, 0, "allocation %d is not 16-byte aligned", i);
        memset(p[i], i, sizes[i]);
    }
    for (int i = 0; i < 64; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            if (p[i][k] != (unsigned char)i) cr_assert_fail("allocation %d was overwritten", i);
    /* Even a zero-byte allocation gets its own address. */
    cr_assert_neq(rt_arena_alloc(&a, 0), rt_arena_alloc(&a, 0));
    rt_arena_free(&a);
    cr_assert_eq(a.bytes_allocated, 0);
    cr_assert_null(a.head);
}

Test(arena, blocks)
{
    rt_arena a;
    rt_arena_init(&a, 1024);
    cr_assert_eq(a.bytes_allocated, 0, "nothing is allocated before the first use");
    cr_assert_not_null(rt_arena_alloc(&a, 1000));
    cr_assert_eq(a.bytes_allocated, 1024);
    cr_assert_not_null(rt_arena_alloc(&a, 100)); /* does not fit the 24 bytes left */
    cr_assert_eq(a.bytes_allocated, 2048);
    unsigned char *big = rt_arena_alloc(&a, 5000);
    cr_assert_not_null(big);
    memset(big, 0xab, 5000);
    cr_assert_eq(a.bytes_allocated, 2048 + 5008, "an oversized request gets a block of its own");
    rt_arena_free(&a);

    rt_arena d;
    rt_arena_init(&d, 0);
    cr_assert_eq(d.block_size, 64 * 1024, "0 picks 64 KiB");
    rt_arena_free(&d);
}

Test(arena, reset_keeps_the_first_block)
{
    rt_arena a;
    rt_arena_init(&a, 1024);
    void *first = rt_arena_alloc(&a, 512);
    for (int i = 0; i < 10; i++) cr_assert_not_null(rt_arena_alloc(&a, 900));
    cr_assert_gt(a.bytes_allocated, 1024);
    rt_arena_reset(&a);
    cr_assert_eq(a.bytes_allocated, 1024);
    cr_assert_eq(rt_arena_alloc(&a, 16), first, "filling starts again at the beginning");
    rt_arena_reset(&a);
    rt_arena_free(&a);
    rt_arena_reset(&a); /* a reset of an empty arena is harmless */
    cr_assert_not_null(rt_arena_alloc(&a, 8), "a freed arena can be used again");
    rt_arena_free(&a);
}

Test(arena, strndup)
{
    rt_arena a;
    rt_arena_init(&a, 0);
    const char *s = rt_arena_strndup(&a, "ACC-0001,rest", 8);
    cr_assert_str_eq(s, "ACC-0001");
    cr_assert_str_eq(rt_arena_strndup(&a, "", 0), "");
    rt_arena_free(&a);
}

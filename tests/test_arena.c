/* test_arena: bump allocation: alignment, no overlap, blocks larger than the block size,
 * reset keeping one block, strndup, blocks of whole huge pages, adopting another arena. */
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

Test(arena, big_blocks_are_whole_huge_pages)
{
    /* A block of 2 MiB or more is rounded up to whole 2 MiB and all of it is usable. */
    rt_arena a;
    rt_arena_init(&a, 3 << 20);
    unsigned char *p = rt_arena_alloc(&a, 100);
    cr_assert_not_null(p);
    /* 3 MiB plus the block header, rounded up to 4 MiB, less the header. */
    cr_assert_geq(a.bytes_allocated, (size_t)3 << 20);
    cr_assert_lt(a.bytes_allocated, (size_t)4 << 20, "rounded within the last huge page");
    cr_assert_gt(a.bytes_allocated, ((size_t)4 << 20) - 64, "the rest of the last huge page is usable");
    /* All of the block's capacity is handed out before a second block is made. */
    size_t before = a.bytes_allocated;
    unsigned char *q = rt_arena_alloc(&a, before - 200);
    cr_assert_not_null(q);
    cr_assert_eq(a.bytes_allocated, before, "the rounding was usable capacity");
    memset(p, 1, 100);
    memset(q, 2, before - 200);
    cr_assert_eq(p[99], 1);
    rt_arena_free(&a);
    cr_assert_eq(a.bytes_allocated, 0);
}

Test(arena, adopt_takes_every_block)
{
    rt_arena dst, src, empty;
    rt_arena_init(&dst, 1024);
    rt_arena_init(&src, 512);
    rt_arena_init(&empty, 512);
    char *d = rt_arena_strndup(&dst, "kept", 4);
    char *s1 = rt_arena_strndup(&src, "first", 5);
    for (int i = 0; i < 10; i++) cr_assert_not_null(rt_arena_alloc(&src, 400)); /* 10 blocks */
    char *s2 = rt_arena_strndup(&src, "last", 4);
    size_t total = dst.bytes_allocated + src.bytes_allocated;
    rt_arena_adopt(&dst, &src);
    rt_arena_adopt(&dst, &empty); /* nothing to take */
    cr_assert_null(src.head);
    cr_assert_eq(src.bytes_allocated, 0);
    cr_assert_eq(dst.bytes_allocated, total);
    cr_assert_str_eq(d, "kept");
    cr_assert_str_eq(s1, "first");
    cr_assert_str_eq(s2, "last");
    /* dst goes on filling its own block, then new ones. */
    char *more = rt_arena_strndup(&dst, "more", 4);
    cr_assert_str_eq(more, "more");
    cr_assert_eq(dst.bytes_allocated, total, "'more' fitted in dst's own block");
    rt_arena_free(&dst); /* frees src's blocks too (ASan would report a leak) */
    rt_arena_adopt(&src, &empty);
    rt_arena_init(&empty, 0);
    rt_arena_strndup(&empty, "x", 1);
    rt_arena_adopt(&src, &empty); /* into an arena without blocks */
    cr_assert_not_null(src.head);
    cr_assert_null(empty.head);
    rt_arena_free(&src);
}

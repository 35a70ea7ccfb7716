/* test_bigmem: small and huge blocks are zeroed, writable to their last byte, and released; a
 * block reused after another was freed is zeroed again; blocks from half a megabyte are whole
 * 2 MiB pages; reallocation keeps the bytes and zeroes the rest. */
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
    memset(p, 0xab, rt_big_usable(size));
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

Test(bigmem, blocks_from_half_a_megabyte_are_whole_huge_pages)
{
    const size_t huge = (size_t)2 << 20;
    cr_assert_eq(rt_big_usable(1000), 1000);
    cr_assert_eq(rt_big_usable(huge / 4 - 1), huge / 4 - 1);
    cr_assert_eq(rt_big_usable(huge / 4), huge);
    cr_assert_eq(rt_big_usable(huge + 1), 2 * huge);
    /* A block of half a megabyte is a whole huge page, writable to its end. */
    unsigned char *p = rt_big_alloc(huge / 4);
    cr_assert_not_null(p);
    memset(p, 0xab, rt_big_usable(huge / 4));
    rt_big_free(p, huge / 4);
}

Test(bigmem, a_block_reused_after_a_free_is_zeroed_again)
{
    /* Freed blocks stay in the heap and come back to the next request of their size: the
     * zeroed promise must hold for them too, not only for memory fresh from the kernel. */
    const size_t sizes[] = {100, (size_t)1 << 20, (size_t)6 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        for (int round = 0; round < 3; round++) {
            unsigned char *p = rt_big_alloc(sizes[k]);
            cr_assert_not_null(p);
            size_t usable = rt_big_usable(sizes[k]);
            for (size_t i = 0; i < usable; i += 511) cr_assert_eq(p[i], 0, "byte %zu zeroed", i);
            cr_assert_eq(p[usable - 1], 0);
            memset(p, 0xcd, usable);
            rt_big_free(p, sizes[k]);
        }
    }
}

Test(bigmem, a_dirty_block_is_writable_to_its_end)
{
    const size_t sizes[] = {1, 4096, ((size_t)2 << 20) + 1};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *p = rt_big_alloc_dirty(sizes[k]);
        cr_assert_not_null(p);
        memset(p, 0x11, rt_big_usable(sizes[k]));
        cr_assert_eq(p[rt_big_usable(sizes[k]) - 1], 0x11);
        rt_big_free(p, sizes[k]);
    }
}

Test(bigmem, realloc_keeps_the_bytes_and_zeroes_the_rest)
{
    /* Growing across the huge-block threshold and within it, then shrinking. */
    const size_t sizes[] = {1000, (size_t)3 << 20, (size_t)7 << 20, 5000};
    unsigned char *p = rt_big_realloc(NULL, 0, 100);
    cr_assert_not_null(p);
    memset(p, 0x5a, 100);
    size_t have = 100, filled = 100;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        p = rt_big_realloc(p, have, sizes[k]);
        cr_assert_not_null(p);
        size_t keep = filled < sizes[k] ? filled : sizes[k];
        for (size_t i = 0; i < keep; i++) cr_assert_eq(p[i], 0x5a, "byte %zu kept", i);
        for (size_t i = keep; i < sizes[k]; i += 4093) cr_assert_eq(p[i], 0, "byte %zu zeroed", i);
        memset(p, 0x5a, sizes[k]);
        have = filled = sizes[k];
    }
    rt_big_free(p, have);
}

/* test_bloom: the blocked Bloom filter (no false negatives, test-and-add, a false-hit rate
 * near its design, partitions owning whole blocks). */
#include <criterion/criterion.h>

#include "engine/bloom.h"

static void fp(uint64_t i, uint64_t *lo, uint64_t *hi)
{
    /* splitmix64: spread like XXH3-128 fingerprints */
    uint64_t x = i * UINT64_C(0x9e3779b97f4a7c15) + 7;
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    *lo = x ^ (x >> 31);
    *hi = (*lo * UINT64_C(0xd6e8feb86659fd93)) ^ (i << 3);
}

Test(bloom, added_fingerprints_always_test_present)
{
    rt_bloom b;
    cr_assert_eq(rt_bloom_init(&b, 50000, 0), RT_OK);
    uint64_t lo, hi;
    for (uint64_t i = 0; i < 50000; i++) {
        fp(i, &lo, &hi);
        rt_bloom_add(&b, lo, hi);
    }
    for (uint64_t i = 0; i < 50000; i++) {
        fp(i, &lo, &hi);
        cr_assert(rt_bloom_test(&b, lo, hi), "fingerprint %llu", (unsigned long long)i);
    }
    /* Absent ones: about 1% test present at 10 bits each (7 bits in one 512-bit block). */
    unsigned hits = 0;
    for (uint64_t i = 50000; i < 150000; i++) {
        fp(i, &lo, &hi);
        hits += rt_bloom_test(&b, lo, hi);
    }
    cr_assert_lt(hits, 3000, "%u false hits in 100000", hits);
    cr_assert_gt(hits, 0);
    rt_bloom_free(&b);
    cr_assert_null(b.blocks);
}

Test(bloom, test_add_says_whether_the_fingerprint_was_there)
{
    rt_bloom b;
    cr_assert_eq(rt_bloom_init(&b, 1000, 0), RT_OK);
    uint64_t lo, hi;
    unsigned first_present = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        fp(i, &lo, &hi);
        first_present += rt_bloom_test_add(&b, lo, hi);
    }
    cr_assert_lt(first_present, 40, "false hits while filling: %u", first_present);
    for (uint64_t i = 0; i < 1000; i++) {
        fp(i, &lo, &hi);
        cr_assert(rt_bloom_test_add(&b, lo, hi), "a second add of %llu", (unsigned long long)i);
    }
    rt_bloom_free(&b);
}

Test(bloom, a_partition_by_the_top_bits_owns_whole_blocks)
{
    rt_bloom b;
    /* Few entries, but at least 2^8 blocks: block k serves the partition k >> (bits - 8). */
    cr_assert_eq(rt_bloom_init(&b, 10, 8), RT_OK);
    cr_assert_geq(b.block_bits, 8);
    cr_assert_eq(b.nblocks, (size_t)1 << b.block_bits);
    for (unsigned part = 0; part < 256; part++) {
        uint64_t first = (uint64_t)part << 56, last = first | (((uint64_t)1 << 56) - 1);
        size_t a = (size_t)(rt_bloom_block(&b, first) - b.blocks) / RT_BLOOM_WORDS;
        size_t z = (size_t)(rt_bloom_block(&b, last) - b.blocks) / RT_BLOOM_WORDS;
        cr_assert_eq(a >> (b.block_bits - 8), part);
        cr_assert_eq(z >> (b.block_bits - 8), part);
    }
    rt_bloom_free(&b);
}

/* test_dedup: the 128-bit fingerprint set: first sighting versus repeat, the reserved
 * all-zero fingerprint, probe collisions on the low word, growth, reserving room; the
 * growing fingerprint list. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "engine/dedup.h"

static bool insert(rt_dedup *d, uint64_t lo, uint64_t hi)
{
    bool seen = true;
    cr_assert_eq(rt_dedup_insert(d, lo, hi, &seen), RT_OK);
    return seen;
}

Test(dedup, first_then_repeat)
{
    rt_dedup d;
    cr_assert_eq(rt_dedup_init(&d, 0), RT_OK);
    cr_assert_not(insert(&d, 1, 2));
    cr_assert(insert(&d, 1, 2));
    cr_assert_not(insert(&d, 2, 1), "the words are not interchangeable");
    cr_assert_not(insert(&d, 1, 3), "same low word, different high word");
    cr_assert(rt_dedup_contains(&d, 1, 3));
    cr_assert_not(rt_dedup_contains(&d, 3, 1));
    rt_dedup_sum_counts(&d);
    cr_assert_eq(d.count, 3);
    cr_assert_eq(rt_dedup_bytes(&d), RT_DEDUP_PARTS * 64 * 16,
                 "the smallest table has 64 slots per partition");
    rt_dedup_free(&d);
}

Test(dedup, the_all_zero_fingerprint_is_stored_as_0_1)
{
    rt_dedup d;
    cr_assert_eq(rt_dedup_init(&d, 0), RT_OK);
    cr_assert_not(insert(&d, 0, 0));
    cr_assert(insert(&d, 0, 0));
    cr_assert(rt_dedup_contains(&d, 0, 0));
    /* The documented price of a flat table: (0, 1) is taken to be the same event. */
    cr_assert(insert(&d, 0, 1));
    rt_dedup_free(&d);
}

Test(dedup, probe_chains_on_one_low_word)
{
    rt_dedup d;
    cr_assert_eq(rt_dedup_init(&d, 0), RT_OK);
    for (uint64_t hi = 1; hi <= 300; hi++) cr_assert_not(insert(&d, 5, hi));
    for (uint64_t hi = 1; hi <= 300; hi++) cr_assert(rt_dedup_contains(&d, 5, hi));
    cr_assert_not(rt_dedup_contains(&d, 5, 301));
    rt_dedup_free(&d);
}

Test(dedup, grows_past_its_initial_size)
{
    enum { N = 200000 };
    uint64_t s = 7;
    fprintf(stderr, "dedup growth seed 7\n");
    rt_dedup d;
    cr_assert_eq(rt_dedup_init(&d, 16), RT_OK);
    for (uint64_t i = 0; i < N; i++) {
        s = s * UINT64_C(6364136223846793005) + 1;
        if (insert(&d, s, ~s)) cr_assert_fail("fingerprint %" PRIu64 " reported twice", i);
    }
    rt_dedup_sum_counts(&d);
    cr_assert_eq(d.count, N);
    cr_assert_geq(rt_dedup_bytes(&d) * 3, (size_t)N * 4 * 16, "a load of at most 3/4");
    s = 7;
    for (uint64_t i = 0; i < N; i++) {
        s = s * UINT64_C(6364136223846793005) + 1;
        if (!rt_dedup_contains(&d, s, ~s)) cr_assert_fail("fingerprint %" PRIu64 " lost", i);
    }
    rt_dedup_free(&d);
}

Test(dedup, reserve_keeps_what_is_held_and_sizes_for_the_estimate)
{
    rt_dedup d;
    cr_assert_eq(rt_dedup_init(&d, 0), RT_OK);
    enum { N = 20000 };
    const uint64_t a = UINT64_C(0x9e3779b97f4a7c15), b = UINT64_C(0xbf58476d1ce4e5b9);
    for (uint64_t i = 0; i < N; i++)
        cr_assert_not(insert(&d, i * a, i * b + 1));
    cr_assert_eq(rt_dedup_reserve(&d, 1000000), RT_OK);
    /* About a million in all: each partition's table holds its share at a load of at most
     * 0.7 and not much less (whole lines of four slots; tables this small are not rounded to
     * huge pages). */
    size_t per = 1000000 / RT_DEDUP_PARTS + 1;
    size_t want = rt_dedup_bytes(&d) / 16 / RT_DEDUP_PARTS;
    cr_assert(want * 7 >= per * 10 && want * 7 <= per * 10 + 7 * 12 && want % 4 == 0,
              "%zu slots for %zu", want, per);
    cr_assert_eq(rt_dedup_bytes(&d), RT_DEDUP_PARTS * want * 16);
    for (uint64_t i = 0; i < N; i++)
        cr_assert(insert(&d, i * a, i * b + 1), "fingerprint %" PRIu64 " is still held", i);
    /* A smaller estimate shrinks nothing. */
    cr_assert_eq(rt_dedup_reserve(&d, 10), RT_OK);
    cr_assert_eq(rt_dedup_bytes(&d), RT_DEDUP_PARTS * want * 16);
    rt_dedup_sum_counts(&d);
    cr_assert_eq(d.count, N);
    rt_dedup_free(&d);
}

/* A reserve puts every partition it grows in one block, each its exact share; a partition
 * that outgrows its share moves to a block of its own and keeps what it held. */
Test(dedup, reserved_partitions_share_one_block_and_grow_out_of_it)
{
    rt_dedup d;
    cr_assert_eq(rt_dedup_init(&d, 0), RT_OK);
    cr_assert_eq(rt_dedup_reserve(&d, 100000), RT_OK);
    cr_assert_not_null(d.slab);
    size_t cap = d.parts[0].cap;
    cr_assert_eq(d.slab_bytes, RT_DEDUP_PARTS * cap * 16);
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) {
        cr_assert_eq(d.parts[i].slots, d.slab + i * cap);
        cr_assert_not(d.parts[i].own);
    }
    cr_assert_eq(rt_dedup_bytes(&d), d.slab_bytes);
    /* Partition 0 only (top bits of hi zero), well past its share. */
    size_t n = cap * 2;
    for (uint64_t i = 1; i <= n; i++) cr_assert_not(insert(&d, i * UINT64_C(0x9e3779b97f4a7c15), i));
    cr_assert(d.parts[0].own && d.parts[0].cap > cap);
    cr_assert_not(d.parts[1].own);
    for (uint64_t i = 1; i <= n; i++)
        cr_assert(rt_dedup_contains(&d, i * UINT64_C(0x9e3779b97f4a7c15), i));
    cr_assert_eq(rt_dedup_bytes(&d), d.slab_bytes + d.parts[0].cap * 16);
    /* A second, larger reserve grows the partitions on their own. */
    cr_assert_eq(rt_dedup_reserve(&d, 400000), RT_OK);
    cr_assert(d.parts[1].own && d.parts[1].cap > cap);
    for (uint64_t i = 1; i <= n; i++)
        cr_assert(rt_dedup_contains(&d, i * UINT64_C(0x9e3779b97f4a7c15), i));
    rt_dedup_free(&d);
}

Test(dedup, a_fingerprint_list_keeps_its_order_as_it_grows)
{
    rt_fp_list l = {0};
    for (uint64_t i = 0; i < 1000; i++) cr_assert(rt_fp_list_push(&l, (rt_fp128){i, ~i}));
    cr_assert_eq(l.count, 1000);
    cr_assert_geq(l.cap, 1000);
    for (uint64_t i = 0; i < 1000; i++) cr_assert(l.items[i].lo == i && l.items[i].hi == ~i);
    rt_fp_list_free(&l);
    cr_assert(l.items == NULL && l.count == 0 && l.cap == 0);
}

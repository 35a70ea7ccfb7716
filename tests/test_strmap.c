/* test_strmap: the string -> u32 hash index (strmap) and the u64 -> u32 index (u64map):
 * insert, lookup, duplicates, growth far past the initial size, keys as views. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/strmap.h"
#include "engine/u64map.h"

Test(strmap, put_get_and_duplicates)
{
    rt_strmap m;
    cr_assert_eq(rt_strmap_init(&m, 4), RT_OK);
    cr_assert_eq(rt_strmap_put(&m, "VOICE", 5, 7), RT_OK);
    cr_assert_eq(rt_strmap_put(&m, "SMS", 3, 8), RT_OK);
    uint32_t v = 0;
    cr_assert_eq(rt_strmap_get(&m, "VOICE", 5, &v), RT_OK);
    cr_assert_eq(v, 7);
    cr_assert_eq(rt_strmap_put(&m, "VOICE", 5, 99), RT_EEXIST);
    cr_assert_eq(rt_strmap_get(&m, "VOICE", 5, &v), RT_OK);
    cr_assert_eq(v, 7, "a duplicate leaves the first value");
    cr_assert_eq(m.count, 2);
    cr_assert_eq(rt_strmap_get(&m, "VOIC", 4, &v), RT_ENOTFOUND);
    cr_assert_eq(rt_strmap_get(&m, "VOICES", 6, &v), RT_ENOTFOUND);
    cr_assert_eq(rt_strmap_get_hashed(&m, rt_strmap_hash("SMS", 3), "SMS", 3, &v), RT_OK);
    cr_assert_eq(v, 8);
    rt_strmap_free(&m);
    cr_assert_eq(rt_strmap_get(&m, "SMS", 3, &v), RT_ENOTFOUND, "a freed map is empty");
}

Test(strmap, keys_are_views_with_a_length)
{
    rt_strmap m;
    cr_assert_eq(rt_strmap_init(&m, 0), RT_OK);
    static const char text[] = "A1,A12,A1\0x";
    cr_assert_eq(rt_strmap_put(&m, text, 2, 1), RT_OK);      /* "A1" */
    cr_assert_eq(rt_strmap_put(&m, text + 3, 3, 2), RT_OK);  /* "A12" */
    cr_assert_eq(rt_strmap_put(&m, text + 7, 2, 3), RT_EEXIST); /* "A1" again */
    cr_assert_eq(rt_strmap_put(&m, text + 7, 4, 4), RT_OK);  /* "A1\0x": NUL is a byte */
    cr_assert_eq(rt_strmap_put(&m, "", 0, 5), RT_OK);
    uint32_t v;
    cr_assert_eq(rt_strmap_get(&m, "A12", 3, &v), RT_OK);
    cr_assert_eq(v, 2);
    cr_assert_eq(rt_strmap_get(&m, "A1\0x", 4, &v), RT_OK);
    cr_assert_eq(v, 4);
    cr_assert_eq(rt_strmap_get(&m, "", 0, &v), RT_OK);
    cr_assert_eq(v, 5);
    rt_strmap_free(&m);
}

Test(strmap, grows_and_keeps_every_key)
{
    enum { N = 50000 };
    static char keys[N][12];
    rt_strmap m;
    cr_assert_eq(rt_strmap_init(&m, 1), RT_OK);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "ACC-%06u", i);
        cr_assert_eq(rt_strmap_put(&m, keys[i], strlen(keys[i]), i), RT_OK);
        cr_assert_leq(2 * m.count, m.mask + 1, "load factor at most 1/2");
    }
    cr_assert_eq(m.count, N);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t v = UINT32_MAX;
        if (rt_strmap_get(&m, keys[i], strlen(keys[i]), &v) != RT_OK || v != i)
            cr_assert_fail("key %s lost after growth", keys[i]);
    }
    cr_assert_eq(rt_strmap_get(&m, "ACC-050000", 10, &(uint32_t){0}), RT_ENOTFOUND);
    rt_strmap_free(&m);
}

Test(u64map, upsert_and_get)
{
    rt_u64map m;
    cr_assert_eq(rt_u64map_init(&m, 0), RT_OK);
    uint32_t v;
    int ins;
    cr_assert_eq(rt_u64map_upsert(&m, 42, 7, &v, &ins), RT_OK);
    cr_assert(ins == 1 && v == 7);
    cr_assert_eq(rt_u64map_upsert(&m, 42, 9, &v, &ins), RT_OK);
    cr_assert(ins == 0 && v == 7, "an existing key keeps its value");
    cr_assert_eq(rt_u64map_upsert(&m, UINT64_MAX, 3, &v, &ins), RT_OK);
    cr_assert_eq(rt_u64map_get(&m, UINT64_MAX, &v), RT_OK);
    cr_assert_eq(v, 3);
    cr_assert_eq(rt_u64map_get(&m, 43, &v), RT_ENOTFOUND);
    cr_assert_eq(m.count, 2);
    rt_u64map_free(&m);
    cr_assert_eq(rt_u64map_get(&m, 42, &v), RT_ENOTFOUND);
}

Test(u64map, sequential_composite_keys_grow)
{
    /* Keys shaped like the catalog's (plan + 1) << 32 | (product + 1). */
    rt_u64map m;
    cr_assert_eq(rt_u64map_init(&m, 4), RT_OK);
    uint32_t n = 0;
    for (uint64_t plan = 0; plan < 200; plan++)
        for (uint64_t prod = 0; prod < 300; prod++) {
            uint32_t v;
            int ins;
            cr_assert_eq(rt_u64map_upsert(&m, (plan + 1) << 32 | (prod + 1), n, &v, &ins), RT_OK);
            if (!ins) cr_assert_fail("key %llu/%llu seen twice", (unsigned long long)plan,
                                     (unsigned long long)prod);
            n++;
        }
    cr_assert_eq(m.count, 60000);
    cr_assert_leq(2 * m.count, m.mask + 1);
    uint32_t expect = 0;
    for (uint64_t plan = 0; plan < 200; plan++)
        for (uint64_t prod = 0; prod < 300; prod++) {
            uint32_t v = UINT32_MAX;
            if (rt_u64map_get(&m, (plan + 1) << 32 | (prod + 1), &v) != RT_OK || v != expect)
                cr_assert_fail("lost %llu/%llu", (unsigned long long)plan,
                               (unsigned long long)prod);
            expect++;
        }
    rt_u64map_free(&m);
}

Test(u64map, mix_spreads_sequential_keys)
{
    /* The finaliser must not map neighbours to neighbours (the low bits index the table). */
    uint64_t a = rt_u64_mix(1), b = rt_u64_mix(2);
    cr_assert_neq(a & 0xffff, b & 0xffff);
    cr_assert_eq(rt_u64_mix(0), 0);
}

Test(strmap, pair_keys)
{
    char k[8];
    cr_assert_eq(rt_strmap_pair(k, sizeof k, "ab", "cde"), 6);
    cr_assert(memcmp(k, "ab\x1f" "cde", 7) == 0, "NUL-terminated a, unit separator, b");
    cr_assert_eq(rt_strmap_pair(k, sizeof k, "abc", "defg"), 0, "8 bytes and a NUL do not fit");
    cr_assert_eq(rt_strmap_pair(k, sizeof k, "", ""), 1);
}

/* test_pack: record encoding (varints, zigzag, little-endian, strings), order-preserving
 * keys, and the bounds-checked reader on truncated or malformed records. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "engine/pack.h"

static void bytes_are(const rt_pack *p, const unsigned char *want, size_t n)
{
    cr_assert_eq(p->len, n, "length %zu, expected %zu", p->len, n);
    cr_assert(memcmp(p->data, want, n) == 0);
}

Test(pack, uvarint_encoding)
{
    static const struct {
        uint64_t v;
        unsigned char b[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {127, {0x7f}, 1},
        {128, {0x80, 0x01}, 2},
        {300, {0xac, 0x02}, 2},
        {16384, {0x80, 0x80, 0x01}, 3},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rt_pack p;
        rt_pack_init(&p);
        rt_pack_uvarint(&p, cases[i].v);
        bytes_are(&p, cases[i].b, cases[i].n);
        rt_unpack u;
        rt_unpack_init(&u, p.data, p.len);
        cr_assert_eq(rt_unpack_uvarint(&u), cases[i].v);
        cr_assert_eq(rt_unpack_done(&u), RT_OK);
        rt_pack_free(&p);
    }
}

Test(pack, zigzag_and_fixed_width)
{
    static const int64_t values[] = {0, -1, 1, -2, 63, -64, 64, INT64_MAX, INT64_MIN};
    rt_pack p;
    rt_pack_init(&p);
    rt_pack_svarint(&p, -1);
    rt_pack_svarint(&p, 1);
    rt_pack_svarint(&p, -64);
    static const unsigned char zz[] = {0x01, 0x02, 0x7f};
    bytes_are(&p, zz, 3);
    rt_pack_reset(&p);
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) rt_pack_svarint(&p, values[i]);
    rt_pack_u64le(&p, UINT64_C(0x0102030405060708));
    rt_pack_u8(&p, 0xee);
    cr_assert_eq(rt_pack_status(&p), RT_OK);
    rt_unpack u;
    rt_unpack_init(&u, p.data, p.len);
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        cr_assert_eq(rt_unpack_svarint(&u), values[i]);
    const unsigned char *le = u.p;
    cr_assert(le[0] == 0x08 && le[7] == 0x01, "little-endian");
    cr_assert_eq(rt_unpack_u64le(&u), UINT64_C(0x0102030405060708));
    cr_assert_eq(rt_unpack_u8(&u), 0xee);
    cr_assert_eq(rt_unpack_done(&u), RT_OK);
    rt_pack_free(&p);
}

Test(pack, strings)
{
    rt_pack p;
    rt_pack_init(&p);
    rt_pack_str(&p, "EUR");
    rt_pack_str(&p, "");
    static const unsigned char want[] = {3, 'E', 'U', 'R', 0};
    bytes_are(&p, want, 5);
    rt_unpack u;
    rt_unpack_init(&u, p.data, p.len);
    size_t n;
    const char *s = rt_unpack_str(&u, &n);
    cr_assert(n == 3 && memcmp(s, "EUR", 3) == 0);
    s = rt_unpack_str(&u, &n);
    cr_assert_eq(n, 0);
    cr_assert_eq(rt_unpack_done(&u), RT_OK);
    rt_pack_free(&p);
}

static int key_cmp_i64(int64_t a, int64_t b)
{
    rt_pack x, y;
    rt_pack_init(&x);
    rt_pack_init(&y);
    rt_pack_key_i64(&x, a);
    rt_pack_key_i64(&y, b);
    int c = memcmp(x.data, y.data, 8);
    rt_pack_free(&x);
    rt_pack_free(&y);
    return c < 0 ? -1 : c > 0;
}

Test(pack, integer_keys_sort_bytewise_as_numbers)
{
    static const int64_t sorted[] = {INT64_MIN, -62135596800, -86400, -1, 0, 1, 255, 256,
                                     1791209002, INT64_MAX};
    size_t n = sizeof sorted / sizeof *sorted;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            cr_assert_eq(key_cmp_i64(sorted[i], sorted[j]), i < j ? -1 : i > j,
                         "%zu vs %zu", i, j);
    rt_pack p;
    rt_pack_init(&p);
    rt_pack_key_u64(&p, 0x0102);
    static const unsigned char be[] = {0, 0, 0, 0, 0, 0, 1, 2};
    bytes_are(&p, be, 8);
    rt_unpack u;
    rt_unpack_init(&u, p.data, p.len);
    cr_assert_eq(rt_unpack_key_u64(&u), 0x0102);
    rt_pack_reset(&p);
    rt_pack_key_i64(&p, -5);
    rt_unpack_init(&u, p.data, p.len);
    cr_assert_eq(rt_unpack_key_i64(&u), -5);
    cr_assert_eq(rt_unpack_done(&u), RT_OK);
    rt_pack_free(&p);
}

/* (string, time) composite keys as the price book stores versions. */
static rt_pack composite(const char *s, int64_t t)
{
    rt_pack p;
    rt_pack_init(&p);
    rt_pack_key_str(&p, s);
    rt_pack_key_i64(&p, t);
    return p;
}

static int pack_cmp(const rt_pack *a, const rt_pack *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c) return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

Test(pack, composite_keys_sort_field_by_field)
{
    /* "A" < "AB" because the NUL terminator sorts before any byte of an id. */
    rt_pack k[5] = {composite("A", INT64_MAX), composite("AB", INT64_MIN), composite("AB", -1),
                    composite("AB", 0), composite("B", INT64_MIN)};
    for (int i = 0; i + 1 < 5; i++) cr_assert_lt(pack_cmp(&k[i], &k[i + 1]), 0, "key %d", i);
    rt_unpack u;
    rt_unpack_init(&u, k[2].data, k[2].len);
    size_t n;
    const char *s = rt_unpack_key_str(&u, &n);
    cr_assert(n == 2 && memcmp(s, "AB", 2) == 0);
    cr_assert_eq(rt_unpack_key_i64(&u), -1);
    cr_assert_eq(rt_unpack_done(&u), RT_OK);
    for (int i = 0; i < 5; i++) rt_pack_free(&k[i]);
}

Test(pack, reader_refuses_truncated_and_malformed_records)
{
    static const unsigned char cut_varint[] = {0x80, 0x80};
    rt_unpack u;
    rt_unpack_init(&u, cut_varint, sizeof cut_varint);
    cr_assert_eq(rt_unpack_uvarint(&u), 0);
    cr_assert(u.bad);
    cr_assert_eq(rt_unpack_done(&u), RT_ECORRUPT);

    static const unsigned char long_varint[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                  0xff, 0xff, 0xff, 0xff, 0x01};
    rt_unpack_init(&u, long_varint, sizeof long_varint);
    rt_unpack_uvarint(&u);
    cr_assert(u.bad, "more than 10 bytes is not a 64-bit varint");

    static const unsigned char long_str[] = {5, 'a', 'b'};
    rt_unpack_init(&u, long_str, sizeof long_str);
    size_t n = 99;
    const char *s = rt_unpack_str(&u, &n);
    cr_assert(u.bad && n == 0 && s[0] == '\0');

    static const unsigned char short_u64[7] = {0};
    rt_unpack_init(&u, short_u64, sizeof short_u64);
    cr_assert_eq(rt_unpack_u64le(&u), 0);
    cr_assert(u.bad);
    rt_unpack_init(&u, short_u64, sizeof short_u64);
    rt_unpack_key_u64(&u);
    cr_assert(u.bad);

    static const unsigned char no_nul[] = {'a', 'b'};
    rt_unpack_init(&u, no_nul, sizeof no_nul);
    rt_unpack_key_str(&u, &n);
    cr_assert(u.bad);

    rt_unpack_init(&u, no_nul, 0);
    rt_unpack_u8(&u);
    cr_assert(u.bad, "reading an empty record");

    /* Bytes left over are corruption too: a record must be consumed exactly. */
    static const unsigned char extra[] = {0x01, 0x02};
    rt_unpack_init(&u, extra, sizeof extra);
    cr_assert_eq(rt_unpack_u8(&u), 1);
    cr_assert_not(u.bad);
    cr_assert_eq(rt_unpack_done(&u), RT_ECORRUPT);
}

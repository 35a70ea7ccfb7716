/* fuzz_decimal: decimal text parsing and formatting, and division with a named rounding.
 *
 * The first byte picks a scale (0..18); the rest is the text. Invariants (abort on
 * violation): a parsed value formats back to text that parses to the same value, both with
 * all its decimals and trimmed; parse_any keeps the written scale through a round trip; a
 * value that does not parse at a scale fails for a reason that holds (too many decimals:
 * it parses at a larger scale). From 17 bytes on, two integers are also divided in every
 * rounding mode and the quotient checked against its definition. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"

#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #x), abort()))

static void check_text(const char *s, size_t len, unsigned scale)
{
    int64_t v;
    rt_status st = rt_decimal_parse(s, len, scale, &v);
    CHECK(st == RT_OK || st == RT_EPARSE || st == RT_ELIMIT || st == RT_EOVERFLOW);
    if (st == RT_OK) {
        char buf[48];
        size_t n = rt_decimal_format(v, scale, (int)scale, 0, '.', buf, sizeof buf);
        CHECK(n == strlen(buf) && n < sizeof buf);
        int64_t back;
        CHECK(rt_decimal_parse(buf, n, scale, &back) == RT_OK && back == v);
        n = rt_decimal_format(v, scale, -1, 0, '.', buf, sizeof buf);
        CHECK(rt_decimal_parse(buf, n, scale, &back) == RT_OK && back == v);
        CHECK(n == 0 || buf[n - 1] != '0' || strchr(buf, '.') == NULL);
        /* A larger scale holds the same value, when it fits. */
        if (scale < RT_SCALE_MAX) {
            int64_t wide, narrow;
            if (rt_decimal_parse(s, len, scale + 1, &wide) == RT_OK) {
                CHECK(rt_rescale(wide, scale + 1, scale, RT_ROUND_DOWN, &narrow) == RT_OK);
                CHECK(narrow == v);
            }
        }
    } else if (st == RT_ELIMIT) {
        int64_t wide;
        rt_status w = rt_decimal_parse(s, len, RT_SCALE_MAX, &wide);
        CHECK(w != RT_EPARSE);
    }
    int64_t m;
    unsigned sc;
    st = rt_decimal_parse_any(s, len, RT_SCALE_MAX, &m, &sc);
    if (st == RT_OK) {
        CHECK(sc <= RT_SCALE_MAX);
        char buf[48];
        size_t n = rt_decimal_format(m, sc, (int)sc, 0, '.', buf, sizeof buf);
        int64_t m2;
        unsigned sc2;
        CHECK(rt_decimal_parse_any(buf, n, RT_SCALE_MAX, &m2, &sc2) == RT_OK);
        CHECK(m2 == m && sc2 == sc);
    }
}

static int64_t read_i64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

static void check_division(int64_t num, int64_t den)
{
    if (den == 0) return;
    __int128 n = num, d = den;
    __int128 trunc = n / d;
    for (int mode = 0; mode < RT_ROUND_COUNT_; mode++) {
        int64_t q;
        rt_status st = rt_div_round_i128(n, d, (rt_round)mode, &q);
        if (st == RT_EOVERFLOW) {
            CHECK(num == INT64_MIN && den == -1);
            continue;
        }
        CHECK(st == RT_OK);
        __int128 diff = q - trunc; /* 0, or one step away from zero */
        CHECK(diff >= -1 && diff <= 1);
        __int128 rem = n - (__int128)q * d; /* what the rounding left over */
        __int128 arem = rem < 0 ? -rem : rem, ad = d < 0 ? -d : d;
        switch ((rt_round)mode) {
        case RT_ROUND_DOWN: CHECK(q == trunc); break;
        case RT_ROUND_UP: CHECK(arem < ad && (n % d == 0 ? q == trunc : diff != 0)); break;
        case RT_ROUND_HALF_UP:
        case RT_ROUND_HALF_EVEN:
            CHECK(2 * arem <= ad);
            if (2 * arem == ad && mode == RT_ROUND_HALF_EVEN) CHECK(q % 2 == 0);
            if (2 * arem == ad && mode == RT_ROUND_HALF_UP) CHECK(diff != 0 || n % d == 0);
            break;
        default: abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned scale = data[0] % (RT_SCALE_MAX + 1);
    check_text((const char *)data + 1, size - 1, scale);
    if (size >= 17) {
        check_division(read_i64(data + 1), read_i64(data + 9));
        int64_t q;
        int64_t den = read_i64(data + 9);
        if (den > 0) {
            /* a x b / d through 128 bits: exact or RT_EOVERFLOW, never a wrap. */
            rt_status st = rt_mul_div_round(read_i64(data + 1), (int64_t)scale + 1, den,
                                            RT_ROUND_HALF_UP, &q);
            CHECK(st == RT_OK || st == RT_EOVERFLOW);
        }
    }
    return 0;
}

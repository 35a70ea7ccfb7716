/* test_money: fixed-point arithmetic, rounding modes at .5 boundaries, overflow, decimal text,
 * ISO 4217 minor units. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/money.h"

static int64_t div_round(__int128 num, __int128 den, rt_round mode)
{
    int64_t out = 0;
    cr_assert_eq(rt_div_round_i128(num, den, mode, &out), RT_OK);
    return out;
}

Test(money, half_up_rounds_ties_away_from_zero)
{
    cr_assert_eq(div_round(25, 10, RT_ROUND_HALF_UP), 3);
    cr_assert_eq(div_round(-25, 10, RT_ROUND_HALF_UP), -3);
    cr_assert_eq(div_round(24, 10, RT_ROUND_HALF_UP), 2);
    cr_assert_eq(div_round(-24, 10, RT_ROUND_HALF_UP), -2);
    cr_assert_eq(div_round(15, 10, RT_ROUND_HALF_UP), 2);
    cr_assert_eq(div_round(5, 10, RT_ROUND_HALF_UP), 1);
    cr_assert_eq(div_round(-5, 10, RT_ROUND_HALF_UP), -1);
    cr_assert_eq(div_round(25, -10, RT_ROUND_HALF_UP), -3);
}

Test(money, half_even_rounds_ties_to_even)
{
    cr_assert_eq(div_round(25, 10, RT_ROUND_HALF_EVEN), 2);
    cr_assert_eq(div_round(35, 10, RT_ROUND_HALF_EVEN), 4);
    cr_assert_eq(div_round(-25, 10, RT_ROUND_HALF_EVEN), -2);
    cr_assert_eq(div_round(-35, 10, RT_ROUND_HALF_EVEN), -4);
    cr_assert_eq(div_round(5, 10, RT_ROUND_HALF_EVEN), 0);
    cr_assert_eq(div_round(15, 10, RT_ROUND_HALF_EVEN), 2);
    cr_assert_eq(div_round(26, 10, RT_ROUND_HALF_EVEN), 3);
    cr_assert_eq(div_round(-26, 10, RT_ROUND_HALF_EVEN), -3);
}

Test(money, up_and_down)
{
    cr_assert_eq(div_round(21, 10, RT_ROUND_UP), 3);
    cr_assert_eq(div_round(-21, 10, RT_ROUND_UP), -3);
    cr_assert_eq(div_round(29, 10, RT_ROUND_DOWN), 2);
    cr_assert_eq(div_round(-29, 10, RT_ROUND_DOWN), -2);
    cr_assert_eq(div_round(30, 10, RT_ROUND_UP), 3);
}

Test(money, exact_division_never_rounds)
{
    for (int m = 0; m < RT_ROUND_COUNT_; m++) cr_assert_eq(div_round(-120, 40, (rt_round)m), -3);
}

Test(money, overflow_is_an_error_not_a_wrap)
{
    int64_t out = 0;
    cr_assert_eq(rt_add_i64(INT64_MAX, 1, &out), RT_EOVERFLOW);
    cr_assert_eq(rt_sub_i64(INT64_MIN, 1, &out), RT_EOVERFLOW);
    cr_assert_eq(rt_mul_i64(INT64_C(4611686018427387904), 2, &out), RT_EOVERFLOW);
    cr_assert_eq(rt_mul_div_round(INT64_MAX, INT64_MAX, 1, RT_ROUND_HALF_UP, &out), RT_EOVERFLOW);
    /* A 128-bit intermediate lets a product that exceeds int64 come back in range. */
    cr_assert_eq(rt_mul_div_round(INT64_MAX, 1000, 1000, RT_ROUND_HALF_UP, &out), RT_OK);
    cr_assert_eq(out, INT64_MAX);
    cr_assert_eq(rt_rescale(INT64_MAX / 10 + 1, 2, 3, RT_ROUND_HALF_UP, &out), RT_EOVERFLOW);
}

Test(money, rescale_rounds_once)
{
    int64_t out;
    /* 0.125 EUR in nanos to cents. */
    cr_assert_eq(rt_rescale(125000000, 9, 2, RT_ROUND_HALF_UP, &out), RT_OK);
    cr_assert_eq(out, 13);
    cr_assert_eq(rt_rescale(125000000, 9, 2, RT_ROUND_HALF_EVEN, &out), RT_OK);
    cr_assert_eq(out, 12);
    cr_assert_eq(rt_rescale(-125000000, 9, 2, RT_ROUND_HALF_UP, &out), RT_OK);
    cr_assert_eq(out, -13);
    cr_assert_eq(rt_rescale(7, 0, 3, RT_ROUND_HALF_UP, &out), RT_OK);
    cr_assert_eq(out, 7000);
}

Test(money, decimal_parse_reports_malformed_text_before_limits)
{
    /* Found by fuzz_decimal: a text that is not a number at all must say so, even when its
     * digits would also be too many or too large. */
    int64_t v;
    cr_assert_eq(rt_decimal_parse("-12.005\xa3", 8, 2, &v), RT_EPARSE);
    cr_assert_eq(rt_decimal_parse("1.1234567x", 10, 6, &v), RT_EPARSE);
    cr_assert_eq(rt_decimal_parse("99999999999999999999x", 21, 0, &v), RT_EPARSE);
    cr_assert_eq(rt_decimal_parse("1.1234567", 9, 6, &v), RT_ELIMIT);
    cr_assert_eq(rt_decimal_parse("99999999999999999999.5", 22, 0, &v), RT_EOVERFLOW);
    cr_assert_eq(rt_decimal_parse("-9223372036854775808", 20, 0, &v), RT_OK);
    cr_assert_eq(v, INT64_MIN);
}

Test(money, decimal_parse)
{
    int64_t v;
    cr_assert_eq(rt_decimal_parse("12.345", 6, 9, &v), RT_OK);
    cr_assert_eq(v, INT64_C(12345000000));
    cr_assert_eq(rt_decimal_parse("-0.5", 4, 2, &v), RT_OK);
    cr_assert_eq(v, -50);
    cr_assert_eq(rt_decimal_parse("+7", 2, 0, &v), RT_OK);
    cr_assert_eq(v, 7);
    /* More decimals than the scale is refused, never rounded; trailing zeros are fine. */
    cr_assert_eq(rt_decimal_parse("0.001", 5, 2, &v), RT_ELIMIT);
    cr_assert_eq(rt_decimal_parse("0.100", 5, 2, &v), RT_OK);
    cr_assert_eq(v, 10);
    const char *bad[] = {"", "-", ".5", "5.", "1e3", "1,5", " 1", "0x10", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(rt_decimal_parse(bad[i], strlen(bad[i]), 2, &v), RT_EPARSE, "%s", bad[i]);
    cr_assert_eq(rt_decimal_parse("99999999999999999999", 20, 0, &v), RT_EOVERFLOW);
    cr_assert_eq(rt_decimal_parse("9223372036854775807", 19, 0, &v), RT_OK);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(rt_decimal_parse("92233720368.54775808", 20, 9, &v), RT_EOVERFLOW);
}

Test(money, decimal_format)
{
    char b[48];
    rt_decimal_str(-1234, 2, b, sizeof b);
    cr_assert_str_eq(b, "-12.34");
    rt_decimal_str(5, 2, b, sizeof b);
    cr_assert_str_eq(b, "0.05");
    rt_decimal_str(-5, 2, b, sizeof b);
    cr_assert_str_eq(b, "-0.05");
    rt_decimal_str(42, 0, b, sizeof b);
    cr_assert_str_eq(b, "42");
    rt_decimal_format(INT64_C(18000000), 9, -1, 2, '.', b, sizeof b);
    cr_assert_str_eq(b, "0.018");
    rt_decimal_format(INT64_C(20000000000), 9, -1, 2, '.', b, sizeof b);
    cr_assert_str_eq(b, "20.00");
    rt_decimal_format(INT64_C(20000000000), 9, -1, 0, '.', b, sizeof b);
    cr_assert_str_eq(b, "20");
    rt_decimal_format(1234, 2, 2, 0, ',', b, sizeof b);
    cr_assert_str_eq(b, "12,34");
    rt_decimal_str(INT64_MIN, 0, b, sizeof b);
    cr_assert_str_eq(b, "-9223372036854775808");
}

/* The text against one made with printf from the same integer parts, over values of every
 * length (powers of ten and their neighbours, the extremes) and every scale and decimals. */
static void reference(int64_t v, unsigned scale, int decimals, unsigned min_dec, char *out,
                      size_t n)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t div = 1;
    for (unsigned i = 0; i < scale; i++) div *= 10;
    uint64_t ip = mag / div, fp = mag % div;
    char frac[64];
    snprintf(frac, sizeof frac, "%0*llu", (int)scale, (unsigned long long)fp);
    if (scale == 0) frac[0] = '\0';
    size_t len = strlen(frac);
    if (decimals >= 0) {
        while (len < (size_t)decimals) frac[len++] = '0';
        len = (size_t)decimals;
    } else {
        while (len > min_dec && frac[len - 1] == '0') len--;
        while (len < min_dec) frac[len++] = '0';
    }
    frac[len] = '\0';
    snprintf(out, n, "%s%llu%s%s", v < 0 ? "-" : "", (unsigned long long)ip, len ? "." : "",
             frac);
}

Test(money, decimal_format_matches_a_reference)
{
    int64_t values[200];
    size_t nv = 0;
    values[nv++] = 0;
    values[nv++] = INT64_MAX;
    values[nv++] = INT64_MIN;
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
        int64_t near[] = {p, p - 1, p + 1, p * 7 + 3};
        for (size_t k = 0; k < 4; k++) {
            values[nv++] = near[k];
            values[nv++] = -near[k];
        }
    }
    for (size_t i = 0; i < nv; i++)
        for (unsigned scale = 0; scale <= 18; scale++)
            for (int dec = -1; dec <= (int)scale + 2; dec++) {
                if (dec >= 0 && (unsigned)dec < scale) continue; /* formatting never rounds */
                for (unsigned min_dec = 0; min_dec <= (dec < 0 ? 3u : 0u); min_dec++) {
                    char got[48], want[64];
                    size_t len = rt_decimal_format(values[i], scale, dec, min_dec, '.', got,
                                                   sizeof got);
                    reference(values[i], scale, dec, min_dec, want, sizeof want);
                    cr_assert_str_eq(got, want, "%lld scale %u decimals %d min %u",
                                     (long long)values[i], scale, dec, min_dec);
                    cr_assert_eq(len, strlen(want));
                    /* A buffer too short gets the text cut, NUL-terminated. */
                    char small[6];
                    len = rt_decimal_format(values[i], scale, dec, min_dec, '.', small,
                                            sizeof small);
                    cr_assert_eq(len, strlen(want) < 5 ? strlen(want) : 5);
                    cr_assert(strncmp(small, want, len) == 0 && small[len] == '\0');
                }
            }
}

Test(money, round_trip_text)
{
    const int64_t values[] = {0, 1, -1, 999999999, INT64_MAX, INT64_MIN + 1, 1000000000};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char b[48];
        int64_t back;
        size_t n = rt_decimal_str(values[i], 9, b, sizeof b);
        cr_assert_eq(rt_decimal_parse(b, n, 9, &back), RT_OK);
        cr_assert_eq(back, values[i]);
    }
}

Test(money, iso4217_minor_units)
{
    struct {
        const char *code;
        unsigned minor;
    } want[] = {{"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"JPY", 0}, {"CHF", 2}, {"BHD", 3},
                {"KWD", 3}, {"CLP", 0}, {"XOF", 0}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const rt_currency *c = rt_currency_find(want[i].code);
        cr_assert_not_null(c, "%s", want[i].code);
        cr_assert_eq(c->minor_units, want[i].minor, "%s", want[i].code);
    }
    cr_assert_null(rt_currency_find("XXQ"));
    cr_assert_null(rt_currency_find("eur"));
    cr_assert_null(rt_currency_find("EURO"));
    cr_assert_eq(rt_currency_find("EUR")->numeric, 978);
}

Test(money, round_names)
{
    rt_round m;
    cr_assert_eq(rt_round_parse("half_even", &m), RT_OK);
    cr_assert_eq(m, RT_ROUND_HALF_EVEN);
    cr_assert_str_eq(rt_round_name(RT_ROUND_UP), "up");
    cr_assert_eq(rt_round_parse("bankers", &m), RT_EPARSE);
}

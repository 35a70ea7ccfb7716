/* money: fixed-point arithmetic, rounding, decimal text, ISO 4217 table. */
#include "engine/money.h"

#include <string.h>

/* 10^0 .. 10^RT_SCALE_MAX, listed once: the table rt_pow10 reads and the constant divisors of
 * div_pow10 are both made from it. */
#define RT_POW10_CASES(X)                                                                      \
    X(0, 1) X(1, 10) X(2, 100) X(3, 1000) X(4, 10000) X(5, 100000) X(6, 1000000)               \
    X(7, 10000000) X(8, 100000000) X(9, 1000000000) X(10, 10000000000) X(11, 100000000000)    \
    X(12, 1000000000000) X(13, 10000000000000) X(14, 100000000000000)                          \
    X(15, 1000000000000000) X(16, 10000000000000000) X(17, 100000000000000000)                 \
    X(18, 1000000000000000000)

static const int64_t pow10_table[RT_SCALE_MAX + 1] = {
#define RT_POW10_ENTRY(n, p) [n] = INT64_C(p),
    RT_POW10_CASES(RT_POW10_ENTRY)
#undef RT_POW10_ENTRY
};

int64_t rt_pow10(unsigned n)
{
    RT_ASSERT(n <= RT_SCALE_MAX);
    return pow10_table[n];
}

static const char *const round_names[RT_ROUND_COUNT_] = {
    [RT_ROUND_HALF_UP] = "half_up",
    [RT_ROUND_HALF_EVEN] = "half_even",
    [RT_ROUND_UP] = "up",
    [RT_ROUND_DOWN] = "down",
};

const char *rt_round_name(rt_round mode)
{
    RT_ASSERT((unsigned)mode < RT_ROUND_COUNT_);
    return round_names[mode];
}

rt_status rt_round_parse(const char *name, rt_round *out)
{
    for (unsigned i = 0; i < RT_ROUND_COUNT_; i++) {
        if (strcmp(name, round_names[i]) == 0) {
            *out = (rt_round)i;
            return RT_OK;
        }
    }
    return RT_EPARSE;
}

/* ---- division with a named rounding mode ---- */

rt_status rt_div_round_i128(__int128 num, __int128 den, rt_round mode, int64_t *out)
{
    RT_ASSERT(den != 0);
    __int128 q = num / den;
    __int128 r = num % den;
    if (r != 0) {
        bool negative = (num < 0) != (den < 0);
        __int128 ar = r < 0 ? -r : r;
        __int128 ad = den < 0 ? -den : den;
        __int128 rest = ad - ar; /* compare 2*ar with ad without overflowing */
        bool away;
        switch (mode) {
        case RT_ROUND_HALF_UP: away = ar >= rest; break;
        case RT_ROUND_HALF_EVEN: away = ar > rest || (ar == rest && (q & 1) != 0); break;
        case RT_ROUND_UP: away = true; break;
        case RT_ROUND_DOWN: away = false; break;
        default: RT_ASSERT(false && "unknown rounding mode"); away = false;
        }
        if (away) q += negative ? -1 : 1;
    }
    if (q > INT64_MAX || q < INT64_MIN) return RT_EOVERFLOW;
    *out = (int64_t)q;
    return RT_OK;
}

rt_status rt_mul_div_round(int64_t a, int64_t b, int64_t d, rt_round mode, int64_t *out)
{
    RT_ASSERT(d > 0);
    return rt_div_round_i128((__int128)a * b, d, mode, out);
}

rt_status rt_rescale(int64_t value, unsigned from_scale, unsigned to_scale, rt_round mode,
                     int64_t *out)
{
    RT_ASSERT(from_scale <= RT_SCALE_MAX && to_scale <= RT_SCALE_MAX);
    if (to_scale >= from_scale) return rt_mul_i64(value, rt_pow10(to_scale - from_scale), out);
    return rt_div_round_i128(value, rt_pow10(from_scale - to_scale), mode, out);
}

/* ---- decimal text ---- */

rt_status rt_decimal_parse_any(const char *s, size_t len, unsigned max_scale, int64_t *mantissa,
                               unsigned *scale)
{
    RT_ASSERT(max_scale <= RT_SCALE_MAX);
    /* The whole text is checked first: a value that is too large or too precise is reported
     * as such only when it is a number at all ("1.1234567x" is malformed, not too precise). */
    size_t i = 0;
    bool negative = false, overflow = false, too_precise = false;
    if (i < len && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    size_t int_start = i;
    __int128 acc = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (!overflow) acc = acc * 10 + (s[i] - '0');
        overflow = overflow || acc > (__int128)INT64_MAX + 1;
        i++;
    }
    if (i == int_start) return RT_EPARSE;
    unsigned decimals = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t frac_start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (decimals == max_scale) {
                /* Trailing zeros beyond the limit do not change the value; anything else would
                 * need rounding, which is the caller's decision, not a parser's. */
                too_precise = too_precise || s[i] != '0';
                i++;
                continue;
            }
            if (!overflow) acc = acc * 10 + (s[i] - '0');
            overflow = overflow || acc > (__int128)INT64_MAX + 1;
            decimals++;
            i++;
        }
        if (i == frac_start) return RT_EPARSE;
    }
    if (i != len) return RT_EPARSE;
    if (overflow) return RT_EOVERFLOW;
    if (too_precise) return RT_ELIMIT;
    if (negative) acc = -acc;
    if (acc > INT64_MAX || acc < INT64_MIN) return RT_EOVERFLOW;
    *mantissa = (int64_t)acc;
    *scale = decimals;
    return RT_OK;
}

rt_status rt_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
    int64_t mantissa;
    unsigned got;
    rt_status st = rt_decimal_parse_any(s, len, scale, &mantissa, &got);
    if (st != RT_OK) return st;
    return rt_mul_i64(mantissa, rt_pow10(scale - got), out);
}

/* "00" .. "99": two digits per division (amounts are formatted tens of millions of times a
 * run). */
static const char two_digits[201] = "0001020304050607080910111213141516171819"
                                    "2021222324252627282930313233343536373839"
                                    "4041424344454647484950515253545556575859"
                                    "6061626364656667686970717273747576777879"
                                    "8081828384858687888990919293949596979899";

/* Write the `width` lowest decimal digits of v (v < 10^width) ending just before end. */
static void put_digits(char *end, uint64_t v, unsigned width)
{
    for (; width >= 2; width -= 2) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        end -= 2;
        memcpy(end, two_digits + 2 * r, 2);
    }
    if (width) *--end = (char)('0' + v);
}

/* v / 10^k and v % 10^k (k <= RT_SCALE_MAX), each case a constant divisor the compiler turns
 * into a multiplication: a division by a variable costs tens of cycles, and a run formats tens
 * of millions of amounts. */

static uint64_t div_pow10(uint64_t v, unsigned k, uint64_t *rem)
{
    switch (k) {
#define RT_DIV_CASE(n, p)                                                                      \
    case n:                                                                                    \
        *rem = v % UINT64_C(p);                                                                \
        return v / UINT64_C(p);
        RT_POW10_CASES(RT_DIV_CASE)
#undef RT_DIV_CASE
    }
    RT_ASSERT(k <= RT_SCALE_MAX);
    return 0;
}

/* Decimal digits of v (at least 1). */
static unsigned digit_count(uint64_t v)
{
    unsigned n = 1;
    for (; v >= 10000; v /= 10000) n += 4;
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

size_t rt_decimal_format(int64_t value, unsigned scale, int decimals, unsigned min_decimals,
                         char sep, char *buf, size_t buf_size)
{
    RT_ASSERT(scale <= RT_SCALE_MAX && buf_size > 0);
    char tmp[48];
    size_t n = 0;
    uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    uint64_t fp, rem;
    uint64_t ip = div_pow10(mag, scale, &fp);

    /* fp currently holds fp_dec decimals; shown is how many are printed. */
    unsigned fp_dec = scale, shown;
    if (decimals >= 0) {
        shown = (unsigned)decimals;
        if (shown < scale) { /* shown decimals only: the rest must be zeros */
            (void)div_pow10(fp, scale - shown, &rem);
            RT_ASSERT(rem == 0);
        }
    } else {
        while (fp_dec > min_decimals && fp_dec > 0 && fp % 10 == 0) {
            fp /= 10;
            fp_dec--;
        }
        shown = fp_dec < min_decimals ? min_decimals : fp_dec;
    }
    /* Shown beyond the value's own decimals: zeros, appended (never a multiplication that
     * could leave 64 bits). */
    unsigned pad = 0;
    if (shown > fp_dec)
        pad = shown - fp_dec;
    else if (shown < fp_dec)
        fp = div_pow10(fp, fp_dec - shown, &rem);
    unsigned nd = digit_count(ip);
    size_t len = (value < 0) + nd + (shown ? 1 + shown : 0);
    RT_ASSERT(len < sizeof tmp);
    /* Written in place when it fits (it nearly always does), else in tmp and cut. */
    char *out = len < buf_size ? buf : tmp;
    if (value < 0) out[n++] = '-';
    put_digits(out + n + nd, ip, nd);
    n += nd;
    if (shown > 0) {
        out[n++] = sep;
        put_digits(out + n + shown - pad, fp, shown - pad);
        for (unsigned k = shown - pad; k < shown; k++) out[n + k] = '0';
        n += shown;
    }
    if (out == tmp) {
        n = buf_size - 1;
        memcpy(buf, tmp, n);
    }
    buf[n] = '\0';
    return n;
}

size_t rt_decimal_str(int64_t value, unsigned scale, char *buf, size_t buf_size)
{
    return rt_decimal_format(value, scale, (int)scale, 0, '.', buf, buf_size);
}

/* ---- ISO 4217 ----
 * Active codes with their minor units, from the ISO 4217 list (amendment 178). Sorted by code
 * for binary search. */
static const rt_currency currencies[] = {
    {"AED", 784, 2}, {"AFN", 971, 2}, {"ALL", 8, 2},   {"AMD", 51, 2},  {"ANG", 532, 2},
    {"AOA", 973, 2}, {"ARS", 32, 2},  {"AUD", 36, 2},  {"AWG", 533, 2}, {"AZN", 944, 2},
    {"BAM", 977, 2}, {"BBD", 52, 2},  {"BDT", 50, 2},  {"BGN", 975, 2}, {"BHD", 48, 3},
    {"BIF", 108, 0}, {"BMD", 60, 2},  {"BND", 96, 2},  {"BOB", 68, 2},  {"BRL", 986, 2},
    {"BSD", 44, 2},  {"BTN", 64, 2},  {"BWP", 72, 2},  {"BYN", 933, 2}, {"BZD", 84, 2},
    {"CAD", 124, 2}, {"CDF", 976, 2}, {"CHF", 756, 2}, {"CLP", 152, 0}, {"CNY", 156, 2},
    {"COP", 170, 2}, {"CRC", 188, 2}, {"CUP", 192, 2}, {"CVE", 132, 2}, {"CZK", 203, 2},
    {"DJF", 262, 0}, {"DKK", 208, 2}, {"DOP", 214, 2}, {"DZD", 12, 2},  {"EGP", 818, 2},
    {"ERN", 232, 2}, {"ETB", 230, 2}, {"EUR", 978, 2}, {"FJD", 242, 2}, {"FKP", 238, 2},
    {"GBP", 826, 2}, {"GEL", 981, 2}, {"GHS", 936, 2}, {"GIP", 292, 2}, {"GMD", 270, 2},
    {"GNF", 324, 0}, {"GTQ", 320, 2}, {"GYD", 328, 2}, {"HKD", 344, 2}, {"HNL", 340, 2},
    {"HTG", 332, 2}, {"HUF", 348, 2}, {"IDR", 360, 2}, {"ILS", 376, 2}, {"INR", 356, 2},
    {"IQD", 368, 3}, {"IRR", 364, 2}, {"ISK", 352, 0}, {"JMD", 388, 2}, {"JOD", 400, 3},
    {"JPY", 392, 0}, {"KES", 404, 2}, {"KGS", 417, 2}, {"KHR", 116, 2}, {"KMF", 174, 0},
    {"KPW", 408, 2}, {"KRW", 410, 0}, {"KWD", 414, 3}, {"KYD", 136, 2}, {"KZT", 398, 2},
    {"LAK", 418, 2}, {"LBP", 422, 2}, {"LKR", 144, 2}, {"LRD", 430, 2}, {"LSL", 426, 2},
    {"LYD", 434, 3}, {"MAD", 504, 2}, {"MDL", 498, 2}, {"MGA", 969, 2}, {"MKD", 807, 2},
    {"MMK", 104, 2}, {"MNT", 496, 2}, {"MOP", 446, 2}, {"MRU", 929, 2}, {"MUR", 480, 2},
    {"MVR", 462, 2}, {"MWK", 454, 2}, {"MXN", 484, 2}, {"MYR", 458, 2}, {"MZN", 943, 2},
    {"NAD", 516, 2}, {"NGN", 566, 2}, {"NIO", 558, 2}, {"NOK", 578, 2}, {"NPR", 524, 2},
    {"NZD", 554, 2}, {"OMR", 512, 3}, {"PAB", 590, 2}, {"PEN", 604, 2}, {"PGK", 598, 2},
    {"PHP", 608, 2}, {"PKR", 586, 2}, {"PLN", 985, 2}, {"PYG", 600, 0}, {"QAR", 634, 2},
    {"RON", 946, 2}, {"RSD", 941, 2}, {"RUB", 643, 2}, {"RWF", 646, 0}, {"SAR", 682, 2},
    {"SBD", 90, 2},  {"SCR", 690, 2}, {"SDG", 938, 2}, {"SEK", 752, 2}, {"SGD", 702, 2},
    {"SHP", 654, 2}, {"SLE", 925, 2}, {"SOS", 706, 2}, {"SRD", 968, 2}, {"SSP", 728, 2},
    {"STN", 930, 2}, {"SVC", 222, 2}, {"SYP", 760, 2}, {"SZL", 748, 2}, {"THB", 764, 2},
    {"TJS", 972, 2}, {"TMT", 934, 2}, {"TND", 788, 3}, {"TOP", 776, 2}, {"TRY", 949, 2},
    {"TTD", 780, 2}, {"TWD", 901, 2}, {"TZS", 834, 2}, {"UAH", 980, 2}, {"UGX", 800, 0},
    {"USD", 840, 2}, {"UYI", 940, 0}, {"UYU", 858, 2}, {"UYW", 927, 4}, {"UZS", 860, 2},
    {"VED", 926, 2}, {"VES", 928, 2}, {"VND", 704, 0}, {"VUV", 548, 0}, {"WST", 882, 2},
    {"XAF", 950, 0}, {"XCD", 951, 2}, {"XOF", 952, 0}, {"XPF", 953, 0}, {"YER", 886, 2},
    {"ZAR", 710, 2}, {"ZMW", 967, 2}, {"ZWG", 924, 2},
};

_Static_assert(RT_ARRAY_LEN(currencies) == RT_CURRENCY_COUNT, "RT_CURRENCY_COUNT is stale");

const rt_currency *rt_currency_at(size_t i)
{
    RT_ASSERT(i < RT_CURRENCY_COUNT);
    return &currencies[i];
}

size_t rt_currency_index(const rt_currency *c)
{
    RT_ASSERT(c >= currencies && c < currencies + RT_CURRENCY_COUNT);
    return (size_t)(c - currencies);
}

const rt_currency *rt_currency_find(const char *code)
{
    if (!code || strlen(code) != 3) return NULL;
    size_t lo = 0, hi = RT_ARRAY_LEN(currencies);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(currencies[mid].code, code);
        if (c == 0) return &currencies[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

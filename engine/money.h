/* money: exact fixed-point arithmetic for amounts, rates and quantities.
 *
 * Owns the integer representation of money (an int64 with an explicit decimal scale: the scale
 * travels in the name, e.g. amount_minor for currency minor units, amount_nanos for 1e-9 of a
 * currency unit), the checked add/multiply helpers, division with a named rounding mode,
 * rescaling between scales, decimal text parsing and formatting, and the ISO 4217 table of
 * minor units. It does not know about invoices, taxes or rating rules: those are the callers'.
 *
 * No binary floating point is used anywhere: 128-bit integers carry products and quotients,
 * and every operation that could overflow int64 returns RT_EOVERFLOW instead of wrapping. */
#ifndef RT_MONEY_H
#define RT_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

/* Scale of rated amounts and rates: 1e-9 of a currency unit ("nanos"). */
#define RT_NANOS_SCALE 9
#define RT_NANOS_PER_UNIT INT64_C(1000000000)
/* The largest decimal scale any amount, rate or quantity may use. */
#define RT_SCALE_MAX 18

typedef enum rt_round {
    RT_ROUND_HALF_UP = 0, /* ties away from zero: 2.5 -> 3, -2.5 -> -3 (commercial rounding) */
    RT_ROUND_HALF_EVEN,   /* ties to the even neighbour: 2.5 -> 2, 3.5 -> 4 (banker's) */
    RT_ROUND_UP,          /* away from zero: 2.1 -> 3, -2.1 -> -3 (CGRateS *up) */
    RT_ROUND_DOWN,        /* toward zero (truncate): 2.9 -> 2, -2.9 -> -2 (CGRateS *down) */
    RT_ROUND_COUNT_
} rt_round;

/* "half_up", "half_even", "up", "down". */
const char *rt_round_name(rt_round mode);
/* Parse a mode name; RT_EPARSE when unknown. */
rt_status rt_round_parse(const char *name, rt_round *out);

/* 10^n for n in [0, 18]. */
int64_t rt_pow10(unsigned n);

/* ---- checked integer helpers: RT_EOVERFLOW instead of wrapping ---- */
static inline rt_status rt_add_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out) ? RT_EOVERFLOW : RT_OK;
}
static inline rt_status rt_sub_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_sub_overflow(a, b, out) ? RT_EOVERFLOW : RT_OK;
}
static inline rt_status rt_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? RT_EOVERFLOW : RT_OK;
}

/* Divide num by den (den != 0) rounding by mode; RT_EOVERFLOW if the quotient does not fit
 * int64. This is the one place where money is divided. */
rt_status rt_div_round_i128(__int128 num, __int128 den, rt_round mode, int64_t *out);

/* round(a * b / d) with a 128-bit intermediate. d must be > 0. */
rt_status rt_mul_div_round(int64_t a, int64_t b, int64_t d, rt_round mode, int64_t *out);

/* Re-express value from from_scale decimals to to_scale decimals, rounding when decimals
 * are dropped. Both scales are at most RT_SCALE_MAX. */
rt_status rt_rescale(int64_t value, unsigned from_scale, unsigned to_scale, rt_round mode,
                     int64_t *out);

/* ---- decimal text ---- */

/* Parse a plain decimal ("-12.345", "7", "+0.5", ".5" is refused) into an integer with `scale`
 * decimals. RT_EPARSE: not a decimal number. RT_ELIMIT: more decimals than `scale` (the value
 * is never silently rounded). RT_EOVERFLOW: does not fit int64 at that scale. */
rt_status rt_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out);

/* Parse a decimal keeping the scale it was written with: 12.50 -> mantissa 1250, scale 2.
 * At most max_scale decimals (RT_ELIMIT above that). */
rt_status rt_decimal_parse_any(const char *s, size_t len, unsigned max_scale, int64_t *mantissa,
                               unsigned *scale);

/* Write value (with `scale` decimals) as text with exactly `decimals` decimals shown when
 * decimals >= 0, or with trailing zeros trimmed (at least min_decimals) when decimals < 0.
 * `sep` is the decimal separator ('.' or ',' for FEC). Returns the length written (buf is
 * always NUL-terminated; 48 bytes always suffice). Formatting never rounds: when fewer
 * decimals are asked for than the value carries, RT_ASSERT fires, so round first. */
size_t rt_decimal_format(int64_t value, unsigned scale, int decimals, unsigned min_decimals,
                         char sep, char *buf, size_t buf_size);

/* Shorthand: value with `scale` decimals, shown with exactly `scale` decimals and '.'. */
size_t rt_decimal_str(int64_t value, unsigned scale, char *buf, size_t buf_size);

/* ---- ISO 4217 currencies ---- */
typedef struct rt_currency {
    char code[4];        /* "EUR" */
    uint16_t numeric;    /* 978 */
    uint8_t minor_units; /* decimals of the minor unit: EUR 2, JPY 0, BHD 3 */
} rt_currency;

/* The table entry for an alphabetic code, or NULL when the code is not a known ISO 4217
 * currency. The pointer is to static data and valid for the program's lifetime. */
const rt_currency *rt_currency_find(const char *code);

/* The table is in code order: RT_CURRENCY_COUNT entries, rt_currency_at(i) the i-th, and
 * rt_currency_index the position of an entry (a pointer rt_currency_find gave). */
enum { RT_CURRENCY_COUNT = 158 };
const rt_currency *rt_currency_at(size_t i);
size_t rt_currency_index(const rt_currency *c);

#endif

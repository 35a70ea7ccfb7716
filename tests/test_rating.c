/* test_rating: billing increments, the per-event amount (per-unit and flat, event rounding at
 * .5 boundaries, setup fee, minimum and maximum, decimal quantities, overflow), and rating
 * events against the mini book of testutil.h: every reject reason of the rater and
 * effective-dated charge versions on both sides of a price change. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/rating.h"
#include "testutil.h"

/* ---- billing increments ---- */

static int64_t billable(int64_t q, int64_t first, int64_t next)
{
    int64_t out = -1;
    cr_assert_eq(rt_billable_quantity(q, first, next, &out), RT_OK);
    return out;
}

Test(rating, increments_for_0_1_30_60_61_seconds)
{
    static const int64_t calls[5] = {0, 1, 30, 60, 61};
    static const struct {
        int64_t first, next, want[5];
    } cases[] = {
        {60, 60, {0, 60, 60, 60, 120}},
        {30, 6, {0, 30, 30, 60, 66}},
        {1, 1, {0, 1, 30, 60, 61}},
        {0, 0, {0, 1, 30, 60, 61}}, /* no rounding */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int i = 0; i < 5; i++)
            cr_assert_eq(billable(calls[i], cases[c].first, cases[c].next), cases[c].want[i],
                         "%lld s under %lld/%lld", (long long)calls[i],
                         (long long)cases[c].first, (long long)cases[c].next);
}

Test(rating, increments_other_steps)
{
    cr_assert_eq(billable(31, 30, 6), 36);
    cr_assert_eq(billable(36, 30, 6), 36);
    cr_assert_eq(billable(37, 30, 6), 42);
    cr_assert_eq(billable(59, 1, 1), 59);
    cr_assert_eq(billable(250000, 102400, 102400), 307200);
    cr_assert_eq(billable(2500001, 1000000, 1000000), 3000000);
    cr_assert_eq(billable(1, 0, 60), 1, "first 0 means no rounding whatever next says");
}

Test(rating, increments_overflow_is_an_error)
{
    int64_t out;
    /* first + 922337203685477581 steps of 10 = 9223372036854775811 > INT64_MAX */
    cr_assert_eq(rt_billable_quantity(INT64_MAX, 1, 10, &out), RT_EOVERFLOW);
    /* first 2 + (INT64_MAX - 1) = INT64_MAX + 1 */
    cr_assert_eq(rt_billable_quantity(INT64_MAX, 2, 2, &out), RT_EOVERFLOW);
    cr_assert_eq(rt_billable_quantity(INT64_MAX, 1, 1, &out), RT_OK);
    cr_assert_eq(out, INT64_MAX);
    cr_assert_eq(rt_billable_quantity(INT64_MAX - 5, 60, 60, &out), RT_EOVERFLOW);
}

/* ---- the amount of one event ---- */

static rt_charge make(rt_charge_model model, int64_t price_nanos, int64_t per, int64_t decimals,
                      rt_round mode)
{
    rt_charge c;
    memset(&c, 0, sizeof c);
    c.plan_id = "P";
    c.charge_id = "C";
    c.product_id = "X";
    c.model = model;
    c.price_nanos = price_nanos;
    c.price_per = per;
    c.setup_fee_nanos = 0;
    c.min_per_event_nanos = RT_UNSET;
    c.max_per_event_nanos = RT_UNSET;
    c.event_decimals = decimals;
    c.event_rounding = mode;
    return c;
}

static int64_t amount(const rt_charge *c, int64_t qdec, int64_t billable_base)
{
    int64_t out = -1;
    cr_assert_eq(rt_charge_event_amount(c, qdec, billable_base, &out), RT_OK);
    return out;
}

Test(rating, per_unit_amount_is_rounded_once_at_event_decimals)
{
    /* 0.02 per 60 s, 61 s: 0.020333... */
    rt_charge c = make(RT_CHARGE_PER_UNIT, 20000000, 60, 4, RT_ROUND_HALF_UP);
    cr_assert_eq(amount(&c, 0, 61), 20300000, "0.0203");
    c.event_decimals = 9;
    cr_assert_eq(amount(&c, 0, 61), 20333333, "0.020333333");
    c.event_decimals = 0;
    cr_assert_eq(amount(&c, 0, 61), 0);
    cr_assert_eq(amount(&c, 0, 0), 0);
}

Test(rating, per_unit_rounding_modes_at_half)
{
    /* 0.00125 per unit: 1 unit is 12.5 at 4 decimals. */
    rt_charge up = make(RT_CHARGE_PER_UNIT, 1250000, 1, 4, RT_ROUND_HALF_UP);
    rt_charge even = make(RT_CHARGE_PER_UNIT, 1250000, 1, 4, RT_ROUND_HALF_EVEN);
    cr_assert_eq(amount(&up, 0, 1), 1300000, "0.00125 -> 0.0013");
    cr_assert_eq(amount(&even, 0, 1), 1200000, "0.00125 -> 0.0012");
    cr_assert_eq(amount(&up, 0, 3), 3800000, "0.00375 -> 0.0038");
    cr_assert_eq(amount(&even, 0, 3), 3800000, "0.00375 -> 0.0038 (8 is even)");
    /* A credit (negative price) rounds symmetrically. */
    up.price_nanos = even.price_nanos = -1250000;
    cr_assert_eq(amount(&up, 0, 1), -1300000);
    cr_assert_eq(amount(&even, 0, 1), -1200000);
    /* 5 x 0.001 = 0.005 at 2 decimals. */
    rt_charge c = make(RT_CHARGE_PER_UNIT, 1000000, 1, 2, RT_ROUND_HALF_UP);
    cr_assert_eq(amount(&c, 0, 5), 10000000, "0.005 -> 0.01");
    c.event_rounding = RT_ROUND_HALF_EVEN;
    cr_assert_eq(amount(&c, 0, 5), 0, "0.005 -> 0.00");
    c.event_rounding = RT_ROUND_UP;
    cr_assert_eq(amount(&c, 0, 1), 10000000, "0.001 -> 0.01 away from zero");
    c.event_rounding = RT_ROUND_DOWN;
    cr_assert_eq(amount(&c, 0, 9), 0, "0.009 -> 0.00 toward zero");
}

Test(rating, flat_amount_is_rounded_at_event_decimals_too)
{
    /* A flat price of 0.025 with 2 event decimals: 2.5 hundredths. */
    rt_charge up = make(RT_CHARGE_FLAT, 25000000, 1, 2, RT_ROUND_HALF_UP);
    rt_charge even = make(RT_CHARGE_FLAT, 25000000, 1, 2, RT_ROUND_HALF_EVEN);
    cr_assert_eq(amount(&up, 0, 1), 30000000, "0.025 -> 0.03");
    cr_assert_eq(amount(&even, 0, 1), 20000000, "0.025 -> 0.02");
    /* The quantity does not matter to a flat charge, not even zero. */
    cr_assert_eq(amount(&up, 0, 0), 30000000);
    cr_assert_eq(amount(&up, 0, 1000), 30000000);
    up.event_decimals = 9;
    cr_assert_eq(amount(&up, 0, 1), 25000000);
    even.price_nanos = 15000000;
    cr_assert_eq(amount(&even, 0, 1), 20000000, "0.015 -> 0.02 (2 is even)");
}

Test(rating, setup_fee)
{
    /* 0.05 per 60 s, 30/6, connection 0.01: 31 s bills 36 s = 0.03, plus 0.01. */
    rt_charge c = make(RT_CHARGE_PER_UNIT, 50000000, 60, 4, RT_ROUND_HALF_UP);
    c.setup_fee_nanos = 10000000;
    cr_assert_eq(amount(&c, 0, 36), 40000000);
    cr_assert_eq(amount(&c, 0, 0), 0, "an unanswered call pays no connection fee");
    rt_charge f = make(RT_CHARGE_FLAT, 50000000, 1, 4, RT_ROUND_HALF_UP);
    f.setup_fee_nanos = 10000000;
    cr_assert_eq(amount(&f, 0, 1), 60000000);
}

Test(rating, minimum_and_maximum_per_event)
{
    /* 0.03 per 60 s with a minimum of 0.02 per call. */
    rt_charge c = make(RT_CHARGE_PER_UNIT, 30000000, 60, 4, RT_ROUND_HALF_UP);
    c.min_per_event_nanos = 20000000;
    cr_assert_eq(amount(&c, 0, 20), 20000000, "0.01 raised to 0.02");
    cr_assert_eq(amount(&c, 0, 125), 62500000, "0.0625 is above the minimum");
    cr_assert_eq(amount(&c, 0, 0), 0, "no minimum without billable quantity");
    /* The setup fee counts toward the minimum: 0.0002 + 0.015 = 0.0152 -> 0.02. */
    rt_charge s = make(RT_CHARGE_PER_UNIT, 12000000, 60, 4, RT_ROUND_HALF_UP);
    s.setup_fee_nanos = 15000000;
    s.min_per_event_nanos = 20000000;
    cr_assert_eq(amount(&s, 0, 1), 20000000);
    cr_assert_eq(amount(&s, 0, 60), 27000000, "0.012 + 0.015");
    /* 0.005 per MB, capped at 0.50: 200 MB = 1.00 -> 0.50. */
    rt_charge m = make(RT_CHARGE_PER_UNIT, 5000000, 1000000, 4, RT_ROUND_HALF_UP);
    m.max_per_event_nanos = 500000000;
    cr_assert_eq(amount(&m, 0, 200000000), 500000000);
    cr_assert_eq(amount(&m, 0, 3000000), 15000000, "3 MB = 0.015, under the cap");
}

Test(rating, decimal_quantities)
{
    /* kWh with 3 decimals: base unit Wh. 1.25 kWh x 0.10 = 0.125. */
    rt_charge up = make(RT_CHARGE_PER_UNIT, 100000000, 1, 2, RT_ROUND_HALF_UP);
    rt_charge even = make(RT_CHARGE_PER_UNIT, 100000000, 1, 2, RT_ROUND_HALF_EVEN);
    cr_assert_eq(amount(&up, 3, 1250), 130000000, "0.125 -> 0.13");
    cr_assert_eq(amount(&even, 3, 1250), 120000000, "0.125 -> 0.12");
    up.event_decimals = 9;
    cr_assert_eq(amount(&up, 3, 1250), 125000000);
    /* 1.234 kWh x 0.25 = 0.3085 exactly. */
    rt_charge k = make(RT_CHARGE_PER_UNIT, 250000000, 1, 9, RT_ROUND_HALF_UP);
    cr_assert_eq(amount(&k, 3, 1234), 308500000);
    /* 6 decimals and the largest price_per: the denominator (10^27) still fits. */
    rt_charge tiny = make(RT_CHARGE_PER_UNIT, 1000000000, INT64_C(1000000000000), 0,
                          RT_ROUND_HALF_UP);
    cr_assert_eq(amount(&tiny, 6, 1), 0);
}

Test(rating, amount_overflow_is_an_error)
{
    int64_t out;
    /* 10 units at one billion currency units: 10^19 nanos. */
    rt_charge c = make(RT_CHARGE_PER_UNIT, INT64_C(1000000000000000000), 1, 9, RT_ROUND_HALF_UP);
    cr_assert_eq(rt_charge_event_amount(&c, 0, 10, &out), RT_EOVERFLOW);
    c.event_decimals = 0; /* the scaling back to nanos overflows instead */
    cr_assert_eq(rt_charge_event_amount(&c, 0, 10, &out), RT_EOVERFLOW);
    cr_assert_eq(rt_charge_event_amount(&c, 0, 9, &out), RT_OK);
    cr_assert_eq(out, INT64_C(9000000000000000000));
    rt_charge f = make(RT_CHARGE_FLAT, INT64_MAX, 1, 9, RT_ROUND_HALF_UP);
    f.setup_fee_nanos = 1;
    cr_assert_eq(rt_charge_event_amount(&f, 0, 1, &out), RT_EOVERFLOW);
}

/* ---- rating events against the mini book ---- */

static rt_book book;
static rt_catalog cat;
static rt_rating_ctx ctx;

static void setup(void)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
    size_t problems = rt_test_load_book(src, &book);
    rt_test_rmtree(tmp);
    cr_assert_eq(problems, 0);
    rt_error err;
    cr_assert_eq(rt_catalog_build(&book, &cat, &err), RT_OK);
    memset(&ctx, 0, sizeof ctx);
    ctx.cat = &cat;
    cr_assert_eq(rt_period_parse("2026-10", &ctx.period), RT_OK);
    ctx.late = RT_LATE_BILL;
}

static void teardown(void)
{
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

typedef struct outcome {
    rt_reject_reason why;
    const char *field;
    char msg[RT_REJECT_MESSAGE_MAX];
    rt_rated r;
} outcome;

static outcome rate(const char *account, const char *product, const char *when, const char *qty)
{
    rt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_id = "E1";
    ev.event_id_len = 2;
    ev.account = account;
    ev.account_len = (uint16_t)strlen(account);
    ev.product = product;
    ev.product_len = (uint16_t)strlen(product);
    cr_assert_eq(rt_time_parse(when, strlen(when), &ev.start_s), RT_OK, "%s", when);
    unsigned scale;
    cr_assert_eq(rt_decimal_parse_any(qty, strlen(qty), 6, &ev.qty_mantissa, &scale), RT_OK);
    ev.qty_scale = (uint8_t)scale;
    outcome o;
    memset(&o, 0, sizeof o);
    o.field = "";
    o.why = rt_rate_event(&ctx, &ev, &o.r, &o.field, o.msg, sizeof o.msg);
    return o;
}

static outcome rated(const char *account, const char *product, const char *when, const char *qty)
{
    outcome o = rate(account, product, when, qty);
    cr_assert_eq(o.why, RT_REJ_NONE, "%s %s %s %s: %s (%s)", account, product, when, qty,
                 rt_reject_reason_code(o.why), o.msg);
    return o;
}

static void rejected(const char *account, const char *product, const char *when, const char *qty,
                     rt_reject_reason want, const char *field)
{
    outcome o = rate(account, product, when, qty);
    cr_assert_eq(o.why, want, "%s %s %s %s: %s, expected %s", account, product, when, qty,
                 rt_reject_reason_code(o.why), rt_reject_reason_code(want));
    cr_assert_str_eq(o.field, field);
    cr_assert_neq(o.msg[0], '\0', "a reject explains itself");
}

TestSuite(rate, .init = setup, .fini = teardown);

Test(rate, a_price_change_applies_from_its_instant)
{
    /* C_VOICE of PA: 0.06 per 60 s until 2026-10-15T12:00:00Z, then 0.03; 60/60. */
    outcome before = rated("A1", "VOICE", "2026-10-15T11:59:59Z", "61");
    cr_assert_eq(before.r.charge, 5);
    cr_assert_eq(before.r.quantity_base, 61);
    cr_assert_eq(before.r.billable_base, 120);
    cr_assert_eq(before.r.amount_nanos, 120000000, "120 s x 0.06 / 60 = 0.12");
    outcome at = rated("A1", "VOICE", "2026-10-15T12:00:00Z", "61");
    cr_assert_eq(at.r.charge, 6);
    cr_assert_eq(at.r.amount_nanos, 60000000, "120 s x 0.03 / 60 = 0.06");
    /* The same instant written with an offset. */
    outcome off = rated("A1", "VOICE", "2026-10-15T14:00:00+02:00", "61");
    cr_assert_eq(off.r.charge, 6);
    cr_assert_eq(at.r.account, 0);
    cr_assert_eq(at.r.product, 7);
    cr_assert_eq(at.r.flags, 0);
    cr_assert_eq(at.r.start_s, INT64_C(20741) * 86400 + 43200);
}

Test(rate, plans_are_tried_in_plan_id_order)
{
    /* A2 has PA and PB. Both charge VOICE: PA comes first. Only PB charges SMS. */
    outcome v = rated("A2", "VOICE", "2026-10-20T10:00:00Z", "30");
    cr_assert_eq(v.r.charge, 6);
    cr_assert_eq(v.r.billable_base, 60);
    cr_assert_eq(v.r.amount_nanos, 30000000);
    outcome s = rated("A2", "SMS", "2026-10-20T10:00:00Z", "1");
    cr_assert_eq(s.r.charge, 7);
    cr_assert_eq(s.r.amount_nanos, 50000000);
}

Test(rate, plan_assignment_dates)
{
    rejected("A4", "SMS", "2026-10-19T23:59:59Z", "1", RT_REJ_NO_PLAN, "account_id");
    outcome o = rated("A4", "SMS", "2026-10-20T00:00:00Z", "1");
    cr_assert_eq(o.r.charge, 7);
    rejected("A3", "VOICE", "2026-10-05T10:00:00Z", "60", RT_REJ_NO_PLAN, "account_id");
}

Test(rate, product_versions)
{
    /* DATA v1 until 2026-10-10, v2 from then; C_DATA: 0.01 per 1,000,000 bytes. */
    outcome v1 = rated("A1", "DATA", "2026-10-09T23:59:59Z", "1500000");
    cr_assert_eq(v1.r.product, 1);
    cr_assert_eq(v1.r.charge, 1);
    cr_assert_eq(v1.r.amount_nanos, 15000000);
    outcome v2 = rated("A1", "DATA", "2026-10-10T00:00:00Z", "1500000");
    cr_assert_eq(v2.r.product, 2);
    cr_assert_eq(v2.r.charge, 1);
}

Test(rate, decimal_quantities)
{
    /* KWH has 3 decimals: 1.234 kWh is 1234 Wh; 0.25 per kWh = 0.3085. */
    outcome k = rated("A1", "KWH", "2026-10-05T10:00:00Z", "1.234");
    cr_assert_eq(k.r.quantity_base, 1234);
    cr_assert_eq(k.r.billable_base, 1234);
    cr_assert_eq(k.r.amount_nanos, 308500000);
    outcome w = rated("A1", "KWH", "2026-10-05T10:00:00Z", "2");
    cr_assert_eq(w.r.quantity_base, 2000);
    cr_assert_eq(w.r.amount_nanos, 500000000);
    rejected("A1", "KWH", "2026-10-05T10:00:00Z", "1.2345", RT_REJ_BAD_QUANTITY, "quantity");
    rejected("A1", "VOICE", "2026-10-05T10:00:00Z", "1.5", RT_REJ_BAD_QUANTITY, "quantity");
}

Test(rate, trailing_zeros_are_not_extra_decimals)
{
    /* "60.0" seconds is 60 seconds: only decimals that carry a value are too many. */
    outcome o = rated("A1", "VOICE", "2026-10-20T10:00:00Z", "60.0");
    cr_assert_eq(o.r.quantity_base, 60);
    outcome k = rated("A1", "KWH", "2026-10-05T10:00:00Z", "1.234000");
    cr_assert_eq(k.r.quantity_base, 1234);
}

Test(rate, quantity_limits)
{
    rejected("A1", "VOICE", "2026-10-20T10:00:00Z", "-1", RT_REJ_NEGATIVE_QUANTITY, "quantity");
    rejected("A1", "KWH", "2026-10-20T10:00:00Z", "-0.001", RT_REJ_NEGATIVE_QUANTITY, "quantity");
    outcome zero = rated("A1", "VOICE", "2026-10-20T10:00:00Z", "0");
    cr_assert_eq(zero.r.amount_nanos, 0);
    /* VOICE's max_quantity is 86400 s. */
    outcome day = rated("A1", "VOICE", "2026-10-20T10:00:00Z", "86400");
    cr_assert_eq(day.r.amount_nanos, INT64_C(43200000000), "1440 min x 0.03 = 43.20");
    rejected("A1", "VOICE", "2026-10-20T10:00:00Z", "86401", RT_REJ_ABSURD_QUANTITY, "quantity");
    /* Above RT_QUANTITY_MAX base units (10^15 Wh), and beyond int64 once scaled. */
    rejected("A1", "KWH", "2026-10-20T10:00:00Z", "1000000000001", RT_REJ_ABSURD_QUANTITY,
             "quantity");
    rejected("A1", "KWH", "2026-10-20T10:00:00Z", "9223372036854776", RT_REJ_ABSURD_QUANTITY,
             "quantity");
}

Test(rate, amount_overflow)
{
    /* BIG costs one billion per unit: 10 units are 10^19 nanos. */
    rejected("A1", "BIG", "2026-10-20T10:00:00Z", "10", RT_REJ_OVERFLOW, "quantity");
    outcome o = rated("A1", "BIG", "2026-10-20T10:00:00Z", "9");
    cr_assert_eq(o.r.amount_nanos, INT64_C(9000000000000000000));
}

Test(rate, unknown_account_and_product)
{
    rejected("ZZ", "VOICE", "2026-10-20T10:00:00Z", "60", RT_REJ_UNKNOWN_ACCOUNT, "account_id");
    rejected("", "VOICE", "2026-10-20T10:00:00Z", "60", RT_REJ_UNKNOWN_ACCOUNT, "account_id");
    rejected("A1", "NOPE", "2026-10-20T10:00:00Z", "60", RT_REJ_UNKNOWN_PRODUCT, "product_id");
    /* OLD was retired on 2026-10-01: unknown at the event time, known before. */
    rejected("A1", "OLD", "2026-10-05T10:00:00Z", "1", RT_REJ_UNKNOWN_PRODUCT, "product_id");
    outcome old = rated("A1", "OLD", "2026-09-30T23:59:59Z", "1");
    cr_assert_eq(old.r.charge, 3);
    cr_assert_eq(old.r.amount_nanos, 1000000000);
    /* A recurring product is not billed from usage. */
    rejected("A1", "SUB", "2026-10-05T10:00:00Z", "1", RT_REJ_UNKNOWN_PRODUCT, "product_id");
}

Test(rate, no_charge_for_the_product)
{
    rejected("A1", "SMS", "2026-10-05T10:00:00Z", "1", RT_REJ_NO_CHARGE, "product_id");
}

Test(rate, period_bounds_and_late_usage)
{
    rejected("A1", "VOICE", "2026-11-01T00:00:00Z", "60", RT_REJ_AFTER_PERIOD, "start_time");
    /* The period check comes first: even an unknown account is just after the period. */
    rejected("ZZ", "VOICE", "2026-11-01T00:00:00Z", "60", RT_REJ_AFTER_PERIOD, "start_time");
    outcome last = rated("A1", "VOICE", "2026-10-31T23:59:59Z", "60");
    cr_assert_eq(last.r.flags, 0);
    cr_assert_eq(rated("A1", "VOICE", "2026-10-01T00:00:00Z", "60").r.flags, 0);
    /* Late usage: billed and flagged by default, rejected under --late reject. */
    outcome late = rated("A1", "VOICE", "2026-09-30T23:59:59Z", "60");
    cr_assert_eq(late.r.flags, RT_RATED_LATE);
    cr_assert_eq(late.r.charge, 5, "at the price in force at its own time");
    ctx.late = RT_LATE_REJECT;
    rejected("A1", "VOICE", "2026-09-30T23:59:59Z", "60", RT_REJ_LATE, "start_time");
}

Test(rate, fingerprint_is_the_event_id_hash)
{
    outcome a = rated("A1", "VOICE", "2026-10-20T10:00:00Z", "60");
    outcome b = rated("A2", "SMS", "2026-10-21T10:00:00Z", "1");
    cr_assert(a.r.fp_lo == b.r.fp_lo && a.r.fp_hi == b.r.fp_hi, "same event id, same fingerprint");
    cr_assert(a.r.fp_lo != 0 || a.r.fp_hi != 0);
}

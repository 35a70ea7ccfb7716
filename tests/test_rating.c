/* test_rating: per-event rating by destination zone, time band and rate intervals, with
 * hand-computed figures.
 *
 * The book (written below): plans in Europe/Paris with band set STD (mon-fri 00-08 offpeak,
 * 08-20 peak, 20-24 offpeak; sat-sun and holidays weekend) and deck WORLD (33 France, 44 UK
 * fixed, 447 UK mobile). P_SPLIT splits a call at band boundaries, P_START rates it at its
 * start band; both bill 60/60. P_DST (1/1) has band set DST: every day 00:00-02:30 night
 * (0.05/min), 02:30-24:00 day (0.10/min). P_INT (UTC, 1/1) prices UK fixed calls with two
 * intervals as CGRateS does: connection 0.80, 0.40/min in 30 s steps for the first 60 s,
 * then 0.20/min in 10 s steps. Event amounts are rounded to 4 decimals half-up. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/catalog.h"
#include "engine/rating.h"
#include "testutil.h"
#include <stdio.h>

static void write_book(const char *dir)
{
    rt_test_base_book(dir);
    rt_test_write(dir, "accounts.csv",
                  "account_id,name,country,currency,tax_jurisdiction\n"
                  "A_DST,Dst,FR,EUR,FR\nA_INT,Int,FR,EUR,FR\nA_SPLIT,Split,FR,EUR,FR\n"
                  "A_START,Start,FR,EUR,FR\nA_ZERO,Zero,FR,EUR,FR\nA_ZRATE,Zrate,FR,EUR,FR\n"
                  "A_ZSPLIT,Zsplit,FR,EUR,FR\n");
    rt_test_write(dir, "products.csv",
                  "product_id,name,unit,unit_code,gl_account,tax_category\n"
                  "CALL,Calls,second,SEC,706000,standard\nSMS,SMS,message,C62,706000,standard\n");
    rt_test_write(dir, "plans.csv",
                  "plan_id,name,currency,time_zone,band_set_id,band_crossing,country_code,"
                  "national_prefix\n"
                  "P_DST,Dst,EUR,Europe/Paris,DST,split,33,0\n"
                  "P_INT,Intervals,EUR,UTC,,start,,\n"
                  "P_SPLIT,Split,EUR,Europe/Paris,STD,split,33,0\n"
                  "P_START,Start,EUR,Europe/Paris,STD,start,33,0\n"
                  "P_ZERO,Zero first,EUR,UTC,,start,,\n"
                  "P_ZRATE,Zero first rates,EUR,UTC,,start,,\n"
                  "P_ZSPLIT,Zero first split,EUR,Europe/Paris,STD,split,33,0\n");
    rt_test_write(dir, "account_plans.csv",
                  "account_id,plan_id\nA_DST,P_DST\nA_INT,P_INT\nA_SPLIT,P_SPLIT\n"
                  "A_START,P_START\nA_ZERO,P_ZERO\nA_ZRATE,P_ZRATE\nA_ZSPLIT,P_ZSPLIT\n");
    rt_test_write(dir, "charges.csv",
                  "plan_id,charge_id,product_id,model,price,price_per,first_increment,"
                  "next_increment,event_decimals,deck_id\n"
                  "P_DST,C_CALL,CALL,per_unit,0,60,1,1,4,\n"
                  "P_INT,C_CALL,CALL,per_unit,0,60,1,1,4,WORLD\n"
                  "P_SPLIT,C_CALL,CALL,per_unit,0,60,60,60,4,WORLD\n"
                  "P_SPLIT,C_SMS,SMS,flat,0,1,0,0,4,WORLD\n"
                  "P_START,C_CALL,CALL,per_unit,0,60,60,60,4,WORLD\n"
                  "P_ZERO,C_CALL,CALL,per_unit,0.60,60,0,60,4,\n"
                  "P_ZRATE,C_CALL,CALL,per_unit,0,60,1,1,4,\n"
                  "P_ZSPLIT,C_CALL,CALL,per_unit,0,60,0,60,4,\n");
    rt_test_write(dir, "zones.csv",
                  "deck_id,zone_id,name\nWORLD,FR,France\nWORLD,UK_FIX,UK fixed\n"
                  "WORLD,UK_MOB,UK mobile\n");
    rt_test_write(dir, "prefixes.csv",
                  "deck_id,prefix,zone_id\nWORLD,33,FR\nWORLD,44,UK_FIX\nWORLD,447,UK_MOB\n");
    rt_test_write(dir, "time_bands.csv",
                  "band_set_id,days,start,end,band_id\n"
                  "STD,mon-fri,00:00,08:00,offpeak\nSTD,mon-fri,08:00,20:00,peak\n"
                  "STD,mon-fri,20:00,24:00,offpeak\nSTD,sat-sun,00:00,24:00,weekend\n"
                  "STD,hol,00:00,24:00,weekend\n"
                  "DST,all,00:00,02:30,night\nDST,all,02:30,24:00,day\n");
    rt_test_write(dir, "holidays.csv", "band_set_id,date,name\nSTD,2026-11-11,Armistice\n");
    rt_test_write(dir, "rates.csv",
                  "plan_id,charge_id,zone_id,band_id,interval_start,price,price_per,"
                  "first_increment,next_increment,setup_fee,valid_from,valid_to\n"
                  "P_DST,C_CALL,,day,0,0.10,,,,,,\n"
                  "P_DST,C_CALL,,night,0,0.05,,,,,,\n"
                  "P_INT,C_CALL,UK_FIX,,0,0.4,60,30,30,0.8,,\n"
                  "P_INT,C_CALL,UK_FIX,,60,0.2,60,10,10,,,\n"
                  "P_SPLIT,C_CALL,UK_FIX,offpeak,0,0.06,,,,,,\n"
                  "P_SPLIT,C_CALL,UK_FIX,peak,0,0.10,,,,,,\n"
                  "P_SPLIT,C_CALL,UK_FIX,weekend,0,0.04,,,,,,\n"
                  "P_SPLIT,C_CALL,UK_MOB,,0,0.20,,,,0.05,,\n"
                  "P_SPLIT,C_SMS,,,0,0.08,,,,,,\n"
                  "P_SPLIT,C_SMS,UK_MOB,,0,0.15,,,,,,\n"
                  "P_START,C_CALL,UK_FIX,offpeak,0,0.06,,,,,,\n"
                  "P_START,C_CALL,UK_FIX,peak,0,0.10,,,,,,\n"
                  "P_START,C_CALL,UK_FIX,weekend,0,0.04,,,,,,\n"
                  /* changed mid-month; the interval from 120 s is not */
                  "P_START,C_CALL,UK_MOB,,0,0.30,,,,,,2026-10-15\n"
                  "P_START,C_CALL,UK_MOB,,0,0.25,,,,,2026-10-15,\n"
                  "P_START,C_CALL,UK_MOB,,120,0.10,,,,,,\n"
                  "P_ZRATE,C_CALL,,,0,0.40,60,0,30,0.05,,\n"
                  "P_ZSPLIT,C_CALL,,offpeak,0,0.06,,,,,,\n"
                  "P_ZSPLIT,C_CALL,,peak,0,0.10,,,,,,\n"
                  "P_ZSPLIT,C_CALL,,weekend,0,0.04,,,,,,\n");
}

static rt_book book;
static rt_catalog cat;
static rt_rating_ctx ctx;

static void setup(void)
{
    char dir[256];
    rt_test_tmpdir(dir, sizeof dir);
    write_book(dir);
    rt_test_load_book(dir, &book, &cat);
    ctx.cat = &cat;
    ctx.late = RT_LATE_BILL;
    /* Every event of the tests is before this period: billed as late usage. */
    cr_assert_eq(rt_period_parse("2026-12", &ctx.period), RT_OK);
}

static void teardown(void)
{
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

TestSuite(rating, .init = setup, .fini = teardown);

static rt_reject_reason rate(const char *account, const char *product, const char *start,
                             int64_t seconds, const char *called, rt_rated *out)
{
    rt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_id = "E1";
    ev.event_id_len = 2;
    ev.account = account;
    ev.account_len = (uint16_t)strlen(account);
    ev.product = product;
    ev.product_len = (uint16_t)strlen(product);
    ev.called = called;
    ev.called_len = (uint16_t)strlen(called);
    cr_assert_eq(rt_time_parse(start, strlen(start), &ev.start_s), RT_OK);
    ev.qty_mantissa = seconds;
    const char *field;
    char msg[RT_REJECT_MESSAGE_MAX];
    memset(out, 0, sizeof *out);
    return rt_rate_event(&ctx, &ev, out, &field, msg, sizeof msg);
}

/* 1e-4 currency units in nanos. */
#define E4(x) ((int64_t)(x)*100000)

Test(rating, a_call_across_midnight_into_the_weekend_is_split_or_rated_at_its_start)
{
    rt_rated r;
    /* Friday 2026-10-02 23:55:30 in Paris (21:55:30Z), 630 s to the UK fixed network.
     * Split: 270 s offpeak until midnight -> 300 s billed at 0.06 = 0.3000; 360 s on
     * Saturday (weekend) at 0.04 = 0.2400; 0.5400 over 660 billed seconds. */
    cr_assert_eq(rate("A_SPLIT", "CALL", "2026-10-02T21:55:30Z", 630, "00442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.part_count, 2);
    cr_assert_eq(r.parts[0].quantity_base, 270);
    cr_assert_eq(r.parts[0].billable_base, 300);
    cr_assert_eq(r.parts[0].amount_nanos, E4(3000));
    cr_assert_eq(r.parts[1].quantity_base, 360);
    cr_assert_eq(r.parts[1].billable_base, 360);
    cr_assert_eq(r.parts[1].amount_nanos, E4(2400));
    cr_assert_eq(r.billable_base, 660);
    cr_assert_eq(r.amount_nanos, E4(5400));
    cr_assert_str_eq(cat.band_names[r.parts[1].band], "weekend");
    /* Start band: all 630 s offpeak -> 660 s at 0.06 = 0.6600. */
    cr_assert_eq(rate("A_START", "CALL", "2026-10-02T21:55:30Z", 630, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.part_count, 1);
    cr_assert_eq(r.billable_base, 660);
    cr_assert_eq(r.amount_nanos, E4(6600));
}

Test(rating, a_holiday_is_rated_in_its_band)
{
    rt_rated r;
    /* Wednesday 2026-11-11 10:00 in Paris is a holiday: weekend band, 60 s at 0.04. */
    cr_assert_eq(rate("A_START", "CALL", "2026-11-11T09:00:00Z", 60, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(400));
    /* The next day is a working day: peak, 60 s at 0.10. */
    cr_assert_eq(rate("A_START", "CALL", "2026-11-12T09:00:00Z", 60, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(1000));
}

Test(rating, events_in_the_daylight_saving_switch_hours)
{
    rt_rated r;
    /* 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z, so 02:15 local happens twice,
     * at 00:15Z and at 01:15Z; both are night (before 02:30). A clock that ignored the
     * change would put 01:15Z at 03:15 (day). 60 s at night: 0.05. */
    cr_assert_eq(rate("A_DST", "CALL", "2026-10-25T00:15:00Z", 60, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(500));
    cr_assert_eq(rate("A_DST", "CALL", "2026-10-25T01:15:00Z", 60, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(500));
    /* 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z. 00:59Z is 01:59 (night);
     * 01:00Z is 03:00 (day, 0.10). */
    cr_assert_eq(rate("A_DST", "CALL", "2026-03-29T00:59:00Z", 60, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(500));
    cr_assert_eq(rate("A_DST", "CALL", "2026-03-29T01:00:00Z", 60, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(1000));
    /* A call over the autumn switch: 00:50Z is 02:50 CEST (day); at 01:00Z the clock goes
     * back to 02:00 CET (night). 1200 s: 600 s day at 0.10/min = 1.0000, 600 s night at
     * 0.05/min = 0.5000; 1.5000. */
    cr_assert_eq(rate("A_DST", "CALL", "2026-10-25T00:50:00Z", 1200, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.part_count, 2);
    cr_assert_eq(r.parts[0].amount_nanos, E4(10000));
    cr_assert_eq(r.parts[1].amount_nanos, E4(5000));
    cr_assert_eq(r.amount_nanos, E4(15000));
}

Test(rating, rate_intervals_apply_after_their_start)
{
    rt_rated r;
    /* 90 s: [0, 60) in 30 s steps at 0.40/min = 0.4000; [60, 90) in 10 s steps at
     * 0.20/min = 0.1000; + connection 0.80 = 1.3000. */
    cr_assert_eq(rate("A_INT", "CALL", "2026-10-05T10:00:00Z", 90, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 90);
    cr_assert_eq(r.amount_nanos, E4(13000));
    /* 50 s: one 60 s block = 0.4000 + 0.80 = 1.2000. */
    cr_assert_eq(rate("A_INT", "CALL", "2026-10-05T10:00:00Z", 50, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 60);
    cr_assert_eq(r.amount_nanos, E4(12000));
    /* 61 s: 60 s = 0.40; 1 s -> 10 s at 0.20/min = 0.0333...; 0.4333 + 0.80 = 1.2333. */
    cr_assert_eq(rate("A_INT", "CALL", "2026-10-05T10:00:00Z", 61, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 70);
    cr_assert_eq(r.amount_nanos, E4(12333));
    /* 0 s: nothing billed, no connection fee. */
    cr_assert_eq(rate("A_INT", "CALL", "2026-10-05T10:00:00Z", 0, "+442071234567", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, 0);
}

/* A first increment of 0 with a next increment bills whole steps of the next one from the
 * first second: the common 0/60 and 0/6 tariffs. */
Test(rating, a_zero_first_increment_still_rounds_to_the_next_increment)
{
    rt_rated r;
    /* The charge's own price, 0.60/min, 0/60: 61 s bills 120 s = 1.2000. */
    cr_assert_eq(rate("A_ZERO", "CALL", "2026-10-05T10:00:00Z", 61, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 120);
    cr_assert_eq(r.amount_nanos, E4(12000));
    cr_assert_eq(rate("A_ZERO", "CALL", "2026-10-05T10:00:00Z", 30, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 60);
    cr_assert_eq(r.amount_nanos, E4(6000));
    cr_assert_eq(rate("A_ZERO", "CALL", "2026-10-05T10:00:00Z", 0, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 0);
    cr_assert_eq(r.amount_nanos, 0);
    /* A rate's own 0/30 (the charge has 1/1): 45 s bills 60 s at 0.40/min = 0.4000, + the
     * connection fee 0.05 = 0.4500. */
    cr_assert_eq(rate("A_ZRATE", "CALL", "2026-10-05T10:00:00Z", 45, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.billable_base, 60);
    cr_assert_eq(r.amount_nanos, E4(4500));
    /* A split call under 0/60, Monday 2026-10-05 19:59:30 in Paris (17:59:30Z), 61 s: 30 s
     * peak -> 60 s at 0.10 = 0.1000; 31 s offpeak -> 60 s at 0.06 = 0.0600. */
    cr_assert_eq(rate("A_ZSPLIT", "CALL", "2026-10-05T17:59:30Z", 61, "", &r), RT_REJ_NONE);
    cr_assert_eq(r.part_count, 2);
    cr_assert_eq(r.parts[0].billable_base, 60);
    cr_assert_eq(r.parts[0].amount_nanos, E4(1000));
    cr_assert_eq(r.parts[1].billable_base, 60);
    cr_assert_eq(r.parts[1].amount_nanos, E4(600));
    cr_assert_eq(r.billable_base, 120);
    cr_assert_eq(r.amount_nanos, E4(1600));
}

Test(rating, the_longest_prefix_picks_the_zone_and_its_rate)
{
    rt_rated r;
    /* 447... is UK mobile (any band, 0.20/min + 0.05), not UK fixed (44). A 120 s call from
     * Monday 19:59 local crosses into offpeak, but both halves have the same rate: one
     * part, 60 s + 60 s billed = 0.4000 + 0.05 = 0.4500. */
    cr_assert_eq(rate("A_SPLIT", "CALL", "2026-10-05T17:59:00Z", 120, "+447911123456", &r),
                 RT_REJ_NONE);
    cr_assert_str_eq(cat.zones[r.zone].zone_id, "UK_MOB");
    cr_assert_eq(r.part_count, 1);
    cr_assert_eq(r.amount_nanos, E4(4500));
    /* Flat SMS: a zone's own rate beats the any-zone rate. */
    cr_assert_eq(rate("A_SPLIT", "SMS", "2026-10-05T10:00:00Z", 1, "+447911123456", &r),
                 RT_REJ_NONE);
    cr_assert_eq(r.amount_nanos, E4(1500));
    cr_assert_eq(rate("A_SPLIT", "SMS", "2026-10-05T10:00:00Z", 1, "0612345678", &r), RT_REJ_NONE);
    cr_assert_str_eq(cat.zones[r.zone].zone_id, "FR");
    cr_assert_eq(r.amount_nanos, E4(800));
}

Test(rating, unknown_and_bad_destinations_are_rejected)
{
    rt_rated r;
    /* No prefix for +1; a zone (France) without a call rate; not a number; no number. */
    cr_assert_eq(rate("A_SPLIT", "CALL", "2026-10-05T10:00:00Z", 60, "+12125550100", &r),
                 RT_REJ_UNKNOWN_DESTINATION);
    cr_assert_eq(rate("A_SPLIT", "CALL", "2026-10-05T10:00:00Z", 60, "0142868200", &r),
                 RT_REJ_UNKNOWN_DESTINATION);
    cr_assert_eq(rate("A_SPLIT", "CALL", "2026-10-05T10:00:00Z", 60, "anonymous", &r),
                 RT_REJ_BAD_NUMBER);
    cr_assert_eq(rate("A_SPLIT", "CALL", "2026-10-05T10:00:00Z", 60, "", &r), RT_REJ_MISSING_FIELD);
}

Test(rating, quote_explains_a_number)
{
    rt_number_quote q;
    uint32_t charge = RT_NO_INDEX;
    for (uint32_t i = 0; i < cat.charge_count; i++)
        if (strcmp(cat.charges[i].plan_id, "P_SPLIT") == 0 &&
            strcmp(cat.charges[i].charge_id, "C_CALL") == 0)
            charge = i;
    rt_time_s t;
    cr_assert_eq(rt_time_parse("2026-10-02T17:30:00Z", 20, &t), RT_OK);
    cr_assert_eq(rt_quote_number(&cat, charge, "00442071234567", 14, t, &q), RT_REJ_NONE);
    cr_assert_str_eq(q.e164, "442071234567");
    cr_assert_eq(q.prefix_len, 2);
    cr_assert_str_eq(cat.band_names[q.band], "peak");
    cr_assert_eq(q.utc_offset_s, 7200);
    /* Peak ends at 20:00 local = 18:00Z. */
    cr_assert_eq(q.band_until, t + 1800);
    cr_assert_eq(q.row_count, 1);
    cr_assert_eq(cat.rates[q.rows[0]].price_nanos, E4(1000));
}

/* Foundation tests: test_rating: billing increments, the per-event amount (per-unit and flat, event rounding at
 * .5 boundaries, fsetup fee, minimum and maximum, decimal quantities, overflow), and rating
 * events against the mini fbook of testutil.h: every reject reason of the rater and
 * effective-dated charge versions on both sides of a price change. */

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
        {0, 60, {0, 60, 60, 60, 120}}, /* no first step: whole steps of next from 0 */
        {0, 6, {0, 6, 30, 60, 66}},
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
    cr_assert_eq(billable(1, 0, 60), 60, "first 0 still rounds up to whole steps of next");
    cr_assert_eq(billable(3, 0, 2), 4);
    cr_assert_eq(billable(4, 0, 2), 4);
    cr_assert_eq(billable(0, 0, 2), 0, "a zero quantity bills 0");
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
    /* 922337203685477581 steps of 10 from 0 = 9223372036854775810 > INT64_MAX */
    cr_assert_eq(rt_billable_quantity(INT64_MAX, 0, 10, &out), RT_EOVERFLOW);
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
    /* The fsetup fee counts toward the minimum: 0.0002 + 0.015 = 0.0152 -> 0.02. */
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

/* ---- rating events against the mini fbook ---- */

static rt_book fbook;
static rt_catalog fcat;
static rt_rating_ctx fctx;

static void fsetup(void)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
    size_t problems = rt_test_read_book(src, &fbook);
    rt_test_rmtree(tmp);
    cr_assert_eq(problems, 0);
    rt_error err;
    cr_assert_eq(rt_catalog_build(&fbook, &fcat, &err), RT_OK);
    memset(&fctx, 0, sizeof fctx);
    fctx.cat = &fcat;
    cr_assert_eq(rt_period_parse("2026-10", &fctx.period), RT_OK);
    fctx.late = RT_LATE_BILL;
    fctx.late_limit_s = INT64_MIN;
}

static void fteardown(void)
{
    rt_catalog_free(&fcat);
    rt_book_free(&fbook);
}

typedef struct outcome {
    rt_reject_reason why;
    const char *field;
    char msg[RT_REJECT_MESSAGE_MAX];
    rt_rated r;
} outcome;

static outcome frate(const char *account, const char *product, const char *when, const char *qty)
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
    o.why = rt_rate_event(&fctx, &ev, &o.r, &o.field, o.msg, sizeof o.msg);
    return o;
}

static outcome rated(const char *account, const char *product, const char *when, const char *qty)
{
    outcome o = frate(account, product, when, qty);
    cr_assert_eq(o.why, RT_REJ_NONE, "%s %s %s %s: %s (%s)", account, product, when, qty,
                 rt_reject_reason_code(o.why), o.msg);
    return o;
}

static void rejected(const char *account, const char *product, const char *when, const char *qty,
                     rt_reject_reason want, const char *field)
{
    outcome o = frate(account, product, when, qty);
    cr_assert_eq(o.why, want, "%s %s %s %s: %s, expected %s", account, product, when, qty,
                 rt_reject_reason_code(o.why), rt_reject_reason_code(want));
    cr_assert_str_eq(o.field, field);
    cr_assert_neq(o.msg[0], '\0', "a reject explains itself");
}

TestSuite(frate, .init = fsetup, .fini = fteardown);

Test(frate, a_price_change_applies_from_its_instant)
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

Test(frate, plans_are_tried_in_plan_id_order)
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

Test(frate, plan_assignment_dates)
{
    rejected("A4", "SMS", "2026-10-19T23:59:59Z", "1", RT_REJ_NO_PLAN, "account_id");
    outcome o = rated("A4", "SMS", "2026-10-20T00:00:00Z", "1");
    cr_assert_eq(o.r.charge, 7);
    rejected("A3", "VOICE", "2026-10-05T10:00:00Z", "60", RT_REJ_NO_PLAN, "account_id");
}

Test(frate, product_versions)
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

Test(frate, decimal_quantities)
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

Test(frate, trailing_zeros_are_not_extra_decimals)
{
    /* "60.0" seconds is 60 seconds: only decimals that carry a value are too many. */
    outcome o = rated("A1", "VOICE", "2026-10-20T10:00:00Z", "60.0");
    cr_assert_eq(o.r.quantity_base, 60);
    outcome k = rated("A1", "KWH", "2026-10-05T10:00:00Z", "1.234000");
    cr_assert_eq(k.r.quantity_base, 1234);
}

Test(frate, quantity_limits)
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

/* An absurd quantity names the limit it passed: the engine's own, which every product has,
 * or the product's max_quantity, which only some have. */
Test(frate, an_absurd_quantity_says_which_limit_it_passed)
{
    /* KWH has no max_quantity: 10^12 kWh + 1 Wh is above 10^15 Wh. */
    outcome o = frate("A1", "KWH", "2026-10-20T10:00:00Z", "1000000000000.001");
    cr_assert_eq(o.why, RT_REJ_ABSURD_QUANTITY);
    cr_assert_str_eq(o.msg, "quantity is above the engine's limit of 10^15 base units for any "
                            "product");
    o = frate("A1", "KWH", "2026-10-20T10:00:00Z", "9223372036854776");
    cr_assert_eq(o.why, RT_REJ_ABSURD_QUANTITY);
    cr_assert_str_eq(o.msg, "quantity is above the engine's limit of 10^15 base units for any "
                            "product");
    /* VOICE's max_quantity is 86400 s. */
    o = frate("A1", "VOICE", "2026-10-20T10:00:00Z", "86401");
    cr_assert_eq(o.why, RT_REJ_ABSURD_QUANTITY);
    cr_assert_str_eq(o.field, "quantity");
    cr_assert_str_eq(o.msg, "quantity is above the product's max_quantity of 86400");
}

Test(frate, amount_overflow)
{
    /* BIG costs one billion per unit: 10 units are 10^19 nanos. */
    rejected("A1", "BIG", "2026-10-20T10:00:00Z", "10", RT_REJ_OVERFLOW, "quantity");
    outcome o = rated("A1", "BIG", "2026-10-20T10:00:00Z", "9");
    cr_assert_eq(o.r.amount_nanos, INT64_C(9000000000000000000));
}

Test(frate, unknown_account_and_product)
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

Test(frate, no_charge_for_the_product)
{
    rejected("A1", "SMS", "2026-10-05T10:00:00Z", "1", RT_REJ_NO_CHARGE, "product_id");
}

Test(frate, period_bounds_and_late_usage)
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
    fctx.late = RT_LATE_REJECT;
    rejected("A1", "VOICE", "2026-09-30T23:59:59Z", "60", RT_REJ_LATE, "start_time");
}

Test(frate, fingerprint_is_the_event_id_hash)
{
    outcome a = rated("A1", "VOICE", "2026-10-20T10:00:00Z", "60");
    outcome b = rated("A2", "SMS", "2026-10-21T10:00:00Z", "1");
    cr_assert(a.r.fp_lo == b.r.fp_lo && a.r.fp_hi == b.r.fp_hi, "same event id, same fingerprint");
    cr_assert(a.r.fp_lo != 0 || a.r.fp_hi != 0);
}

/* A rate changed mid-month: two versions of the (charge, zone, band), each holding the rows
 * in force throughout (the interval from 120 s, unchanged, in both); a call is rated by the
 * version in force at its start, and billing puts each version's calls on a line of its own
 * (the group is part of the line's key). 180 s in 60 s steps: [0, 120) at 0.30 or 0.25 a
 * minute, [120, 180) at 0.10: 0.70 before the change, 0.60 after. */
Test(rating, a_rate_changed_mid_month_makes_two_versions)
{
    rt_rated before, after;
    cr_assert_eq(rate("A_START", "CALL", "2026-10-10T10:00:00Z", 180, "+447700900123", &before),
                 RT_REJ_NONE);
    cr_assert_eq(before.amount_nanos, E4(7000));
    cr_assert_eq(rate("A_START", "CALL", "2026-10-20T10:00:00Z", 180, "+447700900123", &after),
                 RT_REJ_NONE);
    cr_assert_eq(after.amount_nanos, E4(6000));
    const rt_catalog *cat = ctx.cat;
    uint32_t g1 = before.parts[0].rate_group, g2 = after.parts[0].rate_group;
    cr_assert_neq(g1, g2);
    cr_assert_eq(cat->rate_groups[g1].next, g2, "the versions are linked in time order");
    rt_time_s change;
    cr_assert_eq(rt_time_parse("2026-10-15T00:00:00Z", 20, &change), RT_OK);
    cr_assert_eq(cat->rate_groups[g1].to, change);
    cr_assert_eq(cat->rate_groups[g2].from, change);
    size_t n1, n2;
    const uint32_t *rows1 = rt_catalog_rate_rows(cat, g1, &n1);
    const uint32_t *rows2 = rt_catalog_rate_rows(cat, g2, &n2);
    cr_assert_eq(n1, 2);
    cr_assert_eq(n2, 2);
    cr_assert_eq(cat->rates[rows1[0]].price_nanos, 300000000);
    cr_assert_eq(cat->rates[rows2[0]].price_nanos, 250000000);
    cr_assert_eq(rows1[1], rows2[1], "the unchanged interval is one row in both");
    cr_assert_eq(rt_catalog_rate_group(cat, before.charge, before.zone, before.parts[0].band,
                                       change - 1),
                 g1);
}

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

static void write_book(const char *dir)
{
    rt_test_base_book(dir);
    rt_test_write(dir, "accounts.csv",
                  "account_id,name,country,currency,tax_jurisdiction\n"
                  "A_DST,Dst,FR,EUR,FR\nA_INT,Int,FR,EUR,FR\nA_SPLIT,Split,FR,EUR,FR\n"
                  "A_START,Start,FR,EUR,FR\n");
    rt_test_write(dir, "products.csv",
                  "product_id,name,unit,unit_code,gl_account,tax_category\n"
                  "CALL,Calls,second,SEC,706000,standard\nSMS,SMS,message,C62,706000,standard\n");
    rt_test_write(dir, "plans.csv",
                  "plan_id,name,currency,time_zone,band_set_id,band_crossing,country_code,"
                  "national_prefix\n"
                  "P_DST,Dst,EUR,Europe/Paris,DST,split,33,0\n"
                  "P_INT,Intervals,EUR,UTC,,start,,\n"
                  "P_SPLIT,Split,EUR,Europe/Paris,STD,split,33,0\n"
                  "P_START,Start,EUR,Europe/Paris,STD,start,33,0\n");
    rt_test_write(dir, "account_plans.csv",
                  "account_id,plan_id\nA_DST,P_DST\nA_INT,P_INT\nA_SPLIT,P_SPLIT\n"
                  "A_START,P_START\n");
    rt_test_write(dir, "charges.csv",
                  "plan_id,charge_id,product_id,model,price,price_per,first_increment,"
                  "next_increment,event_decimals,deck_id\n"
                  "P_DST,C_CALL,CALL,per_unit,0,60,1,1,4,\n"
                  "P_INT,C_CALL,CALL,per_unit,0,60,1,1,4,WORLD\n"
                  "P_SPLIT,C_CALL,CALL,per_unit,0,60,60,60,4,WORLD\n"
                  "P_SPLIT,C_SMS,SMS,flat,0,1,0,0,4,WORLD\n"
                  "P_START,C_CALL,CALL,per_unit,0,60,60,60,4,WORLD\n");
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
                  "first_increment,next_increment,setup_fee\n"
                  "P_DST,C_CALL,,day,0,0.10,,,,\n"
                  "P_DST,C_CALL,,night,0,0.05,,,,\n"
                  "P_INT,C_CALL,UK_FIX,,0,0.4,60,30,30,0.8\n"
                  "P_INT,C_CALL,UK_FIX,,60,0.2,60,10,10,\n"
                  "P_SPLIT,C_CALL,UK_FIX,offpeak,0,0.06,,,,\n"
                  "P_SPLIT,C_CALL,UK_FIX,peak,0,0.10,,,,\n"
                  "P_SPLIT,C_CALL,UK_FIX,weekend,0,0.04,,,,\n"
                  "P_SPLIT,C_CALL,UK_MOB,,0,0.20,,,,0.05\n"
                  "P_SPLIT,C_SMS,,,0,0.08,,,,\n"
                  "P_SPLIT,C_SMS,UK_MOB,,0,0.15,,,,\n"
                  "P_START,C_CALL,UK_FIX,offpeak,0,0.06,,,,\n"
                  "P_START,C_CALL,UK_FIX,peak,0,0.10,,,,\n"
                  "P_START,C_CALL,UK_FIX,weekend,0,0.04,,,,\n");
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

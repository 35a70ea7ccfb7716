/* test_book_cgrates: a CGRateS tariff plan laid out like the CGRateS tutorial one
 * (data-samples/cgrates/tp, written for ratel) imported into a book, and the costs of calls
 * worked out by hand: across the group interval start, across a timing boundary, at the
 * weekend, by longest prefix, with *up rounding at 4 decimals. Timings are in UTC.
 *
 * RP_RETAIL, calls to DST_UK (+44): PEAK (mon-fri from 08:00) RT_40CNT: connect 0.80,
 * 0.40/60 s in 30 s steps, from 60 s 0.20/60 s in 10 s steps; OFFPEAK_* (mon-fri before
 * 08:00 and from 19:00, weekends) RT_10CNT: connect 0.20, 0.10/60 s in 60 s steps, from 60 s
 * 0.05/60 s in 1 s steps. DST_UK_MOB (+447, +4478) RT_MOB 0.35/min per second at any time;
 * DST_FR (+33) RT_FR connect 0.01, 0.02/60 s in 60 s steps. RP_SMS: 0.05 per SMS to +44. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/catalog.h"
#include "engine/rating.h"
#include "formats/book_cgrates.h"
#include "formats/book_csv.h"
#include "testutil.h"

static void base_book(const char *dir)
{
    rt_test_base_book(dir);
    rt_test_write(dir, "products.csv",
                  "product_id,name,unit,unit_code,gl_account,tax_category\n"
                  "SMS,SMS,message,C62,706000,standard\nVOICE,Calls,second,SEC,706000,standard\n");
    rt_test_write(dir, "plans.csv", "plan_id,name,currency\n");
    rt_test_write(dir, "charges.csv", "plan_id,charge_id,product_id,model,price\n");
    rt_test_write(dir, "account_plans.csv", "account_id,plan_id\n");
}

static rt_cgrates_options options(void)
{
    rt_cgrates_options o;
    memset(&o, 0, sizeof o);
    o.tenant = "cgrates.org";
    o.category[0] = "call";
    o.product[0] = "VOICE";
    o.category[1] = "sms";
    o.product[1] = "SMS";
    o.category_count = 2;
    return o;
}

static rt_book book;
static rt_catalog cat;
static rt_rating_ctx ctx;

static void setup(void)
{
    char dir[256];
    rt_diags d;
    rt_error err;
    rt_test_tmpdir(dir, sizeof dir);
    base_book(dir);
    rt_diags_init(&d);
    rt_book_init(&book);
    cr_assert_eq(rt_book_csv_read(dir, &book, &d), RT_OK);
    rt_cgrates_options o = options();
    rt_status st = rt_book_cgrates_read(rt_test_src("data-samples/cgrates/tp"), &o, &book, &d);
    if (st == RT_OK) st = rt_book_sort(&book);
    if (st == RT_OK) st = rt_book_validate(&book, &d);
    char first[1024] = "";
    if (d.count) rt_error_format(&d.items[0], first, sizeof first);
    cr_assert_eq(st, RT_OK, "%zu problems, first: %s", rt_diags_total(&d), first);
    rt_diags_free(&d);
    cr_assert_eq(rt_catalog_build(&book, &cat, &err), RT_OK, "%s", err.message);
    ctx.cat = &cat;
    ctx.late = RT_LATE_BILL;
    cr_assert_eq(rt_period_parse("2026-12", &ctx.period), RT_OK);
}

static void teardown(void)
{
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

TestSuite(cgrates, .init = setup, .fini = teardown);

static rt_reject_reason rate(const char *product, const char *start, int64_t qty,
                             const char *called, int64_t *amount_nanos)
{
    rt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_id = "E";
    ev.event_id_len = 1;
    ev.account = "ACC";
    ev.account_len = 3;
    ev.product = product;
    ev.product_len = (uint16_t)strlen(product);
    ev.called = called;
    ev.called_len = (uint16_t)strlen(called);
    cr_assert_eq(rt_time_parse(start, strlen(start), &ev.start_s), RT_OK);
    ev.qty_mantissa = qty;
    rt_rated r;
    const char *field;
    char msg[RT_REJECT_MESSAGE_MAX];
    rt_reject_reason why = rt_rate_event(&ctx, &ev, &r, &field, msg, sizeof msg);
    *amount_nanos = why == RT_REJ_NONE ? r.amount_nanos : -1;
    return why;
}

#define E4(x) ((int64_t)(x)*100000)

Test(cgrates, a_call_across_the_group_interval_start)
{
    int64_t a;
    /* Monday 10:00 (PEAK), 90 s: 0.80 + 60 s at 0.40/60 = 0.40 + 30 s at 0.20/60 = 0.10;
     * 1.3000. */
    cr_assert_eq(rate("VOICE", "2026-10-05T10:00:00Z", 90, "+442071234567", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(13000));
    /* 61 s: 0.80 + 0.40 + 1 s rounded up to a 10 s step = 0.0333...; 1.2333. */
    cr_assert_eq(rate("VOICE", "2026-10-05T10:00:00Z", 61, "+442071234567", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(12334), "*up at 4 decimals: 1.23333... -> 1.2334");
}

Test(cgrates, a_call_across_a_timing_boundary_is_split)
{
    int64_t a;
    /* Monday 18:59:30, 90 s: 30 s PEAK (one 30 s step at 0.40/60 = 0.20, connect 0.80),
     * then OFFPEAK_EVENING from 19:00: 30 s of its first interval, one 60 s step at
     * 0.10/60 = 0.10, and 30 s after the 60 s group start at 0.05/60 = 0.025; 1.1250. */
    cr_assert_eq(rate("VOICE", "2026-10-05T18:59:30Z", 90, "00442071234567", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(11250));
    /* Saturday, 120 s OFFPEAK_WEEKEND: 0.20 + 0.10 + 60 s at 0.05/60 = 0.05; 0.3500. */
    cr_assert_eq(rate("VOICE", "2026-10-10T10:00:00Z", 120, "442071234567", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(3500));
}

Test(cgrates, longest_prefix_and_rounding_up)
{
    int64_t a;
    /* +447 and +4478 are DST_UK_MOB: 61 s at 0.35/60 = 0.355833... -> *up 0.3559. */
    cr_assert_eq(rate("VOICE", "2026-10-05T10:00:00Z", 61, "+447911123456", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(3559));
    cr_assert_eq(rate("VOICE", "2026-10-05T10:00:00Z", 61, "+447811123456", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(3559));
    /* France at any time: 0.01 + 120 s at 0.02/60 = 0.04; 0.0500. */
    cr_assert_eq(rate("VOICE", "2026-10-10T03:00:00Z", 61, "+33142868200", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(500));
    /* SMS: RP_SMS rates only +44. */
    cr_assert_eq(rate("SMS", "2026-10-05T10:00:00Z", 1, "+442071234567", &a), RT_REJ_NONE);
    cr_assert_eq(a, E4(500));
    cr_assert_eq(rate("SMS", "2026-10-05T10:00:00Z", 1, "+33142868200", &a),
                 RT_REJ_UNKNOWN_DESTINATION);
    cr_assert_eq(rate("VOICE", "2026-10-05T10:00:00Z", 60, "+12125550100", &a),
                 RT_REJ_UNKNOWN_DESTINATION);
}

Test(cgrates, the_mapped_book_exports_as_a_ratel_source)
{
    cr_assert_eq(RT_BOOK_COUNT(&book, RT_T_PLANS), 2);
    const rt_plan *p = RT_BOOK_ROWS(&book, RT_T_PLANS, rt_plan);
    cr_assert_str_eq(p[0].plan_id, "RP_RETAIL");
    cr_assert_str_eq(p[0].band_set_id, "CGR_RP_RETAIL");
    cr_assert_eq(p[0].band_crossing, RT_CROSSING_SPLIT);
    cr_assert_str_eq(p[1].band_set_id, "", "RP_SMS has only an always-timing");
    rt_buf b;
    rt_buf_init(&b);
    cr_assert_eq(rt_book_csv_table(&book, RT_T_TIME_BANDS, &b), RT_OK);
    rt_buf_putc(&b, '\0');
    cr_assert_str_eq(b.data, "band_set_id,days,start,end,band_id\n"
                             "CGR_RP_RETAIL,mon-fri,00:00,08:00,OFFPEAK_MORNING\n"
                             "CGR_RP_RETAIL,mon-fri,08:00,19:00,PEAK\n"
                             "CGR_RP_RETAIL,mon-fri,19:00,24:00,OFFPEAK_EVENING\n"
                             "CGR_RP_RETAIL,sat-sun,00:00,24:00,OFFPEAK_WEEKEND\n");
    rt_buf_free(&b);
    /* The other tenant's profile was left out: two assignments. */
    cr_assert_eq(RT_BOOK_COUNT(&book, RT_T_ACCOUNT_PLANS), 2);
}

Test(cgrates, durations)
{
    int64_t v;
    cr_assert_eq(rt_cgrates_duration("60s", &v), RT_OK);
    cr_assert_eq(v, 60);
    cr_assert_eq(rt_cgrates_duration("1m30s", &v), RT_OK);
    cr_assert_eq(v, 90);
    cr_assert_eq(rt_cgrates_duration("1h", &v), RT_OK);
    cr_assert_eq(v, 3600);
    cr_assert_eq(rt_cgrates_duration("1.5m", &v), RT_OK);
    cr_assert_eq(v, 90);
    cr_assert_eq(rt_cgrates_duration("2000ms", &v), RT_OK);
    cr_assert_eq(v, 2);
    cr_assert_eq(rt_cgrates_duration("0s", &v), RT_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(rt_cgrates_duration("1024", &v), RT_OK);
    cr_assert_eq(v, 1024);
    cr_assert_eq(rt_cgrates_duration("1500ms", &v), RT_EPARSE);
    cr_assert_eq(rt_cgrates_duration("60x", &v), RT_EPARSE);
    cr_assert_eq(rt_cgrates_duration("", &v), RT_EPARSE);
    cr_assert_eq(rt_cgrates_duration("s", &v), RT_EPARSE);
    cr_assert_eq(rt_cgrates_duration("1.5", &v), RT_EPARSE);
}

/* ---- through the command, with a bad tariff plan ---- */

Test(cgrates_cli, import_then_show_and_a_bad_tariff_plan_changes_nothing)
{
    char tmp[256], src[300], tp[300], path[400];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    snprintf(tp, sizeof tp, "%s/tp", tmp);
    cr_assert_eq(rt_test_sh("mkdir '%s'", src), 0);
    base_book(src);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/b' > /dev/null", src, tmp), 0);
    cr_assert_eq(rt_test_ratel("book import-cgrates '%s' --book '%s/b' --tenant cgrates.org "
                               "--product call=VOICE --product sms=SMS > /dev/null",
                               rt_test_src("data-samples/cgrates/tp"), tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book show --book '%s/b' --account ACC --number +442071234567 "
                               "--at 2026-10-05T18:59:30Z > '%s/show.txt'",
                               tmp, tmp),
                 0);
    snprintf(path, sizeof path, "%s/show.txt", tmp);
    char *show = rt_test_read(path, NULL);
    cr_assert(strstr(show, "band PEAK until 2026-10-05T19:00:00Z"), "%s", show);
    cr_assert(strstr(show, "prefix 44 -> zone DST_UK (DST_UK)"), "%s", show);
    cr_assert(strstr(show, "from 60: 0.20 per 60, increments 10/10"), "%s", show);
    free(show);
    cr_assert_eq(rt_test_ratel("book export --book '%s/b' '%s/before' > /dev/null", tmp, tmp), 0);

    /* A bad copy: a rate with 10 decimals, a timing on a day of the month, an unknown
     * subject, a prefix with a letter; and rows no plan uses: a rate with two bad fields, a
     * destination with a bad prefix (every problem is reported, each once). */
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s'", rt_test_src("data-samples/cgrates/tp"), tp), 0);
    cr_assert_eq(
        rt_test_sh("cd '%s' && sed -i 's/^RT_SMS,0,0.05,/RT_SMS,0,0.0500000001,/' "
                   "Rates.csv && sed -i 's/^PEAK,\\*any,\\*any,\\*any,/PEAK,*any,*any,1,/' "
                   "Timings.csv && echo 'cgrates.org,call,NOBODY,2026-01-01T00:00:00Z,"
                   "RP_RETAIL,' >> RatingProfiles.csv && echo 'DST_FR,+33x' >> "
                   "Destinations.csv && echo 'RT_UNUSED,0,abc,60x,60s,0s' >> Rates.csv && "
                   "echo 'DST_UNUSED,+3a3' >> Destinations.csv",
                   tp),
        0);
    cr_assert_eq(rt_test_ratel("book import-cgrates '%s' --book '%s/b' --tenant cgrates.org "
                               "--product call=VOICE --product sms=SMS 2> '%s/err.txt'",
                               tp, tmp, tmp),
                 3);
    snprintf(path, sizeof path, "%s/err.txt", tmp);
    char *err = rt_test_read(path, NULL);
    cr_assert(strstr(err, "Rates.csv:8:3: Rate: '0.0500000001' has more than 9 decimals"), "%s",
              err);
    cr_assert(strstr(err, "Timings.csv:2:4: timings on given years, months or days of the month "
                          "are not supported"),
              "%s", err);
    cr_assert(strstr(err, "RatingProfiles.csv:5:3: Subject: account 'NOBODY' is not in the "
                          "price book"),
              "%s", err);
    cr_assert(strstr(err, "Destinations.csv:6:2: Prefix: '+33x' is not a prefix of 1 to 15 "
                          "digits"),
              "%s", err);
    cr_assert(strstr(err, "Rates.csv:9:3: Rate: 'abc' is not an amount"), "%s", err);
    cr_assert(strstr(err, "Rates.csv:9:4: RateUnit: '60x' is not a duration"), "%s", err);
    cr_assert(strstr(err, "Destinations.csv:7:2: Prefix: '+3a3' is not a prefix"), "%s", err);
    size_t rate8 = 0;
    for (const char *p = err; (p = strstr(p, "Rates.csv:8:3:")) != NULL; p++) rate8++;
    cr_assert_eq(rate8, 1, "a bad row a plan uses is reported once: %s", err);
    free(err);
    cr_assert_eq(rt_test_ratel("book export --book '%s/b' '%s/after' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("diff -r '%s/before' '%s/after'", tmp, tmp), 0);
}

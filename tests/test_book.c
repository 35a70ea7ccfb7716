/* test_book: the price book schema's new field types, validation of the pricing tables
 * (every problem of a bad source in one report with file:line:column), and the canonical
 * export round trip. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/book.h"
#include "engine/catalog.h"
#include "formats/book_csv.h"
#include "testutil.h"

/* ---- field text ---- */

static const rt_field *field(rt_table_id t, const char *name)
{
    const rt_table *tb = rt_book_table(t);
    for (size_t i = 0; i < tb->field_count; i++)
        if (strcmp(tb->fields[i].name, name) == 0) return &tb->fields[i];
    cr_assert_fail("no field %s", name);
    return NULL;
}

/* Parse text into a field and format it back. */
static const char *canon(rt_table_id t, const char *name, const char *text)
{
    static char out[RT_FIELD_TEXT_MAX];
    rt_book book;
    rt_book_init(&book);
    char row[512] = {0};
    char why[160];
    const rt_field *f = field(t, name);
    rt_status st = rt_book_field_parse(&book, f, row, text, strlen(text), why, sizeof why);
    if (st != RT_OK)
        snprintf(out, sizeof out, "ERROR %s", why);
    else
        rt_book_field_format(f, row, out, sizeof out);
    rt_book_free(&book);
    return out;
}

Test(book, days_clocks_dates_and_digits_have_one_canonical_text)
{
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "days", "mon-fri"), "mon-fri");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "days", "sat+sun"), "sat-sun");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "days", "fri+mon+wed"), "mon+wed+fri");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "days", "all+hol"), "mon-sun+hol");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "days", "hol"), "hol");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "days", "mon-tue+thu-sun"), "mon-tue+thu-sun");
    cr_assert(strncmp(canon(RT_T_TIME_BANDS, "days", "fri-mon"), "ERROR", 5) == 0);
    cr_assert(strncmp(canon(RT_T_TIME_BANDS, "days", "monday"), "ERROR", 5) == 0);
    cr_assert(strncmp(canon(RT_T_TIME_BANDS, "days", "mon+"), "ERROR", 5) == 0);
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "start", "08:00"), "08:00");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "start", "08:00:00"), "08:00");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "start", "07:59:30"), "07:59:30");
    cr_assert_str_eq(canon(RT_T_TIME_BANDS, "end", "24:00"), "24:00");
    cr_assert(strncmp(canon(RT_T_TIME_BANDS, "end", "24:01"), "ERROR", 5) == 0);
    cr_assert(strncmp(canon(RT_T_TIME_BANDS, "end", "8:00"), "ERROR", 5) == 0);
    cr_assert(strncmp(canon(RT_T_TIME_BANDS, "end", "08:60"), "ERROR", 5) == 0);
    cr_assert_str_eq(canon(RT_T_HOLIDAYS, "date", "2026-12-25"), "2026-12-25");
    cr_assert(strncmp(canon(RT_T_HOLIDAYS, "date", "2026-02-30"), "ERROR", 5) == 0);
    cr_assert_str_eq(canon(RT_T_PREFIXES, "prefix", "4420"), "4420");
    cr_assert_str_eq(canon(RT_T_PREFIXES, "prefix", "+4420"),
                     "ERROR expected 1 to 15 digits, without '+' or spaces");
    cr_assert_str_eq(canon(RT_T_PREFIXES, "prefix", "1234567890123456"),
                     "ERROR expected 1 to 15 digits");
    /* An empty international prefix takes its default; an empty country code stays empty. */
    cr_assert_str_eq(canon(RT_T_PLANS, "international_prefix", ""), "00");
    cr_assert_str_eq(canon(RT_T_PLANS, "country_code", ""), "");
    cr_assert_str_eq(canon(RT_T_RATES, "price", "0.000000001"), "0.000000001");
    cr_assert_str_eq(canon(RT_T_RATES, "price", "0.0000000001"), "ERROR more than 9 decimals");
}

/* ---- a bad source: every problem, file:line:column ---- */

static void write_good(const char *dir)
{
    rt_test_base_book(dir);
    rt_test_write(
        dir, "products.csv",
        "product_id,name,unit,unit_code,quantity_decimals,gl_account,tax_category\n"
        "CALL,Calls,second,SEC,0,706000,standard\nKWH,Energy,kWh,KWH,3,706000,standard\n");
    rt_test_write(dir, "plans.csv",
                  "plan_id,name,currency,time_zone,band_set_id\nP,Plan,EUR,Europe/Paris,STD\n");
    rt_test_write(dir, "account_plans.csv", "account_id,plan_id\nACC,P\n");
    rt_test_write(dir, "charges.csv",
                  "plan_id,charge_id,product_id,model,price,price_per,deck_id\n"
                  "P,C_CALL,CALL,per_unit,0,60,W\nP,C_KWH,KWH,tiered,0,1,\n");
    rt_test_write(dir, "tiers.csv",
                  "plan_id,charge_id,valid_from,tier,up_to,price\n"
                  "P,C_KWH,,1,100,0.30\nP,C_KWH,,2,300,0.25\nP,C_KWH,,3,,0.20\n");
    rt_test_write(dir, "zones.csv", "deck_id,zone_id,name\nW,UK,United Kingdom\n");
    rt_test_write(dir, "prefixes.csv", "deck_id,prefix,valid_from,valid_to,zone_id\nW,44,,,UK\n");
    rt_test_write(dir, "rates.csv",
                  "plan_id,charge_id,zone_id,band_id,interval_start,valid_from,valid_to,price\n"
                  "P,C_CALL,UK,,0,,2026-11-01,0.10\nP,C_CALL,UK,,0,2026-11-01,,0.09\n");
    rt_test_write(dir, "time_bands.csv",
                  "band_set_id,days,start,end,band_id\nSTD,all,00:00,24:00,any\n");
}

Test(book, the_good_source_is_valid)
{
    char dir[256];
    rt_book book;
    rt_catalog cat;
    rt_test_tmpdir(dir, sizeof dir);
    write_good(dir);
    rt_test_load_book(dir, &book, &cat);
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

static void expect(const char *report, const char *problem)
{
    cr_assert(strstr(report, problem), "missing: %s\nreport:\n%s", problem, report);
}

Test(book, a_bad_source_reports_every_problem_with_its_place)
{
    char dir[256], report[16384];
    rt_test_tmpdir(dir, sizeof dir);
    write_good(dir);
    /* Six problems at once: an unknown product in a charge, tiers out of order, overlapping
     * effective dates, a prefix with a non-digit, a time zone that does not exist, and a
     * rate with more decimals than supported. */
    rt_test_write(dir, "charges.csv",
                  "plan_id,charge_id,product_id,model,price,price_per,deck_id\n"
                  "P,C_CALL,CALL,per_unit,0,60,W\nP,C_KWH,KWH,tiered,0,1,\n"
                  "P,C_SMS,NOPE,flat,0.05,1,\n");
    rt_test_write(dir, "tiers.csv",
                  "plan_id,charge_id,valid_from,tier,up_to,price\n"
                  "P,C_KWH,,1,300,0.30\nP,C_KWH,,2,100,0.25\nP,C_KWH,,3,,0.20\n");
    rt_test_write(dir, "rates.csv",
                  "plan_id,charge_id,zone_id,band_id,interval_start,valid_from,valid_to,price\n"
                  "P,C_CALL,UK,,0,,2026-11-15,0.10\nP,C_CALL,UK,,0,2026-11-01,,0.0000000001\n");
    rt_test_write(dir, "prefixes.csv",
                  "deck_id,prefix,valid_from,valid_to,zone_id\nW,44,,,UK\nW,44a,,,UK\n");
    rt_test_write(dir, "plans.csv",
                  "plan_id,name,currency,time_zone,band_set_id\nP,Plan,EUR,Europe/Pariss,STD\n");
    rt_test_book_problems(dir, report, sizeof report);
    expect(report, "charges.csv:4:3: product_id: unknown product 'NOPE'");
    expect(report, "tiers.csv:3:5: up_to: tiers out of order: up_to must be above the previous "
                   "tier's");
    expect(report, "rates.csv:3:6: valid_from: effective dates overlap the version on line 2");
    expect(report, "rates.csv:3:8: price: more than 9 decimals");
    expect(report, "prefixes.csv:3:2: prefix: expected 1 to 15 digits, without '+' or spaces");
    expect(report, "plans.csv:2:4: time_zone: time zone 'Europe/Pariss' does not exist in the "
                   "tz database");
}

Test(book, band_sets_must_cover_the_week_once)
{
    char dir[256], report[16384];
    rt_test_tmpdir(dir, sizeof dir);
    write_good(dir);
    rt_test_write(dir, "time_bands.csv",
                  "band_set_id,days,start,end,band_id\n"
                  "STD,mon-fri,00:00,08:00,offpeak\nSTD,mon-fri,08:00,20:00,peak\n"
                  "STD,mon-thu,19:00,24:00,offpeak\nSTD,sat-sun,00:00,24:00,weekend\n");
    rt_test_book_problems(dir, report, sizeof report);
    expect(report, "time_bands.csv:4:3: start: on mon this rule overlaps the rule on line 3");
    expect(report, "band set 'STD' has no band on fri from 20:00 to 24:00");
}

Test(book, tiers_need_their_charge_version_and_a_last_unbounded_tier)
{
    char dir[256], report[16384];
    rt_test_tmpdir(dir, sizeof dir);
    write_good(dir);
    rt_test_write(dir, "tiers.csv",
                  "plan_id,charge_id,valid_from,tier,up_to,price\n"
                  "P,C_KWH,,1,100.0005,0.30\nP,C_KWH,,3,300,0.25\n"
                  "P,C_KWH,2026-01-01,1,,0.20\n");
    rt_test_book_problems(dir, report, sizeof report);
    expect(report, "tiers.csv:2:5: up_to: more decimals than product 'KWH' allows");
    expect(report, "tiers.csv:3:4: tier: tiers out of order: tier 3 where tier 2 was expected");
    expect(report, "tiers.csv:3:5: up_to: the last tier must have no up_to (unbounded)");
    expect(report, "tiers.csv:4:3: valid_from: no version of charge 'C_KWH' of plan 'P' starts at "
                   "this valid_from");
}

Test(book, fx_rates_are_needed_for_foreign_billing_currencies)
{
    char dir[256], report[16384];
    rt_test_tmpdir(dir, sizeof dir);
    write_good(dir);
    rt_test_write(dir, "accounts.csv",
                  "account_id,name,country,currency,tax_jurisdiction\nACC,Acme,FR,EUR,FR\n"
                  "ACC_US,Acme US,US,USD,FR\n");
    rt_test_write(dir, "fx_rates.csv", "currency,valid_from,valid_to,rate\nEUR,,,1\n");
    rt_test_book_problems(dir, report, sizeof report);
    expect(report, "accounts.csv:3:4: currency: account 'ACC_US' is billed in USD but "
                   "fx_rates.csv has no rate from USD to the functional currency EUR");
    expect(report, "fx_rates.csv:2:1: currency: EUR is the functional currency");
}

/* ---- export round trip and an import that changes nothing ---- */

Test(book, export_import_export_is_byte_identical)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    const char *samples[] = {"data-samples/telco/book", "data-samples/utility/book"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/b%d' > /dev/null",
                                   rt_test_src(samples[i]), tmp, i),
                     0, "%s", samples[i]);
        cr_assert_eq(
            rt_test_ratel("book export --book '%s/b%d' '%s/x%d' > /dev/null", tmp, i, tmp, i), 0);
        cr_assert_eq(
            rt_test_ratel("book import '%s/x%d' --book '%s/c%d' > /dev/null", tmp, i, tmp, i), 0);
        cr_assert_eq(
            rt_test_ratel("book export --book '%s/c%d' '%s/y%d' > /dev/null", tmp, i, tmp, i), 0);
        cr_assert_eq(rt_test_sh("diff -r '%s/x%d' '%s/y%d'", tmp, i, tmp, i), 0,
                     "%s: the second export differs", samples[i]);
        /* 17 tables, every one exported. */
        cr_assert_eq(rt_test_sh("test $(ls '%s/x%d' | wc -l) -eq %d", tmp, i, RT_T_COUNT_), 0);
    }
}

Test(book, an_invalid_import_leaves_the_book_as_it_was)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/b' > /dev/null",
                               rt_test_src("data-samples/telco/book"), tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book export --book '%s/b' '%s/before' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s'", rt_test_src("data-samples/telco/book"), src), 0);
    cr_assert_eq(rt_test_sh("sed -i 's/^WORLD,44,/WORLD,44x,/' '%s/prefixes.csv' && "
                            "sed -i 's/Europe\\/Paris,FR_STD,split/Mars\\/Olympus,FR_STD,split/' "
                            "'%s/plans.csv'",
                            src, src),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/b' 2> '%s/err.txt'", src, tmp, tmp), 3);
    char path[512];
    snprintf(path, sizeof path, "%s/err.txt", tmp);
    char *err = rt_test_read(path, NULL);
    cr_assert(strstr(err, "prefixes.csv:6:2: prefix: expected 1 to 15 digits"), "%s", err);
    cr_assert(strstr(err, "plans.csv:2:4: time_zone: time zone 'Mars/Olympus' does not exist"),
              "%s", err);
    cr_assert(strstr(err, "2 problem(s)"), "%s", err);
    free(err);
    cr_assert_eq(rt_test_ratel("book export --book '%s/b' '%s/after' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("diff -r '%s/before' '%s/after'", tmp, tmp), 0);
}

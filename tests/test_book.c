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

Test(book, peppol_ids_are_checked)
{
    char dir[256], report[16384];
    rt_test_tmpdir(dir, sizeof dir);
    write_good(dir);
    rt_test_write(dir, "accounts.csv",
                  "account_id,name,country,currency,tax_jurisdiction,peppol_id\n"
                  "ACC,Acme,FR,EUR,FR,0088:5790000435975\nACC_DK,Acme DK,DK,EUR,FR,DK12345678\n"
                  "ACC_SP,Acme SP,FR,EUR,FR,0002:123 456 789\nACC_E,Acme E,FR,EUR,FR,0002:\n");
    rt_test_book_problems(dir, report, sizeof report);
    expect(report, "accounts.csv:3:6: peppol_id: account 'ACC_DK': 'DK12345678' is not a Peppol "
                   "participant identifier: a 4-digit EAS scheme code, ':', then up to 50 "
                   "letters, digits, '.', '-' or '_' (0088:5790000435975)");
    expect(report, "accounts.csv:4:6: peppol_id: account 'ACC_SP'");
    expect(report, "accounts.csv:5:6: peppol_id: account 'ACC_E'");
    cr_assert_null(strstr(report, "accounts.csv:2:"), "%s", report);
    cr_assert(rt_book_peppol_id_ok("0184:DK12345678"));
    cr_assert(rt_book_peppol_id_ok("9925:be0123456789"));
    cr_assert(!rt_book_peppol_id_ok("184:DK12345678"));
    cr_assert(!rt_book_peppol_id_ok("0184DK12345678"));
    cr_assert(!rt_book_peppol_id_ok("0184:DK:12345678"));
    cr_assert(!rt_book_peppol_id_ok("0088:123456789012345678901234567890123456789012345678901"));
    cr_assert(rt_book_peppol_id_ok("0088:12345678901234567890123456789012345678901234567890"));
}

/* ---- export round trip and an import that changes nothing ---- */

Test(book, canonical_export_import_export_is_byte_identical)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    const char *samples[] = {"data-samples/telco/book", "data-samples/utility/book"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/b%d' > /dev/null",
                                   rt_test_src(samples[i]), tmp, i),
                     0, "%s", samples[i]);
        cr_assert_eq(rt_test_ratel("book export --canonical --book '%s/b%d' '%s/x%d' > /dev/null",
                                   tmp, i, tmp, i),
                     0);
        cr_assert_eq(
            rt_test_ratel("book import '%s/x%d' --book '%s/c%d' > /dev/null", tmp, i, tmp, i), 0);
        cr_assert_eq(rt_test_ratel("book export --book '%s/c%d' '%s/y%d' --canonical > /dev/null",
                                   tmp, i, tmp, i),
                     0);
        cr_assert_eq(rt_test_sh("diff -r '%s/x%d' '%s/y%d'", tmp, i, tmp, i), 0,
                     "%s: the second export differs", samples[i]);
        /* 17 tables, every one exported. */
        cr_assert_eq(rt_test_sh("test $(ls '%s/x%d' | wc -l) -eq %d", tmp, i, RT_T_COUNT_), 0);
    }
}

/* Import -> export gives back the source as finance wrote it: its files only, byte for byte
 * (row order, columns left out, number formats, quoting, line ends). */
Test(book, import_export_gives_back_the_source_byte_for_byte)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s'", rt_test_src("data-samples/telco/book"), src), 0);
    /* Hand-written touches the canonical export would not keep: rows out of key order, CRLF
     * line ends. */
    cr_assert_eq(rt_test_sh("cd '%s' && (head -1 zones.csv; tail -n +2 zones.csv | sort -r) > z "
                            "&& mv z zones.csv && sed -i 's/$/\r/' products.csv",
                            src),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/b' > '%s/i1.txt'", src, tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel("book export --book '%s/b' '%s/x' > '%s/out.txt'", tmp, tmp, tmp),
                 0);
    cr_assert_eq(rt_test_sh("diff -r '%s' '%s/x'", src, tmp), 0,
                 "the export differs from the source");
    cr_assert_eq(rt_test_sh("grep -q 'the 13 source files it was imported from' '%s/out.txt'", tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book show --book '%s/b' > '%s/show.txt'", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("grep -q '^  source: 13 files, '$(cat '%s'/*.csv | wc -c)' bytes, kept "
                            "as imported' '%s/show.txt'",
                            src, tmp),
                 0);
    /* The canonical export differs from such a source, and re-imports to the same book. */
    cr_assert_eq(
        rt_test_ratel("book export --book '%s/b' '%s/c' --canonical > /dev/null", tmp, tmp), 0);
    cr_assert_neq(rt_test_sh("diff -q '%s/zones.csv' '%s/c/zones.csv' > /dev/null", src, tmp), 0);
    cr_assert_eq(
        rt_test_ratel("book import '%s/c' --book '%s/b2' > '%s/i2.txt'", tmp, tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("a=$(grep -o 'fingerprint [0-9a-f]*' '%s/i1.txt') && "
                            "b=$(grep -o 'fingerprint [0-9a-f]*' '%s/i2.txt') && "
                            "test \"$a\" = \"$b\"",
                            tmp, tmp),
                 0, "the canonical export is another book");
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

/* Foundation tests: test_book: the price book schema: parsing every field type, canonical text, sorting, the
 * cross-table validation rules with file:line:column, and the schema against its
 * documentation in formats/README.md. */

static const rt_field *fld(rt_table_id id, const char *name)
{
    const rt_table *t = rt_book_table(id);
    for (size_t k = 0; k < t->field_count; k++)
        if (strcmp(t->fields[k].name, name) == 0) return &t->fields[k];
    cr_assert_fail("no column %s in %s", name, t->name);
    return NULL;
}

/* One field parsed into a scratch row of a scratch book. */
typedef struct cell {
    rt_status st;
    char why[160];
    _Alignas(16) unsigned char row[1024];
} cell;

static rt_book scratch;
static void setup(void) { rt_book_init(&scratch); }
static void teardown(void) { rt_book_free(&scratch); }
TestSuite(book, .init = setup, .fini = teardown);

static cell parse(rt_table_id id, const char *col, const char *text)
{
    cell c;
    memset(&c, 0, sizeof c);
    /* Garbage first, so a parse that leaves a member unset is caught. */
    memset(c.row, 0xa5, sizeof c.row);
    cr_assert_leq(rt_book_table(id)->row_size, sizeof c.row);
    c.st = rt_book_field_parse(&scratch, fld(id, col), c.row, text, strlen(text), c.why,
                               sizeof c.why);
    return c;
}

static int64_t i64_of(rt_table_id id, const char *col, const char *text)
{
    cell c = parse(id, col, text);
    cr_assert_eq(c.st, RT_OK, "%s '%s': %s", col, text, c.why);
    return *(const int64_t *)(c.row + fld(id, col)->offset);
}

static int32_t enum_of(rt_table_id id, const char *col, const char *text)
{
    cell c = parse(id, col, text);
    cr_assert_eq(c.st, RT_OK, "%s '%s': %s", col, text, c.why);
    return *(const int32_t *)(c.row + fld(id, col)->offset);
}

static const char *str_of(rt_table_id id, const char *col, const char *text)
{
    cell c = parse(id, col, text);
    cr_assert_eq(c.st, RT_OK, "%s '%s': %s", col, text, c.why);
    return *(const char *const *)(c.row + fld(id, col)->offset);
}

static void refused(rt_table_id id, const char *col, const char *text, rt_status want,
                    const char *why_part)
{
    cell c = parse(id, col, text);
    cr_assert_eq(c.st, want, "%s '%s' gave %s", col, text, rt_status_str(c.st));
    cr_assert(strstr(c.why, why_part), "%s '%s': reason '%s' lacks '%s'", col, text, c.why,
              why_part);
}

/* ---- field parsing ---- */

Test(book, identifiers)
{
    cr_assert_str_eq(str_of(RT_T_PRODUCTS, "product_id", "VOICE_NAT-2.0:x+y@z/w"),
                     "VOICE_NAT-2.0:x+y@z/w");
    char id64[65], id65[66];
    memset(id64, 'a', 64);
    id64[64] = '\0';
    memset(id65, 'a', 65);
    id65[65] = '\0';
    cr_assert_eq(strlen(str_of(RT_T_PRODUCTS, "product_id", id64)), 64);
    refused(RT_T_PRODUCTS, "product_id", id65, RT_ELIMIT, "longer than 64");
    refused(RT_T_PRODUCTS, "product_id", "a b", RT_EPARSE, "may only contain");
    refused(RT_T_PRODUCTS, "product_id", "caf\xc3\xa9", RT_EPARSE, "may only contain");
    refused(RT_T_PRODUCTS, "product_id", "a,b", RT_EPARSE, "may only contain");
    refused(RT_T_PRODUCTS, "product_id", "", RT_EPARSE, "required value is empty");
    /* An optional identifier may be empty. */
    cr_assert_str_eq(str_of(RT_T_PLANS, "time_zone", ""), "");
}

Test(book, free_text)
{
    char t256[257], t257[258];
    memset(t256, 'x', 256);
    t256[256] = '\0';
    memset(t257, 'x', 257);
    t257[257] = '\0';
    cr_assert_eq(strlen(str_of(RT_T_ACCOUNTS, "name", t256)), 256);
    refused(RT_T_ACCOUNTS, "name", t257, RT_ELIMIT, "longer than 256");
    refused(RT_T_ACCOUNTS, "name", "tab\there", RT_EPARSE, "control character");
    refused(RT_T_ACCOUNTS, "name", "line\nbreak", RT_EPARSE, "control character");
    refused(RT_T_ACCOUNTS, "name", "del\x7f", RT_EPARSE, "control character");
    cr_assert_str_eq(str_of(RT_T_ACCOUNTS, "name", "Caf\xc3\xa9 \"Chez Nous\", Paris"),
                     "Caf\xc3\xa9 \"Chez Nous\", Paris");
    cr_assert_str_eq(str_of(RT_T_ACCOUNTS, "street", ""), "");
    refused(RT_T_ACCOUNTS, "name", "", RT_EPARSE, "required");
}

Test(book, currencies)
{
    cr_assert_str_eq(str_of(RT_T_PLANS, "currency", "EUR"), "EUR");
    cr_assert_str_eq(str_of(RT_T_PLANS, "currency", "JPY"), "JPY");
    refused(RT_T_PLANS, "currency", "XXX", RT_EPARSE, "not an ISO 4217");
    refused(RT_T_PLANS, "currency", "eur", RT_EPARSE, "not an ISO 4217");
    refused(RT_T_PLANS, "currency", "EU", RT_EPARSE, "not an ISO 4217");
    refused(RT_T_PLANS, "currency", "EURO", RT_EPARSE, "not an ISO 4217");
}

Test(book, decimals)
{
    cr_assert_eq(i64_of(RT_T_CHARGES, "price", "0.123456789"), 123456789);
    cr_assert_eq(i64_of(RT_T_CHARGES, "price", "0.12345678900"), 123456789,
                 "trailing zeros beyond the scale change nothing");
    cr_assert_eq(i64_of(RT_T_CHARGES, "price", "12"), INT64_C(12000000000));
    cr_assert_eq(i64_of(RT_T_CHARGES, "price", "-0.5"), -500000000, "credits may be negative");
    cr_assert_eq(i64_of(RT_T_CHARGES, "price", "1000000000"), INT64_C(1000000000000000000));
    cr_assert_eq(i64_of(RT_T_CHARGES, "price", "-1000000000"), -INT64_C(1000000000000000000));
    refused(RT_T_CHARGES, "price", "0.1234567891", RT_ELIMIT, "more than 9 decimals");
    refused(RT_T_CHARGES, "price", "1000000000.000000001", RT_ELIMIT, "value outside");
    refused(RT_T_CHARGES, "price", "12345678901", RT_EOVERFLOW, "out of range");
    refused(RT_T_CHARGES, "price", "1e3", RT_EPARSE, "not a number");
    refused(RT_T_CHARGES, "price", ".5", RT_EPARSE, "not a number");
    refused(RT_T_CHARGES, "price", "1,5", RT_EPARSE, "not a number");
    refused(RT_T_CHARGES, "price", "", RT_EPARSE, "required");
    refused(RT_T_CHARGES, "setup_fee", "-0.01", RT_ELIMIT, "value outside");
    cr_assert_eq(i64_of(RT_T_CHARGES, "setup_fee", ""), 0, "default 0");
    cr_assert_eq(i64_of(RT_T_CHARGES, "min_per_event", ""), RT_UNSET, "no default: unset");
    cr_assert_eq(i64_of(RT_T_TAX_RATES, "rate_percent", "5.5"), 55000);
    cr_assert_eq(i64_of(RT_T_TAX_RATES, "rate_percent", "100"), 1000000);
    cr_assert_eq(i64_of(RT_T_TAX_RATES, "rate_percent", "0"), 0);
    refused(RT_T_TAX_RATES, "rate_percent", "100.0001", RT_ELIMIT, "value outside [0.0000, 100.0000]");
    refused(RT_T_TAX_RATES, "rate_percent", "5.12345", RT_ELIMIT, "more than 4 decimals");
    refused(RT_T_TAX_RATES, "rate_percent", "-1", RT_ELIMIT, "value outside");
}

Test(book, integers)
{
    cr_assert_eq(i64_of(RT_T_CHARGES, "price_per", "60"), 60);
    cr_assert_eq(i64_of(RT_T_CHARGES, "price_per", ""), 1, "default 1");
    refused(RT_T_CHARGES, "price_per", "0", RT_ELIMIT, "value outside [1, 1000000000000]");
    refused(RT_T_CHARGES, "price_per", "1.5", RT_ELIMIT, "not a whole number");
    refused(RT_T_CHARGES, "price_per", "abc", RT_EPARSE, "not a number");
    cr_assert_eq(i64_of(RT_T_ACCOUNTS, "bill_cycle_day", ""), 1);
    cr_assert_eq(i64_of(RT_T_ACCOUNTS, "bill_cycle_day", "28"), 28);
    refused(RT_T_ACCOUNTS, "bill_cycle_day", "29", RT_ELIMIT, "value outside [1, 28]");
    cr_assert_eq(i64_of(RT_T_ACCOUNTS, "payment_terms_days", ""), RT_UNSET);
    cr_assert_eq(i64_of(RT_T_ACCOUNTS, "payment_terms_days", "0"), 0);
    refused(RT_T_PRODUCTS, "quantity_decimals", "7", RT_ELIMIT, "value outside [0, 6]");
    cr_assert_eq(i64_of(RT_T_PRODUCTS, "max_quantity", ""), RT_UNSET);
    refused(RT_T_PRODUCTS, "max_quantity", "0", RT_ELIMIT, "value outside");
    cr_assert_eq(i64_of(RT_T_COMPANY, "payment_terms_days", ""), 30);
}

Test(book, enumerations)
{
    cr_assert_eq(enum_of(RT_T_CHARGES, "model", "per_unit"), RT_CHARGE_PER_UNIT);
    cr_assert_eq(enum_of(RT_T_CHARGES, "model", "flat"), RT_CHARGE_FLAT);
    cr_assert_eq(enum_of(RT_T_CHARGES, "model", "recurring"), RT_CHARGE_RECURRING);
    cr_assert_eq(enum_of(RT_T_CHARGES, "model", "one_time"), RT_CHARGE_ONE_TIME);
    refused(RT_T_CHARGES, "model", "Flat", RT_EPARSE,
            "expected one of: per_unit, flat, recurring, one_time");
    refused(RT_T_CHARGES, "model", "", RT_EPARSE, "required");
    cr_assert_eq(enum_of(RT_T_CHARGES, "event_rounding", ""), RT_ROUND_HALF_UP);
    cr_assert_eq(enum_of(RT_T_CHARGES, "event_rounding", "half_even"), RT_ROUND_HALF_EVEN);
    cr_assert_eq(enum_of(RT_T_CHARGES, "event_rounding", "down"), RT_ROUND_DOWN);
    cr_assert_eq(enum_of(RT_T_GL_ACCOUNTS, "role", ""), RT_GL_REVENUE);
    cr_assert_eq(enum_of(RT_T_GL_ACCOUNTS, "role", "vat_payable"), RT_GL_VAT_PAYABLE);
    cr_assert_eq(enum_of(RT_T_TAX_RATES, "vat_code", "AE"), RT_VAT_AE);
    cr_assert_eq(enum_of(RT_T_TAX_RATES, "vat_code", ""), RT_VAT_S);
    cr_assert_eq(enum_of(RT_T_PRODUCTS, "revenue_type", ""), RT_REVENUE_USAGE);
    cr_assert_eq(enum_of(RT_T_PRODUCTS, "billing_timing", "arrears"), RT_BILL_IN_ARREARS);
    cr_assert_eq(enum_of(RT_T_PRODUCTS, "billing_timing", ""), RT_BILL_IN_ADVANCE);
    refused(RT_T_TAX_RATES, "vat_code", "X", RT_EPARSE, "expected one of: S, Z, E, AE, K, G, O");
}

Test(book, dates_and_instants)
{
    cr_assert_eq(i64_of(RT_T_CHARGES, "valid_from", "2026-10-15"), INT64_C(20741) * 86400);
    cr_assert_eq(i64_of(RT_T_CHARGES, "valid_from", "2026-10-15T14:00:00+02:00"),
                 INT64_C(20741) * 86400 + 43200);
    cr_assert_eq(i64_of(RT_T_CHARGES, "valid_from", ""), RT_TIME_OPEN_START);
    cr_assert_eq(i64_of(RT_T_CHARGES, "valid_to", ""), RT_TIME_OPEN_END);
    refused(RT_T_CHARGES, "valid_from", "2026-02-30", RT_EPARSE, "expected a date");
    refused(RT_T_CHARGES, "valid_to", "15/10/2026", RT_EPARSE, "expected a date");
    refused(RT_T_CHARGES, "valid_to", "2026-10-15T25:00:00Z", RT_EPARSE, "expected a date");
}

Test(book, a_failed_field_still_holds_a_safe_value)
{
    /* Validation runs over rows with bad cells, so a refused cell must not leave garbage. */
    static cell c;
    c = parse(RT_T_CHARGES, "product_id", "bad id");
    cr_assert_neq(c.st, RT_OK);
    const char *id;
    memcpy(&id, c.row + fld(RT_T_CHARGES, "product_id")->offset, sizeof id);
    cr_assert_str_eq(id, "");
    c = parse(RT_T_CHARGES, "valid_to", "nope");
    int64_t to;
    memcpy(&to, c.row + fld(RT_T_CHARGES, "valid_to")->offset, sizeof to);
    cr_assert_eq(to, RT_TIME_OPEN_END);
    c = parse(RT_T_CHARGES, "price", "abc");
    int64_t price;
    memcpy(&price, c.row + fld(RT_T_CHARGES, "price")->offset, sizeof price);
    cr_assert_eq(price, RT_UNSET, "a required decimal without a default is left unset");
}

/* ---- canonical text ---- */

typedef struct canon_case {
    rt_table_id table;
    const char *col, *in, *canon;
} canon_case;

Test(book, canonical_text_round_trips)
{
    static const canon_case cases[] = {
        {RT_T_CHARGES, "price", "0.50", "0.5"},
        {RT_T_CHARGES, "price", "+1", "1"},
        {RT_T_CHARGES, "price", "007.000", "7"},
        {RT_T_CHARGES, "price", "-0", "0"},
        {RT_T_CHARGES, "price", "-0.000000001", "-0.000000001"},
        {RT_T_CHARGES, "price", "1000000000", "1000000000"},
        {RT_T_CHARGES, "setup_fee", "", "0"},
        {RT_T_CHARGES, "min_per_event", "", ""},
        {RT_T_CHARGES, "price_per", "060", "60"},
        {RT_T_CHARGES, "event_decimals", "", "9"},
        {RT_T_CHARGES, "model", "flat", "flat"},
        {RT_T_CHARGES, "event_rounding", "", "half_up"},
        {RT_T_CHARGES, "valid_from", "2026-10-15T00:00:00Z", "2026-10-15"},
        {RT_T_CHARGES, "valid_from", "2026-10-15T14:00:00+02:00", "2026-10-15T12:00:00Z"},
        {RT_T_CHARGES, "valid_from", "2026-10-15 12:00:00.75", "2026-10-15T12:00:00Z"},
        {RT_T_CHARGES, "valid_from", "", ""},
        {RT_T_CHARGES, "valid_to", "", ""},
        {RT_T_TAX_RATES, "rate_percent", "20.0000", "20"},
        {RT_T_TAX_RATES, "rate_percent", "5.50", "5.5"},
        {RT_T_ACCOUNTS, "payment_terms_days", "", ""},
        {RT_T_ACCOUNTS, "name", "A, \"B\"", "A, \"B\""},
        {RT_T_PLANS, "currency", "CHF", "CHF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const canon_case *k = &cases[i];
        const rt_field *f = fld(k->table, k->col);
        cell c = parse(k->table, k->col, k->in);
        cr_assert_eq(c.st, RT_OK, "%s '%s': %s", k->col, k->in, c.why);
        char text[RT_FIELD_TEXT_MAX];
        size_t n = rt_book_field_format(f, c.row, text, sizeof text);
        cr_assert_eq(n, strlen(text));
        cr_assert_str_eq(text, k->canon, "%s '%s'", k->col, k->in);
        /* Importing the canonical text gives the same value and the same text again. */
        cell again = parse(k->table, k->col, text);
        cr_assert_eq(again.st, RT_OK);
        char text2[RT_FIELD_TEXT_MAX];
        rt_book_field_format(f, again.row, text2, sizeof text2);
        cr_assert_str_eq(text2, text);
        if (f->type != RT_FT_ID && f->type != RT_FT_TEXT && f->type != RT_FT_CURRENCY)
            cr_assert(memcmp(c.row + f->offset, again.row + f->offset,
                             f->type == RT_FT_ENUM ? 4 : 8) == 0);
    }
}

/* ---- sorting ---- */

static rt_charge *add_charge(rt_book *b, uint32_t line, const char *plan, const char *id,
                             rt_time_s from)
{
    void *row;
    cr_assert_eq(rt_book_append(b, RT_T_CHARGES, line, &row), RT_OK);
    rt_charge *c = row;
    c->plan_id = plan;
    c->charge_id = id;
    c->valid_from = from;
    c->valid_to = RT_TIME_OPEN_END;
    c->product_id = "P";
    return c;
}

Test(book, sort_orders_rows_by_key_and_is_stable)
{
    add_charge(&scratch, 2, "PB", "C1", RT_TIME_OPEN_START);
    add_charge(&scratch, 3, "PA", "C2", 1000);
    add_charge(&scratch, 4, "PA", "C2", -5);
    add_charge(&scratch, 5, "PA", "C10", 0);
    add_charge(&scratch, 6, "PA", "C2", RT_TIME_OPEN_START);
    add_charge(&scratch, 7, "PB", "C1", RT_TIME_OPEN_START)->price_nanos = 7;
    add_charge(&scratch, 8, "PA", "C2", 1000)->price_nanos = 8;
    cr_assert_eq(rt_book_sort(&scratch), RT_OK);
    const rt_charge *c = RT_BOOK_ROWS(&scratch, RT_T_CHARGES, rt_charge);
    const uint32_t *lines = scratch.tables[RT_T_CHARGES].lines;
    /* (plan_id, charge_id) bytewise, then valid_from numerically ("since always" first);
     * rows with equal keys keep their input order, and lines travel with their rows. */
    static const uint32_t want[] = {5, 6, 4, 3, 8, 2, 7};
    for (size_t i = 0; i < 7; i++) cr_assert_eq(lines[i], want[i], "row %zu is line %u", i, lines[i]);
    cr_assert_str_eq(c[0].charge_id, "C10");
    cr_assert_eq(c[4].price_nanos, 8);
    cr_assert_eq(c[6].price_nanos, 7);
    const rt_table *t = rt_book_table(RT_T_CHARGES);
    cr_assert_lt(rt_book_row_compare(t, &c[0], &c[1]), 0);
    cr_assert_eq(rt_book_row_compare(t, &c[3], &c[4]), 0);
    cr_assert_gt(rt_book_row_compare(t, &c[6], &c[0]), 0);
}

Test(book, table_lookup_by_name)
{
    cr_assert_eq(rt_book_table_by_name("charges"), rt_book_table(RT_T_CHARGES));
    cr_assert_eq(rt_book_table_by_name("tax_rates.csv"), rt_book_table(RT_T_TAX_RATES));
    cr_assert_null(rt_book_table_by_name("nope"));
    for (unsigned i = 0; i < RT_T_COUNT_; i++) {
        const rt_table *t = rt_book_table((rt_table_id)i);
        cr_assert_eq(t->id, (rt_table_id)i);
        cr_assert_leq(t->field_count, RT_TABLE_FIELDS_MAX);
    }
}

/* ---- validation ---- */

/* Validate the mini book with one table replaced; returns every problem, one per line. */
static char *problems(const char *file, const char *text, size_t *count)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
    if (file) rt_test_write(src, file, text);
    rt_book book;
    rt_diags d;
    rt_diags_init(&d);
    rt_book_init(&book);
    rt_status st = rt_book_csv_read(src, &book, &d);
    cr_assert(st == RT_OK || st == RT_EINVALID);
    st = rt_book_validate(&book, &d);
    cr_assert(st == RT_OK || st == RT_EINVALID);
    size_t cap = 64 + d.count * 600, n = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < d.count; i++) {
        char line[600];
        rt_error_format(&d.items[i], line, sizeof line);
        n += (size_t)snprintf(out + n, cap - n, "%s\n", line);
    }
    *count = rt_diags_total(&d);
    rt_diags_free(&d);
    rt_book_free(&book);
    rt_test_rmtree(tmp);
    return out;
}

static void expect_problem(const char *file, const char *text, size_t want_count,
                           const char *want)
{
    size_t n;
    char *p = problems(file, text, &n);
    cr_assert(strstr(p, want), "expected '%s' among:\n%s", want, p);
    if (want_count) cr_assert_eq(n, want_count, "problems:\n%s", p);
    free(p);
}

Test(book, the_mini_book_is_valid)
{
    size_t n;
    char *p = problems(NULL, NULL, &n);
    cr_assert_eq(n, 0, "%s", p);
    free(p);
}

Test(book, duplicate_keys)
{
    expect_problem("plans.csv", "plan_id,name,currency\nPB,Plan B,EUR\nPA,Plan A,EUR\n"
                                "PA,Plan A again,EUR\n",
                   1, "plans.csv:4:1: plan_id: duplicate key 'PA' (first defined on line 3)\n");
    expect_problem("tax_rates.csv", MINI_BOOK_TAX_RATES "FR,reduced,,,7,S\n", 0,
                   "tax_rates.csv:5:1: jurisdiction: duplicate key 'FR' (first defined on line 4)");
}

Test(book, unknown_references)
{
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PB,C_X,,,NOPE,flat,1,1,0,0,\n", 1,
                   "charges.csv:11:5: product_id: unknown product 'NOPE'\n");
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PZ,C_Y,,,SMS,flat,1,1,0,0,\n", 1,
                   "charges.csv:11:1: plan_id: unknown plan 'PZ'\n");
    expect_problem("account_plans.csv", MINI_BOOK_ACCOUNT_PLANS "A3,PZ,,\n", 1,
                   "account_plans.csv:6:2: plan_id: unknown plan 'PZ'\n");
    expect_problem("account_plans.csv", MINI_BOOK_ACCOUNT_PLANS "ZZ,PA,,\n", 1,
                   "account_plans.csv:6:1: account_id: unknown account 'ZZ'\n");
}

Test(book, gl_account_of_a_product)
{
    static const char products[] =
        "product_id,name,unit,unit_code,gl_account,tax_category,quantity_decimals\n"
        "VOICE,Voice,second,SEC,7061,std,0\n"
        "SMS,SMS,message,C62,999,std,0\n"
        "DATA,Data,byte,AD,411,std,0\n"
        "KWH,Energy,kWh,KWH,7063,reduced,3\n"
        "OLD,Old,each,C62,7061,std,0\n"
        "SUB,Sub,month,MON,7062,std,0\n"
        "BIG,Big,each,C62,7061,std,0\n";
    size_t n;
    char *p = problems("products.csv", products, &n);
    cr_assert(strstr(p, "products.csv:3:5: gl_account: unknown GL account '999'\n"), "%s", p);
    cr_assert(strstr(p, "products.csv:4:5: gl_account: GL account '411' is not a revenue "
                        "account\n"),
              "%s", p);
    /* SUB is now a usage product under the recurring charge C_SUB: one more problem. */
    cr_assert(strstr(p, "charges.csv:7:6: model: a recurring charge needs a recurring product, "
                        "'SUB' is usage\n"),
              "%s", p);
    cr_assert_eq(n, 3, "%s", p);
    free(p);
}

Test(book, overlapping_effective_dates)
{
    expect_problem("charges.csv", MINI_BOOK_CHARGES
                   "PA,C_VOICE,2026-10-20,,VOICE,per_unit,0.01,60,60,60,\n",
                   1, "charges.csv:11:3: valid_from: effective dates overlap the version on "
                      "line 3\n");
    /* Versions touching at an instant do not overlap: [a, b) then [b, c). */
    size_t n;
    char *p = problems("tax_rates.csv", MINI_BOOK_TAX_RATES
                       "FR,other,2026-01-01,2026-02-01,1,S\n"
                       "FR,other,2026-02-01,,2,S\n",
                       &n);
    cr_assert_eq(n, 0, "%s", p);
    free(p);
}

Test(book, an_overlap_with_any_earlier_version_is_reported)
{
    /* B overlaps A, and so does C although B ends before C starts: both are reported. */
    size_t n;
    char *p = problems("tax_rates.csv", MINI_BOOK_TAX_RATES
                       "FR,other,2020-01-01,2030-01-01,1,S\n"
                       "FR,other,2021-01-01,2022-01-01,2,S\n"
                       "FR,other,2023-01-01,2024-01-01,3,S\n",
                       &n);
    cr_assert(strstr(p, "tax_rates.csv:6:3: valid_from: effective dates overlap the version on "
                        "line 5\n"),
              "%s", p);
    cr_assert(strstr(p, "tax_rates.csv:7:3: valid_from: effective dates overlap the version on "
                        "line 5\n"),
              "%s", p);
    cr_assert_eq(n, 2, "%s", p);
    free(p);
}

Test(book, empty_effective_ranges)
{
    expect_problem("tax_rates.csv", MINI_BOOK_TAX_RATES "FR,other,2026-10-01,2026-10-01,10,S\n", 1,
                   "tax_rates.csv:5:4: valid_to: valid_to must be after valid_from\n");
    expect_problem("account_plans.csv", MINI_BOOK_ACCOUNT_PLANS "A3,PA,2026-10-02,2026-10-01\n", 1,
                   "account_plans.csv:6:4: valid_to: valid_to must be after valid_from\n");
}

Test(book, receivable_and_vat_roles)
{
    expect_problem("gl_accounts.csv", "gl_account,label,role\n4457,TVA,vat_payable\n"
                                      "7061,V,\n7062,D,\n7063,E,\n",
                   1, "gl_accounts.csv: role: no account has role receivable\n");
    expect_problem("gl_accounts.csv", "gl_account,label,role\n411,Clients,receivable\n"
                                      "7061,V,\n7062,D,\n7063,E,\n",
                   1, "gl_accounts.csv: role: no account has role vat_payable\n");
    expect_problem("gl_accounts.csv", MINI_BOOK_GL_ACCOUNTS "412,Clients bis,receivable\n", 1,
                   "gl_accounts.csv:7:3: role: a second account with role receivable\n");
}

Test(book, a_tax_rate_for_every_jurisdiction_and_category)
{
    expect_problem("tax_rates.csv",
                   "jurisdiction,tax_category,valid_from,valid_to,rate_percent\nFR,std,,,20\n", 1,
                   "accounts.csv:2:5: tax_jurisdiction: no tax rate for jurisdiction 'FR' and tax "
                   "category 'reduced' (product 'KWH')\n");
}

Test(book, charge_model_against_product_revenue_type)
{
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PA,C_SUB2,,,SUB,per_unit,1,1,0,0,\n", 0,
                   "charges.csv:11:6: model: a per_unit charge needs a usage product, 'SUB' is "
                   "recurring\n");
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PA,C_X,,,SMS,one_time,1,1,0,0,\n", 1,
                   "charges.csv:11:6: model: a one_time charge needs a one_time product, 'SMS' "
                   "is usage\n");
}

Test(book, charge_rules)
{
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PB,C_DATA,,,DATA,per_unit,1,1,60,0,\n", 1,
                   "charges.csv:11:10: next_increment: next_increment must be at least 1 when "
                   "first_increment is set\n");
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PB,C_SMS2,,,SMS,flat,0.04,1,0,0,\n", 1,
                   "charges.csv:11:5: product_id: plan 'PB' already charges product 'SMS' at "
                   "these dates (charge 'C_SMS', line 9)\n");
    /* The same product in one plan under two charges at different times is fine. */
    size_t n;
    char *p = problems("charges.csv", MINI_BOOK_CHARGES
                       "PB,C_SMS2,2030-01-01,,SMS,flat,0.04,1,0,0,\n",
                       &n);
    cr_assert_eq(n, 1, "C_SMS is open-ended, so 2030 still overlaps: %s", p);
    free(p);
}

#define RATES_HEADER                                                                            \
    "plan_id,charge_id,zone_id,band_id,interval_start,valid_from,valid_to,price,price_per,"     \
    "first_increment,next_increment,setup_fee\n"

/* A rate row bills with its own increments where it has them, else its charge's: the pair it
 * ends up with needs a next step when it has a first one, or rating has no step to take. */
Test(book, rate_increments_taken_from_the_charge_need_a_next_step)
{
    static const char *const bad[] = {
        /* C_DATA is 0/0: a rate's own first step of 60 has no next one. */
        RATES_HEADER "PA,C_DATA,,,0,,,0.01,1000000,60,,\n",
        /* C_VOICE is 60/60 in both versions: a rate's next step of 0 leaves 60/0. */
        RATES_HEADER "PA,C_VOICE,,,0,,,0.06,,,0,\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_problem("rates.csv", bad[i], 1,
                       "rates.csv:2:11: next_increment: next_increment must be at least 1 when "
                       "first_increment is set (the rate's or the charge's)\n");
    /* 0/N is a tariff of its own (whole steps of N from the start): accepted. */
    size_t n;
    char *p = problems("rates.csv", RATES_HEADER "PA,C_DATA,,,0,,,0.01,1000000,0,60,\n", &n);
    cr_assert_eq(n, 0, "%s", p);
    free(p);
}

Test(book, a_percentage_charge_has_no_next_increment_either)
{
    expect_problem("charges.csv", MINI_BOOK_CHARGES "PB,C_PCT,,,KWH,percentage,1.5,1,0,60,\n", 0,
                   "charges.csv:11:6: model: a percentage charge has no increments, setup fee "
                   "or per-event bounds\n");
}

Test(book, min_above_max_per_event)
{
    expect_problem("charges.csv",
                   "plan_id,charge_id,product_id,model,price,min_per_event,max_per_event\n"
                   "PA,C_VOICE,VOICE,per_unit,0.06,2,1\n",
                   0, "charges.csv:2:7: max_per_event: max_per_event is below min_per_event\n");
}

Test(book, currencies_must_agree)
{
    size_t n;
    char *p = problems("plans.csv", "plan_id,name,currency\nPB,Plan B,USD\nPA,Plan A,EUR\n", &n);
    cr_assert(strstr(p, "account_plans.csv:3:2: plan_id: plan 'PB' is priced in USD but "
                        "account 'A2' is billed in EUR\n"),
              "%s", p);
    cr_assert(strstr(p, "account_plans.csv:5:2: plan_id: plan 'PB' is priced in USD but "
                        "account 'A4' is billed in EUR\n"),
              "%s", p);
    cr_assert_eq(n, 2, "%s", p);
    free(p);
    expect_problem("accounts.csv", MINI_BOOK_ACCOUNTS "A5,Eve,CH,CHF,FR,\n", 1,
                   "accounts.csv:6:4: currency: account 'A5' is billed in CHF but fx_rates.csv "
                   "has no rate from CHF to the functional currency EUR\n");
}

Test(book, exactly_one_company)
{
    size_t n;
    char *p = problems("company.csv", MINI_BOOK_COMPANY "Other Co,FR,EUR,O-,OC-,30,,,VE,V\n", &n);
    cr_assert(strstr(p, "company.csv: must hold exactly one row, found 2\n"), "%s", p);
    cr_assert(strstr(p, "company.csv: must have exactly one company row, found 2\n"), "%s", p);
    free(p);
}

Test(book, every_problem_is_reported_in_one_pass)
{
    size_t n;
    char *p = problems("charges.csv", MINI_BOOK_CHARGES
                       "PZ,C_1,,,SMS,flat,1,1,0,0,\n"
                       "PA,C_2,,,NOPE,flat,1,1,0,0,\n"
                       "PA,C_3,2026-10-02,2026-10-01,SMS,flat,1,1,0,0,\n"
                       "PB,C_4,,,SUB,flat,1,1,0,0,\n",
                       &n);
    cr_assert(strstr(p, "charges.csv:11:1: plan_id: unknown plan 'PZ'"), "%s", p);
    cr_assert(strstr(p, "charges.csv:12:5: product_id: unknown product 'NOPE'"), "%s", p);
    cr_assert(strstr(p, "charges.csv:13:4: valid_to: valid_to must be after valid_from"), "%s", p);
    cr_assert(strstr(p, "charges.csv:14:6: model: a flat charge needs a usage product"), "%s", p);
    cr_assert_eq(n, 4, "%s", p);
    free(p);
}

/* ---- the schema against its documentation ---- */

/* The text of README's "### <file>" section, up to the next heading. */
/* The section whose "### " heading names the file (a heading may name two tables). */
static char *section(const char *readme, const char *file)
{
    const char *s = readme;
    for (;;) {
        s = strstr(s, "\n### ");
        if (!s) return NULL;
        s += 5;
        const char *eol = strchr(s, '\n');
        if (!eol) return NULL;
        const char *hit = strstr(s, file);
        /* A whole file name: "accounts.csv" is not the tail of "gl_accounts.csv". */
        if (hit && hit < eol && (hit == s || hit[-1] == ' ' || hit[-1] == '`')) {
            s = eol;
            break;
        }
    }
    const char *e = s;
    while (*e && !(e[0] == '\n' && e[1] == '#')) e++;
    return strndup(s, (size_t)(e - s));
}

Test(book, every_table_column_and_value_is_documented)
{
    char *readme = rt_test_read(rt_test_src("formats/README.md"), NULL);
    cr_assert_not_null(readme);
    for (unsigned i = 0; i < RT_T_COUNT_; i++) {
        const rt_table *t = rt_book_table((rt_table_id)i);
        char *sec = section(readme, t->file);
        cr_assert_not_null(sec, "formats/README.md has no section '### %s'", t->file);
        for (size_t k = 0; k < t->field_count; k++) {
            const rt_field *f = &t->fields[k];
            char quoted[96];
            snprintf(quoted, sizeof quoted, "`%s`", f->name);
            cr_expect(strstr(sec, quoted), "%s: column %s is not documented", t->file, f->name);
            for (size_t v = 0; f->type == RT_FT_ENUM && f->names[v]; v++) {
                snprintf(quoted, sizeof quoted, "`%s`", f->names[v]);
                cr_expect(strstr(sec, quoted), "%s: value %s of %s is not documented", t->file,
                          f->names[v], f->name);
            }
        }
        free(sec);
    }
    free(readme);
}

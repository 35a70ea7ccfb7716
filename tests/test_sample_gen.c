/* test_sample_gen: `ratel gen` is deterministic for a seed whatever the thread count, writes
 * the requested shares of bad and duplicate records (which a run then counts exactly), a
 * book that uses every pricing model and imports cleanly, a 10k+ prefix rate deck, the
 * documented order file, and usage that bills end to end. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sample_gen.h"
#include "testutil.h"

static void gen(const char *dir, unsigned threads, bool native, uint64_t records,
                rt_gen_result *res)
{
    rt_gen_opts o;
    rt_gen_opts_init(&o);
    o.out_dir = dir;
    o.accounts = 500;
    o.records = records;
    o.seed = 42;
    o.bad_ppm = 20000; /* 2% */
    o.dup_ppm = 30000; /* 3% */
    o.threads = threads;
    o.native = native;
    rt_error err;
    cr_assert_eq(rt_gen_run(&o, res, &err), RT_OK, "%s", err.message);
}

static char *read_in(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = rt_test_read(path, NULL);
    cr_assert_not_null(t, "%s", path);
    return t;
}

Test(sample_gen, the_same_seed_gives_the_same_bytes_for_1_and_2_threads)
{
    char tmp[256], a[300], b[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    rt_gen_result ra, rb;
    gen(a, 1, false, 150000, &ra); /* 3 blocks, the last one partial */
    gen(b, 2, false, 150000, &rb);
    cr_assert_eq(rt_test_sh("diff -r '%s' '%s' > /dev/null", a, b), 0);
    cr_assert_eq(ra.bad, rb.bad);
    snprintf(a, sizeof a, "%s/an", tmp);
    snprintf(b, sizeof b, "%s/bn", tmp);
    gen(a, 1, true, 150000, &ra);
    gen(b, 2, true, 150000, &rb);
    cr_assert_eq(rt_test_sh("cmp -s '%s/usage.rtu' '%s/usage.rtu'", a, b), 0);
}

Test(sample_gen, shares_are_as_asked_and_a_run_counts_them_exactly)
{
    char tmp[256], dir[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/g", tmp);
    rt_gen_result r;
    gen(dir, 2, false, 200000, &r);
    cr_assert_eq(r.records, 200000);
    /* 2% of 200,000 = 4,000 bad and 3% = 6,000 duplicates, within 10% (binomial sd ~ 65). */
    cr_assert(r.bad > 3600 && r.bad < 4400, "bad %llu", (unsigned long long)r.bad);
    cr_assert(r.duplicates > 5400 && r.duplicates < 6600, "dups %llu",
              (unsigned long long)r.duplicates);
    cr_assert_eq(rt_test_ratel("book import '%s/book' --book '%s/bk' > /dev/null", dir, tmp), 0);
    cr_assert_eq(rt_test_ratel("run --quiet --book '%s/bk' --period 2026-10 --usage "
                               "'%s/usage.csv.zst' --out '%s/out'", tmp, dir, tmp), 0);
    char out[300], want[256];
    snprintf(out, sizeof out, "%s/out", tmp);
    char *m = read_in(out, "manifest.json");
    snprintf(want, sizeof want,
             "\"counts\": {\"read\": 200000, \"rated\": %llu, \"rejected\": %llu, "
             "\"duplicate\": %llu, \"late\": 0}",
             (unsigned long long)(200000 - r.bad - r.duplicates), (unsigned long long)r.bad,
             (unsigned long long)r.duplicates);
    cr_assert(strstr(m, want), "want %s in %s", want, m);
    /* Every kind of bad record shows up. */
    static const char *const reasons[] = {"MALFORMED", "MISSING_FIELD", "BAD_TIME",
                                          "BAD_QUANTITY", "NEGATIVE_QUANTITY", "ABSURD_QUANTITY",
                                          "UNKNOWN_ACCOUNT", "UNKNOWN_PRODUCT", "AFTER_PERIOD"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        snprintf(want, sizeof want, "\"%s\": ", reasons[i]);
        cr_assert(strstr(m, want), "no %s in %s", reasons[i], m);
    }
    free(m);
    cr_assert_eq(rt_test_ratel("verify '%s' > /dev/null", out), 0);
}

Test(sample_gen, the_book_uses_every_pricing_model_and_the_deck_has_10k_prefixes)
{
    char tmp[256], dir[300], book[320];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/g", tmp);
    rt_gen_result r;
    gen(dir, 2, false, 1000, &r);
    snprintf(book, sizeof book, "%s/book", dir);
    char *ch = read_in(book, "charges.csv");
    static const char *const models[] = {",per_unit,", ",flat,", ",recurring,", ",one_time,"};
    for (size_t i = 0; i < 4; i++) cr_assert(strstr(ch, models[i]), "no %s", models[i]);
    /* setup fee, minimum, maximum, 30/6 increments, rounding up, a price change on the 15th */
    cr_assert(strstr(ch, "P_BIZ,C_VOICE_NAT,,,VOICE_NAT,National calls,per_unit,0.012,60,1,1,0.015,"));
    cr_assert(strstr(ch, ",per_unit,0.03,60,1,1,0,0.02,,4,half_up"));
    cr_assert(strstr(ch, ",0,,0.50,4,half_up"));
    cr_assert(strstr(ch, ",per_unit,0.05,60,30,6,0.01,"));
    cr_assert(strstr(ch, ",5.00,4,up"));
    cr_assert(strstr(ch, "P_START,C_VOICE_NAT,,2026-10-15,") &&
              strstr(ch, "P_START,C_VOICE_NAT,2026-10-15,,"));
    free(ch);
    char *pr = read_in(book, "products.csv");
    cr_assert(strstr(pr, ",recurring,,advance") && strstr(pr, ",recurring,,arrears"));
    free(pr);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/bk' > /dev/null", book, tmp), 0);
    char *deck = read_in(dir, "rate_deck.csv");
    size_t prefixes = rt_test_count_lines(deck, "+");
    cr_assert_geq(prefixes, 10000);
    cr_assert_eq(prefixes, r.deck_prefixes);
    cr_assert_eq(rt_test_count_lines(deck, "+33600,France mobile,"), 1);
    free(deck);
    char *orders = read_in(dir, "orders.csv.zst");
    static const char header[] = "order_id,line,subscription_id,action,account_id,product_id,"
                                 "effective_date,quantity,price,discount_percent,end_date,"
                                 "description\n";
    cr_assert(strncmp(orders, header, strlen(header)) == 0);
    static const char *const actions[] = {",new,", ",change,", ",cancel,", ",one_time,"};
    for (size_t i = 0; i < 4; i++) cr_assert(strstr(orders, actions[i]), "no %s", actions[i]);
    free(orders);
}

Test(sample_gen, usage_is_skewed_and_crosses_the_dst_change)
{
    char tmp[256], dir[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/g", tmp);
    rt_gen_result r;
    gen(dir, 2, false, 100000, &r);
    char *u = read_in(dir, "usage.csv.zst");
    /* The two hours around 2026-10-25T01:00Z (Paris back to UTC+1) are 0.27% of October;
     * the generator puts about 2.5% of the calls there. */
    size_t around = 0, heavy = 0;
    for (const char *p = u; (p = strstr(p, "2026-10-25T0")) != NULL; p++)
        if (p[12] == '0' || p[12] == '1') around++;
    for (const char *p = u; (p = strstr(p, ",ACC-0000001,")) != NULL; p++) heavy++;
    cr_assert_gt(around, 1500, "%zu calls around the DST change", around);
    /* Account 1 of 500 gets (1/500)^(1/3) = 12.6% of the records, not 0.2%. */
    cr_assert_gt(heavy, 10000, "%zu records of the heaviest account", heavy);
    free(u);
}

Test(sample_gen, native_usage_bills_end_to_end)
{
    char tmp[256], dir[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/g", tmp);
    rt_gen_result r;
    gen(dir, 2, true, 70000, &r);
    cr_assert_eq(rt_test_ratel("book import '%s/book' --book '%s/bk' > /dev/null", dir, tmp), 0);
    cr_assert_eq(rt_test_ratel("run --quiet --book '%s/bk' --period 2026-10 --usage "
                               "'%s/usage.rtu' --out '%s/out'", tmp, dir, tmp), 0);
    char out[300], want[256];
    snprintf(out, sizeof out, "%s/out", tmp);
    char *m = read_in(out, "manifest.json");
    snprintf(want, sizeof want, "\"rejected\": %llu, \"duplicate\": %llu",
             (unsigned long long)r.bad, (unsigned long long)r.duplicates);
    cr_assert(strstr(m, want), "%s", m);
    free(m);
}

Test(sample_gen, shares_parse_as_parts_per_million)
{
    uint32_t ppm;
    cr_assert_eq(rt_gen_parse_share("0.01", &ppm), RT_OK);
    cr_assert_eq(ppm, 10000);
    cr_assert_eq(rt_gen_parse_share("1", &ppm), RT_OK);
    cr_assert_eq(ppm, 1000000);
    cr_assert_eq(rt_gen_parse_share("1.5", &ppm), RT_EPARSE);
    cr_assert_eq(rt_gen_parse_share("-0.1", &ppm), RT_EPARSE);
    cr_assert_eq(rt_gen_parse_share("0.0000001", &ppm), RT_EPARSE);
}

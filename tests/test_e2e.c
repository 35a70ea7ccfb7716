/* test_e2e: end-to-end billing runs over data-samples/telco with hand-checked figures.
 *
 * The sample (data-samples/telco, made by make_sample.py) holds 3,732 usage records for
 * October 2026 in two zstd-compressed files: 3,713 are billable, 10 are deliberately bad and
 * 9 repeat an earlier event id. Three accounts carry hand-picked events; their invoices are
 * worked out below (and in data-samples/README.md) from the price book in
 * data-samples/telco/book.
 *
 * ACC-0001, plan P_START (per-event rounding: 4 decimals half-up; lines to cents half-up):
 *   C_VOICE_NAT v1 (0.02 per 60 s, 60/60, until 2026-10-15):
 *     754 s -> 780 s billed -> 780 x 0.02 / 60 = 0.2600
 *     61 s at 2026-10-14T23:59:30Z (before the price change) -> 120 s -> 0.0400
 *     line 0.30
 *   C_VOICE_NAT v2 (0.018 per 60 s, from 2026-10-15):
 *     300 s -> 300 s -> 0.0900;  125 s -> 180 s -> 0.0540;  sum 0.144 -> line 0.14
 *   C_VOICE_MOB (0.05 per 60 s, 30/6, setup 0.01):
 *     31 s -> 36 s -> 0.0300 + 0.01 = 0.0400;  0 s -> nothing billed (no setup fee)
 *     line 0.04
 *   C_SMS (flat 0.05): 3 messages -> 0.15
 *   C_DATA (0.01 per 1,000,000 bytes, 102400/102400):
 *     250,000 B -> 307,200 B -> 0.003072 -> 0.0031
 *     1,500,000 B -> 1,536,000 B -> 0.01536 -> 0.0154;  sum 0.0185 -> line 0.02
 *   net 0.65, VAT 20% on 0.65 = 0.13, gross 0.78
 *
 * ACC-0002, plan P_BIZ:
 *   C_VOICE_NAT (0.012 per 60 s, 1/1, connection 0.015):
 *     59 s -> 0.0118 + 0.015 = 0.0268;  3600 s -> 0.72 + 0.015 = 0.7350;  0.7618 -> 0.76
 *   C_VOICE_MOB (0.03 per 60 s, 1/1, minimum 0.02 per call):
 *     20 s -> 0.01 -> minimum 0.0200;  125 s -> 0.0625;  0.0825 -> 0.08
 *   C_SMS (flat 0.03): 2 -> 0.06
 *   C_DATA (0.005 per MB, per-MB steps, maximum 0.50 per session):
 *     200,000,000 B -> 200 MB -> 1.00 -> capped 0.5000;  2,500,001 B -> 3 MB -> 0.0150
 *     0.515 -> 0.52
 *   net 1.42, VAT 20% = 0.284 -> 0.28, gross 1.70
 *
 * ACC-0003, plan P_BIZ, jurisdiction BE_B2B (reverse charge, VAT code AE at 0%):
 *   C_VOICE_NAT: 600 s -> 0.12 + 0.015 = 0.1350; a late call of 60 s on 2026-09-30 billed
 *     under --late bill -> 0.012 + 0.015 = 0.0270; its duplicate (same event id) not billed
 *     0.162 -> 0.16
 *   C_SMS: 0.03
 *   net 0.19, VAT 0.00, gross 0.19
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "testutil.h"

#define USAGE "data-samples/telco/usage-2026-10-voice.csv.zst data-samples/telco/usage-2026-10-other.csv.zst"

static void import_book(const char *tmp)
{
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/book' > /dev/null",
                               rt_test_src("data-samples/telco/book"), tmp),
                 0);
}

static int run_sample(const char *tmp, const char *out, const char *extra)
{
    return rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-10 --usage %s "
                      "--out '%s/%s' %s",
                      RATEL_SOURCE_DIR, RATEL_BIN, tmp, USAGE, tmp, out, extra);
}

static char *read_out(const char *tmp, const char *out, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", tmp, out, file);
    char *text = rt_test_read(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    return text;
}

Test(e2e, telco_sample_invoices_match_the_hand_computed_figures)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);

    char *inv = read_out(tmp, "out", "invoices.csv");
    char row[1024];
    rt_test_line(inv, "LT-2026-000001,", row, sizeof row);
    cr_assert_str_eq(row, "LT-2026-000001,invoice,ACC-0001,Boulangerie Martin,2026-10,"
                          "2026-11-01,2026-12-01,EUR,5,11,0.65,0.13,0.78");
    rt_test_line(inv, "LT-2026-000002,", row, sizeof row);
    cr_assert_str_eq(row, "LT-2026-000002,invoice,ACC-0002,Garage Dubois SARL,2026-10,"
                          "2026-11-01,2026-12-01,EUR,4,8,1.42,0.28,1.70");
    rt_test_line(inv, "LT-2026-000003,", row, sizeof row);
    cr_assert_str_eq(row, "LT-2026-000003,invoice,ACC-0003,Brasserie Van Damme BV,2026-10,"
                          "2026-11-01,2026-12-01,EUR,2,3,0.19,0.00,0.19");
    /* One invoice per account with usage: all 33 accounts are active in the sample. */
    cr_assert_eq(rt_test_count_lines(inv, "LT-2026-"), 33);
    free(inv);

    char *lines = read_out(tmp, "out", "invoice_lines.csv");
    rt_test_line(lines, "LT-2026-000001,5,", row, sizeof row);
    cr_assert(strstr(row, ",C_VOICE_NAT,VOICE_NAT,") && strstr(row, ",0.018,60,0.14,EUR,S,20,"),
              "price-change line: %s", row);
    rt_test_line(lines, "LT-2026-000003,2,", row, sizeof row);
    cr_assert(strstr(row, ",0.16,EUR,AE,0,"), "reverse-charge line: %s", row);
    free(lines);

    char *m = read_out(tmp, "out", "manifest.json");
    cr_assert(strstr(m, "\"counts\": {\"read\": 3732, \"rated\": 3713, \"rejected\": 10, "
                        "\"duplicate\": 9, \"late\": 1}"),
              "%s", m);
    cr_assert(strstr(m, "\"invoices\": {\"count\": 33, \"first\": \"LT-2026-000001\", "
                        "\"last\": \"LT-2026-000033\"}"));
    free(m);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
}

/* Sum a money column of a CSV file per row filter. */
static int64_t column_sum(const char *text, int col, int filter_col, const char *filter)
{
    rt_arena arena;
    rt_arena_init(&arena, 4096);
    const char *p = text, *end = text + strlen(text), *why;
    uint32_t c;
    rt_csv_record rec;
    int64_t sum = 0;
    cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &c), RT_OK); /* header */
    while (p < end) {
        cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &c), RT_OK);
        if (filter && (rec.fields[filter_col].len != strlen(filter) ||
                       memcmp(rec.fields[filter_col].ptr, filter, strlen(filter)) != 0))
            continue;
        int64_t v;
        cr_assert_eq(rt_decimal_parse(rec.fields[col].ptr, rec.fields[col].len, 2, &v), RT_OK);
        sum += v;
    }
    rt_arena_free(&arena);
    return sum;
}

Test(e2e, journal_balances_and_receivables_equal_invoice_totals)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", "--threads 2"), 0);
    char *j = read_out(tmp, "out", "journal.csv");
    char *inv = read_out(tmp, "out", "invoices.csv");
    int64_t debits = column_sum(j, 5, 0, NULL), credits = column_sum(j, 6, 0, NULL);
    cr_assert_eq(debits, credits);
    int64_t receivable = column_sum(j, 5, 12, "receivable");
    int64_t gross = column_sum(inv, 12, 0, NULL);
    cr_assert_eq(receivable, gross);
    cr_assert_eq(gross, 35984, "total gross of the sample run is EUR 359.84");
    int64_t vat = column_sum(j, 6, 12, "vat"), tax = column_sum(inv, 11, 0, NULL);
    cr_assert_eq(vat, tax);
    free(j);
    free(inv);
}

Test(e2e, outputs_are_byte_identical_for_1_2_and_4_threads)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    const char *names[] = {"manifest.json",     "invoices.jsonl",      "invoices.csv",
                           "invoice_lines.csv", "journal.csv",         "rated_usage.csv.zst",
                           "rejects.csv.zst",   "duplicates.csv.zst"};
    for (int t = 1; t <= 4; t *= 2) {
        char sub[300], extra[64];
        snprintf(sub, sizeof sub, "%s/t%d", tmp, t);
        cr_assert_eq(rt_test_sh("mkdir -p '%s'", sub), 0);
        import_book(sub);
        /* Small chunks, so every thread count cuts many chunks and waves. */
        snprintf(extra, sizeof extra, "--threads %d --chunk-size 4096", t);
        cr_assert_eq(run_sample(sub, "out", extra), 0);
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        for (int t = 2; t <= 4; t *= 2)
            cr_assert_eq(rt_test_sh("cmp -s '%s/t1/out/%s' '%s/t%d/out/%s'", tmp, names[i], tmp, t,
                                    names[i]),
                         0, "%s differs between 1 and %d threads", names[i], t);
}

Test(e2e, a_committed_period_is_not_billed_twice)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    cr_assert_eq(run_sample(tmp, "again", "2> /dev/null"), 5);
    cr_assert_neq(rt_test_sh("test -e '%s/again'", tmp), 0, "no output for a refused run");
    cr_assert_neq(rt_test_sh("test -e '%s/again.staging'", tmp), 0);
    /* The same output directory is never overwritten either. */
    cr_assert_neq(run_sample(tmp, "out", "--rerun 2> /dev/null"), 0);
}

Test(e2e, late_usage_can_be_rejected_by_policy)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", "--late reject"), 0);
    char *m = read_out(tmp, "out", "manifest.json");
    cr_assert(strstr(m, "\"counts\": {\"read\": 3732, \"rated\": 3712, \"rejected\": 11, "
                        "\"duplicate\": 9, \"late\": 0}"),
              "%s", m);
    cr_assert(strstr(m, "\"LATE\": 1"));
    free(m);
    char *rej = read_out(tmp, "out", "rejects.csv.zst");
    cr_assert_eq(rt_test_count_lines(rej, "LATE,"), 1);
    free(rej);
}

Test(e2e, verify_catches_a_tampered_output)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    cr_assert_eq(rt_test_sh("sed -i 's/,0.78$/,0.79/' '%s/out/invoices.csv'", tmp), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/out' 2> /dev/null", tmp), 4);
}

Test(e2e, an_uncommitted_staging_directory_is_cleaned_up)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    /* What a run killed before its commit leaves behind. */
    cr_assert_eq(rt_test_sh("mkdir '%s/out.staging' && echo 'run 1' > '%s/out.staging/.ratel-run'"
                            " && echo partial > '%s/out.staging/invoices.csv'",
                            tmp, tmp, tmp),
                 0);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    cr_assert_neq(rt_test_sh("test -e '%s/out.staging'", tmp), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
}

Test(e2e, an_invalid_book_source_changes_nothing)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s/src' && sed -i 's/^P_BIZ,C_SMS,,,SMS/P_BIZ,C_SMS,,,"
                            "NOPE/' '%s/src/charges.csv'",
                            rt_test_src("data-samples/telco/book"), tmp, tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s/src' --book '%s/book' 2> '%s/err.txt'", tmp, tmp,
                               tmp),
                 3);
    char path[512];
    snprintf(path, sizeof path, "%s/err.txt", tmp);
    char *err = rt_test_read(path, NULL);
    cr_assert(strstr(err, "charges.csv:3:5: product_id: unknown product 'NOPE'"), "%s", err);
    free(err);
    /* The book still bills the period as before. */
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
}

/* ---- the utility sample (data-samples/utility, Energies du Rhone, October 2026) ----
 *
 * Hand-computed (per-event and period prices at 4 decimals half-up, lines to cents half-up,
 * VAT once per rate; standing charges at 5.5%, the rest at 20%; working in
 * data-samples/README.md):
 *   U-0001 (tiered): 412.345 kWh = 150 x 0.25 + 250 x 0.22 + 12.345 x 0.20 = 94.969 -> 94.97;
 *     31 days x 0.45 = 13.95. VAT 18.994 -> 18.99 + 0.76725 -> 0.77. 108.92 + 19.76 = 128.68.
 *   U-0002 (heures creuses, 5% loyalty discount): hc 262.000 kWh x 0.21 = 55.02; hp
 *     187.500 kWh x 0.27 = 50.625 -> 50.63 (the 04:30Z readings are hp until the clocks go
 *     back on 2026-10-25, hc after); standing 17.05; discount 5% of 122.695 = -6.13475 ->
 *     -6.13. VAT 20% of 99.52 = 19.904 -> 19.90, 5.5% of 17.05 = 0.94. 116.57 + 20.84.
 *   U-0003 (volume): 3210.5 kWh x 0.19 = 609.995 -> 610.00; standing 37.20; capacity 1.5% of
 *     647.195 = 9.7079 -> 9.71. VAT 123.94 + 2.05. 656.91 + 125.99 = 782.90.
 *   U-0004 (volume, minimum 100): 5 kWh x 0.21 = 1.05; top-up 98.95; standing 37.20;
 *     capacity 1.5% of 137.20 = 2.058 -> 2.06. VAT 20.41 + 2.05. 139.26 + 22.46 = 161.72.
 *   U-0005 (CHF, export, 0%): 150 x 0.24 + 150 x 0.21 = 67.50; 31 x 0.50 = 15.50; 83.00 CHF,
 *     booked at 1.0642 EUR/CHF (the rate from 2026-11-01, the issue date): 67.50 x 1.0642 =
 *     71.8335 -> 71.83, 15.50 x 1.0642 = 16.4951 -> 16.50, receivable 88.33 EUR. */
#define UTILITY_USAGE "data-samples/utility/usage-2026-10.csv.zst"

Test(e2e, utility_sample_invoices_match_the_hand_computed_figures)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/book' > /dev/null",
                               rt_test_src("data-samples/utility/book"), tmp),
                 0);
    cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-10 "
                            "--usage %s --out '%s/out'",
                            RATEL_SOURCE_DIR, RATEL_BIN, tmp, UTILITY_USAGE, tmp),
                 0);
    char *inv = read_out(tmp, "out", "invoices.csv");
    char row[1024];
    static const char *const want[] = {
        "ER-2026-000001,invoice,U-0001,Marie Dupont,2026-10,2026-11-01,2026-11-16,EUR,2,62,"
        "108.92,19.76,128.68",
        "ER-2026-000002,invoice,U-0002,Jean Martin,2026-10,2026-11-01,2026-11-16,EUR,4,124,"
        "116.57,20.84,137.41",
        "ER-2026-000003,invoice,U-0003,Boulangerie du Parc SARL,2026-10,2026-11-01,2026-11-16,"
        "EUR,3,32,656.91,125.99,782.90",
        "ER-2026-000004,invoice,U-0004,Atelier Fermeture SARL,2026-10,2026-11-01,2026-11-16,EUR,"
        "4,32,139.26,22.46,161.72",
        "ER-2026-000005,invoice,U-0005,Claire Muller,2026-10,2026-11-01,2026-11-16,CHF,2,62,"
        "83.00,0.00,83.00",
    };
    for (size_t i = 0; i < 5; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "ER-2026-00000%zu,", i + 1);
        rt_test_line(inv, prefix, row, sizeof row);
        cr_assert_str_eq(row, want[i]);
    }
    cr_assert_eq(rt_test_count_lines(inv, "ER-2026-"), 16);
    free(inv);

    char *lines = read_out(tmp, "out", "invoice_lines.csv");
    rt_test_line(lines, "ER-2026-000002,1,", row, sizeof row);
    cr_assert(strstr(row, ",Electricity (hc),38,262.000,262.000,kWh,0.21,1,55.02,"), "%s", row);
    rt_test_line(lines, "ER-2026-000002,2,", row, sizeof row);
    cr_assert(strstr(row, ",Electricity (hp),55,187.500,187.500,kWh,0.27,1,50.63,"), "%s", row);
    rt_test_line(lines, "ER-2026-000002,4,", row, sizeof row);
    cr_assert(strstr(row, ",DISCOUNT,Loyalty discount 5%,") && strstr(row, ",-6.13,EUR,S,20,"),
              "%s", row);
    rt_test_line(lines, "ER-2026-000004,3,", row, sizeof row);
    cr_assert(strstr(row, "minimum per period") && strstr(row, ",98.95,EUR,"), "%s", row);
    free(lines);

    /* The CHF invoice in the journal: EUR amounts, CHF beside them. */
    char *j = read_out(tmp, "out", "journal.csv");
    cr_assert(strstr(j, ",411000,Clients,88.33,0.00,EUR,ER-2026-000005,") &&
                  strstr(j, "receivable,83.00,CHF\n"),
              "%s", j);
    cr_assert(strstr(j, ",706110,Ventes d'electricite,0.00,71.83,EUR,ER-2026-000005,"));
    free(j);

    char *m = read_out(tmp, "out", "manifest.json");
    cr_assert(strstr(m, "\"counts\": {\"read\": 1188, \"rated\": 1180, \"rejected\": 6, "
                        "\"duplicate\": 2, \"late\": 0}"),
              "%s", m);
    free(m);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
}

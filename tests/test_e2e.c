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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/gl_fec.h"
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
                          "2026-11-01,2026-12-01,EUR,5,11,0.65,0.13,0.78,");
    rt_test_line(inv, "LT-2026-000002,", row, sizeof row);
    cr_assert_str_eq(row, "LT-2026-000002,invoice,ACC-0002,Garage Dubois SARL,2026-10,"
                          "2026-11-01,2026-12-01,EUR,4,8,1.42,0.28,1.70,");
    rt_test_line(inv, "LT-2026-000003,", row, sizeof row);
    cr_assert_str_eq(row, "LT-2026-000003,invoice,ACC-0003,Brasserie Van Damme BV,2026-10,"
                          "2026-11-01,2026-12-01,EUR,2,3,0.19,0.00,0.19,");
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

/* Every credit note of tmp/out (numbers starting with cn_prefix) shows its invoice's gross as
 * the amount it credits, in UBL (PayableAmount) and HTML (total credited): invoices.csv holds
 * the reversal, the invoice's gross negated. Returns how many credit the invoice of a negative
 * total (a reversal stored positive), whose documents must show a negative figure. */
static size_t assert_credit_notes_credit_their_invoices(const char *tmp, const char *out,
                                                        const char *cn_prefix)
{
    static const char *const docs[2][2] = {
        {"ubl", "<cbc:PayableAmount currencyID=\"[A-Z]*\">[-0-9.]*"},
        {"html", "Total credited ([A-Z]*)</td><td class=\"num\">[-0-9.]*"},
    };
    char *shown[2];
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/%s/%s.tar.zst' --wildcards '%s*' | grep -o "
                                "'%s' | sed 's/.*>//' > '%s/%s.credited'",
                                tmp, out, docs[k][0], cn_prefix, docs[k][1], tmp, docs[k][0]),
                     0);
        char name[64];
        snprintf(name, sizeof name, "%s.credited", docs[k][0]);
        shown[k] = read_out(tmp, ".", name);
    }
    char *inv = read_out(tmp, out, "invoices.csv");
    rt_arena arena;
    rt_arena_init(&arena, 4096);
    const char *p = inv, *end = inv + strlen(inv), *why, *at[2] = {shown[0], shown[1]};
    uint32_t c;
    rt_csv_record rec;
    size_t notes = 0, of_negative = 0;
    cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &c), RT_OK); /* header */
    while (p < end) {
        cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &c), RT_OK);
        if (rec.fields[1].len != 11 || memcmp(rec.fields[1].ptr, "credit_note", 11) != 0)
            continue;
        int64_t gross, credited;
        cr_assert_eq(rt_decimal_parse(rec.fields[12].ptr, rec.fields[12].len, 2, &gross), RT_OK);
        for (int k = 0; k < 2; k++) {
            const char *nl = strchr(at[k], '\n');
            cr_assert_not_null(nl, "%s: fewer credit notes than invoices.csv", docs[k][0]);
            cr_assert_eq(rt_decimal_parse(at[k], (size_t)(nl - at[k]), 2, &credited), RT_OK);
            cr_assert_eq(credited, -gross, "%s: credit note %.*s credits %.*s, not %" PRId64 " minor units",
                         docs[k][0], (int)rec.fields[0].len, rec.fields[0].ptr,
                         (int)(nl - at[k]), at[k], -gross);
            at[k] = nl + 1;
        }
        notes++;
        of_negative += gross > 0;
    }
    cr_assert_gt(notes, 0, "no credit note to check");
    cr_assert(!*at[0] && !*at[1], "more credit notes in the documents than in invoices.csv");
    rt_arena_free(&arena);
    free(inv);
    free(shown[0]);
    free(shown[1]);
    return of_negative;
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
    cr_assert_eq(rt_test_sh("sed -i 's/,0.78,$/,0.79,/' '%s/out/invoices.csv'", tmp), 0);
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
    cr_assert(strstr(err, "charges.csv:6:5: product_id: unknown product 'NOPE'"), "%s", err);
    free(err);
    /* The book still bills the period as before. */
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
}

/* The same October with the order book (data-samples/telco/orders-2026.csv.zst), then
 * November and December from the order book alone. Worked out by hand:
 *   ACC-0001: usage 0.65 + November's Mobile Start fee in advance 9.99 = net 10.64,
 *             VAT 2.128 -> 2.13, gross 12.77.
 *   ACC-0002: usage 1.42 + installation 49.00 (one-time) = 50.42, VAT 10.084 -> 10.08,
 *             gross 60.50; its quarterly line rental (2 x 25.00 a month, Oct-Dec) was billed
 *             by September's run and is released 50.00 a month.
 *   ACC-0003: usage 0.19 + 2 SIM cards 20.00 = 20.19, reverse charge, gross 20.19.
 *   ACC-0016: cancels from Oct 20 (booked Oct 18): October was billed in advance (9.99), 19 of
 *             31 days are used: 9.99 x 19 / 31 = 6.1229 -> 6.12; credit line -3.87.
 *   ACC-0017: starts Oct 10: 22/31 x 9.99 = 7.0896 -> 7.09 catch-up, plus November 9.99.
 *   ACC-0019: fixed IP in arrears, 1 -> 3 from Oct 16: 15/31 x 5 + 16/31 x 15 = 10.1613
 *             -> 10.16.
 *   October release of deferred revenue: 9.99 (ACC-0001) + 50.00 (ACC-0002) + 6.12
 *   (ACC-0016) + 7.09 (ACC-0017) = 73.20; November and December: 9.99 + 9.99 + 50.00 = 69.98.
 *   Order lines: 12 read, 9 used, 3 rejected (unknown account, no charge, change before
 *   start). */
/* --threads 1 keeps the run on one thread: the orders are read after the usage, not on a
 * thread of their own, and counted all the same; with 2 threads they are read alongside. */
Test(e2e, one_thread_reads_the_orders_after_the_usage)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    for (int t = 1; t <= 2; t++) {
        char sub[300];
        snprintf(sub, sizeof sub, "%s/t%d", tmp, t);
        cr_assert_eq(rt_test_sh("mkdir -p '%s'", sub), 0);
        import_book(sub);
        cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --book '%s/book' --period 2026-10 --usage %s "
                                "--orders data-samples/telco/orders-2026.csv.zst --out '%s/out' "
                                "--threads %d > '%s/summary.txt'",
                                RATEL_SOURCE_DIR, RATEL_BIN, sub, USAGE, sub, t, sub),
                     0);
        char *sum = read_out(sub, ".", "summary.txt");
        cr_assert(strstr(sum, "  orders    12 lines = used 9 + rejected 3\n"), "%s", sum);
        cr_assert(strstr(sum, t == 1 ? " after the usage)\n" : " alongside, waited for "), "%s",
                  sum);
        /* The commit stage's parts, one after another, fit in it. */
        double commit, books, detail, tables, docs, registry, sync;
        const char *c = strstr(sum, ", commit ");
        const char *parts = strstr(sum, "\n  commit    ");
        cr_assert(c && parts, "%s", sum);
        cr_assert_eq(sscanf(c, ", commit %lf;", &commit), 1, "%s", sum);
        if (t == 1) {
            /* One thread: the registry's part follows the outputs, on the same thread. */
            cr_assert_eq(sscanf(parts, "\n  commit    books %lf, usage detail %lf, tables %lf, "
                                       "documents %lf, registry %lf, sync %lf\n",
                                &books, &detail, &tables, &docs, &registry, &sync),
                         6, "%s", sum);
            cr_assert_leq(books + detail + tables + docs + registry + sync, commit + 0.004,
                          "%s", sum);
        } else {
            cr_assert_eq(sscanf(parts, "\n  commit    books %lf, usage detail %lf, tables %lf, "
                                       "documents %lf (registry %lf alongside), sync %lf\n",
                                &books, &detail, &tables, &docs, &registry, &sync),
                         6, "%s", sum);
            cr_assert_leq(books + detail + tables + docs + sync, commit + 0.003, "%s", sum);
            cr_assert_leq(registry, commit + 0.001, "%s", sum);
        }
        cr_assert_gt(detail + tables + docs, 0, "%s", sum);
        /* Read .. output by step in thread time: with one thread, decompressing, parsing and
         * rating fit in the rate stage, adding and encoding in the output stage, and writing
         * in the two (a wave's outputs are written while the next is rated, the last wave's in
         * the output stage). */
        double rate, output, dec, parse, rating, agg, enc, wr;
        const char *r = strstr(sum, ", rate "), *o = strstr(sum, ", output ");
        const char *th = strstr(sum, "\n  threads   ");
        cr_assert(r && o && th, "%s", sum);
        cr_assert(sscanf(r, ", rate %lf,", &rate) == 1 && sscanf(o, ", output %lf,", &output) == 1);
        cr_assert_eq(sscanf(th, "\n  threads   decompress %lf, parse %lf, rate %lf, aggregate %lf, "
                                "encode %lf, write %lf (thread-seconds)\n",
                            &dec, &parse, &rating, &agg, &enc, &wr),
                     6, "%s", sum);
        if (t == 1) {
            cr_assert_leq(dec + parse + rating, rate + 0.003, "%s", sum);
            cr_assert_leq(agg + enc, output + 0.003, "%s", sum);
            cr_assert_leq(dec + parse + rating + agg + enc + wr, rate + output + 0.004, "%s", sum);
        }
        free(sum);
        char *m = read_out(sub, "out", "manifest.json");
        cr_assert(strstr(m, "\"orders\": {\"lines\": 12, \"used\": 9, \"rejected\": 3}"), "%s",
                  m);
        free(m);
    }
    cr_assert_eq(rt_test_sh("diff -r '%s/t1/out' '%s/t2/out' > /dev/null", tmp, tmp), 0,
                 "the outputs differ between 1 and 2 threads");
}

Test(e2e, orders_bill_subscriptions_and_release_deferred_revenue)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "oct", "--orders data-samples/telco/orders-2026.csv.zst"), 0);
    char *inv = read_out(tmp, "oct", "invoices.csv");
    char row[1024];
    rt_test_line(inv, "LT-2026-000001,", row, sizeof row);
    cr_assert(strstr(row, ",EUR,6,11,10.64,2.13,12.77"), "%s", row);
    rt_test_line(inv, "LT-2026-000002,", row, sizeof row);
    cr_assert(strstr(row, ",EUR,5,8,50.42,10.08,60.50"), "%s", row);
    rt_test_line(inv, "LT-2026-000003,", row, sizeof row);
    cr_assert(strstr(row, ",EUR,3,3,20.19,0.00,20.19"), "%s", row);
    free(inv);
    char *lines = read_out(tmp, "oct", "invoice_lines.csv");
    /* A cancel from the 20th credits the 20th to the 31st (12 days of 31). */
    cr_assert(strstr(lines, "\"Mobile Start monthly fee, 2026-10-20 to 2026-10-31 (adjustment)\""
                            ",0,1,1,month,9.99,1,-3.87,"));
    cr_assert(strstr(lines, "\"Mobile Start monthly fee, 2026-10-10 to 2026-10-31 (adjustment)\""
                            ",0,1,1,month,9.99,1,7.09,"));
    cr_assert(strstr(lines, "\"Fixed public IP address, 2026-10-01 to 2026-10-31\",0,3,3,month,"
                            "5.00,1,10.16,"));
    free(lines);
    char *j = read_out(tmp, "oct", "journal.csv");
    cr_assert(strstr(j, ",487000,Produits constates d'avance,73.20,0.00,EUR,73.20,EUR,2026-10,"));
    cr_assert(strstr(j, ",706400,Abonnements,0.00,73.20,EUR,-73.20,EUR,2026-10,"));
    cr_assert_eq(column_sum(j, 5, 0, NULL), column_sum(j, 6, 0, NULL));
    free(j);
    char *m = read_out(tmp, "oct", "manifest.json");
    cr_assert(strstr(m, "\"orders\": {\"lines\": 12, \"used\": 9, \"rejected\": 3}"), "%s", m);
    free(m);
    char *rej = read_out(tmp, "oct", "rejects.csv.zst");
    cr_assert_eq(rt_test_count_lines(rej, "BAD_ORDER,data-samples/telco/orders-2026.csv.zst,13,"), 1);
    free(rej);
    cr_assert_eq(rt_test_ratel("verify '%s/oct' > /dev/null", tmp), 0);
    /* Peppol R110/R111: every period in the e-invoices lies within October; November's fees
     * billed in advance name their service days in an item property. */
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/oct/ubl.tar.zst' | grep -o "
                            "'<cbc:[A-Za-z]*Date>[0-9-]*</cbc:[A-Za-z]*Date></cac:InvoicePeriod>' "
                            "| grep -v '>2026-10-' | grep -q .", tmp),
                 1, "a line period ends outside October");
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/oct/ubl.tar.zst' | grep -o "
                            "'<cac:InvoicePeriod><cbc:StartDate>[0-9-]*<' | grep -v '>2026-10-' | "
                            "grep -q .", tmp),
                 1, "a line period starts outside October");
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/oct/ubl.tar.zst' | grep -q '<cbc:Name>Service "
                            "period</cbc:Name><cbc:Value>2026-11-01 to 2026-11-30</cbc:Value>'",
                            tmp),
                 0, "November's fee does not name its service days");
    /* ACC-0003's 2 SIM cards at 10.00 (one-time): their quantity, unit and price, not one lot
     * of 20.00; ACC-0001's November fee (1 x 9.99 a month) likewise. */
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/oct/ubl.tar.zst' LT-2026-000003.xml | grep -q "
                            "'<cbc:InvoicedQuantity unitCode=\"H87\">2</cbc:InvoicedQuantity>"
                            "<cbc:LineExtensionAmount currencyID=\"EUR\">20.00<'", tmp),
                 0, "the SIM cards are not 2 H87");
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/oct/ubl.tar.zst' LT-2026-000001.xml | grep -q "
                            "'<cbc:InvoicedQuantity unitCode=\"MON\">1</cbc:InvoicedQuantity>"
                            "<cbc:LineExtensionAmount currencyID=\"EUR\">9.99<'", tmp),
                 0, "the monthly fee is not 1 MON");
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/oct/html.tar.zst' LT-2026-000003.html | grep -q "
                            "'SIM card</td><td class=\"num\">2 each</td><td class=\"num\">10.00 "
                            "EUR per 1 each<'", tmp),
                 0, "the page does not show 2 SIM cards at 10.00");

    const char *later[] = {"2026-11", "2026-12"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period %s "
                                "--orders data-samples/telco/orders-2026.csv.zst --out '%s/%s'",
                                RATEL_SOURCE_DIR, RATEL_BIN, tmp, later[i], tmp, later[i]),
                     0);
        char *jl = read_out(tmp, later[i], "journal.csv");
        cr_assert(strstr(jl, ",487000,Produits constates d'avance,69.98,0.00,EUR,"), "%s", jl);
        free(jl);
        cr_assert_eq(rt_test_ratel("verify '%s/%s' > /dev/null", tmp, later[i]), 0);
    }
    /* December bills the next quarter of ACC-0002's line rental in advance: 3 x 2 x 25.00. */
    char *dec = read_out(tmp, "2026-12", "invoice_lines.csv");
    cr_assert(strstr(dec, "\"Business Pro line rental, 2027-01-01 to 2027-03-31\",0,2,2,month,"
                          "25.00,1,150.00,"));
    free(dec);
}

/* A file re-sent in the next period: every event October billed is a duplicate of run 1,
 * October's late-billed and bad records behave as before, and the one event October
 * rejected as after its end (2026-11-01T00:00:05Z) is billed by November. */
Test(e2e, events_billed_by_a_committed_run_are_not_billed_again)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "oct", ""), 0);
    cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-11 "
                            "--usage %s --out '%s/nov'",
                            RATEL_SOURCE_DIR, RATEL_BIN, tmp, USAGE, tmp),
                 0);
    char *m = read_out(tmp, "nov", "manifest.json");
    /* 3713 billed in October are duplicates now, plus the 9 in-file repeats; the 10 bad
     * records minus the after-period one are rejected; that one is billed. */
    cr_assert(strstr(m, "\"counts\": {\"read\": 3732, \"rated\": 1, \"rejected\": 9, "
                        "\"duplicate\": 3722, \"late\": 0}"),
              "%s", m);
    free(m);
    char *d = read_out(tmp, "nov", "duplicates.csv.zst");
    cr_assert(strstr(d, "EV-A1-01,ACC-0001,VOICE_NAT,2026-10-03T09:15:00Z,"
                        "data-samples/telco/usage-2026-10-voice.csv.zst,2,1\n"));
    free(d);
    cr_assert_eq(rt_test_ratel("verify '%s/nov' > /dev/null", tmp), 0);
    /* A damaged billed-events file is detected, not trusted. */
    cr_assert_eq(rt_test_sh("printf 'x' | dd of='%s/book/billed/1.fps' bs=1 seek=100 "
                            "conv=notrunc 2> /dev/null",
                            tmp),
                 0);
    cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-12 "
                            "--usage %s --out '%s/dec' 2> /dev/null",
                            RATEL_SOURCE_DIR, RATEL_BIN, tmp, USAGE, tmp),
                 1);
}

/* A price correction after October was billed: Business Pro's SMS goes from 0.03 to 0.025 and
 * October is rerun. Worked out by hand for ACC-0002 (2 SMS): the SMS line goes from 0.06 to
 * 0.05, so net 50.42 -> 50.41 and VAT 20% of 50.41 = 10.082 -> 10.08, gross 60.49. Its invoice
 * LT-2026-000002 (gross 60.50) is reversed in full by credit note LTC-2026-000001 (net -50.42,
 * VAT -10.08, gross -60.50), and the new invoice LT-2026-000034 is issued. The journal books
 * the reversal: Cr receivable 60.50 / Dr revenue 0.84 + 0.06 + 0.52 + 49.00 / Dr VAT 10.08.
 * Accounts without Business Pro SMS keep their invoices (no new document), and the deferred
 * revenue release, unchanged, is not booked again. */
Test(e2e, a_rerun_after_a_price_correction_issues_credit_notes_and_new_invoices)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    const char *orders = "--orders data-samples/telco/orders-2026.csv.zst";
    cr_assert_eq(run_sample(tmp, "first", orders), 0);
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s/src' && sed -i 's/^P_BIZ,C_SMS,,,SMS,SMS,flat,0.03,"
                            "/P_BIZ,C_SMS,,,SMS,SMS,flat,0.025,/' '%s/src/charges.csv'",
                            rt_test_src("data-samples/telco/book"), tmp, tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s/src' --book '%s/book' > /dev/null", tmp, tmp), 0);
    char extra[128];
    snprintf(extra, sizeof extra, "--rerun %s", orders);
    cr_assert_eq(run_sample(tmp, "rerun", extra), 0);

    char *inv = read_out(tmp, "rerun", "invoices.csv");
    char row[1024];
    rt_test_line(inv, "LTC-2026-000001,", row, sizeof row);
    cr_assert_str_eq(row, "LTC-2026-000001,credit_note,ACC-0002,Garage Dubois SARL,2026-10,"
                          "2026-11-01,2026-12-01,EUR,5,8,-50.42,-10.08,-60.50,LT-2026-000002");
    rt_test_line(inv, "LT-2026-000034,", row, sizeof row);
    cr_assert_str_eq(row, "LT-2026-000034,invoice,ACC-0002,Garage Dubois SARL,2026-10,"
                          "2026-11-01,2026-12-01,EUR,5,8,50.41,10.08,60.49,");
    cr_assert_eq(rt_test_count_lines(inv, "LT-2026-000001,"), 0, "ACC-0001 is unchanged");
    size_t cns = rt_test_count_lines(inv, "LTC-2026-"), news = rt_test_count_lines(inv, "LT-2026-");
    cr_assert_eq(cns, news, "every changed invoice is credited and reissued");
    free(inv);
    /* The credit note shows the SMS price its invoice showed (0.03), the new invoice 0.025. */
    char *lines = read_out(tmp, "rerun", "invoice_lines.csv");
    rt_test_line(lines, "LTC-2026-000001,2,", row, sizeof row);
    cr_assert(strstr(row, ",C_SMS,SMS,SMS,2,2,2,message,0.03,1,-0.06,EUR,"), "%s", row);
    rt_test_line(lines, "LT-2026-000034,2,", row, sizeof row);
    cr_assert(strstr(row, ",C_SMS,SMS,SMS,2,2,2,message,0.025,1,0.05,EUR,"), "%s", row);
    free(lines);

    char *j = read_out(tmp, "rerun", "journal.csv");
    cr_assert(strstr(j, "2026-11-01,VE,1,411000,Clients,0.00,60.50,EUR,-60.50,EUR,LTC-2026-000001,"));
    cr_assert(strstr(j, "2026-11-01,VE,1,706200,Prestations SMS,0.06,0.00,EUR,0.06,EUR,LTC-2026-000001,"));
    cr_assert(strstr(j, "2026-11-01,VE,1,706500,Frais de mise en service,49.00,0.00,EUR,49.00,EUR,"
                        "LTC-2026-000001,"));
    cr_assert(strstr(j, "2026-11-01,VE,1,445710,TVA collectee,10.08,0.00,EUR,10.08,EUR,LTC-2026-000001,"));
    cr_assert(strstr(j, ",706200,Prestations SMS,0.00,0.05,EUR,-0.05,EUR,LT-2026-000034,"));
    cr_assert_null(strstr(j, "release"), "the release did not change: not booked twice");
    cr_assert_eq(column_sum(j, 5, 0, NULL), column_sum(j, 6, 0, NULL));
    free(j);
    char *m = read_out(tmp, "rerun", "manifest.json");
    cr_assert(strstr(m, "\"rerun\": true"));
    cr_assert(strstr(m, "\"corrects_run\": 1, \"unchanged_invoices\": "));
    free(m);
    cr_assert_eq(rt_test_ratel("verify '%s/rerun' > /dev/null", tmp), 0);

    /* Rerunning again with nothing changed issues no document at all. */
    cr_assert_eq(run_sample(tmp, "again", extra), 0);
    char *again = read_out(tmp, "again", "invoices.csv");
    cr_assert_eq(rt_test_count_lines(again, "LT"), 0, "%s", again);
    free(again);
}

/* Sum over journal.csv of debit - credit (in minor units) of the rows whose gl_account is gl,
 * txn_currency cur and reference starts with ref (the columns before the label, which may
 * hold commas, are plain). */
static long journal_side(const char *tmp, const char *out, const char *gl, const char *cur,
                         const char *ref)
{
    char cmd[1024], buf[64] = "";
    snprintf(cmd, sizeof cmd,
             "awk -F, '$4 == \"%s\" && $10 == \"%s\" && index($11, \"%s\") == 1 "
             "{ s += ($6 - $7) * 100 } END { printf \"%%.0f\", s }' '%s/%s/journal.csv'",
             gl, cur, ref, tmp, out);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(buf, sizeof buf, p));
    pclose(p);
    return strtol(buf, NULL, 10);
}

/* Rebuild tmp/out/ubl.tar.zst with the document of invoice `number` (a shell word, run in tmp)
 * changed by the sed script `edit`, members in the same order. The shell's status. */
static int tamper_ubl(const char *tmp, const char *out, const char *number, const char *edit)
{
    return rt_test_sh("cd '%s' && rm -rf x && mkdir x && tar -C x --zstd -xf %s/ubl.tar.zst && "
                      "sed -i '%s' x/%s.xml && tar --zstd -tf %s/ubl.tar.zst > list && "
                      "rm %s/ubl.tar.zst && tar -C x --zstd -cf %s/ubl.tar.zst -T list",
                      tmp, out, edit, number, out, out, out);
}

/* What `ratel verify tmp/out` reports (it must find problems: exit status 4), malloc'd. */
static char *verify_problems(const char *tmp, const char *out)
{
    cr_assert_eq(rt_test_ratel("verify '%s/%s' 2> '%s/err.txt'", tmp, out, tmp), 4);
    char path[512];
    snprintf(path, sizeof path, "%s/err.txt", tmp);
    char *err = rt_test_read(path, NULL);
    cr_assert_not_null(err);
    return err;
}

/* A generated month's Swiss accounts are billed in CHF (fx_rates.csv: 1.0712 EUR from the
 * issue date). Correcting that rate and rerunning reissues their invoices; each credit note
 * reverses its invoice's entry at the rate it was booked at (the registry keeps it), not the
 * corrected one, so the receivable and deferred revenue of the CHF invoices net to nothing,
 * and the new invoices are booked at the new rate. */
Test(e2e, a_rerun_after_an_fx_rate_correction_reverses_invoices_at_their_rate)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("gen --out '%s/g' --accounts 300 --records 5000 --seed 3 "
                               "> /dev/null", tmp), 0);
    cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/b' > /dev/null", tmp, tmp), 0);
    const char *run = "run --book '%s/b' --period 2026-10 --usage '%s/g/usage.csv.zst' --orders "
                      "'%s/g/orders.csv.zst' --out '%s/%s' %s > /dev/null";
    cr_assert_eq(rt_test_ratel(run, tmp, tmp, tmp, tmp, "o", ""), 0);
    cr_assert_eq(rt_test_sh("grep -q '^CHF,2026-11-01,,1.0712$' '%s/g/book/fx_rates.csv' && "
                            "sed -i 's/^CHF,2026-11-01,,1.0712$/CHF,2026-11-01,,1.08/' "
                            "'%s/g/book/fx_rates.csv'", tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/b' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel(run, tmp, tmp, tmp, tmp, "r", "--rerun"), 0);

    long ar = journal_side(tmp, "o", "411000", "CHF", "GEN-");
    long deferred = journal_side(tmp, "o", "487000", "CHF", "GEN-");
    cr_assert_gt(ar, 0, "the month has CHF invoices");
    cr_assert_lt(deferred, 0, "and CHF fees billed in advance");
    cr_assert_eq(journal_side(tmp, "r", "411000", "CHF", "GENC-"), -ar,
                 "the credit notes reverse the receivable as booked");
    cr_assert_eq(journal_side(tmp, "r", "487000", "CHF", "GENC-"), -deferred,
                 "and the deferred revenue");
    long ar_new = journal_side(tmp, "r", "411000", "CHF", "GEN-");
    cr_assert(ar_new > ar, "the new invoices at 1.08: %ld against %ld", ar_new, ar);
    cr_assert_eq(rt_test_sh("awk -F, '$10 == \"CHF\" && index($11, \"GEN-\") == 1' '%s/r/journal.csv' "
                            "| grep -q .", tmp), 0);
    /* Every CHF invoice and nothing else was reissued. */
    cr_assert_eq(rt_test_sh("test $(grep -c ',CHF,' '%s/o/invoices.csv') -eq "
                            "$(grep -c '^GENC-.*,CHF,' '%s/r/invoices.csv') && "
                            "! grep -q '^GENC-.*,EUR,' '%s/r/invoices.csv'", tmp, tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/r' --book '%s/b' > /dev/null", tmp, tmp), 0);
    /* Every CHF document (the invoices, then the credit notes and new invoices) names EUR as
     * its VAT accounting currency and gives its VAT in EUR (BT-6, BT-111): export of services,
     * 0% (VAT category G), so 0.00; no EUR document does. */
    for (int k = 0; k < 2; k++) {
        const char *o = k ? "r" : "o";
        cr_assert_eq(
            rt_test_sh("n=$(grep -c ',CHF,' '%s/%s/invoices.csv') && test $n -gt 0 && "
                       "test $(zstd -dc '%s/%s/ubl.tar.zst' | grep -a -o "
                       "'<cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>' | wc -l) -eq $n && "
                       "test $(zstd -dc '%s/%s/ubl.tar.zst' | grep -a -o '</cac:TaxTotal>"
                       "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">0.00<' | wc -l) "
                       "-eq $n",
                       tmp, o, tmp, o, tmp, o),
            0, "run %s", o);
    }
    /* verify holds a document to it: one CHF invoice's VAT accounting currency changed. */
    cr_assert_eq(tamper_ubl(tmp, "o", "$(grep -m1 ',CHF,' o/invoices.csv | cut -d, -f1)",
                            "s|<cbc:TaxCurrencyCode>EUR<|<cbc:TaxCurrencyCode>CHF<|"),
                 0);
    char *err = verify_problems(tmp, "o");
    cr_assert(strstr(err, ".xml: TaxCurrencyCode: is CHF, the functional currency is EUR"), "%s",
              err);
    free(err);
}

/* A CHF account taxed in France (the generated month's Swiss accounts moved under French VAT,
 * 20% and 10%): each CHF document gives its VAT in EUR (BT-111) as the journal books it, at
 * the issue date's rate; after the rate is corrected and the period rerun, each credit note
 * gives the reversed invoice's, at the rate that invoice was booked at. verify compares every
 * one with journal.csv, and catches one changed by a cent. */
Test(e2e, foreign_currency_documents_give_the_vat_the_journal_books)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("gen --out '%s/g' --accounts 300 --records 5000 --seed 3 "
                               "> /dev/null",
                               tmp),
                 0);
    cr_assert_eq(rt_test_sh("cd '%s/g/book' && sed -i -e 's/^CH_EXPORT,standard,.*/CH_EXPORT,"
                            "standard,,,20,S,/' -e 's/^CH_EXPORT,reduced,.*/CH_EXPORT,reduced,,,"
                            "10,S,/' tax_rates.csv && grep -q '^CH_EXPORT,standard,,,20,S,$' "
                            "tax_rates.csv",
                            tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/b' > /dev/null", tmp, tmp), 0);
    const char *run = "run --book '%s/b' --period 2026-10 --usage '%s/g/usage.csv.zst' --orders "
                      "'%s/g/orders.csv.zst' --out '%s/%s' %s > /dev/null";
    cr_assert_eq(rt_test_ratel(run, tmp, tmp, tmp, tmp, "o", ""), 0);
    cr_assert_eq(rt_test_sh("sed -i 's/^CHF,2026-11-01,,1.0712$/CHF,2026-11-01,,1.08/' "
                            "'%s/g/book/fx_rates.csv'",
                            tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/b' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel(run, tmp, tmp, tmp, tmp, "r", "--rerun"), 0);
    /* The CHF documents carry VAT, in CHF and in EUR; both runs verify against the journal. */
    for (int k = 0; k < 2; k++) {
        const char *o = k ? "r" : "o";
        cr_assert_eq(rt_test_sh("test $(zstd -dc '%s/%s/ubl.tar.zst' | grep -a -o '</cac:TaxTotal>"
                                "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">[1-9][0-9]*\\.' "
                                "| wc -l) -gt 0",
                                tmp, o),
                     0, "run %s has no CHF document with VAT", o);
        cr_assert_eq(rt_test_ratel("verify '%s/%s' > /dev/null", tmp, o), 0, "run %s", o);
    }
    cr_assert_eq(rt_test_sh("grep -q '^GENC-.*,CHF,' '%s/r/invoices.csv'", tmp), 0,
                 "the rerun credits CHF invoices");
    cr_assert_eq(tamper_ubl(tmp, "o", "$(grep -m1 ',CHF,' o/invoices.csv | cut -d, -f1)",
                            "s|\\(</cac:TaxTotal><cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">"
                            "\\)[^<]*|\\112345.67|"),
                 0);
    char *err = verify_problems(tmp, "o");
    cr_assert(strstr(err, ".xml: TaxTotal: VAT in EUR is 12345.67, journal.csv books "), "%s", err);
    free(err);
}

/* Month-end accrual: the usage of the sample is accrued net of VAT (299.91 = the net of its 33
 * invoices, which are all usage) per revenue account, reversed on the first of November; no
 * invoice is issued and the billing run of the period still runs afterwards. */
Test(e2e, accrue_only_books_unbilled_revenue_and_its_reversal)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "accrual", "--accrue-only"), 0);
    char *j = read_out(tmp, "accrual", "journal.csv");
    cr_assert(strstr(j, "2026-10-31,VE,1,418100,Clients - factures a etablir,299.91,0.00,EUR,299.91,EUR,2026-10,"));
    cr_assert(strstr(j, "2026-11-01,VE,2,418100,Clients - factures a etablir,0.00,299.91,EUR,-299.91,EUR,"));
    cr_assert(strstr(j, "2026-10-31,VE,1,706100,Prestations voix,0.00,139.27,EUR,"));
    cr_assert_eq(rt_test_count_lines(j, "2026-10-31,VE,1,"), 4);
    cr_assert_eq(rt_test_count_lines(j, "2026-11-01,VE,2,"), 4);
    free(j);
    char *inv = read_out(tmp, "accrual", "invoices.csv");
    cr_assert_eq(rt_test_count_lines(inv, "LT"), 0);
    free(inv);
    cr_assert_eq(rt_test_ratel("verify '%s/accrual' > /dev/null", tmp), 0);
    cr_assert_eq(run_sample(tmp, "billing", ""), 0);
    char *m = read_out(tmp, "billing", "manifest.json");
    cr_assert(strstr(m, "\"run\": 2,\n  \"kind\": \"billing\""), "%s", m);
    cr_assert(strstr(m, "\"invoices\": {\"count\": 33, \"first\": \"LT-2026-000001\""));
    free(m);
}

/* An accrual of a generated month (with its orders, CHF accounts, allowances, minimums, a
 * percentage charge and discounts) accrues what the usage alone bills: per GL account and
 * currency, the revenue of a billing run of the same usage without the orders, every line
 * (allowances, minimums, percentages and discounts included), the CHF entry converted at
 * October's rate (1.065) and the EUR one not converted. */
Test(e2e, an_accrual_accrues_what_the_usage_alone_bills_in_each_currency)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("gen --out '%s/g' --accounts 300 --records 5000 --seed 5 "
                               "> /dev/null", tmp), 0);
    char orders[512];
    snprintf(orders, sizeof orders, "--orders '%s/g/orders.csv.zst' --accrue-only", tmp);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/b%d' > /dev/null", tmp,
                                   tmp, k), 0);
        cr_assert_eq(rt_test_ratel("run --book '%s/b%d' --period 2026-10 --usage "
                                   "'%s/g/usage.csv.zst' --out '%s/o%d' %s > /dev/null",
                                   tmp, k, tmp, tmp, k, k ? "" : orders),
                     0);
    }
    /* Revenue rows (GL 70...) per account and transaction currency, sums that are not 0: the
     * accrual's of October 31 against the billing run's. */
    const char *sums = "awk -F, '$4 ~ /^70/ %s { s[$4 \" \" $10] += $9 * 100 } END { for (k in s) if "
                       "(s[k]) printf \"%%s %%.0f\\n\", k, s[k] }' '%s/o%d/journal.csv' | sort > '%s/s%d'";
    cr_assert_eq(rt_test_sh(sums, "&& $1 == \"2026-10-31\"", tmp, 0, tmp, 0), 0);
    cr_assert_eq(rt_test_sh(sums, "", tmp, 1, tmp, 1), 0);
    cr_assert_eq(rt_test_sh("cmp -s '%s/s0' '%s/s1'", tmp, tmp), 0,
                 "the accrual is not what the usage bills");
    cr_assert_eq(rt_test_sh("grep -q '^709000 EUR ' '%s/s0' && grep -q ' CHF ' '%s/s0'", tmp,
                            tmp), 0, "discounts and CHF revenue are accrued");
    /* The CHF entry: the receivable converted at 1.065 (its txn amount x 1.065, within the
     * half-cent of each of its revenue lines). */
    cr_assert_eq(rt_test_sh("awk -F, '$1 == \"2026-10-31\" && $4 == \"418100\" && $10 == "
                            "\"CHF\" { d = $6 - $9 * 1.065; if (d < 0) d = -d; found = 1; "
                            "exit !(d < 0.05) } END { exit !found }' '%s/o0/journal.csv'", tmp),
                 0);
    cr_assert_eq(rt_test_ratel("verify '%s/o0' > /dev/null", tmp), 0);
}

/* verify --book ties an output directory to the run the registry committed. */
Test(e2e, verify_with_the_book_checks_the_registry)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/out' --book '%s/book' > /dev/null", tmp, tmp), 0);
    /* A copy verifies on its own but is not the committed directory. */
    cr_assert_eq(rt_test_sh("cp -r '%s/out' '%s/copy'", tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/copy' > /dev/null", tmp), 0);
    cr_assert_eq(rt_test_ratel("verify '%s/copy' --book '%s/book' 2> /dev/null", tmp, tmp), 4);
    /* Another book never committed it. */
    char other[300];
    snprintf(other, sizeof other, "%s/other", tmp);
    cr_assert_eq(rt_test_sh("mkdir '%s'", other), 0);
    import_book(other);
    cr_assert_eq(rt_test_ratel("verify '%s/out' --book '%s/book' 2> /dev/null", tmp, other), 4);
}

/* A relative --out (with a trailing slash) is recorded as the absolute path it renames to. */
Test(e2e, verify_with_the_book_after_a_run_into_a_relative_directory)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(rt_test_sh("cd '%s' && usage=$(cd '%s' && for f in %s; do printf \"'%%s/%%s' \" "
                            "\"$PWD\" \"$f\"; done) && eval \"'%s' run --quiet --book book "
                            "--period 2026-10 --usage $usage --out rel/\"",
                            tmp, RATEL_SOURCE_DIR, USAGE, RATEL_BIN),
                 0);
    cr_assert_eq(rt_test_ratel("verify '%s/rel' --book '%s/book' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("cd '%s' && '%s' verify rel --book book > /dev/null", tmp, RATEL_BIN),
                 0);
}

/* ---- e-invoices, GL export and usage detail of the sample run ---- */

static const char *ubl_schema_dir(void)
{
    const char *env = getenv("RATEL_UBL_SCHEMAS");
    return env && env[0] ? env : RATEL_SCHEMA_DIR;
}

/* Whether the extracted document tmp/docs/name holds text. */
static bool doc_has(const char *tmp, const char *name, const char *text)
{
    char *doc = read_out(tmp, "docs", name);
    bool has = strstr(doc, text) != NULL;
    free(doc);
    return has;
}

/* The documents come as two tar archives: extract tmp/out's into tmp/docs, as a customer
 * would. */
static void extract_documents(const char *tmp, const char *out)
{
    cr_assert_eq(rt_test_sh("mkdir '%s/docs' && tar -C '%s/docs' --zstd -xf '%s/%s/ubl.tar.zst' "
                            "&& tar -C '%s/docs' --zstd -xf '%s/%s/html.tar.zst'",
                            tmp, tmp, tmp, out, tmp, tmp, out),
                 0);
}

Test(e2e, sample_run_ubl_documents_are_schema_valid_and_match_the_invoices)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    extract_documents(tmp, "out");
    cr_assert_eq(rt_test_sh("test $(ls '%s/docs' | grep -c '\\.xml$') -eq 33", tmp), 0,
                 "one UBL document per invoice");
    cr_assert_eq(rt_test_sh("test \"$(tar --zstd -tf '%s/out/ubl.tar.zst' | head -2 | tr '\\n' ' ')\" = "
                            "'LT-2026-000001.xml LT-2026-000002.xml '", tmp),
                 0, "members in invoice order");
    char *inv = read_out(tmp, "docs", "LT-2026-000001.xml");
    cr_assert(strstr(inv, "<cbc:PayableAmount currencyID=\"EUR\">0.78</cbc:PayableAmount>"));
    cr_assert(strstr(inv, "<cbc:BuyerReference>PO-7731</cbc:BuyerReference>"));
    /* Peppol electronic addresses: the seller's SIREN, the buyer's French VAT number. */
    cr_assert(strstr(inv, "<cbc:EndpointID schemeID=\"0002\">123456789</cbc:EndpointID>"));
    cr_assert(strstr(inv, "<cbc:EndpointID schemeID=\"9957\">FR11223344556</cbc:EndpointID>"));
    /* C_VOICE_NAT v1: 900 s billed x 0.02 / 60 = 0.30 exactly: the real quantity. */
    cr_assert(strstr(inv, "<cbc:InvoicedQuantity unitCode=\"SEC\">900</cbc:InvoicedQuantity>"
                          "<cbc:LineExtensionAmount currencyID=\"EUR\">0.30</cbc:LineExtensionAmount>"),
              "%s", inv);
    /* C_VOICE_NAT v2: 480 s x 0.018 / 60 = 0.144 but the line is 0.14: one lot. */
    cr_assert(strstr(inv, "<cbc:InvoicedQuantity unitCode=\"C62\">1</cbc:InvoicedQuantity>"
                          "<cbc:LineExtensionAmount currencyID=\"EUR\">0.14</cbc:LineExtensionAmount>"));
    free(inv);
    char *rc = read_out(tmp, "docs", "LT-2026-000003.xml");
    cr_assert(strstr(rc, "<cbc:ID>AE</cbc:ID><cbc:Percent>0</cbc:Percent><cbc:TaxExemptionReasonCode>"
                         "VATEX-EU-AE</cbc:TaxExemptionReasonCode><cbc:TaxExemptionReason>Reverse "
                         "charge - Art. 196 Directive 2006/112/EC</cbc:TaxExemptionReason>"),
              "%s", rc);
    cr_assert(strstr(rc, "<cbc:PayableAmount currencyID=\"EUR\">0.19</cbc:PayableAmount>"));
    cr_assert(strstr(rc, "<cbc:EndpointID schemeID=\"9925\">BE0123456789</cbc:EndpointID>"));
    free(rc);
    /* No e-mail address as EndpointID (EAS "EM" is not in Peppol's list). */
    cr_assert_neq(rt_test_sh("grep -l 'schemeID=\"EM\"' '%s'/docs/*.xml > /dev/null", tmp), 0);
    /* ACC-0004 has no VAT number: no electronic address of the buyer. */
    rc = read_out(tmp, "docs", "LT-2026-000004.xml");
    cr_assert_null(strstr(strstr(rc, "<cac:AccountingCustomerParty>"), "EndpointID"));
    free(rc);
    /* ACC-0005 has none either, but is a Peppol participant under its SIRET (peppol_id). */
    rc = read_out(tmp, "docs", "LT-2026-000005.xml");
    cr_assert(strstr(rc, "<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID=\"0009\">"
                         "12345678200010</cbc:EndpointID>"),
              "%s", rc);
    free(rc);
    char *html = read_out(tmp, "docs", "LT-2026-000003.html");
    cr_assert(strstr(html, "Reverse charge - Art. 196 Directive 2006/112/EC"));
    cr_assert(strstr(html, "<tr class=\"due\"><td>Amount due (EUR)</td><td class=\"num\">0.19"));
    free(html);
    char xsd[1024];
    snprintf(xsd, sizeof xsd, "%s/maindoc/UBL-Invoice-2.1.xsd", ubl_schema_dir());
    if (rt_test_sh("test -r '%s' && command -v xmllint > /dev/null", xsd) != 0) {
        fprintf(stderr, "SKIP: %s or xmllint missing: the sample's UBL output is not "
                        "schema-validated (set RATEL_UBL_SCHEMAS)\n", xsd);
        cr_skip_test("UBL schemas or xmllint not found (set RATEL_UBL_SCHEMAS)");
    }
    cr_assert_eq(rt_test_sh("xmllint --nonet --noout --schema '%s' '%s'/docs/*.xml 2> "
                            "'%s/xmllint.txt'",
                            xsd, tmp, tmp),
                 0, "see %s/xmllint.txt", tmp);
}

/* The telco book with Belgian business customers as intra-community supplies (K) and French
 * ones outside the scope of VAT (O): a K invoice names its deliver-to country (BR-IC-12), an
 * O invoice no VAT identifier (BR-O-02). */
Test(e2e, intra_community_and_out_of_scope_invoices_follow_en16931)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s/src' && cd '%s/src' && sed -i -e "
                            "'s/^BE_B2B,standard,,,0,AE,.*/BE_B2B,standard,,,0,K,Intra-community "
                            "supply/' -e 's/^FR,standard,,,20,S,$/FR,standard,,,0,O,Outside the "
                            "scope of VAT/' tax_rates.csv && grep -q ',K,' tax_rates.csv && "
                            "grep -q ',O,' tax_rates.csv",
                            rt_test_src("data-samples/telco/book"), tmp, tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s/src' --book '%s/book' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    extract_documents(tmp, "out");
    cr_assert(doc_has(tmp, "LT-2026-000003.xml",
                      "<cac:Delivery><cac:DeliveryLocation><cac:Address><cac:Country>"
                      "<cbc:IdentificationCode>BE</cbc:IdentificationCode></cac:Country>"));
    cr_assert(doc_has(tmp, "LT-2026-000001.xml", "<cbc:ID>O</cbc:ID>"));
    cr_assert(!doc_has(tmp, "LT-2026-000001.xml", "PartyTaxScheme"));
    cr_assert(!doc_has(tmp, "LT-2026-000001.xml", "<cac:Delivery>"));
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
}

Test(e2e, sample_run_fec_follows_the_rules_and_equals_the_journal)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    size_t len;
    char path[512];
    snprintf(path, sizeof path, "%s/out/123456789FEC20261031.txt", tmp);
    char *fec = rt_test_read(path, &len);
    cr_assert_not_null(fec, "the FEC is named SIREN + FEC + closing date");
    rt_fec_summary sum;
    rt_diags d;
    rt_diags_init(&d);
    cr_assert_eq(rt_gl_fec_check("123456789FEC20261031.txt", fec, len, 2, &sum, &d), RT_OK,
                 "%s", d.count ? d.items[0].message : "");
    rt_diags_free(&d);
    cr_assert_eq(sum.entries, 33);
    cr_assert_eq(sum.lines, 163);
    cr_assert(sum.debit_minor == 35984 && sum.credit_minor == 35984,
              "FEC totals are the journal's: EUR 359.84");
    char row[1024];
    rt_test_line(fec, "VE\tVentes\t3\t20261101\t411000", row, sizeof row);
    cr_assert_str_eq(row, "VE\tVentes\t3\t20261101\t411000\tClients\tACC-0003\tBrasserie Van Damme "
                          "BV\tLT-2026-000003\t20261101\tInvoice LT-2026-000003 Brasserie Van Damme "
                          "BV\t0,19\t0,00\t\t\t20261101\t\t");
    free(fec);
}

Test(e2e, sample_run_usage_detail_holds_every_billed_event_by_invoice_line)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    char *ix = read_out(tmp, "out", "usage_detail_index.csv");
    char row[512];
    /* ACC-0001 line 5, C_VOICE_NAT v2: 300 s -> 0.0900 and 125 s -> 0.0540: 2 events 0.144. */
    rt_test_line(ix, "LT-2026-000001,5,", row, sizeof row);
    cr_assert(strncmp(row, "LT-2026-000001,5,ACC-0001,P_START,C_VOICE_NAT,2,0.144,EUR,", 58) == 0,
              "%s", row);
    free(ix);
    char *detail = read_out(tmp, "out", "usage_detail.csv.zst");
    cr_assert_eq(rt_test_count_lines(detail, "LT-2026-"), 3713, "every billed event once");
    cr_assert_eq(rt_test_count_lines(detail, "LT-2026-000003,1,ACC-0003,"), 1);
    free(detail);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
}

Test(e2e, new_outputs_are_byte_identical_for_1_2_and_4_threads)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    for (int t = 1; t <= 4; t *= 2) {
        char sub[300], extra[64];
        snprintf(sub, sizeof sub, "%s/t%d", tmp, t);
        cr_assert_eq(rt_test_sh("mkdir -p '%s'", sub), 0);
        import_book(sub);
        snprintf(extra, sizeof extra, "--threads %d --chunk-size 4096", t);
        cr_assert_eq(run_sample(sub, "out", extra), 0);
    }
    for (int t = 2; t <= 4; t *= 2)
        cr_assert_eq(rt_test_sh("diff -r '%s/t1/out' '%s/t%d/out' > /dev/null", tmp, tmp, t), 0,
                     "the output directories differ between 1 and %d threads", t);
}

Test(e2e, a_generated_month_is_byte_identical_for_1_and_3_threads)
{
    /* Thousands of invoices, so that invoice building, documents and tables really are split
     * between threads (the samples have a few dozen accounts). */
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("gen --out '%s/g' --accounts 3000 --records 30000 --seed 7 "
                               "--bad-share 0.01 --dup-share 0.01 > /dev/null", tmp), 0);
    for (int t = 1; t <= 3; t += 2) {
        cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/b%d' > /dev/null", tmp, tmp,
                                   t), 0);
        /* With 3 threads the ids are also read ahead of rating (--id-scan on): the in-run
         * duplicate check then holds only repeated ids; nothing written may change. */
        cr_assert_eq(rt_test_ratel("run --book '%s/b%d' --period 2026-10 --usage '%s/g/usage.csv.zst' "
                                   "--orders '%s/g/orders.csv.zst' --out '%s/o%d' --threads %d "
                                   "--chunk-size 65536 --id-scan %s > /dev/null",
                                   tmp, t, tmp, tmp, tmp, t, t, t == 1 ? "off" : "on"), 0);
    }
    cr_assert_eq(rt_test_sh("diff -r '%s/o1' '%s/o3' > /dev/null", tmp, tmp), 0,
                 "the output directories differ between 1 and 3 threads");
    cr_assert_eq(rt_test_sh("cmp -s '%s/b1/billed/1.fps' '%s/b3/billed/1.fps'", tmp, tmp), 0,
                 "the billed events differ with the id scan");
    cr_assert_eq(rt_test_sh("grep -q '\"duplicate\": [1-9]' '%s/o3/manifest.json'", tmp), 0,
                 "the month has duplicates to find");
    char *inv = read_out(tmp, "o3", "invoices.csv");
    cr_assert_gt(rt_test_count_lines(inv, "GEN-"), 2000, "thousands of invoices");
    free(inv);
    /* The UK mobile rates change on the 15th: calls before and after are on lines of their
     * own, each at its version's price. */
    cr_assert_eq(rt_test_sh("grep -q 'United Kingdom mobile (peak, until 2026-10-14)\",[0-9]*,[0-9]*,"
                            "[0-9]*,second,0.144,60,' '%s/o3/invoice_lines.csv' && grep -q 'United "
                            "Kingdom mobile (peak, from 2026-10-15)\",[0-9]*,[0-9]*,[0-9]*,second,"
                            "0.1152,60,' '%s/o3/invoice_lines.csv'",
                            tmp, tmp),
                 0, "no lines of the two versions of a rate");
    cr_assert_eq(rt_test_ratel("verify '%s/o3' --book '%s/b3' > /dev/null", tmp, tmp), 0);
    /* A rerun of the month without its orders changes every invoice that billed an order:
     * thousands of credit notes and new invoices, compared and built on every thread, the same
     * documents in the same places on 1 and 3 threads. */
    for (int t = 1; t <= 3; t += 2)
        cr_assert_eq(rt_test_ratel("run --book '%s/b%d' --period 2026-10 --usage "
                                   "'%s/g/usage.csv.zst' --out '%s/r%d' --threads %d --rerun "
                                   "--chunk-size 65536 > /dev/null",
                                   tmp, t, tmp, tmp, t, t), 0);
    cr_assert_eq(rt_test_sh("diff -r '%s/r1' '%s/r3' > /dev/null", tmp, tmp), 0,
                 "the rerun's output directories differ between 1 and 3 threads");
    char *rinv = read_out(tmp, "r3", "invoices.csv");
    cr_assert_gt(rt_test_count_lines(rinv, "GENC-"), 2000, "thousands of credit notes");
    free(rinv);
    /* Each credits its invoice's total, also those of invoices with a negative total. */
    cr_assert_gt(assert_credit_notes_credit_their_invoices(tmp, "r3", "GENC-"), 0,
                 "no credit note of a negative invoice");
    cr_assert_eq(rt_test_ratel("verify '%s/r3' --book '%s/b3' > /dev/null", tmp, tmp), 0);
    /* Calls priced by destination zone and time band show their rate's price, never the
     * charge's own (0 for a charge that only rates price), in both documents. */
    for (int k = 0; k < 2; k++) {
        const char *doc = k ? "ubl" : "html";
        cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/o3/%s.tar.zst' | "
                                "grep -q 'Calls - .*[1-9] EUR per 60 second, maximum'", tmp, doc),
                     0, "%s: no call line shows its rate", doc);
        cr_assert_neq(rt_test_sh("tar -I zstd -xOf '%s/o3/%s.tar.zst' | "
                                 "grep -q '>0.00 EUR per 60 second'", tmp, doc),
                      0, "%s: a call line shows a rate of 0.00", doc);
        /* The rates with a connection fee (special numbers, 0.10 a call) show it, on the
         * invoices and on the rerun's credit notes (as their invoices showed it). */
        cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/o3/%s.tar.zst' | "
                                "grep -q 'EUR per 60 second + 0.10 EUR per event'", tmp, doc),
                     0, "%s: no call line shows its rate's connection fee", doc);
        cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/r3/%s.tar.zst' --wildcards 'GENC-*' | "
                                "grep -q 'EUR per 60 second + 0.10 EUR per event'", tmp, doc),
                     0, "%s: no credit note line shows its rate's connection fee", doc);
        /* A package says its price is per started block. */
        cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/o3/%s.tar.zst' | "
                                "grep -q '4.00 EUR per started 500 message'", tmp, doc),
                     0, "%s: no package line shows its block", doc);
        /* A rate with a second interval (from 300 seconds on) shows it, on both. */
        for (int r = 0; r < 2; r++)
            cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/%s/%s.tar.zst' --wildcards '%s' | grep -q "
                                    "'EUR per 60 second; from 300 second 0.[0-9]* EUR per 60 "
                                    "second'",
                                    tmp, r ? "r3" : "o3", doc, r ? "GENC-*" : "GEN-*"),
                         0, "%s: no line shows its rate's second interval", doc);
    }

    /* --compress-tables: the same tables as zstd, the same for 1 and 3 threads, verified. */
    for (int t = 1; t <= 3; t += 2) {
        cr_assert_eq(rt_test_ratel("book import '%s/g/book' --book '%s/zb%d' > /dev/null", tmp,
                                   tmp, t), 0);
        cr_assert_eq(rt_test_ratel("run --book '%s/zb%d' --period 2026-10 --usage "
                                   "'%s/g/usage.csv.zst' --orders '%s/g/orders.csv.zst' --out "
                                   "'%s/z%d' --threads %d --chunk-size 65536 --compress-tables "
                                   "> /dev/null",
                                   tmp, t, tmp, tmp, tmp, t, t), 0);
    }
    cr_assert_eq(rt_test_sh("diff -r '%s/z1' '%s/z3' > /dev/null", tmp, tmp), 0,
                 "compressed tables differ between 1 and 3 threads");
    static const char *const tables[] = {"invoices.jsonl", "invoices.csv", "invoice_lines.csv",
                                         "journal.csv", "123456789FEC20261031.txt",
                                         "usage_detail_index.csv"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        cr_assert_eq(rt_test_sh("test ! -e '%s/z3/%s' && zstd -q -dc '%s/z3/%s.zst' | "
                                "cmp -s - '%s/o3/%s'",
                                tmp, tables[i], tmp, tables[i], tmp, tables[i]),
                     0, "%s.zst is not %s compressed", tables[i], tables[i]);
    }
    cr_assert_eq(rt_test_ratel("verify '%s/z3' --book '%s/zb3' > /dev/null", tmp, tmp), 0);
    /* The report reads the compressed tables: the same report but for the directory name. */
    cr_assert_eq(rt_test_ratel("report '%s/z3' > /dev/null", tmp), 0);
    cr_assert_eq(rt_test_ratel("report '%s/o3' > /dev/null", tmp), 0);
    cr_assert_eq(rt_test_sh("cd '%s' && sed 's|/z3|/DIR|g' z3.report.html > z.html && "
                            "sed 's|/o3|/DIR|g' o3.report.html > o.html && cmp -s z.html o.html",
                            tmp), 0, "the report of compressed tables differs");
}

Test(e2e, verify_catches_a_tampered_e_invoice)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    cr_assert_eq(tamper_ubl(tmp, "out", "LT-2026-000001",
                            "s|>0.78</cbc:PayableAmount>|>0.79</cbc:PayableAmount>|"),
                 0);
    char *err = verify_problems(tmp, "out");
    cr_assert(strstr(err, "ubl.tar.zst: XXH64 is"), "%s", err);
    cr_assert(strstr(err, "PayableAmount: is 0.79, invoices.csv says 0.78"), "%s", err);
    free(err);
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
 *     back on 2026-10-25, hc after); standing 17.05; discount 5% of the lines shown, per VAT
 *     rate: 5% of 105.65 = 5.2825 -> -5.28 at 20%, 5% of 17.05 = 0.8525 -> -0.85 at 5.5%.
 *     VAT 20% of 100.37 = 20.074 -> 20.07, 5.5% of 16.20 = 0.891 -> 0.89.
 *     116.57 + 20.96 = 137.53.
 *   U-0003 (volume): 3210.5 kWh x 0.19 = 609.995 -> 610.00; standing 37.20; capacity 1.5% of
 *     the lines shown, 647.20 = 9.708 -> 9.71. VAT 123.94 + 2.05. 656.91 + 125.99 = 782.90.
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
        "108.92,19.76,128.68,",
        "ER-2026-000002,invoice,U-0002,Jean Martin,2026-10,2026-11-01,2026-11-16,EUR,5,124,"
        "116.57,20.96,137.53,",
        "ER-2026-000003,invoice,U-0003,Boulangerie du Parc SARL,2026-10,2026-11-01,2026-11-16,"
        "EUR,3,32,656.91,125.99,782.90,",
        "ER-2026-000004,invoice,U-0004,Atelier Fermeture SARL,2026-10,2026-11-01,2026-11-16,EUR,"
        "4,32,139.26,22.46,161.72,",
        "ER-2026-000005,invoice,U-0005,Claire Muller,2026-10,2026-11-01,2026-11-16,CHF,2,62,"
        "83.00,0.00,83.00,",
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
    cr_assert(strstr(row, ",DISCOUNT,Loyalty discount 5%,") &&
                  strstr(row, ",-5.28,EUR,S,20,standard,709000"),
              "%s", row);
    rt_test_line(lines, "ER-2026-000002,5,", row, sizeof row);
    cr_assert(strstr(row, ",DISCOUNT,Loyalty discount 5%,") &&
                  strstr(row, ",-0.85,EUR,S,5.5,reduced,709000"),
              "%s", row);
    rt_test_line(lines, "ER-2026-000004,3,", row, sizeof row);
    cr_assert(strstr(row, "minimum per period") && strstr(row, ",98.95,EUR,"), "%s", row);
    /* Tiered and volume lines show the price of the tier their total reaches (the charge's
     * own price is 0: the tiers price it). */
    rt_test_line(lines, "ER-2026-000003,1,", row, sizeof row);
    cr_assert(strstr(row, ",3210.500,3210.500,kWh,0.19,1,610.00,"), "%s", row);
    rt_test_line(lines, "ER-2026-000005,1,", row, sizeof row);
    cr_assert(strstr(row, ",300.000,300.000,kWh,0.21,1,67.50,"), "%s", row);
    /* The documents' rate: the volume tier, or each graduated tier the total reaches. */
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/out/html.tar.zst' ER-2026-000003.html | grep -q "
                            "'0.19 EUR per 1 kWh on the whole quantity (1000 to 5000 kWh)'",
                            tmp), 0);
    cr_assert_eq(rt_test_sh("tar -I zstd -xOf '%s/out/ubl.tar.zst' ER-2026-000001.xml | grep -q "
                            "'0.25 EUR per 1 kWh (up to 150 kWh); 0.22 EUR per 1 kWh (150 to 400 "
                            "kWh); 0.20 EUR per 1 kWh (above 400 kWh)'",
                            tmp), 0);
    free(lines);

    /* The CHF invoice in the journal: EUR amounts, CHF beside them. */
    char *j = read_out(tmp, "out", "journal.csv");
    cr_assert(strstr(j, ",411000,Clients,88.33,0.00,EUR,83.00,CHF,ER-2026-000005,"), "%s", j);
    cr_assert(strstr(j, ",706110,Ventes d'electricite,0.00,71.83,EUR,-67.50,CHF,ER-2026-000005,"),
              "%s", j);
    free(j);

    char *m = read_out(tmp, "out", "manifest.json");
    cr_assert(strstr(m, "\"counts\": {\"read\": 1188, \"rated\": 1180, \"rejected\": 6, "
                        "\"duplicate\": 2, \"late\": 0}"),
              "%s", m);
    free(m);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0);
}

/* Options that take a value from a fixed list refuse any other with exit status 2 (bad
 * command line) before touching anything. */
/* Each of `extra` added to a run's command line is a usage error (exit 2); `period` is the
 * run's --period. */
static void expect_usage_errors(const char *period, const char *const *extra, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(rt_test_ratel("run --book /nonexistent --period %s --usage x.csv "
                                   "--out /nonexistent/o %s 2> /dev/null", period, extra[i]),
                     2, "%s %s", period, extra[i]);
}

Test(e2e, a_listed_option_value_outside_its_list_is_a_usage_error)
{
    static const char *const bad[] = {"--late nope", "--late", "--id-scan maybe",
                                      "--id-scan ON"};
    expect_usage_errors("2026-10", bad, sizeof bad / sizeof *bad);
    cr_assert_eq(rt_test_ratel("run --book /nonexistent --period 2026-10 --usage x.csv --out "
                               "/nonexistent/o --late reject --id-scan off 2> /dev/null"),
                 1, "good values get as far as the missing book");
}

/* A scheduler's slip is a usage error, not another run: an option given twice (a second
 * --period would bill another month), a malformed period, an option without its value. */
Test(e2e, a_repeated_option_or_a_malformed_period_is_a_usage_error)
{
    static const char *const bad[] = {"--period 2026-11", "--threads 1 --threads 2",
                                      "--rerun --rerun", "--late bill --late reject",
                                      "--threads"};
    expect_usage_errors("2026-10", bad, sizeof bad / sizeof *bad);
    static const char *const none[] = {""};
    static const char *const periods[] = {"2026-13", "2026-1", "2026-00", "26-10", "2026-10x"};
    for (size_t i = 0; i < sizeof periods / sizeof *periods; i++)
        expect_usage_errors(periods[i], none, 1);
    /* --usage and --orders may be given several times. */
    cr_assert_eq(rt_test_ratel("run --book /nonexistent --period 2026-10 --usage x.csv --usage "
                               "y.csv --out /nonexistent/o 2> /dev/null"),
                 1, "as far as the missing book");
}

/* book export writes a new or empty directory only: into a run's output directory it would
 * mix the book's files with the run's. */
Test(e2e, book_export_refuses_a_directory_that_holds_files)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    cr_assert_eq(run_sample(tmp, "out", ""), 0);
    cr_assert_eq(rt_test_ratel("book export --book '%s/book' '%s/out' 2> /dev/null", tmp, tmp), 1);
    cr_assert_eq(rt_test_ratel("verify '%s/out' > /dev/null", tmp), 0, "the run is untouched");
    cr_assert_eq(rt_test_sh("mkdir '%s/empty'", tmp), 0);
    cr_assert_eq(rt_test_ratel("book export --book '%s/book' '%s/empty' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_ratel("book export --book '%s/book' '%s/new' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("diff -r '%s/empty' '%s/new'", tmp, tmp), 0);
}

Test(e2e, a_rerun_of_a_period_never_billed_is_a_first_run)
{
    char tmp[256];
    rt_test_tmpdir(tmp, sizeof tmp);
    import_book(tmp);
    /* A scheduler that always passes --rerun: the first billing of the period corrects
     * nothing, and its manifest and registry record say so. */
    cr_assert_eq(run_sample(tmp, "out", "--rerun"), 0);
    char *m = read_out(tmp, "out", "manifest.json");
    cr_assert(strstr(m, "\"rerun\": false"), "%s", m);
    cr_assert(strstr(m, "\"corrects_run\": 0,"), "%s", m);
    free(m);
    /* The next --rerun corrects it. */
    cr_assert_eq(run_sample(tmp, "again", "--rerun"), 0);
    m = read_out(tmp, "again", "manifest.json");
    cr_assert(strstr(m, "\"rerun\": true"), "%s", m);
    cr_assert(strstr(m, "\"corrects_run\": 1,"), "%s", m);
    free(m);
    rt_test_rmtree(tmp);
}

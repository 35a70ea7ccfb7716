/* test_verify: `ratel verify`'s checks over the output of a real run of the telco sample: the
 * untouched directory passes; each kind of tampering is caught with its own finding. When a
 * test edits a file to break an accounting rule, it also rewrites the file's size and XXH64
 * in the manifest, so that the accounting check (not the checksum) is what catches it. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/verify.h"
#include "formats/verify_checks.h"
#include "formats/zio.h"
#include "testutil.h"

#define USAGE "data-samples/telco/usage-2026-10-voice.csv.zst data-samples/telco/usage-2026-10-other.csv.zst"

static char tmp[256], out[300];
/* One real run of the sample, made once by the runner process before any test starts; its
 * place is passed to the test processes in the environment, and every test tampers with its
 * own copy. */
static char good[256];
#define GOOD_ENV "RATEL_TEST_VERIFY_GOOD"

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    (void)tests;
    rt_test_tmpdir(good, sizeof good);
    if (rt_test_ratel("book import '%s' --book '%s/book' > /dev/null",
                      rt_test_src("data-samples/telco/book"), good) != 0 ||
        rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-10 --usage %s "
                   "--out '%s/out'",
                   RATEL_SOURCE_DIR, RATEL_BIN, good, USAGE, good) != 0)
        abort();
    setenv(GOOD_ENV, good, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    rt_test_rmtree(good);
}

static void setup(void)
{
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    const char *from = getenv(GOOD_ENV);
    cr_assert_not_null(from);
    cr_assert_eq(rt_test_sh("cp -r '%s/out' '%s'", from, out), 0);
}
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(verify, .init = setup, .fini = teardown);

typedef struct findings {
    rt_status st;
    size_t count;
    char *text; /* one finding per line */
    rt_verify_stats stats;
} findings;

static findings check(void)
{
    findings f;
    rt_diags d;
    rt_diags_init(&d);
    f.st = rt_verify_outdir(out, &d, &f.stats);
    f.count = rt_diags_total(&d);
    rt_buf b;
    rt_buf_init(&b);
    for (size_t i = 0; i < d.count; i++) {
        char line[1024];
        rt_error_format(&d.items[i], line, sizeof line);
        rt_buf_printf(&b, "%s\n", line);
    }
    rt_buf_putc(&b, '\0');
    f.text = b.data;
    rt_diags_free(&d);
    return f;
}

/* Verification fails with `want` among the findings (and exactly `count` of them if set). */
static void caught(const char *want, size_t count)
{
    findings f = check();
    cr_assert_eq(f.st, RT_EVERIFY, "tampering went unnoticed");
    cr_assert(strstr(f.text, want), "expected '%s' among:\n%s", want, f.text);
    if (count) cr_assert_eq(f.count, count, "findings:\n%s", f.text);
    free(f.text);
}

static void sh(const char *cmd_fmt, const char *file)
{
    cr_assert_eq(rt_test_sh(cmd_fmt, out, file), 0);
}

/* Rewrite the manifest's size and XXH64 of one output after it was edited. */
static void reseal(const char *name)
{
    char path[512], mpath[512], head[128];
    snprintf(path, sizeof path, "%s/%s", out, name);
    snprintf(mpath, sizeof mpath, "%s/manifest.json", out);
    uint64_t bytes, xxh;
    rt_error err;
    cr_assert_eq(rt_zio_checksum_file(path, &bytes, &xxh, &err), RT_OK);
    char *m = rt_test_read(mpath, NULL);
    snprintf(head, sizeof head, "{\"name\": \"%s\", \"bytes\": ", name);
    char *at = strstr(m, head);
    cr_assert_not_null(at, "%s not in the manifest", name);
    char *rows = strstr(at, ", \"rows\"");
    FILE *f = fopen(mpath, "wb");
    fprintf(f, "%.*s%s%" PRIu64 ", \"xxh64\": \"%016" PRIx64 "\"%s", (int)(at - m), m, head,
            bytes, xxh, rows);
    fclose(f);
    free(m);
}

Test(verify, an_untouched_run_passes)
{
    findings f = check();
    cr_assert_eq(f.st, RT_OK, "%s", f.text);
    cr_assert_eq(f.count, 0);
    cr_assert_eq(f.stats.files_checked, 12,
                 "7 run files, the UBL and HTML archives, the FEC file, the usage detail and its "
                 "index");
    cr_assert_eq(f.stats.documents, 66, "33 UBL and 33 HTML documents in the archives");
    cr_assert_eq(f.stats.invoices, 33);
    cr_assert_eq(f.stats.journal_entries, 33);
    cr_assert_eq(f.stats.journal_lines, 163);
    free(f.text);
    /* A stray commit marker (a crash between rename and unlink) is not a finding. */
    sh("echo 'run 1' > '%s/%s'", ".ratel-run");
    f = check();
    cr_assert_eq(f.st, RT_OK, "%s", f.text);
    free(f.text);
}

Test(verify, a_changed_byte_breaks_the_checksum)
{
    sh("sed -i 's/Boulangerie Martin/Boulangerie Mastin/' '%s/%s'", "invoices.jsonl");
    caught("invoices.jsonl: XXH64 is ", 1);
}

Test(verify, a_changed_size)
{
    sh("printf '\\n' >> '%s/%s'", "invoices.jsonl");
    caught("invoices.jsonl: size is 59882 bytes, the manifest says 59881\n", 0);
}

Test(verify, an_unlisted_file)
{
    sh("echo hello > '%s/%s'", "notes.txt");
    caught("notes.txt: file is not in the manifest\n", 1);
}

Test(verify, a_missing_file)
{
    sh("rm '%s/%s'", "duplicates.csv.zst");
    caught("duplicates.csv.zst: cannot open: No such file or directory\n", 1);
    sh("rm '%s/%s'", "journal.csv");
    caught("journal.csv: cannot open: No such file or directory\n", 0);
}

Test(verify, an_unbalanced_journal_entry)
{
    /* Entry 1's voice revenue 0.48 -> 0.49: the entry no longer balances. */
    sh("sed -i '3s/,0.00,0.48,EUR,/,0.00,0.49,EUR,/' '%s/%s'", "journal.csv");
    reseal("journal.csv");
    caught("journal.csv: entry: entry 1 does not balance\n", 2);
    caught("123456789FEC20261031.txt: debit or credit total differs from journal.csv\n", 2);
}

Test(verify, receivable_and_vat_booked_against_the_invoice)
{
    /* Both sides move together (the entry balances) but no longer match the invoice. */
    sh("sed -i -e '2s/,0.78,0.00,EUR,0.78,EUR,/,0.79,0.00,EUR,0.79,EUR,/' "
       "-e '6s/,0.00,0.13,EUR,-0.13,EUR,/,0.00,0.14,EUR,-0.14,EUR,/' '%s/%s'",
       "journal.csv");
    reseal("journal.csv");
    findings f = check();
    cr_assert(strstr(f.text, "journal.csv: LT-2026-000001: receivable booked differs from the "
                             "invoice gross\n"),
              "%s", f.text);
    cr_assert(strstr(f.text, "journal.csv: LT-2026-000001: VAT booked differs from the invoice "
                             "tax\n"),
              "%s", f.text);
    /* ...and the FEC, written from the journal before the edit, no longer totals the same. */
    cr_assert(strstr(f.text, "123456789FEC20261031.txt: debit or credit total differs from "
                             "journal.csv\n"),
              "%s", f.text);
    cr_assert_eq(f.count, 3, "%s", f.text);
    free(f.text);
}

Test(verify, journal_entries_must_be_sequential)
{
    sh("sed -i 's/^2026-11-01,VE,2,/2026-11-01,VE,3,/' '%s/%s'", "journal.csv");
    reseal("journal.csv");
    findings f = check();
    cr_assert(strstr(f.text, "entry numbers are not sequential: 3 after 1"), "%s", f.text);
    free(f.text);
}

Test(verify, a_gap_in_invoice_numbers)
{
    static const char *const files[] = {"invoices.csv", "invoice_lines.csv", "journal.csv",
                                        "invoices.jsonl"};
    for (size_t i = 0; i < 4; i++) {
        sh("sed -i 's/LT-2026-000033/LT-2026-000035/g' '%s/%s'", files[i]);
        reseal(files[i]);
    }
    /* The documents named after the number and the usage detail notice the renaming too. */
    caught("invoices.csv:34: invoice_number: gap in the series LT-2026-: 35 follows 32\n", 0);
}

Test(verify, a_usage_detail_line_that_does_not_follow_the_one_before)
{
    /* The sample's first invoice has several usage lines in its account's frame: claiming the
     * second starts a frame of its own (skip 0) at that frame's offset breaks the chain. */
    sh("awk -F, -v OFS=, 'NR == 3 { $NF = 0 } { print }' '%1$s/%2$s' > '%1$s/x' && "
       "mv '%1$s/x' '%1$s/%2$s'",
       "usage_detail_index.csv");
    reseal("usage_detail_index.csv");
    caught("usage_detail_index.csv:3: offset: frames are not contiguous", 1);
}

Test(verify, a_repeated_invoice_number)
{
    sh("sed -i 's/^LT-2026-000033,/LT-2026-000032,/' '%s/%s'", "invoices.csv");
    reseal("invoices.csv");
    caught("invoices.csv:34: invoice_number: invoice number LT-2026-000032 appears twice\n", 0);
}

Test(verify, manifest_counts_that_do_not_reconcile)
{
    sh("sed -i 's/\"read\": 3732/\"read\": 3733/' '%s/%s'", "manifest.json");
    caught("manifest.json: counts: read 3733 != rated 3713 + rejected 10 + duplicate 9\n", 1);
}

Test(verify, manifest_counts_against_the_files)
{
    sh("sed -i -e 's/\"read\": 3732/\"read\": 3733/' -e 's/\"rated\": 3713/\"rated\": 3714/' "
       "'%s/%s'",
       "manifest.json");
    caught("rated_usage.csv.zst: row count differs from counts.rated\n", 2);
    caught("usage_detail_index.csv: events: 3713 events, counts.rated is 3714\n", 2);
}

Test(verify, manifest_rows_against_the_files)
{
    sh("sed -i 's/\\(\"invoice_lines.csv\", \"bytes\": [0-9]*, \"xxh64\": \"[0-9a-f]*\", "
       "\"rows\": \\)146}/\\1147}/' '%s/%s'",
       "manifest.json");
    caught("invoice_lines.csv: holds 146 rows, the manifest says 147\n", 1);
}

/* A name with a lone double quote: doubled in the CSV tables, escaped in the JSONL file, where
 * it leaves an odd number of quotes on the line; every line still counts. */
Test(verify, a_name_with_a_lone_double_quote_passes)
{
    cr_assert_eq(rt_test_sh("cp -r '%s' '%s/src' && sed -i 's/^ACC-0001,Boulangerie Martin,/"
                            "ACC-0001,\"Boulangerie \"\"Chez Martin\",/' '%s/src/accounts.csv'",
                            rt_test_src("data-samples/telco/book"), tmp, tmp),
                 0);
    cr_assert_eq(rt_test_ratel("book import '%s/src' --book '%s/qbook' > /dev/null", tmp, tmp), 0);
    cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/qbook' --period 2026-10 "
                            "--usage %s --out '%s/q'",
                            RATEL_SOURCE_DIR, RATEL_BIN, tmp, USAGE, tmp),
                 0);
    cr_assert_eq(rt_test_sh("grep -q 'Boulangerie \\\\\"Chez Martin' '%s/q/invoices.jsonl'", tmp),
                 0, "the JSONL file escapes the quote");
    cr_assert_eq(rt_test_ratel("verify '%s/q' > /dev/null", tmp), 0);
}

Test(verify, invoice_totals)
{
    sh("sed -i '2s/,0.65,0.13,0.78,$/,0.66,0.13,0.78,/' '%s/%s'", "invoices.csv");
    reseal("invoices.csv");
    findings f = check();
    cr_assert(strstr(f.text, "invoices.csv:2: LT-2026-000001: net + tax != gross\n"), "%s", f.text);
    cr_assert(strstr(f.text, "invoice_lines.csv: LT-2026-000001: lines sum to a different net "
                             "than the invoice\n"),
              "%s", f.text);
    free(f.text);
}

Test(verify, run_totals_in_the_manifest)
{
    sh("sed -i 's/\"gross\": \"359.84\"/\"gross\": \"359.85\"/' '%s/%s'", "manifest.json");
    caught("manifest.json: totals: EUR gross total differs from the sum of invoices\n", 1);
}

Test(verify, the_manifest_itself)
{
    sh("sed -i 's/ratel-manifest\\/2/ratel-manifest\\/9/' '%s/%s'", "manifest.json");
    caught("manifest.json: format: not a ratel-manifest/2 manifest\n", 1);
    sh("printf '{\"format\": ' > '%s/%s'", "manifest.json");
    caught("not valid JSON near byte 11", 1);
    sh("rm '%s/%s'", "manifest.json");
    caught("manifest.json: cannot open", 1);
}

/* The checks read the tables a row at a time (at a million invoices they are gigabytes of
 * text): a table of several reads' worth, with quoted fields across lines, a compressed copy,
 * and a last row without its line end, reads back row by row as written (every place of a
 * cut: the test after it). */
Test(verify, tables_are_read_a_row_at_a_time_across_reads)
{
    char dir[256], path[320];
    rt_test_tmpdir(dir, sizeof dir);
    rt_buf text;
    rt_buf_init(&text);
    rt_buf_puts(&text, "\xEF\xBB\xBFid,note,amount\n");
    enum { ROWS = 250000 };
    for (unsigned i = 0; i < ROWS; i++) {
        rt_buf_printf(&text, "%u,", i);
        if (i % 7 == 3)
            rt_buf_printf(&text, "\"line one %u\nline \"\"two\"\"\",", i);
        else
            rt_buf_printf(&text, "plain note %u with some padding to make it long,", i);
        rt_buf_printf(&text, "%u.%02u%s", i / 100, i % 100, i + 1 < ROWS ? "\n" : "");
        if (i % 1000 == 999) rt_buf_puts(&text, "\n"); /* blank lines are skipped */
    }
    cr_assert_gt(text.len, (size_t)3 * (4 << 20), "%zu bytes", text.len);
    snprintf(path, sizeof path, "%s/plain.csv", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text.data, 1, text.len, f), text.len);
    fclose(f);
    cr_assert_eq(rt_test_sh("zstd -q -c '%s' > '%s/packed.csv.zst'", path, dir), 0);
    const char *names[2] = {"plain.csv", "packed.csv"};
    for (int k = 0; k < 2; k++) {
        rt_diags d;
        rt_diags_init(&d);
        rt__vtable t;
        cr_assert(rt__vtable_open(dir, names[k], &t, &d), "%s", names[k]);
        int cid = rt__vtable_column(&t, "id", &d), cnote = rt__vtable_column(&t, "note", &d),
            camt = rt__vtable_column(&t, "amount", &d);
        cr_assert(cid == 0 && cnote == 1 && camt == 2, "the header, its BOM skipped");
        unsigned i = 0;
        while (rt__vtable_next(&t, &d)) {
            char id[32], note[96], amt[32], want[96];
            rt__vtable_cell(&t, cid, id, sizeof id);
            rt__vtable_cell(&t, cnote, note, sizeof note);
            rt__vtable_cell(&t, camt, amt, sizeof amt);
            cr_assert_eq(t.row, i);
            cr_assert_eq(strtoul(id, NULL, 10), i, "%s row %u: id %s", names[k], i, id);
            if (i % 7 == 3)
                snprintf(want, sizeof want, "line one %u\nline \"two\"", i);
            else
                snprintf(want, sizeof want, "plain note %u with some padding to make it long", i);
            cr_assert_str_eq(note, want, "%s row %u", names[k], i);
            snprintf(want, sizeof want, "%u.%02u", i / 100, i % 100);
            cr_assert_str_eq(amt, want, "%s row %u", names[k], i);
            i++;
        }
        cr_assert_eq(i, ROWS, "%s: %u rows", names[k], i);
        cr_assert_not(t.failed);
        cr_assert_eq(rt_diags_total(&d), 0);
        rt__vtable_close(&t);
        rt_diags_free(&d);
    }
    /* A malformed row is reported with its line, and the reading stops there. */
    f = fopen(path, "ab");
    fputs("\n1,\"unterminated,2\n", f);
    fclose(f);
    rt_diags d;
    rt_diags_init(&d);
    rt__vtable t;
    cr_assert(rt__vtable_open(dir, "plain.csv", &t, &d));
    cr_assert_not(rt__vtable_done(&t, &d));
    cr_assert(t.failed);
    cr_assert_eq(rt_diags_total(&d), 1);
    rt__vtable_close(&t);
    rt_diags_free(&d);
    rt_buf_free(&text);
    rt_test_rmtree(dir);
}

/* Every record read whole however the reads cut it: a small table (a byte order mark, quoted
 * fields with line ends and doubled quotes, CRLF, a blank line, a last row without its line
 * end) read 1, 2, ... bytes at a time gives the rows one read gives. A quoted field cut after
 * a line end inside it once parsed as an unterminated quote, and a first read of no more than
 * the mark as an empty file. */
Test(verify, a_table_cut_at_every_byte_reads_the_same)
{
    char dir[256], path[320];
    rt_test_tmpdir(dir, sizeof dir);
    static const char text[] = "\xEF\xBB\xBFid,note\r\n"
                               "1,\"line one\nline \"\"two\"\"\"\r\n"
                               "\n"
                               "2,\"a,b\"\n"
                               "3,last";
    snprintf(path, sizeof path, "%s/t.csv", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
    fclose(f);
    static const char *const want[3][2] = {
        {"1", "line one\nline \"two\""}, {"2", "a,b"}, {"3", "last"}};
    static const uint64_t lines[3] = {2, 4, 6}; /* where the reader stands before each row */
    for (size_t size = 1; size <= sizeof text; size++) {
        rt_diags d;
        rt_diags_init(&d);
        rt__vtable t;
        cr_assert(rt__vtable_open_sized(dir, "t.csv", size, &t, &d), "reads of %zu", size);
        cr_assert_eq(rt__vtable_column(&t, "note", &d), 1, "reads of %zu: the header", size);
        for (int r = 0; r < 3; r++) {
            uint64_t at = t.line;
            cr_assert(rt__vtable_next(&t, &d), "reads of %zu: row %d", size, r);
            char id[16], note[64];
            rt__vtable_cell(&t, 0, id, sizeof id);
            rt__vtable_cell(&t, 1, note, sizeof note);
            cr_assert_str_eq(id, want[r][0], "reads of %zu: row %d", size, r);
            cr_assert_str_eq(note, want[r][1], "reads of %zu: row %d", size, r);
            cr_assert_eq(at, lines[r], "reads of %zu: row %d read from line %llu", size, r,
                         (unsigned long long)at);
        }
        cr_assert(rt__vtable_done(&t, &d), "reads of %zu: the whole table", size);
        cr_assert_eq(d.count, 0, "reads of %zu", size);
        rt__vtable_close(&t);
        rt_diags_free(&d);
    }
    rt_test_rmtree(dir);
}

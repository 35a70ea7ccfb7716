/* test_gl_fec: France's FEC (LPF art. A47 A-1): file name, header, tab separation, decimal
 * comma, AAAAMMJJ dates, gap-free EcritureNum, balanced entries, sub-ledger on receivable
 * lines only, Montantdevise/Idevise for foreign-currency lines, neutralised text, and the
 * checker `ratel verify` runs over the file.
 *
 * Journal (tests/fixture_invoices.h, book of Lumen Test SAS, SIREN 123 456 789, VE/Ventes):
 *   entry 1  INV-2026-000001 ACC-FR: SMS 0.15 (706200) + calls 0.30 (706100), VAT 20% 0.09
 *            Dr 411000 0.54 / Cr 706100 0.30 / Cr 706200 0.15 / Cr 445710 0.09
 *   entry 2  INV-2026-000002 ACC-BE: calls 0.16, reverse charge (no VAT line)
 *            Dr 411000 0.16 / Cr 706100 0.16
 *   entry 3  INV-2026-000003 ACC-X: calls 1,234,567.89, VAT 246,913.58 (0.2 x base exactly)
 *            Dr 411000 1481481.47 / Cr 706100 1234567.89 / Cr 445710 246913.58
 *   debits = credits = 0.54 + 0.16 + 1481481.47 = 1481482.17 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_invoices.h"
#include "formats/gl_fec.h"

#define FEC_NAME "123456789FEC20261031.txt"

static void build(fx *f)
{
    fx_load(f, "EUR");
    rt_invoice_line a[2] = {fx_usage(f, "ACC-FR", "SMS", 3, 3, 3, 150000000),
                            fx_usage(f, "ACC-FR", "VOICE", 2, 815, 900, 300000000)};
    rt_invoice_line b[1] = {fx_usage(f, "ACC-BE", "VOICE", 2, 660, 660, 162000000)};
    rt_invoice_line c[1] = {fx_usage(f, "ACC-X", "VOICE", 9, 60, 60, INT64_C(1234567890000000))};
    fx_invoice(f, "ACC-FR", "INV-2026-000001", RT_INVOICE, NULL, a, 2);
    fx_invoice(f, "ACC-BE", "INV-2026-000002", RT_INVOICE, NULL, b, 1);
    fx_invoice(f, "ACC-X", "INV-2026-000003", RT_INVOICE, NULL, c, 1);
    fx_finish(f);
    cr_assert_eq(f->journal.count, 9);
}

/* Write the FEC of f into a fresh directory; returns its text. */
static char *write_fec(fx *f, char *dir, size_t n, size_t *len)
{
    rt_output_list files = {0};
    rt_error err;
    rt_test_tmpdir(dir, n);
    cr_assert_eq(rt_gl_fec_write(dir, &f->res, 1, &files, &err), RT_OK, "%s", err.message);
    cr_assert_eq(files.count, 1);
    cr_assert_str_eq(files.items[0].name, FEC_NAME);
    cr_assert_eq(files.items[0].rows, f->journal.count);
    return fx_read(dir, FEC_NAME, len);
}

/* Split line `k` (0 = header) of text into its fields (pointers into a copy). */
typedef struct fec_line {
    char copy[2048];
    char *f[RT_FEC_COLUMNS + 1];
    int n;
} fec_line;

static void get_line(const char *text, int k, fec_line *l)
{
    const char *p = text;
    for (int i = 0; i < k; i++) {
        p = strchr(p, '\n');
        cr_assert_not_null(p);
        p++;
    }
    const char *e = strchr(p, '\n');
    cr_assert_not_null(e, "every record ends with LF");
    cr_assert_lt((size_t)(e - p), sizeof l->copy);
    memcpy(l->copy, p, (size_t)(e - p));
    l->copy[e - p] = '\0';
    l->n = 0;
    for (char *s = l->copy;; s++) {
        l->f[l->n++] = s;
        s = strchr(s, '\t');
        if (!s || l->n > RT_FEC_COLUMNS) break;
        *s = '\0';
    }
}

Test(gl_fec, file_is_named_siren_fec_closing_date)
{
    rt_company co = {.registration_id = "123 456 789"};
    rt_period p;
    char name[RT_FEC_NAME_MAX];
    cr_assert_eq(rt_period_parse("2026-10", &p), RT_OK);
    cr_assert_eq(rt_gl_fec_name(&co, &p, name, sizeof name), RT_OK);
    cr_assert_str_eq(name, FEC_NAME, "SIREN + FEC + last day of the period");
    cr_assert_eq(rt_period_parse("2024-02", &p), RT_OK);
    co.registration_id = "12345678900017"; /* a SIRET: its first 9 digits are the SIREN */
    cr_assert_eq(rt_gl_fec_name(&co, &p, name, sizeof name), RT_OK);
    cr_assert_str_eq(name, "123456789FEC20240229.txt");
    co.registration_id = "";
    cr_assert_eq(rt_gl_fec_name(&co, &p, name, sizeof name), RT_ENOTFOUND);
    co.registration_id = "HRB 12345";
    cr_assert_eq(rt_gl_fec_name(&co, &p, name, sizeof name), RT_ENOTFOUND);
}

Test(gl_fec, header_columns_separators_dates_and_decimal_comma)
{
    fx f;
    char dir[256];
    size_t len;
    build(&f);
    char *text = write_fec(&f, dir, sizeof dir, &len);
    static const char header[] =
        "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\t"
        "CompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\t"
        "EcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise\n";
    cr_assert(strncmp(text, header, sizeof header - 1) == 0, "%s", text);
    cr_assert_null(strchr(text, '\r'));
    fec_line l;
    get_line(text, 1, &l);
    cr_assert_eq(l.n, RT_FEC_COLUMNS);
    const char *want[RT_FEC_COLUMNS] = {"VE",
                                        "Ventes",
                                        "1",
                                        "20261101",
                                        "411000",
                                        "Clients",
                                        "ACC-FR",
                                        "Boulangerie Martin",
                                        "INV-2026-000001",
                                        "20261101",
                                        "Invoice INV-2026-000001 Boulangerie Martin",
                                        "0,54",
                                        "0,00",
                                        "",
                                        "",
                                        "20261101",
                                        "",
                                        ""};
    for (int c = 0; c < RT_FEC_COLUMNS; c++)
        cr_assert_str_eq(l.f[c], want[c], "column %s", rt_fec_columns[c]);
    get_line(text, 2, &l);
    cr_assert_str_eq(l.f[4], "706100");
    cr_assert_str_eq(l.f[6], "", "no sub-ledger on a revenue line");
    cr_assert_str_eq(l.f[7], "");
    cr_assert_str_eq(l.f[11], "0,00");
    cr_assert_str_eq(l.f[12], "0,30");
    /* Entry 3: no thousands separator, decimal comma. */
    get_line(text, 7, &l);
    cr_assert_str_eq(l.f[2], "3");
    cr_assert_str_eq(l.f[11], "1481481,47");
    get_line(text, 9, &l);
    cr_assert_str_eq(l.f[4], "445710");
    cr_assert_str_eq(l.f[12], "246913,58");
    cr_assert_eq(rt_test_count_lines(text, "VE\t"), 9);
    free(text);
    fx_free(&f);
}

Test(gl_fec, entries_are_numbered_without_gaps_and_balance)
{
    fx f;
    char dir[256];
    size_t len;
    build(&f);
    char *text = write_fec(&f, dir, sizeof dir, &len);
    int expected = 0;
    char last[16] = "";
    int64_t dr = 0, cr = 0;
    for (int k = 1; k <= 9; k++) {
        fec_line l;
        get_line(text, k, &l);
        if (strcmp(l.f[2], last) != 0) {
            cr_assert_eq(dr, cr, "entry %s balances", last);
            cr_assert_eq(atoi(l.f[2]), ++expected, "EcritureNum runs from 1 without gaps");
            snprintf(last, sizeof last, "%s", l.f[2]);
            dr = cr = 0;
        }
        int64_t d, c;
        for (char *q = l.f[11]; *q; q++)
            if (*q == ',') *q = '.';
        for (char *q = l.f[12]; *q; q++)
            if (*q == ',') *q = '.';
        cr_assert_eq(rt_decimal_parse(l.f[11], strlen(l.f[11]), 2, &d), RT_OK);
        cr_assert_eq(rt_decimal_parse(l.f[12], strlen(l.f[12]), 2, &c), RT_OK);
        dr += d;
        cr += c;
        /* The customer sub-ledger is on receivable lines only. */
        cr_assert_eq(strcmp(l.f[4], "411000") == 0, l.f[6][0] != '\0', "line %d", k);
    }
    cr_assert_eq(dr, cr);
    cr_assert_eq(expected, 3);
    rt_fec_summary sum;
    rt_diags d;
    rt_diags_init(&d);
    cr_assert_eq(rt_gl_fec_check(FEC_NAME, text, len, 2, &sum, &d), RT_OK, "%s",
                 d.count ? d.items[0].message : "");
    cr_assert_eq(sum.entries, 3);
    cr_assert_eq(sum.lines, 9);
    cr_assert(sum.debit_minor == 148148217 && sum.credit_minor == 148148217);
    rt_diags_free(&d);
    free(text);
    fx_free(&f);
}

Test(gl_fec, entries_follow_the_chronological_order_of_validation)
{
    fx f;
    char dir[256];
    size_t len;
    build(&f);
    /* Entry 2 dated a day earlier than the others (as a recognition entry would be). */
    for (size_t i = 0; i < f.journal.count; i++)
        if (f.journal.lines[i].entry == 2) f.journal.lines[i].date = f.period.end_day - 1;
    char *text = write_fec(&f, dir, sizeof dir, &len);
    fec_line l;
    get_line(text, 1, &l);
    cr_assert_str_eq(l.f[8], "INV-2026-000002");
    cr_assert_str_eq(l.f[2], "1", "renumbered in the order written");
    cr_assert_str_eq(l.f[3], "20261031");
    cr_assert_str_eq(l.f[15], "20261031");
    get_line(text, 3, &l);
    cr_assert_str_eq(l.f[8], "INV-2026-000001");
    cr_assert_str_eq(l.f[2], "2");
    rt_fec_summary sum;
    rt_diags d;
    rt_diags_init(&d);
    cr_assert_eq(rt_gl_fec_check(FEC_NAME, text, len, 2, &sum, &d), RT_OK);
    rt_diags_free(&d);
    free(text);
    fx_free(&f);
}

Test(gl_fec, foreign_currency_lines_carry_montantdevise_and_idevise)
{
    fx f;
    char dir[256];
    size_t len;
    build(&f);
    /* Entry 2 as if invoiced in USD 0.18, converted to EUR 0.16 by the journal. */
    const rt_currency *usd = rt_currency_find("USD");
    for (size_t i = 0; i < f.journal.count; i++) {
        rt_journal_line *jl = &f.journal.lines[i];
        if (jl->entry != 2) continue;
        jl->txn_currency = usd;
        jl->txn_minor = jl->kind == RT_JL_RECEIVABLE ? 18 : -18;
    }
    char *text = write_fec(&f, dir, sizeof dir, &len);
    fec_line l;
    get_line(text, 5, &l);
    cr_assert_str_eq(l.f[11], "0,16");
    cr_assert_str_eq(l.f[16], "0,18");
    cr_assert_str_eq(l.f[17], "USD");
    get_line(text, 6, &l);
    cr_assert_str_eq(l.f[12], "0,16");
    cr_assert_str_eq(l.f[16], "-0,18", "signed: a credit is negative");
    cr_assert_str_eq(l.f[17], "USD");
    get_line(text, 1, &l);
    cr_assert_str_eq(l.f[16], "", "empty in the functional currency");
    cr_assert_str_eq(l.f[17], "");
    rt_fec_summary sum;
    rt_diags d;
    rt_diags_init(&d);
    cr_assert_eq(rt_gl_fec_check(FEC_NAME, text, len, 2, &sum, &d), RT_OK);
    rt_diags_free(&d);
    free(text);
    fx_free(&f);
}

Test(gl_fec, tabs_and_line_ends_in_text_are_neutralised)
{
    fx f;
    char dir[256];
    size_t len;
    build(&f);
    /* The book refuses control characters, but the FEC must hold whatever it is given. */
    rt_account *a = (rt_account *)&f.cat.accounts[fx_account(&f, "ACC-FR")];
    a->name = "Boulangerie\tMartin\r\nParis";
    char *text = write_fec(&f, dir, sizeof dir, &len);
    fec_line l;
    get_line(text, 1, &l);
    cr_assert_eq(l.n, RT_FEC_COLUMNS);
    cr_assert_str_eq(l.f[7], "Boulangerie Martin  Paris");
    cr_assert_str_eq(l.f[10], "Invoice INV-2026-000001 Boulangerie Martin  Paris");
    free(text);
    fx_free(&f);
}

Test(gl_fec, no_siren_no_fec)
{
    fx f;
    char dir[256];
    build(&f);
    ((rt_company *)f.cat.company)->registration_id = "";
    rt_output_list files = {0};
    rt_error err;
    rt_test_tmpdir(dir, sizeof dir);
    cr_assert_eq(rt_gl_fec_write(dir, &f.res, 1, &files, &err), RT_OK);
    cr_assert_eq(files.count, 0);
    cr_assert_neq(rt_test_sh("ls '%s'/*FEC* > /dev/null 2>&1", dir), 0);
    fx_free(&f);
}

/* The checker run over `text` with `from` replaced by `to` (first occurrence) must report a
 * problem whose message contains `why`. */
static void assert_caught(const char *text, const char *name, const char *from, const char *to,
                          const char *why)
{
    char *bad = malloc(strlen(text) + strlen(to) + 1);
    const char *at = strstr(text, from);
    cr_assert_not_null(at, "'%s' not in the file", from);
    size_t pre = (size_t)(at - text);
    memcpy(bad, text, pre);
    strcpy(bad + pre, to);
    strcat(bad, at + strlen(from));
    rt_fec_summary sum;
    rt_diags d;
    rt_diags_init(&d);
    cr_assert_eq(rt_gl_fec_check(name, bad, strlen(bad), 2, &sum, &d), RT_EVERIFY,
                 "'%s' -> '%s' not caught", from, to);
    int found = 0;
    for (size_t i = 0; i < d.count; i++)
        found |= strstr(d.items[i].message, why) != NULL;
    cr_assert(found, "'%s' -> '%s': no problem mentions '%s' (first: %s)", from, to, why,
              d.items[0].message);
    rt_diags_free(&d);
    free(bad);
}

Test(gl_fec, the_checker_catches_every_broken_rule)
{
    fx f;
    char dir[256];
    size_t len;
    build(&f);
    char *t = write_fec(&f, dir, sizeof dir, &len);
    assert_caught(t, FEC_NAME, "\t3\t20261101", "\t4\t20261101", "without gaps");
    assert_caught(t, FEC_NAME, "0,16\t0,00", "0,17\t0,00", "does not balance");
    assert_caught(t, FEC_NAME, "0,54", "0.54", "decimal comma");
    assert_caught(t, FEC_NAME, "1481481,47", "1 481 481,47", "decimal comma");
    assert_caught(t, FEC_NAME, "0,54", "0,540", "2 decimals");
    assert_caught(t, FEC_NAME, "\t20261101\t411000", "\t2026-11-01\t411000", "AAAAMMJJ");
    assert_caught(t, FEC_NAME, "\t20261101\t411000", "\t20261131\t411000", "AAAAMMJJ");
    assert_caught(t, FEC_NAME, "EcritureLib\tDebit", "EcritureLib\tMontant", "header column 12");
    assert_caught(t, FEC_NAME, "\tVentes\t1\t", "\tVentes\t1\tX\t", "tab-separated fields");
    assert_caught(t, FEC_NAME, "\tClients\tACC-FR\tBoulangerie Martin", "\tClients\tACC-FR\t",
                  "go together");
    assert_caught(t, FEC_NAME, "20261101\t\t\n", "20261101\t\t\r\n", "carriage");
    assert_caught(t, FEC_NAME, "\t411000\t", "\tCLIENTS\t", "three digits");
    assert_caught(t, "123456789FEC20261031.csv", "VE", "VE", "closing date");
    assert_caught(t, "FEC20261031.txt", "VE", "VE", "closing date");
    free(t);
    fx_free(&f);
}

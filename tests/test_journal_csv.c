/* test_journal_csv: journal.csv, the generic GL import file.
 *
 * Journal of two invoices (tests/fixture_invoices.h):
 *   entry 1  INV-2026-000001 ACC-FR: calls 0.30 + SMS 0.15, VAT 20% 0.09
 *            Dr 411000 0.54 / Cr 706100 0.30 / Cr 706200 0.15 / Cr 445710 0.09
 *   entry 2  INV-2026-000002 ACC-X (a name that is a formula): calls 0.20, VAT 0.04
 *            Dr 411000 0.24 / Cr 706100 0.20 / Cr 445710 0.04
 * Entry 2 is then restated as invoiced in USD (0.27 receivable), the journal holding the
 * functional EUR figures beside the transaction ones. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_invoices.h"
#include "formats/csv.h"
#include "formats/journal_csv.h"

static void build(fx *f)
{
    fx_load(f, "EUR");
    rt_invoice_line a[2] = {fx_usage(f, "ACC-FR", "SMS", 3, 3, 3, 150000000),
                            fx_usage(f, "ACC-FR", "VOICE", 2, 815, 900, 300000000)};
    rt_invoice_line b[1] = {fx_usage(f, "ACC-X", "VOICE", 1, 600, 600, 200000000)};
    fx_invoice(f, "ACC-FR", "INV-2026-000001", RT_INVOICE, NULL, a, 2);
    fx_invoice(f, "ACC-X", "INV-2026-000002", RT_INVOICE, NULL, b, 1);
    fx_finish(f);
    cr_assert_eq(f->journal.count, 7);
}

static char *write_journal(fx *f, char *dir, size_t n)
{
    rt_output_list files = {0};
    rt_error err;
    rt_test_tmpdir(dir, n);
    cr_assert_eq(rt_journal_csv_write(dir, &f->res, 1, &files, &err), RT_OK);
    cr_assert_eq(files.count, 1);
    cr_assert_str_eq(files.items[0].name, "journal.csv");
    cr_assert_eq(files.items[0].rows, 7);
    return fx_read(dir, "journal.csv", NULL);
}

Test(journal_csv, one_row_per_journal_line_with_the_documented_columns)
{
    fx f;
    char dir[256];
    build(&f);
    char *t = write_journal(&f, dir, sizeof dir);
    const char *want =
        "date,journal_code,entry,gl_account,gl_label,debit,credit,currency,txn_amount,"
        "txn_currency,reference,label,line_type,customer_id,customer_name\n"
        "2026-11-01,VE,1,411000,Clients,0.54,0.00,EUR,0.54,EUR,INV-2026-000001,"
        "Invoice INV-2026-000001 Boulangerie Martin,receivable,ACC-FR,Boulangerie Martin\n"
        "2026-11-01,VE,1,706100,Prestations voix,0.00,0.30,EUR,-0.30,EUR,INV-2026-000001,"
        "Invoice INV-2026-000001 Prestations voix,revenue,ACC-FR,Boulangerie Martin\n"
        "2026-11-01,VE,1,706200,Prestations SMS,0.00,0.15,EUR,-0.15,EUR,INV-2026-000001,"
        "Invoice INV-2026-000001 Prestations SMS,revenue,ACC-FR,Boulangerie Martin\n"
        "2026-11-01,VE,1,445710,TVA collectee,0.00,0.09,EUR,-0.09,EUR,INV-2026-000001,"
        "Invoice INV-2026-000001 VAT 20%,vat,ACC-FR,Boulangerie Martin\n";
    cr_assert(strncmp(t, want, strlen(want)) == 0, "got:\n%s", t);
    /* Every row has the 15 columns of the header. */
    rt_arena arena;
    rt_arena_init(&arena, 0);
    const char *p = t, *end = t + strlen(t), *why;
    uint32_t col;
    int rows = 0;
    while (p < end) {
        rt_csv_record rec;
        cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &col), RT_OK);
        cr_assert_eq(rec.count, 15, "row %d", rows);
        rows++;
    }
    cr_assert_eq(rows, 8);
    rt_arena_free(&arena);
    free(t);
    fx_free(&f);
}

Test(journal_csv, text_cells_that_a_spreadsheet_would_run_are_neutralised)
{
    fx f;
    char dir[256];
    build(&f);
    ((rt_account *)&f.cat.accounts[fx_account(&f, "ACC-FR")])->name = "@SUM(1+1)";
    ((rt_gl_account *)&f.cat.gl_accounts[f.journal.lines[1].gl])->label = "-Voix";
    char *t = write_journal(&f, dir, sizeof dir);
    /* ACC-X's name <Dupont & Fils> "=SUM(A1)" holds a formula after other text: only a
     * leading =, +, -, @ makes a spreadsheet run a cell, so it is only quoted. */
    cr_assert(strstr(t, ",receivable,ACC-X,\"<Dupont & Fils> \"\"=SUM(A1)\"\"\"\n"), "%s", t);
    cr_assert(strstr(t, ",receivable,ACC-FR,\"'@SUM(1+1)\"\n"), "%s", t);
    cr_assert(strstr(t, ",706100,\"'-Voix\",0.00,0.30,EUR,-0.30,EUR,"),
              "a text cell starting with '-' is neutralised, a negative amount is not: %s", t);
    free(t);
    fx_free(&f);
}

Test(journal_csv, functional_amounts_with_the_transaction_amount_beside_them)
{
    fx f;
    char dir[256];
    build(&f);
    const rt_currency *usd = rt_currency_find("USD");
    for (size_t i = 0; i < f.journal.count; i++) {
        rt_journal_line *l = &f.journal.lines[i];
        if (l->entry != 2) continue;
        l->txn_currency = usd;
        l->txn_minor = l->kind == RT_JL_RECEIVABLE ? 27 : l->kind == RT_JL_VAT ? -5 : -22;
    }
    char *t = write_journal(&f, dir, sizeof dir);
    cr_assert(strstr(t, "2026-11-01,VE,2,411000,Clients,0.24,0.00,EUR,0.27,USD,INV-2026-000002,"),
              "%s", t);
    cr_assert(strstr(t, "2026-11-01,VE,2,706100,Prestations voix,0.00,0.20,EUR,-0.22,USD,"));
    cr_assert(strstr(t, "2026-11-01,VE,2,445710,TVA collectee,0.00,0.04,EUR,-0.05,USD,"));
    free(t);
    fx_free(&f);
}

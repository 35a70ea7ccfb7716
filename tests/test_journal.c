/* test_journal: invoicing entries over the mini book of testutil.h. Four invoices of
 * October 2026 (tax point rates: FR/std 20%, FR/reduced 5.5%; amounts in cents):
 *   1  A1: VOICE 0.33 (GL 7061), DATA 0.33 (7062), KWH 3.00 (7063); VAT 20% on 0.66 = 0.13,
 *          5.5% on 3.00 = 0.17; gross 3.96
 *          Dr 411 3.96 / Cr 7061 0.33 / Cr 7062 0.33 / Cr 7063 3.00 / Cr 4457 0.13 / Cr 4457 0.17
 *   2  A2: SMS 0.05 and VOICE 0.20, both GL 7061; VAT 20% of 0.25 = 0.05; gross 0.30
 *          Dr 411 0.30 / Cr 7061 0.25 / Cr 4457 0.05
 *   3  A3: a credit, VOICE -0.50; VAT -0.10; gross -0.60: every side flips
 *          Cr 411 0.60 / Dr 7061 0.50 / Dr 4457 0.10
 *   4  A4: SMS 0.001 rounds to a zero invoice: no VAT line
 *          Dr 411 0.00 / Cr 7061 0.00
 * Debits = credits = 4.86 over 14 lines. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/journal.h"
#include "testutil.h"

static rt_book book;
static rt_catalog cat;
static rt_period period;
static rt_aggregates agg;
static rt_invoice_set set;
static rt_journal jr;

static void add(uint32_t account, uint32_t charge, int64_t amount_nanos)
{
    rt_rated r;
    memset(&r, 0, sizeof r);
    r.account = account;
    r.charge = charge;
    r.amount_nanos = amount_nanos;
    r.quantity_base = r.billable_base = 1;
    cr_assert_eq(rt_agg_add(&agg, &r), RT_OK);
}

static void setup(void)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
    size_t problems = rt_test_load_book(src, &book);
    rt_test_rmtree(tmp);
    cr_assert_eq(problems, 0);
    rt_error err;
    cr_assert_eq(rt_catalog_build(&book, &cat, &err), RT_OK);
    cr_assert_eq(rt_period_parse("2026-10", &period), RT_OK);
    cr_assert_eq(rt_agg_init(&agg), RT_OK);
    add(0, 6, 330000000);
    add(0, 1, 330000000);
    add(0, 2, INT64_C(3000000000));
    add(1, 7, 50000000);
    add(1, 6, 200000000);
    add(2, 6, -500000000);
    add(3, 7, 1000000);
    rt_agg_sort(&agg);
    cr_assert_eq(rt_billing_build(&cat, &period, &agg, &set, &err), RT_OK);
    memset(&jr, 0, sizeof jr);
}

static void teardown(void)
{
    rt_journal_free(&jr);
    rt_invoice_set_free(&set);
    rt_agg_free(&agg);
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

TestSuite(journal, .init = setup, .fini = teardown);

typedef struct want {
    uint32_t entry;
    const char *gl;
    rt_journal_kind kind;
    int64_t debit, credit, txn;
} want;

Test(journal, entries_lines_and_sides)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, &jr, &err), RT_OK);
    static const want w[] = {
        {1, "411", RT_JL_RECEIVABLE, 396, 0, 396},  {1, "7061", RT_JL_REVENUE, 0, 33, -33},
        {1, "7062", RT_JL_REVENUE, 0, 33, -33},     {1, "7063", RT_JL_REVENUE, 0, 300, -300},
        {1, "4457", RT_JL_VAT, 0, 13, -13},         {1, "4457", RT_JL_VAT, 0, 17, -17},
        {2, "411", RT_JL_RECEIVABLE, 30, 0, 30},    {2, "7061", RT_JL_REVENUE, 0, 25, -25},
        {2, "4457", RT_JL_VAT, 0, 5, -5},           {3, "411", RT_JL_RECEIVABLE, 0, 60, -60},
        {3, "7061", RT_JL_REVENUE, 50, 0, 50},      {3, "4457", RT_JL_VAT, 10, 0, 10},
        {4, "411", RT_JL_RECEIVABLE, 0, 0, 0},      {4, "7061", RT_JL_REVENUE, 0, 0, 0},
    };
    size_t n = sizeof w / sizeof *w;
    cr_assert_eq(jr.count, n);
    cr_assert_eq(jr.entries, 4);
    for (size_t i = 0; i < n; i++) {
        const rt_journal_line *l = &jr.lines[i];
        cr_assert_eq(l->entry, w[i].entry, "line %zu", i);
        cr_assert_str_eq(cat.gl_accounts[l->gl].gl_account, w[i].gl, "line %zu", i);
        cr_assert_eq(l->kind, (uint32_t)w[i].kind, "line %zu", i);
        cr_assert_eq(l->debit_minor, w[i].debit, "line %zu", i);
        cr_assert_eq(l->credit_minor, w[i].credit, "line %zu", i);
        cr_assert_eq(l->txn_minor, w[i].txn, "line %zu", i);
        cr_assert_eq(l->invoice, w[i].entry - 1);
        cr_assert_eq(l->date, rt_days_from_civil(2026, 11, 1), "the issue date");
        cr_assert_str_eq(l->txn_currency->code, "EUR");
        cr_assert(l->debit_minor >= 0 && l->credit_minor >= 0, "no negative figure");
    }
    /* The two VAT lines of invoice 1 point at their subtotals. */
    cr_assert_eq(jr.lines[4].subtotal, 0);
    cr_assert_eq(jr.lines[5].subtotal, 1);
}

Test(journal, every_entry_and_the_journal_balance)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, &jr, &err), RT_OK);
    for (uint32_t e = 1; e <= jr.entries; e++) {
        int64_t d = 0, c = 0;
        for (size_t i = 0; i < jr.count; i++)
            if (jr.lines[i].entry == e) {
                d += jr.lines[i].debit_minor;
                c += jr.lines[i].credit_minor;
            }
        cr_assert_eq(d, c, "entry %u", e);
    }
    __int128 debit, credit;
    rt_journal_totals(&jr, &debit, &credit);
    cr_assert(debit == 486 && credit == 486);
    /* Receivables equal the invoice totals. */
    int64_t ar = 0, gross = 0;
    for (size_t i = 0; i < jr.count; i++)
        if (jr.lines[i].kind == RT_JL_RECEIVABLE) ar += jr.lines[i].txn_minor;
    for (size_t i = 0; i < set.count; i++) gross += set.items[i].gross_minor;
    cr_assert_eq(ar, gross);
    cr_assert_eq(gross, 396 + 30 - 60 + 0);
}

Test(journal, booking_appends_and_numbers_on)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, &jr, &err), RT_OK);
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, &jr, &err), RT_OK);
    cr_assert_eq(jr.entries, 8);
    cr_assert_eq(jr.count, 28);
    cr_assert_eq(jr.lines[14].entry, 5);
}

Test(journal, missing_gl_roles)
{
    rt_error err;
    cat.gl_role[RT_GL_VAT_PAYABLE] = RT_NO_INDEX;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, &jr, &err), RT_ENOTFOUND);
    cr_assert_eq(jr.count, 0);
    cat.gl_role[RT_GL_VAT_PAYABLE] = 1;
    cat.gl_role[RT_GL_RECEIVABLE] = RT_NO_INDEX;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, &jr, &err), RT_ENOTFOUND);
}

Test(journal, kind_names)
{
    cr_assert_str_eq(rt_journal_kind_name(RT_JL_RECEIVABLE), "receivable");
    cr_assert_str_eq(rt_journal_kind_name(RT_JL_REVENUE), "revenue");
    cr_assert_str_eq(rt_journal_kind_name(RT_JL_VAT), "vat");
}

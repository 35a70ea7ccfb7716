/* test_journal: invoices in other currencies booked in the functional currency (EUR) at the
 * FX rate in force on the entry date, with hand-computed conversion rounding. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/journal.h"
#include "testutil.h"
#include <stdio.h>

static void write_book(const char *dir)
{
    rt_test_base_book(dir);
    rt_test_write(dir, "gl_accounts.csv",
                  "gl_account,label,role\n411000,Clients,receivable\n418100,Unbilled,"
                  "unbilled_receivable\n445710,TVA,vat_payable\n706000,Ventes,revenue\n");
    rt_test_write(dir, "accounts.csv",
                  "account_id,name,country,currency,tax_jurisdiction\n"
                  "B_EUR,Euro,FR,EUR,FR\nB_JPY,Yen,FR,JPY,FR\nB_USD,Dollar,FR,USD,FR\n");
    rt_test_write(dir, "products.csv",
                  "product_id,name,unit,unit_code,gl_account,tax_category\n"
                  "SMS,SMS,message,C62,706000,standard\n");
    rt_test_write(dir, "plans.csv",
                  "plan_id,name,currency\nP_EUR,e,EUR\nP_JPY,j,JPY\nP_USD,u,USD\n");
    rt_test_write(dir, "account_plans.csv",
                  "account_id,plan_id\nB_EUR,P_EUR\nB_JPY,P_JPY\nB_USD,P_USD\n");
    rt_test_write(dir, "charges.csv",
                  "plan_id,charge_id,product_id,model,price\n"
                  "P_EUR,C,SMS,flat,0.05\nP_JPY,C,SMS,flat,1000\nP_USD,C,SMS,flat,0.05\n");
    /* The October invoices are issued on 2026-11-01: the November rates apply. */
    rt_test_write(dir, "fx_rates.csv",
                  "currency,valid_from,valid_to,rate\n"
                  "JPY,,,0.006123\n"
                  "USD,,2026-11-01,0.4\nUSD,2026-11-01,,0.5\n");
}

static void event(rt_aggregates *agg, const rt_catalog *cat, const rt_period *p,
                  const char *account)
{
    rt_rating_ctx ctx = {cat, *p, RT_LATE_BILL, INT64_MIN};
    rt_event x;
    memset(&x, 0, sizeof x);
    x.event_id = "E";
    x.event_id_len = 1;
    x.account = account;
    x.account_len = (uint16_t)strlen(account);
    x.product = "SMS";
    x.product_len = 3;
    x.called = "";
    x.start_s = p->start_s;
    x.qty_mantissa = 1;
    rt_rated r;
    const char *field;
    char msg[RT_REJECT_MESSAGE_MAX];
    cr_assert_eq(rt_rate_event(&ctx, &x, &r, &field, msg, sizeof msg), RT_REJ_NONE, "%s", msg);
    cr_assert_eq(rt_agg_add(agg, &r), RT_OK);
}

static const rt_journal_line *line(const rt_journal *j, uint32_t entry, rt_journal_kind kind)
{
    for (size_t i = 0; i < j->count; i++)
        if (j->lines[i].entry == entry && j->lines[i].kind == (uint32_t)kind) return &j->lines[i];
    cr_assert_fail("no line of kind %d in entry %u", kind, entry);
    return NULL;
}

/* The book above and October's invoices of one SMS for each of B_EUR, B_JPY and B_USD. */
typedef struct three {
    rt_book book;
    rt_catalog cat;
    rt_period p;
    rt_aggregates agg;
    rt_invoice_set inv;
} three;

static void three_bill(three *t)
{
    char dir[256];
    rt_error err;
    rt_test_tmpdir(dir, sizeof dir);
    write_book(dir);
    rt_test_load_book(dir, &t->book, &t->cat);
    cr_assert_eq(rt_period_parse("2026-10", &t->p), RT_OK);
    cr_assert_eq(rt_agg_init(&t->agg), RT_OK);
    event(&t->agg, &t->cat, &t->p, "B_EUR");
    event(&t->agg, &t->cat, &t->p, "B_JPY");
    event(&t->agg, &t->cat, &t->p, "B_USD");
    rt_agg_sort(&t->agg);
    cr_assert_eq(rt_billing_build(&t->cat, &t->p, &t->agg, 1, false, NULL, 0, 1, &t->inv, &err),
                 RT_OK, "%s", err.message);
}

static void three_free(three *t)
{
    rt_invoice_set_free(&t->inv);
    rt_agg_free(&t->agg);
    rt_catalog_free(&t->cat);
    rt_book_free(&t->book);
}

Test(journal, foreign_currency_invoices_are_booked_in_the_functional_currency)
{
    three t;
    three_bill(&t);
    rt_journal j = {0};
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&t.cat, &t.inv, 1, &j, &err), RT_OK, "%s", err.message);

    /* Entry 1, EUR: no conversion. 0.05 + VAT 0.01 = 0.06. */
    cr_assert_eq(line(&j, 1, RT_JL_RECEIVABLE)->debit_minor, 6);
    cr_assert_eq(line(&j, 1, RT_JL_RECEIVABLE)->txn_minor, 6);

    /* Entry 2, JPY 1000 + VAT 200 = 1200 at 0.006123: revenue 6.123 -> 6.12, VAT 1.2246 ->
     * 1.22, receivable 6.12 + 1.22 = 7.34 (converting the gross directly would give 7.3476
     * -> 7.35: the 0.01 difference stays on the receivable line). */
    const rt_journal_line *rev = line(&j, 2, RT_JL_REVENUE), *vat = line(&j, 2, RT_JL_VAT),
                          *ar = line(&j, 2, RT_JL_RECEIVABLE);
    cr_assert_eq(rev->credit_minor, 612);
    cr_assert_eq(rev->txn_minor, -1000);
    cr_assert_eq(vat->credit_minor, 122);
    cr_assert_eq(vat->txn_minor, -200);
    cr_assert_eq(ar->debit_minor, 734);
    cr_assert_eq(ar->txn_minor, 1200);
    cr_assert_str_eq(ar->txn_currency->code, "JPY");

    /* Entry 3, USD at 0.5 (the rate from 2026-11-01, not October's 0.4): revenue 0.05 ->
     * 0.025 -> 0.03 (half-up), VAT 0.01 -> 0.005 -> 0.01, receivable 0.04. */
    cr_assert_eq(line(&j, 3, RT_JL_REVENUE)->credit_minor, 3);
    cr_assert_eq(line(&j, 3, RT_JL_VAT)->credit_minor, 1);
    cr_assert_eq(line(&j, 3, RT_JL_RECEIVABLE)->debit_minor, 4);
    cr_assert_eq(line(&j, 3, RT_JL_RECEIVABLE)->txn_minor, 6);
    /* What the documents give as their VAT in the functional currency (BT-111) is what the
     * entries book: 1.22 EUR at 0.006123 for the JPY invoice, 0.01 at 0.5 for the USD one. */
    int64_t rate, vat_fn;
    cr_assert_eq(rt_journal_vat_functional(&t.cat, &t.inv.items[1], &rate, &vat_fn), RT_OK);
    cr_assert(rate == 6123000 && vat_fn == vat->credit_minor && vat_fn == 122);
    cr_assert_eq(rt_journal_vat_functional(&t.cat, &t.inv.items[2], &rate, &vat_fn), RT_OK);
    cr_assert(rate == 500000000 && vat_fn == 1);

    /* The sums kept as the lines were booked: functional EUR, and per transaction currency
     * (each balanced); no other currency is marked used. */
    const rt_journal_sums *sums = &j.sums;
    cr_assert(sums->debit_minor == sums->credit_minor && sums->debit_minor == 6 + 734 + 4);
    static const struct {
        const char *code;
        int64_t side;
    } by_ccy[] = {{"EUR", 6}, {"JPY", 1200}, {"USD", 6}};
    size_t used = 0;
    for (size_t k = 0; k < RT_CURRENCY_COUNT; k++) used += sums->used[k];
    cr_assert_eq(used, 3);
    for (size_t k = 0; k < 3; k++) {
        size_t c = rt_currency_index(rt_currency_find(by_ccy[k].code));
        cr_assert(sums->used[c], "%s", by_ccy[k].code);
        cr_assert(sums->txn_debit[c] == by_ccy[k].side && sums->txn_credit[c] == by_ccy[k].side);
    }
    /* A credit note made from a stored invoice carries the rate its invoice was booked at:
     * that one, not the book's (USD 0.4 instead of 0.5): revenue 0.05 -> 0.02, VAT 0.01 ->
     * 0.004 -> 0.00, receivable 0.02. */
    rt_journal j2 = {0};
    t.inv.items[2].fx_rate_nanos = 400000000;
    cr_assert_eq(rt_invoice_fx_rate(&t.cat, &t.inv.items[2]), 400000000);
    cr_assert_eq(rt_invoice_fx_rate(&t.cat, &t.inv.items[1]), 6123000, "the book's JPY rate");
    cr_assert_eq(rt_journal_book_invoices(&t.cat, &t.inv, 1, &j2, &err), RT_OK, "%s", err.message);
    cr_assert_eq(line(&j2, 3, RT_JL_REVENUE)->credit_minor, 2);
    cr_assert_eq(line(&j2, 3, RT_JL_VAT)->credit_minor, 0);
    cr_assert_eq(line(&j2, 3, RT_JL_RECEIVABLE)->debit_minor, 2);
    cr_assert_eq(line(&j2, 3, RT_JL_RECEIVABLE)->txn_minor, 6);
    cr_assert_eq(rt_journal_vat_functional(&t.cat, &t.inv.items[2], &rate, &vat_fn), RT_OK);
    cr_assert(rate == 400000000 && vat_fn == 0, "at its own rate too");
    rt_journal_free(&j2);
    rt_journal_free(&j);
    three_free(&t);
}

/* The accrual of invoices in three currencies: one entry per currency (in code order), each
 * converted at the rate in force on the period's last day (USD 0.4, October's), then their
 * reversals on the next period's first day. */
Test(journal, an_accrual_books_each_currency_converted_at_the_period_end)
{
    three t;
    three_bill(&t);
    rt_journal j = {0};
    rt_error err;
    const rt_period p = t.p;
    cr_assert_eq(rt_journal_book_accrual(&t.cat, &t.inv, &p, &j, &err), RT_OK, "%s", err.message);
    cr_assert_eq(j.entries, 6);
    cr_assert_eq(j.count, 12);
    /* EUR 0.05; JPY 1000 at 0.006123 = 6.123 -> 6.12; USD 0.05 at 0.4 = 0.02. */
    static const struct {
        const char *code;
        int64_t txn, fn;
    } want[] = {{"EUR", 5, 5}, {"JPY", 1000, 612}, {"USD", 5, 2}};
    for (uint32_t e = 1; e <= 6; e++) {
        const rt_journal_line *ub = line(&j, e, RT_JL_UNBILLED);
        const rt_journal_line *rv = line(&j, e, RT_JL_UNBILLED_REVENUE);
        size_t k = (e - 1) % 3;
        bool reversal = e > 3;
        cr_assert_str_eq(ub->txn_currency->code, want[k].code);
        cr_assert_eq(ub->date, reversal ? p.end_day : p.end_day - 1);
        cr_assert_eq(ub->reversal, reversal);
        cr_assert_eq(reversal ? ub->credit_minor : ub->debit_minor, want[k].fn, "entry %u", e);
        cr_assert_eq(ub->txn_minor, reversal ? -want[k].txn : want[k].txn);
        cr_assert_eq(reversal ? rv->debit_minor : rv->credit_minor, want[k].fn);
    }
    cr_assert(j.sums.debit_minor == j.sums.credit_minor);
    rt_journal_free(&j);
    three_free(&t);
}

Test(journal, conversion_rounds_half_up_away_from_zero)
{
    int64_t out;
    /* USD cents at 0.5: 5 -> 2.5 -> 3; -5 -> -3; 4 -> 2. */
    cr_assert_eq(rt_journal_convert(5, 2, 500000000, 2, &out), RT_OK);
    cr_assert_eq(out, 3);
    cr_assert_eq(rt_journal_convert(-5, 2, 500000000, 2, &out), RT_OK);
    cr_assert_eq(out, -3);
    cr_assert_eq(rt_journal_convert(4, 2, 500000000, 2, &out), RT_OK);
    cr_assert_eq(out, 2);
    /* 1.000 BHD (3 decimals) at 2.4 EUR = 2.40 EUR; 1 JPY at 0.006123 = 0.01 EUR. */
    cr_assert_eq(rt_journal_convert(1000, 3, 2400000000, 2, &out), RT_OK);
    cr_assert_eq(out, 240);
    cr_assert_eq(rt_journal_convert(1, 0, 6123000, 2, &out), RT_OK);
    cr_assert_eq(out, 1);
    /* EUR to JPY-like 0 decimals: 0.50 EUR at 163.32 = 81.66 -> 82. */
    cr_assert_eq(rt_journal_convert(50, 2, 163320000000, 0, &out), RT_OK);
    cr_assert_eq(out, 82);
}

Test(journal, a_missing_fx_rate_stops_the_booking)
{
    char dir[256];
    rt_test_tmpdir(dir, sizeof dir);
    write_book(dir);
    /* USD rates only until the end of October: nothing in force on 2026-11-01. */
    rt_test_write(dir, "fx_rates.csv",
                  "currency,valid_from,valid_to,rate\nJPY,,,0.006123\nUSD,,2026-11-01,0.4\n");
    rt_book book;
    rt_catalog cat;
    rt_test_load_book(dir, &book, &cat);
    rt_period p;
    rt_aggregates agg;
    rt_invoice_set inv;
    rt_journal j = {0};
    rt_error err;
    cr_assert_eq(rt_period_parse("2026-10", &p), RT_OK);
    cr_assert_eq(rt_agg_init(&agg), RT_OK);
    event(&agg, &cat, &p, "B_USD");
    rt_agg_sort(&agg);
    cr_assert_eq(rt_billing_build(&cat, &p, &agg, 1, false, NULL, 0, 1, &inv, &err), RT_OK);
    cr_assert_eq(rt_journal_book_invoices(&cat, &inv, 1, &j, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "no FX rate from USD to EUR on 2026-11-01"), "%s", err.message);
    rt_journal_free(&j);
    rt_invoice_set_free(&inv);
    rt_agg_free(&agg);
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

/* Foundation tests: test_journal: invoicing entries over the mini book of testutil.h. Four invoices of
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
    r.zone = RT_NO_INDEX;
    r.part_count = 1;
    r.parts[0] = (rt_rated_part){1, 1, amount_nanos, RT_NO_INDEX, RT_BAND_NONE};
    cr_assert_eq(rt_agg_add(&agg, &r), RT_OK);
}

static void setup(void)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
    size_t problems = rt_test_read_book(src, &book);
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
    cr_assert_eq(rt_billing_build(&cat, &period, &agg, 1, false, NULL, 0, 1, &set, &err), RT_OK);
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

/* The journal's first n lines are w[0 .. n). */
static void expect_lines(const want *w, size_t n)
{
    cr_assert_geq(jr.count, n);
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
}

Test(journal, entries_lines_and_sides)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_OK);
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
    expect_lines(w, n);
    /* The two VAT lines of invoice 1 point at their subtotals. */
    cr_assert_eq(jr.lines[4].subtotal, 0);
    cr_assert_eq(jr.lines[5].subtotal, 1);
}

/* A GL account whose lines net to nothing gets no 0.00 / 0.00 line: A1's voice billed under
 * the first version and credited under the second (+0.30, -0.30, both 7061) beside 0.10 of
 * data (7062) books the receivable, 7062 and VAT only. */
Test(journal, a_gl_account_that_nets_to_nothing_gets_no_line)
{
    rt_aggregates a;
    rt_invoice_set s2;
    rt_journal j = {0};
    rt_error err;
    uint32_t voice = cat.charge_key_rows[rt_catalog_charge_key(&cat, "PA", "C_VOICE")].first;
    uint32_t data = cat.charge_key_rows[rt_catalog_charge_key(&cat, "PA", "C_DATA")].first;
    rt_aggregates saved = agg;
    cr_assert_eq(rt_agg_init(&agg), RT_OK);
    add(0, voice, 300000000);
    add(0, voice + 1, -300000000);
    add(0, data, 100000000);
    rt_agg_sort(&agg);
    cr_assert_eq(rt_billing_build(&cat, &period, &agg, 1, false, NULL, 0, 1, &s2, &err), RT_OK);
    a = agg;
    agg = saved;
    cr_assert_eq(s2.items[0].line_count, 3);
    cr_assert_eq(rt_journal_book_invoices(&cat, &s2, 1, &j, &err), RT_OK);
    cr_assert_eq(j.count, 3);
    cr_assert_eq(j.lines[0].kind, RT_JL_RECEIVABLE);
    cr_assert_eq(j.lines[0].debit_minor, 12);
    cr_assert_str_eq(cat.gl_accounts[j.lines[1].gl].gl_account, "7062");
    cr_assert_eq(j.lines[1].credit_minor, 10);
    cr_assert_eq(j.lines[2].kind, RT_JL_VAT);
    cr_assert_eq(j.lines[2].credit_minor, 2);
    rt_journal_free(&j);
    rt_invoice_set_free(&s2);
    rt_agg_free(&a);
}

Test(journal, lines_billed_in_advance_go_to_deferred_revenue)
{
    /* Invoice 1's voice line (GL 7061) billed in advance, with 7062 as the deferred revenue
     * account: the voice and data amounts make one deferred line, in GL-row order; 7061 has
     * nothing left. Without a deferred revenue account the booking stops, appending nothing. */
    rt_error err;
    rt_invoice_line *lines = (rt_invoice_line *)set.items[0].lines;
    size_t voice = set.items[0].line_count;
    for (size_t k = 0; k < set.items[0].line_count; k++)
        if (strcmp(cat.products[lines[k].product].gl_account, "7061") == 0) voice = k;
    cr_assert_lt(voice, set.items[0].line_count);
    lines[voice].deferred = 1;
    cat.gl_role[RT_GL_DEFERRED_REVENUE] = rt_catalog_gl(&cat, "7062");
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 2, &jr, &err), RT_OK);
    static const want w[] = {
        {1, "411", RT_JL_RECEIVABLE, 396, 0, 396}, {1, "7062", RT_JL_DEFERRED, 0, 66, -66},
        {1, "7063", RT_JL_REVENUE, 0, 300, -300},  {1, "4457", RT_JL_VAT, 0, 13, -13},
        {1, "4457", RT_JL_VAT, 0, 17, -17},        {2, "411", RT_JL_RECEIVABLE, 30, 0, 30},
    };
    expect_lines(w, sizeof w / sizeof *w);
    size_t count = jr.count;
    cat.gl_role[RT_GL_DEFERRED_REVENUE] = RT_NO_INDEX;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 2, &jr, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "deferred_revenue"), "%s", err.message);
    cr_assert_eq(jr.count, count);
    cr_assert_eq(jr.entries, 4);
    lines[voice].deferred = 0;
}

Test(journal, every_entry_and_the_journal_balance)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_OK);
    for (uint32_t e = 1; e <= jr.entries; e++) {
        int64_t d = 0, c = 0;
        for (size_t i = 0; i < jr.count; i++)
            if (jr.lines[i].entry == e) {
                d += jr.lines[i].debit_minor;
                c += jr.lines[i].credit_minor;
            }
        cr_assert_eq(d, c, "entry %u", e);
    }
    cr_assert(jr.sums.debit_minor == 486 && jr.sums.credit_minor == 486);
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
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_OK);
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_OK);
    cr_assert_eq(jr.entries, 8);
    cr_assert_eq(jr.count, 28);
    cr_assert_eq(jr.lines[14].entry, 5);
}

Test(journal, dropping_the_lines_keeps_what_the_summary_reads)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_OK);
    size_t count = jr.count;
    uint32_t entries = jr.entries;
    rt_journal_sums sums = jr.sums;
    cr_assert_gt(count, 0);
    rt_journal_drop_lines(&jr);
    cr_assert_null(jr.lines);
    cr_assert_eq(jr.capacity, 0);
    cr_assert_eq(jr.count, count);
    cr_assert_eq(jr.entries, entries);
    cr_assert_eq(memcmp(&jr.sums, &sums, sizeof sums), 0);
    rt_journal_free(&jr); /* still freed as usual */
    cr_assert_eq(jr.count, 0);
}

Test(journal, the_same_journal_for_any_thread_count)
{
    /* Booked after an existing entry, on 1 to 5 threads (more threads than invoices too):
     * the same lines with the same entry numbers. */
    rt_error err;
    rt_journal one;
    memset(&one, 0, sizeof one);
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &one, &err), RT_OK);
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &one, &err), RT_OK);
    for (unsigned t = 2; t <= 5; t++) {
        rt_journal many;
        memset(&many, 0, sizeof many);
        cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &many, &err), RT_OK);
        cr_assert_eq(rt_journal_book_invoices(&cat, &set, t, &many, &err), RT_OK);
        cr_assert_eq(many.entries, one.entries, "%u threads", t);
        cr_assert_eq(many.count, one.count, "%u threads", t);
        for (size_t i = 0; i < one.count; i++) {
            const rt_journal_line *a = &one.lines[i], *b = &many.lines[i];
            cr_assert(a->entry == b->entry && a->invoice == b->invoice && a->gl == b->gl &&
                          a->kind == b->kind && a->subtotal == b->subtotal &&
                          a->date == b->date && a->debit_minor == b->debit_minor &&
                          a->credit_minor == b->credit_minor && a->txn_minor == b->txn_minor &&
                          a->txn_currency == b->txn_currency && a->reversal == b->reversal,
                      "%u threads, line %zu", t, i);
        }
        /* The sums kept by the shares add up to the same. */
        cr_assert(many.sums.debit_minor == one.sums.debit_minor &&
                  many.sums.credit_minor == one.sums.credit_minor, "%u threads", t);
        for (size_t c = 0; c < RT_CURRENCY_COUNT; c++)
            cr_assert(many.sums.used[c] == one.sums.used[c] &&
                          many.sums.txn_debit[c] == one.sums.txn_debit[c] &&
                          many.sums.txn_credit[c] == one.sums.txn_credit[c],
                      "%u threads, currency %zu", t, c);
        rt_journal_free(&many);
    }
    cr_assert(one.sums.debit_minor > 0 && one.sums.debit_minor == one.sums.credit_minor);
    rt_journal_free(&one);
}

Test(journal, a_failing_invoice_leaves_the_journal_as_it_was)
{
    /* No FX rate for a currency: the error names it, and nothing is appended. */
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_OK);
    size_t count = jr.count;
    uint32_t entries = jr.entries;
    __int128 debit = jr.sums.debit_minor;
    const rt_currency *chf = rt_currency_find("CHF");
    cr_assert_not_null(chf);
    const rt_currency *was = set.items[2].currency;
    set.items[2].currency = chf;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 3, &jr, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "no FX rate from CHF"), "%s", err.message);
    cr_assert_eq(jr.count, count);
    cr_assert_eq(jr.entries, entries);
    cr_assert(jr.sums.debit_minor == debit, "nor added to the sums");
    cr_assert_not(jr.sums.used[rt_currency_index(chf)]);
    set.items[2].currency = was;
}

Test(journal, missing_gl_roles)
{
    rt_error err;
    cat.gl_role[RT_GL_VAT_PAYABLE] = RT_NO_INDEX;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_ENOTFOUND);
    cr_assert_eq(jr.count, 0);
    cat.gl_role[RT_GL_VAT_PAYABLE] = 1;
    cat.gl_role[RT_GL_RECEIVABLE] = RT_NO_INDEX;
    cr_assert_eq(rt_journal_book_invoices(&cat, &set, 1, &jr, &err), RT_ENOTFOUND);
}

Test(journal, kind_names)
{
    cr_assert_str_eq(rt_journal_kind_name(RT_JL_RECEIVABLE), "receivable");
    cr_assert_str_eq(rt_journal_kind_name(RT_JL_REVENUE), "revenue");
    cr_assert_str_eq(rt_journal_kind_name(RT_JL_VAT), "vat");
}

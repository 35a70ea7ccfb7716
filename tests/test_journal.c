/* test_journal: invoices in other currencies booked in the functional currency (EUR) at the
 * FX rate in force on the entry date, with hand-computed conversion rounding. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/journal.h"
#include "testutil.h"

static void write_book(const char *dir)
{
    rt_test_base_book(dir);
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

Test(journal, foreign_currency_invoices_are_booked_in_the_functional_currency)
{
    char dir[256];
    rt_test_tmpdir(dir, sizeof dir);
    write_book(dir);
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
    event(&agg, &cat, &p, "B_EUR");
    event(&agg, &cat, &p, "B_JPY");
    event(&agg, &cat, &p, "B_USD");
    rt_agg_sort(&agg);
    cr_assert_eq(rt_billing_build(&cat, &p, &agg, NULL, 0, &inv, &err), RT_OK, "%s", err.message);
    cr_assert_eq(rt_journal_book_invoices(&cat, &inv, &j, &err), RT_OK, "%s", err.message);

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

    __int128 d, c;
    rt_journal_totals(&j, &d, &c);
    cr_assert(d == c && d == 6 + 734 + 4);
    rt_journal_free(&j);
    rt_invoice_set_free(&inv);
    rt_agg_free(&agg);
    rt_catalog_free(&cat);
    rt_book_free(&book);
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
    cr_assert_eq(rt_billing_build(&cat, &p, &agg, NULL, 0, &inv, &err), RT_OK);
    cr_assert_eq(rt_journal_book_invoices(&cat, &inv, &j, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "no FX rate from USD to EUR on 2026-11-01"), "%s", err.message);
    rt_journal_free(&j);
    rt_invoice_set_free(&inv);
    rt_agg_free(&agg);
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

/* test_orders: proration day counts, advance and arrears billing, cancels, changes,
 * backdated lines, one-time charges and the release of deferred revenue, with hand-computed
 * figures.
 *
 * The book: company in EUR (lines rounded half-up), accounts A1 and A2 on plan P since always
 * and A3 on P from 2026-10-22, plan P with
 *   C_MON  FEE_M   recurring 31.00 per month, monthly cycle, billed in advance
 *   C_QTR  FEE_Q   recurring 10.00 per month, quarterly cycle (Jan/Apr/Jul/Oct), in advance
 *   C_ARR  FEE_A   recurring 3.00 per month, monthly, in arrears
 *   C_ONE  SETUP   one_time 49.00 per unit
 * and account A4, billed in CHF on plan PC (C_MON: FEE_M at 31.00 CHF per month, in advance),
 * CHF at 1.065 EUR until 2026-11-01 and 1.0712 from then; A5, in GBP on plan PG (the same fee
 * in GBP), GBP at 1.15 EUR from 2026-11-01 only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/catalog.h"
#include "engine/orders.h"
#include "formats/book_csv.h"
#include "formats/orders_csv.h"
#include "testutil.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct fixture {
    rt_book book;
    rt_catalog cat;
} fixture;

static void load_book(fixture *fx)
{
    char dir[256];
    rt_test_tmpdir(dir, sizeof dir);
    write_file(dir, "company.csv",
               "name,country,functional_currency,invoice_prefix,credit_note_prefix,"
               "sales_journal_code,sales_journal_label\nSeller,FR,EUR,INV-,CN-,VE,Ventes\n");
    write_file(dir, "gl_accounts.csv",
               "gl_account,label,role\n411,AR,receivable\n4457,VAT,vat_payable\n"
               "487,Deferred,deferred_revenue\n706,Subscriptions,revenue\n708,Setup,revenue\n");
    write_file(dir, "products.csv",
               "product_id,name,unit,unit_code,gl_account,tax_category,revenue_type,"
               "billing_timing\n"
               "FEE_A,Arrears fee,month,MON,706,std,recurring,arrears\n"
               "FEE_M,Monthly fee,month,MON,706,std,recurring,advance\n"
               "FEE_Q,Quarterly fee,month,MON,706,std,recurring,advance\n"
               "SETUP,Set-up,each,C62,708,std,one_time,\n");
    write_file(dir, "plans.csv",
               "plan_id,name,currency\nP,Plan,EUR\nPC,Plan CHF,CHF\nPG,Plan GBP,GBP\n");
    write_file(dir, "charges.csv",
               "plan_id,charge_id,product_id,model,price,cycle_months\n"
               "P,C_ARR,FEE_A,recurring,3.00,1\nP,C_MON,FEE_M,recurring,31.00,1\n"
               "P,C_ONE,SETUP,one_time,49.00,1\nP,C_QTR,FEE_Q,recurring,10.00,3\n"
               "PC,C_MON,FEE_M,recurring,31.00,1\nPG,C_MON,FEE_M,recurring,31.00,1\n");
    write_file(dir, "accounts.csv",
               "account_id,name,country,currency,tax_jurisdiction\nA1,One,FR,EUR,FR\n"
               "A2,Two,FR,EUR,FR\nA3,Three,FR,EUR,FR\nA4,Four,CH,CHF,FR\n"
               "A5,Five,GB,GBP,FR\n");
    write_file(dir, "account_plans.csv",
               "account_id,plan_id,valid_from\nA1,P,\nA2,P,\nA3,P,2026-10-22\nA4,PC,\n"
               "A5,PG,\n");
    write_file(dir, "fx_rates.csv",
               "currency,valid_from,valid_to,rate\nCHF,,2026-11-01,1.065\n"
               "CHF,2026-11-01,,1.0712\nGBP,2026-11-01,,1.15\n");
    write_file(dir, "tax_rates.csv", "jurisdiction,tax_category,rate_percent\nFR,std,20\n");
    rt_diags d;
    rt_diags_init(&d);
    rt_book_init(&fx->book);
    rt_status st = rt_book_csv_read(dir, &fx->book, &d);
    if (st == RT_OK) st = rt_book_validate(&fx->book, &d);
    for (size_t i = 0; i < d.count; i++) cr_log_error("%s:%llu %s", d.items[i].file,
                                                      (unsigned long long)d.items[i].line,
                                                      d.items[i].message);
    cr_assert_eq(st, RT_OK);
    rt_diags_free(&d);
    rt_error err;
    cr_assert_eq(rt_catalog_build(&fx->book, &fx->cat, &err), RT_OK);
}

static void free_fixture(fixture *fx)
{
    rt_catalog_free(&fx->cat);
    rt_book_free(&fx->book);
}

#define HEADER                                                                               \
    "order_id,line,subscription_id,action,account_id,product_id,effective_date,booked_date," \
    "quantity,price,discount_percent,end_date,description\n"

/* Bill `orders` for `period`; returns the result, the book stays in *ob. */
static void bill(fixture *fx, const char *orders, const char *period, rt_order_book *ob,
                 rt_order_result *res)
{
    rt_period p;
    rt_error err;
    cr_assert_eq(rt_period_parse(period, &p), RT_OK);
    rt_order_book_init(ob);
    cr_assert_eq(rt_orders_csv_parse(orders, strlen(orders), 0, ob, &err), RT_OK);
    cr_assert_eq(rt_orders_bill(&fx->cat, &p, ob, res, &err), RT_OK);
}

static int64_t net_of(const rt_order_result *r, size_t i) { return r->charges[i].line.net_minor; }

static int64_t released(const rt_order_result *r)
{
    int64_t sum = 0;
    for (size_t i = 0; i < r->release_count; i++) sum += r->releases[i].amount_minor;
    return sum;
}

Test(orders, proration_day_counts)
{
    __int128 v;
    int32_t oct = rt_month_index(rt_days_from_civil(2026, 10, 1));
    int32_t feb = rt_month_index(rt_days_from_civil(2026, 2, 1));
    int32_t feb28 = rt_month_index(rt_days_from_civil(2028, 2, 1));
    /* 31-day month: 10 of 31 days of 31.00 = 10.00 exactly. */
    cr_assert_eq(rt_prorate_nanos(31000000000, 1, 0, RT_UNSET, rt_days_from_civil(2026, 10, 22),
                                  RT_DAYS_OPEN, oct, 1, &v), RT_OK);
    cr_assert(v == (__int128)10000000000);
    /* February 2026 has 28 days: 7 days of 28.00 = 7.00. */
    cr_assert_eq(rt_prorate_nanos(28000000000, 1, 0, RT_UNSET, rt_days_from_civil(2026, 2, 22),
                                  RT_DAYS_OPEN, feb, 1, &v), RT_OK);
    cr_assert(v == (__int128)7000000000);
    /* Leap year: February 2028 has 29 days: 1 day of 29.00 = 1.00. */
    cr_assert_eq(rt_prorate_nanos(29000000000, 1, 0, RT_UNSET, rt_days_from_civil(2028, 2, 29),
                                  RT_DAYS_OPEN, feb28, 1, &v), RT_OK);
    cr_assert(v == (__int128)1000000000);
    /* Start on the last day of October: 1/31 of 9.99 = 0.322258064516... -> 0.322258065 */
    cr_assert_eq(rt_prorate_nanos(9990000000, 1, 0, RT_UNSET, rt_days_from_civil(2026, 10, 31),
                                  RT_DAYS_OPEN, oct, 1, &v), RT_OK);
    cr_assert(v == (__int128)322258065);
    /* Quantity 3 with a 10% discount over a whole month of 5.00: 13.50. */
    cr_assert_eq(rt_prorate_nanos(5000000000, 3, 0, 100000, rt_days_from_civil(2026, 1, 1),
                                  RT_DAYS_OPEN, oct, 1, &v), RT_OK);
    cr_assert(v == (__int128)13500000000);
    /* Three months of a quarter from Nov 16: 15/30 x 10 + 10 = 15.00. */
    cr_assert_eq(rt_prorate_nanos(10000000000, 1, 0, RT_UNSET, rt_days_from_civil(2026, 11, 16),
                                  RT_DAYS_OPEN, oct, 3, &v), RT_OK);
    cr_assert(v == (__int128)15000000000);
}

Test(orders, advance_monthly_bills_next_month_and_releases_this_one)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    bill(&fx, HEADER "O1,1,S1,new,A1,FEE_M,2026-01-01,,1,,,,\n", "2026-10", &ob, &r);
    cr_assert_eq(r.charge_count, 1);
    cr_assert_eq(net_of(&r, 0), 3100);
    cr_assert_eq(r.charges[0].line.deferred, 1);
    cr_assert_eq(r.charges[0].line.service_start_day, rt_days_from_civil(2026, 11, 1));
    cr_assert_eq(released(&r), 3100, "October, billed by September's run, is earned now");
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, mid_period_start_and_cancel_are_prorated_by_day)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    /* A1 starts on Oct 22 (10 days of 31): catch-up 10.00 and November 31.00.
     * A2, active since March, cancels from Oct 11 (10 days used): credit 31.00 - 10.00. */
    bill(&fx,
         HEADER "O1,1,S1,new,A1,FEE_M,2026-10-22,,1,,,,\n"
                "O2,1,S2,new,A2,FEE_M,2026-03-01,,1,,,,\n"
                "O2,2,S2,cancel,A2,FEE_M,2026-10-11,2026-10-05,,,,,\n",
         "2026-10", &ob, &r);
    cr_assert_eq(r.charge_count, 3);
    cr_assert_eq(r.charges[0].account, 0);
    cr_assert_eq(net_of(&r, 0), 1000);
    cr_assert_eq(net_of(&r, 1), 3100);
    cr_assert_eq(r.charges[2].account, 1);
    cr_assert_eq(net_of(&r, 2), -2100);
    /* The credit is for the days cancelled, Oct 11 to 31, and says so. */
    cr_assert_eq(r.charges[2].line.service_start_day, rt_days_from_civil(2026, 10, 11));
    cr_assert_eq(r.charges[2].line.service_end_day, rt_days_from_civil(2026, 11, 1));
    cr_assert_str_eq(r.charges[2].line.description, "Monthly fee, 2026-10-11 to 2026-10-31 (adjustment)");
    /* Earned in October: A1 10.00 (billed now), A2 10.00 (billed in September). */
    cr_assert_eq(released(&r), 2000);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

/* An adjustment names the days it bills: A2's October, billed in advance by September's run
 * at one unit, goes to two units from Oct 21 (booked Oct 5): +1 unit for the 21st to the
 * 31st, 11/31 x 31.00 = 11.00, labelled with those days. */
Test(orders, an_adjustment_names_the_days_whose_terms_changed)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    bill(&fx,
         HEADER "O2,1,S2,new,A2,FEE_M,2026-03-01,,1,,,,\n"
                "O2,2,S2,change,A2,FEE_M,2026-10-21,2026-10-05,2,,,,\n",
         "2026-10", &ob, &r);
    cr_assert_eq(r.charge_count, 2, "the October adjustment and November");
    cr_assert_eq(net_of(&r, 0), 1100);
    cr_assert_eq(r.charges[0].line.service_start_day, rt_days_from_civil(2026, 10, 21));
    cr_assert_eq(r.charges[0].line.service_end_day, rt_days_from_civil(2026, 11, 1));
    cr_assert_str_eq(r.charges[0].line.description,
                     "Monthly fee, 2026-10-21 to 2026-10-31 (adjustment)");
    cr_assert_eq(net_of(&r, 1), 6200);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, a_customer_who_joins_mid_cycle_is_billed_under_its_plans_charge)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    /* A3's plan starts on Oct 22 with its subscription: the October catch-up (10 of 31 days
     * of 31.00) and November are both lines of charge C_MON, although A3 had no plan on the
     * cycle's first day, so that percentage charges and charge discounts see them. */
    bill(&fx, HEADER "O1,1,S1,new,A3,FEE_M,2026-10-22,,1,,,,\n", "2026-10", &ob, &r);
    cr_assert_eq(r.charge_count, 2);
    cr_assert_eq(net_of(&r, 0), 1000);
    cr_assert_eq(net_of(&r, 1), 3100);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_neq(r.charges[i].line.charge, RT_NO_INDEX, "line %zu has no charge", i);
        cr_assert_str_eq(fx.cat.charges[r.charges[i].line.charge].charge_id, "C_MON");
    }
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, a_release_in_another_currency_is_valued_at_the_rate_its_deferral_was_booked_at)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    /* Booked long before: October (31.00 CHF) was billed by September's run, issued Oct 1 at
     * 1.065, so its release is 33.015 -> 33.02 EUR; November's, billed by October's run
     * (issued Nov 1, 1.0712), is released by November's run at that rate: 33.2072 -> 33.21. */
    const char *early = HEADER "O1,1,S1,new,A4,FEE_M,2026-01-01,2026-01-01,1,,,,\n";
    bill(&fx, early, "2026-10", &ob, &r);
    cr_assert_eq(released(&r), 3302);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    bill(&fx, early, "2026-11", &ob, &r);
    cr_assert_eq(released(&r), 3321);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    /* Booked Oct 20 from Oct 10: October's run bills Oct 10-31 (22/31 x 31.00 = 22.00 CHF)
     * and November (31.00), issued Nov 1 at 1.0712; the October part is released now at that
     * rate, 23.5664 -> 23.57 EUR, not at October's 1.065 (23.43). */
    bill(&fx, HEADER "O1,1,S1,new,A4,FEE_M,2026-10-10,2026-10-20,1,,,,\n", "2026-10", &ob, &r);
    cr_assert_eq(released(&r), 2357);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, a_release_without_an_fx_rate_for_its_deferral_day_fails_the_billing)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    rt_period p;
    rt_error err;
    /* October's GBP fee was deferred on Oct 1, when the book has no GBP rate. */
    const char *orders = HEADER "O1,1,S1,new,A5,FEE_M,2026-01-01,2026-01-01,1,,,,\n";
    cr_assert_eq(rt_period_parse("2026-10", &p), RT_OK);
    rt_order_book_init(&ob);
    cr_assert_eq(rt_orders_csv_parse(orders, strlen(orders), 0, &ob, &err), RT_OK);
    cr_assert_eq(rt_orders_bill(&fx.cat, &p, &ob, &r, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "no FX rate from GBP to EUR on 2026-10-01"), "%s", err.message);
    rt_order_book_free(&ob);
    /* November's was deferred on Nov 1, when there is one. */
    bill(&fx, orders, "2026-11", &ob, &r);
    cr_assert_eq(released(&r), 3565); /* 31.00 x 1.15 */
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, quarterly_advance_is_released_over_three_periods_with_the_remainder_last)
{
    fixture fx;
    load_book(&fx);
    /* Starts Nov 16 in the Oct-Dec quarter at 10.00/month, quantity 1, booked Nov 10.
     * Value of the quarter: Nov 15/30 x 10 = 5.00, Dec 10.00 -> 15.00, billed by November's
     * run (catch-up); the Jan-Mar quarter (30.00) is billed by December's run. Add a 7% discount
     * so the daily split does not come out even: quarter value 13.95. */
    const char *orders = HEADER "O1,1,S1,new,A1,FEE_Q,2026-11-16,2026-11-10,1,,7,,\n";
    const char *periods[] = {"2026-10", "2026-11", "2026-12", "2027-01"};
    int64_t billed[4], rel[4];
    for (int i = 0; i < 4; i++) {
        rt_order_book ob;
        rt_order_result r;
        bill(&fx, orders, periods[i], &ob, &r);
        billed[i] = 0;
        for (size_t k = 0; k < r.charge_count; k++) billed[i] += net_of(&r, k);
        rel[i] = released(&r);
        rt_order_result_free(&r);
        rt_order_book_free(&ob);
    }
    /* October: nothing known yet. */
    cr_assert_eq(billed[0], 0);
    cr_assert_eq(rel[0], 0);
    /* November: 5.00 x 0.93 = 4.65 and 10.00 x 0.93 = 9.30 -> 13.95 billed; earned in
     * November 4.65. */
    cr_assert_eq(billed[1], 1395);
    cr_assert_eq(rel[1], 465);
    /* December: the next quarter 3 x 9.30 = 27.90; the rest of this one (9.30) released. */
    cr_assert_eq(billed[2], 2790);
    cr_assert_eq(rel[2], 930);
    /* January: 9.30 of the new quarter; releases always add up to what was billed. */
    cr_assert_eq(billed[3], 0);
    cr_assert_eq(rel[3], 930);
    cr_assert_eq(rel[1] + rel[2], billed[1]);
    free_fixture(&fx);
}

Test(orders, uneven_daily_release_puts_the_rounding_remainder_in_the_last_period)
{
    fixture fx;
    load_book(&fx);
    /* Quarter from Oct 1 at 10.00/month with price override 3.33 (per month): quarter value
     * 9.99 billed by September's run. October earns 3.33, November 3.33, December the rest
     * 3.33: whole months split evenly. With quantity 1 starting Oct 2 (booked Sep 20) the
     * quarter is 30/31 x 3.33 + 6.66 = 3.2226 + 6.66 -> 9.88 billed in September; October earns
     * round(3.2226) = 3.22, November 3.33 (cumulative 6.55), December 9.88 - 6.55 = 3.33. */
    const char *orders = HEADER "O1,1,S1,new,A1,FEE_Q,2026-10-02,2026-09-20,1,3.33,,,\n";
    const char *periods[] = {"2026-09", "2026-10", "2026-11", "2026-12"};
    int64_t billed[4], rel[4];
    for (int i = 0; i < 4; i++) {
        rt_order_book ob;
        rt_order_result r;
        bill(&fx, orders, periods[i], &ob, &r);
        billed[i] = 0;
        for (size_t k = 0; k < r.charge_count; k++) billed[i] += net_of(&r, k);
        rel[i] = released(&r);
        rt_order_result_free(&r);
        rt_order_book_free(&ob);
    }
    cr_assert_eq(billed[0], 988);
    {   /* The September line shows the order's price, per month and unit. */
        rt_order_book ob;
        rt_order_result r;
        bill(&fx, orders, "2026-09", &ob, &r);
        cr_assert_eq(r.charge_count, 1);
        cr_assert_eq(r.charges[0].line.unit_price_nanos, 3330000000);
        cr_assert_eq(r.charges[0].line.price_per, 1);
        rt_order_result_free(&r);
        rt_order_book_free(&ob);
    }
    cr_assert_eq(rel[0], 0);
    cr_assert_eq(rel[1], 322);
    cr_assert_eq(rel[2], 333);
    cr_assert_eq(rel[3], 333);
    cr_assert_eq(rel[1] + rel[2] + rel[3], billed[0]);
    free_fixture(&fx);
}

Test(orders, arrears_change_of_quantity_mid_month)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    /* 3.00/month in arrears; quantity 1 -> 4 from Oct 17: 16/31 x 3 + 15/31 x 12
     * = 1.548387... + 5.806451... = 7.354838... -> 7.35. */
    bill(&fx,
         HEADER "O1,1,S1,new,A1,FEE_A,2026-06-01,,1,,,,\nO1,2,S1,change,A1,FEE_A,2026-10-17,,4,,,,\n",
         "2026-10", &ob, &r);
    cr_assert_eq(r.charge_count, 1);
    cr_assert_eq(net_of(&r, 0), 735);
    cr_assert_eq(r.charges[0].line.deferred, 0);
    cr_assert_eq(r.charges[0].line.quantity_base, 4);
    cr_assert_eq(r.charges[0].line.price_per, 0, "no price of its own: the charge's shows");
    cr_assert_eq(r.release_count, 0, "arrears revenue is never deferred");
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, a_backdated_change_is_billed_by_the_next_run)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    /* Quantity 1 -> 2 effective Sep 16 (30-day month: 15 days) but booked Oct 3: September's
     * run did not know it. October's run bills the difference for September (15/30 x 31.00 =
     * 15.50), for October (31.00) and November at quantity 2 (62.00). */
    bill(&fx,
         HEADER "O1,1,S1,new,A1,FEE_M,2026-01-01,,1,,,,\nO1,2,S1,change,A1,FEE_M,2026-09-16,2026-10-03,2,,,,\n",
         "2026-10", &ob, &r);
    int64_t total = 0;
    for (size_t k = 0; k < r.charge_count; k++) total += net_of(&r, k);
    cr_assert_eq(total, 1550 + 3100 + 6200);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, one_time_charges_are_billed_once)
{
    fixture fx;
    load_book(&fx);
    const char *orders = HEADER "O1,1,,one_time,A1,SETUP,2026-10-05,,2,,,,Two installs\n"
                                "O2,1,,one_time,A2,SETUP,2026-10-06,,1,40.00,10,,\n";
    rt_order_book ob;
    rt_order_result r;
    bill(&fx, orders, "2026-10", &ob, &r);
    cr_assert_eq(r.charge_count, 2);
    cr_assert_eq(net_of(&r, 0), 9800);
    cr_assert_str_eq(r.charges[0].line.description, "Two installs");
    cr_assert_eq(net_of(&r, 1), 3600, "price override 40.00 with 10%% discount");
    /* The price each line shows: the charge's, or the line's own (before its discount). */
    int64_t price, per;
    rt_line_price(&r.charges[0].line, &fx.cat.charges[r.charges[0].line.charge], &price, &per);
    cr_assert(price == 49000000000 && per == 1);
    rt_line_price(&r.charges[1].line, &fx.cat.charges[r.charges[1].line.charge], &price, &per);
    cr_assert(price == 40000000000 && per == 1, "%lld per %lld", (long long)price, (long long)per);
    /* The description is the result's own: it outlives the book's text. */
    cr_assert(rt_order_book_compact(&ob));
    cr_assert_str_eq(r.charges[0].line.description, "Two installs");
    rt_order_result_drop_charges(&r);
    cr_assert_eq(r.charge_count, 0);
    cr_assert_null(r.charges);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    bill(&fx, orders, "2026-11", &ob, &r);
    cr_assert_eq(r.charge_count, 0, "already billed in October");
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

Test(orders, bad_lines_are_rejected_with_reasons)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    bill(&fx,
         HEADER "O1,1,S1,change,A1,FEE_M,2026-10-01,,2,,,,\n"     /* change before start */
                "O2,1,S2,new,NOPE,FEE_M,2026-10-01,,1,,,,\n"      /* unknown account */
                "O3,1,S3,new,A1,SETUP,2026-10-01,,1,,,,\n"        /* one-time product */
                "O4,1,S4,new,A1,FEE_M,2026-13-01,,1,,,,\n"        /* bad date */
                "O5,1,S5,new,A1,FEE_M,2026-10-01,,,,,,\n"         /* no quantity */
                "O6,1,S6,new,A1,FEE_M,2026-10-01,,1,,,,\n"
                "O6,1,S6,new,A1,FEE_M,2026-10-01,,1,,,,\n"        /* repeated line */
                "O7,1,S7,pause,A1,FEE_M,2026-10-01,,1,,,,\n",     /* unknown action */
         "2026-10", &ob, &r);
    cr_assert_eq(ob.read, 8);
    cr_assert_eq(ob.reject_count, 7);
    cr_assert_eq(r.lines_used, 1);
    uint32_t want[] = {RT_REJ_BAD_ORDER, RT_REJ_UNKNOWN_ACCOUNT, RT_REJ_UNKNOWN_PRODUCT,
                       RT_REJ_BAD_TIME,  RT_REJ_MISSING_FIELD,   RT_REJ_BAD_ORDER,
                       RT_REJ_BAD_ORDER};
    for (size_t i = 0; i < 7; i++) {
        cr_assert_eq(ob.rejects[i].reason, want[i], "reject %zu: %s", i, ob.rejects[i].message);
        cr_assert_eq(ob.rejects[i].source_line, i < 5 ? i + 2 : i + 3);
    }
    /* Compacted, the book keeps its rejects whole (raw text and field) and its count read,
     * and drops its lines. */
    char raw1[128], field1[64];
    snprintf(raw1, sizeof raw1, "%.*s", (int)ob.rejects[1].raw_len, ob.rejects[1].raw);
    snprintf(field1, sizeof field1, "%s", ob.rejects[1].field);
    cr_assert_str_eq(raw1, "O2,1,S2,new,NOPE,FEE_M,2026-10-01,,1,,,,");
    cr_assert(rt_order_book_compact(&ob));
    cr_assert_eq(ob.count, 0);
    cr_assert_null(ob.lines);
    cr_assert_eq(ob.read, 8);
    cr_assert_eq(ob.reject_count, 7);
    cr_assert_eq(ob.rejects[1].reason, RT_REJ_UNKNOWN_ACCOUNT);
    cr_assert_eq(strncmp(ob.rejects[1].raw, raw1, strlen(raw1)), 0);
    cr_assert_eq(ob.rejects[1].raw_len, strlen(raw1));
    cr_assert_str_eq(ob.rejects[1].field, field1);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

/* A line that is not valid CSV names its column in field by its header name, as the other
 * rejects do, and keeps it through compaction; a column beyond the header has none. */
Test(orders, a_malformed_line_names_its_column)
{
    rt_order_book ob;
    rt_error err;
    rt_order_book_init(&ob);
    const char *orders = HEADER "O1,1,S1,new,A1,FEE_M,\"2026\"-10-01,,1,,,,\n"
                                "O2,1,S2,new,A1,FEE_M,2026-10-01,,1,,,,\"x\"y\n"
                                "O3,1,S3,new,A1,FEE_M,2026-10-01,,1,,,,,\"x\"y\n";
    cr_assert_eq(rt_orders_csv_parse(orders, strlen(orders), 0, &ob, &err), RT_OK);
    cr_assert_eq(ob.reject_count, 3);
    static const char *const want[] = {"effective_date", "description", ""};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(ob.rejects[i].reason, RT_REJ_MALFORMED);
        cr_assert_str_eq(ob.rejects[i].field, want[i], "%s", ob.rejects[i].message);
    }
    cr_assert(rt_order_book_compact(&ob));
    cr_assert_str_eq(ob.rejects[0].field, "effective_date");
    rt_order_book_free(&ob);
}

/* Ids longer than 16 bytes that agree on their first 16 are told apart and ordered as strcmp
 * orders them (the sort keys hold only the first 16 bytes), and a repeat of a long
 * (order_id, line) is still caught. */
Test(orders, long_ids_that_share_a_prefix_sort_and_repeat_correctly)
{
    fixture fx;
    load_book(&fx);
    rt_order_book ob;
    rt_order_result r;
    bill(&fx,
         HEADER "ORDER-NUMBER-LONG-B,1,SUBSCRIPTION-LONG-0002,new,A1,FEE_M,2026-10-01,,1,,,,\n"
                "ORDER-NUMBER-LONG-A,1,SUBSCRIPTION-LONG-0001,new,A1,FEE_M,2026-10-01,,2,,,,\n"
                "ORDER-NUMBER-LONG-A,1,SUBSCRIPTION-LONG-0001,new,A1,FEE_M,2026-10-01,,2,,,,\n"
                "ORDER-NUMBER-LONG-C,1,SUBSCRIPTION-LONG-0001,change,A1,FEE_M,2026-10-15,,3,,,,\n"
                "ORDER-NUMBER-LONG-A,2,SUBSCRIPTION-LONG-0003,new,A2,FEE_M,2026-10-01,,1,,,,\n",
         "2026-10", &ob, &r);
    cr_assert_eq(ob.read, 5);
    cr_assert_eq(ob.reject_count, 1);
    cr_assert_eq(ob.rejects[0].reason, RT_REJ_BAD_ORDER);
    cr_assert_eq(ob.rejects[0].source_line, 4, "the later copy is the one rejected");
    cr_assert_eq(r.lines_used, 4);
    static const struct {
        const char *sub, *order;
        uint64_t source_line;
    } want[] = {{"SUBSCRIPTION-LONG-0001", "ORDER-NUMBER-LONG-A", 3},
                {"SUBSCRIPTION-LONG-0001", "ORDER-NUMBER-LONG-A", 4},
                {"SUBSCRIPTION-LONG-0001", "ORDER-NUMBER-LONG-C", 5},
                {"SUBSCRIPTION-LONG-0002", "ORDER-NUMBER-LONG-B", 2},
                {"SUBSCRIPTION-LONG-0003", "ORDER-NUMBER-LONG-A", 6}};
    cr_assert_eq(ob.count, 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(ob.lines[i].subscription_id, want[i].sub, "line %zu", i);
        cr_assert_str_eq(ob.lines[i].order_id, want[i].order, "line %zu", i);
        cr_assert_eq(ob.lines[i].source_line, want[i].source_line, "line %zu", i);
    }
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    free_fixture(&fx);
}

/* Charges come out grouped by account, in the order they were made within an account,
 * whatever order the subscriptions sort in (here against the accounts': A3, A1, A2, A1), and
 * the same when the file is already in the order the billing sorts it into. */
Test(orders, charges_are_grouped_by_account_in_a_stable_order)
{
    fixture fx;
    load_book(&fx);
    static const char *const books[] = {
        HEADER "O1,1,S1,new,A3,FEE_A,2026-10-22,,1,,,,\n"
               "O2,1,S2,new,A1,FEE_M,2026-10-01,,2,,,,\n"
               "O3,1,S3,new,A2,FEE_M,2026-10-01,,1,,,,\n"
               "O4,1,S4,new,A1,FEE_A,2026-09-01,,5,,,,\n"
               "O5,1,,one_time,A3,SETUP,2026-10-25,,1,,,,\n"
               "O0,1,S0,new,A2,FEE_A,2026-10-01,,1,,,,\n",
        /* Sorted already (subscription, then one-time lines), order ids ascending. */
        HEADER "O1,1,,one_time,A3,SETUP,2026-10-25,,1,,,,\n"
               "O2,1,S1,new,A3,FEE_A,2026-10-22,,1,,,,\n"
               "O3,1,S2,new,A1,FEE_M,2026-10-01,,2,,,,\n"
               "O4,1,S3,new,A2,FEE_M,2026-10-01,,1,,,,\n"
               "O5,1,S4,new,A1,FEE_A,2026-09-01,,5,,,,\n"};
    for (int b = 0; b < 2; b++) {
        rt_order_book ob;
        rt_order_result r;
        bill(&fx, books[b], "2026-10", &ob, &r);
        cr_assert_eq(ob.reject_count, 0);
        cr_assert_geq(r.charge_count, 5);
        for (size_t i = 1; i < r.charge_count; i++)
            cr_assert_leq(r.charges[i - 1].account, r.charges[i].account, "book %d charge %zu", b, i);
        /* Within A1: S2's charges before S4's (the order they were made in). */
        uint32_t a1 = rt_catalog_account(&fx.cat, "A1", 2);
        int seen_arrears = 0;
        for (size_t i = 0; i < r.charge_count; i++) {
            if (r.charges[i].account != a1) continue;
            uint32_t product = r.charges[i].line.product;
            bool arrears = strcmp(fx.cat.products[product].product_id, "FEE_A") == 0;
            cr_assert(arrears || !seen_arrears, "book %d: S2's monthly fee came after S4", b);
            seen_arrears |= arrears;
        }
        cr_assert(seen_arrears);
        rt_order_result_free(&r);
        rt_order_book_free(&ob);
    }
    free_fixture(&fx);
}

/* A file read from disk stays in the book, its lines' raw text pointing into it: rejects
 * found while parsing and while billing keep their exact line text, also once the book is
 * compacted (the text released with the lines). */
Test(orders, rejects_of_a_file_read_from_disk_keep_their_raw_text_after_compaction)
{
    fixture fx;
    load_book(&fx);
    char dir[256], path[300];
    rt_test_tmpdir(dir, sizeof dir);
    write_file(dir, "orders.csv",
               HEADER "O1,1,S1,new,A1,FEE_M,2026-10-01,,1,,,,\n"
                      "O2,x,S2,new,A1,FEE_M,2026-10-01,,1,,,,\n"
                      "O3,1,S3,new,NOBODY,FEE_M,2026-10-01,,1,,,,\n");
    snprintf(path, sizeof path, "%s/orders.csv", dir);
    rt_order_book ob;
    rt_order_book_init(&ob);
    rt_input_info info;
    rt_error err;
    cr_assert_eq(rt_orders_csv_read(path, 0, &ob, &info, &err), RT_OK);
    cr_assert_eq(ob.text_count, 1, "the book owns the file's text");
    rt_period p;
    cr_assert_eq(rt_period_parse("2026-10", &p), RT_OK);
    rt_order_result r;
    cr_assert_eq(rt_orders_bill(&fx.cat, &p, &ob, &r, &err), RT_OK);
    cr_assert(rt_order_book_compact(&ob));
    cr_assert_eq(ob.text_count, 0);
    cr_assert_eq(ob.reject_count, 2);
    static const char *const want[] = {"O2,x,S2,new,A1,FEE_M,2026-10-01,,1,,,,",
                                       "O3,1,S3,new,NOBODY,FEE_M,2026-10-01,,1,,,,"};
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(ob.rejects[i].raw_len, strlen(want[i]), "reject %zu", i);
        cr_assert_eq(memcmp(ob.rejects[i].raw, want[i], strlen(want[i])), 0, "reject %zu", i);
    }
    cr_assert_eq(ob.rejects[1].reason, RT_REJ_UNKNOWN_ACCOUNT);
    rt_order_result_free(&r);
    rt_order_book_free(&ob);
    rt_test_rmtree(dir);
    free_fixture(&fx);
}

/* Reserving grows the book's room once and keeps what it holds. */
Test(orders, reserve_makes_room_without_changing_the_lines)
{
    rt_order_book ob;
    rt_order_book_init(&ob);
    rt_order_line *l = rt_order_book_push(&ob);
    cr_assert_not_null(l);
    l->line = 7;
    cr_assert(rt_order_book_reserve(&ob, 1000));
    cr_assert_geq(ob.capacity, 1001);
    cr_assert_eq(ob.count, 1);
    cr_assert_eq(ob.lines[0].line, 7);
    const rt_order_line *at = ob.lines;
    for (int i = 0; i < 1000; i++) cr_assert_not_null(rt_order_book_push(&ob));
    cr_assert_eq(ob.lines, at, "no push moved the lines");
    cr_assert(rt_order_book_reserve(&ob, 0));
    rt_order_book_free(&ob);
}

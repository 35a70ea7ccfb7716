/* test_billing: aggregates (add and merge give the same totals in any order and split),
 * invoices over the mini book of testutil.h (line rounding half_up vs half_even, VAT per
 * (code, rate) computed once on the sum of line nets, issue and due dates, totals, the tax
 * point) and rt_tax_amount.
 *
 * Worked invoice of account A1 (October 2026, company rounding half_up, tax point
 * 2026-10-31 where FR/std is 20% and FR/reduced 5.5%):
 *   C_VOICE v2 (VOICE, std): events 0.2 + 0.13 = 0.33        -> line 0.33
 *   C_DATA (DATA, std):      0.33                             -> line 0.33
 *   C_KWH (KWH, reduced):    3.00                             -> line 3.00
 *   VAT S 20%:  on 0.33 + 0.33 = 0.66 -> 0.132 -> 0.13 (per line it would be 0.07 + 0.07)
 *   VAT S 5.5%: on 3.00 -> 0.165 -> 0.17 (half_even: 0.16)
 *   net 3.66, tax 0.30, gross 3.96; issued 2026-11-01, due 30 days later, 2026-12-01. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/billing.h"
#include "testutil.h"

static rt_book book;
static rt_catalog cat;
static rt_period period;

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
}

static void teardown(void)
{
    rt_catalog_free(&cat);
    rt_book_free(&book);
}

static rt_rated ev(uint32_t account, uint32_t charge, uint32_t product, int64_t qty,
                   int64_t amount_nanos)
{
    rt_rated r;
    memset(&r, 0, sizeof r);
    r.account = account;
    r.charge = charge;
    r.product = product;
    r.quantity_base = qty;
    r.billable_base = qty + 1;
    r.amount_nanos = amount_nanos;
    return r;
}

static void add(rt_aggregates *a, rt_rated r) { cr_assert_eq(rt_agg_add(a, &r), RT_OK); }

/* ---- aggregates ---- */

Test(agg, add_sums_per_account_and_charge)
{
    rt_aggregates a;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    add(&a, ev(1, 6, 7, 60, 30000000));
    add(&a, ev(0, 5, 7, 61, 120000000));
    add(&a, ev(1, 6, 7, 30, 30000000));
    add(&a, ev(1, 7, 5, 1, 50000000));
    add(&a, ev(1, 6, 7, 0, 0));
    cr_assert_eq(a.count, 3);
    rt_agg_sort(&a);
    cr_assert(a.entries[0].account == 0 && a.entries[0].charge == 5);
    cr_assert(a.entries[1].account == 1 && a.entries[1].charge == 6);
    cr_assert(a.entries[2].account == 1 && a.entries[2].charge == 7);
    cr_assert_eq(a.entries[1].events, 3);
    cr_assert_eq(a.entries[1].quantity_base, 90);
    cr_assert_eq(a.entries[1].billable_base, 93);
    cr_assert(a.entries[1].amount_nanos == 60000000);
    /* The index follows the sort: adding again lands in the same entry. */
    add(&a, ev(1, 7, 5, 1, 50000000));
    cr_assert_eq(a.count, 3);
    cr_assert(a.entries[2].amount_nanos == 100000000);
    cr_assert_eq(a.entries[2].events, 2);
    rt_agg_free(&a);
}

Test(agg, quantity_overflow_is_an_error)
{
    rt_aggregates a;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    rt_rated r = ev(0, 0, 0, 0, 1);
    r.quantity_base = INT64_MAX;
    cr_assert_eq(rt_agg_add(&a, &r), RT_OK);
    r.quantity_base = 1;
    cr_assert_eq(rt_agg_add(&a, &r), RT_EOVERFLOW);
    rt_agg_free(&a);
}

Test(agg, amounts_beyond_int64_are_kept_exactly)
{
    rt_aggregates a;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    add(&a, ev(0, 0, 0, 1, INT64_MAX));
    add(&a, ev(0, 0, 0, 1, INT64_MAX));
    add(&a, ev(0, 0, 0, 1, -INT64_MAX));
    cr_assert(a.entries[0].amount_nanos == (__int128)INT64_MAX);
    rt_agg_free(&a);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *s >> 33;
}

static void assert_same(const rt_aggregates *x, const rt_aggregates *y)
{
    cr_assert_eq(x->count, y->count);
    for (size_t i = 0; i < x->count; i++) {
        const rt_agg_entry *a = &x->entries[i], *b = &y->entries[i];
        cr_assert(a->account == b->account && a->charge == b->charge && a->events == b->events &&
                      a->quantity_base == b->quantity_base &&
                      a->billable_base == b->billable_base && a->amount_nanos == b->amount_nanos,
                  "entry %zu differs", i);
    }
}

Test(agg, add_and_merge_are_order_independent)
{
    enum { N = 2000 };
    static rt_rated evs[N];
    uint64_t seed = UINT64_C(20261031);
    fprintf(stderr, "agg order test seed %" PRIu64 "\n", seed);
    for (size_t i = 0; i < N; i++)
        evs[i] = ev((uint32_t)(lcg(&seed) % 4), (uint32_t)(lcg(&seed) % 9),
                    (uint32_t)(lcg(&seed) % 8), (int64_t)(lcg(&seed) % 100000),
                    (int64_t)(lcg(&seed) % 2000000001) - 1000000000);
    rt_aggregates fwd, rev, merged, parts[3];
    cr_assert_eq(rt_agg_init(&fwd), RT_OK);
    cr_assert_eq(rt_agg_init(&rev), RT_OK);
    cr_assert_eq(rt_agg_init(&merged), RT_OK);
    for (int k = 0; k < 3; k++) cr_assert_eq(rt_agg_init(&parts[k]), RT_OK);
    for (size_t i = 0; i < N; i++) {
        add(&fwd, evs[i]);
        add(&rev, evs[N - 1 - i]);
        /* An uneven split, as dynamic scheduling would make. */
        add(&parts[(i * 7 / 3) % 3], evs[i]);
    }
    static const int order[3] = {2, 0, 1};
    for (int k = 0; k < 3; k++) cr_assert_eq(rt_agg_merge(&merged, &parts[order[k]]), RT_OK);
    rt_agg_sort(&fwd);
    rt_agg_sort(&rev);
    rt_agg_sort(&merged);
    cr_assert_eq(fwd.count, 36, "4 accounts x 9 charges all occur");
    assert_same(&fwd, &rev);
    assert_same(&fwd, &merged);
    uint64_t events = 0;
    for (size_t i = 0; i < fwd.count; i++) events += fwd.entries[i].events;
    cr_assert_eq(events, N);
    rt_agg_free(&fwd);
    rt_agg_free(&rev);
    rt_agg_free(&merged);
    for (int k = 0; k < 3; k++) rt_agg_free(&parts[k]);
}

/* ---- rt_tax_amount ---- */

static int64_t tax(int64_t base, int64_t rate_e4, rt_round mode)
{
    int64_t out = -1;
    cr_assert_eq(rt_tax_amount(base, rate_e4, mode, &out), RT_OK);
    return out;
}

Test(agg, tax_amount)
{
    cr_assert_eq(tax(1000, 200000, RT_ROUND_HALF_UP), 200, "20% of 10.00");
    cr_assert_eq(tax(66, 200000, RT_ROUND_HALF_UP), 13, "20% of 0.66 = 0.132");
    cr_assert_eq(tax(300, 55000, RT_ROUND_HALF_UP), 17, "5.5% of 3.00 = 0.165");
    cr_assert_eq(tax(300, 55000, RT_ROUND_HALF_EVEN), 16);
    cr_assert_eq(tax(-300, 55000, RT_ROUND_HALF_UP), -17);
    cr_assert_eq(tax(-300, 55000, RT_ROUND_HALF_EVEN), -16);
    cr_assert_eq(tax(1, 55000, RT_ROUND_HALF_UP), 0);
    cr_assert_eq(tax(12345, 196000, RT_ROUND_HALF_UP), 2420, "19.6% of 123.45 = 24.1962");
    cr_assert_eq(tax(12345, 0, RT_ROUND_HALF_UP), 0);
    cr_assert_eq(tax(INT64_MAX, 1000000, RT_ROUND_HALF_UP), INT64_MAX, "100% never overflows");
    int64_t out;
    cr_assert_eq(rt_tax_amount(INT64_MAX, 1000001, RT_ROUND_HALF_UP, &out), RT_EOVERFLOW);
}

/* ---- invoices ---- */

TestSuite(invoice, .init = setup, .fini = teardown);

static void build(rt_aggregates *a, rt_invoice_set *set)
{
    rt_agg_sort(a);
    rt_error err;
    rt_status st = rt_billing_build(&cat, &period, a, set, &err);
    cr_assert_eq(st, RT_OK, "%s", err.message);
}

/* The aggregates of the worked example, plus one line for A2. */
static void example(rt_aggregates *a)
{
    cr_assert_eq(rt_agg_init(a), RT_OK);
    add(a, ev(1, 7, 5, 1, 50000000));   /* A2 SMS 0.05 */
    add(a, ev(0, 6, 7, 60, 200000000)); /* A1 VOICE 0.20 */
    add(a, ev(0, 1, 2, 1000, 330000000)); /* A1 DATA 0.33 */
    add(a, ev(0, 6, 7, 60, 130000000)); /* A1 VOICE 0.13 */
    add(a, ev(0, 2, 3, 12000, INT64_C(3000000000))); /* A1 KWH 3.00 */
}

Test(invoice, vat_per_rate_on_the_sum_of_line_nets)
{
    rt_aggregates a;
    rt_invoice_set set;
    example(&a);
    build(&a, &set);
    cr_assert_eq(set.count, 2);
    const rt_invoice *inv = &set.items[0];
    cr_assert_eq(inv->account, 0, "invoices in account order");
    cr_assert_eq(inv->type, RT_INVOICE);
    cr_assert_str_eq(inv->currency->code, "EUR");
    cr_assert_str_eq(inv->number, "", "numbers come at commit");
    cr_assert_eq(inv->line_count, 3);
    /* Lines in charge order: C_DATA (1), C_KWH (2), C_VOICE v2 (6). */
    cr_assert_eq(inv->lines[0].charge, 1);
    cr_assert_eq(inv->lines[0].net_minor, 33);
    cr_assert_eq(inv->lines[1].charge, 2);
    cr_assert_eq(inv->lines[1].net_minor, 300);
    cr_assert_eq(inv->lines[1].quantity_base, 12000);
    cr_assert_eq(inv->lines[2].charge, 6);
    cr_assert_eq(inv->lines[2].events, 2);
    cr_assert_eq(inv->lines[2].amount_nanos, 330000000);
    cr_assert_eq(inv->lines[2].net_minor, 33);
    cr_assert_eq(inv->lines[2].kind, RT_LINE_USAGE);
    cr_assert_eq(inv->lines[2].service_start_day, period.start_day);
    cr_assert_eq(inv->lines[2].service_end_day, period.end_day);
    /* VAT breakdown: (S, 20%) first seen on line 0, (S, 5.5%) on line 1. */
    cr_assert_eq(inv->tax_count, 2);
    cr_assert_eq(inv->taxes[0].rate_e4, 200000);
    cr_assert_eq(inv->taxes[0].vat_code, RT_VAT_S);
    cr_assert_eq(inv->taxes[0].base_minor, 66);
    cr_assert_eq(inv->taxes[0].tax_minor, 13, "0.132, not 0.07 + 0.07 per line");
    cr_assert_eq(inv->taxes[1].rate_e4, 55000);
    cr_assert_eq(inv->taxes[1].base_minor, 300);
    cr_assert_eq(inv->taxes[1].tax_minor, 17);
    cr_assert_eq(inv->lines[0].subtotal, 0);
    cr_assert_eq(inv->lines[1].subtotal, 1);
    cr_assert_eq(inv->lines[2].subtotal, 0);
    cr_assert_eq(inv->net_minor, 366);
    cr_assert_eq(inv->tax_minor, 30);
    cr_assert_eq(inv->gross_minor, 396);
    cr_assert_eq(inv->events, 4);
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

Test(invoice, issue_due_and_tax_point_dates)
{
    rt_aggregates a;
    rt_invoice_set set;
    example(&a);
    build(&a, &set);
    const rt_invoice *a1 = &set.items[0], *a2 = &set.items[1];
    cr_assert_eq(a1->tax_point_day, rt_days_from_civil(2026, 10, 31));
    cr_assert_eq(a1->issue_day, rt_days_from_civil(2026, 11, 1));
    cr_assert_eq(a1->due_day, rt_days_from_civil(2026, 12, 1), "company terms: 30 days");
    cr_assert_eq(a2->due_day, rt_days_from_civil(2026, 11, 15), "A2's own terms: 14 days");
    cr_assert_eq(a2->net_minor, 5);
    cr_assert_eq(a2->tax_minor, 1, "20% of 0.05 = 0.01");
    cr_assert_eq(a2->gross_minor, 6);
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

Test(invoice, tax_rate_in_force_at_the_tax_point)
{
    /* June 2026: FR/std is still 19.6%. 10.00 -> 1.96. */
    cr_assert_eq(rt_period_parse("2026-06", &period), RT_OK);
    rt_aggregates a;
    rt_invoice_set set;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    add(&a, ev(0, 5, 7, 60, INT64_C(10000000000)));
    build(&a, &set);
    cr_assert_eq(set.items[0].taxes[0].rate_e4, 196000);
    cr_assert_eq(set.items[0].tax_minor, 196);
    cr_assert_eq(set.items[0].issue_day, rt_days_from_civil(2026, 7, 1));
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

Test(invoice, line_rounding_half_up_versus_half_even)
{
    rt_company *co = RT_BOOK_ROWS(&book, RT_T_COMPANY, rt_company);
    for (int even = 0; even <= 1; even++) {
        co->line_rounding = even ? RT_ROUND_HALF_EVEN : RT_ROUND_HALF_UP;
        co->tax_rounding = even ? RT_ROUND_HALF_EVEN : RT_ROUND_HALF_UP;
        rt_aggregates a;
        rt_invoice_set set;
        cr_assert_eq(rt_agg_init(&a), RT_OK);
        add(&a, ev(0, 1, 2, 1, 125000000)); /* 0.125 -> 0.13 / 0.12 */
        add(&a, ev(0, 2, 3, 1, 135000000)); /* 0.135 -> 0.14 / 0.14 */
        add(&a, ev(0, 6, 7, 1, -125000000)); /* -0.125 -> -0.13 / -0.12 */
        add(&a, ev(1, 2, 3, 1, INT64_C(3000000000))); /* VAT 5.5% of 3.00 = 0.165 */
        build(&a, &set);
        const rt_invoice *inv = &set.items[0];
        cr_assert_eq(inv->lines[0].net_minor, even ? 12 : 13);
        cr_assert_eq(inv->lines[1].net_minor, 14);
        cr_assert_eq(inv->lines[2].net_minor, even ? -12 : -13);
        /* std base: 0.13 - 0.13 = 0 (or 0.12 - 0.12); reduced base 0.14 -> 0.0077 -> 0.01. */
        cr_assert_eq(inv->taxes[0].base_minor, 0);
        cr_assert_eq(inv->taxes[1].tax_minor, 1);
        cr_assert_eq(inv->net_minor, 14);
        cr_assert_eq(set.items[1].tax_minor, even ? 16 : 17);
        rt_invoice_set_free(&set);
        rt_agg_free(&a);
    }
}

Test(invoice, retired_product_is_described_by_its_last_version)
{
    /* OLD was retired on 2026-10-01; its late usage is billed in October. */
    rt_aggregates a;
    rt_invoice_set set;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    add(&a, ev(0, 3, 4, 1, 1000000000));
    add(&a, ev(0, 1, 1, 1, 10000000)); /* DATA rated under v1: the line shows v2 */
    build(&a, &set);
    cr_assert_eq(set.items[0].lines[0].product, 2);
    cr_assert_eq(set.items[0].lines[1].product, 4);
    cr_assert_eq(set.items[0].net_minor, 101);
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

Test(invoice, no_activity_no_invoice)
{
    rt_aggregates a;
    rt_invoice_set set;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    build(&a, &set);
    cr_assert_eq(set.count, 0);
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

Test(invoice, line_amount_out_of_range)
{
    rt_aggregates a;
    rt_invoice_set set;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    add(&a, ev(0, 0, 0, 9, INT64_C(9000000000000000000)));
    add(&a, ev(0, 0, 0, 9, INT64_C(9000000000000000000)));
    rt_agg_sort(&a);
    rt_error err;
    cr_assert_eq(rt_billing_build(&cat, &period, &a, &set, &err), RT_EOVERFLOW);
    cr_assert(strstr(err.message, "A1"), "%s", err.message);
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

Test(invoice, missing_tax_rate)
{
    rt_account *acc = RT_BOOK_ROWS(&book, RT_T_ACCOUNTS, rt_account);
    acc[0].tax_jurisdiction = "XX";
    rt_aggregates a;
    rt_invoice_set set;
    cr_assert_eq(rt_agg_init(&a), RT_OK);
    add(&a, ev(0, 6, 7, 60, 30000000));
    rt_agg_sort(&a);
    rt_error err;
    cr_assert_eq(rt_billing_build(&cat, &period, &a, &set, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "XX"), "%s", err.message);
    rt_invoice_set_free(&set);
    rt_agg_free(&a);
}

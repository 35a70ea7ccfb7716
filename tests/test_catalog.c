/* test_catalog: the rating indexes over the mini book of testutil.h: accounts, product
 * versions, charges at a time across versions and plans, taxes at a time, GL roles. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/catalog.h"
#include "testutil.h"

static rt_book book;
static rt_catalog cat;

static void load(const char *charges)
{
    char tmp[256], src[300];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
    if (charges) rt_test_write(src, "charges.csv", charges);
    size_t problems = rt_test_read_book(src, &book);
    rt_test_rmtree(tmp);
    cr_assert_eq(problems, 0);
    rt_error err;
    cr_assert_eq(rt_catalog_build(&book, &cat, &err), RT_OK);
}

static void setup(void) { load(NULL); }
static void teardown(void)
{
    rt_catalog_free(&cat);
    rt_book_free(&book);
}
TestSuite(catalog, .init = setup, .fini = teardown);

static rt_time_s at(const char *iso)
{
    rt_time_s t;
    cr_assert_eq(rt_time_parse(iso, strlen(iso), &t), RT_OK);
    return t;
}

#define ID(s) s, strlen(s)

static uint32_t charge_at(const char *account, const char *product, const char *when,
                          int *no_plan)
{
    uint32_t a = rt_catalog_account(&cat, ID(account));
    uint32_t pk = rt_catalog_product_key(&cat, ID(product));
    cr_assert_neq(a, RT_NO_INDEX);
    cr_assert_neq(pk, RT_NO_INDEX);
    uint32_t ch = RT_NO_INDEX;
    int np = -1;
    rt_status st = rt_catalog_charge_at(&cat, a, pk, at(when), &ch, &np);
    cr_assert(st == RT_OK || st == RT_ENOTFOUND);
    if (no_plan) *no_plan = np;
    return st == RT_OK ? ch : RT_NO_INDEX;
}

Test(catalog, counts_and_company)
{
    cr_assert_eq(cat.account_count, 4);
    cr_assert_eq(cat.product_count, 8);
    cr_assert_eq(cat.product_key_count, 7, "DATA has two versions");
    cr_assert_eq(cat.plan_count, 2);
    cr_assert_eq(cat.charge_count, 9);
    cr_assert_eq(cat.gl_count, 5);
    cr_assert_str_eq(cat.company->invoice_prefix, "T-");
}

Test(catalog, accounts_and_plans_by_id)
{
    cr_assert_eq(rt_catalog_account(&cat, ID("A1")), 0);
    cr_assert_eq(rt_catalog_account(&cat, ID("A4")), 3);
    cr_assert_eq(rt_catalog_account(&cat, ID("A5")), RT_NO_INDEX);
    cr_assert_eq(rt_catalog_account(&cat, ID("A")), RT_NO_INDEX);
    cr_assert_eq(rt_catalog_account(&cat, ID("")), RT_NO_INDEX);
    /* Ids are views with a length, as usage fields are. */
    cr_assert_eq(rt_catalog_account(&cat, "A2,more", 2), 1);
    cr_assert_eq(rt_catalog_plan(&cat, ID("PB")), 1);
    cr_assert_eq(rt_catalog_plan(&cat, ID("PC")), RT_NO_INDEX);
}

Test(catalog, product_versions)
{
    uint32_t data = rt_catalog_product_key(&cat, ID("DATA"));
    cr_assert_neq(data, RT_NO_INDEX);
    cr_assert_eq(cat.product_keys[data].count, 2);
    cr_assert_eq(rt_catalog_product_at(&cat, data, RT_TIME_MIN), 1);
    cr_assert_eq(rt_catalog_product_at(&cat, data, at("2026-10-09T23:59:59Z")), 1);
    cr_assert_eq(rt_catalog_product_at(&cat, data, at("2026-10-10T00:00:00Z")), 2);
    cr_assert_eq(rt_catalog_product_at(&cat, data, RT_TIME_MAX), 2);
    uint32_t old = rt_catalog_product_key(&cat, ID("OLD"));
    cr_assert_eq(rt_catalog_product_at(&cat, old, at("2026-09-30T23:59:59Z")), 4);
    cr_assert_eq(rt_catalog_product_at(&cat, old, at("2026-10-01T00:00:00Z")), RT_NO_INDEX);
    cr_assert_eq(rt_catalog_product_key(&cat, ID("NOPE")), RT_NO_INDEX);
    cr_assert_str_eq(cat.products[rt_catalog_product_at(&cat, data, RT_TIME_MAX)].name,
                     "Data v2");
}

Test(catalog, charge_at_time_across_versions)
{
    cr_assert_eq(charge_at("A1", "VOICE", "2026-10-15T11:59:59Z", NULL), 5);
    cr_assert_eq(charge_at("A1", "VOICE", "2026-10-15T12:00:00Z", NULL), 6);
    cr_assert_eq(charge_at("A1", "VOICE", "0001-01-01T00:00:00Z", NULL), 5);
    cr_assert_eq(charge_at("A1", "VOICE", "9999-12-31T23:59:59Z", NULL), 6);
    /* Product versions do not split charges: one charge prices both DATA versions. */
    cr_assert_eq(charge_at("A1", "DATA", "2026-10-01T00:00:00Z", NULL), 1);
    cr_assert_eq(charge_at("A1", "DATA", "2026-10-20T00:00:00Z", NULL), 1);
}

Test(catalog, several_plans_in_plan_id_order)
{
    /* accounts_plans.csv lists A2's PB before PA; the catalog holds them in plan_id order. */
    rt_range32 r = cat.account_plan_ranges[1];
    cr_assert_eq(r.count, 2);
    cr_assert_eq(cat.account_plan_plan[r.first], 0, "PA first");
    cr_assert_eq(cat.account_plan_plan[r.first + 1], 1, "then PB");
    cr_assert_eq(charge_at("A2", "VOICE", "2026-10-20T00:00:00Z", NULL), 6, "PA's C_VOICE");
    cr_assert_eq(charge_at("A2", "SMS", "2026-10-20T00:00:00Z", NULL), 7, "only PB has SMS");
    cr_assert_eq(charge_at("A4", "VOICE", "2026-10-20T00:00:00Z", NULL), 8, "PB's C_VOICE");
}

Test(catalog, no_plan_versus_no_charge)
{
    int no_plan;
    cr_assert_eq(charge_at("A1", "SMS", "2026-10-20T00:00:00Z", &no_plan), RT_NO_INDEX);
    cr_assert_eq(no_plan, 0, "A1 has a plan; it does not charge SMS");
    cr_assert_eq(charge_at("A3", "VOICE", "2026-10-20T00:00:00Z", &no_plan), RT_NO_INDEX);
    cr_assert_eq(no_plan, 1, "A3 has no plan at all");
    cr_assert_eq(charge_at("A4", "SMS", "2026-10-19T23:59:59Z", &no_plan), RT_NO_INDEX);
    cr_assert_eq(no_plan, 1, "A4's plan starts on 2026-10-20");
    cr_assert_eq(charge_at("A4", "SMS", "2026-10-20T00:00:00Z", &no_plan), 7);
}

Test(catalog, taxes_at_time)
{
    cr_assert_eq(rt_catalog_tax_at(&cat, "FR", "std", at("2026-06-30T23:59:59Z")), 1);
    cr_assert_eq(cat.tax_rates[1].rate_e4, 196000);
    cr_assert_eq(rt_catalog_tax_at(&cat, "FR", "std", at("2026-07-01T00:00:00Z")), 2);
    cr_assert_eq(cat.tax_rates[2].rate_e4, 200000);
    cr_assert_eq(rt_catalog_tax_at(&cat, "FR", "reduced", at("2026-10-31T00:00:00Z")), 0);
    cr_assert_eq(cat.tax_rates[0].rate_e4, 55000);
    cr_assert_eq(rt_catalog_tax_at(&cat, "BE", "std", at("2026-10-31T00:00:00Z")), RT_NO_INDEX);
    cr_assert_eq(rt_catalog_tax_at(&cat, "FR", "none", at("2026-10-31T00:00:00Z")), RT_NO_INDEX);
    /* The key joins jurisdiction and category with a separator: no accidental match. */
    cr_assert_eq(rt_catalog_tax_at(&cat, "FRs", "td", at("2026-10-31T00:00:00Z")), RT_NO_INDEX);
    char longer[200];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    cr_assert_eq(rt_catalog_tax_at(&cat, longer, "std", 0), RT_NO_INDEX);
}

Test(catalog, gl_accounts_and_roles)
{
    cr_assert_eq(rt_catalog_gl(&cat, "7062"), 3);
    cr_assert_eq(rt_catalog_gl(&cat, "999"), RT_NO_INDEX);
    cr_assert_eq(cat.gl_role[RT_GL_RECEIVABLE], 0);
    cr_assert_eq(cat.gl_role[RT_GL_VAT_PAYABLE], 1);
    cr_assert_eq(cat.gl_role[RT_GL_DEFERRED_REVENUE], RT_NO_INDEX);
    cr_assert_eq(cat.gl_role[RT_GL_UNBILLED_RECEIVABLE], RT_NO_INDEX);
}

Test(catalog, one_product_under_two_charges_of_a_plan)
{
    /* PB charges SMS through C_B until 2027 and C_A from then: sorted by charge id, C_A's
     * row comes first, but the version scan must still find each at its time. */
    rt_catalog_free(&cat);
    rt_book_free(&book);
    load("plan_id,charge_id,valid_from,valid_to,product_id,model,price\n"
         "PB,C_A,2027-01-01,,SMS,flat,0.07\n"
         "PB,C_B,,2027-01-01,SMS,flat,0.05\n"
         "PA,C_V,,,VOICE,per_unit,0.01\n");
    cr_assert_str_eq(cat.charges[0].charge_id, "C_V");
    cr_assert_str_eq(cat.charges[1].charge_id, "C_A");
    cr_assert_eq(charge_at("A2", "SMS", "2026-12-31T23:59:59Z", NULL), 2);
    cr_assert_eq(charge_at("A2", "SMS", "2027-01-01T00:00:00Z", NULL), 1);
    cr_assert_eq(charge_at("A2", "VOICE", "2027-01-01T00:00:00Z", NULL), 0);
}

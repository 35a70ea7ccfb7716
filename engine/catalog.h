/* catalog: the price book compiled for rating.
 *
 * Owns the read-only indexes built once per run from a loaded book: account id -> account,
 * product id -> its versions, account -> plan assignments, (plan, product) -> charge versions,
 * (jurisdiction, tax category) -> tax rate versions, GL accounts by role. Every lookup is a
 * hash probe plus a short scan of effective-dated versions, with no LMDB access, so rating
 * threads share one catalog without locks. It does not own the book: the book must outlive
 * the catalog. */
#ifndef RT_CATALOG_H
#define RT_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "engine/book.h"
#include "engine/strmap.h"
#include "engine/u64map.h"

#define RT_NO_INDEX UINT32_MAX

typedef struct rt_range32 {
    uint32_t first;
    uint32_t count;
} rt_range32;

typedef struct rt_catalog {
    const rt_book *book;
    const rt_company *company;
    const rt_account *accounts;
    const rt_product *products;
    const rt_plan *plans;
    const rt_charge *charges;
    const rt_account_plan *account_plans;
    const rt_tax_rate *tax_rates;
    const rt_gl_account *gl_accounts;
    size_t account_count, product_count, plan_count, charge_count, gl_count;

    rt_strmap account_index; /* account_id -> account row */
    rt_strmap product_index; /* product_id -> product key (index into product_keys) */
    rt_strmap plan_index;    /* plan_id -> plan row */
    rt_strmap gl_index;      /* gl_account -> gl row */
    rt_range32 *product_keys;    /* versions of each distinct product id in products[] */
    size_t product_key_count;
    rt_range32 *account_plan_ranges; /* per account: its rows in account_plans[] */
    uint32_t *account_plan_plan;     /* per account_plans row: plan row */
    uint32_t *charge_product_key;    /* per charge row: product key */
    uint32_t *charge_plan;           /* per charge row: plan row */
    rt_u64map plan_product;          /* (plan, product key) -> range in charge_versions */
    rt_range32 *plan_product_ranges;
    uint32_t *charge_versions;       /* charge rows grouped by (plan, product), by valid_from */
    rt_strmap tax_index;             /* "jurisdiction\x1fcategory" -> range in tax_rates[] */
    rt_range32 *tax_ranges;
    char *tax_keys;
    uint32_t gl_role[RT_GL_ROLE_COUNT_]; /* gl row per role, RT_NO_INDEX when none */
} rt_catalog;

/* Build the indexes of a validated book. RT_ENOMEM on failure (nothing to free then). */
rt_status rt_catalog_build(const rt_book *book, rt_catalog *cat, rt_error *err);
void rt_catalog_free(rt_catalog *cat);

/* Account row of an id; RT_NO_INDEX when unknown. */
uint32_t rt_catalog_account(const rt_catalog *cat, const char *id, size_t len);
/* Product key of an id; RT_NO_INDEX when unknown. */
uint32_t rt_catalog_product_key(const rt_catalog *cat, const char *id, size_t len);
/* Product row of a product key in force at t; RT_NO_INDEX when no version covers t. */
uint32_t rt_catalog_product_at(const rt_catalog *cat, uint32_t product_key, rt_time_s t);
uint32_t rt_catalog_plan(const rt_catalog *cat, const char *id, size_t len);

/* The charge row that prices product_key for the account at t: the account's plans in force
 * at t are tried in plan_id order and the first that charges the product wins.
 * Returns RT_OK, or RT_ENOTFOUND with *no_plan set when the account has no plan in force at
 * t (and cleared when it has plans but none charges the product). */
rt_status rt_catalog_charge_at(const rt_catalog *cat, uint32_t account, uint32_t product_key,
                               rt_time_s t, uint32_t *charge, int *no_plan);

/* The tax rate row for (jurisdiction, category) in force at t; RT_NO_INDEX when none. */
uint32_t rt_catalog_tax_at(const rt_catalog *cat, const char *jurisdiction, const char *category,
                           rt_time_s t);
/* The GL row of an account number; RT_NO_INDEX when unknown. */
uint32_t rt_catalog_gl(const rt_catalog *cat, const char *gl_account);

#endif

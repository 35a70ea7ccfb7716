/* catalog: the price book compiled for rating.
 *
 * Owns the read-only indexes built once per run from a loaded book: account id -> account,
 * product id -> its versions, account -> plan assignments, (plan, product) -> charge versions,
 * (jurisdiction, tax category) -> tax rate versions, GL accounts by role; the destination
 * decks as a digit trie, the plans' time zones and band sets (time band of an instant and
 * the next instant it may change), rates by (charge, zone, band), tiers per charge version,
 * allowances per plan, discounts per account and plan, FX rates. Every lookup is a
 * hash probe plus a short scan of effective-dated versions, with no LMDB access, so rating
 * threads share one catalog without locks. It does not own the book: the book must outlive
 * the catalog. */
#ifndef RT_CATALOG_H
#define RT_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "engine/book.h"
#include "engine/deck.h"
#include "engine/strmap.h"
#include "engine/timezone.h"
#include "engine/u64map.h"

#define RT_NO_INDEX UINT32_MAX

/* Band number of "no band": plans without a band set, and rates for any band. */
enum { RT_BAND_NONE = 0, RT_RATE_INTERVALS_MAX = 8 };

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

    rt_strmap account_index;  /* account_id -> account row */
    rt_strmap product_index;  /* product_id -> product key (index into product_keys) */
    rt_strmap plan_index;     /* plan_id -> plan row */
    rt_strmap gl_index;       /* gl_account -> gl row */
    rt_range32 *product_keys; /* versions of each distinct product id in products[] */
    size_t product_key_count;
    rt_range32 *account_plan_ranges; /* per account: its rows in account_plans[] */
    uint32_t *account_plan_plan;     /* per account_plans row: plan row */
    uint32_t *charge_product_key;    /* per charge row: product key */
    uint32_t *charge_plan;           /* per charge row: plan row */
    rt_u64map plan_product;          /* (plan, product key) -> range in charge_versions */
    rt_range32 *plan_product_ranges;
    uint32_t *charge_versions; /* charge rows grouped by (plan, product), by valid_from */
    rt_strmap tax_index;       /* "jurisdiction\x1fcategory" -> range in tax_rates[] */
    rt_range32 *tax_ranges;
    char *tax_keys;
    uint32_t gl_role[RT_GL_ROLE_COUNT_]; /* gl row per role, RT_NO_INDEX when none */

    /* ---- pricing tables ---- */
    const rt_tier *tiers;
    const rt_zone *zones;
    const rt_rate *rates;
    const rt_allowance *allowances;
    const rt_discount *discounts;
    const rt_fx_rate *fx_rates;
    size_t zone_count, rate_count, allowance_count, discount_count, fx_count;
    rt_arena keys;               /* text of the composite keys below */
    rt_strmap charge_key_index;  /* "plan\x1fcharge" -> charge key */
    uint32_t *charge_key;        /* per charge row: its charge key (plan, charge_id) */
    rt_range32 *charge_key_rows; /* per charge key: its versions in charges[] */
    size_t charge_key_count;
    rt_range32 *plan_charges;      /* per plan row: its rows in charges[] */
    rt_range32 *charge_tiers;      /* per charge row: its tiers in tiers[] */
    rt_range32 *plan_allowances;   /* per plan row: its rows in allowances[] */
    uint32_t *discount_rows;       /* discount rows grouped by account, then by plan */
    rt_range32 *account_discounts; /* per account row: its own discounts in discount_rows */
    rt_range32 *plan_discounts;    /* per plan row: discounts of all its accounts */
    /* destination decks */
    rt_strmap deck_index; /* deck_id -> deck number */
    rt_strmap zone_index; /* "deck\x1fzone" -> zone row */
    rt_decks decks;
    uint32_t *charge_deck; /* per charge row: deck number, RT_NO_INDEX without deck */
    /* time zones and bands */
    rt_tz *tzs;
    size_t tz_count;
    uint32_t *plan_tz;    /* per plan row: index in tzs, RT_NO_INDEX for UTC */
    rt_strmap band_index; /* band id -> band number (1..band_count) */
    const char *band_names[RT_BANDS_MAX + 1];
    size_t band_count;
    uint32_t *plan_band_set; /* per plan row: band set number, RT_NO_INDEX without */
    struct rt_band_set *band_sets;
    size_t band_set_count;
    struct rt_band_rule *band_rules;
    rt_days *holiday_days;
    /* rates */
    rt_u64map rate_index;      /* (charge key, zone, band) -> its first rate group */
    struct rt_rate_group *rate_groups;
    uint32_t *rate_group_rows; /* rows of rates[], each group's in a run */
    uint8_t *charge_key_rated; /* per charge key: 1 when rates price it */
    size_t rate_group_count;
} rt_catalog;

/* A rate group: one version of the rates of a (charge key, zone, band), the rows in force
 * over the whole of [from, to), one per interval. A rate changed mid-month makes two groups,
 * so calls before and after the change are rated by theirs and billed on lines of their own;
 * a group's rows need no time check within its span. */
typedef struct rt_rate_group {
    uint32_t first, count; /* its rows in rate_group_rows, by interval_start */
    uint32_t next;         /* the next version of its key, RT_NO_INDEX */
    rt_time_s from, to;
} rt_rate_group;

/* One rule of a compiled band set. */
typedef struct rt_band_rule {
    int32_t start_s, end_s; /* local seconds of the day, [start, end) */
    uint32_t band;
} rt_band_rule;

/* A compiled band set: the rules of day type d (0 = Monday .. 6 = Sunday, 7 = holiday) are
 * band_rules[rule_first[d] .. rule_first[d + 1]), by start; its holidays are sorted days. */
typedef struct rt_band_set {
    uint32_t rule_first[9];
    uint32_t holiday_first, holiday_count;
} rt_band_set;

/* Build the indexes of a validated book, loading the plans' time zones from tzdir
 * (RT_TZ_DIR_DEFAULT when NULL). RT_ENOMEM, RT_ELIMIT (more zones or charges than the
 * compiled keys hold), or a time zone's load error (nothing to free then). */
rt_status rt_catalog_build(const rt_book *book, rt_catalog *cat, rt_error *err);
rt_status rt_catalog_build_tz(const rt_book *book, const char *tzdir, rt_catalog *cat,
                              rt_error *err);
void rt_catalog_free(rt_catalog *cat);

/* Account row of an id; RT_NO_INDEX when unknown. */
uint32_t rt_catalog_account(const rt_catalog *cat, const char *id, size_t len);
/* Looking up many accounts in a row, each a random place in large tables, with the memory
 * asked for ahead: hash each id once (rt_catalog_account_hash); step 1 asks for its index
 * slot; step 2, some ids later, for the id's bytes and the likely account's plan range; then
 * rt_catalog_account_hashed answers, and rt_catalog_account_plans_prefetch asks for the plan
 * rows rating reads next. The hints change nothing. */
uint64_t rt_catalog_account_hash(const char *id, size_t len);
void rt_catalog_account_prefetch(const rt_catalog *cat, uint64_t hash, int step);
uint32_t rt_catalog_account_hashed(const rt_catalog *cat, uint64_t hash, const char *id,
                                   size_t len);
void rt_catalog_account_plans_prefetch(const rt_catalog *cat, uint32_t account);
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

/* ---- pricing lookups ---- */

/* The zone row of an E.164 number (digits only) in the deck of a charge at t, by longest
 * prefix; RT_NO_INDEX when no prefix matches (or the charge has no deck). *matched gets the
 * length of the matching prefix. */
uint32_t rt_catalog_zone_of(const rt_catalog *cat, uint32_t charge, const char *digits, size_t len,
                            rt_time_s t, size_t *matched);

/* The charge key of (plan_id, charge_id), RT_NO_INDEX when unknown. */
uint32_t rt_catalog_charge_key(const rt_catalog *cat, const char *plan_id, const char *charge_id);
/* The zone row of (deck_id, zone_id), RT_NO_INDEX when unknown. */
uint32_t rt_catalog_zone(const rt_catalog *cat, const char *deck_id, const char *zone_id);
/* The version of charge key k in force at t, RT_NO_INDEX when none. */
uint32_t rt_catalog_charge_version_at(const rt_catalog *cat, uint32_t k, rt_time_s t);
/* The product row of product key pk in force at t, or else its last version that started
 * before t (a product retired during the period still describes its usage). */
uint32_t rt_catalog_product_for(const rt_catalog *cat, uint32_t pk, rt_time_s t);

/* The dialling rules of a plan for rt_e164_normalise. */
rt_dialling rt_catalog_dialling(const rt_catalog *cat, uint32_t plan);

/* The UTC offset of a plan's time zone at t (0 for UTC). */
int32_t rt_catalog_plan_offset_s(const rt_catalog *cat, uint32_t plan, rt_time_s t);

/* The time band of a plan at instant t (RT_BAND_NONE when the plan has no band set), and in
 * *until the first instant after t at which it may change (a rule boundary, local midnight,
 * or a UTC offset change), RT_TIME_OPEN_END when it never does. */
uint32_t rt_catalog_band_at(const rt_catalog *cat, uint32_t plan, rt_time_s t, rt_time_s *until);

/* The rate group pricing charge row `charge` for zone row `zone` (RT_NO_INDEX: none) and
 * band `band` at t: the first of (zone, band), (zone, any band), (any zone, band), (any
 * zone, any band) that has a rate from interval_start 0 in force at t. RT_NO_INDEX when the
 * charge has no such rate. */
uint32_t rt_catalog_rate_group(const rt_catalog *cat, uint32_t charge, uint32_t zone, uint32_t band,
                               rt_time_s t);

/* The rate rows of group g, one per interval, by interval_start (at most
 * RT_RATE_INTERVALS_MAX, at least 1): all in force over the group's span, where
 * rt_catalog_rate_group found it. *count is how many; valid as long as the catalog. */
static inline const uint32_t *rt_catalog_rate_rows(const rt_catalog *cat, uint32_t group,
                                                   size_t *count)
{
    *count = cat->rate_groups[group].count;
    return cat->rate_group_rows + cat->rate_groups[group].first;
}
/* The first rate row of group g (its interval from 0 when it has one). */
static inline const rt_rate *rt_catalog_rate_first(const rt_catalog *cat, uint32_t group)
{
    return &cat->rates[cat->rate_group_rows[cat->rate_groups[group].first]];
}
/* The connection fee of a call priced by group g under charge ch: its interval from 0's, else
 * the charge's. */
static inline int64_t rt_catalog_rate_setup_fee(const rt_catalog *cat, uint32_t group,
                                                const rt_charge *ch)
{
    int64_t fee = rt_catalog_rate_first(cat, group)->setup_fee_nanos;
    return fee != RT_UNSET ? fee : ch->setup_fee_nanos;
}

/* Units of the functional currency per unit of `currency` at t, in nanos; RT_UNSET when the
 * book has no rate in force (1 unit = 10^9 for the functional currency itself). */
int64_t rt_catalog_fx_at(const rt_catalog *cat, const char *currency, rt_time_s t);

#endif

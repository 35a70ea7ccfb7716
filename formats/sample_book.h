/* sample_book: the price book source that `ratel gen` writes, and its destination deck.
 *
 * Owns the static part of the generated world (formats/README.md, "Generated samples"): the
 * company, chart of accounts, products, the three plans with their charges (every pricing
 * model of the book), tiers, allowances, plan discounts, time bands and holidays in the
 * plans' IANA time zones, tax and FX rates, and the WORLD destination deck: zones, 10k+
 * E.164 prefixes (country codes, fixed and mobile ranges listed down to number blocks,
 * longer prefixes of other zones inside them) and rates per plan, zone, band and interval.
 * The deck is also what usage generation draws called numbers from, so every generated
 * number of a known destination matches a prefix.
 *
 * It does not write accounts, account plans, account discounts, orders or usage (sample_gen
 * does, streaming them), and it uses no randomness: the book is the same for every seed. */
#ifndef RT_SAMPLE_BOOK_H
#define RT_SAMPLE_BOOK_H

#include <stdint.h>

#include "engine/buf.h"
#include "engine/datetime.h"
#include "engine/status.h"

/* The plans of the generated book; an account is on one of them (or moves from START to
 * BIZ during the period). */
typedef enum rt_gen_plan {
    RT_GEN_START = 0, /* P_START: consumer, EUR, Europe/Paris, bands rated at the call start */
    RT_GEN_BIZ,       /* P_BIZ: business, EUR, Europe/Paris, calls split at band boundaries */
    RT_GEN_CH,        /* P_CH: Swiss consumer, CHF, Europe/Zurich, bands at the call start */
    RT_GEN_PLAN_COUNT_
} rt_gen_plan;

enum {
    RT_GEN_PREFIX_SIZE = 16, /* bytes of a prefix: up to 15 digits and a NUL */
    RT_GEN_FIXED = 0,        /* number types of a destination */
    RT_GEN_MOBILE = 1,
};

/* A destination country (or territory, or network) that calls go to. */
typedef struct rt_gen_dest {
    const char *cc;         /* E.164 country code */
    const char *iso;        /* short id (ISO 3166 alpha-2, or SAT) */
    uint32_t number_digits; /* digits of a full E.164 number, country code included */
    uint32_t weight;        /* relative share of the international calls it receives */
    uint32_t first[2];      /* [RT_GEN_FIXED], [RT_GEN_MOBILE]: its prefixes in `pick` */
    uint32_t count[2];
} rt_gen_dest;

typedef struct rt_gen_zone {
    char zone_id[24];
    char name[64];
    uint32_t dest;    /* the destination it belongs to */
    int64_t price_e4; /* base price per minute, 1e-4 currency units */
} rt_gen_zone;

typedef struct rt_gen_deck {
    char (*prefix)[RT_GEN_PREFIX_SIZE]; /* digits without '+' */
    uint32_t *prefix_zone;
    uint32_t *prefix_dest;
    uint8_t *prefix_type; /* RT_GEN_FIXED or RT_GEN_MOBILE */
    uint32_t prefix_count;
    uint32_t *pick; /* prefix indexes grouped by destination and type */
    rt_gen_zone *zones;
    uint32_t zone_count;
    rt_gen_dest *dests;
    uint32_t dest_count;
    uint64_t *intl_cum; /* cumulative weights of the destinations, for international calls */
    uint32_t home_fr, home_be, home_ch; /* destination indexes */
} rt_gen_deck;

/* Build the deck from its tables. RT_ENOMEM. */
rt_status rt_gen_deck_build(rt_gen_deck *d);
void rt_gen_deck_free(rt_gen_deck *d);

/* Write every static table of the book into dir (which must exist): company, gl_accounts,
 * products, plans, charges, tiers, allowances, time_bands, holidays, tax_rates, fx_rates,
 * zones, prefixes and rates. Dates (the mid-period price changes, holidays, FX validity)
 * follow the period. RT_EEXIST, RT_EIO, RT_ENOMEM. */
rt_status rt_gen_book_write(const char *dir, const rt_period *period, const rt_gen_deck *d,
                            rt_error *err);

/* The header and plan-wide rows of discounts.csv, to which sample_gen appends the accounts'
 * own discounts. */
void rt_gen_book_plan_discounts(rt_buf *b);

/* Plan id of a plan ("P_START"...). */
const char *rt_gen_plan_id(rt_gen_plan p);

#endif

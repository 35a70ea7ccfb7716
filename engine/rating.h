/* rating: the price of one usage event.
 *
 * Owns the per-event rating rules: account -> plan(s) in force -> charge version in force at
 * the event time; quantity scaling to the product's base unit; billing increments
 * (first/next); per-unit and flat prices; setup fee; minimum and maximum per event; the
 * per-event rounding point. Pure functions over a catalog: safe on any number of threads.
 * It does not aggregate or invoice (billing does) and does not detect duplicates (dedup).
 *
 * Rounding points (documented in formats/README.md too):
 *  1. per event: usage amount = billable x price / (price_per x 10^quantity_decimals), or
 *     the price of a flat charge, rounded once to the charge's event_decimals with its
 *     event_rounding mode;
 *     then + setup fee, then bounded by min/max per event; kept in nanos;
 *  2. per invoice line: the sum of event amounts rounded to the currency's minor units
 *     (company.line_rounding);
 *  3. per invoice: VAT per rate on the sum of line nets (company.tax_rounding). */
#ifndef RT_RATING_H
#define RT_RATING_H

#include <stdint.h>

#include "engine/catalog.h"
#include "engine/usage.h"

enum { RT_RATED_LATE = 1 }; /* event before the period, billed under --late bill */

typedef enum rt_late_policy { RT_LATE_BILL = 0, RT_LATE_REJECT = 1 } rt_late_policy;

/* Largest quantity any event may carry, in base units, whatever the product says. */
#define RT_QUANTITY_MAX INT64_C(1000000000000000)

/* One rated event. */
typedef struct rt_rated {
    uint64_t fp_lo, fp_hi; /* XXH3-128 of the event id: the duplicate fingerprint */
    uint64_t ordinal;      /* (chunk seq << 32) | rec_no: the input order */
    uint32_t account;      /* account row */
    uint32_t charge;       /* charge row */
    uint32_t product;      /* product row in force at the event time */
    uint32_t event;        /* index of the event in its batch */
    uint32_t flags;        /* RT_RATED_* */
    int64_t quantity_base; /* quantity in the product's base unit */
    int64_t billable_base; /* after billing increments */
    int64_t amount_nanos;  /* rated amount, rounded at the event rounding point */
    rt_time_s start_s;
} rt_rated;

typedef struct rt_rating_ctx {
    const rt_catalog *cat;
    rt_period period;
    rt_late_policy late;
} rt_rating_ctx;

/* Billable quantity under first/next increments: 0 stays 0; up to `first` bills `first`;
 * beyond, `first` plus whole steps of `next`. first == 0 means no rounding. RT_EOVERFLOW
 * when the result does not fit. */
rt_status rt_billable_quantity(int64_t quantity, int64_t first, int64_t next, int64_t *out);

/* Amount of one event of `billable` base units under a charge whose product has
 * `quantity_decimals`, at the per-event rounding point (see above). RT_EOVERFLOW. */
rt_status rt_charge_event_amount(const rt_charge *ch, int64_t quantity_decimals,
                                 int64_t billable, int64_t *amount_nanos);

/* Rate one event. Returns RT_REJ_NONE and fills out, or a reject reason with the offending
 * field name (static) and a message. */
rt_reject_reason rt_rate_event(const rt_rating_ctx *ctx, const rt_event *ev, rt_rated *out,
                               const char **field, char *msg, size_t msg_size);

#endif

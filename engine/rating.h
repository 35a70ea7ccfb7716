/* rating: the price of one usage event.
 *
 * Owns the per-event rating rules: account -> plan(s) in force -> charge version in force at
 * the event time; quantity scaling to the product's base unit; the destination zone of a
 * call (E.164 normalisation, longest prefix in the charge's deck); the time band in the
 * plan's time zone, and the split of a call at band boundaries when the plan says so; the
 * rate of the (zone, band) and its intervals (a rate from interval_start base units on);
 * billing increments (first/next); per-unit and flat prices; setup fee; minimum and maximum
 * per event; the per-event rounding point. Period models (tiered, volume, package) record
 * the billable quantity and only the event's setup fee: billing prices the period total.
 * Pure functions over a catalog: safe on any number of threads. It does not aggregate or
 * invoice (billing does) and does not detect duplicates (dedup).
 *
 * Rounding points (documented in formats/README.md too):
 *  1. per event: usage amount = sum over the event's intervals of billable x price /
 *     (price_per x 10^quantity_decimals), or the price of a flat charge, rounded once to the
 *     charge's event_decimals with its event_rounding mode (a call split at band boundaries:
 *     once per rate it touches);
 *     then + setup fee, then bounded by min/max per event; kept in nanos;
 *  2. per invoice line: the sum of event amounts rounded to the currency's minor units
 *     (company.line_rounding);
 *  3. per invoice: VAT per rate on the sum of line nets (company.tax_rounding). */
#ifndef RT_RATING_H
#define RT_RATING_H

#include <stdint.h>
#include <xxhash.h>

#include "engine/catalog.h"
#include "engine/dedup.h"
#include "engine/usage.h"

enum { RT_RATED_LATE = 1 }; /* event before the period, billed under --late bill */

typedef enum rt_late_policy { RT_LATE_BILL = 0, RT_LATE_REJECT = 1 } rt_late_policy;

/* Largest quantity any event may carry, in base units, whatever the product says. */
#define RT_QUANTITY_MAX INT64_C(1000000000000000)

enum {
    RT_RATED_PARTS_MAX = 4, /* distinct rates one (split) call may touch */
    RT_SEGMENTS_MAX = 256,  /* band boundaries one call may cross */
};

/* The part of an event priced by one rate (a call split at band boundaries has several). */
typedef struct rt_rated_part {
    int64_t quantity_base; /* the share of the event's quantity in this part */
    int64_t billable_base;
    int64_t amount_nanos; /* after the event rounding point; the setup fee is on part 0 */
    uint32_t rate_group;  /* catalog rate group, RT_NO_INDEX when the charge prices it */
    uint32_t band;        /* time band at the part's start (RT_BAND_NONE without bands) */
} rt_rated_part;

/* One rated event. */
typedef struct rt_rated {
    uint64_t fp_lo, fp_hi; /* XXH3-128 of the event id: the duplicate fingerprint */
    uint64_t ordinal;      /* (chunk seq << 32) | rec_no: the input order */
    uint32_t account;      /* account row */
    uint32_t charge;       /* charge row */
    uint32_t product;      /* product row in force at the event time */
    uint32_t event;        /* index of the event in its batch */
    uint32_t flags;        /* RT_RATED_* */
    uint32_t prior_run;    /* a committed run that already billed this event id, or 0 */
    int64_t quantity_base; /* quantity in the product's base unit */
    int64_t billable_base; /* after billing increments */
    int64_t amount_nanos;  /* rated amount, rounded at the event rounding point */
    rt_time_s start_s;
    uint32_t zone;       /* destination zone row, RT_NO_INDEX without deck */
    uint32_t part_count; /* 1..RT_RATED_PARTS_MAX */
    rt_rated_part parts[RT_RATED_PARTS_MAX];
} rt_rated;

typedef struct rt_rating_ctx {
    const rt_catalog *cat;
    rt_period period;
    rt_late_policy late;
    rt_time_s late_limit_s; /* events before this are rejected LATE whatever the policy */
} rt_rating_ctx;

/* Billable quantity under first/next increments: 0 stays 0; up to `first` bills `first`;
 * beyond, `first` plus whole steps of `next` (so 0/60 bills 61 as 120). Only 0/0 means no
 * rounding; `first` > 0 needs `next` > 0 (asserted). RT_EOVERFLOW when the result does not
 * fit. */
rt_status rt_billable_quantity(int64_t quantity, int64_t first, int64_t next, int64_t *out);

/* Amount of one event of `billable` base units under a charge whose product has
 * `quantity_decimals`, priced by the charge's own price (no rates), at the per-event
 * rounding point (see above); for period models only the setup fee. RT_EOVERFLOW. */
rt_status rt_charge_event_amount(const rt_charge *ch, int64_t quantity_decimals, int64_t billable,
                                 int64_t *amount_nanos);

/* A sum of terms units x price_nanos / per (per: a price_per), kept exact as num / den with
 * den the least common multiple of the `per` values added; the common divisor
 * 10^quantity_decimals is applied when rounding. Start from {0, 0}. */
typedef struct rt_price_sum {
    __int128 num;
    int64_t den;
} rt_price_sum;

/* Add units x price_nanos / per. RT_EOVERFLOW when the exact sum leaves 128 bits or the
 * common denominator exceeds 10^15. */
rt_status rt_price_sum_add(rt_price_sum *s, int64_t units, int64_t price_nanos, int64_t per);

/* The sum / 10^qdec in nanos, rounded once to `decimals` (0-9) decimals with `mode`.
 * RT_EOVERFLOW. */
rt_status rt_price_sum_round(const rt_price_sum *s, int64_t qdec, int64_t decimals, rt_round mode,
                             int64_t *nanos);

/* What a called number costs under one charge at one instant (for `book show`). */
typedef struct rt_number_quote {
    char e164[RT_E164_DIGITS_MAX + 1];    /* the normalised number */
    size_t prefix_len;                    /* digits of the matching deck prefix */
    uint32_t zone;                        /* zone row, RT_NO_INDEX without deck */
    uint32_t band;                        /* band at t, RT_BAND_NONE without bands */
    rt_time_s band_until;                 /* the band holds until then (RT_TIME_OPEN_END) */
    int32_t utc_offset_s;                 /* the plan's UTC offset at t */
    uint32_t rate_group;                  /* RT_NO_INDEX: priced by the charge itself */
    uint32_t rows[RT_RATE_INTERVALS_MAX]; /* the group's rate rows in force at t */
    size_t row_count;
} rt_number_quote;

/* Quote a called number under charge row `charge` at t: normalisation, zone, band, rate.
 * Returns RT_REJ_NONE, or the reject reason a call would get (BAD_NUMBER,
 * UNKNOWN_DESTINATION, MISSING_FIELD) with the quote filled as far as it got. */
rt_reject_reason rt_quote_number(const rt_catalog *cat, uint32_t charge, const char *number,
                                 size_t len, rt_time_s t, rt_number_quote *q);

/* Rate one event. Returns RT_REJ_NONE and fills out, or a reject reason with the offending
 * field name (static) and a message. */
rt_reject_reason rt_rate_event(const rt_rating_ctx *ctx, const rt_event *ev, rt_rated *out,
                               const char **field, char *msg, size_t msg_size);
/* The same with the event's account row already looked up (rt_catalog_account; RT_NO_INDEX
 * when unknown): a caller rating many events looks accounts up ahead, memory fetched early. */
rt_reject_reason rt_rate_event_of(const rt_rating_ctx *ctx, const rt_event *ev, uint32_t account,
                                  rt_rated *out, const char **field, char *msg, size_t msg_size);
/* The duplicate fingerprint a rated event gets (fp_lo, fp_hi): XXH3-128 of its id. Inline:
 * rating takes it for every event. */
static inline rt_fp128 rt_rate_event_fingerprint(const rt_event *ev)
{
    XXH128_hash_t fp = XXH3_128bits(ev->event_id, ev->event_id_len);
    return (rt_fp128){fp.low64, fp.high64};
}

#endif

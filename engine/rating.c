/* rating: per-event rating rules. */
#include "engine/rating.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "engine/buf.h"

rt_status rt_billable_quantity(int64_t q, int64_t first, int64_t next, int64_t *out)
{
    RT_ASSERT(q >= 0 && first >= 0 && next >= 0);
    /* Only 0/0 leaves the quantity as is: a first step of 0 with a next step (0/60, 0/6)
     * still bills whole steps of `next` from the start, as the tariff says. */
    if (q == 0 || (first == 0 && next == 0)) {
        *out = q;
        return RT_OK;
    }
    if (q <= first) {
        *out = first;
        return RT_OK;
    }
    RT_ASSERT(next > 0); /* book import rejects a first step without a next one */
    int64_t rest = q - first;
    int64_t steps = rest / next + (rest % next != 0);
    int64_t extra;
    if (rt_mul_i64(steps, next, &extra) != RT_OK) return RT_EOVERFLOW;
    return rt_add_i64(first, extra, out);
}

/* ---- exact sums of billable x price / price_per ---- */

#define EXACT_DEN_MAX INT64_C(1000000000000000)

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

rt_status rt_price_sum_add(rt_price_sum *e, int64_t units, int64_t price_nanos, int64_t per)
{
    RT_ASSERT(per > 0);
    if (e->den == 0) e->den = per;
    if (e->den % per != 0) {
        /* New denominator: lcm(den, per), the numerator scaled to it. */
        int64_t k = per / gcd64(e->den, per);
        if (e->den > EXACT_DEN_MAX / k) return RT_EOVERFLOW;
        if (__builtin_mul_overflow(e->num, (__int128)k, &e->num)) return RT_EOVERFLOW;
        e->den *= k;
    }
    __int128 term = (__int128)units * price_nanos;
    if (__builtin_mul_overflow(term, (__int128)(e->den / per), &term) ||
        __builtin_add_overflow(e->num, term, &e->num))
        return RT_EOVERFLOW;
    return RT_OK;
}

rt_status rt_price_sum_round(const rt_price_sum *e, int64_t qdec, int64_t decimals, rt_round mode,
                             int64_t *out)
{
    RT_ASSERT(qdec >= 0 && qdec <= 6 && decimals >= 0 && decimals <= RT_NANOS_SCALE);
    if (e->den == 0 || e->num == 0) {
        *out = 0;
        return RT_OK;
    }
    unsigned drop = (unsigned)(RT_NANOS_SCALE - decimals);
    __int128 den = (__int128)e->den * rt_pow10((unsigned)qdec) * rt_pow10(drop);
    int64_t at_decimals;
    rt_status st = rt_div_round_i128(e->num, den, mode, &at_decimals);
    if (st != RT_OK) return st;
    return rt_mul_i64(at_decimals, rt_pow10(drop), out);
}

/* The per-event rounding point of a charge. */
static rt_status exact_round(const rt_price_sum *e, int64_t qdec, const rt_charge *ch, int64_t *out)
{
    return rt_price_sum_round(e, qdec, ch->event_decimals, (rt_round)ch->event_rounding, out);
}

/* Setup fee, then the per-event minimum and maximum. */
static rt_status bound_event(const rt_charge *ch, int64_t setup_nanos, int64_t *amount)
{
    if (rt_add_i64(*amount, setup_nanos, amount) != RT_OK) return RT_EOVERFLOW;
    if (ch->min_per_event_nanos != RT_UNSET && *amount < ch->min_per_event_nanos)
        *amount = ch->min_per_event_nanos;
    if (ch->max_per_event_nanos != RT_UNSET && *amount > ch->max_per_event_nanos)
        *amount = ch->max_per_event_nanos;
    return RT_OK;
}

rt_status rt_charge_event_amount(const rt_charge *ch, int64_t qdec, int64_t billable,
                                 int64_t *amount_nanos)
{
    RT_ASSERT(qdec >= 0 && qdec <= 6 && ch->event_decimals >= 0 &&
              ch->event_decimals <= RT_NANOS_SCALE);
    int64_t amount = 0;
    bool period = rt_charge_model_is_period((rt_charge_model)ch->model);
    if (ch->model == RT_CHARGE_FLAT) {
        /* A flat price is an event amount too: rounded at the charge's event_decimals. */
        unsigned drop = (unsigned)(RT_NANOS_SCALE - ch->event_decimals);
        int64_t at_decimals;
        if (rt_div_round_i128(ch->price_nanos, rt_pow10(drop), (rt_round)ch->event_rounding,
                              &at_decimals) != RT_OK ||
            rt_mul_i64(at_decimals, rt_pow10(drop), &amount) != RT_OK)
            return RT_EOVERFLOW;
    } else if (billable != 0 && !period) {
        rt_price_sum e = {0, 0};
        rt_status st = rt_price_sum_add(&e, billable, ch->price_nanos, ch->price_per);
        if (st == RT_OK) st = exact_round(&e, qdec, ch, &amount);
        if (st != RT_OK) return st;
    }
    if (ch->model == RT_CHARGE_FLAT || billable > 0) {
        if (period) return rt_add_i64(0, ch->setup_fee_nanos, amount_nanos);
        if (bound_event(ch, ch->setup_fee_nanos, &amount) != RT_OK) return RT_EOVERFLOW;
    }
    *amount_nanos = amount;
    return RT_OK;
}

/* ---- rates: zones, bands, intervals ---- */

typedef struct segment {
    int64_t from, to; /* elapsed base units of the event, [from, to) */
    uint32_t band;
    uint32_t group;
} segment;

/* Cut the event into segments of one band each: one segment unless the plan splits calls
 * that cross a band boundary (only time-based quantities can cross one). Returns the
 * segment count, 0 when there are more than RT_SEGMENTS_MAX. */
static size_t band_segments(const rt_catalog *cat, uint32_t plan, const rt_product *prod,
                            rt_time_s start, int64_t qty, segment *seg)
{
    rt_time_s until;
    seg[0] = (segment){0, qty, rt_catalog_band_at(cat, plan, start, &until), RT_NO_INDEX};
    /* Whether the unit is time is asked last: most plans do not split, and it is a string. */
    if (cat->plans[plan].band_crossing != RT_CROSSING_SPLIT || until == RT_TIME_OPEN_END ||
        strcmp(prod->unit, "second") != 0)
        return 1;
    int64_t per_s = rt_pow10((unsigned)prod->quantity_decimals);
    int64_t duration_s = qty / per_s + (qty % per_s != 0);
    size_t n = 1;
    /* Bounded: a boundary where the band stays costs a step too. */
    for (int steps = 0; steps < 4 * RT_SEGMENTS_MAX; steps++) {
        int64_t e = until - start; /* elapsed seconds at the next possible change */
        if (e >= duration_s) return n;
        seg[n - 1].to = e * per_s;
        uint32_t band = rt_catalog_band_at(cat, plan, start + e, &until);
        if (band == seg[n - 1].band) {
            seg[n - 1].to = qty; /* a boundary where the band stays: one segment */
        } else {
            if (n == RT_SEGMENTS_MAX) return 0;
            seg[n++] = (segment){e * per_s, qty, band, RT_NO_INDEX};
        }
        if (until == RT_TIME_OPEN_END) return n;
    }
    return 0;
}

/* Price the segment [from, to) under the interval rows of a rate group: each interval's share
 * of the segment is rounded up to that interval's increments and priced at its rate. */
static rt_status price_segment(const rt_catalog *cat, const rt_charge *ch, const uint32_t *rows,
                               size_t nrows, int64_t from, int64_t to, int64_t *billable,
                               rt_price_sum *sum)
{
    for (size_t j = 0; j < nrows; j++) {
        const rt_rate *r = &cat->rates[rows[j]];
        int64_t lo = from > r->interval_start ? from : r->interval_start;
        int64_t hi = j + 1 < nrows && cat->rates[rows[j + 1]].interval_start < to
                         ? cat->rates[rows[j + 1]].interval_start
                         : to;
        if (hi <= lo) continue;
        int64_t first = r->first_increment != RT_UNSET ? r->first_increment : ch->first_increment;
        int64_t next = r->next_increment != RT_UNSET ? r->next_increment : ch->next_increment;
        int64_t per = r->price_per != RT_UNSET ? r->price_per : ch->price_per;
        int64_t billed;
        if (rt_billable_quantity(hi - lo, first, next, &billed) != RT_OK ||
            rt_add_i64(*billable, billed, billable) != RT_OK ||
            rt_price_sum_add(sum, billed, r->price_nanos, per) != RT_OK)
            return RT_EOVERFLOW;
    }
    return RT_OK;
}

/* Lower the parts' amounts by `excess`, from the last part back, none below zero. */
static void cap_parts(rt_rated *out, int64_t excess)
{
    for (uint32_t k = out->part_count; k-- > 0 && excess > 0;) {
        int64_t cut = out->parts[k].amount_nanos < excess ? out->parts[k].amount_nanos : excess;
        if (cut < 0) cut = 0;
        out->parts[k].amount_nanos -= cut;
        excess -= cut;
    }
}

/* Setup fee on the first part, then the per-event minimum (raising the first part) and
 * maximum (lowering the last parts). */
static rt_status finish_parts(const rt_charge *ch, int64_t setup, bool charged, rt_rated *out)
{
    int64_t total = 0;
    if (charged && rt_add_i64(out->parts[0].amount_nanos, setup, &out->parts[0].amount_nanos))
        return RT_EOVERFLOW;
    for (uint32_t k = 0; k < out->part_count; k++)
        if (rt_add_i64(total, out->parts[k].amount_nanos, &total) != RT_OK) return RT_EOVERFLOW;
    if (charged && ch->min_per_event_nanos != RT_UNSET && total < ch->min_per_event_nanos) {
        out->parts[0].amount_nanos += ch->min_per_event_nanos - total;
        total = ch->min_per_event_nanos;
    }
    if (charged && ch->max_per_event_nanos != RT_UNSET && total > ch->max_per_event_nanos) {
        cap_parts(out, total - ch->max_per_event_nanos);
        total = ch->max_per_event_nanos;
    }
    out->amount_nanos = total;
    return RT_OK;
}

static rt_reject_reason fail(const char **field, const char *name, char *msg, size_t n,
                             rt_reject_reason r, const char *text)
{
    *field = name;
    snprintf(msg, n, "%s", text);
    return r;
}

/* Price an event through the rates of its charge: segments by band, a rate group per
 * segment, parts per distinct group, each part rounded once. */
static rt_reject_reason rate_with_rates(const rt_catalog *cat, uint32_t charge,
                                        const rt_product *prod, rt_time_s start, int64_t qty,
                                        rt_rated *out, const char **field, char *msg, size_t n)
{
    const rt_charge *ch = &cat->charges[charge];
    uint32_t plan = cat->charge_plan[charge];
    segment seg[RT_SEGMENTS_MAX];
    size_t ns = band_segments(cat, plan, prod, start, qty, seg);
    if (ns == 0)
        return fail(field, "quantity", msg, n, RT_REJ_ABSURD_QUANTITY,
                    "the call crosses too many time band boundaries");
    rt_price_sum sums[RT_RATED_PARTS_MAX];
    memset(sums, 0, sizeof sums);
    out->part_count = 0;
    for (size_t s = 0; s < ns; s++) {
        uint32_t g = rt_catalog_rate_group(cat, charge, out->zone, seg[s].band, start);
        if (g == RT_NO_INDEX) {
            snprintf(msg, n, "no rate for zone %s in band %s",
                     out->zone == RT_NO_INDEX ? "(any)" : cat->zones[out->zone].zone_id,
                     seg[s].band == RT_BAND_NONE ? "(any)" : cat->band_names[seg[s].band]);
            *field = "called_number";
            return RT_REJ_UNKNOWN_DESTINATION;
        }
        uint32_t k = 0;
        while (k < out->part_count && out->parts[k].rate_group != g)
            k++;
        if (k == RT_RATED_PARTS_MAX)
            return fail(field, "quantity", msg, n, RT_REJ_ABSURD_QUANTITY,
                        "the call crosses more time bands than one event may touch");
        if (k == out->part_count)
            out->parts[out->part_count++] = (rt_rated_part){0, 0, 0, g, seg[s].band};
        out->parts[k].quantity_base += seg[s].to - seg[s].from;
        size_t nrows;
        const uint32_t *rows = rt_catalog_rate_rows(cat, g, &nrows); /* the version at start */
        if (ch->model == RT_CHARGE_FLAT) {
            /* A flat price is per event: the rate of the band the event starts in. */
            if (rt_billable_quantity(qty, ch->first_increment, ch->next_increment,
                                     &out->parts[k].billable_base) != RT_OK)
                return fail(field, "quantity", msg, n, RT_REJ_OVERFLOW, "quantity overflow");
            out->parts[k].amount_nanos = cat->rates[rows[0]].price_nanos;
            out->parts[k].quantity_base = qty;
            break;
        }
        if (price_segment(cat, ch, rows, nrows, seg[s].from, seg[s].to,
                          &out->parts[k].billable_base, &sums[k]) != RT_OK)
            return fail(field, "quantity", msg, n, RT_REJ_OVERFLOW,
                        "the event's amount does not fit the money representation");
    }
    bool charged = ch->model == RT_CHARGE_FLAT;
    out->billable_base = 0;
    for (uint32_t k = 0; k < out->part_count; k++) {
        charged = charged || out->parts[k].billable_base > 0;
        if ((ch->model != RT_CHARGE_FLAT && exact_round(&sums[k], prod->quantity_decimals, ch,
                                                        &out->parts[k].amount_nanos) != RT_OK) ||
            rt_add_i64(out->billable_base, out->parts[k].billable_base, &out->billable_base))
            return fail(field, "quantity", msg, n, RT_REJ_OVERFLOW,
                        "the event's amount does not fit the money representation");
    }
    /* The connection fee is the first rate's (the one in force when the call starts). */
    int64_t setup = rt_catalog_rate_setup_fee(cat, out->parts[0].rate_group, ch);
    if (finish_parts(ch, setup, charged, out) != RT_OK)
        return fail(field, "quantity", msg, n, RT_REJ_OVERFLOW,
                    "the event's amount does not fit the money representation");
    return RT_REJ_NONE;
}

/* The destination zone of a call under a charge with a deck. */
static rt_reject_reason find_zone(const rt_catalog *cat, uint32_t charge, const rt_event *ev,
                                  uint32_t *zone, const char **field, char *msg, size_t n)
{
    *zone = RT_NO_INDEX;
    if (cat->charge_deck[charge] == RT_NO_INDEX) return RT_REJ_NONE;
    if (ev->called_len == 0)
        return fail(field, "called_number", msg, n, RT_REJ_MISSING_FIELD,
                    "the charge is priced by destination but the call has no called number");
    char digits[RT_E164_DIGITS_MAX + 1];
    size_t len;
    rt_dialling d = rt_catalog_dialling(cat, cat->charge_plan[charge]);
    if (rt_e164_normalise(ev->called, ev->called_len, &d, digits, &len) != RT_OK)
        return fail(field, "called_number", msg, n, RT_REJ_BAD_NUMBER,
                    "called number is not a plausible E.164 number");
    *zone = rt_catalog_zone_of(cat, charge, digits, len, ev->start_s, NULL);
    if (*zone == RT_NO_INDEX)
        return fail(field, "called_number", msg, n, RT_REJ_UNKNOWN_DESTINATION,
                    "no prefix of the rate deck matches the called number");
    return RT_REJ_NONE;
}

rt_reject_reason rt_quote_number(const rt_catalog *cat, uint32_t charge, const char *number,
                                 size_t len, rt_time_s t, rt_number_quote *q)
{
    memset(q, 0, sizeof *q);
    uint32_t plan = cat->charge_plan[charge];
    q->zone = q->rate_group = RT_NO_INDEX;
    q->utc_offset_s = rt_catalog_plan_offset_s(cat, plan, t);
    q->band = rt_catalog_band_at(cat, plan, t, &q->band_until);
    if (cat->charge_deck[charge] != RT_NO_INDEX) {
        rt_dialling d = rt_catalog_dialling(cat, plan);
        size_t n;
        if (len == 0) return RT_REJ_MISSING_FIELD;
        if (rt_e164_normalise(number, len, &d, q->e164, &n) != RT_OK) return RT_REJ_BAD_NUMBER;
        q->zone = rt_catalog_zone_of(cat, charge, q->e164, n, t, &q->prefix_len);
        if (q->zone == RT_NO_INDEX) return RT_REJ_UNKNOWN_DESTINATION;
    }
    if (!cat->charge_key_rated[cat->charge_key[charge]]) return RT_REJ_NONE;
    q->rate_group = rt_catalog_rate_group(cat, charge, q->zone, q->band, t);
    if (q->rate_group == RT_NO_INDEX) return RT_REJ_UNKNOWN_DESTINATION;
    const uint32_t *rows = rt_catalog_rate_rows(cat, q->rate_group, &q->row_count);
    memcpy(q->rows, rows, q->row_count * sizeof *rows);
    return RT_REJ_NONE;
}

/* ---- one event ---- */

static rt_reject_reason check_event(const rt_rating_ctx *ctx, const rt_event *ev, uint32_t *flags,
                                    const char **field, char *msg, size_t n)
{
    if (ev->start_s >= ctx->period.end_s)
        return fail(field, "start_time", msg, n, RT_REJ_AFTER_PERIOD,
                    "event starts after the end of the billing period");
    *flags = 0;
    if (ev->start_s < ctx->late_limit_s)
        return fail(field, "start_time", msg, n, RT_REJ_LATE,
                    "event is older than the late-usage window (--late-window)");
    if (ev->start_s < ctx->period.start_s) {
        if (ctx->late == RT_LATE_REJECT)
            return fail(field, "start_time", msg, n, RT_REJ_LATE,
                        "event starts before the billing period (late usage, --late reject)");
        *flags |= RT_RATED_LATE;
    }
    if (ev->qty_mantissa < 0)
        return fail(field, "quantity", msg, n, RT_REJ_NEGATIVE_QUANTITY, "quantity is negative");
    return RT_REJ_NONE;
}

/* The quantity in the product's base unit: exact, never rounded. */
static rt_reject_reason base_quantity(const rt_event *ev, const rt_product *prod, int64_t *qty,
                                      const char **field, char *msg, size_t n)
{
    /* Trailing zeros carry no value ("60.0" seconds is 60 seconds): only decimals that do
     * are more than the unit allows. */
    int64_t mantissa = ev->qty_mantissa, scale = ev->qty_scale;
    while (scale > prod->quantity_decimals && mantissa % 10 == 0) {
        mantissa /= 10;
        scale--;
    }
    if (scale > prod->quantity_decimals)
        return fail(field, "quantity", msg, n, RT_REJ_BAD_QUANTITY,
                    "quantity has more decimals than the product's unit allows");
    /* The message names the limit passed: the engine's holds for every product, so blaming
     * the product's maximum would send someone to look for a max_quantity it may not have. */
    if (rt_mul_i64(mantissa, rt_pow10((unsigned)(prod->quantity_decimals - scale)), qty) != RT_OK ||
        *qty > RT_QUANTITY_MAX)
        return fail(field, "quantity", msg, n, RT_REJ_ABSURD_QUANTITY,
                    "quantity is above the engine's limit of 10^15 base units for any product");
    if (prod->max_quantity != RT_UNSET && *qty > prod->max_quantity) {
        char max[48], text[96];
        rt_decimal_format(prod->max_quantity, (unsigned)prod->quantity_decimals, -1, 0, '.', max,
                          sizeof max);
        RT_TEXT_JOIN(text, sizeof text, "quantity is above the product's max_quantity of ", max);
        return fail(field, "quantity", msg, n, RT_REJ_ABSURD_QUANTITY, text);
    }
    return RT_REJ_NONE;
}

rt_reject_reason rt_rate_event(const rt_rating_ctx *ctx, const rt_event *ev, rt_rated *out,
                               const char **field, char *msg, size_t n)
{
    return rt_rate_event_of(ctx, ev, rt_catalog_account(ctx->cat, ev->account, ev->account_len),
                            out, field, msg, n);
}

rt_reject_reason rt_rate_event_of(const rt_rating_ctx *ctx, const rt_event *ev, uint32_t account,
                                  rt_rated *out, const char **field, char *msg, size_t n)
{
    const rt_catalog *cat = ctx->cat;
    uint32_t flags;
    rt_reject_reason why = check_event(ctx, ev, &flags, field, msg, n);
    if (why != RT_REJ_NONE) return why;
    if (account == RT_NO_INDEX)
        return fail(field, "account_id", msg, n, RT_REJ_UNKNOWN_ACCOUNT,
                    "account is not in the price book");
    uint32_t pk = rt_catalog_product_key(cat, ev->product, ev->product_len);
    uint32_t prow = pk == RT_NO_INDEX ? RT_NO_INDEX : rt_catalog_product_at(cat, pk, ev->start_s);
    if (prow == RT_NO_INDEX)
        return fail(field, "product_id", msg, n, RT_REJ_UNKNOWN_PRODUCT,
                    pk == RT_NO_INDEX ? "product is not in the price book"
                                      : "product is not in force at the event time");
    const rt_product *prod = &cat->products[prow];
    if (prod->revenue_type != RT_REVENUE_USAGE)
        return fail(field, "product_id", msg, n, RT_REJ_UNKNOWN_PRODUCT,
                    "product is not a usage product");
    int64_t qty;
    if ((why = base_quantity(ev, prod, &qty, field, msg, n)) != RT_REJ_NONE) return why;

    uint32_t charge;
    int no_plan;
    if (rt_catalog_charge_at(cat, account, pk, ev->start_s, &charge, &no_plan) != RT_OK)
        return no_plan ? fail(field, "account_id", msg, n, RT_REJ_NO_PLAN,
                              "account has no price plan in force at the event time")
                       : fail(field, "product_id", msg, n, RT_REJ_NO_CHARGE,
                              "no plan of the account charges this product at the event time");
    const rt_charge *ch = &cat->charges[charge];
    if (ch->model == RT_CHARGE_PERCENTAGE)
        return fail(field, "product_id", msg, n, RT_REJ_NO_CHARGE,
                    "the product is charged as a percentage of other charges, not by usage");

    if ((why = find_zone(cat, charge, ev, &out->zone, field, msg, n)) != RT_REJ_NONE) return why;
    if (cat->charge_key_rated[cat->charge_key[charge]]) {
        why = rate_with_rates(cat, charge, prod, ev->start_s, qty, out, field, msg, n);
        if (why != RT_REJ_NONE) return why;
    } else {
        int64_t billable, amount;
        if (rt_billable_quantity(qty, ch->first_increment, ch->next_increment, &billable) !=
                RT_OK ||
            rt_charge_event_amount(ch, prod->quantity_decimals, billable, &amount) != RT_OK)
            return fail(field, "quantity", msg, n, RT_REJ_OVERFLOW,
                        "the event's amount does not fit the money representation");
        out->part_count = 1;
        out->parts[0] = (rt_rated_part){qty, billable, amount, RT_NO_INDEX, RT_BAND_NONE};
        out->billable_base = billable;
        out->amount_nanos = amount;
    }

    rt_fp128 fp = rt_rate_event_fingerprint(ev);
    out->fp_lo = fp.lo;
    out->fp_hi = fp.hi;
    out->account = account;
    out->charge = charge;
    out->product = prow;
    out->flags = flags;
    out->prior_run = 0;
    out->quantity_base = qty;
    out->start_s = ev->start_s;
    return RT_REJ_NONE;
}

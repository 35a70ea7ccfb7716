/* rating: per-event rating rules. */
#include "engine/rating.h"

#include <stdbool.h>
#include <stdio.h>
#include <xxhash.h>

rt_status rt_billable_quantity(int64_t q, int64_t first, int64_t next, int64_t *out)
{
    RT_ASSERT(q >= 0 && first >= 0 && next >= 0);
    if (q == 0 || first == 0) {
        *out = q;
        return RT_OK;
    }
    if (q <= first) {
        *out = first;
        return RT_OK;
    }
    RT_ASSERT(next > 0);
    int64_t rest = q - first;
    int64_t steps = rest / next + (rest % next != 0);
    int64_t extra;
    if (rt_mul_i64(steps, next, &extra) != RT_OK) return RT_EOVERFLOW;
    return rt_add_i64(first, extra, out);
}

rt_status rt_charge_event_amount(const rt_charge *ch, int64_t qdec, int64_t billable,
                                 int64_t *amount_nanos)
{
    RT_ASSERT(qdec >= 0 && qdec <= 6 && ch->event_decimals >= 0 &&
              ch->event_decimals <= RT_NANOS_SCALE);
    int64_t amount = 0;
    bool flat = ch->model == RT_CHARGE_FLAT;
    if (flat || billable != 0) {
        /* One division, one rounding, at event_decimals: the amount is
         * billable x price_nanos / (price_per x 10^qdec) for a per-unit charge and the price
         * itself for a flat one, divided by 10^(9 - event_decimals) and rounded there. */
        unsigned drop = (unsigned)(RT_NANOS_SCALE - ch->event_decimals);
        __int128 num = flat ? (__int128)ch->price_nanos : (__int128)billable * ch->price_nanos;
        __int128 den = flat ? (__int128)1 : (__int128)ch->price_per * rt_pow10((unsigned)qdec);
        den *= rt_pow10(drop);
        int64_t at_decimals;
        rt_status st = rt_div_round_i128(num, den, (rt_round)ch->event_rounding, &at_decimals);
        if (st != RT_OK) return st;
        if (rt_mul_i64(at_decimals, rt_pow10(drop), &amount) != RT_OK) return RT_EOVERFLOW;
    }
    if (flat || billable > 0) {
        if (rt_add_i64(amount, ch->setup_fee_nanos, &amount) != RT_OK) return RT_EOVERFLOW;
        if (ch->min_per_event_nanos != RT_UNSET && amount < ch->min_per_event_nanos)
            amount = ch->min_per_event_nanos;
        if (ch->max_per_event_nanos != RT_UNSET && amount > ch->max_per_event_nanos)
            amount = ch->max_per_event_nanos;
    }
    *amount_nanos = amount;
    return RT_OK;
}

static rt_reject_reason fail(const char **field, const char *name, char *msg, size_t n,
                             rt_reject_reason r, const char *text)
{
    *field = name;
    snprintf(msg, n, "%s", text);
    return r;
}

rt_reject_reason rt_rate_event(const rt_rating_ctx *ctx, const rt_event *ev, rt_rated *out,
                               const char **field, char *msg, size_t n)
{
    const rt_catalog *cat = ctx->cat;
    if (ev->start_s >= ctx->period.end_s)
        return fail(field, "start_time", msg, n, RT_REJ_AFTER_PERIOD,
                    "event starts after the end of the billing period");
    uint32_t flags = 0;
    if (ev->start_s < ctx->period.start_s) {
        if (ctx->late == RT_LATE_REJECT)
            return fail(field, "start_time", msg, n, RT_REJ_LATE,
                        "event starts before the billing period (late usage, --late reject)");
        flags |= RT_RATED_LATE;
    }
    uint32_t account = rt_catalog_account(cat, ev->account, ev->account_len);
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

    /* Quantity to base units: exact, never rounded. */
    if (ev->qty_mantissa < 0)
        return fail(field, "quantity", msg, n, RT_REJ_NEGATIVE_QUANTITY, "quantity is negative");
    /* Trailing zeros carry no value ("60.0" seconds is 60 seconds): only decimals that do
     * are more than the unit allows. */
    int64_t mantissa = ev->qty_mantissa;
    int64_t scale = ev->qty_scale;
    while (scale > prod->quantity_decimals && mantissa % 10 == 0) {
        mantissa /= 10;
        scale--;
    }
    if (scale > prod->quantity_decimals)
        return fail(field, "quantity", msg, n, RT_REJ_BAD_QUANTITY,
                    "quantity has more decimals than the product's unit allows");
    int64_t qty;
    if (rt_mul_i64(mantissa, rt_pow10((unsigned)(prod->quantity_decimals - scale)), &qty) !=
            RT_OK ||
        qty > RT_QUANTITY_MAX ||
        (prod->max_quantity != RT_UNSET && qty > prod->max_quantity))
        return fail(field, "quantity", msg, n, RT_REJ_ABSURD_QUANTITY,
                    "quantity is above the product's maximum");

    uint32_t charge;
    int no_plan;
    if (rt_catalog_charge_at(cat, account, pk, ev->start_s, &charge, &no_plan) != RT_OK)
        return no_plan ? fail(field, "account_id", msg, n, RT_REJ_NO_PLAN,
                              "account has no price plan in force at the event time")
                       : fail(field, "product_id", msg, n, RT_REJ_NO_CHARGE,
                              "no plan of the account charges this product at the event time");
    const rt_charge *ch = &cat->charges[charge];

    int64_t billable, amount;
    if (rt_billable_quantity(qty, ch->first_increment, ch->next_increment, &billable) != RT_OK ||
        rt_charge_event_amount(ch, prod->quantity_decimals, billable, &amount) != RT_OK)
        return fail(field, "quantity", msg, n, RT_REJ_OVERFLOW,
                    "the event's amount does not fit the money representation");

    XXH128_hash_t fp = XXH3_128bits(ev->event_id, ev->event_id_len);
    out->fp_lo = fp.low64;
    out->fp_hi = fp.high64;
    out->account = account;
    out->charge = charge;
    out->product = prow;
    out->flags = flags;
    out->quantity_base = qty;
    out->billable_base = billable;
    out->amount_nanos = amount;
    out->start_s = ev->start_s;
    return RT_REJ_NONE;
}

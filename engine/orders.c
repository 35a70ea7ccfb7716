/* orders: subscription timelines, proration and the stateless billing of the order book. */
#include "engine/orders.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/usage.h"

static const char *const action_names[RT_ORDER_ACTION_COUNT_] = {"new", "change", "cancel",
                                                                 "one_time"};

const char *rt_order_action_name(rt_order_action a)
{
    RT_ASSERT((unsigned)a < RT_ORDER_ACTION_COUNT_);
    return action_names[a];
}

/* ---- the order book ---- */

void rt_order_book_init(rt_order_book *ob)
{
    memset(ob, 0, sizeof *ob);
    rt_arena_init(&ob->arena, 4 << 20);
}

static void free_texts(rt_order_book *ob)
{
    for (size_t i = 0; i < ob->text_count; i++) free(ob->texts[i]);
    free(ob->texts);
    ob->texts = NULL;
    ob->text_count = 0;
}

void rt_order_book_free(rt_order_book *ob)
{
    free(ob->lines);
    free(ob->rejects);
    free_texts(ob);
    rt_arena_free(&ob->arena);
    memset(ob, 0, sizeof *ob);
}

bool rt_order_book_adopt(rt_order_book *ob, char *text)
{
    char **t = realloc(ob->texts, (ob->text_count + 1) * sizeof *t);
    if (!t) return false;
    ob->texts = t;
    ob->texts[ob->text_count++] = text;
    return true;
}

bool rt_order_book_reserve(rt_order_book *ob, size_t lines)
{
    if (lines <= ob->capacity - ob->count) return true;
    size_t cap = ob->count + lines;
    rt_order_line *l = realloc(ob->lines, cap * sizeof *l);
    if (!l) return false;
    ob->lines = l;
    ob->capacity = cap;
    return true;
}

rt_order_line *rt_order_book_push(rt_order_book *ob)
{
    if (ob->count == ob->capacity) {
        size_t cap = ob->capacity ? ob->capacity * 2 : 256;
        rt_order_line *l = realloc(ob->lines, cap * sizeof *l);
        if (!l) return NULL;
        ob->lines = l;
        ob->capacity = cap;
    }
    rt_order_line *l = &ob->lines[ob->count++];
    memset(l, 0, sizeof *l);
    return l;
}

bool rt_order_book_reject(rt_order_book *ob, uint32_t reason, uint32_t source, uint64_t line,
                          const char *raw, size_t raw_len, const char *field, const char *fmt,
                          ...)
{
    if (ob->reject_count == ob->reject_capacity) {
        size_t cap = ob->reject_capacity ? ob->reject_capacity * 2 : 64;
        rt_order_reject *r = realloc(ob->rejects, cap * sizeof *r);
        if (!r) return false;
        ob->rejects = r;
        ob->reject_capacity = cap;
    }
    rt_order_reject *r = &ob->rejects[ob->reject_count++];
    r->reason = reason;
    r->source = source;
    r->source_line = line;
    r->field = field ? field : "";
    r->raw = raw;
    r->raw_len = (uint32_t)raw_len;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return true;
}

bool rt_order_book_compact(rt_order_book *ob)
{
    rt_arena keep;
    rt_arena_init(&keep, 64 * 1024);
    for (size_t i = 0; i < ob->reject_count; i++) {
        rt_order_reject *r = &ob->rejects[i];
        char *raw = r->raw ? rt_arena_strndup(&keep, r->raw, r->raw_len) : NULL;
        char *field = rt_arena_strndup(&keep, r->field, strlen(r->field));
        if ((r->raw && !raw) || !field) {
            rt_arena_free(&keep);
            return false;
        }
        /* Nothing else points into the old arena once the lines are gone. */
        r->raw = raw;
        r->field = field;
    }
    free(ob->lines);
    ob->lines = NULL;
    ob->count = ob->capacity = 0;
    free_texts(ob);
    rt_arena_free(&ob->arena);
    ob->arena = keep;
    return true;
}

void rt_order_result_drop_charges(rt_order_result *r)
{
    free(r->charges);
    r->charges = NULL;
    r->charge_count = r->charge_capacity = 0;
}

void rt_order_result_free(rt_order_result *r)
{
    free(r->charges);
    free(r->releases);
    rt_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

/* ---- calendar months ---- */

int32_t rt_month_index(rt_days day)
{
    int y;
    unsigned m, d;
    rt_civil_from_days(day, &y, &m, &d);
    return (int32_t)(y * 12 + (int)m - 1);
}

rt_days rt_month_start(int32_t mi)
{
    int32_t y = mi >= 0 ? mi / 12 : (mi - 11) / 12;
    return rt_days_from_civil(y, (unsigned)(mi - y * 12 + 1), 1);
}

/* One month's piece of a segment serving `days` of the month's `month_days`: price x
 * quantity x days / days in month, rounded half-up to 1e-9; the discount is applied to the
 * piece, rounded the same way. */
static rt_status month_piece(int64_t price_nanos, int64_t qty, int64_t qdec, int64_t discount_e4,
                             int32_t days, int32_t month_days, int64_t *piece)
{
    __int128 num = (__int128)price_nanos * qty * days;
    __int128 den = (__int128)month_days * rt_pow10((unsigned)qdec);
    /* |price| <= 1e18, |qty| <= RT_ORDER_QTY_MAX and days <= 31 keep num inside 128 bits. */
    RT_ASSERT(qty >= 0 && qty <= RT_ORDER_QTY_MAX);
    if (rt_div_round_i128(num, den, RT_ROUND_HALF_UP, piece) != RT_OK) return RT_EOVERFLOW;
    if (discount_e4 != RT_UNSET &&
        rt_mul_div_round(*piece, 1000000 - discount_e4, 1000000, RT_ROUND_HALF_UP, piece) != RT_OK)
        return RT_EOVERFLOW;
    return RT_OK;
}

rt_status rt_prorate_nanos(int64_t price_nanos, int64_t qty, int64_t qdec, int64_t discount_e4,
                           rt_days seg_start, rt_days seg_end, int32_t first_month,
                           int32_t months, __int128 *nanos)
{
    __int128 sum = 0;
    for (int32_t k = first_month; k < first_month + months; k++) {
        rt_days ms = rt_month_start(k), me = rt_month_start(k + 1);
        int32_t days = rt_days_overlap(seg_start, seg_end, ms, me);
        if (days == 0) continue;
        int64_t piece;
        rt_status st = month_piece(price_nanos, qty, qdec, discount_e4, days, me - ms, &piece);
        if (st != RT_OK) return st;
        sum += piece;
    }
    *nanos = sum;
    return RT_OK;
}

/* ---- validation against the book ---- */

/* The account and product key of a line, looked up once when the line is checked. */
typedef struct line_rows {
    uint32_t account;
    uint32_t product_key;
} line_rows;

typedef struct ctx {
    const rt_catalog *cat;
    const rt_period *period;
    rt_order_book *ob;
    rt_order_result *out;
    uint8_t *bad;     /* per line: rejected */
    line_rows *rows;  /* per line: valid once check_line accepted it */
    const rt_currency *functional; /* the company's currency: releases are booked in it */
    /* Set when a release could not be valued: no FX rate for this currency on this day. */
    const rt_currency *fx_missing;
    rt_days fx_missing_day;
} ctx;

static int line_cmp(const void *x, const void *y)
{
    const rt_order_line *a = x, *b = y;
    int c = strcmp(a->subscription_id, b->subscription_id);
    if (c) return c;
    if (a->effective_day != b->effective_day) return a->effective_day < b->effective_day ? -1 : 1;
    if (a->booked_day != b->booked_day) return a->booked_day < b->booked_day ? -1 : 1;
    c = strcmp(a->order_id, b->order_id);
    if (c) return c;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    /* Copies of one line keep their file order, so the same copy is always the one kept. */
    if (a->source != b->source) return a->source < b->source ? -1 : 1;
    return a->source_line < b->source_line ? -1 : a->source_line > b->source_line;
}

static bool reject(ctx *c, size_t i, uint32_t reason, const char *field, const char *msg)
{
    const rt_order_line *l = &c->ob->lines[i];
    c->bad[i] = 1;
    return rt_order_book_reject(c->ob, reason, l->source, l->source_line, l->raw, l->raw_len,
                                field, "%s", msg);
}

/* Per-line checks that need the price book. */
static bool check_line(ctx *c, size_t i)
{
    const rt_order_line *l = &c->ob->lines[i];
    const rt_catalog *cat = c->cat;
    uint32_t a = rt_catalog_account(cat, l->account_id, strlen(l->account_id));
    if (a == RT_NO_INDEX)
        return reject(c, i, RT_REJ_UNKNOWN_ACCOUNT, "account_id", "account is not in the price book");
    uint32_t pk = rt_catalog_product_key(cat, l->product_id, strlen(l->product_id));
    c->rows[i] = (line_rows){a, pk};
    rt_time_s t = rt_time_of_days(l->effective_day);
    uint32_t prow = pk == RT_NO_INDEX ? RT_NO_INDEX : rt_catalog_product_at(cat, pk, t);
    if (prow == RT_NO_INDEX)
        return reject(c, i, RT_REJ_UNKNOWN_PRODUCT, "product_id",
                      "product is not in the price book on the effective date");
    const rt_product *p = &cat->products[prow];
    rt_revenue_type want = l->action == RT_ORDER_ONE_TIME ? RT_REVENUE_ONE_TIME : RT_REVENUE_RECURRING;
    if (p->revenue_type != (int32_t)want)
        return reject(c, i, RT_REJ_UNKNOWN_PRODUCT, "product_id",
                      want == RT_REVENUE_ONE_TIME ? "a one_time line needs a one_time product"
                                                  : "a subscription needs a recurring product");
    if (l->qty_mantissa != RT_UNSET && (l->qty_mantissa < 0 || l->qty_scale > p->quantity_decimals))
        return reject(c, i, RT_REJ_BAD_QUANTITY, "quantity",
                      l->qty_mantissa < 0 ? "quantity is negative"
                                          : "quantity has more decimals than the product allows");
    uint32_t ch;
    int no_plan;
    if (l->price_nanos == RT_UNSET && l->action != RT_ORDER_CANCEL &&
        rt_catalog_charge_at(cat, a, pk, t, &ch, &no_plan) != RT_OK)
        return reject(c, i, no_plan ? RT_REJ_NO_PLAN : RT_REJ_NO_CHARGE, "product_id",
                      no_plan ? "account has no price plan in force on the effective date"
                              : "no plan of the account prices this product and the line has no price");
    return true;
}

/* Sequence checks of one subscription (lines sorted by effective date): a start before any
 * change or cancel, no second start while active, one account and product throughout. */
static bool check_sequence(ctx *c, size_t first, size_t end)
{
    const rt_order_line *L = c->ob->lines;
    bool active = false;
    size_t start_line = SIZE_MAX;
    for (size_t i = first; i < end; i++) {
        if (c->bad[i]) continue;
        const char *why = NULL;
        if (start_line != SIZE_MAX && (strcmp(L[i].account_id, L[start_line].account_id) != 0 ||
                                       strcmp(L[i].product_id, L[start_line].product_id) != 0))
            why = "a subscription keeps one account and one product";
        else if (L[i].action == RT_ORDER_NEW && active)
            why = "the subscription is already active";
        else if (L[i].action != RT_ORDER_NEW && !active)
            why = "the subscription is not active on the effective date";
        else if (L[i].action == RT_ORDER_NEW && L[i].end_day <= L[i].effective_day)
            why = "end_date must be after the effective date";
        if (why) {
            if (!reject(c, i, RT_REJ_BAD_ORDER, "action", why)) return false;
            continue;
        }
        if (L[i].action == RT_ORDER_NEW) {
            active = true;
            start_line = i;
        } else if (L[i].action == RT_ORDER_CANCEL) {
            active = false;
        }
        /* A fixed term ends the subscription by itself. */
        if (active && L[start_line].end_day != RT_DAYS_OPEN && i + 1 < end &&
            L[i + 1].effective_day >= L[start_line].end_day)
            active = false;
    }
    return true;
}

/* ---- segments ---- */

typedef struct segment {
    rt_days start, end;
    int64_t qty_base;
    int64_t price_nanos; /* override or RT_UNSET */
    int64_t discount_e4;
} segment;

static int64_t to_base(int64_t mantissa, uint8_t scale, int64_t qdec)
{
    /* scale <= qdec was checked; quantities are bounded by the parser. */
    return mantissa * rt_pow10((unsigned)(qdec - scale));
}

/* The segments of one subscription as known before `known`: lines booked before it. */
static size_t build_segments(const rt_order_line *L, const uint8_t *bad, size_t n,
                             rt_days known, int64_t qdec, segment *out)
{
    size_t count = 0;
    bool active = false;
    segment cur = {0};
    rt_days term_end = RT_DAYS_OPEN;
    for (size_t i = 0; i < n; i++) {
        if (bad[i] || L[i].booked_day >= known) continue;
        if (active && term_end <= L[i].effective_day) {
            cur.end = term_end;
            if (cur.end > cur.start) out[count++] = cur;
            active = false;
        }
        switch ((rt_order_action)L[i].action) {
        case RT_ORDER_NEW:
            if (active) break;
            active = true;
            cur = (segment){L[i].effective_day, RT_DAYS_OPEN,
                            L[i].qty_mantissa == RT_UNSET ? 1 * rt_pow10((unsigned)qdec)
                                                          : to_base(L[i].qty_mantissa, L[i].qty_scale, qdec),
                            L[i].price_nanos, L[i].discount_e4};
            term_end = L[i].end_day;
            break;
        case RT_ORDER_CHANGE:
            if (!active) break;
            cur.end = L[i].effective_day;
            if (cur.end > cur.start) out[count++] = cur;
            cur.start = L[i].effective_day;
            if (L[i].qty_mantissa != RT_UNSET) cur.qty_base = to_base(L[i].qty_mantissa, L[i].qty_scale, qdec);
            if (L[i].price_nanos != RT_UNSET) cur.price_nanos = L[i].price_nanos;
            if (L[i].discount_e4 != RT_UNSET) cur.discount_e4 = L[i].discount_e4;
            break;
        case RT_ORDER_CANCEL:
            if (!active) break;
            cur.end = L[i].effective_day;
            if (cur.end > cur.start) out[count++] = cur;
            active = false;
            break;
        default: break;
        }
    }
    if (active) {
        cur.end = term_end;
        out[count++] = cur;
    }
    return count;
}

/* ---- value of a cycle ---- */

typedef struct sub_info {
    uint32_t account;
    uint32_t product_key;
    uint32_t product; /* row in force at the first line */
    int64_t qdec;
    int64_t cycle_months;
    bool advance;
    const rt_currency *currency;
    rt_days first_cut; /* the first period end after its first line was booked */
} sub_info;

/* Value in nanos of months [first_month, first_month + months) of the segments, clipped to
 * days before `until`. Prices come from the override or from the charge in force on the first
 * service day of each month. RT_ENOTFOUND when a month has no price. */
static rt_status cycle_nanos(const ctx *c, const sub_info *s, const segment *seg, size_t nseg,
                             int32_t first_month, int32_t months, rt_days until, __int128 *out)
{
    __int128 sum = 0;
    /* The months' first days, once for all segments (a cycle is at most 12 months). */
    rt_days bound[13];
    RT_ASSERT(months >= 1 && months <= 12);
    for (int32_t k = 0; k <= months; k++) bound[k] = rt_month_start(first_month + k);
    for (size_t g = 0; g < nseg; g++) {
        rt_days end = seg[g].end < until ? seg[g].end : until;
        if (seg[g].start >= bound[months] || end <= bound[0]) continue;
        for (int32_t k = 0; k < months; k++) {
            rt_days ms = bound[k], me = bound[k + 1];
            int32_t days = rt_days_overlap(seg[g].start, end, ms, me);
            if (days == 0) continue;
            int64_t price = seg[g].price_nanos;
            if (price == RT_UNSET) {
                rt_days first = seg[g].start > ms ? seg[g].start : ms;
                uint32_t ch;
                int no_plan;
                if (rt_catalog_charge_at(c->cat, s->account, s->product_key, rt_time_of_days(first),
                                         &ch, &no_plan) != RT_OK ||
                    c->cat->charges[ch].model != RT_CHARGE_RECURRING)
                    return RT_ENOTFOUND;
                price = c->cat->charges[ch].price_nanos;
            }
            int64_t piece;
            rt_status st =
                month_piece(price, seg[g].qty_base, s->qdec, seg[g].discount_e4, days, me - ms,
                            &piece);
            if (st != RT_OK) return st;
            sum += piece;
        }
    }
    *out = sum;
    return RT_OK;
}

static rt_status to_minor(const ctx *c, const sub_info *s, __int128 nanos, int64_t *minor)
{
    if (nanos > INT64_MAX || nanos < INT64_MIN) return RT_EOVERFLOW;
    return rt_rescale((int64_t)nanos, RT_NANOS_SCALE, s->currency->minor_units,
                      (rt_round)c->cat->company->line_rounding, minor);
}

/* ---- output ---- */

static rt_status push_charge(ctx *c, const rt_extra_line *oc)
{
    rt_order_result *r = c->out;
    if (r->charge_count == r->charge_capacity) {
        size_t cap = r->charge_capacity ? r->charge_capacity * 2 : 256;
        rt_extra_line *n = realloc(r->charges, cap * sizeof *n);
        if (!n) return RT_ENOMEM;
        r->charges = n;
        r->charge_capacity = cap;
    }
    r->charges[r->charge_count++] = *oc;
    return RT_OK;
}

static rt_status add_release(ctx *c, uint32_t gl, int64_t amount)
{
    rt_order_result *r = c->out;
    for (size_t i = 0; i < r->release_count; i++) {
        if (r->releases[i].gl == gl) {
            return rt_add_i64(r->releases[i].amount_minor, amount, &r->releases[i].amount_minor);
        }
    }
    rt_revenue_release *n = realloc(r->releases, (r->release_count + 1) * sizeof *n);
    if (!n) return RT_ENOMEM;
    r->releases = n;
    r->releases[r->release_count++] = (rt_revenue_release){gl, amount};
    return RT_OK;
}

static const char *describe(ctx *c, const rt_product *p, rt_days from, rt_days to, bool adjust)
{
    /* Made for every cycle line of every subscription: joined, not printf'd. */
    char a[16], b[16], buf[RT_TEXT_LEN_MAX + 64];
    rt_date_format(from, a, sizeof a);
    rt_date_format(to - 1, b, sizeof b);
    RT_TEXT_JOIN(buf, sizeof buf, p->name, ", ", a, " to ", b, adjust ? " (adjustment)" : "");
    return rt_arena_strndup(&c->out->arena, buf, strlen(buf));
}

/* A subscription's segments as known at the period's start (k = 0) and end (k = 1): the same
 * for all its cycles. `same` when no line was booked during the period, so both are equal. */
typedef struct known_segments {
    const segment *seg[2];
    size_t nseg[2];
    bool same;
} known_segments;

/* The release of deferred revenue of a cycle in the functional currency: what was earned
 * through the period's end less what was earned through its start (rec[1] - rec[0], in the
 * subscription's currency), each converted at the FX rate the deferral was booked at: that
 * of the issue date of the invoice that first billed the cycle, the first period end on or
 * after both the cycle's start and the booking of the subscription's first line (periods are
 * calendar months, so period ends are months' first days). Converted cumulatively, a cycle's
 * releases add up to its value at that rate; what its invoices deferred can differ by a
 * conversion rounding (an invoice's deferred lines are converted as one sum) or by an
 * adjustment billed later at another rate (formats/README.md). RT_ENOTFOUND (c->fx_missing
 * set) when the book has no rate for that day. */
static rt_status release_value(ctx *c, const sub_info *s, rt_days cs, const int64_t rec[2],
                               int64_t *out)
{
    if (s->currency == c->functional) return rt_sub_i64(rec[1], rec[0], out);
    rt_days day = s->first_cut > cs ? s->first_cut : cs;
    int64_t rate = rt_catalog_fx_at(c->cat, s->currency->code, rt_time_of_days(day));
    if (rate == RT_UNSET || rate <= 0) {
        c->fx_missing = s->currency;
        c->fx_missing_day = day;
        return RT_ENOTFOUND;
    }
    int64_t v[2];
    for (int k = 0; k < 2; k++)
        if (rt_journal_convert(rec[k], s->currency->minor_units, rate,
                               c->functional->minor_units, &v[k]) != RT_OK)
            return RT_EOVERFLOW;
    return rt_sub_i64(v[1], v[0], out);
}

/* The segment of seg[0 .. n) in force on day d, or NULL. */
static const segment *segment_on(const segment *seg, size_t n, rt_days d)
{
    for (size_t i = 0; i < n; i++)
        if (seg[i].start <= d && d < seg[i].end) return &seg[i];
    return NULL;
}

static bool same_terms(const segment *a, const segment *b)
{
    if (!a || !b) return a == b;
    return a->qty_base == b->qty_base && a->price_nanos == b->price_nanos &&
           a->discount_e4 == b->discount_e4;
}

/* The days of [cs, ce) whose terms (in service or not, quantity, price, discount) differ
 * between what was known at the period's start and at its end, as [*from, *to): what an
 * adjustment of an already billed cycle bills or credits (a cancel on the 20th: the 20th to
 * the cycle's end). *from >= *to when none differ (the book's price changed instead). */
static void changed_days(const known_segments *ks, rt_days cs, rt_days ce, rt_days *from,
                         rt_days *to)
{
    *from = ce;
    *to = cs;
    for (rt_days d = cs, next; d < ce; d = next) {
        next = ce; /* the next day on which any segment starts or ends */
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < ks->nseg[k]; i++) {
                const segment *g = &ks->seg[k][i];
                if (g->start > d && g->start < next) next = g->start;
                if (g->end > d && g->end < next) next = g->end;
            }
        if (same_terms(segment_on(ks->seg[0], ks->nseg[0], d),
                       segment_on(ks->seg[1], ks->nseg[1], d)))
            continue;
        if (d < *from) *from = d;
        if (next > *to) *to = next;
    }
}

/* Bill one cycle of a subscription: B(C, P.end) - B(C, P.start), and the release of what
 * advance billing deferred: Rec(C, P.end) - Rec(C, P.start), in the functional currency. */
static rt_status bill_cycle(ctx *c, const sub_info *s, const known_segments *ks, int32_t cm)
{
    const rt_period *P = c->period;
    rt_days cs = rt_month_start(cm), ce = rt_month_start(cm + (int32_t)s->cycle_months);
    int64_t b[2] = {0, 0}, rec[2] = {0, 0}, qty_now = 0, price_now = RT_UNSET;
    rt_days serv_start = ce, serv_end = cs; /* service days billed, as known now */
    rt_days cut[2] = {P->start_day, P->end_day};
    for (int k = 0; k < 2; k++) {
        bool billable = s->advance ? cs <= cut[k] : ce <= cut[k];
        if (!billable) continue;
        const segment *seg = ks->seg[k];
        size_t nseg = ks->nseg[k];
        __int128 v, earned;
        rt_status st;
        /* Billable at the start too (cut[0] < cut[1]) with the same segments: the same value. */
        bool known_at_start = s->advance ? cs <= cut[0] : ce <= cut[0];
        if (k == 1 && ks->same && known_at_start) {
            b[1] = b[0];
        } else {
            st = cycle_nanos(c, s, seg, nseg, cm, (int32_t)s->cycle_months, RT_DAYS_OPEN, &v);
            if (st != RT_OK) return st;
            if ((st = to_minor(c, s, v, &b[k])) != RT_OK) return st;
        }
        if (s->advance) {
            /* Revenue earned through the cut: the service days before it, valued the same way;
             * once the cycle is over, everything billed (the rounding remainder goes to the
             * last release). */
            if (ce <= cut[k]) {
                rec[k] = b[k];
            } else {
                if ((st = cycle_nanos(c, s, seg, nseg, cm, (int32_t)s->cycle_months, cut[k],
                                      &earned)) != RT_OK)
                    return st;
                if ((st = to_minor(c, s, earned, &rec[k])) != RT_OK) return st;
            }
        }
        if (k == 1)
            for (size_t g = 0; g < nseg; g++) {
                if (seg[g].start >= ce || seg[g].end <= cs) continue;
                qty_now = seg[g].qty_base;
                price_now = seg[g].price_nanos;
                rt_days a = seg[g].start > cs ? seg[g].start : cs;
                rt_days e = seg[g].end < ce ? seg[g].end : ce;
                if (a < serv_start) serv_start = a;
                if (e > serv_end) serv_end = e;
            }
    }
    const rt_product *p = &c->cat->products[s->product];
    if (s->advance && rec[1] != rec[0]) {
        uint32_t gl = rt_catalog_gl(c->cat, p->gl_account);
        int64_t value;
        rt_status st = release_value(c, s, cs, rec, &value);
        if (st == RT_OK && value != 0) st = add_release(c, gl, value);
        if (st != RT_OK) return st;
    }
    if (b[1] == b[0]) return RT_OK;
    rt_extra_line oc;
    memset(&oc, 0, sizeof oc);
    oc.account = s->account;
    oc.line.deferred = s->advance;
    rt_invoice_line *l = &oc.line;
    l->kind = RT_LINE_RECURRING;
    l->zone = l->rate_group = RT_NO_INDEX;
    l->product = s->product;
    uint32_t ch;
    int no_plan;
    /* The line's charge is the one in force on the first service day it bills: an account
     * that joined during the cycle had no plan on the cycle's first day. */
    rt_days priced_day = serv_start < serv_end ? serv_start : cs;
    l->charge = rt_catalog_charge_at(c->cat, s->account, s->product_key,
                                     rt_time_of_days(priced_day), &ch, &no_plan) == RT_OK
                    ? ch
                    : RT_NO_INDEX;
    if (price_now != RT_UNSET) { /* the order's own price, per month and unit */
        l->unit_price_nanos = price_now;
        l->price_per = 1;
    }
    l->events = 0;
    l->quantity_base = qty_now;
    l->billable_base = qty_now;
    l->net_minor = b[1] - b[0];
    if (rt_rescale(l->net_minor, s->currency->minor_units, RT_NANOS_SCALE, RT_ROUND_HALF_UP,
                   &l->amount_nanos) != RT_OK)
        return RT_EOVERFLOW;
    if (serv_start >= serv_end) {
        /* Cancelled before the cycle began: the line is a full credit of the cycle. */
        serv_start = cs;
        serv_end = ce;
    }
    if (b[0] != 0 && !ks->same) {
        /* An adjustment of a cycle billed before: its days are those whose terms changed,
         * not the days in service as known now (a cancel on the 20th credits the 20th to the
         * end, which a label of the 1st to the 19th would misstate). */
        rt_days from, to;
        changed_days(ks, cs, ce, &from, &to);
        if (from < to) {
            serv_start = from;
            serv_end = to;
        }
    }
    l->service_start_day = serv_start;
    l->service_end_day = serv_end;
    bool adjust = b[0] != 0 || cs < P->start_day || (s->advance && cs < P->end_day);
    l->description = describe(c, p, serv_start, serv_end, adjust);
    if (!l->description) return RT_ENOMEM;
    return push_charge(c, &oc);
}

/* seg has room for two subscriptions' worth of segments: one per line, plus one, each. */
static rt_status bill_subscription(ctx *c, size_t first, size_t end, segment *seg)
{
    const rt_order_line *L = &c->ob->lines[first];
    const uint8_t *bad = &c->bad[first];
    size_t n = end - first, head = 0;
    while (head < n && (bad[head] || L[head].action != RT_ORDER_NEW)) head++;
    if (head == n) return RT_OK; /* nothing valid starts it */
    const rt_catalog *cat = c->cat;
    sub_info s;
    s.account = c->rows[first + head].account;
    s.product_key = c->rows[first + head].product_key;
    s.product = rt_catalog_product_at(cat, s.product_key, rt_time_of_days(L[head].effective_day));
    s.qdec = cat->products[s.product].quantity_decimals;
    s.advance = cat->products[s.product].billing_timing == RT_BILL_IN_ADVANCE;
    s.currency = rt_currency_find(cat->accounts[s.account].currency);
    s.first_cut = rt_month_start(rt_month_index(L[head].booked_day) + 1);
    uint32_t ch;
    int no_plan;
    s.cycle_months = rt_catalog_charge_at(cat, s.account, s.product_key,
                                          rt_time_of_days(L[head].effective_day), &ch,
                                          &no_plan) == RT_OK
                         ? cat->charges[ch].cycle_months
                         : 1;
    /* Cycles from the horizon to the one that starts at the period end. */
    int32_t last = rt_month_index(c->period->end_day);
    int32_t from = last - RT_ORDERS_HORIZON_MONTHS;
    from -= ((from % (int32_t)s.cycle_months) + (int32_t)s.cycle_months) % (int32_t)s.cycle_months;
    /* Segments do not depend on the cycle: built once per cut, and once for both when no line
     * was booked during the period (the two cuts then take the same lines). */
    known_segments ks = {{seg, seg}, {0, 0}, true};
    for (size_t i = 0; i < n; i++)
        if (!bad[i] && L[i].booked_day >= c->period->start_day &&
            L[i].booked_day < c->period->end_day)
            ks.same = false;
    ks.nseg[0] = ks.nseg[1] = build_segments(L, bad, n, c->period->start_day, s.qdec, seg);
    if (!ks.same) {
        ks.seg[1] = seg + n + 1;
        ks.nseg[1] = build_segments(L, bad, n, c->period->end_day, s.qdec, seg + n + 1);
    }
    for (int32_t cm = from; cm <= last; cm += (int32_t)s.cycle_months) {
        rt_status st = bill_cycle(c, &s, &ks, cm);
        if (st == RT_ENOTFOUND && !c->fx_missing) {
            /* The plan stopped pricing the product: the whole subscription is rejected so the
             * order desk sees it, rather than billing some months for free. */
            for (size_t i = 0; i < n; i++)
                if (!bad[i] && !reject(c, first + i, RT_REJ_NO_CHARGE, "product_id",
                                       "no recurring price for the product in the account's "
                                       "plans for part of the service"))
                    return RT_ENOMEM;
            return RT_OK;
        }
        if (st != RT_OK) return st;
    }
    return RT_OK;
}

/* One-time lines: billed once, in the first run whose period end is after both the charge
 * date and the booking date. */
static rt_status bill_one_time(ctx *c, size_t i)
{
    const rt_order_line *l = &c->ob->lines[i];
    const rt_period *P = c->period;
    rt_days known = l->effective_day > l->booked_day ? l->effective_day : l->booked_day;
    rt_days horizon = rt_month_start(rt_month_index(P->end_day) - RT_ORDERS_HORIZON_MONTHS);
    if (known >= P->end_day || known < P->start_day || l->effective_day < horizon) return RT_OK;
    const rt_catalog *cat = c->cat;
    uint32_t a = c->rows[i].account, pk = c->rows[i].product_key;
    rt_time_s t = rt_time_of_days(l->effective_day);
    uint32_t prow = rt_catalog_product_at(cat, pk, t);
    const rt_product *p = &cat->products[prow];
    const rt_currency *cur = rt_currency_find(cat->accounts[a].currency);
    int64_t price = l->price_nanos, per = 1;
    uint32_t ch = RT_NO_INDEX;
    int no_plan;
    if (rt_catalog_charge_at(cat, a, pk, t, &ch, &no_plan) != RT_OK) ch = RT_NO_INDEX;
    if (price == RT_UNSET) {
        price = cat->charges[ch].price_nanos;
        per = cat->charges[ch].price_per;
    }
    int64_t qty = l->qty_mantissa == RT_UNSET ? rt_pow10((unsigned)p->quantity_decimals)
                                              : to_base(l->qty_mantissa, l->qty_scale, p->quantity_decimals);
    int64_t nanos, minor;
    __int128 den = (__int128)per * rt_pow10((unsigned)p->quantity_decimals);
    if (rt_div_round_i128((__int128)price * qty, den, RT_ROUND_HALF_UP, &nanos) != RT_OK)
        return RT_EOVERFLOW;
    if (l->discount_e4 != RT_UNSET &&
        rt_mul_div_round(nanos, 1000000 - l->discount_e4, 1000000, RT_ROUND_HALF_UP, &nanos) != RT_OK)
        return RT_EOVERFLOW;
    if (rt_rescale(nanos, RT_NANOS_SCALE, cur->minor_units, (rt_round)cat->company->line_rounding,
                   &minor) != RT_OK)
        return RT_EOVERFLOW;
    rt_extra_line oc;
    memset(&oc, 0, sizeof oc);
    oc.account = a;
    rt_invoice_line *ln = &oc.line;
    ln->kind = RT_LINE_ONE_TIME;
    ln->zone = ln->rate_group = RT_NO_INDEX;
    ln->charge = ch;
    ln->product = prow;
    ln->events = 0;
    ln->quantity_base = qty;
    ln->billable_base = qty;
    ln->amount_nanos = nanos;
    ln->net_minor = minor;
    ln->unit_price_nanos = price; /* the line's own price, or its charge's */
    ln->price_per = per;
    ln->service_start_day = l->effective_day;
    ln->service_end_day = l->effective_day + 1;
    /* Copied: the book's text is released once it is billed (rt_order_book_compact). */
    if (l->description && l->description[0] &&
        !(ln->description = rt_arena_strndup(&c->out->arena, l->description,
                                             strlen(l->description))))
        return RT_ENOMEM;
    return push_charge(c, &oc);
}

static int order_reject_cmp(const void *x, const void *y)
{
    const rt_order_reject *a = x, *b = y;
    if (a->source != b->source) return a->source < b->source ? -1 : 1;
    return a->source_line < b->source_line ? -1 : a->source_line > b->source_line;
}

static int release_cmp(const void *x, const void *y)
{
    const rt_revenue_release *a = x, *b = y;
    return a->gl < b->gl ? -1 : a->gl > b->gl;
}

/* Sort charges by account keeping their order within an account (the canonical
 * subscription and cycle order they were produced in): a counting sort on the account row,
 * which is stable and linear (a million accounts' charges: no comparisons). The charges are
 * moved in place, following the cycles of the permutation, rather than into a second array
 * as large (two hundred megabytes at a million and a half charges, touched afresh); when
 * subscriptions come in account order they are sorted already and nothing moves. */
static rt_status sort_charges(rt_order_result *r)
{
    size_t n = r->charge_count;
    rt_extra_line *e = r->charges;
    size_t i = 1;
    while (i < n && e[i - 1].account <= e[i].account) i++;
    if (i >= n) return RT_OK;
    uint32_t accounts = 0;
    for (i = 0; i < n; i++)
        if (e[i].account >= accounts) accounts = e[i].account + 1;
    size_t *at = calloc((size_t)accounts + 1, sizeof *at);
    size_t *to = malloc(n * sizeof *to);
    if (!at || !to) {
        free(at);
        free(to);
        return RT_ENOMEM;
    }
    for (i = 0; i < n; i++) at[e[i].account + 1]++;
    for (uint32_t a = 0; a < accounts; a++) at[a + 1] += at[a];
    for (i = 0; i < n; i++) to[i] = at[e[i].account]++;
    free(at);
    /* Charge i goes to to[i]; a placed charge is marked by to[i] == i. */
    for (i = 0; i < n; i++) {
        while (to[i] != i) {
            size_t j = to[i];
            rt_extra_line t = e[j];
            e[j] = e[i];
            e[i] = t;
            to[i] = to[j];
            to[j] = j;
        }
    }
    free(to);
    return RT_OK;
}

typedef struct line_key {
    const rt_order_line *l;
    size_t index;
} line_key;

static int line_key_cmp(const void *x, const void *y)
{
    const line_key *a = x, *b = y;
    int c = strcmp(a->l->order_id, b->l->order_id);
    if (c) return c;
    if (a->l->line != b->l->line) return a->l->line < b->l->line ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* An (order_id, line) pair identifies an order line: later copies are rejected. */
static bool reject_duplicate_lines(ctx *c)
{
    size_t n = c->ob->count;
    /* Lines whose (order_id, line) strictly ascend in the order they are in have no copies:
     * an export sorted by order is checked in one pass, without the sort. */
    size_t i = 1;
    while (i < n) {
        const rt_order_line *a = &c->ob->lines[i - 1], *b = &c->ob->lines[i];
        int d = strcmp(a->order_id, b->order_id);
        if (d > 0 || (d == 0 && a->line >= b->line)) break;
        i++;
    }
    if (i >= n) return true;
    line_key *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) return false;
    for (i = 0; i < n; i++) k[i] = (line_key){&c->ob->lines[i], i};
    qsort(k, n, sizeof *k, line_key_cmp);
    bool ok = true;
    for (i = 1; i < n && ok; i++)
        if (strcmp(k[i].l->order_id, k[i - 1].l->order_id) == 0 && k[i].l->line == k[i - 1].l->line)
            ok = reject(c, k[i].index, RT_REJ_BAD_ORDER, "line",
                        "order line repeated (same order_id and line)");
    free(k);
    return ok;
}

rt_status rt_orders_bill(const rt_catalog *cat, const rt_period *period, rt_order_book *ob,
                         rt_order_result *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    rt_arena_init(&out->arena, 64 * 1024);
    ctx c = {cat, period, ob, out, NULL, NULL, rt_currency_find(cat->company->functional_currency),
             NULL, 0};
    RT_ASSERT(c.functional != NULL);
    segment *seg = NULL;
    rt_status st = RT_ENOMEM;
    size_t sorted = 1;
    while (sorted < ob->count && line_cmp(&ob->lines[sorted - 1], &ob->lines[sorted]) <= 0) sorted++;
    if (sorted < ob->count) qsort(ob->lines, ob->count, sizeof *ob->lines, line_cmp);
    /* About a charge per line (lines of a longer cycle make a few more): room for them at
     * once, so that the array is not moved by doubling (see rt_order_book_reserve). */
    if (ob->count) {
        out->charge_capacity = ob->count + ob->count / 8;
        if (!(out->charges = malloc(out->charge_capacity * sizeof *out->charges))) {
            out->charge_capacity = 0;
            goto fail;
        }
    }
    c.bad = calloc(ob->count ? ob->count : 1, 1);
    c.rows = malloc((ob->count ? ob->count : 1) * sizeof *c.rows);
    seg = malloc(2 * (ob->count + 1) * sizeof *seg);
    if (!c.bad || !c.rows || !seg) goto fail;

    if (!reject_duplicate_lines(&c)) goto fail;
    for (size_t i = 0; i < ob->count; i++)
        if (!c.bad[i] && !check_line(&c, i)) goto fail;
    for (size_t i = 0; i < ob->count;) {
        size_t j = i;
        while (j < ob->count && strcmp(ob->lines[j].subscription_id, ob->lines[i].subscription_id) == 0) j++;
        if (ob->lines[i].subscription_id[0] != '\0' && !check_sequence(&c, i, j)) goto fail;
        i = j;
    }
    for (size_t i = 0; i < ob->count;) {
        size_t j = i;
        while (j < ob->count && strcmp(ob->lines[j].subscription_id, ob->lines[i].subscription_id) == 0) j++;
        if (ob->lines[i].subscription_id[0] == '\0') {
            for (size_t k = i; k < j; k++)
                if (!c.bad[k] && (st = bill_one_time(&c, k)) != RT_OK) goto fail;
        } else if ((st = bill_subscription(&c, i, j, seg)) != RT_OK) {
            goto fail;
        }
        i = j;
    }
    for (size_t i = 0; i < ob->count; i++) out->lines_used += !c.bad[i];
    if ((st = sort_charges(out)) != RT_OK) goto fail;
    if (out->release_count)
        qsort(out->releases, out->release_count, sizeof *out->releases, release_cmp);
    /* Rejects in input order, as usage rejects are (a line is rejected at most once). */
    if (ob->reject_count)
        qsort(ob->rejects, ob->reject_count, sizeof *ob->rejects, order_reject_cmp);
    free(c.bad);
    free(c.rows);
    free(seg);
    return RT_OK;
fail:
    free(c.bad);
    free(c.rows);
    free(seg);
    if (st == RT_OK) st = RT_ENOMEM;
    if (c.fx_missing) {
        char day[16];
        rt_date_format(c.fx_missing_day, day, sizeof day);
        return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, "orders",
                            "no FX rate from %s to %s on %s, the day a recurring charge's "
                            "deferred revenue was booked (needed to release it)",
                            c.fx_missing->code, c.functional->code, day);
    }
    return rt_error_set(err, st, NULL, 0, 0, "orders", "cannot bill the order book: %s",
                        rt_status_str(st));
}

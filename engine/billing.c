/* billing: aggregates and invoice construction. */
#include "engine/billing.h"

#include <stdlib.h>
#include <string.h>

/* ---- aggregates ---- */

rt_status rt_agg_init(rt_aggregates *a)
{
    memset(a, 0, sizeof *a);
    return rt_u64map_init(&a->index, 1024);
}

void rt_agg_free(rt_aggregates *a)
{
    rt_u64map_free(&a->index);
    free(a->entries);
    memset(a, 0, sizeof *a);
}

static rt_status entry_for(rt_aggregates *a, uint32_t account, uint32_t charge,
                           rt_agg_entry **out)
{
    uint64_t key = ((uint64_t)account + 1) << 32 | charge;
    uint32_t idx;
    int inserted;
    rt_status st = rt_u64map_upsert(&a->index, key, (uint32_t)a->count, &idx, &inserted);
    if (st != RT_OK) return st;
    if (inserted) {
        if (a->count == a->capacity) {
            size_t cap = a->capacity ? a->capacity * 2 : 1024;
            rt_agg_entry *e = realloc(a->entries, cap * sizeof *e);
            if (!e) return RT_ENOMEM; /* the map now points past the end: the run fails */
            a->entries = e;
            a->capacity = cap;
        }
        rt_agg_entry *e = &a->entries[a->count++];
        memset(e, 0, sizeof *e);
        e->account = account;
        e->charge = charge;
    }
    *out = &a->entries[idx];
    return RT_OK;
}

static rt_status accumulate(rt_agg_entry *e, uint64_t events, int64_t qty, int64_t billable,
                            __int128 amount)
{
    e->events += events;
    if (rt_add_i64(e->quantity_base, qty, &e->quantity_base) != RT_OK) return RT_EOVERFLOW;
    if (rt_add_i64(e->billable_base, billable, &e->billable_base) != RT_OK) return RT_EOVERFLOW;
    e->amount_nanos += amount; /* |amount| < 2^63 per event; 2^64 events would be needed */
    return RT_OK;
}

rt_status rt_agg_add(rt_aggregates *a, const rt_rated *r)
{
    rt_agg_entry *e;
    rt_status st = entry_for(a, r->account, r->charge, &e);
    if (st != RT_OK) return st;
    return accumulate(e, 1, r->quantity_base, r->billable_base, r->amount_nanos);
}

rt_status rt_agg_merge(rt_aggregates *dst, const rt_aggregates *src)
{
    for (size_t i = 0; i < src->count; i++) {
        const rt_agg_entry *s = &src->entries[i];
        rt_agg_entry *e;
        rt_status st = entry_for(dst, s->account, s->charge, &e);
        if (st != RT_OK) return st;
        if ((st = accumulate(e, s->events, s->quantity_base, s->billable_base,
                             s->amount_nanos)) != RT_OK)
            return st;
    }
    return RT_OK;
}

static int agg_cmp(const void *x, const void *y)
{
    const rt_agg_entry *a = x, *b = y;
    if (a->account != b->account) return a->account < b->account ? -1 : 1;
    return a->charge < b->charge ? -1 : a->charge > b->charge;
}

void rt_agg_sort(rt_aggregates *a)
{
    /* (account, charge) is unique, so qsort's instability cannot change the result. The map
     * is rebuilt against the new positions. A run that billed nothing has no entries array
     * at all, and qsort must not be handed a null pointer even for zero elements. */
    if (a->count > 1) qsort(a->entries, a->count, sizeof *a->entries, agg_cmp);
    memset(a->index.slots, 0, (a->index.mask + 1) * sizeof *a->index.slots);
    a->index.count = 0;
    for (size_t i = 0; i < a->count; i++) {
        uint32_t v;
        int ins;
        uint64_t key = ((uint64_t)a->entries[i].account + 1) << 32 | a->entries[i].charge;
        /* Cannot fail: the table already had room for this many keys. */
        RT_ASSERT(rt_u64map_upsert(&a->index, key, (uint32_t)i, &v, &ins) == RT_OK);
    }
}

/* ---- invoices ---- */

void rt_invoice_set_free(rt_invoice_set *s)
{
    free(s->items);
    rt_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}

rt_status rt_tax_amount(int64_t base_minor, int64_t rate_e4, rt_round mode, int64_t *tax_minor)
{
    return rt_mul_div_round(base_minor, rate_e4, 1000000, mode, tax_minor);
}

static uint32_t product_for_line(const rt_catalog *cat, uint32_t charge, rt_time_s tax_point)
{
    uint32_t pk = cat->charge_product_key[charge];
    uint32_t p = rt_catalog_product_at(cat, pk, tax_point);
    if (p != RT_NO_INDEX) return p;
    /* The product was retired before the tax point: its last version before it describes the
     * usage that was rated while it was in force. */
    rt_range32 r = cat->product_keys[pk];
    uint32_t best = r.first;
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (cat->products[i].valid_from <= tax_point) best = i;
    return best;
}

static rt_status build_invoice(const rt_catalog *cat, const rt_period *period,
                               const rt_agg_entry *e, size_t n, rt_arena *arena, rt_invoice *inv,
                               rt_error *err)
{
    const rt_account *acct = &cat->accounts[e[0].account];
    const rt_company *co = cat->company;
    rt_time_s tax_point = period->end_s - 1;
    memset(inv, 0, sizeof *inv);
    inv->account = e[0].account;
    inv->currency = rt_currency_find(acct->currency);
    RT_ASSERT(inv->currency != NULL);
    inv->tax_point_day = period->end_day - 1;
    inv->issue_day = period->end_day;
    int64_t terms = acct->payment_terms_days != RT_UNSET ? acct->payment_terms_days
                                                          : co->payment_terms_days;
    inv->due_day = inv->issue_day + (rt_days)terms;
    inv->lines = rt_arena_alloc(arena, n * sizeof *inv->lines);
    inv->taxes = rt_arena_alloc(arena, n * sizeof *inv->taxes);
    if (!inv->lines || !inv->taxes) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");

    for (size_t i = 0; i < n; i++) {
        rt_invoice_line *l = &inv->lines[inv->line_count++];
        memset(l, 0, sizeof *l);
        l->kind = RT_LINE_USAGE;
        l->service_start_day = period->start_day;
        l->service_end_day = period->end_day;
        l->charge = e[i].charge;
        l->product = product_for_line(cat, e[i].charge, tax_point);
        l->events = e[i].events;
        l->quantity_base = e[i].quantity_base;
        l->billable_base = e[i].billable_base;
        if (e[i].amount_nanos > INT64_MAX || e[i].amount_nanos < INT64_MIN)
            return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL,
                                "account %s: line amount out of range", acct->account_id);
        l->amount_nanos = (int64_t)e[i].amount_nanos;
        if (rt_rescale(l->amount_nanos, RT_NANOS_SCALE, inv->currency->minor_units,
                       (rt_round)co->line_rounding, &l->net_minor) != RT_OK)
            return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "line amount overflow");
        const rt_product *p = &cat->products[l->product];
        l->tax = rt_catalog_tax_at(cat, acct->tax_jurisdiction, p->tax_category, tax_point);
        if (l->tax == RT_NO_INDEX)
            return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                                "no tax rate for jurisdiction %s, category %s on the tax point",
                                acct->tax_jurisdiction, p->tax_category);
        const rt_tax_rate *tr = &cat->tax_rates[l->tax];
        /* VAT breakdown key: (category code, rate), per EN 16931 BG-23. */
        size_t s = 0;
        while (s < inv->tax_count &&
               !(inv->taxes[s].vat_code == tr->vat_code && inv->taxes[s].rate_e4 == tr->rate_e4))
            s++;
        if (s == inv->tax_count) {
            inv->taxes[inv->tax_count++] = (rt_tax_subtotal){l->tax, tr->vat_code, tr->rate_e4, 0, 0};
        }
        l->subtotal = (uint32_t)s;
        inv->events += l->events;
        if (rt_add_i64(inv->taxes[s].base_minor, l->net_minor, &inv->taxes[s].base_minor) != RT_OK ||
            rt_add_i64(inv->net_minor, l->net_minor, &inv->net_minor) != RT_OK)
            return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "invoice total overflow");
    }
    for (size_t s = 0; s < inv->tax_count; s++) {
        rt_tax_subtotal *t = &inv->taxes[s];
        if (rt_tax_amount(t->base_minor, t->rate_e4, (rt_round)co->tax_rounding, &t->tax_minor) !=
                RT_OK ||
            rt_add_i64(inv->tax_minor, t->tax_minor, &inv->tax_minor) != RT_OK)
            return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "tax overflow");
    }
    if (rt_add_i64(inv->net_minor, inv->tax_minor, &inv->gross_minor) != RT_OK)
        return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "invoice total overflow");
    return RT_OK;
}

rt_status rt_billing_build(const rt_catalog *cat, const rt_period *period,
                           const rt_aggregates *agg, rt_invoice_set *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    rt_arena_init(&out->arena, 1 << 20);
    size_t accounts = 0;
    for (size_t i = 0; i < agg->count; i++)
        if (i == 0 || agg->entries[i].account != agg->entries[i - 1].account) accounts++;
    out->items = calloc(accounts ? accounts : 1, sizeof *out->items);
    if (!out->items) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t i = 0; i < agg->count;) {
        RT_ASSERT(i == 0 || agg_cmp(&agg->entries[i - 1], &agg->entries[i]) < 0);
        size_t j = i;
        while (j < agg->count && agg->entries[j].account == agg->entries[i].account) j++;
        rt_status st = build_invoice(cat, period, &agg->entries[i], j - i, &out->arena,
                                     &out->items[out->count], err);
        if (st != RT_OK) return st;
        out->count++;
        i = j;
    }
    RT_ASSERT(out->count == accounts);
    return RT_OK;
}

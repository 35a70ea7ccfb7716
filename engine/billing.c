/* billing: aggregates, period pricing rules and invoice construction.
 *
 * An invoice is built in a fixed order, each step seeing the lines of the steps before:
 *   1. usage lines, one per aggregate (account, charge version, zone, rate), in aggregate
 *      order; tiered, volume and package charges are priced here on the period total, their
 *      versions' aggregates on one line priced by the version in force at the tax point;
 *   2. allowances: free units consumed from the usage lines (see apply_allowances);
 *   3. minimum per period: a top-up line for a charge whose lines sum below its minimum;
 *   4. percentage charges: a percentage of the plan's other lines;
 *   5. discounts on one charge, then discounts on the whole invoice;
 *   6. line rounding, VAT per (code, rate) on the sum of line nets, totals.
 * Period-level rules (allowances, minimums, percentages, discounts) use the version in force
 * at the tax point (the period's last second) of plans assigned to the account at any time
 * in the period. */
#include "engine/billing.h"

#include <omp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bigmem.h"
#include "engine/buf.h"

/* ---- aggregates ---- */

static uint64_t agg_hash(uint32_t account, uint32_t charge, uint32_t zone, uint32_t group)
{
    return rt_u64_mix(((uint64_t)account << 32 | charge) ^
                      rt_u64_mix(((uint64_t)zone << 32 | group) + 0x9e3779b97f4a7c15u));
}

/* A slot holds the entry's index + 1 in its low half and the low half of the key's hash in
 * its high half: a probe passing other keys does not read their entries (a stranger shares the
 * tag one time in 2^32 / capacity), and growing places the slots again without reading any
 * entry or hashing again (the home slot is the tag's low bits at any capacity up to 2^32). */
static uint64_t slot_value(uint64_t hash, size_t index)
{
    return hash << 32 | ((uint64_t)index + 1);
}

static size_t slot_entry(uint64_t slot)
{
    return (size_t)(uint32_t)slot - 1;
}

static bool slot_tag_is(uint64_t slot, uint64_t hash)
{
    return (uint32_t)(slot >> 32) == (uint32_t)hash;
}

/* Slots for the entries as they lie (a->slots zeroed, a->mask set). */
static void place_all(rt_aggregates *a)
{
    for (size_t i = 0; i < a->count; i++) {
        const rt_agg_entry *e = &a->entries[i];
        uint64_t h = agg_hash(e->account, e->charge, e->zone, e->rate_group);
        size_t s = h & a->mask;
        while (a->slots[s])
            s = (s + 1) & a->mask;
        a->slots[s] = slot_value(h, i);
    }
}

static rt_status agg_slots(rt_aggregates *a, size_t capacity)
{
    RT_ASSERT(capacity <= (size_t)1 << 32);
    uint64_t *slots = rt_big_alloc(capacity * sizeof *slots);
    if (!slots) return RT_ENOMEM;
    if (a->slots) rt_big_free(a->slots, (a->mask + 1) * sizeof *a->slots);
    a->slots = slots;
    a->mask = capacity - 1;
    place_all(a);
    return RT_OK;
}

/* Twice the slots, placed again from the old ones. */
static rt_status grow_slots(rt_aggregates *a)
{
    size_t cap = (a->mask + 1) * 2;
    if (cap > (size_t)1 << 32) return RT_ENOMEM;
    uint64_t *slots = rt_big_alloc(cap * sizeof *slots);
    if (!slots) return RT_ENOMEM;
    for (size_t i = 0; i <= a->mask; i++) {
        uint64_t v = a->slots[i];
        if (!v) continue;
        size_t s = (v >> 32) & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = v;
    }
    rt_big_free(a->slots, (a->mask + 1) * sizeof *a->slots);
    a->slots = slots;
    a->mask = cap - 1;
    return RT_OK;
}

rt_status rt_agg_init(rt_aggregates *a)
{
    memset(a, 0, sizeof *a);
    return agg_slots(a, 2048);
}

rt_status rt_agg_reserve(rt_aggregates *a, size_t entries)
{
    if (entries <= a->capacity) return RT_OK;
    rt_agg_entry *e =
        rt_big_realloc(a->entries, a->capacity * sizeof *e, entries * sizeof *e);
    if (!e) return RT_ENOMEM;
    a->entries = e;
    a->capacity = entries;
    return RT_OK;
}

rt_status rt_agg_from_entries(rt_aggregates *a, const void *entries, size_t n)
{
    memset(a, 0, sizeof *a);
    if (rt_agg_reserve(a, n ? n : 1) != RT_OK) return RT_ENOMEM;
    if (n) memcpy(a->entries, entries, n * sizeof *a->entries);
    a->count = n;
    return RT_OK;
}

void rt_agg_free(rt_aggregates *a)
{
    if (a->slots) rt_big_free(a->slots, (a->mask + 1) * sizeof *a->slots);
    rt_big_free(a->entries, a->capacity * sizeof *a->entries);
    memset(a, 0, sizeof *a);
}

static rt_status entry_for(rt_aggregates *a, uint32_t account, uint32_t charge, uint32_t zone,
                           uint32_t group, rt_agg_entry **out)
{
    if (!a->slots) { /* a merged total: indexed on its first add */
        size_t cap = 2048;
        while (cap < a->count * 2 + 2) cap *= 2;
        rt_status st = agg_slots(a, cap);
        if (st != RT_OK) return st;
    }
    uint64_t h = agg_hash(account, charge, zone, group);
    size_t s = h & a->mask;
    for (; a->slots[s]; s = (s + 1) & a->mask) {
        if (!slot_tag_is(a->slots[s], h)) continue;
        rt_agg_entry *e = &a->entries[slot_entry(a->slots[s])];
        if (e->account == account && e->charge == charge && e->zone == zone &&
            e->rate_group == group) {
            *out = e;
            return RT_OK;
        }
    }
    if (a->count == a->capacity) {
        size_t cap = a->capacity ? a->capacity * 2 : 1024;
        rt_agg_entry *e =
            rt_big_realloc(a->entries, a->capacity * sizeof *e, cap * sizeof *e);
        if (!e) return RT_ENOMEM;
        a->entries = e;
        a->capacity = cap;
    }
    rt_agg_entry *e = &a->entries[a->count];
    memset(e, 0, sizeof *e);
    e->account = account;
    e->charge = charge;
    e->zone = zone;
    e->rate_group = group;
    a->slots[s] = slot_value(h, a->count++);
    if (a->count * 2 > a->mask + 1) {
        rt_status st = grow_slots(a);
        if (st != RT_OK) return st;
    }
    *out = e;
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

void rt_agg_prefetch(const rt_aggregates *a, const rt_rated *r, int step)
{
    if (!a->slots) return;
    uint64_t h = agg_hash(r->account, r->charge, r->zone, r->parts[0].rate_group);
    const uint64_t *slot = &a->slots[h & a->mask];
    if (step == 1) {
        __builtin_prefetch(slot);
    } else if (*slot && slot_tag_is(*slot, h)) {
        __builtin_prefetch(&a->entries[slot_entry(*slot)]);
    }
}

rt_status rt_agg_add(rt_aggregates *a, const rt_rated *r)
{
    RT_ASSERT(r->part_count >= 1 && r->part_count <= RT_RATED_PARTS_MAX);
    for (uint32_t k = 0; k < r->part_count; k++) {
        const rt_rated_part *p = &r->parts[k];
        rt_agg_entry *e;
        rt_status st = entry_for(a, r->account, r->charge, r->zone, p->rate_group, &e);
        if (st != RT_OK) return st;
        if ((st = accumulate(e, k == 0, p->quantity_base, p->billable_base, p->amount_nanos)) !=
            RT_OK)
            return st;
    }
    return RT_OK;
}

static int u32_cmp(uint32_t a, uint32_t b)
{
    return a < b ? -1 : a > b;
}

static int agg_cmp(const void *x, const void *y)
{
    const rt_agg_entry *a = x, *b = y;
    int c = u32_cmp(a->account, b->account);
    if (!c) c = u32_cmp(a->charge, b->charge);
    if (!c) c = u32_cmp(a->zone, b->zone);
    if (!c) c = u32_cmp(a->rate_group, b->rate_group);
    return c;
}

void rt_agg_sort(rt_aggregates *a)
{
    /* The key is unique, so qsort's instability cannot change the result. The slots are
     * rebuilt against the new positions (same capacity: cannot fail to allocate more). */
    if (a->count > 1) qsort(a->entries, a->count, sizeof *a->entries, agg_cmp);
    if (!a->slots) return;
    memset(a->slots, 0, (a->mask + 1) * sizeof *a->slots);
    place_all(a);
}

/* Sort the few entries of one account by key and sum equal keys (from different parts) into
 * the first: the number left. */
static rt_status settle_account(rt_agg_entry *e, size_t n, size_t *left)
{
    if (n > 32) {
        qsort(e, n, sizeof *e, agg_cmp); /* equal keys are summed: order among them is moot */
    } else {
        for (size_t i = 1; i < n; i++) {
            rt_agg_entry x = e[i];
            size_t j = i;
            while (j > 0 && agg_cmp(&e[j - 1], &x) > 0) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = x;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && agg_cmp(&e[w - 1], &e[i]) == 0) {
            if (accumulate(&e[w - 1], e[i].events, e[i].quantity_base, e[i].billable_base,
                           e[i].amount_nanos) != RT_OK)
                return RT_EOVERFLOW;
        } else {
            e[w++] = e[i];
        }
    }
    *left = w;
    return RT_OK;
}

void rt_agg_chunks_free(rt_agg_chunks *c)
{
    for (size_t i = 0; i < c->count; i++) rt_agg_free(&c->items[i]);
    free(c->items);
    memset(c, 0, sizeof *c);
}

/* The parts' entries, placed by account with a counting sort (an account has a few entries
 * after another: its charges, zones and rates) into chunks of whole accounts, then each
 * account's sorted and summed. Linear in the entries; its large allocations are the chunks.
 * When the parts hold ascending, disjoint ranges of accounts (as a run's threads aggregate
 * them), each part is counted by a thread of its own, since no two parts touch the same
 * account. The parts are placed one after another, each by every thread (a share of the
 * accounts each) and freed once placed. */
rt_status rt_agg_merge_sorted(rt_aggregates *parts, unsigned n, unsigned threads,
                              size_t chunk_entries, rt_agg_chunks *out)
{
    memset(out, 0, sizeof *out);
    if (threads == 0) threads = 1;
    if (chunk_entries == 0) chunk_entries = 1;
    size_t total = 0;
    uint32_t accounts = 0, last = 0;
    bool disjoint = true;
    uint32_t *top = calloc(n ? n : 1, sizeof *top); /* each part's highest account */
    if (!top) return RT_ENOMEM;
    for (unsigned p = 0; p < n; p++) {
        if (parts[p].count == 0) continue;
        uint32_t lo = UINT32_MAX, hi = 0;
        for (size_t i = 0; i < parts[p].count; i++) {
            uint32_t a = parts[p].entries[i].account;
            if (a < lo) lo = a;
            if (a > hi) hi = a;
        }
        if (total && lo <= last) disjoint = false;
        last = top[p] = hi;
        total += parts[p].count;
        if (hi >= accounts) accounts = hi + 1;
    }
    if (total == 0) {
        for (unsigned p = 0; p < n; p++) rt_agg_free(&parts[p]);
        free(top);
        return RT_OK;
    }
    /* end[a]: where in its chunk account a's next entry goes (parts in order), then where its
     * entries end; they start where account a - 1's end, or at 0 when a opens its chunk. Every
     * chunk but the last is given at least chunk_entries entries (its capacity; fewer are left
     * where parts that share accounts have equal keys summed). */
    size_t max_chunks = total / chunk_entries + 1;
    size_t *end = calloc(accounts, sizeof *end);
    uint32_t *chunk_of = malloc(accounts * sizeof *chunk_of);
    size_t *left = malloc(accounts * sizeof *left);
    uint32_t *first = malloc(max_chunks * sizeof *first); /* each chunk's first account */
    out->items = calloc(max_chunks, sizeof *out->items);
    rt_status st = RT_ENOMEM;
    if (!end || !chunk_of || !left || !first || !out->items) goto done;
    unsigned movers = disjoint ? (threads < n ? threads : n) : 1;
#pragma omp parallel for num_threads(movers) schedule(dynamic, 1)
    for (unsigned p = 0; p < n; p++)
        for (size_t i = 0; i < parts[p].count; i++) end[parts[p].entries[i].account]++;
    /* Cut after the account that brings a chunk to chunk_entries: an account is never split,
     * so that each invoice reads its entries from one chunk. */
    size_t chunks = 0;
    bool open = false;
    for (uint32_t a = 0; a < accounts; a++) {
        if (!open) {
            first[chunks] = a;
            open = true;
        }
        rt_aggregates *c = &out->items[chunks];
        size_t count = end[a];
        end[a] = c->capacity;
        chunk_of[a] = (uint32_t)chunks;
        c->capacity += count;
        if (c->capacity >= chunk_entries) {
            chunks++;
            open = false;
        }
    }
    if (open) chunks++; /* the last one, which may hold fewer */
    out->count = chunks;
    /* The parts' indexes are not needed to move their entries (a part indexes itself again
     * on a next add): their memory goes first, to the chunks. */
    for (unsigned p = 0; p < n; p++) {
        if (parts[p].slots) rt_big_free(parts[p].slots, (parts[p].mask + 1) * sizeof *parts[p].slots);
        parts[p].slots = NULL;
        parts[p].mask = 0;
    }
    /* One part after another, each freed once moved, the chunks made as the parts reach
     * them: the aggregates are never whole twice (a part and the chunks before it are). Each
     * thread moves the entries of its share of the accounts (a % threads), so an account's
     * entries keep their order, whatever the thread count. */
    size_t made = 0;
    for (unsigned p = 0; p < n; p++) {
        const rt_aggregates *part = &parts[p];
        size_t upto = part->count ? (size_t)chunk_of[top[p]] + 1 : made;
        for (; made < upto; made++) {
            rt_aggregates *x = &out->items[made];
            if (x->capacity && !(x->entries = rt_big_alloc_dirty(x->capacity * sizeof *x->entries)))
                goto done;
        }
#pragma omp parallel num_threads(threads)
        {
            uint32_t team = (uint32_t)omp_get_num_threads(), me = (uint32_t)omp_get_thread_num();
            for (size_t i = 0; i < part->count; i++) {
                uint32_t a = part->entries[i].account;
                if (a % team == me) out->items[chunk_of[a]].entries[end[a]++] = part->entries[i];
            }
        }
        rt_agg_free(&parts[p]);
    }
    /* Nothing fails from here on but a sum leaving int64. */
    int failed = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4096) reduction(| : failed)
    for (uint32_t a = 0; a < accounts; a++) {
        size_t from = a && chunk_of[a - 1] == chunk_of[a] ? end[a - 1] : 0;
        if (settle_account(out->items[chunk_of[a]].entries + from, end[a] - from, &left[a]) !=
            RT_OK)
            failed = 1;
    }
    if (failed) {
        st = RT_EOVERFLOW;
        goto done;
    }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
    for (size_t c = 0; c < chunks; c++) {
        rt_agg_entry *e = out->items[c].entries;
        size_t w = 0;
        for (uint32_t a = first[c]; a < accounts && chunk_of[a] == c; a++) {
            size_t from = a > first[c] ? end[a - 1] : 0;
            if (w != from) memmove(e + w, e + from, left[a] * sizeof *e);
            w += left[a];
        }
        out->items[c].count = w;
        /* slots stay NULL: built on a first rt_agg_add, which a run never makes. */
    }
    st = RT_OK;
done:
    free(top);
    free(end);
    free(chunk_of);
    free(left);
    free(first);
    if (st != RT_OK) rt_agg_chunks_free(out);
    return st;
}

/* ---- period prices ---- */

static rt_status tier_bound(int64_t up_to_e6, int64_t qdec, int64_t *out)
{
    if (up_to_e6 == RT_UNSET) {
        *out = INT64_MAX;
        return RT_OK;
    }
    /* Validated to be a whole number of base units. */
    *out = up_to_e6 / rt_pow10((unsigned)(6 - qdec));
    return RT_OK;
}

rt_status rt_period_amount(const rt_catalog *cat, uint32_t charge, int64_t qdec, int64_t q,
                           int64_t *amount_nanos)
{
    const rt_charge *ch = &cat->charges[charge];
    rt_price_sum sum = {0, 0};
    int64_t fees = 0;
    *amount_nanos = 0;
    if (q <= 0) return RT_OK;
    if (ch->model == RT_CHARGE_PACKAGE) {
        /* Started blocks of price_per units (price_per is in units, q in base units). */
        int64_t block;
        if (rt_mul_i64(ch->price_per, rt_pow10((unsigned)qdec), &block) != RT_OK)
            return RT_EOVERFLOW;
        int64_t blocks = q / block + (q % block != 0);
        if (rt_price_sum_add(&sum, blocks, ch->price_nanos, 1) != RT_OK) return RT_EOVERFLOW;
        qdec = 0; /* blocks are counted, not base units */
    } else {
        RT_ASSERT(ch->model == RT_CHARGE_TIERED || ch->model == RT_CHARGE_VOLUME);
        rt_range32 r = cat->charge_tiers[charge];
        int64_t lower = 0;
        for (uint32_t i = r.first; i < r.first + r.count; i++) {
            const rt_tier *t = &cat->tiers[i];
            int64_t upper;
            tier_bound(t->up_to_e6, qdec, &upper);
            if (ch->model == RT_CHARGE_VOLUME) {
                if (q > upper) {
                    lower = upper;
                    continue;
                }
                if (rt_price_sum_add(&sum, q, t->price_nanos, ch->price_per) != RT_OK)
                    return RT_EOVERFLOW;
                fees = t->flat_fee_nanos;
                break;
            }
            if (q <= lower) break;
            int64_t units = (q < upper ? q : upper) - lower;
            if (rt_price_sum_add(&sum, units, t->price_nanos, ch->price_per) != RT_OK ||
                rt_add_i64(fees, t->flat_fee_nanos, &fees) != RT_OK)
                return RT_EOVERFLOW;
            lower = upper;
        }
    }
    int64_t priced;
    if (rt_price_sum_round(&sum, qdec, ch->event_decimals, (rt_round)ch->event_rounding, &priced) !=
        RT_OK)
        return RT_EOVERFLOW;
    return rt_add_i64(priced, fees, amount_nanos);
}

const rt_tier *rt_tier_reached(const rt_catalog *cat, uint32_t charge, int64_t qdec, int64_t q)
{
    rt_range32 r = cat->charge_tiers[charge];
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        int64_t upper;
        tier_bound(cat->tiers[i].up_to_e6, qdec, &upper);
        if (q <= upper) return &cat->tiers[i];
    }
    return r.count ? &cat->tiers[r.first + r.count - 1] : NULL;
}

/* ---- invoice context ---- */

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

enum { PLANS_MAX = 64 }; /* distinct plans of one account within a period */

typedef struct inv_ctx {
    const rt_catalog *cat;
    const rt_period *period;
    rt_time_s tax_point;
    uint32_t account;
    const rt_currency *currency; /* the account's */
    rt_arena *arena;
    rt_invoice_line *lines; /* grown with realloc, copied into the arena at the end */
    size_t count, cap;
    rt_tax_subtotal *taxes; /* the same for the VAT subtotals (at most one per line) */
    size_t tax_cap;
    size_t usage_count; /* the first lines are the usage lines */
    uint32_t plans[PLANS_MAX];
    size_t plan_count;
    rt_error *err;
    struct text_memo *texts; /* the thread's zone and band line texts, made once each */
} inv_ctx;

static rt_status oom(inv_ctx *x)
{
    return rt_error_set(x->err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
}

static rt_status overflow(inv_ctx *x, const char *what)
{
    return rt_error_set(x->err, RT_EOVERFLOW, NULL, 0, 0, NULL, "account %s: %s overflows",
                        x->cat->accounts[x->account].account_id, what);
}

static rt_invoice_line *push_line(inv_ctx *x, rt_line_kind kind)
{
    if (x->count == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        rt_invoice_line *l = realloc(x->lines, cap * sizeof *l);
        if (!l) return NULL;
        x->lines = l;
        x->cap = cap;
    }
    rt_invoice_line *l = &x->lines[x->count++];
    memset(l, 0, sizeof *l);
    l->kind = (uint8_t)kind;
    /* The tax rate is found at the end from the line's product, unless the line names its own
     * (an invoice discount's share of a VAT category). */
    l->charge = l->zone = l->rate_group = l->tax = RT_NO_INDEX;
    l->service_start_day = x->period->start_day;
    l->service_end_day = x->period->end_day;
    return l;
}

static bool in_force(rt_time_s from, rt_time_s to, rt_time_s t)
{
    return from <= t && t < to;
}

/* The account's plans assigned at any time in the period, in plan_id order. */
static rt_status collect_plans(inv_ctx *x)
{
    const rt_catalog *cat = x->cat;
    rt_range32 r = cat->account_plan_ranges[x->account];
    x->plan_count = 0;
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        const rt_account_plan *ap = &cat->account_plans[i];
        if (ap->valid_from >= x->period->end_s || ap->valid_to <= x->period->start_s) continue;
        uint32_t p = cat->account_plan_plan[i];
        if (x->plan_count > 0 && x->plans[x->plan_count - 1] == p) continue;
        if (x->plan_count == PLANS_MAX)
            return rt_error_set(x->err, RT_ELIMIT, NULL, 0, 0, NULL,
                                "account %s has more than %d plans in the period",
                                cat->accounts[x->account].account_id, PLANS_MAX);
        x->plans[x->plan_count++] = p;
    }
    return RT_OK;
}

static bool has_plan(const inv_ctx *x, uint32_t plan)
{
    for (size_t i = 0; i < x->plan_count; i++)
        if (x->plans[i] == plan) return true;
    return false;
}

/* Zone and band line texts, made once per (charge, zone, rate group) on each thread and shared
 * by every line that has them (in the thread's arena, which lives as long as the invoices): a
 * period has a few thousand distinct texts and may have ten million lines. A usage line's
 * product is its charge's at the tax point, so the three say which text it is. */
typedef struct text_memo {
    rt_u64map index; /* text_key -> row of texts; slots NULL: no memo (out of memory) */
    const char **texts;
    size_t count, cap;
} text_memo;

/* The three as one non-zero number (mixed radix over the catalog's counts); false in a
 * catalog too large for that, whose lines then make their texts each time. */
static bool text_key(const rt_catalog *cat, uint32_t charge, uint32_t zone, uint32_t group,
                     uint64_t *key)
{
    uint64_t zones = cat->zone_count + 1, groups = cat->rate_group_count + 1, k;
    uint64_t z = zone == RT_NO_INDEX ? 0 : (uint64_t)zone + 1;
    uint64_t g = group == RT_NO_INDEX ? 0 : (uint64_t)group + 1;
    if (__builtin_mul_overflow((uint64_t)charge, zones, &k) || __builtin_add_overflow(k, z, &k) ||
        __builtin_mul_overflow(k, groups, &k) || __builtin_add_overflow(k, g + 1, &k))
        return false;
    *key = k;
    return true;
}

/* "<base> - <zone> (<band>)" for lines of a zone or band; NULL for plain lines. */
static const char *make_zone_band_text(inv_ctx *x, uint32_t charge, uint32_t zone,
                                       uint32_t group, uint32_t product)
{
    const rt_catalog *cat = x->cat;
    const char *band = group == RT_NO_INDEX ? "" : rt_catalog_rate_first(cat, group)->band_id;
    if (zone == RT_NO_INDEX && !band[0]) return NULL;
    const char *base = cat->charges[charge].description;
    if (!base[0]) base = cat->products[product].name;
    /* A rate version that starts or ends within the period says when: its calls are on a line
     * of their own beside the other version's. */
    char when[48] = "", day[16];
    const rt_rate_group *v = group == RT_NO_INDEX ? NULL : &cat->rate_groups[group];
    if (v && v->from > x->period->start_s) {
        rt_date_format(rt_days_of(v->from), day, sizeof day);
        RT_TEXT_JOIN(when, sizeof when, band[0] ? ", from " : "from ", day);
    }
    if (v && v->to < x->period->end_s) {
        rt_date_format(rt_days_of(v->to - 1), day, sizeof day);
        size_t w = strlen(when);
        RT_TEXT_JOIN(when + w, sizeof when - w, band[0] || w ? ", until " : "until ", day);
    }
    bool paren = band[0] || when[0];
    char text[3 * RT_TEXT_LEN_MAX];
    int n = snprintf(text, sizeof text, "%s%s%s%s%s%s%s", base, zone != RT_NO_INDEX ? " - " : "",
                     zone != RT_NO_INDEX ? cat->zones[zone].name : "", paren ? " (" : "", band,
                     when, paren ? ")" : "");
    if (n < 0) return NULL;
    size_t len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    return rt_arena_strndup(x->arena, text, len);
}

static const char *zone_band_text(inv_ctx *x, uint32_t charge, uint32_t zone, uint32_t group,
                                  uint32_t product)
{
    text_memo *m = x->texts;
    uint64_t key;
    uint32_t row;
    if (!m->index.slots || !text_key(x->cat, charge, zone, group, &key))
        return make_zone_band_text(x, charge, zone, group, product);
    if (rt_u64map_get(&m->index, key, &row) == RT_OK) return m->texts[row];
    const char *text = make_zone_band_text(x, charge, zone, group, product);
    if (!text && (zone != RT_NO_INDEX || group != RT_NO_INDEX)) return NULL; /* not kept */
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        const char **t = realloc(m->texts, cap * sizeof *t);
        if (!t) return text; /* not kept */
        m->texts = t;
        m->cap = cap;
    }
    int inserted;
    if (rt_u64map_upsert(&m->index, key, (uint32_t)m->count, &row, &inserted) == RT_OK)
        m->texts[m->count++] = text;
    return text;
}

/* "<charge text><suffix>" in the invoice arena (the charge's description, else its
 * product's name). */
static const char *charge_text(inv_ctx *x, uint32_t charge, uint32_t product, const char *suffix)
{
    const char *base = x->cat->charges[charge].description;
    if (!base[0]) base = x->cat->products[product].name;
    char text[2 * RT_TEXT_LEN_MAX];
    int n = snprintf(text, sizeof text, "%s%s", base, suffix);
    if (n < 0) return NULL;
    return rt_arena_strndup(x->arena, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* The price shown on a line priced by a rate group: its first interval (the group is the
 * version of the rates its calls were rated under). */
static void rate_price(const rt_catalog *cat, uint32_t g, rt_invoice_line *l)
{
    const rt_charge *ch = &cat->charges[l->charge];
    const rt_rate *r = rt_catalog_rate_first(cat, g);
    l->unit_price_nanos = r->price_nanos;
    l->price_per = r->price_per != RT_UNSET ? r->price_per : ch->price_per;
}

int64_t rt_invoice_fx_rate(const rt_catalog *cat, const rt_invoice *inv)
{
    if (inv->fx_rate_nanos > 0) return inv->fx_rate_nanos;
    return rt_catalog_fx_at(cat, inv->currency->code, rt_time_of_days(inv->issue_day));
}

rt_line_terms rt_line_terms_of(const rt_catalog *cat, const rt_invoice *inv, size_t i,
                               rt_rate_step buf[RT_RATE_INTERVALS_MAX])
{
    const rt_invoice_line *l = &inv->lines[i];
    rt_line_terms t = {RT_UNSET, RT_UNSET, RT_UNSET, buf, 0};
    if (l->kind != RT_LINE_USAGE || l->charge == RT_NO_INDEX) return t;
    if (inv->terms) return inv->terms[i];
    const rt_charge *ch = &cat->charges[l->charge];
    t.setup_fee_nanos = ch->setup_fee_nanos;
    t.min_per_event_nanos = ch->min_per_event_nanos;
    t.max_per_event_nanos = ch->max_per_event_nanos;
    if (l->rate_group == RT_NO_INDEX) return t;
    t.setup_fee_nanos = rt_catalog_rate_setup_fee(cat, l->rate_group, ch);
    size_t n;
    const uint32_t *rows = rt_catalog_rate_rows(cat, l->rate_group, &n);
    for (size_t k = 1; k < n; k++) {
        const rt_rate *r = &cat->rates[rows[k]];
        buf[t.step_count++] = (rt_rate_step){r->interval_start, r->price_nanos,
                                             r->price_per != RT_UNSET ? r->price_per
                                                                      : ch->price_per};
    }
    return t;
}

/* ---- 1. usage lines ---- */

/* The usage line among lines[first .. count) that aggregate e of a period model (tiered,
 * volume, package) joins: the same charge in another version, zone and rate group; NULL for
 * none or another model. Such a charge is priced once on the period's total, so its versions'
 * usage is one line: priced version by version, each part would start again from the first
 * tier or block. */
static rt_invoice_line *period_line_of(inv_ctx *x, size_t first, const rt_agg_entry *e)
{
    const rt_catalog *cat = x->cat;
    if (!rt_charge_model_is_period((rt_charge_model)cat->charges[e->charge].model)) return NULL;
    for (size_t i = x->count; i-- > first;) {
        rt_invoice_line *l = &x->lines[i];
        if (cat->charge_key[l->charge] == cat->charge_key[e->charge] && l->zone == e->zone &&
            l->rate_group == e->rate_group)
            return l;
    }
    return NULL;
}

static rt_status add_usage_lines(inv_ctx *x, const rt_agg_entry *e, size_t n)
{
    const rt_catalog *cat = x->cat;
    size_t first = x->count;
    for (size_t i = 0; i < n; i++) {
        rt_invoice_line *l = period_line_of(x, first, &e[i]);
        if (l) {
            if (e[i].amount_nanos > INT64_MAX || e[i].amount_nanos < INT64_MIN ||
                rt_add_i64(l->amount_nanos, (int64_t)e[i].amount_nanos, &l->amount_nanos) !=
                    RT_OK ||
                rt_add_i64(l->quantity_base, e[i].quantity_base, &l->quantity_base) != RT_OK ||
                rt_add_i64(l->billable_base, e[i].billable_base, &l->billable_base) != RT_OK)
                return overflow(x, "a line amount");
            if (__builtin_add_overflow(l->events, e[i].events, &l->events))
                return overflow(x, "a line's events");
            l->charge = e[i].charge; /* the later version, unless the tax point's is found below */
            continue;
        }
        if (!(l = push_line(x, RT_LINE_USAGE))) return oom(x);
        l->charge = e[i].charge;
        l->zone = e[i].zone;
        l->rate_group = e[i].rate_group;
        l->events = e[i].events;
        l->quantity_base = e[i].quantity_base;
        l->billable_base = e[i].billable_base;
        if (e[i].amount_nanos > INT64_MAX || e[i].amount_nanos < INT64_MIN)
            return overflow(x, "a line amount");
        l->amount_nanos = (int64_t)e[i].amount_nanos;
    }
    for (size_t i = first; i < x->count; i++) {
        rt_invoice_line *l = &x->lines[i];
        bool period = rt_charge_model_is_period((rt_charge_model)cat->charges[l->charge].model);
        if (period) {
            /* Priced by the version in force at the tax point, as the other period rules are
             * (else by the latest with usage: the charge ended during the period). */
            uint32_t v =
                rt_catalog_charge_version_at(cat, cat->charge_key[l->charge], x->tax_point);
            if (v != RT_NO_INDEX) l->charge = v;
        }
        const rt_charge *ch = &cat->charges[l->charge];
        l->product =
            rt_catalog_product_for(cat, cat->charge_product_key[l->charge], x->tax_point);
        if (period) {
            /* The events carry their setup fees; the quantity is priced on the total. */
            int64_t priced;
            if (rt_period_amount(cat, l->charge, cat->products[l->product].quantity_decimals,
                                 l->billable_base, &priced) != RT_OK ||
                rt_add_i64(l->amount_nanos, priced, &l->amount_nanos) != RT_OK)
                return overflow(x, "a period price");
            /* A tiered or volume line shows the price of the tier its total reaches. */
            const rt_tier *t = ch->model == RT_CHARGE_PACKAGE
                                   ? NULL
                                   : rt_tier_reached(cat, l->charge,
                                                     cat->products[l->product].quantity_decimals,
                                                     l->billable_base);
            if (t) {
                l->unit_price_nanos = t->price_nanos;
                l->price_per = ch->price_per;
            }
        }
        if (l->rate_group != RT_NO_INDEX) rate_price(cat, l->rate_group, l);
        l->description = zone_band_text(x, l->charge, l->zone, l->rate_group, l->product);
    }
    x->usage_count = x->count;
    return RT_OK;
}

/* ---- 2. allowances ---- */

typedef struct allowance_ref {
    uint32_t row;
    bool zoned;
} allowance_ref;

static int allowance_cmp(const void *x, const void *y)
{
    const allowance_ref *a = x, *b = y;
    if (a->zoned != b->zoned) return a->zoned ? -1 : 1;
    return u32_cmp(a->row, b->row);
}

/* Free units of one allowance taken from one usage line, and the credit they are worth:
 * for tiered, volume and package charges the drop in the period price; for per-unit and flat
 * charges the line's average price (its amount x taken / its billable quantity, or events
 * for flat charges), rounded half-up to 1e-9. */
static rt_status allowance_credit(inv_ctx *x, const rt_invoice_line *l, int64_t used, int64_t take,
                                  int64_t *credit)
{
    const rt_catalog *cat = x->cat;
    const rt_charge *ch = &cat->charges[l->charge];
    if (rt_charge_model_is_period((rt_charge_model)ch->model)) {
        int64_t qdec = cat->products[l->product].quantity_decimals, before, after;
        if (rt_period_amount(cat, l->charge, qdec, l->billable_base - used, &before) != RT_OK ||
            rt_period_amount(cat, l->charge, qdec, l->billable_base - used - take, &after) != RT_OK)
            return RT_EOVERFLOW;
        *credit = before - after;
        return RT_OK;
    }
    int64_t whole = ch->model == RT_CHARGE_FLAT ? (int64_t)l->events : l->billable_base;
    return rt_mul_div_round(l->amount_nanos, take, whole, RT_ROUND_HALF_UP, credit);
}

static rt_status apply_one_allowance(inv_ctx *x, const rt_allowance *a, int64_t *used)
{
    const rt_catalog *cat = x->cat;
    uint32_t key = rt_catalog_charge_key(cat, a->plan_id, a->charge_id);
    RT_ASSERT(key != RT_NO_INDEX);
    const rt_charge *first = &cat->charges[cat->charge_key_rows[key].first];
    uint32_t zone = a->zone_id[0] ? rt_catalog_zone(cat, first->deck_id, a->zone_id) : RT_NO_INDEX;
    bool flat = first->model == RT_CHARGE_FLAT;
    int64_t remaining = RT_UNSET;
    for (size_t i = 0; i < x->usage_count; i++) {
        rt_invoice_line l = x->lines[i]; /* a copy: push_line may move the array */
        if (cat->charge_key[l.charge] != key || (zone != RT_NO_INDEX && l.zone != zone)) continue;
        if (remaining == RT_UNSET) {
            int64_t qdec = flat ? 0 : cat->products[l.product].quantity_decimals;
            remaining = a->quantity_e6 / rt_pow10((unsigned)(6 - qdec));
        }
        int64_t whole = flat ? (int64_t)l.events : l.billable_base;
        int64_t take = whole - used[i] < remaining ? whole - used[i] : remaining;
        if (take <= 0) continue;
        int64_t credit;
        if (allowance_credit(x, &l, used[i], take, &credit) != RT_OK)
            return overflow(x, "an allowance");
        used[i] += take;
        remaining -= take;
        rt_invoice_line *al = push_line(x, RT_LINE_ALLOWANCE);
        if (!al) return oom(x);
        al->charge = l.charge;
        al->zone = l.zone;
        al->rate_group = l.rate_group;
        al->product = l.product;
        al->billable_base = take;
        al->quantity_base = take;
        al->amount_nanos = -credit;
        al->unit_price_nanos = l.unit_price_nanos;
        al->price_per = l.price_per;
        al->description = a->description[0]
                              ? a->description
                              : charge_text(x, l.charge, l.product, " - included in the allowance");
        if (remaining == 0) break;
    }
    return RT_OK;
}

/* Allowances of the account's plans in force at the tax point, zone-specific ones first,
 * then by plan and allowance id; each takes free units from its charge's usage lines in
 * line order (by zone id, then band id), so the result does not depend on thread count or
 * on the order of the input files. */
static rt_status apply_allowances(inv_ctx *x)
{
    const rt_catalog *cat = x->cat;
    size_t n = 0;
    for (size_t p = 0; p < x->plan_count; p++)
        n += cat->plan_allowances[x->plans[p]].count;
    if (n == 0 || x->usage_count == 0) return RT_OK;
    allowance_ref *refs = calloc(n, sizeof *refs);
    int64_t *used = calloc(x->usage_count, sizeof *used);
    rt_status st = refs && used ? RT_OK : oom(x);
    size_t k = 0;
    for (size_t p = 0; st == RT_OK && p < x->plan_count; p++) {
        rt_range32 r = cat->plan_allowances[x->plans[p]];
        for (uint32_t i = r.first; i < r.first + r.count; i++) {
            const rt_allowance *a = &cat->allowances[i];
            if (in_force(a->valid_from, a->valid_to, x->tax_point))
                refs[k++] = (allowance_ref){i, a->zone_id[0] != 0};
        }
    }
    if (st == RT_OK) qsort(refs, k, sizeof *refs, allowance_cmp);
    for (size_t i = 0; st == RT_OK && i < k; i++)
        st = apply_one_allowance(x, &cat->allowances[refs[i].row], used);
    free(refs);
    free(used);
    return st;
}

/* ---- 3. minimums and 4. percentages ---- */

/* The line rounding point, in one place: an amount (nanos) as an invoice line shows it, in the
 * currency's minor units, rounded with company.line_rounding. RT_EOVERFLOW. */
static rt_status line_minor(const inv_ctx *x, int64_t amount_nanos, int64_t *minor)
{
    return rt_rescale(amount_nanos, RT_NANOS_SCALE, x->currency->minor_units,
                      (rt_round)x->cat->company->line_rounding, minor);
}

/* The tax rate row of a VAT category for the account at the tax point, or RT_ENOTFOUND (with
 * the error set) when the book has none. */
static rt_status tax_row(inv_ctx *x, const char *category, uint32_t *row)
{
    const rt_account *acct = &x->cat->accounts[x->account];
    *row = rt_catalog_tax_at(x->cat, acct->tax_jurisdiction, category, x->tax_point);
    if (*row != RT_NO_INDEX) return RT_OK;
    return rt_error_set(x->err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                        "no tax rate for jurisdiction %s, category %s on the tax point",
                        acct->tax_jurisdiction, category);
}

/* A line's amount as the invoice will show it (line_minor), in nanos. The period rules that
 * take their base from other lines (minimums, percentages, discounts) take these, so that
 * what they add can be recomputed from the invoice: a 5.00 minimum over a usage line of
 * 0.005, shown 0.01, tops up 4.99, not 4.995 (which would show 5.00 and bill 5.01 in all). */
static __int128 shown_nanos(const inv_ctx *x, int64_t amount_nanos)
{
    int64_t minor;
    if (line_minor(x, amount_nanos, &minor) != RT_OK)
        return amount_nanos; /* only at the edge of the range, which billing rejects anyway */
    return (__int128)minor * rt_pow10(RT_NANOS_SCALE - x->currency->minor_units);
}

/* Sum of the shown amounts of the lines of charge key k (or of every non-percentage charge of
 * plan when k is RT_NO_INDEX). */
static __int128 lines_sum(const inv_ctx *x, uint32_t k, uint32_t plan)
{
    __int128 sum = 0;
    for (size_t i = 0; i < x->count; i++) {
        const rt_invoice_line *l = &x->lines[i];
        if (l->charge == RT_NO_INDEX) continue;
        if (k != RT_NO_INDEX ? x->cat->charge_key[l->charge] != k
                             : x->cat->charge_plan[l->charge] != plan ||
                                   x->cat->charges[l->charge].model == RT_CHARGE_PERCENTAGE)
            continue;
        sum += shown_nanos(x, l->amount_nanos);
    }
    return sum;
}

static rt_status add_rule_line(inv_ctx *x, rt_line_kind kind, uint32_t charge, int64_t amount)
{
    const rt_catalog *cat = x->cat;
    rt_invoice_line *l = push_line(x, kind);
    if (!l) return oom(x);
    l->charge = charge;
    l->product = rt_catalog_product_for(cat, cat->charge_product_key[charge], x->tax_point);
    l->amount_nanos = amount;
    if (kind == RT_LINE_MINIMUM)
        l->description = charge_text(x, charge, l->product, " - minimum per period");
    return RT_OK;
}

/* For each charge (key) of the account's plans whose version at the tax point has a
 * minimum per period: a top-up line when its lines sum below it (zero usage included). */
static rt_status add_minimums(inv_ctx *x)
{
    const rt_catalog *cat = x->cat;
    for (size_t p = 0; p < x->plan_count; p++) {
        rt_range32 r = cat->plan_charges[x->plans[p]];
        for (uint32_t i = r.first; i < r.first + r.count; i++) {
            uint32_t k = cat->charge_key[i];
            if (cat->charge_key_rows[k].first != i) continue; /* once per charge key */
            uint32_t v = rt_catalog_charge_version_at(cat, k, x->tax_point);
            if (v == RT_NO_INDEX || cat->charges[v].min_per_period_nanos == RT_UNSET) continue;
            __int128 sum = lines_sum(x, k, RT_NO_INDEX);
            __int128 gap = (__int128)cat->charges[v].min_per_period_nanos - sum;
            if (gap <= 0) continue;
            rt_status st = add_rule_line(x, RT_LINE_MINIMUM, v, (int64_t)gap);
            if (st != RT_OK) return st;
        }
    }
    return RT_OK;
}

/* Percentage charges in force at the tax point: price percent of the plan's other lines,
 * rounded once to the charge's event_decimals with its event_rounding. */
static rt_status add_percentages(inv_ctx *x)
{
    const rt_catalog *cat = x->cat;
    for (size_t p = 0; p < x->plan_count; p++) {
        rt_range32 r = cat->plan_charges[x->plans[p]];
        for (uint32_t i = r.first; i < r.first + r.count; i++) {
            const rt_charge *ch = &cat->charges[i];
            if (ch->model != RT_CHARGE_PERCENTAGE ||
                !in_force(ch->valid_from, ch->valid_to, x->tax_point))
                continue;
            __int128 base = lines_sum(x, RT_NO_INDEX, x->plans[p]);
            if (base == 0) continue;
            if (base > INT64_MAX || base < INT64_MIN) return overflow(x, "a percentage base");
            unsigned drop = (unsigned)(RT_NANOS_SCALE - ch->event_decimals);
            __int128 den = (__int128)100 * RT_NANOS_PER_UNIT * rt_pow10(drop);
            int64_t at, amount;
            if (rt_div_round_i128(base * ch->price_nanos, den, (rt_round)ch->event_rounding, &at) !=
                    RT_OK ||
                rt_mul_i64(at, rt_pow10(drop), &amount) != RT_OK)
                return overflow(x, "a percentage charge");
            rt_status st = add_rule_line(x, RT_LINE_PERCENTAGE, i, amount);
            if (st != RT_OK) return st;
        }
    }
    return RT_OK;
}

/* ---- 5. discounts ---- */

static bool discount_applies(const inv_ctx *x, const rt_discount *d)
{
    if (!in_force(d->valid_from, d->valid_to, x->tax_point)) return false;
    if (!d->plan_id[0]) return true;
    uint32_t plan = rt_catalog_plan(x->cat, d->plan_id, strlen(d->plan_id));
    return plan != RT_NO_INDEX && has_plan(x, plan);
}

/* A percentage of base (half-up to 1e-9; negative for a negative base), or a fixed amount,
 * never more than a positive base (none on a base of 0 or less). */
static rt_status discount_amount(const rt_discount *d, __int128 base, int64_t *out)
{
    *out = 0;
    if (base > INT64_MAX || base < -INT64_MAX) return RT_EOVERFLOW;
    /* A percentage of a negative base (a credit for service cancelled after it was billed,
     * discounted then) takes the discount back in the same proportion: the customer is
     * credited what was paid, not the undiscounted price. */
    if (d->percent_e4 != RT_UNSET)
        return rt_mul_div_round((int64_t)base, d->percent_e4, 1000000, RT_ROUND_HALF_UP, out);
    if (base <= 0) return RT_OK;
    *out = (__int128)d->amount_nanos < base ? d->amount_nanos : (int64_t)base;
    return RT_OK;
}

/* The VAT category of a line: the one it names (an invoice discount's share), else its
 * product's. */
static const char *line_category(const inv_ctx *x, const rt_invoice_line *l)
{
    if (l->tax != RT_NO_INDEX) return x->cat->tax_rates[l->tax].tax_category;
    return x->cat->products[l->product].tax_category;
}

/* An invoice discount's base per VAT category of the lines so far, in line order. */
enum { DISCOUNT_CATEGORIES_MAX = 32 };
typedef struct category_base {
    const char *category;
    __int128 base;
} category_base;

/* Push a discount line of d of amount_nanos (positive: it is negated) on the lines of charge
 * (RT_NO_INDEX: an invoice discount), with its own tax rate row (RT_NO_INDEX: its product's). */
static rt_status push_discount(inv_ctx *x, const rt_discount *d, uint32_t charge, uint32_t tax,
                               int64_t amount_nanos)
{
    const rt_catalog *cat = x->cat;
    rt_invoice_line *l = push_line(x, RT_LINE_DISCOUNT);
    if (!l) return oom(x);
    l->charge = charge;
    l->tax = tax;
    if (d->product_id[0]) {
        uint32_t pk = rt_catalog_product_key(cat, d->product_id, strlen(d->product_id));
        l->product = rt_catalog_product_for(cat, pk, x->tax_point);
    } else {
        l->product = rt_catalog_product_for(cat, cat->charge_product_key[charge], x->tax_point);
    }
    l->amount_nanos = -amount_nanos;
    l->description = d->description[0] ? d->description : NULL;
    return RT_OK;
}

/* An invoice discount shared between the VAT categories of its base, as EN 16931 wants of a
 * document-level allowance (one category each) and so that each VAT base is lowered by its
 * own share only. A percentage is taken of each category's base on its own (negative for a
 * negative base: a category of credits gets its discount back), each share rounded as a
 * line. A fixed amount_nanos, rounded to the currency's minor units, is shared in proportion
 * to the positive bases in minor units (rounded down), the largest base taking the rest. One
 * discount line per share that is not 0, in the order the categories first appear. */
static rt_status share_discount(inv_ctx *x, const rt_discount *d, const category_base *cb,
                                size_t n, int64_t amount_nanos)
{
    int64_t scale = rt_pow10(RT_NANOS_SCALE - x->currency->minor_units);
    int64_t part[DISCOUNT_CATEGORIES_MAX];
    if (d->percent_e4 != RT_UNSET) {
        for (size_t c = 0; c < n; c++) {
            int64_t exact;
            if (discount_amount(d, cb[c].base, &exact) != RT_OK ||
                line_minor(x, exact, &part[c]) != RT_OK)
                return overflow(x, "a discount");
        }
    } else {
        int64_t total, rest;
        if (line_minor(x, amount_nanos, &total) != RT_OK) return overflow(x, "a discount");
        __int128 positive = 0;
        size_t largest = n;
        for (size_t c = 0; c < n; c++) {
            if (cb[c].base <= 0) continue;
            positive += cb[c].base;
            if (largest == n || cb[c].base > cb[largest].base) largest = c;
        }
        RT_ASSERT(largest < n); /* a fixed discount comes from a positive base */
        rest = total;
        for (size_t c = 0; c < n; c++) {
            part[c] = cb[c].base > 0 ? (int64_t)((__int128)total * cb[c].base / positive) : 0;
            rest -= part[c];
        }
        part[largest] += rest;
    }
    for (size_t c = 0; c < n; c++) {
        if (part[c] == 0) continue;
        uint32_t tax;
        rt_status st = tax_row(x, cb[c].category, &tax);
        if (st == RT_OK) st = push_discount(x, d, RT_NO_INDEX, tax, part[c] * scale);
        if (st != RT_OK) return st;
    }
    return RT_OK;
}

/* A discount on its charge's lines so far, or on every line so far (an invoice discount),
 * reckoned on their shown amounts. */
static rt_status apply_discount(inv_ctx *x, const rt_discount *d)
{
    const rt_catalog *cat = x->cat;
    uint32_t k =
        d->charge_id[0] ? rt_catalog_charge_key(cat, d->plan_id, d->charge_id) : RT_NO_INDEX;
    __int128 base = 0;
    uint32_t charge = RT_NO_INDEX;
    category_base cb[DISCOUNT_CATEGORIES_MAX];
    size_t ncb = 0;
    for (size_t i = 0; i < x->count; i++) {
        const rt_invoice_line *l = &x->lines[i];
        if (k != RT_NO_INDEX && (l->charge == RT_NO_INDEX || cat->charge_key[l->charge] != k))
            continue;
        if (charge == RT_NO_INDEX) charge = l->charge;
        __int128 v = shown_nanos(x, l->amount_nanos);
        base += v;
        if (k != RT_NO_INDEX) continue;
        const char *category = line_category(x, l);
        size_t c = 0;
        while (c < ncb && strcmp(cb[c].category, category) != 0) c++;
        if (c == ncb) {
            if (ncb == DISCOUNT_CATEGORIES_MAX)
                return rt_error_set(x->err, RT_ELIMIT, NULL, 0, 0, NULL,
                                    "account %s: more than %d VAT categories under discount %s",
                                    cat->accounts[x->account].account_id,
                                    DISCOUNT_CATEGORIES_MAX, d->discount_id);
            cb[ncb++] = (category_base){category, 0};
        }
        cb[c].base += v;
    }
    int64_t amount;
    if (discount_amount(d, base, &amount) != RT_OK) return overflow(x, "a discount");
    /* A percentage of an invoice is reckoned per category, whose bases may not add up to
     * more than 0 (a credit beside a charge). */
    if (k == RT_NO_INDEX && (amount != 0 || d->percent_e4 != RT_UNSET))
        return share_discount(x, d, cb, ncb, amount);
    if (amount == 0) return RT_OK;
    return push_discount(x, d, charge, RT_NO_INDEX, amount);
}

/* The account's own discounts, then its plans' discounts (each by discount_id): charge
 * discounts first, each on its charge's lines so far; then invoice discounts, each on the
 * invoice's lines so far (so a second discount applies after the first). */
static rt_status apply_discounts(inv_ctx *x)
{
    const rt_catalog *cat = x->cat;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t g = 0; g <= x->plan_count; g++) {
            rt_range32 r =
                g == 0 ? cat->account_discounts[x->account] : cat->plan_discounts[x->plans[g - 1]];
            for (uint32_t i = r.first; i < r.first + r.count; i++) {
                const rt_discount *d = &cat->discounts[cat->discount_rows[i]];
                if ((d->charge_id[0] != 0) != (pass == 0) || !discount_applies(x, d)) continue;
                rt_status st = apply_discount(x, d);
                if (st != RT_OK) return st;
            }
        }
    }
    return RT_OK;
}

/* ---- 6. rounding, VAT, totals ---- */

static rt_status finish_invoice(inv_ctx *x, rt_invoice *inv)
{
    const rt_catalog *cat = x->cat;
    const rt_company *co = cat->company;
    const rt_account *acct = &cat->accounts[x->account];
    inv->lines = rt_arena_alloc(x->arena, (x->count ? x->count : 1) * sizeof *inv->lines);
    if (!inv->lines) return oom(x);
    /* Subtotals are gathered in the thread's scratch and only as many as there are kept: an
     * invoice has one or two, and room for one per line cost 32 bytes a line. */
    if (x->tax_cap < x->count) {
        rt_tax_subtotal *t = realloc(x->taxes, x->count * sizeof *t);
        if (!t) return oom(x);
        x->taxes = t;
        x->tax_cap = x->count;
    }
    inv->taxes = x->taxes;
    for (size_t i = 0; i < x->count; i++) {
        rt_invoice_line *l = &inv->lines[inv->line_count++];
        *l = x->lines[i];
        if (line_minor(x, l->amount_nanos, &l->net_minor) != RT_OK)
            return overflow(x, "a line amount");
        rt_status st;
        if (l->tax == RT_NO_INDEX &&
            (st = tax_row(x, cat->products[l->product].tax_category, &l->tax)) != RT_OK)
            return st;
        const rt_tax_rate *tr = &cat->tax_rates[l->tax];
        /* VAT breakdown key: (category code, rate), per EN 16931 BG-23. */
        size_t s = 0;
        while (s < inv->tax_count &&
               !(inv->taxes[s].vat_code == tr->vat_code && inv->taxes[s].rate_e4 == tr->rate_e4))
            s++;
        if (s == inv->tax_count) {
            if (s >= RT_SUBTOTALS_MAX)
                return rt_error_set(x->err, RT_ELIMIT, NULL, 0, 0, NULL,
                                    "account %s: more than %u VAT rates on one invoice",
                                    acct->account_id, (unsigned)RT_SUBTOTALS_MAX);
            inv->taxes[inv->tax_count++] =
                (rt_tax_subtotal){l->tax, tr->vat_code, tr->rate_e4, 0, 0};
        }
        l->subtotal = (uint16_t)s;
        inv->events += l->events;
        if (rt_add_i64(inv->taxes[s].base_minor, l->net_minor, &inv->taxes[s].base_minor) !=
                RT_OK ||
            rt_add_i64(inv->net_minor, l->net_minor, &inv->net_minor) != RT_OK)
            return overflow(x, "the invoice total");
    }
    if (inv->tax_count) {
        inv->taxes = rt_arena_alloc(x->arena, inv->tax_count * sizeof *inv->taxes);
        if (!inv->taxes) return oom(x);
        memcpy(inv->taxes, x->taxes, inv->tax_count * sizeof *inv->taxes);
    } else {
        inv->taxes = NULL;
    }
    for (size_t s = 0; s < inv->tax_count; s++) {
        rt_tax_subtotal *t = &inv->taxes[s];
        if (rt_tax_amount(t->base_minor, t->rate_e4, (rt_round)co->tax_rounding, &t->tax_minor) !=
                RT_OK ||
            rt_add_i64(inv->tax_minor, t->tax_minor, &inv->tax_minor) != RT_OK)
            return overflow(x, "the tax");
    }
    if (rt_add_i64(inv->net_minor, inv->tax_minor, &inv->gross_minor) != RT_OK)
        return overflow(x, "the invoice total");
    return RT_OK;
}

/* Lines from orders (recurring and one-time charges), as rt_orders_bill made them. They come
 * before percentages and discounts, which therefore apply to them too. */
static rt_status add_extra_lines(inv_ctx *x, const rt_extra_line *extra, size_t nx)
{
    for (size_t i = 0; i < nx; i++) {
        rt_invoice_line *l = push_line(x, (rt_line_kind)extra[i].line.kind);
        if (!l) return oom(x);
        *l = extra[i].line;
        l->tax = RT_NO_INDEX; /* its product's, found at the end */
    }
    return RT_OK;
}

static rt_status build_invoice(inv_ctx *x, const rt_agg_entry *e, size_t n,
                               const rt_extra_line *extra, size_t nx, rt_invoice *inv)
{
    const rt_catalog *cat = x->cat;
    const rt_account *acct = &cat->accounts[x->account];
    memset(inv, 0, sizeof *inv);
    inv->account = x->account;
    inv->currency = x->currency = rt_currency_find(acct->currency);
    RT_ASSERT(inv->currency != NULL);
    inv->tax_point_day = x->period->end_day - 1;
    inv->issue_day = x->period->end_day;
    int64_t terms = acct->payment_terms_days != RT_UNSET ? acct->payment_terms_days
                                                         : cat->company->payment_terms_days;
    inv->due_day = inv->issue_day + (rt_days)terms;
    x->count = 0;
    rt_status st;
    if ((st = collect_plans(x)) != RT_OK || (st = add_usage_lines(x, e, n)) != RT_OK ||
        (st = apply_allowances(x)) != RT_OK || (st = add_minimums(x)) != RT_OK ||
        (st = add_extra_lines(x, extra, nx)) != RT_OK || (st = add_percentages(x)) != RT_OK ||
        (st = apply_discounts(x)) != RT_OK)
        return st;
    return finish_invoice(x, inv);
}

/* True when an account without usage still gets an invoice: a charge of one of its plans in
 * the period has a minimum per period at the tax point. */
static bool needs_minimum(const rt_catalog *cat, const rt_period *period, uint32_t account)
{
    rt_range32 r = cat->account_plan_ranges[account];
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        const rt_account_plan *ap = &cat->account_plans[i];
        if (ap->valid_from >= period->end_s || ap->valid_to <= period->start_s) continue;
        rt_range32 c = cat->plan_charges[cat->account_plan_plan[i]];
        for (uint32_t k = c.first; k < c.first + c.count; k++)
            if (cat->charges[k].min_per_period_nanos != RT_UNSET &&
                in_force(cat->charges[k].valid_from, cat->charges[k].valid_to, period->end_s - 1))
                return true;
    }
    return false;
}

/* One invoice to build: its account, its aggregates (in part `part`, or none) and the range
 * of its extra lines. */
typedef struct bill_task {
    uint32_t account;
    uint32_t part; /* UINT32_MAX: no aggregates */
    const rt_agg_entry *agg;
    size_t agg_count, extra_first, extra_count;
} bill_task;

rt_status rt_billing_build(const rt_catalog *cat, const rt_period *period,
                           rt_aggregates *parts, size_t part_count, bool release,
                           const rt_extra_line *extra, size_t extra_count, unsigned threads,
                           rt_invoice_set *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    rt_arena_init(&out->arena, 8 << 20);
    if (threads == 0) threads = 1;
    RT_ASSERT(part_count < UINT32_MAX);
    /* Accounts in row order: those with usage or lines from orders, and those without either
     * only when a minimum per period applies to them. The parts are read side by side; an
     * account's entries lie in one part. pending[p]: the invoices still to build from part p. */
    size_t accounts = 0, task_cap = 1024;
    bill_task *tasks = malloc(task_cap * sizeof *tasks);
    size_t *pending = calloc(part_count ? part_count : 1, sizeof *pending);
    if (!tasks || !pending) {
        free(tasks);
        free(pending);
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    size_t part = 0, at = 0; /* the next entry: parts[part].entries[at] */
    const rt_agg_entry *prev = NULL;
    for (size_t a = 0, k = 0; a < cat->account_count; a++) {
        while (part < part_count && at == parts[part].count) part++, at = 0;
        const rt_aggregates *agg = part < part_count ? &parts[part] : NULL;
        RT_ASSERT(!agg || !prev || agg_cmp(prev, &agg->entries[at]) < 0);
        RT_ASSERT(k == 0 || k >= extra_count || extra[k - 1].account <= extra[k].account);
        size_t j = at, m = k;
        while (agg && j < agg->count && agg->entries[j].account == a) j++;
        while (m < extra_count && extra[m].account == a) m++;
        if (j > at || m > k || needs_minimum(cat, period, (uint32_t)a)) {
            if (accounts == task_cap) {
                bill_task *t = realloc(tasks, 2 * task_cap * sizeof *tasks);
                if (!t) {
                    free(tasks);
                    free(pending);
                    return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
                }
                tasks = t;
                task_cap *= 2;
            }
            bill_task *b = &tasks[accounts++];
            *b = (bill_task){(uint32_t)a, UINT32_MAX, NULL, j - at, k, m - k};
            if (j > at) {
                b->part = (uint32_t)part;
                b->agg = agg->entries + at;
                pending[part]++;
                prev = &agg->entries[j - 1];
            }
        }
        at = j;
        k = m;
    }
    while (part < part_count && at == parts[part].count) part++, at = 0;
    RT_ASSERT(part == part_count); /* every entry read: no account split between parts */
    out->items = calloc(accounts ? accounts : 1, sizeof *out->items);
    rt_arena *arenas = calloc(threads, sizeof *arenas);
    rt_failure *fail = calloc(threads, sizeof *fail);
    if (!out->items || !arenas || !fail) {
        free(tasks);
        free(pending);
        free(arenas);
        free(fail);
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    /* Invoices are independent: each thread builds a share into its own arena, every invoice
     * at its own index, so the set does not depend on the thread count. */
#pragma omp parallel num_threads(threads)
    {
        unsigned me = (unsigned)omp_get_thread_num();
        rt_failure *f = &fail[me];
        rt_failure_clear(f);
        rt_arena_init(&arenas[me], 8 << 20);
        text_memo texts = {0};
        if (rt_u64map_init(&texts.index, 1024) != RT_OK) texts.index.slots = NULL;
        inv_ctx x = {.cat = cat,
                     .texts = &texts,
                     .period = period,
                     .tax_point = period->end_s - 1,
                     .arena = &arenas[me],
                     .err = &f->err};
#pragma omp for schedule(dynamic, 256)
        for (size_t t = 0; t < accounts; t++) {
            if (f->item != SIZE_MAX) continue; /* this thread failed on an earlier one */
            const bill_task *b = &tasks[t];
            x.account = b->account;
            rt_status st = build_invoice(&x, b->agg, b->agg_count, &extra[b->extra_first],
                                         b->extra_count, &out->items[t]);
            if (st != RT_OK) rt_failure_set(f, t, st);
            /* The last invoice of a part frees it (after a failure some never come: the
             * caller frees what is left). */
            if (release && b->part != UINT32_MAX &&
                __atomic_sub_fetch(&pending[b->part], 1, __ATOMIC_ACQ_REL) == 0)
                rt_agg_free(&parts[b->part]);
        }
        free(x.lines);
        free(x.taxes);
        rt_u64map_free(&texts.index);
        free(texts.texts);
    }
    /* Chunks are handed out in order and each thread stops at its first failure: the first
     * failing invoice in account order. */
    const rt_failure *first = rt_failure_first(fail, threads);
    rt_status st = RT_OK;
    if (first) {
        st = first->status;
        if (err) *err = first->err;
    }
    for (unsigned i = 0; i < threads; i++) rt_arena_adopt(&out->arena, &arenas[i]);
    free(arenas);
    free(fail);
    free(tasks);
    free(pending);
    out->count = st == RT_OK ? accounts : 0;
    return st;
}

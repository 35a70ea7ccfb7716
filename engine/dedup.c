/* dedup: partitioned 128-bit fingerprint set, linear probing. The all-zero fingerprint marks an
 * empty slot, so a real all-zero fingerprint is stored as (0, 1): a collision that costs
 * nothing in practice and keeps each partition a flat array. Within a partition, a
 * fingerprint's first slot is the low word scaled to the table's size (the partition is
 * chosen by the high word's top bits), so a table can have any size: it is sized to its
 * estimate at a load of at most 0.7 rather than rounded up to a power of two, which left
 * tables a quarter to a half full: every slot is memory touched afresh. */
#include "engine/dedup.h"

#include "engine/bigmem.h"

#include <stdlib.h>
#include <string.h>

/* Tables grow (double) before an insert would take them past a load of 3/4. */
static bool full(const rt_dedup_part *p)
{
    return (p->count + 1) * 4 > p->cap * 3;
}

/* Slots for `expected` fingerprints in one partition: a load of at most 0.7, in whole cache
 * lines of four slots. */
static size_t slots_for(size_t expected)
{
    size_t cap = expected + expected * 3 / 7 + 4; /* >= expected / 0.7 */
    cap = (cap + 3) & ~(size_t)3;
    return cap < 64 ? 64 : cap;
}

/* The same in a block of its own: as many more as fill the block rt_big_alloc gives. */
static size_t capacity_for(size_t expected)
{
    return rt_big_usable(slots_for(expected) * sizeof(rt_fp128)) / sizeof(rt_fp128);
}

static void part_release(rt_dedup_part *p)
{
    if (p->own && p->slots) rt_big_free(p->slots, p->cap * sizeof *p->slots);
    p->slots = NULL;
    p->own = false;
}

static rt_status part_init(rt_dedup_part *p, size_t expected)
{
    size_t cap = capacity_for(expected);
    p->slots = rt_big_alloc(cap * sizeof *p->slots);
    if (!p->slots) return RT_ENOMEM;
    p->cap = cap;
    p->count = 0;
    p->own = true;
    return RT_OK;
}

bool rt_fp_list_push(rt_fp_list *l, rt_fp128 f)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        rt_fp128 *items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = f;
    return true;
}

void rt_fp_list_free(rt_fp_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

rt_status rt_dedup_init(rt_dedup *d, size_t expected)
{
    memset(d, 0, sizeof *d);
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) {
        if (part_init(&d->parts[i], expected / RT_DEDUP_PARTS) != RT_OK) {
            rt_dedup_free(d);
            return RT_ENOMEM;
        }
    }
    return RT_OK;
}

void rt_dedup_free(rt_dedup *d)
{
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) part_release(&d->parts[i]);
    rt_big_free(d->slab, d->slab_bytes);
    memset(d, 0, sizeof *d);
}

/* Move a partition's fingerprints into `slots` (cap of them, zeroed, more than it has); own:
 * slots is a block of its own. */
static void move_to(rt_dedup_part *p, rt_fp128 *slots, size_t cap, bool own)
{
    for (size_t i = 0; i < p->cap; i++) {
        rt_fp128 f = p->slots[i];
        if (!f.lo && !f.hi) continue;
        size_t j = rt_dedup_home(f.lo, cap);
        while (slots[j].lo || slots[j].hi) j = j + 1 == cap ? 0 : j + 1;
        slots[j] = f;
    }
    part_release(p);
    p->slots = slots;
    p->cap = cap;
    p->own = own;
}

/* Grow a partition into a block of its own of cap slots. */
static rt_status resize(rt_dedup_part *p, size_t cap)
{
    rt_fp128 *slots = rt_big_alloc(cap * sizeof *slots);
    if (!slots) return RT_ENOMEM;
    move_to(p, slots, cap, true);
    return RT_OK;
}

rt_status rt_dedup_reserve(rt_dedup *d, size_t expected)
{
    size_t want = expected / RT_DEDUP_PARTS + 1;
    if (d->slab) { /* reserved before: partitions that need it grow on their own */
        size_t cap = capacity_for(want);
        for (unsigned i = 0; i < RT_DEDUP_PARTS; i++)
            if (cap > d->parts[i].cap && resize(&d->parts[i], cap) != RT_OK) return RT_ENOMEM;
        return RT_OK;
    }
    size_t cap = slots_for(want), grow = 0;
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) grow += cap > d->parts[i].cap;
    if (grow == 0) return RT_OK;
    size_t bytes = grow * cap * sizeof(rt_fp128);
    rt_fp128 *slab = rt_big_alloc(bytes);
    if (!slab) return RT_ENOMEM;
    d->slab = slab;
    d->slab_bytes = bytes;
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++)
        if (cap > d->parts[i].cap) {
            move_to(&d->parts[i], slab, cap, false);
            slab += cap;
        }
    return RT_OK;
}

rt_status rt_dedup_insert(rt_dedup *d, uint64_t lo, uint64_t hi, bool *seen)
{
    rt_dedup_normalise(&lo, &hi);
    rt_dedup_part *p = &d->parts[rt_dedup_part_of(hi)];
    if (full(p)) { /* a share of the slab is left as it is: it was touched all the same */
        rt_status st = resize(p, p->cap * 2);
        if (st != RT_OK) return st;
    }
    size_t i = rt_dedup_home(lo, p->cap);
    while (p->slots[i].lo || p->slots[i].hi) {
        if (p->slots[i].lo == lo && p->slots[i].hi == hi) {
            *seen = true;
            return RT_OK;
        }
        i = i + 1 == p->cap ? 0 : i + 1;
    }
    p->slots[i] = (rt_fp128){lo, hi};
    p->count++;
    *seen = false;
    return RT_OK;
}

bool rt_dedup_contains(const rt_dedup *d, uint64_t lo, uint64_t hi)
{
    rt_dedup_normalise(&lo, &hi);
    const rt_dedup_part *p = &d->parts[rt_dedup_part_of(hi)];
    size_t i = rt_dedup_home(lo, p->cap);
    while (p->slots[i].lo || p->slots[i].hi) {
        if (p->slots[i].lo == lo && p->slots[i].hi == hi) return true;
        i = i + 1 == p->cap ? 0 : i + 1;
    }
    return false;
}

void rt_dedup_sum_counts(rt_dedup *d)
{
    size_t n = 0;
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) n += d->parts[i].count;
    d->count = n;
}

size_t rt_dedup_bytes(const rt_dedup *d)
{
    size_t n = 0;
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++)
        if (d->parts[i].own) n += d->parts[i].cap * sizeof(rt_fp128);
    return n + d->slab_bytes;
}

/* dedup: partitioned 128-bit fingerprint set, linear probing. The all-zero fingerprint marks an
 * empty slot, so a real all-zero fingerprint is stored as (0, 1): a collision that costs
 * nothing in practice and keeps each partition a flat array. Within a partition, slots are
 * addressed by the low word (the partition is chosen by the high word's top bits). */
#include "engine/dedup.h"

#include "engine/bigmem.h"

#include <stdlib.h>
#include <string.h>

static void normalise(uint64_t *lo, uint64_t *hi)
{
    if (*lo == 0 && *hi == 0) *hi = 1;
}

/* Slots for `expected` fingerprints in one partition: a load of at most a half. */
static size_t capacity_for(size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2) cap <<= 1;
    return cap;
}

static rt_status part_init(rt_dedup_part *p, size_t expected)
{
    size_t cap = capacity_for(expected);
    p->slots = rt_big_alloc(cap * sizeof *p->slots);
    if (!p->slots) return RT_ENOMEM;
    p->mask = cap - 1;
    p->count = 0;
    return RT_OK;
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
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++)
        if (d->parts[i].slots) rt_big_free(d->parts[i].slots, (d->parts[i].mask + 1) * sizeof(rt_fp128));
    memset(d, 0, sizeof *d);
}

/* Move a partition's fingerprints into a table of cap slots (a power of two, larger). */
static rt_status resize(rt_dedup_part *p, size_t cap)
{
    rt_fp128 *slots = rt_big_alloc(cap * sizeof *slots);
    if (!slots) return RT_ENOMEM;
    for (size_t i = 0; i <= p->mask; i++) {
        rt_fp128 f = p->slots[i];
        if (!f.lo && !f.hi) continue;
        size_t j = f.lo & (cap - 1);
        while (slots[j].lo || slots[j].hi) j = (j + 1) & (cap - 1);
        slots[j] = f;
    }
    rt_big_free(p->slots, (p->mask + 1) * sizeof *p->slots);
    p->slots = slots;
    p->mask = cap - 1;
    return RT_OK;
}

static rt_status grow(rt_dedup_part *p)
{
    return resize(p, (p->mask + 1) * 2);
}

rt_status rt_dedup_reserve(rt_dedup *d, size_t expected)
{
    size_t cap = capacity_for(expected / RT_DEDUP_PARTS + 1);
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) {
        rt_dedup_part *p = &d->parts[i];
        if (cap > p->mask + 1) {
            rt_status st = resize(p, cap);
            if (st != RT_OK) return st;
        }
    }
    return RT_OK;
}

rt_status rt_dedup_insert(rt_dedup *d, uint64_t lo, uint64_t hi, bool *seen)
{
    normalise(&lo, &hi);
    rt_dedup_part *p = &d->parts[rt_dedup_part_of(hi)];
    if ((p->count + 1) * 2 > p->mask + 1) {
        rt_status st = grow(p);
        if (st != RT_OK) return st;
    }
    size_t i = lo & p->mask;
    while (p->slots[i].lo || p->slots[i].hi) {
        if (p->slots[i].lo == lo && p->slots[i].hi == hi) {
            *seen = true;
            return RT_OK;
        }
        i = (i + 1) & p->mask;
    }
    p->slots[i] = (rt_fp128){lo, hi};
    p->count++;
    *seen = false;
    return RT_OK;
}

bool rt_dedup_contains(const rt_dedup *d, uint64_t lo, uint64_t hi)
{
    normalise(&lo, &hi);
    const rt_dedup_part *p = &d->parts[rt_dedup_part_of(hi)];
    size_t i = lo & p->mask;
    while (p->slots[i].lo || p->slots[i].hi) {
        if (p->slots[i].lo == lo && p->slots[i].hi == hi) return true;
        i = (i + 1) & p->mask;
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
    for (unsigned i = 0; i < RT_DEDUP_PARTS; i++) n += (d->parts[i].mask + 1) * sizeof(rt_fp128);
    return n;
}

/* dedup: 128-bit fingerprint set, linear probing. The all-zero fingerprint marks an empty slot,
 * so a real all-zero fingerprint is stored as (0, 1): a collision that costs nothing in
 * practice and keeps the table a flat array. */
#include "engine/dedup.h"

#include <stdlib.h>
#include <string.h>

static void normalise(uint64_t *lo, uint64_t *hi)
{
    if (*lo == 0 && *hi == 0) *hi = 1;
}

rt_status rt_dedup_init(rt_dedup *d, size_t expected)
{
    size_t cap = 1024;
    while (cap < expected * 2) cap <<= 1;
    d->slots = calloc(cap, sizeof *d->slots);
    if (!d->slots) return RT_ENOMEM;
    d->mask = cap - 1;
    d->count = 0;
    return RT_OK;
}

void rt_dedup_free(rt_dedup *d)
{
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static rt_status grow(rt_dedup *d)
{
    size_t cap = (d->mask + 1) * 2;
    rt_fp128 *slots = calloc(cap, sizeof *slots);
    if (!slots) return RT_ENOMEM;
    for (size_t i = 0; i <= d->mask; i++) {
        rt_fp128 f = d->slots[i];
        if (!f.lo && !f.hi) continue;
        size_t j = f.lo & (cap - 1);
        while (slots[j].lo || slots[j].hi) j = (j + 1) & (cap - 1);
        slots[j] = f;
    }
    free(d->slots);
    d->slots = slots;
    d->mask = cap - 1;
    return RT_OK;
}

rt_status rt_dedup_insert(rt_dedup *d, uint64_t lo, uint64_t hi, bool *seen)
{
    normalise(&lo, &hi);
    if ((d->count + 1) * 2 > d->mask + 1) {
        rt_status st = grow(d);
        if (st != RT_OK) return st;
    }
    size_t i = lo & d->mask;
    while (d->slots[i].lo || d->slots[i].hi) {
        if (d->slots[i].lo == lo && d->slots[i].hi == hi) {
            *seen = true;
            return RT_OK;
        }
        i = (i + 1) & d->mask;
    }
    d->slots[i] = (rt_fp128){lo, hi};
    d->count++;
    *seen = false;
    return RT_OK;
}

bool rt_dedup_contains(const rt_dedup *d, uint64_t lo, uint64_t hi)
{
    normalise(&lo, &hi);
    size_t i = lo & d->mask;
    while (d->slots[i].lo || d->slots[i].hi) {
        if (d->slots[i].lo == lo && d->slots[i].hi == hi) return true;
        i = (i + 1) & d->mask;
    }
    return false;
}

size_t rt_dedup_bytes(const rt_dedup *d) { return (d->mask + 1) * sizeof(rt_fp128); }

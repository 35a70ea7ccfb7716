/* dedup: the set of event fingerprints already billed in this run.
 *
 * Owns an open-addressing set of 128-bit fingerprints (XXH3-128 of the event id). Callers feed
 * it in input order, so "the first occurrence is billed, later ones are duplicates" holds
 * whatever the thread count. Cross-run duplicates (events billed by committed runs) are the
 * registry's. Not thread-safe. */
#ifndef RT_DEDUP_H
#define RT_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

typedef struct rt_fp128 {
    uint64_t lo, hi;
} rt_fp128;

typedef struct rt_dedup {
    rt_fp128 *slots;
    size_t mask;
    size_t count;
} rt_dedup;

rt_status rt_dedup_init(rt_dedup *d, size_t expected);
void rt_dedup_free(rt_dedup *d);
/* Insert a fingerprint. *seen is set when it was already present. RT_ENOMEM. */
rt_status rt_dedup_insert(rt_dedup *d, uint64_t lo, uint64_t hi, bool *seen);
bool rt_dedup_contains(const rt_dedup *d, uint64_t lo, uint64_t hi);
/* Bytes held, for memory reports. */
size_t rt_dedup_bytes(const rt_dedup *d);

#endif

/* dedup: the set of event fingerprints already billed in this run (and rt_fp_list, a growing
 * list of them, for those kept by partition).
 *
 * Owns an open-addressing set of 128-bit fingerprints (XXH3-128 of the event id), split into
 * RT_DEDUP_PARTS partitions by the fingerprint's top bits. Callers feed each partition in
 * input order, so "the first occurrence is billed, later ones are duplicates" holds whatever
 * the thread count, and different partitions can be fed by different threads at once (one
 * thread per partition at a time). Cross-run duplicates (events billed by committed runs) are
 * engine/billed's. */
#ifndef RT_DEDUP_H
#define RT_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

typedef struct rt_fp128 {
    uint64_t lo, hi;
} rt_fp128;

enum { RT_DEDUP_PART_BITS = 8, RT_DEDUP_PARTS = 1 << RT_DEDUP_PART_BITS };

typedef struct rt_dedup_part {
    rt_fp128 *slots; /* its own block, or a share of the set's slab */
    size_t cap;      /* slots (any size, at least 64) */
    size_t count;
    bool own;        /* slots is a block of its own (else in the slab) */
} rt_dedup_part;

typedef struct rt_dedup {
    rt_dedup_part parts[RT_DEDUP_PARTS];
    rt_fp128 *slab; /* one block shared by the partitions sized by rt_dedup_reserve */
    size_t slab_bytes;
    size_t count; /* valid after rt_dedup_sum_counts (inserts count per partition) */
} rt_dedup;

rt_status rt_dedup_init(rt_dedup *d, size_t expected);
void rt_dedup_free(rt_dedup *d);

/* Make room for about `expected` fingerprints in all (partitions already larger are left):
 * a run calls it with an estimate once its first chunks are read, so that the table is not
 * rebuilt (and its memory touched afresh) once per doubling. The first call that grows
 * partitions puts them all in one block, each its exact share: 256 blocks would each be
 * rounded up to whole huge pages, about twice the memory at ten million events. Not
 * concurrent with inserts. RT_ENOMEM. */
rt_status rt_dedup_reserve(rt_dedup *d, size_t expected);

/* A growing list of fingerprints (one per partition, where a run keeps them by partition). */
typedef struct rt_fp_list {
    rt_fp128 *items;
    size_t count, cap;
} rt_fp_list;
/* Append (the list doubles as it fills). False when memory runs out. */
bool rt_fp_list_push(rt_fp_list *l, rt_fp128 f);
void rt_fp_list_free(rt_fp_list *l);

/* The all-zero fingerprint marks an empty slot, so a real one is held as (0, 1): a collision
 * that costs nothing in practice. Every holder of fingerprints (this set, the billed-events
 * files, their writer and windows) maps it so, through this. */
static inline void rt_dedup_normalise(uint64_t *lo, uint64_t *hi)
{
    if (*lo == 0 && *hi == 0) *hi = 1;
}

/* The partition of a fingerprint. */
static inline unsigned rt_dedup_part_of(uint64_t hi)
{
    return (unsigned)(hi >> (64 - RT_DEDUP_PART_BITS));
}

/* A fingerprint's first slot in a table of cap slots: its low word scaled to cap. */
static inline size_t rt_dedup_home(uint64_t lo, size_t cap)
{
    return (size_t)(((unsigned __int128)lo * cap) >> 64);
}

/* Insert into the fingerprint's partition. *seen is set when it was already present.
 * Concurrent calls are safe for fingerprints of different partitions. RT_ENOMEM. */
rt_status rt_dedup_insert(rt_dedup *d, uint64_t lo, uint64_t hi, bool *seen);
/* Ask for the memory an insert or lookup of the fingerprint will read first (a hint). */
static inline void rt_dedup_prefetch(const rt_dedup *d, uint64_t lo, uint64_t hi)
{
    const rt_dedup_part *p = &d->parts[rt_dedup_part_of(hi)];
    __builtin_prefetch(&p->slots[rt_dedup_home(lo, p->cap)]);
}
bool rt_dedup_contains(const rt_dedup *d, uint64_t lo, uint64_t hi);
/* Recount d->count from the partitions (after parallel inserts). */
void rt_dedup_sum_counts(rt_dedup *d);
/* Bytes held, for memory reports. */
size_t rt_dedup_bytes(const rt_dedup *d);

#endif

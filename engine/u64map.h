/* u64map: an open-addressing hash index from a non-zero 64-bit key to a 32-bit value.
 *
 * Owns its slots. Used for composite integer keys (plan x product, account x charge). Key 0 is
 * reserved as the empty marker, so callers add 1 or set a high bit. Single-threaded inserts;
 * concurrent lookups are safe once building is done. */
#ifndef RT_U64MAP_H
#define RT_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

typedef struct rt_u64map_slot {
    uint64_t key;
    uint32_t value;
} rt_u64map_slot;

typedef struct rt_u64map {
    rt_u64map_slot *slots;
    size_t mask;
    size_t count;
} rt_u64map;

rt_status rt_u64map_init(rt_u64map *m, size_t expected);
void rt_u64map_free(rt_u64map *m);
/* Find key; when absent insert it with `value_if_new`. *value receives the stored value and
 * *inserted whether it was new. RT_ENOMEM when growing fails. */
rt_status rt_u64map_upsert(rt_u64map *m, uint64_t key, uint32_t value_if_new, uint32_t *value,
                           int *inserted);
/* RT_OK and *value when present, RT_ENOTFOUND otherwise. */
rt_status rt_u64map_get(const rt_u64map *m, uint64_t key, uint32_t *value);

static inline uint64_t rt_u64_mix(uint64_t x)
{
    /* A strong 64-bit finaliser (the murmur3 fmix64 constants) so sequential keys spread. */
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

#endif

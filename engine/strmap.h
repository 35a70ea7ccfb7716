/* strmap: an open-addressing hash index from a byte string to a 32-bit value.
 *
 * Owns the slots only: keys are not copied, so every key must outlive the map (keys of a
 * price book live in the book's arena). Lookups are safe from many threads once building is
 * done; inserting is single-threaded. Hashing is XXH3-64. */
#ifndef RT_STRMAP_H
#define RT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

typedef struct rt_strmap_slot {
    uint64_t hash;
    const char *key;
    uint32_t key_len;
    uint32_t value;
} rt_strmap_slot;

typedef struct rt_strmap {
    rt_strmap_slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
    size_t count;
} rt_strmap;

/* Sized for `expected` keys at a load factor of at most 1/2. RT_ENOMEM on failure. */
rt_status rt_strmap_init(rt_strmap *m, size_t expected);
void rt_strmap_free(rt_strmap *m);
uint64_t rt_strmap_hash(const char *key, size_t len);
/* Insert key -> value. RT_EEXIST (value untouched) when the key is already present;
 * RT_ENOMEM when growing fails. */
rt_status rt_strmap_put(rt_strmap *m, const char *key, size_t len, uint32_t value);
/* RT_OK and *value when found, RT_ENOTFOUND otherwise. */
rt_status rt_strmap_get(const rt_strmap *m, const char *key, size_t len, uint32_t *value);
rt_status rt_strmap_get_hashed(const rt_strmap *m, uint64_t hash, const char *key, size_t len,
                               uint32_t *value);

/* Hints for a lookup soon to come, for callers that walk many keys at once (the memory they
 * touch is unlikely to be cached): the first asks for the key's home slot; the second, issued
 * once that slot has arrived, for the key bytes it names. Neither changes anything, and the
 * second returns the home slot's value when its hash matches (a likely answer, unconfirmed),
 * else UINT32_MAX. */
static inline void rt_strmap_prefetch_slot(const rt_strmap *m, uint64_t hash)
{
    if (m->slots) __builtin_prefetch(&m->slots[hash & m->mask]);
}
static inline uint32_t rt_strmap_prefetch_key(const rt_strmap *m, uint64_t hash)
{
    if (!m->slots) return UINT32_MAX;
    const rt_strmap_slot *s = &m->slots[hash & m->mask];
    if (!s->key || s->hash != hash) return UINT32_MAX;
    __builtin_prefetch(s->key);
    return s->value;
}

/* Composite keys "a\x1fb" (unit separator between two ids). rt_strmap_pair writes one into
 * buf (NUL-terminated) and returns its length, or 0 when it does not fit in n bytes. */
size_t rt_strmap_pair(char *buf, size_t n, const char *a, const char *b);

#endif

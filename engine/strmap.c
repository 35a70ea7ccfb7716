/* strmap: linear-probing hash index, string keys by reference. */
#include "engine/strmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t rt_strmap_hash(const char *key, size_t len) { return XXH3_64bits(key, len); }

static size_t capacity_for(size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    return cap;
}

rt_status rt_strmap_init(rt_strmap *m, size_t expected)
{
    size_t cap = capacity_for(expected);
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return RT_ENOMEM;
    m->mask = cap - 1;
    m->count = 0;
    return RT_OK;
}

void rt_strmap_free(rt_strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static rt_status grow(rt_strmap *m)
{
    size_t cap = (m->mask + 1) * 2;
    rt_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return RT_ENOMEM;
    for (size_t i = 0; i <= m->mask; i++) {
        rt_strmap_slot *s = &m->slots[i];
        if (!s->key) continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].key) j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return RT_OK;
}

rt_status rt_strmap_put(rt_strmap *m, const char *key, size_t len, uint32_t value)
{
    RT_ASSERT(key != NULL && len <= UINT32_MAX);
    if ((m->count + 1) * 2 > m->mask + 1) {
        rt_status st = grow(m);
        if (st != RT_OK) return st;
    }
    uint64_t h = rt_strmap_hash(key, len);
    size_t i = h & m->mask;
    while (m->slots[i].key) {
        rt_strmap_slot *s = &m->slots[i];
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) return RT_EEXIST;
        i = (i + 1) & m->mask;
    }
    m->slots[i] = (rt_strmap_slot){h, key, (uint32_t)len, value};
    m->count++;
    return RT_OK;
}

rt_status rt_strmap_get_hashed(const rt_strmap *m, uint64_t hash, const char *key, size_t len,
                               uint32_t *value)
{
    if (!m->slots) return RT_ENOTFOUND;
    size_t i = hash & m->mask;
    for (;;) {
        const rt_strmap_slot *s = &m->slots[i];
        if (!s->key) return RT_ENOTFOUND;
        if (s->hash == hash && s->key_len == len && memcmp(s->key, key, len) == 0) {
            *value = s->value;
            return RT_OK;
        }
        i = (i + 1) & m->mask;
    }
}

rt_status rt_strmap_get(const rt_strmap *m, const char *key, size_t len, uint32_t *value)
{
    return rt_strmap_get_hashed(m, rt_strmap_hash(key, len), key, len, value);
}

size_t rt_strmap_pair(char *buf, size_t n, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 2 > n) return 0;
    memcpy(buf, a, la);
    buf[la] = '\x1f';
    memcpy(buf + la + 1, b, lb + 1);
    return la + 1 + lb;
}

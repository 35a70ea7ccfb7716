/* u64map: linear probing over mixed 64-bit keys. */
#include "engine/u64map.h"

#include <stdlib.h>
#include <string.h>

rt_status rt_u64map_init(rt_u64map *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return RT_ENOMEM;
    m->mask = cap - 1;
    m->count = 0;
    return RT_OK;
}

void rt_u64map_free(rt_u64map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static rt_status grow(rt_u64map *m)
{
    size_t cap = (m->mask + 1) * 2;
    rt_u64map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return RT_ENOMEM;
    for (size_t i = 0; i <= m->mask; i++) {
        if (!m->slots[i].key) continue;
        size_t j = rt_u64_mix(m->slots[i].key) & (cap - 1);
        while (slots[j].key) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return RT_OK;
}

rt_status rt_u64map_upsert(rt_u64map *m, uint64_t key, uint32_t value_if_new, uint32_t *value,
                           int *inserted)
{
    RT_ASSERT(key != 0);
    if ((m->count + 1) * 2 > m->mask + 1) {
        rt_status st = grow(m);
        if (st != RT_OK) return st;
    }
    size_t i = rt_u64_mix(key) & m->mask;
    while (m->slots[i].key) {
        if (m->slots[i].key == key) {
            *value = m->slots[i].value;
            *inserted = 0;
            return RT_OK;
        }
        i = (i + 1) & m->mask;
    }
    m->slots[i].key = key;
    m->slots[i].value = value_if_new;
    m->count++;
    *value = value_if_new;
    *inserted = 1;
    return RT_OK;
}

rt_status rt_u64map_get(const rt_u64map *m, uint64_t key, uint32_t *value)
{
    if (!m->slots) return RT_ENOTFOUND;
    size_t i = rt_u64_mix(key) & m->mask;
    while (m->slots[i].key) {
        if (m->slots[i].key == key) {
            *value = m->slots[i].value;
            return RT_OK;
        }
        i = (i + 1) & m->mask;
    }
    return RT_ENOTFOUND;
}

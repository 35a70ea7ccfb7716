/* bench_deck: build a destination deck of N prefixes (default 100,000) in the digit trie and
 * look up random E.164 numbers by longest prefix. Prints build time, nodes and lookups per
 * second. Usage: bench_deck [PREFIXES] [LOOKUPS]. Deterministic (fixed seed). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/deck.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t next(uint64_t *s)
{
    /* xorshift64*: a fixed sequence, so every run measures the same work. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void random_digits(uint64_t *seed, char *buf, size_t len)
{
    buf[0] = (char)('1' + next(seed) % 9); /* E.164 numbers never start with 0 */
    for (size_t i = 1; i < len; i++)
        buf[i] = (char)('0' + next(seed) % 10);
}

int main(int argc, char **argv)
{
    size_t prefixes = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 5000000;
    rt_decks d;
    if (rt_decks_init(&d, 1) != RT_OK) return 1;
    uint64_t seed = 2026;
    char p[RT_E164_DIGITS_MAX];
    /* Distinct prefixes of 2 to 9 digits, as in carriers' decks: a set of hashes (2x the
     * count, linear probing) drops the repeats the generator makes. */
    size_t cap = 1;
    while (cap < 2 * prefixes)
        cap <<= 1;
    uint64_t *seen = calloc(cap, sizeof *seen);
    if (!seen) return 1;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < prefixes;) {
        size_t len = 2 + next(&seed) % 8;
        random_digits(&seed, p, len);
        uint64_t h = 1469598103934665603u;
        for (size_t k = 0; k < len; k++)
            h = (h ^ (uint64_t)p[k]) * 1099511628211u;
        h |= 1;
        size_t slot = h & (cap - 1);
        while (seen[slot] && seen[slot] != h)
            slot = (slot + 1) & (cap - 1);
        if (seen[slot]) continue;
        seen[slot] = h;
        if (rt_decks_add(&d, 0, p, len, INT64_MIN, RT_TIME_OPEN_END, (uint32_t)i) != RT_OK)
            return 1;
        i++;
    }
    free(seen);
    uint64_t t1 = now_ns();
    size_t found = 0;
    char n[12];
    for (size_t i = 0; i < lookups; i++) {
        random_digits(&seed, n, sizeof n);
        size_t matched;
        if (rt_decks_match(&d, 0, n, sizeof n, 0, &matched) != RT_DECK_NONE) found++;
    }
    uint64_t t2 = now_ns();
    printf("deck: %zu prefixes, %zu trie nodes (%.1f MiB), built in %.3f s\n", prefixes,
           d.node_count, (double)(d.node_count * sizeof(rt_deck_node)) / (1 << 20),
           (double)(t1 - t0) / 1e9);
    printf("lookup: %zu numbers in %.3f s, %.1f M lookups/s (%zu matched a prefix)\n", lookups,
           (double)(t2 - t1) / 1e9, (double)lookups / ((double)(t2 - t1) / 1e3), found);
    rt_decks_free(&d);
    return 0;
}

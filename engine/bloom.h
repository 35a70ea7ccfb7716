/* bloom: a blocked Bloom filter of 128-bit event fingerprints.
 *
 * Owns one table of 64-byte blocks. A fingerprint sets or tests 7 bits of one block (one
 * cache line, one memory read), the block chosen by the top bits of hi and the bits by 9-bit
 * slices of lo; at 10 bits per expected fingerprint about 1% of absent ones test present. No
 * false negatives: an added fingerprint always tests present. Used for the billed events of
 * earlier runs (billed) and for the run's own ids read ahead of rating (run). Fingerprints of
 * different blocks may be added from different threads at once; rt_bloom_block_bits says which
 * bits of hi pick the block. The all-zero fingerprint is the caller's to map (as rt_dedup
 * does). */
#ifndef RT_BLOOM_H
#define RT_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

enum { RT_BLOOM_WORDS = 8, RT_BLOOM_PROBES = 7, RT_BLOOM_BITS_PER_ENTRY = 10 };

typedef struct rt_bloom {
    uint64_t *blocks; /* nblocks x RT_BLOOM_WORDS words */
    size_t nblocks;
    unsigned block_bits; /* nblocks = 2^block_bits */
} rt_bloom;

/* A filter for about `expected` fingerprints, of at least 2^min_block_bits blocks (so that a
 * partition of fingerprints by the top min_block_bits of hi owns whole blocks). RT_ENOMEM. */
rt_status rt_bloom_init(rt_bloom *b, uint64_t expected, unsigned min_block_bits);
void rt_bloom_free(rt_bloom *b);

static inline uint64_t *rt_bloom_block(const rt_bloom *b, uint64_t hi)
{
    size_t k = b->block_bits ? (size_t)(hi >> (64 - b->block_bits)) : 0;
    return b->blocks + k * RT_BLOOM_WORDS;
}

/* Ask for the block a fingerprint uses (a hint). */
static inline void rt_bloom_prefetch(const rt_bloom *b, uint64_t hi)
{
    __builtin_prefetch(rt_bloom_block(b, hi));
}

void rt_bloom_add(rt_bloom *b, uint64_t lo, uint64_t hi);
/* True when every bit of the fingerprint is set: added before, or a false hit. */
bool rt_bloom_test(const rt_bloom *b, uint64_t lo, uint64_t hi);
/* Add, and say whether every bit was already set (rt_bloom_test before rt_bloom_add). */
bool rt_bloom_test_add(rt_bloom *b, uint64_t lo, uint64_t hi);

#endif

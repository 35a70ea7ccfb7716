/* bloom: blocked Bloom filter (see bloom.h). */
#include "engine/bloom.h"

#include "engine/bigmem.h"

#include <string.h>

rt_status rt_bloom_init(rt_bloom *b, uint64_t expected, unsigned min_block_bits)
{
    memset(b, 0, sizeof *b);
    uint64_t want = expected * RT_BLOOM_BITS_PER_ENTRY / (RT_BLOOM_WORDS * 64) + 1;
    b->block_bits = min_block_bits;
    while (b->block_bits < 40 && ((uint64_t)1 << b->block_bits) < want) b->block_bits++;
    b->nblocks = (size_t)1 << b->block_bits;
    b->blocks = rt_big_alloc(b->nblocks * RT_BLOOM_WORDS * sizeof *b->blocks);
    if (!b->blocks) {
        memset(b, 0, sizeof *b);
        return RT_ENOMEM;
    }
    return RT_OK;
}

void rt_bloom_free(rt_bloom *b)
{
    if (b->blocks) rt_big_free(b->blocks, b->nblocks * RT_BLOOM_WORDS * sizeof *b->blocks);
    memset(b, 0, sizeof *b);
}

void rt_bloom_add(rt_bloom *b, uint64_t lo, uint64_t hi)
{
    (void)rt_bloom_test_add(b, lo, hi);
}

bool rt_bloom_test(const rt_bloom *b, uint64_t lo, uint64_t hi)
{
    const uint64_t *blk = rt_bloom_block(b, hi);
    for (unsigned j = 0; j < RT_BLOOM_PROBES; j++) {
        unsigned bit = (unsigned)(lo >> (9 * j)) & 511;
        if (!(blk[bit >> 6] >> (bit & 63) & 1)) return false;
    }
    return true;
}

bool rt_bloom_test_add(rt_bloom *b, uint64_t lo, uint64_t hi)
{
    uint64_t *blk = rt_bloom_block(b, hi);
    uint64_t missing = 0;
    for (unsigned j = 0; j < RT_BLOOM_PROBES; j++) {
        unsigned bit = (unsigned)(lo >> (9 * j)) & 511;
        uint64_t m = UINT64_C(1) << (bit & 63);
        missing |= ~blk[bit >> 6] & m;
        blk[bit >> 6] |= m;
    }
    return missing == 0;
}

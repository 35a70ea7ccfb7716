/* sample_gen: `ratel gen`, a deterministic generator of realistic billing inputs.
 *
 * Owns the synthetic customers and their activity written into an output directory
 * (formats/README.md, "Generated samples"): the accounts, their plan assignments and own
 * discounts (appended to the book source that sample_book writes: every pricing model, a
 * 10k+ prefix destination deck), an order book (orders.csv.zst, "Order files") and usage
 * (usage.csv.zst or usage.rtu) with skewed account activity, numbers of the deck, realistic
 * call lengths, calls across time-band, weekend and DST boundaries, and the requested shares
 * of bad and duplicate records.
 *
 * Everything derives from the seed through independent PRNG streams (xoshiro256** seeded by
 * splitmix64): one per block of usage records and one per account, so the bytes written do
 * not depend on the thread count. Blocks of accounts and of usage are generated and
 * compressed in parallel and written in order; nothing grows with the number of records or
 * accounts but the files. */
#ifndef RT_SAMPLE_GEN_H
#define RT_SAMPLE_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/status.h"

enum {
    RT_GEN_BLOCK_RECORDS = 65536, /* records per generated block (a frame or native block) */
    RT_GEN_SHARE_SCALE = 1000000, /* shares are in parts per million */
};
#define RT_GEN_ACCOUNTS_MAX UINT64_C(100000000)
#define RT_GEN_RECORDS_MAX UINT64_C(100000000000)

typedef struct rt_gen_opts {
    const char *out_dir; /* created; must not exist or be empty */
    uint64_t accounts;   /* 1 .. RT_GEN_ACCOUNTS_MAX */
    uint64_t records;    /* usage records, 0 .. RT_GEN_RECORDS_MAX */
    uint64_t seed;
    bool native;        /* usage.rtu instead of usage.csv.zst */
    uint32_t bad_ppm;   /* share of bad records, parts per million */
    uint32_t dup_ppm;   /* share of duplicate records, parts per million */
    const char *period; /* "YYYY-MM" of the usage (default 2026-10) */
    unsigned threads;   /* 0: every core */
    int level;          /* zstd level of usage (0: 3) */
} rt_gen_opts;

void rt_gen_opts_init(rt_gen_opts *o);

typedef struct rt_gen_result {
    uint64_t records;    /* usage records written */
    uint64_t bad;        /* of which deliberately bad */
    uint64_t duplicates; /* of which repeats of an earlier record */
    uint64_t accounts;
    uint64_t order_lines;
    uint64_t deck_prefixes;
    uint64_t usage_bytes; /* size of the usage file as stored */
} rt_gen_result;

/* Generate everything into o->out_dir. RT_EINVAL (bad options, with the reason in err),
 * RT_EEXIST (a file to write exists), RT_EIO, RT_ENOMEM, RT_EZSTD. */
rt_status rt_gen_run(const rt_gen_opts *o, rt_gen_result *res, rt_error *err);

/* Parse a share "0.01" (a decimal from 0 to 1, at most 6 decimals) into parts per million.
 * RT_EPARSE. */
rt_status rt_gen_parse_share(const char *s, uint32_t *ppm);

#endif

/* usage_detail: the rated events behind every invoice line, for disputes.
 *
 * Owns usage_detail.csv.zst (every billed event, grouped by invoice and line, in a
 * deterministic order: account, then invoice and line, then input order) and its index
 * usage_detail_index.csv (one row per invoice line: the frames that hold its events in the
 * compressed file, where in the first one its rows start, how many events and their exact
 * amount), both documented in formats/README.md. A frame holds the rows of a block of
 * consecutive accounts (up to about a megabyte of text), so a line's events are read by seeking
 * to its offset and decompressing its bytes alone; where frames end depends only on the rows.
 *
 * Memory stays bounded whatever the run's size: while the run encodes chunks in parallel,
 * each chunk's billed events are spilled, as zstd frames, into partition files by account
 * range (hidden scratch files in the output directory); at the end each partition is sorted
 * in memory when it fits a thread's share of the memory budget, else cut into units of whole
 * blocks of accounts that do, one pass each (a block larger than the share is sorted in several
 * passes by one thread, and a single invoice line larger than the share streams through
 * unsorted, as it is already in input order). These units are sorted on every thread and
 * appended in order. The scratch files are removed before the run's manifest is written.
 * Partitions are ranges of whole blocks, so how accounts are partitioned never changes the
 * bytes: a run plans them (rt_usage_detail_plan) from its first chunks, as many as make each
 * fit the budget and cut where the events fall (usage is rarely spread evenly over accounts),
 * so that each is sorted in one pass. */
#ifndef RT_USAGE_DETAIL_H
#define RT_USAGE_DETAIL_H

#include <stddef.h>

#include "engine/run.h"

/* Partitions of the scratch files: at least MIN (as blocks allow, for parallel sorting), up to
 * MAX (files open at once). */
enum { RT_DETAIL_PARTITIONS_MIN = 64, RT_DETAIL_PARTITIONS_MAX = 256 };
/* A frame holds the rows of a block of this many consecutive account rows (fewer at the ends
 * of a partition), cut again after about a megabyte of text. */
enum { RT_DETAIL_FRAME_ACCOUNTS = 32 };
/* The default memory budget for sorting at the end of a run (shared by its threads). */
#define RT_DETAIL_MEMORY_DEFAULT ((size_t)256 << 20)

#define RT_DETAIL_NAME "usage_detail.csv.zst"
#define RT_DETAIL_INDEX_NAME "usage_detail_index.csv"

typedef struct rt_usage_detail rt_usage_detail;

/* Start writing into dir with `slots` parallel encoders, `threads` to sort with at the end
 * (0: half the slots, at least 1) and a sort budget of memory_bytes (0:
 * RT_DETAIL_MEMORY_DEFAULT). RT_ENOMEM. */
rt_status rt_usage_detail_open(const char *dir, unsigned slots, unsigned threads,
                               size_t memory_bytes, rt_usage_detail **out, rt_error *err);
/* Size and cut the partitions for a run of about `records` billed events, whose accounts are
 * sampled by the chunks views[0..n), n >= 1 (the run's first, rated and de-duplicated): once,
 * before the first chunk is encoded. records 0 (size unknown): even ranges of blocks,
 * RT_DETAIL_PARTITIONS_MIN of them as blocks allow. RT_ENOMEM. */
rt_status rt_usage_detail_plan(rt_usage_detail *d, const rt_chunk_view *views, size_t n,
                               uint64_t records, rt_error *err);
/* Distributed runs: rank 0's plan as bytes, and those bytes as another process's plan
 * (instead of rt_usage_detail_plan), so that every process spills to the same partitions.
 * unpack: RT_ECORRUPT (not a plan for this catalog), RT_ENOMEM. */
void rt_usage_detail_plan_pack(const rt_usage_detail *d, const rt_catalog *cat, rt_buf *out);
rt_status rt_usage_detail_plan_unpack(rt_usage_detail *d, const rt_catalog *cat,
                                      const char *data, size_t len, rt_error *err);
/* Encode the billed events of one chunk into slot `slot` (after rt_usage_detail_plan).
 * Concurrent for distinct slots.
 * RT_ENOMEM, RT_EZSTD. */
rt_status rt_usage_detail_encode(rt_usage_detail *d, unsigned slot, const rt_chunk_view *v,
                                 rt_error *err);
/* Distributed runs: what rt_usage_detail_encode left in slot `slot`, appended to `out`, and
 * put back into a slot of another process's writer (planned alike, see rt_run_config.peers).
 * unpack: RT_ECORRUPT when the bytes are not what pack wrote, RT_ENOMEM. */
void rt_usage_detail_pack(const rt_usage_detail *d, unsigned slot, rt_buf *out);
rt_status rt_usage_detail_unpack(rt_usage_detail *d, unsigned slot, const char *data,
                                 size_t len, size_t *used, rt_error *err);
/* Append what slot `slot` holds to the partition files. In input order, one thread. RT_EIO. */
rt_status rt_usage_detail_write(rt_usage_detail *d, unsigned slot, rt_error *err);
/* Sort the partitions, write the two files, append them to files, remove the scratch files.
 * RT_EIO, RT_ENOMEM, RT_ECORRUPT (a scratch file was damaged), RT_EZSTD. */
rt_status rt_usage_detail_finish(rt_usage_detail *d, const rt_run_result *res,
                                 rt_output_list *files, rt_error *err);
/* A distributed run (res->spread): rank 0's finish has the other processes sort units of its
 * partitions (each given the partitions it sorts), and they call this instead of finish, at
 * the same point of their writers: it writes nothing. RT_EIO, RT_ENOMEM, RT_ECORRUPT. */
rt_status rt_usage_detail_assist(rt_usage_detail *d, const rt_run_result *res, rt_error *err);
/* Free everything and remove any scratch file left. */
void rt_usage_detail_destroy(rt_usage_detail *d);

#endif

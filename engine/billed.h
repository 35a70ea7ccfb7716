/* billed: the fingerprints of the events each committed run billed, for cross-run dedup.
 *
 * Owns the billed-events file of a run (BOOK_DIR/billed/<run>.fps: the run's event id
 * fingerprints, sorted, with a checksum; layout in formats/README.md), writing it at commit
 * (temporary name, fsync, rename, recorded in the run's registry record), and looking
 * fingerprints up in the files of earlier runs. A loaded file is mapped read-only and indexed by
 * the top bits of the fingerprint, so a lookup touches one short, contiguous range: lookups
 * are lock-free and run on every rating thread. It does not decide which runs to consult
 * (run does). */
#ifndef RT_BILLED_H
#define RT_BILLED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/dedup.h"
#include "engine/status.h"

typedef struct rt_billed_set rt_billed_set;

/* Path of a run's billed-events file inside a book directory. */
void rt_billed_path(const char *book_dir, uint64_t run_no, char *buf, size_t buf_size);

/* The fingerprints of a run's billed events, sorted as its file holds them. */
typedef struct rt_billed_entries {
    rt_fp128 *items;
    uint64_t count;
} rt_billed_entries;

/* Every fingerprint held by `set`, sorted (partitions on `threads` threads). The
 * set can be freed afterwards: a run collects them when its usage is read, so that the set's
 * table (two to four times their size) is not held through billing. RT_ENOMEM. */
rt_status rt_billed_collect(const rt_dedup *set, unsigned threads, rt_billed_entries *out);
void rt_billed_entries_free(rt_billed_entries *e);

/* Write the entries to path (through path.tmp, fsynced, renamed; the directory is created
 * when missing). *xxh64 is their checksum, for the registry. RT_EIO. */
rt_status rt_billed_write(const char *path, const rt_billed_entries *e, uint64_t *xxh64,
                          rt_error *err);

/* Map path read-only and check it against what the registry recorded. RT_ENOTFOUND,
 * RT_ECORRUPT (bad magic, size, order or checksum), RT_EIO. */
rt_status rt_billed_load(const char *path, uint64_t expect_count, uint64_t expect_xxh64,
                         uint64_t run_no, rt_billed_set **out, rt_error *err);

/* True when the fingerprint is in the set. Safe from any number of threads. */
bool rt_billed_contains(const rt_billed_set *s, uint64_t lo, uint64_t hi);
/* The run the set belongs to. */
uint64_t rt_billed_run(const rt_billed_set *s);
void rt_billed_free(rt_billed_set *s);

/* The billed events of several committed runs, looked up together. A blocked Bloom filter
 * over all of them (one 64-byte line per fingerprint, ~10 bits per event, about 1% false
 * hits) answers "billed by none of them" for nearly every new event with one memory read; the
 * sets themselves are searched only on a filter hit, in the order given. The window refers to
 * the sets, which must outlive it. */
typedef struct rt_billed_window rt_billed_window;
rt_status rt_billed_window_build(rt_billed_set *const *sets, size_t n, rt_billed_window **out);
/* For each of n fingerprints, the run of the first set that holds it, or 0. Reads are issued
 * ahead of use, so several are in flight at once. Safe from any number of threads. */
void rt_billed_window_find(const rt_billed_window *w, const rt_fp128 *fps, size_t n,
                           uint64_t *runs);
void rt_billed_window_free(rt_billed_window *w);

#endif

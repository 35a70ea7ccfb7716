/* billed: the fingerprints of the events each committed run billed, for cross-run dedup.
 *
 * Owns the billed-events file of a run (BOOK_DIR/billed/<run>.fps: the run's event id
 * fingerprints, sorted, with a checksum; layout in formats/README.md), writing it once the
 * usage is read (under a pending name, published at commit by fsync and rename, and recorded
 * in the run's registry record), and looking
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

/* Write every fingerprint held by `set`, sorted, as a billed-events file at path (the
 * directory is created when missing; the file is removed on failure). Each partition is sorted
 * on one of `threads` threads into a buffer of that thread's and appended in partition order,
 * so the sorted whole (16 bytes per event) is never held. Not synced: a run writes its file
 * as soon as its usage is read, before it has a number (rt_billed_pending_path), frees the
 * set, and rt_billed_publish makes the file durable and its own at commit. *count and *xxh64
 * are for the registry. RT_EIO, RT_ENOMEM. */
rt_status rt_billed_write_set(const char *path, const rt_dedup *set, unsigned threads,
                              uint64_t *count, uint64_t *xxh64, rt_error *err);
/* The same file written from its partitions handed in order, for a distributed run whose
 * dedup partitions are on several processes: rt_billed_sort_part sorts partition k of a set
 * into out (room for its count); the file is opened announcing the count, given each
 * partition's sorted fingerprints in partition order (rt_billed_file_append), and closed
 * (trailer; RT_ECORRUPT when the count was not met) or aborted (removed). The same bytes as
 * rt_billed_write_set of one set holding them all. RT_EIO, RT_ENOMEM. */
typedef struct rt_billed_file rt_billed_file;
rt_status rt_billed_sort_part(const rt_dedup *set, unsigned k, rt_fp128 *out);
rt_status rt_billed_file_open(const char *path, uint64_t count, rt_billed_file **out,
                              rt_error *err);
rt_status rt_billed_file_append(rt_billed_file *f, const rt_fp128 *items, size_t n,
                                rt_error *err);
rt_status rt_billed_file_close(rt_billed_file *f, uint64_t *xxh64, rt_error *err);
void rt_billed_file_abort(rt_billed_file *f);

/* The same file written from fingerprints added as a run bills them, without a set that holds
 * them all: added fingerprints are held by partition, and once they pass `budget` bytes
 * appended to a scratch file beside path (unlinked as soon as it is made); finishing sorts each
 * partition from its pieces on one of the threads. Memory stays at about the budget plus one
 * partition per thread, whatever the number of events. Each fingerprint must be added once
 * (finishing fails with RT_ECORRUPT otherwise). */
typedef struct rt_billed_writer rt_billed_writer;
rt_status rt_billed_writer_open(const char *path, size_t budget, rt_billed_writer **out,
                                rt_error *err);
/* Hold one fingerprint. Concurrent calls are safe for fingerprints of different dedup
 * partitions (rt_dedup_part_of). False when memory runs out. */
bool rt_billed_writer_add(rt_billed_writer *w, uint64_t lo, uint64_t hi);
/* Between adds (no add running): spill what is held when it passes the budget. RT_EIO,
 * RT_ENOMEM. */
rt_status rt_billed_writer_settle(rt_billed_writer *w, rt_error *err);
/* Write the file at path, as rt_billed_write_set would from a set of the added fingerprints
 * (the same bytes). RT_EIO, RT_ENOMEM, RT_ECORRUPT. */
rt_status rt_billed_writer_finish(rt_billed_writer *w, unsigned threads, uint64_t *count,
                                  uint64_t *xxh64, rt_error *err);
/* Bytes spilled so far (for reports and tests). */
uint64_t rt_billed_writer_spilled_bytes(const rt_billed_writer *w);
/* Release it and its scratch file (the finished file, if any, is the caller's). NULL is
 * allowed. */
void rt_billed_writer_free(rt_billed_writer *w);

/* Where a run writes its billed events before it has a number: BOOK_DIR/billed/, under a name
 * no committed run's file has, made of the process id and the time (a run that dies leaves
 * it behind: nothing reads it). */
void rt_billed_pending_path(const char *book_dir, char *buf, size_t buf_size);
/* Make a pending file the run's: fsync it and rename it to path. RT_EIO. */
rt_status rt_billed_publish(const char *pending, const char *path, rt_error *err);

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

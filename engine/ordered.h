/* ordered: items worked on several threads and committed one at a time in item order.
 *
 * Owns the pattern of the run's large writers (tables, usage detail, document archives): each
 * item is formatted or sorted on whichever thread is free, into one of a few slots of state,
 * and appended to the files in item order as soon as the items before it are, so one thread
 * writes while the others work and the bytes do not depend on the thread count. With more
 * slots than threads, a thread that finishes an item before the one ahead of it is committed
 * goes on to the next item instead of waiting. The first failure in item order stops the
 * rest. */
#ifndef RT_ORDERED_H
#define RT_ORDERED_H

#include <stddef.h>

#include "engine/status.h"

/* Work on item k into slot `slot` (k % slots), keeping the result in that slot's state. */
typedef rt_status (*rt_ordered_work_fn)(void *ctx, unsigned slot, size_t k, rt_error *err);
/* Commit item k, which is in slot `slot`: called in item order, one call at a time (on any of
 * the threads). */
typedef rt_status (*rt_ordered_commit_fn)(void *ctx, unsigned slot, size_t k, rt_error *err);

/* The slots a writer gives rt_ordered_run for `threads` threads when it can afford one item of
 * state more per thread: twice the threads (one with one thread, which never waits). */
unsigned rt_ordered_slots(unsigned threads);

/* Items [0, n) on up to `threads` threads, each taken by the next free thread into slot
 * k % slots; item k is taken once item k - slots is committed. `slots` is at least `threads`
 * (raised to it when less). After a failure of work or commit no other item is committed (nor
 * worked on, once seen): the status and error returned are those of the first failing item. */
rt_status rt_ordered_run(size_t n, unsigned threads, unsigned slots, rt_ordered_work_fn work,
                         rt_ordered_commit_fn commit, void *ctx, rt_error *err);

#endif

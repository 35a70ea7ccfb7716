/* ordered: items worked on several threads and committed one at a time in item order.
 *
 * Owns the pattern of the run's large writers (tables, usage detail, document archives): each
 * item is formatted or sorted on whichever thread is free, into that thread's own state, and
 * appended to the files in item order right after, so one thread writes while the others work
 * and the bytes do not depend on the thread count. The first failure in item order stops the
 * rest. */
#ifndef RT_ORDERED_H
#define RT_ORDERED_H

#include <stddef.h>

#include "engine/status.h"

/* Work on item k on thread tid (0 .. threads - 1), keeping the result in tid's own state. */
typedef rt_status (*rt_ordered_work_fn)(void *ctx, unsigned tid, size_t k, rt_error *err);
/* Commit item k, which thread tid worked on: called in item order, one call at a time. */
typedef rt_status (*rt_ordered_commit_fn)(void *ctx, unsigned tid, size_t k, rt_error *err);

/* Items [0, n) on up to `threads` threads, each taken by the next free thread. After a failure
 * of work or commit no other item is committed (nor worked on, once seen): the status and
 * error returned are those of the first failing item. */
rt_status rt_ordered_run(size_t n, unsigned threads, rt_ordered_work_fn work,
                         rt_ordered_commit_fn commit, void *ctx, rt_error *err);

#endif

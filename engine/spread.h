/* spread: ordered work (engine/ordered) shared out among the processes of a distributed run.
 *
 * Owns how the other processes help rank 0 write its output directory. Every process holds
 * the same items (the run's invoices and journal lines, billed on each), or is given by rank
 * 0 what an item needs before each round (a fed step: the usage detail's partitions), and
 * runs the same writers. Their ordered work goes through rt_spread_run (rt_ordered_run in a
 * run of one process), which cuts the items into rounds of one block per process (rank 0
 * sizes the blocks: at least its slots, and about 32 rounds a step), works each process's
 * block on its own threads, and sends each item's result, packed, to rank 0, which commits
 * every item of the round in item order, on a thread of its own, while the next round is
 * worked: the files rank 0 writes are the bytes one process writes. Only rank 0 writes.
 *
 * Every call is collective (engine/peers.h): a step starts with rank 0's word (go, with the
 * step's number and items, which every process compares with its own; or that rank 0 has
 * ended), each round's verdict is said after the next round is gathered (or after the last),
 * and rt_spread_end, called once by every process after its last step whatever failed, ends
 * the exchange: rank 0 says it has ended and every process's status is agreed on. A process
 * that failed, or that is out of step with rank 0, takes part in rank 0's next step as a
 * failure, which fails it everywhere. The failure every process returns is a round's first by
 * rank (a process's own status), else the first commit's to fail, named after its process
 * (rt_peers_failure). */
#ifndef RT_SPREAD_H
#define RT_SPREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/buf.h"
#include "engine/ordered.h"
#include "engine/peers.h"

typedef struct rt_spread {
    const rt_peers *peers;
    unsigned steps;    /* rt_spread_run calls so far (compared with rank 0's) */
    bool ended;        /* rank 0: its end sent; the others: rank 0's end received */
    rt_error end;      /* the others: rank 0's status at its end */
    rt_buf out, feed; /* feed: a fed step's inputs for a round */
    rt_buf in[2];      /* rank 0: two rounds' blocks, one received while the other commits */
    uint64_t *lens[2]; /* rank 0: their lengths by rank */
} rt_spread;

void rt_spread_init(rt_spread *sp, const rt_peers *peers);
void rt_spread_free(rt_spread *sp);

/* Append the result of the item in slot `slot` (its work done) to out. */
typedef rt_status (*rt_spread_pack_fn)(void *ctx, unsigned slot, rt_buf *out);
/* Rank 0: commit item k from the bytes its pack gave (on whichever process worked it): called
 * in item order, one call at a time, on a thread of the spread's own. RT_ECORRUPT when
 * data[0..len) is not such bytes. */
typedef rt_status (*rt_spread_put_fn)(void *ctx, size_t k, const char *data, size_t len,
                                      rt_error *err);

/* Optional, for work that needs what only rank 0 has (a fed step): give appends to out what
 * process `rank` needs to work item k (rank 0, before the round); take receives it there. */
typedef rt_status (*rt_spread_give_fn)(void *ctx, size_t k, unsigned rank, rt_buf *out,
                                       rt_error *err);
typedef rt_status (*rt_spread_take_fn)(void *ctx, size_t k, const char *data, size_t len,
                                       rt_error *err);

/* A writer's ordered work, however many processes do it. */
typedef struct rt_spread_job {
    rt_ordered_work_fn work;
    rt_ordered_commit_fn commit; /* in one process (no spread) */
    rt_spread_pack_fn pack;      /* in a distributed run */
    rt_spread_put_fn put;
    rt_spread_give_fn give; /* a fed step (take set): rank 0's */
    rt_spread_take_fn take; /* NULL: every process has what its items need */
    void *ctx;
} rt_spread_job;

/* The other processes' n in a fed step when only rank 0 knows how many items there are. */
#define RT_SPREAD_ANY SIZE_MAX

/* Items [0, n), job->work on each. Without a spread (sp NULL: a run in one process) this is
 * rt_ordered_run(n, threads, slots, work, commit, ctx). In a distributed run it does them as
 * that would in one process (n and the item boundaries the same on every process; threads
 * and slots this process's own): work and pack on every process, put on rank 0, in item
 * order, while the next round is worked; in a fed step each item's input first goes from
 * rank 0 (give) to the process that works it (take), the other processes may pass n
 * RT_SPREAD_ANY (rank 0's then), and a step of no items is still a step. Returns the agreed
 * status. */
rt_status rt_spread_run(rt_spread *sp, size_t n, unsigned threads, unsigned slots,
                        const rt_spread_job *job, rt_error *err);

/* After a process's last step, with its status (st, err): the agreed status of every process,
 * the same everywhere. */
rt_status rt_spread_end(rt_spread *sp, rt_status st, rt_error *err);

#endif

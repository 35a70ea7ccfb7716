/* ordered: parallel work into slots, committed in item order. */
#include "engine/ordered.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

unsigned rt_ordered_slots(unsigned threads) { return threads > 1 ? 2 * threads : 1; }

typedef struct ordered {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot was freed, or the last commit happened */
    size_t n, next_take, next_commit;
    unsigned slots;
    bool committing, failed;
    bool *worked;      /* per slot: its item's work is done, its commit is not */
    rt_status *status; /* per slot: the work's status */
    rt_error *errs;    /* per slot */
    rt_ordered_work_fn work;
    rt_ordered_commit_fn commit;
    void *ctx;
    rt_status st;
    rt_error *err;
} ordered;

/* Commit, in order, every item whose work is done, while no other thread does. Called and
 * returns with o->mu held. */
static void commit_ready(ordered *o)
{
    o->committing = true;
    while (!o->failed && o->next_commit < o->n && o->worked[o->next_commit % o->slots]) {
        size_t k = o->next_commit;
        unsigned s = (unsigned)(k % o->slots);
        rt_status ks = o->status[s];
        pthread_mutex_unlock(&o->mu);
        if (ks == RT_OK) ks = o->commit(o->ctx, s, k, &o->errs[s]);
        pthread_mutex_lock(&o->mu);
        o->worked[s] = false;
        if (ks != RT_OK) {
            o->failed = true;
            o->st = ks;
            if (o->err) *o->err = o->errs[s];
        } else {
            o->next_commit++;
        }
        pthread_cond_broadcast(&o->cv);
    }
    o->committing = false;
}

static void run_thread(ordered *o)
{
    pthread_mutex_lock(&o->mu);
    for (;;) {
        if (!o->failed && !o->committing && o->next_commit < o->n &&
            o->worked[o->next_commit % o->slots]) {
            commit_ready(o); /* committing first: it is what the others may wait for */
            continue;
        }
        if (!o->failed && o->next_take < o->n && o->next_take < o->next_commit + o->slots) {
            size_t k = o->next_take++;
            unsigned s = (unsigned)(k % o->slots);
            pthread_mutex_unlock(&o->mu);
            rt_error_clear(&o->errs[s]);
            rt_status ks = o->work(o->ctx, s, k, &o->errs[s]);
            pthread_mutex_lock(&o->mu);
            o->status[s] = ks;
            o->worked[s] = true;
            continue;
        }
        if (o->failed || o->next_commit >= o->n) break;
        pthread_cond_wait(&o->cv, &o->mu);
    }
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

rt_status rt_ordered_run(size_t n, unsigned threads, unsigned slots, rt_ordered_work_fn work,
                         rt_ordered_commit_fn commit, void *ctx, rt_error *err)
{
    if (n == 0) return RT_OK;
    if (threads < 1) threads = 1;
    if (threads > n) threads = (unsigned)n;
    if (slots < threads) slots = threads;
    ordered o = {.n = n, .slots = slots, .work = work, .commit = commit, .ctx = ctx,
                 .st = RT_OK, .err = err};
    o.worked = calloc(slots, sizeof *o.worked);
    o.status = calloc(slots, sizeof *o.status);
    o.errs = calloc(slots, sizeof *o.errs);
    if (!o.worked || !o.status || !o.errs) {
        free(o.worked);
        free(o.status);
        free(o.errs);
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    pthread_mutex_init(&o.mu, NULL);
    pthread_cond_init(&o.cv, NULL);
#pragma omp parallel num_threads(threads)
    run_thread(&o);
    pthread_cond_destroy(&o.cv);
    pthread_mutex_destroy(&o.mu);
    free(o.worked);
    free(o.status);
    free(o.errs);
    return o.st;
}

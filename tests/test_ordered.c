/* test_ordered: items worked on several threads into slots are committed in item order, from
 * the slot they were worked into, however many slots and threads; the first failure in item
 * order stops the commits and is returned. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/ordered.h"

enum { N = 500, THREADS_MAX = 4, SLOTS_MAX = 8 };

typedef struct job {
    unsigned slots;
    size_t in_slot[SLOTS_MAX]; /* per slot: the item worked into it last */
    size_t committed[N];
    size_t count;
    size_t fail_work, fail_commit; /* items that fail (N: none) */
    atomic_size_t worked;
    atomic_int busy, most_busy; /* items being worked on at once */
} job;

static rt_status work(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    job *j = ctx;
    cr_assert_lt(slot, j->slots);
    cr_assert_eq(slot, k % j->slots);
    int b = atomic_fetch_add(&j->busy, 1) + 1, m = atomic_load(&j->most_busy);
    while (b > m && !atomic_compare_exchange_weak(&j->most_busy, &m, b)) {
    }
    j->in_slot[slot] = k;
    atomic_fetch_add(&j->worked, 1);
    /* Items of uneven cost, so that later ones often finish first. */
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < (unsigned)(k * 7919 % 13) * 2000; i++) spin++;
    atomic_fetch_sub(&j->busy, 1);
    if (k == j->fail_work)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL, "work failed on %zu", k);
    return RT_OK;
}

static rt_status commit(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    job *j = ctx;
    cr_assert_eq(j->in_slot[slot], k, "committed from the slot it was worked into");
    if (k == j->fail_commit)
        return rt_error_set(err, RT_EIO, NULL, 0, 0, NULL, "commit failed on %zu", k);
    j->committed[j->count++] = k;
    return RT_OK;
}

static void reset(job *j, unsigned slots)
{
    memset(j, 0, sizeof *j);
    j->slots = slots;
    j->fail_work = j->fail_commit = N;
}

Test(ordered, commits_in_item_order_on_any_thread_and_slot_count)
{
    for (unsigned threads = 1; threads <= THREADS_MAX; threads++) {
        for (unsigned slots = threads; slots <= SLOTS_MAX; slots++) {
            job j;
            reset(&j, slots);
            rt_error err;
            cr_assert_eq(rt_ordered_run(N, threads, slots, work, commit, &j, &err), RT_OK);
            cr_assert_eq(j.count, N);
            cr_assert_eq(atomic_load(&j.worked), N);
            for (size_t k = 0; k < N; k++) cr_assert_eq(j.committed[k], k);
            cr_assert_leq(atomic_load(&j.most_busy), (int)threads);
        }
    }
}

Test(ordered, fewer_slots_than_threads_are_raised_to_the_threads)
{
    job j;
    reset(&j, 3);
    rt_error err;
    cr_assert_eq(rt_ordered_run(N, 3, 1, work, commit, &j, &err), RT_OK);
    cr_assert_eq(j.count, N);
}

Test(ordered, slots_for_threads)
{
    cr_assert_eq(rt_ordered_slots(1), 1, "one thread never waits: no slot more");
    cr_assert_eq(rt_ordered_slots(2), 4);
    cr_assert_eq(rt_ordered_slots(8), 16);
}

Test(ordered, the_first_failure_in_item_order_stops_the_rest)
{
    for (unsigned threads = 1; threads <= THREADS_MAX; threads++) {
        unsigned slots = rt_ordered_slots(threads);
        job j;
        reset(&j, slots);
        j.fail_work = 300;
        j.fail_commit = 120;
        rt_error err;
        cr_assert_eq(rt_ordered_run(N, threads, slots, work, commit, &j, &err), RT_EIO);
        cr_assert_str_eq(err.message, "commit failed on 120");
        cr_assert_eq(j.count, 120, "items 0..119 and no other");
        cr_assert_leq(atomic_load(&j.worked), 120 + slots, "no work beyond the slots ahead");
        reset(&j, slots);
        j.fail_work = 77;
        cr_assert_eq(rt_ordered_run(N, threads, slots, work, commit, &j, &err), RT_EINVAL);
        cr_assert_str_eq(err.message, "work failed on 77");
        cr_assert_eq(j.count, 77);
        /* A later item failing first in time does not hide an earlier failure. */
        reset(&j, slots);
        j.fail_work = 40;
        j.fail_commit = 39;
        cr_assert_eq(rt_ordered_run(N, threads, slots, work, commit, &j, &err), RT_EIO);
        cr_assert_str_eq(err.message, "commit failed on 39");
        cr_assert_eq(j.count, 39);
    }
}

Test(ordered, no_items)
{
    job j;
    reset(&j, 2);
    rt_error err;
    cr_assert_eq(rt_ordered_run(0, 2, 2, work, commit, &j, &err), RT_OK);
    cr_assert_eq(j.count, 0);
}

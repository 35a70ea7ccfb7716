/* test_ordered: items worked on several threads are committed in item order, by the thread
 * that worked them; the first failure in item order stops the commits and is returned. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/ordered.h"

enum { N = 500, THREADS_MAX = 4 };

typedef struct job {
    size_t worked_by[THREADS_MAX]; /* per thread: the item it worked on last */
    size_t committed[N];
    size_t count;
    size_t fail_work, fail_commit; /* items that fail (N: none) */
} job;

static rt_status work(void *ctx, unsigned tid, size_t k, rt_error *err)
{
    job *j = ctx;
    cr_assert_lt(tid, THREADS_MAX);
    j->worked_by[tid] = k;
    if (k == j->fail_work)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL, "work failed on %zu", k);
    return RT_OK;
}

static rt_status commit(void *ctx, unsigned tid, size_t k, rt_error *err)
{
    job *j = ctx;
    cr_assert_eq(j->worked_by[tid], k, "committed by the thread that worked on it");
    if (k == j->fail_commit)
        return rt_error_set(err, RT_EIO, NULL, 0, 0, NULL, "commit failed on %zu", k);
    j->committed[j->count++] = k;
    return RT_OK;
}

Test(ordered, commits_in_item_order_on_any_thread_count)
{
    for (unsigned threads = 1; threads <= THREADS_MAX; threads++) {
        job j;
        memset(&j, 0, sizeof j);
        j.fail_work = j.fail_commit = N;
        rt_error err;
        cr_assert_eq(rt_ordered_run(N, threads, work, commit, &j, &err), RT_OK);
        cr_assert_eq(j.count, N);
        for (size_t k = 0; k < N; k++) cr_assert_eq(j.committed[k], k);
    }
}

Test(ordered, the_first_failure_in_item_order_stops_the_rest)
{
    for (unsigned threads = 1; threads <= THREADS_MAX; threads++) {
        job j;
        memset(&j, 0, sizeof j);
        j.fail_work = 300;
        j.fail_commit = 120;
        rt_error err;
        cr_assert_eq(rt_ordered_run(N, threads, work, commit, &j, &err), RT_EIO);
        cr_assert_str_eq(err.message, "commit failed on 120");
        cr_assert_eq(j.count, 120, "items 0..119 and no other");
        memset(&j, 0, sizeof j);
        j.fail_work = 77;
        j.fail_commit = N;
        cr_assert_eq(rt_ordered_run(N, threads, work, commit, &j, &err), RT_EINVAL);
        cr_assert_str_eq(err.message, "work failed on 77");
        cr_assert_eq(j.count, 77);
    }
}

Test(ordered, no_items)
{
    job j;
    memset(&j, 0, sizeof j);
    rt_error err;
    cr_assert_eq(rt_ordered_run(0, 2, work, commit, &j, &err), RT_OK);
    cr_assert_eq(j.count, 0);
}

/* ordered: parallel work, committed in item order. */
#include "engine/ordered.h"

#include <omp.h>

rt_status rt_ordered_run(size_t n, unsigned threads, rt_ordered_work_fn work,
                         rt_ordered_commit_fn commit, void *ctx, rt_error *err)
{
    if (n == 0) return RT_OK;
    if (threads < 1) threads = 1;
    if (threads > n) threads = (unsigned)n;
    int failed = 0;
    rt_status st = RT_OK;
#pragma omp parallel num_threads(threads)
    {
        unsigned tid = (unsigned)omp_get_thread_num();
#pragma omp for ordered schedule(dynamic, 1)
        for (size_t k = 0; k < n; k++) {
            rt_error e;
            rt_error_clear(&e);
            int skip;
#pragma omp atomic read
            skip = failed;
            rt_status ks = skip ? RT_OK : work(ctx, tid, k, &e);
#pragma omp ordered
            {
                if (!failed) {
                    if (ks == RT_OK) ks = commit(ctx, tid, k, &e);
                    if (ks != RT_OK) {
                        st = ks;
                        if (err) *err = e;
#pragma omp atomic write
                        failed = 1;
                    }
                }
            }
        }
    }
    return st;
}

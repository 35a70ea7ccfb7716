/* test_spread: ordered work shared out among processes, over a transport of threads (each
 * thread a "process" with the collective calls of engine/peers.h): rank 0 commits every item
 * once, in item order, with the bytes the process that worked it packed, whatever the
 * processes, threads and slots; a failure anywhere (work, commit, a process that failed
 * before a step, a process with other items or another number of steps) is every process's,
 * named after its process, and nobody hangs. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/spread.h"

enum { PROCS_MAX = 4 };

/* ---- a transport of threads ---- */

typedef struct world {
    unsigned size;
    pthread_barrier_t bar;
    const void *data[PROCS_MAX];
    size_t len[PROCS_MAX];
    const uint64_t *lens_out[PROCS_MAX]; /* alltoall */
} world;

typedef struct proc {
    world *w;
    rt_peers pe;
    uint64_t lens[2 * PROCS_MAX];
} proc;

static world *world_of(const rt_peers *pe)
{
    return ((proc *)pe->ctx)->w;
}

static void put_mine(const rt_peers *pe, const void *data, size_t len)
{
    world *w = world_of(pe);
    w->data[pe->rank] = data;
    w->len[pe->rank] = len;
    pthread_barrier_wait(&w->bar);
}

/* Every process's bytes, in rank order, to every process (all) or to rank 0. */
static rt_status collect(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                         uint64_t *lens, bool to_all)
{
    world *w = world_of(pe);
    put_mine(pe, data, len);
    if (to_all || pe->rank == 0) {
        rt_buf_reset(all);
        for (unsigned r = 0; r < w->size; r++) {
            rt_buf_append(all, w->data[r], w->len[r]);
            lens[r] = w->len[r];
        }
    }
    pthread_barrier_wait(&w->bar);
    return RT_OK;
}

static rt_status t_allgather(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                             uint64_t *lens)
{
    return collect(pe, data, len, all, lens, true);
}

static rt_status t_gather(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                          uint64_t *lens)
{
    return collect(pe, data, len, all, lens, false);
}

/* Each process's blocks to their processes. */
static rt_status t_alltoall(const rt_peers *pe, const void *data, const uint64_t *lens_out,
                            rt_buf *all, uint64_t *lens_in)
{
    world *w = world_of(pe);
    w->lens_out[pe->rank] = lens_out;
    put_mine(pe, data, 0);
    rt_buf_reset(all);
    for (unsigned r = 0; r < w->size; r++) {
        size_t at = 0;
        for (unsigned d = 0; d < pe->rank; d++)
            at += w->lens_out[r][d];
        rt_buf_append(all, (const char *)w->data[r] + at, w->lens_out[r][pe->rank]);
        lens_in[r] = w->lens_out[r][pe->rank];
    }
    pthread_barrier_wait(&w->bar);
    return RT_OK;
}

static rt_status t_bcast(const rt_peers *pe, rt_buf *b)
{
    world *w = world_of(pe);
    rt_buf copy;
    rt_buf_init(&copy);
    put_mine(pe, b->data, b->len);
    if (pe->rank != 0) rt_buf_append(&copy, w->data[0], w->len[0]);
    pthread_barrier_wait(&w->bar);
    if (pe->rank != 0) {
        rt_buf_reset(b);
        rt_buf_append(b, copy.data, copy.len);
    }
    rt_buf_free(&copy);
    return RT_OK;
}

/* ---- the work: item k's result is a line of text of its own length ---- */

enum { SLOTS_MAX = 16 };

/* What one process is told to do, and what it saw. */
typedef struct plan {
    size_t n[3];    /* items of each step (0: none) */
    unsigned steps; /* steps this process takes */
    unsigned threads;
    size_t fail_work; /* an item whose work fails here (SIZE_MAX: none) */
    size_t fail_put;  /* rank 0: an item whose commit fails (SIZE_MAX: none) */
    rt_status before; /* a failure before the first step (RT_OK: none) */
    bool fed;         /* step 1 takes inputs from rank 0 (rt_spread_run_fed) */
} plan;

typedef struct run {
    proc p;
    plan pl;
    rt_buf slot[SLOTS_MAX];
    rt_buf written; /* rank 0: every step's commits */
    size_t next;    /* rank 0: the item expected next */
    bool order_ok;
    uint64_t taken[4096]; /* a fed step's inputs, by item */
    rt_status st;
    rt_error err;
} run;

static void item_text(size_t step, size_t k, rt_buf *b)
{
    char line[64];
    int len = snprintf(line, sizeof line, "step %zu item %zu %.*s\n", step, k, (int)(k % 23),
                       "xxxxxxxxxxxxxxxxxxxxxxx");
    rt_buf_append(b, line, (size_t)len);
}

typedef struct step_ctx {
    run *r;
    size_t step;
    bool fed;
} step_ctx;

/* A fed step's input of item k: what rank 0 gives, and what every process works from. */
static uint64_t input_of(size_t k)
{
    return k * 7 + 1;
}

static rt_status give(void *ctx, size_t k, unsigned rank, rt_buf *out, rt_error *err)
{
    (void)ctx, (void)err;
    cr_assert_neq(rank, 0);
    uint64_t v = input_of(k);
    rt_buf_append(out, &v, sizeof v);
    return RT_OK;
}

static rt_status take(void *ctx, size_t k, const char *data, size_t len, rt_error *err)
{
    step_ctx *c = ctx;
    if (len != sizeof(uint64_t) || k >= 4096)
        return rt_error_set(err, RT_ECORRUPT, "f", 0, 0, NULL, "bad input for %zu", k);
    memcpy(&c->r->taken[k], data, len);
    return RT_OK;
}

static rt_status work(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    step_ctx *c = ctx;
    cr_assert_lt(slot, SLOTS_MAX);
    if (k == c->r->pl.fail_work)
        return rt_error_set(err, RT_EINVAL, "f", 0, 0, NULL, "work failed on %zu", k);
    if (c->fed && c->r->p.pe.rank != 0 && c->r->taken[k] != input_of(k))
        return rt_error_set(err, RT_EINVAL, "f", 0, 0, NULL, "no input for %zu", k);
    rt_buf_reset(&c->r->slot[slot]);
    item_text(c->step, k, &c->r->slot[slot]);
    return RT_OK;
}

static rt_status pack(void *ctx, unsigned slot, rt_buf *out)
{
    step_ctx *c = ctx;
    rt_buf_append(out, c->r->slot[slot].data, c->r->slot[slot].len);
    return rt_buf_status(out);
}

static rt_status put(void *ctx, size_t k, const char *data, size_t len, rt_error *err)
{
    step_ctx *c = ctx;
    run *r = c->r;
    if (k != r->next) r->order_ok = false;
    r->next = k + 1;
    if (k == r->pl.fail_put)
        return rt_error_set(err, RT_EIO, "f", 0, 0, NULL, "commit failed on %zu", k);
    rt_buf_append(&r->written, data, len);
    return RT_OK;
}

static void *process_main(void *arg)
{
    run *r = arg;
    rt_spread sp;
    rt_spread_init(&sp, &r->p.pe);
    rt_error_clear(&r->err);
    rt_status st = r->pl.before;
    if (st != RT_OK) rt_error_set(&r->err, st, NULL, 0, 0, NULL, "failed before");
    for (unsigned s = 0; s < r->pl.steps && st == RT_OK; s++) {
        step_ctx c = {r, s, r->pl.fed && s == 1};
        r->next = 0;
        unsigned slots = 2 * r->pl.threads;
        rt_spread_job job = {work, NULL, pack, put, NULL, NULL, &c};
        size_t n = r->pl.n[s];
        if (c.fed) { /* (the others learn the step's items from rank 0) */
            job.give = give;
            job.take = take;
            if (r->p.pe.rank != 0) n = RT_SPREAD_ANY;
        }
        st = rt_spread_run(&sp, n, r->pl.threads, slots, &job, &r->err);
    }
    r->st = rt_spread_end(&sp, st, &r->err);
    rt_spread_free(&sp);
    return NULL;
}

/* Run `size` processes, each with its plan; runs[] holds what each saw. */
static void run_world(unsigned size, const plan *plans, run *runs)
{
    world w = {.size = size};
    pthread_barrier_init(&w.bar, NULL, size);
    pthread_t th[PROCS_MAX];
    for (unsigned i = 0; i < size; i++) {
        run *r = &runs[i];
        memset(r, 0, sizeof *r);
        r->pl = plans[i];
        r->order_ok = true;
        r->p.w = &w;
        r->p.pe =
            (rt_peers){i,          size,    r->p.lens, r->p.lens + PROCS_MAX, t_allgather, t_gather,
                       t_alltoall, t_bcast, &r->p};
        for (int k = 0; k < SLOTS_MAX; k++)
            rt_buf_init(&r->slot[k]);
        rt_buf_init(&r->written);
        cr_assert_eq(pthread_create(&th[i], NULL, process_main, r), 0);
    }
    for (unsigned i = 0; i < size; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&w.bar);
    for (unsigned i = 0; i < size; i++)
        for (int k = 0; k < SLOTS_MAX; k++)
            rt_buf_free(&runs[i].slot[k]);
}

static void free_runs(run *runs, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        rt_buf_free(&runs[i].written);
}

static plan ok_plan(size_t n0, size_t n1, size_t n2, unsigned threads)
{
    return (plan){{n0, n1, n2}, 3, threads, SIZE_MAX, SIZE_MAX, RT_OK, false};
}

/* Rank 0 wrote the first n[s] items of each step s, in order, and nothing else. */
static void assert_written(const run *r0, size_t n0, size_t n1, size_t n2)
{
    const size_t n[3] = {n0, n1, n2};
    rt_buf want;
    rt_buf_init(&want);
    for (size_t s = 0; s < 3; s++)
        for (size_t k = 0; k < n[s]; k++)
            item_text(s, k, &want);
    cr_assert(r0->order_ok);
    cr_assert_eq(r0->written.len, want.len);
    cr_assert(want.len == 0 || memcmp(r0->written.data, want.data, want.len) == 0);
    rt_buf_free(&want);
}

Test(spread, commits_every_item_in_order_whatever_the_processes_and_threads)
{
    /* Step 1 fed (rank 0 gives each item's input; the others learn the count from it), or
     * not; a fed step of no items is still a step. */
    const size_t sizes[][3] = {{1, 0, 5}, {7, 1000, 3}, {2048, 33, 64}};
    for (unsigned cases = 0; cases < 2 * PROCS_MAX * 3; cases++) {
        unsigned size = 1 + cases / 6 % PROCS_MAX;
        size_t c = cases % 3;
        bool fed = cases / 3 % 2;
        {
            plan plans[PROCS_MAX];
            for (unsigned i = 0; i < size; i++) {
                plans[i] = ok_plan(sizes[c][0], sizes[c][1], sizes[c][2], 1 + (i + c) % 3);
                plans[i].fed = fed;
            }
            run runs[PROCS_MAX];
            run_world(size, plans, runs);
            for (unsigned i = 0; i < size; i++)
                cr_assert_eq(runs[i].st, RT_OK, "%u processes, case %zu, rank %u: %s", size, c, i,
                             runs[i].err.message);
            assert_written(&runs[0], sizes[c][0], sizes[c][1], sizes[c][2]);
            for (unsigned i = 1; i < size; i++)
                cr_assert_eq(runs[i].written.len, 0);
            free_runs(runs, size);
        }
    }
}

/* Every process returns the same failure, and rank 0 committed nothing after it. */
static void assert_failed_alike(const run *runs, unsigned size, rt_status code, const char *message)
{
    for (unsigned i = 0; i < size; i++) {
        cr_assert_eq(runs[i].st, code, "rank %u: %d %s", i, runs[i].st, runs[i].err.message);
        cr_assert_str_eq(runs[i].err.message, message, "rank %u", i);
    }
}

Test(spread, a_failed_work_fails_every_process_named_after_its_process)
{
    /* Rounds of at least rank 0's slots (two a thread) a process, about 32 a step: with two
     * processes and 64 items, two items a process (item 0 is rank 0's, item 2 rank 1's); with
     * three and 500 items, six (item 300, the 13th of the round from item 288, is process
     * 2's). The rounds before the failure's are committed, nothing after. */
    const struct {
        unsigned procs, fail_on;
        size_t n, item, committed;
        const char *says;
    } cases[] = {
        {2, 0, 64, 0, 0, "work failed on 0"},
        {2, 1, 64, 2, 0, "process 1: work failed on 2"},
        {3, 2, 500, 300, 288, "process 2: work failed on 300"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        plan plans[3] = {ok_plan(0, cases[c].n, 10, 1), ok_plan(0, cases[c].n, 10, 2),
                         ok_plan(0, cases[c].n, 10, 3)};
        plans[cases[c].fail_on].fail_work = cases[c].item;
        run runs[3];
        run_world(cases[c].procs, plans, runs);
        assert_failed_alike(runs, cases[c].procs, RT_EINVAL, cases[c].says);
        assert_written(&runs[0], 0, cases[c].committed, 0);
        free_runs(runs, cases[c].procs);
    }
}

Test(spread, a_failed_commit_fails_every_process)
{
    plan plans[2] = {ok_plan(100, 100, 0, 2), ok_plan(100, 100, 0, 2)};
    plans[0].fail_put = 57;
    run runs[2];
    run_world(2, plans, runs);
    assert_failed_alike(runs, 2, RT_EIO, "commit failed on 57");
    /* Step 0 up to item 57, and no more steps. */
    assert_written(&runs[0], 57, 0, 0);
    free_runs(runs, 2);
}

Test(spread, a_process_that_failed_before_its_steps_fails_every_process)
{
    /* Another process (rank 0 goes through its steps, each failing at once), then rank 0 (it
     * ends before its steps, which the others then leave). */
    const unsigned order[2] = {1, 0};
    for (unsigned i = 0; i < 2; i++) {
        unsigned failed = order[i];
        plan plans[3] = {ok_plan(40, 40, 40, 1), ok_plan(40, 40, 40, 2), ok_plan(40, 40, 40, 1)};
        plans[failed].before = RT_ENOMEM;
        run runs[3];
        run_world(3, plans, runs);
        assert_failed_alike(runs, 3, RT_ENOMEM,
                            failed ? "process 1: failed before" : "failed before");
        cr_assert_eq(runs[0].written.len, 0);
        free_runs(runs, 3);
    }
}

Test(spread, processes_out_of_step_fail_instead_of_hanging)
{
    /* Other items in a step. */
    plan plans[2] = {ok_plan(40, 40, 40, 1), ok_plan(40, 41, 40, 1)};
    run runs[2];
    run_world(2, plans, runs);
    assert_failed_alike(runs, 2, RT_EINVAL,
                        "process 1: wrote other outputs than process 0 (are they the same "
                        "build of ratel, with the same inputs?)");
    free_runs(runs, 2);
    /* A step without items where rank 0's has some: the next step pairs with rank 0's of
     * as many items, and is told apart by its number. */
    plans[0] = ok_plan(40, 40, 40, 1);
    plans[1] = ok_plan(40, 0, 40, 1);
    run_world(2, plans, runs);
    assert_failed_alike(runs, 2, RT_EINVAL,
                        "process 1: wrote other outputs than process 0 (are they the same "
                        "build of ratel, with the same inputs?)");
    free_runs(runs, 2);
    /* A step fewer, then a step more, than rank 0. */
    for (int more = 0; more < 2; more++) {
        plans[0] = ok_plan(40, 40, 40, 1);
        plans[1] = ok_plan(40, 40, 40, 1);
        plans[1].steps = more ? 3 : 2;
        plans[0].steps = more ? 2 : 3;
        run_world(2, plans, runs);
        for (unsigned i = 0; i < 2; i++) {
            cr_assert_eq(runs[i].st, RT_EINVAL, "more %d rank %u", more, i);
            cr_assert_str_eq(runs[i].err.message, runs[0].err.message);
        }
        cr_assert(strstr(runs[0].err.message, "wrote other outputs than process 0"));
        free_runs(runs, 2);
    }
}

/* spread: ordered work shared out among the processes of a distributed run. */
#include "engine/spread.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Rank 0's word at the start of a step (go: n items, `per` a process per round) or at its end
 * (end: its status). Sent raw (and zeroed first): the processes are checked to be the same
 * build. */
enum { SAY_GO = 1, SAY_END = 2, ROUNDS = 32 };
typedef struct say {
    uint32_t kind, fed;    /* fed: rank 0 gives inputs before each round */
    uint64_t step, n, per; /* step: rank 0's count of its steps, this one included */
    rt_error status;
} say;

/* What each process sends rank 0 after its block of a round: its status and how many items
 * follow, each as a length and the bytes its pack gave. */
typedef struct block_head {
    rt_error status;
    uint64_t count;
} block_head;

void rt_spread_init(rt_spread *sp, const rt_peers *peers)
{
    memset(sp, 0, sizeof *sp);
    sp->peers = peers;
    rt_buf_init(&sp->out);
    rt_buf_init(&sp->feed);
    for (int i = 0; i < 2; i++) {
        rt_buf_init(&sp->in[i]);
        sp->lens[i] = peers->rank == 0 ? calloc(peers->size, sizeof *sp->lens[i]) : NULL;
    }
    /* Without both, rank 0 commits each round before the next, not during it. */
    if (!sp->lens[0] || !sp->lens[1]) {
        for (int i = 0; i < 2; i++) {
            free(sp->lens[i]);
            sp->lens[i] = NULL;
        }
    }
    rt_error_clear(&sp->end);
    /* Room for the small messages, so that saying a failure needs no memory later. */
    rt_buf_reserve(&sp->out, sizeof(say) + sizeof(block_head));
}

void rt_spread_free(rt_spread *sp)
{
    rt_buf_free(&sp->out);
    rt_buf_free(&sp->feed);
    for (int i = 0; i < 2; i++) {
        rt_buf_free(&sp->in[i]);
        free(sp->lens[i]);
    }
}

static rt_status memory(rt_error *err)
{
    return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
}

/* (Named after its process as every failure is: rt_peers_failure.) */
static rt_status out_of_step(rt_error *err)
{
    return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                        "wrote other outputs than process 0 (are they the same build of "
                        "ratel, with the same inputs?)");
}

/* Rank 0's `s` to every process (into *s there). A word that does not arrive whole is taken
 * as rank 0's end with a failure. */
static void say_all(rt_spread *sp, say *s)
{
    if (rt_peers_bcast_record(sp->peers, s, sizeof *s, &sp->out)) return;
    memset(s, 0, sizeof *s);
    s->kind = SAY_END;
    rt_peers_damaged(0, &s->status);
}

/* Rank 0's verdict on a round (v there) to every process; its code returned, into err when
 * it failed. */
static rt_status verdict_all(rt_spread *sp, rt_error *v, rt_error *err)
{
    if (!rt_peers_bcast_record(sp->peers, v, sizeof *v, &sp->out)) rt_peers_damaged(0, v);
    if (v->code != RT_OK && err) *err = *v;
    return v->code;
}

/* A process's block of a round, worked on its threads; each item packed as it is committed
 * (in item order). */
typedef struct block_job {
    const rt_spread_job *job;
    size_t from;
    rt_buf *out;
} block_job;

static rt_status block_work(void *x, unsigned slot, size_t i, rt_error *err)
{
    const block_job *j = x;
    return j->job->work(j->job->ctx, slot, j->from + i, err);
}

static rt_status block_pack(void *x, unsigned slot, size_t i, rt_error *err)
{
    (void)i;
    const block_job *j = x;
    size_t at = j->out->len;
    uint64_t len = 0;
    rt_buf_append(j->out, &len, sizeof len);
    rt_status st = j->job->pack(j->job->ctx, slot, j->out);
    if (st == RT_OK && j->out->failed) st = RT_ENOMEM;
    if (st != RT_OK) return rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
    len = j->out->len - at - sizeof len;
    memcpy(j->out->data + at, &len, sizeof len);
    return RT_OK;
}

/* The items process r works in the round starting at `base`. */
static void block_of(size_t base, size_t per, unsigned r, size_t n, size_t *from, size_t *to)
{
    size_t f = base + per * r;
    *from = f < n ? f : n;
    *to = f + per < n ? f + per : n;
    if (*to < *from) *to = *from;
}

/* This process's block of the round at `base` into sp->out: its status (`mine` when that
 * failed: no work), its items' count and packed results. */
static void work_block(rt_spread *sp, size_t base, size_t per, size_t n, unsigned threads,
                       unsigned slots, const rt_spread_job *job, rt_error *mine)
{
    size_t from, to;
    block_of(base, per, sp->peers->rank, n, &from, &to);
    block_head h;
    memset(&h, 0, sizeof h);
    h.status = *mine;
    rt_buf *b = &sp->out;
    rt_buf_reset(b);
    rt_buf_append(b, &h, sizeof h);
    if (h.status.code == RT_OK && to > from) {
        block_job j = {job, from, b};
        rt_status st =
            rt_ordered_run(to - from, threads, slots, block_work, block_pack, &j, &h.status);
        if (st == RT_OK && b->failed) st = memory(&h.status);
        h.status.code = st;
    }
    if (h.status.code == RT_OK) {
        h.count = to - from;
        memcpy(b->data, &h, sizeof h);
        return;
    }
    /* The status alone; after a failure this process works no more of the step. (A head
     * that does not fit goes as nothing, which rank 0 takes as damaged.) */
    *mine = h.status;
    rt_buf_reset(b);
    rt_buf_append(b, &h, sizeof h);
}

/* Rank 0: a round's blocks (as gathered: data, lens by rank), committed in item order. */
typedef struct round_commit {
    const char *data;
    const uint64_t *lens;
    unsigned size;
    size_t base, per, n;
    rt_spread_put_fn put;
    void *ctx;
    rt_error verdict;
    pthread_t thread;
    bool running; /* on a thread of its own, to be joined */
} round_commit;

/* Every process's status in the round: the first failure by rank into v. */
static void check_round(const round_commit *rc, rt_error *v)
{
    rt_error_clear(v);
    size_t at = 0;
    for (unsigned r = 0; r < rc->size; r++) {
        block_head h;
        if (rc->lens[r] < sizeof h) {
            rt_peers_damaged(r, v);
            return;
        }
        memcpy(&h, rc->data + at, sizeof h);
        if (h.status.code != RT_OK) {
            rt_peers_failure(&h.status, r, v);
            return;
        }
        at += (size_t)rc->lens[r];
    }
}

static void commit_round(round_commit *rc)
{
    rt_error *v = &rc->verdict;
    rt_error_clear(v);
    size_t at = 0;
    for (unsigned r = 0; r < rc->size; r++) {
        const char *data = rc->data + at;
        size_t len = (size_t)rc->lens[r], k = sizeof(block_head), from, to;
        block_head h;
        memcpy(&h, data, sizeof h);
        block_of(rc->base, rc->per, r, rc->n, &from, &to);
        if (h.count != to - from) {
            rt_error e;
            out_of_step(&e);
            rt_peers_failure(&e, r, v);
            return;
        }
        for (size_t i = from; i < to; i++) {
            uint64_t il;
            if (len - k < sizeof il) {
                rt_peers_damaged(r, v);
                return;
            }
            memcpy(&il, data + k, sizeof il);
            k += sizeof il;
            if (len - k < il) {
                rt_peers_damaged(r, v);
                return;
            }
            rt_status st = rc->put(rc->ctx, i, data + k, (size_t)il, v);
            if (st != RT_OK) {
                v->code = st;
                if (st == RT_ECORRUPT && r) rt_peers_damaged(r, v);
                return;
            }
            k += (size_t)il;
        }
        if (k != len) {
            rt_peers_damaged(r, v);
            return;
        }
        at += len;
    }
}

static void *commit_main(void *arg)
{
    commit_round(arg);
    return NULL;
}

/* Rank 0: the round's commit, on a thread of its own when it can (while the next round is
 * worked), else here. */
static void start_commit(round_commit *rc)
{
    rc->running = pthread_create(&rc->thread, NULL, commit_main, rc) == 0;
    if (!rc->running) commit_round(rc);
}

/* Rank 0: the round's verdict, its commit done. */
static rt_error finish_commit(round_commit *rc)
{
    if (rc->running) pthread_join(rc->thread, NULL);
    rc->running = false;
    return rc->verdict;
}

/* Before a round of a fed step: rank 0 gives each other process the inputs of its block's
 * items (alltoall: a length and the bytes per item), which takes them. A process that failed
 * (or whose give or take fails) takes part with what it has, and fails the round. */
static void feed_round(rt_spread *sp, size_t base, size_t per, size_t n, const rt_spread_job *job,
                       rt_error *mine)
{
    unsigned size = sp->peers->size, rank = sp->peers->rank;
    uint64_t *lens_out = sp->peers->lens_out;
    memset(lens_out, 0, size * sizeof *lens_out);
    rt_buf *b = &sp->out;
    rt_buf_reset(b);
    for (unsigned r = 1; rank == 0 && r < size && mine->code == RT_OK; r++) {
        size_t from, to, at = b->len;
        block_of(base, per, r, n, &from, &to);
        for (size_t k = from; k < to && mine->code == RT_OK; k++) {
            size_t head = b->len;
            uint64_t len = 0;
            rt_buf_append(b, &len, sizeof len);
            if (job->give(job->ctx, k, r, b, mine) != RT_OK) break;
            if (b->failed) {
                memory(mine);
                break;
            }
            len = b->len - head - sizeof len;
            memcpy(b->data + head, &len, sizeof len);
        }
        lens_out[r] = b->len - at;
    }
    if (mine->code != RT_OK || b->failed) { /* (what was given goes: the round fails) */
        memset(lens_out, 0, size * sizeof *lens_out);
        b->len = 0;
    }
    sp->peers->alltoall(sp->peers, b->data, lens_out, &sp->feed, sp->peers->lens_in);
    if (rank == 0 || mine->code != RT_OK) return;
    size_t from, to, at = 0, len = (size_t)sp->peers->lens_in[0];
    block_of(base, per, rank, n, &from, &to);
    for (size_t k = from; k < to; k++) {
        uint64_t il;
        const char *bytes;
        if (!rt_buf_peek_framed(sp->feed.data, len, &at, &il, 1, &bytes)) {
            rt_peers_damaged(0, mine);
            return;
        }
        if (job->take(job->ctx, k, bytes, (size_t)il, mine) != RT_OK) return;
    }
    if (at != len) rt_peers_damaged(0, mine);
}

/* The rounds of a step of n items, `per` a process a round. Every process works its block of
 * a round and sends it to rank 0 (gather); rank 0 checks the round's statuses and commits it
 * while every process works the next round, and says its verdict after the next round's
 * gather (or after the last): a failure stops every process there. A process whose own work
 * failed (or `mine`, failed from the start) sends its failure instead of a block. In a fed
 * step each round starts with its inputs (feed_round). */
static rt_status rounds(rt_spread *sp, size_t n, size_t per, unsigned threads, unsigned slots,
                        bool fed, const rt_spread_job *job, rt_error mine, rt_error *err)
{
    bool root = sp->peers->rank == 0;
    size_t round_items = per * sp->peers->size;
    round_commit rc[2];
    memset(rc, 0, sizeof rc);
    rt_error v; /* rank 0: the last round's verdict, once known */
    rt_error_clear(&v);
    unsigned r = 0;
    for (size_t base = 0; base < n; base += round_items, r++) {
        if (fed) feed_round(sp, base, per, n, job, &mine);
        work_block(sp, base, per, n, threads, slots, job, &mine);
        unsigned b = r % 2;
        /* Rank 0 receives into the buffer of the round before last, committed by now. */
        rt_buf *in = sp->lens[b] ? &sp->in[b] : &sp->in[0];
        sp->peers->gather(sp->peers, sp->out.data, sp->out.len, in, sp->peers->lens_in);
        round_commit *c = &rc[b];
        if (root) {
            *c = (round_commit){in->data, sp->peers->lens_in, sp->peers->size, base, per,
                                n,        job->put,           job->ctx,        {0},  0,
                                false};
            if (sp->lens[b]) {
                memcpy(sp->lens[b], sp->peers->lens_in, sp->peers->size * sizeof *sp->lens[b]);
                c->lens = sp->lens[b];
            }
            check_round(c, &c->verdict);
        }
        if (r > 0) {
            round_commit *last = &rc[1 - b];
            if (root) v = finish_commit(last);
            if (verdict_all(sp, &v, err) != RT_OK) return v.code;
        }
        if (root && c->verdict.code == RT_OK) {
            if (sp->lens[b])
                start_commit(c);
            else
                commit_round(c); /* (no second buffer: this round's, before the next) */
        }
    }
    if (root && r > 0) v = finish_commit(&rc[(r - 1) % 2]);
    return verdict_all(sp, &v, err);
}

/* Rank 0's word, heard by another process: go, or its end (sp->ended, its status in sp->end;
 * a word that is neither is taken as an end with a failure). */
static void hear(rt_spread *sp, say *s)
{
    say_all(sp, s);
    if (s->kind == SAY_GO && s->per) return;
    sp->ended = true;
    sp->end = s->status;
    if (s->kind != SAY_END) rt_peers_damaged(0, &sp->end);
}

static rt_status run_step(rt_spread *sp, size_t n, unsigned threads, unsigned slots, bool fed,
                          const rt_spread_job *job, rt_error *err)
{
    if (threads < 1) threads = 1;
    if (slots < threads) slots = threads;
    /* A round gives each process at least a slot per item, and a step is about ROUNDS rounds:
     * each round waits for its slowest process, so fewer rounds wait less, and more hold less
     * of the output at rank 0 at once. */
    size_t size = sp->peers->size;
    RT_ASSERT(n != RT_SPREAD_ANY || sp->peers->rank != 0); /* rank 0 knows its items */
    size_t per = n == RT_SPREAD_ANY ? 1 : (n + ROUNDS * size - 1) / (ROUNDS * size);
    say s;
    memset(&s, 0, sizeof s);
    s.kind = SAY_GO;
    s.fed = fed;
    s.step = sp->steps;
    s.n = n;
    s.per = per > slots ? per : slots;
    if (sp->peers->rank == 0) {
        say_all(sp, &s);
    } else {
        /* (Once rank 0 has ended it says nothing more: a step after that fails here.) */
        if (!sp->ended) hear(sp, &s);
        if (sp->ended) { /* rank 0 ended: its failure, or this process has a step too many */
            rt_error e = sp->end;
            if (e.code == RT_OK) out_of_step(&e);
            if (err) *err = e;
            return e.code;
        }
    }
    /* A process with other items than rank 0's fails the step. */
    rt_error mine;
    rt_error_clear(&mine);
    if ((s.n != n && n != RT_SPREAD_ANY) || s.step != sp->steps || (bool)s.fed != fed)
        out_of_step(&mine);
    rt_status st = rounds(sp, (size_t)s.n, (size_t)s.per, threads, slots, s.fed, job, mine, err);
    if (s.fed) { /* (a fed step's inputs are large: not kept for the steps after it) */
        rt_buf_free(&sp->feed);
        rt_buf_free(&sp->out);
    }
    return st;
}

rt_status rt_spread_run(rt_spread *sp, size_t n, unsigned threads, unsigned slots,
                        const rt_spread_job *job, rt_error *err)
{
    if (!sp) return rt_ordered_run(n, threads, slots, job->work, job->commit, job->ctx, err);
    sp->steps++; /* (steps without items counted too: a process may skip one another takes) */
    bool fed = job->take != NULL;
    if (n == 0 && !fed) return RT_OK;
    return run_step(sp, n, threads, slots, fed, job, err);
}

rt_status rt_spread_end(rt_spread *sp, rt_status st, rt_error *err)
{
    rt_error mine = rt_peers_status(st, err);
    if (sp->peers->rank == 0) {
        say s;
        memset(&s, 0, sizeof s);
        s.kind = SAY_END;
        s.status = mine;
        say_all(sp, &s);
        sp->ended = true;
    } else {
        /* Rank 0's steps this process did not take (it failed, or is out of step) are taken
         * as a failure, which ends each at its first verdict, until rank 0 ends. */
        rt_error failed = mine;
        if (failed.code == RT_OK) out_of_step(&failed);
        while (!sp->ended) {
            say s;
            hear(sp, &s);
            if (sp->ended) break;
            rt_spread_job none = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
            (void)rounds(sp, (size_t)s.n, (size_t)s.per, 1, 1, s.fed, &none, failed, NULL);
        }
    }
    /* Every process's status, the first failure by rank everyone's. */
    if (sp->peers->allgather(sp->peers, &mine, sizeof mine, &sp->in[0], sp->peers->lens_in) !=
        RT_OK)
        return memory(err);
    for (unsigned r = 0; r < sp->peers->size; r++) {
        rt_error e;
        if (sp->peers->lens_in[r] != sizeof e) return rt_peers_damaged(r, err);
        memcpy(&e, sp->in[0].data + r * sizeof e, sizeof e);
        if (e.code != RT_OK) return rt_peers_failure(&e, r, err);
    }
    /* (Rank 0's two rounds of the largest step are not kept through its commit.) */
    for (int i = 0; i < 2; i++)
        rt_buf_free(&sp->in[i]);
    return RT_OK;
}

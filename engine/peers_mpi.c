/* peers_mpi: engine/peers.h over Open MPI (a communicator of its own, duplicated from
 * MPI_COMM_WORLD). MPI counts are ints: every block goes as its 64-bit length, then in pieces
 * of at most 1 GiB. */
#include "engine/peers.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PIECE ((size_t)1 << 30)

/* The peers' context: their communicator, and whether MPI was started here. */
typedef struct mpi_ctx {
    MPI_Comm comm;
    bool initialized_here; /* MPI_Init was ours, so MPI_Finalize is too */
} mpi_ctx;

static MPI_Comm comm_of(const rt_peers *pe) { return ((const mpi_ctx *)pe->ctx)->comm; }

/* Wait for a request without holding a core: Open MPI's blocking calls poll, so a process
 * waiting for rank 0's commit (seconds to minutes) would take a core from it on a shared
 * machine. A short spin first (most waits in a wave are short), then naps of 200 us. */
static void wait_for(MPI_Request *r)
{
    int done = 0;
    for (int spin = 0; spin < 2000 && !done; spin++) MPI_Test(r, &done, MPI_STATUS_IGNORE);
    while (!done) {
        struct timespec nap = {0, 200000};
        nanosleep(&nap, NULL);
        MPI_Test(r, &done, MPI_STATUS_IGNORE);
    }
}

static void send_bytes(MPI_Comm c, int to, const char *data, size_t len)
{
    for (size_t at = 0; at < len; at += PIECE) {
        size_t n = len - at < PIECE ? len - at : PIECE;
        MPI_Request req;
        MPI_Isend(data + at, (int)n, MPI_BYTE, to, 1, c, &req);
        wait_for(&req);
    }
}

static void recv_bytes(MPI_Comm c, int from, char *data, size_t len)
{
    for (size_t at = 0; at < len; at += PIECE) {
        size_t n = len - at < PIECE ? len - at : PIECE;
        MPI_Request req;
        MPI_Irecv(data + at, (int)n, MPI_BYTE, from, 1, c, &req);
        wait_for(&req);
    }
}

static void bcast_bytes(MPI_Comm c, char *data, size_t len, int root)
{
    for (size_t at = 0; at < len; at += PIECE) {
        size_t n = len - at < PIECE ? len - at : PIECE;
        MPI_Request req;
        MPI_Ibcast(data + at, (int)n, MPI_BYTE, root, c, &req);
        wait_for(&req);
    }
}

/* No memory for what is to come in: the job ends (see engine/peers.h). */
static void no_room(const rt_peers *pe, MPI_Comm c)
{
    fprintf(stderr, "ratel: process %u: out of memory for what the other processes sent\n",
            pe->rank);
    MPI_Abort(c, 1);
}

static rt_status mpi_gather(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                            uint64_t *lens)
{
    MPI_Comm c = comm_of(pe);
    rt_buf_reset(all);
    uint64_t mine = len;
    if (pe->rank != 0) {
        MPI_Request req;
        MPI_Isend(&mine, 1, MPI_UINT64_T, 0, 0, c, &req);
        wait_for(&req);
        send_bytes(c, 0, data, len);
        return RT_OK;
    }
    lens[0] = mine;
    rt_buf_append(all, data, len);
    if (all->failed) no_room(pe, c);
    for (unsigned r = 1; r < pe->size; r++) {
        MPI_Request req;
        MPI_Irecv(&lens[r], 1, MPI_UINT64_T, (int)r, 0, c, &req);
        wait_for(&req);
        if (!rt_buf_reserve(all, lens[r])) no_room(pe, c);
        recv_bytes(c, (int)r, all->data + all->len, lens[r]);
        all->len += lens[r];
    }
    return rt_buf_status(all);
}

static rt_status mpi_bcast(const rt_peers *pe, rt_buf *b)
{
    MPI_Comm c = comm_of(pe);
    uint64_t len = pe->rank == 0 ? b->len : 0;
    MPI_Request req;
    MPI_Ibcast(&len, 1, MPI_UINT64_T, 0, c, &req);
    wait_for(&req);
    if (pe->rank != 0) {
        rt_buf_reset(b);
        if (!rt_buf_reserve(b, len)) no_room(pe, c);
        b->len = len;
    }
    bcast_bytes(c, b->data, len, 0);
    return RT_OK;
}

/* Every rank's block in turn, broadcast from it. */
static rt_status mpi_allgather(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                               uint64_t *lens)
{
    MPI_Comm c = comm_of(pe);
    uint64_t mine = len;
    MPI_Request req;
    MPI_Iallgather(&mine, 1, MPI_UINT64_T, lens, 1, MPI_UINT64_T, c, &req);
    wait_for(&req);
    uint64_t total = 0;
    for (unsigned r = 0; r < pe->size; r++) total += lens[r];
    rt_buf_reset(all);
    if (!rt_buf_reserve(all, total)) no_room(pe, c);
    for (unsigned r = 0; r < pe->size; r++) {
        char *at = all->data + all->len;
        if (r == pe->rank) memcpy(at, data, len);
        bcast_bytes(c, at, lens[r], (int)r);
        all->len += lens[r];
    }
    return RT_OK;
}

/* Every piece of every block posted at once (non-blocking), then waited for. */
static rt_status mpi_alltoall(const rt_peers *pe, const void *data, const uint64_t *lens_out,
                              rt_buf *all, uint64_t *lens_in)
{
    MPI_Comm c = comm_of(pe);
    unsigned n = pe->size;
    MPI_Request head;
    MPI_Ialltoall(lens_out, 1, MPI_UINT64_T, lens_in, 1, MPI_UINT64_T, c, &head);
    wait_for(&head);
    uint64_t total = 0;
    size_t pieces = 0;
    for (unsigned r = 0; r < n; r++) {
        total += lens_in[r];
        pieces += (size_t)((lens_in[r] + PIECE - 1) / PIECE + (lens_out[r] + PIECE - 1) / PIECE);
    }
    rt_buf_reset(all);
    MPI_Request *req = malloc((pieces ? pieces : 1) * sizeof *req);
    if (!req || !rt_buf_reserve(all, total)) no_room(pe, c);
    size_t k = 0;
    uint64_t at = 0;
    for (unsigned r = 0; r < n; r++) {
        for (uint64_t off = 0; off < lens_in[r]; off += PIECE) {
            size_t len = lens_in[r] - off < PIECE ? (size_t)(lens_in[r] - off) : PIECE;
            MPI_Irecv(all->data + at + off, (int)len, MPI_BYTE, (int)r, 2, c, &req[k++]);
        }
        at += lens_in[r];
    }
    at = 0;
    for (unsigned r = 0; r < n; r++) {
        for (uint64_t off = 0; off < lens_out[r]; off += PIECE) {
            size_t len = lens_out[r] - off < PIECE ? (size_t)(lens_out[r] - off) : PIECE;
            MPI_Isend((const char *)data + at + off, (int)len, MPI_BYTE, (int)r, 2, c, &req[k++]);
        }
        at += lens_out[r];
    }
    for (size_t i = 0; i < k; i++) wait_for(&req[i]);
    free(req);
    all->len = total;
    return RT_OK;
}

rt_status rt_peers_mpi_open(int *argc, char ***argv, rt_peers *pe, rt_error *err)
{
    int provided = 0, inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL, "cannot start Open MPI");
    if (inited) MPI_Query_thread(&provided);
    mpi_ctx *x = calloc(1, sizeof *x);
    int rank = 0, size = 1;
    if (x) {
        x->initialized_here = !inited;
        MPI_Comm_dup(MPI_COMM_WORLD, &x->comm);
        MPI_Comm_rank(x->comm, &rank);
        MPI_Comm_size(x->comm, &size);
    }
    uint64_t *lens = x ? calloc(2 * (size_t)size, sizeof *lens) : NULL;
    if (!x || !lens || provided < MPI_THREAD_SERIALIZED) {
        /* No process can go on alone: the job ends (a message from each process). */
        fprintf(stderr, "ratel: process %d: %s\n", rank,
                provided < MPI_THREAD_SERIALIZED && x && lens
                    ? "this Open MPI cannot be called from more than one thread"
                    : "out of memory");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    *pe = (rt_peers){(unsigned)rank, (unsigned)size, lens, lens + size, mpi_allgather,
                     mpi_gather, mpi_alltoall, mpi_bcast, x};
    return RT_OK;
}

void rt_peers_mpi_close(rt_peers *pe)
{
    mpi_ctx *x = pe->ctx;
    if (!x) return;
    MPI_Comm_free(&x->comm);
    if (x->initialized_here) MPI_Finalize();
    free(pe->lens_in);
    free(x);
    pe->ctx = NULL;
}

/* peers: the processes of a distributed run, as the run sees them.
 *
 * Owns the contract between the run (engine/run.c) and the transport that joins its
 * processes: a rank and a size, and four collective calls that every process makes in the
 * same order, from one thread at a time, each moving blocks of bytes of any length (several
 * GiB included). Rank 0 is the one that commits. The engine knows nothing of the transport: the
 * one implementation, over Open MPI, is engine/peers_mpi.c, built only when Open MPI is found
 * (RATEL_HAVE_MPI), so that the library and its tests build without it.
 *
 * A transport failure (a process gone), or no memory for what a call is to receive, ends the
 * job through the transport (Open MPI aborts every process): a process that left the calls
 * while the others wait for it would hang them all. The calls return RT_OK otherwise. */
#ifndef RT_PEERS_H
#define RT_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/status.h"

typedef struct rt_peers rt_peers;
struct rt_peers {
    unsigned rank, size;
    /* Two arrays of `size` entries for the caller (lengths in and out), made with the peers
     * so that a call never needs memory it might not get. */
    uint64_t *lens_in, *lens_out;
    /* Every process's `len` bytes to every process: `all` (reset first) holds them in rank
     * order, lens[r] (lens has `size` entries) the length of rank r's. */
    rt_status (*allgather)(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                           uint64_t *lens);
    /* The same to rank 0 only (elsewhere `all` is left empty and lens untouched). */
    rt_status (*gather)(const rt_peers *pe, const void *data, size_t len, rt_buf *all,
                        uint64_t *lens);
    /* Blocks to their processes: `data` holds one block per process in rank order, lens_out[d]
     * bytes for process d; `all` (reset first) receives the blocks sent to this process in
     * rank order, lens_in[r] bytes from process r. */
    rt_status (*alltoall)(const rt_peers *pe, const void *data, const uint64_t *lens_out,
                          rt_buf *all, uint64_t *lens_in);
    /* Rank 0's `b` to every process (replacing what `b` held there). */
    rt_status (*bcast)(const rt_peers *pe, rt_buf *b);
    void *ctx;
};

/* A status as the record a process sends the others: code RT_OK and nothing else when st
 * succeeded, else err with st as its code. */
rt_error rt_peers_status(rt_status st, const rt_error *err);
/* A failure of process `rank` as every process reports it (into err; returns its code):
 * prefixed "process N: " when it is not rank 0, whose errors are those a run in one process
 * would give. */
rt_status rt_peers_failure(const rt_error *e, unsigned rank, rt_error *err);

/* What a process reports of bytes process `rank` sent that it cannot read (into err). */
rt_status rt_peers_damaged(unsigned rank, rt_error *err);
/* Rank 0's record of `len` bytes at rec to every process (into rec there, through scratch);
 * rank 0 sends it from where it is, needing no memory. False where it did not arrive whole. */
bool rt_peers_bcast_record(const rt_peers *pe, void *rec, size_t len, rt_buf *scratch);

#ifdef RATEL_HAVE_MPI
/* Join the Open MPI job this process was started in (mpirun), any one thread at a time making
 * MPI calls (rank 0's writer makes them from a thread of its own). Exit status 2 material: RT_EINVAL when MPI cannot start. */
rt_status rt_peers_mpi_open(int *argc, char ***argv, rt_peers *pe, rt_error *err);
/* Leave it (every process, after its last collective call). */
void rt_peers_mpi_close(rt_peers *pe);
#endif

#endif

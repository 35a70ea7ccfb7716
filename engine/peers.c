/* peers: the statuses the processes of a distributed run exchange. */
#include "engine/peers.h"

#include <string.h>

#include "engine/buf.h"

rt_error rt_peers_status(rt_status st, const rt_error *err)
{
    rt_error e;
    rt_error_clear(&e);
    if (st != RT_OK) {
        if (err) e = *err;
        e.code = st;
    }
    return e;
}

rt_status rt_peers_failure(const rt_error *e, unsigned rank, rt_error *err)
{
    if (err) {
        *err = *e;
        if (rank) {
            /* The prefix, then as much of the message as fits. */
            const char *parts[] = {"process ", NULL, ": ", e->message};
            char num[RT_U64_TEXT_MAX];
            rt_u64_text(rank, num);
            parts[1] = num;
            rt_text_join(err->message, sizeof err->message, parts, 4);
        }
    }
    return e->code;
}

rt_status rt_peers_damaged(unsigned rank, rt_error *err)
{
    return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL,
                        "process %u sent what this process cannot read (are they the same "
                        "build of ratel?)",
                        rank);
}

bool rt_peers_bcast_record(const rt_peers *pe, void *rec, size_t len, rt_buf *scratch)
{
    if (pe->rank == 0) {
        rt_buf word = {rec, len, len, false};
        return pe->bcast(pe, &word) == RT_OK;
    }
    rt_buf_reset(scratch);
    if (pe->bcast(pe, scratch) != RT_OK || scratch->len != len) return false;
    memcpy(rec, scratch->data, len);
    return true;
}

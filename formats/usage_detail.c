/* usage_detail: itemised usage per invoice line, spilled by account range and sorted. */
#include "formats/usage_detail.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/money.h"
#include "engine/ordered.h"
#include "engine/u64map.h"
#include "formats/csv.h"
#include "formats/outfile.h"
#include "formats/zio.h"

/* Frames are written once and read rarely: zstd level 1. A frame holds the rows of one block
 * of RT_DETAIL_FRAME_ACCOUNTS consecutive account rows (the lines of their invoices) within a
 * partition, and at most about a megabyte of text, so that one line of a large invoice can be
 * read without the rest. A frame per account was mostly a couple of kilobytes, where zstd
 * spends as much on starting a frame as on its text. Where a frame ends depends on the rows
 * alone: never on how the partitions were cut into units (see write_partitions). */
#define DETAIL_LEVEL 1
/* With a hash table of 2^11 entries instead of level 1's 2^14 (2^13 under 256 KiB; zstd
 * 1.5.4's ZSTD_getCParams): on a frame's rows, where an invoice line's rows repeat their
 * first and last columns, it is both faster and smaller (500 MB of the 10M run's detail in
 * 1 MB blocks: 705 -> 909 MB/s, ratio 7.62 -> 8.05; 2^10 compresses more but its speed levels
 * off; the run's other files lose ratio with a smaller table and keep the level's). */
#define DETAIL_HASH_LOG 11
/* Scratch frames only live until the end of the run: zstd's fastest levels roughly halve the
 * scratch I/O for a fraction of level 1's time. */
#define SPILL_LEVEL (-5)
#define FRAME_TEXT_BYTES ((size_t)1 << 20)
#define UNMAPPED_RANK UINT32_C(0x80000000)
#define NO_INVOICE UINT32_MAX

static const char detail_header[] =
    "invoice_number,line,account_id,plan_id,charge_id,event_id,start_time,called_number,"
    "quantity,billable_quantity,unit,amount,currency,late,source_file,source_line\n";
static const char index_header[] = "invoice_number,line,account_id,plan_id,charge_id,events,"
                                   "amount,currency,offset,bytes,frames,skip\n";

/* ---- spilled records ----
 * A scratch record is this fixed head (native byte order: the file never leaves the run)
 * followed by the event id and the called number. */
typedef struct rec_head {
    uint32_t account, charge;
    uint32_t zone, rate_group; /* of the event's first part: the invoice line that counts it */
    uint64_t ordinal;
    int64_t start_s, quantity_base, billable_base, amount_nanos;
    uint64_t line;
    uint32_t product, file_index, flags;
    uint16_t id_len, called_len;
} rec_head;
_Static_assert(sizeof(rec_head) == 80, "rec_head has no padding");

typedef struct spill_slot {
    rt_buf text[RT_DETAIL_PARTITIONS_MAX];
    rt_buf frames[RT_DETAIL_PARTITIONS_MAX];
    uint64_t records[RT_DETAIL_PARTITIONS_MAX];
    uint64_t bytes[RT_DETAIL_PARTITIONS_MAX];
    ZSTD_CCtx *cctx;
} spill_slot;


/* A record to sort: its key (account, then invoice line rank), its input order, where it is. */
typedef struct sort_ent {
    uint64_t key;
    uint64_t ordinal;
    size_t off;
} sort_ent;

/* One invoice line's (or unbilled charge's) group as written: the frames its rows are in
 * (numbered from the emitter's reset) and the text before its first row in the first one. */
typedef struct group_out {
    uint64_t key;
    rec_head head; /* the group's first record: account and charge */
    const rt_currency *currency;
    uint64_t first_frame, last_frame, skip, events;
    int64_t amount_nanos;
} group_out;

/* What turns one unit's sorted records into frames: one per thread. Frames go to `mem` and
 * are appended to the file, in unit order, when the unit is done. */
typedef struct emitter {
    const struct rt_usage_detail *d;
    ZSTD_CCtx *cctx;
    rt_buf text, frame, mem, records, prefix, unit_cell;
    uint64_t written; /* bytes of frames emitted since the emitter was reset */
    rt_buf frame_ends; /* of uint64_t: where each of those frames ends */
    group_out *groups;
    size_t group_count, group_capacity;
    /* A pass's sort keys and the radix sort's other half, kept from pass to pass (no fresh
     * pages). */
    struct sort_ent *ents, *ents_tmp;
    size_t ents_cap;
    bool open;
    uint32_t unit_product;
    rt_status status;
    rt_error err;
} emitter;

struct rt_usage_detail {
    char *dir;
    size_t budget;
    unsigned nslots, threads;
    spill_slot *slots;
    /* Partitions (rt_usage_detail_plan): part_of[block] for each block of accounts (see
     * account_block), ranges of whole blocks in order. */
    unsigned parts;
    uint16_t *part_of;
    int spill_fd[RT_DETAIL_PARTITIONS_MAX]; /* -1 when closed */
    bool spill_made[RT_DETAIL_PARTITIONS_MAX];
    /* Scratch files without a name (a distributed run's other processes): each is unlinked
     * as soon as it is made, kept open until the detail is written and read back through
     * /proc/self/fd, so that a process killed midway leaves nothing behind. */
    bool unnamed;
    uint64_t spill_records[RT_DETAIL_PARTITIONS_MAX];
    uint64_t spill_bytes[RT_DETAIL_PARTITIONS_MAX];
    /* finishing */
    const rt_run_result *res;
    ZSTD_CCtx *cctx;
    rt_zwriter *out;
    rt_outfile index;
    bool index_open;
    uint64_t out_bytes, out_rows;
    uint32_t *invoice_of; /* per account row: its invoice in the run's set, or NO_INVOICE */
    rt_buf *input_cells; /* the CSV cell of each input's path */
    size_t input_cell_count;
    emitter *em;
};

static void spill_path(const rt_usage_detail *d, unsigned p, char *buf, size_t n)
{
    if (d->unnamed)
        snprintf(buf, n, "/proc/self/fd/%d", d->spill_fd[p]); /* a description of its own */
    else
        snprintf(buf, n, "%s/.detail-%03u.spill", d->dir, p);
}

/* Remove partition p's scratch file (a named one: an unnamed one goes with its descriptor). */
static int spill_remove(const rt_usage_detail *d, unsigned p)
{
    if (d->unnamed) return 0;
    char path[PATH_MAX];
    spill_path(d, p, path, sizeof path);
    return unlink(path);
}

/* The block of consecutive account rows that frames hold. */
static uint32_t account_block(uint32_t account)
{
    return account / RT_DETAIL_FRAME_ACCOUNTS;
}

static size_t block_count(const rt_catalog *cat)
{
    return (cat->account_count + RT_DETAIL_FRAME_ACCOUNTS - 1) / RT_DETAIL_FRAME_ACCOUNTS;
}

/* Contiguous ranges of whole blocks, so that partitions in order are accounts in order and no
 * block (so no frame) spans two of them: where partitions end never changes the bytes. An
 * event's account is a row of the catalog, so its block has an entry. */
static unsigned partition_of(const rt_usage_detail *d, uint32_t account)
{
    return d->part_of[account_block(account)];
}

static void emitter_free(emitter *e)
{
    ZSTD_freeCCtx(e->cctx);
    rt_buf_free(&e->text);
    rt_buf_free(&e->frame);
    rt_buf_free(&e->frame_ends);
    rt_buf_free(&e->mem);
    rt_buf_free(&e->records);
    free(e->ents);
    free(e->ents_tmp);
    rt_buf_free(&e->prefix);
    rt_buf_free(&e->unit_cell);
    free(e->groups);
}

/* The encoders' buffers and contexts: done with once every chunk is encoded and written. */
static void free_encoders(rt_usage_detail *d)
{
    for (unsigned i = 0; d->slots && i < d->nslots; i++) {
        for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX; p++) {
            rt_buf_free(&d->slots[i].text[p]);
            rt_buf_free(&d->slots[i].frames[p]);
        }
        ZSTD_freeCCtx(d->slots[i].cctx);
    }
    free(d->slots);
    d->slots = NULL;
}

/* What the finish works with (the accounts' invoices, the emitters, the input cells): freed
 * as soon as the detail is written, since the run's other outputs are written after it. */
static void free_finish(rt_usage_detail *d)
{
    for (unsigned t = 0; d->em && t < d->threads; t++)
        emitter_free(&d->em[t]);
    free(d->em);
    d->em = NULL;
    for (size_t i = 0; i < d->input_cell_count; i++)
        rt_buf_free(&d->input_cells[i]);
    free(d->input_cells);
    d->input_cells = NULL;
    d->input_cell_count = 0;
    free(d->invoice_of);
    d->invoice_of = NULL;
}

void rt_usage_detail_destroy(rt_usage_detail *d)
{
    if (!d) return;
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX; p++) {
        if (d->spill_made[p]) spill_remove(d, p);
        if (d->spill_fd[p] >= 0) close(d->spill_fd[p]);
    }
    free_encoders(d);
    free_finish(d);
    rt_zwriter_abort(d->out);
    if (d->index_open) rt_outfile_abort(&d->index);
    ZSTD_freeCCtx(d->cctx);
    free(d->part_of);
    free(d->dir);
    free(d);
}

rt_status rt_usage_detail_open(const char *dir, unsigned slots, unsigned threads,
                               size_t memory_bytes, rt_usage_detail **out, rt_error *err)
{
    rt_usage_detail *d = calloc(1, sizeof *d);
    if (!d) goto fail;
    d->dir = strdup(dir);
    d->budget = memory_bytes ? memory_bytes : RT_DETAIL_MEMORY_DEFAULT;
    d->nslots = slots;
    /* A run in one process gives two slots per thread (a distributed one more: its waves
     * hold every process's chunks); the end of the run sorts with the run's threads. */
    d->threads = threads ? threads : slots >= 2 ? slots / 2 : 1;
    d->slots = calloc(slots ? slots : 1, sizeof *d->slots);
    d->em = calloc(d->threads, sizeof *d->em);
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX; p++)
        d->spill_fd[p] = -1;
    if (!d->dir || !d->slots || !d->em) goto fail;
    for (unsigned i = 0; i < slots; i++)
        if (!(d->slots[i].cctx = ZSTD_createCCtx())) goto fail;
    *out = d;
    return RT_OK;
fail:
    rt_usage_detail_destroy(d);
    return rt_error_set(err, RT_ENOMEM, dir, 0, 0, NULL, "out of memory");
}

/* ---- planning the partitions ---- */

/* Cut the blocks into `parts` ranges of about equal weight (weight[b] for block b), each at
 * least one block. A block heavier than a range's share is a range of its own. */
static void cut_ranges(const uint64_t *weight, size_t blocks, unsigned parts, uint16_t *part_of)
{
    unsigned __int128 total = 0, cum = 0;
    for (size_t b = 0; b < blocks; b++) total += weight[b];
    unsigned part = 0;
    for (size_t b = 0; b < blocks; b++) {
        part_of[b] = (uint16_t)part;
        cum += weight[b];
        if (part + 1 < parts &&
            (cum * parts >= total * (part + 1) || blocks - b - 1 <= parts - part - 1))
            part++;
    }
}

rt_status rt_usage_detail_plan(rt_usage_detail *d, const rt_chunk_view *views, size_t n,
                               uint64_t records, rt_error *err)
{
    RT_ASSERT(n >= 1 && !d->part_of); /* once, before the first chunk is encoded */
    const rt_catalog *cat = views[0].cat;
    size_t blocks = block_count(cat);
    if (blocks == 0) blocks = 1; /* no account, so no event: one empty partition */
    uint64_t *weight = calloc(blocks, sizeof *weight);
    uint16_t *part_of = malloc(blocks * sizeof *part_of);
    if (!weight || !part_of) {
        free(weight);
        free(part_of);
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    }
    /* The sample: where the wave's billed events fall, and what they take to sort (none
     * without an estimate of the run: even ranges). */
    uint64_t sample = 0, bytes = 0;
    for (size_t i = 0; i < n && records; i++) {
        const rt_chunk_view *v = &views[i];
        for (size_t k = 0; k < v->rated_count; k++) {
            const rt_rated *r = &v->rated[k];
            if (r->flags & RT_RATED_DUPLICATE) continue;
            const rt_event *ev = &v->batch->events[r->event];
            uint32_t b = account_block(r->account);
            if (b < blocks) weight[b]++;
            sample++;
            bytes += sizeof(rec_head) + ev->event_id_len + ev->called_len + 2 * sizeof(sort_ent);
        }
    }
    /* Enough partitions for each to take half a thread's share of the budget (room for a
     * sample that misjudges them), within the blocks there are and the files allowed. */
    size_t most = blocks < RT_DETAIL_PARTITIONS_MAX ? blocks : RT_DETAIL_PARTITIONS_MAX;
    size_t parts = blocks < RT_DETAIL_PARTITIONS_MIN ? blocks : RT_DETAIL_PARTITIONS_MIN;
    uint64_t target = d->budget / d->threads / 2;
    if (sample && target) {
        unsigned __int128 need = (unsigned __int128)records * bytes / sample;
        unsigned __int128 want = (need + target - 1) / target;
        if (want > parts) parts = want < most ? (size_t)want : most;
    }
    /* Weights: the sample's events per block, plus an eighth of them spread evenly, so that a
     * sample from a few accounts (an input sorted by account) still cuts every range. */
    for (size_t b = 0; b < blocks; b++) weight[b] = sample ? weight[b] * blocks * 7 + sample : 1;
    cut_ranges(weight, blocks, (unsigned)parts, part_of);
    free(weight);
    d->part_of = part_of;
    d->parts = (unsigned)parts;
    return RT_OK;
}

void rt_usage_detail_plan_pack(const rt_usage_detail *d, const rt_catalog *cat, rt_buf *out)
{
    RT_ASSERT(d->part_of);
    uint64_t head[2] = {d->parts, block_count(cat)};
    if (head[1] == 0) head[1] = 1; /* as rt_usage_detail_plan counts them */
    rt_buf_append(out, head, sizeof head);
    rt_buf_append(out, d->part_of, (size_t)head[1] * sizeof *d->part_of);
}

rt_status rt_usage_detail_plan_unpack(rt_usage_detail *d, const rt_catalog *cat,
                                      const char *data, size_t len, rt_error *err)
{
    RT_ASSERT(!d->part_of);
    uint64_t head[2];
    size_t blocks = block_count(cat);
    if (blocks == 0) blocks = 1;
    if (len < sizeof head) goto bad;
    memcpy(head, data, sizeof head);
    if (head[0] == 0 || head[0] > RT_DETAIL_PARTITIONS_MAX || head[1] != blocks ||
        len != sizeof head + blocks * sizeof *d->part_of)
        goto bad;
    uint16_t *part_of = malloc(blocks * sizeof *part_of);
    if (!part_of) return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    memcpy(part_of, data + sizeof head, blocks * sizeof *part_of);
    for (size_t b = 0; b < blocks; b++) {
        if (part_of[b] >= head[0] || (b && part_of[b] < part_of[b - 1])) {
            free(part_of);
            goto bad;
        }
    }
    d->part_of = part_of;
    d->parts = (unsigned)head[0];
    return RT_OK;
bad:
    return rt_error_set(err, RT_ECORRUPT, RT_DETAIL_NAME, 0, 0, NULL,
                        "rank 0's plan of the usage detail is damaged");
}

/* ---- spilling (parallel encode, ordered write) ---- */

static void put_record(rt_buf *b, const rt_chunk_view *v, const rt_rated *r)
{
    const rt_event *ev = &v->batch->events[r->event];
    rec_head h = {
        .account = r->account,
        .charge = r->charge,
        .zone = r->zone,
        .rate_group = r->parts[0].rate_group,
        .ordinal = r->ordinal,
        .start_s = r->start_s,
        .quantity_base = r->quantity_base,
        .billable_base = r->billable_base,
        .amount_nanos = r->amount_nanos,
        .line = v->chunk->first_line + ev->line_rel,
        .product = r->product,
        .file_index = v->chunk->file_index,
        .flags = r->flags,
        .id_len = ev->event_id_len,
        .called_len = ev->called_len,
    };
    rt_buf_append(b, &h, sizeof h);
    rt_buf_append(b, ev->event_id, ev->event_id_len);
    rt_buf_append(b, ev->called, ev->called_len);
}

rt_status rt_usage_detail_encode(rt_usage_detail *d, unsigned slot, const rt_chunk_view *v,
                                 rt_error *err)
{
    spill_slot *s = &d->slots[slot];
    RT_ASSERT(d->part_of); /* rt_usage_detail_plan first */
    for (unsigned p = 0; p < d->parts; p++) {
        rt_buf_reset(&s->text[p]);
        rt_buf_reset(&s->frames[p]);
        s->records[p] = 0;
    }
    for (size_t k = 0; k < v->rated_count; k++) {
        const rt_rated *r = &v->rated[k];
        if (r->flags & RT_RATED_DUPLICATE) continue;
        unsigned p = partition_of(d, r->account);
        put_record(&s->text[p], v, r);
        s->records[p]++;
    }
    for (unsigned p = 0; p < d->parts; p++) {
        s->bytes[p] = s->text[p].len;
        if (s->text[p].failed)
            return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
        if (s->text[p].len == 0) continue;
        rt_status st = rt_zframe_compress(s->cctx, SPILL_LEVEL, s->text[p].data, s->text[p].len,
                                          &s->frames[p]);
        if (st != RT_OK)
            return rt_error_set(err, st, RT_DETAIL_NAME, 0, 0, NULL, "cannot compress a frame");
    }
    return RT_OK;
}

void rt_usage_detail_pack(const rt_usage_detail *d, unsigned slot, rt_buf *out)
{
    const spill_slot *s = &d->slots[slot];
    uint64_t parts = d->parts;
    rt_buf_append(out, &parts, sizeof parts);
    for (unsigned p = 0; p < d->parts; p++) {
        uint64_t head[3] = {s->records[p], s->bytes[p], s->frames[p].len};
        rt_buf_put_framed(out, head, 3, s->frames[p].data);
    }
}

rt_status rt_usage_detail_unpack(rt_usage_detail *d, unsigned slot, const char *data,
                                 size_t len, size_t *used, rt_error *err)
{
    spill_slot *s = &d->slots[slot];
    size_t at = 0;
    uint64_t parts;
    if (len < sizeof parts) goto bad;
    memcpy(&parts, data, sizeof parts);
    at += sizeof parts;
    if (parts != d->parts) goto bad;
    for (unsigned p = 0; p < d->parts; p++) {
        uint64_t head[3];
        if (!rt_buf_take_framed(data, len, &at, head, 3, &s->frames[p])) {
            if (s->frames[p].failed)
                return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
            goto bad;
        }
        s->records[p] = head[0];
        s->bytes[p] = head[1];
    }
    *used = at;
    return RT_OK;
bad:
    return rt_error_set(err, RT_ECORRUPT, RT_DETAIL_NAME, 0, 0, NULL,
                        "a peer's encoded chunk is damaged");
}

/* Scratch files are appended to and read back by this run only: no buffering beyond whole
 * frames and no fsync (a crash removes the staging directory with them). */
static rt_status spill_create(rt_usage_detail *d, unsigned p, rt_error *err)
{
    char path[PATH_MAX];
    int fd;
    if (d->unnamed) { /* unlinked as soon as made (see rt_usage_detail) */
        snprintf(path, sizeof path, "%s/ratel-detail-XXXXXX", d->dir);
        fd = mkstemp(path);
        if (fd >= 0 && (unlink(path) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
            int e = errno;
            close(fd);
            fd = -1;
            errno = e;
        }
    } else {
        spill_path(d, p, path, sizeof path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    }
    if (fd < 0)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    d->spill_fd[p] = fd;
    d->spill_made[p] = true;
    return RT_OK;
}

static rt_status spill_append(rt_usage_detail *d, unsigned p, const char *data, size_t len,
                              rt_error *err)
{
    if (d->spill_fd[p] < 0) {
        rt_status st = spill_create(d, p, err);
        if (st != RT_OK) return st;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(d->spill_fd[p], data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            char path[PATH_MAX]; /* named only for the message */
            spill_path(d, p, path, sizeof path);
            return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "write: %s", strerror(e));
        }
        done += (size_t)n;
    }
    return RT_OK;
}

rt_status rt_usage_detail_write(rt_usage_detail *d, unsigned slot, rt_error *err)
{
    spill_slot *s = &d->slots[slot];
    for (unsigned p = 0; p < d->parts; p++) {
        if (s->frames[p].len == 0) continue;
        rt_status st = spill_append(d, p, s->frames[p].data, s->frames[p].len, err);
        if (st != RT_OK) return st;
        d->spill_records[p] += s->records[p];
        d->spill_bytes[p] += s->bytes[p];
    }
    return RT_OK;
}

/* ---- reading a partition back ---- */

typedef struct spill_reader {
    rt_zreader *r;
    char *buf;
    size_t len, pos, cap;
    bool eof;
} spill_reader;

static void reader_close(spill_reader *sr)
{
    rt_zreader_close(sr->r);
    free(sr->buf);
    memset(sr, 0, sizeof *sr);
}

static rt_status reader_open(const rt_usage_detail *d, unsigned p, spill_reader *sr, rt_error *err)
{
    char path[PATH_MAX];
    memset(sr, 0, sizeof *sr);
    spill_path(d, p, path, sizeof path);
    sr->cap = (size_t)1 << 20;
    sr->buf = malloc(sr->cap);
    if (!sr->buf) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    return rt_zreader_open(path, &sr->r, err);
}

/* Make at least `need` unread bytes available; false at the end of the file. */
static rt_status reader_fill(spill_reader *sr, size_t need, bool *ok, rt_error *err)
{
    while (sr->len - sr->pos < need && !sr->eof) {
        memmove(sr->buf, sr->buf + sr->pos, sr->len - sr->pos);
        sr->len -= sr->pos;
        sr->pos = 0;
        size_t got;
        rt_status st = rt_zreader_read(sr->r, sr->buf + sr->len, sr->cap - sr->len, &got, err);
        if (st != RT_OK) return st;
        sr->len += got;
        sr->eof = got == 0;
    }
    *ok = sr->len - sr->pos >= need;
    return RT_OK;
}

/* The next record, or *rec = NULL at the end. RT_ECORRUPT for a truncated record. */
static rt_status reader_next(spill_reader *sr, const char **rec, size_t *rec_len, rt_error *err)
{
    bool ok;
    rec_head h;
    *rec = NULL;
    rt_status st = reader_fill(sr, sizeof h, &ok, err);
    if (st != RT_OK || !ok) {
        if (st == RT_OK && sr->len != sr->pos)
            st = rt_error_set(err, RT_ECORRUPT, RT_DETAIL_NAME, 0, 0, NULL, "truncated scratch");
        return st;
    }
    memcpy(&h, sr->buf + sr->pos, sizeof h);
    size_t n = sizeof h + h.id_len + h.called_len;
    if ((st = reader_fill(sr, n, &ok, err)) != RT_OK) return st;
    if (!ok) return rt_error_set(err, RT_ECORRUPT, RT_DETAIL_NAME, 0, 0, NULL, "truncated scratch");
    *rec = sr->buf + sr->pos;
    *rec_len = n;
    sr->pos += n;
    return RT_OK;
}

/* ---- writing groups ---- */

/* A record's group: its account and the rank of its invoice line among the account's (the
 * line's index in the invoice), or, for usage no invoice of this run bills (as in an
 * accrual-only run), UNMAPPED_RANK and its charge. A usage line aggregates one (account,
 * charge version, zone, rate group), or for a tiered, volume or package charge every version
 * of it (one line, priced on the total); they come first in an invoice, so the search is
 * short. */
static uint64_t record_key(const rt_usage_detail *d, const rec_head *h)
{
    const rt_catalog *cat = d->res->cat;
    uint32_t rank = UNMAPPED_RANK | h->charge;
    uint32_t i = h->account < cat->account_count ? d->invoice_of[h->account] : NO_INVOICE;
    if (i != NO_INVOICE) {
        const rt_invoice *inv = &d->res->invoices->items[i];
        bool any_version = rt_charge_model_is_period((rt_charge_model)cat->charges[h->charge].model);
        for (size_t k = 0; k < inv->line_count; k++) {
            const rt_invoice_line *l = &inv->lines[k];
            if (l->kind == RT_LINE_USAGE && l->zone == h->zone && l->rate_group == h->rate_group &&
                (l->charge == h->charge ||
                 (any_version && cat->charge_key[l->charge] == cat->charge_key[h->charge]))) {
                rank = (uint32_t)k;
                break;
            }
        }
    }
    return (uint64_t)h->account << 32 | rank;
}

/* The invoice billing a group key, its line's number in *line (1-based), or NULL when no
 * invoice of this run bills the usage. */
static const rt_invoice *key_invoice(const rt_usage_detail *d, uint64_t key, uint32_t *line)
{
    uint32_t rank = (uint32_t)key;
    if (rank & UNMAPPED_RANK) return NULL;
    *line = rank + 1;
    return &d->res->invoices->items[d->invoice_of[key >> 32]];
}

static rt_status emitter_fail(emitter *e, rt_status st, const char *what)
{
    if (e->status == RT_OK) {
        e->status = st;
        rt_error_set(&e->err, st, RT_DETAIL_NAME, 0, 0, NULL, "%s", what);
    }
    return e->status;
}

/* Frames flushed since the emitter's reset: the number of the frame being filled. */
static uint64_t frames_done(const emitter *e)
{
    return e->frame_ends.len / sizeof(uint64_t);
}

static rt_status flush_frame(emitter *e)
{
    if (e->text.failed) return emitter_fail(e, RT_ENOMEM, "out of memory");
    if (e->text.len == 0) return RT_OK;
    rt_buf_reset(&e->frame);
    rt_status st = rt_zframe_compress_hashed(e->cctx, DETAIL_LEVEL, DETAIL_HASH_LOG, e->text.data,
                                             e->text.len, &e->frame);
    if (st != RT_OK) return emitter_fail(e, st, "cannot compress a frame");
    rt_buf_reset(&e->text);
    rt_buf_append(&e->mem, e->frame.data, e->frame.len);
    if (e->mem.failed) return emitter_fail(e, RT_ENOMEM, "out of memory");
    e->written += e->frame.len;
    rt_buf_append(&e->frame_ends, &e->written, sizeof e->written);
    if (e->frame_ends.failed) return emitter_fail(e, RT_ENOMEM, "out of memory");
    return RT_OK;
}

static void put_text(rt_buf *b, const char *s)
{
    rt_csv_put_text(b, s, strlen(s));
}

static void put_u64(rt_buf *b, uint64_t v) { rt_csv_put_u64(b, v); }
static void put_time(rt_buf *b, rt_time_s t) { rt_csv_put_time(b, t); }
static void put_decimal(rt_buf *b, int64_t v, unsigned scale, int decimals, unsigned min)
{
    rt_csv_put_decimal(b, v, scale, decimals, min);
}

/* Start a group: its index entry and the cells every row of it begins with. */
static rt_status open_group(emitter *e, uint64_t key, const rec_head *h)
{
    const rt_usage_detail *d = e->d;
    const rt_catalog *cat = d->res->cat;
    if (e->group_count == e->group_capacity) {
        size_t cap = e->group_capacity ? e->group_capacity * 2 : 64;
        group_out *g = realloc(e->groups, cap * sizeof *g);
        if (!g) return emitter_fail(e, RT_ENOMEM, "out of memory");
        e->groups = g;
        e->group_capacity = cap;
    }
    group_out *g = &e->groups[e->group_count++];
    memset(g, 0, sizeof *g);
    g->key = key;
    g->head = *h;
    g->first_frame = g->last_frame = frames_done(e);
    g->skip = e->text.len;
    g->currency = rt_currency_find(cat->plans[cat->charge_plan[h->charge]].currency);
    RT_ASSERT(g->currency); /* plan currencies are validated ISO 4217 codes */
    uint32_t line = 0;
    const rt_invoice *inv = key_invoice(d, key, &line);
    const rt_charge *ch = &cat->charges[h->charge];
    rt_buf *b = &e->prefix;
    rt_buf_reset(b);
    put_text(b, inv ? inv->number : "");
    rt_csv_sep(b);
    if (inv) put_u64(b, line);
    rt_csv_sep(b);
    put_text(b, cat->accounts[h->account].account_id);
    rt_csv_sep(b);
    put_text(b, ch->plan_id);
    rt_csv_sep(b);
    put_text(b, ch->charge_id);
    rt_csv_sep(b);
    e->open = true;
    return b->failed ? emitter_fail(e, RT_ENOMEM, "out of memory") : RT_OK;
}

static void detail_row(emitter *e, const group_out *g, const rec_head *h, const char *id,
                       const char *called)
{
    const rt_usage_detail *d = e->d;
    const rt_catalog *cat = d->res->cat;
    const rt_product *p = &cat->products[h->product];
    unsigned qd = (unsigned)p->quantity_decimals;
    rt_buf *b = &e->text;
    if (h->product != e->unit_product) {
        rt_buf_reset(&e->unit_cell);
        put_text(&e->unit_cell, p->unit);
        e->unit_product = h->product;
    }
    rt_buf_append(b, e->prefix.data, e->prefix.len);
    rt_csv_put_text(b, id, h->id_len);
    rt_csv_sep(b);
    put_time(b, h->start_s);
    rt_csv_sep(b);
    rt_csv_put_text(b, called, h->called_len);
    rt_csv_sep(b);
    put_decimal(b, h->quantity_base, qd, (int)qd, 0);
    rt_csv_sep(b);
    put_decimal(b, h->billable_base, qd, (int)qd, 0);
    rt_csv_sep(b);
    rt_buf_append(b, e->unit_cell.data, e->unit_cell.len);
    rt_csv_sep(b);
    put_decimal(b, h->amount_nanos, RT_NANOS_SCALE, -1, g->currency->minor_units);
    rt_csv_sep(b);
    rt_buf_puts(b, g->currency->code);
    rt_buf_puts(b, (h->flags & RT_RATED_LATE) ? ",1," : ",0,");
    if (h->file_index < d->input_cell_count)
        rt_buf_append(b, d->input_cells[h->file_index].data, d->input_cells[h->file_index].len);
    rt_csv_sep(b);
    put_u64(b, h->line);
    rt_csv_end(b);
}

static rt_status emit(emitter *e, const char *rec, uint64_t key)
{
    rec_head h;
    memcpy(&h, rec, sizeof h);
    if (!e->open || key != e->groups[e->group_count - 1].key) {
        /* A block's rows end its frame: the next block starts a frame of its own. */
        if (e->open &&
            account_block(e->groups[e->group_count - 1].head.account) != account_block(h.account) &&
            flush_frame(e) != RT_OK)
            return e->status;
        if (open_group(e, key, &h) != RT_OK) return e->status;
    }
    group_out *g = &e->groups[e->group_count - 1];
    detail_row(e, g, &h, rec + sizeof h, rec + sizeof h + h.id_len);
    g->last_frame = frames_done(e);
    g->events++;
    if (rt_add_i64(g->amount_nanos, h.amount_nanos, &g->amount_nanos) != RT_OK)
        return emitter_fail(e, RT_EOVERFLOW, "line amount overflow");
    return e->text.len >= FRAME_TEXT_BYTES ? flush_frame(e) : RT_OK;
}

/* ---- sorting a partition ---- */

static int sort_cmp(const void *x, const void *y)
{
    const sort_ent *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

/* Sort a[0..n) by (key, ordinal) into a or tmp, and return which. A partition's records are
 * spilled in input order, so their ordinals normally come ascending: then a stable sort on the
 * key alone gives that order, and a least-significant-digit radix sort does it in a few passes
 * over the bytes of the key that differ (about a third of qsort's time). Otherwise, qsort. */
static sort_ent *sort_ents(sort_ent *a, sort_ent *tmp, size_t n, bool ordinals_ascending)
{
    if (!ordinals_ascending) {
        qsort(a, n, sizeof *a, sort_cmp);
        return a;
    }
    uint64_t diff = 0;
    for (size_t i = 1; i < n; i++) diff |= a[i].key ^ a[0].key;
    for (unsigned shift = 0; shift < 64 && diff >> shift; shift += 8) {
        if ((diff >> shift & 0xff) == 0) continue;
        size_t at[256] = {0};
        for (size_t i = 0; i < n; i++) at[a[i].key >> shift & 0xff]++;
        size_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t c = at[d];
            at[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[at[a[i].key >> shift & 0xff]++] = a[i];
        sort_ent *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Collect the records of partition p whose key is in [lo, hi], sort and emit them. */
static rt_status sort_pass(emitter *e, unsigned p, uint64_t lo, uint64_t hi)
{
    spill_reader sr;
    sort_ent *ents = e->ents;
    size_t n = 0, cap = e->ents_cap;
    bool ascending = true;
    rt_buf *mem = &e->records;
    rt_buf_reset(mem);
    rt_status st = reader_open(e->d, p, &sr, &e->err);
    while (st == RT_OK) {
        const char *rec;
        size_t len;
        if ((st = reader_next(&sr, &rec, &len, &e->err)) != RT_OK || !rec) break;
        rec_head h;
        memcpy(&h, rec, sizeof h);
        uint64_t key = record_key(e->d, &h);
        if (key < lo || key > hi) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            sort_ent *x = realloc(ents, cap * sizeof *x);
            if (x) e->ents = ents = x;
            sort_ent *y = x ? realloc(e->ents_tmp, cap * sizeof *y) : NULL;
            if (!y) {
                st = emitter_fail(e, RT_ENOMEM, "out of memory");
                break;
            }
            e->ents_tmp = y;
            e->ents_cap = cap;
        }
        if (n && h.ordinal < ents[n - 1].ordinal) ascending = false;
        ents[n++] = (sort_ent){key, h.ordinal, mem->len};
        rt_buf_append(mem, rec, len);
    }
    reader_close(&sr);
    if (st == RT_OK && mem->failed) st = emitter_fail(e, RT_ENOMEM, "out of memory");
    if (st == RT_OK) ents = sort_ents(ents, e->ents_tmp, n, ascending);
    for (size_t i = 0; i < n && st == RT_OK; i++)
        st = emit(e, mem->data + ents[i].off, ents[i].key);
    if (st != RT_OK && e->status == RT_OK) e->status = st;
    return st;
}

/* One invoice line larger than the budget: its records are already in input order in the
 * partition file, so they stream through. */
static rt_status stream_key(emitter *e, unsigned p, uint64_t key)
{
    spill_reader sr;
    rt_status st = reader_open(e->d, p, &sr, &e->err);
    while (st == RT_OK) {
        const char *rec;
        size_t len;
        if ((st = reader_next(&sr, &rec, &len, &e->err)) != RT_OK || !rec) break;
        rec_head h;
        memcpy(&h, rec, sizeof h);
        if (record_key(e->d, &h) == key) st = emit(e, rec, key);
    }
    reader_close(&sr);
    if (st != RT_OK && e->status == RT_OK) e->status = st;
    return st;
}

typedef struct key_bytes {
    uint64_t key;
    uint64_t bytes;
} key_bytes;

static int key_bytes_cmp(const void *x, const void *y)
{
    const key_bytes *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* Bytes of memory each key's records take in a partition (one pass). */
static rt_status count_keys(emitter *e, unsigned p, key_bytes **out, size_t *nout)
{
    rt_u64map map;
    key_bytes *kb = NULL;
    size_t n = 0, cap = 0;
    spill_reader sr;
    if (rt_u64map_init(&map, 1024) != RT_OK) return emitter_fail(e, RT_ENOMEM, "out of memory");
    rt_status st = reader_open(e->d, p, &sr, &e->err);
    while (st == RT_OK) {
        const char *rec;
        size_t len;
        if ((st = reader_next(&sr, &rec, &len, &e->err)) != RT_OK || !rec) break;
        rec_head h;
        memcpy(&h, rec, sizeof h);
        uint64_t key = record_key(e->d, &h);
        uint32_t at;
        int inserted;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            key_bytes *k = realloc(kb, cap * sizeof *k);
            if (!k)
                st = RT_ENOMEM;
            else
                kb = k;
        }
        if (st == RT_OK)
            st = rt_u64map_upsert(&map, key | UINT64_C(1) << 63, (uint32_t)n, &at, &inserted);
        if (st != RT_OK) {
            st = emitter_fail(e, RT_ENOMEM, "out of memory");
            break;
        }
        if (inserted) kb[n++] = (key_bytes){key, 0};
        kb[at].bytes += len + 2 * sizeof(sort_ent); /* as partition_need counts */
    }
    reader_close(&sr);
    rt_u64map_free(&map);
    if (st != RT_OK) {
        free(kb);
        if (e->status == RT_OK) e->status = st;
        return st;
    }
    qsort(kb, n, sizeof *kb, key_bytes_cmp);
    *out = kb;
    *nout = n;
    return RT_OK;
}

/* Memory to sort a partition in one pass: its records, their sort entries, and as much again
 * for the entries' merge buffer (glibc's qsort is a merge sort). */
static uint64_t partition_need(const rt_usage_detail *d, unsigned p)
{
    return d->spill_bytes[p] + d->spill_records[p] * 2 * sizeof(sort_ent);
}

/* One pass of a unit over its partition's scratch file: the records whose keys are in
 * [lo, hi], sorted in memory, or (stream) one key larger than a thread's budget, streamed in
 * input order. */
typedef struct step {
    bool stream;
    uint64_t lo, hi;
} step;

/* A piece of work of the finish: whole blocks of accounts (see account_block) of partition p,
 * in one or more passes (steps[first] .. steps[first + count - 1]) that one emitter makes in
 * turn. Frames end at blocks' ends, so units (which depend on the budget and the thread
 * count) never change the bytes written. */
typedef struct unit {
    unsigned p;
    size_t first, count;
} unit;

/* Append a step to `steps`; a unit is the steps appended since `first` (an index). */
static void add_step(rt_buf *steps, bool stream, uint64_t lo, uint64_t hi)
{
    step x = {stream, lo, hi};
    rt_buf_append(steps, &x, sizeof x);
}

static rt_status add_unit(rt_buf *units, const rt_buf *steps, unsigned p, size_t first)
{
    unit u = {p, first, steps->len / sizeof(step) - first};
    rt_buf_append(units, &u, sizeof u);
    return units->failed || steps->failed ? RT_ENOMEM : RT_OK;
}

static uint32_t key_block(uint64_t key)
{
    return account_block((uint32_t)(key >> 32));
}

/* Cut partition p, larger than `share`, into units of whole blocks of accounts that fit (one
 * pass over its scratch file each), counting its keys with emitter e. A block larger than the
 * share is a unit of its own, in passes of whole keys that fit (a key larger than the share
 * is streamed). */
static rt_status plan_large(emitter *e, unsigned p, uint64_t share, rt_buf *units, rt_buf *steps)
{
    key_bytes *kb = NULL;
    size_t n = 0;
    rt_status st = count_keys(e, p, &kb, &n);
    for (size_t i = 0; i < n && st == RT_OK;) {
        /* The blocks from i on, whole, while they fit. */
        size_t j = i;
        uint64_t bytes = 0;
        while (j < n) {
            size_t k = j;
            uint64_t block = 0;
            while (k < n && key_block(kb[k].key) == key_block(kb[j].key)) block += kb[k++].bytes;
            if (j > i && bytes + block > share) break;
            bytes += block;
            j = k;
            if (bytes > share) break; /* one block alone is larger than the share */
        }
        size_t first = steps->len / sizeof(step);
        if (bytes <= share) {
            add_step(steps, false, kb[i].key, kb[j - 1].key);
        } else { /* one block: passes of whole keys that fit */
            for (size_t a = i; a < j;) {
                size_t b = a;
                uint64_t part = 0;
                while (b < j && (b == a || part + kb[b].bytes <= share)) part += kb[b++].bytes;
                add_step(steps, b == a + 1 && part > share, kb[a].key, kb[b - 1].key);
                a = b;
            }
        }
        if ((st = add_unit(units, steps, p, first)) != RT_OK)
            st = emitter_fail(e, st, "out of memory");
        i = j;
    }
    free(kb);
    return st;
}

/* Sort and emit one unit with e (reset first); its frames go to e->mem. */
static rt_status run_unit(emitter *e, const unit *u, const step *steps)
{
    e->written = 0;
    e->group_count = 0;
    e->open = false;
    e->unit_product = RT_NO_INDEX;
    rt_buf_reset(&e->mem);
    rt_buf_reset(&e->text);
    rt_buf_reset(&e->frame_ends);
    for (size_t k = 0; k < u->count && e->status == RT_OK; k++) {
        const step *x = &steps[u->first + k];
        if (x->stream)
            stream_key(e, u->p, x->lo);
        else
            sort_pass(e, u->p, x->lo, x->hi);
    }
    if (e->status == RT_OK && e->open) flush_frame(e);
    return e->status;
}

/* ---- finishing ---- */

/* Each account's invoice (one per account; credit notes bill no usage). */
static rt_status map_invoices(rt_usage_detail *d, rt_error *err)
{
    const rt_invoice_set *set = d->res->invoices;
    size_t accounts = d->res->cat->account_count;
    d->invoice_of = malloc((accounts ? accounts : 1) * sizeof *d->invoice_of);
    if (!d->invoice_of)
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    for (size_t a = 0; a < accounts; a++) d->invoice_of[a] = NO_INVOICE;
    RT_ASSERT(set->count < NO_INVOICE);
    for (size_t i = 0; i < set->count; i++) {
        const rt_invoice *inv = &set->items[i];
        if (inv->type != RT_INVOICE) continue;
        RT_ASSERT(d->invoice_of[inv->account] == NO_INVOICE && inv->line_count < UNMAPPED_RANK);
        d->invoice_of[inv->account] = (uint32_t)i;
    }
    return RT_OK;
}

/* The source_file cell of each input, made once. */
static rt_status input_cells(rt_usage_detail *d, rt_error *err)
{
    const rt_run_result *res = d->res;
    d->input_cells = calloc(res->input_count ? res->input_count : 1, sizeof *d->input_cells);
    if (!d->input_cells)
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    d->input_cell_count = res->input_count;
    for (size_t i = 0; i < res->input_count; i++) {
        put_text(&d->input_cells[i], res->inputs[i].path ? res->inputs[i].path : "");
        if (d->input_cells[i].failed)
            return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    }
    return RT_OK;
}

/* What sorting units needs, on every process that sorts: the encoders freed, the accounts'
 * invoices, the input cells, an emitter per thread. */
static rt_status begin_sorting(rt_usage_detail *d, const rt_run_result *res, rt_error *err)
{
    d->res = res;
    free_encoders(d);
    rt_status st = map_invoices(d, err);
    if (st == RT_OK) st = input_cells(d, err);
    for (unsigned t = 0; t < d->threads && st == RT_OK; t++) {
        d->em[t].d = d;
        if (!(d->em[t].cctx = ZSTD_createCCtx()))
            st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    }
    return st;
}

static rt_status open_outputs(rt_usage_detail *d, rt_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", d->dir, RT_DETAIL_NAME);
    d->cctx = ZSTD_createCCtx();
    if (!d->cctx) return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    /* Plain writer fed whole frames: the file is nothing but frames, so offsets are exact. */
    rt_status st = rt_zwriter_open(path, 0, &d->out, err);
    if (st != RT_OK) return st;
    rt_zwriter_defer_sync(d->out); /* the run syncs its outputs together */
    char index_name[RT_OUTPUT_NAME_MAX];
    int index_level = d->res->tables_zstd_level; /* the index is a table like the others */
    rt_outfile_name(RT_DETAIL_INDEX_NAME, index_level, index_name, sizeof index_name);
    if ((st = rt_outfile_open(&d->index, d->dir, index_name, index_level, err)) != RT_OK)
        return st;
    rt_outfile_defer_sync(&d->index);
    d->index_open = true;
    rt_buf_puts(&d->index.buf, index_header);
    rt_buf hdr;
    rt_buf_init(&hdr);
    st = rt_zframe_compress(d->cctx, DETAIL_LEVEL, detail_header, sizeof detail_header - 1, &hdr);
    if (st == RT_OK)
        st = rt_zwriter_write_raw(d->out, hdr.data, hdr.len, err);
    else
        rt_error_set(err, st, RT_DETAIL_NAME, 0, 0, NULL, "cannot compress the header");
    d->out_bytes = hdr.len;
    rt_buf_free(&hdr);
    return st;
}

/* Append what emitter e produced for one unit: its frames and one index row per group: where
 * the frame of its first row starts (in the file), the bytes up to the end of the frame of its
 * last row, how many frames that is, and the text before its first row in the first one. */
static rt_status commit_partition(rt_usage_detail *d, emitter *e, rt_error *err)
{
    uint64_t base = d->out_bytes;
    rt_status st = RT_OK;
    if (e->mem.len) st = rt_zwriter_write_raw(d->out, e->mem.data, e->mem.len, err);
    d->out_bytes += e->written;
    const rt_catalog *cat = d->res->cat;
    rt_buf *b = &d->index.buf;
    const uint64_t *ends = (const uint64_t *)(const void *)e->frame_ends.data;
    for (size_t i = 0; i < e->group_count && st == RT_OK; i++) {
        const group_out *g = &e->groups[i];
        RT_ASSERT(g->last_frame < frames_done(e) && g->first_frame <= g->last_frame);
        uint64_t start = g->first_frame ? ends[g->first_frame - 1] : 0;
        uint32_t line = 0;
        const rt_invoice *inv = key_invoice(d, g->key, &line);
        const rt_charge *ch = &cat->charges[g->head.charge];
        put_text(b, inv ? inv->number : "");
        rt_csv_sep(b);
        if (inv) put_u64(b, line);
        rt_csv_sep(b);
        put_text(b, cat->accounts[g->head.account].account_id);
        rt_csv_sep(b);
        put_text(b, ch->plan_id);
        rt_csv_sep(b);
        put_text(b, ch->charge_id);
        rt_csv_sep(b);
        put_u64(b, g->events);
        rt_csv_sep(b);
        put_decimal(b, g->amount_nanos, RT_NANOS_SCALE, -1, g->currency->minor_units);
        rt_csv_sep(b);
        put_text(b, g->currency->code);
        rt_csv_sep(b);
        put_u64(b, base + start);
        rt_csv_sep(b);
        put_u64(b, ends[g->last_frame] - start);
        rt_csv_sep(b);
        put_u64(b, g->last_frame - g->first_frame + 1);
        rt_csv_sep(b);
        put_u64(b, g->skip);
        rt_csv_end(b);
        d->out_rows += g->events;
        st = rt_outfile_row_done(&d->index, err);
    }
    return st;
}

typedef struct units_job {
    rt_usage_detail *d;
    const unit *units;
    const step *steps;
    /* A distributed run (a fed step of rt_spread_run): on rank 0, the emitter another
     * process's units are committed from and which partitions each process has been given
     * (sent[p * size + rank]); elsewhere, the units it was given, from unit first_k on, and
     * their steps. */
    emitter *commit_em;
    bool *sent;
    unsigned size;
    rt_buf taken_units, taken_steps;
    size_t first_k, next_k;
} units_job;

static const unit *job_unit(const units_job *j, size_t k, const step **steps)
{
    if (j->units) {
        *steps = j->steps;
        return &j->units[k];
    }
    *steps = (const step *)(const void *)j->taken_steps.data;
    return &((const unit *)(const void *)j->taken_units.data)[k - j->first_k];
}

static rt_status unit_work(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    const units_job *j = ctx;
    emitter *e = &j->d->em[slot];
    const step *steps;
    const unit *u = job_unit(j, k, &steps);
    rt_status st = run_unit(e, u, steps);
    return st == RT_OK ? RT_OK
                       : rt_error_set(err, st, RT_DETAIL_NAME, 0, 0, NULL, "%s", e->err.message);
}

static rt_status unit_commit(void *ctx, unsigned slot, size_t k, rt_error *err)
{
    (void)k;
    const units_job *j = ctx;
    return commit_partition(j->d, &j->d->em[slot], err);
}

/* ---- a distributed run: units sorted by every process (engine/spread) ----
 * Rank 0 gives each unit another process sorts: the unit, its steps and, the first time that
 * process sorts a unit of its partition, the partition's scratch file, which it keeps as an
 * unnamed scratch file of its own (spill_create). What a unit made (its frames, their ends
 * and its groups) goes back to rank 0, which commits it as its own. */

static rt_status damaged_unit(rt_error *err)
{
    return rt_error_set(err, RT_ECORRUPT, RT_DETAIL_NAME, 0, 0, NULL,
                        "a unit of the usage detail from another process is damaged");
}

static rt_status read_file(const char *path, rt_buf *out, rt_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot open scratch");
    rt_status st = RT_OK;
    for (;;) {
        if (!rt_buf_reserve(out, (size_t)1 << 20)) {
            st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
            break;
        }
        ssize_t got = read(fd, out->data + out->len, out->cap - out->len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot read scratch");
        if (got <= 0) break;
        out->len += (size_t)got;
    }
    close(fd);
    return st;
}

static rt_status unit_give(void *ctx, size_t k, unsigned rank, rt_buf *out, rt_error *err)
{
    units_job *j = ctx;
    const unit *u = &j->units[k];
    uint64_t head[2] = {u->p, u->count};
    rt_buf_append(out, head, sizeof head);
    for (size_t i = 0; i < u->count; i++) {
        const step *x = &j->steps[u->first + i];
        uint64_t sv[3] = {x->stream, x->lo, x->hi};
        rt_buf_append(out, sv, sizeof sv);
    }
    /* The file, once per process: whether it follows, its XXH3 (it crosses the network, and
     * its records index the catalog), its length. */
    bool *sent = &j->sent[(size_t)u->p * j->size + rank];
    uint64_t file[3] = {!*sent, 0, 0};
    size_t at = out->len;
    rt_buf_append(out, file, sizeof file);
    if (*sent || out->failed) return RT_OK;
    char path[PATH_MAX];
    spill_path(j->d, u->p, path, sizeof path);
    rt_status st = read_file(path, out, err);
    if (st != RT_OK) return st;
    file[2] = out->len - at - sizeof file;
    file[1] = XXH3_64bits(out->data + at + sizeof file, (size_t)file[2]);
    memcpy(out->data + at, file, sizeof file);
    *sent = true;
    return RT_OK;
}

static rt_status unit_take(void *ctx, size_t k, const char *data, size_t len, rt_error *err)
{
    units_job *j = ctx;
    rt_usage_detail *d = j->d;
    if (k != j->next_k || !j->taken_units.len) { /* a new block */
        rt_buf_reset(&j->taken_units);
        rt_buf_reset(&j->taken_steps);
        j->first_k = k;
    }
    j->next_k = k + 1;
    uint64_t head[2];
    if (len < sizeof head) return damaged_unit(err);
    memcpy(head, data, sizeof head);
    size_t at = sizeof head;
    if (head[0] >= RT_DETAIL_PARTITIONS_MAX || head[1] > (len - at) / (3 * sizeof(uint64_t)))
        return damaged_unit(err);
    unit u = {(unsigned)head[0], j->taken_steps.len / sizeof(step), (size_t)head[1]};
    for (size_t i = 0; i < u.count; i++) {
        uint64_t sv[3];
        memcpy(sv, data + at, sizeof sv);
        at += sizeof sv;
        step x = {sv[0] != 0, sv[1], sv[2]};
        rt_buf_append(&j->taken_steps, &x, sizeof x);
    }
    rt_buf_append(&j->taken_units, &u, sizeof u);
    if (j->taken_units.failed || j->taken_steps.failed)
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    uint64_t file[3];
    const char *bytes;
    if (!rt_buf_peek_framed(data, len, &at, file, 3, &bytes) || at != len)
        return damaged_unit(err);
    if (!file[0]) return d->spill_made[u.p] && !file[2] ? RT_OK : damaged_unit(err);
    if (XXH3_64bits(bytes, (size_t)file[2]) != file[1] || d->spill_made[u.p])
        return damaged_unit(err);
    /* Into this process's scratch file of the partition, as rank 0 wrote it (unnamed, kept
     * open until the detail is written: nothing is left behind, whatever happens). */
    return spill_append(d, u.p, bytes, (size_t)file[2], err);
}

/* A group as it travels: fixed fields, its currency by code. */
typedef struct packed_group {
    uint64_t key;
    rec_head head;
    char currency[4];
    uint32_t zero;
    uint64_t first_frame, last_frame, skip, events;
    int64_t amount_nanos;
} packed_group;

static rt_status unit_pack(void *ctx, unsigned slot, rt_buf *out)
{
    const units_job *j = ctx;
    const emitter *e = &j->d->em[slot];
    uint64_t head[4] = {e->written, e->frame_ends.len, e->group_count, e->mem.len};
    rt_buf_append(out, head, sizeof head);
    rt_buf_append(out, e->frame_ends.data, e->frame_ends.len);
    for (size_t i = 0; i < e->group_count; i++) {
        const group_out *g = &e->groups[i];
        packed_group pg;
        memset(&pg, 0, sizeof pg);
        pg.key = g->key;
        pg.head = g->head;
        memcpy(pg.currency, g->currency->code, sizeof pg.currency);
        pg.first_frame = g->first_frame;
        pg.last_frame = g->last_frame;
        pg.skip = g->skip;
        pg.events = g->events;
        pg.amount_nanos = g->amount_nanos;
        rt_buf_append(out, &pg, sizeof pg);
    }
    rt_buf_append(out, e->mem.data, e->mem.len);
    return rt_buf_status(out);
}

static rt_status unit_put(void *ctx, size_t k, const char *data, size_t len, rt_error *err)
{
    (void)k;
    const units_job *j = ctx;
    const rt_catalog *cat = j->d->res->cat;
    emitter *e = j->commit_em;
    uint64_t head[4];
    if (len < sizeof head) return damaged_unit(err);
    memcpy(head, data, sizeof head);
    size_t at = sizeof head, rest = len - at;
    if (head[1] % sizeof(uint64_t) || head[1] > rest ||
        head[2] > (rest - head[1]) / sizeof(packed_group) ||
        head[3] != rest - head[1] - head[2] * sizeof(packed_group))
        return damaged_unit(err);
    rt_buf_reset(&e->frame_ends);
    rt_buf_append(&e->frame_ends, data + at, (size_t)head[1]);
    at += (size_t)head[1];
    if (head[2] > e->group_capacity) {
        group_out *g = realloc(e->groups, (size_t)head[2] * sizeof *g);
        if (!g) return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
        e->groups = g;
        e->group_capacity = (size_t)head[2];
    }
    e->group_count = (size_t)head[2];
    uint64_t frames = head[1] / sizeof(uint64_t);
    /* (The run's conservation check counts every event once: no more than are left.) */
    uint64_t events_left = j->d->res->counts.rated - j->d->out_rows;
    for (size_t i = 0; i < e->group_count; i++, at += sizeof(packed_group)) {
        packed_group pg;
        memcpy(&pg, data + at, sizeof pg);
        char code[4];
        memcpy(code, pg.currency, sizeof code);
        code[3] = '\0';
        group_out *g = &e->groups[i];
        memset(g, 0, sizeof *g);
        g->key = pg.key;
        g->head = pg.head;
        g->currency = rt_currency_find(code);
        g->first_frame = pg.first_frame;
        g->last_frame = pg.last_frame;
        g->skip = pg.skip;
        g->events = pg.events;
        g->amount_nanos = pg.amount_nanos;
        /* What commit_partition reads: the catalog rows, the invoice line the key names (as
         * record_key makes it), the frames, and at least one event. */
        uint32_t line = (uint32_t)g->key, acct = g->head.account;
        if (!g->currency || g->first_frame > g->last_frame || g->last_frame >= frames ||
            acct >= cat->account_count || g->head.charge >= cat->charge_count ||
            g->key >> 32 != acct || g->events == 0 || g->events > events_left)
            return damaged_unit(err);
        if (!(line & UNMAPPED_RANK) &&
            (j->d->invoice_of[acct] == NO_INVOICE ||
             line >= j->d->res->invoices->items[j->d->invoice_of[acct]].line_count))
            return damaged_unit(err);
        events_left -= g->events;
    }
    rt_buf_reset(&e->mem);
    rt_buf_append(&e->mem, data + at, (size_t)head[3]);
    if (e->mem.failed || e->frame_ends.failed)
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    e->written = head[0];
    /* Frames end in order, the last where the bytes do. */
    const uint64_t *ends = (const uint64_t *)(const void *)e->frame_ends.data;
    for (uint64_t f = 0; f < frames; f++)
        if (ends[f] <= (f ? ends[f - 1] : 0)) return damaged_unit(err);
    if (e->written != head[3] || (frames ? ends[frames - 1] : 0) != e->written)
        return damaged_unit(err);
    return commit_partition(j->d, e, err);
}

/* The partitions, cut into units that fit a thread's share of the budget, are sorted on every
 * thread, each unit taken by the next free thread, and appended in order: one thread writes
 * while the others sort. */
static rt_status write_partitions(rt_usage_detail *d, rt_error *err)
{
    uint64_t share = d->budget / d->threads;
    rt_buf units, steps; /* of unit, of step */
    rt_buf_init(&units);
    rt_buf_init(&steps);
    rt_status st = RT_OK;
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX && st == RT_OK; p++) {
        if (!d->spill_made[p]) continue;
        if (partition_need(d, p) > share) {
            if ((st = plan_large(&d->em[0], p, share, &units, &steps)) != RT_OK)
                st = rt_error_set(err, st, RT_DETAIL_NAME, 0, 0, NULL, "%s", d->em[0].err.message);
        } else {
            size_t first = steps.len / sizeof(step);
            add_step(&steps, false, 0, UINT64_MAX);
            if (add_unit(&units, &steps, p, first) != RT_OK)
                st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
        }
    }
    rt_spread *sp = d->res->spread;
    emitter commit_em;
    memset(&commit_em, 0, sizeof commit_em);
    commit_em.d = d;
    units_job job = {d, (const unit *)(const void *)units.data,
                     (const step *)(const void *)steps.data, &commit_em, NULL, 0, {0}, {0}, 0, 0};
    if (sp && st == RT_OK) {
        job.size = sp->peers->size;
        job.sent = calloc((size_t)RT_DETAIL_PARTITIONS_MAX * job.size, sizeof *job.sent);
        if (!job.sent)
            st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    }
    if (st == RT_OK) {
        /* An emitter per thread, no more: a unit in memory takes up to a thread's share of
         * the budget (a slot ahead per thread was measured: +130 MB of peak, no faster). A
         * distributed run's units are sorted by every process (above). */
        size_t n = units.len / sizeof(unit);
        rt_spread_job sj = {unit_work, unit_commit, unit_pack, unit_put, unit_give, unit_take,
                            &job};
        st = rt_spread_run(sp, n, d->threads, d->threads, &sj, err);
    }
    free(job.sent);
    emitter_free(&commit_em);
    rt_buf_free(&units);
    rt_buf_free(&steps);
    return st;
}

static rt_status close_outputs(rt_usage_detail *d, rt_output_list *files, rt_error *err)
{
    if (files->count + 2 > RT_OUTPUT_FILES_MAX)
        return rt_error_set(err, RT_ELIMIT, NULL, 0, 0, NULL, "too many output files");
    rt_output_file *o = &files->items[files->count];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", RT_DETAIL_NAME);
    o->rows = d->out_rows;
    rt_status st = rt_zwriter_close(d->out, &o->bytes, &o->xxh64, err);
    d->out = NULL;
    if (st != RT_OK) return st;
    RT_ASSERT(o->bytes == d->out_bytes);
    files->count++;
    d->index_open = false;
    return rt_outfile_close(&d->index, files, NULL, err);
}

rt_status rt_usage_detail_finish(rt_usage_detail *d, const rt_run_result *res,
                                 rt_output_list *files, rt_error *err)
{
    rt_status st = begin_sorting(d, res, err);
    if (st == RT_OK) st = open_outputs(d, err);
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX && st == RT_OK; p++) {
        if (d->spill_fd[p] < 0) continue;
        if (close(d->spill_fd[p]) != 0)
            st = rt_error_set(err, RT_EIO, RT_DETAIL_NAME, 0, 0, NULL, "cannot close scratch");
        d->spill_fd[p] = -1;
    }
    if (st == RT_OK) st = write_partitions(d, err);
    /* Conservation: every billed event is in the detail exactly once. */
    if (st == RT_OK) RT_ASSERT(d->out_rows == res->counts.rated);
    if (st == RT_OK) st = close_outputs(d, files, err);
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX && st == RT_OK; p++) {
        if (!d->spill_made[p]) continue;
        char path[PATH_MAX];
        spill_path(d, p, path, sizeof path);
        if (unlink(path) != 0)
            st = rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot remove scratch file");
        d->spill_made[p] = false;
    }
    free_finish(d);
    return st;
}

/* A distributed run's process other than rank 0 (res->spread): its part of sorting the units
 * (see above), in unnamed scratch files under $TMPDIR (else /tmp), gone with the process. */
rt_status rt_usage_detail_assist(rt_usage_detail *d, const rt_run_result *res, rt_error *err)
{
    rt_status st = begin_sorting(d, res, err);
    const char *tmp = getenv("TMPDIR");
    char *dir = strdup(tmp && *tmp ? tmp : "/tmp");
    if (st == RT_OK && !dir)
        st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    if (dir) {
        free(d->dir);
        d->dir = dir;
        d->unnamed = true;
    }
    units_job job;
    memset(&job, 0, sizeof job);
    job.d = d;
    rt_spread_job sj = {unit_work, NULL, unit_pack, NULL, NULL, unit_take, &job};
    if (st == RT_OK)
        st = rt_spread_run(res->spread, RT_SPREAD_ANY, d->threads, d->threads, &sj, err);
    rt_buf_free(&job.taken_units);
    rt_buf_free(&job.taken_steps);
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX; p++) {
        if (d->spill_fd[p] >= 0) close(d->spill_fd[p]);
        d->spill_fd[p] = -1;
        d->spill_made[p] = false;
    }
    free_finish(d);
    return st;
}

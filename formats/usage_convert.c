/* usage_convert: usage format conversion. */
#include "formats/usage_convert.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/usage_csv.h"
#include "formats/usage_native.h"
#include "formats/zio.h"

#define CSV_LEVEL_DEFAULT 3

void rt_convert_opts_init(rt_convert_opts *o)
{
    memset(o, 0, sizeof *o);
    rt_usage_open_opts_init(&o->in);
}

/* ---- output ---- */

typedef struct sink {
    const char *path;
    bool native;
    int level;
    size_t frame_bytes;
    uint32_t block_records;
    rt_zwriter *z;            /* csv */
    rt_buf text, frame;       /* csv: text of the frame being filled, compressed frame */
    rt_native_writer *nw;     /* native */
    rt_native_block *block;
    ZSTD_CCtx *cctx;
    rt_usage_csv_tally tally; /* csv.zst: the indexed frames written, for the end frame */
    bool created; /* the output file exists (remove it on failure) */
} sink;

static rt_status flush_text(sink *s, rt_error *err);

static rt_status sink_open(sink *s, const char *path, const rt_convert_opts *o, rt_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    size_t n = strlen(path);
    bool csv_zst = n > 8 && strcmp(path + n - 8, ".csv.zst") == 0;
    bool csv = n > 4 && strcmp(path + n - 4, ".csv") == 0;
    s->native = n > 4 && strcmp(path + n - 4, ".rtu") == 0;
    if (!csv && !csv_zst && !s->native)
        return rt_error_set(err, RT_EINVAL, path, 0, 0, NULL,
                            "unknown output format (expected .csv, .csv.zst or .rtu)");
    s->level = o->level ? o->level : (s->native ? RT_NATIVE_LEVEL_DEFAULT : CSV_LEVEL_DEFAULT);
    if (!csv_zst) s->level = s->native ? s->level : 0;
    s->frame_bytes = o->frame_bytes ? o->frame_bytes : RT_USAGE_CSV_FRAME_BYTES;
    s->block_records = o->block_records ? o->block_records : RT_NATIVE_BLOCK_RECORDS_DEFAULT;
    if (s->block_records > RT_NATIVE_BLOCK_RECORDS_MAX)
        return rt_error_set(err, RT_EINVAL, path, 0, 0, NULL, "too many records per block");
    rt_buf_init(&s->text);
    rt_buf_init(&s->frame);
    s->cctx = ZSTD_createCCtx();
    if (!s->cctx) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    if (s->native) {
        s->block = rt_native_block_new();
        if (!s->block) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        rt_status st = rt_native_writer_open(path, &s->nw, err);
        s->created = st == RT_OK;
        return st;
    }
    rt_status st = rt_zwriter_open(path, 0, &s->z, err);
    if (st != RT_OK) return st;
    s->created = true;
    /* The header goes out as a frame of its own, so that data frames start at a record. */
    rt_buf_puts(&s->text, rt_usage_csv_header());
    return s->level > 0 ? flush_text(s, err) : RT_OK;
}

/* Write the text gathered so far: one indexed frame for csv.zst, as is for plain csv. */
static rt_status flush_text(sink *s, rt_error *err)
{
    if (s->text.failed) return rt_error_set(err, RT_ENOMEM, s->path, 0, 0, NULL, "out of memory");
    if (s->text.len == 0) return RT_OK;
    rt_status st;
    if (s->level > 0) {
        rt_buf_reset(&s->frame);
        st = rt_usage_csv_frame(s->cctx, s->level, s->text.data, s->text.len, &s->frame);
        if (st != RT_OK) return rt_error_set(err, st, s->path, 0, 0, NULL, "cannot compress");
        rt_usage_csv_count(&s->tally, s->frame.data, s->frame.len);
        st = rt_zwriter_write_raw(s->z, s->frame.data, s->frame.len, err);
    } else {
        st = rt_zwriter_write_raw(s->z, s->text.data, s->text.len, err);
    }
    rt_buf_reset(&s->text);
    return st;
}

static rt_status flush_block(sink *s, rt_error *err)
{
    if (rt_native_block_records(s->block) == 0) return RT_OK;
    uint32_t no;
    uint64_t first;
    rt_native_writer_next(s->nw, &no, &first);
    rt_buf_reset(&s->frame);
    rt_status st = rt_native_block_finish(s->block, no, first, s->level, s->cctx, &s->frame);
    if (st != RT_OK) return rt_error_set(err, st, s->path, 0, 0, NULL, "cannot encode a block");
    rt_native_block_reset(s->block);
    return rt_native_writer_put(s->nw, s->frame.data, s->frame.len, err);
}

static rt_status sink_put(sink *s, const rt_event *ev, rt_error *err)
{
    if (!s->native) {
        rt_usage_csv_format_event(&s->text, ev);
        rt_csv_end(&s->text);
        return s->text.len >= s->frame_bytes ? flush_text(s, err) : RT_OK;
    }
    const char *why;
    rt_status st = rt_native_block_add(s->block, ev, &why);
    if (st != RT_OK)
        return rt_error_set(err, st, s->path, 0, 0, NULL, "%s",
                            st == RT_ELIMIT ? why : "out of memory");
    if (rt_native_block_records(s->block) >= s->block_records) return flush_block(s, err);
    return RT_OK;
}

static rt_status sink_close(sink *s, rt_status st, uint64_t *bytes, rt_error *err)
{
    if (st == RT_OK) st = s->native ? flush_block(s, err) : flush_text(s, err);
    if (st == RT_OK && s->native) {
        st = rt_native_writer_close(s->nw, NULL, bytes, NULL, err);
        s->nw = NULL;
    } else if (st == RT_OK && s->z) {
        if (s->level > 0) { /* csv.zst: the end frame closes the indexed frames */
            unsigned char end[RT_USAGE_CSV_END_BYTES];
            rt_usage_csv_end(&s->tally, end);
            st = rt_zwriter_write_raw(s->z, end, sizeof end, err);
        }
        if (st == RT_OK) {
            st = rt_zwriter_close(s->z, bytes, NULL, err);
            s->z = NULL;
        }
    }
    rt_native_writer_abort(s->nw);
    rt_zwriter_abort(s->z);
    rt_native_block_free(s->block);
    ZSTD_freeCCtx(s->cctx);
    rt_buf_free(&s->text);
    rt_buf_free(&s->frame);
    return st;
}

/* ---- input, in waves of chunks parsed in parallel ---- */

typedef struct slot {
    rt_chunk chunk;
    rt_event_batch batch;
    rt_status st;
    rt_error err;
} slot;

/* Records of one parsed chunk to the sink, in order; rejects dropped or fatal. */
static rt_status drain(const rt_usage_reader *r, slot *sl, sink *s, const rt_convert_opts *o,
                       rt_convert_result *res, rt_error *err)
{
    const rt_event_batch *b = &sl->batch;
    res->read += b->records;
    for (size_t k = 0; k < b->reject_count; k++) {
        const rt_reject *rj = &b->rejects[k];
        if (rj->reason == RT_REJ_NOT_ANSWERED) {
            res->not_answered++;
        } else if (o->skip_bad) {
            res->skipped++;
        } else {
            return rt_error_set(err, RT_EPARSE, r->path, sl->chunk.first_line + rj->line_rel, 0,
                                rj->field, "%s: %s (use --skip-bad to drop such records)",
                                rt_reject_reason_code((rt_reject_reason)rj->reason), rj->message);
        }
    }
    for (size_t k = 0; k < b->count; k++) {
        rt_status st = sink_put(s, &b->events[k], err);
        if (st != RT_OK) return st;
        res->written++;
    }
    return RT_OK;
}

static rt_status pump(rt_usage_reader *r, sink *s, const rt_convert_opts *o, slot *slots,
                      unsigned nslots, unsigned threads, rt_convert_result *res, rt_error *err)
{
    for (;;) {
        unsigned n = 0;
        int eof = 0;
        while (n < nslots && !eof) {
            rt_status st = r->ops->next_chunk(r, &slots[n].chunk, &eof, err);
            if (st != RT_OK) return st;
            if (!eof) n++;
        }
        if (n == 0) return RT_OK;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (unsigned i = 0; i < n; i++) {
            rt_event_batch_clear(&slots[i].batch);
            slots[i].st = r->ops->parse_chunk(r, &slots[i].chunk, &slots[i].batch, &slots[i].err);
        }
        for (unsigned i = 0; i < n; i++) {
            if (slots[i].st != RT_OK) {
                *err = slots[i].err;
                return slots[i].st;
            }
            rt_status st = drain(r, &slots[i], s, o, res, err);
            if (st != RT_OK) return st;
        }
        if (eof) return RT_OK;
    }
}

rt_status rt_usage_convert(const char *in, const char *out, const rt_convert_opts *o,
                           rt_convert_result *res, rt_error *err)
{
    memset(res, 0, sizeof *res);
    unsigned threads = o->threads ? o->threads : (unsigned)omp_get_num_procs();
    unsigned nslots = threads * 2;
    rt_usage_reader *r = NULL;
    sink s;
    slot *slots = calloc(nslots, sizeof *slots);
    if (!slots) return rt_error_set(err, RT_ENOMEM, in, 0, 0, NULL, "out of memory");
    for (unsigned i = 0; i < nslots; i++) rt_event_batch_init(&slots[i].batch);
    rt_status st = rt_usage_open_with(in, &o->in, 0, &r, err);
    bool created = false;
    if (st == RT_OK) {
        st = sink_open(&s, out, o, err);
        created = s.created;
        if (st == RT_OK) st = pump(r, &s, o, slots, nslots, threads, res, err);
        st = sink_close(&s, st, &res->bytes, err);
    }
    if (r) r->ops->close(r);
    for (unsigned i = 0; i < nslots; i++) {
        free(slots[i].chunk.data);
        rt_event_batch_free(&slots[i].batch);
    }
    free(slots);
    if (st != RT_OK && created) unlink(out);
    return st;
}

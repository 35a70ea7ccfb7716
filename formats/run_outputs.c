/* run_outputs: the run's output directory writer. */
#include "formats/run_outputs.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/csv.h"
#include "formats/gl_fec.h"
#include "formats/invoice_docs.h"
#include "formats/invoice_files.h"
#include "formats/journal_csv.h"
#include "formats/manifest.h"
#include "formats/usage_detail.h"
#include "formats/usage_csv.h"
#include "formats/zio.h"

/* Detail files are large and written once: zstd level 1 trades a little size for speed. */
#define DETAIL_LEVEL 1

enum { D_RATED, D_REJECTS, D_DUPS, D_COUNT };
static const char *const detail_names[D_COUNT] = {"rated_usage.csv.zst", "rejects.csv.zst",
                                                  "duplicates.csv.zst"};
#define RATED_HEADER                                                                          \
    "event_id,account_id,product_id,start_time,quantity,billable_quantity,plan_id,charge_id,"    \
    "amount,currency,late,zone_id,band_id\n"
static const char *const detail_headers[D_COUNT] = {
    RATED_HEADER,
    "reason,source_file,line,field,message,record\n",
    "event_id,account_id,product_id,start_time,source_file,line,billed_by_run\n",
};

typedef struct sink_slot {
    rt_buf text[D_COUNT];
    rt_buf frames[D_COUNT];
    uint64_t rows[D_COUNT];
    ZSTD_CCtx *cctx;
} sink_slot;

struct rt_output_sink {
    char *dir;
    bool writes; /* false: begun without a directory (see sink_begin) */
    unsigned nslots;
    unsigned threads; /* the run's: the tables and documents are formatted on as many */
    sink_slot *slots;
    rt_zwriter *w[D_COUNT];
    uint64_t rows[D_COUNT];
    rt_usage_detail *detail;
};

static void sink_destroy(rt_output_sink *s)
{
    if (!s) return;
    for (int d = 0; d < D_COUNT; d++) rt_zwriter_abort(s->w[d]);
    rt_usage_detail_destroy(s->detail);
    if (s->slots) {
        for (unsigned i = 0; i < s->nslots; i++) {
            for (int d = 0; d < D_COUNT; d++) {
                rt_buf_free(&s->slots[i].text[d]);
                rt_buf_free(&s->slots[i].frames[d]);
            }
            ZSTD_freeCCtx(s->slots[i].cctx);
        }
        free(s->slots);
    }
    free(s->dir);
    free(s);
}

static rt_status sink_begin(const char *dir, unsigned slots, unsigned threads,
                            rt_output_sink **out, rt_error *err)
{
    rt_output_sink *s = calloc(1, sizeof *s);
    rt_status st = RT_ENOMEM;
    if (!s) goto fail;
    s->dir = strdup(dir ? dir : "");
    s->writes = dir != NULL;
    s->nslots = slots;
    s->threads = threads ? threads : (slots + 1) / 2;
    s->slots = calloc(slots, sizeof *s->slots);
    if (!s->dir || !s->slots) goto fail;
    for (unsigned i = 0; i < slots; i++) {
        s->slots[i].cctx = ZSTD_createCCtx();
        if (!s->slots[i].cctx) goto fail;
    }
    /* Without a directory: a process of a distributed run that encodes its chunks for rank
     * 0 to write (pack_chunk), and writes nothing itself. */
    for (int d = 0; d < D_COUNT && dir; d++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, detail_names[d]);
        if ((st = rt_zwriter_open(path, DETAIL_LEVEL, &s->w[d], err)) != RT_OK) goto fail;
        rt_zwriter_defer_sync(s->w[d]); /* synced with the others in sink_finish */
        rt_buf hdr;
        rt_buf_init(&hdr);
        st = rt_zframe_compress(s->slots[0].cctx, DETAIL_LEVEL, detail_headers[d],
                                strlen(detail_headers[d]), &hdr);
        if (st == RT_OK) st = rt_zwriter_write_raw(s->w[d], hdr.data, hdr.len, err);
        rt_buf_free(&hdr);
        if (st != RT_OK) goto fail;
    }
    if ((st = rt_usage_detail_open(s->dir, slots, threads, 0, &s->detail, err)) != RT_OK)
        goto fail;
    *out = s;
    return RT_OK;
fail:
    sink_destroy(s);
    if (st == RT_ENOMEM) rt_error_set(err, st, dir, 0, 0, NULL, "out of memory");
    return st;
}

/* ---- per-chunk rows ---- */

static void put_view(rt_buf *b, const char *s, size_t len) { rt_csv_put_text(b, s, len); }
static void put_str(rt_buf *b, const char *s) { rt_csv_put_text(b, s, strlen(s)); }

static void rated_row(rt_buf *b, const rt_chunk_view *v, const rt_rated *r)
{
    const rt_catalog *cat = v->cat;
    const rt_event *ev = &v->batch->events[r->event];
    const rt_charge *ch = &cat->charges[r->charge];
    const rt_plan *plan = &cat->plans[cat->charge_plan[r->charge]];
    const rt_currency *cur = rt_currency_find(plan->currency);
    unsigned qd = (unsigned)cat->products[r->product].quantity_decimals;
    put_view(b, ev->event_id, ev->event_id_len);
    rt_csv_sep(b);
    put_view(b, ev->account, ev->account_len);
    rt_csv_sep(b);
    put_view(b, ev->product, ev->product_len);
    rt_csv_sep(b);
    rt_csv_put_time(b, r->start_s);
    rt_csv_sep(b);
    rt_csv_put_decimal(b, r->quantity_base, qd, (int)qd, 0);
    rt_csv_sep(b);
    rt_csv_put_decimal(b, r->billable_base, qd, (int)qd, 0);
    rt_csv_sep(b);
    put_str(b, ch->plan_id);
    rt_csv_sep(b);
    put_str(b, ch->charge_id);
    rt_csv_sep(b);
    rt_csv_put_decimal(b, r->amount_nanos, RT_NANOS_SCALE, -1, cur->minor_units);
    rt_csv_sep(b);
    rt_buf_append(b, cur->code, 3);
    rt_buf_append(b, (r->flags & RT_RATED_LATE) ? ",1," : ",0,", 3);
    /* The destination zone and the time band the event started in (empty without them). */
    put_str(b, r->zone == RT_NO_INDEX ? "" : cat->zones[r->zone].zone_id);
    rt_csv_sep(b);
    put_str(b, cat->band_names[r->parts[0].band]);
    rt_csv_end(b);
}

/* A record read from a binary input (raw == NULL) is shown as its canonical usage CSV text,
 * from the event of the same record number (events are in record order). */
static void put_synthesised(rt_buf *b, const rt_chunk_view *v, const rt_reject *rj)
{
    const rt_event *ev = v->batch->events;
    size_t lo = 0, hi = v->batch->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].rec_no < rj->rec_no)
            lo = mid + 1;
        else
            hi = mid;
    }
    rt_buf text;
    rt_buf_init(&text);
    if (lo < v->batch->count && ev[lo].rec_no == rj->rec_no)
        rt_usage_csv_format_event(&text, &ev[lo]);
    put_view(b, text.data ? text.data : "", text.len);
    if (text.failed) b->failed = true;
    rt_buf_free(&text);
}

static void reject_row(rt_buf *b, const rt_chunk_view *v, const rt_reject *rj)
{
    put_str(b, rt_reject_reason_code((rt_reject_reason)rj->reason));
    rt_csv_sep(b);
    put_str(b, v->reader->path);
    rt_csv_sep(b);
    rt_csv_put_u64(b, v->chunk->first_line + rj->line_rel);
    rt_csv_sep(b);
    put_str(b, rj->field);
    rt_csv_sep(b);
    put_str(b, rj->message);
    rt_csv_sep(b);
    if (rj->raw)
        put_view(b, rj->raw, rj->raw_len);
    else
        put_synthesised(b, v, rj);
    rt_csv_end(b);
}

static void dup_row(rt_buf *b, const rt_chunk_view *v, const rt_rated *r)
{
    const rt_event *ev = &v->batch->events[r->event];
    put_view(b, ev->event_id, ev->event_id_len);
    rt_csv_sep(b);
    put_view(b, ev->account, ev->account_len);
    rt_csv_sep(b);
    put_view(b, ev->product, ev->product_len);
    rt_csv_sep(b);
    rt_csv_put_time(b, r->start_s);
    rt_csv_sep(b);
    put_str(b, v->reader->path);
    rt_csv_sep(b);
    rt_csv_put_u64(b, v->chunk->first_line + ev->line_rel);
    rt_csv_sep(b);
    if (r->prior_run) rt_csv_put_u64(b, r->prior_run);
    rt_buf_putc(b, '\n');
}

static rt_status sink_encode(rt_output_sink *s, unsigned slot, const rt_chunk_view *v,
                             rt_error *err)
{
    sink_slot *sl = &s->slots[slot];
    for (int d = 0; d < D_COUNT; d++) {
        rt_buf_reset(&sl->text[d]);
        rt_buf_reset(&sl->frames[d]);
        sl->rows[d] = 0;
    }
    for (size_t k = 0; k < v->rated_count; k++) {
        const rt_rated *r = &v->rated[k];
        if (r->flags & RT_RATED_DUPLICATE) {
            dup_row(&sl->text[D_DUPS], v, r);
            sl->rows[D_DUPS]++;
        } else {
            rated_row(&sl->text[D_RATED], v, r);
            sl->rows[D_RATED]++;
        }
    }
    for (size_t k = 0; k < v->batch->reject_count; k++) reject_row(&sl->text[D_REJECTS], v, &v->batch->rejects[k]);
    sl->rows[D_REJECTS] = v->batch->reject_count;
    for (int d = 0; d < D_COUNT; d++) {
        if (sl->text[d].failed)
            return rt_error_set(err, RT_ENOMEM, detail_names[d], 0, 0, NULL, "out of memory");
        if (sl->text[d].len == 0) continue;
        rt_status st = rt_zframe_compress(sl->cctx, DETAIL_LEVEL, sl->text[d].data,
                                          sl->text[d].len, &sl->frames[d]);
        if (st != RT_OK)
            return rt_error_set(err, st, detail_names[d], 0, 0, NULL, "cannot compress a frame");
    }
    return rt_usage_detail_encode(s->detail, slot, v, err);
}

static rt_status sink_write(rt_output_sink *s, unsigned slot, rt_error *err)
{
    sink_slot *sl = &s->slots[slot];
    for (int d = 0; d < D_COUNT; d++) {
        if (sl->frames[d].len) {
            rt_status st = rt_zwriter_write_raw(s->w[d], sl->frames[d].data, sl->frames[d].len, err);
            if (st != RT_OK) return st;
        }
        s->rows[d] += sl->rows[d];
    }
    return rt_usage_detail_write(s->detail, slot, err);
}

/* A slot's encoded rows as bytes (rows and frame of each detail file, then the usage
 * detail's), and back into a slot of rank 0's writer. */
static rt_status sink_pack(rt_output_sink *s, unsigned slot, rt_buf *out)
{
    const sink_slot *sl = &s->slots[slot];
    for (int d = 0; d < D_COUNT; d++) {
        uint64_t head[2] = {sl->rows[d], sl->frames[d].len};
        rt_buf_put_framed(out, head, 2, sl->frames[d].data);
    }
    rt_usage_detail_pack(s->detail, slot, out);
    return rt_buf_status(out);
}

static rt_status sink_unpack(rt_output_sink *s, unsigned slot, const char *data, size_t len,
                             rt_error *err)
{
    sink_slot *sl = &s->slots[slot];
    size_t at = 0;
    for (int d = 0; d < D_COUNT; d++) {
        uint64_t head[2];
        if (!rt_buf_take_framed(data, len, &at, head, 2, &sl->frames[d])) {
            if (sl->frames[d].failed)
                return rt_error_set(err, RT_ENOMEM, detail_names[d], 0, 0, NULL, "out of memory");
            goto bad;
        }
        sl->rows[d] = head[0];
    }
    size_t used = 0;
    rt_status st = rt_usage_detail_unpack(s->detail, slot, data + at, len - at, &used, err);
    if (st == RT_OK && at + used != len) goto bad;
    return st;
bad:
    return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL, "a peer's encoded chunk is damaged");
}

/* Rejected order lines follow the usage rejects, in order-file order. */
static rt_status write_order_rejects(rt_output_sink *s, const rt_run_result *res, rt_error *err)
{
    const rt_order_book *ob = res->orders;
    if (!ob || ob->reject_count == 0) return RT_OK;
    rt_buf text, frame;
    rt_buf_init(&text);
    rt_buf_init(&frame);
    for (size_t i = 0; i < ob->reject_count; i++) {
        const rt_order_reject *r = &ob->rejects[i];
        put_str(&text, rt_reject_reason_code((rt_reject_reason)r->reason));
        rt_csv_sep(&text);
        put_str(&text, res->inputs[res->usage_input_count + r->source].path);
        rt_buf_printf(&text, ",%" PRIu64 ",", r->source_line);
        put_str(&text, r->field);
        rt_csv_sep(&text);
        put_str(&text, r->message);
        rt_csv_sep(&text);
        put_view(&text, r->raw ? r->raw : "", r->raw ? r->raw_len : 0);
        rt_csv_end(&text);
    }
    rt_status st = text.failed ? RT_ENOMEM
                               : rt_zframe_compress(s->slots[0].cctx, DETAIL_LEVEL, text.data,
                                                    text.len, &frame);
    if (st == RT_OK) st = rt_zwriter_write_raw(s->w[D_REJECTS], frame.data, frame.len, err);
    else rt_error_set(err, st, detail_names[D_REJECTS], 0, 0, NULL, "cannot encode order rejects");
    s->rows[D_REJECTS] += ob->reject_count;
    rt_buf_free(&text);
    rt_buf_free(&frame);
    return st;
}

/* The invoice tables, the journal and the FEC file read the run's result and write files of
 * their own, in this fixed order; each is formatted on every thread. */
static rt_status write_tables(rt_output_sink *s, const rt_run_result *res, rt_output_list *files,
                              rt_error *err)
{
    unsigned threads = s->threads;
    const char *dir = s->writes ? s->dir : NULL;
    rt_status st = rt_invoice_files_write(dir, res, threads, files, err);
    if (st == RT_OK) st = rt_journal_csv_write(dir, res, threads, files, err);
    if (st == RT_OK) st = rt_gl_fec_write(dir, res, threads, files, err);
    return st;
}

/* The usage detail's files are written after the tables but listed before them, as they
 * always were: rotate files[tables_at..detail_at) behind files[detail_at..count). */
static void list_detail_first(rt_output_list *files, size_t tables_at, size_t detail_at)
{
    rt_output_file tables[RT_OUTPUT_FILES_MAX];
    size_t nt = detail_at - tables_at, nd = files->count - detail_at;
    memcpy(tables, &files->items[tables_at], nt * sizeof *tables);
    memmove(&files->items[tables_at], &files->items[detail_at], nd * sizeof *tables);
    memcpy(&files->items[tables_at + nd], tables, nt * sizeof *tables);
}

static rt_status sink_finish(rt_output_sink *s, const rt_run_result *res, rt_output_list *files,
                             uint64_t *manifest_xxh64, rt_error *err)
{
    files->count = 0;
    if (!s->writes) {
        /* A distributed run's process other than rank 0: its part of the tables', the usage
         * detail's and the documents' work (res->spread), in rank 0's order, and nothing
         * written. */
        rt_status st = write_tables(s, res, files, err);
        if (st == RT_OK && res->journal_written) res->journal_written(res->hooks_ctx);
        if (st == RT_OK) st = rt_usage_detail_assist(s->detail, res, err);
        if (st == RT_OK) st = rt_invoice_docs_write(NULL, res, s->threads, files, err);
        return st;
    }
    uint64_t t0 = rt_clock_ns();
    rt_status st = write_order_rejects(s, res, err);
    if (st != RT_OK) return st;
    /* The detail files are listed first but closed last, after the other outputs. */
    rt_output_file *detail_files = &files->items[files->count];
    for (int d = 0; d < D_COUNT; d++) {
        rt_output_file *o = &files->items[files->count++];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", detail_names[d]);
        o->rows = s->rows[d];
    }
    /* The tables first, so that the journal's lines are freed (journal_written) before the
     * usage detail sorts, and the registry's work (detail_written) waits for the sort's memory
     * to be freed in turn: the three largest working memories of the commit come one after
     * another, each reusing the last one's. */
    size_t tables_at = files->count;
    st = write_tables(s, res, files, err);
    if (st == RT_OK && res->journal_written) res->journal_written(res->hooks_ctx);
    uint64_t t1 = rt_clock_ns();
    size_t detail_at = files->count;
    if (st == RT_OK) st = rt_usage_detail_finish(s->detail, res, files, err);
    if (res->detail_written) res->detail_written(res->hooks_ctx);
    if (st == RT_OK) list_detail_first(files, tables_at, detail_at);
    uint64_t t2 = rt_clock_ns();
    if (st == RT_OK) st = rt_invoice_docs_write(s->dir, res, s->threads, files, err);
    for (int d = 0; d < D_COUNT && st == RT_OK; d++) {
        st = rt_zwriter_close(s->w[d], &detail_files[d].bytes, &detail_files[d].xxh64, err);
        s->w[d] = NULL;
    }
    /* Every output was closed without waiting on the disk (each writer defers its fsync, and
     * the write-out of each was started as it grew): synced here, together, before the
     * manifest that lists them. */
    for (size_t i = 0; i < files->count && st == RT_OK; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", s->dir, files->items[i].name);
        st = rt_zio_fsync(path, err);
    }
    if (st == RT_OK) st = rt_manifest_write(s->dir, res, files, manifest_xxh64, err);
    if (res->times) {
        res->times->tables_ns = t1 - t0;
        res->times->detail_ns = t2 - t1;
        res->times->documents_ns = rt_clock_ns() - t2;
    }
    return st;
}

static rt_status sink_plan(rt_output_sink *s, const rt_chunk_view *views, size_t n,
                           uint64_t records_expected, rt_error *err)
{
    return rt_usage_detail_plan(s->detail, views, n, records_expected, err);
}

static rt_status sink_pack_plan(rt_output_sink *s, const rt_catalog *cat, rt_buf *out)
{
    rt_usage_detail_plan_pack(s->detail, cat, out);
    return rt_buf_status(out);
}

static rt_status sink_unpack_plan(rt_output_sink *s, const rt_catalog *cat, const char *data,
                                  size_t len, rt_error *err)
{
    return rt_usage_detail_plan_unpack(s->detail, cat, data, len, err);
}

static const rt_output_ops ops = {sink_begin,     sink_encode,     sink_write,
                                  sink_finish,    sink_destroy,    sink_plan,
                                  sink_pack,      sink_unpack,     sink_pack_plan,
                                  sink_unpack_plan};

const rt_output_ops *rt_run_outputs(void) { return &ops; }

/* usage_detail: itemised usage per invoice line, spilled by account range and sorted. */
#include "formats/usage_detail.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/money.h"
#include "engine/u64map.h"
#include "formats/csv.h"
#include "formats/outfile.h"
#include "formats/zio.h"

/* Frames are written once and read rarely: zstd level 1, and at most about a megabyte of
 * text per frame so that one line of a large invoice can be read without the rest. */
#define DETAIL_LEVEL 1
#define FRAME_TEXT_BYTES ((size_t)1 << 20)
#define UNMAPPED_RANK UINT32_C(0x80000000)

static const char detail_header[] =
    "invoice_number,line,account_id,plan_id,charge_id,event_id,start_time,called_number,"
    "quantity,billable_quantity,unit,amount,currency,late,source_file,source_line\n";
static const char index_header[] = "invoice_number,line,account_id,plan_id,charge_id,events,"
                                   "amount,currency,offset,bytes,frames\n";

/* ---- spilled records ----
 * A scratch record is this fixed head (native byte order: the file never leaves the run)
 * followed by the event id and the called number. */
typedef struct rec_head {
    uint32_t account, charge;
    uint64_t ordinal;
    int64_t start_s, quantity_base, billable_base, amount_nanos;
    uint64_t line;
    uint32_t product, file_index, flags;
    uint16_t id_len, called_len;
} rec_head;
_Static_assert(sizeof(rec_head) == 72, "rec_head has no padding");

typedef struct spill_slot {
    rt_buf text[RT_DETAIL_PARTITIONS_MAX];
    rt_buf frames[RT_DETAIL_PARTITIONS_MAX];
    uint64_t records[RT_DETAIL_PARTITIONS_MAX];
    uint64_t bytes[RT_DETAIL_PARTITIONS_MAX];
    unsigned parts;
    ZSTD_CCtx *cctx;
} spill_slot;

/* One invoice line that usage is billed on. */
typedef struct group {
    uint32_t invoice;
    uint32_t line; /* 1-based */
} group;

/* A record to sort: its key (account, then invoice line rank), its input order, where it is. */
typedef struct sort_ent {
    uint64_t key;
    uint64_t ordinal;
    size_t off;
} sort_ent;

struct rt_usage_detail {
    char *dir;
    size_t budget;
    unsigned nslots;
    spill_slot *slots;
    unsigned parts; /* partitions, fixed by the first chunk written */
    rt_zwriter *spill[RT_DETAIL_PARTITIONS_MAX];
    bool spill_made[RT_DETAIL_PARTITIONS_MAX];
    uint64_t spill_records[RT_DETAIL_PARTITIONS_MAX];
    uint64_t spill_bytes[RT_DETAIL_PARTITIONS_MAX];
    /* finishing */
    const rt_run_result *res;
    ZSTD_CCtx *cctx;
    rt_zwriter *out;
    rt_outfile index;
    bool index_open;
    uint64_t out_bytes, out_rows, index_rows;
    rt_u64map group_of; /* (account, charge) -> group */
    group *groups;
    size_t group_count;
    /* the group being written */
    bool cur_open;
    uint64_t cur_key, cur_offset, cur_bytes, cur_frames, cur_events;
    int64_t cur_amount_nanos;
    rec_head cur_head;
    const rt_currency *cur_currency;
    rt_buf text, frame;
};

static void spill_path(const rt_usage_detail *d, unsigned p, char *buf, size_t n)
{
    snprintf(buf, n, "%s/.detail-%02u.spill", d->dir, p);
}

static unsigned partition_count(const rt_catalog *cat)
{
    size_t n = cat->account_count;
    return n == 0 ? 1 : n < RT_DETAIL_PARTITIONS_MAX ? (unsigned)n : RT_DETAIL_PARTITIONS_MAX;
}

/* Contiguous account ranges, so partitions in order are accounts in order. */
static unsigned partition_of(uint32_t account, unsigned parts, size_t accounts)
{
    return accounts ? (unsigned)((uint64_t)account * parts / accounts) : 0;
}

void rt_usage_detail_destroy(rt_usage_detail *d)
{
    if (!d) return;
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX; p++) {
        rt_zwriter_abort(d->spill[p]);
        if (d->spill_made[p]) {
            char path[PATH_MAX];
            spill_path(d, p, path, sizeof path);
            unlink(path);
        }
    }
    for (unsigned i = 0; d->slots && i < d->nslots; i++) {
        for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX; p++) {
            rt_buf_free(&d->slots[i].text[p]);
            rt_buf_free(&d->slots[i].frames[p]);
        }
        ZSTD_freeCCtx(d->slots[i].cctx);
    }
    free(d->slots);
    rt_zwriter_abort(d->out);
    if (d->index_open) rt_outfile_abort(&d->index);
    ZSTD_freeCCtx(d->cctx);
    rt_u64map_free(&d->group_of);
    free(d->groups);
    rt_buf_free(&d->text);
    rt_buf_free(&d->frame);
    free(d->dir);
    free(d);
}

rt_status rt_usage_detail_open(const char *dir, unsigned slots, size_t memory_bytes,
                               rt_usage_detail **out, rt_error *err)
{
    rt_usage_detail *d = calloc(1, sizeof *d);
    if (!d) goto fail;
    d->dir = strdup(dir);
    d->budget = memory_bytes ? memory_bytes : RT_DETAIL_MEMORY_DEFAULT;
    d->nslots = slots;
    d->slots = calloc(slots ? slots : 1, sizeof *d->slots);
    if (!d->dir || !d->slots) goto fail;
    for (unsigned i = 0; i < slots; i++)
        if (!(d->slots[i].cctx = ZSTD_createCCtx())) goto fail;
    *out = d;
    return RT_OK;
fail:
    rt_usage_detail_destroy(d);
    return rt_error_set(err, RT_ENOMEM, dir, 0, 0, NULL, "out of memory");
}

/* ---- spilling (parallel encode, ordered write) ---- */

static void put_record(rt_buf *b, const rt_chunk_view *v, const rt_rated *r)
{
    const rt_event *ev = &v->batch->events[r->event];
    rec_head h = {
        .account = r->account,
        .charge = r->charge,
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
    s->parts = partition_count(v->cat);
    for (unsigned p = 0; p < s->parts; p++) {
        rt_buf_reset(&s->text[p]);
        rt_buf_reset(&s->frames[p]);
        s->records[p] = 0;
    }
    for (size_t k = 0; k < v->rated_count; k++) {
        const rt_rated *r = &v->rated[k];
        if (r->flags & RT_RATED_DUPLICATE) continue;
        unsigned p = partition_of(r->account, s->parts, v->cat->account_count);
        put_record(&s->text[p], v, r);
        s->records[p]++;
    }
    for (unsigned p = 0; p < s->parts; p++) {
        s->bytes[p] = s->text[p].len;
        if (s->text[p].failed)
            return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
        if (s->text[p].len == 0) continue;
        rt_status st = rt_zframe_compress(s->cctx, DETAIL_LEVEL, s->text[p].data, s->text[p].len,
                                          &s->frames[p]);
        if (st != RT_OK)
            return rt_error_set(err, st, RT_DETAIL_NAME, 0, 0, NULL, "cannot compress a frame");
    }
    return RT_OK;
}

rt_status rt_usage_detail_write(rt_usage_detail *d, unsigned slot, rt_error *err)
{
    spill_slot *s = &d->slots[slot];
    if (d->parts == 0) d->parts = s->parts;
    RT_ASSERT(d->parts == s->parts); /* one catalog per run */
    for (unsigned p = 0; p < s->parts; p++) {
        if (s->frames[p].len == 0) continue;
        if (!d->spill[p]) {
            char path[PATH_MAX];
            spill_path(d, p, path, sizeof path);
            d->spill_made[p] = true;
            rt_status st = rt_zwriter_open(path, 0, &d->spill[p], err);
            if (st != RT_OK) return st;
        }
        rt_status st = rt_zwriter_write_raw(d->spill[p], s->frames[p].data, s->frames[p].len, err);
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

static rt_status reader_open(const rt_usage_detail *d, unsigned p, spill_reader *sr,
                             rt_error *err)
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

static uint64_t record_key(const rt_usage_detail *d, const rec_head *h)
{
    uint32_t g, rank = UNMAPPED_RANK | h->charge;
    if (rt_u64map_get(&d->group_of, UINT64_C(1) << 63 | (uint64_t)h->account << 32 | h->charge,
                      &g) == RT_OK)
        rank = g;
    return (uint64_t)h->account << 32 | rank;
}

static rt_status flush_frame(rt_usage_detail *d, rt_error *err)
{
    if (d->text.failed) return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    if (d->text.len == 0) return RT_OK;
    rt_buf_reset(&d->frame);
    rt_status st = rt_zframe_compress(d->cctx, DETAIL_LEVEL, d->text.data, d->text.len, &d->frame);
    if (st != RT_OK) return rt_error_set(err, st, RT_DETAIL_NAME, 0, 0, NULL, "cannot compress");
    rt_buf_reset(&d->text);
    if ((st = rt_zwriter_write_raw(d->out, d->frame.data, d->frame.len, err)) != RT_OK) return st;
    d->out_bytes += d->frame.len;
    d->cur_bytes += d->frame.len;
    d->cur_frames++;
    return RT_OK;
}

static void put_text(rt_buf *b, const char *s) { rt_csv_put_text(b, s, strlen(s)); }

/* The invoice number and line of a group key ("" and 0 when no invoice of this run bills
 * the usage, as in an accrual-only run). */
static const group *key_group(const rt_usage_detail *d, uint64_t key)
{
    uint32_t rank = (uint32_t)key;
    return rank & UNMAPPED_RANK ? NULL : &d->groups[rank];
}

static rt_status close_group(rt_usage_detail *d, rt_error *err)
{
    if (!d->cur_open) return RT_OK;
    rt_status st = flush_frame(d, err);
    if (st != RT_OK) return st;
    const rt_catalog *cat = d->res->cat;
    const rec_head *h = &d->cur_head;
    const group *g = key_group(d, d->cur_key);
    const rt_charge *ch = &cat->charges[h->charge];
    const rt_currency *cur = d->cur_currency;
    char amt[48];
    rt_buf *b = &d->index.buf;
    rt_decimal_format(d->cur_amount_nanos, RT_NANOS_SCALE, -1, cur->minor_units, '.', amt,
                      sizeof amt);
    put_text(b, g ? d->res->invoices->items[g->invoice].number : "");
    if (g) rt_buf_printf(b, ",%" PRIu32, g->line);
    else rt_buf_putc(b, ',');
    rt_csv_sep(b);
    put_text(b, cat->accounts[h->account].account_id);
    rt_csv_sep(b);
    put_text(b, ch->plan_id);
    rt_csv_sep(b);
    put_text(b, ch->charge_id);
    rt_buf_printf(b, ",%" PRIu64 ",%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", d->cur_events,
                  amt, cur->code, d->cur_offset, d->cur_bytes, d->cur_frames);
    d->cur_open = false;
    d->index_rows++;
    return rt_outfile_row_done(&d->index, err);
}

static void detail_row(rt_usage_detail *d, const rec_head *h, const char *id, const char *called,
                       const group *g)
{
    const rt_run_result *res = d->res;
    const rt_catalog *cat = res->cat;
    const rt_charge *ch = &cat->charges[h->charge];
    const rt_product *p = &cat->products[h->product];
    const rt_currency *cur = d->cur_currency;
    unsigned qd = (unsigned)p->quantity_decimals;
    char t[32], q[48], bq[48], amt[48];
    rt_buf *b = &d->text;
    rt_time_format(h->start_s, t, sizeof t);
    rt_decimal_format(h->quantity_base, qd, (int)qd, 0, '.', q, sizeof q);
    rt_decimal_format(h->billable_base, qd, (int)qd, 0, '.', bq, sizeof bq);
    rt_decimal_format(h->amount_nanos, RT_NANOS_SCALE, -1, cur->minor_units, '.', amt, sizeof amt);
    put_text(b, g ? res->invoices->items[g->invoice].number : "");
    if (g) rt_buf_printf(b, ",%" PRIu32, g->line);
    else rt_buf_putc(b, ',');
    rt_csv_sep(b);
    put_text(b, cat->accounts[h->account].account_id);
    rt_csv_sep(b);
    put_text(b, ch->plan_id);
    rt_csv_sep(b);
    put_text(b, ch->charge_id);
    rt_csv_sep(b);
    rt_csv_put_text(b, id, h->id_len);
    rt_buf_printf(b, ",%s,", t);
    rt_csv_put_text(b, called, h->called_len);
    rt_buf_printf(b, ",%s,%s,", q, bq);
    put_text(b, p->unit);
    rt_buf_printf(b, ",%s,%s,%d,", amt, cur->code, (h->flags & RT_RATED_LATE) ? 1 : 0);
    put_text(b, h->file_index < res->input_count ? res->inputs[h->file_index].path : "");
    rt_buf_printf(b, ",%" PRIu64 "\n", h->line);
}

static rt_status emit(rt_usage_detail *d, const char *rec, uint64_t key, rt_error *err)
{
    rec_head h;
    memcpy(&h, rec, sizeof h);
    rt_status st;
    if (!d->cur_open || key != d->cur_key) {
        if ((st = close_group(d, err)) != RT_OK) return st;
        d->cur_open = true;
        d->cur_key = key;
        d->cur_head = h;
        d->cur_currency = rt_currency_find(
            d->res->cat->plans[d->res->cat->charge_plan[h.charge]].currency);
        RT_ASSERT(d->cur_currency); /* plan currencies are validated ISO 4217 codes */
        d->cur_offset = d->out_bytes;
        d->cur_bytes = d->cur_frames = d->cur_events = 0;
        d->cur_amount_nanos = 0;
    }
    detail_row(d, &h, rec + sizeof h, rec + sizeof h + h.id_len, key_group(d, key));
    d->cur_events++;
    d->out_rows++;
    if (rt_add_i64(d->cur_amount_nanos, h.amount_nanos, &d->cur_amount_nanos) != RT_OK)
        return rt_error_set(err, RT_EOVERFLOW, RT_DETAIL_NAME, 0, 0, NULL, "line amount overflow");
    return d->text.len >= FRAME_TEXT_BYTES ? flush_frame(d, err) : RT_OK;
}

/* ---- sorting a partition ---- */

static int sort_cmp(const void *x, const void *y)
{
    const sort_ent *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

/* Collect the records of partition p whose key is in [lo, hi] into mem, sort and emit them. */
static rt_status sort_pass(rt_usage_detail *d, unsigned p, uint64_t lo, uint64_t hi, rt_buf *mem,
                           rt_error *err)
{
    spill_reader sr;
    sort_ent *ents = NULL;
    size_t n = 0, cap = 0;
    rt_buf_reset(mem);
    rt_status st = reader_open(d, p, &sr, err);
    while (st == RT_OK) {
        const char *rec;
        size_t len;
        if ((st = reader_next(&sr, &rec, &len, err)) != RT_OK || !rec) break;
        rec_head h;
        memcpy(&h, rec, sizeof h);
        uint64_t key = record_key(d, &h);
        if (key < lo || key > hi) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            sort_ent *e = realloc(ents, cap * sizeof *e);
            if (!e) {
                st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
                break;
            }
            ents = e;
        }
        ents[n++] = (sort_ent){key, h.ordinal, mem->len};
        rt_buf_append(mem, rec, len);
    }
    reader_close(&sr);
    if (st == RT_OK && mem->failed)
        st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    if (st == RT_OK) qsort(ents, n, sizeof *ents, sort_cmp);
    for (size_t i = 0; i < n && st == RT_OK; i++) st = emit(d, mem->data + ents[i].off, ents[i].key, err);
    free(ents);
    return st;
}

/* One invoice line larger than the budget: its records are already in input order in the
 * partition file, so they stream through. */
static rt_status stream_key(rt_usage_detail *d, unsigned p, uint64_t key, rt_error *err)
{
    spill_reader sr;
    rt_status st = reader_open(d, p, &sr, err);
    while (st == RT_OK) {
        const char *rec;
        size_t len;
        if ((st = reader_next(&sr, &rec, &len, err)) != RT_OK || !rec) break;
        rec_head h;
        memcpy(&h, rec, sizeof h);
        if (record_key(d, &h) == key) st = emit(d, rec, key, err);
    }
    reader_close(&sr);
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
static rt_status count_keys(rt_usage_detail *d, unsigned p, key_bytes **out, size_t *nout,
                            rt_error *err)
{
    rt_u64map map;
    key_bytes *kb = NULL;
    size_t n = 0, cap = 0;
    spill_reader sr;
    if (rt_u64map_init(&map, 1024) != RT_OK)
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    rt_status st = reader_open(d, p, &sr, err);
    while (st == RT_OK) {
        const char *rec;
        size_t len;
        if ((st = reader_next(&sr, &rec, &len, err)) != RT_OK || !rec) break;
        rec_head h;
        memcpy(&h, rec, sizeof h);
        uint64_t key = record_key(d, &h);
        uint32_t at;
        int inserted;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            key_bytes *k = realloc(kb, cap * sizeof *k);
            if (!k) st = RT_ENOMEM;
            else kb = k;
        }
        if (st == RT_OK) st = rt_u64map_upsert(&map, key | UINT64_C(1) << 63, (uint32_t)n, &at, &inserted);
        if (st != RT_OK) {
            st = rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
            break;
        }
        if (inserted) kb[n++] = (key_bytes){key, 0};
        kb[at].bytes += len + sizeof(sort_ent);
    }
    reader_close(&sr);
    rt_u64map_free(&map);
    if (st != RT_OK) {
        free(kb);
        return st;
    }
    qsort(kb, n, sizeof *kb, key_bytes_cmp);
    *out = kb;
    *nout = n;
    return RT_OK;
}

/* More than the budget: batches of whole keys that fit, one pass each. */
static rt_status finish_large(rt_usage_detail *d, unsigned p, rt_buf *mem, rt_error *err)
{
    key_bytes *kb = NULL;
    size_t n = 0;
    rt_status st = count_keys(d, p, &kb, &n, err);
    for (size_t i = 0; i < n && st == RT_OK;) {
        size_t j = i;
        uint64_t bytes = 0;
        while (j < n && (j == i || bytes + kb[j].bytes <= d->budget)) bytes += kb[j++].bytes;
        if (j == i + 1 && bytes > d->budget)
            st = stream_key(d, p, kb[i].key, err);
        else
            st = sort_pass(d, p, kb[i].key, kb[j - 1].key, mem, err);
        i = j;
    }
    free(kb);
    return st;
}

static rt_status finish_partition(rt_usage_detail *d, unsigned p, rt_buf *mem, rt_error *err)
{
    if (!d->spill_made[p]) return RT_OK;
    uint64_t need = d->spill_bytes[p] + d->spill_records[p] * sizeof(sort_ent);
    if (need <= d->budget) return sort_pass(d, p, 0, UINT64_MAX, mem, err);
    return finish_large(d, p, mem, err);
}

/* ---- finishing ---- */

static rt_status map_groups(rt_usage_detail *d, rt_error *err)
{
    const rt_invoice_set *set = d->res->invoices;
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) n += set->items[i].line_count;
    RT_ASSERT(n < UNMAPPED_RANK);
    d->groups = malloc((n ? n : 1) * sizeof *d->groups);
    if (!d->groups || rt_u64map_init(&d->group_of, n ? n : 1) != RT_OK)
        return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
    for (size_t i = 0; i < set->count; i++) {
        const rt_invoice *inv = &set->items[i];
        if (inv->type != RT_INVOICE) continue;
        for (size_t k = 0; k < inv->line_count; k++) {
            const rt_invoice_line *l = &inv->lines[k];
            if (l->kind != RT_LINE_USAGE || l->charge == RT_NO_INDEX) continue;
            uint64_t key = UINT64_C(1) << 63 | (uint64_t)inv->account << 32 | l->charge;
            uint32_t at;
            int inserted;
            if (rt_u64map_upsert(&d->group_of, key, (uint32_t)d->group_count, &at, &inserted) !=
                RT_OK)
                return rt_error_set(err, RT_ENOMEM, RT_DETAIL_NAME, 0, 0, NULL, "out of memory");
            if (inserted) d->groups[d->group_count++] = (group){(uint32_t)i, (uint32_t)(k + 1)};
        }
    }
    return RT_OK;
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
    if ((st = rt_outfile_open(&d->index, d->dir, RT_DETAIL_INDEX_NAME, 0, err)) != RT_OK)
        return st;
    d->index_open = true;
    rt_buf_puts(&d->index.buf, index_header);
    rt_buf_puts(&d->text, detail_header);
    st = flush_frame(d, err);
    d->cur_bytes = d->cur_frames = 0;
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
    files->count++;
    RT_ASSERT(d->index.rows == d->index_rows);
    d->index_open = false;
    return rt_outfile_close(&d->index, files, NULL, err);
}

rt_status rt_usage_detail_finish(rt_usage_detail *d, const rt_run_result *res,
                                 rt_output_list *files, rt_error *err)
{
    rt_buf mem;
    rt_buf_init(&mem);
    d->res = res;
    rt_status st = map_groups(d, err);
    if (st == RT_OK) st = open_outputs(d, err);
    for (unsigned p = 0; p < RT_DETAIL_PARTITIONS_MAX && st == RT_OK; p++) {
        if (!d->spill[p]) continue;
        st = rt_zwriter_close(d->spill[p], NULL, NULL, err);
        d->spill[p] = NULL;
        if (st == RT_OK) st = finish_partition(d, p, &mem, err);
    }
    rt_buf_free(&mem);
    if (st == RT_OK) st = close_group(d, err);
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
    return st;
}

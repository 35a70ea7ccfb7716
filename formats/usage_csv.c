/* usage_csv: chunked, parallel-parseable usage CSV reader. */
#include "formats/usage_csv.h"

#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/zio.h"

#define DEFAULT_CHUNK_BYTES ((size_t)4 << 20)
/* A chunk with no record boundary this large means a runaway quote: cut at a line end. */
#define RUNAWAY_BYTES ((size_t)64 << 20)
#define HEADER_MAX ((size_t)64 << 10)

enum { COL_EVENT_ID, COL_ACCOUNT, COL_PRODUCT, COL_START, COL_QTY, COL_CALLED, COL_COUNT };
static const char *const col_names[COL_COUNT] = {"event_id",   "account_id", "product_id",
                                                 "start_time", "quantity",   "called_number"};

typedef struct columns {
    int at[COL_COUNT]; /* CSV column index, -1 when absent (only called_number may be) */
} columns;

typedef struct csv_reader {
    rt_usage_reader base;
    rt_zreader *z;
    columns cols;
    char *carry;
    size_t carry_len, carry_cap;
    uint64_t next_line;
    size_t chunk_bytes;
    bool eof;
    char *path;
} csv_reader;

/* ---- parsing records ---- */

static const rt_csv_field *field(const rt_csv_record *rec, const columns *c, int col)
{
    int at = c->at[col];
    return at >= 0 && (size_t)at < rec->count ? &rec->fields[at] : NULL;
}

/* One record to an event, or a reject. Returns false only when memory runs out. */
static bool parse_record(const rt_csv_record *rec, const columns *c, uint32_t rec_no,
                         uint32_t line_rel, rt_event_batch *b)
{
    static const uint16_t limits[COL_COUNT] = {RT_EVENT_ID_LEN_MAX, 64, 64, 64, 64,
                                               RT_NUMBER_LEN_MAX};
    const rt_csv_field *f[COL_COUNT];
    for (int k = 0; k < COL_COUNT; k++) {
        f[k] = field(rec, c, k);
        bool required = k != COL_CALLED;
        if (required && (!f[k] || f[k]->len == 0))
            return rt_event_batch_reject(b, RT_REJ_MISSING_FIELD, rec_no, line_rel, rec->raw,
                                         rec->raw_len, col_names[k], "%s is missing",
                                         col_names[k]) != NULL;
        if (f[k] && f[k]->len > limits[k])
            return rt_event_batch_reject(b, RT_REJ_FIELD_TOO_LONG, rec_no, line_rel, rec->raw,
                                         rec->raw_len, col_names[k],
                                         "%s is longer than %u bytes", col_names[k],
                                         (unsigned)limits[k]) != NULL;
    }
    rt_time_s start;
    if (rt_time_parse(f[COL_START]->ptr, f[COL_START]->len, &start) != RT_OK)
        return rt_event_batch_reject(b, RT_REJ_BAD_TIME, rec_no, line_rel, rec->raw,
                                     rec->raw_len, "start_time",
                                     "start_time is not an ISO 8601 instant") != NULL;
    int64_t mantissa;
    unsigned scale;
    rt_status st = rt_decimal_parse_any(f[COL_QTY]->ptr, f[COL_QTY]->len, 6, &mantissa, &scale);
    if (st != RT_OK)
        return rt_event_batch_reject(b, RT_REJ_BAD_QUANTITY, rec_no, line_rel, rec->raw,
                                     rec->raw_len, "quantity",
                                     st == RT_ELIMIT ? "quantity has more than 6 decimals"
                                                     : "quantity is not a decimal number") != NULL;
    rt_event *ev = rt_event_batch_push(b);
    if (!ev) return false;
    ev->event_id = f[COL_EVENT_ID]->ptr;
    ev->event_id_len = (uint16_t)f[COL_EVENT_ID]->len;
    ev->account = f[COL_ACCOUNT]->ptr;
    ev->account_len = (uint16_t)f[COL_ACCOUNT]->len;
    ev->product = f[COL_PRODUCT]->ptr;
    ev->product_len = (uint16_t)f[COL_PRODUCT]->len;
    ev->called = f[COL_CALLED] ? f[COL_CALLED]->ptr : "";
    ev->called_len = f[COL_CALLED] ? (uint16_t)f[COL_CALLED]->len : 0;
    ev->rec_no = rec_no;
    ev->line_rel = line_rel;
    ev->start_s = start;
    ev->qty_mantissa = mantissa;
    ev->qty_scale = (uint8_t)scale;
    ev->raw = rec->raw;
    ev->raw_len = (uint32_t)rec->raw_len;
    return true;
}

static rt_status parse_records(const char *data, size_t len, const columns *c,
                               rt_event_batch *b)
{
    const char *p = data, *end = data + len;
    uint32_t rec_no = 0, line_rel = 0;
    rt_csv_record rec;
    while (p < end) {
        const char *why = "";
        uint32_t column = 0;
        uint32_t at_line = line_rel;
        rt_status st = rt_csv_parse(&p, end, &b->arena, &rec, &why, &column);
        line_rel += rec.newlines;
        if (st == RT_ENOMEM) return st;
        if (st != RT_OK) {
            if (rec.raw_len > RT_RECORD_LEN_MAX) rec.raw_len = RT_RECORD_LEN_MAX;
            if (!rt_event_batch_reject(b, RT_REJ_MALFORMED, rec_no++, at_line, rec.raw,
                                       rec.raw_len, "", "malformed CSV at column %u: %s",
                                       column, why))
                return RT_ENOMEM;
            continue;
        }
        if (rt_csv_blank(&rec)) continue; /* a blank line carries no record */
        if (rec.raw_len > RT_RECORD_LEN_MAX) {
            if (!rt_event_batch_reject(b, RT_REJ_MALFORMED, rec_no++, at_line, rec.raw,
                                       RT_RECORD_LEN_MAX, "", "record longer than %u bytes",
                                       (unsigned)RT_RECORD_LEN_MAX))
                return RT_ENOMEM;
            continue;
        }
        if (!parse_record(&rec, c, rec_no++, at_line, b)) return RT_ENOMEM;
    }
    b->records = rec_no;
    return RT_OK;
}

static rt_status csv_parse_chunk(const rt_usage_reader *r, const rt_chunk *chunk,
                                 rt_event_batch *batch, rt_error *err)
{
    const csv_reader *cr = (const csv_reader *)r;
    rt_status st = parse_records(chunk->data, chunk->len, &cr->cols, batch);
    if (st != RT_OK) return rt_error_set(err, st, r->path, chunk->first_line, 0, NULL, "out of memory");
    return RT_OK;
}

rt_status rt_usage_csv_parse_buffer(const char *data, size_t len, rt_event_batch *batch)
{
    columns c = {{0, 1, 2, 3, 4, 5}};
    return parse_records(data, len, &c, batch);
}

/* ---- cutting chunks ---- */

static uint64_t count_newlines(const char *p, size_t len)
{
    uint64_t n = 0;
    const char *end = p + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static bool grow(rt_chunk *c, size_t cap)
{
    if (c->cap >= cap) return true;
    char *d = realloc(c->data, cap);
    if (!d) return false;
    c->data = d;
    c->cap = cap;
    return true;
}

static rt_status csv_next_chunk(rt_usage_reader *r, rt_chunk *chunk, int *eof, rt_error *err)
{
    csv_reader *cr = (csv_reader *)r;
    size_t want = cr->chunk_bytes;
    if (!grow(chunk, want + cr->carry_len))
        return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
    memcpy(chunk->data, cr->carry, cr->carry_len);
    chunk->len = cr->carry_len;
    cr->carry_len = 0;
    size_t cut;
    for (;;) {
        while (chunk->len < want && !cr->eof) {
            size_t got;
            rt_status st = rt_zreader_read(cr->z, chunk->data + chunk->len, want - chunk->len,
                                           &got, err);
            if (st != RT_OK) return st;
            if (got == 0) cr->eof = true;
            chunk->len += got;
        }
        if (cr->eof) {
            cut = chunk->len;
            break;
        }
        cut = rt_csv_last_boundary(chunk->data, chunk->len);
        if (cut > 0) break;
        if (chunk->len >= RUNAWAY_BYTES) {
            /* An unbalanced quote swallowed everything: cut at the last line end so the
             * damage stays in one malformed record. */
            cut = chunk->len;
            while (cut > 0 && chunk->data[cut - 1] != '\n') cut--;
            if (cut == 0) cut = chunk->len;
            break;
        }
        want *= 2;
        if (!grow(chunk, want))
            return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
    }
    size_t rest = chunk->len - cut;
    if (rest > cr->carry_cap) {
        char *c = realloc(cr->carry, rest);
        if (!c) return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
        cr->carry = c;
        cr->carry_cap = rest;
    }
    memcpy(cr->carry, chunk->data + cut, rest);
    cr->carry_len = rest;
    chunk->len = cut;
    chunk->first_line = cr->next_line;
    cr->next_line += count_newlines(chunk->data, cut);
    chunk->source_offset = rt_zreader_offset(cr->z);
    *eof = cut == 0;
    return RT_OK;
}

static void csv_info(const rt_usage_reader *r, rt_input_info *info)
{
    const csv_reader *cr = (const csv_reader *)r;
    rt_zreader_checksum(cr->z, &info->bytes, &info->xxh64);
}

static void csv_close(rt_usage_reader *r)
{
    csv_reader *cr = (csv_reader *)r;
    if (!cr) return;
    rt_zreader_close(cr->z);
    free(cr->carry);
    free(cr->path);
    free(cr);
}

static const rt_usage_reader_ops csv_ops = {csv_next_chunk, csv_parse_chunk, csv_info, csv_close};

/* ---- header ---- */

static rt_status read_header(csv_reader *cr, rt_error *err)
{
    /* Read until the first line end (or the end of a short file). */
    cr->carry_cap = HEADER_MAX;
    cr->carry = malloc(cr->carry_cap);
    if (!cr->carry) return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
    char *nl = NULL;
    while (!nl && cr->carry_len < cr->carry_cap && !cr->eof) {
        size_t got;
        rt_status st = rt_zreader_read(cr->z, cr->carry + cr->carry_len,
                                       cr->carry_cap - cr->carry_len, &got, err);
        if (st != RT_OK) return st;
        if (got == 0) cr->eof = true;
        cr->carry_len += got;
        nl = memchr(cr->carry, '\n', cr->carry_len);
    }
    if (cr->carry_len == 0)
        return rt_error_set(err, RT_EPARSE, cr->path, 1, 0, NULL,
                            "empty file: a usage CSV starts with a header row");
    if (!nl && !cr->eof)
        return rt_error_set(err, RT_EPARSE, cr->path, 1, 0, NULL, "header row longer than %zu bytes",
                            HEADER_MAX);
    const char *p = cr->carry, *end = nl ? nl + 1 : cr->carry + cr->carry_len;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte order mark */
    rt_csv_record rec;
    rt_arena scratch;
    rt_arena_init(&scratch, 4096);
    const char *why;
    uint32_t column;
    rt_status st = rt_csv_parse(&p, end, &scratch, &rec, &why, &column);
    if (st != RT_OK) {
        rt_arena_free(&scratch);
        return rt_error_set(err, RT_EPARSE, cr->path, 1, column, NULL, "bad header row: %s", why);
    }
    for (int k = 0; k < COL_COUNT; k++) cr->cols.at[k] = -1;
    for (size_t i = 0; i < rec.count; i++)
        for (int k = 0; k < COL_COUNT; k++)
            if (rec.fields[i].len == strlen(col_names[k]) &&
                memcmp(rec.fields[i].ptr, col_names[k], rec.fields[i].len) == 0) {
                if (cr->cols.at[k] >= 0) {
                    rt_arena_free(&scratch);
                    return rt_error_set(err, RT_EPARSE, cr->path, 1, (uint32_t)i + 1,
                                        col_names[k], "column appears twice in the header");
                }
                cr->cols.at[k] = (int)i;
            }
    rt_arena_free(&scratch);
    for (int k = 0; k < COL_CALLED; k++)
        if (cr->cols.at[k] < 0)
            return rt_error_set(err, RT_EPARSE, cr->path, 1, 0, col_names[k],
                                "the header has no '%s' column", col_names[k]);
    size_t used = (size_t)(end - cr->carry);
    memmove(cr->carry, cr->carry + used, cr->carry_len - used);
    cr->carry_len -= used;
    cr->next_line = 2;
    return RT_OK;
}

rt_status rt_usage_csv_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                            rt_error *err)
{
    csv_reader *cr = calloc(1, sizeof *cr);
    if (!cr) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    cr->path = strdup(path);
    cr->base.ops = &csv_ops;
    cr->base.path = cr->path;
    cr->chunk_bytes = chunk_bytes ? chunk_bytes : DEFAULT_CHUNK_BYTES;
    rt_status st;
    if (!cr->path) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    if ((st = rt_zreader_open(path, &cr->z, err)) != RT_OK) goto fail;
    if ((st = read_header(cr, err)) != RT_OK) goto fail;
    *out = &cr->base;
    return RT_OK;
fail:
    csv_close(&cr->base);
    return st;
}

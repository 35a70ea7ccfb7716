/* usage_csv: chunked, parallel-parseable usage CSV reader. */
#include "formats/usage_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <zstd_errors.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/zio.h"

#define DEFAULT_CHUNK_BYTES ((size_t)4 << 20)
/* A chunk with no record boundary this large means a runaway quote: cut at a line end. */
#define RUNAWAY_BYTES ((size_t)64 << 20)
#define HEADER_MAX ((size_t)64 << 10)

/* ---- chunk layout ----
 * Every chunk starts with a private 32-byte prefix saying what follows: text (whole records)
 * or one compressed frame with the facts its index gave, to be checked once it is
 * decompressed. */
#define CHUNK_TEXT 0x545A5452u /* "RTZT" */
#define CHUNK_FRAME 0x435A5452u /* "RTZC" */
#define CHUNK_PREFIX 32u
#define FRAME_CONTENT_MAX ((uint64_t)256 << 20)

#define INDEX_MAGIC 0x184D2A52u /* a zstd skippable frame magic (0x184D2A50..5F) */
#define INDEX_TAG 0x49435452u  /* "RTCI" */
#define END_TAG 0x45435452u    /* "RTCE": the end frame's tag (same magic and payload size) */
#define INDEX_FLAG_ALIGNED 1u  /* the frame ends at a record boundary */
#define INDEX_FLAG_ENDED 2u    /* an end frame closes the file's indexed frames */
#define INDEX_PAYLOAD 32u
#define ZSTD_FRAME_MAGIC 0xFD2FB528u

enum { COL_EVENT_ID, COL_ACCOUNT, COL_PRODUCT, COL_START, COL_QTY, COL_CALLED, COL_COUNT };
static const char *const col_names[COL_COUNT] = {"event_id",   "account_id", "product_id",
                                                 "start_time", "quantity",   "called_number"};

typedef struct columns {
    int at[COL_COUNT]; /* CSV column index, -1 when absent (only called_number may be) */
    rt_usage_csv_mapper map; /* other layouts: maps every record (no header) */
    const void *map_ctx;
    /* Every column's name in the header, ignored ones too, owned by the reader (which outlives
     * its chunks' rejects); NULL without a header. */
    const char *const *names;
    uint32_t name_count;
} columns;

/* Frames without a usable index (other writers) are read ahead and decompressed in parallel:
 * up to RA_FRAMES frames of known content size, RA_FRAME_MAX each. */
#define RA_FRAMES 8
#define RA_FRAME_MAX ((uint64_t)32 << 20)

typedef struct ra_frame {
    char *comp;  /* the compressed frame */
    size_t comp_len, comp_cap;
    char *buf;   /* CHUNK_PREFIX bytes, then the decompressed text */
    size_t cap;
    uint64_t content;  /* decompressed size, from the frame header */
    uint64_t newlines;
    bool aligned; /* the text ends at a record boundary */
    bool bad;     /* the frame did not decompress to its size */
} ra_frame;

/* A ratel frame index, as read from its skippable frame. */
typedef struct frame_index {
    bool valid;
    bool aligned; /* the frame ends at a record boundary */
    uint32_t compressed_bytes;
    uint64_t content_bytes;
    uint64_t newlines;
} frame_index;

#define CARRY(cr) ((cr)->cbuf + CHUNK_PREFIX)

typedef struct csv_reader {
    rt_usage_reader base;
    char *path;
    columns cols;
    /* Text not handed out yet (decompressed), starting at a record start, kept at
     * cbuf + CHUNK_PREFIX so that the buffer can become a chunk as it is (see emit_carry). */
    char *cbuf;
    size_t ccap, carry_len;
    uint64_t next_line;
    size_t chunk_bytes;
    bool eof;
    /* plain files */
    rt_zreader *z;
    /* zstd files, read frame by frame (framed == true) */
    bool framed;
    int fd;
    unsigned char *in;
    size_t in_pos, in_len;
    bool in_eof;
    uint64_t consumed; /* file bytes consumed (read and not buffered) */
    uint64_t read_bytes;
    XXH64_state_t *hash;
    ZSTD_DStream *ds;
    bool in_stream; /* inside a frame being decompressed in order */
    frame_index pending;
    /* Indexed frames whose index promised an end frame, since the last end frame: their
     * count and line ends (an end frame must give the same; the file must not end before).
     * A promise counts once its frame follows: waiting is set between the index and it. */
    uint64_t promised_frames, promised_lines;
    bool promise_waiting;
    uint64_t promise_lines;
    ra_frame ra[RA_FRAMES]; /* decompressed ahead, waiting in file order from ra_head */
    unsigned ra_head, ra_count;
    void *map_ctx; /* the mapper's context, owned */
    rt_arena names; /* cols.names: the header's column names */
} csv_reader;

/* ---- parsing records ---- */

static const rt_csv_field *field(const rt_csv_record *rec, const columns *c, int col)
{
    int at = c->at[col];
    return at >= 0 && (size_t)at < rec->count ? &rec->fields[at] : NULL;
}

/* ---- fast paths for the common case ----
 * Most usage records are one line without quotes, with a canonical UTC start time and a
 * whole quantity. These paths handle exactly that and hand anything else to the general
 * code, so both give the same result for every input (tests/test_convert.c compares them). */

typedef struct parse_cache {
    char month[8]; /* "YYYY-MM-" of the previous canonical start time */
    rt_days first_day; /* that month's first day */
    int month_days;
    bool valid;
} parse_cache;

static int two(const char *s)
{
    unsigned a = (unsigned)(s[0] - '0'), b = (unsigned)(s[1] - '0');
    return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* "YYYY-MM-DDThh:mm:ssZ", the calendar worked out once per run of records in one month. */
static rt_status parse_start(parse_cache *pc, const char *s, size_t len, rt_time_s *out)
{
    if (len != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return rt_time_parse(s, len, out);
    if (!pc->valid || memcmp(pc->month, s, 8) != 0) {
        rt_days day;
        if (rt_date_parse(s, 10, &day) != RT_OK) return RT_EPARSE;
        int y;
        unsigned m, dd;
        rt_civil_from_days(day, &y, &m, &dd);
        memcpy(pc->month, s, 8);
        pc->first_day = day - (rt_days)(dd - 1);
        pc->month_days = (int)rt_days_in_month(y, m);
        pc->valid = true;
    }
    int d = two(s + 8), hh = two(s + 11), mm = two(s + 14), ss = two(s + 17);
    if (d < 1 || d > pc->month_days || hh < 0 || mm < 0 || ss < 0 || hh > 23 || mm > 59 ||
        ss > 59)
        return RT_EPARSE;
    *out = rt_time_of_days(pc->first_day + d - 1) + hh * 3600 + mm * 60 + ss;
    return RT_OK;
}

/* A quantity of 1 to 18 digits is a whole number: no sign, point or overflow to think of. */
static rt_status parse_quantity(const char *s, size_t len, int64_t *mantissa, unsigned *scale)
{
    if (len == 0 || len > 18) return rt_decimal_parse_any(s, len, 6, mantissa, scale);
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return rt_decimal_parse_any(s, len, 6, mantissa, scale);
        v = v * 10 + d;
    }
    *mantissa = v;
    *scale = 0;
    return RT_OK;
}

/* Bytes that end an unquoted field or need the general tokenizer: , LF " CR. */
#define ONES UINT64_C(0x0101010101010101)
#define HAS_ZERO(v) (((v) - ONES) & ~(v) & (ONES << 7))
#define HAS_BYTE(x, c) HAS_ZERO((x) ^ (ONES * (uint8_t)(c)))

static const char *find_special(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes at a time: the lowest flagged byte of each mask is exact (a false flag can
     * only appear above a true one), so the lowest of all is the first special byte. */
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t m = HAS_BYTE(x, ',') | HAS_BYTE(x, '\n') | HAS_BYTE(x, '"') | HAS_BYTE(x, '\r');
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p != ',' && *p != '\n' && *p != '"' && *p != '\r') p++;
    return p;
}

/* Split a one-line record without quotes or CR at its commas, as rt_csv_parse would. False:
 * leave it to rt_csv_parse (a quote, a CR, or more fields than a record may have). */
static bool split_simple(const char **pos, const char *end, rt_csv_record *rec)
{
    const char *start = *pos, *f = start;
    size_t n = 0;
    for (;;) {
        const char *q = find_special(f, end);
        if (q < end && (*q == '"' || *q == '\r')) return false;
        if (n == RT_CSV_FIELDS_MAX) return false;
        rec->fields[n].ptr = f;
        rec->fields[n].len = (uint32_t)(q - f);
        n++;
        if (q < end && *q == ',') {
            f = q + 1;
            continue;
        }
        rec->count = n;
        rec->raw = start;
        rec->raw_len = (size_t)(q - start);
        rec->newlines = q < end;
        *pos = q < end ? q + 1 : end;
        return true;
    }
}

/* ---- one record ---- */

/* One record to an event, or a reject. Returns false only when memory runs out. */
static bool parse_record(const rt_csv_record *rec, const columns *c, uint32_t rec_no,
                         uint32_t line_rel, rt_event_batch *b, parse_cache *pc)
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
    if (parse_start(pc, f[COL_START]->ptr, f[COL_START]->len, &start) != RT_OK)
        return rt_event_batch_reject(b, RT_REJ_BAD_TIME, rec_no, line_rel, rec->raw,
                                     rec->raw_len, "start_time",
                                     "start_time is not an ISO 8601 instant") != NULL;
    int64_t mantissa;
    unsigned scale;
    rt_status st = parse_quantity(f[COL_QTY]->ptr, f[COL_QTY]->len, &mantissa, &scale);
    if (st == RT_EOVERFLOW) /* a number, but with more digits than any quantity */
        return rt_event_batch_reject(b, RT_REJ_ABSURD_QUANTITY, rec_no, line_rel, rec->raw,
                                     rec->raw_len, "quantity",
                                     "quantity has more than 18 digits") != NULL;
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

/* The header name of a 1-based CSV column, or "" when it is not known: beyond the header, or
 * a layout without one (switch CDRs). */
static const char *column_name(const columns *c, uint32_t column)
{
    if (c->map || column == 0 || column > c->name_count) return "";
    return c->names[column - 1];
}

/* Parse whole records; *lines is the number of line ends consumed. */
static rt_status parse_records(const char *data, size_t len, const columns *c,
                               rt_event_batch *b, uint64_t *lines)
{
    const char *p = data, *end = data + len;
    uint32_t rec_no = 0, line_rel = 0;
    rt_csv_record rec;
    parse_cache pc = {{0}, 0, 0, false};
    while (p < end) {
        const char *why = "";
        uint32_t column = 0;
        uint32_t at_line = line_rel;
        rt_status st = split_simple(&p, end, &rec)
                           ? RT_OK
                           : rt_csv_parse(&p, end, &b->arena, &rec, &why, &column);
        line_rel += rec.newlines;
        if (st == RT_ENOMEM) return st;
        if (st != RT_OK) {
            if (rec.raw_len > RT_RECORD_LEN_MAX) rec.raw_len = RT_RECORD_LEN_MAX;
            if (!rt_event_batch_reject(b, RT_REJ_MALFORMED, rec_no++, at_line, rec.raw,
                                       rec.raw_len, column_name(c, column),
                                       "malformed CSV at column %u: %s", column, why))
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
        bool ok = c->map ? c->map(c->map_ctx, &rec, rec_no++, at_line, b)
                         : parse_record(&rec, c, rec_no++, at_line, b, &pc);
        if (!ok) return RT_ENOMEM;
    }
    b->records = rec_no;
    *lines = line_rel;
    return RT_OK;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static bool even_quotes(const char *p, size_t len)
{
    size_t n = 0;
    const char *end = p + len;
    while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n % 2 == 0;
}

/* ---- parsing chunks ---- */

static rt_status parse_frame(const csv_reader *cr, const rt_chunk *chunk, rt_event_batch *batch,
                             rt_error *err)
{
    const unsigned char *h = (const unsigned char *)chunk->data;
    uint64_t content = get_u64(h + 8), newlines = get_u64(h + 16), comp = get_u64(h + 24);
    RT_ASSERT(content <= FRAME_CONTENT_MAX && comp + CHUNK_PREFIX == chunk->len);
    /* Rounded up to a power of two: the first allocation in a batch's arena is the block the
     * arena keeps when it is reset, so frames of similar sizes reuse it without new pages. */
    size_t cap = (size_t)1 << 16;
    while (cap < content + 1) cap <<= 1;
    char *text = rt_arena_alloc(&batch->arena, cap);
    if (!text)
        return rt_error_set(err, RT_ENOMEM, cr->path, chunk->first_line, 0, NULL, "out of memory");
    uint64_t t0 = rt_clock_ns();
    size_t n = ZSTD_decompress(text, (size_t)content, h + CHUNK_PREFIX, (size_t)comp);
    batch->decompress_ns += rt_clock_ns() - t0;
    if (ZSTD_isError(n))
        return rt_error_set(err, RT_ECORRUPT, cr->path, chunk->first_line, 0, NULL,
                            "corrupt zstd frame: %s", ZSTD_getErrorName(n));
    /* The index promised whole records: check it before trusting a single record. */
    if (n != content || (n > 0 && text[n - 1] != '\n') || !even_quotes(text, n))
        return rt_error_set(err, RT_ECORRUPT, cr->path, chunk->first_line, 0, NULL,
                            "zstd frame does not match its ratel frame index (size or record "
                            "boundary); the file was altered");
    uint64_t lines;
    rt_status st = parse_records(text, n, &cr->cols, batch, &lines);
    if (st != RT_OK)
        return rt_error_set(err, st, cr->path, chunk->first_line, 0, NULL, "out of memory");
    if (lines != newlines)
        return rt_error_set(err, RT_ECORRUPT, cr->path, chunk->first_line, 0, NULL,
                            "zstd frame holds %llu line ends, its index says %llu; the file was "
                            "altered",
                            (unsigned long long)lines, (unsigned long long)newlines);
    return RT_OK;
}

static rt_status csv_parse_chunk(const rt_usage_reader *r, const rt_chunk *chunk,
                                 rt_event_batch *batch, rt_error *err)
{
    const csv_reader *cr = (const csv_reader *)r;
    RT_ASSERT(chunk->len >= CHUNK_PREFIX);
    uint32_t kind = get_u32((const unsigned char *)chunk->data);
    if (kind == CHUNK_FRAME) return parse_frame(cr, chunk, batch, err);
    RT_ASSERT(kind == CHUNK_TEXT);
    const char *text = chunk->data + CHUNK_PREFIX;
    size_t len = chunk->len - CHUNK_PREFIX;
    uint64_t lines;
    rt_status st = parse_records(text, len, &cr->cols, batch, &lines);
    if (st != RT_OK)
        return rt_error_set(err, st, r->path, chunk->first_line, 0, NULL, "out of memory");
    return RT_OK;
}

rt_status rt_usage_csv_parse_mapped(const char *data, size_t len, rt_usage_csv_mapper map,
                                    const void *ctx, rt_event_batch *batch)
{
    columns c = {{0}, map, ctx, NULL, 0};
    uint64_t lines;
    return parse_records(data, len, &c, batch, &lines);
}

rt_status rt_usage_csv_parse_buffer(const char *data, size_t len, rt_event_batch *batch)
{
    columns c = {{0, 1, 2, 3, 4, 5}, NULL, NULL, NULL, 0};
    uint64_t lines;
    return parse_records(data, len, &c, batch, &lines);
}

/* ---- cutting text into chunks ---- */

static bool grow(rt_chunk *c, size_t cap)
{
    if (c->cap >= cap) return true;
    char *d = realloc(c->data, cap);
    if (!d) return false;
    c->data = d;
    c->cap = cap;
    return true;
}

/* Room for cap bytes of text in the carry buffer. */
static bool carry_reserve(csv_reader *cr, size_t cap)
{
    cap += CHUNK_PREFIX;
    if (cr->ccap >= cap) return true;
    size_t n = cr->ccap > (1 << 16) ? cr->ccap : 1 << 16;
    while (n < cap) n *= 2;
    char *c = realloc(cr->cbuf, n);
    if (!c) return false;
    cr->cbuf = c;
    cr->ccap = n;
    return true;
}

/* Where to cut text that starts at a record start: after the last record boundary; with
 * `all` (end of input) everything. A runaway quote (no boundary in RUNAWAY_BYTES) is cut at
 * the last line end so the damage stays in one malformed record. 0: read more first. */
static size_t cut_point(const char *text, size_t len, bool all)
{
    if (all) return len;
    size_t cut = rt_csv_last_boundary(text, len);
    if (cut > 0 || len < RUNAWAY_BYTES) return cut;
    cut = len;
    while (cut > 0 && text[cut - 1] != '\n') cut--;
    return cut ? cut : len;
}

/* Hand out carry[0..cut) as a chunk and keep the rest. Rather than copying a whole chunk,
 * the carry buffer becomes the chunk's buffer and the chunk's old buffer (the caller's,
 * malloc'd like ours) takes the rest: ownership of the two blocks is swapped. */
static rt_status emit_carry(csv_reader *cr, rt_chunk *chunk, size_t cut, rt_error *err)
{
    size_t rest = cr->carry_len - cut;
    if (!grow(chunk, CHUNK_PREFIX + rest))
        return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
    char *d = chunk->data;
    size_t cap = chunk->cap;
    chunk->data = cr->cbuf;
    chunk->cap = cr->ccap;
    cr->cbuf = d;
    cr->ccap = cap;
    memcpy(CARRY(cr), chunk->data + CHUNK_PREFIX + cut, rest);
    cr->carry_len = rest;
    memset(chunk->data, 0, CHUNK_PREFIX);
    put_u32((unsigned char *)chunk->data, CHUNK_TEXT);
    chunk->len = CHUNK_PREFIX + cut;
    chunk->first_line = cr->next_line;
    cr->next_line += rt_csv_newlines(chunk->data + CHUNK_PREFIX, cut);
    return RT_OK;
}

/* ---- plain files ---- */

static rt_status plain_next_chunk(csv_reader *cr, rt_chunk *chunk, int *eof, rt_error *err)
{
    size_t want = cr->chunk_bytes;
    for (;;) {
        if (!carry_reserve(cr, want))
            return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
        while (cr->carry_len < want && !cr->eof) {
            size_t got;
            rt_status st = rt_zreader_read(cr->z, CARRY(cr) + cr->carry_len,
                                           want - cr->carry_len, &got, err);
            if (st != RT_OK) return st;
            if (got == 0) cr->eof = true;
            cr->carry_len += got;
        }
        size_t cut = cut_point(CARRY(cr), cr->carry_len, cr->eof);
        if (cut > 0 || cr->eof) {
            rt_status st = emit_carry(cr, chunk, cut, err);
            chunk->source_offset = rt_zreader_offset(cr->z);
            *eof = cut == 0;
            return st;
        }
        want *= 2;
    }
}

/* ---- zstd files, frame by frame ---- */

#define IN_BUF_SIZE ((size_t)1 << 20)

/* Make at least `need` bytes available in the input buffer (fewer only at end of file). */
static rt_status in_fill(csv_reader *cr, size_t need, rt_error *err)
{
    RT_ASSERT(need <= IN_BUF_SIZE);
    if (cr->in_len - cr->in_pos >= need || cr->in_eof) return RT_OK;
    memmove(cr->in, cr->in + cr->in_pos, cr->in_len - cr->in_pos);
    cr->in_len -= cr->in_pos;
    cr->in_pos = 0;
    while (cr->in_len < need && !cr->in_eof) {
        ssize_t n = read(cr->fd, cr->in + cr->in_len, IN_BUF_SIZE - cr->in_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return rt_error_set(err, RT_EIO, cr->path, 0, 0, NULL, "read: %s", strerror(errno));
        if (n == 0) cr->in_eof = true;
        XXH64_update(cr->hash, cr->in + cr->in_len, (size_t)n);
        cr->in_len += (size_t)n;
        cr->read_bytes += (uint64_t)n;
    }
    return RT_OK;
}

/* Move n bytes of the file to dst (NULL: skip them), through the buffer. */
static rt_status in_take(csv_reader *cr, void *dst, uint64_t n, rt_error *err)
{
    while (n > 0) {
        if (cr->in_pos == cr->in_len) {
            rt_status st = in_fill(cr, 1, err);
            if (st != RT_OK) return st;
            if (cr->in_pos == cr->in_len)
                return rt_error_set(err, RT_ECORRUPT, cr->path, 0, 0, NULL,
                                    "truncated zstd frame at the end of the file");
        }
        size_t k = cr->in_len - cr->in_pos;
        if (k > n) k = (size_t)n;
        if (dst) {
            memcpy(dst, cr->in + cr->in_pos, k);
            dst = (char *)dst + k;
        }
        cr->in_pos += k;
        cr->consumed += k;
        n -= k;
    }
    return RT_OK;
}

/* Decompress the current frame in order into carry until carry holds `limit` bytes or the
 * frame ends. */
static rt_status stream_some(csv_reader *cr, size_t limit, rt_error *err)
{
    if (!carry_reserve(cr, limit))
        return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
    ZSTD_outBuffer ob = {CARRY(cr), limit, cr->carry_len};
    while (ob.pos < ob.size && cr->in_stream) {
        rt_status st = in_fill(cr, 1, err);
        if (st != RT_OK) return st;
        ZSTD_inBuffer ib = {cr->in, cr->in_len, cr->in_pos};
        size_t before = ob.pos;
        size_t rc = ZSTD_decompressStream(cr->ds, &ob, &ib);
        if (ZSTD_isError(rc))
            return rt_error_set(err, RT_ECORRUPT, cr->path, cr->next_line, 0, NULL,
                                "corrupt zstd data: %s", ZSTD_getErrorName(rc));
        cr->consumed += ib.pos - cr->in_pos;
        bool progress = ob.pos != before || ib.pos != cr->in_pos;
        cr->in_pos = ib.pos;
        if (rc == 0) cr->in_stream = false; /* the frame is complete and flushed */
        else if (!progress && cr->in_eof && cr->in_pos == cr->in_len)
            return rt_error_set(err, RT_ECORRUPT, cr->path, 0, 0, NULL,
                                "truncated zstd frame at the end of the file");
    }
    cr->carry_len = ob.pos;
    return RT_OK;
}

/* An end frame: it closes the indexed frames before it (since the previous end frame, so
 * that concatenated files read as well), whose count it must give. */
static rt_status read_end(csv_reader *cr, const unsigned char *p, rt_error *err)
{
    uint64_t frames = get_u64(p + 8), lines = get_u64(p + 16);
    if (frames != cr->promised_frames || lines != cr->promised_lines)
        return rt_error_set(err, RT_ECORRUPT, cr->path, cr->next_line, 0, NULL,
                            "the end frame counts %llu indexed frames of %llu line ends, the "
                            "file has %llu of %llu before it; the file was altered",
                            (unsigned long long)frames, (unsigned long long)lines,
                            (unsigned long long)cr->promised_frames,
                            (unsigned long long)cr->promised_lines);
    cr->promised_frames = cr->promised_lines = 0;
    return RT_OK;
}

/* A ratel frame index must be followed by its zstd frame, not by another skippable frame or
 * the end of the file: a frame taken out of a file, its index left, is an error. */
static rt_status check_no_waiting(const csv_reader *cr, rt_error *err)
{
    if (!cr->promise_waiting) return RT_OK;
    return rt_error_set(err, RT_ECORRUPT, cr->path, cr->next_line, 0, NULL,
                        "a ratel frame index is not followed by its zstd frame; the file was "
                        "altered or cut short");
}

/* A zstd frame starts: the index before it, if it promised an end frame, now counts. */
static void take_promise(csv_reader *cr)
{
    if (!cr->promise_waiting) return;
    cr->promised_frames++;
    cr->promised_lines += cr->promise_lines;
    cr->promise_waiting = false;
}

/* The end of the file: no frame may still wait for the end frame its index promised. */
static rt_status check_ended(const csv_reader *cr, rt_error *err)
{
    rt_status st = check_no_waiting(cr, err);
    if (st != RT_OK) return st;
    if (cr->promised_frames == 0) return RT_OK;
    return rt_error_set(err, RT_ECORRUPT, cr->path, cr->next_line, 0, NULL,
                        "the file ends after %llu indexed frames without the end frame their "
                        "writer promised: it was cut short (a writer stopped before closing "
                        "it, or an incomplete copy)",
                        (unsigned long long)cr->promised_frames);
}

/* A skippable frame: a ratel frame index is remembered for the next frame, a ratel end frame
 * is checked; any other skippable frame is skipped. */
static rt_status read_skippable(csv_reader *cr, rt_error *err)
{
    uint32_t size = get_u32(cr->in + cr->in_pos + 4);
    rt_status st = in_take(cr, NULL, 8, err);
    if (st != RT_OK) return st;
    cr->pending.valid = false;
    if (size != INDEX_PAYLOAD) return in_take(cr, NULL, size, err);
    if ((st = check_no_waiting(cr, err)) != RT_OK) return st;
    unsigned char p[INDEX_PAYLOAD];
    if ((st = in_take(cr, p, sizeof p, err)) != RT_OK) return st;
    if (get_u32(p) == END_TAG && p[4] == 1) return read_end(cr, p, err);
    if (get_u32(p) != INDEX_TAG || p[4] != 1) return RT_OK; /* not ours, or a newer version */
    frame_index *fi = &cr->pending;
    fi->aligned = (p[5] & INDEX_FLAG_ALIGNED) != 0;
    fi->compressed_bytes = get_u32(p + 8);
    fi->content_bytes = get_u64(p + 16);
    fi->newlines = get_u64(p + 24);
    if (p[5] & INDEX_FLAG_ENDED) {
        cr->promise_waiting = true;
        cr->promise_lines = fi->newlines;
    }
    fi->valid = fi->content_bytes <= FRAME_CONTENT_MAX &&
                fi->compressed_bytes <= ZSTD_compressBound((size_t)fi->content_bytes) + 1024;
    return RT_OK;
}

/* The indexed frame at the read position, still compressed, as a chunk. */
static rt_status frame_chunk(csv_reader *cr, rt_chunk *chunk, rt_error *err)
{
    const frame_index *fi = &cr->pending;
    size_t comp = fi->compressed_bytes;
    if (!grow(chunk, CHUNK_PREFIX + comp))
        return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
    unsigned char *h = (unsigned char *)chunk->data;
    put_u32(h, CHUNK_FRAME);
    put_u32(h + 4, 0);
    put_u64(h + 8, fi->content_bytes);
    put_u64(h + 16, fi->newlines);
    put_u64(h + 24, comp);
    rt_status st = in_take(cr, h + CHUNK_PREFIX, comp, err);
    if (st != RT_OK) return st;
    if (ZSTD_findFrameCompressedSize(h + CHUNK_PREFIX, comp) != comp)
        return rt_error_set(err, RT_ECORRUPT, cr->path, cr->next_line, 0, NULL,
                            "zstd frame does not match its ratel frame index (compressed "
                            "size); the file was altered");
    chunk->len = CHUNK_PREFIX + comp;
    chunk->first_line = cr->next_line;
    cr->next_line += fi->newlines;
    cr->pending.valid = false;
    return RT_OK;
}

/* ---- frames of other writers, read ahead ---- */

static bool ra_reserve(char **p, size_t *cap, size_t need)
{
    if (*cap >= need) return true;
    size_t n = *cap ? *cap : (size_t)1 << 16;
    while (n < need) n *= 2;
    char *q = realloc(*p, n);
    if (!q) return false;
    *p = q;
    *cap = n;
    return true;
}

/* Move the zstd frame at the read position into f->comp, finding its end from its own block
 * headers. Bytes read past it go back to the input buffer. */
static rt_status take_frame(csv_reader *cr, ra_frame *f, rt_error *err)
{
    size_t bound = ZSTD_compressBound((size_t)f->content) + 64;
    f->comp_len = 0;
    for (;;) {
        size_t k = cr->in_len - cr->in_pos;
        if (!ra_reserve(&f->comp, &f->comp_cap, f->comp_len + k))
            return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
        memcpy(f->comp + f->comp_len, cr->in + cr->in_pos, k);
        f->comp_len += k;
        cr->in_pos = cr->in_len;
        size_t size = ZSTD_findFrameCompressedSize(f->comp, f->comp_len);
        if (!ZSTD_isError(size)) {
            size_t extra = f->comp_len - size; /* at most the last read, so it fits `in` */
            memcpy(cr->in, f->comp + size, extra);
            cr->in_pos = 0;
            cr->in_len = extra;
            cr->consumed += size;
            f->comp_len = size;
            return RT_OK;
        }
        if (ZSTD_getErrorCode(size) != ZSTD_error_srcSize_wrong || f->comp_len > bound)
            return rt_error_set(err, RT_ECORRUPT, cr->path, 0, 0, NULL,
                                "corrupt zstd frame at byte %llu",
                                (unsigned long long)cr->consumed);
        rt_status st = in_fill(cr, 1, err);
        if (st != RT_OK) return st;
        if (cr->in_pos == cr->in_len)
            return rt_error_set(err, RT_ECORRUPT, cr->path, 0, 0, NULL,
                                "truncated zstd frame at the end of the file");
    }
}

static void ra_decompress(ra_frame *f)
{
    size_t n = ZSTD_decompress(f->buf + CHUNK_PREFIX, (size_t)f->content, f->comp, f->comp_len);
    f->bad = ZSTD_isError(n) || n != f->content;
    const char *text = f->buf + CHUNK_PREFIX;
    f->newlines = f->bad ? 0 : rt_csv_newlines(text, n);
    f->aligned = !f->bad && n > 0 && text[n - 1] == '\n' && even_quotes(text, n);
}

/* Gather the consecutive zstd frames at the read position whose content size their headers
 * give (at most RA_FRAMES, stopping at any skippable frame) and decompress them in parallel.
 * *gathered 0: nothing suitable (the caller decompresses in order). */
static rt_status read_ahead(csv_reader *cr, unsigned *gathered, rt_error *err)
{
    *gathered = 0;
    RT_ASSERT(cr->ra_count == 0);
    cr->ra_head = 0;
    while (*gathered < RA_FRAMES) {
        rt_status st = in_fill(cr, 18, err); /* the largest zstd frame header */
        if (st != RT_OK) return st;
        size_t avail = cr->in_len - cr->in_pos;
        if (avail < 4 || get_u32(cr->in + cr->in_pos) != ZSTD_FRAME_MAGIC) break;
        unsigned long long content = ZSTD_getFrameContentSize(cr->in + cr->in_pos, avail);
        if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR ||
            content > RA_FRAME_MAX)
            break;
        ra_frame *f = &cr->ra[*gathered];
        f->content = content;
        if (!ra_reserve(&f->buf, &f->cap, CHUNK_PREFIX + (size_t)content + 1))
            return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
        if ((st = take_frame(cr, f, err)) != RT_OK) return st;
        (*gathered)++;
    }
    unsigned n = *gathered;
    int threads = cr->base.threads ? (int)cr->base.threads : omp_get_max_threads();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (n > 1 && threads > 1)
    for (unsigned i = 0; i < n; i++) ra_decompress(&cr->ra[i]);
    for (unsigned i = 0; i < n; i++)
        if (cr->ra[i].bad)
            return rt_error_set(err, RT_ECORRUPT, cr->path, cr->next_line, 0, NULL,
                                "corrupt zstd frame (it does not decompress to its size)");
    cr->ra_count = n;
    return RT_OK;
}

/* The next frame read ahead: handed out as it is when it is whole records and nothing is
 * left over before it (*handed), else appended to the text left over. */
static rt_status ra_next(csv_reader *cr, rt_chunk *chunk, bool *handed, rt_error *err)
{
    ra_frame *f = &cr->ra[cr->ra_head];
    size_t len = (size_t)f->content;
    *handed = false;
    if (cr->carry_len == 0 && f->aligned) {
        char *d = chunk->data;
        size_t cap = chunk->cap;
        chunk->data = f->buf;
        chunk->cap = f->cap;
        f->buf = d;
        f->cap = cap;
        memset(chunk->data, 0, CHUNK_PREFIX);
        put_u32((unsigned char *)chunk->data, CHUNK_TEXT);
        chunk->len = CHUNK_PREFIX + len;
        chunk->first_line = cr->next_line;
        cr->next_line += f->newlines;
        *handed = true;
    } else if (len > 0) {
        if (!carry_reserve(cr, cr->carry_len + len))
            return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
        memcpy(CARRY(cr) + cr->carry_len, f->buf + CHUNK_PREFIX, len);
        cr->carry_len += len;
    }
    cr->ra_head++;
    cr->ra_count--;
    return RT_OK;
}

/* One step between frames: consume a skippable frame, or start the next zstd frame (handing
 * it out compressed when its index allows: *handed set). *at_end at the end of the file. */
static rt_status between_frames(csv_reader *cr, rt_chunk *chunk, bool may_hand_out, bool *handed,
                                bool *at_end, rt_error *err)
{
    *handed = *at_end = false;
    rt_status st = in_fill(cr, 8, err);
    if (st != RT_OK) return st;
    size_t avail = cr->in_len - cr->in_pos;
    if (avail == 0) {
        *at_end = true;
        return RT_OK;
    }
    uint32_t magic = avail >= 4 ? get_u32(cr->in + cr->in_pos) : 0;
    if ((magic & 0xFFFFFFF0u) == 0x184D2A50u && avail >= 8) return read_skippable(cr, err);
    if (magic != ZSTD_FRAME_MAGIC)
        return rt_error_set(err, RT_ECORRUPT, cr->path, 0, 0, NULL,
                            "not a zstd frame at byte %llu (damaged or truncated file)",
                            (unsigned long long)cr->consumed);
    take_promise(cr);
    if (may_hand_out && cr->pending.valid && cr->pending.aligned && cr->carry_len == 0) {
        *handed = true;
        return frame_chunk(cr, chunk, err);
    }
    cr->pending.valid = false;
    if (may_hand_out) {
        unsigned gathered;
        rt_status st2 = read_ahead(cr, &gathered, err);
        if (st2 != RT_OK || gathered > 0) return st2;
    }
    ZSTD_DCtx_reset(cr->ds, ZSTD_reset_session_only);
    cr->in_stream = true;
    return RT_OK;
}

static rt_status framed_next_chunk(csv_reader *cr, rt_chunk *chunk, int *eof, rt_error *err)
{
    *eof = 0;
    size_t cut = 0;
    for (;;) {
        rt_status st;
        if (cr->ra_count > 0) {
            bool handed;
            if ((st = ra_next(cr, chunk, &handed, err)) != RT_OK) return st;
            if (handed) {
                chunk->source_offset = cr->consumed;
                return RT_OK;
            }
        } else if (cr->in_stream) {
            size_t limit = cr->carry_len < cr->chunk_bytes ? cr->chunk_bytes : cr->carry_len * 2;
            if ((st = stream_some(cr, limit, err)) != RT_OK) return st;
        } else {
            /* Text left over before an indexed frame goes out first when it is whole
             * records; otherwise that frame is decompressed in order and stitched on. */
            if (cr->carry_len > 0 && cr->pending.valid &&
                rt_csv_last_boundary(CARRY(cr), cr->carry_len) == cr->carry_len) {
                cut = cr->carry_len;
                break;
            }
            bool handed, at_end;
            if ((st = between_frames(cr, chunk, true, &handed, &at_end, err)) != RT_OK) return st;
            if (handed) {
                chunk->source_offset = cr->consumed;
                return RT_OK;
            }
            if (at_end) {
                if ((st = check_ended(cr, err)) != RT_OK) return st;
                cr->eof = true;
                cut = cr->carry_len;
                break;
            }
        }
        if (cr->carry_len >= cr->chunk_bytes &&
            (cut = cut_point(CARRY(cr), cr->carry_len, false)) > 0)
            break;
    }
    rt_status st = emit_carry(cr, chunk, cut, err);
    chunk->source_offset = cr->consumed;
    *eof = cut == 0;
    return st;
}

static rt_status csv_next_chunk(rt_usage_reader *r, rt_chunk *chunk, int *eof, rt_error *err)
{
    csv_reader *cr = (csv_reader *)r;
    return cr->framed ? framed_next_chunk(cr, chunk, eof, err)
                      : plain_next_chunk(cr, chunk, eof, err);
}

static void csv_info(const rt_usage_reader *r, rt_input_info *info)
{
    const csv_reader *cr = (const csv_reader *)r;
    if (cr->framed) {
        info->bytes = cr->read_bytes;
        info->xxh64 = XXH64_digest(cr->hash);
    } else {
        rt_zreader_checksum(cr->z, &info->bytes, &info->xxh64);
    }
}

static void csv_close(rt_usage_reader *r)
{
    csv_reader *cr = (csv_reader *)r;
    if (!cr) return;
    rt_zreader_close(cr->z);
    if (cr->fd >= 0) close(cr->fd);
    free(cr->in);
    XXH64_freeState(cr->hash);
    ZSTD_freeDStream(cr->ds);
    for (unsigned i = 0; i < RA_FRAMES; i++) {
        free(cr->ra[i].comp);
        free(cr->ra[i].buf);
    }
    free(cr->map_ctx);
    rt_arena_free(&cr->names);
    free(cr->cbuf);
    free(cr->path);
    free(cr);
}

static const rt_usage_reader_ops csv_ops = {csv_next_chunk, csv_parse_chunk, csv_info, csv_close};

/* ---- header ---- */

/* Read text until carry holds a line end (or HEADER_MAX bytes, or the input ends). Frames
 * are decompressed in order here: the first frame holds the header. */
static rt_status fill_header_text(csv_reader *cr, rt_error *err)
{
    if (!carry_reserve(cr, HEADER_MAX))
        return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
    while (!memchr(CARRY(cr), '\n', cr->carry_len) && cr->carry_len < HEADER_MAX && !cr->eof) {
        rt_status st;
        if (!cr->framed) {
            size_t got;
            st = rt_zreader_read(cr->z, CARRY(cr) + cr->carry_len, HEADER_MAX - cr->carry_len,
                                 &got, err);
            if (got == 0) cr->eof = true;
            cr->carry_len += got;
        } else if (cr->in_stream) {
            st = stream_some(cr, HEADER_MAX, err);
        } else {
            bool handed, at_end;
            st = between_frames(cr, NULL, false, &handed, &at_end, err);
            if (st == RT_OK && at_end) {
                cr->eof = true;
                st = check_ended(cr, err);
            }
        }
        if (st != RT_OK) return st;
    }
    return RT_OK;
}

static rt_status read_header(csv_reader *cr, rt_error *err)
{
    rt_status st = fill_header_text(cr, err);
    if (st != RT_OK) return st;
    char *carry = CARRY(cr);
    char *nl = memchr(carry, '\n', cr->carry_len);
    if (cr->carry_len == 0)
        return rt_error_set(err, RT_EPARSE, cr->path, 1, 0, NULL,
                            "empty file: a usage CSV starts with a header row");
    if (!nl && !cr->eof)
        return rt_error_set(err, RT_EPARSE, cr->path, 1, 0, NULL,
                            "header row longer than %zu bytes", HEADER_MAX);
    const char *p = carry, *end = nl ? nl + 1 : carry + cr->carry_len;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte order mark */
    rt_csv_record rec;
    rt_arena scratch;
    rt_arena_init(&scratch, 4096);
    const char *why;
    uint32_t column;
    st = rt_csv_parse(&p, end, &scratch, &rec, &why, &column);
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
    /* Every column name, kept for the field of a reject that can only give a column number
     * (a malformed record). */
    rt_arena_init(&cr->names, 1024);
    cr->cols.names = rt_csv_field_strings(&rec, &cr->names);
    cr->cols.name_count = (uint32_t)rec.count;
    rt_arena_free(&scratch);
    if (!cr->cols.names) return rt_error_set(err, RT_ENOMEM, cr->path, 1, 0, NULL, "out of memory");
    for (int k = 0; k < COL_CALLED; k++)
        if (cr->cols.at[k] < 0)
            return rt_error_set(err, RT_EPARSE, cr->path, 1, 0, col_names[k],
                                "the header has no '%s' column", col_names[k]);
    size_t used = (size_t)(end - carry);
    memmove(carry, carry + used, cr->carry_len - used);
    cr->carry_len -= used;
    cr->next_line = 2;
    return RT_OK;
}

/* A zstd file is read frame by frame with our own buffer instead of the streaming reader. */
static rt_status open_framed(csv_reader *cr, rt_error *err)
{
    rt_zreader_close(cr->z);
    cr->z = NULL;
    cr->framed = true;
    cr->fd = open(cr->path, O_RDONLY);
    if (cr->fd < 0)
        return rt_error_set(err, errno == ENOENT ? RT_ENOTFOUND : RT_EIO, cr->path, 0, 0, NULL,
                            "cannot open: %s", strerror(errno));
    cr->in = malloc(IN_BUF_SIZE);
    cr->hash = XXH64_createState();
    cr->ds = ZSTD_createDStream();
    if (!cr->in || !cr->hash || !cr->ds)
        return rt_error_set(err, RT_ENOMEM, cr->path, 0, 0, NULL, "out of memory");
    XXH64_reset(cr->hash, 0);
    return RT_OK;
}

static rt_status open_reader(const char *path, size_t chunk_bytes, rt_usage_csv_mapper map,
                             const void *ctx, size_t ctx_size, rt_usage_reader **out,
                             rt_error *err)
{
    csv_reader *cr = calloc(1, sizeof *cr);
    if (!cr) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    cr->fd = -1;
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
    if (rt_zreader_compressed(cr->z) && (st = open_framed(cr, err)) != RT_OK) goto fail;
    if (map) {
        cr->map_ctx = malloc(ctx_size ? ctx_size : 1);
        if (!cr->map_ctx) {
            st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
            goto fail;
        }
        memcpy(cr->map_ctx, ctx, ctx_size);
        cr->cols.map = map;
        cr->cols.map_ctx = cr->map_ctx;
        cr->next_line = 1;
    } else if ((st = read_header(cr, err)) != RT_OK) {
        goto fail;
    }
    *out = &cr->base;
    return RT_OK;
fail:
    csv_close(&cr->base);
    return st;
}

rt_status rt_usage_csv_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                            rt_error *err)
{
    return open_reader(path, chunk_bytes, NULL, NULL, 0, out, err);
}

rt_status rt_usage_csv_open_mapped(const char *path, size_t chunk_bytes, rt_usage_csv_mapper map,
                                   const void *ctx, size_t ctx_size, rt_usage_reader **out,
                                   rt_error *err)
{
    RT_ASSERT(map != NULL);
    return open_reader(path, chunk_bytes, map, ctx, ctx_size, out, err);
}

/* ---- canonical text ---- */

const char *rt_usage_csv_header(void)
{
    return "event_id,account_id,product_id,start_time,quantity,called_number\n";
}

static char *put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* "YYYY-MM-DDThh:mm:ssZ" without snprintf: this runs once per record in convert. */
static void put_time(rt_buf *b, rt_time_s t)
{
    char s[24], *p = s;
    rt_days d = rt_days_of(t);
    int64_t sod = t - rt_time_of_days(d);
    int y;
    unsigned m, dd;
    rt_civil_from_days(d, &y, &m, &dd);
    RT_ASSERT(y >= 1 && y <= 9999);
    p = put_digits(p, (unsigned)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, dd, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(sod % 60), 2);
    *p++ = 'Z';
    rt_buf_append(b, s, (size_t)(p - s));
}

void rt_usage_csv_format_event(rt_buf *b, const rt_event *ev)
{
    char q[48];
    rt_csv_put_exact(b, ev->event_id, ev->event_id_len);
    rt_csv_sep(b);
    rt_csv_put_exact(b, ev->account, ev->account_len);
    rt_csv_sep(b);
    rt_csv_put_exact(b, ev->product, ev->product_len);
    rt_csv_sep(b);
    put_time(b, ev->start_s);
    rt_csv_sep(b);
    size_t n =
        rt_decimal_format(ev->qty_mantissa, ev->qty_scale, ev->qty_scale, 0, '.', q, sizeof q);
    rt_buf_append(b, q, n);
    rt_csv_sep(b);
    rt_csv_put_exact(b, ev->called, ev->called_len);
}

/* ---- indexed frames ---- */

rt_status rt_usage_csv_frame(ZSTD_CCtx *cctx, int level, const char *text, size_t len,
                             rt_buf *out)
{
    bool aligned = len == 0 || (text[len - 1] == '\n' && even_quotes(text, len));
    size_t bound = ZSTD_compressBound(len);
    if (!rt_buf_reserve(out, 8 + INDEX_PAYLOAD + bound)) return RT_ENOMEM;
    unsigned char *h = (unsigned char *)out->data + out->len;
    if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)))
        return RT_EZSTD;
    size_t n = ZSTD_compress2(cctx, h + 8 + INDEX_PAYLOAD, bound, text, len);
    if (ZSTD_isError(n)) return RT_EZSTD;
    if (n > UINT32_MAX || len > FRAME_CONTENT_MAX) return RT_ELIMIT;
    memset(h, 0, 8 + INDEX_PAYLOAD);
    put_u32(h, INDEX_MAGIC);
    put_u32(h + 4, INDEX_PAYLOAD);
    unsigned char *p = h + 8;
    put_u32(p, INDEX_TAG);
    p[4] = 1; /* index version */
    p[5] = (unsigned char)((aligned ? INDEX_FLAG_ALIGNED : 0) | INDEX_FLAG_ENDED);
    put_u32(p + 8, (uint32_t)n);
    put_u64(p + 16, len);
    put_u64(p + 24, rt_csv_newlines(text, len));
    out->len += 8 + INDEX_PAYLOAD + n;
    return RT_OK;
}

void rt_usage_csv_count(rt_usage_csv_tally *t, const void *framed, size_t len)
{
    const unsigned char *b = framed;
    size_t at = 0;
    while (at + 8 + INDEX_PAYLOAD <= len) {
        const unsigned char *p = b + at + 8;
        RT_ASSERT(get_u32(b + at) == INDEX_MAGIC && get_u32(p) == INDEX_TAG);
        t->frames++;
        t->lines += get_u64(p + 24);
        at += 8 + INDEX_PAYLOAD + get_u32(p + 8);
    }
    RT_ASSERT(at == len);
}

void rt_usage_csv_end(const rt_usage_csv_tally *t, unsigned char frame[RT_USAGE_CSV_END_BYTES])
{
    _Static_assert(RT_USAGE_CSV_END_BYTES == 8 + INDEX_PAYLOAD, "an end frame's size");
    memset(frame, 0, RT_USAGE_CSV_END_BYTES);
    put_u32(frame, INDEX_MAGIC);
    put_u32(frame + 4, INDEX_PAYLOAD);
    unsigned char *p = frame + 8;
    put_u32(p, END_TAG);
    p[4] = 1; /* end frame version */
    put_u64(p + 8, t->frames);
    put_u64(p + 16, t->lines);
}

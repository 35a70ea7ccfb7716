/* usage_native: native columnar usage files, written and read. */
#include "formats/usage_native.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/strmap.h"
#include "formats/zio.h"

/* ---- layout constants (formats/README.md, "Native usage files") ---- */
static const unsigned char FILE_MAGIC[8] = {0x89, 'R', 'T', 'U', '\r', '\n', 0x1A, '\n'};
#define HEADER_SIZE 24u
#define BLOCK_HEADER_SIZE 32u
#define BLOCK_TRAILER_SIZE 8u
#define BLOCK_OVERHEAD (BLOCK_HEADER_SIZE + BLOCK_TRAILER_SIZE)
#define BLOCK_MAGIC 0x4B425452u  /* "RTBK" */
#define FOOTER_MAGIC 0x54465452u /* "RTFT" */
#define TRAILER_MAGIC 0x444E5452u /* "RTND" */
#define TRAILER_SIZE 16u
#define FOOTER_FIXED 24u /* magic, count, total records, checksum */
#define ENTRY_SIZE 16u
#define PAYLOAD_CALLED 1u /* payload flag: the called number column is present */
#define SUFFIX_DIGITS_MAX 19u

enum { DICT_ACCOUNT, DICT_PRODUCT, DICT_PREFIX, DICT_COUNT };
enum { COL_ACCOUNT, COL_PRODUCT, COL_EVENT_ID, COL_TIME, COL_QTY, COL_CALLED, COL_COUNT };
static const uint16_t dict_len_max[DICT_COUNT] = {RT_NATIVE_ACCOUNT_LEN_MAX,
                                                  RT_NATIVE_PRODUCT_LEN_MAX, RT_EVENT_ID_LEN_MAX};

_Static_assert(RT_NATIVE_BLOCK_RECORDS_MAX <= UINT32_MAX / 64, "per-record sizes fit 32 bits");

/* ---- little-endian integers and varints ---- */

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint16_t get_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void buf_u32(rt_buf *b, uint32_t v)
{
    unsigned char t[4];
    put_u32(t, v);
    rt_buf_append(b, t, 4);
}

static void buf_varint(rt_buf *b, uint64_t v)
{
    unsigned char t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (unsigned char)v;
    rt_buf_append(b, t, n);
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* A bounded reader over decoded bytes: any overrun sets `bad` and reads as zero. */
typedef struct cursor {
    const unsigned char *p, *end;
    int bad;
} cursor;

static uint64_t cur_varint(cursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) break;
        unsigned char byte = *c->p++;
        if (shift == 63 && byte > 1) break; /* more than 64 bits */
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return v;
    }
    c->bad = 1;
    return 0;
}

static unsigned cur_u8(cursor *c)
{
    if (c->p >= c->end) {
        c->bad = 1;
        return 0;
    }
    return *c->p++;
}

static const unsigned char *cur_bytes(cursor *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    const unsigned char *s = c->p;
    c->p += n;
    return s;
}

/* ---- event id split: prefix + up to 19 trailing digits ---- */

static size_t suffix_digits(const char *id, size_t len)
{
    size_t n = 0;
    while (n < len && n < SUFFIX_DIGITS_MAX && id[len - 1 - n] >= '0' && id[len - 1 - n] <= '9')
        n++;
    return n;
}

static uint64_t digits_value(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (uint64_t)(s[i] - '0');
    return v;
}

static const uint64_t pow10_u64[SUFFIX_DIGITS_MAX + 1] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull};

/* ---- block builder ---- */

struct rt_native_block {
    rt_arena strings; /* dictionary keys */
    rt_strmap map[DICT_COUNT];
    rt_buf dict[DICT_COUNT]; /* entries as stored: varint length + bytes */
    uint32_t dict_n[DICT_COUNT];
    rt_buf col[COL_COUNT];
    uint32_t records;
    int has_called;
    int64_t prev_time;
    uint64_t prev_suffix;
    rt_buf payload;
};

static rt_status maps_init(rt_native_block *b)
{
    for (int d = 0; d < DICT_COUNT; d++)
        if (rt_strmap_init(&b->map[d], 1024) != RT_OK) return RT_ENOMEM;
    return RT_OK;
}

rt_native_block *rt_native_block_new(void)
{
    rt_native_block *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    rt_arena_init(&b->strings, 64 * 1024);
    for (int d = 0; d < DICT_COUNT; d++) rt_buf_init(&b->dict[d]);
    for (int c = 0; c < COL_COUNT; c++) rt_buf_init(&b->col[c]);
    rt_buf_init(&b->payload);
    if (maps_init(b) != RT_OK) {
        rt_native_block_free(b);
        return NULL;
    }
    return b;
}

void rt_native_block_free(rt_native_block *b)
{
    if (!b) return;
    rt_arena_free(&b->strings);
    for (int d = 0; d < DICT_COUNT; d++) {
        rt_strmap_free(&b->map[d]);
        rt_buf_free(&b->dict[d]);
    }
    for (int c = 0; c < COL_COUNT; c++) rt_buf_free(&b->col[c]);
    rt_buf_free(&b->payload);
    free(b);
}

void rt_native_block_reset(rt_native_block *b)
{
    rt_arena_reset(&b->strings);
    for (int d = 0; d < DICT_COUNT; d++) {
        /* Dropping every key is cheapest as a fresh map of the same size. */
        size_t cap = b->map[d].mask + 1;
        rt_strmap_free(&b->map[d]);
        if (rt_strmap_init(&b->map[d], cap / 2) != RT_OK) b->payload.failed = true;
        rt_buf_reset(&b->dict[d]);
        b->dict_n[d] = 0;
    }
    for (int c = 0; c < COL_COUNT; c++) rt_buf_reset(&b->col[c]);
    b->records = 0;
    b->has_called = 0;
    b->prev_time = 0;
    b->prev_suffix = 0;
}

size_t rt_native_block_records(const rt_native_block *b) { return b->records; }

/* Index of s in dictionary d, adding it when new. */
static rt_status dict_ref(rt_native_block *b, int d, const char *s, size_t len, uint32_t *ref)
{
    if (!b->map[d].slots) return RT_ENOMEM;
    if (rt_strmap_get(&b->map[d], s, len, ref) == RT_OK) return RT_OK;
    char *copy = rt_arena_strndup(&b->strings, s, len);
    if (!copy) return RT_ENOMEM;
    *ref = b->dict_n[d];
    if (rt_strmap_put(&b->map[d], copy, len, *ref) != RT_OK) return RT_ENOMEM;
    b->dict_n[d]++;
    buf_varint(&b->dict[d], len);
    rt_buf_append(&b->dict[d], s, len);
    return RT_OK;
}

static const char *check_event(const rt_event *ev)
{
    if (ev->event_id_len == 0) return "event_id is empty";
    if (ev->event_id_len > RT_EVENT_ID_LEN_MAX) return "event_id is too long";
    if (ev->account_len == 0) return "account_id is empty";
    if (ev->account_len > RT_NATIVE_ACCOUNT_LEN_MAX) return "account_id is too long";
    if (ev->product_len == 0) return "product_id is empty";
    if (ev->product_len > RT_NATIVE_PRODUCT_LEN_MAX) return "product_id is too long";
    if (ev->called_len > RT_NUMBER_LEN_MAX) return "called_number is too long";
    if (ev->qty_scale > 6) return "quantity has more than 6 decimals";
    if (ev->start_s < RT_TIME_MIN || ev->start_s > RT_TIME_MAX) return "start_time out of range";
    return NULL;
}

rt_status rt_native_block_add(rt_native_block *b, const rt_event *ev, const char **why)
{
    *why = check_event(ev);
    if (*why) return RT_ELIMIT;
    if (b->records >= RT_NATIVE_BLOCK_RECORDS_MAX) {
        *why = "block is full";
        return RT_ELIMIT;
    }
    uint32_t acc, prod, pfx;
    size_t nd = suffix_digits(ev->event_id, ev->event_id_len);
    size_t plen = ev->event_id_len - nd;
    if (dict_ref(b, DICT_ACCOUNT, ev->account, ev->account_len, &acc) != RT_OK ||
        dict_ref(b, DICT_PRODUCT, ev->product, ev->product_len, &prod) != RT_OK ||
        dict_ref(b, DICT_PREFIX, ev->event_id, plen, &pfx) != RT_OK)
        return RT_ENOMEM;
    buf_varint(&b->col[COL_ACCOUNT], acc);
    buf_varint(&b->col[COL_PRODUCT], prod);
    buf_varint(&b->col[COL_EVENT_ID], pfx);
    rt_buf_putc(&b->col[COL_EVENT_ID], (char)nd);
    if (nd) {
        uint64_t v = digits_value(ev->event_id + plen, nd);
        buf_varint(&b->col[COL_EVENT_ID], zigzag((int64_t)(v - b->prev_suffix)));
        b->prev_suffix = v;
    }
    buf_varint(&b->col[COL_TIME], zigzag(ev->start_s - b->prev_time));
    b->prev_time = ev->start_s;
    rt_buf_putc(&b->col[COL_QTY], (char)ev->qty_scale);
    buf_varint(&b->col[COL_QTY], zigzag(ev->qty_mantissa));
    buf_varint(&b->col[COL_CALLED], ev->called_len);
    rt_buf_append(&b->col[COL_CALLED], ev->called, ev->called_len);
    if (ev->called_len) b->has_called = 1;
    b->records++;
    return RT_OK;
}

static void put_section(rt_buf *p, const rt_buf *s, const void *prefix, size_t prefix_len)
{
    buf_u32(p, (uint32_t)(s->len + prefix_len));
    rt_buf_append(p, prefix, prefix_len);
    rt_buf_append(p, s->data, s->len);
}

/* The decompressed payload: flags, record count, then each section as length + bytes. */
static rt_status build_payload(rt_native_block *b)
{
    rt_buf *p = &b->payload;
    rt_buf_reset(p);
    unsigned char head[8] = {(unsigned char)(b->has_called ? PAYLOAD_CALLED : 0), 0, 0, 0};
    put_u32(head + 4, b->records);
    rt_buf_append(p, head, sizeof head);
    for (int d = 0; d < DICT_COUNT; d++) {
        unsigned char cnt[10];
        size_t n = 0;
        uint64_t v = b->dict_n[d];
        while (v >= 0x80) {
            cnt[n++] = (unsigned char)(v | 0x80);
            v >>= 7;
        }
        cnt[n++] = (unsigned char)v;
        put_section(p, &b->dict[d], cnt, n);
    }
    for (int c = 0; c < COL_COUNT; c++) {
        if (c == COL_CALLED && !b->has_called) continue;
        put_section(p, &b->col[c], NULL, 0);
    }
    for (int c = 0; c < COL_COUNT; c++)
        if (b->col[c].failed) return RT_ENOMEM;
    for (int d = 0; d < DICT_COUNT; d++)
        if (b->dict[d].failed) return RT_ENOMEM;
    if (p->failed) return RT_ENOMEM;
    return p->len > RT_NATIVE_PAYLOAD_MAX ? RT_ELIMIT : RT_OK;
}

rt_status rt_native_block_finish(rt_native_block *b, uint32_t block_no, uint64_t first_record,
                                 int level, ZSTD_CCtx *cctx, rt_buf *out)
{
    if (b->records == 0) return RT_EINVAL;
    rt_status st = build_payload(b);
    if (st != RT_OK) return st;
    size_t bound = ZSTD_compressBound(b->payload.len);
    if (!rt_buf_reserve(out, BLOCK_OVERHEAD + bound)) return RT_ENOMEM;
    unsigned char *h = (unsigned char *)out->data + out->len;
    size_t n = ZSTD_compressCCtx(cctx, h + BLOCK_HEADER_SIZE, bound, b->payload.data,
                                 b->payload.len, level);
    if (ZSTD_isError(n)) return RT_EZSTD;
    if (n > UINT32_MAX - BLOCK_OVERHEAD) return RT_ELIMIT;
    put_u32(h, BLOCK_MAGIC);
    put_u32(h + 4, block_no);
    put_u32(h + 8, b->records);
    put_u32(h + 12, (uint32_t)b->payload.len);
    put_u32(h + 16, (uint32_t)n);
    put_u32(h + 20, 0);
    put_u64(h + 24, first_record);
    put_u64(h + BLOCK_HEADER_SIZE + n, XXH3_64bits(h, BLOCK_HEADER_SIZE + n));
    out->len += BLOCK_OVERHEAD + n;
    return RT_OK;
}

/* ---- writer ---- */

typedef struct index_entry {
    uint64_t offset;
    uint32_t size;
    uint32_t records;
} index_entry;

struct rt_native_writer {
    rt_zwriter *z;
    char *path;
    uint64_t offset;
    uint64_t records;
    index_entry *index;
    uint32_t count, cap;
};

rt_status rt_native_writer_open(const char *path, rt_native_writer **out, rt_error *err)
{
    rt_native_writer *w = calloc(1, sizeof *w);
    if (!w) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    rt_status st = rt_zwriter_open(path, 0, &w->z, err);
    if (st != RT_OK) goto fail;
    w->path = strdup(path);
    if (!w->path) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    unsigned char h[HEADER_SIZE];
    memcpy(h, FILE_MAGIC, 8);
    put_u16(h + 8, RT_NATIVE_VERSION);
    put_u16(h + 10, HEADER_SIZE);
    put_u32(h + 12, 0);
    put_u64(h + 16, XXH64(h, 16, 0));
    if ((st = rt_zwriter_write_raw(w->z, h, sizeof h, err)) != RT_OK) goto fail;
    w->offset = HEADER_SIZE;
    *out = w;
    return RT_OK;
fail:
    rt_native_writer_abort(w);
    return st;
}

void rt_native_writer_next(const rt_native_writer *w, uint32_t *block_no, uint64_t *first_record)
{
    *block_no = w->count;
    *first_record = w->records;
}

rt_status rt_native_writer_put(rt_native_writer *w, const void *block, size_t len, rt_error *err)
{
    const unsigned char *h = block;
    RT_ASSERT(len >= BLOCK_OVERHEAD && get_u32(h) == BLOCK_MAGIC);
    RT_ASSERT(len == BLOCK_OVERHEAD + (size_t)get_u32(h + 16));
    if (get_u32(h + 4) != w->count || get_u64(h + 24) != w->records)
        return rt_error_set(err, RT_EINVAL, w->path, 0, 0, NULL,
                            "block %u written out of order", get_u32(h + 4));
    if (w->count == RT_NATIVE_BLOCKS_MAX)
        return rt_error_set(err, RT_ELIMIT, w->path, 0, 0, NULL, "more than %u blocks",
                            (unsigned)RT_NATIVE_BLOCKS_MAX);
    if (w->count == w->cap) {
        uint32_t cap = w->cap ? w->cap * 2 : 256;
        index_entry *e = realloc(w->index, cap * sizeof *e);
        if (!e) return rt_error_set(err, RT_ENOMEM, w->path, 0, 0, NULL, "out of memory");
        w->index = e;
        w->cap = cap;
    }
    rt_status st = rt_zwriter_write_raw(w->z, block, len, err);
    if (st != RT_OK) return st;
    w->index[w->count++] = (index_entry){w->offset, (uint32_t)len, get_u32(h + 8)};
    w->offset += len;
    w->records += get_u32(h + 8);
    return RT_OK;
}

rt_status rt_native_writer_close(rt_native_writer *w, uint64_t *records, uint64_t *bytes,
                                 uint64_t *xxh64, rt_error *err)
{
    rt_buf f;
    rt_buf_init(&f);
    unsigned char t[16];
    put_u32(t, FOOTER_MAGIC);
    put_u32(t + 4, w->count);
    put_u64(t + 8, w->records);
    rt_buf_append(&f, t, 16);
    for (uint32_t i = 0; i < w->count; i++) {
        put_u64(t, w->index[i].offset);
        put_u32(t + 8, w->index[i].size);
        put_u32(t + 12, w->index[i].records);
        rt_buf_append(&f, t, 16);
    }
    put_u64(t, XXH64(f.data, f.len, 0));
    rt_buf_append(&f, t, 8);
    put_u64(t, w->offset);
    put_u32(t + 8, (uint32_t)f.len);
    put_u32(t + 12, TRAILER_MAGIC);
    rt_buf_append(&f, t, 16);
    rt_status st;
    if (f.failed || f.len - TRAILER_SIZE > UINT32_MAX)
        st = rt_error_set(err, RT_ENOMEM, w->path, 0, 0, NULL, "out of memory");
    else
        st = rt_zwriter_write_raw(w->z, f.data, f.len, err);
    rt_buf_free(&f);
    if (records) *records = w->records;
    if (st == RT_OK) {
        st = rt_zwriter_close(w->z, bytes, xxh64, err);
        w->z = NULL;
    }
    rt_native_writer_abort(w);
    return st;
}

void rt_native_writer_abort(rt_native_writer *w)
{
    if (!w) return;
    rt_zwriter_abort(w->z);
    free(w->index);
    free(w->path);
    free(w);
}

/* ---- block decoding ---- */

typedef struct dict_entry {
    const char *s;
    uint64_t len;
} dict_entry;

/* One block's decoding memory, carved from a single arena allocation sized for the worst
 * case: after the first block the batch arena keeps that allocation (it is the arena's first
 * block), so decoding touches no fresh pages. */
typedef struct region {
    char *p, *end;
} region;

static void *region_take(region *r, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(r->end - r->p) < n) return NULL;
    void *q = r->p;
    r->p += n;
    return q;
}

static size_t region_size(uint32_t payload_len, uint32_t records)
{
    size_t per_record = DICT_COUNT * sizeof(dict_entry) +
                        RT_EVENT_ID_LEN_MAX + SUFFIX_DIGITS_MAX;
    size_t need = (size_t)payload_len + (size_t)records * per_record + 16 * (DICT_COUNT * 2 + 8);
    /* A power of two, so that blocks of similar sizes all fit the kept allocation. */
    size_t size = (size_t)1 << 16;
    while (size < need) size <<= 1;
    return size;
}

typedef struct dict_view {
    dict_entry *e; /* string and length side by side: one cache line per lookup */
    uint32_t count;
    uint16_t longest;
} dict_view;

static rt_status corrupt(rt_error *err, const char *path, uint32_t block_no, const char *what)
{
    return rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL, "block %u: %s", block_no, what);
}

/* One section: a 32-bit length and that many bytes. */
static int take_section(cursor *all, cursor *sec)
{
    const unsigned char *h = cur_bytes(all, 4);
    if (!h) return 0;
    uint32_t n = get_u32(h);
    const unsigned char *s = cur_bytes(all, n);
    if (!s) return 0;
    *sec = (cursor){s, s + n, 0};
    return 1;
}

static int read_dict(cursor *all, region *a, uint32_t records, uint16_t len_max, int allow_empty,
                     dict_view *d)
{
    cursor c;
    if (!take_section(all, &c)) return 0;
    uint64_t n = cur_varint(&c);
    if (c.bad || n > records || (n == 0 && records > 0)) return 0;
    d->count = (uint32_t)n;
    d->longest = 0;
    d->e = region_take(a, (size_t)n * sizeof *d->e + 1);
    if (!d->e) return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t len = cur_varint(&c);
        if (c.bad || len > len_max || (len == 0 && !allow_empty)) return 0;
        const unsigned char *s = cur_bytes(&c, (size_t)len);
        if (!s) return 0;
        d->e[i] = (dict_entry){(const char *)s, len};
        if (len > d->longest) d->longest = (uint16_t)len;
    }
    return c.p == c.end;
}

/* The columns of a block, each a cursor over its section. */
typedef struct columns {
    cursor acc, prod, eid, time, qty, called;
    int has_called;
} columns;

/* Make room for n more events without zeroing them: every field is set by decode_rows. */
static int reserve_events(rt_event_batch *b, size_t n)
{
    if (b->capacity - b->count >= n) return 1;
    size_t cap = b->capacity ? b->capacity : 4096;
    while (cap - b->count < n) cap *= 2;
    rt_event *e = realloc(b->events, cap * sizeof *e);
    if (!e) return 0;
    b->events = e;
    b->capacity = cap;
    return 1;
}

/* Varint with a fast path when ten bytes are surely there. */
static inline uint64_t varint(cursor *c)
{
    const unsigned char *p = c->p;
    if (c->end - p >= 10) {
        uint64_t v = p[0] & 0x7F;
        if (!(p[0] & 0x80)) {
            c->p = p + 1;
            return v;
        }
        for (unsigned i = 1; i < 10; i++) {
            v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
            if (!(p[i] & 0x80)) {
                if (i == 9 && p[i] > 1) break;
                c->p = p + i + 1;
                return v;
            }
        }
        c->bad = 1;
        return 0;
    }
    return cur_varint(c);
}

/* Decoding state carried from row to row. */
typedef struct row_state {
    uint64_t suffix;  /* previous suffix value */
    int64_t time;     /* previous start time */
    char digits[24]; /* the previous suffix rendered with `nd` digits (and room to spare) */
    unsigned nd;
} row_state;

/* The suffix v with nd digits. Ids mostly count up by small steps, so the previous rendering
 * plus the step (a decimal addition over a digit or two) is much cheaper than dividing every
 * digit out again. */
static void render_suffix(row_state *st, uint64_t v, unsigned nd, char *out)
{
    uint64_t step = v - st->suffix;
    if (nd == st->nd && v > st->suffix && step < 1000) {
        unsigned carry = 0;
        for (unsigned j = nd; j-- > 0 && (step || carry);) {
            unsigned digit = (unsigned)(st->digits[j] - '0') + (unsigned)(step % 10) + carry;
            step /= 10;
            carry = digit >= 10;
            st->digits[j] = (char)('0' + digit - (carry ? 10 : 0));
        }
    } else {
        uint64_t x = v;
        for (unsigned j = nd; j-- > 0;) {
            st->digits[j] = (char)('0' + x % 10);
            x /= 10;
        }
        st->nd = nd;
    }
    /* A fixed-size copy is one vector move; a variable one is a slow string instruction.
     * The text buffer has slack behind every id for it. */
    memcpy(out, st->digits, sizeof st->digits);
}

/* One row: every column's value of record i. 1 ok, 0 malformed. */
static int decode_row(columns *k, const dict_view *d, rt_event *ev, char **text, row_state *st)
{
    uint64_t a = varint(&k->acc), p = varint(&k->prod), r = varint(&k->eid);
    unsigned nd = cur_u8(&k->eid);
    if (k->acc.bad || k->prod.bad || k->eid.bad || a >= d[DICT_ACCOUNT].count ||
        p >= d[DICT_PRODUCT].count || r >= d[DICT_PREFIX].count || nd > SUFFIX_DIGITS_MAX)
        return 0;
    ev->account = d[DICT_ACCOUNT].e[a].s;
    ev->account_len = (uint16_t)d[DICT_ACCOUNT].e[a].len;
    ev->product = d[DICT_PRODUCT].e[p].s;
    ev->product_len = (uint16_t)d[DICT_PRODUCT].e[p].len;
    size_t plen = d[DICT_PREFIX].e[r].len;
    if (plen + nd == 0 || plen + nd > RT_EVENT_ID_LEN_MAX) return 0;
    char *t = *text;
    /* Short prefixes (the usual case) are copied as one 16-byte move: the dictionary sits
     * inside the block's region with room behind it, and so does the text buffer. */
    if (plen <= 16)
        memcpy(t, d[DICT_PREFIX].e[r].s, 16);
    else
        memcpy(t, d[DICT_PREFIX].e[r].s, plen);
    if (nd) {
        uint64_t v = st->suffix + (uint64_t)unzigzag(varint(&k->eid));
        if (k->eid.bad || v >= pow10_u64[nd]) return 0; /* the value must fit its digits */
        render_suffix(st, v, nd, t + plen);
        st->suffix = v;
    }
    ev->event_id = t;
    ev->event_id_len = (uint16_t)(plen + nd);
    *text = t + plen + nd;
    int64_t dt = unzigzag(varint(&k->time)), when;
    if (k->time.bad || __builtin_add_overflow(st->time, dt, &when) || when < RT_TIME_MIN ||
        when > RT_TIME_MAX)
        return 0;
    ev->start_s = st->time = when;
    unsigned scale = cur_u8(&k->qty);
    ev->qty_mantissa = unzigzag(varint(&k->qty));
    ev->qty_scale = (uint8_t)scale;
    if (k->qty.bad || scale > 6) return 0;
    ev->called = "";
    ev->called_len = 0;
    if (k->has_called) {
        uint64_t len = varint(&k->called);
        const unsigned char *c = k->called.bad || len > RT_NUMBER_LEN_MAX
                                     ? NULL
                                     : cur_bytes(&k->called, (size_t)len);
        if (!c) return 0;
        ev->called = (const char *)c;
        ev->called_len = (uint16_t)len;
    }
    ev->raw = NULL;
    ev->raw_len = 0;
    return 1;
}

/* Decode a decompressed payload of `records` records. 1 ok, 0 malformed, -1 out of memory. */
static int decode_payload(const unsigned char *p, size_t len, uint32_t records,
                          rt_event_batch *b, region *mem)
{
    cursor all = {p, p + len, 0};
    const unsigned char *h = cur_bytes(&all, 8);
    if (!h || (h[0] & ~PAYLOAD_CALLED) || h[1] || h[2] || h[3] || get_u32(h + 4) != records)
        return 0;
    dict_view d[DICT_COUNT];
    for (int k = 0; k < DICT_COUNT; k++) {
        int ok = read_dict(&all, mem, records, dict_len_max[k], k == DICT_PREFIX, &d[k]);
        if (ok <= 0) return ok;
    }
    columns k = {.has_called = (h[0] & PAYLOAD_CALLED) != 0};
    if (!take_section(&all, &k.acc) || !take_section(&all, &k.prod) ||
        !take_section(&all, &k.eid) || !take_section(&all, &k.time) ||
        !take_section(&all, &k.qty) || (k.has_called && !take_section(&all, &k.called)) ||
        all.p != all.end)
        return 0;
    /* 32 bytes of slack: prefixes and suffixes are copied 16 and 24 bytes at a time. */
    size_t per_id = (size_t)d[DICT_PREFIX].longest + SUFFIX_DIGITS_MAX;
    char *text = region_take(mem, (size_t)records * per_id + 32);
    if (!text || !reserve_events(b, records)) return -1;
    rt_event *ev = b->events + b->count;
    row_state st = {0, 0, {0}, 0};
    for (uint32_t i = 0; i < records; i++) {
        ev[i].rec_no = i;
        ev[i].line_rel = i;
        if (!decode_row(&k, d, &ev[i], &text, &st)) return 0;
    }
    if (k.acc.p != k.acc.end || k.prod.p != k.prod.end || k.eid.p != k.eid.end ||
        k.time.p != k.time.end || k.qty.p != k.qty.end ||
        (k.has_called && k.called.p != k.called.end))
        return 0;
    b->count += records;
    return 1;
}

static rt_status decode_block(const void *block, size_t len, const char *path,
                              rt_event_batch *batch, rt_error *err)
{
    const unsigned char *h = block;
    if (len < BLOCK_OVERHEAD || get_u32(h) != BLOCK_MAGIC)
        return rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL, "block header damaged");
    uint32_t block_no = get_u32(h + 4), records = get_u32(h + 8);
    uint32_t payload_len = get_u32(h + 12), comp = get_u32(h + 16);
    if ((size_t)comp + BLOCK_OVERHEAD != len)
        return corrupt(err, path, block_no, "compressed size does not match the block length");
    if (XXH3_64bits(h, BLOCK_HEADER_SIZE + comp) != get_u64(h + BLOCK_HEADER_SIZE + comp))
        return corrupt(err, path, block_no, "checksum mismatch (the block is damaged)");
    if (records == 0 || records > RT_NATIVE_BLOCK_RECORDS_MAX ||
        payload_len > RT_NATIVE_PAYLOAD_MAX)
        return corrupt(err, path, block_no, "record count or payload size out of range");
    size_t mem_len = region_size(payload_len, records);
    char *mem_at = rt_arena_alloc(&batch->arena, mem_len);
    if (!mem_at) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    region mem = {mem_at, mem_at + mem_len};
    unsigned char *payload = region_take(&mem, (size_t)payload_len + 16);
    uint64_t t0 = rt_clock_ns();
    size_t n = ZSTD_decompress(payload, payload_len, h + BLOCK_HEADER_SIZE, comp);
    batch->decompress_ns += rt_clock_ns() - t0;
    if (ZSTD_isError(n) || n != payload_len)
        return corrupt(err, path, block_no, "compressed data does not decompress to its size");
    int ok = decode_payload(payload, payload_len, records, batch, &mem);
    if (ok < 0) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    if (ok == 0) return corrupt(err, path, block_no, "columns are malformed");
    batch->records += records;
    return RT_OK;
}

rt_status rt_usage_native_decode_block(const void *block, size_t len, rt_event_batch *batch,
                                       rt_error *err)
{
    return decode_block(block, len, NULL, batch, err);
}

/* ---- reader ---- */

typedef struct native_reader {
    rt_usage_reader base;
    char *path;
    int fd;
    index_entry *blocks;
    uint32_t count, next;
    uint64_t next_record;
    unsigned char *tail; /* footer and trailer, as stored */
    size_t tail_len;
    XXH64_state_t *hash;
    uint64_t bytes;
} native_reader;

int rt_native_sniff(const void *head, size_t len)
{
    return len >= 8 && memcmp(head, FILE_MAGIC, 8) == 0;
}

static rt_status read_at(native_reader *r, void *buf, size_t len, uint64_t off, rt_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(r->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return rt_error_set(err, RT_EIO, r->path, 0, 0, NULL, "read: %s", strerror(errno));
        if (n == 0)
            return rt_error_set(err, RT_ECORRUPT, r->path, 0, 0, NULL, "file is truncated");
        done += (size_t)n;
    }
    return RT_OK;
}

static rt_status bad_file(native_reader *r, rt_error *err, const char *what)
{
    return rt_error_set(err, RT_ECORRUPT, r->path, 0, 0, NULL, "%s", what);
}

static rt_status check_header(native_reader *r, const unsigned char *h, uint64_t size,
                              rt_error *err)
{
    if (size < 8 || !rt_native_sniff(h, 8))
        return bad_file(r, err, "not a ratel native usage file (bad magic number)");
    if (size < HEADER_SIZE) return bad_file(r, err, "file is truncated (short header)");
    if (get_u16(h + 8) != RT_NATIVE_VERSION)
        return rt_error_set(err, RT_ECORRUPT, r->path, 0, 0, NULL,
                            "unsupported native format version %u (this ratel reads version %u)",
                            get_u16(h + 8), (unsigned)RT_NATIVE_VERSION);
    if (get_u16(h + 10) != HEADER_SIZE || get_u32(h + 12) != 0 ||
        XXH64(h, 16, 0) != get_u64(h + 16))
        return bad_file(r, err, "header is damaged (checksum mismatch)");
    if (size < HEADER_SIZE + FOOTER_FIXED + TRAILER_SIZE)
        return bad_file(r, err, "file is truncated (no footer)");
    return RT_OK;
}

/* The footer index must tile the file from the header to the footer exactly. */
static rt_status check_index(native_reader *r, const unsigned char *f, size_t flen,
                             uint64_t footer_off, rt_error *err)
{
    if (get_u32(f) != FOOTER_MAGIC) return bad_file(r, err, "footer index is damaged (bad magic)");
    if (XXH64(f, flen - 8, 0) != get_u64(f + flen - 8))
        return bad_file(r, err, "footer index is damaged (checksum mismatch)");
    uint32_t n = get_u32(f + 4);
    if (n > RT_NATIVE_BLOCKS_MAX || (uint64_t)n * ENTRY_SIZE + FOOTER_FIXED != flen)
        return bad_file(r, err, "footer index is damaged (block count)");
    r->blocks = calloc((size_t)n + 1, sizeof *r->blocks);
    if (!r->blocks) return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
    uint64_t off = HEADER_SIZE, total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = f + 16 + (size_t)i * ENTRY_SIZE;
        index_entry *b = &r->blocks[i];
        *b = (index_entry){get_u64(e), get_u32(e + 8), get_u32(e + 12)};
        if (b->offset != off || b->size < BLOCK_OVERHEAD || b->records == 0 ||
            b->records > RT_NATIVE_BLOCK_RECORDS_MAX || b->size > footer_off - off)
            return rt_error_set(err, RT_ECORRUPT, r->path, 0, 0, NULL,
                                "footer index is damaged (entry of block %u)", i);
        off += b->size;
        total += b->records;
    }
    if (off != footer_off || total != get_u64(f + 8))
        return bad_file(r, err, "footer index does not match the blocks");
    r->count = n;
    return RT_OK;
}

static rt_status open_checks(native_reader *r, rt_error *err)
{
    struct stat sb;
    if (fstat(r->fd, &sb) != 0)
        return rt_error_set(err, RT_EIO, r->path, 0, 0, NULL, "stat: %s", strerror(errno));
    uint64_t size = (uint64_t)sb.st_size;
    unsigned char h[HEADER_SIZE] = {0}, t[TRAILER_SIZE];
    rt_status st = read_at(r, h, size < HEADER_SIZE ? (size_t)size : HEADER_SIZE, 0, err);
    if (st != RT_OK) return st;
    if ((st = check_header(r, h, size, err)) != RT_OK) return st;
    XXH64_update(r->hash, h, HEADER_SIZE);
    r->bytes = HEADER_SIZE;
    if ((st = read_at(r, t, TRAILER_SIZE, size - TRAILER_SIZE, err)) != RT_OK) return st;
    if (get_u32(t + 12) != TRAILER_MAGIC)
        return bad_file(r, err, "file is truncated or unfinished (no trailer)");
    uint64_t footer_off = get_u64(t);
    uint32_t flen = get_u32(t + 8);
    if (flen < FOOTER_FIXED || footer_off < HEADER_SIZE ||
        footer_off + flen + TRAILER_SIZE != size)
        return bad_file(r, err, "trailer is damaged (footer position)");
    r->tail_len = (size_t)flen + TRAILER_SIZE;
    r->tail = malloc(r->tail_len);
    if (!r->tail) return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
    if ((st = read_at(r, r->tail, r->tail_len, footer_off, err)) != RT_OK) return st;
    return check_index(r, r->tail, flen, footer_off, err);
}

static rt_status native_next_chunk(rt_usage_reader *base, rt_chunk *chunk, int *eof,
                                   rt_error *err)
{
    native_reader *r = (native_reader *)base;
    chunk->len = 0;
    if (r->next == r->count) {
        if (r->tail) {
            XXH64_update(r->hash, r->tail, r->tail_len);
            r->bytes += r->tail_len;
            free(r->tail);
            r->tail = NULL;
        }
        *eof = 1;
        return RT_OK;
    }
    const index_entry *b = &r->blocks[r->next];
    if (chunk->cap < b->size) {
        char *d = realloc(chunk->data, b->size);
        if (!d) return rt_error_set(err, RT_ENOMEM, r->path, 0, 0, NULL, "out of memory");
        chunk->data = d;
        chunk->cap = b->size;
    }
    rt_status st = read_at(r, chunk->data, b->size, b->offset, err);
    if (st != RT_OK) return st;
    const unsigned char *h = (const unsigned char *)chunk->data;
    /* The header must agree with the index, so that a block moved or swapped is caught here
     * and line numbers (record numbers) stay right. */
    if (get_u32(h) != BLOCK_MAGIC || get_u32(h + 4) != r->next || get_u32(h + 8) != b->records ||
        (uint64_t)get_u32(h + 16) + BLOCK_OVERHEAD != b->size || get_u64(h + 24) != r->next_record)
        return rt_error_set(err, RT_ECORRUPT, r->path, r->next_record + 1, 0, NULL,
                            "block %u: header does not match the footer index", r->next);
    XXH64_update(r->hash, chunk->data, b->size);
    r->bytes += b->size;
    chunk->len = b->size;
    chunk->first_line = r->next_record + 1;
    chunk->source_offset = b->offset + b->size;
    r->next_record += b->records;
    r->next++;
    *eof = 0;
    return RT_OK;
}

static rt_status native_parse_chunk(const rt_usage_reader *base, const rt_chunk *chunk,
                                    rt_event_batch *batch, rt_error *err)
{
    rt_status st = decode_block(chunk->data, chunk->len, base->path, batch, err);
    if (st != RT_OK && err) err->line = chunk->first_line;
    return st;
}

static void native_info(const rt_usage_reader *base, rt_input_info *info)
{
    const native_reader *r = (const native_reader *)base;
    info->bytes = r->bytes;
    info->xxh64 = XXH64_digest(r->hash);
}

static void native_close(rt_usage_reader *base)
{
    native_reader *r = (native_reader *)base;
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    XXH64_freeState(r->hash);
    free(r->blocks);
    free(r->tail);
    free(r->path);
    free(r);
}

static const rt_usage_reader_ops native_ops = {native_next_chunk, native_parse_chunk, native_info,
                                               native_close};

rt_status rt_usage_native_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                               rt_error *err)
{
    (void)chunk_bytes;
    native_reader *r = calloc(1, sizeof *r);
    if (!r) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    r->base.ops = &native_ops;
    r->fd = open(path, O_RDONLY);
    r->path = strdup(path);
    r->hash = XXH64_createState();
    r->base.path = r->path;
    rt_status st;
    if (r->fd < 0) {
        st = rt_error_set(err, errno == ENOENT ? RT_ENOTFOUND : RT_EIO, path, 0, 0, NULL,
                          "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (!r->path || !r->hash) {
        st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto fail;
    }
    XXH64_reset(r->hash, 0);
    if ((st = open_checks(r, err)) != RT_OK) goto fail;
    *out = &r->base;
    return RT_OK;
fail:
    native_close(&r->base);
    return st;
}

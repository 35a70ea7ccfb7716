/* registry: run records, period index, number series and invoices in LMDB.
 *
 * Databases: "reg.runs" (u64 BE run number -> packed record), "reg.periods" ("YYYY-MM" +
 * u64 BE run number -> empty), "reg.series" (series prefix -> u64 LE next number),
 * "reg.invoices" (u64 BE run number + 0 byte + first account id -> a block of up to
 * RT_REGISTRY_INVOICE_BLOCK invoices as one zstd frame, see put_block; books written before
 * blocks hold one entry per invoice: u64 BE run number + account id -> number + the invoice's
 * content as one zstd frame, or, before that, the content itself, which never begins with the
 * zstd magic number). */
#include "engine/registry.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/pack.h"

#define RUN_RECORD_FORMAT 1

struct rt_registry_txn {
    MDB_txn *txn;
    MDB_dbi runs, periods, series, invoices;
};

void rt_run_record_free(rt_run_record *r)
{
    for (size_t i = 0; i < r->input_count; i++) free(r->inputs[i].path);
    free(r->inputs);
    r->inputs = NULL;
    r->input_count = 0;
}

static rt_status open_dbs(MDB_txn *txn, bool create, rt_registry_txn *t, rt_error *err)
{
    rt_status st;
    if ((st = rt_store_dbi(txn, "reg.runs", create, &t->runs, err)) != RT_OK) return st;
    if ((st = rt_store_dbi(txn, "reg.periods", create, &t->periods, err)) != RT_OK) return st;
    if ((st = rt_store_dbi(txn, "reg.invoices", create, &t->invoices, err)) != RT_OK) return st;
    return rt_store_dbi(txn, "reg.series", create, &t->series, err);
}

rt_status rt_registry_begin(rt_store *store, rt_registry_txn **out, rt_error *err)
{
    rt_registry_txn *t = calloc(1, sizeof *t);
    if (!t) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    rt_status st = rt_store_check(mdb_txn_begin(rt_store_env(store), NULL, 0, &t->txn),
                                  "mdb_txn_begin", err);
    if (st == RT_OK) st = open_dbs(t->txn, true, t, err);
    if (st != RT_OK) {
        if (t->txn) mdb_txn_abort(t->txn);
        free(t);
        return st;
    }
    *out = t;
    return RT_OK;
}

rt_status rt_registry_commit(rt_registry_txn *t, rt_error *err)
{
    rt_status st = rt_store_check(mdb_txn_commit(t->txn), "mdb_txn_commit", err);
    free(t);
    return st;
}

void rt_registry_abort(rt_registry_txn *t)
{
    if (!t) return;
    mdb_txn_abort(t->txn);
    free(t);
}

rt_status rt_registry_next_run_no(rt_registry_txn *t, uint64_t *run_no, rt_error *err)
{
    MDB_cursor *c;
    rt_status st = rt_store_check(mdb_cursor_open(t->txn, t->runs, &c), "mdb_cursor_open", err);
    if (st != RT_OK) return st;
    MDB_val k, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        *run_no = 1;
        return RT_OK;
    }
    if ((st = rt_store_check(rc, "reg.runs", err)) != RT_OK) return st;
    rt_unpack u;
    rt_unpack_init(&u, k.mv_data, k.mv_size);
    *run_no = rt_unpack_key_u64(&u) + 1;
    if (rt_unpack_done(&u) != RT_OK)
        return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL, "corrupt run registry key");
    return RT_OK;
}

static rt_status period_last(MDB_txn *txn, MDB_dbi periods, const char *period,
                             uint64_t *run_no, rt_error *err)
{
    MDB_cursor *c;
    rt_status st = rt_store_check(mdb_cursor_open(txn, periods, &c), "mdb_cursor_open", err);
    if (st != RT_OK) return st;
    /* Seek past the period's last possible key, then step back. */
    unsigned char key[16];
    size_t pl = strlen(period);
    RT_ASSERT(pl == 7);
    memcpy(key, period, pl);
    memset(key + pl, 0xff, 8);
    MDB_val k = {pl + 8, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS)
        rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    if (rc == MDB_SUCCESS && k.mv_size == pl + 8 && memcmp(k.mv_data, period, pl) == 0) {
        rt_unpack u;
        rt_unpack_init(&u, (const unsigned char *)k.mv_data + pl, 8);
        *run_no = rt_unpack_key_u64(&u);
        st = RT_OK;
    } else if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) {
        st = RT_ENOTFOUND;
    } else {
        st = rt_store_check(rc, "reg.periods", err);
    }
    mdb_cursor_close(c);
    return st;
}

rt_status rt_registry_period_last_run(rt_registry_txn *t, const char *period, uint64_t *run_no,
                                      rt_error *err)
{
    return period_last(t->txn, t->periods, period, run_no, err);
}

rt_status rt_registry_take_numbers(rt_registry_txn *t, const char *series, uint64_t count,
                                   uint64_t *first, rt_error *err)
{
    MDB_val k = {strlen(series), (void *)series}, v;
    uint64_t next = 1;
    int rc = mdb_get(t->txn, t->series, &k, &v);
    if (rc == MDB_SUCCESS) {
        rt_unpack u;
        rt_unpack_init(&u, v.mv_data, v.mv_size);
        next = rt_unpack_u64le(&u);
        if (rt_unpack_done(&u) != RT_OK)
            return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL, "corrupt series '%s'", series);
    } else if (rc != MDB_NOTFOUND) {
        return rt_store_check(rc, "reg.series", err);
    }
    *first = next;
    if (count == 0) return RT_OK;
    uint64_t after = next + count;
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(after >> (8 * i));
    v.mv_size = 8;
    v.mv_data = b;
    return rt_store_check(mdb_put(t->txn, t->series, &k, &v, 0), "reg.series", err);
}

/* ---- run records ---- */

static void pack_run(rt_pack *p, const rt_run_record *r)
{
    rt_pack_u8(p, RUN_RECORD_FORMAT);
    rt_pack_str(p, r->period);
    rt_pack_uvarint(p, r->flags);
    rt_pack_u64le(p, r->book_fingerprint);
    rt_pack_uvarint(p, r->book_version);
    rt_pack_uvarint(p, r->read);
    rt_pack_uvarint(p, r->rated);
    rt_pack_uvarint(p, r->rejected);
    rt_pack_uvarint(p, r->duplicate);
    rt_pack_uvarint(p, r->invoices);
    rt_pack_str(p, r->first_invoice);
    rt_pack_str(p, r->last_invoice);
    rt_pack_u64le(p, r->manifest_xxh64);
    rt_pack_uvarint(p, r->billed_count);
    rt_pack_u64le(p, r->billed_xxh64);
    rt_pack_str(p, r->out_dir);
    rt_pack_uvarint(p, r->input_count);
    for (size_t i = 0; i < r->input_count; i++) {
        rt_pack_str(p, r->inputs[i].path);
        rt_pack_uvarint(p, r->inputs[i].kind);
        rt_pack_uvarint(p, r->inputs[i].info.bytes);
        rt_pack_u64le(p, r->inputs[i].info.xxh64);
        rt_pack_uvarint(p, r->inputs[i].info.records);
    }
    rt_pack_uvarint(p, r->total_count);
    for (size_t i = 0; i < r->total_count; i++) {
        rt_pack_str(p, r->totals[i].currency);
        rt_pack_uvarint(p, r->totals[i].invoices);
        rt_pack_svarint(p, r->totals[i].net_minor);
        rt_pack_svarint(p, r->totals[i].tax_minor);
        rt_pack_svarint(p, r->totals[i].gross_minor);
    }
    rt_pack_uvarint(p, r->supersedes);
    rt_pack_uvarint(p, r->credit_notes);
    rt_pack_uvarint(p, r->unchanged);
    rt_pack_uvarint(p, r->release_count);
    for (size_t i = 0; i < r->release_count; i++) {
        rt_pack_str(p, r->releases[i].gl_account);
        rt_pack_svarint(p, r->releases[i].amount_minor);
    }
}

static void copy_view(char *dst, size_t cap, const char *s, size_t len)
{
    if (len >= cap) len = cap - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

static rt_status unpack_run(const MDB_val *v, rt_run_record *r)
{
    rt_unpack u;
    size_t len;
    const char *s;
    rt_unpack_init(&u, v->mv_data, v->mv_size);
    if (rt_unpack_u8(&u) != RUN_RECORD_FORMAT) return RT_ECORRUPT;
    s = rt_unpack_str(&u, &len);
    copy_view(r->period, sizeof r->period, s, len);
    r->flags = (uint32_t)rt_unpack_uvarint(&u);
    r->book_fingerprint = rt_unpack_u64le(&u);
    r->book_version = rt_unpack_uvarint(&u);
    r->read = rt_unpack_uvarint(&u);
    r->rated = rt_unpack_uvarint(&u);
    r->rejected = rt_unpack_uvarint(&u);
    r->duplicate = rt_unpack_uvarint(&u);
    r->invoices = rt_unpack_uvarint(&u);
    s = rt_unpack_str(&u, &len);
    copy_view(r->first_invoice, sizeof r->first_invoice, s, len);
    s = rt_unpack_str(&u, &len);
    copy_view(r->last_invoice, sizeof r->last_invoice, s, len);
    r->manifest_xxh64 = rt_unpack_u64le(&u);
    r->billed_count = rt_unpack_uvarint(&u);
    r->billed_xxh64 = rt_unpack_u64le(&u);
    s = rt_unpack_str(&u, &len);
    copy_view(r->out_dir, sizeof r->out_dir, s, len);
    uint64_t n = rt_unpack_uvarint(&u);
    if (u.bad || n > 1000000) return RT_ECORRUPT;
    r->inputs = calloc(n ? n : 1, sizeof *r->inputs);
    if (!r->inputs) return RT_ENOMEM;
    r->input_count = (size_t)n;
    for (size_t i = 0; i < n; i++) {
        s = rt_unpack_str(&u, &len);
        r->inputs[i].path = strndup(s, len);
        if (!r->inputs[i].path) return RT_ENOMEM;
        r->inputs[i].kind = (uint32_t)rt_unpack_uvarint(&u);
        r->inputs[i].info.bytes = rt_unpack_uvarint(&u);
        r->inputs[i].info.xxh64 = rt_unpack_u64le(&u);
        r->inputs[i].info.records = rt_unpack_uvarint(&u);
    }
    n = rt_unpack_uvarint(&u);
    if (u.bad || n > RT_RUN_CURRENCIES_MAX) return RT_ECORRUPT;
    r->total_count = (size_t)n;
    for (size_t i = 0; i < n; i++) {
        s = rt_unpack_str(&u, &len);
        copy_view(r->totals[i].currency, sizeof r->totals[i].currency, s, len);
        r->totals[i].invoices = rt_unpack_uvarint(&u);
        r->totals[i].net_minor = rt_unpack_svarint(&u);
        r->totals[i].tax_minor = rt_unpack_svarint(&u);
        r->totals[i].gross_minor = rt_unpack_svarint(&u);
    }
    r->supersedes = rt_unpack_uvarint(&u);
    r->credit_notes = rt_unpack_uvarint(&u);
    r->unchanged = rt_unpack_uvarint(&u);
    n = rt_unpack_uvarint(&u);
    if (u.bad || n > RT_RUN_RELEASES_MAX) return RT_ECORRUPT;
    r->release_count = (size_t)n;
    for (size_t i = 0; i < n; i++) {
        s = rt_unpack_str(&u, &len);
        copy_view(r->releases[i].gl_account, sizeof r->releases[i].gl_account, s, len);
        r->releases[i].amount_minor = rt_unpack_svarint(&u);
    }
    return rt_unpack_done(&u);
}

rt_status rt_registry_put_run(rt_registry_txn *t, const rt_run_record *r, rt_error *err)
{
    rt_pack key, val;
    rt_pack_init(&key);
    rt_pack_init(&val);
    rt_pack_key_u64(&key, r->run_no);
    pack_run(&val, r);
    rt_status st = rt_pack_status(&key) == RT_OK ? rt_pack_status(&val) : RT_ENOMEM;
    if (st != RT_OK) {
        rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
        goto done;
    }
    MDB_val k = {key.len, key.data}, v = {val.len, val.data};
    int rc = mdb_put(t->txn, t->runs, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        st = rt_error_set(err, RT_EEXIST, NULL, 0, 0, NULL, "run %llu already recorded",
                          (unsigned long long)r->run_no);
        goto done;
    }
    if ((st = rt_store_check(rc, "reg.runs", err)) != RT_OK) goto done;
    if (r->flags & RT_RUN_FLAG_ACCRUAL) goto done; /* not a billing of the period */
    rt_pack_reset(&key);
    rt_pack_bytes(&key, r->period, strlen(r->period));
    rt_pack_key_u64(&key, r->run_no);
    if ((st = rt_pack_status(&key)) != RT_OK) goto done;
    MDB_val pk = {key.len, key.data}, empty = {0, NULL};
    st = rt_store_check(mdb_put(t->txn, t->periods, &pk, &empty, 0), "reg.periods", err);
done:
    rt_pack_free(&key);
    rt_pack_free(&val);
    return st;
}

static rt_status read_txn(rt_store *store, MDB_txn **txn, rt_registry_txn *dbs, rt_error *err)
{
    rt_status st = rt_store_check(mdb_txn_begin(rt_store_env(store), NULL, MDB_RDONLY, txn),
                                  "mdb_txn_begin", err);
    if (st != RT_OK) return st;
    st = open_dbs(*txn, false, dbs, err);
    if (st != RT_OK) mdb_txn_abort(*txn);
    return st;
}

rt_status rt_registry_get_run(rt_store *store, uint64_t run_no, rt_run_record *out,
                              rt_error *err)
{
    MDB_txn *txn;
    rt_registry_txn dbs;
    memset(out, 0, sizeof *out);
    rt_status st = read_txn(store, &txn, &dbs, err);
    if (st != RT_OK) return st;
    rt_pack key;
    rt_pack_init(&key);
    rt_pack_key_u64(&key, run_no);
    MDB_val k = {key.len, key.data}, v;
    int rc = mdb_get(txn, dbs.runs, &k, &v);
    if (rc == MDB_SUCCESS) {
        out->run_no = run_no;
        st = unpack_run(&v, out);
        if (st != RT_OK) {
            rt_run_record_free(out);
            rt_error_set(err, st, NULL, 0, 0, NULL, "run %llu: corrupt record",
                         (unsigned long long)run_no);
        }
    } else {
        st = rt_store_check(rc, "reg.runs", err);
    }
    rt_pack_free(&key);
    mdb_txn_abort(txn);
    return st;
}

rt_status rt_registry_find_period(rt_store *store, const char *period, uint64_t *run_no,
                                  rt_error *err)
{
    MDB_txn *txn;
    rt_registry_txn dbs;
    rt_status st = read_txn(store, &txn, &dbs, err);
    if (st == RT_ENOTFOUND) return RT_ENOTFOUND; /* no run was ever committed here */
    if (st != RT_OK) return st;
    st = period_last(txn, dbs.periods, period, run_no, err);
    mdb_txn_abort(txn);
    return st;
}

/* ---- invoices in effect ---- */

rt_status rt_registry_invoice_encode(ZSTD_CCtx *cctx, const void *content, size_t len,
                                     rt_buf *out)
{
    size_t bound = ZSTD_compressBound(len);
    if (!rt_buf_reserve(out, bound)) return RT_ENOMEM;
    /* With its checksum, so that a damaged page is found rather than decoded into content.
     * Level -1: an invoice is about a kilobyte, where level 1 spends half its time building
     * the literals' Huffman table for almost nothing. On the million invoices of the 10M
     * benchmark: 8.2 s against 3.2 s, 502 MB against 506 MB stored. */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, -1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)))
        return RT_EZSTD;
    size_t n = ZSTD_compress2(cctx, out->data + out->len, bound, content, len);
    if (ZSTD_isError(n)) return RT_EZSTD;
    out->len += n;
    return RT_OK;
}

/* Whether stored bytes are a zstd frame (else content stored as it is, by older versions). */
static bool is_frame(const void *p, size_t len)
{
    static const unsigned char magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    return len >= 4 && memcmp(p, magic, 4) == 0;
}

/* Decode one stored invoice into b (reset first). */
static rt_status decode(ZSTD_DCtx *dctx, const void *stored, size_t len, rt_buf *b)
{
    rt_buf_reset(b);
    unsigned long long size = ZSTD_getFrameContentSize(stored, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
        return RT_ECORRUPT;
    if (!rt_buf_reserve(b, (size_t)size + 1)) return RT_ENOMEM;
    size_t n = ZSTD_decompressDCtx(dctx, b->data, (size_t)size + 1, stored, len);
    if (ZSTD_isError(n) || n != size) return RT_ECORRUPT;
    b->len = n;
    return RT_OK;
}

/* One entry of "reg.invoices". A run stores its invoices in account order after every
 * earlier run's: appending fills pages instead of splitting them in half (half the pages to
 * write). A key out of order is refused by the append and stored the ordinary way. */
static rt_status put_invoice_entry(rt_registry_txn *t, const rt_pack *key, const void *val,
                                   size_t len, rt_error *err)
{
    MDB_val k = {key->len, key->data}, v = {len, (void *)val};
    int rc = mdb_put(t->txn, t->invoices, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) rc = mdb_put(t->txn, t->invoices, &k, &v, MDB_NOOVERWRITE);
    return rt_store_check(rc, "reg.invoices", err);
}

rt_status rt_registry_put_invoice(rt_registry_txn *t, uint64_t run_no, const char *account_id,
                                  const char *number, const void *content, size_t len,
                                  rt_error *err)
{
    rt_pack key, val;
    rt_pack_init(&key);
    rt_pack_init(&val);
    rt_pack_key_u64(&key, run_no);
    rt_pack_bytes(&key, account_id, strlen(account_id));
    rt_pack_str(&val, number);
    rt_pack_bytes(&val, content, len);
    rt_status st = key.failed || val.failed ? RT_ENOMEM : RT_OK;
    if (st == RT_OK) {
        st = put_invoice_entry(t, &key, val.data, val.len, err);
    } else {
        rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
    }
    rt_pack_free(&key);
    rt_pack_free(&val);
    return st;
}

/* ---- blocks of invoices in effect ----
 * Value: one zstd frame (level 1, with its checksum) of BLOCK_FORMAT, the invoice count, then
 * per invoice its account id, number and content (each a varint length and the bytes). Key:
 * the run (8 bytes, big-endian), a 0 byte and the first account id. No account id starts with
 * a 0 byte, so the single-invoice entries of older books (run, account id) never take a
 * block's key. */
#define BLOCK_FORMAT 1
enum { ID_MAX = 255, NUMBER_MAX = 63 };

static rt_status put_block(rt_registry_txn *t, uint64_t run_no, const char *first,
                           const rt_pack *raw, ZSTD_CCtx *cctx, rt_buf *frame, rt_error *err)
{
    size_t bound = ZSTD_compressBound(raw->len);
    rt_buf_reset(frame);
    if (!rt_buf_reserve(frame, bound))
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    size_t n = ZSTD_compress2(cctx, frame->data, bound, raw->data, raw->len);
    if (ZSTD_isError(n))
        return rt_error_set(err, RT_EZSTD, NULL, 0, 0, NULL, "cannot compress invoices: %s",
                            ZSTD_getErrorName(n));
    frame->len = n;
    rt_pack key;
    rt_pack_init(&key);
    rt_pack_key_u64(&key, run_no);
    rt_pack_u8(&key, 0);
    rt_pack_bytes(&key, first, strlen(first));
    rt_status st = key.failed ? rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory")
                              : RT_OK;
    if (st == RT_OK) st = put_invoice_entry(t, &key, frame->data, frame->len, err);
    rt_pack_free(&key);
    return st;
}

rt_status rt_registry_put_invoices(rt_registry_txn *t, uint64_t run_no, size_t n,
                                   rt_registry_invoice_src src, void *ctx, rt_error *err)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_pack raw;
    rt_buf frame;
    rt_pack_init(&raw);
    rt_buf_init(&frame);
    char first[ID_MAX + 1], prev[ID_MAX + 1] = "";
    rt_status st = cctx ? RT_OK : rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    /* Every block at level 1 with its checksum (ZSTD_compress2 keeps the parameters). */
    if (st == RT_OK && (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1)) ||
                        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1))))
        st = rt_error_set(err, RT_EZSTD, NULL, 0, 0, NULL, "cannot set up zstd");
    for (size_t i = 0; i < n && st == RT_OK; i += RT_REGISTRY_INVOICE_BLOCK) {
        size_t m = n - i < RT_REGISTRY_INVOICE_BLOCK ? n - i : RT_REGISTRY_INVOICE_BLOCK;
        rt_pack_reset(&raw);
        rt_pack_u8(&raw, BLOCK_FORMAT);
        rt_pack_uvarint(&raw, m);
        for (size_t j = 0; j < m && st == RT_OK; j++) {
            const char *account, *number;
            const void *content;
            size_t len;
            if ((st = src(ctx, i + j, &account, &number, &content, &len, err)) != RT_OK) break;
            size_t alen = strlen(account);
            if (alen == 0 || alen > ID_MAX || strlen(number) > NUMBER_MAX) {
                st = rt_error_set(err, RT_ELIMIT, NULL, 0, 0, account,
                                  "cannot store invoice '%s': account id or number too long",
                                  number);
                break;
            }
            if (i + j > 0 && strcmp(account, prev) <= 0) {
                st = rt_error_set(err, RT_EINVAL, NULL, 0, 0, account,
                                  "invoices in effect not in account id order");
                break;
            }
            memcpy(prev, account, alen + 1);
            if (j == 0) memcpy(first, account, alen + 1);
            rt_pack_str(&raw, account);
            rt_pack_str(&raw, number);
            rt_pack_uvarint(&raw, len);
            rt_pack_bytes(&raw, content, len);
        }
        if (st == RT_OK && raw.failed)
            st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        if (st == RT_OK) st = put_block(t, run_no, first, &raw, cctx, &frame, err);
    }
    ZSTD_freeCCtx(cctx);
    rt_pack_free(&raw);
    rt_buf_free(&frame);
    return st;
}

/* ---- the invoices in effect, held as stored ---- */

/* How an entry of a held set decodes: a block's frame (BLOCK_FORMAT), one invoice's frame, or
 * one invoice's content as it is. */
enum { ENTRY_BLOCK, ENTRY_FRAME, ENTRY_RAW };

void rt_registry_invoices_init(rt_registry_invoices *s)
{
    memset(s, 0, sizeof *s);
    rt_arena_init(&s->arena, (size_t)1 << 20);
}

void rt_registry_invoices_free(rt_registry_invoices *s)
{
    free(s->items);
    free(s->entries);
    rt_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}

/* A copy of stored as the set's next entry. */
static rt_status add_entry(rt_registry_invoices *s, const void *stored, size_t len, uint32_t kind)
{
    if (s->entry_count >= UINT32_MAX - 1) return RT_ELIMIT;
    if (s->entry_count == s->entry_capacity) {
        size_t cap = s->entry_capacity ? s->entry_capacity * 2 : 256;
        rt_registry_entry *e = realloc(s->entries, cap * sizeof *e);
        if (!e) return RT_ENOMEM;
        s->entries = e;
        s->entry_capacity = cap;
    }
    unsigned char *copy = rt_arena_alloc(&s->arena, len ? len : 1);
    if (!copy) return RT_ENOMEM;
    if (len) memcpy(copy, stored, len);
    s->entries[s->entry_count++] = (rt_registry_entry){copy, len, kind};
    return RT_OK;
}

/* An invoice of the set's last entry: content (at offset in the entry's decoded bytes) is
 * fingerprinted here. */
static rt_status add_item(rt_registry_invoices *s, const char *account, size_t alen,
                          const char *number, size_t nlen, const void *content, size_t offset,
                          size_t len)
{
    if (s->count == s->capacity) {
        size_t cap = s->capacity ? s->capacity * 2 : 1024;
        rt_registry_invoice *n = realloc(s->items, cap * sizeof *n);
        if (!n) return RT_ENOMEM;
        s->items = n;
        s->capacity = cap;
    }
    rt_registry_invoice *it = &s->items[s->count];
    it->account_id = rt_arena_strndup(&s->arena, account, alen);
    it->number = rt_arena_strndup(&s->arena, number, nlen);
    if (!it->account_id || !it->number) return RT_ENOMEM;
    it->entry = (uint32_t)(s->entry_count - 1);
    it->offset = offset;
    it->len = len;
    XXH128_hash_t fp = XXH3_128bits(content, len);
    it->content_lo = fp.low64;
    it->content_hi = fp.high64;
    s->count++;
    return RT_OK;
}

rt_status rt_registry_invoices_add(rt_registry_invoices *s, const char *account_id,
                                   const char *number, const void *content, size_t len)
{
    rt_status st = add_entry(s, content, len, ENTRY_RAW);
    return st != RT_OK ? st
                       : add_item(s, account_id, strlen(account_id), number, strlen(number),
                                  content, 0, len);
}

/* Index the invoices of a block (its entry just added, decoded into b). RT_ECORRUPT when its
 * bytes are not a block. */
static rt_status index_block(rt_registry_invoices *s, const rt_buf *b)
{
    rt_unpack u;
    rt_unpack_init(&u, b->data, b->len);
    if (rt_unpack_u8(&u) != BLOCK_FORMAT) return RT_ECORRUPT;
    uint64_t count = rt_unpack_uvarint(&u);
    for (uint64_t i = 0; i < count && !u.bad; i++) {
        size_t alen, nlen, clen;
        const char *a = rt_unpack_str(&u, &alen);
        const char *num = rt_unpack_str(&u, &nlen);
        const char *content = rt_unpack_str(&u, &clen);
        if (u.bad || alen > ID_MAX || nlen > NUMBER_MAX) return RT_ECORRUPT;
        rt_status st = add_item(s, a, alen, num, nlen, content, (size_t)(content - b->data), clen);
        if (st != RT_OK) return st;
    }
    return rt_unpack_done(&u);
}

/* A block entry of the cursor's (key: the run, a 0 byte, the first account id). */
static rt_status load_block(rt_registry_invoices *s, ZSTD_DCtx *dctx, const MDB_val *k,
                            const MDB_val *v, rt_buf *b, rt_error *err)
{
    rt_status st = add_entry(s, v->mv_data, v->mv_size, ENTRY_BLOCK);
    if (st == RT_OK)
        st = is_frame(v->mv_data, v->mv_size) ? decode(dctx, v->mv_data, v->mv_size, b)
                                              : RT_ECORRUPT;
    if (st == RT_OK) st = index_block(s, b);
    if (st == RT_OK) return RT_OK;
    char first[ID_MAX + 1];
    size_t flen = k->mv_size - 9 < ID_MAX ? k->mv_size - 9 : ID_MAX;
    memcpy(first, (const char *)k->mv_data + 9, flen);
    first[flen] = '\0';
    return rt_error_set(err, st, NULL, 0, 0, NULL, "stored invoices from account %s %s", first,
                        st == RT_ENOMEM ? "do not fit in memory" : "do not decode");
}

/* A single-invoice entry of older books (key: the run, the account id; value: the number,
 * then the content as one frame, or as it is). */
static rt_status load_single(rt_registry_invoices *s, ZSTD_DCtx *dctx, const MDB_val *k,
                             const MDB_val *v, rt_buf *b, rt_error *err)
{
    size_t alen = k->mv_size - 8, nlen;
    rt_unpack u;
    rt_unpack_init(&u, v->mv_data, v->mv_size);
    const char *num = rt_unpack_str(&u, &nlen);
    if (u.bad || alen > ID_MAX || nlen > NUMBER_MAX)
        return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL, "corrupt stored invoice");
    const char *account = (const char *)k->mv_data + 8;
    const void *data = u.p;
    size_t dlen = (size_t)(u.end - u.p), len = dlen;
    bool frame = is_frame(data, dlen);
    rt_status st = add_entry(s, data, dlen, frame ? ENTRY_FRAME : ENTRY_RAW);
    if (st == RT_OK && frame && (st = decode(dctx, data, dlen, b)) == RT_OK) {
        data = b->data;
        len = b->len;
    }
    if (st == RT_OK) st = add_item(s, account, alen, num, nlen, data, 0, len);
    if (st == RT_OK) return RT_OK;
    char a[ID_MAX + 1], n[NUMBER_MAX + 1];
    memcpy(a, account, alen);
    a[alen] = '\0';
    memcpy(n, num, nlen);
    n[nlen] = '\0';
    return rt_error_set(err, st, NULL, 0, 0, NULL, "stored invoice %s of account %s %s", n, a,
                        st == RT_ENOMEM ? "does not fit in memory" : "does not decode");
}

rt_status rt_registry_invoices_load(rt_store *store, uint64_t run_no, rt_registry_invoices *s,
                                    rt_error *err)
{
    MDB_txn *txn;
    rt_registry_txn dbs;
    rt_status st = read_txn(store, &txn, &dbs, err);
    if (st != RT_OK) return st;
    MDB_cursor *c = NULL;
    rt_buf b; /* an entry decoded, to index and check it */
    rt_buf_init(&b);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx) {
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        goto done;
    }
    if ((st = rt_store_check(mdb_cursor_open(txn, dbs.invoices, &c), "mdb_cursor_open", err)) !=
        RT_OK)
        goto done;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)(run_no >> (56 - 8 * i));
    MDB_val k = {8, prefix}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && k.mv_size > 8 && memcmp(k.mv_data, prefix, 8) == 0) {
        bool block = ((const unsigned char *)k.mv_data)[8] == 0;
        st = block ? load_block(s, dctx, &k, &v, &b, err) : load_single(s, dctx, &k, &v, &b, err);
        if (st != RT_OK) goto done;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    st = rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? RT_OK : rt_store_check(rc, "reg.invoices", err);
done:
    ZSTD_freeDCtx(dctx);
    rt_buf_free(&b);
    if (c) mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return st;
}

bool rt_registry_invoice_same(const rt_registry_invoice *it, const void *content, size_t len)
{
    if (len != it->len) return false;
    XXH128_hash_t fp = XXH3_128bits(content, len);
    return fp.low64 == it->content_lo && fp.high64 == it->content_hi;
}

void rt_registry_invoice_reader_init(rt_registry_invoice_reader *r,
                                     const rt_registry_invoices *set)
{
    memset(r, 0, sizeof *r);
    r->set = set;
    rt_buf_init(&r->bytes);
    r->entry = UINT32_MAX;
}

void rt_registry_invoice_reader_free(rt_registry_invoice_reader *r)
{
    ZSTD_freeDCtx(r->dctx);
    rt_buf_free(&r->bytes);
    memset(r, 0, sizeof *r);
    r->entry = UINT32_MAX;
}

rt_status rt_registry_invoice_content(rt_registry_invoice_reader *r, size_t i,
                                      const void **content, size_t *len, rt_error *err)
{
    const rt_registry_invoice *it = &r->set->items[i];
    const rt_registry_entry *e = &r->set->entries[it->entry];
    const unsigned char *base = e->stored;
    size_t have = e->len;
    if (e->kind != ENTRY_RAW) {
        if (r->entry != it->entry) {
            rt_status st = RT_ENOMEM;
            r->entry = UINT32_MAX;
            if (r->dctx || (r->dctx = ZSTD_createDCtx()))
                st = decode(r->dctx, base, have, &r->bytes);
            if (st != RT_OK)
                return rt_error_set(err, st, NULL, 0, 0, NULL, "stored invoice %s %s", it->number,
                                    st == RT_ENOMEM ? "does not fit in memory" : "does not decode");
            r->entry = it->entry;
        }
        base = (const unsigned char *)r->bytes.data;
        have = r->bytes.len;
    }
    if (it->offset > have || it->len > have - it->offset)
        return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL, "stored invoice %s does not decode",
                            it->number);
    *content = base + it->offset;
    *len = it->len;
    return RT_OK;
}

rt_status rt_registry_each_invoice(rt_store *store, uint64_t run_no, rt_registry_invoice_fn fn,
                                   void *ctx, rt_error *err)
{
    rt_registry_invoices s;
    rt_registry_invoice_reader r;
    rt_registry_invoices_init(&s);
    rt_registry_invoice_reader_init(&r, &s);
    rt_status st = rt_registry_invoices_load(store, run_no, &s, err);
    for (size_t i = 0; st == RT_OK && i < s.count; i++) {
        const void *content = NULL;
        size_t len = 0;
        if ((st = rt_registry_invoice_content(&r, i, &content, &len, err)) == RT_OK)
            st = fn(ctx, s.items[i].account_id, s.items[i].number, content, len);
    }
    rt_registry_invoice_reader_free(&r);
    rt_registry_invoices_free(&s);
    return st;
}

/* pricebook: LMDB layout of the price book.
 *
 * Database "book.<table>": key = the key columns in order-preserving encoding; value =
 * format byte (1), field count, then every field in schema order (strings as length +
 * bytes, numbers and times as zigzag varints, enumerations as varints). A record with fewer
 * fields than the schema (written before a column was added) loads with the defaults of the
 * missing columns. Database "book.meta": "fingerprint", "version", "rows" as u64 LE, and
 * "source": the version whose source "book.source" holds (0 or absent: none). Database
 * "book.source": key = a source file's name; value = its size (u64 LE), its XXH64 (u64 LE),
 * then one zstd frame (level 1, content size set) of its bytes as stored in the source. */
#include "engine/pricebook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

#include "engine/pack.h"

#define RECORD_FORMAT 1
#define SOURCE_DB "book.source"
#define SOURCE_LEVEL 1

static void table_db_name(const rt_table *t, char *buf, size_t n)
{
    snprintf(buf, n, "book.%s", t->name);
}

static void pack_key(rt_pack *k, const rt_table *t, const void *row, size_t index)
{
    /* A table without key columns (company) is keyed by row position. */
    bool keyed = false;
    for (size_t i = 0; i < t->field_count; i++) keyed = keyed || (t->fields[i].flags & RT_FIELD_KEY);
    if (!keyed) {
        rt_pack_key_u64(k, index);
        return;
    }
    for (size_t i = 0; i < t->field_count; i++) {
        const rt_field *f = &t->fields[i];
        if (!(f->flags & RT_FIELD_KEY)) continue;
        const char *m = (const char *)row + f->offset;
        switch (f->type) {
        case RT_FT_ID:
        case RT_FT_TEXT:
        case RT_FT_DIGITS:
        case RT_FT_CURRENCY: rt_pack_key_str(k, *(const char *const *)m); break;
        case RT_FT_ENUM: rt_pack_key_i64(k, *(const int32_t *)m); break;
        default: rt_pack_key_i64(k, *(const int64_t *)m); break;
        }
    }
}

static void pack_value(rt_pack *v, const rt_table *t, const void *row)
{
    rt_pack_u8(v, RECORD_FORMAT);
    rt_pack_uvarint(v, t->field_count);
    for (size_t i = 0; i < t->field_count; i++) {
        const rt_field *f = &t->fields[i];
        const char *m = (const char *)row + f->offset;
        switch (f->type) {
        case RT_FT_ID:
        case RT_FT_TEXT:
        case RT_FT_DIGITS:
        case RT_FT_CURRENCY: rt_pack_str(v, *(const char *const *)m); break;
        case RT_FT_ENUM: rt_pack_uvarint(v, (uint64_t)*(const int32_t *)m); break;
        default: rt_pack_svarint(v, *(const int64_t *)m); break;
        }
    }
}

static rt_status put_meta(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value,
                          rt_error *err)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(value >> (8 * i));
    MDB_val k = {strlen(key), (void *)key}, v = {8, b};
    return rt_store_check(mdb_put(txn, dbi, &k, &v, 0), key, err);
}

static uint64_t get_meta(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(txn, dbi, &k, &v) != MDB_SUCCESS || v.mv_size != 8) return 0;
    rt_unpack u;
    rt_unpack_init(&u, v.mv_data, v.mv_size);
    return rt_unpack_u64le(&u);
}

static rt_status begin_read(rt_store *store, MDB_txn **txn, rt_error *err)
{
    return rt_store_check(mdb_txn_begin(rt_store_env(store), NULL, MDB_RDONLY, txn),
                          "mdb_txn_begin", err);
}

/* ---- the source files ---- */

void rt_book_source_init(rt_book_source *s) { memset(s, 0, sizeof *s); }

void rt_book_source_free(rt_book_source *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->files[i].name);
        rt_buf_free(&s->files[i].bytes);
    }
    free(s->files);
    rt_book_source_init(s);
}

rt_status rt_book_source_add(rt_book_source *s, const char *name, rt_buf *bytes)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        rt_book_file *f = realloc(s->files, cap * sizeof *f);
        if (!f) return RT_ENOMEM;
        s->files = f;
        s->cap = cap;
    }
    rt_book_file *f = &s->files[s->count];
    if (!(f->name = strdup(name))) return RT_ENOMEM;
    f->bytes = *bytes;
    rt_buf_init(bytes);
    s->count++;
    return RT_OK;
}

/* Replace the kept source with `source` (none when NULL); meta "source" names the version it
 * belongs to. */
static rt_status put_source(MDB_txn *txn, MDB_dbi meta, const rt_book_source *source,
                            uint64_t version, rt_error *err)
{
    MDB_dbi dbi;
    rt_status st;
    if ((st = rt_store_dbi(txn, SOURCE_DB, true, &dbi, err)) != RT_OK) return st;
    if ((st = rt_store_check(mdb_drop(txn, dbi, 0), "mdb_drop", err)) != RT_OK) return st;
    if ((st = put_meta(txn, meta, "source", source ? version : 0, err)) != RT_OK) return st;
    if (!source) return RT_OK;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_pack v;
    rt_pack_init(&v);
    if (!cctx) st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t i = 0; i < source->count && st == RT_OK; i++) {
        const rt_book_file *f = &source->files[i];
        size_t bound = ZSTD_compressBound(f->bytes.len);
        rt_pack_reset(&v);
        rt_pack_u64le(&v, f->bytes.len);
        rt_pack_u64le(&v, XXH64(f->bytes.data, f->bytes.len, 0));
        if (!rt_buf_reserve(&v, bound)) {
            st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
            break;
        }
        size_t n = ZSTD_compressCCtx(cctx, v.data + v.len, bound, f->bytes.data, f->bytes.len,
                                     SOURCE_LEVEL);
        if (ZSTD_isError(n)) {
            st = rt_error_set(err, RT_EZSTD, f->name, 0, 0, NULL, "cannot compress: %s",
                              ZSTD_getErrorName(n));
            break;
        }
        MDB_val k = {strlen(f->name), f->name}, val = {v.len + n, v.data};
        st = rt_store_check(mdb_put(txn, dbi, &k, &val, MDB_NOOVERWRITE), SOURCE_DB, err);
    }
    rt_pack_free(&v);
    ZSTD_freeCCtx(cctx);
    return st;
}

/* One kept file as stored: its name, size and XXH64 as it was in the source, and its frame,
 * whose own content size is the kept size (checked before the size is trusted). */
typedef struct kept_file {
    const char *dir; /* the book's */
    char name[256];
    uint64_t size, xxh64;
    const unsigned char *frame;
    size_t frame_len;
} kept_file;

typedef rt_status (*kept_fn)(void *ctx, const kept_file *f, rt_error *err);

static rt_status kept_damaged(const kept_file *f, rt_error *err)
{
    return rt_error_set(err, RT_ECORRUPT, f->dir, 0, 0, f->name,
                        "kept source file does not match its size and checksum (book export "
                        "--canonical writes the book itself)");
}

/* Each file the book keeps, in name order, to fn, in one read transaction; *version (may be
 * NULL) the book's. RT_ENOTFOUND when it keeps none; RT_ECORRUPT for a kept file whose head
 * does not agree with its frame. */
static rt_status walk_source(rt_store *store, kept_fn fn, void *ctx, uint64_t *version,
                             rt_error *err)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    rt_status st = begin_read(store, &txn, err);
    if (st != RT_OK) return st;
    MDB_dbi meta, dbi;
    if ((st = rt_store_dbi(txn, "book.meta", false, &meta, err)) == RT_OK) {
        uint64_t now = get_meta(txn, meta, "version"), kept = get_meta(txn, meta, "source");
        st = kept != 0 && kept == now ? rt_store_dbi(txn, SOURCE_DB, false, &dbi, err)
                                      : RT_ENOTFOUND;
        if (version) *version = now;
    }
    if (st == RT_ENOTFOUND)
        st = rt_error_set(err, RT_ENOTFOUND, rt_store_dir(store), 0, 0, NULL,
                          "the book keeps no source");
    if (st == RT_OK)
        st = rt_store_check(mdb_cursor_open(txn, dbi, &cur), "mdb_cursor_open", err);
    MDB_val k, v;
    int rc = st == RT_OK ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
    for (; st == RT_OK && rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        kept_file f;
        f.dir = rt_store_dir(store);
        size_t klen = k.mv_size < sizeof f.name ? k.mv_size : sizeof f.name - 1;
        memcpy(f.name, k.mv_data, klen);
        f.name[klen] = '\0';
        rt_unpack u;
        rt_unpack_init(&u, v.mv_data, v.mv_size);
        f.size = rt_unpack_u64le(&u);
        f.xxh64 = rt_unpack_u64le(&u);
        f.frame = u.p;
        f.frame_len = u.bad ? 0 : (size_t)(u.end - u.p);
        st = u.bad || ZSTD_getFrameContentSize(f.frame, f.frame_len) != f.size
                 ? kept_damaged(&f, err)
                 : fn(ctx, &f, err);
    }
    if (st == RT_OK && rc != MDB_NOTFOUND) st = rt_store_check(rc, SOURCE_DB, err);
    if (cur) mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return st;
}

typedef struct source_sizes {
    uint64_t files, bytes;
} source_sizes;

static rt_status count_kept(void *ctx, const kept_file *f, rt_error *err)
{
    (void)err;
    source_sizes *z = ctx;
    z->files++;
    z->bytes += f->size;
    return RT_OK;
}

rt_status rt_pricebook_source_info(rt_store *store, uint64_t *files, uint64_t *bytes,
                                   rt_error *err)
{
    source_sizes z = {0, 0};
    rt_status st = walk_source(store, count_kept, &z, NULL, err);
    if (st == RT_ENOTFOUND) st = RT_OK; /* no source kept */
    *files = st == RT_OK ? z.files : 0;
    *bytes = st == RT_OK ? z.bytes : 0;
    return st;
}

static rt_status take_kept(void *ctx, const kept_file *f, rt_error *err)
{
    rt_book_source *out = ctx;
    rt_buf bytes;
    rt_buf_init(&bytes);
    if (f->size > SIZE_MAX - 1 || !rt_buf_reserve(&bytes, (size_t)f->size + 1))
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    size_t n = ZSTD_decompress(bytes.data, (size_t)f->size + 1, f->frame, f->frame_len);
    rt_status st = RT_OK;
    if (ZSTD_isError(n) || n != f->size || XXH64(bytes.data, n, 0) != f->xxh64)
        st = kept_damaged(f, err);
    bytes.len = st == RT_OK ? n : 0;
    if (st == RT_OK && rt_book_source_add(out, f->name, &bytes) != RT_OK)
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    rt_buf_free(&bytes);
    return st;
}

rt_status rt_pricebook_source(rt_store *store, rt_book_source *out, uint64_t *version,
                              rt_error *err)
{
    return walk_source(store, take_kept, out, version, err);
}

/* ---- import ---- */

rt_status rt_pricebook_import(rt_store *store, const rt_book *book, const rt_book_source *source,
                              rt_pricebook_info *info, rt_error *err)
{
    MDB_txn *txn = NULL;
    rt_pack key, val;
    rt_pack_init(&key);
    rt_pack_init(&val);
    XXH64_state_t *hs = XXH64_createState();
    rt_status st;
    if (!hs) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    XXH64_reset(hs, 0);
    uint64_t rows = 0;

    if ((st = rt_store_check(mdb_txn_begin(rt_store_env(store), NULL, 0, &txn), "mdb_txn_begin",
                             err)) != RT_OK)
        goto fail;
    for (unsigned ti = 0; ti < RT_T_COUNT_; ti++) {
        const rt_table *t = rt_book_table((rt_table_id)ti);
        const rt_book_rows *r = &book->tables[ti];
        char name[64];
        MDB_dbi dbi;
        table_db_name(t, name, sizeof name);
        if ((st = rt_store_dbi(txn, name, true, &dbi, err)) != RT_OK) goto fail;
        if ((st = rt_store_check(mdb_drop(txn, dbi, 0), "mdb_drop", err)) != RT_OK) goto fail;
        for (size_t i = 0; i < r->count; i++) {
            const void *row = (const char *)r->rows + i * t->row_size;
            rt_pack_reset(&key);
            rt_pack_reset(&val);
            pack_key(&key, t, row, i);
            pack_value(&val, t, row);
            if (key.failed || val.failed) {
                st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
                goto fail;
            }
            MDB_val k = {key.len, key.data}, v = {val.len, val.data};
            /* Keys were checked unique by validation; MDB_NOOVERWRITE turns a slip into an
             * error rather than a silently lost row. */
            if ((st = rt_store_check(mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE), name, err)) !=
                RT_OK)
                goto fail;
            uint8_t tid = (uint8_t)ti;
            XXH64_update(hs, &tid, 1);
            XXH64_update(hs, key.data, key.len);
            XXH64_update(hs, val.data, val.len);
            rows++;
        }
    }
    MDB_dbi meta;
    if ((st = rt_store_dbi(txn, "book.meta", true, &meta, err)) != RT_OK) goto fail;
    rt_pricebook_info out = {XXH64_digest(hs), get_meta(txn, meta, "version") + 1, rows};
    if ((st = put_meta(txn, meta, "fingerprint", out.fingerprint, err)) != RT_OK) goto fail;
    if ((st = put_meta(txn, meta, "version", out.version, err)) != RT_OK) goto fail;
    if ((st = put_meta(txn, meta, "rows", out.rows, err)) != RT_OK) goto fail;
    if ((st = put_source(txn, meta, source, out.version, err)) != RT_OK) goto fail;
    st = rt_store_check(mdb_txn_commit(txn), "mdb_txn_commit", err);
    txn = NULL;
    if (st != RT_OK) goto fail;
    if (info) *info = out;
fail:
    if (txn) mdb_txn_abort(txn);
    rt_pack_free(&key);
    rt_pack_free(&val);
    XXH64_freeState(hs);
    return st;
}

/* ---- load ---- */

static rt_status unpack_row(rt_book *book, const rt_table *t, void *row, const MDB_val *v)
{
    rt_unpack u;
    char why[128];
    rt_unpack_init(&u, v->mv_data, v->mv_size);
    if (rt_unpack_u8(&u) != RECORD_FORMAT) return RT_ECORRUPT;
    uint64_t nf = rt_unpack_uvarint(&u);
    if (u.bad || nf > t->field_count) return RT_ECORRUPT;
    for (size_t i = 0; i < t->field_count; i++) {
        const rt_field *f = &t->fields[i];
        char *m = (char *)row + f->offset;
        if (i >= nf) {
            /* A column added after this record was written: its default. */
            rt_status st = rt_book_field_parse(book, f, row, "", 0, why, sizeof why);
            if (st != RT_OK) return RT_ECORRUPT;
            continue;
        }
        switch (f->type) {
        case RT_FT_ID:
        case RT_FT_TEXT:
        case RT_FT_DIGITS:
        case RT_FT_CURRENCY: {
            size_t len;
            const char *s = rt_unpack_str(&u, &len);
            char *copy = rt_arena_strndup(&book->arena, s, len);
            if (!copy) return RT_ENOMEM;
            *(const char **)m = copy;
            break;
        }
        case RT_FT_ENUM: {
            uint64_t e = rt_unpack_uvarint(&u);
            size_t count = 0;
            while (f->names[count]) count++;
            if (e >= count) return RT_ECORRUPT;
            *(int32_t *)m = (int32_t)e;
            break;
        }
        default: *(int64_t *)m = rt_unpack_svarint(&u); break;
        }
    }
    return rt_unpack_done(&u);
}

rt_status rt_pricebook_load(rt_store *store, rt_book *book, rt_pricebook_info *info,
                            rt_error *err)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    rt_status st = begin_read(store, &txn, err);
    if (st != RT_OK) return st;
    MDB_dbi meta;
    if ((st = rt_store_dbi(txn, "book.meta", false, &meta, err)) != RT_OK) {
        if (st == RT_ENOTFOUND)
            rt_error_set(err, RT_ENOTFOUND, rt_store_dir(store), 0, 0, NULL,
                         "no price book has been imported here");
        goto done;
    }
    if (info) {
        info->fingerprint = get_meta(txn, meta, "fingerprint");
        info->version = get_meta(txn, meta, "version");
        info->rows = get_meta(txn, meta, "rows");
    }
    for (unsigned ti = 0; ti < RT_T_COUNT_; ti++) {
        const rt_table *t = rt_book_table((rt_table_id)ti);
        char name[64];
        MDB_dbi dbi;
        table_db_name(t, name, sizeof name);
        st = rt_store_dbi(txn, name, false, &dbi, err);
        if (st == RT_ENOTFOUND) continue; /* a table added after this book was imported */
        if (st != RT_OK) goto done;
        if ((st = rt_store_check(mdb_cursor_open(txn, dbi, &cur), "mdb_cursor_open", err)) !=
            RT_OK)
            goto done;
        MDB_val k, v;
        int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        while (rc == MDB_SUCCESS) {
            void *row;
            if ((st = rt_book_append(book, t->id, 0, &row)) != RT_OK) {
                rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
                goto done;
            }
            if ((st = unpack_row(book, t, row, &v)) != RT_OK) {
                rt_error_set(err, st, rt_store_dir(store), 0, 0, name,
                             "stored record does not decode");
                goto done;
            }
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        if (rc != MDB_NOTFOUND) {
            st = rt_store_check(rc, name, err);
            goto done;
        }
        mdb_cursor_close(cur);
        cur = NULL;
    }
    st = RT_OK;
done:
    if (cur) mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return st;
}

/* test_pricebook: the price book in LMDB: import/load round trip of every row and field,
 * fingerprint and version, atomicity (a reader that started before an import keeps the old
 * book; a failed import changes nothing), records written before a column existed, corrupt
 * records, a store without a book, and the map's pages given back once the book is read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "engine/pack.h"
#include "engine/pricebook.h"
#include "formats/book_csv.h"
#include "testutil.h"

static char tmp[256], src[300], store_dir[300];
static void setup(void)
{
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    snprintf(store_dir, sizeof store_dir, "%s/book", tmp);
    rt_test_mini_book(src);
}
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(pricebook, .init = setup, .fini = teardown);

static rt_store *open_store(bool create)
{
    rt_store *s = NULL;
    rt_error err;
    cr_assert_eq(rt_store_open(store_dir, create, &s, &err), RT_OK, "%s", err.message);
    return s;
}

static void load_source(const char *dir, rt_book *book)
{
    cr_assert_eq(rt_test_read_book(dir, book), 0);
}

static rt_pricebook_info import(rt_store *s, const char *dir)
{
    rt_book book;
    load_source(dir, &book);
    rt_pricebook_info info;
    rt_error err;
    cr_assert_eq(rt_pricebook_import(s, &book, NULL, &info, &err), RT_OK, "%s", err.message);
    rt_book_free(&book);
    return info;
}

/* Every table, row and field of two books, compared by canonical text. */
static void assert_same_books(const rt_book *a, const rt_book *b)
{
    for (unsigned t = 0; t < RT_T_COUNT_; t++) {
        const rt_table *tab = rt_book_table((rt_table_id)t);
        cr_assert_eq(RT_BOOK_COUNT(a, t), RT_BOOK_COUNT(b, t), "%s", tab->name);
        for (size_t i = 0; i < RT_BOOK_COUNT(a, t); i++) {
            const char *ra = (const char *)a->tables[t].rows + i * tab->row_size;
            const char *rb = (const char *)b->tables[t].rows + i * tab->row_size;
            for (size_t k = 0; k < tab->field_count; k++) {
                char x[RT_FIELD_TEXT_MAX], y[RT_FIELD_TEXT_MAX];
                rt_book_field_format(&tab->fields[k], ra, x, sizeof x);
                rt_book_field_format(&tab->fields[k], rb, y, sizeof y);
                cr_assert_str_eq(x, y, "%s row %zu %s", tab->name, i, tab->fields[k].name);
            }
        }
    }
}

static void round_trip(const char *dir)
{
    rt_store *s = open_store(true);
    rt_pricebook_info in = import(s, dir);
    rt_book orig, loaded;
    load_source(dir, &orig);
    rt_book_init(&loaded);
    rt_pricebook_info out;
    rt_error err;
    cr_assert_eq(rt_pricebook_load(s, &loaded, &out, &err), RT_OK, "%s", err.message);
    assert_same_books(&orig, &loaded);
    size_t rows = 0;
    for (unsigned t = 0; t < RT_T_COUNT_; t++) rows += RT_BOOK_COUNT(&orig, t);
    cr_assert_eq(in.rows, rows);
    cr_assert(out.rows == in.rows && out.version == in.version &&
              out.fingerprint == in.fingerprint);
    cr_assert_eq(loaded.tables[RT_T_CHARGES].lines[0], 0, "stored rows have no source line");
    rt_book_free(&orig);
    rt_book_free(&loaded);
    rt_store_close(s);
}

Test(pricebook, import_load_round_trip_keeps_every_row)
{
    round_trip(src);
}

Test(pricebook, the_telco_sample_round_trips)
{
    round_trip(rt_test_src("data-samples/telco/book"));
}

Test(pricebook, fingerprint_and_version)
{
    rt_store *s = open_store(true);
    rt_pricebook_info v1 = import(s, src);
    cr_assert_eq(v1.version, 1);
    cr_assert_eq(v1.rows, 1 + 5 + 8 + 2 + 9 + 4 + 4 + 3);
    rt_pricebook_info v2 = import(s, src);
    cr_assert_eq(v2.version, 2);
    cr_assert_eq(v2.fingerprint, v1.fingerprint, "the same source, the same fingerprint");
    /* One price changes: 0.03 -> 0.031 for C_VOICE v2. */
    static const char charges[] = MINI_BOOK_CHARGES;
    const char *at = strstr(charges, "VOICE,per_unit,0.03,");
    cr_assert_not_null(at);
    char changed[sizeof charges + 1];
    size_t head = (size_t)(at - charges) + strlen("VOICE,per_unit,0.03");
    memcpy(changed, charges, head);
    changed[head] = '1';
    memcpy(changed + head + 1, charges + head, sizeof charges - head);
    rt_test_write(src, "charges.csv", changed);
    rt_pricebook_info v3 = import(s, src);
    cr_assert_eq(v3.version, 3);
    cr_assert_neq(v3.fingerprint, v1.fingerprint);
    /* A row order change in the source is not a change of the book. */
    rt_test_mini_book(src);
    rt_test_write(src, "plans.csv", "plan_id,name,currency\nPA,Plan A,EUR\nPB,Plan B,EUR\n");
    rt_pricebook_info v4 = import(s, src);
    cr_assert_eq(v4.fingerprint, v1.fingerprint);
    cr_assert_eq(v4.version, 4);
    rt_store_close(s);
}

static uint64_t entries(MDB_txn *txn, const char *db)
{
    MDB_dbi dbi;
    rt_error err;
    cr_assert_eq(rt_store_dbi(txn, db, false, &dbi, &err), RT_OK);
    MDB_stat st;
    cr_assert_eq(mdb_stat(txn, dbi, &st), MDB_SUCCESS);
    return st.ms_entries;
}

static uint64_t meta(MDB_txn *txn, const char *key)
{
    MDB_dbi dbi;
    rt_error err;
    cr_assert_eq(rt_store_dbi(txn, "book.meta", false, &dbi, &err), RT_OK);
    MDB_val k = {strlen(key), (void *)key}, v;
    cr_assert_eq(mdb_get(txn, dbi, &k, &v), MDB_SUCCESS);
    cr_assert_eq(v.mv_size, 8);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x |= (uint64_t)((unsigned char *)v.mv_data)[i] << (8 * i);
    return x;
}

Test(pricebook, a_reader_that_started_before_an_import_keeps_the_old_book)
{
    rt_store *s = open_store(true);
    rt_pricebook_info v1 = import(s, src);
    MDB_txn *old;
    cr_assert_eq(mdb_txn_begin(rt_store_env(s), NULL, MDB_RDONLY, &old), MDB_SUCCESS);
    cr_assert_eq(entries(old, "book.charges"), 9);

    rt_test_write(src, "charges.csv", MINI_BOOK_CHARGES "PB,C_NEW,,,DATA,per_unit,1,1,0,0,\n");
    rt_pricebook_info v2 = import(s, src);
    cr_assert_eq(v2.version, 2);

    /* The snapshot is whole: old rows, old meta, in every table. */
    cr_assert_eq(entries(old, "book.charges"), 9);
    cr_assert_eq(meta(old, "version"), 1);
    cr_assert_eq(meta(old, "fingerprint"), v1.fingerprint);
    cr_assert_eq(meta(old, "rows"), v1.rows);
    mdb_txn_abort(old);

    MDB_txn *now;
    cr_assert_eq(mdb_txn_begin(rt_store_env(s), NULL, MDB_RDONLY, &now), MDB_SUCCESS);
    cr_assert_eq(entries(now, "book.charges"), 10);
    cr_assert_eq(meta(now, "version"), 2);
    cr_assert_eq(meta(now, "fingerprint"), v2.fingerprint);
    mdb_txn_abort(now);
    rt_store_close(s);
}

Test(pricebook, a_failed_import_changes_nothing)
{
    rt_store *s = open_store(true);
    rt_pricebook_info v1 = import(s, src);
    /* An unvalidated book with a duplicate key in the last table: earlier tables are already
     * replaced inside the write transaction when the put fails. */
    rt_book bad;
    load_source(src, &bad);
    void *row;
    cr_assert_eq(rt_book_append(&bad, RT_T_TAX_RATES, 0, &row), RT_OK);
    memcpy(row, RT_BOOK_ROWS(&bad, RT_T_TAX_RATES, rt_tax_rate), sizeof(rt_tax_rate));
    RT_BOOK_ROWS(&bad, RT_T_CHARGES, rt_charge)[0].price_nanos = 1;
    rt_error err;
    rt_pricebook_info info;
    cr_assert_eq(rt_pricebook_import(s, &bad, NULL, &info, &err), RT_ELMDB);
    cr_assert(strstr(err.message, "book.tax_rates"), "%s", err.message);
    rt_book_free(&bad);

    rt_book loaded, orig;
    rt_book_init(&loaded);
    rt_pricebook_info now;
    cr_assert_eq(rt_pricebook_load(s, &loaded, &now, &err), RT_OK);
    cr_assert(now.version == 1 && now.fingerprint == v1.fingerprint);
    load_source(src, &orig);
    assert_same_books(&orig, &loaded);
    rt_book_free(&orig);
    rt_book_free(&loaded);
    rt_store_close(s);
}

Test(pricebook, no_book_yet)
{
    rt_store *s = NULL;
    rt_error err;
    cr_assert_eq(rt_store_open(store_dir, false, &s, &err), RT_ENOTFOUND);
    cr_assert_null(s);
    cr_assert_str_eq(err.file, store_dir);
    s = open_store(true);
    rt_book book;
    rt_book_init(&book);
    cr_assert_eq(rt_pricebook_load(s, &book, NULL, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "no price book"), "%s", err.message);
    cr_assert_eq(RT_BOOK_COUNT(&book, RT_T_CHARGES), 0);
    rt_book_free(&book);
    rt_store_close(s);
    /* The directory now holds an empty store: opening without create works. */
    rt_store_close(open_store(false));
}

/* Replace the value of the first record of a stored table. */
static void put_first(rt_store *s, const char *db, const void *val, size_t len)
{
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(rt_store_env(s), NULL, 0, &txn), MDB_SUCCESS);
    MDB_dbi dbi;
    rt_error err;
    cr_assert_eq(rt_store_dbi(txn, db, false, &dbi, &err), RT_OK);
    MDB_cursor *c;
    cr_assert_eq(mdb_cursor_open(txn, dbi, &c), MDB_SUCCESS);
    MDB_val k, v;
    cr_assert_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), MDB_SUCCESS);
    MDB_val nv = {len, (void *)val};
    cr_assert_eq(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), MDB_SUCCESS);
    mdb_cursor_close(c);
    cr_assert_eq(mdb_txn_commit(txn), MDB_SUCCESS);
}

/* The source's files, read as an import reads them, kept with the book. */
static rt_pricebook_info import_kept(rt_store *s, const char *dir)
{
    rt_book book;
    rt_book_source source;
    rt_diags d;
    rt_book_init(&book);
    rt_book_source_init(&source);
    rt_diags_init(&d);
    cr_assert_eq(rt_book_csv_read_kept(dir, &book, &d, &source), RT_OK);
    rt_pricebook_info info;
    rt_error err;
    cr_assert_eq(rt_pricebook_import(s, &book, &source, &info, &err), RT_OK, "%s", err.message);
    rt_diags_free(&d);
    rt_book_source_free(&source);
    rt_book_free(&book);
    return info;
}

/* The kept source holds exactly the table files of dir, byte for byte. */
static void assert_kept_source(rt_store *s, const char *dir, size_t files)
{
    rt_book_source kept;
    rt_book_source_init(&kept);
    rt_error err;
    cr_assert_eq(rt_pricebook_source(s, &kept, NULL, &err), RT_OK, "%s", err.message);
    cr_assert_eq(kept.count, files);
    for (size_t i = 0; i < kept.count; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, kept.files[i].name);
        FILE *f = fopen(path, "rb"); /* as stored: not decompressed */
        cr_assert_not_null(f, "%s", path);
        char *want = malloc(kept.files[i].bytes.len + 1);
        size_t n = fread(want, 1, kept.files[i].bytes.len + 1, f);
        fclose(f);
        cr_assert_eq(kept.files[i].bytes.len, n, "%s", path);
        cr_assert(memcmp(kept.files[i].bytes.data, want, n) == 0, "%s", path);
        if (i) cr_assert_lt(strcmp(kept.files[i - 1].name, kept.files[i].name), 0);
        free(want);
    }
    rt_book_source_free(&kept);
}

Test(pricebook, the_source_is_kept_as_stored_until_a_merge_replaces_the_book)
{
    rt_store *s = open_store(true);
    /* One file stored compressed: kept compressed, as it was in the source. */
    cr_assert_eq(rt_test_sh("cd '%s' && zstd -q --rm products.csv && mv products.csv.zst "
                            "products.csv && printf 'x' > README.txt",
                            src),
                 0);
    size_t files = 0;
    for (unsigned t = 0; t < RT_T_COUNT_; t++)
        files += rt_test_sh("test -f '%s/%s'", src, rt_book_table((rt_table_id)t)->file) == 0;
    rt_pricebook_info v1 = import_kept(s, src);
    assert_kept_source(s, src, files);
    uint64_t bytes = 0;
    for (unsigned t = 0; t < RT_T_COUNT_; t++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", src, rt_book_table((rt_table_id)t)->file);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        bytes += (uint64_t)ftell(f);
        fclose(f);
    }
    rt_error err;
    uint64_t kept_files, kept_bytes;
    cr_assert_eq(rt_pricebook_source_info(s, &kept_files, &kept_bytes, &err), RT_OK);
    cr_assert(kept_files == files && kept_bytes == bytes, "%llu files, %llu bytes",
              (unsigned long long)kept_files, (unsigned long long)kept_bytes);
    /* The book itself is the same as one imported without its source. */
    rt_book a, b;
    rt_book_init(&a);
    cr_assert_eq(rt_pricebook_load(s, &a, NULL, &err), RT_OK);
    load_source(src, &b);
    assert_same_books(&b, &a);
    rt_book_free(&a);
    rt_book_free(&b);
    /* A book replaced without a source (a CGRateS merge) keeps none: its old source would no
     * longer describe it. */
    rt_pricebook_info v2 = import(s, src);
    cr_assert_eq(v2.version, v1.version + 1);
    cr_assert_eq(rt_pricebook_source_info(s, &kept_files, &kept_bytes, &err), RT_OK);
    cr_assert(kept_files == 0 && kept_bytes == 0);
    cr_assert_eq(v2.fingerprint, v1.fingerprint, "the source is not part of the book's rows");
    rt_book_source kept;
    rt_book_source_init(&kept);
    cr_assert_eq(rt_pricebook_source(s, &kept, NULL, &err), RT_ENOTFOUND);
    cr_assert(strstr(err.message, "keeps no source"), "%s", err.message);
    cr_assert_eq(kept.count, 0);
    /* Imported again with its source: kept again. A kept file that does not decompress to
     * its size and checksum is refused. */
    import_kept(s, src);
    assert_kept_source(s, src, files);
    uint64_t version = 0;
    rt_book_source_free(&kept);
    cr_assert_eq(rt_pricebook_source(s, &kept, &version, &err), RT_OK);
    cr_assert_eq(version, v2.version + 1);
    rt_book_source_free(&kept);
    /* Kept values damaged three ways: not a zstd frame; a frame whose content is not the
     * kept checksum's; a kept size other than the frame's (never trusted for memory). */
    const unsigned char junk[20] = {5};
    unsigned char framed[64];
    memset(framed, 0, 16);
    framed[0] = 3; /* size 3, XXH64 0 */
    size_t fn = ZSTD_compress(framed + 16, sizeof framed - 16, "abc", 3, 1);
    cr_assert(!ZSTD_isError(fn));
    unsigned char huge[64];
    memcpy(huge, framed, 16 + fn);
    huge[6] = 1; /* size 2^48 + 3 */
    const unsigned char *bad[] = {junk, framed, huge};
    size_t bad_len[] = {sizeof junk, 16 + fn, 16 + fn};
    for (int i = 0; i < 3; i++) {
        put_first(s, "book.source", bad[i], bad_len[i]);
        cr_assert_eq(rt_pricebook_source(s, &kept, NULL, &err), RT_ECORRUPT, "case %d", i);
        cr_assert(strstr(err.message, "does not match its size and checksum"), "%s",
                  err.message);
        rt_book_source_free(&kept);
        /* The sizes are checked against the frames' own: the forged sizes are refused. */
        if (i != 1)
            cr_assert_eq(rt_pricebook_source_info(s, &kept_files, &kept_bytes, &err),
                         RT_ECORRUPT, "case %d", i);
        /* Loading the book never reads its kept source: a run is not stopped by it. */
        rt_book d;
        rt_book_init(&d);
        cr_assert_eq(rt_pricebook_load(s, &d, NULL, &err), RT_OK, "case %d", i);
        rt_book_free(&d);
    }
    rt_book_source_free(&kept);
    rt_store_close(s);
}

Test(pricebook, a_record_from_before_a_column_existed_loads_its_default)
{
    rt_store *s = open_store(true);
    import(s, src);
    /* plans: format 1, three of the four fields (no time_zone). */
    rt_pack p;
    rt_pack_init(&p);
    rt_pack_u8(&p, 1);
    rt_pack_uvarint(&p, 3);
    rt_pack_str(&p, "PA");
    rt_pack_str(&p, "Plan A (old record)");
    rt_pack_str(&p, "EUR");
    put_first(s, "book.plans", p.data, p.len);
    rt_book book;
    rt_book_init(&book);
    rt_error err;
    cr_assert_eq(rt_pricebook_load(s, &book, NULL, &err), RT_OK, "%s", err.message);
    const rt_plan *pl = RT_BOOK_ROWS(&book, RT_T_PLANS, rt_plan);
    cr_assert_str_eq(pl[0].name, "Plan A (old record)");
    cr_assert_str_eq(pl[0].time_zone, "");
    rt_book_free(&book);
    rt_pack_free(&p);
    rt_store_close(s);
}

Test(pricebook, corrupt_records_are_refused)
{
    rt_store *s = open_store(true);
    import(s, src);
    static const unsigned char bad_format[] = {9, 3, 0, 0, 0};
    static const unsigned char too_many_fields[] = {1, 60, 0, 0, 0, 0, 0};
    static const unsigned char cut_short[] = {1, 4, 2, 'P', 'A', 1};
    static const unsigned char trailing[] = {1, 4, 2, 'P', 'A', 1, 'x', 3, 'E', 'U', 'R', 0, 9};
    const struct {
        const unsigned char *v;
        size_t n;
    } cases[] = {{bad_format, sizeof bad_format},
                 {too_many_fields, sizeof too_many_fields},
                 {cut_short, sizeof cut_short},
                 {trailing, sizeof trailing}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        put_first(s, "book.plans", cases[i].v, cases[i].n);
        rt_book book;
        rt_book_init(&book);
        rt_error err;
        cr_assert_eq(rt_pricebook_load(s, &book, NULL, &err), RT_ECORRUPT, "case %zu", i);
        cr_assert_str_eq(err.field, "book.plans");
        rt_book_free(&book);
    }
    /* An enumeration index beyond its names is corrupt too. */
    rt_pack p;
    rt_pack_init(&p);
    rt_pack_u8(&p, 1);
    rt_pack_uvarint(&p, 3);
    rt_pack_str(&p, "411");
    rt_pack_str(&p, "Clients");
    rt_pack_uvarint(&p, 99);
    put_first(s, "book.gl_accounts", p.data, p.len);
    rt_pack_free(&p);
    rt_book book;
    rt_book_init(&book);
    rt_error err;
    cr_assert_eq(rt_pricebook_load(s, &book, NULL, &err), RT_ECORRUPT);
    rt_book_free(&book);
    rt_store_close(s);
}

/* Resident kilobytes of this process's mappings of `file` (from /proc/self/smaps: a header
 * line "start-end perms offset dev inode path" per mapping, then its "Key: value kB" lines). */
static long mapped_rss_kb(const char *file)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    cr_assert(f);
    char line[4096];
    bool in = false;
    long kb = 0;
    size_t n = strlen(file);
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        line[len] = '\0';
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
            in = len > n && strcmp(line + len - n, file) == 0;
        else if (in && strncmp(line, "Rss:", 4) == 0)
            kb += strtol(line + 4, NULL, 10);
    }
    fclose(f);
    return kb;
}

Test(pricebook, released_pages_leave_the_book_readable)
{
    rt_store *s = open_store(true);
    (void)import(s, rt_test_src("data-samples/telco/book"));
    char data[400];
    snprintf(data, sizeof data, "%s/data.mdb", store_dir);
    rt_book first, again;
    rt_book_init(&first);
    rt_error err;
    cr_assert_eq(rt_pricebook_load(s, &first, NULL, &err), RT_OK, "%s", err.message);
    cr_assert_gt(mapped_rss_kb(data), 0, "the load read the book through the map");
    rt_store_release_pages(s);
    cr_assert_eq(mapped_rss_kb(data), 0, "no page of the map stays resident");
    rt_book_init(&again);
    cr_assert_eq(rt_pricebook_load(s, &again, NULL, &err), RT_OK, "%s", err.message);
    assert_same_books(&first, &again);
    cr_assert_gt(mapped_rss_kb(data), 0, "read back from the file");
    rt_book_free(&first);
    rt_book_free(&again);
    rt_store_close(s);
}

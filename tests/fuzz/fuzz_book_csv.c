/* fuzz_book_csv: the price book source reader and the cross-table validation.
 *
 * The first byte of the input picks a table; the rest replaces that table's file in an
 * otherwise valid source (the mini book of tests/testutil.h). Invariants (abort on
 * violation): the reader and the validator return RT_OK or RT_EINVALID and report at least
 * one problem exactly when they say so; a valid book compiles into a catalog; and a valid
 * book's canonical export reads back into a book whose export is byte-identical. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../testutil.h"
#include "engine/catalog.h"
#include "formats/book_csv.h"

#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #x), abort()))

static char src[64], again[64];

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static void remove_dirs(void)
{
    const char *dirs[2] = {src, again};
    for (int d = 0; d < 2; d++) {
        if (!dirs[d][0]) continue;
        for (unsigned t = 0; t < RT_T_COUNT_; t++) {
            char path[128];
            snprintf(path, sizeof path, "%s/%s", dirs[d], rt_book_table((rt_table_id)t)->file);
            unlink(path);
        }
        rmdir(dirs[d]);
    }
}

static void write_mini_book(void)
{
    /* The required tables; the optional ones (tiers, decks, bands...) are left out. */
    static const struct {
        rt_table_id id;
        const char *text;
    } tables[] = {
        {RT_T_COMPANY, MINI_BOOK_COMPANY},   {RT_T_GL_ACCOUNTS, MINI_BOOK_GL_ACCOUNTS},
        {RT_T_PRODUCTS, MINI_BOOK_PRODUCTS}, {RT_T_PLANS, MINI_BOOK_PLANS},
        {RT_T_CHARGES, MINI_BOOK_CHARGES},   {RT_T_ACCOUNTS, MINI_BOOK_ACCOUNTS},
        {RT_T_ACCOUNT_PLANS, MINI_BOOK_ACCOUNT_PLANS}, {RT_T_TAX_RATES, MINI_BOOK_TAX_RATES}};
    for (unsigned t = 0; t < RT_T_COUNT_; t++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", src, rt_book_table((rt_table_id)t)->file);
        unlink(path); /* what an earlier input left behind */
    }
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        write_file(src, rt_book_table(tables[t].id)->file, tables[t].text, strlen(tables[t].text));
}

static void set_up_once(void)
{
    if (src[0]) return;
    const char *base = getenv("TMPDIR");
    snprintf(src, sizeof src, "%s/ratel-fuzz-XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(src) != NULL);
    snprintf(again, sizeof again, "%s/ratel-fuzz-XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(again) != NULL);
    atexit(remove_dirs);
}

static rt_status read_and_validate(const char *dir, rt_book *book)
{
    rt_diags d;
    rt_diags_init(&d);
    rt_book_init(book);
    rt_status st = rt_book_csv_read(dir, book, &d);
    CHECK(st == RT_OK || st == RT_EINVALID);
    CHECK((st == RT_OK) == (rt_diags_total(&d) == 0));
    rt_status vs = rt_book_validate(book, &d);
    CHECK(vs == RT_OK || vs == RT_EINVALID);
    if (st == RT_OK) CHECK((vs == RT_OK) == (rt_diags_total(&d) == 0));
    rt_diags_free(&d);
    return st == RT_OK ? vs : st;
}

static void export_text(const rt_book *book, rt_buf *out)
{
    for (unsigned t = 0; t < RT_T_COUNT_; t++) CHECK(rt_book_csv_table(book, (rt_table_id)t, out) == RT_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    set_up_once();
    write_mini_book();
    rt_table_id table = (rt_table_id)(data[0] % RT_T_COUNT_);
    write_file(src, rt_book_table(table)->file, data + 1, size - 1);

    rt_book book;
    if (read_and_validate(src, &book) == RT_OK) {
        rt_catalog cat;
        rt_error err;
        CHECK(rt_catalog_build(&book, &cat, &err) == RT_OK);
        rt_catalog_free(&cat);
        /* Canonical export -> import -> export. */
        rt_buf first, second;
        rt_buf_init(&first);
        rt_buf_init(&second);
        export_text(&book, &first);
        CHECK(rt_book_csv_write(again, &book, &err) == RT_OK);
        rt_book back;
        CHECK(read_and_validate(again, &back) == RT_OK);
        export_text(&back, &second);
        CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
        rt_book_free(&back);
        rt_buf_free(&first);
        rt_buf_free(&second);
    }
    rt_book_free(&book);
    return 0;
}

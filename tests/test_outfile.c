/* test_outfile: tables written row by row and in parallel chunks (rt_outfile_write_items):
 * the bytes are the same for any thread count, plain or compressed; rows are counted; a
 * compressed table decompresses to the plain one; the header written before the items comes
 * first; names of compressed tables end in .zst. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/outfile.h"
#include "testutil.h"

static char tmp[256];
static void setup(void) { rt_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(outfile, .init = setup, .fini = teardown);

/* Item i is i % 3 + 1 rows ("i.k,<i*k>\n"), so chunks differ in size and row count. */
static uint64_t items(const void *ctx, size_t from, size_t to, rt_buf *b)
{
    (void)ctx;
    uint64_t rows = 0;
    for (size_t i = from; i < to; i++) {
        for (size_t k = 0; k < i % 3 + 1; k++, rows++)
            rt_buf_printf(b, "%zu.%zu,%zu\n", i, k, i * k);
    }
    return rows;
}

static rt_output_file write_table(const char *name, int level, size_t n, size_t chunk,
                                  unsigned threads)
{
    rt_outfile f;
    rt_output_list list = {0};
    rt_error err;
    cr_assert_eq(rt_outfile_open(&f, tmp, name, level, &err), RT_OK, "%s", err.message);
    rt_buf_puts(&f.buf, "item,value\n");
    cr_assert_eq(rt_outfile_write_items(&f, n, chunk, threads, items, NULL, &err), RT_OK, "%s",
                 err.message);
    cr_assert_eq(rt_outfile_close(&f, &list, NULL, &err), RT_OK, "%s", err.message);
    cr_assert_eq(list.count, 1);
    cr_assert_str_eq(list.items[0].name, name);
    return list.items[0];
}

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return rt_test_read(path, len);
}

Test(outfile, chunks_on_any_thread_count_give_the_same_bytes)
{
    const size_t n = 10007;
    uint64_t rows = 0;
    for (size_t i = 0; i < n; i++) rows += i % 3 + 1;
    for (int level = 0; level <= 1; level++) {
        char n1[64], n4[64];
        snprintf(n1, sizeof n1, "t1-%d.csv", level);
        snprintf(n4, sizeof n4, "t4-%d.csv", level);
        rt_output_file a = write_table(n1, level, n, 100, 1);
        rt_output_file b = write_table(n4, level, n, 100, 4);
        cr_assert_eq(a.rows, rows);
        cr_assert_eq(b.rows, rows);
        cr_assert_eq(a.bytes, b.bytes);
        cr_assert_eq(a.xxh64, b.xxh64);
        size_t la, lb;
        char *x = slurp(n1, &la), *y = slurp(n4, &lb);
        cr_assert_eq(la, lb);
        cr_assert(memcmp(x, y, la) == 0);
        free(x);
        free(y);
    }
}

Test(outfile, a_compressed_table_holds_the_plain_text_in_order)
{
    rt_output_file p = write_table("plain.csv", 0, 5000, 64, 3);
    rt_output_file z = write_table("z.csv.zst", 1, 5000, 64, 3);
    cr_assert_eq(p.rows, z.rows);
    cr_assert_lt(z.bytes, p.bytes / 2, "compressed: %" PRIu64 " of %" PRIu64 " bytes", z.bytes,
                 p.bytes);
    size_t lp;
    char *plain = slurp("plain.csv", &lp);
    cr_assert_eq(lp, p.bytes);
    cr_assert_eq(rt_test_sh("zstd -q -dc '%s/z.csv.zst' | cmp -s - '%s/plain.csv'", tmp, tmp), 0);
    /* The header, then item 0 (one row), item 1 (two rows), ..., the last item last. */
    cr_assert(strncmp(plain, "item,value\n0.0,0\n1.0,0\n1.1,1\n2.0,0\n", 35) == 0);
    cr_assert(strstr(plain, "4999.0,0\n4999.1,4999\n") == plain + lp - 21);
    free(plain);
}

Test(outfile, no_items_leaves_the_header_alone)
{
    rt_output_file e = write_table("empty.csv", 0, 0, 10, 2);
    cr_assert_eq(e.rows, 0);
    cr_assert_eq(e.bytes, strlen("item,value\n"));
    e = write_table("empty.csv.zst", 1, 0, 10, 2);
    cr_assert_eq(rt_test_sh("test \"$(zstd -q -dc '%s/empty.csv.zst')\" = item,value", tmp), 0);
}

Test(outfile, names_of_compressed_tables_end_in_zst)
{
    char b[64];
    rt_outfile_name("journal.csv", 0, b, sizeof b);
    cr_assert_str_eq(b, "journal.csv");
    rt_outfile_name("journal.csv", 1, b, sizeof b);
    cr_assert_str_eq(b, "journal.csv.zst");
}

/* test_tar: ustar members as written (header fields, checksum, padding), members written in
 * place (rt_tar_open_member / rt_tar_close_member) byte for byte like rt_tar_member, name
 * limits, and archives read back by rt_tar_each, plain and zstd-compressed, with damaged
 * ones refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/tar.h"
#include "formats/zio.h"
#include "testutil.h"

static char tmp[256];
static void setup(void) { rt_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(tar, .init = setup, .fini = teardown);

/* The header checksum as ustar defines it: the bytes' sum, the checksum field as spaces. */
static unsigned checksum(const unsigned char *h)
{
    unsigned sum = 0;
    for (int i = 0; i < RT_TAR_BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

Test(tar, a_member_is_a_ustar_header_its_data_and_padding)
{
    rt_buf b;
    rt_buf_init(&b);
    cr_assert_eq(rt_tar_member(&b, "GEN-000001.xml", "<a/>\n", 5, 1793491200), RT_OK);
    cr_assert_eq(b.len, 2 * RT_TAR_BLOCK, "one header block, one data block");
    const unsigned char *h = (const unsigned char *)b.data;
    cr_assert_str_eq((const char *)h, "GEN-000001.xml");
    cr_assert_str_eq((const char *)h + 100, "0000644", "mode");
    cr_assert_str_eq((const char *)h + 108, "0000000", "uid");
    cr_assert_str_eq((const char *)h + 124, "00000000005", "size in octal");
    cr_assert_str_eq((const char *)h + 136, "15271500400", "mtime 1793491200 in octal");
    cr_assert_eq(h[156], '0', "a regular file");
    cr_assert_eq(memcmp(h + 257, "ustar\0" "00", 8), 0, "ustar magic and version");
    unsigned stored = (unsigned)strtoul((const char *)h + 148, NULL, 8);
    cr_assert_eq(stored, checksum(h));
    cr_assert_eq(memcmp(b.data + RT_TAR_BLOCK, "<a/>\n", 5), 0);
    for (size_t i = RT_TAR_BLOCK + 5; i < b.len; i++) cr_assert_eq(b.data[i], 0, "padding");
    /* A member of exactly a block has no padding. */
    char block[RT_TAR_BLOCK];
    memset(block, 'x', sizeof block);
    rt_buf_reset(&b);
    cr_assert_eq(rt_tar_member(&b, "x", block, sizeof block, 0), RT_OK);
    cr_assert_eq(b.len, 2 * RT_TAR_BLOCK);
    rt_buf_free(&b);
}

Test(tar, a_member_written_in_place_is_the_same_bytes)
{
    rt_buf whole, in_place;
    rt_buf_init(&whole);
    rt_buf_init(&in_place);
    static const char *docs[] = {"", "x", "<Invoice>...</Invoice>\n"};
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "doc-%zu.xml", i);
        cr_assert_eq(rt_tar_member(&whole, name, docs[i], strlen(docs[i]), 86400), RT_OK);
        size_t at = rt_tar_open_member(&in_place);
        rt_buf_puts(&in_place, docs[i]);
        cr_assert_eq(rt_tar_close_member(&in_place, at, name, 86400), RT_OK);
    }
    cr_assert_eq(in_place.len, whole.len);
    cr_assert_eq(memcmp(in_place.data, whole.data, whole.len), 0);
    rt_buf_free(&whole);
    rt_buf_free(&in_place);
}

Test(tar, names_are_one_to_100_bytes)
{
    char name[RT_TAR_NAME_MAX + 2];
    memset(name, 'n', sizeof name);
    name[RT_TAR_NAME_MAX + 1] = '\0';
    rt_buf b;
    rt_buf_init(&b);
    cr_assert_eq(rt_tar_member(&b, name, "d", 1, 0), RT_ELIMIT);
    cr_assert_eq(rt_tar_member(&b, "", "d", 1, 0), RT_ELIMIT);
    cr_assert_eq(b.len, 0, "nothing appended for a refused name");
    name[RT_TAR_NAME_MAX] = '\0';
    cr_assert_eq(rt_tar_member(&b, name, "d", 1, 0), RT_OK);
    size_t at = rt_tar_open_member(&b);
    cr_assert_eq(rt_tar_close_member(&b, at, "", 0), RT_ELIMIT);
    rt_buf_free(&b);
}

typedef struct seen {
    size_t count;
    char names[4][32];
    char data[4][64];
} seen;

static rt_status collect(void *ctx, const char *name, const char *data, size_t len)
{
    seen *s = ctx;
    cr_assert_lt(s->count, 4);
    snprintf(s->names[s->count], sizeof s->names[0], "%s", name);
    snprintf(s->data[s->count], sizeof s->data[0], "%.*s", (int)len, data);
    s->count++;
    return RT_OK;
}

/* Write b's bytes to tmp/name as they are (level 0) or as one zstd frame. */
static const char *store(const char *name, const rt_buf *b, int level)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    rt_zwriter *w;
    rt_error err;
    cr_assert_eq(rt_zwriter_open(path, level, &w, &err), RT_OK);
    cr_assert_eq(rt_zwriter_write(w, b->data, b->len, &err), RT_OK);
    uint64_t bytes, xxh;
    cr_assert_eq(rt_zwriter_close(w, &bytes, &xxh, &err), RT_OK);
    return path;
}

Test(tar, archives_read_back_plain_and_compressed)
{
    rt_buf b;
    rt_buf_init(&b);
    cr_assert_eq(rt_tar_member(&b, "a.xml", "first", 5, 0), RT_OK);
    size_t at = rt_tar_open_member(&b);
    rt_buf_puts(&b, "second member");
    cr_assert_eq(rt_tar_close_member(&b, at, "b.html", 0), RT_OK);
    rt_tar_end(&b);
    for (int level = 0; level <= 1; level++) {
        seen s = {0};
        rt_error err;
        const char *path = store(level ? "docs.tar.zst" : "docs.tar", &b, level);
        cr_assert_eq(rt_tar_each(path, 1024, collect, &s, &err), RT_OK, "%s", err.message);
        cr_assert_eq(s.count, 2);
        cr_assert_str_eq(s.names[0], "a.xml");
        cr_assert_str_eq(s.data[0], "first");
        cr_assert_str_eq(s.names[1], "b.html");
        cr_assert_str_eq(s.data[1], "second member");
        /* A member larger than the reader accepts is refused. */
        s.count = 0;
        cr_assert_eq(rt_tar_each(path, 8, collect, &s, &err), RT_ECORRUPT);
    }
    /* A damaged header (checksum) and a missing end are refused. */
    b.data[0] = 'A';
    seen s = {0};
    rt_error err;
    cr_assert_eq(rt_tar_each(store("bad.tar", &b, 0), 1024, collect, &s, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "ustar header"), "%s", err.message);
    b.data[0] = 'a';
    b.len -= 2 * RT_TAR_BLOCK;
    s.count = 0;
    cr_assert_eq(rt_tar_each(store("cut.tar", &b, 0), 1024, collect, &s, &err), RT_ECORRUPT);
    rt_buf_free(&b);
}

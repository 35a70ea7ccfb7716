/* test_zio: plain and zstd files through rt_zwriter / rt_zreader: round trips (with reads of
 * odd sizes across the reader's 1 MiB buffer), multi-frame files from rt_zframe_compress,
 * checksums = XXH64 of the bytes as stored, truncated and corrupt frames, refusal to
 * overwrite. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "formats/zio.h"
#include "testutil.h"

static char tmp[256];
static void setup(void) { rt_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(zio, .init = setup, .fini = teardown);

static const char *path_of(const char *name)
{
    static char p[4][512];
    static unsigned next;
    char *b = p[next++ % 4];
    snprintf(b, 512, "%s/%s", tmp, name);
    return b;
}

/* Raw bytes of a file as stored. */
static unsigned char *raw(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void put_raw(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Deterministic text of n bytes: CSV-like lines, compressible but not trivially. */
static char *text(size_t n)
{
    char *t = malloc(n);
    uint64_t s = 1;
    for (size_t i = 0; i < n; i++) {
        s = s * UINT64_C(6364136223846793005) + 1;
        unsigned r = (unsigned)(s >> 59);
        t[i] = i % 61 == 60 ? '\n' : r < 10 ? (char)('0' + r) : r < 12 ? ',' : (char)('a' + r);
    }
    return t;
}

static void write_file(const char *path, int level, const char *data, size_t len,
                       uint64_t *bytes, uint64_t *xxh)
{
    rt_zwriter *w;
    rt_error err;
    cr_assert_eq(rt_zwriter_open(path, level, &w, &err), RT_OK, "%s", err.message);
    /* Uneven pieces, one larger than the writer's buffer. */
    size_t at = 0, piece = 1;
    while (at < len) {
        size_t n = len - at < piece ? len - at : piece;
        cr_assert_eq(rt_zwriter_write(w, data + at, n, &err), RT_OK);
        at += n;
        piece = piece * 7 + 3;
    }
    cr_assert_eq(rt_zwriter_close(w, bytes, xxh, &err), RT_OK, "%s", err.message);
}

/* Read a whole file with reads of `cap` bytes. */
static char *read_all(const char *path, size_t cap, size_t *len, rt_status *st, int *compressed)
{
    rt_zreader *r;
    rt_error err;
    cr_assert_eq(rt_zreader_open(path, &r, &err), RT_OK, "%s", err.message);
    if (compressed) *compressed = rt_zreader_compressed(r);
    size_t n = 0, size = 1 << 16;
    char *out = malloc(size);
    *st = RT_OK;
    for (;;) {
        if (size - n < cap) out = realloc(out, size = size * 2 + cap);
        size_t got;
        *st = rt_zreader_read(r, out + n, cap, &got, &err);
        if (*st != RT_OK || got == 0) break;
        n += got;
    }
    if (*st == RT_OK) {
        uint64_t bytes, xxh;
        rt_zreader_checksum(r, &bytes, &xxh);
        size_t stored_len;
        unsigned char *stored = raw(path, &stored_len);
        cr_assert_eq(bytes, stored_len, "bytes as stored");
        cr_assert_eq(xxh, XXH64(stored, stored_len, 0), "XXH64 of the bytes as stored");
        cr_assert_eq(rt_zreader_offset(r), stored_len);
        free(stored);
    } else {
        cr_assert_str_eq(err.file, path, "the error names the file");
    }
    rt_zreader_close(r);
    *len = n;
    return out;
}

static void round_trip(int level, size_t size, size_t cap)
{
    const char *path = path_of(level ? "rt.zst" : "rt.txt");
    remove(path);
    char *data = text(size);
    uint64_t bytes, xxh;
    write_file(path, level, data, size, &bytes, &xxh);
    size_t stored_len;
    unsigned char *stored = raw(path, &stored_len);
    cr_assert_eq(bytes, stored_len);
    cr_assert_eq(xxh, XXH64(stored, stored_len, 0), "the writer's checksum covers what it stored");
    uint64_t b2, x2;
    rt_error err;
    cr_assert_eq(rt_zio_checksum_file(path, &b2, &x2, &err), RT_OK);
    cr_assert(b2 == bytes && x2 == xxh);
    if (level == 0) {
        cr_assert_eq(stored_len, size);
    } else {
        cr_assert_lt(stored_len, size, "compressed");
        cr_assert(stored[0] == 0x28 && stored[1] == 0xb5 && stored[2] == 0x2f && stored[3] == 0xfd);
    }
    size_t n;
    rt_status st;
    int compressed;
    char *back = read_all(path, cap, &n, &st, &compressed);
    cr_assert_eq(st, RT_OK);
    cr_assert_eq(compressed, level > 0);
    cr_assert_eq(n, size);
    cr_assert(memcmp(back, data, size) == 0);
    free(back);
    free(stored);
    free(data);
}

Test(zio, plain_round_trip)
{
    round_trip(0, 3 << 20, 7777);
    round_trip(0, 10, 3);
    round_trip(0, 0, 100);
}

Test(zio, compressed_round_trip)
{
    round_trip(3, 3 << 20, 7777);
    round_trip(1, 100, 1);
    round_trip(19, 5000, 1 << 20);
}

Test(zio, compressed_file_is_readable_by_the_zstd_cli)
{
    char *data = text(200000);
    uint64_t bytes, xxh;
    write_file(path_of("cli.zst"), 3, data, 200000, &bytes, &xxh);
    put_raw(path_of("cli.txt"), data, 200000);
    cr_assert_eq(rt_test_sh("zstd -dcq '%s' | cmp -s - '%s'", path_of("cli.zst"),
                            path_of("cli.txt")),
                 0);
    free(data);
}

Test(zio, multi_frame_files)
{
    static const char *const parts[] = {"alpha\n", "beta\n", "", "gamma,\"q\"\n"};
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_buf frames;
    rt_buf_init(&frames);
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(rt_zframe_compress(cctx, 1, parts[i], strlen(parts[i]), &frames), RT_OK);
    ZSTD_freeCCtx(cctx);
    /* As the run's detail files are made: frames appended raw to a compressing writer. */
    rt_zwriter *w;
    rt_error err;
    cr_assert_eq(rt_zwriter_open(path_of("multi.zst"), 1, &w, &err), RT_OK);
    cr_assert_eq(rt_zwriter_write_raw(w, frames.data, frames.len, &err), RT_OK);
    uint64_t bytes, xxh;
    cr_assert_eq(rt_zwriter_close(w, &bytes, &xxh, &err), RT_OK);
    cr_assert_geq(bytes, frames.len);
    size_t n;
    rt_status st;
    for (size_t cap = 1; cap <= 64; cap *= 4) {
        char *back = read_all(path_of("multi.zst"), cap, &n, &st, NULL);
        cr_assert_eq(st, RT_OK);
        cr_assert_eq(n, 21);
        cr_assert(memcmp(back, "alpha\nbeta\ngamma,\"q\"\n", n) == 0, "%.*s", (int)n, back);
        free(back);
    }
    put_raw(path_of("multi.txt"), "alpha\nbeta\ngamma,\"q\"\n", 21);
    cr_assert_eq(rt_test_sh("zstd -dcq '%s' | cmp -s - '%s'", path_of("multi.zst"),
                            path_of("multi.txt")),
                 0, "the zstd CLI reads the concatenated frames too");
    rt_buf_free(&frames);
}

Test(zio, frames_with_a_chosen_hash_table)
{
    /* Rows that repeat their first and last columns, as the usage detail's do. */
    rt_buf text, frames;
    rt_buf_init(&text);
    rt_buf_init(&frames);
    for (unsigned i = 0; i < 20000; i++)
        rt_buf_printf(&text, "GEN-000001,1,ACC-0000001,P,C,E%09u,2026-10-%02uT05:55:01Z,%u,EUR\n",
                      i * 7919u, 1 + i % 28, i % 977);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    /* The level's own settings and then a chosen table on one context: each frame stands
     * alone, and the settings of one call do not stay for the next. */
    cr_assert_eq(rt_zframe_compress_hashed(cctx, 1, 11, text.data, text.len, &frames), RT_OK);
    size_t first = frames.len;
    cr_assert_eq(rt_zframe_compress(cctx, 1, text.data, text.len, &frames), RT_OK);
    cr_assert_eq(rt_zframe_compress_hashed(cctx, 1, 11, text.data, text.len, &frames), RT_OK);
    cr_assert_eq(memcmp(frames.data, frames.data + frames.len - first, first), 0,
                 "the same text and settings give the same frame");
    for (size_t at = 0, k = 0; at < frames.len; k++) {
        size_t size = ZSTD_findFrameCompressedSize(frames.data + at, frames.len - at);
        cr_assert_not(ZSTD_isError(size));
        char *back = malloc(text.len);
        cr_assert_eq(ZSTD_decompress(back, text.len, frames.data + at, size), text.len, "frame %zu", k);
        cr_assert_eq(memcmp(back, text.data, text.len), 0, "frame %zu", k);
        free(back);
        at += size;
    }
    /* A hash log out of zstd's range is refused, not used. */
    rt_buf_reset(&frames);
    cr_assert_eq(rt_zframe_compress_hashed(cctx, 1, 99, text.data, text.len, &frames), RT_EZSTD);
    ZSTD_freeCCtx(cctx);
    rt_buf_free(&text);
    rt_buf_free(&frames);
}

static rt_status read_status(const char *path, size_t cap)
{
    size_t n;
    rt_status st;
    free(read_all(path, cap, &n, &st, NULL));
    return st;
}

Test(zio, truncated_frames_are_errors)
{
    char *data = text(300000);
    uint64_t bytes, xxh;
    write_file(path_of("full.zst"), 3, data, 300000, &bytes, &xxh);
    size_t len;
    unsigned char *z = raw(path_of("full.zst"), &len);
    static const size_t keep_less[] = {1, 3, 17, 1000};
    for (size_t i = 0; i < sizeof keep_less / sizeof *keep_less; i++) {
        put_raw(path_of("cut.zst"), z, len - keep_less[i]);
        cr_assert_eq(read_status(path_of("cut.zst"), 1 << 20), RT_ECORRUPT, "cut %zu bytes",
                     keep_less[i]);
        cr_assert_eq(read_status(path_of("cut.zst"), 4096), RT_ECORRUPT);
    }
    put_raw(path_of("cut.zst"), z, len / 2);
    cr_assert_eq(read_status(path_of("cut.zst"), 999), RT_ECORRUPT);
    /* Only the magic number, or the magic and part of the frame header. */
    put_raw(path_of("cut.zst"), z, 4);
    cr_assert_eq(read_status(path_of("cut.zst"), 100), RT_ECORRUPT);
    put_raw(path_of("cut.zst"), z, 6);
    cr_assert_eq(read_status(path_of("cut.zst"), 100), RT_ECORRUPT);
    /* A second frame cut short after a complete first one. */
    rt_buf two;
    rt_buf_init(&two);
    rt_buf_append(&two, z, len);
    rt_buf_append(&two, z, len - 5);
    put_raw(path_of("cut.zst"), two.data, two.len);
    cr_assert_eq(read_status(path_of("cut.zst"), 1 << 16), RT_ECORRUPT);
    rt_buf_free(&two);
    free(z);
    free(data);
}

Test(zio, corrupt_bytes_are_errors)
{
    char *data = text(100000);
    put_raw(path_of("c.txt"), data, 100000);
    /* The zstd CLI adds a content checksum: a flipped byte anywhere is caught. */
    cr_assert_eq(rt_test_sh("zstd -q -3 '%s' -o '%s'", path_of("c.txt"), path_of("c.zst")), 0);
    size_t len;
    unsigned char *z = raw(path_of("c.zst"), &len);
    cr_assert_eq(read_status(path_of("c.zst"), 1 << 20), RT_OK);
    unsigned char *bad = malloc(len);
    memcpy(bad, z, len);
    bad[len / 2] ^= 0x40;
    put_raw(path_of("bad.zst"), bad, len);
    cr_assert_eq(read_status(path_of("bad.zst"), 1 << 20), RT_ECORRUPT);
    /* A reserved bit of the frame header descriptor. */
    memcpy(bad, z, len);
    bad[4] |= 0x08;
    put_raw(path_of("bad.zst"), bad, len);
    cr_assert_eq(read_status(path_of("bad.zst"), 1 << 20), RT_ECORRUPT);
    /* A zstd magic number in front of garbage. */
    static const unsigned char junk[] = {0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    put_raw(path_of("bad.zst"), junk, sizeof junk);
    cr_assert_eq(read_status(path_of("bad.zst"), 1 << 20), RT_ECORRUPT);
    free(bad);
    free(z);
    free(data);
}

Test(zio, short_and_empty_plain_files)
{
    put_raw(path_of("e.txt"), "", 0);
    size_t n;
    rt_status st;
    int compressed = -1;
    free(read_all(path_of("e.txt"), 10, &n, &st, &compressed));
    cr_assert(st == RT_OK && n == 0 && compressed == 0);
    /* Three bytes of the magic number are not a zstd frame: plain text. */
    put_raw(path_of("m.txt"), "\x28\xb5\x2f", 3);
    char *b = read_all(path_of("m.txt"), 10, &n, &st, &compressed);
    cr_assert(st == RT_OK && n == 3 && compressed == 0);
    free(b);
}

Test(zio, slurp)
{
    char *data = text(50000);
    uint64_t bytes, xxh;
    write_file(path_of("s.zst"), 5, data, 50000, &bytes, &xxh);
    rt_buf b;
    rt_buf_init(&b);
    rt_error err;
    cr_assert_eq(rt_zio_slurp(path_of("s.zst"), &b, &err), RT_OK);
    cr_assert_eq(b.len, 50000);
    cr_assert(memcmp(b.data, data, 50000) == 0);
    rt_buf_free(&b);
    free(data);
}

Test(zio, missing_files)
{
    rt_zreader *r;
    rt_error err;
    cr_assert_eq(rt_zreader_open(path_of("nope"), &r, &err), RT_ENOTFOUND);
    cr_assert_str_eq(err.file, path_of("nope"));
    uint64_t b, x;
    cr_assert_eq(rt_zio_checksum_file(path_of("nope"), &b, &x, &err), RT_ENOTFOUND);
    rt_buf buf;
    rt_buf_init(&buf);
    cr_assert_eq(rt_zio_slurp(path_of("nope"), &buf, &err), RT_ENOTFOUND);
    rt_buf_free(&buf);
}

Test(zio, writer_refuses_to_overwrite)
{
    put_raw(path_of("exists.csv"), "keep me\n", 8);
    rt_zwriter *w = NULL;
    rt_error err;
    cr_assert_eq(rt_zwriter_open(path_of("exists.csv"), 0, &w, &err), RT_EEXIST);
    cr_assert_eq(rt_zwriter_open(path_of("exists.csv"), 3, &w, &err), RT_EEXIST);
    cr_assert_str_eq(err.file, path_of("exists.csv"));
    size_t n;
    unsigned char *b = raw(path_of("exists.csv"), &n);
    cr_assert(n == 8 && memcmp(b, "keep me\n", 8) == 0, "the existing file is untouched");
    free(b);
    cr_assert_eq(rt_zwriter_open(path_of("no/such/dir.csv"), 0, &w, &err), RT_EIO);
}

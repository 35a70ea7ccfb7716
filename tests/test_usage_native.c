/* test_usage_native: the native columnar usage format, written and read back, and every way
 * a damaged file must be caught (bad magic, other version, truncation at any length, a
 * flipped byte in a block, a damaged or inconsistent footer index), never misread. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "formats/usage_native.h"
#include "testutil.h"

typedef struct rec {
    const char *id, *account, *product, *time_text, *called;
    rt_time_s start_s;
    int64_t mantissa;
    uint8_t scale;
} rec;

/* 2025-10-05T14:03:22Z = 1,759,673,002 s; the others are offsets from it (and 0, the epoch). */
static const rec recs[] = {
    {"E000000000001", "ACC-0001", "VOICE_NAT", "", "+33142868200", 1759673002, 754, 0},
    {"E000000000002", "ACC-0002", "VOICE_MOB", "", "+33611223344", 1759673062, 61, 0},
    {"E000000000003", "ACC-0001", "DATA", "", "", 1759672002, 1500000, 0},
    {"E000000000010", "ACC-0003", "KWH", "", "", 1759673002, 1250, 3},
    {"order-7", "ACC-0001", "SMS", "", "+447700900123", 1759676602, 1, 0},
    {"abc", "ACC-0002", "SMS", "", "", 1759676603, -5, 0},
    {"0", "ACC-0002", "SMS", "", "", 1759676604, 1, 0},
    {"X123456789012345678901234", "ACC-0004", "DATA", "", "", 1759676605, 42, 6},
    {"E000000000009", "ACC-0001", "VOICE_NAT", "", "+33142868200", 0, 3600, 0},
};
#define NRECS (sizeof recs / sizeof recs[0])

static rt_event event_of(const rec *r)
{
    rt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_id = r->id;
    ev.event_id_len = (uint16_t)strlen(r->id);
    ev.account = r->account;
    ev.account_len = (uint16_t)strlen(r->account);
    ev.product = r->product;
    ev.product_len = (uint16_t)strlen(r->product);
    ev.called = r->called;
    ev.called_len = (uint16_t)strlen(r->called);
    ev.start_s = r->start_s;
    ev.qty_mantissa = r->mantissa;
    ev.qty_scale = r->scale;
    return ev;
}

/* Write recs[0..n) with `per_block` records per block to dir/name. */
static void write_file(const char *path, size_t n, size_t per_block)
{
    rt_native_writer *w;
    rt_error err;
    cr_assert_eq(rt_native_writer_open(path, &w, &err), RT_OK, "%s", err.message);
    rt_native_block *b = rt_native_block_new();
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_buf out;
    rt_buf_init(&out);
    for (size_t i = 0; i < n; i++) {
        rt_event ev = event_of(&recs[i]);
        const char *why;
        cr_assert_eq(rt_native_block_add(b, &ev, &why), RT_OK);
        if (rt_native_block_records(b) == per_block || i + 1 == n) {
            uint32_t no;
            uint64_t first;
            rt_native_writer_next(w, &no, &first);
            rt_buf_reset(&out);
            cr_assert_eq(rt_native_block_finish(b, no, first, 3, cctx, &out), RT_OK);
            cr_assert_eq(rt_native_writer_put(w, out.data, out.len, &err), RT_OK);
            rt_native_block_reset(b);
        }
    }
    uint64_t records;
    cr_assert_eq(rt_native_writer_close(w, &records, NULL, NULL, &err), RT_OK);
    cr_assert_eq(records, n);
    rt_buf_free(&out);
    ZSTD_freeCCtx(cctx);
    rt_native_block_free(b);
}

/* Read a whole file: RT_OK and every event, or the first error (open, next or parse). */
static rt_status read_file(const char *path, rt_event_batch *all, uint64_t *lines, rt_error *err)
{
    rt_usage_reader *r;
    rt_status st = rt_usage_native_open(path, 0, &r, err);
    if (st != RT_OK) return st;
    rt_chunk chunk;
    memset(&chunk, 0, sizeof chunk);
    int eof = 0;
    size_t nlines = 0;
    while (st == RT_OK) {
        st = r->ops->next_chunk(r, &chunk, &eof, err);
        if (st != RT_OK || eof) break;
        size_t before = all->count;
        st = r->ops->parse_chunk(r, &chunk, all, err);
        for (size_t i = before; st == RT_OK && i < all->count; i++)
            lines[nlines++] = chunk.first_line + all->events[i].line_rel;
    }
    free(chunk.data);
    r->ops->close(r);
    return st;
}

static void tmpfile_path(char *buf, size_t n, const char *name)
{
    char dir[256];
    rt_test_tmpdir(dir, sizeof dir);
    snprintf(buf, n, "%s/%s", dir, name);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc(*len + 1);
    cr_assert_eq(fread(d, 1, *len, f), *len);
    fclose(f);
    return d;
}

static void spit(const char *path, const void *d, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(d, 1, len, f), len);
    fclose(f);
}

static void expect_same(const rt_event *e, const rec *r)
{
    cr_assert_eq(e->event_id_len, strlen(r->id));
    cr_assert(memcmp(e->event_id, r->id, e->event_id_len) == 0, "id %.*s", (int)e->event_id_len,
              e->event_id);
    cr_assert(e->account_len == strlen(r->account) && memcmp(e->account, r->account, e->account_len) == 0);
    cr_assert(e->product_len == strlen(r->product) && memcmp(e->product, r->product, e->product_len) == 0);
    cr_assert(e->called_len == strlen(r->called) && memcmp(e->called, r->called, e->called_len) == 0);
    cr_assert_eq(e->start_s, r->start_s);
    cr_assert_eq(e->qty_mantissa, r->mantissa);
    cr_assert_eq(e->qty_scale, r->scale);
    cr_assert_null(e->raw);
}

Test(usage_native, round_trip_gives_every_field_back_across_blocks)
{
    char path[512];
    tmpfile_path(path, sizeof path, "u.rtu");
    write_file(path, NRECS, 4); /* blocks of 4, 4 and 1 records */
    rt_event_batch all;
    rt_event_batch_init(&all);
    uint64_t lines[NRECS];
    rt_error err;
    cr_assert_eq(read_file(path, &all, lines, &err), RT_OK, "%s", err.message);
    cr_assert_eq(all.count, NRECS);
    for (size_t i = 0; i < NRECS; i++) {
        expect_same(&all.events[i], &recs[i]);
        cr_assert_eq(lines[i], i + 1, "record %zu is line %llu", i, (unsigned long long)lines[i]);
    }
    cr_assert_gt(all.decompress_ns, 0, "the blocks' decompression is timed (for the run's stages)");
    rt_event_batch_free(&all);
}

Test(usage_native, an_empty_file_is_64_bytes_and_reads_as_zero_records)
{
    char path[512];
    tmpfile_path(path, sizeof path, "empty.rtu");
    write_file(path, 0, 4);
    size_t len;
    char *d = slurp(path, &len);
    /* header 24 + footer (magic, count, total, checksum) 24 + trailer 16 */
    cr_assert_eq(len, 64);
    cr_assert(memcmp(d, "\x89RTU\r\n\x1a\n", 8) == 0);
    free(d);
    rt_event_batch all;
    rt_event_batch_init(&all);
    rt_error err;
    cr_assert_eq(read_file(path, &all, NULL, &err), RT_OK, "%s", err.message);
    cr_assert_eq(all.count, 0);
    rt_event_batch_free(&all);
}

Test(usage_native, the_reader_checksums_the_file_as_stored)
{
    char path[512];
    tmpfile_path(path, sizeof path, "u.rtu");
    write_file(path, NRECS, 3);
    size_t len;
    char *d = slurp(path, &len);
    rt_usage_reader *r;
    rt_error err;
    cr_assert_eq(rt_usage_native_open(path, 0, &r, &err), RT_OK);
    rt_chunk chunk = {0};
    int eof = 0;
    while (!eof) cr_assert_eq(r->ops->next_chunk(r, &chunk, &eof, &err), RT_OK);
    rt_input_info info;
    r->ops->info(r, &info);
    cr_assert_eq(info.bytes, len);
    cr_assert_eq(info.xxh64, XXH64(d, len, 0));
    r->ops->close(r);
    free(chunk.data);
    free(d);
}

static rt_status read_damaged(const char *path, const char *d, size_t len, rt_error *err)
{
    spit(path, d, len);
    rt_event_batch all;
    rt_event_batch_init(&all);
    uint64_t lines[NRECS + 1];
    rt_status st = read_file(path, &all, lines, err);
    rt_event_batch_free(&all);
    return st;
}

Test(usage_native, bad_magic_and_other_versions_are_refused)
{
    char path[512], bad[520];
    tmpfile_path(path, sizeof path, "u.rtu");
    snprintf(bad, sizeof bad, "%s.bad", path);
    write_file(path, NRECS, 4);
    size_t len;
    char *d = slurp(path, &len);
    rt_error err;
    d[1] = 'X';
    cr_assert_eq(read_damaged(bad, d, len, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "magic") != NULL, "%s", err.message);
    d[1] = 'R';
    d[8] = 2; /* version 2, header checksum recomputed: a genuine newer file */
    uint64_t h = XXH64(d, 16, 0);
    for (int i = 0; i < 8; i++) d[16 + i] = (char)(h >> (8 * i));
    cr_assert_eq(read_damaged(bad, d, len, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "version 2") != NULL, "%s", err.message);
    free(d);
}

Test(usage_native, a_file_cut_short_anywhere_is_an_error)
{
    char path[512], cut[520];
    tmpfile_path(path, sizeof path, "u.rtu");
    snprintf(cut, sizeof cut, "%s.cut", path);
    write_file(path, NRECS, 2);
    size_t len;
    char *d = slurp(path, &len);
    for (size_t n = 0; n < len; n++) {
        rt_error err;
        cr_assert_neq(read_damaged(cut, d, n, &err), RT_OK, "a file cut to %zu bytes was read", n);
    }
    free(d);
}

Test(usage_native, a_flipped_byte_in_a_block_is_caught_by_its_checksum)
{
    char path[512], bad[520];
    tmpfile_path(path, sizeof path, "u.rtu");
    snprintf(bad, sizeof bad, "%s.bad", path);
    write_file(path, NRECS, 4);
    size_t len;
    char *d = slurp(path, &len);
    /* The first block starts after the 24-byte header; its compressed bytes after its
     * 32-byte header. Flip one bit of the compressed data. */
    d[24 + 32 + 5] ^= 0x10;
    rt_error err;
    cr_assert_eq(read_damaged(bad, d, len, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "block 0") && strstr(err.message, "checksum"), "%s",
              err.message);
    cr_assert_eq(err.line, 1); /* the block's first record */
    free(d);
}

Test(usage_native, every_single_byte_change_is_detected)
{
    char path[512], bad[520];
    tmpfile_path(path, sizeof path, "u.rtu");
    snprintf(bad, sizeof bad, "%s.bad", path);
    write_file(path, NRECS, 3);
    size_t len;
    char *d = slurp(path, &len);
    for (size_t i = 0; i < len; i++) {
        d[i] ^= 0x01;
        rt_error err;
        cr_assert_neq(read_damaged(bad, d, len, &err), RT_OK, "byte %zu changed went unseen", i);
        d[i] ^= 0x01;
    }
    free(d);
}

Test(usage_native, a_footer_index_that_disagrees_with_the_blocks_is_refused)
{
    char path[512], bad[520];
    tmpfile_path(path, sizeof path, "u.rtu");
    snprintf(bad, sizeof bad, "%s.bad", path);
    write_file(path, NRECS, 4);
    size_t len;
    char *d = slurp(path, &len);
    /* Trailer: footer offset (8), footer size (4), magic (4). Rewrite the first index entry's
     * record count (footer + 16 + 12) and recompute the footer checksum, as a careful forger
     * would: the index no longer adds up. */
    uint64_t foff = 0;
    for (int i = 0; i < 8; i++) foff |= (uint64_t)(unsigned char)d[len - 16 + i] << (8 * i);
    uint32_t fsize = (uint32_t)(unsigned char)d[len - 8] | (uint32_t)(unsigned char)d[len - 7] << 8;
    cr_assert_eq(fsize, 24 + 3 * 16);
    d[foff + 16 + 12] = 3;
    uint64_t h = XXH64(d + foff, fsize - 8, 0);
    for (int i = 0; i < 8; i++) d[foff + fsize - 8 + i] = (char)(h >> (8 * i));
    rt_error err;
    cr_assert_eq(read_damaged(bad, d, len, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "footer index") != NULL, "%s", err.message);
    /* Without the new checksum, the damage is caught by the checksum. */
    d[foff + fsize - 8] ^= 1;
    cr_assert_eq(read_damaged(bad, d, len, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "checksum") != NULL, "%s", err.message);
    free(d);
}

Test(usage_native, fields_the_format_cannot_hold_are_refused_when_writing)
{
    rt_native_block *b = rt_native_block_new();
    rt_event ev = event_of(&recs[0]);
    const char *why;
    ev.account_len = 0;
    cr_assert_eq(rt_native_block_add(b, &ev, &why), RT_ELIMIT);
    cr_assert_str_eq(why, "account_id is empty");
    ev = event_of(&recs[0]);
    ev.qty_scale = 7;
    cr_assert_eq(rt_native_block_add(b, &ev, &why), RT_ELIMIT);
    cr_assert_eq(rt_native_block_records(b), 0);
    rt_native_block_free(b);
}

/* test_convert: `ratel convert` round trips between usage CSV, indexed multi-frame CSV.zst
 * and native files, and the frame-parallel CSV.zst reader: frames written by ratel are
 * handed out whole and checked against their index; frames of other writers, even cut in
 * the middle of a record, are stitched in order; line numbers stay those of the text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "formats/usage_convert.h"
#include "formats/csv.h"
#include "formats/usage_csv.h"
#include "testutil.h"

/* Canonical usage CSV: a quoted id, decimals kept as written, an empty called number. */
static const char canonical[] =
    "event_id,account_id,product_id,start_time,quantity,called_number\n"
    "E-1,ACC-0001,VOICE_NAT,2026-10-03T09:15:00Z,754,+33142868200\n"
    "\"E,2\",ACC-0001,DATA,2026-10-03T09:16:00Z,1.50,\n"
    "\"E\"\"3\",ACC-0002,KWH,2026-10-31T23:59:59Z,0.125,\n"
    "E-4,ACC-0002,SMS,2026-10-01T00:00:00Z,1,+447700900123\n"
    "E-5,ACC-0003,VOICE_MOB,2026-10-15T12:00:00Z,-5,+33611223344\n";

static void put_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(d, 1, n, f), n);
    fclose(f);
}

static char *get_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc(*n + 1);
    cr_assert_eq(fread(d, 1, *n, f), *n);
    d[*n] = '\0';
    fclose(f);
    return d;
}

static void convert(const char *in, const char *out, size_t frame_bytes, uint32_t block_records)
{
    rt_convert_opts o;
    rt_convert_opts_init(&o);
    o.frame_bytes = frame_bytes;
    o.block_records = block_records;
    o.threads = 2;
    rt_convert_result res;
    rt_error err;
    cr_assert_eq(rt_usage_convert(in, out, &o, &res, &err), RT_OK, "%s -> %s: %s", in, out,
                 err.message);
    cr_assert_eq(res.read, res.written);
}

Test(convert, csv_native_csv_and_csv_zst_round_trips_are_byte_identical)
{
    char tmp[256], a[512], b[512], c[512], d[512], e[512];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(a, sizeof a, "%s/a.csv", tmp);
    snprintf(b, sizeof b, "%s/b.rtu", tmp);
    snprintf(c, sizeof c, "%s/c.csv", tmp);
    snprintf(d, sizeof d, "%s/d.csv.zst", tmp);
    snprintf(e, sizeof e, "%s/e.csv", tmp);
    put_file(a, canonical, strlen(canonical));
    convert(a, b, 0, 2);
    convert(b, c, 0, 0);
    convert(c, d, 1024, 0);
    convert(d, e, 0, 0);
    size_t n;
    char *text = get_file(c, &n);
    cr_assert_str_eq(text, canonical);
    free(text);
    text = get_file(e, &n);
    cr_assert_str_eq(text, canonical);
    free(text);
    /* The zstd command line tool reads what ratel writes (the index frames are skippable). */
    cr_assert_eq(rt_test_sh("zstd -qdc '%s' | cmp -s - '%s'", d, a), 0);
    /* An output that exists is never overwritten. */
    rt_convert_opts o;
    rt_convert_opts_init(&o);
    rt_convert_result res;
    rt_error err;
    cr_assert_eq(rt_usage_convert(a, b, &o, &res, &err), RT_EEXIST);
}

/* Text of n records, line i holding event E<i>; every 7th record has a quoted field that
 * spans two lines, so records and lines differ. */
static char *make_text(size_t n, size_t *len)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_buf_puts(&b, rt_usage_csv_header());
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 3)
            rt_buf_printf(&b, "\"E%zu\n(second line)\",ACC-%04zu,SMS,2026-10-%02zuT10:00:00Z,1,\n",
                          i, i % 97, 1 + i % 28);
        else
            rt_buf_printf(&b, "E%zu,ACC-%04zu,VOICE_NAT,2026-10-%02zuT10:%02zu:00Z,%zu,+3314286%04zu\n",
                          i, i % 97, 1 + i % 28, i % 60, i % 3600, i % 10000);
    }
    *len = b.len;
    return b.data;
}

typedef struct seen {
    rt_event_batch all;
    uint64_t *lines;
    size_t count;
    uint64_t decompress_ns; /* the batches', summed */
} seen;

static rt_status read_all(const char *path, size_t chunk_bytes, seen *s, rt_error *err)
{
    rt_usage_reader *r;
    memset(s, 0, sizeof *s);
    rt_event_batch_init(&s->all);
    rt_status st = rt_usage_csv_open(path, chunk_bytes, &r, err);
    if (st != RT_OK) return st;
    s->lines = calloc(100000, sizeof *s->lines);
    s->count = 0;
    rt_chunk chunk = {0};
    int eof = 0;
    while (st == RT_OK) {
        st = r->ops->next_chunk(r, &chunk, &eof, err);
        if (st != RT_OK || eof) break;
        rt_event_batch b;
        rt_event_batch_init(&b);
        st = r->ops->parse_chunk(r, &chunk, &b, err);
        s->decompress_ns += b.decompress_ns;
        for (size_t i = 0; st == RT_OK && i < b.count; i++) {
            rt_event *e = rt_event_batch_push(&s->all);
            *e = b.events[i];
            e->event_id = rt_arena_strndup(&s->all.arena, e->event_id, e->event_id_len);
            e->raw = NULL;
            s->lines[s->count++] = chunk.first_line + b.events[i].line_rel;
        }
        rt_event_batch_free(&b);
    }
    free(chunk.data);
    r->ops->close(r);
    return st;
}

static void seen_free(seen *s)
{
    rt_event_batch_free(&s->all);
    free(s->lines);
}

static void expect_same_events(const seen *a, const seen *b)
{
    cr_assert_eq(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const rt_event *x = &a->all.events[i], *y = &b->all.events[i];
        cr_assert(x->event_id_len == y->event_id_len &&
                  memcmp(x->event_id, y->event_id, x->event_id_len) == 0, "record %zu", i);
        cr_assert_eq(x->start_s, y->start_s);
        cr_assert_eq(x->qty_mantissa, y->qty_mantissa);
        cr_assert_eq(a->lines[i], b->lines[i], "record %zu: line %llu vs %llu", i,
                     (unsigned long long)a->lines[i], (unsigned long long)b->lines[i]);
    }
}

/* The file at path reads without error as the events `want` holds. */
static void expect_reads_as(const seen *want, const char *path)
{
    seen got;
    rt_error err;
    cr_assert_eq(read_all(path, 4096, &got, &err), RT_OK, "%s: %s", path, err.message);
    expect_same_events(want, &got);
    seen_free(&got);
}

/* Walk a zstd file: count ratel's skippable frames (frame indexes, the end frame), noting
 * where each starts in skippable[0..max) when given, and data frames; every data frame
 * written by ratel must end at a record boundary (a line end). */
static void count_frames(const char *d, size_t n, size_t *indexes, size_t *frames,
                         size_t *skippable, size_t max)
{
    *indexes = *frames = 0;
    size_t at = 0;
    while (at < n) {
        size_t len = ZSTD_findFrameCompressedSize(d + at, n - at);
        cr_assert(!ZSTD_isError(len), "bad frame at %zu", at);
        unsigned magic = (unsigned char)d[at] | (unsigned char)d[at + 1] << 8 |
                         (unsigned char)d[at + 2] << 16 | (unsigned)(unsigned char)d[at + 3] << 24;
        if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {
            if (skippable && *indexes < max) skippable[*indexes] = at;
            (*indexes)++;
        } else {
            unsigned long long size = ZSTD_getFrameContentSize(d + at, len);
            char *text = malloc(size + 1);
            cr_assert_eq(ZSTD_decompress(text, size, d + at, len), size);
            cr_assert_eq(text[size - 1], '\n', "frame %zu does not end with a line end", *frames);
            free(text);
            (*frames)++;
        }
        at += len;
    }
}

Test(convert, csv_zst_output_is_multi_frame_at_record_boundaries_and_read_in_parallel)
{
    char tmp[256], plain[512], zst[512];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(plain, sizeof plain, "%s/p.csv", tmp);
    snprintf(zst, sizeof zst, "%s/z.csv.zst", tmp);
    size_t len;
    char *text = make_text(5000, &len);
    put_file(plain, text, len);
    convert(plain, zst, 8192, 0);
    size_t n, indexes, frames;
    char *d = get_file(zst, &n);
    count_frames(d, n, &indexes, &frames, NULL, 0);
    /* The header frame, then about len / 8 KiB frames of records, each with its index, then
     * the end frame (a skippable frame too). */
    cr_assert_eq(indexes, frames + 1);
    cr_assert_geq(frames, 1 + len / 8192);
    cr_assert_leq(frames, 2 + len / 8192);
    free(d);
    seen a, b;
    rt_error err;
    cr_assert_eq(read_all(plain, 4096, &a, &err), RT_OK);
    cr_assert_eq(read_all(zst, 4096, &b, &err), RT_OK, "%s", err.message);
    cr_assert_eq(a.count, 5000);
    expect_same_events(&a, &b);
    /* The frames are decompressed as they are parsed, and that time is the batches' own (the
     * run's decompress step); plain text has none. */
    cr_assert_eq(a.decompress_ns, 0);
    cr_assert_gt(b.decompress_ns, 0);
    /* Record 3 spans lines 5 and 6 (the header is line 1); record 4 is on line 7. */
    cr_assert_eq(a.lines[3], 5);
    cr_assert_eq(a.lines[4], 7);
    seen_free(&a);
    seen_free(&b);
    free(text);
}

Test(convert, frames_of_other_writers_cut_mid_record_are_stitched_in_order)
{
    char tmp[256], plain[512], zst[512];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(plain, sizeof plain, "%s/p.csv", tmp);
    snprintf(zst, sizeof zst, "%s/foreign.csv.zst", tmp);
    size_t len;
    char *text = make_text(3000, &len);
    put_file(plain, text, len);
    /* Frames of 1000 bytes wherever they fall, no index: like pzstd or a concatenation. */
    rt_buf z;
    rt_buf_init(&z);
    for (size_t at = 0; at < len; at += 1000) {
        size_t piece = len - at < 1000 ? len - at : 1000;
        rt_buf_reserve(&z, ZSTD_compressBound(piece));
        z.len += ZSTD_compress(z.data + z.len, ZSTD_compressBound(piece), text + at, piece, 1);
    }
    put_file(zst, z.data, z.len);
    seen a;
    rt_error err;
    cr_assert_eq(read_all(plain, 4096, &a, &err), RT_OK);
    expect_reads_as(&a, zst);
    seen_free(&a);
    rt_buf_free(&z);
    free(text);
}

/* A frame whose header does not say its content size, as a streaming compressor writes it. */
static void streamed_frame(rt_buf *z, const char *text, size_t n)
{
    ZSTD_CStream *cs = ZSTD_createCStream();
    ZSTD_initCStream(cs, 1);
    rt_buf_reserve(z, ZSTD_compressBound(n) + 64);
    ZSTD_outBuffer ob = {z->data + z->len, ZSTD_compressBound(n) + 64, 0};
    ZSTD_inBuffer ib = {text, n, 0};
    ZSTD_compressStream(cs, &ob, &ib);
    ZSTD_endStream(cs, &ob);
    cr_assert_eq(ZSTD_getFrameContentSize(z->data + z->len, ob.pos), ZSTD_CONTENTSIZE_UNKNOWN);
    z->len += ob.pos;
    ZSTD_freeCStream(cs);
}

Test(convert, frames_of_other_writers_at_record_boundaries_go_out_whole)
{
    char tmp[256], plain[512], zst[512];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(plain, sizeof plain, "%s/p.csv", tmp);
    snprintf(zst, sizeof zst, "%s/records.csv.zst", tmp);
    size_t len;
    char *text = make_text(4000, &len);
    put_file(plain, text, len);
    /* Frames of whole records (the header in the first), every fifth one streamed without
     * a content size, so both the read-ahead and the in-order paths are taken. */
    rt_buf z;
    rt_buf_init(&z);
    size_t at = 0, k = 0;
    while (at < len) {
        size_t n = len - at < 3000 ? len - at : rt_csv_last_boundary(text + at, 3000);
        cr_assert_gt(n, 0);
        if (k++ % 5 == 4) {
            streamed_frame(&z, text + at, n);
        } else {
            rt_buf_reserve(&z, ZSTD_compressBound(n));
            z.len += ZSTD_compress(z.data + z.len, ZSTD_compressBound(n), text + at, n, 1);
        }
        at += n;
    }
    put_file(zst, z.data, z.len);
    seen a;
    rt_error err;
    cr_assert_eq(read_all(plain, 4096, &a, &err), RT_OK);
    expect_reads_as(&a, zst);
    seen_free(&a);
    rt_buf_free(&z);
    free(text);
}

/* Build an indexed file by hand from text pieces, so its index can be forged. */
static void indexed_file(const char *path, const char *text, size_t len, size_t piece,
                         bool at_records, void (*forge)(char *index_payload, size_t frame_no))
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_buf out, f;
    rt_buf_init(&out);
    rt_buf_init(&f);
    const char *h = rt_usage_csv_header();
    cr_assert_eq(rt_usage_csv_frame(cctx, 1, h, strlen(h), &out), RT_OK);
    size_t at = strlen(h), no = 0;
    while (at < len) {
        size_t n = len - at < piece ? len - at : piece;
        if (at_records && at + n < len) n = rt_csv_last_boundary(text + at, n);
        cr_assert_gt(n, 0);
        rt_buf_reset(&f);
        cr_assert_eq(rt_usage_csv_frame(cctx, 1, text + at, n, &f), RT_OK);
        if (forge) forge(f.data + 8, no);
        rt_buf_append(&out, f.data, f.len);
        at += n;
        no++;
    }
    rt_usage_csv_tally t = {0, 0};
    rt_usage_csv_count(&t, out.data, out.len);
    unsigned char end[RT_USAGE_CSV_END_BYTES];
    rt_usage_csv_end(&t, end);
    rt_buf_append(&out, end, sizeof end);
    put_file(path, out.data, out.len);
    rt_buf_free(&out);
    rt_buf_free(&f);
    ZSTD_freeCCtx(cctx);
}

static void forge_newlines(char *p, size_t no)
{
    if (no == 2) p[24] ^= 1; /* the index's line-end count */
}

static void forge_aligned(char *p, size_t no)
{
    (void)no;
    p[5] |= 1; /* claim a record boundary the frame does not end at */
}

Test(convert, a_frame_that_does_not_match_its_index_is_an_error_not_a_misread)
{
    char tmp[256], path[512];
    rt_test_tmpdir(tmp, sizeof tmp);
    size_t len;
    char *text = make_text(2000, &len);
    seen s;
    rt_error err;
    snprintf(path, sizeof path, "%s/lines.csv.zst", tmp);
    indexed_file(path, text, len, 1000, true, forge_newlines);
    cr_assert_eq(read_all(path, 4096, &s, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "altered"), "%s", err.message);
    seen_free(&s);
    /* Pieces cut anywhere, each claiming to end at a record boundary. */
    snprintf(path, sizeof path, "%s/aligned.csv.zst", tmp);
    indexed_file(path, text, len, 999, false, forge_aligned);
    cr_assert_eq(read_all(path, 4096, &s, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "record"), "%s", err.message);
    seen_free(&s);
    /* The same pieces with honest indexes are read in order and stitched. */
    snprintf(path, sizeof path, "%s/honest.csv.zst", tmp);
    indexed_file(path, text, len, 999, false, NULL);
    seen a;
    char plain[512];
    snprintf(plain, sizeof plain, "%s/p.csv", tmp);
    put_file(plain, text, len);
    cr_assert_eq(read_all(plain, 4096, &a, &err), RT_OK);
    expect_reads_as(&a, path);
    seen_free(&a);
    free(text);
}

/* 2,000 records as plain CSV and as ratel's CSV.zst (frames of 4 KiB), and a path for cut
 * copies of it. */
typedef struct sample_zst {
    char tmp[256], plain[512], zst[512], cut[512];
    char *text;
    unsigned char *d; /* the CSV.zst's bytes */
    size_t n;
} sample_zst;

static void sample_zst_make(sample_zst *z)
{
    rt_test_tmpdir(z->tmp, sizeof z->tmp);
    snprintf(z->plain, sizeof z->plain, "%s/p.csv", z->tmp);
    snprintf(z->zst, sizeof z->zst, "%s/z.csv.zst", z->tmp);
    snprintf(z->cut, sizeof z->cut, "%s/cut.csv.zst", z->tmp);
    size_t len;
    z->text = make_text(2000, &len);
    put_file(z->plain, z->text, len);
    convert(z->plain, z->zst, 4096, 0);
    z->d = (unsigned char *)get_file(z->zst, &z->n);
}

static void sample_zst_free(sample_zst *z)
{
    free(z->d);
    free(z->text);
    rt_test_rmtree(z->tmp);
}

Test(convert, a_csv_zst_cut_at_a_frame_boundary_is_an_error)
{
    sample_zst z;
    sample_zst_make(&z);
    const unsigned char *d = z.d;
    size_t n = z.n;
    const char *plain = z.plain, *zst = z.zst, *cut = z.cut;
    size_t at[256], k, data_frames;
    count_frames((const char *)d, n, &k, &data_frames, at, 256);
    cr_assert(k > 4 && k <= 256); /* the header's frame, the records' frames, the end frame */
    cr_assert_eq(at[k - 1], n - 40, "the end frame closes the file");
    seen a, s;
    rt_error err;
    cr_assert_eq(read_all(plain, 4096, &a, &err), RT_OK);
    expect_reads_as(&a, zst);
    /* Cut before any frame index or before the end frame, or between an index and its frame
     * (after the header's index, the cut is found while reading the header): never a shorter
     * file read. */
    for (size_t i = 0; i < 2 * k - 2; i++) {
        size_t at_cut = i % 2 ? at[i / 2 + 1] : at[i / 2] + 40;
        put_file(cut, d, at_cut);
        rt_status got = read_all(cut, 4096, &s, &err);
        cr_assert_eq(got, RT_ECORRUPT, "cut at %zu (%zu of %zu): %d %s", at_cut, i, k, got,
                     got == RT_OK ? "" : err.message);
        cr_assert(strstr(err.message, "cut short"), "%s", err.message);
        seen_free(&s);
    }
    /* A frame taken out, its index left: the index is followed by the next index. */
    unsigned char *gap = malloc(n);
    memcpy(gap, d, at[2] + 40);
    memcpy(gap + at[2] + 40, d + at[3], n - at[3]);
    put_file(cut, gap, at[2] + 40 + (n - at[3]));
    cr_assert_eq(read_all(cut, 4096, &s, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "not followed by its zstd frame"), "%s", err.message);
    seen_free(&s);
    free(gap);
    /* An end frame that counts other frames than the file holds. */
    unsigned char *forged = malloc(n);
    memcpy(forged, d, n);
    forged[n - 40 + 16] ^= 1; /* its frame count */
    put_file(cut, forged, n);
    cr_assert_eq(read_all(cut, 4096, &s, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "altered"), "%s", err.message);
    seen_free(&s);
    /* Files written before the end frame existed (no index promises one) read as before. */
    memcpy(forged, d, n);
    for (size_t i = 0; i + 1 < k; i++) forged[at[i] + 8 + 5] &= (unsigned char)~2u;
    put_file(cut, forged, n - 40);
    expect_reads_as(&a, cut);
    /* Two such files one after the other pass the end-frame check: each end frame closes its
     * own frames. (`cat a b` would also keep b's header row, which the reader then rejects as
     * a record; here b's header frame is left out, so that its records follow on.) */
    size_t second = at[1]; /* the second file's records, from its first record frame */
    unsigned char *twice = malloc(2 * n);
    memcpy(twice, d, n);
    memcpy(twice + n, d + second, n - second);
    /* Its end frame then counts one frame (the header's) and its line ends fewer. */
    unsigned char *end = twice + n + (n - second) - 40 + 8;
    uint64_t frames = 0, lines = 0;
    for (int b = 7; b >= 0; b--) frames = frames << 8 | end[8 + b];
    for (int b = 7; b >= 0; b--) lines = lines << 8 | end[16 + b];
    frames -= 1;
    lines -= 1;
    for (int b = 0; b < 8; b++) end[8 + b] = (unsigned char)(frames >> (8 * b));
    for (int b = 0; b < 8; b++) end[16 + b] = (unsigned char)(lines >> (8 * b));
    put_file(cut, twice, n + (n - second));
    cr_assert_eq(read_all(cut, 4096, &s, &err), RT_OK, "%s", err.message);
    cr_assert_eq(s.count, 2 * a.count);
    seen_free(&s);
    free(twice);
    free(forged);
    seen_free(&a);
    sample_zst_free(&z);
}

Test(convert, a_truncated_csv_zst_is_an_error)
{
    sample_zst z;
    sample_zst_make(&z);
    const unsigned char *d = z.d;
    size_t n = z.n;
    const char *cut = z.cut;
    size_t sizes[] = {n - 1, n - 20, n / 2, 60, 45};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        put_file(cut, d, sizes[i]);
        seen s;
        rt_error err;
        cr_assert_neq(read_all(cut, 4096, &s, &err), RT_OK, "cut to %zu bytes", sizes[i]);
        seen_free(&s);
    }
    sample_zst_free(&z);
}

/* test_usage_csv: the usage CSV reader through real files, plain and zstd: the header (any
 * order, BOM, CRLF, missing or repeated columns, empty file), record rejects with their
 * physical line numbers, chunking (a tiny chunk size gives the same records as one chunk),
 * checksums, and a truncated zstd frame (an error, never a silent short read). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/buf.h"
#include "formats/usage_csv.h"
#include "formats/usage_open.h"
#include "testutil.h"

static char tmp[256];
static void setup(void) { rt_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(usage_csv, .init = setup, .fini = teardown);

static const char *file(const char *name, const char *text)
{
    static char p[4][512];
    static unsigned next;
    char *b = p[next++ % 4];
    snprintf(b, 512, "%s/%s", tmp, name);
    if (text) rt_test_write(tmp, name, text);
    return b;
}

/* A compressed copy made by the zstd CLI. */
static const char *zst(const char *plain_path)
{
    static char out[512];
    snprintf(out, sizeof out, "%s.zst", plain_path);
    cr_assert_eq(rt_test_sh("zstd -qf '%s' -o '%s'", plain_path, out), 0);
    return out;
}

typedef struct got {
    rt_status open_st, st;
    rt_error err;
    rt_buf text; /* one line per record, in input order */
    size_t events, rejects, chunks;
    uint64_t records;
    rt_input_info info;
} got;

static void put_view(rt_buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            rt_buf_puts(b, "\\n");
        else if (p[i] == '\r')
            rt_buf_puts(b, "\\r");
        else
            rt_buf_putc(b, p[i]);
    }
}

static void describe_event(rt_buf *b, const rt_event *e, uint64_t line)
{
    rt_buf_printf(b, "E %" PRIu64 " ", line);
    put_view(b, e->event_id, e->event_id_len);
    rt_buf_putc(b, '|');
    put_view(b, e->account, e->account_len);
    rt_buf_putc(b, '|');
    put_view(b, e->product, e->product_len);
    rt_buf_printf(b, "|%" PRId64 "|%" PRId64 "e-%u|", e->start_s, e->qty_mantissa, e->qty_scale);
    put_view(b, e->called, e->called_len);
    rt_buf_puts(b, "|raw=");
    put_view(b, e->raw, e->raw_len);
    rt_buf_putc(b, '\n');
}

static void describe_reject(rt_buf *b, const rt_reject *r, uint64_t line)
{
    rt_buf_printf(b, "R %" PRIu64 " %s %s: %s|raw=", line,
                  rt_reject_reason_code((rt_reject_reason)r->reason), r->field, r->message);
    put_view(b, r->raw, r->raw_len);
    rt_buf_putc(b, '\n');
}

/* Read with `threads` as the reader's own threads (0: every core). */
static got read_usage_on(const char *path, size_t chunk_bytes, unsigned threads)
{
    got g;
    memset(&g, 0, sizeof g);
    rt_buf_init(&g.text);
    rt_usage_reader *r;
    g.open_st = rt_usage_csv_open(path, chunk_bytes, &r, &g.err);
    if (g.open_st != RT_OK) return g;
    cr_assert_eq(r->threads, 0, "every core unless the opener says otherwise");
    r->threads = threads;
    rt_chunk chunk;
    memset(&chunk, 0, sizeof chunk);
    rt_event_batch batch;
    rt_event_batch_init(&batch);
    for (;;) {
        int eof = 0;
        g.st = r->ops->next_chunk(r, &chunk, &eof, &g.err);
        if (g.st != RT_OK || eof) break;
        g.chunks++;
        rt_event_batch_clear(&batch);
        g.st = r->ops->parse_chunk(r, &chunk, &batch, &g.err);
        cr_assert_eq(g.st, RT_OK);
        cr_assert_eq(batch.records, batch.count + batch.reject_count, "every record is counted");
        g.records += batch.records;
        g.events += batch.count;
        g.rejects += batch.reject_count;
        /* Events and rejects are each in record order: merge them. */
        size_t i = 0, k = 0;
        while (i < batch.count || k < batch.reject_count) {
            bool ev = k == batch.reject_count ||
                      (i < batch.count && batch.events[i].rec_no < batch.rejects[k].rec_no);
            if (ev) {
                describe_event(&g.text, &batch.events[i], chunk.first_line + batch.events[i].line_rel);
                i++;
            } else {
                describe_reject(&g.text, &batch.rejects[k], chunk.first_line + batch.rejects[k].line_rel);
                k++;
            }
        }
    }
    if (g.st == RT_OK) r->ops->info(r, &g.info);
    rt_event_batch_free(&batch);
    free(chunk.data);
    r->ops->close(r);
    rt_buf_putc(&g.text, '\0');
    return g;
}

static got read_usage(const char *path, size_t chunk_bytes)
{
    return read_usage_on(path, chunk_bytes, 0);
}

static got read_ok(const char *path, size_t chunk_bytes)
{
    got g = read_usage(path, chunk_bytes);
    cr_assert_eq(g.open_st, RT_OK, "%s", g.err.message);
    cr_assert_eq(g.st, RT_OK, "%s", g.err.message);
    return g;
}

static void has_line(const got *g, const char *want)
{
    cr_assert(strstr(g->text.data, want), "expected\n  %s\namong\n%s", want, g->text.data);
}

#define HEADER "event_id,account_id,product_id,start_time,quantity,called_number\n"
/* 2026-10-05T14:03:22Z */
#define T1 "1791209002"

Test(usage_csv, header_in_any_order_and_extra_columns)
{
    got g = read_ok(file("u.csv", "note,quantity,called_number,start_time,product_id,"
                                  "account_id,event_id\n"
                                  "x,60,+33612345678,2026-10-05T14:03:22Z,VOICE,A1,E1\n"
                                  "y,1.5,,2026-10-05T16:03:22+02:00,DATA,A2,E2\n"),
                    0);
    cr_assert_eq(g.events, 2);
    has_line(&g, "E 2 E1|A1|VOICE|" T1 "|60e-0|+33612345678|raw=x,60,");
    has_line(&g, "E 3 E2|A2|DATA|" T1 "|15e-1||raw=");
    rt_buf_free(&g.text);
}

/* RFC 3339 section 5.6 allows a lowercase "t" and "z": the same instant as the uppercase. */
Test(usage_csv, lowercase_t_and_z_in_start_time)
{
    got g = read_ok(file("u.csv", HEADER "E1,A1,VOICE,2026-10-05t14:03:22z,60,\n"
                                         "E2,A1,VOICE,2026-10-05t16:03:22+02:00,60,\n"
                                         "E3,A1,VOICE,2026-10-05T14:03:22z,60,\n"),
                    0);
    cr_assert_eq(g.events, 3);
    cr_assert_eq(g.rejects, 0);
    has_line(&g, "E 2 E1|A1|VOICE|" T1 "|60e-0||");
    has_line(&g, "E 3 E2|A1|VOICE|" T1 "|60e-0||");
    has_line(&g, "E 4 E3|A1|VOICE|" T1 "|60e-0||");
    rt_buf_free(&g.text);
}

Test(usage_csv, called_number_is_optional)
{
    got g = read_ok(file("u.csv", "event_id,account_id,product_id,start_time,quantity\n"
                                  "E1,A1,SMS,2026-10-05T14:03:22Z,1\n"),
                    0);
    has_line(&g, "E 2 E1|A1|SMS|" T1 "|1e-0||");
    rt_buf_free(&g.text);
}

Test(usage_csv, header_problems)
{
    got g = read_usage(file("u.csv", "event_id,account_id,product_id,start_time,qty\nE1,A1,P,"
                                     "2026-10-05T14:03:22Z,1\n"),
                       0);
    cr_assert_eq(g.open_st, RT_EPARSE);
    cr_assert_str_eq(g.err.field, "quantity");
    cr_assert_str_eq(g.err.message, "the header has no 'quantity' column");
    cr_assert_eq(g.err.line, 1);
    cr_assert_str_eq(g.err.file, file("u.csv", NULL));

    g = read_usage(file("u.csv", "event_id,account_id,product_id,start_time,quantity,account_id\n"),
                   0);
    cr_assert_eq(g.open_st, RT_EPARSE);
    cr_assert_str_eq(g.err.field, "account_id");
    cr_assert_eq(g.err.column, 6);
    cr_assert(strstr(g.err.message, "twice"));

    g = read_usage(file("u.csv", "event_id,\"account_id\n"), 0);
    cr_assert_eq(g.open_st, RT_EPARSE, "a malformed header");
    cr_assert(strstr(g.err.message, "bad header row"), "%s", g.err.message);

    g = read_usage(file("empty.csv", ""), 0);
    cr_assert_eq(g.open_st, RT_EPARSE);
    cr_assert(strstr(g.err.message, "empty file"), "%s", g.err.message);

    g = read_usage(file("nope.csv", NULL), 0);
    cr_assert_eq(g.open_st, RT_ENOTFOUND);
}

Test(usage_csv, header_only)
{
    got g = read_ok(file("u.csv", HEADER), 0);
    cr_assert_eq(g.records, 0);
    cr_assert_eq(g.chunks, 0);
    rt_buf_free(&g.text);
    /* Without its line end too. */
    g = read_ok(file("u.csv", "event_id,account_id,product_id,start_time,quantity"), 0);
    cr_assert_eq(g.records, 0);
    rt_buf_free(&g.text);
}

Test(usage_csv, bom_and_crlf)
{
    got g = read_ok(file("u.csv", "\xEF\xBB\xBF" "event_id,account_id,product_id,start_time,"
                                  "quantity\r\n"
                                  "E1,A1,VOICE,2026-10-05T14:03:22Z,60\r\n"
                                  "\r\n"
                                  "E2,A1,VOICE,2026-10-05T14:03:22Z,61\r\n"),
                    0);
    cr_assert_eq(g.events, 2);
    has_line(&g, "E 2 E1|A1|VOICE|" T1 "|60e-0||raw=E1,A1,VOICE,2026-10-05T14:03:22Z,60\n");
    has_line(&g, "E 4 E2|A1|VOICE|" T1 "|61e-0||raw=E2,A1,VOICE,2026-10-05T14:03:22Z,61\n");
    cr_assert_eq(g.records, 2, "a blank line is not a record");
    rt_buf_free(&g.text);
}

Test(usage_csv, quoted_fields)
{
    got g = read_ok(file("u.csv", HEADER
                         "\"E,1\",\"A\"\"1\",VOICE,\"2026-10-05T14:03:22Z\",\"60\",\"+33 1\"\n"),
                    0);
    has_line(&g, "E 2 E,1|A\"1|VOICE|" T1 "|60e-0|+33 1|");
    rt_buf_free(&g.text);
}

Test(usage_csv, record_rejects_and_their_lines)
{
    char id128[129], id129[130], long_number[40];
    memset(id128, 'i', 128);
    id128[128] = '\0';
    memset(id129, 'i', 129);
    id129[129] = '\0';
    memset(long_number, '1', 33);
    long_number[33] = '\0';
    char text[4096];
    snprintf(text, sizeof text,
             HEADER
             "E1,A1,VOICE\n"                                         /* 2 */
             "E2,A1,VOICE,2026-10-05T14:03:22Z,\n"                   /* 3 */
             "E3,A1,VOICE,2026-02-30T14:03:22Z,60\n"                 /* 4 */
             "E4,A1,VOICE,2026-10-05T14:03:22Z,abc\n"                /* 5 */
             "E5,A1,VOICE,2026-10-05T14:03:22Z,1.1234567\n"          /* 6 */
             "\"E6\nstill E6\",A1,VOICE,2026-10-05T14:03:22Z,60\n"   /* 7-8 */
             "\n"                                                    /* 9 */
             "E7,A1,\"VOI\"CE,2026-10-05T14:03:22Z,60\n"             /* 10 */
             "%s,A1,VOICE,2026-10-05T14:03:22Z,60\n"                 /* 11 */
             "%s,A1,VOICE,2026-10-05T14:03:22Z,60\n"                 /* 12 */
             "E8,A1,VOICE,2026-10-05T14:03:22Z,60,%s\n"              /* 13 */
             "E9,A1,VOICE,2026-10-05T14:03:22Z,-5\n"                 /* 14 */
             ",A1,VOICE,2026-10-05T14:03:22Z,1\n"                    /* 15 */
             "E11,A1,VOICE,2026-10-05T14:03:22Z,99999999999999999999\n" /* 16 */
             "E10,A1,VOICE,2026-10-05T14:03:22Z,\"1\n",              /* 17: unterminated */
             id128, id129, long_number);
    got g = read_ok(file("u.csv", text), 0);
    has_line(&g, "R 2 MISSING_FIELD start_time: start_time is missing|raw=E1,A1,VOICE\n");
    has_line(&g, "R 3 MISSING_FIELD quantity: quantity is missing|raw=E2,");
    has_line(&g, "R 4 BAD_TIME start_time: start_time is not an ISO 8601 instant|raw=E3,");
    has_line(&g, "R 5 BAD_QUANTITY quantity: quantity is not a decimal number|raw=E4,");
    has_line(&g, "R 6 BAD_QUANTITY quantity: quantity has more than 6 decimals|raw=E5,");
    has_line(&g, "E 7 E6\\nstill E6|A1|VOICE|");
    has_line(&g, "R 10 MALFORMED product_id: malformed CSV at column 3: text after a closing "
                 "quote|"
                 "raw=E7,A1,\"VOI\"CE,2026-10-05T14:03:22Z,60\n");
    has_line(&g, "E 11 iiii");
    has_line(&g, "R 12 FIELD_TOO_LONG event_id: event_id is longer than 128 bytes|raw=iii");
    has_line(&g, "R 13 FIELD_TOO_LONG called_number: called_number is longer than 32 bytes|raw=E8");
    has_line(&g, "E 14 E9|A1|VOICE|" T1 "|-5e-0||"); /* negative is the rater's to reject */
    has_line(&g, "R 15 MISSING_FIELD event_id: event_id is missing|raw=,A1,");
    has_line(&g, "R 16 ABSURD_QUANTITY quantity: quantity has more than 18 digits|raw=E11,");
    has_line(&g, "R 17 MALFORMED quantity: malformed CSV at column 5: unterminated quote|"
                 "raw=E10,");
    cr_assert_eq(g.records, 14);
    cr_assert_eq(g.events, 3);
    cr_assert_eq(g.rejects, 11);
    rt_buf_free(&g.text);
}

/* A malformed record names the column in `field` by its header name, as the other rejects
 * do: a column ratel ignores too, and none beyond the header. */
Test(usage_csv, a_malformed_record_names_its_column)
{
    got g = read_ok(file("u.csv", "note,event_id,account_id,product_id,start_time,quantity\n"
                                  "\"a\"b,E1,A1,VOICE,2026-10-05T14:03:22Z,60\n"      /* 2 */
                                  "x,E2,A1,VOICE,\"2026\"-10-05,60\n"                /* 3 */
                                  "x,E3,A1,VOICE,2026-10-05T14:03:22Z,60,\"y\"z\n"), /* 4 */
                    0);
    has_line(&g, "R 2 MALFORMED note: malformed CSV at column 1: text after a closing quote|");
    has_line(&g, "R 3 MALFORMED start_time: malformed CSV at column 5: text after a closing "
                 "quote|");
    has_line(&g, "R 4 MALFORMED : malformed CSV at column 7: text after a closing quote|");
    cr_assert_eq(g.rejects, 3);
    rt_buf_free(&g.text);
}

Test(usage_csv, an_overlong_record_is_malformed)
{
    size_t n = 70000;
    char *text = malloc(n + 256);
    int h = snprintf(text, 256, "event_id,account_id,product_id,start_time,quantity,note\n"
                                "E1,A1,VOICE,2026-10-05T14:03:22Z,60,");
    memset(text + h, 'x', n);
    strcpy(text + h + n, "\nE2,A1,VOICE,2026-10-05T14:03:22Z,60,ok\n");
    got g = read_ok(file("u.csv", text), 0);
    has_line(&g, "R 2 MALFORMED : record longer than 65536 bytes|raw=E1,");
    has_line(&g, "E 3 E2|");
    free(text);
    rt_buf_free(&g.text);
}

/* A file of many records with every awkward feature, for the chunking tests. */
static char *awkward(size_t records)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_buf_puts(&b, "\xEF\xBB\xBF" HEADER);
    for (size_t i = 0; i < records; i++) {
        switch (i % 7) {
        case 0: rt_buf_printf(&b, "E%zu,A1,VOICE,2026-10-05T14:03:22Z,%zu\n", i, i); break;
        case 1: rt_buf_printf(&b, "\"E%zu\n(two lines)\",A1,VOICE,2026-10-05T14:03:22Z,1\r\n", i); break;
        case 2: rt_buf_printf(&b, "E%zu,\"A,\"\"1\"\"\",DATA,2026-10-05 14:03:22,1.5,\"+1\"\n", i); break;
        case 3: rt_buf_printf(&b, "E%zu,A1,VOICE,not-a-time,1\n\n", i); break;
        case 4: rt_buf_printf(&b, "E%zu,A1\n", i); break;
        case 5: rt_buf_printf(&b, "E%zu,A1,VO\"ICE,2026-10-05T14:03:22Z,1\n", i); break;
        default: rt_buf_printf(&b, "E%zu,A1,KWH,2026-10-05T14:03:22+01:00,0.125\n", i); break;
        }
    }
    rt_buf_puts(&b, "LAST,A1,VOICE,2026-10-05T14:03:22Z,1"); /* no final line end */
    rt_buf_putc(&b, '\0');
    return b.data;
}

Test(usage_csv, tiny_chunks_give_the_same_records)
{
    /* Over 64 KiB, since the reader takes up to that much with the header. */
    char *text = awkward(7000);
    const char *path = file("big.csv", text);
    cr_assert_gt(strlen(text), 200000);
    got one = read_ok(path, 64 << 20);
    cr_assert_eq(one.chunks, 1);
    cr_assert_eq(one.records, 7001);
    cr_assert_eq(one.events, 4001, "cases 0, 1, 2, 6 and the last record");
    has_line(&one, "LAST|A1|VOICE|");
    static const size_t sizes[] = {1, 7, 64, 1000, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        got g = read_ok(path, sizes[i]);
        cr_assert_gt(g.chunks, sizes[i] < 1000 ? 100 : 5, "chunk size %zu: %zu chunks, %llu records, %s", sizes[i], g.chunks, (unsigned long long)g.records, g.err.message);
        cr_assert_eq(g.records, one.records, "chunk size %zu: %llu records in %zu chunks", sizes[i], (unsigned long long)g.records, g.chunks);
        cr_assert_str_eq(g.text.data, one.text.data, "chunk size %zu", sizes[i]);
        cr_assert(g.info.bytes == one.info.bytes && g.info.xxh64 == one.info.xxh64);
        rt_buf_free(&g.text);
    }
    /* The same through zstd, cut into chunks as well. */
    const char *z = zst(path);
    got gz = read_ok(z, 100);
    cr_assert_str_eq(gz.text.data, one.text.data);
    rt_buf_free(&gz.text);
    rt_buf_free(&one.text);
    free(text);
}

Test(usage_csv, frames_of_another_writer_read_ahead_on_one_thread_or_every_core)
{
    char *text = awkward(7000);
    const char *path = file("big.csv", text);
    got one = read_ok(path, 64 << 20);
    /* Frames cut anywhere, each with its content size: what the reader reads ahead and
     * decompresses in parallel (or, told to use one thread, one after another). */
    cr_assert_eq(rt_test_sh("cd '%s' && split -b 30000 big.csv part. && for f in part.*; do "
                            "zstd -q -c \"$f\"; done > multi.csv.zst",
                            tmp),
                 0);
    char multi[512];
    snprintf(multi, sizeof multi, "%s/multi.csv.zst", tmp);
    for (unsigned threads = 0; threads <= 2; threads++) {
        got g = read_usage_on(multi, 4096, threads);
        cr_assert_eq(g.st, RT_OK, "%s", g.err.message);
        cr_assert_eq(g.records, one.records, "threads %u", threads);
        cr_assert_str_eq(g.text.data, one.text.data, "threads %u", threads);
        rt_buf_free(&g.text);
    }
    rt_buf_free(&one.text);
    free(text);
}

Test(usage_csv, checksum_of_the_file_as_stored)
{
    const char *path = file("u.csv", HEADER "E1,A1,VOICE,2026-10-05T14:03:22Z,60\n");
    const char *z = zst(path);
    got g = read_ok(z, 0);
    size_t len;
    char *stored = NULL;
    FILE *f = fopen(z, "rb");
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    stored = malloc(len);
    cr_assert_eq(fread(stored, 1, len, f), len);
    fclose(f);
    cr_assert_eq(g.info.bytes, len, "compressed size, not text size");
    cr_assert_eq(g.info.xxh64, XXH64(stored, len, 0));
    free(stored);
    rt_buf_free(&g.text);
}

Test(usage_csv, truncated_zstd_frame_is_an_error)
{
    char *text = awkward(5000);
    const char *path = file("big.csv", text);
    const char *z = zst(path);
    char cut[600];
    snprintf(cut, sizeof cut, "%s/cut.csv.zst", tmp);
    static const int drop[] = {1, 100, 5000};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++) {
        cr_assert_eq(rt_test_sh("head -c -%d '%s' > '%s'", drop[i], z, cut), 0);
        for (size_t chunk = 512; chunk <= (4u << 20); chunk *= 64) {
            got g = read_usage(cut, chunk);
            rt_status st = g.open_st != RT_OK ? g.open_st : g.st;
            cr_assert_eq(st, RT_ECORRUPT, "cut %d bytes, chunk %zu: %s", drop[i], chunk,
                         rt_status_str(st));
            cr_assert_str_eq(g.err.file, cut);
            rt_buf_free(&g.text);
        }
    }
    /* Cut inside the header's frame: the open itself fails. */
    cr_assert_eq(rt_test_sh("head -c 8 '%s' > '%s'", z, cut), 0);
    got g = read_usage(cut, 0);
    cr_assert_eq(g.open_st, RT_ECORRUPT);
    free(text);
}

Test(usage_csv, parse_buffer_uses_the_standard_column_order)
{
    static const char recs[] = "E1,A1,VOICE,2026-10-05T14:03:22Z,60,+331\n"
                               "E2,A1,VOICE,2026-10-05T14:03:22Z\n"
                               "E3,A1,KWH,2026-10-05T14:03:22Z,0.5";
    rt_event_batch b;
    rt_event_batch_init(&b);
    cr_assert_eq(rt_usage_csv_parse_buffer(recs, sizeof recs - 1, &b), RT_OK);
    cr_assert_eq(b.records, 3);
    cr_assert_eq(b.count, 2);
    cr_assert_eq(b.reject_count, 1);
    cr_assert_eq(b.rejects[0].reason, RT_REJ_MISSING_FIELD);
    cr_assert_eq(b.rejects[0].line_rel, 1);
    cr_assert_eq(b.events[1].line_rel, 2);
    cr_assert_eq(b.events[1].rec_no, 2);
    cr_assert_eq(b.events[1].qty_mantissa, 5);
    cr_assert_eq(b.events[1].qty_scale, 1);
    cr_assert_eq(b.events[0].called_len, 4);
    rt_event_batch_free(&b);
}

Test(usage_csv, reader_by_file_name)
{
    const char *path = file("u.csv", HEADER "E1,A1,VOICE,2026-10-05T14:03:22Z,60\n");
    rt_usage_reader *r;
    rt_error err;
    cr_assert_eq(rt_usage_open(path, 0, &r, &err), RT_OK);
    r->ops->close(r);
    const char *z = zst(path);
    cr_assert_eq(rt_usage_open(z, 0, &r, &err), RT_OK, "%s", err.message);
    r->ops->close(r);
    cr_assert_eq(rt_usage_open(file("u.txt", "x\n"), 0, &r, &err), RT_EINVAL);
    cr_assert(strstr(err.message, ".csv"));
    /* The run's thread count reaches the reader it opens (`ratel run --threads 1`). */
    rt_usage_open_opts o;
    rt_usage_open_opts_init(&o);
    o.threads = 1;
    cr_assert_eq(rt_usage_open_with(z, &o, 0, &r, &err), RT_OK, "%s", err.message);
    cr_assert_eq(r->threads, 1);
    r->ops->close(r);
}

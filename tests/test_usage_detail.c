/* test_usage_detail: the rated events behind every invoice line (usage_detail.csv.zst and
 * usage_detail_index.csv).
 *
 * 30 events E000..E029 in input order (5 chunks of at most 7), event k for account
 * ACC-FR / ACC-BE / ACC-X by k mod 3; ACC-FR uses VOICE (k even) or DATA (k odd), ACC-BE
 * VOICE or SMS, ACC-X VOICE; event k is rated 0.01 x (k + 1) for 60 + k units.
 * Invoices: INV-2026-000001 for ACC-BE (lines 1 C_SMS, 2 C_VOICE) and INV-2026-000002 for
 * ACC-FR (1 C_DATA, 2 C_VOICE); ACC-X has no invoice in this run (as in an accrual-only run),
 * so its events come last under an empty invoice number. Accounts sort ACC-BE, ACC-FR, ACC-X. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "engine/usage.h"
#include "fixture_invoices.h"
#include "formats/csv.h"
#include "formats/usage_detail.h"

enum { EVENTS = 30, CHUNK = 7 };

typedef struct ev_spec {
    char id[16], called[24];
    const char *account, *product;
} ev_spec;

static ev_spec specs[EVENTS];

static void make_specs(void)
{
    for (int k = 0; k < EVENTS; k++) {
        ev_spec *s = &specs[k];
        snprintf(s->id, sizeof s->id, "E%03d", k);
        s->account = k % 3 == 0 ? "ACC-FR" : k % 3 == 1 ? "ACC-BE" : "ACC-X";
        bool voice = k % 2 == 0 || k % 3 == 2;
        s->product = voice ? "VOICE" : k % 3 == 0 ? "DATA" : "SMS";
        snprintf(s->called, sizeof s->called, "%s", voice ? "+33610000000" : "");
        if (voice) s->called[11] = (char)('0' + k % 10);
    }
}

static void rate(const fx *f, int k, rt_rated *r)
{
    const ev_spec *s = &specs[k];
    memset(r, 0, sizeof *r);
    r->account = fx_account(f, s->account);
    uint32_t pk = rt_catalog_product_key(&f->cat, s->product, strlen(s->product));
    int no_plan;
    cr_assert_eq(
        rt_catalog_charge_at(&f->cat, r->account, pk, f->period.start_s, &r->charge, &no_plan),
        RT_OK);
    r->product = rt_catalog_product_at(&f->cat, pk, f->period.start_s);
    r->zone = RT_NO_INDEX; /* priced by the charge, as the rater leaves it */
    r->part_count = 1;
    r->parts[0].rate_group = RT_NO_INDEX;
    r->parts[0].band = RT_BAND_NONE;
    r->quantity_base = r->billable_base = 60 + k;
    r->amount_nanos = (int64_t)(k + 1) * 10000000;
    r->start_s = f->period.start_s + k * 3600;
}

/* The invoices: one usage line per (account, charge) with the events' sums. */
static void invoices(fx *f)
{
    const char *accts[2] = {"ACC-BE", "ACC-FR"};
    const char *prods[2][2] = {{"SMS", "VOICE"}, {"DATA", "VOICE"}};
    const char *numbers[2] = {"INV-2026-000001", "INV-2026-000002"};
    for (int a = 0; a < 2; a++) {
        rt_invoice_line l[2];
        for (int p = 0; p < 2; p++) {
            uint64_t n = 0;
            int64_t q = 0, amt = 0;
            for (int k = 0; k < EVENTS; k++) {
                if (strcmp(specs[k].account, accts[a]) || strcmp(specs[k].product, prods[a][p]))
                    continue;
                n++;
                q += 60 + k;
                amt += (int64_t)(k + 1) * 10000000;
            }
            l[p] = fx_usage(f, accts[a], prods[a][p], n, q, q, amt);
        }
        fx_invoice(f, accts[a], numbers[a], RT_INVOICE, NULL, l, 2);
    }
    fx_finish(f);
    f->res.counts.rated = EVENTS;
}

/* The book (with `filler` accounts between each two of the three: see fx_load_spread), the
 * events and the invoices every test starts from. */
static void fx_with_invoices_spread(fx *f, int filler)
{
    make_specs();
    fx_load_spread(f, "EUR", filler);
    invoices(f);
}

static void fx_with_invoices(fx *f) { fx_with_invoices_spread(f, 0); }

/* Feed the 30 events through the detail writer as the run does: chunks rated in slots (round
 * robin), the partitions planned from the first wave for `plan` records (0: size unknown,
 * even ranges), each wave encoded and written in input order, then finish. */
static void run_detail_planned(fx *f, const char *dir, unsigned slots, size_t budget,
                               uint64_t plan, rt_output_list *files)
{
    static rt_run_input input = {.path = "usage.csv"};
    rt_usage_reader reader = {NULL, "usage.csv", 0};
    rt_usage_detail *d;
    rt_error err;
    f->res.inputs = &input;
    f->res.input_count = 1;
    cr_assert_eq(rt_usage_detail_open(dir, slots, 0, budget, &d, &err), RT_OK);
    rt_event_batch batch[8];
    rt_chunk chunk[8];
    rt_rated rated[8][CHUNK];
    rt_chunk_view views[8];
    cr_assert_leq(slots, 8);
    for (unsigned s = 0; s < slots; s++)
        rt_event_batch_init(&batch[s]);
    int chunks = (EVENTS + CHUNK - 1) / CHUNK;
    for (int first = 0; first < chunks; first += (int)slots) {
        unsigned in_wave = 0;
        for (unsigned s = 0; s < slots && first + (int)s < chunks; s++, in_wave++) {
            int c = first + (int)s;
            rt_event_batch_clear(&batch[s]);
            memset(&chunk[s], 0, sizeof chunk[s]);
            chunk[s].first_line = 2 + (uint64_t)c * CHUNK;
            chunk[s].seq = (uint32_t)c;
            size_t n = 0;
            for (int k = c * CHUNK; k < EVENTS && k < (c + 1) * CHUNK; k++, n++) {
                rt_event *ev = rt_event_batch_push(&batch[s]);
                ev->event_id = specs[k].id;
                ev->event_id_len = (uint16_t)strlen(specs[k].id);
                ev->called = specs[k].called;
                ev->called_len = (uint16_t)strlen(specs[k].called);
                ev->rec_no = ev->line_rel = (uint32_t)n;
                rate(f, k, &rated[s][n]);
                rated[s][n].event = (uint32_t)n;
                rated[s][n].ordinal = (uint64_t)c << 32 | n;
            }
            views[s] = (rt_chunk_view){&f->cat, &reader, &chunk[s], &batch[s], rated[s], n};
        }
        if (first == 0) cr_assert_eq(rt_usage_detail_plan(d, views, in_wave, plan, &err), RT_OK);
        for (unsigned s = 0; s < in_wave; s++)
            cr_assert_eq(rt_usage_detail_encode(d, s, &views[s], &err), RT_OK);
        for (unsigned s = 0; s < in_wave; s++)
            cr_assert_eq(rt_usage_detail_write(d, s, &err), RT_OK);
    }
    memset(files, 0, sizeof *files);
    cr_assert_eq(rt_usage_detail_finish(d, &f->res, files, &err), RT_OK, "%s", err.message);
    rt_usage_detail_destroy(d);
    for (unsigned s = 0; s < slots; s++)
        rt_event_batch_free(&batch[s]);
}

static void run_detail(fx *f, const char *dir, unsigned slots, size_t budget, rt_output_list *files)
{
    run_detail_planned(f, dir, slots, budget, 0, files);
}

static const char *next_line(const char *p)
{
    return strchr(p, '\n') + 1;
}

Test(usage_detail, events_are_grouped_by_invoice_and_line_in_input_order)
{
    fx f;
    char dir[256];
    rt_output_list files;
    fx_with_invoices(&f);
    rt_test_tmpdir(dir, sizeof dir);
    run_detail(&f, dir, 2, 0, &files);
    cr_assert_eq(files.count, 2);
    cr_assert_str_eq(files.items[0].name, "usage_detail.csv.zst");
    cr_assert_eq(files.items[0].rows, EVENTS);
    cr_assert_str_eq(files.items[1].name, "usage_detail_index.csv");
    cr_assert_eq(files.items[1].rows, 5);
    char *t = fx_read(dir, "usage_detail.csv.zst", NULL);
    const char *header =
        "invoice_number,line,account_id,plan_id,charge_id,event_id,start_time,called_number,"
        "quantity,billable_quantity,unit,amount,currency,late,source_file,source_line\n";
    cr_assert(strncmp(t, header, strlen(header)) == 0, "%s", t);
    /* ACC-BE's SMS events (k = 1, 7, 13, 19, 25) come first: E001 is line 3 of usage.csv. */
    const char *p = next_line(t);
    cr_assert(strncmp(p,
                      "INV-2026-000001,1,ACC-BE,P_MAIN,C_SMS,E001,2026-10-01T01:00:00Z,,61,61,"
                      "message,0.02,EUR,0,usage.csv,3\n",
                      100) == 0,
              "%s", t);
    /* Group order, and input order inside each group. */
    const char *groups[] = {"INV-2026-000001,1,", "INV-2026-000001,2,", "INV-2026-000002,1,",
                            "INV-2026-000002,2,", ",,ACC-X,"};
    size_t g = 0;
    int rows = 0, last_k = -1;
    for (; *p; p = next_line(p), rows++) {
        while (g < 5 && strncmp(p, groups[g], strlen(groups[g])) != 0) {
            g++;
            last_k = -1;
        }
        cr_assert_lt(g, 5, "row %d out of order: %.60s", rows, p);
        int k = atoi(strstr(p, ",E") + 2);
        cr_assert_gt(k, last_k, "input order inside a line: %.60s", p);
        last_k = k;
        cr_assert_str_eq(specs[k].account, strncmp(p, ",,", 2) == 0                 ? "ACC-X"
                                           : strncmp(p, "INV-2026-000001", 15) == 0 ? "ACC-BE"
                                                                                    : "ACC-FR");
    }
    cr_assert_eq(rows, EVENTS);
    /* A called number is a text cell starting with '+': neutralised for spreadsheets. */
    cr_assert(strstr(t, ",C_VOICE,E002,2026-10-01T02:00:00Z,\"'+33610000002\",62,62,second,"
                        "0.03,EUR,0,usage.csv,4\n"),
              "%s", t);
    free(t);
    fx_free(&f);
    rt_test_sh("rm -rf '%s'", dir);
}

Test(usage_detail, the_index_locates_each_line_s_frames)
{
    fx f;
    char dir[256];
    rt_output_list files;
    fx_with_invoices_spread(&f, 40); /* rows 0, 41 and 82: a block of accounts each */
    rt_test_tmpdir(dir, sizeof dir);
    run_detail(&f, dir, 2, 0, &files);
    size_t zlen;
    char path[512];
    snprintf(path, sizeof path, "%s/usage_detail.csv.zst", dir);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    static char z[1 << 16];
    zlen = fread(z, 1, sizeof z, fp);
    fclose(fp);
    cr_assert_eq(zlen, files.items[0].bytes);
    char *ix = fx_read(dir, "usage_detail_index.csv", NULL);
    char *all = fx_read(dir, "usage_detail.csv.zst", NULL);
    const char *p = next_line(ix);
    cr_assert(strncmp(ix,
                      "invoice_number,line,account_id,plan_id,charge_id,events,amount,currency,"
                      "offset,bytes,frames,skip\n",
                      95) == 0);
    /* ACC-BE SMS: k = 1, 7, 13, 19, 25 -> 0.02 + 0.08 + 0.14 + 0.20 + 0.26 = 0.70 */
    cr_assert(strncmp(p, "INV-2026-000001,1,ACC-BE,P_MAIN,C_SMS,5,0.70,EUR,", 48) == 0, "%s", ix);
    uint64_t expect_offset = ZSTD_findFrameCompressedSize(z, zlen); /* the header frame */
    uint64_t prev_offset = expect_offset;
    int n = 0, events = 0;
    rt_arena arena;
    rt_arena_init(&arena, 0);
    for (; *p; p = next_line(p), n++) {
        const char *q = p, *why;
        uint32_t col;
        rt_csv_record rec;
        cr_assert_eq(rt_csv_parse(&q, q + strlen(q), &arena, &rec, &why, &col), RT_OK);
        cr_assert_eq(rec.count, 12, "%s", p);
        unsigned long long ev = strtoull(rec.fields[5].ptr, NULL, 10),
                           off = strtoull(rec.fields[8].ptr, NULL, 10),
                           bytes = strtoull(rec.fields[9].ptr, NULL, 10),
                           frames = strtoull(rec.fields[10].ptr, NULL, 10),
                           skip = strtoull(rec.fields[11].ptr, NULL, 10);
        /* A frame holds one block's rows: ACC-BE's second line follows its first in their
         * frame, and each account (its own block here) starts a frame of its own. */
        if (n == 1 || n == 3) {
            cr_assert_eq(off, prev_offset, "line %d shares its account's frame", n);
            cr_assert_gt(skip, 0);
            cr_assert_eq(off + bytes, expect_offset);
        } else {
            cr_assert_eq(off, expect_offset, "line %d starts the next frame", n);
            cr_assert_eq(skip, 0);
        }
        cr_assert_eq(frames, 1);
        prev_offset = off;
        expect_offset = off + bytes;
        /* The line's bytes decompress alone; its rows start `skip` bytes in, are rows of the
         * file in order, and all belong to the line. */
        static char text[1 << 16];
        size_t got = ZSTD_decompress(text, sizeof text, z + off, bytes);
        cr_assert(!ZSTD_isError(got));
        text[got] = '\0';
        cr_assert_lt(skip, got);
        const char *rows_at = text + skip, *end = rows_at;
        int rows = 0;
        for (; *end && rows < (int)ev; end = next_line(end))
            rows++;
        cr_assert_eq(rows, (int)ev);
        char prefix[64];
        int plen = snprintf(prefix, sizeof prefix, "%.*s,%.*s,", (int)rec.fields[0].len,
                            rec.fields[0].ptr, (int)rec.fields[1].len, rec.fields[1].ptr);
        for (const char *q = rows_at; q < end; q = next_line(q))
            cr_assert(strncmp(q, prefix, (size_t)plen) == 0, "row of %s: %.40s", prefix, q);
        text[end - text] = '\0';
        cr_assert(strstr(all, rows_at), "a line's rows are consecutive rows of the file");
        events += rows;
    }
    rt_arena_free(&arena);
    cr_assert_eq(n, 5);
    cr_assert(strstr(ix, "\n,,ACC-X,P_MAIN,C_VOICE,10,"), "unbilled usage is indexed: %s", ix);
    cr_assert_eq(expect_offset, zlen, "the index covers the whole file");
    cr_assert_eq(events, EVENTS);
    free(ix);
    free(all);
    fx_free(&f);
    rt_test_sh("rm -rf '%s'", dir);
}

/* Write the detail with each of n (slots, budget) pairs into dir[i] (made here): every event
 * is written, no scratch file is left, and all n give the bytes of the first. */
static void same_bytes_planned(fx *f, int n, const unsigned *slots, const size_t *budget,
                               const uint64_t *plan, char (*dir)[256])
{
    rt_output_list files;
    for (int i = 0; i < n; i++) {
        rt_test_tmpdir(dir[i], sizeof dir[i]);
        run_detail_planned(f, dir[i], slots[i], budget[i], plan ? plan[i] : 0, &files);
        cr_assert_eq(files.items[0].rows, EVENTS);
        cr_assert_eq(rt_test_sh("test \"$(ls -A '%s' | tr '\\n' ' ')\" = "
                                "'usage_detail.csv.zst usage_detail_index.csv '",
                                dir[i]),
                     0, "only the two files remain in %s", dir[i]);
    }
    for (int i = 1; i < n; i++) {
        cr_assert_eq(rt_test_sh("cmp -s '%s/usage_detail.csv.zst' '%s/usage_detail.csv.zst'",
                                dir[0], dir[i]),
                     0, "detail differs for slots %u budget %zu", slots[i], budget[i]);
        cr_assert_eq(rt_test_sh("cmp -s '%s/usage_detail_index.csv' '%s/usage_detail_index.csv'",
                                dir[0], dir[i]),
                     0);
    }
}

static void same_bytes(fx *f, int n, const unsigned *slots, const size_t *budget,
                       char (*dir)[256])
{
    same_bytes_planned(f, n, slots, budget, NULL, dir);
}

Test(usage_detail, bytes_do_not_depend_on_slots_or_the_memory_budget)
{
    fx f;
    char dir[8][256];
    fx_with_invoices_spread(&f, 40); /* rows 0, 41 and 82: a block (so a partition) each */
    cr_assert_eq(f.cat.account_count, 83);
    /* Partitions here are one account each, needing about 1,300 bytes to sort (records and
     * sort entries); ACC-BE's two lines take about 620 and 680. Default budget with 1, 1 and 2
     * sorting threads (2, 3 and 4 slots); a budget of one byte (every line streams through); 700
     * bytes (ACC-BE sorted in two passes, ACC-X's single line streamed); 2000 bytes with 2 threads
     * (every partition is above a thread's 1,000: each is an account larger than the share,
     * sorted in passes of whole keys); 1400 bytes with 2 threads (a thread's 700: ACC-BE's two
     * lines are two passes of one unit); 8000 bytes with 2 threads (whole partitions on both
     * threads). Frames end at blocks' ends (an account each here) whatever the passes. */
    enum { RUNS = 8 };
    const unsigned slots[RUNS] = {2, 3, 4, 1, 2, 4, 4, 4};
    const size_t budget[RUNS] = {0, 0, 0, 1, 700, 2000, 1400, 8000};
    same_bytes(&f, RUNS, slots, budget, dir);
    for (int i = 0; i < RUNS; i++)
        rt_test_sh("rm -rf '%s'", dir[i]);
    fx_free(&f);
}

Test(usage_detail, bytes_do_not_depend_on_how_partitions_are_planned)
{
    /* 2,203 accounts are 69 blocks: for a run of unknown size, 64 even partitions (some of two
     * blocks); planned from the first wave for 30 records, 64 partitions cut where that wave's
     * events fall (the three used blocks apart, the others merged); planned for 10^12 records
     * with a 1,400-byte budget, a partition per block (the most there can be), whose sorts take
     * passes. Partitions are whole blocks, so the bytes are the same. */
    fx f;
    char dir[6][256];
    fx_with_invoices_spread(&f, 1100);
    cr_assert_eq(f.cat.account_count, 2203);
    enum { RUNS = 6 };
    const unsigned slots[RUNS] = {2, 2, 4, 1, 4, 3};
    const size_t budget[RUNS] = {0, 0, 0, 1400, 1400, 1};
    const uint64_t plan[RUNS] = {0, 30, 30, UINT64_C(1000000000000), UINT64_C(1000000000000),
                                 30};
    same_bytes_planned(&f, RUNS, slots, budget, plan, dir);
    for (int i = 0; i < RUNS; i++)
        rt_test_sh("rm -rf '%s'", dir[i]);
    fx_free(&f);
}

Test(usage_detail, a_frame_holds_a_block_of_accounts)
{
    /* With 200 accounts in the catalog the three used here (rows 0 to 2) share a partition and
     * a block of RT_DETAIL_FRAME_ACCOUNTS: their rows are one frame after the header's, and
     * each line after the first starts in it, after the rows before. The same bytes come out
     * whether the partition is sorted whole, in passes, or streamed. */
    fx f;
    char dir[3][256];
    fx_with_invoices(&f);
    size_t accounts = f.cat.account_count;
    cr_assert_lt(accounts, RT_DETAIL_FRAME_ACCOUNTS);
    f.cat.account_count = 200;
    const unsigned slots[3] = {2, 4, 1};
    const size_t budget[3] = {0, 1400, 1};
    same_bytes(&f, 3, slots, budget, dir);
    f.cat.account_count = accounts;
    /* The file as stored (fx_read would decompress it). */
    char path[512];
    static char z[1 << 16];
    snprintf(path, sizeof path, "%s/usage_detail.csv.zst", dir[0]);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    size_t zlen = fread(z, 1, sizeof z, fp);
    fclose(fp);
    size_t header = ZSTD_findFrameCompressedSize(z, zlen);
    cr_assert(!ZSTD_isError(header));
    cr_assert_eq(ZSTD_findFrameCompressedSize(z + header, zlen - header), zlen - header,
                 "one frame after the header's");
    char *ix = fx_read(dir[0], "usage_detail_index.csv", NULL);
    rt_arena arena;
    rt_arena_init(&arena, 0);
    unsigned long long prev_skip = 0;
    int n = 0;
    for (const char *p = next_line(ix); *p; p = next_line(p), n++) {
        const char *q = p, *why;
        uint32_t col;
        rt_csv_record rec;
        cr_assert_eq(rt_csv_parse(&q, q + strlen(q), &arena, &rec, &why, &col), RT_OK);
        unsigned long long off = strtoull(rec.fields[8].ptr, NULL, 10),
                           bytes = strtoull(rec.fields[9].ptr, NULL, 10),
                           frames = strtoull(rec.fields[10].ptr, NULL, 10),
                           skip = strtoull(rec.fields[11].ptr, NULL, 10);
        cr_assert_eq(off, header, "line %d is in the block's frame", n);
        cr_assert_eq(bytes, zlen - header);
        cr_assert_eq(frames, 1);
        cr_assert(n == 0 ? skip == 0 : skip > prev_skip, "line %d starts after the one before", n);
        prev_skip = skip;
    }
    cr_assert_eq(n, 5);
    rt_arena_free(&arena);
    free(ix);
    for (int i = 0; i < 3; i++)
        rt_test_sh("rm -rf '%s'", dir[i]);
    fx_free(&f);
}

Test(usage_detail, an_abandoned_writer_leaves_no_scratch_file)
{
    fx f;
    char dir[256];
    rt_usage_detail *d;
    rt_error err;
    make_specs();
    fx_load(&f, "EUR");
    rt_test_tmpdir(dir, sizeof dir);
    cr_assert_eq(rt_usage_detail_open(dir, 1, 0, 0, &d, &err), RT_OK);
    rt_usage_reader reader = {NULL, "usage.csv", 0};
    rt_event_batch batch;
    rt_chunk chunk = {0};
    rt_rated r;
    rt_event_batch_init(&batch);
    rt_event *ev = rt_event_batch_push(&batch);
    ev->event_id = "E000";
    ev->event_id_len = 4;
    rate(&f, 0, &r);
    rt_chunk_view v = {&f.cat, &reader, &chunk, &batch, &r, 1};
    cr_assert_eq(rt_usage_detail_plan(d, &v, 1, 0, &err), RT_OK);
    cr_assert_eq(rt_usage_detail_encode(d, 0, &v, &err), RT_OK);
    cr_assert_eq(rt_usage_detail_write(d, 0, &err), RT_OK);
    cr_assert_eq(rt_test_sh("ls -A '%s' | grep -q spill", dir), 0, "a scratch file exists");
    rt_usage_detail_destroy(d); /* the run failed before its end */
    cr_assert_eq(rt_test_sh("test -z \"$(ls -A '%s')\"", dir), 0);
    rt_event_batch_free(&batch);
    rt_test_sh("rm -rf '%s'", dir);
    fx_free(&f);
}

/* test_run: the run pipeline with a usage reader and an output writer written here, over the
 * mini book of testutil.h.
 *
 * The data set (two inputs, 1,000 records, 7 per chunk, so many chunks and waves): record i
 * is, by i % 10 (record 0 is a voice call of A1):
 *   0 (i > 0) an A1 voice call under record i - 1's event id: a duplicate (99, one of them
 *             across the two files)
 *   1, 4      A1 VOICE 60 s on 2026-10-20 (C_VOICE v2, 0.03)      -> 200 + record 0
 *   2         A1 KWH 1.000 kWh (0.25)                              -> 100
 *   6, 9      A2 VOICE 60 s (PA's C_VOICE v2, 0.03)                 -> 200
 *   8         A2 KWH 1.000 kWh                                      -> 100
 *   3         account ZZ: UNKNOWN_ACCOUNT                           -> 100
 *   5         a bad start time: BAD_TIME (the parser's reject)      -> 100
 *   7         A1 SMS, not charged by PA: NO_CHARGE                  -> 100
 * read 1000 = rated 601 + rejected 300 + duplicate 99.
 * Invoices (tax point 2026-10-31: 20% std, 5.5% reduced, half_up):
 *   T-000001 A1: VOICE 201 x 0.03 = 6.03, KWH 100 x 0.25 = 25.00; VAT 1.206 -> 1.21 and
 *               1.375 -> 1.38; net 31.03, tax 2.59, gross 33.62
 *   T-000002 A2: VOICE 6.00, KWH 25.00; VAT 1.20 + 1.38; net 31.00, tax 2.58, gross 33.58
 *   run totals: net 62.03, tax 5.17, gross 67.20. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/run.h"
#include "formats/book_csv.h"
#include "formats/usage_csv.h"
#include "testutil.h"

/* ---- a usage reader over text held in memory ---- */

typedef enum reader_fault { FAULT_NONE, FAULT_READ, FAULT_PARSE } reader_fault;

typedef struct mem_reader {
    rt_usage_reader base;
    char *text;
    size_t len, pos;
    uint64_t line;
    unsigned chunks;
    reader_fault fault;
    bool changed; /* a later open of a "changing" file: other bytes (its checksum differs) */
} mem_reader;

/* Opens of the test reader's files, and of "changing" ones. */
static unsigned opens, changing_opens;

enum { RECORDS_PER_CHUNK = 7, FAULT_AT_CHUNK = 3 };

static rt_status mem_next(rt_usage_reader *r, rt_chunk *chunk, int *eof, rt_error *err)
{
    mem_reader *m = (mem_reader *)r;
    if (m->fault == FAULT_READ && m->chunks == FAULT_AT_CHUNK)
        return rt_error_set(err, RT_EIO, r->path, 0, 0, NULL, "read: Input/output error");
    size_t end = m->pos, lines = 0;
    while (end < m->len && lines < RECORDS_PER_CHUNK)
        if (m->text[end++] == '\n') lines++;
    if (end - m->pos > chunk->cap) {
        chunk->data = realloc(chunk->data, end - m->pos);
        chunk->cap = end - m->pos;
    }
    memcpy(chunk->data, m->text + m->pos, end - m->pos);
    chunk->len = end - m->pos;
    chunk->first_line = m->line;
    m->line += lines;
    m->pos = end;
    chunk->source_offset = end;
    *eof = chunk->len == 0;
    m->chunks++;
    return RT_OK;
}

static rt_status mem_parse(const rt_usage_reader *r, const rt_chunk *chunk, rt_event_batch *batch,
                           rt_error *err)
{
    const mem_reader *m = (const mem_reader *)r;
    if (m->fault == FAULT_PARSE && chunk->first_line > 20)
        return rt_error_set(err, RT_ECORRUPT, NULL, chunk->first_line, 0, NULL,
                            "the reader is broken");
    return rt_usage_csv_parse_buffer(chunk->data, chunk->len, batch);
}

static void mem_info(const rt_usage_reader *r, rt_input_info *info)
{
    const mem_reader *m = (const mem_reader *)r;
    info->bytes = m->len;
    info->xxh64 = m->changed ? 0xc4a9 : 0x5eed;
}

static void mem_close(rt_usage_reader *r)
{
    mem_reader *m = (mem_reader *)r;
    free(m->text);
    free(m);
}

static const rt_usage_reader_ops mem_ops = {mem_next, mem_parse, mem_info, mem_close};

/* Record i of the data set described at the top. */
static void record(rt_buf *b, unsigned i)
{
    unsigned c = i % 10;
    unsigned id = c == 0 && i > 0 ? i - 1 : i;
    const char *acct = c == 3 ? "ZZ" : (c == 6 || c == 8 || c == 9) ? "A2" : "A1";
    const char *prod = (c == 2 || c == 8) ? "KWH" : c == 7 ? "SMS" : "VOICE";
    const char *when = c == 5 ? "2026-10-20T25:00:00Z" : "2026-10-20T10:00:00Z";
    const char *qty = (c == 2 || c == 8) ? "1.000" : c == 7 ? "1" : "60";
    rt_buf_printf(b, "E%u,%s,%s,%s,%s,\n", id, acct, prod, when, qty);
}

/* The file's name says which records it holds and which fault it has. */
static rt_status mem_open(const void *ctx, const char *path, size_t chunk_bytes,
                          rt_usage_reader **out, rt_error *err)
{
    (void)ctx;
    (void)chunk_bytes;
    mem_reader *m = calloc(1, sizeof *m);
    m->base.ops = &mem_ops;
    m->base.path = path;
    m->line = 1;
    opens++;
    if (strstr(path, "changing")) m->changed = ++changing_opens > 1;
    unsigned from = 0, to = 1000;
    if (strstr(path, "part-1")) to = 600;
    if (strstr(path, "part-2")) from = 600;
    if (strstr(path, "read-fault")) m->fault = FAULT_READ;
    if (strstr(path, "parse-fault")) m->fault = FAULT_PARSE;
    bool rejects_only = strstr(path, "rejects-only") != NULL;
    bool reject_first = strstr(path, "reject-first") != NULL;
    rt_buf b;
    rt_buf_init(&b);
    for (unsigned i = from; i < to; i++) {
        if (reject_first) /* R<k> first under an unknown account, then A1's; D<k> twice A1's */
            rt_buf_printf(&b, "%c%u,%s,VOICE,2026-10-20T10:00:00Z,60,\n", i % 4 < 2 ? 'R' : 'D',
                          i / 4, i % 4 == 0 ? "ZZ" : "A1");
        else if (rejects_only)
            rt_buf_printf(&b, "E%u,ZZ,VOICE,2026-10-20T10:00:00Z,60,\n", i);
        else
            record(&b, i);
    }
    m->text = b.data;
    m->len = b.len;
    *out = &m->base;
    (void)err;
    return RT_OK;
}

/* ---- an output writer that captures what the run hands it ---- */

typedef enum writer_fault { W_NONE, W_DISK_FULL_IN_WRITE, W_DISK_FULL_IN_FINISH } writer_fault;

static writer_fault wfault;
/* When set, the writer holds back its "usage detail written" signal for a while and records
 * whether the run's billed-events file was published (by the registry's side) meanwhile. */
static bool hold_detail;
static bool published_before_detail;
static void billed_files(char *buf, size_t n);
static rt_buf captured; /* everything written, in write order */
/* The plan call: how often, after how many encodes, with how many chunks and records. */
static unsigned plan_calls, encodes_before_plan, encodes;
static size_t plan_views;
static uint64_t plan_records;

struct rt_output_sink {
    char dir[512];
    unsigned nslots;
    rt_buf *slot;
    unsigned writes;
};

static rt_status cap_begin(const char *dir, unsigned slots, unsigned threads,
                           rt_output_sink **out, rt_error *err)
{
    (void)threads;
    (void)err;
    rt_output_sink *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->nslots = slots;
    s->slot = calloc(slots, sizeof *s->slot);
    *out = s;
    return RT_OK;
}

static rt_status cap_plan(rt_output_sink *s, const rt_chunk_view *views, size_t n,
                          uint64_t records_expected, rt_error *err)
{
    (void)s;
    (void)err;
    if (plan_calls++ == 0) encodes_before_plan = encodes;
    plan_views = n;
    plan_records = records_expected;
    for (size_t i = 0; i < n; i++) cr_assert_not_null(views[i].rated);
    return RT_OK;
}

static rt_status cap_encode(rt_output_sink *s, unsigned slot, const rt_chunk_view *v, rt_error *err)
{
    (void)err;
    __atomic_fetch_add(&encodes, 1, __ATOMIC_RELAXED);
    rt_buf *b = &s->slot[slot];
    rt_buf_reset(b);
    for (size_t k = 0; k < v->rated_count; k++) {
        const rt_rated *r = &v->rated[k];
        const rt_event *e = &v->batch->events[r->event];
        rt_buf_printf(b, "rated %s:%" PRIu64 " %.*s acct=%u charge=%u amount=%" PRId64 "%s\n",
                      v->reader->path, v->chunk->first_line + e->line_rel, (int)e->event_id_len,
                      e->event_id, r->account, r->charge, r->amount_nanos,
                      r->flags & RT_RATED_DUPLICATE ? " duplicate" : "");
    }
    for (size_t k = 0; k < v->batch->reject_count; k++) {
        const rt_reject *j = &v->batch->rejects[k];
        rt_buf_printf(b, "reject %s:%" PRIu64 " %s\n", v->reader->path,
                      v->chunk->first_line + j->line_rel,
                      rt_reject_reason_code((rt_reject_reason)j->reason));
    }
    return RT_OK;
}

static rt_status cap_write(rt_output_sink *s, unsigned slot, rt_error *err)
{
    if (wfault == W_DISK_FULL_IN_WRITE && ++s->writes == 5)
        return rt_error_set(err, RT_EIO, "rated_usage.csv.zst", 0, 0, NULL,
                            "write: No space left on device");
    rt_buf_append(&captured, s->slot[slot].data, s->slot[slot].len);
    return RT_OK;
}

static rt_status cap_finish(rt_output_sink *s, const rt_run_result *res, rt_output_list *files,
                            uint64_t *manifest_xxh64, rt_error *err)
{
    /* A file in the staging directory, so a failure must be seen to clean it up. */
    char path[600];
    snprintf(path, sizeof path, "%s/invoices.csv", s->dir);
    FILE *f = fopen(path, "w");
    fputs("partial\n", f);
    fclose(f);
    if (wfault == W_DISK_FULL_IN_FINISH)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "write: No space left on device");
    if (hold_detail) {
        struct timespec pause = {0, 300 * 1000 * 1000};
        nanosleep(&pause, NULL);
        char billed[256];
        billed_files(billed, sizeof billed);
        /* Only the pending file ("pending-....fps") until then. */
        published_before_detail = strncmp(billed, "1.fps", 5) == 0 || strstr(billed, " 1.fps");
        cr_assert_not_null(res->detail_written);
        res->detail_written(res->hooks_ctx);
    }
    const rt_run_counts *c = &res->counts;
    rt_buf_printf(&captured, "run %" PRIu64 " %s read=%" PRIu64 " rated=%" PRIu64
                  " rejected=%" PRIu64 " duplicate=%" PRIu64 "\n",
                  res->run_no, res->period_text, c->read, c->rated, c->rejected, c->duplicate);
    for (size_t i = 0; i < res->invoices->count; i++) {
        const rt_invoice *inv = &res->invoices->items[i];
        rt_buf_printf(&captured, "invoice %s acct=%u net=%" PRId64 " tax=%" PRId64
                      " gross=%" PRId64 " events=%" PRIu64 "\n",
                      inv->number, inv->account, inv->net_minor, inv->tax_minor, inv->gross_minor,
                      inv->events);
        for (size_t k = 0; k < inv->line_count; k++)
            rt_buf_printf(&captured, "  line charge=%u events=%" PRIu64 " qty=%" PRId64
                          " amount=%" PRId64 " net=%" PRId64 "\n",
                          inv->lines[k].charge, inv->lines[k].events, inv->lines[k].quantity_base,
                          inv->lines[k].amount_nanos, inv->lines[k].net_minor);
    }
    rt_buf_printf(&captured, "journal lines=%zu entries=%u\n", res->journal->count,
                  res->journal->entries);
    files->count = 1;
    memset(&files->items[0], 0, sizeof files->items[0]);
    snprintf(files->items[0].name, sizeof files->items[0].name, "invoices.csv");
    *manifest_xxh64 = 0xabc;
    return RT_OK;
}

static void cap_destroy(rt_output_sink *s)
{
    for (unsigned i = 0; i < s->nslots; i++) rt_buf_free(&s->slot[i]);
    free(s->slot);
    free(s);
}

static const rt_output_ops cap_ops = {cap_begin, cap_encode, cap_write, cap_finish, cap_destroy,
                                      cap_plan,  NULL,       NULL,      NULL,       NULL};

/* ---- set-up ---- */

static char tmp[256], book_dir[512], out_dir[512], staging[560];
static char inputs[3][300];
static rt_id_scan scan_mode; /* what config() asks for */

static void make_book(const char *dir)
{
    char src[600];
    snprintf(src, sizeof src, "%s.src", dir);
    rt_test_mini_book(src);
    rt_book book;
    cr_assert_eq(rt_test_read_book(src, &book), 0);
    rt_store *s;
    rt_error err;
    cr_assert_eq(rt_store_open(dir, true, &s, &err), RT_OK);
    cr_assert_eq(rt_pricebook_import(s, &book, NULL, NULL, &err), RT_OK);
    rt_store_close(s);
    rt_book_free(&book);
}

static void setup(void)
{
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(book_dir, sizeof book_dir, "%s/book", tmp);
    snprintf(out_dir, sizeof out_dir, "%s/out", tmp);
    rt_run_staging_path(out_dir, staging, sizeof staging);
    make_book(book_dir);
    static const char *const names[3] = {"part-1.csv", "part-2.csv", "read-fault.csv"};
    for (int i = 0; i < 3; i++) {
        snprintf(inputs[i], sizeof inputs[i], "%s/%s", tmp, names[i]);
        rt_test_write(tmp, names[i], "(the test reader makes its records)\n");
    }
    rt_buf_init(&captured);
    plan_calls = encodes_before_plan = encodes = 0;
    wfault = W_NONE;
    hold_detail = published_before_detail = false;
    scan_mode = RT_ID_SCAN_AUTO;
    opens = changing_opens = 0;
}

static void teardown(void)
{
    rt_buf_free(&captured);
    rt_test_rmtree(tmp);
}

TestSuite(run, .init = setup, .fini = teardown);

static rt_run_config config(const char *const *paths, size_t n, unsigned threads)
{
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.book_dir = book_dir;
    cfg.period = "2026-10";
    cfg.usage_paths = paths;
    cfg.usage_count = n;
    cfg.out_dir = out_dir;
    cfg.threads = threads;
    cfg.late = RT_LATE_BILL;
    cfg.open_usage = mem_open;
    cfg.outputs = &cap_ops;
    cfg.id_scan = scan_mode;
    return cfg;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Nothing of a failed run may remain: no output, no staging directory, no registry record. */
/* The names in BOOK_DIR/billed, sorted and joined by spaces ("" when it has none). */
static void billed_files(char *buf, size_t n)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/billed", book_dir);
    buf[0] = '\0';
    struct dirent **names;
    int count = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < count; i++) {
        if (names[i]->d_name[0] != '.') {
            size_t at = strlen(buf);
            snprintf(buf + at, n - at, "%s%s", at ? " " : "", names[i]->d_name);
        }
        free(names[i]);
    }
    if (count >= 0) free(names);
}

static void assert_no_trace(void)
{
    cr_assert_not(exists(out_dir), "the output directory appeared");
    cr_assert_not(exists(staging), "the staging directory was left behind");
    char billed[256];
    billed_files(billed, sizeof billed);
    cr_assert_str_eq(billed, "", "no billed-events file, pending or published, is left");
    rt_store *s;
    rt_error err;
    cr_assert_eq(rt_store_open(book_dir, false, &s, &err), RT_OK);
    uint64_t run;
    cr_assert_eq(rt_registry_find_period(s, "2026-10", &run, &err), RT_ENOTFOUND);
    rt_run_record rec;
    cr_assert_eq(rt_registry_get_run(s, 1, &rec, &err), RT_ENOTFOUND);
    rt_registry_txn *t;
    cr_assert_eq(rt_registry_begin(s, &t, &err), RT_OK);
    uint64_t first;
    cr_assert_eq(rt_registry_take_numbers(t, "T-", 0, &first, &err), RT_OK);
    cr_assert_eq(first, 1, "no invoice number was consumed");
    rt_registry_abort(t);
    rt_store_close(s);
}

static void progress(void *ctx, const rt_run_progress *p)
{
    uint64_t *last = ctx;
    /* The test reader's sizes are not its files' (bytes_total is from stat): only the
     * record count is checked. */
    cr_assert_geq(p->records, *last, "progress never goes back");
    *last = p->records;
}

/* ---- tests ---- */

Test(run, read_equals_rated_plus_rejected_plus_duplicate)
{
    const char *paths[2] = {inputs[0], inputs[1]};
    rt_run_config cfg = config(paths, 2, 2);
    uint64_t last = 0;
    cfg.progress = progress;
    cfg.progress_ctx = &last;
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s: %s", err.file, err.message);
    const rt_run_counts *c = &sum.counts;
    cr_assert_eq(c->read, 1000);
    cr_assert_eq(c->rated, 601);
    cr_assert_eq(c->rejected, 300);
    cr_assert_eq(c->duplicate, 99);
    cr_assert_eq(c->read, c->rated + c->rejected + c->duplicate);
    cr_assert_eq(c->by_reason[RT_REJ_UNKNOWN_ACCOUNT], 100);
    cr_assert_eq(c->by_reason[RT_REJ_BAD_TIME], 100);
    cr_assert_eq(c->by_reason[RT_REJ_NO_CHARGE], 100);
    cr_assert_eq(c->late, 0);
    cr_assert_eq(last, 1000, "the last progress report saw every record");
    /* Every step of read .. output took some thread time; the test reader decompresses
     * nothing. */
    const rt_stage_times *tt = &sum.times;
    cr_assert_eq(tt->thread_ns.decompress, 0);
    cr_assert(tt->thread_ns.parse > 0 && tt->thread_ns.rate > 0 && tt->thread_ns.aggregate > 0 &&
              tt->thread_ns.encode > 0 && tt->thread_ns.write > 0);
    cr_assert_eq(sum.run_no, 1);
    cr_assert_eq(sum.invoices, 2);
    cr_assert_str_eq(sum.first_invoice, "T-000001");
    cr_assert_str_eq(sum.last_invoice, "T-000002");
    cr_assert_eq(sum.total_count, 1);
    cr_assert_str_eq(sum.totals[0].currency, "EUR");
    cr_assert_eq(sum.totals[0].net_minor, 6203);
    cr_assert_eq(sum.totals[0].tax_minor, 517);
    cr_assert_eq(sum.totals[0].gross_minor, 6720);
    cr_assert(sum.journal_debit_minor == 6720 && sum.journal_credit_minor == 6720);
    cr_assert_eq(sum.journal_lines, 10, "2 x (receivable, 2 revenue accounts, 2 VAT rates)");

    /* The writer was told of the run's size once, before any chunk was encoded. */
    cr_assert_eq(plan_calls, 1);
    cr_assert_eq(encodes_before_plan, 0);
    cr_assert_geq(plan_views, 1);
    cr_assert(plan_records >= 1 && plan_records <= 10000, "estimate %" PRIu64, plan_records);

    rt_buf_putc(&captured, '\0');
    const char *log = captured.data;
    cr_assert(strstr(log, "invoice T-000001 acct=0 net=3103 tax=259 gross=3362 events=301\n"),
              "%s", log);
    cr_assert(strstr(log, "invoice T-000002 acct=1 net=3100 tax=258 gross=3358 events=300\n"));
    /* The first occurrence of an id is billed, the later one (in the next file) is not. */
    cr_assert(strstr(log, "part-1.csv:600 E599 acct=1 charge=6 amount=30000000\n"), "%s", log);
    cr_assert(strstr(log, "part-2.csv:1 E599 acct=0 charge=6 amount=30000000 duplicate\n"),
              "the repeat (an A1 call under the same id) is marked, not billed");
    cr_assert(strstr(log, "reject "), "rejects reach the writer");
    cr_assert_eq(rt_test_count_lines(log, "rated "), 700);
    cr_assert_eq(rt_test_count_lines(log, "reject "), 300);

    /* Committed: the output directory is published, its staging name gone, the run recorded. */
    cr_assert(exists(out_dir));
    cr_assert_not(exists(staging));
    char marker[600];
    snprintf(marker, sizeof marker, "%s/.ratel-run", out_dir);
    cr_assert_not(exists(marker));
    rt_store *s;
    cr_assert_eq(rt_store_open(book_dir, false, &s, &err), RT_OK);
    rt_run_record rec;
    cr_assert_eq(rt_registry_get_run(s, 1, &rec, &err), RT_OK);
    cr_assert(rec.read == 1000 && rec.rated == 601 && rec.rejected == 300 && rec.duplicate == 99);
    cr_assert_eq(rec.manifest_xxh64, 0xabc);
    cr_assert_eq(rec.input_count, 2);
    cr_assert_eq(rec.inputs[0].info.records, 600);
    cr_assert_eq(rec.inputs[1].info.records, 400);
    cr_assert_eq(rec.inputs[1].info.xxh64, 0x5eed);
    rt_run_record_free(&rec);
    rt_store_close(s);
}

/* Run inputs with `threads` into a fresh book and output (under tmp/name); return the
 * captured log. */
static char *run_inputs(const char *const *paths, size_t n, unsigned threads, const char *name,
                        rt_run_summary *sum)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    cr_assert_eq(rt_test_sh("mkdir '%s'", dir), 0);
    snprintf(book_dir, sizeof book_dir, "%s/book", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    make_book(book_dir);
    rt_run_config cfg = config(paths, n, threads);
    rt_error err;
    rt_buf_reset(&captured);
    cr_assert_eq(rt_run_execute(&cfg, sum, &err), RT_OK, "%s", err.message);
    rt_buf_putc(&captured, '\0');
    return strdup(captured.data);
}

/* The data set with `threads`. */
static char *run_with(unsigned threads, const char *name)
{
    const char *paths[2] = {inputs[0], inputs[1]};
    rt_run_summary sum;
    return run_inputs(paths, 2, threads, name, &sum);
}

Test(run, one_thread_and_three_give_identical_results)
{
    char *one = run_with(1, "t1");
    char *three = run_with(3, "t3");
    cr_assert_str_eq(one, three);
    cr_assert(strstr(one, "run 1 2026-10 read=1000 rated=601 rejected=300 duplicate=99\n"), "%s",
              one);
    free(one);
    free(three);
}

Test(run, a_smaller_openmp_team_than_asked_for_gives_the_same_results)
{
    /* Inside an active parallel region, with one active level allowed, every parallel region
     * of the run gets a team of one thread whatever it asks for: each range of accounts must
     * still be aggregated, by the threads there are. */
    char *three = run_with(3, "t3");
    char *alone = NULL;
    int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(1);
#pragma omp parallel num_threads(2)
    {
#pragma omp single
        alone = run_with(3, "t3-alone");
    }
    omp_set_max_active_levels(levels);
    cr_assert_str_eq(three, alone);
    free(three);
    free(alone);
}

/* The ids read ahead of rating (the in-run set then holds only ids seen twice) change nothing
 * the run writes: not the log, not the billed-events file. */
Test(run, the_id_scan_changes_nothing_written)
{
    char *logs[4];
    char *billed[4];
    size_t lens[4];
    static const char *const names[4] = {"off1", "on1", "off3", "on3"};
    for (int k = 0; k < 4; k++) {
        scan_mode = k % 2 ? RT_ID_SCAN_ON : RT_ID_SCAN_OFF;
        opens = 0;
        logs[k] = run_with(k < 2 ? 1 : 3, names[k]);
        cr_assert_eq(opens, k % 2 ? 4 : 2, "each input opened once more for the scan");
        char path[600];
        snprintf(path, sizeof path, "%s/billed/1.fps", book_dir);
        billed[k] = rt_test_read(path, &lens[k]);
        cr_assert_not_null(billed[k]);
        cr_assert_eq(lens[k], 16 + 601 * 16 + 8, "every billed event once");
    }
    for (int k = 1; k < 4; k++) {
        cr_assert_str_eq(logs[k], logs[0], "%s", names[k]);
        cr_assert(lens[k] == lens[0] && memcmp(billed[k], billed[0], lens[0]) == 0, "%s",
                  names[k]);
    }
    cr_assert(strstr(logs[0], "run 1 2026-10 read=1000 rated=601 rejected=300 duplicate=99\n"));
    for (int k = 0; k < 4; k++) {
        free(logs[k]);
        free(billed[k]);
    }
}

/* An id whose first record is rejected (unknown account) is billed at its next record: the
 * scan saw it twice, rating once. */
Test(run, an_id_first_rejected_is_billed_at_its_next_record_with_or_without_the_scan)
{
    char path[400];
    snprintf(path, sizeof path, "%s/reject-first.csv", tmp);
    rt_test_write(tmp, "reject-first.csv", "x\n");
    const char *paths[1] = {path};
    for (int k = 0; k < 2; k++) {
        scan_mode = k ? RT_ID_SCAN_ON : RT_ID_SCAN_OFF;
        rt_run_summary sum;
        char *log = run_inputs(paths, 1, 2, k ? "rf-scan" : "rf", &sum);
        /* 1000 records: R0..R249 rejected then billed, D0..D249 billed then repeated. */
        cr_assert_eq(sum.counts.read, 1000);
        cr_assert_eq(sum.counts.rejected, 250);
        cr_assert_eq(sum.counts.rated, 500);
        cr_assert_eq(sum.counts.duplicate, 250);
        cr_assert(strstr(log, "reject-first.csv:2 R0 acct=0 charge=6 amount=30000000\n"), "%s",
                  log);
        cr_assert(strstr(log, "reject-first.csv:4 D0 acct=0 charge=6 amount=30000000 duplicate\n"));
        free(log);
    }
}

/* The scan reads each input once more: a file that is not the same the second time fails the
 * run, which leaves nothing behind. */
Test(run, a_usage_file_that_changes_between_the_scan_and_rating_fails_the_run)
{
    char path[400];
    snprintf(path, sizeof path, "%s/changing.csv", tmp);
    rt_test_write(tmp, "changing.csv", "x\n");
    const char *paths[2] = {inputs[0], path};
    scan_mode = RT_ID_SCAN_ON;
    rt_run_config cfg = config(paths, 2, 2);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_EIO);
    cr_assert_str_eq(err.file, path);
    cr_assert_str_eq(err.message, "the file changed while the run read it");
    assert_no_trace();
}

/* An input that cannot be read twice (a pipe) is not scanned: every id goes to the set. */
Test(run, an_input_that_is_not_a_regular_file_is_not_scanned)
{
    char fifo[400];
    snprintf(fifo, sizeof fifo, "%s/part-1.pipe", tmp);
    cr_assert_eq(rt_test_sh("mkfifo '%s'", fifo), 0);
    const char *paths[2] = {fifo, inputs[1]};
    scan_mode = RT_ID_SCAN_ON;
    rt_run_config cfg = config(paths, 2, 2);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s", err.message);
    cr_assert_eq(opens, 2, "no input was opened for a scan");
    cr_assert_eq(sum.counts.duplicate, 99);
}

/* --id-scan auto counts on the machine's memory or a lower cgroup limit (v2 memory.max or v1
 * memory.limit_in_bytes, on the process's group or an ancestor). */
Test(run, the_memory_a_run_counts_on_is_the_lowest_cgroup_limit)
{
    const uint64_t phys = UINT64_C(24) << 30;
    char proc[400], fs[400];
    snprintf(proc, sizeof proc, "%s/cgroup", tmp);
    snprintf(fs, sizeof fs, "%s/fs", tmp);
    cr_assert_eq(rt_run_memory_limit(proc, fs, phys), phys, "no /proc/self/cgroup: no limit");

    /* v2: the group says max, its parent 1 GiB, the root nothing. */
    cr_assert_eq(rt_test_sh("mkdir -p '%s/a/b' && printf 'max\\n' > '%s/a/b/memory.max' && "
                            "printf '1073741824\\n' > '%s/a/memory.max'", fs, fs, fs), 0);
    rt_test_write(tmp, "cgroup", "0::/a/b\n");
    cr_assert_eq(rt_run_memory_limit(proc, fs, phys), UINT64_C(1) << 30);
    cr_assert_eq(rt_run_memory_limit(proc, fs, 1000), 1000, "a smaller machine wins");
    /* The root's own limit counts too; a file that is no number is no limit. */
    cr_assert_eq(rt_test_sh("printf '536870912\\n' > '%s/memory.max' && "
                            "printf '12abc\\n' > '%s/a/memory.max'", fs, fs), 0);
    cr_assert_eq(rt_run_memory_limit(proc, fs, phys), UINT64_C(512) << 20);

    /* v1: the memory controller's line; an unlimited group (a page-rounded INT64_MAX). */
    cr_assert_eq(rt_test_sh("mkdir -p '%s/memory/x' && printf '9223372036854771712\\n' > "
                            "'%s/memory/x/memory.limit_in_bytes'", fs, fs), 0);
    rt_test_write(tmp, "cgroup", "9:name=systemd:/\n4:memory:/x\n1:cpu:/\n");
    cr_assert_eq(rt_run_memory_limit(proc, fs, phys), phys);
    cr_assert_eq(rt_test_sh("printf '2147483648\\n' > '%s/memory/memory.limit_in_bytes'", fs), 0);
    cr_assert_eq(rt_run_memory_limit(proc, fs, phys), UINT64_C(2) << 30);
}

Test(run, a_failing_output_writer_leaves_no_trace)
{
    const char *paths[2] = {inputs[0], inputs[1]};
    rt_run_config cfg = config(paths, 2, 2);
    rt_run_summary sum;
    rt_error err;
    wfault = W_DISK_FULL_IN_WRITE;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_EIO);
    cr_assert_str_eq(err.message, "write: No space left on device");
    assert_no_trace();
    /* And the same when the disk fills while the invoices are written. */
    wfault = W_DISK_FULL_IN_FINISH;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_EIO);
    cr_assert(strstr(err.file, "invoices.csv"), "%s", err.file);
    assert_no_trace();
    /* The book still bills the period afterwards. */
    wfault = W_NONE;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s", err.message);
    cr_assert_str_eq(sum.first_invoice, "T-000001");
    char billed[256];
    billed_files(billed, sizeof billed);
    cr_assert_str_eq(billed, "1.fps", "the pending file was published as the run's");
}

/* With 2 threads the registry's side of the commit (the billed events, the invoices in
 * effect) runs beside the writer, but only once the writer says the usage detail is written:
 * their memory must not add up. */
Test(run, the_registry_waits_for_the_usage_detail)
{
    const char *paths[2] = {inputs[0], inputs[1]};
    rt_run_config cfg = config(paths, 2, 2);
    rt_run_summary sum;
    rt_error err;
    hold_detail = true;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s", err.message);
    cr_assert_not(published_before_detail, "the registry's work started before the signal");
    char billed[256];
    billed_files(billed, sizeof billed);
    cr_assert_str_eq(billed, "1.fps", "published once the writer let it");
}

Test(run, a_reader_error_mid_file_fails_the_run_cleanly)
{
    const char *paths[2] = {inputs[0], inputs[2]};
    rt_run_config cfg = config(paths, 2, 2);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_EIO);
    cr_assert_str_eq(err.file, inputs[2], "the error names the input");
    cr_assert_str_eq(err.message, "read: Input/output error");
    assert_no_trace();
}

Test(run, a_broken_parser_fails_the_run_cleanly)
{
    char path[400];
    snprintf(path, sizeof path, "%s/parse-fault.csv", tmp);
    rt_test_write(tmp, "parse-fault.csv", "x\n");
    const char *paths[1] = {path};
    rt_run_config cfg = config(paths, 1, 3);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_ECORRUPT);
    cr_assert_str_eq(err.message, "the reader is broken");
    cr_assert_str_eq(err.file, path, "the run names the input when the reader did not");
    assert_no_trace();
}

Test(run, a_run_that_bills_nothing)
{
    /* Every record rejected: the run still commits, with no invoice and no number taken. */
    char path[600];
    snprintf(path, sizeof path, "%s/rejects-only.csv", tmp);
    rt_test_write(tmp, "rejects-only.csv", "x\n");
    const char *paths[1] = {path};
    rt_run_config cfg = config(paths, 1, 2);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s", err.message);
    cr_assert(sum.counts.read == 1000 && sum.counts.rejected == 1000 && sum.counts.rated == 0);
    cr_assert_eq(sum.invoices, 0);
    cr_assert_str_eq(sum.first_invoice, "");
    cr_assert_eq(sum.total_count, 0);
    cr_assert_eq(sum.journal_lines, 0);
    cr_assert(exists(out_dir));
}

Test(run, refusals_before_any_work)
{
    const char *paths[1] = {inputs[0]};
    rt_run_config cfg = config(paths, 1, 1);
    rt_run_summary sum;
    rt_error err;
    cfg.period = "2026-13";
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_EINVAL);
    cfg.period = "2026-10";
    const char *missing[1] = {"/nonexistent/usage.csv"};
    cfg.usage_paths = missing;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_ENOTFOUND);
    cr_assert_str_eq(err.file, "/nonexistent/usage.csv");
    assert_no_trace();
    cfg.usage_paths = paths;
    cfg.book_dir = tmp; /* no book there */
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_ENOTFOUND);
    cfg.book_dir = book_dir;
    cr_assert_eq(rt_test_sh("mkdir '%s'", out_dir), 0);
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_EEXIST, "an output is never overwritten");
    cr_assert_eq(rt_test_sh("rmdir '%s'", out_dir), 0);
    assert_no_trace();
}

Test(run, a_committed_period_needs_rerun)
{
    const char *paths[1] = {inputs[0]};
    rt_run_config cfg = config(paths, 1, 2);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK);
    snprintf(out_dir, sizeof out_dir, "%s/again", tmp);
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_ECOMMITTED);
    cr_assert(strstr(err.message, "run 1"), "%s", err.message);
    cr_assert_not(exists(out_dir));
    cfg.rerun = true;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s", err.message);
    cr_assert_eq(sum.run_no, 2);
    /* Nothing changed: every invoice stays in effect, no document is issued, no number used. */
    cr_assert_eq(sum.unchanged, 2, "both invoices of run 1 are carried unchanged");
    cr_assert_eq(sum.invoices, 0);
    cr_assert_eq(sum.credit_notes, 0);
    cr_assert_str_eq(sum.first_invoice, "", "no number taken: the series stays gap-free");
}

Test(run, staging_recovery)
{
    const char *paths[1] = {inputs[0]};
    rt_run_config cfg = config(paths, 1, 1);
    rt_run_summary sum;
    rt_error err;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK);
    rt_store *s;
    cr_assert_eq(rt_store_open(book_dir, false, &s, &err), RT_OK);
    bool rolled;
    /* A run killed after its commit but before its rename: finish the rename. */
    cr_assert_eq(rt_test_sh("mv '%s' '%s' && echo 'run 1' > '%s/.ratel-run'", out_dir, staging,
                            staging),
                 0);
    cr_assert_eq(rt_run_recover(s, out_dir, &rolled, &err), RT_OK);
    cr_assert(rolled);
    cr_assert(exists(out_dir));
    cr_assert_not(exists(staging));
    /* A run killed before its commit: its leftovers are removed. */
    char other[400];
    snprintf(other, sizeof other, "%s/other", tmp);
    rt_run_staging_path(other, staging, sizeof staging);
    cr_assert_eq(rt_test_sh("mkdir '%s' && echo 'run 7' > '%s/.ratel-run'", staging, staging), 0);
    cr_assert_eq(rt_run_recover(s, other, &rolled, &err), RT_OK);
    cr_assert_not(rolled);
    cr_assert_not(exists(staging));
    cr_assert_not(exists(other));
    /* Nothing to do. */
    cr_assert_eq(rt_run_recover(s, other, &rolled, &err), RT_OK);
    cr_assert_not(rolled);
    rt_store_close(s);
}

Test(run, staging_path)
{
    char buf[64];
    rt_run_staging_path("out", buf, sizeof buf);
    cr_assert_str_eq(buf, "out.staging");
    rt_run_staging_path("/srv/runs/2026-10/", buf, sizeof buf);
    cr_assert_str_eq(buf, "/srv/runs/2026-10.staging");
}

/* An order reader that reads nothing but says it was called. */
static int orders_read_calls;
static rt_status count_order_read(const char *path, uint32_t source, rt_order_book *ob,
                                  rt_input_info *info, rt_error *err)
{
    (void)path, (void)source, (void)ob, (void)err;
    __atomic_add_fetch(&orders_read_calls, 1, __ATOMIC_SEQ_CST);
    memset(info, 0, sizeof *info);
    return RT_OK;
}

Test(run, a_run_failing_while_the_orders_thread_waits_for_the_catalog_stops_it)
{
    /* The orders thread starts before the price book loads and waits for the catalog; a book
     * directory with nothing imported fails the load, and the run must return (not wait for
     * ever) with the load's error, leaving no trace. */
    char empty[600];
    snprintf(empty, sizeof empty, "%s/empty-book", tmp);
    rt_store *s;
    rt_error err;
    cr_assert_eq(rt_store_open(empty, true, &s, &err), RT_OK);
    rt_store_close(s);
    const char *paths[1] = {inputs[0]};
    const char *orders[1] = {"orders.csv"};
    rt_run_config cfg = config(paths, 1, 2);
    cfg.book_dir = empty;
    cfg.order_paths = orders;
    cfg.order_count = 1;
    cfg.read_orders = count_order_read;
    orders_read_calls = 0;
    rt_run_summary sum;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_ENOTFOUND, "%s", err.message);
    cr_assert_leq(orders_read_calls, 1);
    cr_assert_not(exists(out_dir));
    /* The same with the book in place bills the (empty) orders and commits. */
    cfg.book_dir = book_dir;
    orders_read_calls = 0;
    cr_assert_eq(rt_run_execute(&cfg, &sum, &err), RT_OK, "%s", err.message);
    cr_assert_eq(orders_read_calls, 1);
    cr_assert_eq(sum.counts.order_lines, 0);
}

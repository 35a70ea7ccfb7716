/* test_registry: run numbers, the per-period index, gap-free number series per prefix, the
 * all-or-nothing commit transaction, the run record's round trip through LMDB, and stored
 * invoices (compressed, read back as they were; content of older books; damaged frames). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"
#include "testutil.h"

static char tmp[256];
static rt_store *store;

static void setup(void)
{
    rt_test_tmpdir(tmp, sizeof tmp);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/book", tmp);
    rt_error err;
    cr_assert_eq(rt_store_open(dir, true, &store, &err), RT_OK);
}
static void teardown(void)
{
    rt_store_close(store);
    rt_test_rmtree(tmp);
}
TestSuite(registry, .init = setup, .fini = teardown);

static rt_registry_txn *begin(void)
{
    rt_registry_txn *t;
    rt_error err;
    cr_assert_eq(rt_registry_begin(store, &t, &err), RT_OK, "%s", err.message);
    return t;
}

static void commit(rt_registry_txn *t)
{
    rt_error err;
    cr_assert_eq(rt_registry_commit(t, &err), RT_OK, "%s", err.message);
}

static void record(rt_registry_txn *t, uint64_t run_no, const char *period)
{
    rt_run_record r;
    memset(&r, 0, sizeof r);
    r.run_no = run_no;
    snprintf(r.period, sizeof r.period, "%s", period);
    rt_error err;
    cr_assert_eq(rt_registry_put_run(t, &r, &err), RT_OK, "%s", err.message);
}

static uint64_t next_run(rt_registry_txn *t)
{
    uint64_t n = 0;
    rt_error err;
    cr_assert_eq(rt_registry_next_run_no(t, &n, &err), RT_OK);
    return n;
}

static uint64_t take(rt_registry_txn *t, const char *series, uint64_t count)
{
    uint64_t first = 0;
    rt_error err;
    cr_assert_eq(rt_registry_take_numbers(t, series, count, &first, &err), RT_OK);
    return first;
}

static rt_status last_of(rt_registry_txn *t, const char *period, uint64_t *run)
{
    rt_error err;
    return rt_registry_period_last_run(t, period, run, &err);
}

Test(registry, run_numbers)
{
    rt_registry_txn *t = begin();
    cr_assert_eq(next_run(t), 1);
    record(t, 1, "2026-10");
    cr_assert_eq(next_run(t), 2, "visible inside the transaction that wrote it");
    commit(t);
    t = begin();
    cr_assert_eq(next_run(t), 2);
    record(t, 2, "2026-11");
    commit(t);
    t = begin();
    cr_assert_eq(next_run(t), 3);
    rt_error err;
    rt_run_record dup;
    memset(&dup, 0, sizeof dup);
    dup.run_no = 2;
    memcpy(dup.period, "2026-12", 8);
    cr_assert_eq(rt_registry_put_run(t, &dup, &err), RT_EEXIST);
    rt_registry_abort(t);
}

Test(registry, period_index)
{
    rt_registry_txn *t = begin();
    uint64_t run;
    cr_assert_eq(last_of(t, "2026-10", &run), RT_ENOTFOUND, "nothing billed yet");
    record(t, 3, "2026-10");
    record(t, 4, "2026-11");
    record(t, 256, "2026-10"); /* a rerun; 256 tests big-endian order against 3 */
    record(t, 257, "2026-09");
    cr_assert_eq(last_of(t, "2026-10", &run), RT_OK);
    cr_assert_eq(run, 256);
    commit(t);

    t = begin();
    cr_assert_eq(last_of(t, "2026-11", &run), RT_OK);
    cr_assert_eq(run, 4);
    cr_assert_eq(last_of(t, "2026-09", &run), RT_OK);
    cr_assert_eq(run, 257);
    cr_assert_eq(last_of(t, "2026-08", &run), RT_ENOTFOUND, "before every period");
    cr_assert_eq(last_of(t, "2026-12", &run), RT_ENOTFOUND, "after every period");
    cr_assert_eq(last_of(t, "2025-10", &run), RT_ENOTFOUND);
    rt_registry_abort(t);

    rt_error err;
    cr_assert_eq(rt_registry_find_period(store, "2026-10", &run, &err), RT_OK);
    cr_assert_eq(run, 256);
    cr_assert_eq(rt_registry_find_period(store, "2027-01", &run, &err), RT_ENOTFOUND);
}

Test(registry, read_helpers_on_a_store_without_runs)
{
    uint64_t run;
    rt_error err;
    cr_assert_eq(rt_registry_find_period(store, "2026-10", &run, &err), RT_ENOTFOUND);
    rt_run_record r;
    cr_assert_eq(rt_registry_get_run(store, 1, &r, &err), RT_ENOTFOUND);
}

Test(registry, number_series_are_gap_free_and_independent)
{
    rt_registry_txn *t = begin();
    cr_assert_eq(take(t, "INV-2026-", 3), 1);
    cr_assert_eq(take(t, "INV-2026-", 2), 4);
    cr_assert_eq(take(t, "CN-2026-", 1), 1, "each prefix has its own series");
    cr_assert_eq(take(t, "INV-2026", 1), 1, "a prefix of a prefix is another series");
    commit(t);
    t = begin();
    cr_assert_eq(take(t, "INV-2026-", 0), 6, "asking for none shows the next number");
    cr_assert_eq(take(t, "INV-2026-", 1), 6, "and takes nothing");
    cr_assert_eq(take(t, "CN-2026-", 10), 2);
    commit(t);
    t = begin();
    cr_assert_eq(take(t, "INV-2026-", 1), 7);
    cr_assert_eq(take(t, "CN-2026-", 1), 12);
    rt_registry_abort(t);
}

Test(registry, an_aborted_transaction_consumes_nothing)
{
    rt_registry_txn *t = begin();
    cr_assert_eq(take(t, "INV-", 5), 1);
    commit(t);
    t = begin();
    cr_assert_eq(take(t, "INV-", 40), 6);
    record(t, 1, "2026-10");
    rt_registry_abort(t);
    t = begin();
    cr_assert_eq(take(t, "INV-", 1), 6, "the 40 numbers were never issued");
    cr_assert_eq(next_run(t), 1, "the run was never recorded");
    uint64_t run;
    cr_assert_eq(last_of(t, "2026-10", &run), RT_ENOTFOUND);
    commit(t);
    rt_registry_abort(NULL);
}

Test(registry, run_record_round_trip)
{
    rt_run_record r;
    memset(&r, 0, sizeof r);
    r.run_no = 7;
    memcpy(r.period, "2026-10", 8);
    r.flags = RT_RUN_FLAG_RERUN;
    r.book_fingerprint = UINT64_C(0x89b7bfe06eddf163);
    r.book_version = 12;
    r.read = 3732;
    r.rated = 3713;
    r.rejected = 10;
    r.duplicate = 9;
    r.invoices = 33;
    snprintf(r.first_invoice, sizeof r.first_invoice, "LT-2026-000001");
    snprintf(r.last_invoice, sizeof r.last_invoice, "LT-2026-000033");
    r.manifest_xxh64 = UINT64_MAX;
    snprintf(r.out_dir, sizeof r.out_dir, "/srv/billing/2026-10 (rerun)");
    rt_run_input inputs[2] = {
        {"usage-voice.csv.zst", RT_INPUT_USAGE, {36867, UINT64_C(0xe68e45f1a3bcd2e4), 2412}},
        {"d\xc3\xa9j\xc3\xa0/other,\"x\".csv", RT_INPUT_ORDERS, {0, 0, 0}},
    };
    r.inputs = inputs;
    r.input_count = 2;
    r.total_count = 2;
    r.totals[0] = (rt_currency_total){"EUR", 33, 29991, 5993, 35984};
    r.totals[1] = (rt_currency_total){"JPY", 1, -500, -100, -600};
    rt_registry_txn *t = begin();
    rt_error err;
    cr_assert_eq(rt_registry_put_run(t, &r, &err), RT_OK);
    commit(t);

    rt_run_record g;
    cr_assert_eq(rt_registry_get_run(store, 7, &g, &err), RT_OK, "%s", err.message);
    cr_assert_eq(g.run_no, 7);
    cr_assert_str_eq(g.period, "2026-10");
    cr_assert_eq(g.flags, RT_RUN_FLAG_RERUN);
    cr_assert_eq(g.book_fingerprint, r.book_fingerprint);
    cr_assert_eq(g.book_version, 12);
    cr_assert(g.read == 3732 && g.rated == 3713 && g.rejected == 10 && g.duplicate == 9);
    cr_assert_eq(g.invoices, 33);
    cr_assert_str_eq(g.first_invoice, "LT-2026-000001");
    cr_assert_str_eq(g.last_invoice, "LT-2026-000033");
    cr_assert_eq(g.manifest_xxh64, UINT64_MAX);
    cr_assert_str_eq(g.out_dir, r.out_dir);
    cr_assert_eq(g.input_count, 2);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_str_eq(g.inputs[i].path, inputs[i].path);
        cr_assert_eq(g.inputs[i].info.bytes, inputs[i].info.bytes);
        cr_assert_eq(g.inputs[i].info.xxh64, inputs[i].info.xxh64);
        cr_assert_eq(g.inputs[i].info.records, inputs[i].info.records);
    }
    cr_assert_eq(g.total_count, 2);
    cr_assert_str_eq(g.totals[0].currency, "EUR");
    cr_assert(g.totals[0].invoices == 33 && g.totals[0].net_minor == 29991 &&
              g.totals[0].tax_minor == 5993 && g.totals[0].gross_minor == 35984);
    cr_assert_str_eq(g.totals[1].currency, "JPY");
    cr_assert(g.totals[1].net_minor == -500 && g.totals[1].gross_minor == -600);
    rt_run_record_free(&g);
    cr_assert_null(g.inputs);
    cr_assert_eq(rt_registry_get_run(store, 8, &g, &err), RT_ENOTFOUND);
}

/* What each_invoice hands over, concatenated: "account number len content|". */
static rt_status gather(void *ctx, const char *account_id, const char *number, const void *content,
                        size_t len)
{
    rt_buf *b = ctx;
    rt_buf_printf(b, "%s %s %zu ", account_id, number, len);
    rt_buf_append(b, content, len);
    rt_buf_putc(b, '|');
    return RT_OK;
}

/* Invoices to store: account "ACC-nnnnn" (in order), number "INV-n", content of i + 1 bytes
 * (a format byte, then a pattern), unless `out_of_order` names an index given too early. */
typedef struct src_state {
    size_t out_of_order;
    char account[32], number[32];
    unsigned char content[400];
} src_state;

static rt_status make_invoice(void *ctx, size_t i, const char **account, const char **number,
                              const void **content, size_t *len, rt_error *err)
{
    (void)err;
    src_state *x = ctx;
    size_t k = i == x->out_of_order ? i - 2 : i;
    snprintf(x->account, sizeof x->account, "ACC-%05zu", k);
    snprintf(x->number, sizeof x->number, "INV-%zu", k);
    x->content[0] = 1;
    for (size_t j = 1; j < sizeof x->content; j++)
        x->content[j] = (unsigned char)("abcdefg"[j % 7] + k % 3);
    *account = x->account;
    *number = x->number;
    *content = x->content;
    *len = (k % 300) + 1;
    return RT_OK;
}

Test(registry, invoices_are_stored_in_blocks_and_read_back_in_order)
{
    /* 150 invoices: two full blocks and one of 22. */
    src_state x = {.out_of_order = SIZE_MAX};
    rt_registry_txn *t = begin();
    rt_error err;
    cr_assert_eq(rt_registry_put_invoices(t, 7, 150, make_invoice, &x, &err), RT_OK, "%s",
                 err.message);
    /* A neighbouring run in the older single-entry form is not mixed in. */
    cr_assert_eq(rt_registry_put_invoice(t, 8, "ACC-00000", "OLD-1", "\001old", 4, &err), RT_OK);
    commit(t);
    rt_buf got, want;
    rt_buf_init(&got);
    rt_buf_init(&want);
    cr_assert_eq(rt_registry_each_invoice(store, 7, gather, &got, &err), RT_OK, "%s",
                 err.message);
    for (size_t i = 0; i < 150; i++) {
        const char *account, *number;
        const void *content;
        size_t len;
        make_invoice(&x, i, &account, &number, &content, &len, &err);
        rt_buf_printf(&want, "%s %s %zu ", account, number, len);
        rt_buf_append(&want, content, len);
        rt_buf_putc(&want, '|');
    }
    cr_assert_eq(got.len, want.len);
    cr_assert(memcmp(got.data, want.data, got.len) == 0);
    rt_buf_reset(&got);
    cr_assert_eq(rt_registry_each_invoice(store, 8, gather, &got, &err), RT_OK);
    rt_buf_putc(&got, '\0');
    cr_assert_str_eq(got.data, "ACC-00000 OLD-1 4 \001old|");

    /* Out of account id order: refused. */
    x.out_of_order = 70;
    t = begin();
    cr_assert_eq(rt_registry_put_invoices(t, 9, 100, make_invoice, &x, &err), RT_EINVAL);
    cr_assert(strstr(err.message, "not in account id order"), "%s", err.message);
    rt_registry_abort(t);
    rt_buf_free(&got);
    rt_buf_free(&want);
}

Test(registry, invoices_in_effect_are_held_as_stored_and_read_in_any_order)
{
    /* 150 invoices in three blocks, then a run in the older single-entry forms. */
    src_state x = {.out_of_order = SIZE_MAX};
    rt_registry_txn *t = begin();
    rt_error err;
    cr_assert_eq(rt_registry_put_invoices(t, 11, 150, make_invoice, &x, &err), RT_OK, "%s",
                 err.message);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_buf enc;
    rt_buf_init(&enc);
    cr_assert_eq(rt_registry_invoice_encode(cctx, "\001framed", 8, &enc), RT_OK);
    cr_assert_eq(rt_registry_put_invoice(t, 12, "ACC-1", "INV-1", enc.data, enc.len, &err), RT_OK);
    cr_assert_eq(rt_registry_put_invoice(t, 12, "ACC-2", "INV-2", "\001old", 4, &err), RT_OK);
    commit(t);

    rt_registry_invoices s;
    rt_registry_invoices_init(&s);
    cr_assert_eq(rt_registry_invoices_load(store, 11, &s, &err), RT_OK, "%s", err.message);
    cr_assert_eq(s.count, 150);
    cr_assert_eq(s.entry_count, 3, "one entry per block");
    size_t held = 0, contents = 0;
    for (size_t e = 0; e < s.entry_count; e++) held += s.entries[e].len;
    for (size_t i = 0; i < s.count; i++) contents += s.items[i].len;
    cr_assert_lt(held * 4, contents, "held compressed: %zu bytes for %zu", held, contents);
    /* Backwards, across the blocks: each content as it was stored. */
    rt_registry_invoice_reader r;
    rt_registry_invoice_reader_init(&r, &s);
    for (size_t i = s.count; i-- > 0;) {
        const char *account, *number;
        const void *want, *got;
        size_t want_len, got_len;
        make_invoice(&x, i, &account, &number, &want, &want_len, &err);
        cr_assert_str_eq(s.items[i].account_id, account);
        cr_assert_str_eq(s.items[i].number, number);
        cr_assert_eq(rt_registry_invoice_content(&r, i, &got, &got_len, &err), RT_OK);
        cr_assert_eq(got_len, want_len);
        cr_assert(memcmp(got, want, want_len) == 0, "invoice %zu", i);
        /* Recognised by its fingerprint, without decoding: the same bytes only. */
        cr_assert(rt_registry_invoice_same(&s.items[i], want, want_len));
        unsigned char other[400];
        memcpy(other, want, want_len);
        other[want_len - 1] ^= 1;
        cr_assert_not(rt_registry_invoice_same(&s.items[i], other, want_len));
        if (want_len > 1) cr_assert_not(rt_registry_invoice_same(&s.items[i], want, want_len - 1));
    }
    rt_registry_invoice_reader_free(&r);
    rt_registry_invoices_free(&s);

    rt_registry_invoices_init(&s);
    cr_assert_eq(rt_registry_invoices_load(store, 12, &s, &err), RT_OK, "%s", err.message);
    cr_assert_eq(s.count, 2);
    rt_registry_invoice_reader_init(&r, &s);
    const void *got;
    size_t len;
    cr_assert_eq(rt_registry_invoice_content(&r, 1, &got, &len, &err), RT_OK);
    cr_assert(len == 4 && memcmp(got, "\001old", 4) == 0);
    cr_assert_eq(rt_registry_invoice_content(&r, 0, &got, &len, &err), RT_OK);
    cr_assert(len == 8 && memcmp(got, "\001framed", 8) == 0);
    rt_registry_invoice_reader_free(&r);
    rt_registry_invoices_free(&s);
    rt_buf_free(&enc);
    ZSTD_freeCCtx(cctx);
}

Test(registry, a_damaged_block_is_reported)
{
    src_state x = {.out_of_order = SIZE_MAX};
    rt_registry_txn *t = begin();
    rt_error err;
    cr_assert_eq(rt_registry_put_invoices(t, 4, 10, make_invoice, &x, &err), RT_OK);
    commit(t);
    /* Flip a byte in the middle of the stored block, in place. */
    MDB_env *env = rt_store_env(store);
    MDB_txn *w;
    MDB_dbi dbi;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &w), 0);
    cr_assert_eq(mdb_dbi_open(w, "reg.invoices", 0, &dbi), 0);
    unsigned char key[9 + 9] = {0, 0, 0, 0, 0, 0, 0, 4, 0};
    memcpy(key + 9, "ACC-00000", 9);
    MDB_val k = {sizeof key, key}, v;
    cr_assert_eq(mdb_get(w, dbi, &k, &v), 0);
    unsigned char copy[4096];
    cr_assert_lt(v.mv_size, sizeof copy);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[v.mv_size / 2] ^= 0x55;
    MDB_val nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(w, dbi, &k, &nv, 0), 0);
    cr_assert_eq(mdb_txn_commit(w), 0);
    rt_buf got;
    rt_buf_init(&got);
    cr_assert_eq(rt_registry_each_invoice(store, 4, gather, &got, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "stored invoices from account ACC-00000 do not decode"), "%s",
              err.message);
    rt_buf_free(&got);
}

Test(registry, invoices_are_stored_compressed_and_read_back_as_they_were)
{
    /* Content as corrections packs it: a format byte, then repetitive text. */
    char big[4000];
    big[0] = 1;
    for (size_t i = 1; i < sizeof big; i++) big[i] = "PLAN-A CHARGE-VOICE product"[i % 27];
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    rt_buf enc;
    rt_buf_init(&enc);
    cr_assert_eq(rt_registry_invoice_encode(cctx, big, sizeof big, &enc), RT_OK);
    cr_assert_lt(enc.len, sizeof big / 4, "%zu bytes", enc.len);
    size_t big_len = enc.len;
    cr_assert_eq(rt_registry_invoice_encode(cctx, "\001x", 2, &enc), RT_OK);
    rt_registry_txn *t = begin();
    rt_error err;
    cr_assert_eq(rt_registry_put_invoice(t, 3, "ACC-1", "INV-1", enc.data, big_len, &err), RT_OK);
    cr_assert_eq(rt_registry_put_invoice(t, 3, "ACC-2", "INV-2", enc.data + big_len,
                                         enc.len - big_len, &err),
                 RT_OK);
    /* Content stored as it is, as books written before compression hold it. */
    cr_assert_eq(rt_registry_put_invoice(t, 3, "ACC-3", "INV-3", "\001old", 4, &err), RT_OK);
    cr_assert_eq(rt_registry_put_invoice(t, 4, "ACC-1", "INV-9", "\001other run", 10, &err),
                 RT_OK);
    commit(t);
    rt_buf got, want;
    rt_buf_init(&got);
    rt_buf_init(&want);
    cr_assert_eq(rt_registry_each_invoice(store, 3, gather, &got, &err), RT_OK, "%s",
                 err.message);
    rt_buf_printf(&want, "ACC-1 INV-1 %zu ", sizeof big);
    rt_buf_append(&want, big, sizeof big);
    rt_buf_puts(&want, "|ACC-2 INV-2 2 \001x|ACC-3 INV-3 4 \001old|");
    cr_assert_eq(got.len, want.len);
    cr_assert(memcmp(got.data, want.data, got.len) == 0);

    /* A damaged frame is reported, not handed over: anywhere in the middle, and in its
     * checksum. */
    t = begin();
    enc.data[big_len / 2] ^= 0x55;
    cr_assert_eq(rt_registry_put_invoice(t, 5, "ACC-1", "INV-5", enc.data, big_len, &err), RT_OK);
    commit(t);
    rt_buf_reset(&got);
    cr_assert_eq(rt_registry_each_invoice(store, 5, gather, &got, &err), RT_ECORRUPT);
    cr_assert(strstr(err.message, "stored invoice INV-5 of account ACC-1 does not decode"), "%s",
              err.message);
    t = begin();
    enc.data[big_len / 2] ^= 0x55;
    enc.data[big_len - 1] ^= 0x01;
    cr_assert_eq(rt_registry_put_invoice(t, 6, "ACC-1", "INV-6", enc.data, big_len, &err), RT_OK);
    commit(t);
    cr_assert_eq(rt_registry_each_invoice(store, 6, gather, &got, &err), RT_ECORRUPT);
    rt_buf_free(&got);
    rt_buf_free(&want);
    rt_buf_free(&enc);
    ZSTD_freeCCtx(cctx);
}

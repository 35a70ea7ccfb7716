/* manifest: manifest.json writer and reader. */
#include "formats/manifest.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "formats/invoice_docs.h"
#include "formats/invoice_view.h"
#include "formats/outfile.h"
#include "formats/zio.h"

#ifndef RATEL_VERSION
#define RATEL_VERSION "0.0.0"
#endif

static void kv_u64(rt_buf *b, const char *indent, const char *k, uint64_t v, int comma)
{
    rt_buf_printf(b, "%s\"%s\": %" PRIu64 "%s\n", indent, k, v, comma ? "," : "");
}

static void kv_str(rt_buf *b, const char *indent, const char *k, const char *v, int comma)
{
    rt_buf_printf(b, "%s\"%s\": ", indent, k);
    rt_json_cstr(b, v);
    rt_buf_printf(b, "%s\n", comma ? "," : "");
}

/* Journal totals: debits and credits in the functional currency (the books'), and per
 * transaction currency the debit-side and credit-side sums of the lines' transaction amounts,
 * each of which balances on its own. */
static void write_journal_totals(rt_buf *b, const rt_run_result *res)
{
    const rt_journal *j = res->journal;
    const rt_journal_sums *sums = &j->sums;
    const rt_currency *fc = rt_currency_find(res->cat->company->functional_currency);
    RT_ASSERT(fc);
    /* bounded by checked invoice totals */
    RT_ASSERT(sums->debit_minor <= INT64_MAX && sums->credit_minor <= INT64_MAX);
    char ds[48], ks[48];
    rt_decimal_str((int64_t)sums->debit_minor, fc->minor_units, ds, sizeof ds);
    rt_decimal_str((int64_t)sums->credit_minor, fc->minor_units, ks, sizeof ks);
    rt_buf_printf(b,
                  "  \"journal\": {\"entries\": %" PRIu32 ", \"lines\": %zu, \"currency\": \"%s\", "
                  "\"debit\": \"%s\", \"credit\": \"%s\", \"by_currency\": [",
                  j->entries, j->count, fc->code, ds, ks);
    size_t shown = 0;
    for (size_t k = 0; k < RT_CURRENCY_COUNT; k++) { /* table rows are in code order */
        if (!sums->used[k]) continue;
        const rt_currency *c = rt_currency_at(k);
        RT_ASSERT(sums->txn_debit[k] <= INT64_MAX && sums->txn_credit[k] <= INT64_MAX);
        rt_decimal_str((int64_t)sums->txn_debit[k], c->minor_units, ds, sizeof ds);
        rt_decimal_str((int64_t)sums->txn_credit[k], c->minor_units, ks, sizeof ks);
        rt_buf_printf(b, "%s\n    {\"currency\": \"%s\", \"debit\": \"%s\", \"credit\": \"%s\"}",
                      shown++ ? "," : "", c->code, ds, ks);
    }
    rt_buf_puts(b, shown ? "\n  ]}\n" : "]}\n");
}

static void write_money_by_currency(rt_buf *b, const rt_run_result *res)
{
    rt_buf_puts(b, "  \"totals\": [");
    for (size_t i = 0; i < res->total_count; i++) {
        const rt_currency_total *t = &res->totals[i];
        const rt_currency *c = rt_currency_find(t->currency);
        char net[48], tax[48], gross[48];
        rt_decimal_str(t->net_minor, c->minor_units, net, sizeof net);
        rt_decimal_str(t->tax_minor, c->minor_units, tax, sizeof tax);
        rt_decimal_str(t->gross_minor, c->minor_units, gross, sizeof gross);
        rt_buf_printf(b,
                      "%s\n    {\"currency\": \"%s\", \"invoices\": %" PRIu64
                      ", \"net\": \"%s\", \"tax\": \"%s\", \"gross\": \"%s\"}",
                      i ? "," : "", t->currency, t->invoices, net, tax, gross);
    }
    rt_buf_puts(b, res->total_count ? "\n  ],\n" : "],\n");

    write_journal_totals(b, res);
}

static void output_entry(rt_buf *b, int first, const char *name, uint64_t bytes, uint64_t xxh64,
                         uint64_t rows)
{
    rt_buf_puts(b, first ? "\n    {\"name\": " : ",\n    {\"name\": ");
    rt_json_cstr(b, name);
    rt_buf_printf(b,
                  ", \"bytes\": %" PRIu64 ", \"xxh64\": \"%016" PRIx64 "\", \"rows\": %" PRIu64
                  "}",
                  bytes, xxh64, rows);
}

/* Every output of the run (the manifest itself excepted). */
static void write_outputs(rt_buf *b, const rt_output_list *files)
{
    rt_buf_puts(b, "  \"outputs\": [");
    for (size_t i = 0; i < files->count; i++) {
        const rt_output_file *o = &files->items[i];
        output_entry(b, i == 0, o->name, o->bytes, o->xxh64, o->rows);
    }
    rt_buf_puts(b, files->count ? "\n  ],\n" : "],\n");
}

/* Documents by type per archive: UBL documents = invoices + credit notes. */
static void write_documents(rt_buf *b, const rt_run_result *res, const rt_output_list *files)
{
    uint64_t credit = 0;
    for (size_t i = 0; i < res->invoices->count; i++)
        credit += res->invoices->items[i].type == RT_CREDIT_NOTE;
    rt_buf_puts(b, "  \"documents\": {");
    int first = 1;
    for (size_t i = 0; i < files->count; i++) {
        const char *name = files->items[i].name;
        if (strcmp(name, RT_DOCS_UBL) != 0 && strcmp(name, RT_DOCS_HTML) != 0) continue;
        rt_buf_printf(b, "%s\"%s\": {\"invoices\": %" PRIu64 ", \"credit_notes\": %" PRIu64 "}",
                      first ? "" : ", ", name, (uint64_t)res->invoices->count - credit, credit);
        first = 0;
    }
    rt_buf_puts(b, "},\n");
}

rt_status rt_manifest_write(const char *dir, const rt_run_result *res,
                            const rt_output_list *files, uint64_t *xxh64, rt_error *err)
{
    rt_outfile f;
    rt_status st = rt_outfile_open(&f, dir, RT_MANIFEST_NAME, 0, err);
    if (st != RT_OK) return st;
    rt_buf *b = &f.buf;
    char d1[16], d2[16];
    rt_date_format(res->period.start_day, d1, sizeof d1);
    rt_date_format(res->period.end_day, d2, sizeof d2);
    rt_buf_puts(b, "{\n");
    kv_str(b, "  ", "format", RT_MANIFEST_FORMAT, 1);
    kv_str(b, "  ", "ratel_version", RATEL_VERSION, 1);
    kv_u64(b, "  ", "run", res->run_no, 1);
    kv_str(b, "  ", "kind", res->accrual ? "accrual" : "billing", 1);
    kv_str(b, "  ", "period", res->period_text, 1);
    kv_str(b, "  ", "period_start", d1, 1);
    kv_str(b, "  ", "period_end", d2, 1);
    rt_buf_printf(b, "  \"rerun\": %s,\n", res->rerun ? "true" : "false");
    kv_str(b, "  ", "late_policy", res->late == RT_LATE_BILL ? "bill" : "reject", 1);
    rt_buf_printf(b, "  \"book\": {\"fingerprint\": \"%016" PRIx64 "\", \"version\": %" PRIu64 "},\n",
                  res->book.fingerprint, res->book.version);

    rt_buf_puts(b, "  \"inputs\": [");
    for (size_t i = 0; i < res->input_count; i++) {
        const rt_run_input *in = &res->inputs[i];
        rt_buf_puts(b, i ? ",\n    {\"kind\": " : "\n    {\"kind\": ");
        rt_json_cstr(b, in->kind == RT_INPUT_ORDERS ? "orders" : "usage");
        rt_buf_puts(b, ", \"path\": ");
        rt_json_cstr(b, in->path);
        rt_buf_printf(b, ", \"bytes\": %" PRIu64 ", \"xxh64\": \"%016" PRIx64 "\", \"records\": %" PRIu64 "}",
                      in->info.bytes, in->info.xxh64, in->info.records);
    }
    rt_buf_puts(b, res->input_count ? "\n  ],\n" : "],\n");

    write_outputs(b, files);
    write_documents(b, res, files);

    const rt_run_counts *c = &res->counts;
    rt_buf_printf(b,
                  "  \"counts\": {\"read\": %" PRIu64 ", \"rated\": %" PRIu64
                  ", \"rejected\": %" PRIu64 ", \"duplicate\": %" PRIu64 ", \"late\": %" PRIu64
                  "},\n",
                  c->read, c->rated, c->rejected, c->duplicate, c->late);
    rt_buf_printf(b, "  \"orders\": {\"lines\": %" PRIu64 ", \"used\": %" PRIu64
                     ", \"rejected\": %" PRIu64 "},\n",
                  c->order_lines, c->order_lines - c->order_rejected, c->order_rejected);
    rt_buf_puts(b, "  \"rejects_by_reason\": {");
    int first = 1;
    uint64_t by_reason[RT_REJ_REASON_COUNT_];
    memcpy(by_reason, c->by_reason, sizeof by_reason);
    for (size_t i = 0; res->orders && i < res->orders->reject_count; i++)
        by_reason[res->orders->rejects[i].reason]++;
    for (unsigned r = 1; r < RT_REJ_REASON_COUNT_; r++) {
        if (!by_reason[r]) continue;
        rt_buf_printf(b, "%s\"%s\": %" PRIu64, first ? "" : ", ",
                      rt_reject_reason_code((rt_reject_reason)r), by_reason[r]);
        first = 0;
    }
    rt_buf_puts(b, "},\n");
    const rt_invoice_set *inv = res->invoices;
    static const char *const kinds[2] = {"invoices", "credit_notes"};
    for (uint32_t type = 0; type < 2; type++) {
        const char *first_no = "", *last_no = "";
        size_t count = 0;
        for (size_t i = 0; i < inv->count; i++) {
            if (inv->items[i].type != type) continue;
            if (!count) first_no = inv->items[i].number;
            last_no = inv->items[i].number;
            count++;
        }
        rt_buf_printf(b, "  \"%s\": {\"count\": %zu, \"first\": ", kinds[type], count);
        rt_json_cstr(b, first_no);
        rt_buf_puts(b, ", \"last\": ");
        rt_json_cstr(b, last_no);
        rt_buf_puts(b, "},\n");
    }
    rt_buf_printf(b, "  \"corrects_run\": %" PRIu64 ", \"unchanged_invoices\": %" PRIu64 ",\n",
                  res->corrects_run, res->unchanged);
    write_money_by_currency(b, res);
    rt_buf_puts(b, "}\n");

    rt_output_file entry;
    if ((st = rt_outfile_close(&f, NULL, &entry, err)) != RT_OK) return st;
    *xxh64 = entry.xxh64;
    return RT_OK;
}

rt_status rt_manifest_read(const char *dir, rt_arena *arena, const rt_json **root, rt_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, RT_MANIFEST_NAME);
    rt_buf b;
    rt_buf_init(&b);
    rt_status st = rt_zio_slurp(path, &b, err);
    if (st == RT_OK) {
        size_t where = 0;
        rt_json *r;
        st = rt_json_parse(b.data ? b.data : "", b.len, arena, &r, &where);
        if (st != RT_OK)
            rt_error_set(err, st, path, 0, 0, NULL, "not valid JSON near byte %zu", where);
        else
            *root = r;
    }
    rt_buf_free(&b);
    return st;
}

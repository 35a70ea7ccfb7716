/* manifest: manifest.json writer and reader. */
#include "formats/manifest.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

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

    /* Journal debits and credits per currency. */
    rt_buf_printf(b, "  \"journal\": {\"entries\": %" PRIu32 ", \"lines\": %zu, \"by_currency\": [",
                  res->journal->entries, res->journal->count);
    for (size_t i = 0; i < res->total_count; i++) {
        const rt_currency *c = rt_currency_find(res->totals[i].currency);
        int64_t d = 0, k = 0;
        for (size_t j = 0; j < res->journal->count; j++) {
            const rt_journal_line *l = &res->journal->lines[j];
            if (l->txn_currency != c) continue;
            /* In the invoice currency (the transaction amounts): debits and credits in the
             * functional currency differ from it under FX. */
            if (l->txn_minor > 0)
                d += l->txn_minor; /* bounded by the run totals, which fit int64 */
            else
                k -= l->txn_minor;
        }
        char ds[48], ks[48];
        rt_decimal_str(d, c->minor_units, ds, sizeof ds);
        rt_decimal_str(k, c->minor_units, ks, sizeof ks);
        rt_buf_printf(b, "%s\n    {\"currency\": \"%s\", \"debit\": \"%s\", \"credit\": \"%s\"}",
                      i ? "," : "", c->code, ds, ks);
    }
    rt_buf_puts(b, res->total_count ? "\n  ]}\n" : "]}\n");
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
        rt_buf_puts(b, i ? ",\n    {\"path\": " : "\n    {\"path\": ");
        rt_json_cstr(b, in->path);
        rt_buf_printf(b, ", \"bytes\": %" PRIu64 ", \"xxh64\": \"%016" PRIx64 "\", \"records\": %" PRIu64 "}",
                      in->info.bytes, in->info.xxh64, in->info.records);
    }
    rt_buf_puts(b, res->input_count ? "\n  ],\n" : "],\n");

    rt_buf_puts(b, "  \"outputs\": [");
    for (size_t i = 0; i < files->count; i++) {
        const rt_output_file *o = &files->items[i];
        rt_buf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
        rt_json_cstr(b, o->name);
        rt_buf_printf(b, ", \"bytes\": %" PRIu64 ", \"xxh64\": \"%016" PRIx64 "\", \"rows\": %" PRIu64 "}",
                      o->bytes, o->xxh64, o->rows);
    }
    rt_buf_puts(b, files->count ? "\n  ],\n" : "],\n");

    const rt_run_counts *c = &res->counts;
    rt_buf_printf(b,
                  "  \"counts\": {\"read\": %" PRIu64 ", \"rated\": %" PRIu64
                  ", \"rejected\": %" PRIu64 ", \"duplicate\": %" PRIu64 ", \"late\": %" PRIu64
                  "},\n",
                  c->read, c->rated, c->rejected, c->duplicate, c->late);
    rt_buf_puts(b, "  \"rejects_by_reason\": {");
    int first = 1;
    for (unsigned r = 1; r < RT_REJ_REASON_COUNT_; r++) {
        if (!c->by_reason[r]) continue;
        rt_buf_printf(b, "%s\"%s\": %" PRIu64, first ? "" : ", ",
                      rt_reject_reason_code((rt_reject_reason)r), c->by_reason[r]);
        first = 0;
    }
    rt_buf_puts(b, "},\n");
    const rt_invoice_set *inv = res->invoices;
    rt_buf_printf(b, "  \"invoices\": {\"count\": %zu, \"first\": ", inv->count);
    rt_json_cstr(b, inv->count ? inv->items[0].number : "");
    rt_buf_puts(b, ", \"last\": ");
    rt_json_cstr(b, inv->count ? inv->items[inv->count - 1].number : "");
    rt_buf_puts(b, "},\n");
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

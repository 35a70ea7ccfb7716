/* run_report: HTML run report with inline SVG charts. */
#include "formats/run_report.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/json.h"
#include "formats/manifest.h"
#include "formats/zio.h"

enum { PRODUCTS_MAX = 64, TOP_ACCOUNTS = 10, REASONS_MAX = 64 };

typedef struct bar {
    char label[128];
    char currency[4];
    int64_t value; /* minor units of `currency`, or a count when currency is "" */
} bar;

/* Invoices come grouped by account (a credit note before its reissue): each account's net
 * gross is accumulated and the ten largest kept. */
typedef struct account_acc {
    char id[128];
    char cur[4];
    int64_t gross;
    bool open;
} account_acc;

typedef struct report {
    const char *dir;
    account_acc acc;
    rt_arena arena;
    const rt_json *manifest;
    bar products[PRODUCTS_MAX + 1]; /* the last one gathers "other products" */
    size_t product_count;
    bar accounts[TOP_ACCOUNTS];
    size_t account_count;
    bar hours[24];
    bar reasons[REASONS_MAX];
    size_t reason_count;
    rt_error *err;
} report;

/* ---- reading ---- */

static int64_t amount(const rt_csv_field *f, const char *currency)
{
    const rt_currency *c = rt_currency_find(currency);
    int64_t v = 0;
    if (!c || rt_decimal_parse(f->ptr, f->len, c->minor_units, &v) != RT_OK) return 0;
    return v;
}

static void copy_field(char *dst, size_t n, const rt_csv_field *f)
{
    size_t len = f->len < n - 1 ? f->len : n - 1;
    memcpy(dst, f->ptr, len);
    dst[len] = '\0';
}

typedef void (*row_fn)(report *r, const rt_csv_record *rec, const int *col);

/* Stream a CSV output of the run, calling fn for every data row with the columns found by
 * name (-1 when absent). */
static rt_status each_row(report *r, const char *name, const char *const *cols, size_t ncols,
                          row_fn fn)
{
    char path[PATH_MAX];
    rt_zio_find(r->dir, name, path, sizeof path); /* name.zst with --compress-tables */
    rt_zreader *z;
    rt_status st = rt_zreader_open(path, &z, r->err);
    if (st != RT_OK) return st;
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    rt_arena scratch;
    rt_arena_init(&scratch, 64 * 1024);
    int col[16];
    bool header = true, eof = false;
    if (!buf) {
        st = rt_error_set(r->err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        goto done;
    }
    while (!eof) {
        size_t got;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                st = rt_error_set(r->err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
                goto done;
            }
            buf = nb;
            cap *= 2;
        }
        if ((st = rt_zreader_read(z, buf + len, cap - len, &got, r->err)) != RT_OK) goto done;
        len += got;
        eof = got == 0;
        size_t cut = eof ? len : rt_csv_last_boundary(buf, len);
        const char *p = buf, *end = buf + cut, *why;
        uint32_t c;
        rt_csv_record rec;
        while (p < end) {
            if (rt_csv_parse(&p, end, &scratch, &rec, &why, &c) != RT_OK || rt_csv_blank(&rec))
                continue;
            if (header) {
                for (size_t k = 0; k < ncols; k++) {
                    col[k] = -1;
                    for (size_t i = 0; i < rec.count; i++)
                        if (rec.fields[i].len == strlen(cols[k]) &&
                            memcmp(rec.fields[i].ptr, cols[k], rec.fields[i].len) == 0)
                            col[k] = (int)i;
                }
                header = false;
                continue;
            }
            bool ok = true;
            for (size_t k = 0; k < ncols; k++) ok = ok && col[k] >= 0 && (size_t)col[k] < rec.count;
            if (ok) fn(r, &rec, col);
        }
        memmove(buf, buf + cut, len - cut);
        len -= cut;
        rt_arena_reset(&scratch);
    }
done:
    free(buf);
    rt_arena_free(&scratch);
    rt_zreader_close(z);
    return st;
}

static void product_row(report *r, const rt_csv_record *rec, const int *col)
{
    char id[128], cur[4];
    copy_field(id, sizeof id, &rec->fields[col[0]]);
    copy_field(cur, sizeof cur, &rec->fields[col[2]]);
    int64_t v = amount(&rec->fields[col[1]], cur);
    size_t i = 0;
    while (i < r->product_count &&
           !(strcmp(r->products[i].label, id) == 0 && strcmp(r->products[i].currency, cur) == 0))
        i++;
    if (i == r->product_count) {
        if (r->product_count == PRODUCTS_MAX) {
            i = PRODUCTS_MAX;
            snprintf(r->products[i].label, sizeof r->products[i].label, "(other products)");
        } else {
            r->product_count++;
            snprintf(r->products[i].label, sizeof r->products[i].label, "%s", id);
        }
        memcpy(r->products[i].currency, cur, sizeof cur);
    }
    r->products[i].value += v;
}

static void top_insert(report *r, const char *id, const char *cur, int64_t gross)
{
    size_t n = r->account_count;
    if (n == TOP_ACCOUNTS && gross <= r->accounts[n - 1].value) return;
    size_t i = n < TOP_ACCOUNTS ? n : TOP_ACCOUNTS - 1;
    while (i > 0 && r->accounts[i - 1].value < gross) {
        r->accounts[i] = r->accounts[i - 1];
        i--;
    }
    snprintf(r->accounts[i].label, sizeof r->accounts[i].label, "%s", id);
    memcpy(r->accounts[i].currency, cur, 4);
    r->accounts[i].value = gross;
    if (n < TOP_ACCOUNTS) r->account_count++;
}

static void account_row(report *r, const rt_csv_record *rec, const int *col)
{
    char id[128], cur[4];
    copy_field(id, sizeof id, &rec->fields[col[0]]);
    copy_field(cur, sizeof cur, &rec->fields[col[2]]);
    account_acc *a = &r->acc;
    if (a->open && strcmp(a->id, id) != 0) {
        top_insert(r, a->id, a->cur, a->gross);
        a->open = false;
    }
    if (!a->open) {
        snprintf(a->id, sizeof a->id, "%s", id);
        memcpy(a->cur, cur, 4);
        a->gross = 0;
        a->open = true;
    }
    a->gross += amount(&rec->fields[col[1]], cur);
}

static void hour_row(report *r, const rt_csv_record *rec, const int *col)
{
    const rt_csv_field *t = &rec->fields[col[0]];
    rt_time_s s;
    if (rt_time_parse(t->ptr, t->len, &s) != RT_OK) return;
    int64_t sod = s - rt_time_of_days(rt_days_of(s));
    r->hours[sod / 3600].value++;
}

static rt_status read_report(report *r)
{
    rt_status st = rt_manifest_read(r->dir, &r->arena, &r->manifest, r->err);
    if (st != RT_OK) return st;
    static const char *const pcols[] = {"product_id", "net", "currency"};
    if ((st = each_row(r, "invoice_lines.csv", pcols, 3, product_row)) != RT_OK) return st;
    static const char *const acols[] = {"account_id", "gross", "currency"};
    if ((st = each_row(r, "invoices.csv", acols, 3, account_row)) != RT_OK) return st;
    if (r->acc.open) top_insert(r, r->acc.id, r->acc.cur, r->acc.gross);
    static const char *const hcols[] = {"start_time"};
    if ((st = each_row(r, "rated_usage.csv.zst", hcols, 1, hour_row)) != RT_OK) return st;
    for (int h = 0; h < 24; h++) snprintf(r->hours[h].label, sizeof r->hours[h].label, "%02d", h);
    const rt_json *reasons = rt_json_get(r->manifest, "rejects_by_reason");
    for (const rt_json *m = reasons ? reasons->child : NULL; m && r->reason_count < REASONS_MAX;
         m = m->next) {
        bar *b = &r->reasons[r->reason_count++];
        snprintf(b->label, sizeof b->label, "%s", m->key);
        uint64_t v = 0;
        rt_json_u64(reasons, m->key, &v);
        b->value = (int64_t)v;
    }
    return RT_OK;
}

static int bar_desc(const void *x, const void *y)
{
    const bar *a = x, *b = y;
    if (a->value != b->value) return a->value > b->value ? -1 : 1;
    int c = strcmp(a->label, b->label);
    return c ? c : strcmp(a->currency, b->currency);
}

/* ---- rendering ---- */

static void esc(rt_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': rt_buf_puts(b, "&lt;"); break;
        case '>': rt_buf_puts(b, "&gt;"); break;
        case '&': rt_buf_puts(b, "&amp;"); break;
        case '"': rt_buf_puts(b, "&quot;"); break;
        default: rt_buf_putc(b, *s);
        }
    }
}

static void value_text(const bar *x, char *buf, size_t n)
{
    const rt_currency *c = x->currency[0] ? rt_currency_find(x->currency) : NULL;
    if (c) {
        char a[48];
        rt_decimal_str(x->value, c->minor_units, a, sizeof a);
        snprintf(buf, n, "%s %s", a, c->code);
    } else {
        snprintf(buf, n, "%" PRId64, x->value);
    }
}

/* Horizontal bars, one per item, scaled to the largest absolute value. */
static void hbar_chart(rt_buf *b, const char *title, const bar *bars, size_t n)
{
    rt_buf_puts(b, "<h2>");
    esc(b, title);
    rt_buf_puts(b, "</h2>\n");
    if (n == 0) {
        rt_buf_puts(b, "<p class=\"none\">none</p>\n");
        return;
    }
    int64_t max = 1;
    for (size_t i = 0; i < n; i++) {
        int64_t a = bars[i].value < 0 ? -bars[i].value : bars[i].value;
        if (a > max) max = a;
    }
    rt_buf_printf(b, "<svg class=\"chart\" width=\"760\" height=\"%zu\" role=\"img\">\n", n * 26 + 6);
    for (size_t i = 0; i < n; i++) {
        int64_t a = bars[i].value < 0 ? -bars[i].value : bars[i].value;
        /* Integer scaling: 400 px for the largest bar. */
        int64_t w = a * 400 / max;
        char v[80];
        value_text(&bars[i], v, sizeof v);
        rt_buf_printf(b, "<text x=\"0\" y=\"%zu\">", i * 26 + 18);
        esc(b, bars[i].label);
        rt_buf_printf(b, "</text><rect x=\"200\" y=\"%zu\" width=\"%" PRId64
                         "\" height=\"18\" class=\"%s\"/><text x=\"%" PRId64 "\" y=\"%zu\">",
                      i * 26 + 4, w, bars[i].value < 0 ? "neg" : "pos", 206 + w, i * 26 + 18);
        esc(b, v);
        rt_buf_puts(b, "</text>\n");
    }
    rt_buf_puts(b, "</svg>\n");
}

/* Vertical bars for the 24 hours of the day. */
static void hour_chart(rt_buf *b, const bar *hours)
{
    int64_t max = 1;
    for (int h = 0; h < 24; h++)
        if (hours[h].value > max) max = hours[h].value;
    rt_buf_puts(b, "<h2>Usage events by hour of day (UTC)</h2>\n"
                   "<svg class=\"chart\" width=\"760\" height=\"230\" role=\"img\">\n");
    for (int h = 0; h < 24; h++) {
        int64_t ht = hours[h].value * 180 / max;
        rt_buf_printf(b,
                      "<rect x=\"%d\" y=\"%" PRId64 "\" width=\"24\" height=\"%" PRId64
                      "\" class=\"pos\"><title>%02d:00 %" PRId64 " events</title></rect>"
                      "<text x=\"%d\" y=\"222\">%02d</text>\n",
                      10 + h * 31, 200 - ht, ht, h, hours[h].value, 12 + h * 31, h);
    }
    rt_buf_puts(b, "</svg>\n");
}

static void summary(rt_buf *b, const rt_json *m)
{
    const rt_json *c = rt_json_get(m, "counts");
    uint64_t read = 0, rated = 0, rejected = 0, dup = 0, late = 0, run = 0;
    rt_json_u64(c, "read", &read);
    rt_json_u64(c, "rated", &rated);
    rt_json_u64(c, "rejected", &rejected);
    rt_json_u64(c, "duplicate", &dup);
    rt_json_u64(c, "late", &late);
    rt_json_u64(m, "run", &run);
    const char *period = rt_json_string(m, "period");
    rt_buf_printf(b, "<h1>ratel run %" PRIu64 ", period ", run);
    esc(b, period ? period : "?");
    rt_buf_puts(b, "</h1>\n<table>\n");
    rt_buf_printf(b,
                  "<tr><th>records read</th><td>%" PRIu64 "</td></tr>\n"
                  "<tr><th>rated</th><td>%" PRIu64 " (late %" PRIu64 ")</td></tr>\n"
                  "<tr><th>rejected</th><td>%" PRIu64 "</td></tr>\n"
                  "<tr><th>duplicates</th><td>%" PRIu64 "</td></tr>\n"
                  "<tr><th>reconciled</th><td>%s</td></tr>\n",
                  read, rated, late, rejected, dup,
                  read == rated + rejected + dup ? "read = rated + rejected + duplicate"
                                                 : "NO: read differs from the sum");
    const rt_json *o = rt_json_get(m, "orders");
    uint64_t lines = 0, used = 0, orders_rejected = 0;
    if (o && rt_json_u64(o, "lines", &lines) == RT_OK && rt_json_u64(o, "used", &used) == RT_OK &&
        rt_json_u64(o, "rejected", &orders_rejected) == RT_OK && lines > 0)
        rt_buf_printf(b,
                      "<tr><th>order lines</th><td>%" PRIu64 " (used %" PRIu64
                      ", rejected %" PRIu64 ")</td></tr>\n",
                      lines, used, orders_rejected);
    /* A rerun: what it changed in the corrected run's invoices (corrects_run is 0 in a run
     * that corrects none). */
    uint64_t corrects = 0, unchanged = 0, invoices = 0, credit_notes = 0;
    if (rt_json_u64(m, "corrects_run", &corrects) == RT_OK && corrects > 0) {
        rt_json_u64(m, "unchanged_invoices", &unchanged);
        rt_json_u64(rt_json_get(m, "invoices"), "count", &invoices);
        rt_json_u64(rt_json_get(m, "credit_notes"), "count", &credit_notes);
        rt_buf_printf(b,
                      "<tr><th>rerun of run %" PRIu64 "</th><td>%" PRIu64 " credit notes, %" PRIu64
                      " new invoices, %" PRIu64 " invoices unchanged</td></tr>\n",
                      corrects, credit_notes, invoices, unchanged);
    }
    const rt_json *totals = rt_json_get(m, "totals");
    for (const rt_json *t = totals ? totals->child : NULL; t; t = t->next) {
        const char *cur = rt_json_string(t, "currency"), *net = rt_json_string(t, "net"),
                   *tax = rt_json_string(t, "tax"), *gross = rt_json_string(t, "gross");
        uint64_t n = 0;
        rt_json_u64(t, "invoices", &n);
        rt_buf_puts(b, "<tr><th>");
        esc(b, cur ? cur : "");
        rt_buf_printf(b, " (%" PRIu64 " documents)</th><td>net ", n);
        esc(b, net ? net : "");
        rt_buf_puts(b, ", tax ");
        esc(b, tax ? tax : "");
        rt_buf_puts(b, ", gross ");
        esc(b, gross ? gross : "");
        rt_buf_puts(b, "</td></tr>\n");
    }
    rt_buf_puts(b, "</table>\n");
}

static void render(rt_buf *b, const report *r)
{
    rt_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<title>ratel run report</title>\n<style>\n"
                   "body{font-family:sans-serif;margin:2em;color:#222}"
                   "table{border-collapse:collapse}th,td{padding:4px 12px;text-align:left;"
                   "border-bottom:1px solid #ddd}.chart text{font-size:12px}"
                   ".pos{fill:#3b6ea8}.neg{fill:#b8483d}.none{color:#888}\n"
                   "</style></head><body>\n");
    summary(b, r->manifest);
    size_t np = r->product_count + (r->products[PRODUCTS_MAX].label[0] ? 1 : 0);
    bar products[PRODUCTS_MAX + 1];
    memcpy(products, r->products, r->product_count * sizeof *products);
    qsort(products, r->product_count, sizeof *products, bar_desc);
    if (np > r->product_count) products[r->product_count] = r->products[PRODUCTS_MAX];
    hbar_chart(b, "Revenue by product (net)", products, np);
    hour_chart(b, r->hours);
    hbar_chart(b, "Top accounts (gross)", r->accounts, r->account_count);
    hbar_chart(b, "Rejects by reason", r->reasons, r->reason_count);
    rt_buf_puts(b, "</body></html>\n");
}

rt_status rt_run_report_write(const char *dir, const char *html_path, rt_error *err)
{
    report *r = calloc(1, sizeof *r);
    if (!r) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    r->dir = dir;
    r->err = err;
    rt_arena_init(&r->arena, 64 * 1024);
    rt_buf html;
    rt_buf_init(&html);
    rt_status st = read_report(r);
    if (st == RT_OK) {
        render(&html, r);
        if (html.failed) st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    if (st == RT_OK) {
        rt_zwriter *w = NULL;
        st = rt_zwriter_open(html_path, 0, &w, err);
        if (st == RT_OK) {
            st = rt_zwriter_write(w, html.data, html.len, err);
            if (st == RT_OK)
                st = rt_zwriter_close(w, NULL, NULL, err);
            else
                rt_zwriter_abort(w);
        }
    }
    rt_buf_free(&html);
    rt_arena_free(&r->arena);
    free(r);
    return st;
}

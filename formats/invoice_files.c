/* invoice_files: invoices.jsonl, invoices.csv, invoice_lines.csv. */
#include "formats/invoice_files.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/csv.h"
#include "formats/json.h"
#include "formats/outfile.h"

const char *rt_invoice_line_description(const rt_catalog *cat, const rt_invoice_line *l)
{
    if (l->description) return l->description;
    const char *d = l->charge != RT_NO_INDEX ? cat->charges[l->charge].description : NULL;
    if (d && d[0]) return d;
    return l->product != RT_NO_INDEX ? cat->products[l->product].name : "";
}

const char *rt_invoice_type_name(const rt_invoice *inv)
{
    return inv->type == RT_CREDIT_NOTE ? "credit_note" : "invoice";
}

/* Lines that no charge prices (discounts, corrections) have no plan, charge or price. */
static const char *charge_field(const rt_catalog *cat, const rt_invoice_line *l, int plan)
{
    if (l->charge == RT_NO_INDEX) return "";
    return plan ? cat->charges[l->charge].plan_id : cat->charges[l->charge].charge_id;
}

static const rt_product no_product = {.product_id = "", .name = "", .unit = "", .unit_code = "",
                                      .gl_account = "", .tax_category = ""};

static const rt_product *line_product(const rt_catalog *cat, const rt_invoice_line *l)
{
    return l->product != RT_NO_INDEX ? &cat->products[l->product] : &no_product;
}

/* The tax category the line is taxed in: its tax rate's (an invoice discount's share names
 * the category it lowers, not its product's). */
static const char *line_tax_category(const rt_catalog *cat, const rt_invoice_line *l)
{
    return l->tax != RT_NO_INDEX ? cat->tax_rates[l->tax].tax_category : "";
}

/* A decimal as text with its length (ten million lines carry six each: no strlen). */
typedef struct dec_text {
    char s[48];
    size_t len;
} dec_text;

typedef struct line_text {
    dec_text quantity, billable, unit_price, price_per, net, rate;
} line_text;

static void format_line(const rt_catalog *cat, const rt_invoice *inv, const rt_invoice_line *l,
                        line_text *t)
{
    const rt_product *p = line_product(cat, l);
    unsigned qd = (unsigned)p->quantity_decimals;
    int64_t price, per;
    rt_line_shown_price(cat, l, &price, &per);
    dec_text *d = &t->quantity;
    d->len = rt_decimal_format(l->quantity_base, qd, (int)qd, 0, '.', d->s, sizeof d->s);
    d = &t->billable;
    d->len = rt_decimal_format(l->billable_base, qd, (int)qd, 0, '.', d->s, sizeof d->s);
    d = &t->unit_price;
    d->len = rt_decimal_format(price, RT_NANOS_SCALE, -1, inv->currency->minor_units, '.', d->s,
                               sizeof d->s);
    d = &t->price_per;
    d->len = rt_decimal_str(per, 0, d->s, sizeof d->s);
    d = &t->net;
    d->len = rt_decimal_str(l->net_minor, inv->currency->minor_units, d->s, sizeof d->s);
    d = &t->rate;
    d->len = rt_decimal_format(inv->taxes[l->subtotal].rate_e4, 4, -1, 0, '.', d->s, sizeof d->s);
}

/* A member: ,"key": (or "key": first) then the value. Keys are literals that need no escaping,
 * appended as they are (ten million lines carry twenty members each). */
static void kv_str(rt_buf *b, const char *key, size_t key_len, const char *v)
{
    rt_buf_append(b, key, key_len);
    rt_json_cstr(b, v ? v : "");
}

static void kv_u64(rt_buf *b, const char *key, size_t key_len, uint64_t v)
{
    rt_buf_append(b, key, key_len);
    rt_buf_put_u64(b, v);
}

#define KEY_FIRST(k) "\"" k "\":"
#define KEY_NEXT(k) ",\"" k "\":"
#define KV_STR(b, k, v, comma)                                                                     \
    ((comma) ? kv_str(b, KEY_NEXT(k), sizeof KEY_NEXT(k) - 1, v)                                  \
             : kv_str(b, KEY_FIRST(k), sizeof KEY_FIRST(k) - 1, v))
#define KV_U64(b, k, v) kv_u64(b, KEY_NEXT(k), sizeof KEY_NEXT(k) - 1, v)

/* A decimal's text needs no escaping (digits, '-', '.'): quoted as it is. */
static void kv_dec(rt_buf *b, const char *key, size_t key_len, const dec_text *d)
{
    rt_buf_append(b, key, key_len);
    rt_buf_putc(b, '"');
    rt_buf_append(b, d->s, d->len);
    rt_buf_putc(b, '"');
}
#define KV_DEC(b, k, d) kv_dec(b, KEY_NEXT(k), sizeof KEY_NEXT(k) - 1, d)

static void write_json(rt_buf *b, const rt_run_result *res, const rt_invoice *inv)
{
    const rt_catalog *cat = res->cat;
    const rt_account *a = &cat->accounts[inv->account];
    unsigned md = inv->currency->minor_units;
    char d1[16], d2[16], net[48], tax[48], gross[48];
    rt_date_format(inv->issue_day, d1, sizeof d1);
    rt_date_format(inv->due_day, d2, sizeof d2);
    rt_decimal_str(inv->net_minor, md, net, sizeof net);
    rt_decimal_str(inv->tax_minor, md, tax, sizeof tax);
    rt_decimal_str(inv->gross_minor, md, gross, sizeof gross);
    rt_buf_putc(b, '{');
    KV_STR(b, "invoice_number", inv->number, 0);
    KV_STR(b, "type", rt_invoice_type_name(inv), 1);
    if (inv->type == RT_CREDIT_NOTE) KV_STR(b, "corrects", inv->corrects, 1);
    KV_STR(b, "account_id", a->account_id, 1);
    KV_STR(b, "account_name", a->name, 1);
    KV_STR(b, "period", res->period_text, 1);
    KV_STR(b, "issue_date", d1, 1);
    KV_STR(b, "due_date", d2, 1);
    KV_STR(b, "currency", inv->currency->code, 1);
    KV_U64(b, "events", inv->events);
    KV_STR(b, "net", net, 1);
    KV_STR(b, "tax", tax, 1);
    KV_STR(b, "gross", gross, 1);
    rt_buf_puts(b, ",\"lines\":[");
    for (size_t i = 0; i < inv->line_count; i++) {
        const rt_invoice_line *l = &inv->lines[i];
        const rt_product *p = line_product(cat, l);
        line_text t;
        format_line(cat, inv, l, &t);
        rt_buf_puts(b, i ? ",{" : "{");
        kv_u64(b, KEY_FIRST("line"), sizeof KEY_FIRST("line") - 1, i + 1);
        KV_STR(b, "plan_id", charge_field(cat, l, 1), 1);
        KV_STR(b, "charge_id", charge_field(cat, l, 0), 1);
        KV_STR(b, "product_id", p->product_id, 1);
        KV_STR(b, "description", rt_invoice_line_description(cat, l), 1);
        KV_U64(b, "events", l->events);
        KV_DEC(b, "quantity", &t.quantity);
        KV_DEC(b, "billable_quantity", &t.billable);
        KV_STR(b, "unit", p->unit, 1);
        KV_STR(b, "unit_code", p->unit_code, 1);
        KV_DEC(b, "unit_price", &t.unit_price);
        KV_DEC(b, "price_per", &t.price_per);
        KV_DEC(b, "net", &t.net);
        KV_STR(b, "tax_category", line_tax_category(cat, l), 1);
        KV_STR(b, "vat_code", rt_vat_code_name((rt_vat_code)inv->taxes[l->subtotal].vat_code), 1);
        KV_DEC(b, "tax_rate", &t.rate);
        KV_STR(b, "gl_account", p->gl_account, 1);
        rt_buf_putc(b, '}');
    }
    rt_buf_puts(b, "],\"taxes\":[");
    for (size_t s = 0; s < inv->tax_count; s++) {
        const rt_tax_subtotal *t = &inv->taxes[s];
        char rate[48], base[48], amount[48];
        rt_decimal_format(t->rate_e4, 4, -1, 0, '.', rate, sizeof rate);
        rt_decimal_str(t->base_minor, md, base, sizeof base);
        rt_decimal_str(t->tax_minor, md, amount, sizeof amount);
        rt_buf_puts(b, s ? ",{" : "{");
        KV_STR(b, "vat_code", rt_vat_code_name((rt_vat_code)t->vat_code), 0);
        KV_STR(b, "rate", rate, 1);
        KV_STR(b, "base", base, 1);
        KV_STR(b, "tax", amount, 1);
        rt_buf_putc(b, '}');
    }
    rt_buf_puts(b, "]}\n");
}

static void put_text(rt_buf *b, const char *s) { rt_csv_put_text(b, s, strlen(s)); }
static void put_raw(rt_buf *b, const char *s) { rt_csv_put_raw(b, s, strlen(s)); }
static void put_dec(rt_buf *b, const dec_text *d) { rt_buf_append(b, d->s, d->len); }

static void write_summary_row(rt_buf *b, const rt_run_result *res, const rt_invoice *inv)
{
    const rt_account *a = &res->cat->accounts[inv->account];
    unsigned md = inv->currency->minor_units;
    char d1[16], d2[16], net[48], tax[48], gross[48];
    rt_date_format(inv->issue_day, d1, sizeof d1);
    rt_date_format(inv->due_day, d2, sizeof d2);
    rt_decimal_str(inv->net_minor, md, net, sizeof net);
    rt_decimal_str(inv->tax_minor, md, tax, sizeof tax);
    rt_decimal_str(inv->gross_minor, md, gross, sizeof gross);
    put_text(b, inv->number);
    rt_csv_sep(b);
    put_text(b, rt_invoice_type_name(inv));
    rt_csv_sep(b);
    put_text(b, a->account_id);
    rt_csv_sep(b);
    put_text(b, a->name);
    rt_csv_sep(b);
    put_raw(b, res->period_text);
    rt_csv_sep(b);
    put_raw(b, d1);
    rt_csv_sep(b);
    put_raw(b, d2);
    rt_csv_sep(b);
    put_raw(b, inv->currency->code);
    rt_csv_sep(b);
    rt_csv_put_u64(b, inv->line_count);
    rt_csv_sep(b);
    rt_csv_put_u64(b, inv->events);
    rt_csv_sep(b);
    put_raw(b, net);
    rt_csv_sep(b);
    put_raw(b, tax);
    rt_csv_sep(b);
    put_raw(b, gross);
    rt_csv_sep(b);
    put_text(b, inv->corrects);
    rt_csv_end(b);
}

static void write_line_rows(rt_buf *b, const rt_run_result *res, const rt_invoice *inv)
{
    const rt_catalog *cat = res->cat;
    const rt_account *a = &cat->accounts[inv->account];
    for (size_t i = 0; i < inv->line_count; i++) {
        const rt_invoice_line *l = &inv->lines[i];
        const rt_product *p = line_product(cat, l);
        line_text t;
        format_line(cat, inv, l, &t);
        put_text(b, inv->number);
        rt_csv_sep(b);
        rt_csv_put_u64(b, i + 1);
        rt_csv_sep(b);
        put_text(b, a->account_id);
        rt_csv_sep(b);
        put_text(b, charge_field(cat, l, 1));
        rt_csv_sep(b);
        put_text(b, charge_field(cat, l, 0));
        rt_csv_sep(b);
        put_text(b, p->product_id);
        rt_csv_sep(b);
        put_text(b, rt_invoice_line_description(cat, l));
        rt_csv_sep(b);
        rt_csv_put_u64(b, l->events);
        rt_csv_sep(b);
        put_dec(b, &t.quantity);
        rt_csv_sep(b);
        put_dec(b, &t.billable);
        rt_csv_sep(b);
        put_text(b, p->unit);
        rt_csv_sep(b);
        put_dec(b, &t.unit_price);
        rt_csv_sep(b);
        put_dec(b, &t.price_per);
        rt_csv_sep(b);
        put_dec(b, &t.net);
        rt_csv_sep(b);
        put_raw(b, inv->currency->code);
        rt_csv_sep(b);
        put_raw(b, rt_vat_code_name((rt_vat_code)inv->taxes[l->subtotal].vat_code));
        rt_csv_sep(b);
        put_dec(b, &t.rate);
        rt_csv_sep(b);
        put_text(b, line_tax_category(cat, l));
        rt_csv_sep(b);
        put_text(b, p->gl_account);
        rt_csv_end(b);
    }
}

static uint64_t json_items(const void *ctx, size_t from, size_t to, rt_buf *b)
{
    const rt_run_result *res = ctx;
    for (size_t i = from; i < to; i++) write_json(b, res, &res->invoices->items[i]);
    return to - from;
}

static uint64_t summary_items(const void *ctx, size_t from, size_t to, rt_buf *b)
{
    const rt_run_result *res = ctx;
    for (size_t i = from; i < to; i++) write_summary_row(b, res, &res->invoices->items[i]);
    return to - from;
}

static uint64_t line_items(const void *ctx, size_t from, size_t to, rt_buf *b)
{
    const rt_run_result *res = ctx;
    uint64_t rows = 0;
    for (size_t i = from; i < to; i++) {
        write_line_rows(b, res, &res->invoices->items[i]);
        rows += res->invoices->items[i].line_count;
    }
    return rows;
}

/* Invoices per chunk: a few megabytes of text each. */
enum { JSON_CHUNK = 1024, SUMMARY_CHUNK = 32768, LINES_CHUNK = 4096 };

static rt_status write_one(const char *dir, const rt_run_result *res, unsigned threads,
                           const char *name, const char *header, size_t chunk,
                           rt_outfile_items_fn fn, rt_output_list *files, rt_error *err)
{
    char full[RT_OUTPUT_NAME_MAX];
    rt_outfile_name(name, res->tables_zstd_level, full, sizeof full);
    rt_outfile f;
    rt_status st = rt_outfile_open(&f, dir, full, res->tables_zstd_level, err);
    if (st != RT_OK) return st;
    rt_outfile_defer_sync(&f); /* the run syncs its outputs together */
    f.spread = res->spread;
    if (header) rt_buf_puts(&f.buf, header);
    st = rt_outfile_write_items(&f, res->invoices->count, chunk, threads, fn, res, err);
    if (st != RT_OK) {
        rt_outfile_abort(&f);
        return st;
    }
    return rt_outfile_close(&f, files, NULL, err);
}

rt_status rt_invoice_files_write(const char *dir, const rt_run_result *res, unsigned threads,
                                 rt_output_list *files, rt_error *err)
{
    rt_status st = write_one(dir, res, threads, "invoices.jsonl", NULL, JSON_CHUNK, json_items,
                             files, err);
    if (st == RT_OK)
        st = write_one(dir, res, threads, "invoices.csv",
                       "invoice_number,type,account_id,account_name,period,issue_date,"
                       "due_date,currency,lines,events,net,tax,gross,corrects\n",
                       SUMMARY_CHUNK, summary_items, files, err);
    if (st == RT_OK)
        st = write_one(dir, res, threads, "invoice_lines.csv",
                       "invoice_number,line,account_id,plan_id,charge_id,product_id,"
                       "description,events,quantity,billable_quantity,unit,unit_price,"
                       "price_per,net,currency,vat_code,tax_rate,tax_category,gl_account\n",
                       LINES_CHUNK, line_items, files, err);
    return st;
}

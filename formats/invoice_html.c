/* invoice_html: printable HTML invoices. */
#include "formats/invoice_html.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/invoice_files.h"
#include "formats/markup.h"

static const char style[] =
    "body{font-family:Helvetica,Arial,sans-serif;font-size:10pt;color:#222;margin:2em auto;"
    "max-width:52em}\n"
    "h1{font-size:20pt;margin:0 0 .2em}h2{font-size:11pt;margin:1.4em 0 .4em}\n"
    ".top{display:flex;justify-content:space-between;gap:2em}.party{line-height:1.45}\n"
    ".muted{color:#666;font-size:9pt}\n"
    "table{border-collapse:collapse;width:100%}th,td{padding:.3em .5em;vertical-align:top}\n"
    "th{text-align:left;border-bottom:1.5px solid #222}td{border-bottom:1px solid #ddd}\n"
    ".num{text-align:right;white-space:nowrap}.facts td{border:none;padding:.1em .5em}\n"
    ".totals{width:auto;margin-left:auto}.totals td{border:none}\n"
    ".due td{font-weight:bold;border-top:1.5px solid #222}\n"
    "footer{margin-top:2em;border-top:1px solid #ddd;padding-top:.5em}\n"
    "@page{size:A4;margin:15mm}@media print{body{margin:0;max-width:none}}\n";

/* ---- escaped text ---- */

static void text(rt_buf *b, const char *s)
{
    rt_markup_cstr(b, s);
}

/* Inlined into every call: open and close are literals, their lengths known there. */
static inline __attribute__((always_inline)) void tag_text(rt_buf *b, const char *open,
                                                           const char *s, const char *close)
{
    rt_buf_puts(b, open);
    text(b, s);
    rt_buf_puts(b, close);
}

static void amount_cell(rt_buf *b, const rt_doc_view *v, int64_t minor)
{
    char a[48];
    size_t n = rt_doc_amount(v, minor, a, sizeof a); /* nothing to escape */
    rt_buf_puts(b, "<td class=\"num\">");
    rt_buf_append(b, a, n);
    rt_buf_puts(b, "</td>");
}

static void line_if(rt_buf *b, const char *prefix, const char *s)
{
    if (!s || !s[0]) return;
    rt_buf_puts(b, prefix);
    text(b, s);
    rt_buf_puts(b, "<br>");
}

/* ---- blocks ---- */

static void party_block(rt_buf *b, const char *title, const char *name, const char *street,
                        const char *postcode, const char *city, const char *country)
{
    rt_buf_puts(b, "<div class=\"party\">");
    tag_text(b, "<div class=\"muted\">", title, "</div>");
    tag_text(b, "<strong>", name, "</strong><br>");
    line_if(b, "", street);
    if ((postcode && postcode[0]) || (city && city[0])) {
        text(b, postcode);
        if (postcode && postcode[0] && city && city[0]) rt_buf_putc(b, ' ');
        text(b, city);
        rt_buf_puts(b, "<br>");
    }
    line_if(b, "", country);
}

static void fact(rt_buf *b, const char *label, const char *value)
{
    if (!value || !value[0]) return;
    tag_text(b, "<tr><td class=\"muted\">", label, "</td>");
    tag_text(b, "<td>", value, "</td></tr>");
}

static void heading(rt_buf *b, const rt_catalog *cat, const rt_period *per, const rt_invoice *inv,
                    bool credit)
{
    const rt_company *co = cat->company;
    const rt_account *a = &cat->accounts[inv->account];
    char issue[16], due[16], from[16], to[16], span[40];
    rt_date_format(inv->issue_day, issue, sizeof issue);
    rt_date_format(inv->due_day, due, sizeof due);
    rt_date_format(per->start_day, from, sizeof from);
    rt_date_format(per->end_day - 1, to, sizeof to);
    RT_TEXT_JOIN(span, sizeof span, from, " to ", to);
    rt_buf_puts(b, "<div class=\"top\">");
    party_block(b, "From", co->name, co->street, co->postcode, co->city, co->country);
    line_if(b, "VAT ", co->vat_id);
    line_if(b, "Registration ", co->registration_id);
    line_if(b, "", co->email);
    rt_buf_puts(b, "</div><div>");
    tag_text(b, "<h1>", credit ? "Credit note" : "Invoice", "</h1><table class=\"facts\">");
    fact(b, credit ? "Credit note number" : "Invoice number", inv->number);
    if (credit) fact(b, "Reverses invoice", inv->corrects);
    fact(b, "Issue date", issue);
    fact(b, "Due date", due);
    fact(b, "Billing period", span);
    fact(b, "Customer account", a->account_id);
    fact(b, "Your reference", a->buyer_reference);
    fact(b, "Currency", inv->currency->code);
    rt_buf_puts(b, "</table></div></div>\n<div class=\"top\">");
    party_block(b, "Bill to", a->name, a->street, a->postcode, a->city, a->country);
    line_if(b, "VAT ", a->vat_id);
    line_if(b, "", a->email);
    rt_buf_puts(b, "</div></div>\n");
}

static void lines_table(rt_buf *b, const rt_doc_view *v)
{
    rt_buf_puts(b, "<h2>Details</h2><table><thead><tr><th>#</th><th>Description</th>"
                   "<th class=\"num\">Quantity</th><th class=\"num\">Unit price</th>"
                   "<th class=\"num\">VAT</th><th class=\"num\">Net</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < v->line_count; i++) {
        const rt_doc_line *dl = &v->lines[i];
        const rt_invoice_line *l = dl->src;
        char pct[48];
        rt_doc_percent(v->inv->taxes[l->subtotal].rate_e4, pct, sizeof pct);
        rt_buf_puts(b, "<tr><td>");
        rt_buf_put_u64(b, dl->number);
        rt_buf_puts(b, "</td><td>");
        text(b, rt_invoice_line_description(v->cat, l));
        if (dl->used[0]) {
            rt_buf_puts(b, "<br><span class=\"muted\">");
            rt_buf_put_u64(b, l->events);
            rt_buf_puts(b, l->events == 1 ? " event; used " : " events; used ");
            text(b, dl->used);
            rt_buf_puts(b, "</span>");
        }
        rt_buf_puts(b, "</td>");
        /* People read the billed quantity in its unit and the tariff (usage and order lines);
         * the e-invoice may show one lot. */
        tag_text(b, "<td class=\"num\">", dl->billed[0] ? dl->billed : dl->quantity, "</td>");
        tag_text(b, "<td class=\"num\">", dl->rate[0] ? dl->rate : dl->price, "</td>");
        tag_text(b, "<td class=\"num\">",
                 rt_vat_code_name((rt_vat_code)v->inv->taxes[l->subtotal].vat_code), " ");
        tag_text(b, "", pct, "%</td>");
        amount_cell(b, v, dl->net_minor);
        rt_buf_puts(b, "</tr>\n");
    }
    rt_buf_puts(b, "</tbody></table>\n");
}

static void vat_table(rt_buf *b, const rt_doc_view *v)
{
    rt_buf_puts(b, "<h2>VAT</h2><table><thead><tr><th>Category</th><th class=\"num\">Rate</th>"
                   "<th class=\"num\">Taxable amount</th><th class=\"num\">VAT</th></tr></thead>"
                   "<tbody>\n");
    for (size_t s = 0; s < v->inv->tax_count; s++) {
        const rt_tax_subtotal *t = &v->inv->taxes[s];
        const char *reason = rt_doc_exemption_reason(v->cat, t);
        char pct[48];
        rt_doc_percent(t->rate_e4, pct, sizeof pct);
        tag_text(b, "<tr><td>", rt_vat_code_name((rt_vat_code)t->vat_code), "");
        if (reason) tag_text(b, "<br><span class=\"muted\">", reason, "</span>");
        tag_text(b, "</td><td class=\"num\">", pct, "%</td>");
        amount_cell(b, v, rt_doc_tax_base(v, s));
        amount_cell(b, v, rt_doc_tax_amount(v, s));
        rt_buf_puts(b, "</tr>\n");
    }
    rt_buf_puts(b, "</tbody></table>\n");
}

static void total_row(rt_buf *b, const rt_doc_view *v, const char *cls, const char *label,
                      int64_t minor)
{
    rt_buf_puts(b, "<tr");
    rt_buf_puts(b, cls);
    rt_buf_puts(b, "><td>");
    text(b, label);
    rt_buf_puts(b, "</td>");
    amount_cell(b, v, minor);
    rt_buf_puts(b, "</tr>\n");
}

static void totals(rt_buf *b, const rt_doc_view *v, bool credit)
{
    char due[96];
    RT_TEXT_JOIN(due, sizeof due, credit ? "Total credited" : "Amount due", " (",
                 v->inv->currency->code, ")");
    rt_buf_puts(b, "<h2>Totals</h2><table class=\"totals\">\n");
    if (v->allowance_count) {
        total_row(b, v, "", "Lines", v->line_extension_minor);
        total_row(b, v, "", "Discounts", -v->allowance_minor);
    }
    total_row(b, v, "", "Total excluding VAT", v->net_minor);
    total_row(b, v, "", "VAT", v->tax_minor);
    total_row(b, v, "", "Total including VAT", v->gross_minor);
    total_row(b, v, " class=\"due\"", due, v->gross_minor);
    if (v->tax_currency) { /* the VAT in the VAT accounting currency, at the journal's rate */
        char rate[48], label[160], a[48];
        rt_decimal_format(v->fx_rate_nanos, 9, -1, 0, '.', rate, sizeof rate);
        RT_TEXT_JOIN(label, sizeof label, "VAT in ", v->tax_currency->code, " (1 ",
                     v->inv->currency->code, " = ", rate, " ", v->tax_currency->code, ")");
        size_t n = rt_doc_tax_currency_amount(v, v->tax_accounting_minor, a, sizeof a);
        rt_buf_puts(b, "<tr class=\"muted\"><td>");
        text(b, label);
        rt_buf_puts(b, "</td><td class=\"num\">");
        rt_buf_append(b, a, n);
        rt_buf_puts(b, "</td></tr>\n");
    }
    rt_buf_puts(b, "</table>\n");
}

static void footer(rt_buf *b, const rt_catalog *cat, const rt_invoice *inv, bool credit)
{
    const rt_company *co = cat->company;
    char due[16], days[RT_I64_TEXT_MAX], terms[256];
    rt_date_format(inv->due_day, due, sizeof due);
    rt_i64_text((int64_t)inv->due_day - inv->issue_day, days);
    RT_TEXT_JOIN(terms, sizeof terms,
                 credit ? "This amount is refunded or offset" : "Payment is due", " within ",
                 days, " days of the issue date, by ", due, ". Please quote ", inv->number, ".");
    tag_text(b, "<h2>Payment terms</h2><p>", terms, "</p>\n<footer class=\"muted\">");
    text(b, co->name);
    if (co->registration_id && co->registration_id[0]) {
        text(b, " - registration ");
        text(b, co->registration_id);
    }
    if (co->vat_id && co->vat_id[0]) {
        text(b, " - VAT ");
        text(b, co->vat_id);
    }
    rt_buf_puts(b, "</footer>\n");
}

rt_status rt_invoice_html(const rt_catalog *cat, const rt_period *per, const rt_invoice *inv,
                          rt_doc_view *v, rt_buf *b)
{
    rt_status st = rt_doc_view_build(v, cat, inv);
    return st == RT_OK ? rt_invoice_html_of_view(cat, per, inv, v, b) : st;
}

rt_status rt_invoice_html_of_view(const rt_catalog *cat, const rt_period *per,
                                  const rt_invoice *inv, const rt_doc_view *v, rt_buf *b)
{
    bool credit = inv->type == RT_CREDIT_NOTE;
    rt_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    text(b, credit ? "Credit note " : "Invoice ");
    text(b, inv->number);
    rt_buf_puts(b, "</title>\n<style>\n");
    rt_buf_puts(b, style);
    rt_buf_puts(b, "</style></head>\n<body>\n");
    heading(b, cat, per, inv, credit);
    lines_table(b, v);
    vat_table(b, v);
    totals(b, v, credit);
    footer(b, cat, inv, credit);
    rt_buf_puts(b, "</body></html>\n");
    return rt_buf_status(b);
}

/* test_invoice_html: the printable HTML invoice and credit note.
 *
 * Same invoice as test_invoice_ubl (tests/fixture_invoices.h): ACC-FR, lines C_DATA 0.02,
 * C_SMS 0.15 (3 events), C_VOICE 0.30 (900 s billed at 0.02 per 60 s); net 0.47, VAT 20%
 * 0.09, gross 0.56, due 2026-12-01 (30 days). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_invoices.h"
#include "formats/invoice_html.h"
#include "formats/invoice_view.h"

static char *render(fx *f, size_t i)
{
    rt_doc_view v;
    rt_buf b;
    rt_doc_view_init(&v);
    rt_buf_init(&b);
    cr_assert_eq(rt_invoice_html(&f->cat, &f->period, &f->items[i], &v, &b), RT_OK);
    rt_buf_putc(&b, '\0');
    rt_doc_view_free(&v);
    return b.data;
}

static size_t fr_invoice(fx *f, const char *number, rt_invoice_type type, const char *corrects,
                         int sign)
{
    rt_invoice_line l[3] = {
        fx_usage(f, "ACC-FR", "DATA", 2, 1750, 1843, sign * 18500000),
        fx_usage(f, "ACC-FR", "SMS", 3, 3, 3, sign * 150000000),
        fx_usage(f, "ACC-FR", "VOICE", 2, 815, 900, sign * 300000000),
    };
    return fx_invoice(f, "ACC-FR", number, type, corrects, l, 3);
}

static void assert_contains_all(const char *doc, const char *const *expect, size_t n)
{
    for (size_t k = 0; k < n; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
}

/* Self-contained: nothing is fetched when the page is opened or printed. */
static void assert_self_contained(const char *doc)
{
    const char *banned[] = {"http:", "https:", "<script", "<link", "src=", "url(", "@import"};
    for (size_t k = 0; k < sizeof banned / sizeof *banned; k++)
        cr_assert_null(strstr(doc, banned[k]), "external resource or script: %s", banned[k]);
    cr_assert(
        strncmp(doc, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">", 60) == 0);
    cr_assert(strstr(doc, "@page{size:A4"), "printable on A4");
    cr_assert(strstr(doc, "</body></html>\n"));
}

Test(invoice_html, invoice_shows_parties_lines_vat_totals_and_terms)
{
    fx f;
    fx_load(&f, "EUR");
    char *doc = render(&f, fr_invoice(&f, "INV-2026-000001", RT_INVOICE, NULL, 1));
    const char *expect[] = {
        "<title>Invoice INV-2026-000001</title>",
        "<h1>Invoice</h1>",
        /* seller block */
        "<strong>Lumen Test SAS</strong><br>12 rue de la Paix<br>75002 Paris<br>FR<br>"
        "VAT FR40123456789<br>Registration 123 456 789<br>billing@lumen.example<br>",
        /* document facts */
        "<tr><td class=\"muted\">Invoice number</td><td>INV-2026-000001</td></tr>",
        "<tr><td class=\"muted\">Issue date</td><td>2026-11-01</td></tr>",
        "<tr><td class=\"muted\">Due date</td><td>2026-12-01</td></tr>",
        "<tr><td class=\"muted\">Billing period</td><td>2026-10-01 to 2026-10-31</td></tr>",
        "<tr><td class=\"muted\">Your reference</td><td>PO-7731</td></tr>",
        /* buyer block */
        "<div class=\"muted\">Bill to</div><strong>Boulangerie Martin</strong><br>"
        "3 rue des Lilas<br>75011 Paris<br>FR<br>VAT FR11223344556<br>",
        /* lines: billed usage and the tariff, VAT rate, net */
        "<tr><td>3</td><td>National calls (per minute)<br><span class=\"muted\">2 events; used "
        "815 second</span></td><td class=\"num\">900 second</td><td class=\"num\">0.02 EUR per "
        "60 second</td><td class=\"num\">S 20%</td><td class=\"num\">0.30</td></tr>",
        "<tr><td>2</td><td>SMS<br><span class=\"muted\">3 events; used 3 message</span></td>",
        /* VAT breakdown */
        "<tr><td>S</td><td class=\"num\">20%</td><td class=\"num\">0.47</td>"
        "<td class=\"num\">0.09</td></tr>",
        /* totals */
        "<tr><td>Total excluding VAT</td><td class=\"num\">0.47</td></tr>",
        "<tr><td>VAT</td><td class=\"num\">0.09</td></tr>",
        "<tr><td>Total including VAT</td><td class=\"num\">0.56</td></tr>",
        "<tr class=\"due\"><td>Amount due (EUR)</td><td class=\"num\">0.56</td></tr>",
        /* terms */
        "<p>Payment is due within 30 days of the issue date, by 2026-12-01. Please quote "
        "INV-2026-000001.</p>",
    };
    assert_contains_all(doc, expect, sizeof expect / sizeof *expect);
    cr_assert_null(strstr(doc, "Discounts"), "no discount row without discounts");
    assert_self_contained(doc);
    free(doc);
    fx_free(&f);
}

Test(invoice_html, every_text_from_the_book_is_escaped)
{
    fx f;
    fx_load(&f, "EUR");
    /* A description with markup and bytes that are not UTF-8 (the book does not check). */
    rt_invoice_line l[1] = {fx_usage(&f, "ACC-X", "VOICE", 1, 60, 60, 20000000)};
    l[0].description = "<script>alert('x')</script> \xff\xfe & more";
    size_t i = fx_invoice(&f, "ACC-X", "INV-2026-000002", RT_INVOICE, NULL, l, 1);
    char *doc = render(&f, i);
    cr_assert_null(strstr(doc, "<script"), "%s", doc);
    cr_assert_null(strstr(doc, "<Dupont"));
    cr_assert(strstr(doc, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                          "\xef\xbf\xbd\xef\xbf\xbd &amp; more"),
              "%s", doc);
    cr_assert(strstr(doc, "<strong>&lt;Dupont &amp; Fils&gt; &quot;=SUM(A1)&quot;</strong>"));
    /* This account's own 45-day terms. */
    cr_assert(strstr(doc, "within 45 days of the issue date, by 2026-12-16"));
    assert_self_contained(doc);
    free(doc);
    fx_free(&f);
}

/* The terms' day count is written as printf's "%d" would: zero and, for a due date before
 * the issue date (a book's payment terms never make one, but nothing in a document assumes
 * it), a negative count. */
Test(invoice_html, terms_count_days_as_they_are)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line l[1] = {fx_usage(&f, "ACC-X", "VOICE", 1, 60, 60, 20000000)};
    size_t i = fx_invoice(&f, "ACC-X", "INV-2026-000002", RT_INVOICE, NULL, l, 1);
    static const struct {
        int delta;
        const char *text;
    } cases[] = {{0, "within 0 days of the issue date"},
                 {-2, "within -2 days of the issue date"},
                 {1000, "within 1000 days of the issue date"}};
    for (size_t k = 0; k < 3; k++) {
        f.items[i].due_day = f.items[i].issue_day + cases[k].delta;
        char *doc = render(&f, i);
        cr_assert(strstr(doc, cases[k].text), "%s", cases[k].text);
        free(doc);
    }
    fx_free(&f);
}

Test(invoice_html, credit_note_variant_names_the_reversed_invoice)
{
    fx f;
    fx_load(&f, "EUR");
    fr_invoice(&f, "INV-2026-000001", RT_INVOICE, NULL, 1);
    char *doc = render(&f, fr_invoice(&f, "AV-2026-000001", RT_CREDIT_NOTE, "INV-2026-000001", -1));
    const char *expect[] = {
        "<title>Credit note AV-2026-000001</title>",
        "<h1>Credit note</h1>",
        "<tr><td class=\"muted\">Credit note number</td><td>AV-2026-000001</td></tr>",
        "<tr><td class=\"muted\">Reverses invoice</td><td>INV-2026-000001</td></tr>",
        "<tr class=\"due\"><td>Total credited (EUR)</td><td class=\"num\">0.56</td></tr>",
        "<p>This amount is refunded or offset within 30 days of the issue date",
    };
    assert_contains_all(doc, expect, sizeof expect / sizeof *expect);
    cr_assert_null(strstr(doc, ">-"), "a credit note shows positive figures");
    assert_self_contained(doc);
    free(doc);
    fx_free(&f);
}

/* The credit note of a negative invoice (usage 0.20, discount -0.50, VAT -0.06, gross -0.36),
 * stored with its amounts negated, shows the invoice's figures: it credits -0.36. */
Test(invoice_html, credit_note_of_a_negative_invoice_shows_the_invoice_figures)
{
    fx f;
    fx_load(&f, "EUR");
    size_t c = fx_negative_invoice(&f, "AV-2026-000002", RT_CREDIT_NOTE, "INV-2026-000005", -1);
    cr_assert_eq(f.items[c].gross_minor, 36);
    char *doc = render(&f, c);
    const char *expect[] = {
        "<td class=\"num\">0.20</td></tr>",
        "<td class=\"num\">-0.50</td></tr>",
        "<tr><td>Total excluding VAT</td><td class=\"num\">-0.30</td></tr>",
        "<tr><td>VAT</td><td class=\"num\">-0.06</td></tr>",
        "<tr class=\"due\"><td>Total credited (EUR)</td><td class=\"num\">-0.36</td></tr>",
    };
    assert_contains_all(doc, expect, sizeof expect / sizeof *expect);
    free(doc);
    fx_free(&f);
}

/* Order lines (fx_order_invoice) show their quantity in the product's unit and their price:
 * 2 SIM cards at 10.00, and 18 mobile lines at 14.99 a month prorated to 87.03. */
Test(invoice_html, order_lines_show_their_quantity_unit_and_price)
{
    fx f;
    fx_load(&f, "EUR");
    char *doc = render(&f, fx_order_invoice(&f, "INV-2026-000009"));
    static const char *const expect[] = {
        "<tr><td>1</td><td>SIM card</td><td class=\"num\">2 each</td><td class=\"num\">10.00 "
        "EUR per 1 each</td><td class=\"num\">S 20%</td><td class=\"num\">20.00</td></tr>",
        "<tr><td>3</td><td>Mobile line</td><td class=\"num\">18 month</td><td class=\"num\">"
        "14.99 EUR per 1 month</td><td class=\"num\">S 20%</td><td class=\"num\">87.03</td>",
    };
    assert_contains_all(doc, expect, sizeof expect / sizeof *expect);
    free(doc);
    fx_free(&f);
}

/* A document in another currency than the functional one also gives its VAT in the
 * functional currency, at the rate the journal books it at (as the UBL document's BT-111):
 * 72.37 CHF x 1.0642 = 77.02 EUR. One in the functional currency does not. */
Test(invoice_html, foreign_currency_invoice_gives_its_vat_in_the_accounting_currency)
{
    fx f;
    fx_load_book(&f, "CHF", "EUR", 0);
    char *doc = render(&f, fx_order_invoice(&f, "INV-2026-000010"));
    cr_assert(strstr(doc, "<tr class=\"due\"><td>Amount due (CHF)</td><td class=\"num\">434.23"
                          "</td></tr>\n<tr class=\"muted\"><td>VAT in EUR (1 CHF = 1.0642 EUR)"
                          "</td><td class=\"num\">77.02</td></tr>\n</table>"),
              "%s", doc);
    free(doc);
    fx_free(&f);
    fx_load(&f, "EUR");
    doc = render(&f, fx_order_invoice(&f, "INV-2026-000011"));
    cr_assert_null(strstr(doc, "VAT in "));
    free(doc);
    fx_free(&f);
}

Test(invoice_html, reverse_charge_and_discounts_are_explained)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line l[2] = {
        fx_usage(&f, "ACC-BE", "VOICE", 1, 600, 600, 200000000),
        fx_discount(&f, "ACC-BE", "VOICE", "Welcome offer", -5),
    };
    char *doc = render(&f, fx_invoice(&f, "ACC-BE", "INV-2026-000003", RT_INVOICE, NULL, l, 2));
    const char *expect[] = {
        "<tr><td>AE<br><span class=\"muted\">Reverse charge - Art. 196 Directive 2006/112/EC"
        "</span></td><td class=\"num\">0%</td><td class=\"num\">0.15</td>"
        "<td class=\"num\">0.00</td></tr>",
        "<tr><td>2</td><td>Welcome offer</td>",
        "<td class=\"num\">-0.05</td></tr>",
        "<tr><td>Lines</td><td class=\"num\">0.20</td></tr>",
        "<tr><td>Discounts</td><td class=\"num\">-0.05</td></tr>",
        "<tr><td>Total excluding VAT</td><td class=\"num\">0.15</td></tr>",
        "<tr class=\"due\"><td>Amount due (EUR)</td><td class=\"num\">0.15</td></tr>",
    };
    assert_contains_all(doc, expect, sizeof expect / sizeof *expect);
    free(doc);
    fx_free(&f);
}

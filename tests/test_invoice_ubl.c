/* test_invoice_ubl: UBL 2.1 Invoice and CreditNote documents (EN 16931 / Peppol BIS 3.0).
 *
 * Invoice INV-2026-000001 of ACC-FR (20% VAT), built from the fixture book
 * (tests/fixture_invoices.h), lines in charge order:
 *   1 C_DATA  2 events, 1.750 MB used, 1.843 MB billed, rated 0.0185 -> net 0.02.
 *             1.843 x 0.01 = 0.01843 != 0.02, so the line is one lot: 1 C62 at 0.02.
 *   2 C_SMS   3 events flat 0.05 -> 0.15 = 3 x 0.05: measured, 3 C62 at 0.05 per 1.
 *   3 C_VOICE 2 events, 815 s used, 900 s billed, rated 0.26 + 0.04 -> net 0.30
 *             = 900 x 0.02 / 60: measured, 900 SEC at 0.02 per 60 SEC.
 *   net 0.47, VAT 20% of 0.47 = 0.094 -> 0.09, gross 0.56.
 * Every document is validated against the UBL 2.1 schemas with xmllint when they are found
 * (RATEL_UBL_SCHEMAS, else ../shared/schemas/ubl-2.1); otherwise those tests are skipped
 * with a message saying so. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/money.h"
#include "fixture_invoices.h"
#include "formats/invoice_ubl.h"
#include "formats/invoice_view.h"
#include "testutil.h"

static const char *schema_dir(void)
{
    const char *env = getenv("RATEL_UBL_SCHEMAS");
    return env && env[0] ? env : RATEL_SCHEMA_DIR;
}

/* Validate doc against maindoc/UBL-<root>-2.1.xsd, or skip the test loudly. */
static void assert_schema_valid(const char *doc, const char *root)
{
    char xsd[1024], tmp[256], path[512];
    snprintf(xsd, sizeof xsd, "%s/maindoc/UBL-%s-2.1.xsd", schema_dir(), root);
    if (access(xsd, R_OK) != 0) {
        fprintf(stderr,
                "SKIP: UBL schema %s not found; set RATEL_UBL_SCHEMAS to the "
                "ubl-2.1 directory to validate UBL output\n",
                xsd);
        cr_skip_test("UBL 2.1 schemas not found at %s (set RATEL_UBL_SCHEMAS)", schema_dir());
    }
    if (rt_test_sh("command -v xmllint > /dev/null") != 0) {
        fprintf(stderr, "SKIP: xmllint is not installed; UBL output is not schema-validated\n");
        cr_skip_test("xmllint not installed");
    }
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(path, sizeof path, "%s/doc.xml", tmp);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(doc, f);
    fclose(f);
    int rc =
        rt_test_sh("xmllint --nonet --noout --schema '%s' '%s' 2> '%s/errors.txt'", xsd, path, tmp);
    if (rc != 0) {
        char ep[512];
        snprintf(ep, sizeof ep, "%s/errors.txt", tmp);
        char *errors = rt_test_read(ep, NULL);
        cr_assert_fail("%s is not schema-valid:\n%s\n%s", root, errors ? errors : "", doc);
    }
    rt_test_sh("rm -rf '%s'", tmp);
}

static char *render(fx *f, size_t i)
{
    rt_doc_view v;
    rt_buf b;
    rt_doc_view_init(&v);
    rt_buf_init(&b);
    cr_assert_eq(rt_invoice_ubl(&f->cat, &f->period, &f->items[i], &v, &b), RT_OK);
    rt_buf_putc(&b, '\0');
    rt_doc_view_free(&v);
    return b.data;
}

/* The three lines of the header comment, with a sign for credit notes stored negative. */
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

/* The text between open and the next close after *from; advances *from. */
static int next_text(const char **from, const char *open, const char *close, char *buf, size_t n)
{
    const char *p = strstr(*from, open);
    if (!p) return 0;
    p = strchr(p, '>') + 1;
    const char *e = strstr(p, close);
    cr_assert_not_null(e);
    cr_assert_lt((size_t)(e - p), n);
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = '\0';
    *from = e;
    return 1;
}

static __int128 dec(const char *s)
{
    int64_t v;
    cr_assert_eq(rt_decimal_parse(s, strlen(s), 9, &v), RT_OK, "'%s' is not a decimal", s);
    return v;
}

/* Peppol: line net = quantity x price / base quantity, exactly, for every line; and every
 * amount (not prices) has exactly `minor` decimals. Returns the number of lines checked. */
static int check_lines(const char *doc, const char *line_tag, const char *qty_tag, unsigned minor)
{
    int n = 0;
    char open[64], qo[64];
    snprintf(open, sizeof open, "<cac:%s>", line_tag);
    snprintf(qo, sizeof qo, "<cbc:%s ", qty_tag);
    for (const char *p = strstr(doc, open); p; p = strstr(p + 1, open), n++) {
        char q[64], net[64], price[64], base[64];
        const char *c = p;
        cr_assert(next_text(&c, qo, "</cbc:", q, sizeof q));
        cr_assert(next_text(&c, "<cbc:LineExtensionAmount ", "</cbc:", net, sizeof net));
        cr_assert(next_text(&c, "<cbc:PriceAmount ", "</cbc:", price, sizeof price));
        cr_assert(next_text(&c, "<cbc:BaseQuantity ", "</cbc:", base, sizeof base));
        /* q x price / base == net, all at 9 decimals: q x price x 10^9 == net x base x 10^9 */
        cr_assert(dec(q) * dec(price) == dec(net) * dec(base), "line %d: %s x %s / %s != %s", n + 1,
                  q, price, base, net);
        cr_assert(price[0] != '-', "a price is never negative");
    }
    /* Amount elements other than prices carry exactly the minor units. */
    for (const char *p = strstr(doc, "currencyID="); p; p = strstr(p + 1, "currencyID=")) {
        const char *gt = strchr(p, '>'), *lt = strchr(gt, '<');
        if (strncmp(lt, "</cbc:PriceAmount>", 18) == 0) continue;
        const char *dot = memchr(gt, '.', (size_t)(lt - gt));
        size_t decimals = dot ? (size_t)(lt - dot - 1) : 0;
        cr_assert_eq(decimals, minor, "amount %.*s", (int)(lt - gt - 1), gt + 1);
    }
    return n;
}

Test(invoice_ubl, invoice_is_schema_valid_with_exact_amounts)
{
    fx f;
    fx_load(&f, "EUR");
    size_t i = fr_invoice(&f, "INV-2026-000001", RT_INVOICE, NULL, 1);
    cr_assert_eq(f.items[i].gross_minor, 56);
    char *doc = render(&f, i);
    const char *expect[] = {
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"",
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:"
        "billing:3.0</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:"
        "01:1.0</cbc:ProfileID><cbc:ID>INV-2026-000001</cbc:ID><cbc:IssueDate>2026-11-01"
        "</cbc:IssueDate><cbc:DueDate>2026-12-01</cbc:DueDate><cbc:InvoiceTypeCode>380"
        "</cbc:InvoiceTypeCode><cbc:TaxPointDate>2026-10-31</cbc:TaxPointDate>"
        "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:BuyerReference>PO-7731"
        "</cbc:BuyerReference><cac:InvoicePeriod><cbc:StartDate>2026-10-01</cbc:StartDate>"
        "<cbc:EndDate>2026-10-31</cbc:EndDate></cac:InvoicePeriod>",
        "<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID=\"0002\">123456789"
        "</cbc:EndpointID><cac:PartyName>",
        "<cac:PartyTaxScheme><cbc:CompanyID>FR40123456789</cbc:CompanyID>",
        "<cac:PartyLegalEntity><cbc:RegistrationName>Lumen Test SAS</cbc:RegistrationName>"
        "<cbc:CompanyID>123 456 789</cbc:CompanyID></cac:PartyLegalEntity>",
        "<cac:PartyIdentification><cbc:ID>ACC-FR</cbc:ID></cac:PartyIdentification>",
        "<cac:PartyTaxScheme><cbc:CompanyID>FR11223344556</cbc:CompanyID>",
        "<cac:PaymentTerms><cbc:Note>Payment due within 30 days of the issue date, by "
        "2026-12-01.</cbc:Note></cac:PaymentTerms>",
        "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">0.09</cbc:TaxAmount><cac:TaxSubtotal>"
        "<cbc:TaxableAmount currencyID=\"EUR\">0.47</cbc:TaxableAmount><cbc:TaxAmount "
        "currencyID=\"EUR\">0.09</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID>"
        "<cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        "</cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>",
        "<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID=\"EUR\">0.47"
        "</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount currencyID=\"EUR\">0.47"
        "</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID=\"EUR\">0.56"
        "</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID=\"EUR\">0.56"
        "</cbc:PayableAmount></cac:LegalMonetaryTotal>",
        /* line 1: one lot at the line net, usage in the properties */
        "<cbc:InvoicedQuantity unitCode=\"C62\">1</cbc:InvoicedQuantity><cbc:LineExtensionAmount "
        "currencyID=\"EUR\">0.02</cbc:LineExtensionAmount>",
        "<cbc:Name>Quantity used</cbc:Name><cbc:Value>1.750 megabyte</cbc:Value>",
        "<cbc:Name>Quantity billed</cbc:Name><cbc:Value>1.843 megabyte</cbc:Value>",
        "<cbc:Name>Rate</cbc:Name><cbc:Value>0.01 EUR per 1 megabyte</cbc:Value>",
        /* line 2: flat price per event */
        "<cbc:InvoicedQuantity unitCode=\"C62\">3</cbc:InvoicedQuantity><cbc:LineExtensionAmount "
        "currencyID=\"EUR\">0.15</cbc:LineExtensionAmount>",
        "<cac:Price><cbc:PriceAmount currencyID=\"EUR\">0.05</cbc:PriceAmount><cbc:BaseQuantity "
        "unitCode=\"C62\">1</cbc:BaseQuantity></cac:Price>",
        /* line 3: the real quantity, unit code and price per 60 seconds */
        "<cbc:ID>3</cbc:ID><cbc:InvoicedQuantity unitCode=\"SEC\">900</cbc:InvoicedQuantity>"
        "<cbc:LineExtensionAmount currencyID=\"EUR\">0.30</cbc:LineExtensionAmount>",
        "<cac:Price><cbc:PriceAmount currencyID=\"EUR\">0.02</cbc:PriceAmount><cbc:BaseQuantity "
        "unitCode=\"SEC\">60</cbc:BaseQuantity></cac:Price>",
        "<cbc:Name>National calls (per minute)</cbc:Name><cac:SellersItemIdentification>"
        "<cbc:ID>VOICE</cbc:ID></cac:SellersItemIdentification><cac:ClassifiedTaxCategory>"
        "<cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent>",
    };
    for (size_t k = 0; k < sizeof expect / sizeof *expect; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
    cr_assert_null(strstr(doc, "AllowanceTotalAmount"), "no allowance without discounts");
    cr_assert_null(strstr(doc, "TaxExemptionReason"), "no exemption reason for S");
    cr_assert_eq(check_lines(doc, "InvoiceLine", "InvoicedQuantity", 2), 3);
    assert_schema_valid(doc, "Invoice");
    free(doc);
    fx_free(&f);
}

Test(invoice_ubl, credit_note_is_schema_valid_and_shows_positive_amounts)
{
    fx f;
    fx_load(&f, "EUR");
    fr_invoice(&f, "INV-2026-000001", RT_INVOICE, NULL, 1);
    size_t neg = fr_invoice(&f, "AV-2026-000001", RT_CREDIT_NOTE, "INV-2026-000001", -1);
    cr_assert_eq(f.items[neg].gross_minor, -56);
    char *doc = render(&f, neg);
    const char *expect[] = {
        "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\"",
        "<cbc:ID>AV-2026-000001</cbc:ID><cbc:IssueDate>2026-11-01</cbc:IssueDate>"
        "<cbc:TaxPointDate>2026-10-31</cbc:TaxPointDate><cbc:CreditNoteTypeCode>381"
        "</cbc:CreditNoteTypeCode><cbc:Note>Credit note reversing invoice INV-2026-000001."
        "</cbc:Note><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
        "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-2026-000001</cbc:ID>"
        "</cac:InvoiceDocumentReference></cac:BillingReference>",
        /* UBL 2.1 CreditNote has no header DueDate: Peppol puts it in PaymentMeans */
        "<cac:PaymentMeans><cbc:PaymentMeansCode>1</cbc:PaymentMeansCode><cbc:PaymentDueDate>"
        "2026-12-01</cbc:PaymentDueDate><cbc:PaymentID>AV-2026-000001</cbc:PaymentID>",
        "<cbc:PayableAmount currencyID=\"EUR\">0.56</cbc:PayableAmount>",
        "<cbc:TaxableAmount currencyID=\"EUR\">0.47</cbc:TaxableAmount>",
        "<cac:CreditNoteLine><cbc:ID>1</cbc:ID>",
        "<cbc:CreditedQuantity unitCode=\"SEC\">900</cbc:CreditedQuantity>",
    };
    for (size_t k = 0; k < sizeof expect / sizeof *expect; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
    cr_assert_null(strstr(doc, "<cbc:DueDate>"));
    cr_assert_null(strstr(doc, ">-"), "a credit note shows no negative figure");
    cr_assert_eq(check_lines(doc, "CreditNoteLine", "CreditedQuantity", 2), 3);
    assert_schema_valid(doc, "CreditNote");
    free(doc);
    fx_free(&f);
}

/* The text from the first `from` to the next `to` after it (NUL-terminated, malloc'd). */
static char *section(const char *doc, const char *from, const char *to)
{
    const char *a = strstr(doc, from);
    cr_assert_not_null(a, "missing: %s", from);
    const char *e = strstr(a, to);
    cr_assert_not_null(e, "missing: %s", to);
    return strndup(a, (size_t)(e - a));
}

/* A discount larger than the usage makes a negative invoice (fx_negative_invoice: net 0.20 -
 * 0.50 = -0.30, VAT -0.06, gross -0.36). The engine stores its credit note with every amount negated (+0.36):
 * the credit note must show the invoice's own figures, payable -0.36, which reverses it, as
 * invoices.csv and the journal do (the customer owes 0.36 back). */
Test(invoice_ubl, credit_note_of_a_negative_invoice_shows_the_invoice_figures)
{
    fx f;
    fx_load(&f, "EUR");
    size_t i = fx_negative_invoice(&f, "INV-2026-000005", RT_INVOICE, NULL, 1);
    size_t c = fx_negative_invoice(&f, "AV-2026-000002", RT_CREDIT_NOTE, "INV-2026-000005", -1);
    cr_assert_eq(f.items[i].gross_minor, -36);
    cr_assert_eq(f.items[c].gross_minor, 36);
    char *inv = render(&f, i), *cn = render(&f, c);
    cr_assert(strstr(cn, "<cbc:PayableAmount currencyID=\"EUR\">-0.36</cbc:PayableAmount>"), "%s",
              cn);
    /* Totals, VAT and allowances read as on the invoice. */
    static const char *const parts[][2] = {
        {"<cac:AllowanceCharge>", "<cac:TaxTotal>"},
        {"<cac:TaxTotal>", "</cac:TaxTotal>"},
        {"<cac:LegalMonetaryTotal>", "</cac:LegalMonetaryTotal>"},
    };
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        char *a = section(inv, parts[k][0], parts[k][1]);
        char *b = section(cn, parts[k][0], parts[k][1]);
        cr_assert_str_eq(a, b);
        free(a);
        free(b);
    }
    /* The usage line is credited positive, as it was invoiced. */
    cr_assert(strstr(cn, "<cbc:CreditedQuantity unitCode=\"SEC\">600</cbc:CreditedQuantity>"
                         "<cbc:LineExtensionAmount currencyID=\"EUR\">0.20"),
              "%s", cn);
    cr_assert_eq(check_lines(cn, "CreditNoteLine", "CreditedQuantity", 2), 1);
    assert_schema_valid(cn, "CreditNote");
    free(inv);
    free(cn);
    fx_free(&f);
}

Test(invoice_ubl, reverse_charge_invoice_carries_its_exemption_reason)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line l[2] = {
        fx_usage(&f, "ACC-BE", "SMS", 1, 1, 1, 50000000),
        fx_usage(&f, "ACC-BE", "VOICE", 2, 660, 660, 135000000 + 27000000),
    };
    size_t i = fx_invoice(&f, "ACC-BE", "INV-2026-000002", RT_INVOICE, NULL, l, 2);
    char *doc = render(&f, i);
    const char *expect[] = {
        "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">0.00</cbc:TaxAmount><cac:TaxSubtotal>"
        "<cbc:TaxableAmount currencyID=\"EUR\">0.21</cbc:TaxableAmount><cbc:TaxAmount "
        "currencyID=\"EUR\">0.00</cbc:TaxAmount><cac:TaxCategory><cbc:ID>AE</cbc:ID>"
        "<cbc:Percent>0</cbc:Percent><cbc:TaxExemptionReasonCode>VATEX-EU-AE"
        "</cbc:TaxExemptionReasonCode><cbc:TaxExemptionReason>Reverse charge - Art. 196 "
        "Directive 2006/112/EC</cbc:TaxExemptionReason><cac:TaxScheme><cbc:ID>VAT</cbc:ID>"
        "</cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>",
        "<cac:PartyTaxScheme><cbc:CompanyID>BE0123456789</cbc:CompanyID>",
        "<cac:Country><cbc:IdentificationCode>BE</cbc:IdentificationCode></cac:Country>",
        "<cbc:BuyerReference>VD-2026</cbc:BuyerReference>",
        "<cbc:PayableAmount currencyID=\"EUR\">0.21</cbc:PayableAmount>",
        /* 660 s x 0.02 / 60 = 0.22 but the events were rated 0.162 (connection fees): one lot */
        ("<cbc:InvoicedQuantity unitCode=\"C62\">1</cbc:InvoicedQuantity><cbc:LineExtensionAmount "
         "currencyID=\"EUR\">0.16</cbc:LineExtensionAmount>"),
        "<cac:ClassifiedTaxCategory><cbc:ID>AE</cbc:ID><cbc:Percent>0</cbc:Percent>",
    };
    for (size_t k = 0; k < sizeof expect / sizeof *expect; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
    cr_assert_eq(check_lines(doc, "InvoiceLine", "InvoicedQuantity", 2), 2);
    assert_schema_valid(doc, "Invoice");
    free(doc);
    fx_free(&f);
}

Test(invoice_ubl, discounts_become_document_level_allowances)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line l[2] = {
        fx_usage(&f, "ACC-FR", "VOICE", 1, 600, 600, 200000000),
        fx_discount(&f, "ACC-FR", "VOICE", "Loyalty discount", -5),
    };
    size_t i = fx_invoice(&f, "ACC-FR", "INV-2026-000003", RT_INVOICE, NULL, l, 2);
    /* net 0.20 - 0.05 = 0.15, VAT 0.03, gross 0.18 */
    cr_assert_eq(f.items[i].gross_minor, 18);
    char *doc = render(&f, i);
    const char *expect[] = {
        "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
        "<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>"
        "<cbc:AllowanceChargeReason>Loyalty discount</cbc:AllowanceChargeReason>"
        "<cbc:Amount currencyID=\"EUR\">0.05</cbc:Amount><cac:TaxCategory><cbc:ID>S</cbc:ID>"
        "<cbc:Percent>20</cbc:Percent>",
        "<cbc:LineExtensionAmount currencyID=\"EUR\">0.20</cbc:LineExtensionAmount>"
        "<cbc:TaxExclusiveAmount currencyID=\"EUR\">0.15</cbc:TaxExclusiveAmount>"
        "<cbc:TaxInclusiveAmount currencyID=\"EUR\">0.18</cbc:TaxInclusiveAmount>"
        "<cbc:AllowanceTotalAmount currencyID=\"EUR\">0.05</cbc:AllowanceTotalAmount>"
        "<cbc:PayableAmount currencyID=\"EUR\">0.18</cbc:PayableAmount>",
        "<cbc:TaxableAmount currencyID=\"EUR\">0.15</cbc:TaxableAmount>",
    };
    for (size_t k = 0; k < sizeof expect / sizeof *expect; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
    cr_assert_eq(check_lines(doc, "InvoiceLine", "InvoicedQuantity", 2), 1,
                 "the discount is not a line");
    assert_schema_valid(doc, "Invoice");
    free(doc);
    fx_free(&f);
}

Test(invoice_ubl, text_is_escaped_and_amounts_follow_the_currency_minor_units)
{
    fx f;
    fx_load(&f, "JPY");
    /* 2 calls rated 1,230 JPY in all (as if by connection fees): 1 lot; VAT 246 JPY. */
    rt_invoice_line l[1] = {fx_usage(&f, "ACC-X", "VOICE", 2, 120, 120, INT64_C(1230000000000))};
    size_t i = fx_invoice(&f, "ACC-X", "INV-2026-000004", RT_INVOICE, NULL, l, 1);
    char *doc = render(&f, i);
    cr_assert(strstr(doc, "<cbc:Name>&lt;Dupont &amp; Fils&gt; &quot;=SUM(A1)&quot;</cbc:Name>"),
              "%s", doc);
    cr_assert(strstr(doc, "<cbc:PayableAmount currencyID=\"JPY\">1476</cbc:PayableAmount>"));
    cr_assert(strstr(doc, "<cbc:TaxAmount currencyID=\"JPY\">246</cbc:TaxAmount>"));
    /* No buyer reference in the book: the account id is the buyer reference. */
    cr_assert(strstr(doc, "<cbc:BuyerReference>ACC-X</cbc:BuyerReference>"));
    /* 45-day terms of this account. */
    cr_assert(strstr(doc, "<cbc:DueDate>2026-12-16</cbc:DueDate>"));
    cr_assert_eq(check_lines(doc, "InvoiceLine", "InvoicedQuantity", 0), 1);
    assert_schema_valid(doc, "Invoice");
    free(doc);
    fx_free(&f);
}

static size_t count(const char *doc, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(doc, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* PEPPOL-EN16931-R110/R111: a line's InvoicePeriod lies within the document's (October). A
 * fee billed in advance for November and a back-dated one for September carry their service
 * days in an item property instead. */
Test(invoice_ubl, line_periods_lie_within_the_document_period)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line l[3] = {
        fx_usage(&f, "ACC-FR", "SMS", 3, 3, 3, 150000000),
        fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 100000000),
        fx_usage(&f, "ACC-FR", "SMS", 1, 1, 1, 50000000),
    };
    /* Line 2 bills November in advance, line 3 is a September adjustment. */
    const rt_days november = f.period.end_day, september = f.period.start_day - 30;
    l[1].service_start_day = november;
    l[1].service_end_day = november + 30;
    l[2].service_start_day = september;
    l[2].service_end_day = september + 30;
    size_t i = fx_invoice(&f, "ACC-FR", "INV-2026-000006", RT_INVOICE, NULL, l, 3);
    char *doc = render(&f, i);
    static const char *const expect[] = {
        "<cbc:LineExtensionAmount currencyID=\"EUR\">0.15</cbc:LineExtensionAmount>"
        "<cac:InvoicePeriod><cbc:StartDate>2026-10-01</cbc:StartDate><cbc:EndDate>2026-10-31"
        "</cbc:EndDate></cac:InvoicePeriod><cac:Item>",
        "<cbc:LineExtensionAmount currencyID=\"EUR\">0.10</cbc:LineExtensionAmount><cac:Item>",
        "<cac:AdditionalItemProperty><cbc:Name>Service period</cbc:Name><cbc:Value>2026-11-01 "
        "to 2026-11-30</cbc:Value></cac:AdditionalItemProperty></cac:Item>",
        "<cbc:LineExtensionAmount currencyID=\"EUR\">0.05</cbc:LineExtensionAmount><cac:Item>",
        "<cac:AdditionalItemProperty><cbc:Name>Service period</cbc:Name><cbc:Value>2026-09-01 "
        "to 2026-09-30</cbc:Value></cac:AdditionalItemProperty></cac:Item>",
    };
    for (size_t k = 0; k < sizeof expect / sizeof *expect; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
    cr_assert_eq(count(doc, "<cac:InvoicePeriod>"), 2, "the document's and line 1's only");
    cr_assert_eq(count(doc, "<cbc:Name>Service period</cbc:Name>"), 2);
    assert_schema_valid(doc, "Invoice");
    free(doc);
    fx_free(&f);
}

/* PEPPOL-EN16931-CL008: an EndpointID's scheme is in Peppol's EAS list (an e-mail address, "EM",
 * is not). The seller, French with a SIREN, is addressed by it (0002, without its spaces); a
 * buyer by its VAT number under its country's EAS VAT scheme (9957 France, 9925 Belgium); a
 * buyer without one (ACC-X) and a seller with neither have no EndpointID. A participant id
 * the book gives (peppol_id) comes first. */
Test(invoice_ubl, electronic_addresses_use_peppol_eas_schemes)
{
    fx f;
    fx_load(&f, "EUR");
    const char *buyers[][2] = {
        {"ACC-FR", "<cbc:EndpointID schemeID=\"9957\">FR11223344556</cbc:EndpointID>"},
        {"ACC-BE", "<cbc:EndpointID schemeID=\"9925\">BE0123456789</cbc:EndpointID>"},
        {"ACC-X", NULL},
    };
    for (size_t k = 0; k < sizeof buyers / sizeof *buyers; k++) {
        rt_invoice_line l[1] = {fx_usage(&f, buyers[k][0], "SMS", 1, 1, 1, 50000000)};
        char *doc = render(&f, fx_invoice(&f, buyers[k][0], "INV-2026-000007", RT_INVOICE, NULL,
                                          l, 1));
        const char *buyer = strstr(doc, "<cac:AccountingCustomerParty>");
        cr_assert_not_null(buyer);
        cr_assert(strstr(doc, "<cbc:EndpointID schemeID=\"0002\">123456789</cbc:EndpointID>") <
                      buyer, "the seller's SIREN: %s", doc);
        if (buyers[k][1])
            cr_assert(strstr(buyer, buyers[k][1]), "%s: %s", buyers[k][0], buyer);
        else
            cr_assert_null(strstr(buyer, "EndpointID"), "%s: %s", buyers[k][0], buyer);
        cr_assert_null(strstr(doc, "schemeID=\"EM\""));
        assert_schema_valid(doc, "Invoice");
        free(doc);
    }
    /* A seller without a SIREN is addressed by its VAT number; without either, not at all. */
    const rt_company *book_company = f.cat.company;
    rt_company co = *book_company;
    f.cat.company = &co;
    co.registration_id = "";
    rt_invoice_line l[1] = {fx_usage(&f, "ACC-X", "SMS", 1, 1, 1, 50000000)};
    size_t i = fx_invoice(&f, "ACC-X", "INV-2026-000008", RT_INVOICE, NULL, l, 1);
    char *doc = render(&f, i);
    cr_assert(strstr(doc, "<cbc:EndpointID schemeID=\"9957\">FR40123456789</cbc:EndpointID>"),
              "%s", doc);
    free(doc);
    co.vat_id = "";
    doc = render(&f, i);
    cr_assert_null(strstr(doc, "EndpointID"), "%s", doc);
    free(doc);
    /* The VAT schemes of countries outside the 99xx run: Austria 9914, Italy 0211. */
    static const char *const vat[][2] = {{"ATU12345678", "9914"}, {"IT12345678901", "0211"}};
    for (size_t k = 0; k < 2; k++) {
        co.vat_id = vat[k][0];
        doc = render(&f, i);
        char want[96];
        snprintf(want, sizeof want, "<cbc:EndpointID schemeID=\"%s\">%s</cbc:EndpointID>", vat[k][1],
                 vat[k][0]);
        cr_assert(strstr(doc, want), "%s", doc);
        free(doc);
    }
    /* A participant id in the book (peppol_id) comes before the SIREN and the VAT number: a
     * Danish buyer's CVR number (0184), a seller's GLN (0088). */
    co.vat_id = book_company->vat_id;
    co.registration_id = book_company->registration_id;
    co.peppol_id = "0088:5790000435975";
    const rt_account *book_accounts = f.cat.accounts;
    size_t count_accounts = f.cat.account_count;
    rt_account *accounts = malloc(count_accounts * sizeof *accounts);
    cr_assert_not_null(accounts);
    memcpy(accounts, book_accounts, count_accounts * sizeof *accounts);
    accounts[fx_account(&f, "ACC-X")].peppol_id = "0184:DK12345678";
    f.cat.accounts = accounts;
    doc = render(&f, i);
    const char *buyer = strstr(doc, "<cac:AccountingCustomerParty>");
    cr_assert_not_null(buyer);
    cr_assert(strstr(doc, "<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="
                          "\"0088\">5790000435975</cbc:EndpointID>"),
              "%s", doc);
    cr_assert(strstr(buyer, "<cac:Party><cbc:EndpointID schemeID=\"0184\">DK12345678"
                            "</cbc:EndpointID><cac:PartyIdentification>"),
              "%s", doc);
    assert_schema_valid(doc, "Invoice");
    free(doc);
    f.cat.accounts = book_accounts;
    free(accounts);
    f.cat.company = book_company;
    fx_free(&f);
}

/* Every piece of expect is in doc, its `lines` lines hold net = quantity x price / base, and
 * it is a schema-valid Invoice. Frees doc. */
static void assert_invoice_doc(char *doc, const char *const *expect, size_t n, int lines)
{
    for (size_t k = 0; k < n; k++)
        cr_assert(strstr(doc, expect[k]), "missing: %s\nin:\n%s", expect[k], doc);
    cr_assert_eq(check_lines(doc, "InvoiceLine", "InvoicedQuantity", 2), lines);
    assert_schema_valid(doc, "Invoice");
    free(doc);
}

/* Order lines (fx_order_invoice) use the measured form when quantity x price gives the net
 * exactly: 2 SIM cards at 10.00 (20.00), 18 mobile lines at 14.99 a month (269.82), a
 * cancelled line's credit (-14.99) as -1 line. The prorated line (18 lines for 10 of 31 days:
 * 87.03) is a lot with a note, its quantity and price in the item properties. */
Test(invoice_ubl, order_lines_show_their_quantity_unit_and_price)
{
    fx f;
    fx_load(&f, "EUR");
    char *doc = render(&f, fx_order_invoice(&f, "INV-2026-000009"));
    static const char *const expect[] = {
        "<cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode=\"H87\">2</cbc:InvoicedQuantity>"
        "<cbc:LineExtensionAmount currencyID=\"EUR\">20.00</cbc:LineExtensionAmount>",
        "<cac:Price><cbc:PriceAmount currencyID=\"EUR\">10.00</cbc:PriceAmount><cbc:BaseQuantity "
        "unitCode=\"H87\">1</cbc:BaseQuantity></cac:Price>",
        "<cbc:ID>2</cbc:ID><cbc:InvoicedQuantity unitCode=\"MON\">18</cbc:InvoicedQuantity>"
        "<cbc:LineExtensionAmount currencyID=\"EUR\">269.82</cbc:LineExtensionAmount>",
        "<cac:Price><cbc:PriceAmount currencyID=\"EUR\">14.99</cbc:PriceAmount><cbc:BaseQuantity "
        "unitCode=\"MON\">1</cbc:BaseQuantity></cac:Price>",
        "<cbc:ID>3</cbc:ID><cbc:Note>Quantity 1 is the whole line: its amount is not quantity x "
        "price",
        "<cbc:InvoicedQuantity unitCode=\"C62\">1</cbc:InvoicedQuantity><cbc:LineExtensionAmount "
        "currencyID=\"EUR\">87.03</cbc:LineExtensionAmount>",
        "<cac:AdditionalItemProperty><cbc:Name>Quantity billed</cbc:Name><cbc:Value>18 month"
        "</cbc:Value></cac:AdditionalItemProperty><cac:AdditionalItemProperty><cbc:Name>Rate"
        "</cbc:Name><cbc:Value>14.99 EUR per 1 month</cbc:Value>",
        "<cbc:ID>4</cbc:ID><cbc:InvoicedQuantity unitCode=\"MON\">-1</cbc:InvoicedQuantity>"
        "<cbc:LineExtensionAmount currencyID=\"EUR\">-14.99</cbc:LineExtensionAmount>",
    };
    assert_invoice_doc(doc, expect, sizeof expect / sizeof *expect, 4);
    fx_free(&f);
}

/* ACC-BE's invoice of one SMS (0.05, VAT 0), its VAT category made `code`. */
static char *render_in_category(fx *f, const char *number, rt_vat_code code)
{
    rt_invoice_line l[1] = {fx_usage(f, "ACC-BE", "SMS", 1, 1, 1, 50000000)};
    size_t i = fx_invoice(f, "ACC-BE", number, RT_INVOICE, NULL, l, 1);
    f->items[i].taxes[0].vat_code = (int32_t)code;
    return render(f, i);
}

/* BR-O-02: an invoice outside the scope of VAT (O) carries neither the seller's nor the
 * buyer's VAT identifier. BR-IC-12: an intra-community supply (K) has a deliver-to country,
 * the buyer's. */
Test(invoice_ubl, out_of_scope_and_intra_community_rules)
{
    fx f;
    fx_load(&f, "EUR");
    char *o = render_in_category(&f, "INV-2026-000010", RT_VAT_O);
    cr_assert(strstr(o, "<cbc:ID>O</cbc:ID>"), "%s", o);
    cr_assert_null(strstr(o, "<cac:PartyTaxScheme>"), "%s", o);
    cr_assert_null(strstr(o, "<cac:Delivery>"), "%s", o);
    assert_schema_valid(o, "Invoice");
    free(o);
    char *k = render_in_category(&f, "INV-2026-000011", RT_VAT_K);
    cr_assert(strstr(k, "</cac:AccountingCustomerParty><cac:Delivery><cac:DeliveryLocation>"
                        "<cac:Address><cac:Country><cbc:IdentificationCode>BE"
                        "</cbc:IdentificationCode></cac:Country></cac:Address>"
                        "</cac:DeliveryLocation></cac:Delivery><cac:PaymentMeans>"),
              "%s", k);
    cr_assert(strstr(k, "<cac:PartyTaxScheme><cbc:CompanyID>FR40123456789</cbc:CompanyID>"));
    cr_assert(strstr(k, "<cac:PartyTaxScheme><cbc:CompanyID>BE0123456789</cbc:CompanyID>"));
    assert_schema_valid(k, "Invoice");
    free(k);
    fx_free(&f);
}

Test(invoice_ubl, document_file_names_are_safe_and_distinct)
{
    char a[128], b[128];
    cr_assert_eq(rt_doc_file_name("INV-2026-000001", ".xml", a, sizeof a), RT_OK);
    cr_assert_str_eq(a, "INV-2026-000001.xml");
    cr_assert_eq(rt_doc_file_name("FA/2026/7", ".xml", a, sizeof a), RT_OK);
    cr_assert_str_eq(a, "FA%2F2026%2F7.xml");
    cr_assert_eq(rt_doc_file_name("FA_2026_7", ".xml", b, sizeof b), RT_OK);
    cr_assert_str_neq(a, b);
    cr_assert_eq(rt_doc_file_name("..", ".xml", a, sizeof a), RT_OK);
    cr_assert_str_eq(a, "%2E..xml");
    cr_assert_eq(rt_doc_file_name("X", ".xml", a, 5), RT_ELIMIT);
}

/* The VAT booked for invoice i by the journal, in the functional currency's minor units. */
static int64_t journal_vat(const fx *f, size_t i)
{
    int64_t vat = 0;
    for (size_t k = 0; k < f->journal.count; k++) {
        const rt_journal_line *l = &f->journal.lines[k];
        if (l->invoice == i && l->kind == RT_JL_VAT) vat += l->credit_minor - l->debit_minor;
    }
    return vat;
}

/* EN 16931 BT-6 and BT-111: a document in another currency than the functional one (CHF
 * under French VAT, the books in EUR) names EUR as its VAT accounting currency and gives its
 * VAT total in EUR in a second TaxTotal without subtotals, converted as the journal books
 * it: at the rate in force on the issue date (1.0642 from 2026-11-01, not October's 1.05),
 * half-up, 72.37 CHF x 1.0642 = 77.016154 -> 77.02 EUR. A credit note gives the reversed
 * invoice's figure, at the rate that invoice was booked at. */
Test(invoice_ubl, foreign_currency_document_gives_its_vat_in_the_accounting_currency)
{
    fx f;
    fx_load_book(&f, "CHF", "EUR", 0);
    size_t i = fx_order_invoice(&f, "INV-2026-000007");
    size_t c = fx_order_document(&f, "AV-2026-000007", RT_CREDIT_NOTE, "INV-2026-000007", -1);
    f.items[c].fx_rate_nanos = INT64_C(1050000000); /* its invoice was booked at 1.05 */
    cr_assert_eq(f.items[i].tax_minor, 7237);    /* 20% of 361.86 */
    fx_finish(&f);
    cr_assert_eq(journal_vat(&f, i), 7702, "the journal books 77.02 EUR of VAT");
    cr_assert_eq(journal_vat(&f, c), -7599, "and reverses 75.99 EUR at 1.05 (75.9885)");

    char *doc = render(&f, i);
    cr_assert(strstr(doc, "<cbc:DocumentCurrencyCode>CHF</cbc:DocumentCurrencyCode>"
                          "<cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode><cbc:BuyerReference>"),
              "%s", doc);
    cr_assert(strstr(doc, "</cac:TaxTotal><cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">77.02"
                          "</cbc:TaxAmount></cac:TaxTotal><cac:LegalMonetaryTotal>"),
              "%s", doc);
    cr_assert(strstr(doc, "<cac:TaxTotal><cbc:TaxAmount currencyID=\"CHF\">72.37</cbc:TaxAmount>"
                          "<cac:TaxSubtotal>"));
    cr_assert_eq(count(doc, "<cac:TaxTotal>"), 2);
    cr_assert_eq(count(doc, "currencyID=\"EUR\""), 1, "only BT-111 is in EUR");
    assert_schema_valid(doc, "Invoice");
    free(doc);

    char *cn = render(&f, c);
    cr_assert(strstr(cn, "<cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>"), "%s", cn);
    cr_assert(strstr(cn, "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">75.99</cbc:TaxAmount>"
                         "</cac:TaxTotal>"),
              "%s", cn);
    assert_schema_valid(cn, "CreditNote");
    free(cn);
    fx_free(&f);
}

/* A document in the functional currency has neither. */
Test(invoice_ubl, functional_currency_document_has_no_tax_currency)
{
    fx f;
    fx_load(&f, "EUR");
    char *doc = render(&f, fx_order_invoice(&f, "INV-2026-000008"));
    cr_assert_null(strstr(doc, "TaxCurrencyCode"));
    cr_assert_eq(count(doc, "<cac:TaxTotal>"), 1);
    free(doc);
    fx_free(&f);
}

/* The journal cannot book a document without an FX rate, and neither can it be shown: the
 * view fails (the run reports it) rather than leave BT-111 out. */
Test(invoice_ubl, foreign_currency_document_without_a_rate_is_not_rendered)
{
    fx f;
    fx_load_book(&f, "CHF", "EUR", 0);
    size_t i = fx_order_invoice(&f, "INV-2026-000009");
    f.items[i].issue_day = rt_days_from_civil(2025, 12, 1); /* before the first rate */
    rt_doc_view v;
    rt_buf b;
    rt_doc_view_init(&v);
    rt_buf_init(&b);
    cr_assert_eq(rt_invoice_ubl(&f.cat, &f.period, &f.items[i], &v, &b), RT_ENOTFOUND);
    rt_buf_free(&b);
    rt_doc_view_free(&v);
    fx_free(&f);
}

/* invoice_ubl: UBL 2.1 Invoice and CreditNote documents. */
#include "formats/invoice_ubl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/invoice_files.h"
#include "formats/markup.h"

#define NS_CAC "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
#define NS_CBC "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

/* ---- small element writers ---- */

static bool present(const char *s)
{
    return s && s[0];
}

/* The element writers below are inlined into every call: element names are literals of this
 * file, so rt_buf_puts's strlen of them is folded where the writer is expanded. */
#define UBL_WRITER static inline __attribute__((always_inline))

/* open + name + ">", for element names that are literals of this file (no escaping needed). */
UBL_WRITER void tag(rt_buf *b, const char *open, const char *name)
{
    rt_buf_puts(b, open);
    rt_buf_puts(b, name);
    rt_buf_putc(b, '>');
}

/* <cbc:name>text</cbc:name>; nothing when text is empty (UBL elements are never empty). */
UBL_WRITER void cbc(rt_buf *b, const char *name, const char *text)
{
    if (!present(text)) return;
    tag(b, "<cbc:", name);
    rt_markup_cstr(b, text);
    tag(b, "</cbc:", name);
}

/* <cbc:name attr=" : the element's value and the rest follow. */
UBL_WRITER void open_attr(rt_buf *b, const char *name, const char *attr)
{
    rt_buf_puts(b, "<cbc:");
    rt_buf_puts(b, name);
    rt_buf_putc(b, ' ');
    rt_buf_puts(b, attr);
    rt_buf_puts(b, "=\"");
}

/* <cbc:name attr="value">text</cbc:name>. */
UBL_WRITER void cbc_attr(rt_buf *b, const char *name, const char *attr, const char *value,
                         const char *text)
{
    if (!present(text)) return;
    open_attr(b, name, attr);
    rt_markup_cstr(b, value);
    rt_buf_puts(b, "\">");
    rt_markup_cstr(b, text);
    tag(b, "</cbc:", name);
}

/* <cbc:name>v</cbc:name>. */
UBL_WRITER void cbc_u64(rt_buf *b, const char *name, uint64_t v)
{
    tag(b, "<cbc:", name);
    rt_buf_put_u64(b, v);
    tag(b, "</cbc:", name);
}

/* A piece of the document already written, found again by its offset in the buffer (which may
 * move): a line that repeats it is given a copy instead of writing it afresh. */
typedef struct piece {
    size_t off, len;
} piece;

static void repeat(rt_buf *b, piece p)
{
    if (!rt_buf_reserve(b, p.len)) return;
    memcpy(b->data + b->len, b->data + p.off, p.len);
    b->len += p.len;
}

/* <cbc:name currencyID="EUR">0.78</cbc:name>: an ISO 4217 code and an amount, neither of
 * which needs escaping. */
UBL_WRITER void cbc_amount(rt_buf *b, const rt_doc_view *v, const char *name, int64_t minor)
{
    char a[48];
    size_t n = rt_doc_amount(v, minor, a, sizeof a);
    open_attr(b, name, "currencyID");
    rt_buf_append(b, v->inv->currency->code, sizeof v->inv->currency->code - 1);
    rt_buf_puts(b, "\">");
    rt_buf_append(b, a, n);
    tag(b, "</cbc:", name);
}

/* <cbc:name>YYYY-MM-DD</cbc:name>. */
UBL_WRITER void cbc_date(rt_buf *b, const char *name, rt_days d)
{
    char t[16];
    size_t n = rt_date_format(d, t, sizeof t);
    tag(b, "<cbc:", name);
    rt_buf_append(b, t, n);
    tag(b, "</cbc:", name);
}

static void period(rt_buf *b, rt_days start, rt_days end_excl)
{
    rt_buf_puts(b, "<cac:InvoicePeriod>");
    cbc_date(b, "StartDate", start);
    cbc_date(b, "EndDate", end_excl - 1); /* UBL periods end on their last day */
    rt_buf_puts(b, "</cac:InvoicePeriod>");
}

/* ---- parties ---- */

typedef struct party {
    const char *id; /* buyer identifier (BT-46); NULL for the seller */
    const char *name, *street, *city, *postcode, *country, *vat_id, *email;
    const char *legal_id, *legal_scheme;
    const char *endpoint_scheme; /* EAS code of endpoint_id; NULL: no electronic address */
    char endpoint_id[RT_PEPPOL_ID_MAX + 1];
    char scheme[5]; /* of the book's peppol_id */
} party;

/* ---- electronic addresses ---- */

/* The Peppol EAS codes of VAT number schemes, by the VAT number's two-letter prefix (Greece's
 * is EL). A country whose VAT number has no scheme in Peppol's EAS list is not here. */
static const struct vat_scheme {
    char prefix[3], eas[5];
} vat_schemes[] = {
    {"AD", "9922"}, {"AL", "9923"}, {"AT", "9914"}, {"BA", "9924"}, {"BE", "9925"},
    {"BG", "9926"}, {"CH", "9927"}, {"CY", "9928"}, {"CZ", "9929"}, {"DE", "9930"},
    {"EE", "9931"}, {"EL", "9933"}, {"ES", "9920"}, {"FI", "0213"}, {"FR", "9957"},
    {"GB", "9932"}, {"GR", "9933"}, {"HR", "9934"}, {"HU", "9910"}, {"IE", "9935"},
    {"IT", "0211"}, {"LI", "9936"}, {"LT", "9937"}, {"LU", "9938"}, {"LV", "9939"},
    {"MC", "9940"}, {"ME", "9941"}, {"MK", "9942"}, {"MT", "9943"}, {"NL", "9944"},
    {"PL", "9945"}, {"PT", "9946"}, {"RO", "9947"}, {"RS", "9948"}, {"SI", "9949"},
    {"SK", "9950"}, {"SM", "9951"}, {"TR", "9952"}, {"VA", "9953"},
};

/* text without its spaces (SIREN and VAT numbers are often written in groups) into buf; false
 * when it is empty, does not fit or holds anything but ASCII letters and digits. */
static bool compact_id(const char *text, char *buf, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; text && text[i]; i++) {
        char c = text[i];
        if (c == ' ') continue;
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) ||
            k + 1 >= n)
            return false;
        buf[k++] = c;
    }
    buf[k] = '\0';
    return k > 0;
}

/* Set p's electronic address (BT-34, BT-49), which Peppol routes on: the participant id the
 * book gives (peppol_id, "SCHEME:ID", checked when the book was imported), else a French SIREN
 * (registration_id, 9 digits) as EAS 0002, else the VAT number under its country's EAS VAT
 * scheme. An e-mail address is no Peppol address (EAS "EM" is not in Peppol's list,
 * PEPPOL-EN16931-CL008): a party with none of them has none. */
static void endpoint(party *p, const char *peppol_id, const char *registration_id)
{
    char *id = p->endpoint_id;
    size_t n = sizeof p->endpoint_id;
    p->endpoint_scheme = NULL;
    if (present(peppol_id) && rt_book_peppol_id_ok(peppol_id)) {
        size_t len = strlen(peppol_id + 5);
        memcpy(p->scheme, peppol_id, 4);
        p->scheme[4] = '\0';
        memcpy(id, peppol_id + 5, len + 1);
        p->endpoint_scheme = p->scheme;
        return;
    }
    if (present(p->country) && strcmp(p->country, "FR") == 0 &&
        compact_id(registration_id, id, n) && strlen(id) == 9 &&
        strspn(id, "0123456789") == 9) {
        p->endpoint_scheme = "0002";
        return;
    }
    if (!compact_id(p->vat_id, id, n) || strlen(id) < 3) return;
    for (size_t i = 0; i < sizeof vat_schemes / sizeof *vat_schemes; i++)
        if (id[0] == vat_schemes[i].prefix[0] && id[1] == vat_schemes[i].prefix[1])
            p->endpoint_scheme = vat_schemes[i].eas;
}

static void postal_address(rt_buf *b, const party *p)
{
    rt_buf_puts(b, "<cac:PostalAddress>");
    cbc(b, "StreetName", p->street);
    cbc(b, "CityName", p->city);
    cbc(b, "PostalZone", p->postcode);
    rt_buf_puts(b, "<cac:Country>");
    cbc(b, "IdentificationCode", p->country);
    rt_buf_puts(b, "</cac:Country></cac:PostalAddress>");
}

static void write_party(rt_buf *b, const char *role, const party *p)
{
    tag(b, "<cac:", role);
    rt_buf_puts(b, "<cac:Party>");
    if (p->endpoint_scheme)
        cbc_attr(b, "EndpointID", "schemeID", p->endpoint_scheme, p->endpoint_id);
    if (present(p->id)) {
        rt_buf_puts(b, "<cac:PartyIdentification>");
        cbc(b, "ID", p->id);
        rt_buf_puts(b, "</cac:PartyIdentification>");
    }
    rt_buf_puts(b, "<cac:PartyName>");
    cbc(b, "Name", p->name);
    rt_buf_puts(b, "</cac:PartyName>");
    postal_address(b, p);
    if (present(p->vat_id)) {
        rt_buf_puts(b, "<cac:PartyTaxScheme>");
        cbc(b, "CompanyID", p->vat_id);
        rt_buf_puts(b, "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>");
    }
    rt_buf_puts(b, "<cac:PartyLegalEntity>");
    cbc(b, "RegistrationName", p->name);
    if (present(p->legal_scheme))
        cbc_attr(b, "CompanyID", "schemeID", p->legal_scheme, p->legal_id);
    else
        cbc(b, "CompanyID", p->legal_id);
    rt_buf_puts(b, "</cac:PartyLegalEntity>");
    if (present(p->email)) {
        rt_buf_puts(b, "<cac:Contact>");
        cbc(b, "ElectronicMail", p->email);
        rt_buf_puts(b, "</cac:Contact>");
    }
    rt_buf_puts(b, "</cac:Party>");
    tag(b, "</cac:", role);
}

/* ICD 0002 (SIRENE) names a French company by its 9-digit SIREN. */
static const char *legal_scheme(const rt_company *co)
{
    const char *r = co->registration_id;
    if (!present(r) || !present(co->country) || strcmp(co->country, "FR") != 0) return NULL;
    size_t n = strlen(r);
    for (size_t i = 0; i < n; i++)
        if (r[i] < '0' || r[i] > '9') return NULL;
    return n == 9 ? "0002" : NULL;
}

/* Whether the document has a VAT subtotal of category code; whether all of them are. */
static bool has_category(const rt_invoice *inv, rt_vat_code code)
{
    for (size_t s = 0; s < inv->tax_count; s++)
        if (inv->taxes[s].vat_code == (int32_t)code) return true;
    return false;
}

static bool only_category(const rt_invoice *inv, rt_vat_code code)
{
    for (size_t s = 0; s < inv->tax_count; s++)
        if (inv->taxes[s].vat_code != (int32_t)code) return false;
    return inv->tax_count > 0;
}

static void parties(rt_buf *b, const rt_catalog *cat, const rt_invoice *inv)
{
    const rt_company *co = cat->company;
    const rt_account *a = &cat->accounts[inv->account];
    party seller = {.name = co->name,
                    .street = co->street,
                    .city = co->city,
                    .postcode = co->postcode,
                    .country = co->country,
                    .vat_id = co->vat_id,
                    .email = co->email,
                    .legal_id = co->registration_id,
                    .legal_scheme = legal_scheme(co)};
    party buyer = {.id = a->account_id,
                   .name = a->name,
                   .street = a->street,
                   .city = a->city,
                   .postcode = a->postcode,
                   .country = a->country,
                   .vat_id = a->vat_id,
                   .email = a->email};
    endpoint(&seller, co->peppol_id, co->registration_id);
    endpoint(&buyer, a->peppol_id, NULL); /* accounts.csv holds no registration number */
    /* A supply outside the scope of VAT names no VAT identifier (EN 16931 BR-O-02: neither
     * the seller's nor the buyer's); a VAT number may still be the electronic address. */
    if (only_category(inv, RT_VAT_O)) seller.vat_id = buyer.vat_id = NULL;
    write_party(b, "AccountingSupplierParty", &seller);
    write_party(b, "AccountingCustomerParty", &buyer);
}

/* An intra-community supply (K) names the country it is delivered to (EN 16931 BR-IC-12):
 * the buyer's, the only place the book knows. */
static void delivery(rt_buf *b, const rt_catalog *cat, const rt_invoice *inv)
{
    const char *country = cat->accounts[inv->account].country;
    if (!has_category(inv, RT_VAT_K) || !present(country)) return;
    rt_buf_puts(b, "<cac:Delivery><cac:DeliveryLocation><cac:Address><cac:Country>");
    cbc(b, "IdentificationCode", country);
    rt_buf_puts(b, "</cac:Country></cac:Address></cac:DeliveryLocation></cac:Delivery>");
}

/* ---- payment, allowances, taxes, totals ---- */

static void payment(rt_buf *b, const rt_invoice *inv, bool credit)
{
    /* UNCL 4461 code 1 (instrument not defined): the book holds no bank account yet. The
     * invoice number is the remittance information. A credit note has no header DueDate in
     * UBL 2.1, so its due date travels here (Peppol BT-9 for credit notes). */
    rt_buf_puts(b, "<cac:PaymentMeans><cbc:PaymentMeansCode>1</cbc:PaymentMeansCode>");
    if (credit) cbc_date(b, "PaymentDueDate", inv->due_day);
    cbc(b, "PaymentID", inv->number);
    rt_buf_puts(b, "</cac:PaymentMeans>");
    char due[16], days[RT_I64_TEXT_MAX], note[128];
    rt_date_format(inv->due_day, due, sizeof due);
    rt_i64_text((int64_t)inv->due_day - inv->issue_day, days);
    RT_TEXT_JOIN(note, sizeof note, credit ? "Refund or offset" : "Payment due", " within ", days,
                 " days of the issue date, by ", due, ".");
    rt_buf_puts(b, "<cac:PaymentTerms>");
    cbc(b, "Note", note);
    rt_buf_puts(b, "</cac:PaymentTerms>");
}

static void tax_category(rt_buf *b, const char *elem, const rt_tax_subtotal *t, const char *reason)
{
    char pct[48];
    rt_doc_percent(t->rate_e4, pct, sizeof pct);
    tag(b, "<cac:", elem);
    cbc(b, "ID", rt_vat_code_name((rt_vat_code)t->vat_code));
    /* Outside the scope of VAT (O) carries no rate (EN 16931 BR-O-05). */
    if (t->vat_code != RT_VAT_O) cbc(b, "Percent", pct);
    if (reason) {
        cbc(b, "TaxExemptionReasonCode", rt_doc_vatex_code((rt_vat_code)t->vat_code));
        cbc(b, "TaxExemptionReason", reason);
    }
    rt_buf_puts(b, "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>");
    tag(b, "</cac:", elem);
}

static void allowances(rt_buf *b, const rt_doc_view *v)
{
    for (size_t i = 0; i < v->line_count; i++) {
        const rt_doc_line *dl = &v->lines[i];
        if (!dl->allowance) continue;
        rt_buf_puts(b, "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
                       "<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>");
        cbc(b, "AllowanceChargeReason", rt_invoice_line_description(v->cat, dl->src));
        cbc_amount(b, v, "Amount", -dl->net_minor);
        tax_category(b, "TaxCategory", &v->inv->taxes[dl->src->subtotal], NULL);
        rt_buf_puts(b, "</cac:AllowanceCharge>");
    }
}

static void tax_total(rt_buf *b, const rt_doc_view *v)
{
    rt_buf_puts(b, "<cac:TaxTotal>");
    cbc_amount(b, v, "TaxAmount", v->tax_minor);
    for (size_t s = 0; s < v->inv->tax_count; s++) {
        const rt_tax_subtotal *t = &v->inv->taxes[s];
        rt_buf_puts(b, "<cac:TaxSubtotal>");
        cbc_amount(b, v, "TaxableAmount", rt_doc_tax_base(v, s));
        cbc_amount(b, v, "TaxAmount", rt_doc_tax_amount(v, s));
        tax_category(b, "TaxCategory", t, rt_doc_exemption_reason(v->cat, t));
        rt_buf_puts(b, "</cac:TaxSubtotal>");
    }
    rt_buf_puts(b, "</cac:TaxTotal>");
    /* BT-111, the VAT total in the VAT accounting currency (BT-6): a second TaxTotal, without
     * subtotals (EN 16931 BR-53, PEPPOL-EN16931-R054). */
    if (v->tax_currency) {
        char a[48];
        size_t n = rt_doc_tax_currency_amount(v, v->tax_accounting_minor, a, sizeof a);
        rt_buf_puts(b, "<cac:TaxTotal><cbc:TaxAmount currencyID=\"");
        rt_buf_puts(b, v->tax_currency->code);
        rt_buf_puts(b, "\">");
        rt_buf_append(b, a, n);
        rt_buf_puts(b, "</cbc:TaxAmount></cac:TaxTotal>");
    }
}

static void monetary_total(rt_buf *b, const rt_doc_view *v)
{
    rt_buf_puts(b, "<cac:LegalMonetaryTotal>");
    cbc_amount(b, v, "LineExtensionAmount", v->line_extension_minor);
    cbc_amount(b, v, "TaxExclusiveAmount", v->net_minor);
    cbc_amount(b, v, "TaxInclusiveAmount", v->gross_minor);
    if (v->allowance_count) cbc_amount(b, v, "AllowanceTotalAmount", v->allowance_minor);
    cbc_amount(b, v, "PayableAmount", v->gross_minor);
    rt_buf_puts(b, "</cac:LegalMonetaryTotal>");
}

/* ---- lines ---- */

static void property(rt_buf *b, const char *name, const char *value)
{
    if (!present(value)) return;
    rt_buf_puts(b, "<cac:AdditionalItemProperty>");
    cbc(b, "Name", name);
    cbc(b, "Value", value);
    rt_buf_puts(b, "</cac:AdditionalItemProperty>");
}

/* Enough for the VAT subtotals of any real invoice; a later one is written afresh. */
enum { UBL_MEMO_TAXES = 8 };

/* What the lines of one document repeat: each VAT subtotal's ClassifiedTaxCategory, and the
 * last service period written (most lines bill the same one); and the document's period,
 * [doc_start, doc_end), which a line's period must lie within. */
typedef struct line_memo {
    piece tax[UBL_MEMO_TAXES]; /* len 0: not written yet */
    piece period;
    rt_days start, end;
    rt_days doc_start, doc_end;
} line_memo;

/* Whether a line's service period [start, end) is written as its cac:InvoicePeriod: only when
 * it lies within the document's, as Peppol requires (PEPPOL-EN16931-R110 and R111). A fee
 * billed in advance (next month's service) or a back-dated adjustment (an earlier month's)
 * lies outside: it names its service days in an item property instead (and in its
 * description), so that the information stays in the document. */
static bool period_within(const line_memo *m, rt_days start, rt_days end)
{
    return end > start && start >= m->doc_start && end <= m->doc_end;
}

static void service_days(rt_buf *b, rt_days start, rt_days end)
{
    char from[16], to[16], text[48];
    rt_date_format(start, from, sizeof from);
    rt_date_format(end - 1, to, sizeof to); /* the last day, as a period's EndDate */
    RT_TEXT_JOIN(text, sizeof text, from, " to ", to);
    property(b, "Service period", text);
}

static void item(rt_buf *b, const rt_doc_view *v, const rt_doc_line *dl, line_memo *m)
{
    const rt_invoice_line *l = dl->src;
    const rt_product *p = l->product != RT_NO_INDEX ? &v->cat->products[l->product] : NULL;
    rt_buf_puts(b, "<cac:Item>");
    cbc(b, "Name", rt_invoice_line_description(v->cat, l));
    if (p) {
        rt_buf_puts(b, "<cac:SellersItemIdentification>");
        cbc(b, "ID", p->product_id);
        rt_buf_puts(b, "</cac:SellersItemIdentification>");
    }
    piece *tax = l->subtotal < UBL_MEMO_TAXES ? &m->tax[l->subtotal] : NULL;
    if (tax && tax->len) {
        repeat(b, *tax);
    } else {
        size_t at = b->len;
        tax_category(b, "ClassifiedTaxCategory", &v->inv->taxes[l->subtotal], NULL);
        if (tax) *tax = (piece){at, b->len - at};
    }
    if (dl->used[0]) {
        rt_buf_puts(b, "<cac:AdditionalItemProperty><cbc:Name>Events</cbc:Name>");
        cbc_u64(b, "Value", l->events);
        rt_buf_puts(b, "</cac:AdditionalItemProperty>");
        property(b, "Quantity used", dl->used);
    }
    property(b, "Quantity billed", dl->billed);
    property(b, "Rate", dl->rate);
    rt_days start = l->service_start_day, end = l->service_end_day;
    if (end > start && !period_within(m, start, end)) service_days(b, start, end);
    rt_buf_puts(b, "</cac:Item>");
}

static void line(rt_buf *b, const rt_doc_view *v, const rt_doc_line *dl, bool credit,
                 line_memo *m)
{
    const char *elem = credit ? "CreditNoteLine" : "InvoiceLine";
    const char *qty = credit ? "CreditedQuantity" : "InvoicedQuantity";
    tag(b, "<cac:", elem);
    cbc_u64(b, "ID", dl->number);
    if (!dl->measured && dl->used[0])
        rt_buf_puts(b, "<cbc:Note>Quantity 1 is the whole line: each event was rated on its own "
                       "(billing increments, rounding, setup fee, minimum and maximum per "
                       "event); the usage is in the item properties.</cbc:Note>");
    else if (!dl->measured && dl->billed[0])
        rt_buf_puts(b, "<cbc:Note>Quantity 1 is the whole line: its amount is not quantity x "
                       "price (service days prorated, several months, a discount or "
                       "rounding); the quantity and price are in the item properties."
                       "</cbc:Note>");
    cbc_attr(b, qty, "unitCode", dl->unit_code, dl->quantity);
    cbc_amount(b, v, "LineExtensionAmount", dl->net_minor);
    rt_days start = dl->src->service_start_day, end = dl->src->service_end_day;
    if (period_within(m, start, end)) {
        if (m->period.len && m->start == start && m->end == end) {
            repeat(b, m->period);
        } else {
            size_t at = b->len;
            period(b, start, end);
            m->period = (piece){at, b->len - at};
            m->start = start;
            m->end = end;
        }
    }
    item(b, v, dl, m);
    rt_buf_puts(b, "<cac:Price>");
    cbc_attr(b, "PriceAmount", "currencyID", v->inv->currency->code, dl->price);
    cbc_attr(b, "BaseQuantity", "unitCode", dl->unit_code, dl->base_quantity);
    rt_buf_puts(b, "</cac:Price>");
    tag(b, "</cac:", elem);
}

/* ---- the document ---- */

/* ID to TaxPointDate: the header elements whose order differs between Invoice and
 * CreditNote in UBL 2.1. */
static void header(rt_buf *b, const rt_invoice *inv, bool credit)
{
    cbc(b, "CustomizationID", RT_UBL_CUSTOMIZATION_ID);
    cbc(b, "ProfileID", RT_UBL_PROFILE_ID);
    cbc(b, "ID", inv->number);
    cbc_date(b, "IssueDate", inv->issue_day);
    if (credit) {
        cbc_date(b, "TaxPointDate", inv->tax_point_day);
        cbc(b, "CreditNoteTypeCode", "381");
        if (present(inv->corrects)) {
            char note[128];
            snprintf(note, sizeof note, "Credit note reversing invoice %s.", inv->corrects);
            cbc(b, "Note", note);
        }
    } else {
        cbc_date(b, "DueDate", inv->due_day);
        cbc(b, "InvoiceTypeCode", "380");
        cbc_date(b, "TaxPointDate", inv->tax_point_day);
    }
}

rt_status rt_invoice_ubl(const rt_catalog *cat, const rt_period *per, const rt_invoice *inv,
                         rt_doc_view *v, rt_buf *b)
{
    rt_status st = rt_doc_view_build(v, cat, inv);
    return st == RT_OK ? rt_invoice_ubl_of_view(cat, per, inv, v, b) : st;
}

rt_status rt_invoice_ubl_of_view(const rt_catalog *cat, const rt_period *per,
                                 const rt_invoice *inv, const rt_doc_view *v, rt_buf *b)
{
    bool credit = inv->type == RT_CREDIT_NOTE;
    const char *root = credit ? "CreditNote" : "Invoice";
    const rt_account *a = &cat->accounts[inv->account];
    rt_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    rt_buf_puts(b, root);
    rt_buf_puts(b, " xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:");
    rt_buf_puts(b, root);
    rt_buf_puts(b, "-2\" xmlns:cac=\"" NS_CAC "\" xmlns:cbc=\"" NS_CBC "\">\n");
    header(b, inv, credit);
    cbc(b, "DocumentCurrencyCode", inv->currency->code);
    if (v->tax_currency) cbc(b, "TaxCurrencyCode", v->tax_currency->code);
    cbc(b, "BuyerReference", present(a->buyer_reference) ? a->buyer_reference : a->account_id);
    period(b, per->start_day, per->end_day);
    if (credit && present(inv->corrects)) {
        rt_buf_puts(b, "<cac:BillingReference><cac:InvoiceDocumentReference>");
        cbc(b, "ID", inv->corrects);
        rt_buf_puts(b, "</cac:InvoiceDocumentReference></cac:BillingReference>");
    }
    parties(b, cat, inv);
    delivery(b, cat, inv);
    payment(b, inv, credit);
    allowances(b, v);
    tax_total(b, v);
    monetary_total(b, v);
    line_memo memo;
    memset(&memo, 0, sizeof memo);
    memo.doc_start = per->start_day;
    memo.doc_end = per->end_day;
    for (size_t i = 0; i < v->line_count; i++)
        if (!v->lines[i].allowance) line(b, v, &v->lines[i], credit, &memo);
    rt_buf_puts(b, "\n</");
    rt_buf_puts(b, root);
    rt_buf_puts(b, ">\n");
    return rt_buf_status(b);
}

/* invoice_view: presentation rules shared by the invoice documents. */
#include "formats/invoice_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/journal.h"
#include "engine/money.h"
#include "formats/invoice_files.h"

void rt_doc_view_init(rt_doc_view *v)
{
    memset(v, 0, sizeof *v);
}

void rt_doc_view_free(rt_doc_view *v)
{
    free(v->lines);
    memset(v, 0, sizeof *v);
}

/* x with the document sign applied. Amounts the engine produced never hold INT64_MIN (every
 * sum is checked), so the negation cannot overflow. */
static int64_t signed_by(int64_t x, int sign)
{
    RT_ASSERT(x != INT64_MIN);
    return sign < 0 ? -x : x;
}

size_t rt_doc_amount(const rt_doc_view *v, int64_t minor, char *buf, size_t n)
{
    return rt_decimal_str(minor, v->minor, buf, n);
}

size_t rt_doc_tax_currency_amount(const rt_doc_view *v, int64_t minor, char *buf, size_t n)
{
    RT_ASSERT(v->tax_currency != NULL);
    return rt_decimal_str(minor, v->tax_currency->minor_units, buf, n);
}

int64_t rt_doc_tax_base(const rt_doc_view *v, size_t s)
{
    return signed_by(v->inv->taxes[s].base_minor, v->sign);
}

int64_t rt_doc_tax_amount(const rt_doc_view *v, size_t s)
{
    return signed_by(v->inv->taxes[s].tax_minor, v->sign);
}

void rt_doc_percent(int64_t rate_e4, char *buf, size_t n)
{
    rt_decimal_format(rate_e4, 4, -1, 0, '.', buf, n);
}

const char *rt_doc_vatex_code(rt_vat_code code)
{
    switch (code) {
    case RT_VAT_AE:
        return "VATEX-EU-AE";
    case RT_VAT_K:
        return "VATEX-EU-IC";
    case RT_VAT_G:
        return "VATEX-EU-G";
    case RT_VAT_O:
        return "VATEX-EU-O";
    default:
        return NULL;
    }
}

const char *rt_doc_exemption_reason(const rt_catalog *cat, const rt_tax_subtotal *t)
{
    static const char *const generic[RT_VAT_CODE_COUNT_] = {
        [RT_VAT_E] = "Exempt from VAT",
        [RT_VAT_AE] = "Reverse charge: VAT to be accounted for by the customer",
        [RT_VAT_K] = "Intra-community supply exempt from VAT",
        [RT_VAT_G] = "Export outside the EU exempt from VAT",
        [RT_VAT_O] = "Not subject to VAT",
    };
    if (t->vat_code < 0 || t->vat_code >= RT_VAT_CODE_COUNT_) return NULL;
    if (t->vat_code == RT_VAT_S || t->vat_code == RT_VAT_Z) return NULL;
    const char *r = t->tax != RT_NO_INDEX ? cat->tax_rates[t->tax].exemption_reason : NULL;
    return r && r[0] ? r : generic[t->vat_code];
}

rt_status rt_doc_file_name(const char *number, const char *ext, char *buf, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (size_t i = 0; number[i]; i++) {
        unsigned char c = (unsigned char)number[i];
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || (c == '.' && i > 0);
        if (k + 4 > n) return RT_ELIMIT;
        if (plain) {
            buf[k++] = (char)c;
        } else {
            buf[k++] = '%';
            buf[k++] = hex[c >> 4];
            buf[k++] = hex[c & 15];
        }
    }
    size_t el = strlen(ext);
    if (k == 0 || k + el + 1 > n) return RT_ELIMIT;
    memcpy(buf + k, ext, el + 1);
    return RT_OK;
}

/* ---- lines ---- */

/* a * b == c * d exactly, in 128 bits; false when a product does not fit (then the line is
 * simply not shown in the measured form). */
static bool products_equal(__int128 a, __int128 b, __int128 c, __int128 d)
{
    __int128 x, y;
    if (__builtin_mul_overflow(a, b, &x) || __builtin_mul_overflow(c, d, &y)) return false;
    return x == y;
}

/* Whether qty / 10^qd x price / 10^9 / base == net / 10^minor exactly (multiplied out). */
static bool identity_holds(int64_t qty, unsigned qd, int64_t price_nanos, int64_t base,
                           int64_t net_minor, unsigned minor)
{
    __int128 rhs;
    if (__builtin_mul_overflow((__int128)net_minor, (__int128)rt_pow10(RT_NANOS_SCALE - minor),
                               &rhs))
        return false;
    return products_equal(qty, price_nanos, rhs, (__int128)base * rt_pow10(qd));
}

/* The measured form of a line, when quantity x price / base equals the net the document
 * shows exactly. qty is the quantity in base units (qd decimals), base the price's quantity
 * in units. The quantity negated is tried too: a credit note stored negative may carry its
 * quantities positive or negated, and a negative order line (a cancelled subscription's
 * credit) its quantity positive. */
static bool measure(rt_doc_line *dl, const rt_doc_view *v, int64_t qty, unsigned qd,
                    int64_t price_nanos, int64_t base, const char *unit_code)
{
    if (price_nanos == INT64_MIN || qty == INT64_MIN || base <= 0 || v->minor > RT_NANOS_SCALE)
        return false;
    if (!identity_holds(qty, qd, price_nanos, base, dl->net_minor, v->minor)) {
        if (!identity_holds(-qty, qd, price_nanos, base, dl->net_minor, v->minor)) return false;
        qty = -qty;
    }
    /* A price is never shown negative (EN 16931 BR-27): its sign moves to the quantity. */
    int64_t shown = price_nanos < 0 ? -qty : qty;
    rt_decimal_format(shown, qd, (int)qd, 0, '.', dl->quantity, sizeof dl->quantity);
    rt_decimal_format(price_nanos < 0 ? -price_nanos : price_nanos, RT_NANOS_SCALE, -1, v->minor,
                      '.', dl->price, sizeof dl->price);
    rt_decimal_format(base, 0, 0, 0, '.', dl->base_quantity, sizeof dl->base_quantity);
    dl->unit_code = unit_code;
    dl->measured = true;
    return true;
}

/* Append lead, an amount in the document's currency and tail to the line's rate text at *n,
 * as far as there is room. */
static void put_money(rt_doc_line *dl, size_t *n, const rt_doc_view *v, const char *lead,
                      int64_t nanos, const char *tail)
{
    char amount[RT_DOC_TEXT_MAX];
    rt_decimal_format(nanos, RT_NANOS_SCALE, -1, v->minor, '.', amount, sizeof amount);
    RT_TEXT_JOIN(dl->rate + *n, sizeof dl->rate - *n, lead, amount, " ", v->inv->currency->code,
                 tail);
    *n += strlen(dl->rate + *n);
}

/* The same for a price: "<price> <currency><per_word><per> <unit>". */
static void put_price(rt_doc_line *dl, size_t *n, const rt_doc_view *v, const char *lead,
                      int64_t price_nanos, const char *per_word, int64_t per, const char *unit)
{
    char per_text[24], tail[RT_DOC_PHRASE_MAX];
    rt_decimal_format(per, 0, 0, 0, '.', per_text, sizeof per_text);
    RT_TEXT_JOIN(tail, sizeof tail, per_word, per_text, " ", unit);
    put_money(dl, n, v, lead, price_nanos, tail);
}

/* The rate of a tiered or volume line: volume, the tier its total falls in, whose price
 * prices it all; tiered (graduated), each tier the total reaches; each with its price, flat
 * fee and range. */
static void tier_rate(rt_doc_line *dl, size_t *n, const rt_doc_view *v, const rt_invoice_line *l,
                      const rt_charge *ch, const rt_product *p)
{
    const rt_catalog *cat = v->cat;
    const char *unit = p->unit;
    const rt_tier *reached =
        rt_tier_reached(cat, l->charge, p->quantity_decimals, l->billable_base);
    rt_range32 r = cat->charge_tiers[l->charge];
    bool volume = ch->model == RT_CHARGE_VOLUME;
    char lower[RT_DOC_TEXT_MAX] = "", upper[RT_DOC_TEXT_MAX]; /* the tier's range */
    for (uint32_t i = r.first; reached && i < r.first + r.count && *n + 1 < sizeof dl->rate;
         i++) {
        const rt_tier *t = &cat->tiers[i];
        upper[0] = '\0';
        if (t->up_to_e6 != RT_UNSET)
            rt_decimal_format(t->up_to_e6, 6, -1, 0, '.', upper, sizeof upper);
        if (volume && t != reached) {
            memcpy(lower, upper, sizeof lower);
            continue;
        }
        put_price(dl, n, v, *n ? "; " : "", t->price_nanos, " per ", ch->price_per, unit);
        if (t->flat_fee_nanos > 0) put_money(dl, n, v, " + ", t->flat_fee_nanos, "");
        const char *scope = volume ? " on the whole quantity" : "";
        if (lower[0] && upper[0])
            RT_TEXT_JOIN(dl->rate + *n, sizeof dl->rate - *n, scope, " (", lower, " to ", upper,
                         " ", unit, ")");
        else if (upper[0])
            RT_TEXT_JOIN(dl->rate + *n, sizeof dl->rate - *n, scope, " (up to ", upper, " ",
                         unit, ")");
        else if (lower[0])
            RT_TEXT_JOIN(dl->rate + *n, sizeof dl->rate - *n, scope, " (above ", lower, " ",
                         unit, ")");
        else
            RT_TEXT_JOIN(dl->rate + *n, sizeof dl->rate - *n, scope);
        *n += strlen(dl->rate + *n);
        memcpy(lower, upper, sizeof lower);
        if (t == reached) break;
    }
}

static void usage_facts(rt_doc_line *dl, const rt_doc_view *v)
{
    const rt_catalog *cat = v->cat;
    const rt_invoice_line *l = dl->src;
    const rt_product *p = &cat->products[l->product];
    const rt_charge *ch = &cat->charges[l->charge];
    unsigned qd = (unsigned)p->quantity_decimals;
    char q[RT_DOC_TEXT_MAX];
    /* Made for every line of every document: joined without printf. */
    rt_decimal_format(l->quantity_base, qd, (int)qd, 0, '.', q, sizeof q);
    RT_TEXT_JOIN(dl->used, sizeof dl->used, q, " ", p->unit);
    rt_decimal_format(l->billable_base, qd, (int)qd, 0, '.', q, sizeof q);
    RT_TEXT_JOIN(dl->billed, sizeof dl->billed, q, " ", p->unit);
    /* The rate, then the terms that make quantity x price differ from the line amount: the
     * connection fee, the rate's later intervals, the minimum and maximum; as far as there is
     * room. */
    size_t n = 0;
    int64_t price_nanos, price_per;
    rt_line_price(l, ch, &price_nanos, &price_per);
    if (ch->model == RT_CHARGE_FLAT)
        put_money(dl, &n, v, "", price_nanos, " per event");
    else if (ch->model == RT_CHARGE_TIERED || ch->model == RT_CHARGE_VOLUME)
        tier_rate(dl, &n, v, l, ch, p);
    else /* a package is priced per started block of price_per units */
        put_price(dl, &n, v, "", price_nanos,
                  ch->model == RT_CHARGE_PACKAGE ? " per started " : " per ", price_per, p->unit);
    rt_rate_step buf[RT_RATE_INTERVALS_MAX];
    rt_line_terms t = rt_line_terms_of(cat, v->inv, (size_t)(l - v->inv->lines), buf);
    if (t.setup_fee_nanos != RT_UNSET && t.setup_fee_nanos != 0)
        put_money(dl, &n, v, " + ", t.setup_fee_nanos, " per event");
    for (uint32_t k = 0; ch->model == RT_CHARGE_PER_UNIT && k < t.step_count; k++) {
        char from[RT_DOC_TEXT_MAX], lead[RT_DOC_PHRASE_MAX];
        rt_decimal_format(t.steps[k].from_base, qd, -1, 0, '.', from, sizeof from);
        RT_TEXT_JOIN(lead, sizeof lead, "; from ", from, " ", p->unit, " ");
        put_price(dl, &n, v, lead, t.steps[k].price_nanos, " per ", t.steps[k].price_per,
                  p->unit);
    }
    if (t.min_per_event_nanos != RT_UNSET)
        put_money(dl, &n, v, ", minimum ", t.min_per_event_nanos, " per event");
    if (t.max_per_event_nanos != RT_UNSET)
        put_money(dl, &n, v, ", maximum ", t.max_per_event_nanos, " per event");
}

/* A recurring or one-time line (from orders): its quantity in the product's unit and its
 * price (the order's own or the charge's, per month and unit or per price_per units), in the
 * measured form when quantity x price / base gives the net exactly (no proration, no
 * discount, a one-month cycle), else as one lot with these facts beside it. */
static void order_facts(rt_doc_line *dl, const rt_doc_view *v)
{
    const rt_invoice_line *l = dl->src;
    const rt_product *p = &v->cat->products[l->product];
    unsigned qd = (unsigned)p->quantity_decimals;
    int64_t price, per;
    rt_line_shown_price(v->cat, l, &price, &per);
    char q[RT_DOC_TEXT_MAX];
    rt_decimal_format(l->billable_base, qd, (int)qd, 0, '.', q, sizeof q);
    RT_TEXT_JOIN(dl->billed, sizeof dl->billed, q, " ", p->unit);
    size_t n = 0;
    put_price(dl, &n, v, "", price, " per ", per, p->unit);
    measure(dl, v, l->billable_base, qd, price, per, p->unit_code);
}

static rt_status build_line(rt_doc_view *v, rt_doc_line *dl, const rt_invoice_line *l,
                            uint32_t number)
{
    const rt_catalog *cat = v->cat;
    memset(dl, 0, sizeof *dl);
    dl->src = l;
    dl->number = number;
    dl->net_minor = signed_by(l->net_minor, v->sign);
    dl->allowance = l->kind == RT_LINE_DISCOUNT && dl->net_minor <= 0;
    if (l->kind == RT_LINE_USAGE && l->charge != RT_NO_INDEX) {
        const rt_charge *ch = &cat->charges[l->charge];
        const rt_product *p = &cat->products[l->product];
        int64_t price, per;
        rt_line_price(l, ch, &price, &per);
        usage_facts(dl, v);
        if (ch->model == RT_CHARGE_PER_UNIT)
            measure(dl, v, l->billable_base, (unsigned)p->quantity_decimals, price, per,
                    p->unit_code);
        else if (ch->model == RT_CHARGE_FLAT && l->events <= INT64_MAX)
            measure(dl, v, (int64_t)l->events, 0, price, 1, "C62");
    } else if ((l->kind == RT_LINE_RECURRING || l->kind == RT_LINE_ONE_TIME) &&
               l->product != RT_NO_INDEX) {
        order_facts(dl, v);
    }
    if (!dl->measured) {
        /* One lot priced at the line net: exact whatever happened per event. */
        int64_t net = dl->net_minor;
        memcpy(dl->quantity, net < 0 ? "-1" : "1", net < 0 ? 3 : 2); /* no printf per line */
        rt_decimal_str(net < 0 ? -net : net, v->minor, dl->price, sizeof dl->price);
        memcpy(dl->base_quantity, "1", 2);
        dl->unit_code = "C62";
    }
    return RT_OK;
}

/* BT-6 and BT-111 of a document in another currency than the functional one (see
 * rt_doc_view): the VAT its journal entry books, document sign applied. */
static rt_status tax_in_functional(rt_doc_view *v, const rt_catalog *cat, const rt_invoice *inv)
{
    v->tax_currency = NULL;
    v->fx_rate_nanos = 0;
    v->tax_accounting_minor = 0;
    const char *functional = cat->company->functional_currency;
    if (strcmp(inv->currency->code, functional) == 0) return RT_OK;
    int64_t rate, vat;
    rt_status st = rt_journal_vat_functional(cat, inv, &rate, &vat);
    if (st != RT_OK) return st;
    v->tax_currency = rt_currency_find(functional);
    v->fx_rate_nanos = rate;
    v->tax_accounting_minor = signed_by(vat, v->sign);
    return RT_OK;
}

rt_status rt_doc_view_build(rt_doc_view *v, const rt_catalog *cat, const rt_invoice *inv)
{
    v->cat = cat;
    v->inv = inv;
    v->minor = inv->currency->minor_units;
    /* The engine stores a credit note as its invoice with every amount negated
     * (engine/corrections.c), so negating it again shows the invoice's own figures: positive
     * for the credit of a normal invoice, negative for the credit of a negative one, which is
     * what reverses it. The sign of the stored total cannot decide this: the credit note of a
     * negative invoice is stored positive and would otherwise be shown reversed twice. */
    v->sign = inv->type == RT_CREDIT_NOTE ? -1 : 1;
    if (inv->line_count > v->line_capacity) {
        rt_doc_line *l = realloc(v->lines, inv->line_count * sizeof *l);
        if (!l) return RT_ENOMEM;
        v->lines = l;
        v->line_capacity = inv->line_count;
    }
    v->line_count = inv->line_count;
    v->allowance_count = 0;
    v->line_extension_minor = v->allowance_minor = 0;
    for (size_t i = 0; i < inv->line_count; i++) {
        rt_status st = build_line(v, &v->lines[i], &inv->lines[i], (uint32_t)(i + 1));
        if (st != RT_OK) return st;
        v->allowance_count += v->lines[i].allowance;
    }
    /* A document needs at least one line: with nothing but discounts, show them as lines. */
    if (v->allowance_count == v->line_count) {
        for (size_t i = 0; i < v->line_count; i++)
            v->lines[i].allowance = false;
        v->allowance_count = 0;
    }
    __int128 ext = 0, allow = 0, tax = 0;
    for (size_t i = 0; i < v->line_count; i++) {
        if (v->lines[i].allowance)
            allow -= v->lines[i].net_minor;
        else
            ext += v->lines[i].net_minor;
    }
    for (size_t s = 0; s < inv->tax_count; s++)
        tax += inv->taxes[s].tax_minor;
    if (ext > INT64_MAX || ext < -INT64_MAX || allow > INT64_MAX || allow < -INT64_MAX)
        return RT_EOVERFLOW;
    v->line_extension_minor = (int64_t)ext;
    v->allowance_minor = (int64_t)allow;
    v->net_minor = signed_by(inv->net_minor, v->sign);
    v->tax_minor = signed_by(inv->tax_minor, v->sign);
    v->gross_minor = signed_by(inv->gross_minor, v->sign);
    /* EN 16931 BR-CO-13, BR-CO-14 and BR-CO-15 hold by construction; a document that broke
     * them would be a wrong invoice, so stop rather than write it. */
    RT_ASSERT(ext - allow == v->net_minor);
    RT_ASSERT(tax == inv->tax_minor);
    RT_ASSERT((__int128)v->net_minor + v->tax_minor == v->gross_minor);
    return tax_in_functional(v, cat, inv);
}

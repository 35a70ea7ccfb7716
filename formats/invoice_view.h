/* invoice_view: what an invoice document shows, derived once for every renderer.
 *
 * Owns the presentation rules that the UBL and HTML documents share, so that both always show
 * the same figures:
 *  - the document sign: a credit note shows the figures of the invoice it reverses (UBL's
 *    CreditNote and a printed credit note carry the reversal in their type, not in negated
 *    figures): the engine stores it with every amount negated, and the view negates them back,
 *    so the credit of a normal invoice reads positive and that of a negative invoice negative;
 *  - discount lines become document-level allowances (EN 16931 BG-20);
 *  - each line's quantity and price: the measured form (real quantity, unit code, the line's
 *    price and base quantity) whenever quantity x price / base quantity equals the line net
 *    exactly, else the lot form (quantity 1 of "C62", price = line net), because per-event
 *    rounding, setup fees and minimum/maximum amounts per event (usage) or proration,
 *    discounts and cycles of several months (orders) break that identity, which EN 16931
 *    (BR-CO-10 sums) and Peppol (line net = quantity x price / base quantity) need;
 *  - VAT exemption reason texts and VATEX codes per category;
 *  - the file name of a document.
 * It writes no file and holds no state beyond one view. */
#ifndef RT_INVOICE_VIEW_H
#define RT_INVOICE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/billing.h"
#include "engine/catalog.h"

/* Numbers fit RT_DOC_TEXT_MAX; phrases hold numbers and a unit name (up to 256 bytes). */
enum { RT_DOC_TEXT_MAX = 48, RT_DOC_PHRASE_MAX = 2 * RT_DOC_TEXT_MAX + 320 };

typedef struct rt_doc_line {
    const rt_invoice_line *src;
    uint32_t number;   /* 1-based line number, as in invoice_lines.csv */
    int64_t net_minor; /* the line net as the document shows it (document sign applied) */
    bool allowance;    /* shown as a document-level allowance of -net_minor */
    bool measured;     /* quantity and price are the real ones (else one lot) */
    char quantity[RT_DOC_TEXT_MAX];      /* InvoicedQuantity, negative for a negative line */
    const char *unit_code;               /* unit code of quantity and base_quantity */
    char price[RT_DOC_TEXT_MAX];         /* PriceAmount, never negative */
    char base_quantity[RT_DOC_TEXT_MAX]; /* BaseQuantity */
    /* Usage facts (used: usage lines only, else empty; billed and rate: usage, recurring and
     * one-time lines): quantity used and billed in the product's unit, and the line's price as
     * "0.02 EUR per 60 second". */
    char used[RT_DOC_PHRASE_MAX];
    char billed[RT_DOC_PHRASE_MAX];
    char rate[RT_DOC_PHRASE_MAX];
} rt_doc_line;

typedef struct rt_doc_view {
    const rt_catalog *cat;
    const rt_invoice *inv;
    int sign;       /* +1, or -1 for a credit note (stored with its invoice's amounts negated) */
    unsigned minor; /* the currency's minor units */
    rt_doc_line *lines;
    size_t line_count, line_capacity;
    size_t allowance_count;
    int64_t line_extension_minor;              /* sum of the nets of the lines shown as lines */
    int64_t allowance_minor;                   /* sum of the allowances (positive for discounts) */
    int64_t net_minor, tax_minor, gross_minor; /* document sign applied */
    /* EN 16931 BT-6 and BT-111, for a document in another currency than the company's
     * functional one (its VAT accounting currency): that currency, the FX rate the journal
     * books the invoice at (rt_invoice_fx_rate: functional units per unit of the document's
     * currency, in nanos), and the VAT total in it, which is the journal's: each VAT subtotal
     * converted on its own and rounded half-up, then summed (document sign applied). NULL, 0
     * and 0 for a document in the functional currency. */
    const rt_currency *tax_currency;
    int64_t fx_rate_nanos;
    int64_t tax_accounting_minor;
} rt_doc_view;

/* Zero a view (it can then be built any number of times and freed once). */
void rt_doc_view_init(rt_doc_view *v);
void rt_doc_view_free(rt_doc_view *v);

/* Derive the view of one invoice. Asserts the invoice's conservation rules (lines sum to the
 * net, subtotals to the tax, net + tax = gross). RT_ENOMEM, RT_EOVERFLOW when an amount
 * cannot be shown, RT_ENOTFOUND when the document is in another currency than the functional
 * one and the book has no FX rate for its issue date (the journal needs the same rate). The
 * view points into inv and cat: valid while they are. */
rt_status rt_doc_view_build(rt_doc_view *v, const rt_catalog *cat, const rt_invoice *inv);

/* An amount in the view's currency, with exactly its minor units ("0.78"); its length. Digits,
 * '-' and '.' only: it needs no escaping in markup. */
size_t rt_doc_amount(const rt_doc_view *v, int64_t minor, char *buf, size_t buf_size);
/* The same for an amount in the VAT accounting currency (view->tax_currency set). */
size_t rt_doc_tax_currency_amount(const rt_doc_view *v, int64_t minor, char *buf, size_t buf_size);
/* A subtotal's taxable base and tax with the document sign applied. */
int64_t rt_doc_tax_base(const rt_doc_view *v, size_t subtotal);
int64_t rt_doc_tax_amount(const rt_doc_view *v, size_t subtotal);
/* A VAT rate in percent without trailing zeros ("20", "5.5"). */
void rt_doc_percent(int64_t rate_e4, char *buf, size_t buf_size);

/* The VATEX exemption reason code of a VAT category, or NULL (S, Z, and E, whose code
 * depends on the legal basis). */
const char *rt_doc_vatex_code(rt_vat_code code);
/* The exemption reason text printed for a subtotal: the tax rate's exemption_reason, else a
 * generic text for E, AE, K, G and O; NULL for S and Z. */
const char *rt_doc_exemption_reason(const rt_catalog *cat, const rt_tax_subtotal *t);

/* The file name of an invoice's document: the invoice number with every byte outside
 * [A-Za-z0-9._-] (and a leading '.') written as %XX, so that distinct numbers give distinct
 * names and no name leaves its directory, followed by ext. RT_ELIMIT when buf is too small. */
rt_status rt_doc_file_name(const char *number, const char *ext, char *buf, size_t buf_size);

#endif

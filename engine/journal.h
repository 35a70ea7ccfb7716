/* journal: the double-entry revenue journal of a run.
 *
 * Owns journal entries and lines built from invoices: for each invoice one entry,
 * Dr accounts receivable (gross) / Cr revenue per product GL account (net) / Cr VAT payable
 * per rate. Every entry balances (asserted), and so does the journal. It does not format GL
 * export files (formats does).
 *
 * Amounts: debit_minor / credit_minor are in the company's functional currency (the books'
 * currency); txn_minor is the same line's signed amount (debit positive) in the transaction
 * (invoice) currency, kept beside it as FEC's Montantdevise/Idevise and ERP imports need. */
#ifndef RT_JOURNAL_H
#define RT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/billing.h"

typedef enum rt_journal_kind {
    RT_JL_RECEIVABLE = 0, /* Dr customer receivable */
    RT_JL_REVENUE,        /* Cr revenue of a product GL account */
    RT_JL_VAT,            /* Cr VAT payable, one line per rate */
} rt_journal_kind;

/* "receivable", "revenue", "vat". */
const char *rt_journal_kind_name(rt_journal_kind k);

typedef struct rt_journal_line {
    uint32_t entry;   /* 1-based entry number, gap-free in the run */
    uint32_t invoice; /* index in the invoice set: the reference and the customer */
    uint32_t gl;      /* GL account row */
    uint32_t kind;    /* rt_journal_kind */
    uint32_t subtotal; /* for RT_JL_VAT: index of the invoice's VAT subtotal */
    rt_days date;
    int64_t debit_minor;  /* functional currency */
    int64_t credit_minor; /* functional currency */
    int64_t txn_minor;    /* transaction currency, signed: debit > 0, credit < 0 */
    const rt_currency *txn_currency;
} rt_journal_line;

typedef struct rt_journal {
    rt_journal_line *lines;
    size_t count, capacity;
    uint32_t entries;
} rt_journal;

void rt_journal_free(rt_journal *j);

/* Book the invoicing entries of every invoice (in invoice order). Entry dates are the
 * invoices' issue dates. An invoice in another currency than the functional one is converted
 * at the FX rate in force at the entry date (midnight UTC): every revenue and VAT line is
 * converted on its own, rounded half-up to the functional currency's minor units, and the
 * receivable line is their sum, so the entry balances in the functional currency and any
 * conversion rounding difference sits on the receivable line. RT_ENOMEM, RT_EOVERFLOW, or
 * RT_ENOTFOUND when the book lacks a GL account or an FX rate for the entry date. */
rt_status rt_journal_book_invoices(const rt_catalog *cat, const rt_invoice_set *invoices,
                                   rt_journal *j, rt_error *err);

/* A transaction-currency amount (txn_decimals) in the functional currency (fn_decimals) at
 * rate_nanos functional units per transaction unit, rounded half-up. RT_EOVERFLOW. */
rt_status rt_journal_convert(int64_t txn_minor, unsigned txn_decimals, int64_t rate_nanos,
                             unsigned fn_decimals, int64_t *fn_minor);

/* Sum of debits and of credits over the whole journal (128-bit, never overflows). */
void rt_journal_totals(const rt_journal *j, __int128 *debit_minor, __int128 *credit_minor);

#endif

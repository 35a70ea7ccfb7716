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
    RT_JL_RECEIVABLE = 0,   /* Dr customer receivable */
    RT_JL_REVENUE,          /* Cr revenue of a product GL account */
    RT_JL_VAT,              /* Cr VAT payable, one line per rate */
    RT_JL_DEFERRED,         /* Cr deferred revenue: recurring charges billed in advance */
    RT_JL_RELEASE_DEFERRED, /* Dr deferred revenue: service of the period billed earlier */
    RT_JL_RELEASE_REVENUE,  /* Cr revenue for that service, per product GL account */
    RT_JL_UNBILLED,         /* accrual: Dr unbilled receivable for usage rated, not invoiced */
    RT_JL_UNBILLED_REVENUE, /* accrual: Cr revenue per product GL account */
    RT_JL_KIND_COUNT_
} rt_journal_kind;

/* Lines of entries that belong to no invoice (revenue recognition) carry this invoice. */
#define RT_JOURNAL_NO_INVOICE UINT32_MAX

/* "receivable", "revenue", "vat". */
const char *rt_journal_kind_name(rt_journal_kind k);

typedef struct rt_journal_line {
    uint32_t entry;   /* 1-based entry number, gap-free in the run */
    uint32_t invoice; /* index in the invoice set (reference, customer); RT_JOURNAL_NO_INVOICE */
    uint32_t gl;      /* GL account row */
    uint16_t kind;     /* rt_journal_kind */
    uint16_t reversal; /* 1: the line reverses an earlier booking (accrual reversal) */
    uint32_t subtotal; /* for RT_JL_VAT: index of the invoice's VAT subtotal */
    rt_days date;
    int64_t debit_minor;  /* functional currency */
    int64_t credit_minor; /* functional currency */
    int64_t txn_minor;    /* transaction currency, signed: debit > 0, credit < 0 */
    const rt_currency *txn_currency;
} rt_journal_line;
/* A run holds one per journal line (six and a half million at 10M events): no padding. */
_Static_assert(sizeof(rt_journal_line) == 48 + sizeof(const rt_currency *),
               "rt_journal_line has no padding");

/* What a journal adds up to: debits and credits in the functional currency, and per
 * transaction currency the debit-side and credit-side sums of txn_minor, each pair of which
 * balances on its own. 128-bit sums: they never overflow. */
typedef struct rt_journal_sums {
    __int128 debit_minor, credit_minor; /* functional currency */
    /* by row of the currency table (rt_currency_at), so in code order */
    __int128 txn_debit[RT_CURRENCY_COUNT], txn_credit[RT_CURRENCY_COUNT];
    bool used[RT_CURRENCY_COUNT]; /* some line is in that currency */
} rt_journal_sums;

typedef struct rt_journal {
    rt_journal_line *lines;
    size_t count, capacity;
    uint32_t entries;
    /* Of the lines, kept as they are booked (each entry summed right after it is written, on
     * the thread that wrote it): the run summary and the manifest read them, not the lines. */
    rt_journal_sums sums;
} rt_journal;

void rt_journal_free(rt_journal *j);
/* Free the lines once they are written, keeping count, entries and sums (what the run summary
 * and the manifest read afterwards): the lines must not be read again. */
void rt_journal_drop_lines(rt_journal *j);

/* Book the invoicing entries of every invoice (in invoice order). Entry dates are the
 * invoices' issue dates. An invoice in another currency than the functional one is converted
 * at the FX rate in force at the entry date (midnight UTC), or for a credit note at the rate
 * its invoice was booked at when the registry kept it (rt_invoice_fx_rate): every revenue and
 * VAT line is converted on its own, rounded half-up to the functional currency's minor
 * units, and the receivable line is their sum, so the entry balances in the functional
 * currency and any conversion rounding difference sits on the receivable line. Booked on up
 * to `threads` threads; the journal is the same for any count. RT_ENOMEM, RT_EOVERFLOW, or RT_ENOTFOUND
 * when the book lacks a GL account or an FX rate for the entry date (the error of the first
 * failing invoice; the journal is then left as it was). */
rt_status rt_journal_book_invoices(const rt_catalog *cat, const rt_invoice_set *invoices,
                                   unsigned threads, rt_journal *j, rt_error *err);

/* Book the release of deferred revenue for the period: one entry dated `day` with
 * Dr deferred revenue / Cr revenue per product GL account (amounts in the functional
 * currency; each release names a revenue GL row). Nothing is booked when count is 0.
 * RT_ENOTFOUND when the book has no deferred revenue account. */
typedef struct rt_revenue_release {
    uint32_t gl;          /* revenue GL row */
    int64_t amount_minor; /* in the functional currency */
} rt_revenue_release;

rt_status rt_journal_book_releases(const rt_catalog *cat, const rt_revenue_release *releases,
                                   size_t count, rt_days day, rt_journal *j, rt_error *err);

/* Month-end accrual of usage rated but not invoiced (`--accrue-only`): from the would-be
 * invoices (of the usage alone: the run leaves the orders' lines out), per currency of theirs
 * (in currency-table order) one entry dated the period's last day, Dr unbilled receivable /
 * Cr revenue per product GL account (every line, net of VAT: usage, allowances, minimums,
 * percentages, discounts), each GL sum converted to the functional currency at the FX rate in
 * force on that day (half-up; the receivable is their sum), then the reversal of each dated
 * the next period's first day. RT_ENOTFOUND when the book has no unbilled receivable account
 * or no FX rate for that day; RT_EOVERFLOW, RT_ENOMEM. */
rt_status rt_journal_book_accrual(const rt_catalog *cat, const rt_invoice_set *invoices,
                                  const rt_period *period, rt_journal *j, rt_error *err);
/* A transaction-currency amount (txn_decimals) in the functional currency (fn_decimals) at
 * rate_nanos functional units per transaction unit, rounded half-up. RT_EOVERFLOW. */
rt_status rt_journal_convert(int64_t txn_minor, unsigned txn_decimals, int64_t rate_nanos,
                             unsigned fn_decimals, int64_t *fn_minor);
/* The VAT an invoice's entry books, in the functional currency: the rate it is booked at
 * (*rate_nanos, rt_invoice_fx_rate) and the sum of its VAT lines, each converted on its own
 * as rt_journal_book_invoices converts it (credits minus debits: a credit note's is
 * negative). What EN 16931 BT-111 gives. RT_ENOTFOUND when the book has no FX rate for the
 * invoice's issue date, RT_EOVERFLOW. */
rt_status rt_journal_vat_functional(const rt_catalog *cat, const rt_invoice *inv,
                                    int64_t *rate_nanos, int64_t *vat_minor);

#endif

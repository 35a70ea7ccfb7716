/* billing: from rated events to invoices.
 *
 * Owns the period aggregates (per account, charge version, destination zone and rate: event
 * count, quantities, exact amount sum), their deterministic merge across threads, the
 * period-level pricing rules applied to them (tiered, volume and package prices on the
 * period's billable total; allowances; minimum per period; percentage charges; discounts on
 * a charge or the whole invoice), and invoice construction: one usage line per aggregate
 * rounded at the line rounding point, then the lines of those rules, the VAT breakdown per
 * category and rate computed once on the sum of line nets (EN 16931), totals, issue and due
 * dates. Invoice numbers are assigned later, when the run commits (registry). It does not
 * write files (formats does) or book the journal (journal does). */
#ifndef RT_BILLING_H
#define RT_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/catalog.h"
#include "engine/rating.h"
#include "engine/u64map.h"

/* ---- aggregates ---- */
typedef struct rt_agg_entry {
    uint32_t account;
    uint32_t charge;
    uint32_t zone;       /* destination zone row, RT_NO_INDEX without deck */
    uint32_t rate_group; /* catalog rate group, RT_NO_INDEX when the charge prices it */
    uint64_t events;
    int64_t quantity_base;
    int64_t billable_base;
    __int128 amount_nanos; /* exact; 128 bits so partial sums never depend on thread split */
} rt_agg_entry;

typedef struct rt_aggregates {
    uint64_t *slots; /* open addressing on (account, charge, zone, rate_group): hash tag,
                      * entry + 1; NULL until needed in a merged total */
    size_t mask;
    rt_agg_entry *entries;
    size_t count, capacity;
} rt_aggregates;

rt_status rt_agg_init(rt_aggregates *a);
/* Room for `entries` entries in one block, so that adding them never copies the table: each
 * doubling copied it into memory touched for the first time, which costs seconds per GiB on a
 * guest with shadow page tables. Room not yet used is address space only (bigmem maps it and
 * pages are touched as entries are added). RT_ENOMEM leaves the table as it was (it then
 * grows by doubling). */
rt_status rt_agg_reserve(rt_aggregates *a, size_t entries);
void rt_agg_free(rt_aggregates *a);
/* Add one rated event (each of its parts to the entry of its rate; the event is counted once,
 * in its first part). RT_EOVERFLOW when a quantity sum leaves int64; RT_ENOMEM. */
rt_status rt_agg_add(rt_aggregates *a, const rt_rated *r);
/* Hints for adding many events in a row (each a random place in tables as large as the
 * period's lines): step 1 asks for the slot of the event's (first part's) key, step 2, a few
 * events later, for its entry. They change nothing. */
void rt_agg_prefetch(const rt_aggregates *a, const rt_rated *r, int step);
/* Sort entries by (account, charge, zone, rate_group): the order invoices and lines are
 * built in (zones in zone id order, rates in band id order, since catalog rows are sorted). */
void rt_agg_sort(rt_aggregates *a);
/* Sorted aggregates in pieces: items[0..count) hold ascending, disjoint ranges of whole
 * accounts, so that side by side they are in key order. Billing frees each piece as soon as
 * the invoices of its accounts are built, and the invoices take the memory over. */
typedef struct rt_agg_chunks {
    rt_aggregates *items;
    size_t count;
} rt_agg_chunks;

void rt_agg_chunks_free(rt_agg_chunks *c);

/* Aggregates holding a copy of the n entries at `entries` (rt_agg_entry's, at any alignment:
 * another process's, as received, in a distributed run), not
 * indexed (indexed on a first rt_agg_add, as a merged total): a part for rt_agg_merge_sorted.
 * RT_ENOMEM. */
rt_status rt_agg_from_entries(rt_aggregates *a, const void *entries, size_t n);

/* The sorted sum of n parts (one per thread): their entries placed by account (a counting
 * sort, each part on a thread of its own when the parts hold ascending, disjoint ranges of
 * accounts) into chunks of whole accounts, each but the last cut once it is given
 * chunk_entries entries or more (capacity), then each account's sorted and equal keys summed
 * (which leaves fewer where parts share accounts), on up to `threads` threads. Side
 * by side, the same entries as merging every part into one and sorting it. The parts' indexes
 * are freed first, then the parts one after another as their entries move (each chunk made
 * when the first part with entries for it is moved), so the aggregates are not held twice:
 * on return the parts are empty, and after RT_ENOMEM some may be (the run fails then). A
 * chunk is indexed (slots) on its first rt_agg_add. RT_ENOMEM, RT_EOVERFLOW (a quantity sum
 * leaves int64). */
rt_status rt_agg_merge_sorted(rt_aggregates *parts, unsigned n, unsigned threads,
                              size_t chunk_entries, rt_agg_chunks *out);

/* ---- invoices ---- */
/* What an invoice line bills. Usage lines come from rated events; the others from orders,
 * period-level rules and corrections. */
typedef enum rt_line_kind {
    RT_LINE_USAGE = 0, /* aggregated rated usage of one charge version (of every version in
                          the period for a tiered, volume or package charge) */
    RT_LINE_RECURRING, /* a subscription fee for service days (prorated) */
    RT_LINE_ONE_TIME,  /* an order's one-time charge (installation, hardware) */
    RT_LINE_MINIMUM,   /* top-up to a charge's minimum per period */
    RT_LINE_DISCOUNT,  /* a discount (negative, but for a percentage taken back from a
                          credit) */
    RT_LINE_ALLOWANCE, /* free units of an allowance (negative amount) */
    RT_LINE_PERCENTAGE, /* a charge computed as a percentage of the plan's other charges */
    RT_LINE_KIND_COUNT_
} rt_line_kind;

typedef struct rt_invoice_line {
    uint8_t kind;      /* rt_line_kind */
    uint8_t deferred;  /* 1: billed in advance; its revenue is deferred */
    uint16_t subtotal; /* index of its VAT subtotal in the invoice (RT_SUBTOTALS_MAX) */
    uint32_t charge;  /* charge row (RT_NO_INDEX for lines not priced by a charge) */
    uint32_t product; /* product row in force at the tax point */
    uint32_t tax;     /* tax rate row: its product's category's, but for an invoice
                         discount's share, which names the category it lowers */
    uint32_t zone;             /* destination zone row (RT_NO_INDEX) */
    uint32_t rate_group;       /* rate group of the line (RT_NO_INDEX) */
    rt_days service_start_day; /* service period of the line: [start, end) */
    rt_days service_end_day;
    uint64_t events;
    int64_t quantity_base;
    int64_t billable_base;
    int64_t amount_nanos; /* exact sum of the event amounts */
    int64_t net_minor;    /* rounded at the line rounding point */
    int64_t unit_price_nanos;  /* the line's price per price_per units, when price_per != 0 */
    int64_t price_per;         /* 0: the line shows its charge's price (rt_line_price) */
    const char *description;   /* overrides the charge/product text when not NULL */
} rt_invoice_line;
/* A run holds one per invoice line (ten million at 10M events): the narrow fields come first,
 * so that the line has no padding, and the small ones are as narrow as their values. */
_Static_assert(sizeof(rt_invoice_line) == 88 + sizeof(const char *),
               "rt_invoice_line has no padding");
/* Distinct VAT (category, rate) pairs on one invoice: more is refused (RT_ELIMIT). */
#define RT_SUBTOTALS_MAX UINT16_MAX

/* The price a line shows (invoice tables, documents) and the units it is for: the line's own
 * when it has one (a line priced by a rate: its destination zone's or time band's), else that
 * of ch, the charge pricing the line. */
static inline void rt_line_price(const rt_invoice_line *l, const rt_charge *ch,
                                 int64_t *price_nanos, int64_t *price_per)
{
    *price_nanos = l->price_per ? l->unit_price_nanos : ch->price_nanos;
    *price_per = l->price_per ? l->price_per : ch->price_per;
}
/* The same for any line: 0 at 1 on a line that has no price of its own and no charge (an
 * invoice discount). */
static inline void rt_line_shown_price(const rt_catalog *cat, const rt_invoice_line *l,
                                       int64_t *price_nanos, int64_t *price_per)
{
    if (l->charge != RT_NO_INDEX) {
        rt_line_price(l, &cat->charges[l->charge], price_nanos, price_per);
    } else {
        *price_nanos = l->price_per ? l->unit_price_nanos : 0;
        *price_per = l->price_per ? l->price_per : 1;
    }
}

typedef struct rt_tax_subtotal {
    uint32_t tax;      /* the first tax rate row with this (code, rate) */
    int32_t vat_code;  /* rt_vat_code */
    int64_t rate_e4;
    int64_t base_minor; /* sum of the line nets of this category and rate */
    int64_t tax_minor;  /* round(base x rate), once per rate */
} rt_tax_subtotal;

enum { RT_INVOICE_NUMBER_MAX = 48 };

typedef enum rt_invoice_type {
    RT_INVOICE = 0,     /* UNTDID 1001 code 380 */
    RT_CREDIT_NOTE = 1, /* code 381: reverses an earlier invoice */
} rt_invoice_type;

typedef struct rt_invoice {
    uint32_t type;    /* rt_invoice_type */
    uint32_t account;
    char corrects[RT_INVOICE_NUMBER_MAX]; /* credit notes: the invoice they reverse */
    char number[RT_INVOICE_NUMBER_MAX]; /* empty until the run commits */
    const rt_currency *currency;
    rt_days issue_day;
    rt_days due_day;
    rt_days tax_point_day;
    rt_invoice_line *lines;
    size_t line_count;
    rt_tax_subtotal *taxes;
    size_t tax_count;
    int64_t net_minor;
    int64_t tax_minor;
    int64_t gross_minor;
    uint64_t events;
    /* Credit notes made from a stored invoice: each line's rate terms as the invoice showed
     * them (see rt_line_terms); NULL: taken from the book. */
    const struct rt_line_terms *terms;
    /* Credit notes made from a stored invoice: the FX rate to the functional currency (nanos
     * per unit) its journal entry was booked at; 0: the book's (rt_invoice_fx_rate). */
    int64_t fx_rate_nanos;
} rt_invoice;

/* A rate interval after the first: from from_base base units of an event on, price_nanos per
 * price_per units. */
typedef struct rt_rate_step {
    int64_t from_base;
    int64_t price_nanos;
    int64_t price_per;
} rt_rate_step;

/* What a usage line shows of its rate beside its price (rt_line_price): the connection fee per
 * event (RT_UNSET or 0: none), the rate's later intervals, and the charge's minimum and
 * maximum per event (RT_UNSET: none). */
typedef struct rt_line_terms {
    int64_t setup_fee_nanos;
    int64_t min_per_event_nanos, max_per_event_nanos;
    const rt_rate_step *steps;
    uint32_t step_count;
} rt_line_terms;

/* The FX rate (functional currency nanos per unit of the invoice's currency) the journal
 * books inv at: a credit note's stored one, else the book's in force at the issue date
 * (midnight UTC); RT_UNSET when the book has none. */
int64_t rt_invoice_fx_rate(const rt_catalog *cat, const rt_invoice *inv);

/* The terms line i of inv shows (fee RT_UNSET and no steps on lines other than usage): a
 * credit note's stored ones (inv->terms); else the charge's minimum and maximum, and on a
 * line priced by a rate, its rate group's intervals (the version its calls were rated under):
 * the first's connection fee (the charge's when it has none) and the later ones into buf; on
 * any other line the charge's fee. */
rt_line_terms rt_line_terms_of(const rt_catalog *cat, const rt_invoice *inv, size_t i,
                               rt_rate_step buf[RT_RATE_INTERVALS_MAX]);

typedef struct rt_invoice_set {
    rt_arena arena; /* lines and subtotals */
    rt_invoice *items;
    size_t count;
} rt_invoice_set;

void rt_invoice_set_free(rt_invoice_set *s);

/* A line billed outside usage aggregation (orders: recurring and one-time charges), ready
 * but for its VAT: tax and subtotal are filled in by rt_billing_build. */
typedef struct rt_extra_line {
    uint32_t account;
    rt_invoice_line line;
} rt_extra_line;

/* Build one invoice per account with activity, in account order, from the aggregates in
 * parts[0..part_count) (sorted: the chunks of rt_agg_merge_sorted, or one part sorted by
 * rt_agg_sort) and extra lines sorted by account (usage lines first, then extra lines in
 * their order). With `release`, each part is freed (rt_agg_free) as soon as the invoices
 * reading it are built, so that the invoices reuse its memory.
 * Issue date = the first day after the period; due = issue + payment terms (account, else
 * company); tax rates are those in force on the period's last day (the tax point).
 * Invoices are built on up to `threads` threads; the set is the same for any count.
 * RT_EOVERFLOW, RT_ENOMEM, or RT_ENOTFOUND when a tax rate or product version is missing
 * (validation normally prevents both); the error is that of the first failing invoice in
 * account order. */
rt_status rt_billing_build(const rt_catalog *cat, const rt_period *period,
                           rt_aggregates *parts, size_t part_count, bool release,
                           const rt_extra_line *extra, size_t extra_count, unsigned threads,
                           rt_invoice_set *out, rt_error *err);

/* The tier of a tiered or volume charge row that a period total of q base units reaches (the
 * first whose upper bound is at least q; the last when none), or NULL when it has no tiers:
 * a volume charge prices the whole total at its price, a tiered one the units above the
 * tier's lower bound. qdec: the product's quantity decimals. */
const rt_tier *rt_tier_reached(const rt_catalog *cat, uint32_t charge, int64_t qdec, int64_t q);

/* Price of a period's billable quantity (base units) under a tiered, volume or package
 * charge row, without the events' setup fees, rounded once to the charge's event_decimals
 * with its event_rounding. Tiered: each tier's share at its price, plus the flat fee of
 * every tier reached; volume: the whole quantity at the price (and flat fee) of the tier it
 * falls in; package: price per started block of price_per units. Zero costs zero.
 * RT_EOVERFLOW. */
rt_status rt_period_amount(const rt_catalog *cat, uint32_t charge, int64_t quantity_decimals,
                           int64_t billable_base, int64_t *amount_nanos);

/* Tax of one subtotal: round(base x rate_e4 / 10^6) in minor units. */
rt_status rt_tax_amount(int64_t base_minor, int64_t rate_e4, rt_round mode, int64_t *tax_minor);

#endif

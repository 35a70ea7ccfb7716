/* orders: subscriptions and one-time charges from the order book, billed by period.
 *
 * Owns the order book model (the lines a quote-to-cash system exports: new / change / cancel
 * of a subscription, one-time charges), the subscription timeline a book of lines implies,
 * day-based proration of recurring charges over calendar-aligned billing cycles, billing in
 * advance or in arrears, and the revenue-recognition schedule of advance billing. It does not
 * parse files (formats/orders_csv does) or build invoices (billing does).
 *
 * The order book is the complete history and the input of every run, so billing is stateless
 * and repeatable. What a cycle C is worth "as known at instant X" is
 *     V(C, X) = sum over the months of C, over the subscription's segments built from the
 *               lines booked before X, of  price x quantity x service days / days in month
 * and what has been billed for it by the run that closes at X is
 *     B(C, X) = V(C, X) once C is billable at X (advance: C starts at or before X;
 *               arrears: C ends at or before X), else 0.
 * The run of period P bills B(C, P.end) - B(C, P.start): the whole next cycle when it starts
 * at P.end, plus prorated adjustments for starts, quantity changes and cancels booked during P.
 * A line booked after its effective date (backdated) is picked up by the next run the same
 * way. One-time charges follow the same rule (billed once, in the first run that knows them).
 * Cycles and one-time charges older than RT_ORDERS_HORIZON_MONTHS are not revisited. */
#ifndef RT_ORDERS_H
#define RT_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/billing.h"
#include "engine/catalog.h"
#include "engine/journal.h"

enum { RT_ORDERS_HORIZON_MONTHS = 12 };
/* Largest order quantity in base units. */
#define RT_ORDER_QTY_MAX INT64_C(1000000000000000)
#define RT_DAYS_OPEN INT32_MAX

typedef enum rt_order_action {
    RT_ORDER_NEW = 0,  /* start a subscription: effective = first day of service */
    RT_ORDER_CHANGE,   /* new quantity / price / discount from the effective day */
    RT_ORDER_CANCEL,   /* effective = first day without service */
    RT_ORDER_ONE_TIME, /* a one-time charge dated the effective day */
    RT_ORDER_ACTION_COUNT_
} rt_order_action;

const char *rt_order_action_name(rt_order_action a);

/* One order line. Strings live in the order book's arena. */
typedef struct rt_order_line {
    const char *order_id;
    uint32_t line;
    uint32_t action; /* rt_order_action */
    const char *subscription_id; /* "" for one-time lines */
    const char *account_id;
    const char *product_id;
    rt_days effective_day;
    rt_days booked_day;   /* when the line became known; the effective day when not given */
    rt_days end_day;      /* new: first day without service of a fixed term; RT_DAYS_OPEN */
    int64_t qty_mantissa; /* quantity as written (mantissa x 10^-qty_scale); RT_UNSET on
                             change/cancel lines that do not change it */
    uint8_t qty_scale;
    int64_t price_nanos;  /* override: per month (recurring) or per unit (one-time); RT_UNSET */
    int64_t discount_e4;  /* percent x 10^4; RT_UNSET */
    const char *description;
    uint32_t source;      /* index of the order file */
    uint64_t source_line; /* physical line in it */
    const char *raw;      /* original record text */
    uint32_t raw_len;
} rt_order_line;

/* A line that cannot be used, with the rt_reject_reason it is rejected for. */
typedef struct rt_order_reject {
    uint32_t reason;
    uint32_t source;
    uint64_t source_line;
    const char *field;
    char message[120];
    const char *raw;
    uint32_t raw_len;
} rt_order_reject;

typedef struct rt_order_book {
    rt_arena arena;
    char **texts; /* input texts the book owns (lines' raw text may point into them) */
    size_t text_count;
    rt_order_line *lines;
    size_t count, capacity;
    rt_order_reject *rejects;
    size_t reject_count, reject_capacity;
    uint64_t read; /* lines read: count + rejects found while parsing */
} rt_order_book;

void rt_order_book_init(rt_order_book *ob);
void rt_order_book_free(rt_order_book *ob);
/* A zeroed line appended to the book (valid until the next push); NULL on allocation failure. */
rt_order_line *rt_order_book_push(rt_order_book *ob);
/* Make room for `lines` more lines in one step (a reader that knows about how many a file
 * holds calls it first): glibc moves a large array that doubles (mremap), and on a guest with
 * shadow page tables every moved page faults again when next read. false when memory runs
 * out (nothing changes). */
bool rt_order_book_reserve(rt_order_book *ob, size_t lines);
/* Once the book is billed: release its lines and the text they were read into, keeping the
 * rejects (their raw text and field names copied) and the count of lines read, which is all
 * the run's outputs need. At a million order lines this is hundreds of megabytes that would
 * otherwise stay to the end of the run. false when memory runs out (nothing changes). */
bool rt_order_book_compact(rt_order_book *ob);
/* Take ownership of a malloc'd input text (freed with the lines, by compact or free), so
 * that the lines' raw text can point into it instead of being copied. false when memory runs
 * out (the text is then still the caller's). */
bool rt_order_book_adopt(rt_order_book *ob, char *text);
/* Record a rejected line; false on allocation failure. */
bool rt_order_book_reject(rt_order_book *ob, uint32_t reason, uint32_t source, uint64_t line,
                          const char *raw, size_t raw_len, const char *field, const char *fmt,
                          ...) __attribute__((format(printf, 8, 9)));

typedef struct rt_order_result {
    rt_arena arena; /* descriptions (the invoice lines made from charges point into it) */
    rt_extra_line *charges; /* sorted by account, then subscription and cycle; advance-billed
                               recurring lines have line.deferred set */
    size_t charge_count, charge_capacity;
    rt_revenue_release *releases; /* in the functional currency, sorted by GL row; zero
                                     amounts omitted */
    size_t release_count;
    uint64_t lines_used; /* order lines that contributed to the period (or will) */
} rt_order_result;

void rt_order_result_free(rt_order_result *r);
/* Once the invoices hold them: release the charges, keeping the releases and the texts (the
 * invoice lines point into the result's arena). */
void rt_order_result_drop_charges(rt_order_result *r);

/* Bill the order book for a period. Lines that cannot be billed (unknown account or product,
 * no charge in the account's plans, impossible sequence such as a change before the start)
 * are moved to the book's rejects; the rest yield invoice lines and the release of deferred
 * revenue. Lines are sorted in place. RT_ENOMEM, RT_EOVERFLOW, or RT_ENOTFOUND when a release
 * in another currency than the functional one has no FX rate for the day it was deferred. */
rt_status rt_orders_bill(const rt_catalog *cat, const rt_period *period, rt_order_book *ob,
                         rt_order_result *out, rt_error *err);

/* ---- building blocks, exposed for tests ---- */

/* Month index (year x 12 + month - 1) of a day, and the first day of a month index. */
int32_t rt_month_index(rt_days day);
rt_days rt_month_start(int32_t month_index);

/* Prorated value of `months_count` months of service starting at month index `first_month`
 * for one segment [seg_start, seg_end) at price_nanos per month and unit, quantity in base
 * units with quantity_decimals, discount_e4 (RT_UNSET: none): in nanos. */
rt_status rt_prorate_nanos(int64_t price_nanos, int64_t quantity_base, int64_t quantity_decimals,
                           int64_t discount_e4, rt_days seg_start, rt_days seg_end,
                           int32_t first_month, int32_t months_count, __int128 *nanos);

#endif

/* corrections: reruns of a committed period as credit notes and new invoices.
 *
 * Owns the canonical stored form of an invoice (what the registry keeps of every invoice in
 * effect, with price book rows named by key so they survive a re-import), the comparison of a
 * rerun's invoices with those in effect, and the documents that follow from it: an account
 * whose invoice is unchanged keeps it (no new document); one whose invoice changed or vanished
 * gets a credit note that reverses the old invoice in full (UNTDID 1001 code 381, amounts
 * negated), then its new invoice, if any; a new account gets an invoice. Numbers are assigned
 * at commit (registry). It does not write files. */
#ifndef RT_CORRECTIONS_H
#define RT_CORRECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/billing.h"
#include "engine/buf.h"
#include "engine/registry.h"
#include "engine/store.h"

/* The stored content's formats (its first byte). 1 had no line prices, so a credit note of
 * such an invoice shows the prices of the book it is made with; 2 adds each line's price as
 * the invoice showed it, the units it is for and its other rate terms (rt_line_terms: the
 * connection fee per event, the rate's later intervals, the minimum and maximum per event);
 * 3 holds only what the invoice shows (not its lines' exact amounts, which a change of the
 * rules that derive lines can move without moving a cent) and adds the FX rate its journal
 * entry was booked at (the book's at its issue date), so that its credit note reverses the
 * entry at that rate whatever the book says at the rerun (1 and 2: the book's). All three are
 * read; 3 is written. A fresh invoice is compared with one stored in format 2 by rebuilding
 * that and packing it in format 3, with one in format 1 in format 1. */
enum { RT_INVOICE_CONTENT_1 = 1, RT_INVOICE_CONTENT_2 = 2, RT_INVOICE_CONTENT = 3 };

/* The canonical content of an invoice (everything but its number) into out. */
rt_status rt_invoice_pack(const rt_catalog *cat, const rt_invoice *inv, rt_buf *out,
                          rt_error *err);
/* The same in an earlier format (what runs before the current format stored). */
rt_status rt_invoice_pack_format(const rt_catalog *cat, const rt_invoice *inv, unsigned format,
                                 rt_buf *out, rt_error *err);

/* One entry of the set of invoices in effect after this run. */
typedef struct rt_effective_invoice {
    uint32_t account;          /* account row */
    const rt_registry_invoice *carried; /* unchanged: the old invoice, kept; else NULL */
    uint32_t document;         /* else: index of its new invoice in the documents */
} rt_effective_invoice;

typedef struct rt_correction_result {
    rt_invoice_set documents;         /* credit notes and new invoices, in account order */
    rt_effective_invoice *effective;  /* in account order */
    size_t effective_count;
    uint64_t credit_notes, new_invoices, unchanged;
} rt_correction_result;

void rt_correction_result_free(rt_correction_result *r);

/* Compare fresh invoices (the rerun's, one per account, in account order) with the invoices in
 * effect (as the registry holds them: rt_registry_invoices_load) and build the documents.
 * `fresh` is left empty (its invoices move into the result). On `threads` threads (0: one),
 * with the same result on any number. RT_ENOTFOUND when an old invoice names an account,
 * product, charge or tax rate that is no longer in the price book (a credit note could not be
 * booked; the first such invoice in account order is named); RT_ECORRUPT, RT_ENOMEM. */
rt_status rt_corrections_build(const rt_catalog *cat, const rt_registry_invoices *old,
                               rt_invoice_set *fresh, unsigned threads, rt_correction_result *out,
                               rt_error *err);

#endif

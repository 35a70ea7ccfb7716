/* invoice_html: the invoice a customer reads and prints.
 *
 * Owns the HTML rendering of one invoice or credit note: a self-contained page (inline CSS
 * for screen and A4 print, no script, no external resource) with the seller and buyer blocks,
 * the document facts (number, dates, period, customer reference, the invoice a credit note
 * reverses), the lines with their usage facts, discounts, the VAT breakdown with exemption
 * reasons, the totals and the payment terms. Every text from the book is escaped. The figures
 * are invoice_view's, so they match the UBL document exactly. It writes no file itself. */
#ifndef RT_INVOICE_HTML_H
#define RT_INVOICE_HTML_H

#include "engine/billing.h"
#include "engine/buf.h"
#include "engine/catalog.h"
#include "engine/datetime.h"
#include "formats/invoice_view.h"

/* Append the HTML page of inv to out (view: scratch, as for rt_invoice_ubl).
 * RT_ENOMEM, RT_EOVERFLOW. */
rt_status rt_invoice_html(const rt_catalog *cat, const rt_period *period, const rt_invoice *inv,
                          rt_doc_view *view, rt_buf *out);
/* The same from a view already built for inv (see rt_invoice_ubl_of_view). */
rt_status rt_invoice_html_of_view(const rt_catalog *cat, const rt_period *period,
                                  const rt_invoice *inv, const rt_doc_view *view, rt_buf *out);

#endif

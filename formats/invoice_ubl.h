/* invoice_ubl: UBL 2.1 e-invoices per EN 16931 / Peppol BIS Billing 3.0.
 *
 * Owns the XML of one document: an Invoice (type code 380) for an invoice, a CreditNote (type
 * code 381, with a BillingReference to the invoice it reverses) for a credit note, elements in
 * the order the UBL 2.1 schemas require, amounts with exactly the currency's minor units, VAT
 * per category and rate with exemption reasons, and lines in the forms invoice_view chooses.
 * The element mapping is documented in formats/README.md. It does not decide any figure (the
 * engine and invoice_view do) and writes no file itself (run_outputs does). */
#ifndef RT_INVOICE_UBL_H
#define RT_INVOICE_UBL_H

#include "engine/billing.h"
#include "engine/buf.h"
#include "engine/catalog.h"
#include "engine/datetime.h"
#include "formats/invoice_view.h"

#define RT_UBL_CUSTOMIZATION_ID                                                                    \
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
#define RT_UBL_PROFILE_ID "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

/* Append the UBL document of inv (billing period `period`) to out. `view` is scratch space
 * (rt_doc_view_init'ed by the caller, reusable across calls). RT_ENOMEM, RT_EOVERFLOW. */
rt_status rt_invoice_ubl(const rt_catalog *cat, const rt_period *period, const rt_invoice *inv,
                         rt_doc_view *view, rt_buf *out);
/* The same from a view already built for inv (rt_doc_view_build), so that one view serves
 * both documents of an invoice. */
rt_status rt_invoice_ubl_of_view(const rt_catalog *cat, const rt_period *period,
                                 const rt_invoice *inv, const rt_doc_view *view, rt_buf *out);

#endif

/* test_corrections: the documents and invoices in effect that a run's fresh invoices make,
 * against none in effect (a period's first run: every invoice is new, in place) and against
 * a committed run's (unchanged invoices carried, changed ones credited and replaced, vanished
 * ones credited, new accounts invoiced). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/corrections.h"
#include "fixture_invoices.h"

/* The fixture's invoices as a fresh set the corrections may take over (a malloc'd array, as
 * billing hands it; the lines stay in the fixture's arena, which moves to the result). */
static rt_invoice_set fresh_of(fx *f)
{
    rt_invoice_set s;
    memset(&s, 0, sizeof s);
    s.arena = f->set.arena;
    memset(&f->set.arena, 0, sizeof f->set.arena);
    s.items = malloc((f->set.count ? f->set.count : 1) * sizeof *s.items);
    cr_assert_not_null(s.items);
    memcpy(s.items, f->items, f->set.count * sizeof *s.items);
    s.count = f->set.count;
    f->set.count = 0;
    return s;
}

/* Add to old an invoice in effect with the content the registry would hold for inv. */
static void add_stored(rt_registry_invoices *old, const fx *f, const rt_invoice *inv,
                       const char *number)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_error err;
    cr_assert_eq(rt_invoice_pack(&f->cat, inv, &b, &err), RT_OK);
    cr_assert_eq(rt_registry_invoices_add(old, f->cat.accounts[inv->account].account_id, number,
                                          b.data, b.len),
                 RT_OK);
    rt_buf_free(&b);
}

Test(corrections, a_first_run_makes_every_invoice_a_new_document_in_place)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line be = fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 120000000);
    rt_invoice_line fr[2] = {fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 100000000),
                             fx_usage(&f, "ACC-FR", "VOICE", 1, 61, 120, 40000000)};
    rt_invoice_line x = fx_usage(&f, "ACC-X", "DATA", 4, 1500, 1500, 15000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &be, 1);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, fr, 2);
    fx_invoice(&f, "ACC-X", "", RT_INVOICE, NULL, &x, 1);
    rt_invoice expect[3];
    memcpy(expect, f.items, sizeof expect);

    rt_invoice_set fresh = fresh_of(&f);
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    rt_correction_result r;
    rt_error err;
    cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, &r, &err), RT_OK);

    cr_assert_eq(fresh.count, 0, "the fresh invoices moved into the result");
    cr_assert_null(fresh.items);
    cr_assert_eq(r.documents.count, 3);
    cr_assert_eq(r.effective_count, 3);
    cr_assert_eq(r.new_invoices, 3);
    cr_assert_eq(r.credit_notes, 0);
    cr_assert_eq(r.unchanged, 0);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(memcmp(&r.documents.items[i], &expect[i], sizeof expect[i]), 0,
                     "document %zu is fresh invoice %zu, unchanged", i, i);
        cr_assert_eq(r.effective[i].account, expect[i].account);
        cr_assert_null(r.effective[i].carried);
        cr_assert_eq(r.effective[i].document, i);
    }
    cr_assert_eq(r.documents.items[1].lines[1].quantity_base, 61, "lines still readable");
    rt_correction_result_free(&r);
    rt_registry_invoices_free(&old);
    fx_free(&f);
}

Test(corrections, a_rerun_carries_credits_and_replaces)
{
    fx f;
    fx_load(&f, "EUR");
    /* In effect: ACC-BE (to stay as it is), ACC-FR (to change) and ACC-X (to vanish). */
    rt_invoice_line be = fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 120000000);
    rt_invoice_line fr_old = fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 100000000);
    rt_invoice_line x = fx_usage(&f, "ACC-X", "DATA", 4, 1500, 1500, 15000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &be, 1);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr_old, 1);
    fx_invoice(&f, "ACC-X", "", RT_INVOICE, NULL, &x, 1);
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    add_stored(&old, &f, &f.items[0], "INV-000001");
    add_stored(&old, &f, &f.items[1], "INV-000002");
    add_stored(&old, &f, &f.items[2], "INV-000003");

    /* The rerun bills ACC-BE the same and ACC-FR one more SMS; ACC-X has nothing. */
    f.set.count = 0;
    rt_invoice_line fr_new = fx_usage(&f, "ACC-FR", "SMS", 3, 3, 3, 150000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &be, 1);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr_new, 1);
    rt_invoice_set fresh = fresh_of(&f);
    rt_correction_result r;
    rt_error err;
    cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, &r, &err), RT_OK, "%s", err.message);

    cr_assert_eq(r.unchanged, 1);
    cr_assert_eq(r.credit_notes, 2);
    cr_assert_eq(r.new_invoices, 1);
    /* Documents in account order: the credit note of ACC-FR's invoice, its new invoice, the
     * credit note of ACC-X's. */
    cr_assert_eq(r.documents.count, 3);
    cr_assert_eq(r.documents.items[0].type, RT_CREDIT_NOTE);
    cr_assert_str_eq(r.documents.items[0].corrects, "INV-000002");
    cr_assert_eq(r.documents.items[0].net_minor, -10);
    cr_assert_eq(r.documents.items[1].type, RT_INVOICE);
    cr_assert_eq(r.documents.items[1].net_minor, 15);
    cr_assert_eq(r.documents.items[2].type, RT_CREDIT_NOTE);
    cr_assert_str_eq(r.documents.items[2].corrects, "INV-000003");
    /* In effect afterwards: ACC-BE's old invoice, ACC-FR's new one. */
    cr_assert_eq(r.effective_count, 2);
    cr_assert_eq(r.effective[0].carried, &old.items[0]);
    cr_assert_null(r.effective[1].carried);
    cr_assert_eq(r.effective[1].document, 1);
    rt_correction_result_free(&r);
    rt_registry_invoices_free(&old);
    fx_free(&f);
}

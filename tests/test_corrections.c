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

/* Add to old an invoice in effect with the content the registry would hold for inv, in a
 * content format (RT_INVOICE_CONTENT: what runs store now; RT_INVOICE_CONTENT_1 and _2:
 * earlier). */
static void add_stored_as(rt_registry_invoices *old, const fx *f, const rt_invoice *inv,
                          const char *number, unsigned format)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_error err;
    cr_assert_eq(rt_invoice_pack_format(&f->cat, inv, format, &b, &err), RT_OK);
    cr_assert_eq(((const uint8_t *)b.data)[0], format);
    cr_assert_eq(rt_registry_invoices_add(old, f->cat.accounts[inv->account].account_id, number,
                                          b.data, b.len),
                 RT_OK);
    rt_buf_free(&b);
}

static void add_stored(rt_registry_invoices *old, const fx *f, const rt_invoice *inv,
                       const char *number)
{
    add_stored_as(old, f, inv, number, RT_INVOICE_CONTENT);
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
    cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, 1, &r, &err), RT_OK);

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
    /* In effect: ACC-BE (to stay as it is; stored by a run before format 3, so compared in
     * format 2), ACC-FR (to change) and ACC-X (to vanish). */
    rt_invoice_line be = fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 120000000);
    rt_invoice_line fr_old = fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 100000000);
    rt_invoice_line x = fx_usage(&f, "ACC-X", "DATA", 4, 1500, 1500, 15000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &be, 1);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr_old, 1);
    fx_invoice(&f, "ACC-X", "", RT_INVOICE, NULL, &x, 1);
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    add_stored_as(&old, &f, &f.items[0], "INV-000001", RT_INVOICE_CONTENT_2);
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
    cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, 1, &r, &err), RT_OK, "%s", err.message);

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

/* A fresh set of `n` invoices, copies of the templates given per account row (NULL: none). */
static rt_invoice_set fresh_rows(const rt_invoice *const *tpl, size_t rows)
{
    rt_invoice_set s;
    memset(&s, 0, sizeof s);
    rt_arena_init(&s.arena, 4096);
    s.items = malloc((rows + 1) * sizeof *s.items);
    cr_assert_not_null(s.items);
    for (size_t k = 0; k < rows; k++)
        if (tpl[k]) {
            s.items[s.count] = *tpl[k];
            s.items[s.count++].account = (uint32_t)k;
        }
    return s;
}

/* Thousands of accounts, every case (unchanged, changed, vanished, new) mixed through them:
 * one thread and several give the same documents in the same places, and the counts the
 * cases add up to. */
Test(corrections, a_rerun_gives_the_same_documents_on_any_thread_count)
{
    fx f;
    fx_load_spread(&f, "EUR", 1500);
    size_t rows = f.cat.account_count;
    cr_assert_eq(rows, 3003);
    rt_invoice_line a = fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 120000000);
    rt_invoice_line b[2] = {fx_usage(&f, "ACC-BE", "SMS", 2, 2, 2, 100000000),
                            fx_usage(&f, "ACC-BE", "DATA", 4, 1500, 1500, 15000000)};
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &a, 1);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, b, 2);
    const rt_invoice *ta = &f.items[0], *tb = &f.items[1];

    /* In effect: template A for every row but one in three. The rerun: A for even rows, B for
     * odd ones, none for one row in five. */
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    const rt_invoice **tpl = calloc(rows, sizeof *tpl);
    cr_assert_not_null(tpl);
    size_t same = 0, changed = 0, vanished = 0, added = 0;
    for (size_t k = 0; k < rows; k++) {
        bool in_effect = k % 3 != 2, billed = k % 5 != 4;
        if (in_effect) {
            char number[32];
            snprintf(number, sizeof number, "INV-%06zu", k);
            rt_invoice inv = *ta;
            inv.account = (uint32_t)k;
            add_stored(&old, &f, &inv, number);
        }
        if (billed) tpl[k] = k % 2 == 0 ? ta : tb;
        if (in_effect && billed) *(k % 2 == 0 ? &same : &changed) += 1;
        else if (in_effect) vanished++;
        else if (billed) added++;
    }

    rt_correction_result r[2];
    unsigned threads[2] = {1, 4};
    rt_error err;
    for (int t = 0; t < 2; t++) {
        rt_invoice_set fresh = fresh_rows(tpl, rows);
        cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, threads[t], &r[t], &err), RT_OK,
                     "%s", err.message);
        cr_assert_eq(r[t].unchanged, same);
        cr_assert_eq(r[t].credit_notes, changed + vanished);
        cr_assert_eq(r[t].new_invoices, changed + added);
        cr_assert_eq(r[t].documents.count, 2 * changed + vanished + added);
        cr_assert_eq(r[t].effective_count, same + changed + added);
    }
    for (size_t i = 0; i < r[0].effective_count; i++) {
        const rt_effective_invoice *x = &r[0].effective[i], *y = &r[1].effective[i];
        cr_assert_eq(x->account, y->account);
        cr_assert_eq(x->carried, y->carried, "the same old invoice carried");
        if (!x->carried) cr_assert_eq(x->document, y->document);
        if (x->carried) cr_assert_eq(x->account % 2, 0, "only unchanged invoices are carried");
    }
    rt_buf px, py;
    rt_buf_init(&px);
    rt_buf_init(&py);
    for (size_t i = 0; i < r[0].documents.count; i++) {
        const rt_invoice *x = &r[0].documents.items[i], *y = &r[1].documents.items[i];
        cr_assert_eq(x->type, y->type, "document %zu", i);
        cr_assert_eq(x->account, y->account, "document %zu", i);
        cr_assert_str_eq(x->corrects, y->corrects, "document %zu", i);
        if (i) cr_assert_leq(r[0].documents.items[i - 1].account, x->account, "account order");
        if (x->type == RT_CREDIT_NOTE) {
            char number[32];
            snprintf(number, sizeof number, "INV-%06u", x->account);
            cr_assert_str_eq(x->corrects, number);
            cr_assert_eq(x->net_minor, -ta->net_minor);
        }
        rt_buf_reset(&px);
        rt_buf_reset(&py);
        cr_assert_eq(rt_invoice_pack(&f.cat, x, &px, &err), RT_OK);
        cr_assert_eq(rt_invoice_pack(&f.cat, y, &py, &err), RT_OK);
        cr_assert(px.len == py.len && memcmp(px.data, py.data, px.len) == 0,
                  "document %zu has the same content on 1 and 4 threads", i);
    }
    rt_buf_free(&px);
    rt_buf_free(&py);
    rt_correction_result_free(&r[0]);
    rt_correction_result_free(&r[1]);
    free(tpl);
    rt_registry_invoices_free(&old);
    fx_free(&f);
}

/* Old invoices whose accounts left the book cannot be credited: on any thread count, the run
 * fails naming the first of them in account order. */
Test(corrections, the_first_invoice_that_cannot_be_credited_is_named_on_any_thread_count)
{
    fx f;
    fx_load_spread(&f, "EUR", 1500);
    rt_invoice_line a = fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 120000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &a, 1);
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    rt_buf b;
    rt_buf_init(&b);
    rt_error err;
    cr_assert_eq(rt_invoice_pack(&f.cat, &f.items[0], &b, &err), RT_OK);
    /* Every account in effect; among them two gone from the book, sorting after ACC-F0700
     * and after ACC-G1400 (in different chunks of the threads' work). */
    for (size_t k = 0; k < f.cat.account_count; k++) {
        const char *id = f.cat.accounts[k].account_id;
        char number[32];
        snprintf(number, sizeof number, "INV-%06zu", k);
        cr_assert_eq(rt_registry_invoices_add(&old, id, number, b.data, b.len), RT_OK);
        if (strcmp(id, "ACC-F0700") == 0 || strcmp(id, "ACC-G1400") == 0) {
            char gone[32];
            snprintf(gone, sizeof gone, "%s-GONE", id);
            cr_assert_eq(rt_registry_invoices_add(&old, gone, id[4] == 'F' ? "GONE-1" : "GONE-2",
                                                  b.data, b.len),
                         RT_OK);
        }
    }
    rt_buf_free(&b);
    unsigned threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; t++) {
        const rt_invoice *none = NULL;
        rt_invoice_set fresh = fresh_rows(&none, 0);
        rt_correction_result r;
        cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, threads[t], &r, &err),
                     RT_ENOTFOUND);
        cr_assert(strstr(err.message, "GONE-1") && strstr(err.message, "ACC-F0700-GONE"), "%s",
                  err.message);
        cr_assert_eq(r.documents.count, 0, "no document survives a failure");
        rt_correction_result_free(&r);
    }
    rt_registry_invoices_free(&old);
    fx_free(&f);
}

/* An invoice stored in format 2 (with its lines' exact amounts) is compared on what it shows:
 * rebuilt and packed in the current format. ACC-BE's fresh invoice differs from the stored one
 * only in a line's exact amount (a rule that derives lines now reckons on shown amounts), not
 * in a cent: carried. ACC-FR's differs by a cent: credited and reissued. */
Test(corrections, an_earlier_format_is_compared_on_what_the_invoice_shows)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line be = fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 120000000);
    rt_invoice_line fr = fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 100000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &be, 1);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr, 1);
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    add_stored_as(&old, &f, &f.items[0], "INV-000001", RT_INVOICE_CONTENT_2);
    add_stored_as(&old, &f, &f.items[1], "INV-000002", RT_INVOICE_CONTENT_2);
    f.set.count = 0;
    rt_invoice_line be_new = be, fr_new = fx_usage(&f, "ACC-FR", "SMS", 3, 3, 3, 150000000);
    be_new.amount_nanos += 4000000; /* 0.12 -> 0.124: still 0.12 */
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, &be_new, 1);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr_new, 1);
    cr_assert_eq(f.items[0].lines[0].net_minor, 12);
    rt_invoice_set fresh = fresh_of(&f);
    rt_correction_result r;
    rt_error err;
    cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, 2, &r, &err), RT_OK, "%s", err.message);
    cr_assert_eq(r.unchanged, 1);
    cr_assert_eq(r.effective[0].carried, &old.items[0]);
    cr_assert_eq(r.credit_notes, 1);
    cr_assert_eq(r.new_invoices, 1);
    cr_assert_str_eq(r.documents.items[0].corrects, "INV-000002");
    rt_correction_result_free(&r);
    rt_registry_invoices_free(&old);
    fx_free(&f);
}

/* A credit note shows the prices its invoice showed, whatever the book says at the rerun: the
 * stored content carries each line's price, a rate's (ACC-BE's calls) as a charge's (its SMS).
 * Invoices stored in format 1 (no prices) are still compared (ACC-X, unchanged, is carried) and
 * credited (ACC-FR: its credit note shows the book's price, all format 1 knows). */
Test(corrections, credit_notes_show_the_prices_their_invoices_showed)
{
    fx f;
    fx_load(&f, "EUR");
    rt_invoice_line be[2] = {fx_usage(&f, "ACC-BE", "SMS", 2, 2, 2, 100000000),
                             fx_usage(&f, "ACC-BE", "VOICE", 3, 300, 360, 144000000)};
    be[1].unit_price_nanos = 24000000; /* priced by a rate: 0.024 per 60 */
    be[1].price_per = 60;
    rt_invoice_line fr = fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 100000000);
    rt_invoice_line x = fx_usage(&f, "ACC-X", "DATA", 4, 1500, 1500, 15000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, be, 2);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr, 1);
    fx_invoice(&f, "ACC-X", "", RT_INVOICE, NULL, &x, 1);
    rt_registry_invoices old;
    rt_registry_invoices_init(&old);
    add_stored(&old, &f, &f.items[0], "INV-000001");
    add_stored_as(&old, &f, &f.items[1], "INV-000002", RT_INVOICE_CONTENT_1);
    add_stored_as(&old, &f, &f.items[2], "INV-000003", RT_INVOICE_CONTENT_1);

    /* The book's SMS and data prices change (as an edited charge re-imported would). */
    rt_charge *sms = (rt_charge *)&f.cat.charges[fr.charge];
    cr_assert_eq(sms->price_nanos, 50000000);
    cr_assert_eq(sms->max_per_event_nanos, RT_UNSET);
    sms->price_nanos = 40000000;
    sms->max_per_event_nanos = 1000000000; /* and gets a maximum of 1.00 an event */
    ((rt_charge *)&f.cat.charges[x.charge])->price_nanos = 20000000;

    /* The rerun: ACC-BE and ACC-FR billed less, ACC-X the same. */
    f.set.count = 0;
    rt_invoice_line be_new[2] = {fx_usage(&f, "ACC-BE", "SMS", 2, 2, 2, 80000000), be[1]};
    rt_invoice_line fr_new = fx_usage(&f, "ACC-FR", "SMS", 2, 2, 2, 80000000);
    fx_invoice(&f, "ACC-BE", "", RT_INVOICE, NULL, be_new, 2);
    fx_invoice(&f, "ACC-FR", "", RT_INVOICE, NULL, &fr_new, 1);
    fx_invoice(&f, "ACC-X", "", RT_INVOICE, NULL, &x, 1);
    rt_invoice_set fresh = fresh_of(&f);
    rt_correction_result r;
    rt_error err;
    cr_assert_eq(rt_corrections_build(&f.cat, &old, &fresh, 1, &r, &err), RT_OK, "%s", err.message);

    cr_assert_eq(r.unchanged, 1, "ACC-X: compared in format 1, carried");
    cr_assert_eq(r.effective[2].carried, &old.items[2]);
    cr_assert_eq(r.credit_notes, 2);
    cr_assert_eq(r.documents.count, 4);
    const rt_invoice *cn_be = &r.documents.items[0], *cn_fr = &r.documents.items[2];
    cr_assert_str_eq(cn_be->corrects, "INV-000001");
    int64_t price, per;
    rt_line_price(&cn_be->lines[0], sms, &price, &per);
    cr_assert_eq(price, 50000000, "the SMS price the invoice showed, not the book's 0.04");
    cr_assert_eq(per, 1);
    rt_line_price(&cn_be->lines[1], &f.cat.charges[be[1].charge], &price, &per);
    cr_assert_eq(price, 24000000, "the call's rate");
    cr_assert_eq(per, 60);
    cr_assert_eq(cn_be->lines[1].net_minor, -14);
    rt_rate_step buf[RT_RATE_INTERVALS_MAX];
    cr_assert_eq(rt_line_terms_of(&f.cat, cn_be, 0, buf).max_per_event_nanos, RT_UNSET,
                 "no maximum, as the invoice showed");
    cr_assert_eq(rt_line_terms_of(&f.cat, cn_fr, 0, buf).max_per_event_nanos, 1000000000,
                 "format 1: the book's terms");
    cr_assert_str_eq(cn_fr->corrects, "INV-000002");
    cr_assert_eq(cn_fr->lines[0].price_per, 0, "format 1: no price of its own");
    rt_line_price(&cn_fr->lines[0], sms, &price, &per);
    cr_assert_eq(price, 40000000);
    cr_assert_eq(cn_fr->net_minor, -10, "the amounts are the stored ones");
    /* The FX rate its entry was booked at (the functional currency's own here), stored from
     * format 3 on; format 1 and 2 contents leave it to the book. */
    cr_assert_eq(cn_be->fx_rate_nanos, RT_NANOS_PER_UNIT);
    cr_assert_eq(cn_fr->fx_rate_nanos, 0);
    rt_correction_result_free(&r);
    rt_registry_invoices_free(&old);
    fx_free(&f);
}

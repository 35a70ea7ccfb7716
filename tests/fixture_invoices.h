/* fixture_invoices: a small price book and hand-built invoices, journal and run result for the
 * output-format tests (UBL, HTML, FEC, journal CSV, usage detail). Header-only (static
 * functions) so that each test_<module>.c stays one file; tests only.
 *
 * The book: Lumen Test SAS (SIREN 123 456 789, VAT FR40123456789, functional currency as
 * given), products VOICE (second, SEC), SMS (message, C62) and DATA (megabyte with 3
 * decimals, 4L), and LINE (month, MON) and SIM (each, H87), which no charge prices (order
 * lines with a price of their own), plan P_MAIN with
 *   C_VOICE 0.02 per 60 s in 60/60 steps,  C_SMS flat 0.05,  C_DATA 0.01 per MB,
 * accounts ACC-BE (reverse charge, VAT code AE at 0% with a reason), ACC-FR (20%) and
 * ACC-X (a name that needs escaping everywhere, 45-day terms). Invoices are built like the
 * engine builds them: line nets rounded half-up to minor units, VAT per (code, rate) on the
 * sum of line nets, rounded half-up. */
#ifndef RT_FIXTURE_INVOICES_H
#define RT_FIXTURE_INVOICES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/billing.h"
#include "engine/book.h"
#include "engine/catalog.h"
#include "engine/journal.h"
#include "engine/money.h"
#include "engine/run.h"
#include "formats/book_csv.h"
#include "testutil.h"

enum { FX_INVOICES_MAX = 16, FX_LINES_MAX = 16 };

typedef struct fx {
    char dir[256];
    rt_book book;
    rt_catalog cat;
    rt_period period;
    rt_invoice_set set;
    rt_invoice items[FX_INVOICES_MAX];
    rt_journal journal;
    rt_run_result res;
    rt_currency_total totals[4];
} fx;

static inline void fx_write(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* `filler` accounts ACC-Fnn before ACC-FR and as many ACC-Gnn before ACC-X, which puts the
 * three accounts at rows 0, filler + 1 and 2 * filler + 2. */
static inline void fx_fillers(char *at, size_t room, char letter, int filler, const char *cur)
{
    for (int i = 0; i < filler; i++) {
        int n = snprintf(at, room, "ACC-%c%04d,Filler %d,1 rue F,Paris,75001,FR,,,,%s,FR,\n",
                         letter, i, i, cur);
        cr_assert(n > 0 && (size_t)n < room, "fixture text too long");
        at += n;
        room -= (size_t)n;
    }
}

/* Write the book source with `cur` as every currency but the company's functional one and
 * `filler` more accounts between each of the three (see fx_fillers), then load, validate and
 * compile it. When the functional currency differs, fx_rates.csv gives 1.05 functional units
 * for one of `cur` until 2026-11-01 and 1.0642 from then on (the issue date of October). */
static inline void fx_load_book(fx *f, const char *cur, const char *functional, int filler)
{
    size_t fill_room = 64 * (size_t)filler + 1, room = 2 * fill_room + 2048;
    char *text = malloc(room), *fill_f = malloc(fill_room), *fill_g = malloc(fill_room),
         *plans_text = malloc(room);
    cr_assert(text && fill_f && fill_g && plans_text);
    fill_f[0] = fill_g[0] = '\0';
    memset(f, 0, sizeof *f);
    rt_test_tmpdir(f->dir, sizeof f->dir);
    snprintf(text, room,
             "name,vat_id,registration_id,street,city,postcode,country,email,"
             "functional_currency,invoice_prefix,credit_note_prefix,payment_terms_days,"
             "sales_journal_code,sales_journal_label\n"
             "Lumen Test SAS,FR40123456789,123 456 789,12 rue de la Paix,Paris,75002,FR,"
             "billing@lumen.example,%s,INV-2026-,AV-2026-,30,VE,Ventes\n",
             functional);
    fx_write(f->dir, "company.csv", text);
    if (strcmp(cur, functional) != 0) {
        snprintf(text, room,
                 "currency,valid_from,valid_to,rate\n%s,2026-01-01,2026-11-01,1.05\n"
                 "%s,2026-11-01,,1.0642\n",
                 cur, cur);
        fx_write(f->dir, "fx_rates.csv", text);
    }
    fx_write(f->dir, "gl_accounts.csv",
             "gl_account,label,role\n411000,Clients,receivable\n445710,TVA collectee,vat_payable\n"
             "706100,Prestations voix,revenue\n706200,Prestations SMS,revenue\n");
    fx_write(f->dir, "products.csv",
             "product_id,name,unit,unit_code,quantity_decimals,gl_account,tax_category\n"
             "DATA,Mobile data,megabyte,4L,3,706100,standard\n"
             "LINE,Mobile line,month,MON,0,706200,standard\n"
             "SIM,SIM card,each,H87,0,706200,standard\n"
             "SMS,SMS,message,C62,0,706200,standard\n"
             "VOICE,National calls,second,SEC,0,706100,standard\n");
    snprintf(text, room, "plan_id,name,currency\nP_MAIN,Business,%s\n", cur);
    fx_write(f->dir, "plans.csv", text);
    fx_write(f->dir, "charges.csv",
             "plan_id,charge_id,product_id,description,model,price,price_per,first_increment,"
             "next_increment,event_decimals\n"
             "P_MAIN,C_DATA,DATA,Mobile data (per MB),per_unit,0.01,1,0,0,4\n"
             "P_MAIN,C_SMS,SMS,,flat,0.05,1,0,0,4\n"
             "P_MAIN,C_VOICE,VOICE,National calls (per minute),per_unit,0.02,60,60,60,4\n");
    fx_fillers(fill_f, fill_room, 'F', filler, cur);
    fx_fillers(fill_g, fill_room, 'G', filler, cur);
    snprintf(text, room,
             "account_id,name,street,city,postcode,country,vat_id,email,buyer_reference,currency,"
             "tax_jurisdiction,payment_terms_days\n"
             "ACC-BE,Brasserie Van Damme BV,Grote Markt 7,Brussel,1000,BE,BE0123456789,"
             "ap@vandamme.example,VD-2026,%s,BE_B2B,\n"
             "%s"
             "ACC-FR,Boulangerie Martin,3 rue des Lilas,Paris,75011,FR,FR11223344556,"
             "compta@martin.example,PO-7731,%s,FR,\n"
             "%s"
             "ACC-X,\"<Dupont & Fils> \"\"=SUM(A1)\"\"\",1 rue X,Lyon,69001,FR,,,,%s,FR,45\n",
             cur, fill_f, cur, fill_g, cur);
    fx_write(f->dir, "accounts.csv", text);
    size_t at = (size_t)snprintf(plans_text, room,
                                 "account_id,plan_id\nACC-BE,P_MAIN\nACC-FR,P_MAIN\nACC-X,P_MAIN\n");
    for (int i = 0; i < 2 * filler; i++)
        at += (size_t)snprintf(plans_text + at, room - at, "ACC-%c%04d,P_MAIN\n",
                               i < filler ? 'F' : 'G', i % filler);
    cr_assert_lt(at, room);
    fx_write(f->dir, "account_plans.csv", plans_text);
    free(text);
    free(fill_f);
    free(fill_g);
    free(plans_text);
    fx_write(f->dir, "tax_rates.csv",
             "jurisdiction,tax_category,rate_percent,vat_code,exemption_reason\n"
             "BE_B2B,standard,0,AE,Reverse charge - Art. 196 Directive 2006/112/EC\n"
             "FR,standard,20,S,\n");
    rt_diags d;
    rt_diags_init(&d);
    rt_book_init(&f->book);
    rt_status st = rt_book_csv_read(f->dir, &f->book, &d);
    if (st == RT_OK) st = rt_book_validate(&f->book, &d);
    if (st != RT_OK && d.count) {
        char msg[1024];
        rt_error_format(&d.items[0], msg, sizeof msg);
        cr_assert_fail("fixture book: %s", msg);
    }
    cr_assert_eq(st, RT_OK);
    rt_diags_free(&d);
    rt_error err;
    cr_assert_eq(rt_catalog_build(&f->book, &f->cat, &err), RT_OK);
    cr_assert_eq(rt_period_parse("2026-10", &f->period), RT_OK);
    rt_arena_init(&f->set.arena, 0);
    f->set.items = f->items;
}

static inline void fx_load_spread(fx *f, const char *cur, int filler)
{
    fx_load_book(f, cur, cur, filler);
}

static inline void fx_load(fx *f, const char *cur) { fx_load_spread(f, cur, 0); }

static inline void fx_free(fx *f)
{
    rt_journal_free(&f->journal);
    rt_arena_free(&f->set.arena);
    rt_catalog_free(&f->cat);
    rt_book_free(&f->book);
    rt_test_sh("rm -rf '%s'", f->dir);
}

static inline uint32_t fx_account(const fx *f, const char *id)
{
    uint32_t a = rt_catalog_account(&f->cat, id, strlen(id));
    cr_assert_neq(a, RT_NO_INDEX, "account %s", id);
    return a;
}

/* A usage line of `account` for `product` as billing builds it: nanos summed, rounded
 * half-up to minor units. Negative figures make the lines of a credit note stored negative. */
static inline rt_invoice_line fx_usage(const fx *f, const char *account, const char *product,
                                       uint64_t events, int64_t quantity, int64_t billable,
                                       int64_t amount_nanos)
{
    rt_invoice_line l;
    memset(&l, 0, sizeof l);
    uint32_t a = fx_account(f, account),
             pk = rt_catalog_product_key(&f->cat, product, strlen(product));
    rt_time_s t = f->period.end_s - 1;
    int no_plan;
    cr_assert_eq(rt_catalog_charge_at(&f->cat, a, pk, t, &l.charge, &no_plan), RT_OK);
    l.kind = RT_LINE_USAGE;
    l.zone = l.rate_group = RT_NO_INDEX; /* priced by the charge */
    l.product = rt_catalog_product_at(&f->cat, pk, t);
    l.tax = rt_catalog_tax_at(&f->cat, f->cat.accounts[a].tax_jurisdiction,
                              f->cat.products[l.product].tax_category, t);
    cr_assert_neq(l.tax, RT_NO_INDEX);
    l.events = events;
    l.quantity_base = quantity;
    l.billable_base = billable;
    l.amount_nanos = amount_nanos;
    unsigned minor = rt_currency_find(f->cat.accounts[a].currency)->minor_units;
    cr_assert_eq(rt_rescale(amount_nanos, RT_NANOS_SCALE, minor, RT_ROUND_HALF_UP, &l.net_minor),
                 RT_OK);
    l.service_start_day = f->period.start_day;
    l.service_end_day = f->period.end_day;
    return l;
}

/* net_minor of account's currency in nanos. */
static inline int64_t fx_nanos(const fx *f, const char *account, int64_t net_minor)
{
    return net_minor *
           rt_pow10(RT_NANOS_SCALE -
                    rt_currency_find(f->cat.accounts[fx_account(f, account)].currency)->minor_units);
}

/* A discount of net_minor (negative) on the product's tax category. */
static inline rt_invoice_line fx_discount(const fx *f, const char *account, const char *product,
                                          const char *text, int64_t net_minor)
{
    rt_invoice_line l = fx_usage(f, account, product, 0, 0, 0, 0);
    l.kind = RT_LINE_DISCOUNT;
    l.charge = RT_NO_INDEX;
    l.description = text;
    l.net_minor = net_minor;
    l.amount_nanos = fx_nanos(f, account, net_minor);
    return l;
}

/* A line from orders (kind RT_LINE_RECURRING or RT_LINE_ONE_TIME) of a product no charge
 * prices, at the order's own price per unit: quantity in base units and the net as billed
 * (a prorated or discounted line's is not quantity x price). Service period: the period. */
static inline rt_invoice_line fx_order_line(const fx *f, const char *account, const char *product,
                                            rt_line_kind kind, int64_t quantity,
                                            int64_t price_nanos, int64_t net_minor)
{
    rt_invoice_line l;
    memset(&l, 0, sizeof l);
    uint32_t a = fx_account(f, account),
             pk = rt_catalog_product_key(&f->cat, product, strlen(product));
    rt_time_s t = f->period.end_s - 1;
    l.kind = (uint8_t)kind;
    l.charge = l.zone = l.rate_group = RT_NO_INDEX;
    l.product = rt_catalog_product_at(&f->cat, pk, t);
    l.tax = rt_catalog_tax_at(&f->cat, f->cat.accounts[a].tax_jurisdiction,
                              f->cat.products[l.product].tax_category, t);
    cr_assert_neq(l.tax, RT_NO_INDEX);
    l.quantity_base = l.billable_base = quantity;
    l.unit_price_nanos = price_nanos;
    l.price_per = 1;
    l.net_minor = net_minor;
    l.amount_nanos = fx_nanos(f, account, net_minor);
    l.service_start_day = f->period.start_day;
    l.service_end_day = f->period.end_day;
    return l;
}

/* Add an invoice (or credit note) of `account` with these lines; returns its index. */
static inline size_t fx_invoice(fx *f, const char *account, const char *number,
                                rt_invoice_type type, const char *corrects,
                                const rt_invoice_line *lines, size_t n)
{
    cr_assert_lt(f->set.count, FX_INVOICES_MAX);
    rt_invoice *inv = &f->items[f->set.count];
    memset(inv, 0, sizeof *inv);
    inv->type = type;
    inv->account = fx_account(f, account);
    snprintf(inv->number, sizeof inv->number, "%s", number);
    snprintf(inv->corrects, sizeof inv->corrects, "%s", corrects ? corrects : "");
    const rt_account *a = &f->cat.accounts[inv->account];
    inv->currency = rt_currency_find(a->currency);
    inv->tax_point_day = f->period.end_day - 1;
    inv->issue_day = f->period.end_day;
    int64_t terms = a->payment_terms_days != RT_UNSET ? a->payment_terms_days
                                                      : f->cat.company->payment_terms_days;
    inv->due_day = inv->issue_day + (rt_days)terms;
    inv->lines = rt_arena_alloc(&f->set.arena, n * sizeof *lines);
    inv->taxes = rt_arena_alloc(&f->set.arena, n * sizeof *inv->taxes);
    memcpy(inv->lines, lines, n * sizeof *lines);
    inv->line_count = n;
    for (size_t i = 0; i < n; i++) {
        rt_invoice_line *l = &inv->lines[i];
        const rt_tax_rate *tr = &f->cat.tax_rates[l->tax];
        size_t s = 0;
        while (s < inv->tax_count &&
               !(inv->taxes[s].vat_code == tr->vat_code && inv->taxes[s].rate_e4 == tr->rate_e4))
            s++;
        if (s == inv->tax_count) {
            memset(&inv->taxes[s], 0, sizeof inv->taxes[s]);
            inv->taxes[s].tax = l->tax;
            inv->taxes[s].vat_code = tr->vat_code;
            inv->taxes[s].rate_e4 = tr->rate_e4;
            inv->tax_count++;
        }
        l->subtotal = (uint32_t)s;
        inv->taxes[s].base_minor += l->net_minor;
        inv->net_minor += l->net_minor;
        inv->events += l->events;
    }
    for (size_t s = 0; s < inv->tax_count; s++) {
        cr_assert_eq(rt_tax_amount(inv->taxes[s].base_minor, inv->taxes[s].rate_e4,
                                   RT_ROUND_HALF_UP, &inv->taxes[s].tax_minor),
                     RT_OK);
        inv->tax_minor += inv->taxes[s].tax_minor;
    }
    inv->gross_minor = inv->net_minor + inv->tax_minor;
    return f->set.count++;
}

/* An invoice of ACC-FR with a negative total: 600 s of calls (0.20) and a goodwill credit of
 * 0.50, net -0.30, VAT -0.06, gross -0.36. With sign -1, its credit note as the engine stores
 * it: every amount negated (gross +0.36). */
static inline size_t fx_negative_invoice(fx *f, const char *number, rt_invoice_type type,
                                         const char *corrects, int sign)
{
    rt_invoice_line l[2] = {
        fx_usage(f, "ACC-FR", "VOICE", 1, 600, 600, sign * 200000000),
        fx_discount(f, "ACC-FR", "VOICE", "Goodwill credit", sign * -50),
    };
    return fx_invoice(f, "ACC-FR", number, type, corrects, l, 2);
}

/* An invoice of ACC-FR with lines from orders: 1 two SIM cards at 10.00 (one-time, 20.00),
 * 2 eighteen mobile lines at 14.99 a month (269.82), 3 the same prorated to 10 of 31 days
 * (87.03), 4 a cancelled line's credit (-14.99); net 361.86. With sign -1, its credit note
 * as the engine stores it: every amount negated. */
static inline size_t fx_order_document(fx *f, const char *number, rt_invoice_type type,
                                       const char *corrects, int sign)
{
    rt_invoice_line l[4] = {
        fx_order_line(f, "ACC-FR", "SIM", RT_LINE_ONE_TIME, 2, 10000000000, sign * 2000),
        fx_order_line(f, "ACC-FR", "LINE", RT_LINE_RECURRING, 18, 14990000000, sign * 26982),
        fx_order_line(f, "ACC-FR", "LINE", RT_LINE_RECURRING, 18, 14990000000, sign * 8703),
        fx_order_line(f, "ACC-FR", "LINE", RT_LINE_RECURRING, 1, 14990000000, sign * -1499),
    };
    return fx_invoice(f, "ACC-FR", number, type, corrects, l, 4);
}

static inline size_t fx_order_invoice(fx *f, const char *number)
{
    return fx_order_document(f, number, RT_INVOICE, NULL, 1);
}

/* Book the journal and fill the run result, as the run does at commit. */
static inline void fx_finish(fx *f)
{
    rt_error err;
    cr_assert_eq(rt_journal_book_invoices(&f->cat, &f->set, 1, &f->journal, &err), RT_OK);
    rt_run_result *r = &f->res;
    r->run_no = 1;
    r->period = f->period;
    rt_period_format(&f->period, r->period_text, sizeof r->period_text);
    r->cat = &f->cat;
    r->invoices = &f->set;
    r->journal = &f->journal;
    uint64_t events = 0;
    for (size_t i = 0; i < f->set.count; i++)
        events += f->items[i].events;
    r->counts.read = r->counts.rated = events;
    r->totals = f->totals;
    r->total_count = 0;
}

/* A file's text (NUL-terminated, malloc'd). */
static inline char *fx_read(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = rt_test_read(path, len);
    cr_assert_not_null(t, "cannot read %s", path);
    return t;
}

#endif

/* journal_csv: journal.csv writer. */
#include "formats/journal_csv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/csv.h"
#include "formats/outfile.h"

const rt_currency *rt_journal_functional_currency(const rt_run_result *res)
{
    const rt_currency *c = rt_currency_find(res->cat->company->functional_currency);
    RT_ASSERT(c); /* the book validates functional_currency as an ISO 4217 code */
    return c;
}

static const rt_invoice *line_invoice(const rt_run_result *res, const rt_journal_line *l)
{
    return l->invoice < res->invoices->count ? &res->invoices->items[l->invoice] : NULL;
}

/* Labels are made for every journal line twice (journal.csv and the FEC): joined without
 * printf. */
void rt_journal_line_label(const rt_run_result *res, const rt_journal_line *l, char *buf,
                           size_t n)
{
    const rt_invoice *inv = line_invoice(res, l);
    const rt_catalog *cat = res->cat;
    if (!inv) {
        /* Entries of the period rather than of an invoice: revenue release and accruals. */
        bool accrual = l->kind == RT_JL_UNBILLED || l->kind == RT_JL_UNBILLED_REVENUE;
        bool revenue = l->kind == RT_JL_RELEASE_REVENUE || l->kind == RT_JL_UNBILLED_REVENUE;
        const char *text = accrual ? (l->reversal ? "Reversal of unbilled revenue accrued"
                                                  : "Unbilled revenue accrued")
                                   : "Deferred revenue released";
        RT_TEXT_JOIN(buf, n, text, " ", res->period_text, revenue ? " " : "",
                     revenue ? cat->gl_accounts[l->gl].label : "");
        return;
    }
    const char *what = inv->type == RT_CREDIT_NOTE ? "Credit note" : "Invoice";
    switch ((rt_journal_kind)l->kind) {
    case RT_JL_RECEIVABLE:
        RT_TEXT_JOIN(buf, n, what, " ", inv->number, " ", cat->accounts[inv->account].name);
        break;
    case RT_JL_VAT:
        if (l->subtotal < inv->tax_count) {
            char rate[48];
            rt_decimal_format(inv->taxes[l->subtotal].rate_e4, 4, -1, 0, '.', rate, sizeof rate);
            RT_TEXT_JOIN(buf, n, what, " ", inv->number, " VAT ", rate, "%");
            break;
        }
        /* fall through */
    default:
        /* Revenue, and kinds booked by later journal rules: the account's label says what. */
        RT_TEXT_JOIN(buf, n, what, " ", inv->number, " ", cat->gl_accounts[l->gl].label);
        break;
    }
}

static void put_text(rt_buf *b, const char *s)
{
    rt_csv_put_text(b, s ? s : "", s ? strlen(s) : 0);
}

static void write_row(rt_buf *b, const rt_run_result *res, const rt_journal_line *l,
                      const rt_currency *fc)
{
    const rt_catalog *cat = res->cat;
    const rt_company *co = cat->company;
    const rt_invoice *inv = line_invoice(res, l);
    const rt_account *a = inv ? &cat->accounts[inv->account] : NULL;
    const rt_gl_account *gl = &cat->gl_accounts[l->gl];
    const rt_currency *tc = l->txn_currency ? l->txn_currency : fc;
    char date[16], debit[48], credit[48], txn[48], label[512];
    rt_date_format(l->date, date, sizeof date);
    rt_decimal_str(l->debit_minor, fc->minor_units, debit, sizeof debit);
    rt_decimal_str(l->credit_minor, fc->minor_units, credit, sizeof credit);
    rt_decimal_str(l->txn_minor, tc->minor_units, txn, sizeof txn);
    rt_journal_line_label(res, l, label, sizeof label);
    /* Built piece by piece: a printf per line costs more than the rest of the row. */
    rt_buf_puts(b, date);
    rt_csv_sep(b);
    put_text(b, co->sales_journal_code);
    rt_csv_sep(b);
    rt_buf_put_u64(b, l->entry);
    rt_csv_sep(b);
    put_text(b, gl->gl_account);
    rt_csv_sep(b);
    put_text(b, gl->label);
    const char *const plain[5] = {debit, credit, fc->code, txn, tc->code};
    for (size_t k = 0; k < 5; k++) {
        rt_csv_sep(b);
        rt_buf_puts(b, plain[k]);
    }
    rt_csv_sep(b);
    /* Entries of the period (releases, accruals) are referenced by the period. */
    put_text(b, inv ? inv->number : res->period_text);
    rt_csv_sep(b);
    put_text(b, label);
    rt_csv_sep(b);
    put_text(b, rt_journal_kind_name((rt_journal_kind)l->kind));
    rt_csv_sep(b);
    put_text(b, a ? a->account_id : "");
    rt_csv_sep(b);
    put_text(b, a ? a->name : "");
    rt_csv_end(b);
}

typedef struct rows_ctx {
    const rt_run_result *res;
    const rt_currency *fc;
} rows_ctx;

static uint64_t journal_items(const void *ctx, size_t from, size_t to, rt_buf *b)
{
    const rows_ctx *c = ctx;
    for (size_t i = from; i < to; i++) write_row(b, c->res, &c->res->journal->lines[i], c->fc);
    return to - from;
}

rt_status rt_journal_csv_write(const char *dir, const rt_run_result *res, unsigned threads,
                               rt_output_list *files, rt_error *err)
{
    char name[RT_OUTPUT_NAME_MAX];
    rt_outfile_name("journal.csv", res->tables_zstd_level, name, sizeof name);
    rt_outfile f;
    rt_status st = rt_outfile_open(&f, dir, name, res->tables_zstd_level, err);
    if (st != RT_OK) return st;
    rt_outfile_defer_sync(&f); /* the run syncs its outputs together */
    f.spread = res->spread;
    rows_ctx c = {res, rt_journal_functional_currency(res)};
    rt_buf_puts(&f.buf, RT_JOURNAL_CSV_HEADER);
    /* Lines per chunk: about two megabytes of text. */
    st = rt_outfile_write_items(&f, res->journal->count, 16384, threads, journal_items, &c, err);
    if (st != RT_OK) {
        rt_outfile_abort(&f);
        return st;
    }
    return rt_outfile_close(&f, files, NULL, err);
}

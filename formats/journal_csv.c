/* journal_csv: journal.csv writer. */
#include "formats/journal_csv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/csv.h"
#include "formats/outfile.h"

void rt_journal_line_label(const rt_run_result *res, const rt_journal_line *l, char *buf,
                           size_t n)
{
    const rt_catalog *cat = res->cat;
    if (l->invoice == RT_JOURNAL_NO_INVOICE) {
        bool accrual = l->kind == RT_JL_UNBILLED || l->kind == RT_JL_UNBILLED_REVENUE;
        bool revenue = l->kind == RT_JL_RELEASE_REVENUE || l->kind == RT_JL_UNBILLED_REVENUE;
        const char *what = accrual ? (l->reversal ? "Reversal of unbilled revenue accrued"
                                                  : "Unbilled revenue accrued")
                                   : "Deferred revenue released";
        snprintf(buf, n, "%s %s %s", what, res->period_text,
                 revenue ? cat->gl_accounts[l->gl].label : "");
        size_t len = strlen(buf);
        while (len && buf[len - 1] == ' ') buf[--len] = '\0';
        return;
    }
    const rt_invoice *inv = &res->invoices->items[l->invoice];
    switch ((rt_journal_kind)l->kind) {
    case RT_JL_RECEIVABLE:
        snprintf(buf, n, "Invoice %s %s", inv->number, cat->accounts[inv->account].name);
        break;
    case RT_JL_VAT: {
        char rate[48];
        rt_decimal_format(inv->taxes[l->subtotal].rate_e4, 4, -1, 0, '.', rate, sizeof rate);
        snprintf(buf, n, "Invoice %s VAT %s%%", inv->number, rate);
        break;
    }
    default:
        snprintf(buf, n, "Invoice %s %s", inv->number, cat->gl_accounts[l->gl].label);
        break;
    }
}

rt_status rt_journal_csv_write(const char *dir, const rt_run_result *res, rt_output_list *files,
                               rt_error *err)
{
    rt_outfile f;
    rt_status st = rt_outfile_open(&f, dir, "journal.csv", 0, err);
    if (st != RT_OK) return st;
    const rt_catalog *cat = res->cat;
    const rt_company *co = cat->company;
    rt_buf *b = &f.buf;
    rt_buf_puts(b, "entry,date,journal_code,gl_account,gl_label,debit,credit,currency,reference,"
                   "customer_id,customer_name,label,line_type\n");
    for (size_t i = 0; i < res->journal->count; i++) {
        const rt_journal_line *l = &res->journal->lines[i];
        const rt_invoice *inv =
            l->invoice == RT_JOURNAL_NO_INVOICE ? NULL : &res->invoices->items[l->invoice];
        const rt_account *a = inv ? &cat->accounts[inv->account] : NULL;
        const rt_gl_account *gl = &cat->gl_accounts[l->gl];
        unsigned md = l->txn_currency->minor_units;
        char date[16], debit[48], credit[48], label[512];
        rt_date_format(l->date, date, sizeof date);
        rt_decimal_str(l->debit_minor, md, debit, sizeof debit);
        rt_decimal_str(l->credit_minor, md, credit, sizeof credit);
        rt_journal_line_label(res, l, label, sizeof label);
        rt_buf_printf(b, "%" PRIu32 ",%s,", l->entry, date);
        rt_csv_put_text(b, co->sales_journal_code, strlen(co->sales_journal_code));
        rt_csv_sep(b);
        rt_csv_put_text(b, gl->gl_account, strlen(gl->gl_account));
        rt_csv_sep(b);
        rt_csv_put_text(b, gl->label, strlen(gl->label));
        rt_buf_printf(b, ",%s,%s,%s,", debit, credit, l->txn_currency->code);
        const char *ref = inv ? inv->number : res->period_text;
        rt_csv_put_text(b, ref, strlen(ref));
        rt_csv_sep(b);
        if (a) rt_csv_put_text(b, a->account_id, strlen(a->account_id));
        rt_csv_sep(b);
        if (a) rt_csv_put_text(b, a->name, strlen(a->name));
        rt_csv_sep(b);
        rt_csv_put_text(b, label, strlen(label));
        rt_csv_sep(b);
        rt_buf_puts(b, rt_journal_kind_name((rt_journal_kind)l->kind));
        rt_csv_end(b);
        if ((st = rt_outfile_row_done(&f, err)) != RT_OK) {
            rt_outfile_abort(&f);
            return st;
        }
    }
    return rt_outfile_close(&f, files, NULL, err);
}

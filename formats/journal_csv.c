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
    const rt_invoice *inv = &res->invoices->items[l->invoice];
    const rt_catalog *cat = res->cat;
    switch ((rt_journal_kind)l->kind) {
    case RT_JL_RECEIVABLE:
        snprintf(buf, n, "Invoice %s %s", inv->number, cat->accounts[inv->account].name);
        break;
    case RT_JL_REVENUE:
        snprintf(buf, n, "Invoice %s %s", inv->number, cat->gl_accounts[l->gl].label);
        break;
    case RT_JL_VAT: {
        char rate[48];
        rt_decimal_format(inv->taxes[l->subtotal].rate_e4, 4, -1, 0, '.', rate, sizeof rate);
        snprintf(buf, n, "Invoice %s VAT %s%%", inv->number, rate);
        break;
    }
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
    const rt_currency *fn = rt_currency_find(co->functional_currency);
    RT_ASSERT(fn != NULL);
    rt_buf_puts(b, "entry,date,journal_code,gl_account,gl_label,debit,credit,currency,reference,"
                   "customer_id,customer_name,label,line_type,txn_amount,txn_currency\n");
    for (size_t i = 0; i < res->journal->count; i++) {
        const rt_journal_line *l = &res->journal->lines[i];
        const rt_invoice *inv = &res->invoices->items[l->invoice];
        const rt_account *a = &cat->accounts[inv->account];
        const rt_gl_account *gl = &cat->gl_accounts[l->gl];
        char date[16], debit[48], credit[48], txn[48], label[512];
        rt_date_format(l->date, date, sizeof date);
        /* Debit and credit in the functional currency; the transaction (invoice) currency
         * amount beside them, signed (debit positive). */
        rt_decimal_str(l->debit_minor, fn->minor_units, debit, sizeof debit);
        rt_decimal_str(l->credit_minor, fn->minor_units, credit, sizeof credit);
        rt_decimal_str(l->txn_minor, l->txn_currency->minor_units, txn, sizeof txn);
        rt_journal_line_label(res, l, label, sizeof label);
        rt_buf_printf(b, "%" PRIu32 ",%s,", l->entry, date);
        rt_csv_put_text(b, co->sales_journal_code, strlen(co->sales_journal_code));
        rt_csv_sep(b);
        rt_csv_put_text(b, gl->gl_account, strlen(gl->gl_account));
        rt_csv_sep(b);
        rt_csv_put_text(b, gl->label, strlen(gl->label));
        rt_buf_printf(b, ",%s,%s,%s,", debit, credit, fn->code);
        rt_csv_put_text(b, inv->number, strlen(inv->number));
        rt_csv_sep(b);
        rt_csv_put_text(b, a->account_id, strlen(a->account_id));
        rt_csv_sep(b);
        rt_csv_put_text(b, a->name, strlen(a->name));
        rt_csv_sep(b);
        rt_csv_put_text(b, label, strlen(label));
        rt_csv_sep(b);
        rt_buf_puts(b, rt_journal_kind_name((rt_journal_kind)l->kind));
        rt_buf_printf(b, ",%s,%s", txn, l->txn_currency->code);
        rt_csv_end(b);
        if ((st = rt_outfile_row_done(&f, err)) != RT_OK) {
            rt_outfile_abort(&f);
            return st;
        }
    }
    return rt_outfile_close(&f, files, NULL, err);
}

/* gl_fec: FEC writer and checker. */
#include "formats/gl_fec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/journal_csv.h"
#include "formats/outfile.h"

const char *const rt_fec_columns[RT_FEC_COLUMNS] = {
    "JournalCode", "JournalLib",  "EcritureNum", "EcritureDate", "CompteNum",     "CompteLib",
    "CompAuxNum",  "CompAuxLib",  "PieceRef",    "PieceDate",    "EcritureLib",   "Debit",
    "Credit",      "EcritureLet", "DateLet",     "ValidDate",    "Montantdevise", "Idevise"};

rt_status rt_gl_fec_name(const rt_company *co, const rt_period *period, char *buf, size_t n)
{
    char digits[16];
    size_t k = 0;
    const char *r = co->registration_id ? co->registration_id : "";
    for (size_t i = 0; r[i]; i++) {
        if (r[i] == ' ') continue;
        if (r[i] < '0' || r[i] > '9' || k == 14) return RT_ENOTFOUND;
        digits[k++] = r[i];
    }
    if (k != 9 && k != 14) return RT_ENOTFOUND;
    digits[9] = '\0'; /* a SIRET is the SIREN followed by a 5-digit establishment number */
    char closing[16];
    rt_date_format_compact(period->end_day - 1, closing, sizeof closing);
    int w = snprintf(buf, n, "%sFEC%s.txt", digits, closing);
    return w > 0 && (size_t)w < n ? RT_OK : RT_ELIMIT;
}

/* ---- writing ---- */

/* A field, its control characters (tabs and newlines would break the row) made spaces, then
 * the tab that ends it. Eighteen per journal line: one reservation, and a loop the compiler
 * vectorises, instead of a checked append per byte. */
static void put_text(rt_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!rt_buf_reserve(b, n + 1)) return;
    char *d = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        d[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    d[n] = '\t';
    b->len += n + 1;
}

static void put_date(rt_buf *b, rt_days d)
{
    char t[16];
    rt_buf_append(b, t, rt_date_format_compact(d, t, sizeof t));
    rt_buf_putc(b, '\t');
}

static void put_amount(rt_buf *b, int64_t v, unsigned minor)
{
    char t[48];
    rt_buf_append(b, t, rt_decimal_format(v, minor, (int)minor, 0, ',', t, sizeof t));
    rt_buf_putc(b, '\t');
}

typedef struct fec_entry {
    size_t first, count;
    rt_days date;
} fec_entry;

static int entry_cmp(const void *x, const void *y)
{
    const fec_entry *a = x, *b = y;
    if (a->date != b->date) return a->date < b->date ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first; /* stable: journal order */
}

/* The journal's entries (runs of lines with one entry number) in chronological order. */
static rt_status collect_entries(const rt_journal *j, fec_entry **out, size_t *n)
{
    fec_entry *e = malloc((j->count ? j->count : 1) * sizeof *e);
    if (!e) return RT_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < j->count; i++) {
        if (k && j->lines[i].entry == j->lines[e[k - 1].first].entry) {
            e[k - 1].count++;
            continue;
        }
        e[k++] = (fec_entry){i, 1, j->lines[i].date};
    }
    qsort(e, k, sizeof *e, entry_cmp);
    *out = e;
    *n = k;
    return RT_OK;
}

static void write_line(rt_buf *b, const rt_run_result *res, const rt_journal_line *l, uint64_t num,
                       unsigned fminor, const rt_currency *fcur)
{
    const rt_catalog *cat = res->cat;
    const rt_company *co = cat->company;
    const rt_gl_account *gl = &cat->gl_accounts[l->gl];
    const rt_invoice *inv =
        l->invoice < res->invoices->count ? &res->invoices->items[l->invoice] : NULL;
    char numtext[24], label[512];
    rt_u64_text(num, numtext);
    rt_journal_line_label(res, l, label, sizeof label);
    put_text(b, co->sales_journal_code);
    put_text(b, co->sales_journal_label);
    put_text(b, numtext);
    put_date(b, l->date);
    put_text(b, gl->gl_account);
    put_text(b, gl->label);
    bool aux = l->kind == RT_JL_RECEIVABLE && inv;
    put_text(b, aux ? cat->accounts[inv->account].account_id : "");
    put_text(b, aux ? cat->accounts[inv->account].name : "");
    put_text(b, inv && inv->number[0] ? inv->number : numtext);
    put_date(b, inv ? inv->issue_day : l->date);
    put_text(b, label);
    put_amount(b, l->debit_minor, fminor);
    put_amount(b, l->credit_minor, fminor);
    put_text(b, "");      /* EcritureLet: lettering is the receivables ledger's, later */
    put_text(b, "");      /* DateLet */
    put_date(b, l->date); /* ValidDate: entries are validated when the run commits them */
    const rt_currency *tc = l->txn_currency;
    if (tc && tc != fcur) {
        put_amount(b, l->txn_minor, tc->minor_units);
        rt_buf_puts(b, tc->code);
    } else {
        rt_buf_putc(b, '\t');
    }
    rt_buf_putc(b, '\n');
}

typedef struct fec_ctx {
    const rt_run_result *res;
    const fec_entry *entries;
    const rt_currency *fcur;
} fec_ctx;

/* Entries [from, to): EcritureNum is the entry's rank in chronological order. */
static uint64_t fec_items(const void *ctx, size_t from, size_t to, rt_buf *b)
{
    const fec_ctx *c = ctx;
    uint64_t rows = 0;
    for (size_t e = from; e < to; e++) {
        for (size_t k = 0; k < c->entries[e].count; k++) {
            const rt_journal_line *l = &c->res->journal->lines[c->entries[e].first + k];
            write_line(b, c->res, l, e + 1, c->fcur->minor_units, c->fcur);
        }
        rows += c->entries[e].count;
    }
    return rows;
}

rt_status rt_gl_fec_write(const char *dir, const rt_run_result *res, unsigned threads,
                          rt_output_list *files, rt_error *err)
{
    const rt_company *co = res->cat->company;
    char fec[RT_FEC_NAME_MAX], name[RT_OUTPUT_NAME_MAX];
    if (rt_gl_fec_name(co, &res->period, fec, sizeof fec) != RT_OK) return RT_OK;
    rt_outfile_name(fec, res->tables_zstd_level, name, sizeof name);
    const rt_currency *fcur = rt_currency_find(co->functional_currency);
    RT_ASSERT(fcur); /* the book validates functional_currency as ISO 4217 */
    fec_entry *entries = NULL;
    size_t n = 0;
    rt_outfile f;
    rt_status st = collect_entries(res->journal, &entries, &n);
    if (st != RT_OK) return rt_error_set(err, st, name, 0, 0, NULL, "out of memory");
    if ((st = rt_outfile_open(&f, dir, name, res->tables_zstd_level, err)) != RT_OK) goto done;
    rt_outfile_defer_sync(&f); /* the run syncs its outputs together */
    f.spread = res->spread;
    for (int c = 0; c < RT_FEC_COLUMNS; c++) {
        rt_buf_puts(&f.buf, rt_fec_columns[c]);
        rt_buf_putc(&f.buf, c + 1 < RT_FEC_COLUMNS ? '\t' : '\n');
    }
    fec_ctx c = {res, entries, fcur};
    /* Entries per chunk: a few megabytes of text. */
    st = rt_outfile_write_items(&f, n, 4096, threads, fec_items, &c, err);
    if (st == RT_OK)
        st = rt_outfile_close(&f, files, NULL, err);
    else
        rt_outfile_abort(&f);
done:
    free(entries);
    return st;
}

/* ---- checking ---- */

typedef struct fec_row {
    const char *f[RT_FEC_COLUMNS];
    size_t len[RT_FEC_COLUMNS];
} fec_row;

static bool split_row(const char *p, size_t len, fec_row *r)
{
    size_t k = 0;
    const char *start = p, *end = p + len;
    for (const char *q = p; q <= end; q++) {
        if (q < end && *q != '\t') continue;
        if (k == RT_FEC_COLUMNS) return false;
        r->f[k] = start;
        r->len[k] = (size_t)(q - start);
        k++;
        start = q + 1;
    }
    return k == RT_FEC_COLUMNS;
}

static bool field_is(const fec_row *r, int c, const char *s)
{
    return r->len[c] == strlen(s) && memcmp(r->f[c], s, r->len[c]) == 0;
}

/* AAAAMMJJ; *d receives the day. */
static bool date_ok(const char *s, size_t len, rt_days *d)
{
    if (len != 8) return false;
    char iso[11] = {s[0], s[1], s[2], s[3], '-', s[4], s[5], '-', s[6], s[7], 0};
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return rt_date_parse(iso, 10, d) == RT_OK;
}

/* Digits, a decimal comma and exactly `minor` decimals (no point, no thousands separator);
 * a leading '-' only when `sign` allows it. */
static bool amount_ok(const char *s, size_t len, unsigned minor, bool sign, int64_t *v)
{
    char t[64];
    if (len == 0 || len >= sizeof t) return false;
    memcpy(t, s, len);
    t[len] = '\0';
    size_t i = (sign && t[0] == '-') ? 1 : 0, digits = 0;
    while (t[i] >= '0' && t[i] <= '9')
        i++, digits++;
    if (digits == 0) return false;
    if (minor) {
        if (t[i] != ',') return false;
        t[i++] = '.';
        size_t dec = 0;
        while (t[i] >= '0' && t[i] <= '9')
            i++, dec++;
        if (dec != minor) return false;
    }
    return t[i] == '\0' && rt_decimal_parse(t, len, minor, v) == RT_OK;
}

typedef rt_fec_checker fec_state;

static void close_entry(fec_state *s)
{
    if (s->open && s->debit != s->credit)
        rt_diags_add(s->d, s->name, s->entry_line, 3, "EcritureNum",
                     "entry %s of journal %s does not balance", s->num, s->code);
    s->open = false;
}

static void open_entry(fec_state *s, const fec_row *r, uint64_t line)
{
    snprintf(s->code, sizeof s->code, "%.*s", (int)r->len[0], r->f[0]);
    snprintf(s->num, sizeof s->num, "%.*s", (int)r->len[2], r->f[2]);
    s->debit = s->credit = 0;
    s->entry_line = line;
    s->open = true;
    s->sum->entries++;
    char *end;
    uint64_t n = strtoull(s->num, &end, 10);
    if (!s->num[0] || *end || s->num[0] < '0' || s->num[0] > '9') {
        rt_diags_add(s->d, s->name, line, 3, "EcritureNum", "'%s' is not a number", s->num);
        return;
    }
    size_t k = 0;
    while (k < s->ncodes && strcmp(s->codes[k], s->code) != 0)
        k++;
    if (k == s->ncodes) {
        if (k == RT_ARRAY_LEN(s->codes)) return;
        snprintf(s->codes[k], sizeof s->codes[k], "%s", s->code);
        s->last[k] = 0;
        s->ncodes++;
    }
    if (n != s->last[k] + 1)
        rt_diags_add(s->d, s->name, line, 3, "EcritureNum",
                     "journal %s: entry %" PRIu64 " follows %" PRIu64 " (the sequence must run "
                     "from 1 without gaps)",
                     s->code, n, s->last[k]);
    s->last[k] = n;
}

static void check_row(fec_state *s, const fec_row *r, uint64_t line)
{
    rt_diags *d = s->d;
    rt_days date, day;
    for (int c = 0; c < RT_FEC_COLUMNS; c++) {
        static const bool required[RT_FEC_COLUMNS] = {1, 1, 1, 1, 1, 1, 0, 0, 1,
                                                      1, 1, 1, 1, 0, 0, 1, 0, 0};
        if (required[c] && r->len[c] == 0)
            rt_diags_add(d, s->name, line, (uint32_t)c + 1, rt_fec_columns[c], "is empty");
    }
    bool same = s->open && field_is(r, 0, s->code) && field_is(r, 2, s->num);
    if (!same) {
        close_entry(s);
        open_entry(s, r, line);
    }
    if (!date_ok(r->f[3], r->len[3], &date))
        rt_diags_add(d, s->name, line, 4, "EcritureDate", "not a date AAAAMMJJ");
    else if (!same)
        s->date = date;
    else if (date != s->date)
        rt_diags_add(d, s->name, line, 4, "EcritureDate", "differs within entry %s", s->num);
    if (r->len[4] < 3 || r->f[4][0] < '0' || r->f[4][0] > '9' || r->f[4][1] < '0' ||
        r->f[4][1] > '9' || r->f[4][2] < '0' || r->f[4][2] > '9')
        rt_diags_add(d, s->name, line, 5, "CompteNum",
                     "must start with three digits of the French chart of accounts");
    if ((r->len[6] == 0) != (r->len[7] == 0))
        rt_diags_add(d, s->name, line, 7, "CompAuxNum", "CompAuxNum and CompAuxLib go together");
    if (!date_ok(r->f[9], r->len[9], &day))
        rt_diags_add(d, s->name, line, 10, "PieceDate", "not a date AAAAMMJJ");
    int64_t dr = 0, cr = 0;
    if (!amount_ok(r->f[11], r->len[11], s->minor, false, &dr))
        rt_diags_add(d, s->name, line, 12, "Debit",
                     "not an amount with a decimal comma and %u "
                     "decimals",
                     s->minor);
    if (!amount_ok(r->f[12], r->len[12], s->minor, false, &cr))
        rt_diags_add(d, s->name, line, 13, "Credit",
                     "not an amount with a decimal comma and %u "
                     "decimals",
                     s->minor);
    if (dr && cr) rt_diags_add(d, s->name, line, 12, "Debit", "both Debit and Credit are set");
    s->debit += dr;
    s->credit += cr;
    s->sum->debit_minor += dr;
    s->sum->credit_minor += cr;
    if (r->len[14] && !date_ok(r->f[14], r->len[14], &day))
        rt_diags_add(d, s->name, line, 15, "DateLet", "not a date AAAAMMJJ");
    if (!date_ok(r->f[15], r->len[15], &day)) {
        rt_diags_add(d, s->name, line, 16, "ValidDate", "not a date AAAAMMJJ");
    } else {
        if (day < s->last_valid)
            rt_diags_add(d, s->name, line, 16, "ValidDate",
                         "entries are not in chronological order of validation");
        s->last_valid = day;
    }
    if ((r->len[16] == 0) != (r->len[17] == 0)) {
        rt_diags_add(d, s->name, line, 17, "Montantdevise",
                     "Montantdevise and Idevise go together");
    } else if (r->len[17]) {
        char code[4] = {0};
        if (r->len[17] == 3) memcpy(code, r->f[17], 3);
        const rt_currency *c = rt_currency_find(code);
        int64_t v;
        if (!c)
            rt_diags_add(d, s->name, line, 18, "Idevise", "not an ISO 4217 currency code");
        else if (!amount_ok(r->f[16], r->len[16], c->minor_units, true, &v))
            rt_diags_add(d, s->name, line, 17, "Montantdevise",
                         "not an amount with a decimal comma and %u decimals", c->minor_units);
    }
}

static void check_name(const char *name, rt_diags *d)
{
    size_t n = strlen(name);
    rt_days day;
    bool ok = n == 24 && memcmp(name + 9, "FEC", 3) == 0 && strcmp(name + 20, ".txt") == 0 &&
              date_ok(name + 12, 8, &day);
    for (size_t i = 0; ok && i < 9; i++)
        ok = name[i] >= '0' && name[i] <= '9';
    if (!ok)
        rt_diags_add(d, name, 0, 0, NULL,
                     "an FEC file is named SIREN (9 digits) + FEC + closing date AAAAMMJJ + .txt");
}

void rt_gl_fec_check_begin(rt_fec_checker *s, const char *name, unsigned minor, rt_fec_summary *sum,
                           rt_diags *d)
{
    memset(sum, 0, sizeof *sum);
    memset(s, 0, sizeof *s);
    s->name = name;
    s->minor = minor;
    s->d = d;
    s->sum = sum;
    s->last_valid = INT32_MIN;
    s->before = rt_diags_total(d);
    check_name(name, d);
}

void rt_gl_fec_check_lines(rt_fec_checker *s, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *name = s->name;
    rt_diags *d = s->d;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        uint64_t line = ++s->line;
        fec_row r;
        if (memchr(p, '\r', ll)) {
            rt_diags_add(d, name, line, 0, NULL, "carriage return inside a record");
        } else if (!split_row(p, ll, &r)) {
            rt_diags_add(d, name, line, 0, NULL, "a record has %d tab-separated fields",
                         RT_FEC_COLUMNS);
        } else if (line == 1) {
            for (int c = 0; c < RT_FEC_COLUMNS; c++)
                if (!field_is(&r, c, rt_fec_columns[c]))
                    rt_diags_add(d, name, 1, (uint32_t)c + 1, NULL, "header column %d must be %s",
                                 c + 1, rt_fec_columns[c]);
        } else {
            s->sum->lines++;
            check_row(s, &r, line);
        }
        p = nl ? nl + 1 : end;
    }
}

rt_status rt_gl_fec_check_end(rt_fec_checker *s)
{
    if (s->line == 0)
        rt_diags_add(s->d, s->name, 0, 0, NULL, "empty file: the header row is missing");
    close_entry(s);
    return rt_diags_total(s->d) > s->before ? RT_EVERIFY : RT_OK;
}

rt_status rt_gl_fec_check(const char *name, const char *text, size_t len, unsigned minor,
                          rt_fec_summary *sum, rt_diags *d)
{
    rt_fec_checker s;
    rt_gl_fec_check_begin(&s, name, minor, sum, d);
    rt_gl_fec_check_lines(&s, text, len);
    return rt_gl_fec_check_end(&s);
}

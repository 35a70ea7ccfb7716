/* verify: output directory checks. */
#include "formats/verify.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "engine/strmap.h"
#include "formats/csv.h"
#include "formats/manifest.h"
#include "formats/zio.h"

/* ---- a small CSV table loaded whole (invoices, lines, journal) ---- */

typedef struct table {
    const char *name;
    rt_buf text;
    rt_arena arena;
    rt_csv_record *rows;
    size_t count;
    rt_csv_record header;
} table;

static void table_free(table *t)
{
    rt_buf_free(&t->text);
    rt_arena_free(&t->arena);
    free(t->rows);
}

static int table_load(const char *dir, const char *name, table *t, rt_diags *d)
{
    char path[PATH_MAX];
    rt_error err;
    memset(t, 0, sizeof *t);
    t->name = name;
    rt_buf_init(&t->text);
    rt_arena_init(&t->arena, 64 * 1024);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rt_zio_slurp(path, &t->text, &err) != RT_OK) {
        rt_diags_add(d, name, 0, 0, NULL, "%s", err.message);
        return 0;
    }
    const char *p = t->text.data ? t->text.data : "", *end = p + t->text.len, *why;
    uint32_t col;
    if (rt_csv_parse(&p, end, &t->arena, &t->header, &why, &col) != RT_OK) {
        rt_diags_add(d, name, 1, col, NULL, "bad header: %s", why);
        return 0;
    }
    size_t cap = 0;
    uint64_t line = 2;
    while (p < end) {
        if (t->count == cap) {
            cap = cap ? cap * 2 : 256;
            rt_csv_record *r = realloc(t->rows, cap * sizeof *r);
            if (!r) return 0;
            t->rows = r;
        }
        if (rt_csv_parse(&p, end, &t->arena, &t->rows[t->count], &why, &col) != RT_OK) {
            rt_diags_add(d, name, line, col, NULL, "malformed row: %s", why);
            return 0;
        }
        line += t->rows[t->count].newlines;
        if (!rt_csv_blank(&t->rows[t->count])) t->count++;
    }
    return 1;
}

static int column(const table *t, const char *name, rt_diags *d)
{
    for (size_t i = 0; i < t->header.count; i++)
        if (t->header.fields[i].len == strlen(name) &&
            memcmp(t->header.fields[i].ptr, name, t->header.fields[i].len) == 0)
            return (int)i;
    rt_diags_add(d, t->name, 1, 0, name, "column is missing");
    return -1;
}

static void cell(const table *t, size_t row, int col, char *buf, size_t n)
{
    const rt_csv_record *r = &t->rows[row];
    if (col < 0 || (size_t)col >= r->count) {
        buf[0] = '\0';
        return;
    }
    size_t len = r->fields[col].len < n - 1 ? r->fields[col].len : n - 1;
    memcpy(buf, r->fields[col].ptr, len);
    buf[len] = '\0';
}

/* An amount cell in the currency's minor units. */
static int amount(const table *t, size_t row, int col, const char *currency, int64_t *out,
                  rt_diags *d)
{
    char text[64];
    cell(t, row, col, text, sizeof text);
    const rt_currency *c = rt_currency_find(currency);
    if (!c) {
        rt_diags_add(d, t->name, row + 2, 0, "currency", "unknown currency '%s'", currency);
        return 0;
    }
    if (rt_decimal_parse(text, strlen(text), c->minor_units, out) != RT_OK) {
        rt_diags_add(d, t->name, row + 2, (uint32_t)col + 1, NULL, "'%s' is not an amount in %s",
                     text, currency);
        return 0;
    }
    return 1;
}

/* ---- files against the manifest ---- */

/* Count CSV records in a (possibly compressed) file without holding it in memory: a line end
 * ends a record when the quotes before it are balanced. */
static int count_records(const char *path, uint64_t *records, rt_error *err)
{
    rt_zreader *r;
    if (rt_zreader_open(path, &r, err) != RT_OK) return 0;
    static const size_t cap = 1 << 20;
    char *buf = malloc(cap);
    uint64_t n = 0, quotes = 0;
    int ok = buf != NULL, last_nl = 1;
    while (ok) {
        size_t got;
        if (rt_zreader_read(r, buf, cap, &got, err) != RT_OK) {
            ok = 0;
            break;
        }
        if (got == 0) break;
        for (size_t i = 0; i < got; i++) {
            if (buf[i] == '"') quotes++;
            else if (buf[i] == '\n' && quotes % 2 == 0) n++;
        }
        last_nl = buf[got - 1] == '\n';
    }
    if (ok && !last_nl) n++;
    free(buf);
    rt_zreader_close(r);
    *records = n;
    return ok;
}

static void check_files(const char *dir, const rt_json *m, rt_diags *d, rt_verify_stats *st)
{
    const rt_json *outputs = rt_json_get(m, "outputs");
    if (!outputs || outputs->type != RT_JSON_ARRAY) {
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "outputs", "missing or not a list");
        return;
    }
    for (const rt_json *o = outputs->child; o; o = o->next) {
        const char *name = rt_json_string(o, "name"), *hex = rt_json_string(o, "xxh64");
        uint64_t bytes, rows;
        if (!name || !hex || rt_json_u64(o, "bytes", &bytes) != RT_OK ||
            rt_json_u64(o, "rows", &rows) != RT_OK || strchr(name, '/')) {
            rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "outputs", "malformed output entry");
            continue;
        }
        char path[PATH_MAX], got_hex[17];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        uint64_t got_bytes, got_xxh;
        rt_error err;
        if (rt_zio_checksum_file(path, &got_bytes, &got_xxh, &err) != RT_OK) {
            rt_diags_add(d, name, 0, 0, NULL, "%s", err.message);
            continue;
        }
        st->files_checked++;
        snprintf(got_hex, sizeof got_hex, "%016" PRIx64, got_xxh);
        if (got_bytes != bytes)
            rt_diags_add(d, name, 0, 0, NULL, "size is %" PRIu64 " bytes, the manifest says %" PRIu64,
                         got_bytes, bytes);
        if (strcmp(got_hex, hex) != 0)
            rt_diags_add(d, name, 0, 0, NULL, "XXH64 is %s, the manifest says %s", got_hex, hex);
        uint64_t records;
        if (!count_records(path, &records, &err)) {
            rt_diags_add(d, name, 0, 0, NULL, "%s", err.message);
        } else if (strstr(name, ".csv") && records != rows + 1) {
            rt_diags_add(d, name, 0, 0, NULL, "holds %" PRIu64 " rows, the manifest says %" PRIu64,
                         records ? records - 1 : 0, rows);
        } else if (strstr(name, ".jsonl") && records != rows) {
            rt_diags_add(d, name, 0, 0, NULL, "holds %" PRIu64 " lines, the manifest says %" PRIu64,
                         records, rows);
        }
    }
    /* Nothing unlisted. */
    DIR *dh = opendir(dir);
    if (!dh) return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.' ) continue; /* ., .., and the commit marker */
        if (strcmp(e->d_name, RT_MANIFEST_NAME) == 0) continue;
        int listed = 0;
        for (const rt_json *o = outputs->child; o && !listed; o = o->next) {
            const char *name = rt_json_string(o, "name");
            listed = name && strcmp(name, e->d_name) == 0;
        }
        if (!listed) rt_diags_add(d, e->d_name, 0, 0, NULL, "file is not in the manifest");
    }
    closedir(dh);
}

static uint64_t output_rows(const rt_json *m, const char *name)
{
    const rt_json *outputs = rt_json_get(m, "outputs");
    for (const rt_json *o = outputs ? outputs->child : NULL; o; o = o->next) {
        const char *n = rt_json_string(o, "name");
        uint64_t rows;
        if (n && strcmp(n, name) == 0 && rt_json_u64(o, "rows", &rows) == RT_OK) return rows;
    }
    return UINT64_MAX;
}

static void check_counts(const rt_json *m, rt_diags *d)
{
    const rt_json *c = rt_json_get(m, "counts");
    uint64_t read, rated, rejected, dup;
    if (rt_json_u64(c, "read", &read) != RT_OK || rt_json_u64(c, "rated", &rated) != RT_OK ||
        rt_json_u64(c, "rejected", &rejected) != RT_OK || rt_json_u64(c, "duplicate", &dup) != RT_OK) {
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "counts", "missing or malformed");
        return;
    }
    if (read != rated + rejected + dup)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "counts",
                     "read %" PRIu64 " != rated %" PRIu64 " + rejected %" PRIu64
                     " + duplicate %" PRIu64, read, rated, rejected, dup);
    if (output_rows(m, "rated_usage.csv.zst") != rated)
        rt_diags_add(d, "rated_usage.csv.zst", 0, 0, NULL, "row count differs from counts.rated");
    if (output_rows(m, "rejects.csv.zst") != rejected)
        rt_diags_add(d, "rejects.csv.zst", 0, 0, NULL, "row count differs from counts.rejected");
    if (output_rows(m, "duplicates.csv.zst") != dup)
        rt_diags_add(d, "duplicates.csv.zst", 0, 0, NULL, "row count differs from counts.duplicate");
}

/* ---- accounting ---- */

typedef struct inv_sum {
    char number[64];
    char currency[4];
    int64_t net, tax, gross;
    int64_t lines_net;
    int64_t journal_ar; /* receivable debits minus credits booked for it */
    int64_t journal_vat;
} inv_sum;

typedef struct inv_index {
    inv_sum *sums;
    size_t count;
    rt_strmap by_number;
} inv_index;

static inv_sum *find_invoice(const inv_index *ix, const char *number)
{
    uint32_t i;
    return rt_strmap_get(&ix->by_number, number, strlen(number), &i) == RT_OK ? &ix->sums[i] : NULL;
}

static void split_number(const char *s, size_t *prefix_len, uint64_t *seq)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') i--;
    *prefix_len = i;
    *seq = i < n ? strtoull(s + i, NULL, 10) : 0;
}

static void check_invoices(const table *inv, inv_sum *sums, rt_diags *d)
{
    int cn = column(inv, "invoice_number", d), cc = column(inv, "currency", d),
        cnet = column(inv, "net", d), ctax = column(inv, "tax", d), cg = column(inv, "gross", d);
    if (cn < 0 || cc < 0 || cnet < 0 || ctax < 0 || cg < 0) return;
    for (size_t i = 0; i < inv->count; i++) {
        inv_sum *s = &sums[i];
        cell(inv, i, cn, s->number, sizeof s->number);
        cell(inv, i, cc, s->currency, sizeof s->currency);
        if (!amount(inv, i, cnet, s->currency, &s->net, d) || !amount(inv, i, ctax, s->currency, &s->tax, d) ||
            !amount(inv, i, cg, s->currency, &s->gross, d))
            continue;
        if (s->net + s->tax != s->gross)
            rt_diags_add(d, inv->name, i + 2, 0, s->number, "net + tax != gross");
        if (i > 0) {
            size_t pa, pb;
            uint64_t qa, qb;
            split_number(sums[i - 1].number, &pa, &qa);
            split_number(s->number, &pb, &qb);
            if (pa == pb && memcmp(sums[i - 1].number, s->number, pa) == 0 && qb != qa + 1)
                rt_diags_add(d, inv->name, i + 2, 0, "invoice_number",
                             "gap in the series: %s follows %s", s->number, sums[i - 1].number);
        }
    }
}

static void check_lines(const table *lines, const inv_index *ix, rt_diags *d)
{
    int cn = column(lines, "invoice_number", d), cnet = column(lines, "net", d),
        cc = column(lines, "currency", d);
    if (cn < 0 || cnet < 0 || cc < 0) return;
    for (size_t i = 0; i < lines->count; i++) {
        char number[64], cur[8];
        int64_t net;
        cell(lines, i, cn, number, sizeof number);
        cell(lines, i, cc, cur, sizeof cur);
        inv_sum *s = find_invoice(ix, number);
        if (!s) {
            rt_diags_add(d, lines->name, i + 2, 0, "invoice_number", "unknown invoice %s", number);
            continue;
        }
        if (amount(lines, i, cnet, cur, &net, d)) s->lines_net += net;
    }
    for (size_t i = 0; i < ix->count; i++)
        if (ix->sums[i].lines_net != ix->sums[i].net)
            rt_diags_add(d, "invoice_lines.csv", 0, 0, ix->sums[i].number,
                         "lines sum to a different net than the invoice");
}

static void check_journal(const table *j, const inv_index *ix, rt_diags *d,
                          rt_verify_stats *st)
{
    int ce = column(j, "entry", d), cdr = column(j, "debit", d), ccr = column(j, "credit", d),
        cc = column(j, "currency", d), cref = column(j, "reference", d),
        ct = column(j, "line_type", d), cta = column(j, "txn_amount", d),
        ctc = column(j, "txn_currency", d);
    if (ce < 0 || cdr < 0 || ccr < 0 || cc < 0 || cref < 0 || ct < 0 || cta < 0 || ctc < 0)
        return;
    uint64_t entry = 0;
    int64_t ed = 0, ec = 0;
    for (size_t i = 0; i <= j->count; i++) {
        char e[32] = "", cur[8], ref[64], type[32];
        uint64_t en = 0;
        if (i < j->count) {
            cell(j, i, ce, e, sizeof e);
            en = strtoull(e, NULL, 10);
        }
        if (i == j->count || en != entry) {
            if (entry && ed != ec)
                rt_diags_add(d, j->name, 0, 0, "entry", "entry %" PRIu64 " does not balance",
                             entry);
            if (i == j->count) break;
            if (en != entry + 1)
                rt_diags_add(d, j->name, i + 2, 0, "entry",
                             "entry numbers are not sequential: %" PRIu64 " after %" PRIu64, en,
                             entry);
            entry = en;
            ed = ec = 0;
            st->journal_entries++;
        }
        st->journal_lines++;
        int64_t dr, cr;
        cell(j, i, cc, cur, sizeof cur);
        cell(j, i, cref, ref, sizeof ref);
        cell(j, i, ct, type, sizeof type);
        if (!amount(j, i, cdr, cur, &dr, d) || !amount(j, i, ccr, cur, &cr, d)) continue;
        ed += dr;
        ec += cr;
        inv_sum *s = find_invoice(ix, ref);
        if (!s) continue;
        /* Invoices are in their own currency: compare the transaction-currency amounts. */
        char tcur[8];
        int64_t tx;
        cell(j, i, ctc, tcur, sizeof tcur);
        if (!amount(j, i, cta, tcur, &tx, d)) continue;
        if (strcmp(type, "receivable") == 0) s->journal_ar += tx;
        if (strcmp(type, "vat") == 0) s->journal_vat -= tx;
    }
    inv_sum *sums = ix->sums;
    for (size_t i = 0; i < ix->count; i++) {
        if (sums[i].journal_ar != sums[i].gross)
            rt_diags_add(d, "journal.csv", 0, 0, sums[i].number,
                         "receivable booked differs from the invoice gross");
        if (sums[i].journal_vat != sums[i].tax)
            rt_diags_add(d, "journal.csv", 0, 0, sums[i].number,
                         "VAT booked differs from the invoice tax");
    }
}

static void check_totals(const rt_json *m, const inv_sum *sums, size_t n, rt_diags *d)
{
    const rt_json *totals = rt_json_get(m, "totals");
    uint64_t count;
    const rt_json *inv = rt_json_get(m, "invoices");
    if (rt_json_u64(inv, "count", &count) != RT_OK || count != n)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "invoices", "count differs from invoices.csv");
    for (const rt_json *t = totals ? totals->child : NULL; t; t = t->next) {
        const char *cur = rt_json_string(t, "currency"), *gross = rt_json_string(t, "gross");
        const rt_currency *c = cur ? rt_currency_find(cur) : NULL;
        int64_t want, got = 0;
        if (!c || !gross || rt_decimal_parse(gross, strlen(gross), c->minor_units, &want) != RT_OK) {
            rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "totals", "malformed total");
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(sums[i].currency, cur) == 0) got += sums[i].gross;
        if (got != want)
            rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "totals",
                         "%s gross total differs from the sum of invoices", cur);
    }
}

rt_status rt_verify_outdir(const char *dir, rt_diags *d, rt_verify_stats *st)
{
    size_t before = rt_diags_total(d);
    memset(st, 0, sizeof *st);
    rt_arena arena;
    rt_arena_init(&arena, 64 * 1024);
    const rt_json *m = NULL;
    rt_error err;
    if (rt_manifest_read(dir, &arena, &m, &err) != RT_OK) {
        rt_diags_add(d, err.file, err.line, err.column, NULL, "%s", err.message);
        rt_arena_free(&arena);
        return RT_EVERIFY;
    }
    const char *format = rt_json_string(m, "format");
    if (!format || strcmp(format, RT_MANIFEST_FORMAT) != 0)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "format", "not a %s manifest", RT_MANIFEST_FORMAT);
    check_files(dir, m, d, st);
    check_counts(m, d);
    table inv, lines, jr;
    int ok_inv = table_load(dir, "invoices.csv", &inv, d);
    int ok_lines = table_load(dir, "invoice_lines.csv", &lines, d);
    int ok_j = table_load(dir, "journal.csv", &jr, d);
    if (ok_inv) {
        inv_index ix = {calloc(inv.count ? inv.count : 1, sizeof(inv_sum)), inv.count, {0}};
        if (ix.sums && rt_strmap_init(&ix.by_number, inv.count) == RT_OK) {
            check_invoices(&inv, ix.sums, d);
            for (size_t i = 0; i < inv.count; i++)
                if (rt_strmap_put(&ix.by_number, ix.sums[i].number, strlen(ix.sums[i].number),
                                  (uint32_t)i) == RT_EEXIST)
                    rt_diags_add(d, "invoices.csv", i + 2, 0, "invoice_number",
                                 "invoice number %s appears twice", ix.sums[i].number);
            if (ok_lines) check_lines(&lines, &ix, d);
            if (ok_j) check_journal(&jr, &ix, d, st);
            check_totals(m, ix.sums, inv.count, d);
            st->invoices = inv.count;
        }
        rt_strmap_free(&ix.by_number);
        free(ix.sums);
    }
    table_free(&inv);
    table_free(&lines);
    table_free(&jr);
    rt_arena_free(&arena);
    return rt_diags_total(d) > before ? RT_EVERIFY : RT_OK;
}

/* verify: output directory checks. */
#include "formats/verify.h"

#include <dirent.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "engine/registry.h"
#include "engine/strmap.h"
#include "formats/csv.h"
#include "formats/manifest.h"
#include "formats/verify_checks.h"
#include "formats/zio.h"

/* ---- a CSV table read a row at a time (invoices, lines, journal, detail index) ---- */

typedef rt__vtable table;

/* Text read at a time; a record cut by the end of what was read is parsed again once the
 * next read is after it. */
#define SCAN_READ ((size_t)4 << 20)

void rt__vtable_close(rt__vtable *t)
{
    if (t->r) rt_zreader_close(t->r);
    rt_buf_free(&t->text);
    rt_arena_free(&t->arena);
    rt_arena_free(&t->scratch);
    memset(t, 0, sizeof *t);
}

/* Keep the text not parsed yet and read more after it (or find the end of the file). */
static int fill(rt__vtable *t, rt_diags *d)
{
    size_t keep = t->text.len - t->pos;
    if (t->pos) memmove(t->text.data, t->text.data + t->pos, keep);
    t->text.len = keep;
    t->pos = 0;
    rt_error err;
    size_t got;
    if (!rt_buf_reserve(&t->text, t->read_size)) {
        if (d) rt_diags_add(d, t->name, 0, 0, NULL, "out of memory");
        return 0;
    }
    if (rt_zreader_read(t->r, t->text.data + t->text.len, t->read_size, &got, &err) != RT_OK) {
        if (d) rt_diags_add(d, t->name, 0, 0, NULL, "%s", err.message);
        return 0;
    }
    t->text.len += got;
    t->eof = got == 0;
    return 1;
}

/* More than any record of the tables verify reads: a malformed one that runs further (a quote
 * opened and never closed) stands as malformed rather than the reader holding the rest of the
 * file. */
#define RECORD_MAX ((size_t)64 << 20)

/* Whether the record at pos, which parsed as malformed, may only be cut by the read: no record
 * ends in what was read from it on (a quote opened in it runs to the end of the read). Only
 * asked of malformed records, so the parsing of good ones does not scan the text twice. */
static bool cut_short(const rt__vtable *t)
{
    size_t rest = t->text.len - t->pos;
    return rest < RECORD_MAX && rt_csv_last_boundary(t->text.data + t->pos, rest) == 0;
}

/* Parse the record at pos into rec (*st: how it parsed), reading on while it may go on in the
 * next read: a good record that runs to the end of what was read without its line end, or a
 * malformed one that may be malformed only for the cut (a quoted field cut there). 1 when
 * there was a record; 0 at the end of the file, or when a read failed (reported). */
static int parse_one(rt__vtable *t, rt_arena *a, rt_csv_record *rec, rt_diags *d, rt_status *st,
                     const char **why, uint32_t *col)
{
    for (;;) {
        if (t->pos < t->text.len) {
            const char *end = t->text.data + t->text.len, *p = t->text.data + t->pos;
            *st = rt_csv_parse(&p, end, a, rec, why, col);
            if (t->eof || (*st == RT_OK ? p < end || end[-1] == '\n' : !cut_short(t))) {
                t->pos = (size_t)(p - t->text.data);
                return 1;
            }
        } else if (t->eof) {
            return 0;
        }
        if (!fill(t, d)) {
            t->failed = true;
            return 0;
        }
    }
}

int rt__vtable_open(const char *dir, const char *name, rt__vtable *t, rt_diags *d)
{
    return rt__vtable_open_sized(dir, name, SCAN_READ, t, d);
}

int rt__vtable_open_sized(const char *dir, const char *name, size_t read_size, rt__vtable *t,
                          rt_diags *d)
{
    char path[PATH_MAX];
    rt_error err;
    memset(t, 0, sizeof *t);
    t->name = name;
    t->read_size = read_size ? read_size : 1;
    rt_buf_init(&t->text);
    rt_arena_init(&t->arena, 4096);
    rt_arena_init(&t->scratch, 64 * 1024);
    rt_zio_find(dir, name, path, sizeof path); /* name.zst with --compress-tables */
    if (rt_zreader_open(path, &t->r, &err) != RT_OK) {
        t->r = NULL;
        if (d) rt_diags_add(d, name, 0, 0, NULL, "%s", err.message);
        goto fail;
    }
    /* A byte order mark and a byte after it, or the whole file, however little a read gives. */
    do
        if (!fill(t, d)) goto fail;
    while (!t->eof && t->text.len < 4);
    if (t->text.len >= 3 && memcmp(t->text.data, "\xEF\xBB\xBF", 3) == 0) t->pos = 3;
    const char *why = "";
    uint32_t col = 0;
    rt_status st = RT_OK;
    if (t->pos >= t->text.len) { /* an empty file: a header of one empty field, as parsed */
        const char *p = "";
        st = rt_csv_parse(&p, p, &t->arena, &t->header, &why, &col);
    } else if (!parse_one(t, &t->arena, &t->header, d, &st, &why, &col)) {
        goto fail;
    }
    if (st != RT_OK) {
        if (d) rt_diags_add(d, name, 1, col, NULL, "bad header: %s", why);
        goto fail;
    }
    /* The header's fields point into the text, which moves: they are kept in the arena. */
    for (size_t i = 0; i < t->header.count; i++) {
        char *f = rt_arena_strndup(&t->arena, t->header.fields[i].ptr, t->header.fields[i].len);
        if (!f) {
            if (d) rt_diags_add(d, name, 0, 0, NULL, "out of memory");
            goto fail;
        }
        t->header.fields[i].ptr = f;
    }
    t->line = 1 + t->header.newlines;
    t->row = SIZE_MAX; /* no row yet: the first is row 0 */
    return 1;
fail:
    t->failed = true;
    return 0;
}

int rt__vtable_next(rt__vtable *t, rt_diags *d)
{
    if (!t->r || t->failed) return 0;
    for (;;) {
        const char *why = "";
        uint32_t col = 0;
        rt_status st = RT_OK;
        rt_arena_reset(&t->scratch);
        if (!parse_one(t, &t->scratch, &t->rec, d, &st, &why, &col)) return 0;
        uint64_t at = t->line;
        t->line += t->rec.newlines;
        if (st != RT_OK) {
            if (d) rt_diags_add(d, t->name, at, col, NULL, "malformed row: %s", why);
            t->failed = true;
            return 0;
        }
        if (rt_csv_blank(&t->rec)) continue;
        t->row++;
        return 1;
    }
}

/* Read every row: whether the table is whole and well-formed. */
int rt__vtable_done(rt__vtable *t, rt_diags *d)
{
    while (rt__vtable_next(t, d)) {
    }
    return t->r && !t->failed;
}

int rt__vtable_column(const rt__vtable *t, const char *name, rt_diags *d)
{
    for (size_t i = 0; i < t->header.count; i++)
        if (t->header.fields[i].len == strlen(name) &&
            memcmp(t->header.fields[i].ptr, name, t->header.fields[i].len) == 0)
            return (int)i;
    if (d) rt_diags_add(d, t->name, 1, 0, name, "column is missing");
    return -1;
}

void rt__vtable_cell(const rt__vtable *t, int col, char *buf, size_t n)
{
    if (col < 0 || (size_t)col >= t->rec.count) {
        buf[0] = '\0';
        return;
    }
    size_t len = t->rec.fields[col].len < n - 1 ? t->rec.fields[col].len : n - 1;
    memcpy(buf, t->rec.fields[col].ptr, len);
    buf[len] = '\0';
}

static int column(const table *t, const char *name, rt_diags *d)
{
    return rt__vtable_column(t, name, d);
}

static void cell(const table *t, int col, char *buf, size_t n) { rt__vtable_cell(t, col, buf, n); }

/* An amount cell in the currency's minor units. */
static int amount(const table *t, int col, const char *currency, int64_t *out, rt_diags *d)
{
    size_t row = t->row;
    char text[64];
    cell(t, col, text, sizeof text);
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

/* Records ended in p[0..n): CSV (quoted): a line end ends a record when the quotes before it
 * are balanced (*quotes counts them across calls; a quote inside a field is doubled, so the
 * parity holds); JSONL: every line end ends one (a JSON string holds a line end, or a quote,
 * only escaped, and an escaped quote leaves the parity to the text: a name with one quote is
 * one quote). The files of a large run are gigabytes of text: quotes are found at memchr
 * speed, the line ends between them counted by rt_csv_newlines. */
static uint64_t count_ends(const char *p, size_t n, bool quoted, uint64_t *quotes)
{
    uint64_t ends = 0;
    for (const char *end = p + n; p < end;) {
        const char *q = quoted ? memchr(p, '"', (size_t)(end - p)) : NULL;
        const char *upto = q ? q : end;
        if (*quotes % 2 == 0) ends += rt_csv_newlines(p, (size_t)(upto - p));
        if (!q) break;
        (*quotes)++;
        p = q + 1;
    }
    return ends;
}

/* Count the records of a (possibly compressed) CSV or JSONL file without holding it in
 * memory (see count_ends). */
static int count_records(const char *path, bool quoted, uint64_t *records, rt_error *err)
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
        n += count_ends(buf, got, quoted, &quotes);
        last_nl = buf[got - 1] == '\n';
    }
    if (ok && !last_nl) n++;
    free(buf);
    rt_zreader_close(r);
    *records = n;
    return ok;
}

/* A listed name is a file of the directory or of one subdirectory ("ubl/INV-1.xml"):
 * relative, no empty or hidden component, nothing that climbs out. */
static bool name_ok(const char *name)
{
    const char *slash = strchr(name, '/');
    if (!name[0] || name[0] == '.') return false;
    if (!slash) return true;
    return slash[1] && slash[1] != '.' && !strchr(slash + 1, '/') && slash > name;
}

static void check_one_file(const char *dir, const rt_json *o, rt_diags *d, rt_verify_stats *st)
{
    const char *name = rt_json_string(o, "name"), *hex = rt_json_string(o, "xxh64");
    uint64_t bytes, rows;
    if (!name || !hex || rt_json_u64(o, "bytes", &bytes) != RT_OK ||
        rt_json_u64(o, "rows", &rows) != RT_OK || !name_ok(name)) {
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "outputs", "malformed output entry");
        return;
    }
    char path[PATH_MAX], got_hex[17];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint64_t got_bytes, got_xxh;
    rt_error err;
    if (rt_zio_checksum_file(path, &got_bytes, &got_xxh, &err) != RT_OK) {
        rt_diags_add(d, name, 0, 0, NULL, "%s", err.message);
        return;
    }
    st->files_checked++;
    snprintf(got_hex, sizeof got_hex, "%016" PRIx64, got_xxh);
    if (got_bytes != bytes)
        rt_diags_add(d, name, 0, 0, NULL, "size is %" PRIu64 " bytes, the manifest says %" PRIu64,
                     got_bytes, bytes);
    if (strcmp(got_hex, hex) != 0)
        rt_diags_add(d, name, 0, 0, NULL, "XXH64 is %s, the manifest says %s", got_hex, hex);
    bool csv = strstr(name, ".csv") != NULL, jsonl = strstr(name, ".jsonl") != NULL;
    if (!csv && !jsonl) return;
    uint64_t records;
    if (!count_records(path, csv, &records, &err)) {
        rt_diags_add(d, name, 0, 0, NULL, "%s", err.message);
    } else if (csv && records != rows + 1) {
        rt_diags_add(d, name, 0, 0, NULL, "holds %" PRIu64 " rows, the manifest says %" PRIu64,
                     records ? records - 1 : 0, rows);
    } else if (jsonl && records != rows) {
        rt_diags_add(d, name, 0, 0, NULL, "holds %" PRIu64 " lines, the manifest says %" PRIu64,
                     records, rows);
    }
}

enum { SUBDIRS_MAX = 16 };

typedef struct subdir_list {
    char names[SUBDIRS_MAX][64];
    size_t count;
} subdir_list;

static bool is_subdir(const subdir_list *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0) return true;
    return false;
}

/* Every entry of directory `sub` ("" for the top) must be listed; at the top, the
 * subdirectories that listed names live in are walked by the caller instead. */
static void check_unlisted(const char *dir, const char *sub, const rt_strmap *listed,
                           const subdir_list *subdirs, rt_diags *d)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", dir, sub[0] ? "/" : "", sub);
    DIR *dh = opendir(path);
    if (!dh) return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ., .., and the commit marker */
        if (!sub[0] && strcmp(e->d_name, RT_MANIFEST_NAME) == 0) continue;
        if (!sub[0] && is_subdir(subdirs, e->d_name)) continue;
        char name[PATH_MAX];
        uint32_t v;
        snprintf(name, sizeof name, "%s%s%s", sub, sub[0] ? "/" : "", e->d_name);
        if (rt_strmap_get(listed, name, strlen(name), &v) != RT_OK)
            rt_diags_add(d, name, 0, 0, NULL, "file is not in the manifest");
    }
    closedir(dh);
}

static void check_files(const char *dir, const rt_json *m, rt_diags *d, rt_verify_stats *st)
{
    const rt_json *outputs = rt_json_get(m, "outputs");
    if (!outputs || outputs->type != RT_JSON_ARRAY) {
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "outputs", "missing or not a list");
        return;
    }
    size_t n = 0;
    for (const rt_json *o = outputs->child; o; o = o->next) n++;
    rt_strmap listed;
    subdir_list subdirs = {.count = 0};
    if (rt_strmap_init(&listed, n) != RT_OK) {
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, NULL, "out of memory");
        return;
    }
    /* Each file read (checksum, rows) on its own, in parallel; what they find is gathered in
     * the manifest's order. */
    const rt_json **items = malloc((n ? n : 1) * sizeof *items);
    rt_diags *found = calloc(n ? n : 1, sizeof *found);
    if (!items || !found) {
        free(items);
        free(found);
        rt_strmap_free(&listed);
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, NULL, "out of memory");
        return;
    }
    n = 0;
    for (const rt_json *o = outputs->child; o; o = o->next) items[n++] = o;
    uint64_t checked = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : checked)
    for (size_t i = 0; i < n; i++) {
        rt_verify_stats one = {0};
        check_one_file(dir, items[i], &found[i], &one);
        checked += one.files_checked;
    }
    st->files_checked += checked;
    for (size_t i = 0; i < n; i++) {
        rt_diags_append(d, &found[i]);
        rt_diags_free(&found[i]);
    }
    free(found);
    free(items);
    for (const rt_json *o = outputs->child; o; o = o->next) {
        const char *name = rt_json_string(o, "name");
        if (!name || !name_ok(name)) continue;
        if (rt_strmap_put(&listed, name, strlen(name), 0) == RT_EEXIST)
            rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "outputs", "%s is listed twice", name);
        const char *slash = strchr(name, '/');
        size_t len = slash ? (size_t)(slash - name) : 0;
        if (!slash || len >= sizeof subdirs.names[0]) continue;
        char sub[64];
        memcpy(sub, name, len);
        sub[len] = '\0';
        if (is_subdir(&subdirs, sub)) continue;
        if (subdirs.count == SUBDIRS_MAX) {
            rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "outputs", "more than %d subdirectories",
                         SUBDIRS_MAX);
            continue;
        }
        memcpy(subdirs.names[subdirs.count++], sub, len + 1);
    }
    /* Document subdirectories exist even when a run has no invoice (and lists no file). */
    const rt_json *docs = rt_json_get(m, "documents");
    for (const rt_json *k = docs ? docs->child : NULL; k; k = k->next) {
        if (!k->key || !name_ok(k->key) || strchr(k->key, '/') ||
            strlen(k->key) >= sizeof subdirs.names[0] || is_subdir(&subdirs, k->key) ||
            subdirs.count == SUBDIRS_MAX)
            continue;
        memcpy(subdirs.names[subdirs.count++], k->key, strlen(k->key) + 1);
    }
    check_unlisted(dir, "", &listed, &subdirs, d);
    for (size_t i = 0; i < subdirs.count; i++)
        check_unlisted(dir, subdirs.names[i], &listed, &subdirs, d);
    rt_strmap_free(&listed);
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
    uint64_t order_rejects = 0;
    const rt_json *orders = rt_json_get(m, "orders");
    if (orders && rt_json_u64(orders, "rejected", &order_rejects) != RT_OK)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "orders", "malformed");
    uint64_t lines = 0, used = 0;
    if (orders && (rt_json_u64(orders, "lines", &lines) != RT_OK ||
                   rt_json_u64(orders, "used", &used) != RT_OK || lines != used + order_rejects))
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "orders", "order lines != used + rejected");
    if (output_rows(m, "rejects.csv.zst") != rejected + order_rejects)
        rt_diags_add(d, "rejects.csv.zst", 0, 0, NULL,
                     "row count differs from counts.rejected + orders.rejected");
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
    int64_t journal_vat_fn; /* the same in the functional currency: credits minus debits */
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

/* The last number seen in each series (prefix), so that invoices and credit notes may
 * interleave in invoices.csv while each series stays gap-free. */
typedef struct series_last {
    char prefix[64];
    uint64_t last;
} series_last;
enum { SERIES_MAX = 16 };

static void check_series(series_last *series, size_t *n, const char *file, size_t row,
                         const char *number, rt_diags *d)
{
    size_t plen;
    uint64_t seq;
    split_number(number, &plen, &seq);
    if (plen >= sizeof series[0].prefix) return;
    size_t k = 0;
    while (k < *n && !(strlen(series[k].prefix) == plen &&
                       memcmp(series[k].prefix, number, plen) == 0))
        k++;
    if (k == *n) {
        if (*n == SERIES_MAX) return;
        memcpy(series[k].prefix, number, plen);
        series[k].prefix[plen] = '\0';
        series[k].last = seq;
        (*n)++;
        return;
    }
    if (seq != series[k].last + 1)
        rt_diags_add(d, file, row + 2, 0, "invoice_number",
                     "gap in the series %s: %" PRIu64 " follows %" PRIu64, series[k].prefix, seq,
                     series[k].last);
    series[k].last = seq;
}

/* invoices.csv, a row at a time: each invoice's sums into ix (one per row). 1 when the table
 * was read whole. */
static int check_invoices(const char *dir, inv_index *ix, rt_diags *d)
{
    table inv;
    int ok = 0;
    if (!rt__vtable_open(dir, "invoices.csv", &inv, d)) goto done;
    series_last series[SERIES_MAX];
    size_t nseries = 0, cap = 0;
    int cn = column(&inv, "invoice_number", d), cc = column(&inv, "currency", d),
        cnet = column(&inv, "net", d), ctax = column(&inv, "tax", d), cg = column(&inv, "gross", d);
    bool cols = cn >= 0 && cc >= 0 && cnet >= 0 && ctax >= 0 && cg >= 0;
    while (rt__vtable_next(&inv, d)) {
        if (ix->count == cap) {
            cap = cap ? cap * 2 : 1024;
            inv_sum *n = realloc(ix->sums, cap * sizeof *n);
            if (!n) {
                rt_diags_add(d, inv.name, 0, 0, NULL, "out of memory");
                goto done;
            }
            ix->sums = n;
        }
        inv_sum *s = &ix->sums[ix->count++];
        memset(s, 0, sizeof *s);
        if (!cols) continue;
        cell(&inv, cn, s->number, sizeof s->number);
        cell(&inv, cc, s->currency, sizeof s->currency);
        if (!amount(&inv, cnet, s->currency, &s->net, d) ||
            !amount(&inv, ctax, s->currency, &s->tax, d) ||
            !amount(&inv, cg, s->currency, &s->gross, d))
            continue;
        if (s->net + s->tax != s->gross)
            rt_diags_add(d, inv.name, inv.row + 2, 0, s->number, "net + tax != gross");
        check_series(series, &nseries, inv.name, inv.row, s->number, d);
    }
    ok = !inv.failed;
done:
    rt__vtable_close(&inv);
    return ok;
}

/* invoice_lines.csv against the invoices: 1 when the table was read whole. */
static int check_lines(const char *dir, const inv_index *ix, rt_diags *d)
{
    table lines;
    int ok = 0;
    if (!rt__vtable_open(dir, "invoice_lines.csv", &lines, d)) goto done;
    int cn = column(&lines, "invoice_number", d), cnet = column(&lines, "net", d),
        cc = column(&lines, "currency", d);
    if (cn < 0 || cnet < 0 || cc < 0) {
        ok = rt__vtable_done(&lines, d);
        goto done;
    }
    while (rt__vtable_next(&lines, d)) {
        char number[64], cur[8];
        int64_t net;
        cell(&lines, cn, number, sizeof number);
        cell(&lines, cc, cur, sizeof cur);
        inv_sum *s = find_invoice(ix, number);
        if (!s) {
            rt_diags_add(d, lines.name, lines.row + 2, 0, "invoice_number", "unknown invoice %s",
                         number);
            continue;
        }
        if (amount(&lines, cnet, cur, &net, d)) s->lines_net += net;
    }
    if (!(ok = !lines.failed)) goto done;
    for (size_t i = 0; i < ix->count; i++)
        if (ix->sums[i].lines_net != ix->sums[i].net)
            rt_diags_add(d, "invoice_lines.csv", 0, 0, ix->sums[i].number,
                         "lines sum to a different net than the invoice");
done:
    rt__vtable_close(&lines);
    return ok;
}

/* A journal line's signed transaction-currency amount (debit > 0): the txn_amount column
 * when present (manifest v2), else debit - credit (v1 journals were single-currency). */
static int txn_amount(const table *j, int ctxn, int ctc, int cdr, int ccr, int64_t *out,
                      rt_diags *d)
{
    char cur[8];
    int64_t dr, cr;
    if (ctxn >= 0) {
        cell(j, ctc, cur, sizeof cur);
        return amount(j, ctxn, cur, out, d);
    }
    cell(j, column(j, "currency", NULL), cur, sizeof cur);
    if (!amount(j, cdr, cur, &dr, d) || !amount(j, ccr, cur, &cr, d)) return 0;
    *out = dr - cr;
    return 1;
}

typedef struct entry_state {
    uint64_t entry;
    int64_t debit, credit, txn;
} entry_state;

static void entry_end(const table *j, const entry_state *e, bool has_txn, rt_diags *d)
{
    if (!e->entry) return;
    if (e->debit != e->credit)
        rt_diags_add(d, j->name, 0, 0, "entry", "entry %" PRIu64 " does not balance", e->entry);
    if (has_txn && e->txn != 0)
        rt_diags_add(d, j->name, 0, 0, "entry",
                     "entry %" PRIu64 " does not balance in its transaction currency", e->entry);
}

/* journal.csv: every entry balanced and numbered in sequence, receivables and VAT per invoice
 * as invoiced (ix: NULL when the invoices could not be read). 1 when read whole. */
static int check_journal(const char *dir, const inv_index *ix, rt_diags *d, rt_verify_stats *st)
{
    table j;
    int ok = 0;
    if (!rt__vtable_open(dir, "journal.csv", &j, d)) goto done;
    int ce = column(&j, "entry", d), cdr = column(&j, "debit", d), ccr = column(&j, "credit", d),
        cc = column(&j, "currency", d), cref = column(&j, "reference", d),
        ct = column(&j, "line_type", d), ctxn = column(&j, "txn_amount", NULL),
        ctc = column(&j, "txn_currency", NULL);
    if (ce < 0 || cdr < 0 || ccr < 0 || cc < 0 || cref < 0 || ct < 0 || !ix) {
        ok = rt__vtable_done(&j, d);
        goto done;
    }
    if ((ctxn < 0) != (ctc < 0)) {
        rt_diags_add(d, j.name, 1, 0, "txn_amount", "txn_amount and txn_currency go together");
        ok = rt__vtable_done(&j, d);
        goto done;
    }
    entry_state e = {0, 0, 0, 0};
    while (rt__vtable_next(&j, d)) {
        char en_text[32], cur[8], ref[64], type[32];
        cell(&j, ce, en_text, sizeof en_text);
        uint64_t en = strtoull(en_text, NULL, 10);
        if (en != e.entry) {
            entry_end(&j, &e, ctxn >= 0, d);
            if (en != e.entry + 1)
                rt_diags_add(d, j.name, j.row + 2, 0, "entry",
                             "entry numbers are not sequential: %" PRIu64 " after %" PRIu64, en,
                             e.entry);
            e = (entry_state){en, 0, 0, 0};
            st->journal_entries++;
        }
        st->journal_lines++;
        int64_t dr, cr, txn;
        cell(&j, cc, cur, sizeof cur);
        cell(&j, cref, ref, sizeof ref);
        cell(&j, ct, type, sizeof type);
        if (!amount(&j, cdr, cur, &dr, d) || !amount(&j, ccr, cur, &cr, d) ||
            !txn_amount(&j, ctxn, ctc, cdr, ccr, &txn, d))
            continue;
        e.debit += dr;
        e.credit += cr;
        e.txn += txn;
        inv_sum *s = find_invoice(ix, ref);
        if (!s) continue;
        /* Receivables and VAT are compared in the invoice's own currency. */
        if (strcmp(type, "receivable") == 0) s->journal_ar += txn;
        if (strcmp(type, "vat") == 0) {
            s->journal_vat -= txn;
            s->journal_vat_fn += cr - dr;
        }
    }
    if (!(ok = !j.failed)) goto done;
    entry_end(&j, &e, ctxn >= 0, d);
    inv_sum *sums = ix->sums;
    for (size_t i = 0; i < ix->count; i++) {
        if (sums[i].journal_ar != sums[i].gross)
            rt_diags_add(d, "journal.csv", 0, 0, sums[i].number,
                         "receivable booked differs from the invoice gross");
        if (sums[i].journal_vat != sums[i].tax)
            rt_diags_add(d, "journal.csv", 0, 0, sums[i].number,
                         "VAT booked differs from the invoice tax");
    }
done:
    rt__vtable_close(&j);
    return ok;
}

static void check_totals(const rt_json *m, const inv_sum *sums, size_t n, rt_diags *d)
{
    const rt_json *totals = rt_json_get(m, "totals");
    uint64_t count, credit_notes = 0;
    const rt_json *inv = rt_json_get(m, "invoices"), *cn = rt_json_get(m, "credit_notes");
    if (cn && rt_json_u64(cn, "count", &credit_notes) != RT_OK)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "credit_notes", "malformed");
    if (rt_json_u64(inv, "count", &count) != RT_OK || count + credit_notes != n)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "invoices",
                     "invoices + credit notes differ from the rows of invoices.csv");
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

/* Read a table through, for its problems alone: 1 when whole and well-formed. */
static int table_whole(const char *dir, const char *name, rt_diags *d)
{
    table t;
    int ok = rt__vtable_open(dir, name, &t, d) && rt__vtable_done(&t, d);
    rt__vtable_close(&t);
    return ok;
}

/* The invoices, their lines and the journal, each read a row at a time; which of them were
 * whole and well-formed goes into c, for the checks after. */
static void check_ledger(rt__vctx *c)
{
    inv_index ix = {NULL, 0, {0}};
    rt_diags *d = c->d;
    c->invoices = check_invoices(c->dir, &ix, d);
    if (!c->invoices) {
        c->lines = table_whole(c->dir, "invoice_lines.csv", d);
        c->journal = table_whole(c->dir, "journal.csv", d);
    } else if (rt_strmap_init(&ix.by_number, ix.count) == RT_OK) {
        for (size_t i = 0; i < ix.count; i++)
            if (rt_strmap_put(&ix.by_number, ix.sums[i].number, strlen(ix.sums[i].number),
                              (uint32_t)i) == RT_EEXIST)
                rt_diags_add(d, "invoices.csv", i + 2, 0, "invoice_number",
                             "invoice number %s appears twice", ix.sums[i].number);
        c->lines = check_lines(c->dir, &ix, d);
        c->journal = check_journal(c->dir, &ix, d, c->stats);
        check_totals(c->manifest, ix.sums, ix.count, d);
        c->stats->invoices = ix.count;
        /* Each invoice's VAT as journal.csv books it, for its UBL document's BT-111. */
        if (c->journal && (c->vat_functional = malloc((ix.count + 1) * sizeof(int64_t)))) {
            for (size_t i = 0; i < ix.count; i++)
                c->vat_functional[i] = ix.sums[i].journal_vat_fn;
            c->vat_count = ix.count;
        }
    } else {
        rt_diags_add(d, c->dir, 0, 0, NULL, "out of memory");
        c->invoices = false;
    }
    rt_strmap_free(&ix.by_number);
    free(ix.sums);
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
    if (!format || (strcmp(format, RT_MANIFEST_FORMAT) != 0 &&
                    strcmp(format, RT_MANIFEST_FORMAT_V1) != 0))
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "format", "not a %s manifest", RT_MANIFEST_FORMAT);
    check_files(dir, m, d, st);
    check_counts(m, d);
    rt__vctx c = {dir, m, false, false, false, d, st, NULL, 0};
    check_ledger(&c);
    /* The documents, the FEC file and the usage detail read files of their own (and set
     * fields of st of their own): checked in parallel, each into a problem list gathered in
     * this order. */
    void (*const checks[3])(const rt__vctx *) = {rt__verify_documents, rt__verify_fec,
                                                   rt__verify_detail};
    rt_diags found[3];
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < 3; k++) {
        rt_diags_init(&found[k]);
        rt__vctx one = c;
        one.d = &found[k];
        checks[k](&one);
    }
    for (int k = 0; k < 3; k++) {
        rt_diags_append(d, &found[k]);
        rt_diags_free(&found[k]);
    }
    free(c.vat_functional);
    rt_arena_free(&arena);
    return rt_diags_total(d) > before ? RT_EVERIFY : RT_OK;
}

rt_status rt_verify_registry(const char *dir, const char *book_dir, rt_diags *d)
{
    size_t before = rt_diags_total(d);
    rt_arena arena;
    rt_arena_init(&arena, 64 * 1024);
    const rt_json *m = NULL;
    rt_error err;
    rt_store *store = NULL;
    rt_run_record rec;
    memset(&rec, 0, sizeof rec);
    uint64_t run_no = 0, bytes, xxh;
    char path[PATH_MAX], real_out[PATH_MAX];
    if (rt_manifest_read(dir, &arena, &m, &err) != RT_OK || rt_json_u64(m, "run", &run_no) != RT_OK) {
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "run", "no run number in the manifest");
        goto done;
    }
    if (rt_store_open(book_dir, false, &store, &err) != RT_OK ||
        rt_registry_get_run(store, run_no, &rec, &err) != RT_OK) {
        rt_diags_add(d, book_dir, 0, 0, "run", "run %llu is not committed in this registry: %s",
                     (unsigned long long)run_no, err.message);
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s", dir, RT_MANIFEST_NAME);
    if (rt_zio_checksum_file(path, &bytes, &xxh, &err) != RT_OK || xxh != rec.manifest_xxh64)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, NULL,
                     "the manifest is not the one run %llu committed (XXH64 differs)",
                     (unsigned long long)run_no);
    const char *period = rt_json_string(m, "period");
    if (!period || strcmp(period, rec.period) != 0)
        rt_diags_add(d, RT_MANIFEST_NAME, 0, 0, "period", "run %llu billed period %s",
                     (unsigned long long)run_no, rec.period);
    if (realpath(dir, real_out) && strcmp(real_out, rec.out_dir) != 0)
        rt_diags_add(d, dir, 0, 0, NULL, "run %llu was committed to %s (moved or copied?)",
                     (unsigned long long)run_no, rec.out_dir);
done:
    rt_run_record_free(&rec);
    rt_store_close(store);
    rt_arena_free(&arena);
    return rt_diags_total(d) > before ? RT_EVERIFY : RT_OK;
}

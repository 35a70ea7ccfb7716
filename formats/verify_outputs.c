/* verify_outputs: `ratel verify` checks of the documents, the FEC file and the usage detail. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "engine/money.h"
#include "engine/strmap.h"
#include "formats/gl_fec.h"
#include "formats/invoice_docs.h"
#include "formats/tar.h"
#include "formats/invoice_ubl.h"
#include "formats/invoice_view.h"
#include "formats/manifest.h"
#include "formats/usage_detail.h"
#include "formats/verify_checks.h"
#include "formats/zio.h"

/* ---- manifest helpers ---- */

static const rt_json *find_output(const rt_json *m, const char *name)
{
    const rt_json *outputs = rt_json_get(m, "outputs");
    for (const rt_json *o = outputs ? outputs->child : NULL; o; o = o->next) {
        const char *n = rt_json_string(o, "name");
        if (n && strcmp(n, name) == 0) return o;
    }
    return NULL;
}

static int amount_text(const char *text, const char *currency, int64_t *out)
{
    const rt_currency *c = rt_currency_find(currency);
    return c && rt_decimal_parse(text, strlen(text), c->minor_units, out) == RT_OK;
}

/* ---- UBL and HTML documents ---- */

static const rt_currency *functional_currency(const rt__vctx *c);

/* The text of the first <tag>...</tag> (tag with its attributes, e.g. "cbc:ID>"), or "". */
static void xml_text(const char *doc, const char *open, const char *close, char *buf, size_t n)
{
    buf[0] = '\0';
    const char *p = strstr(doc, open);
    if (!p) return;
    p += strlen(open);
    const char *e = strstr(p, close);
    if (!e || (size_t)(e - p) >= n) return;
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = '\0';
}

typedef struct doc_row {
    char number[RT_INVOICE_NUMBER_MAX + 16];
    char type[32];
    char currency[8];
    char gross[48];
} doc_row;

/* EN 16931 BT-6 and BT-111 of a UBL document: when it names a VAT accounting currency (ratel
 * writes one on every document in another currency than the functional one; documents written
 * before it did have none, and are not held to it), that is the functional currency, not the
 * document's, and a TaxTotal gives the VAT in it. */
static void check_tax_currency(const rt__vctx *c, const char *name, const char *doc,
                               const doc_row *r, size_t row, const char *functional)
{
    char code[16], open[96], amount[64];
    /* UBL's schema puts it right after DocumentCurrencyCode: look there only, rather than
     * through the whole of every document that has none. */
    static const char doc_cur[] = "</cbc:DocumentCurrencyCode>",
                      tax_cur[] = "<cbc:TaxCurrencyCode>";
    const char *at = strstr(doc, doc_cur);
    if (!at || strncmp(at + sizeof doc_cur - 1, tax_cur, sizeof tax_cur - 1) != 0) return;
    xml_text(at, tax_cur, "</cbc:TaxCurrencyCode>", code, sizeof code);
    if (!code[0]) return;
    if (functional && strcmp(code, functional) != 0) {
        rt_diags_add(c->d, name, 0, 0, "TaxCurrencyCode", "is %s, the functional currency is %s",
                     code, functional);
        return;
    }
    if (strcmp(code, r->currency) == 0) {
        rt_diags_add(c->d, name, 0, 0, "TaxCurrencyCode", "is the document's own currency %s",
                     code);
        return;
    }
    snprintf(open, sizeof open, "<cac:TaxTotal><cbc:TaxAmount currencyID=\"%s\">", code);
    xml_text(doc, open, "</cbc:TaxAmount>", amount, sizeof amount);
    int64_t v;
    if (!amount_text(amount, code, &v)) {
        rt_diags_add(c->d, name, 0, 0, "TaxTotal", "gives no VAT amount in %s (BT-111)", code);
        return;
    }
    /* A credit note shows the VAT of the invoice it reverses, which its entry debits. */
    if (c->vat_functional && row < c->vat_count) {
        int64_t booked = c->vat_functional[row];
        if (v != (strcmp(r->type, "credit_note") == 0 ? -booked : booked)) {
            char want[48];
            rt_decimal_str(booked, rt_currency_find(code)->minor_units, want, sizeof want);
            rt_diags_add(c->d, name, 0, 0, "TaxTotal",
                         "VAT in %s is %s, journal.csv books %s for %s", code, amount, want,
                         r->number);
        }
    }
}

/* One UBL document (an archive member) against its invoices.csv row. */
static void check_ubl(const rt__vctx *c, const char *name, const char *doc, const doc_row *r,
                      size_t row, const char *functional)
{
    char id[128], custom[160], payable[64], cur_attr[64];
    bool credit = strcmp(r->type, "credit_note") == 0;
    const char *root = credit ? "<CreditNote xmlns=" : "<Invoice xmlns=";
    if (!strstr(doc, root))
        rt_diags_add(c->d, name, 0, 0, NULL, "is not a UBL %s", credit ? "CreditNote" : "Invoice");
    xml_text(doc, "<cbc:CustomizationID>", "</cbc:CustomizationID>", custom, sizeof custom);
    if (strcmp(custom, RT_UBL_CUSTOMIZATION_ID) != 0)
        rt_diags_add(c->d, name, 0, 0, "CustomizationID", "is not the Peppol BIS 3.0 one");
    xml_text(doc, "<cbc:ID>", "</cbc:ID>", id, sizeof id);
    if (strcmp(id, r->number) != 0)
        rt_diags_add(c->d, name, 0, 0, "ID", "is '%s', invoices.csv says %s", id, r->number);
    snprintf(cur_attr, sizeof cur_attr, "<cbc:PayableAmount currencyID=\"%s\">", r->currency);
    xml_text(doc, cur_attr, "</cbc:PayableAmount>", payable, sizeof payable);
    int64_t want, got;
    if (!amount_text(r->gross, r->currency, &want) || !amount_text(payable, r->currency, &got)) {
        rt_diags_add(c->d, name, 0, 0, "PayableAmount", "missing or not an amount in %s",
                     r->currency);
    } else if (got != (credit ? -want : want)) {
        /* A credit note shows the gross of the invoice it reverses; invoices.csv holds the
         * reversal, that gross negated. */
        rt_diags_add(c->d, name, 0, 0, "PayableAmount", "is %s, invoices.csv says %s", payable,
                     r->gross);
    }
    check_tax_currency(c, name, doc, r, row, functional);
}

static int read_doc_row(const rt__vtable *t, const int col[4], doc_row *r)
{
    rt__vtable_cell(t, col[0], r->number, sizeof r->number);
    rt__vtable_cell(t, col[1], r->type, sizeof r->type);
    rt__vtable_cell(t, col[2], r->currency, sizeof r->currency);
    rt__vtable_cell(t, col[3], r->gross, sizeof r->gross);
    return r->number[0] != '\0';
}

/* Walking one archive: member i must be the document of invoices.csv row i. */
typedef struct archive_walk {
    const rt__vctx *c;
    const char *archive;
    const char *ext;
    bool ubl;
    const doc_row *rows;
    size_t count, at;
    const char *functional; /* the functional currency's code, NULL when unknown */
} archive_walk;

static rt_status check_member(void *ctx, const char *name, const char *data, size_t len)
{
    archive_walk *w = ctx;
    (void)len;
    char where[RT_TAR_NAME_MAX + 64];
    snprintf(where, sizeof where, "%s:%s", w->archive, name);
    if (w->at >= w->count) {
        rt_diags_add(w->c->d, where, 0, 0, NULL, "a document beyond the %zu of invoices.csv",
                     w->count);
        w->at++;
        return RT_OK;
    }
    const doc_row *r = &w->rows[w->at++];
    char want[RT_TAR_NAME_MAX + 1];
    if (rt_doc_file_name(r->number, w->ext, want, sizeof want) != RT_OK || strcmp(want, name) != 0) {
        rt_diags_add(w->c->d, where, 0, 0, NULL, "is not the document of %s (row %zu)", r->number,
                     w->at);
        return RT_OK;
    }
    w->c->stats->documents++;
    /* Rows line up with invoices.csv's only when every row named an invoice. */
    size_t row = w->count == w->c->vat_count ? w->at - 1 : SIZE_MAX;
    if (w->ubl) check_ubl(w->c, where, data, r, row, w->functional);
    return RT_OK;
}

static void check_document_counts(const rt__vctx *c, const char *archive, uint64_t invoices,
                                  uint64_t credits)
{
    uint64_t mi, mc;
    const rt_json *docs = rt_json_get(rt_json_get(c->manifest, "documents"), archive);
    if (rt_json_u64(docs, "invoices", &mi) != RT_OK ||
        rt_json_u64(docs, "credit_notes", &mc) != RT_OK || mi != invoices || mc != credits)
        rt_diags_add(c->d, RT_MANIFEST_NAME, 0, 0, "documents",
                     "%s counts differ from invoices.csv", archive);
}

void rt__verify_documents(const rt__vctx *c)
{
    static const struct {
        const char *archive, *ext;
        bool ubl;
    } kinds[2] = {{RT_DOCS_UBL, ".xml", true}, {RT_DOCS_HTML, ".html", false}};
    if (!rt_json_get(c->manifest, "documents")) return; /* manifest v1: no documents */
    if (!c->invoices) return;
    rt__vtable tab, *t = &tab;
    doc_row *rows = NULL;
    size_t n = 0, cap = 0;
    uint64_t invoices = 0, credits = 0;
    if (!rt__vtable_open(c->dir, "invoices.csv", t, c->d)) goto done;
    int col[4] = {rt__vtable_column(t, "invoice_number", c->d), rt__vtable_column(t, "type", c->d),
                  rt__vtable_column(t, "currency", c->d), rt__vtable_column(t, "gross", c->d)};
    if (col[0] < 0 || col[1] < 0 || col[2] < 0 || col[3] < 0) goto done;
    while (rt__vtable_next(t, c->d)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            doc_row *r = realloc(rows, cap * sizeof *r);
            if (!r) {
                rt_diags_add(c->d, RT_MANIFEST_NAME, 0, 0, NULL, "out of memory");
                goto done;
            }
            rows = r;
        }
        if (!read_doc_row(t, col, &rows[n])) continue;
        if (strcmp(rows[n].type, "credit_note") == 0)
            credits++;
        else
            invoices++;
        n++;
    }
    if (t->failed) goto done;
    const rt_currency *fc = functional_currency(c);
    for (int k = 0; k < 2; k++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", c->dir, kinds[k].archive);
        archive_walk w = {c, kinds[k].archive,    kinds[k].ext, kinds[k].ubl, rows, n,
                          0, fc ? fc->code : NULL};
        rt_error err;
        /* A document larger than 64 MiB is not an invoice anyone can read. */
        if (rt_tar_each(path, (size_t)64 << 20, check_member, &w, &err) != RT_OK)
            rt_diags_add(c->d, kinds[k].archive, 0, 0, NULL, "%s", err.message);
        else if (w.at != n)
            rt_diags_add(c->d, kinds[k].archive, 0, 0, NULL,
                         "holds %zu documents for %zu invoices and credit notes", w.at, n);
        check_document_counts(c, kinds[k].archive, invoices, credits);
    }
done:
    rt__vtable_close(t);
    free(rows);
}

/* ---- FEC ---- */

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* The FEC file of the manifest: ...FEC<date>.txt, or .txt.zst when compressed. */
static const char *fec_name(const rt_json *m)
{
    const rt_json *outputs = rt_json_get(m, "outputs");
    for (const rt_json *o = outputs ? outputs->child : NULL; o; o = o->next) {
        const char *n = rt_json_string(o, "name");
        if (n && !strchr(n, '/') && strstr(n, "FEC") &&
            (ends_with(n, ".txt") || ends_with(n, ".txt.zst")))
            return n;
    }
    return NULL;
}

/* Entries, lines, debits and credits of journal.csv, in the functional currency. */
static int journal_sums(const rt__vctx *c, unsigned minor, rt_fec_summary *s)
{
    rt__vtable tab, *j = &tab;
    int ok = 0;
    memset(s, 0, sizeof *s);
    if (!rt__vtable_open(c->dir, "journal.csv", j, NULL)) goto done;
    int ce = rt__vtable_column(j, "entry", NULL), cd = rt__vtable_column(j, "debit", NULL),
        cc = rt__vtable_column(j, "credit", NULL);
    if (ce < 0 || cd < 0 || cc < 0) goto done;
    char last[32] = "";
    while (rt__vtable_next(j, NULL)) {
        char e[32], dr[64], cr[64];
        int64_t dv, cv;
        rt__vtable_cell(j, ce, e, sizeof e);
        rt__vtable_cell(j, cd, dr, sizeof dr);
        rt__vtable_cell(j, cc, cr, sizeof cr);
        if (rt_decimal_parse(dr, strlen(dr), minor, &dv) != RT_OK ||
            rt_decimal_parse(cr, strlen(cr), minor, &cv) != RT_OK)
            goto done; /* the journal check reports it */
        s->entries += strcmp(e, last) != 0;
        snprintf(last, sizeof last, "%s", e);
        s->lines++;
        s->debit_minor += dv;
        s->credit_minor += cv;
    }
    ok = !j->failed;
done:
    rt__vtable_close(j);
    return ok;
}

static const rt_currency *functional_currency(const rt__vctx *c)
{
    const char *code = rt_json_string(rt_json_get(c->manifest, "journal"), "currency");
    char cur[8] = "";
    if (!code && c->journal) { /* manifest v1: the journal's first line tells */
        rt__vtable j;
        if (rt__vtable_open(c->dir, "journal.csv", &j, NULL) && rt__vtable_next(&j, NULL)) {
            rt__vtable_cell(&j, rt__vtable_column(&j, "currency", NULL), cur, sizeof cur);
            code = cur;
        }
        rt__vtable_close(&j);
    }
    return code ? rt_currency_find(code) : NULL;
}

void rt__verify_fec(const rt__vctx *c)
{
    const char *name = fec_name(c->manifest);
    if (!name) return;
    const rt_currency *fc = functional_currency(c);
    if (!fc) {
        rt_diags_add(c->d, name, 0, 0, NULL, "the functional currency is unknown");
        return;
    }
    char path[PATH_MAX];
    rt_error err;
    rt_fec_summary fec, jr;
    rt_zreader *r;
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    if (rt_zreader_open(path, &r, &err) != RT_OK) return; /* the checksum pass reported it */
    /* The name rules are those of the FEC itself, whatever it is stored as. */
    char plain[RT_OUTPUT_NAME_MAX];
    snprintf(plain, sizeof plain, "%.*s", (int)(strlen(name) - (ends_with(name, ".zst") ? 4 : 0)),
             name);
    /* Read a piece at a time (800 MB of text at a million invoices), checked in whole lines. */
    rt_fec_checker check;
    rt_gl_fec_check_begin(&check, plain, fc->minor_units, &fec, c->d);
    rt_buf b;
    rt_buf_init(&b);
    bool ok = true;
    for (;;) {
        size_t got;
        if (!rt_buf_reserve(&b, (size_t)4 << 20) ||
            rt_zreader_read(r, b.data + b.len, (size_t)4 << 20, &got, &err) != RT_OK) {
            ok = false; /* the checksum pass reports an unreadable file */
            break;
        }
        b.len += got;
        size_t whole = b.len;
        if (got > 0)
            while (whole > 0 && b.data[whole - 1] != '\n')
                whole--;
        rt_gl_fec_check_lines(&check, b.data, whole);
        memmove(b.data, b.data + whole, b.len - whole);
        b.len -= whole;
        if (got == 0) break;
    }
    rt_buf_free(&b);
    rt_zreader_close(r);
    rt_gl_fec_check_end(&check);
    if (!ok) return;
    c->stats->fec_entries = fec.entries;
    if (!c->journal || !journal_sums(c, fc->minor_units, &jr)) return;
    if (fec.entries != jr.entries || fec.lines != jr.lines)
        rt_diags_add(c->d, name, 0, 0, NULL,
                     "%" PRIu64 " entries in %" PRIu64 " lines, journal.csv has %" PRIu64
                     " in %" PRIu64,
                     fec.entries, fec.lines, jr.entries, jr.lines);
    if (fec.debit_minor != jr.debit_minor || fec.credit_minor != jr.credit_minor)
        rt_diags_add(c->d, name, 0, 0, NULL, "debit or credit total differs from journal.csv");
}

/* ---- usage detail ---- */

/* Size of the first zstd frame of a file (the header row), or 0 when it is not one. */
static uint64_t first_frame_size(const char *path)
{
    char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n <= 0) return 0;
    size_t f = ZSTD_findFrameCompressedSize(buf, (size_t)n);
    return ZSTD_isError(f) ? 0 : f;
}

/* Whether a zstd frame starts at `offset` of the file. */
static bool frame_at(int fd, uint64_t offset)
{
    unsigned char magic[4];
    return pread(fd, magic, 4, (off_t)offset) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 &&
           magic[2] == 0x2f && magic[3] == 0xfd;
}

typedef struct index_cols {
    int number, line, events, offset, bytes, skip;
} index_cols;

/* (invoice, line) -> events of invoice_lines.csv: keyed by the invoice's row in invoices.csv
 * and the line's number, exactly, in a sorted array (12 bytes a line, where a map of strings
 * took 130: at ten million lines the check's memory). invoice_lines.csv lists the lines in
 * that order, and the index too, so a lookup is usually the next entry. */
typedef struct line_events {
    rt_strmap invoices; /* invoice number -> its row (keys in arena) */
    rt_arena arena;
    uint64_t *keys; /* (row + 1) << 32 | line, ascending */
    uint32_t *events;
    size_t count, cap, next;
} line_events;

static void line_events_free(line_events *le)
{
    rt_strmap_free(&le->invoices);
    rt_arena_free(&le->arena);
    free(le->keys);
    free(le->events);
}

static uint64_t line_key(const line_events *le, const char *number, const char *line)
{
    uint32_t row;
    char *end;
    unsigned long long l = strtoull(line, &end, 10);
    if (rt_strmap_get(&le->invoices, number, strlen(number), &row) != RT_OK || !line[0] || *end ||
        l > UINT32_MAX)
        return 0;
    return ((uint64_t)row + 1) << 32 | l;
}

static int line_events_push(line_events *le, uint64_t key, uint32_t events)
{
    if (le->count == le->cap) {
        size_t cap = le->cap ? le->cap * 2 : 4096;
        uint64_t *k = realloc(le->keys, cap * sizeof *k);
        if (k) le->keys = k;
        uint32_t *e = k ? realloc(le->events, cap * sizeof *e) : NULL;
        if (!e) return 0;
        le->events = e;
        le->cap = cap;
    }
    le->keys[le->count] = key;
    le->events[le->count++] = events;
    return 1;
}

typedef struct key_event {
    uint64_t key;
    uint32_t events;
} key_event;

static int key_event_cmp(const void *x, const void *y)
{
    const key_event *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* Sort the lines by key when the file did not list them in order. 0: out of memory. */
static int line_events_sort(line_events *le)
{
    size_t n = le->count;
    for (size_t i = 1; i < n; i++)
        if (le->keys[i - 1] > le->keys[i]) goto unsorted;
    return 1;
unsorted:;
    key_event *ke = malloc(n * sizeof *ke);
    if (!ke) return 0;
    for (size_t i = 0; i < n; i++)
        ke[i] = (key_event){le->keys[i], le->events[i]};
    qsort(ke, n, sizeof *ke, key_event_cmp);
    for (size_t i = 0; i < n; i++) {
        le->keys[i] = ke[i].key;
        le->events[i] = ke[i].events;
    }
    free(ke);
    return 1;
}

/* The events of a line: 1, or 0 when it is not one. */
static int line_events_get(line_events *le, uint64_t key, uint32_t *events)
{
    size_t at;
    if (le->next < le->count && le->keys[le->next] == key) {
        at = le->next;
    } else {
        size_t lo = 0, hi = le->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (le->keys[mid] < key)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == le->count || le->keys[lo] != key) return 0;
        at = lo;
    }
    *events = le->events[at];
    le->next = at + 1;
    return 1;
}

/* Read invoices.csv and invoice_lines.csv (both read whole before: c->invoices, c->lines). */
static int line_events_load(const rt__vctx *c, line_events *le)
{
    rt__vtable tab, *t = &tab;
    int ok = 0;
    uint32_t rows = 0;
    char num[96], l[16], e[32];
    if (rt_strmap_init(&le->invoices, 1024) != RT_OK) return 0;
    if (!rt__vtable_open(c->dir, "invoices.csv", t, NULL)) goto done;
    int cn = rt__vtable_column(t, "invoice_number", NULL);
    while (cn >= 0 && rt__vtable_next(t, NULL)) {
        rt__vtable_cell(t, cn, num, sizeof num);
        size_t len = strlen(num);
        char *k = rt_arena_strndup(&le->arena, num, len);
        if (!k || rt_strmap_put(&le->invoices, k, len, rows++) == RT_ENOMEM) goto done;
    }
    rt__vtable_close(t);
    if (!rt__vtable_open(c->dir, "invoice_lines.csv", t, NULL)) goto done;
    cn = rt__vtable_column(t, "invoice_number", NULL);
    int cl = rt__vtable_column(t, "line", NULL), ce = rt__vtable_column(t, "events", NULL);
    if (cn < 0 || cl < 0 || ce < 0) goto done;
    while (rt__vtable_next(t, NULL)) {
        rt__vtable_cell(t, cn, num, sizeof num);
        rt__vtable_cell(t, cl, l, sizeof l);
        rt__vtable_cell(t, ce, e, sizeof e);
        uint64_t key = line_key(le, num, l);
        if (key && !line_events_push(le, key, (uint32_t)strtoul(e, NULL, 10))) goto done;
    }
    ok = !t->failed && line_events_sort(le);
done:
    rt__vtable_close(t);
    return ok;
}

static void check_index_rows(const rt__vctx *c, rt__vtable *ix, const index_cols *k, int fd,
                             uint64_t header, uint64_t file_bytes)
{
    line_events le;
    memset(&le, 0, sizeof le);
    rt_arena_init(&le.arena, 0);
    int have_lines = c->invoices && c->lines && line_events_load(c, &le);
    /* Lines follow each other through the file: a line starts in the frame where the one
     * before it ends (after its rows: skip > 0) or in the frame after it (skip = 0). */
    uint64_t prev = header, at = header, total = 0, checked = UINT64_MAX;
    while (rt__vtable_next(ix, c->d)) {
        size_t i = ix->row;
        char n[96], l[16], e[32], off[32], by[32], sk[32];
        rt__vtable_cell(ix, k->number, n, sizeof n);
        rt__vtable_cell(ix, k->line, l, sizeof l);
        rt__vtable_cell(ix, k->events, e, sizeof e);
        rt__vtable_cell(ix, k->offset, off, sizeof off);
        rt__vtable_cell(ix, k->bytes, by, sizeof by);
        sk[0] = '\0';
        if (k->skip >= 0) rt__vtable_cell(ix, k->skip, sk, sizeof sk);
        uint64_t events = strtoull(e, NULL, 10), o = strtoull(off, NULL, 10),
                 b = strtoull(by, NULL, 10), skip = strtoull(sk, NULL, 10);
        total += events;
        bool next_frame = o == at && skip == 0;
        bool same_frame = i > 0 && o >= prev && o < at && skip > 0;
        /* Lines share frames: each frame's start is read once. */
        bool frame = o == checked || frame_at(fd, o);
        if (frame) checked = o;
        if (b == 0 || o + b < at || !(next_frame || same_frame) || !frame)
            rt_diags_add(c->d, ix->name, i + 2, 0, "offset",
                         "frames are not contiguous: expected the line to start after the "
                         "previous one, in the frame at %" PRIu64 " or before it",
                         at);
        prev = o;
        at = o + b;
        uint32_t want;
        if (!n[0] || !have_lines) continue;
        uint64_t key = line_key(&le, n, l);
        if (!key || !line_events_get(&le, key, &want))
            rt_diags_add(c->d, ix->name, i + 2, 0, "line", "%s line %s is not an invoice line", n,
                         l);
        else if (want != events)
            rt_diags_add(c->d, ix->name, i + 2, 0, "events",
                         "%" PRIu64 " events, invoice_lines.csv says %" PRIu32, events, want);
    }
    /* After a malformed row (reported) what was read covers only part of the file. */
    uint64_t rated;
    if (!ix->failed && at != file_bytes)
        rt_diags_add(c->d, RT_DETAIL_NAME, 0, 0, NULL,
                     "the index covers %" PRIu64 " of %" PRIu64 " bytes", at, file_bytes);
    if (!ix->failed && rt_json_u64(rt_json_get(c->manifest, "counts"), "rated", &rated) == RT_OK &&
        total != rated)
        rt_diags_add(c->d, RT_DETAIL_INDEX_NAME, 0, 0, "events",
                     "%" PRIu64 " events, counts.rated is %" PRIu64, total, rated);
    c->stats->detail_events = total;
    line_events_free(&le);
}

void rt__verify_detail(const rt__vctx *c)
{
    const rt_json *entry = find_output(c->manifest, RT_DETAIL_NAME);
    if (!entry || (!find_output(c->manifest, RT_DETAIL_INDEX_NAME) &&
                   !find_output(c->manifest, RT_DETAIL_INDEX_NAME ".zst")))
        return;
    uint64_t file_bytes;
    if (rt_json_u64(entry, "bytes", &file_bytes) != RT_OK) return;
    rt__vtable ix;
    if (!rt__vtable_open(c->dir, RT_DETAIL_INDEX_NAME, &ix, c->d)) {
        rt__vtable_close(&ix);
        return;
    }
    index_cols k = {rt__vtable_column(&ix, "invoice_number", c->d),
                    rt__vtable_column(&ix, "line", c->d), rt__vtable_column(&ix, "events", c->d),
                    rt__vtable_column(&ix, "offset", c->d), rt__vtable_column(&ix, "bytes", c->d),
                    /* absent before 2026-11-23, when every group was its own frames */
                    rt__vtable_column(&ix, "skip", NULL)};
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", c->dir, RT_DETAIL_NAME);
    int fd = open(path, O_RDONLY);
    uint64_t header = first_frame_size(path);
    if (fd < 0 || header == 0)
        rt_diags_add(c->d, RT_DETAIL_NAME, 0, 0, NULL, "cannot read its header frame");
    else if (k.number >= 0 && k.line >= 0 && k.events >= 0 && k.offset >= 0 && k.bytes >= 0)
        check_index_rows(c, &ix, &k, fd, header, file_bytes);
    if (fd >= 0) close(fd);
    rt__vtable_close(&ix);
}

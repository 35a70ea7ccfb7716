/* verify_checks: internal to `ratel verify` (formats/verify.c and formats/verify_outputs.c).
 *
 * Owns the CSV table reader the checks stream (invoices, lines, journal, detail index) and
 * the checks of the files beyond the core ledger: the per-document UBL and HTML files, the
 * FEC file and the itemised usage detail. Not a public API: only verify's files include it. */
#ifndef RT_VERIFY_CHECKS_H
#define RT_VERIFY_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/buf.h"
#include "engine/status.h"
#include "formats/csv.h"
#include "formats/json.h"
#include "formats/verify.h"
#include "formats/zio.h"

/* A table read a row at a time, from a file compressed or not: the checks stream the tables
 * (at a million invoices, ten million lines: held whole with every field, they took ten
 * times their text, 10 GB). */
typedef struct rt__vtable {
    const char *name;
    rt_zreader *r;
    rt_buf text; /* read ahead; from pos on not parsed yet */
    size_t pos;
    bool eof, failed;
    rt_arena arena;   /* the header's fields */
    rt_arena scratch; /* the current row's unescaped fields */
    rt_csv_record header;
    rt_csv_record rec; /* the current row */
    uint64_t line;     /* the file's line where the next record starts */
    size_t row;        /* the current row's index among the data rows (blank lines aside) */
    size_t read_size;  /* bytes read at a time */
} rt__vtable;

/* Open dir/name (compressed or not) and read its header; 0 with a problem in d when it cannot
 * be read. Close it in any case. d may be NULL (a second reading: problems are not repeated). */
int rt__vtable_open(const char *dir, const char *name, rt__vtable *t, rt_diags *d);
/* The same, reading read_size bytes at a time (the fuzz target cuts records anywhere). */
int rt__vtable_open_sized(const char *dir, const char *name, size_t read_size, rt__vtable *t,
                          rt_diags *d);
/* The next data row (blank lines skipped): 1, or 0 at the end or at a problem (reported in d,
 * and the table marked failed). */
int rt__vtable_next(rt__vtable *t, rt_diags *d);
/* Read the rest: 1 when the whole table was read without a problem. */
int rt__vtable_done(rt__vtable *t, rt_diags *d);
void rt__vtable_close(rt__vtable *t);
/* The index of a column, or -1 (with a problem in d when d is not NULL). */
int rt__vtable_column(const rt__vtable *t, const char *name, rt_diags *d);
/* A cell of the current row as a NUL-terminated string (truncated to n - 1 bytes; "" when
 * absent). */
void rt__vtable_cell(const rt__vtable *t, int col, char *buf, size_t n);

/* What the output checks share: which tables verify.c read whole and well-formed (the checks
 * read them again, by name, a row at a time). The three checks below run in parallel, each
 * with a d of its own: each sets only its own fields of stats. */
typedef struct rt__vctx {
    const char *dir;
    const rt_json *manifest;
    bool invoices; /* invoices.csv */
    bool lines;    /* invoice_lines.csv */
    bool journal;  /* journal.csv */
    rt_diags *d;
    rt_verify_stats *stats;
    /* Per row of invoices.csv, the VAT journal.csv books for it in the functional currency
     * (NULL when the journal was not read whole). */
    int64_t *vat_functional;
    size_t vat_count;
} rt__vctx;

/* UBL and HTML documents: one of each per invoice and credit note, each listed, each UBL
 * document's type, number and payable amount equal to invoices.csv. */
void rt__verify_documents(const rt__vctx *c);
/* The FEC file when the manifest lists one: every rule of rt_gl_fec_check, and its entries,
 * lines, debits and credits equal to journal.csv. */
void rt__verify_fec(const rt__vctx *c);
/* usage_detail: frames contiguous and covering the file, events = counts.rated, and each
 * invoice line's events equal to invoice_lines.csv. */
void rt__verify_detail(const rt__vctx *c);

#endif

/* verify_checks: internal to `ratel verify` (formats/verify.c and formats/verify_outputs.c).
 *
 * Owns the small CSV table the checks load whole (invoices, lines, journal, detail index) and
 * the checks of the files beyond the core ledger: the per-document UBL and HTML files, the
 * FEC file and the itemised usage detail. Not a public API: only verify's files include it. */
#ifndef RT_VERIFY_CHECKS_H
#define RT_VERIFY_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/buf.h"
#include "engine/status.h"
#include "formats/csv.h"
#include "formats/json.h"
#include "formats/verify.h"

/* A row keeps only its own fields (in the arena): a whole rt_csv_record per row would cost
 * a kilobyte each. */
typedef struct rt__vrow {
    const rt_csv_field *fields;
    uint32_t count;
} rt__vrow;

typedef struct rt__vtable {
    const char *name;
    rt_buf text;
    rt_arena arena;
    rt__vrow *rows;
    size_t count;
    rt_csv_record header;
} rt__vtable;

/* Load dir/name (compressed or not); 0 with a problem in d when it cannot be read. */
int rt__vtable_load(const char *dir, const char *name, rt__vtable *t, rt_diags *d);
void rt__vtable_free(rt__vtable *t);
/* The index of a column, or -1 (with a problem in d when d is not NULL). */
int rt__vtable_column(const rt__vtable *t, const char *name, rt_diags *d);
/* A cell as a NUL-terminated string (truncated to n - 1 bytes; "" when absent). */
void rt__vtable_cell(const rt__vtable *t, size_t row, int col, char *buf, size_t n);

/* The tables the output checks share, loaded by verify.c (NULL when absent or unreadable). */
typedef struct rt__vctx {
    const char *dir;
    const rt_json *manifest;
    const rt__vtable *invoices;
    const rt__vtable *lines;
    const rt__vtable *journal;
    rt_diags *d;
    rt_verify_stats *stats;
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

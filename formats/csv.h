/* csv: RFC 4180 records, read and written.
 *
 * Owns the tokenizer every CSV reader in ratel uses (comma separator, double-quote quoting
 * with "" as an escaped quote, LF or CRLF line ends, quoted fields may span lines) and the
 * cell writers: quoting where needed, and neutralising text that a spreadsheet would run as a
 * formula (a leading =, +, -, @, tab or CR gets a leading apostrophe) in files people open.
 * It does not know what any column means. */
#ifndef RT_CSV_H
#define RT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/buf.h"
#include "engine/status.h"

enum { RT_CSV_FIELDS_MAX = 64 };

typedef struct rt_csv_field {
    const char *ptr; /* contents without quotes; escaped quotes already collapsed */
    uint32_t len;
} rt_csv_field;

typedef struct rt_csv_record {
    rt_csv_field fields[RT_CSV_FIELDS_MAX];
    size_t count;
    const char *raw; /* the record's text without its line end */
    size_t raw_len;
    uint32_t newlines; /* line ends consumed, including those inside quoted fields */
} rt_csv_record;

/* Parse the record at *pos (before end). On success *pos moves past the record's line end.
 * Fields whose quotes hold escaped quotes are copied, collapsed, into `arena`; all other
 * fields point into the input. A blank line is a record with one empty field.
 * RT_EPARSE with *why and the 1-based *column of the problem when the record is malformed
 * (unterminated quote, text after a closing quote, a quote inside an unquoted field);
 * *pos then moves past the end of the line so parsing can go on. RT_ELIMIT for more than
 * RT_CSV_FIELDS_MAX fields. RT_ENOMEM. */
rt_status rt_csv_parse(const char **pos, const char *end, rt_arena *arena, rt_csv_record *rec,
                       const char **why, uint32_t *column);

/* Line ends in p[0..len) (counted 16 bytes at a time where SSE2 is there). */
size_t rt_csv_newlines(const char *p, size_t len);

/* Copies of the record's fields as NUL-terminated strings in arena (a header's column names,
 * kept past the buffer the header was parsed from); NULL when memory runs out. */
const char **rt_csv_field_strings(const rt_csv_record *rec, rt_arena *arena);

/* True when the record is a blank line (a single empty unquoted field). */
bool rt_csv_blank(const rt_csv_record *rec);

/* Find the offset just past the last record boundary in buf[0..len), which must start at a
 * record start: the end of a record exactly as rt_csv_parse would end it (malformed records
 * included), never one that depends on bytes after len. Returns 0 when there is none.
 * Parsing buf[0..cut) therefore gives the same records as parsing more data would, so the
 * records read do not depend on where chunks are cut. */
size_t rt_csv_last_boundary(const char *buf, size_t len);

/* ---- writing ---- */
/* A text cell: quoted when it holds a comma, quote, CR or LF; formula-neutralised. */
void rt_csv_put_text(rt_buf *b, const char *s, size_t len);
/* The same without neutralising, for machine-read files that must round-trip exactly. */
void rt_csv_put_exact(rt_buf *b, const char *s, size_t len);
/* A number or code cell, written as is (the caller guarantees no special characters). */
void rt_csv_put_raw(rt_buf *b, const char *s, size_t len);
/* Number cells written without printf (these run once per rated event):
 * an integer; a fixed-point value as rt_decimal_format writes it; a UTC instant as
 * rt_time_format writes it ("2026-10-05T14:03:22Z"). */
static inline void rt_csv_put_u64(rt_buf *b, uint64_t v) { rt_buf_put_u64(b, v); }
void rt_csv_put_decimal(rt_buf *b, int64_t v, unsigned scale, int decimals, unsigned min_decimals);
void rt_csv_put_time(rt_buf *b, int64_t t);
static inline void rt_csv_sep(rt_buf *b) { rt_buf_putc(b, ','); }
static inline void rt_csv_end(rt_buf *b) { rt_buf_putc(b, '\n'); }

#endif

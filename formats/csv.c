/* csv: tokenizer and cell writers. */
#include "formats/csv.h"

#include "engine/datetime.h"
#include "engine/money.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static rt_status malformed(const char **pos, const char *start, const char *at, const char *end,
                           rt_csv_record *rec, const char **why, const char *reason)
{
    const char *le = line_end(at, end);
    rec->raw = start;
    rec->raw_len = (size_t)(le - start);
    if (rec->raw_len && start[rec->raw_len - 1] == '\r') rec->raw_len--;
    rec->newlines = 0;
    for (const char *q = start; q < le; q++) rec->newlines += *q == '\n';
    if (le < end) rec->newlines++;
    *pos = le < end ? le + 1 : end;
    *why = reason;
    return RT_EPARSE;
}

rt_status rt_csv_parse(const char **pos, const char *end, rt_arena *arena, rt_csv_record *rec,
                       const char **why, uint32_t *column)
{
    const char *start = *pos, *p = start;
    rec->count = 0;
    rec->newlines = 0;
    for (;;) {
        if (rec->count == RT_CSV_FIELDS_MAX) {
            *column = RT_CSV_FIELDS_MAX + 1;
            malformed(pos, start, p, end, rec, why, "too many fields");
            return RT_ELIMIT;
        }
        rt_csv_field *f = &rec->fields[rec->count++];
        *column = (uint32_t)rec->count;
        if (p < end && *p == '"') {
            /* Quoted field: scan to the closing quote, noting escaped quotes. */
            const char *q = ++p;
            size_t escapes = 0;
            for (;;) {
                const char *dq = memchr(q, '"', (size_t)(end - q));
                if (!dq) return malformed(pos, start, p, end, rec, why, "unterminated quote");
                if (dq + 1 < end && dq[1] == '"') {
                    escapes++;
                    q = dq + 2;
                    continue;
                }
                q = dq;
                break;
            }
            for (const char *c = p; c < q; c++) rec->newlines += *c == '\n';
            if (escapes == 0) {
                f->ptr = p;
                f->len = (uint32_t)(q - p);
            } else {
                char *copy = rt_arena_alloc(arena, (size_t)(q - p));
                if (!copy) return RT_ENOMEM;
                size_t n = 0;
                for (const char *c = p; c < q; c++) {
                    copy[n++] = *c;
                    if (*c == '"') c++;
                }
                f->ptr = copy;
                f->len = (uint32_t)n;
            }
            p = q + 1;
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            /* As for an unquoted field, a CR before the LF or before the end of input is
             * part of the line end. */
            if (p < end && *p == '\r' && (p + 1 == end || p[1] == '\n')) p++;
            if (p < end && *p != '\n')
                return malformed(pos, start, p, end, rec, why, "text after a closing quote");
            break;
        }
        /* Unquoted field: up to the next comma or line end. */
        const char *q = p;
        while (q < end && *q != ',' && *q != '\n' && *q != '"') q++;
        if (q < end && *q == '"')
            return malformed(pos, start, q, end, rec, why, "quote inside an unquoted field");
        f->ptr = p;
        f->len = (uint32_t)(q - p);
        if (q < end && *q == ',') {
            p = q + 1;
            continue;
        }
        /* Line end: drop a CR before the LF (or before the end of input). */
        if (f->len && p[f->len - 1] == '\r') f->len--;
        p = q;
        break;
    }
    rec->raw = start;
    rec->raw_len = (size_t)(p - start);
    if (rec->raw_len && start[rec->raw_len - 1] == '\r') rec->raw_len--;
    if (p < end) {
        rec->newlines++;
        p++;
    }
    *pos = p;
    return RT_OK;
}

size_t rt_csv_newlines(const char *p, size_t len)
{
    size_t n = 0, i = 0;
#if defined(__SSE2__)
    /* 16 bytes at a time: each byte lane counts its line ends (a compare gives -1 for one) for
     * up to 255 blocks, then the lanes are summed. Chunks and frames of usage text are counted
     * whole, so this is read-path work for every record. */
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (len - i >= 16) {
        __m128i lanes = zero;
        for (unsigned b = 0; b < 255 && len - i >= 16; b++, i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(x, nl));
        }
        __m128i sums = _mm_sad_epu8(lanes, zero);
        n += (size_t)_mm_cvtsi128_si64(sums) +
             (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < len; i++) n += p[i] == '\n';
    return n;
}

const char **rt_csv_field_strings(const rt_csv_record *rec, rt_arena *arena)
{
    const char **out = rt_arena_alloc(arena, (rec->count ? rec->count : 1) * sizeof *out);
    for (size_t i = 0; out && i < rec->count; i++)
        if (!(out[i] = rt_arena_strndup(arena, rec->fields[i].ptr, rec->fields[i].len)))
            return NULL;
    return out;
}

bool rt_csv_blank(const rt_csv_record *rec)
{
    return rec->count == 1 && rec->fields[0].len == 0 && rec->raw_len == 0;
}

size_t rt_csv_last_boundary(const char *buf, size_t len)
{
    /* A forward scan that follows rt_csv_parse's own states, so that every boundary found
     * is exactly where the tokenizer ends a record: a quote opens a field only at the
     * field's start; a quote inside an unquoted field, text after a closing quote, or a
     * field past the limit make the rest of the line one malformed record. Counting quote
     * parity is not enough: one stray quote would invert it and put a cut inside a later
     * quoted field, so that the records read would depend on the chunk size. Where the
     * answer depends on bytes not yet read (a quote or CR as the last byte), the scan
     * stops at the boundary before. */
    enum { FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE, SKIP_LINE } state = FIELD_START;
    /* Before the first quote every line end ends a record (even past the field limit), so
     * the scan starts at the line holding that quote, found at memchr speed: quotes are
     * rare in usage files. Without any quote the answer is the last line end. */
    const char *quote = memchr(buf, '"', len);
    size_t start = quote ? (size_t)(quote - buf) : len;
    while (start > 0 && buf[start - 1] != '\n') start--;
    if (!quote) return start;
    size_t last = start, fields = 0;
    for (size_t i = start; i < len; i++) {
        char c = buf[i];
        if (state == FIELD_START) {
            if (fields == RT_CSV_FIELDS_MAX) {
                state = SKIP_LINE;
            } else {
                fields++;
                state = c == '"' ? QUOTED : UNQUOTED;
                if (c == '"') continue;
            }
        }
        switch (state) {
        case UNQUOTED:
            if (c == ',') state = FIELD_START;
            else if (c == '"') state = SKIP_LINE;
            else if (c == '\n') goto record_end;
            break;
        case QUOTED:
            if (c != '"') break;
            if (i + 1 == len) return last;
            if (buf[i + 1] == '"') i++;
            else state = AFTER_QUOTE;
            break;
        case AFTER_QUOTE:
            if (c == '\r' && i + 1 == len) return last;
            if (c == '\r' && buf[i + 1] == '\n') c = buf[++i];
            if (c == '\n') goto record_end;
            state = c == ',' ? FIELD_START : SKIP_LINE;
            break;
        case SKIP_LINE:
            if (c == '\n') goto record_end;
            break;
        case FIELD_START: break;
        }
        continue;
    record_end:
        last = i + 1;
        fields = 0;
        state = FIELD_START;
    }
    return last;
}

/* ---- writing ---- */

static bool needs_quotes(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') return true;
    return false;
}

static void put_cell(rt_buf *b, const char *s, size_t len, bool neutralise)
{
    bool formula = neutralise && len > 0 &&
                   (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                    s[0] == '\r');
    if (!formula && !needs_quotes(s, len)) {
        rt_buf_append(b, s, len);
        return;
    }
    rt_buf_putc(b, '"');
    if (formula) rt_buf_putc(b, '\'');
    const char *p = s, *e = s + len;
    while (p < e) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        if (!q) {
            rt_buf_append(b, p, (size_t)(e - p));
            break;
        }
        rt_buf_append(b, p, (size_t)(q - p + 1));
        rt_buf_putc(b, '"');
        p = q + 1;
    }
    rt_buf_putc(b, '"');
}

void rt_csv_put_text(rt_buf *b, const char *s, size_t len) { put_cell(b, s, len, true); }
void rt_csv_put_exact(rt_buf *b, const char *s, size_t len) { put_cell(b, s, len, false); }
void rt_csv_put_raw(rt_buf *b, const char *s, size_t len) { rt_buf_append(b, s, len); }

void rt_csv_put_decimal(rt_buf *b, int64_t v, unsigned scale, int decimals, unsigned min_decimals)
{
    char t[48];
    rt_buf_append(b, t, rt_decimal_format(v, scale, decimals, min_decimals, '.', t, sizeof t));
}

void rt_csv_put_time(rt_buf *b, int64_t t)
{
    char s[32];
    rt_buf_append(b, s, rt_time_format(t, s, sizeof s));
}

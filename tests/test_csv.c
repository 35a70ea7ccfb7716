/* test_csv: the RFC 4180 tokenizer (quoting, escapes, line ends, malformed records, limits),
 * rt_csv_last_boundary, and the cell writers (quoting, formula neutralisation). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "formats/csv.h"

typedef struct parsed {
    rt_status st;
    rt_csv_record rec;
    const char *why;
    uint32_t column;
    size_t consumed;
} parsed;

static rt_arena arena;

static void setup(void) { rt_arena_init(&arena, 4096); }
static void teardown(void) { rt_arena_free(&arena); }

TestSuite(csv, .init = setup, .fini = teardown);

/* Parse one record at the start of text. */
static parsed parse1(const char *text, size_t len)
{
    parsed r;
    memset(&r, 0, sizeof r);
    r.why = "";
    const char *p = text;
    r.st = rt_csv_parse(&p, text + len, &arena, &r.rec, &r.why, &r.column);
    r.consumed = (size_t)(p - text);
    return r;
}
#define PARSE(lit) parse1(lit, sizeof(lit) - 1)

static void field_is(const parsed *r, size_t i, const char *want)
{
    cr_assert_lt(i, r->rec.count, "field %zu missing", i);
    const rt_csv_field *f = &r->rec.fields[i];
    cr_assert_eq(f->len, strlen(want), "field %zu: '%.*s' != '%s'", i, (int)f->len, f->ptr, want);
    cr_assert(memcmp(f->ptr, want, f->len) == 0, "field %zu: '%.*s' != '%s'", i, (int)f->len,
              f->ptr, want);
}

/* ---- tokenizer: well-formed records ---- */

Test(csv, plain_fields)
{
    parsed r = PARSE("a,bc,def\nnext");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 3);
    field_is(&r, 0, "a");
    field_is(&r, 1, "bc");
    field_is(&r, 2, "def");
    cr_assert_eq(r.consumed, 9, "the line end is consumed, not the next record");
    cr_assert_eq(r.rec.newlines, 1);
    cr_assert_eq(r.rec.raw_len, 8);
    cr_assert(memcmp(r.rec.raw, "a,bc,def", 8) == 0);
}

Test(csv, quoted_fields_with_commas_and_escaped_quotes)
{
    static const char text[] = "a,\"b,c\",\"say \"\"hi\"\"\",\"\"\"\"\n";
    parsed r = PARSE(text);
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 4);
    field_is(&r, 0, "a");
    field_is(&r, 1, "b,c");
    field_is(&r, 2, "say \"hi\"");
    field_is(&r, 3, "\"");
    /* A quoted field without escapes points into the input; one with escapes is a copy. */
    cr_assert(r.rec.fields[1].ptr > text && r.rec.fields[1].ptr < text + sizeof text);
    cr_assert(r.rec.fields[2].ptr < text || r.rec.fields[2].ptr >= text + sizeof text);
    cr_assert_eq(r.consumed, sizeof text - 1);
}

Test(csv, crlf_line_ends)
{
    parsed r = PARSE("a,b\r\nc");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 2);
    field_is(&r, 1, "b");
    cr_assert_eq(r.rec.raw_len, 3, "the raw text excludes the CR");
    cr_assert_eq(r.consumed, 5);
    cr_assert_eq(r.rec.newlines, 1);

    r = PARSE("a,\"b\"\r\nc");
    cr_assert_eq(r.st, RT_OK);
    field_is(&r, 1, "b");
    cr_assert_eq(r.consumed, 7);

    /* A CR inside a quoted field is data. */
    r = PARSE("\"x\r\ny\"\r\n");
    cr_assert_eq(r.st, RT_OK);
    field_is(&r, 0, "x\r\ny");
    cr_assert_eq(r.rec.newlines, 2);
}

Test(csv, cr_before_the_end_of_input)
{
    /* The last record of a CRLF file cut after its CR: the CR is a line end, quoted or not. */
    parsed r = PARSE("a,b\r");
    cr_assert_eq(r.st, RT_OK);
    field_is(&r, 1, "b");
    r = PARSE("a,\"b\"\r");
    cr_assert_eq(r.st, RT_OK, "%s", r.why);
    field_is(&r, 1, "b");
    cr_assert_eq(r.consumed, 6);
    cr_assert_eq(r.rec.raw_len, 5);
}

Test(csv, quoted_field_spanning_lines)
{
    parsed r = PARSE("\"line 1\nline 2\n\",x\nnext\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 2);
    field_is(&r, 0, "line 1\nline 2\n");
    field_is(&r, 1, "x");
    cr_assert_eq(r.rec.newlines, 3, "two inside the quotes and the record's own line end");
    cr_assert_eq(r.consumed, 19);
}

Test(csv, empty_fields)
{
    parsed r = PARSE(",,\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 3);
    for (int i = 0; i < 3; i++) field_is(&r, (size_t)i, "");
    cr_assert_not(rt_csv_blank(&r.rec));

    r = PARSE("a,\"\",c\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 3);
    field_is(&r, 1, "");

    r = PARSE("\"\"\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 1);
    cr_assert_not(rt_csv_blank(&r.rec), "an empty quoted field is a value, not a blank line");
}

Test(csv, missing_trailing_field_and_no_final_line_end)
{
    parsed r = PARSE("a,b");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 2);
    cr_assert_eq(r.consumed, 3);
    cr_assert_eq(r.rec.newlines, 0);

    r = PARSE("a,b,\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 3, "a trailing comma is one more, empty, field");
    field_is(&r, 2, "");

    r = PARSE("a,\"b\"");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, 2);
    field_is(&r, 1, "b");
}

Test(csv, blank_lines)
{
    parsed r = PARSE("\nx\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert(rt_csv_blank(&r.rec));
    cr_assert_eq(r.consumed, 1);
    cr_assert_eq(r.rec.newlines, 1);

    r = PARSE("\r\nx\n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert(rt_csv_blank(&r.rec), "a CRLF blank line is blank too");
    cr_assert_eq(r.consumed, 2);

    r = PARSE(" \n");
    cr_assert_eq(r.st, RT_OK);
    cr_assert_not(rt_csv_blank(&r.rec), "a space is a value");
}

Test(csv, exactly_the_field_limit)
{
    char text[RT_CSV_FIELDS_MAX * 2 + 2];
    size_t n = 0;
    for (int i = 0; i < RT_CSV_FIELDS_MAX; i++) {
        text[n++] = (char)('a' + i % 26);
        text[n++] = i + 1 < RT_CSV_FIELDS_MAX ? ',' : '\n';
    }
    parsed r = parse1(text, n);
    cr_assert_eq(r.st, RT_OK);
    cr_assert_eq(r.rec.count, RT_CSV_FIELDS_MAX);
}

/* ---- tokenizer: malformed records ---- */

Test(csv, too_many_fields)
{
    char text[RT_CSV_FIELDS_MAX * 2 + 16];
    size_t n = 0;
    for (int i = 0; i <= RT_CSV_FIELDS_MAX; i++) {
        text[n++] = 'x';
        text[n++] = i < RT_CSV_FIELDS_MAX ? ',' : '\n';
    }
    memcpy(text + n, "ok\n", 3);
    parsed r = parse1(text, n + 3);
    cr_assert_eq(r.st, RT_ELIMIT);
    cr_assert_eq(r.column, RT_CSV_FIELDS_MAX + 1);
    cr_assert_str_eq(r.why, "too many fields");
    cr_assert_eq(r.consumed, n, "parsing goes on after the line");
}

Test(csv, unterminated_quote)
{
    parsed r = PARSE("a,\"bc\nd,e\n");
    cr_assert_eq(r.st, RT_EPARSE);
    cr_assert_str_eq(r.why, "unterminated quote");
    cr_assert_eq(r.column, 2);
    cr_assert_eq(r.consumed, 6, "skips to the end of the line so parsing can go on");
    cr_assert_eq(r.rec.raw_len, 5);
    cr_assert_eq(r.rec.newlines, 1);

    r = PARSE("\"a\"\"");
    cr_assert_eq(r.st, RT_EPARSE, "an escaped quote does not close the field");
    cr_assert_str_eq(r.why, "unterminated quote");
}

Test(csv, text_after_a_closing_quote)
{
    parsed r = PARSE("x,\"ab\"c,d\nnext\n");
    cr_assert_eq(r.st, RT_EPARSE);
    cr_assert_str_eq(r.why, "text after a closing quote");
    cr_assert_eq(r.column, 2);
    cr_assert_eq(r.consumed, 10);
    cr_assert_eq(r.rec.raw_len, 9);

    r = PARSE("\"ab\" \n");
    cr_assert_eq(r.st, RT_EPARSE, "even a space");
    cr_assert_eq(r.column, 1);
}

Test(csv, quote_inside_an_unquoted_field)
{
    parsed r = PARSE("a,b\"c\",d\n");
    cr_assert_eq(r.st, RT_EPARSE);
    cr_assert_str_eq(r.why, "quote inside an unquoted field");
    cr_assert_eq(r.column, 2);
    cr_assert_eq(r.consumed, 9);
}

Test(csv, parsing_resumes_after_a_malformed_record)
{
    const char text[] = "a\"b\n1,2\n";
    const char *p = text, *end = text + sizeof text - 1, *why;
    uint32_t col;
    rt_csv_record rec;
    cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &col), RT_EPARSE);
    cr_assert_eq(rt_csv_parse(&p, end, &arena, &rec, &why, &col), RT_OK);
    cr_assert_eq(rec.count, 2);
    cr_assert_eq(p, end);
}

/* ---- record boundaries for chunking ---- */

#define LB(lit) rt_csv_last_boundary(lit, sizeof(lit) - 1)

Test(csv, last_boundary)
{
    cr_assert_eq(LB("a,b\nc,d\n"), 8);
    cr_assert_eq(LB("a,b\nc,d"), 4);
    cr_assert_eq(LB("no line end"), 0);
    cr_assert_eq(LB(""), 0);
    /* A line end inside quotes is not a boundary. */
    cr_assert_eq(LB("\"x\ny\",1\nz"), 8);
    cr_assert_eq(LB("a\n\"x\ny"), 2);
    cr_assert_eq(LB("\"x\ny"), 0);
    /* Escaped quotes keep the parity even. */
    cr_assert_eq(LB("\"a\"\"b\"\nc"), 7);
    cr_assert_eq(LB("\"a\"\"\nb\"\n"), 8);
    cr_assert_eq(LB("\"a\"\"\nb"), 0);
}

Test(csv, last_boundary_follows_the_tokenizer_on_malformed_records)
{
    /* A stray quote in an unquoted field ends its record at the line end; it must not be
     * taken to open a quote, which would put a cut inside the next record's quoted field. */
    cr_assert_eq(LB("a\"b,c\n\"x\ny\",1\nz"), 14);
    cr_assert_eq(LB("a\"b,c\n\"x\ny"), 6);
    /* Text after a closing quote: the rest of the line is one malformed record. */
    cr_assert_eq(LB("\"a\"b\"\nx\n"), 8);
    cr_assert_eq(LB("\"a\" \"\n\"b\nc\"\n"), 12);
    /* A quote or a CR as the last byte could mean something else with more data. */
    cr_assert_eq(LB("a\n\"x\""), 2);
    cr_assert_eq(LB("a\n\"x\"\r"), 2);
    cr_assert_eq(LB("a\n\"x\"\r\nb"), 7);
    cr_assert_eq(LB("a\n\"x\"\"\n"), 2, "still inside the quotes after an escaped quote");
    cr_assert_eq(LB("a\n\"x\"\"\"\n"), 8, "x, an escaped quote, then the closing one");
    /* Past the field limit the tokenizer skips the line, quotes and all. */
    char text[RT_CSV_FIELDS_MAX + 16];
    size_t n = 0;
    for (int i = 0; i < RT_CSV_FIELDS_MAX; i++) text[n++] = ',';
    memcpy(text + n, "\"a\nb", 4);
    cr_assert_eq(rt_csv_last_boundary(text, n + 4), n + 3);
}

/* Every cut must be where the tokenizer ends a record, and the records before it must be the
 * same whether the tokenizer sees the rest or not. */
static void cut_agrees_with_the_tokenizer(const char *text, size_t len)
{
    size_t cut = rt_csv_last_boundary(text, len);
    const char *p = text, *end = text + len, *why;
    uint32_t col;
    rt_csv_record rec;
    size_t records = 0;
    while (p < text + cut) {
        rt_status st = rt_csv_parse(&p, end, &arena, &rec, &why, &col);
        cr_assert(st != RT_ENOMEM);
        records++;
    }
    cr_assert_eq(p, text + cut, "cut %zu is not a record end of '%.*s'", cut, (int)len, text);
    const char *q = text;
    for (size_t r = 0; r < records; r++) {
        rt_csv_record alone;
        rt_csv_parse(&q, text + cut, &arena, &alone, &why, &col);
    }
    cr_assert_eq(q, text + cut, "records differ once cut: '%.*s'", (int)len, text);
}

Test(csv, cuts_are_record_ends_for_every_prefix)
{
    static const char *const texts[] = {
        "a,b\n\"q\"\"x\",y\r\nc\"d\n\"m\nl\"\n\"a\"b\n,\n\n\"u\n",
        "\"x\ny\",\"\"\n\"\r\n\"\n\"z\" \nend",
        "x\"\n\"\"\"\n\"\n\",1\n\"a\"\r\"b\"\n",
    };
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
        for (size_t len = 0; len <= strlen(texts[t]); len++)
            cut_agrees_with_the_tokenizer(texts[t], len);
}

/* ---- writers ---- */

static const char *written(rt_buf *b)
{
    rt_buf_putc(b, '\0');
    b->len--;
    return b->data;
}

Test(csv, writer_quotes_only_when_needed)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_csv_put_text(&b, "plain", 5);
    rt_csv_sep(&b);
    rt_csv_put_text(&b, "a,b", 3);
    rt_csv_sep(&b);
    rt_csv_put_text(&b, "say \"hi\"", 8);
    rt_csv_sep(&b);
    rt_csv_put_text(&b, "two\nlines", 9);
    rt_csv_sep(&b);
    rt_csv_put_text(&b, "cr\rhere", 7);
    rt_csv_sep(&b);
    rt_csv_put_text(&b, "", 0);
    rt_csv_end(&b);
    cr_assert_str_eq(written(&b), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",\n");
    rt_buf_free(&b);
}

Test(csv, writer_neutralises_formulas)
{
    static const char *const in[] = {"=SUM(A1:A9)", "+33 1 23", "-5", "@cmd", "\tx", "\rx",
                                     "=\"a\""};
    static const char *const out[] = {"\"'=SUM(A1:A9)\"", "\"'+33 1 23\"", "\"'-5\"",
                                      "\"'@cmd\"",        "\"'\tx\"",      "\"'\rx\"",
                                      "\"'=\"\"a\"\"\""};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        rt_buf b;
        rt_buf_init(&b);
        rt_csv_put_text(&b, in[i], strlen(in[i]));
        cr_assert_str_eq(written(&b), out[i], "cell %zu", i);
        rt_buf_free(&b);
    }
    /* Only a leading character counts. */
    rt_buf b;
    rt_buf_init(&b);
    rt_csv_put_text(&b, "a=b-c", 5);
    cr_assert_str_eq(written(&b), "a=b-c");
    rt_buf_free(&b);
}

Test(csv, exact_writer_does_not_neutralise)
{
    static const char *const in[] = {"=SUM(A1)", "-5", "+1", "@x", "a,b", "q\"q"};
    static const char *const out[] = {"=SUM(A1)", "-5", "+1", "@x", "\"a,b\"", "\"q\"\"q\""};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        rt_buf b;
        rt_buf_init(&b);
        rt_csv_put_exact(&b, in[i], strlen(in[i]));
        cr_assert_str_eq(written(&b), out[i], "cell %zu", i);
        rt_buf_free(&b);
    }
    rt_buf b;
    rt_buf_init(&b);
    rt_csv_put_raw(&b, "12.50", 5);
    cr_assert_str_eq(written(&b), "12.50");
    rt_buf_free(&b);
}

Test(csv, written_cells_parse_back)
{
    /* Whatever the text, put_exact then parse gives it back; put_text gives it back with a
     * leading apostrophe exactly when it would start a formula. */
    static const char *const cells[] = {"", "x", "a,b", "\"", "\"\"", "l1\nl2", "-1", "=1+1",
                                        "tab\there", " lead", "end\r"};
    for (int neutral = 0; neutral <= 1; neutral++) {
        rt_buf b;
        rt_buf_init(&b);
        size_t n = sizeof cells / sizeof *cells;
        for (size_t i = 0; i < n; i++) {
            if (i) rt_csv_sep(&b);
            if (neutral)
                rt_csv_put_text(&b, cells[i], strlen(cells[i]));
            else
                rt_csv_put_exact(&b, cells[i], strlen(cells[i]));
        }
        rt_csv_end(&b);
        parsed r = parse1(b.data, b.len);
        cr_assert_eq(r.st, RT_OK, "%s", r.why);
        cr_assert_eq(r.rec.count, n);
        cr_assert_eq(r.consumed, b.len);
        for (size_t i = 0; i < n; i++) {
            char want[64];
            int formula = neutral && strchr("=+-@\t\r", cells[i][0]) && cells[i][0];
            snprintf(want, sizeof want, "%s%s", formula ? "'" : "", cells[i]);
            field_is(&r, i, want);
        }
        rt_buf_free(&b);
    }
}

Test(csv, number_cells)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_csv_put_u64(&b, 1234567890123ull);
    rt_csv_sep(&b);
    rt_csv_put_decimal(&b, -1500000000, 9, -1, 2); /* nanos shown with at least 2 decimals */
    rt_csv_sep(&b);
    rt_csv_put_decimal(&b, 123456789, 9, -1, 0);
    rt_csv_sep(&b);
    rt_csv_put_decimal(&b, 30, 0, 0, 0);
    rt_csv_sep(&b);
    rt_csv_put_time(&b, INT64_C(1791209002));
    rt_csv_end(&b);
    const char *want = "1234567890123,-1.50,0.123456789,30,2026-10-05T14:03:22Z\n";
    cr_assert_eq(b.len, strlen(want));
    cr_assert(memcmp(b.data, want, b.len) == 0, "%.*s", (int)b.len, b.data);
    rt_buf_free(&b);
}

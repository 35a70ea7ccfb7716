/* test_markup: XML/HTML text escaping: the five markup characters, control characters,
 * UTF-8 kept when valid and replaced when not, long plain runs, UTF-8 sequence lengths, and
 * the block-wise scan against the rules applied a byte at a time. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "engine/buf.h"
#include "formats/markup.h"

static char *esc(const char *s, size_t len)
{
    static char out[4096];
    rt_buf b;
    rt_buf_init(&b);
    rt_markup_text(&b, s, len);
    cr_assert_lt(b.len, sizeof out);
    if (b.len) memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    rt_buf_free(&b);
    return out;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

Test(markup, the_five_markup_characters)
{
    cr_assert_str_eq(ESC("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    cr_assert_str_eq(ESC("&&"), "&amp;&amp;");
    cr_assert_str_eq(ESC("<"), "&lt;");
    cr_assert_str_eq(ESC(""), "");
    cr_assert_str_eq(ESC("plain text, 0-9 and ;:=?@[]{}|~"), "plain text, 0-9 and ;:=?@[]{}|~");
}

Test(markup, control_characters_become_spaces_but_tab_and_newlines_stay)
{
    cr_assert_str_eq(ESC("a\tb\nc\rd"), "a\tb\nc\rd");
    cr_assert_str_eq(ESC("a\x01" "b\x1f" "c\x7f" "d"), "a b c d");
    cr_assert_str_eq(esc("a\0b", 3), "a b", "a NUL inside the text");
}

Test(markup, utf8_is_kept_when_valid_and_replaced_when_not)
{
    cr_assert_str_eq(ESC("Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e"), "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e");
    cr_assert_str_eq(ESC("a\xff" "b"), "a\xef\xbf\xbd" "b", "a byte that is never UTF-8");
    cr_assert_str_eq(ESC("a\xc3"), "a\xef\xbf\xbd", "a sequence cut at the end");
    cr_assert_str_eq(ESC("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd", "an overlong form: each byte");
    cr_assert_str_eq(ESC("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a surrogate");
}

Test(markup, long_runs_and_escapes_at_both_ends)
{
    char in[1200], want[1300];
    memset(in, 'x', sizeof in);
    in[0] = '<';
    in[sizeof in - 1] = '&';
    memcpy(want, "&lt;", 4);
    memset(want + 4, 'x', sizeof in - 2);
    memcpy(want + 4 + sizeof in - 2, "&amp;", 6);
    cr_assert_str_eq(esc(in, sizeof in), want);
}

Test(markup, utf8_sequence_lengths)
{
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"a", 1), 1);
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"\xf0\x9f\x93\x9e", 4), 4);
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0, "beyond U+10FFFF");
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"\x80", 1), 0, "a continuation byte");
    cr_assert_eq(rt_utf8_seq_len((const unsigned char *)"", 0), 0);
}

Test(markup, cstr_and_null)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_markup_cstr(&b, NULL);
    cr_assert_eq(b.len, 0);
    rt_markup_cstr(&b, "R&D");
    cr_assert_eq(b.len, 7);
    cr_assert_eq(memcmp(b.data, "R&amp;D", 7), 0);
    rt_buf_free(&b);
}

/* The escaping written out byte by byte, as the rules in markup.h say, to check the block-wise
 * scan against. */
static void reference(rt_buf *b, const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t n = rt_utf8_seq_len(s + i, len - i);
            if (n == 0) {
                rt_buf_puts(b, "\xef\xbf\xbd");
                i++;
            } else {
                rt_buf_append(b, s + i, n);
                i += n;
            }
            continue;
        }
        switch (c) {
        case '&': rt_buf_puts(b, "&amp;"); break;
        case '<': rt_buf_puts(b, "&lt;"); break;
        case '>': rt_buf_puts(b, "&gt;"); break;
        case '"': rt_buf_puts(b, "&quot;"); break;
        case '\'': rt_buf_puts(b, "&#39;"); break;
        case '\t':
        case '\n':
        case '\r': rt_buf_putc(b, (char)c); break;
        default: rt_buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
        i++;
    }
}

Test(markup, block_scan_equals_the_byte_rules_at_every_length_and_offset)
{
    /* Mostly plain text with, at a few densities, every byte value that is not: the specials
     * land at every position of a 16-byte block, in runs and at the ends. */
    unsigned char text[300];
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (unsigned density = 1; density <= 64; density *= 4) {
        for (unsigned round = 0; round < 40; round++) {
            for (size_t i = 0; i < sizeof text; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                text[i] = (x >> 32) % 64 < density ? (unsigned char)(x >> 8)
                                                    : (unsigned char)('a' + (x >> 16) % 26);
            }
            for (size_t off = 0; off < 17; off++) {
                size_t len = (x >> 40) % (sizeof text - off);
                rt_buf got, want;
                rt_buf_init(&got);
                rt_buf_init(&want);
                rt_markup_text(&got, (const char *)text + off, len);
                reference(&want, text + off, len);
                cr_assert_eq(got.len, want.len, "density %u offset %zu length %zu", density, off,
                             len);
                cr_assert(got.len == 0 || memcmp(got.data, want.data, got.len) == 0);
                rt_buf_free(&got);
                rt_buf_free(&want);
            }
        }
    }
}

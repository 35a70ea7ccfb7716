/* test_markup: XML/HTML text escaping: the five markup characters, control characters,
 * UTF-8 kept when valid and replaced when not, long plain runs, UTF-8 sequence lengths. */
#include <criterion/criterion.h>
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

/* test_buf: the growable buffer (growth, failure latch, reset) and its number appenders,
 * checked against printf; text joins cut as snprintf cuts. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/buf.h"

static void expect(const rt_buf *b, const char *text)
{
    cr_assert_eq(b->len, strlen(text), "length %zu, expected %zu (%s)", b->len, strlen(text), text);
    cr_assert(memcmp(b->data, text, b->len) == 0, "got %.*s, expected %s", (int)b->len, b->data,
              text);
}

Test(buf, appends_grow_the_buffer)
{
    rt_buf b;
    rt_buf_init(&b);
    char big[5000];
    memset(big, 'x', sizeof big);
    rt_buf_puts(&b, "ab");
    rt_buf_putc(&b, 'c');
    rt_buf_append(&b, big, sizeof big);
    cr_assert_eq(b.len, 3 + sizeof big);
    cr_assert_geq(b.cap, b.len);
    cr_assert(memcmp(b.data, "abc", 3) == 0);
    cr_assert_eq(b.data[b.len - 1], 'x');
    cr_assert_eq(rt_buf_status(&b), RT_OK);
    rt_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_geq(b.cap, 3 + sizeof big, "reset keeps the memory");
    rt_buf_free(&b);
    cr_assert_null(b.data);
}

Test(buf, a_failed_buffer_ignores_writes_until_reset)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_buf_puts(&b, "kept");
    cr_assert_not(rt_buf_reserve(&b, SIZE_MAX - 8), "an impossible size fails");
    cr_assert_eq(rt_buf_status(&b), RT_ENOMEM);
    rt_buf_puts(&b, "lost");
    rt_buf_put_u64(&b, 42);
    rt_buf_printf(&b, "%d", 7);
    cr_assert_eq(b.len, 4);
    rt_buf_reset(&b);
    rt_buf_puts(&b, "ok");
    expect(&b, "ok");
    rt_buf_free(&b);
}

Test(buf, numbers_match_printf)
{
    const uint64_t u[] = {0, 1, 9, 10, 99, 100, 4294967295u, 4294967296u, UINT64_MAX};
    const int64_t s[] = {0, -1, 1, -9, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    rt_buf b;
    rt_buf_init(&b);
    char want[32];
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        rt_buf_reset(&b);
        rt_buf_put_u64(&b, u[i]);
        snprintf(want, sizeof want, "%" PRIu64, u[i]);
        expect(&b, want);
        char text[RT_U64_TEXT_MAX];
        cr_assert_eq(rt_u64_text(u[i], text), strlen(want));
        cr_assert_str_eq(text, want);
    }
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        rt_buf_reset(&b);
        rt_buf_put_i64(&b, s[i]);
        snprintf(want, sizeof want, "%" PRId64, s[i]);
        expect(&b, want);
        char text[RT_I64_TEXT_MAX];
        cr_assert_eq(rt_i64_text(s[i], text), strlen(want));
        cr_assert_str_eq(text, want);
    }
    rt_buf_free(&b);
}

Test(buf, printf_longer_than_the_room_there_is)
{
    rt_buf b;
    rt_buf_init(&b);
    char long_text[1000];
    memset(long_text, 'y', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    rt_buf_printf(&b, "<%s>", "a");
    rt_buf_printf(&b, "[%s]", long_text);
    cr_assert_eq(b.len, 3 + 2 + 999);
    cr_assert(memcmp(b.data, "<a>[y", 5) == 0);
    cr_assert_eq(b.data[b.len - 1], ']');
    rt_buf_free(&b);
}

Test(buf, text_join_cuts_like_snprintf)
{
    char b[8], s[8];
    RT_TEXT_JOIN(b, sizeof b, "ab", " ", "cd");
    cr_assert_str_eq(b, "ab cd");
    /* Cut to fit with its terminator, as snprintf cuts the same text. */
    const char *what = b[0] == 'a' ? "Invoice" : "Credit note", *number = "INV-1";
    RT_TEXT_JOIN(b, sizeof b, what, " ", number);
    size_t cap = sizeof s;
    int w = snprintf(s, cap, "%s", what); /* "Invoice" fills the 8 bytes with its terminator */
    cr_assert_eq(w, 7);
    cr_assert_str_eq(b, s);
    cr_assert_str_eq(b, "Invoice");
    RT_TEXT_JOIN(b, sizeof b, "ab", " ", number);
    cr_assert_str_eq(b, "ab INV-");
    RT_TEXT_JOIN(b, sizeof b, "", "", "");
    cr_assert_str_eq(b, "");
    RT_TEXT_JOIN(b, 1, "x");
    cr_assert_str_eq(b, "");
}

Test(buf, a_framed_block_reads_back_and_a_short_one_is_refused)
{
    rt_buf b, got;
    rt_buf_init(&b);
    rt_buf_init(&got);
    uint64_t head[2] = {7, 5};
    rt_buf_put_framed(&b, head, 2, "hello");
    uint64_t zero[2] = {9, 0};
    rt_buf_put_framed(&b, zero, 2, NULL);
    size_t at = 0;
    uint64_t h[2];
    cr_assert(rt_buf_take_framed(b.data, b.len, &at, h, 2, &got));
    cr_assert_eq(h[0], 7);
    cr_assert_eq(got.len, 5);
    cr_assert_eq(memcmp(got.data, "hello", 5), 0);
    cr_assert(rt_buf_take_framed(b.data, b.len, &at, h, 2, &got));
    cr_assert_eq(h[0], 9);
    cr_assert_eq(got.len, 0);
    cr_assert_eq(at, b.len);
    /* A block cut short: its head, or its bytes. */
    at = 0;
    cr_assert_not(rt_buf_take_framed(b.data, 10, &at, h, 2, &got));
    at = 0;
    cr_assert_not(rt_buf_take_framed(b.data, 2 * sizeof(uint64_t) + 4, &at, h, 2, &got));
    cr_assert_eq(at, 0);
    /* Peeked: the same block, its bytes where they are. */
    const char *bytes = NULL;
    cr_assert(rt_buf_peek_framed(b.data, b.len, &at, h, 2, &bytes));
    cr_assert_eq(h[1], 5);
    cr_assert_eq(bytes, b.data + 2 * sizeof(uint64_t));
    cr_assert_eq(at, 2 * sizeof(uint64_t) + 5);
    cr_assert_not(rt_buf_peek_framed(b.data, b.len - 1, &at, h, 2, &bytes));
    cr_assert_eq(at, 2 * sizeof(uint64_t) + 5);
    rt_buf_free(&b);
    rt_buf_free(&got);
}

/* markup: XML/HTML text escaping. */
#include "formats/markup.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t rt_utf8_seq_len(const unsigned char *s, size_t len)
{
    if (len == 0) return 0;
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0; /* a continuation byte, an overlong lead (C0, C1) or beyond F4 */
    }
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    /* Overlong three- and four-byte forms, UTF-16 surrogates, beyond Unicode. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    if (cp > 0x10ffff) return 0;
    return n;
}

/* 1 for the bytes copied as they are: printable ASCII except & < > " ', and tab, LF, CR.
 * Text is mostly such bytes, so runs of them are skipped by a table lookup a byte. */
static const unsigned char plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xa0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xb0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xc0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xd0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xe0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xf0 */
};

/* The first byte at or after i that is not plain (len when none). Documents escape every name,
 * street and description they show, a million invoices' worth per run, so whole 16-byte blocks
 * are checked at once where SSE2 is there: a signed compare below 0x20 flags the C0 controls
 * and every byte from 0x80, and equality flags & < > " ' and DEL. A flagged block is left to
 * the table from its first flagged byte, which is plain when it is a tab, LF or CR. */
static size_t skip_plain(const unsigned char *p, size_t i, size_t len)
{
#if defined(__SSE2__)
    const __m128i below = _mm_set1_epi8(0x20), amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'),
                  gt = _mm_set1_epi8('>'), quot = _mm_set1_epi8('"'),
                  apos = _mm_set1_epi8('\''), del = _mm_set1_epi8(0x7f);
    while (len - i >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i m = _mm_or_si128(
            _mm_or_si128(_mm_cmplt_epi8(x, below),
                         _mm_or_si128(_mm_cmpeq_epi8(x, amp), _mm_cmpeq_epi8(x, lt))),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, gt), _mm_cmpeq_epi8(x, quot)),
                         _mm_or_si128(_mm_cmpeq_epi8(x, apos), _mm_cmpeq_epi8(x, del))));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask == 0) {
            i += 16;
            continue;
        }
        i += (size_t)__builtin_ctz(mask);
        if (!plain_byte[p[i]]) return i;
        i++; /* a tab, LF or CR */
    }
#endif
    while (i < len && plain_byte[p[i]]) i++;
    return i;
}

void rt_markup_text(rt_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    for (;;) {
        i = skip_plain(p, i, len);
        if (i == len) break;
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t step = 1;
        if (c >= 0x80) {
            step = rt_utf8_seq_len(p + i, len - i);
            if (step == 0) {
                rep = "\xef\xbf\xbd"; /* U+FFFD REPLACEMENT CHARACTER */
                step = 1;
            }
        } else if (c == '&') {
            rep = "&amp;";
        } else if (c == '<') {
            rep = "&lt;";
        } else if (c == '>') {
            rep = "&gt;";
        } else if (c == '"') {
            rep = "&quot;";
        } else if (c == '\'') {
            rep = "&#39;";
        } else {
            rep = " "; /* other control characters (C0 but tab, LF, CR; DEL) */
        }
        if (rep) {
            rt_buf_append(b, s + run, i - run);
            rt_buf_puts(b, rep);
            run = i + step;
        }
        i += step;
    }
    rt_buf_append(b, s + run, len - run);
}

void rt_markup_cstr(rt_buf *b, const char *s)
{
    if (s) rt_markup_text(b, s, strlen(s));
}

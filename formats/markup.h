/* markup: text safely placed into XML and HTML documents.
 *
 * Owns the escaping every markup writer in ratel shares (UBL invoices, HTML invoices): the
 * five XML special characters become entities, bytes that are not well-formed UTF-8 become
 * U+FFFD, and control characters that XML 1.0 forbids (all below 0x20 except tab, LF and CR,
 * plus DEL) become a space, so whatever a price book holds the document stays well-formed.
 * It does not know any document's structure. */
#ifndef RT_MARKUP_H
#define RT_MARKUP_H

#include <stddef.h>

#include "engine/buf.h"

/* Append s[0..len) escaped for element content or a double- or single-quoted attribute. */
void rt_markup_text(rt_buf *b, const char *s, size_t len);
/* The same for a NUL-terminated string; NULL appends nothing. */
void rt_markup_cstr(rt_buf *b, const char *s);
/* Length of the well-formed UTF-8 sequence at s[0..len), or 0 when it is not one (overlong
 * forms, surrogates and code points above U+10FFFF are refused). */
size_t rt_utf8_seq_len(const unsigned char *s, size_t len);

#endif

/* fuzz_markup: whatever bytes a price book holds, escaped text is well-formed UTF-8 with no
 * markup character left raw and no control character XML 1.0 forbids. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "formats/markup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_markup_text(&b, (const char *)data, size);
    if (b.failed) abort();
    const unsigned char *p = (const unsigned char *)b.data;
    for (size_t i = 0; i < b.len;) {
        unsigned char c = p[i];
        if (c == '<' || c == '>' || c == '"' || c == '\'') abort();
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) abort();
        size_t n = rt_utf8_seq_len(p + i, b.len - i);
        if (n == 0) abort();
        i += n;
    }
    rt_buf_free(&b);
    return 0;
}

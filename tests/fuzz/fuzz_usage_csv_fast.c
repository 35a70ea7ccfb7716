/* fuzz_usage_csv_fast: usage CSV records from any bytes, checked against the general tokenizer:
 * the reader's fast path for plain one-line records must split, time and count every record
 * exactly as rt_csv_parse, rt_time_parse and rt_decimal_parse_any do. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/usage_csv.h"

/* The reference: records as rt_csv_parse sees them, blank lines skipped. */
static size_t reference(const char *data, size_t size, rt_arena *a, rt_csv_record *out,
                        size_t max)
{
    const char *p = data, *end = data + size;
    size_t n = 0;
    while (p < end && n < max) {
        const char *why;
        uint32_t column;
        rt_status st = rt_csv_parse(&p, end, a, &out[n], &why, &column);
        if (st == RT_ENOMEM) abort();
        if (st == RT_OK && rt_csv_blank(&out[n])) continue;
        if (st != RT_OK) out[n].count = 0; /* malformed */
        n++;
    }
    return p < end ? (size_t)-1 : n;
}

static int same(const rt_csv_field *f, const char *s, size_t len)
{
    return f->len == len && memcmp(f->ptr, s, len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX = 4096 };
    static rt_csv_record ref[MAX];
    const char *text = (const char *)data;
    rt_event_batch b;
    rt_event_batch_init(&b);
    if (rt_usage_csv_parse_buffer(text, size, &b) != RT_OK) abort();
    if (b.count + b.reject_count != b.records) abort();
    rt_arena a;
    rt_arena_init(&a, 0);
    size_t n = reference(text, size, &a, ref, MAX);
    if (n != (size_t)-1) {
        if (n != b.records) abort();
        for (size_t i = 0; i < b.count; i++) {
            const rt_event *e = &b.events[i];
            const rt_csv_record *r = &ref[e->rec_no];
            if (r->count < 5 || !same(&r->fields[0], e->event_id, e->event_id_len) ||
                !same(&r->fields[1], e->account, e->account_len) ||
                !same(&r->fields[2], e->product, e->product_len))
                abort();
            rt_time_s t;
            int64_t m;
            unsigned scale;
            if (rt_time_parse(r->fields[3].ptr, r->fields[3].len, &t) != RT_OK || t != e->start_s)
                abort();
            if (rt_decimal_parse_any(r->fields[4].ptr, r->fields[4].len, 6, &m, &scale) !=
                    RT_OK ||
                m != e->qty_mantissa || scale != e->qty_scale)
                abort();
        }
    }
    rt_arena_free(&a);
    rt_event_batch_free(&b);
    return 0;
}

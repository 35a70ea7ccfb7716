/* fuzz_usage_csv: the usage CSV record parser (rt_usage_csv_parse_buffer) and the chunk cutter.
 *
 * Invariants (abort on violation): every record becomes exactly one event or reject; events
 * respect the field limits and carry instants in the supported range; and cutting the input
 * where rt_csv_last_boundary says gives the same records, in the same order, as parsing it
 * whole (the property that makes a run independent of its chunk size). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "formats/csv.h"
#include "formats/usage_csv.h"

#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #x), abort()))

static void put(rt_buf *b, const char *p, size_t n)
{
    rt_buf_printf(b, "%zu:", n);
    rt_buf_append(b, p, n);
    rt_buf_putc(b, '|');
}

/* A canonical description of a batch, record by record, with lines shifted by `line0`. */
static void describe(const rt_event_batch *b, uint32_t line0, rt_buf *out)
{
    size_t i = 0, k = 0;
    while (i < b->count || k < b->reject_count) {
        int ev = k == b->reject_count || (i < b->count && b->events[i].rec_no < b->rejects[k].rec_no);
        if (ev) {
            const rt_event *e = &b->events[i++];
            rt_buf_printf(out, "E%u ", e->line_rel + line0);
            put(out, e->event_id, e->event_id_len);
            put(out, e->account, e->account_len);
            put(out, e->product, e->product_len);
            put(out, e->called, e->called_len);
            put(out, e->raw, e->raw_len);
            rt_buf_printf(out, "%lld %lld %u\n", (long long)e->start_s, (long long)e->qty_mantissa,
                          e->qty_scale);
        } else {
            const rt_reject *r = &b->rejects[k++];
            rt_buf_printf(out, "R%u %u %s %s ", r->line_rel + line0, r->reason, r->field,
                          r->message);
            put(out, r->raw, r->raw_len);
            rt_buf_putc(out, '\n');
        }
    }
}

static void check_batch(const rt_event_batch *b)
{
    CHECK(b->records == b->count + b->reject_count);
    uint32_t prev_rec = 0, prev_line = 0;
    for (size_t i = 0; i < b->count; i++) {
        const rt_event *e = &b->events[i];
        CHECK(e->event_id_len > 0 && e->event_id_len <= RT_EVENT_ID_LEN_MAX);
        CHECK(e->account_len > 0 && e->account_len <= 64);
        CHECK(e->product_len > 0 && e->product_len <= 64);
        CHECK(e->called_len <= RT_NUMBER_LEN_MAX);
        CHECK(e->qty_scale <= 6);
        CHECK(e->start_s >= INT64_C(-62135596800) && e->start_s <= INT64_C(253402300799));
        CHECK(e->rec_no < b->records);
        CHECK(i == 0 || (e->rec_no > prev_rec && e->line_rel >= prev_line));
        prev_rec = e->rec_no;
        prev_line = e->line_rel;
    }
    for (size_t k = 0; k < b->reject_count; k++) {
        CHECK(b->rejects[k].reason > 0 && b->rejects[k].reason < RT_REJ_REASON_COUNT_);
        CHECK(b->rejects[k].rec_no < b->records);
        CHECK(k == 0 || b->rejects[k].rec_no > b->rejects[k - 1].rec_no);
    }
}

static uint32_t newlines(const char *p, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) c += p[i] == '\n';
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    rt_event_batch whole, head, tail;
    rt_event_batch_init(&whole);
    rt_event_batch_init(&head);
    rt_event_batch_init(&tail);
    CHECK(rt_usage_csv_parse_buffer(text, size, &whole) == RT_OK);
    check_batch(&whole);

    size_t cut = rt_csv_last_boundary(text, size);
    CHECK(cut <= size);
    CHECK(cut == 0 || text[cut - 1] == '\n');
    CHECK(rt_usage_csv_parse_buffer(text, cut, &head) == RT_OK);
    CHECK(rt_usage_csv_parse_buffer(text + cut, size - cut, &tail) == RT_OK);
    check_batch(&head);
    check_batch(&tail);
    CHECK(head.records + tail.records == whole.records);

    rt_buf a, b;
    rt_buf_init(&a);
    rt_buf_init(&b);
    describe(&whole, 0, &a);
    describe(&head, 0, &b);
    describe(&tail, newlines(text, cut), &b);
    CHECK(!a.failed && !b.failed);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    rt_buf_free(&a);
    rt_buf_free(&b);
    rt_event_batch_free(&whole);
    rt_event_batch_free(&head);
    rt_event_batch_free(&tail);
    return 0;
}

/* usage: event batches and reject reason codes. */
#include "engine/usage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_codes[RT_REJ_REASON_COUNT_] = {
    [RT_REJ_NONE] = "NONE",
    [RT_REJ_MALFORMED] = "MALFORMED",
    [RT_REJ_MISSING_FIELD] = "MISSING_FIELD",
    [RT_REJ_FIELD_TOO_LONG] = "FIELD_TOO_LONG",
    [RT_REJ_BAD_TIME] = "BAD_TIME",
    [RT_REJ_BAD_QUANTITY] = "BAD_QUANTITY",
    [RT_REJ_NEGATIVE_QUANTITY] = "NEGATIVE_QUANTITY",
    [RT_REJ_ABSURD_QUANTITY] = "ABSURD_QUANTITY",
    [RT_REJ_UNKNOWN_ACCOUNT] = "UNKNOWN_ACCOUNT",
    [RT_REJ_UNKNOWN_PRODUCT] = "UNKNOWN_PRODUCT",
    [RT_REJ_NO_PLAN] = "NO_PLAN",
    [RT_REJ_NO_CHARGE] = "NO_CHARGE",
    [RT_REJ_AFTER_PERIOD] = "AFTER_PERIOD",
    [RT_REJ_LATE] = "LATE",
    [RT_REJ_OVERFLOW] = "OVERFLOW",
    [RT_REJ_BAD_NUMBER] = "BAD_NUMBER",
    [RT_REJ_BAD_ORDER] = "BAD_ORDER",
    [RT_REJ_UNKNOWN_DESTINATION] = "UNKNOWN_DESTINATION",
    [RT_REJ_NOT_ANSWERED] = "NOT_ANSWERED",
};

const char *rt_reject_reason_code(rt_reject_reason r)
{
    RT_ASSERT((unsigned)r < RT_REJ_REASON_COUNT_);
    return reason_codes[r];
}

void rt_event_batch_init(rt_event_batch *b)
{
    memset(b, 0, sizeof *b);
    rt_arena_init(&b->arena, 64 * 1024);
}

void rt_event_batch_free(rt_event_batch *b)
{
    free(b->events);
    free(b->rejects);
    rt_arena_free(&b->arena);
    memset(b, 0, sizeof *b);
}

void rt_event_batch_clear(rt_event_batch *b)
{
    b->count = 0;
    b->reject_count = 0;
    b->records = 0;
    b->decompress_ns = 0;
    rt_arena_reset(&b->arena);
}

rt_event *rt_event_batch_push(rt_event_batch *b)
{
    if (b->count == b->capacity) {
        size_t cap = b->capacity ? b->capacity * 2 : 4096;
        rt_event *e = realloc(b->events, cap * sizeof *e);
        if (!e) return NULL;
        b->events = e;
        b->capacity = cap;
    }
    rt_event *ev = &b->events[b->count++];
    memset(ev, 0, sizeof *ev);
    return ev;
}

rt_reject *rt_event_batch_reject(rt_event_batch *b, rt_reject_reason reason, uint32_t rec_no,
                                 uint32_t line_rel, const char *raw, size_t raw_len,
                                 const char *field, const char *fmt, ...)
{
    if (b->reject_count == b->reject_capacity) {
        size_t cap = b->reject_capacity ? b->reject_capacity * 2 : 64;
        rt_reject *r = realloc(b->rejects, cap * sizeof *r);
        if (!r) return NULL;
        b->rejects = r;
        b->reject_capacity = cap;
    }
    rt_reject *r = &b->rejects[b->reject_count++];
    r->reason = reason;
    r->rec_no = rec_no;
    r->line_rel = line_rel;
    r->raw = raw;
    r->raw_len = (uint32_t)raw_len;
    r->field = field ? field : "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return r;
}

/* usage_asterisk: Asterisk and FreeSWITCH CDR mapping. */
#include "formats/usage_asterisk.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "engine/money.h"
#include "formats/usage_csv.h"

/* Where each needed value sits in one flavour's record (-1: absent). */
typedef struct cdr_layout {
    const char *name;
    size_t fields_min, fields_max;
    int account, called, context, answer, billsec, disposition, id;
    const char *account_name, *context_name, *answer_name, *disposition_name, *id_name;
} cdr_layout;

static const cdr_layout layouts[] = {
    [RT_CDR_ASTERISK] = {"Asterisk cdr-csv", 16, 18, 0, 2, 3, 10, 13, 14, 16, "accountcode",
                         "dcontext", "answer", "disposition", "uniqueid"},
    [RT_CDR_FREESWITCH] = {"FreeSWITCH cdr_csv", 15, 15, 12, 2, 3, 5, 8, -1, 10, "accountcode",
                           "context", "answer_stamp", "answer_stamp", "uuid"},
};

void rt_cdr_opts_init(rt_cdr_opts *o, rt_cdr_flavor flavor)
{
    memset(o, 0, sizeof *o);
    o->flavor = flavor;
}

rt_status rt_cdr_opts_set_product(rt_cdr_opts *o, const char *product)
{
    size_t n = strlen(product);
    if (n == 0 || n > RT_CDR_PRODUCT_MAX) return RT_EINVAL;
    memcpy(o->product, product, n + 1);
    return RT_OK;
}

static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

rt_status rt_cdr_parse_utc_offset(const char *s, int32_t *offset_s)
{
    if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0) {
        *offset_s = 0;
        return RT_OK;
    }
    size_t n = strlen(s);
    if ((n != 3 && n != 5 && n != 6) || (s[0] != '+' && s[0] != '-')) return RT_EPARSE;
    int h = two_digits(s + 1), m = 0;
    if (n == 6 && s[3] != ':') return RT_EPARSE;
    if (n > 3) m = two_digits(s + n - 2);
    if (h < 0 || m < 0 || m > 59 || h * 3600 + m * 60 > RT_CDR_UTC_OFFSET_MAX_S) return RT_EPARSE;
    *offset_s = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return RT_OK;
}

/* ---- mapping one record ---- */

#define REJECT(reason, field, ...)                                                            \
    (rt_event_batch_reject(b, reason, rec_no, line_rel, rec->raw, rec->raw_len, field,        \
                           __VA_ARGS__) != NULL)

static bool is(const rt_csv_field *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->ptr, s, f->len) == 0;
}

/* The event id: FreeSWITCH's uuid as is; Asterisk's uniqueid names the calling channel and
 * can repeat over several CDRs of one call, so the row's hash is appended; without an id
 * column, the row's hash alone (a row delivered twice is then a duplicate, as it should). */
static bool event_id(const cdr_layout *L, const rt_csv_record *rec, rt_event_batch *b,
                     rt_event *ev)
{
    uint64_t h = XXH3_64bits(rec->raw, rec->raw_len);
    const rt_csv_field *id =
        L->id >= 0 && (size_t)L->id < rec->count ? &rec->fields[L->id] : NULL;
    char tmp[RT_EVENT_ID_LEN_MAX + 1];
    int n;
    RT_ASSERT(!id || id->len <= RT_EVENT_ID_LEN_MAX - 9 || L->disposition < 0);
    if (id && id->len > 0 && L->disposition < 0) {
        ev->event_id = id->ptr;
        ev->event_id_len = (uint16_t)id->len;
        return true;
    }
    if (id && id->len > 0)
        n = snprintf(tmp, sizeof tmp, "%.*s#%08x", (int)id->len, id->ptr, (unsigned)(h >> 32));
    else
        n = snprintf(tmp, sizeof tmp, "cdr-%016llx", (unsigned long long)h);
    char *copy = rt_arena_strndup(&b->arena, tmp, (size_t)n);
    if (!copy) return false;
    ev->event_id = copy;
    ev->event_id_len = (uint16_t)n;
    return true;
}

static bool map_cdr(const void *vctx, const rt_csv_record *rec, uint32_t rec_no,
                    uint32_t line_rel, rt_event_batch *b)
{
    const rt_cdr_opts *o = vctx; /* events of a fixed product point into it */
    const cdr_layout *L = &layouts[o->flavor];
    if (rec->count < L->fields_min || rec->count > L->fields_max)
        return REJECT(RT_REJ_MALFORMED, "", "a %s record has %zu to %zu columns, not %zu",
                      L->name, L->fields_min, L->fields_max, rec->count);
    const rt_csv_field *f = rec->fields;
    bool answered = L->disposition >= 0 ? is(&f[L->disposition], "ANSWERED")
                                        : f[L->answer].len > 0;
    if (!answered) {
        const rt_csv_field *why = &f[L->disposition >= 0 ? L->disposition : L->answer];
        return REJECT(RT_REJ_NOT_ANSWERED, L->disposition_name,
                      "call not answered (%.*s): nothing to bill", (int)why->len, why->ptr);
    }
    const rt_csv_field *acc = &f[L->account], *ctx = &f[L->context], *dst = &f[L->called];
    const char *an = L->account_name, *cn = L->context_name;
    if (acc->len == 0) return REJECT(RT_REJ_MISSING_FIELD, an, "%s is empty", an);
    if (acc->len > 64) return REJECT(RT_REJ_FIELD_TOO_LONG, an, "%s is over 64 bytes", an);
    if (!o->product[0] && ctx->len == 0)
        return REJECT(RT_REJ_MISSING_FIELD, cn, "%s (the product) is empty", cn);
    if (!o->product[0] && ctx->len > 64)
        return REJECT(RT_REJ_FIELD_TOO_LONG, cn, "%s is over 64 bytes", cn);
    if (dst->len > RT_NUMBER_LEN_MAX)
        return REJECT(RT_REJ_FIELD_TOO_LONG, "dst", "dst is over %d bytes", RT_NUMBER_LEN_MAX);
    /* The id is the uniqueid (FreeSWITCH) or the uniqueid plus '#' and 8 hex digits. */
    size_t id_max = L->disposition < 0 ? RT_EVENT_ID_LEN_MAX : RT_EVENT_ID_LEN_MAX - 9;
    if (L->id >= 0 && (size_t)L->id < rec->count && f[L->id].len > id_max)
        return REJECT(RT_REJ_FIELD_TOO_LONG, L->id_name, "%s is over %zu bytes", L->id_name,
                      id_max);
    rt_time_s t;
    if (rt_time_parse(f[L->answer].ptr, f[L->answer].len, &t) != RT_OK)
        return REJECT(RT_REJ_BAD_TIME, L->answer_name, "%s is not a date and time", L->answer_name);
    int64_t secs;
    unsigned scale;
    if (rt_decimal_parse_any(f[L->billsec].ptr, f[L->billsec].len, 0, &secs, &scale) != RT_OK)
        return REJECT(RT_REJ_BAD_QUANTITY, "billsec", "billsec is not a whole number of seconds");
    rt_event *ev = rt_event_batch_push(b);
    if (!ev) return false;
    ev->account = acc->ptr;
    ev->account_len = (uint16_t)acc->len;
    ev->product = o->product[0] ? o->product : ctx->ptr;
    ev->product_len = (uint16_t)(o->product[0] ? strlen(o->product) : ctx->len);
    ev->called = dst->ptr;
    ev->called_len = (uint16_t)dst->len;
    ev->start_s = t - o->utc_offset_s; /* local time of the switch to UTC */
    ev->qty_mantissa = secs;
    ev->qty_scale = 0;
    ev->rec_no = rec_no;
    ev->line_rel = line_rel;
    ev->raw = rec->raw;
    ev->raw_len = (uint32_t)rec->raw_len;
    return event_id(L, rec, b, ev);
}

rt_status rt_usage_cdr_open(const char *path, size_t chunk_bytes, const rt_cdr_opts *o,
                            rt_usage_reader **out, rt_error *err)
{
    return rt_usage_csv_open_mapped(path, chunk_bytes, map_cdr, o, sizeof *o, out, err);
}

rt_status rt_usage_cdr_parse_buffer(const char *data, size_t len, const rt_cdr_opts *o,
                                    rt_event_batch *batch)
{
    return rt_usage_csv_parse_mapped(data, len, map_cdr, o, batch);
}

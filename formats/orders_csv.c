/* orders_csv: order file reader. */
#include "formats/orders_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/zio.h"

enum {
    C_ORDER_ID,
    C_LINE,
    C_SUBSCRIPTION,
    C_ACTION,
    C_ACCOUNT,
    C_PRODUCT,
    C_EFFECTIVE,
    C_BOOKED,
    C_QUANTITY,
    C_PRICE,
    C_DISCOUNT,
    C_END,
    C_DESCRIPTION,
    C_COUNT
};
static const char *const names[C_COUNT] = {
    "order_id",   "line",     "subscription_id", "action",   "account_id",
    "product_id", "effective_date", "booked_date", "quantity", "price",
    "discount_percent", "end_date", "description"};
static const bool required_column[C_COUNT] = {true, true, true, true, true, true, true,
                                              false, false, false, false, false, false};

typedef struct row_ctx {
    rt_order_book *ob;
    uint32_t source;
    uint64_t line;
    const rt_csv_record *rec;
    const int *col;
    const char *raw; /* the line's text, in the book's arena or in a text it owns */
} row_ctx;

static const rt_csv_field *cell(const row_ctx *r, int k)
{
    int at = r->col[k];
    return at >= 0 && (size_t)at < r->rec->count ? &r->rec->fields[at] : NULL;
}

static bool empty(const rt_csv_field *f) { return !f || f->len == 0; }

static bool bad(row_ctx *r, uint32_t reason, int k, const char *msg)
{
    return rt_order_book_reject(r->ob, reason, r->source, r->line, r->raw, r->rec->raw_len,
                                names[k], "%s: %s", names[k], msg);
}

static const char *copy(row_ctx *r, const rt_csv_field *f)
{
    return f ? rt_arena_strndup(&r->ob->arena, f->ptr, f->len) : "";
}

static bool parse_day(const rt_csv_field *f, rt_days *out)
{
    return rt_date_parse(f->ptr, f->len, out) == RT_OK;
}

/* One data row. Returns false only when memory runs out. */
static bool parse_row(row_ctx *r)
{
    static const char *const actions[] = {"new", "change", "cancel", "one_time"};
    const rt_csv_field *f[C_COUNT];
    for (int k = 0; k < C_COUNT; k++) {
        f[k] = cell(r, k);
        if (f[k] && f[k]->len > (k == C_DESCRIPTION ? 256u : 64u))
            return bad(r, RT_REJ_FIELD_TOO_LONG, k, "too long");
    }
    for (int k = C_ORDER_ID; k <= C_EFFECTIVE; k++)
        if (k != C_SUBSCRIPTION && empty(f[k])) return bad(r, RT_REJ_MISSING_FIELD, k, "missing");
    int action = -1;
    for (int a = 0; a < RT_ORDER_ACTION_COUNT_; a++)
        if (f[C_ACTION]->len == strlen(actions[a]) && memcmp(f[C_ACTION]->ptr, actions[a], f[C_ACTION]->len) == 0)
            action = a;
    if (action < 0) return bad(r, RT_REJ_BAD_ORDER, C_ACTION, "expected new, change, cancel or one_time");
    bool one_time = action == RT_ORDER_ONE_TIME;
    if (one_time != empty(f[C_SUBSCRIPTION]))
        return bad(r, RT_REJ_BAD_ORDER, C_SUBSCRIPTION,
                   one_time ? "one_time lines have no subscription" : "missing");
    int64_t line_no;
    if (rt_decimal_parse(f[C_LINE]->ptr, f[C_LINE]->len, 0, &line_no) != RT_OK || line_no < 0 ||
        line_no > UINT32_MAX)
        return bad(r, RT_REJ_BAD_ORDER, C_LINE, "not a line number");
    rt_days eff, booked, end = RT_DAYS_OPEN;
    if (!parse_day(f[C_EFFECTIVE], &eff)) return bad(r, RT_REJ_BAD_TIME, C_EFFECTIVE, "not a date YYYY-MM-DD");
    booked = eff;
    if (!empty(f[C_BOOKED]) && !parse_day(f[C_BOOKED], &booked))
        return bad(r, RT_REJ_BAD_TIME, C_BOOKED, "not a date YYYY-MM-DD");
    if (!empty(f[C_END]) && (action != RT_ORDER_NEW || !parse_day(f[C_END], &end)))
        return bad(r, RT_REJ_BAD_TIME, C_END, action != RT_ORDER_NEW ? "only new lines have an end date"
                                                                 : "not a date YYYY-MM-DD");
    int64_t qm = RT_UNSET, price = RT_UNSET, disc = RT_UNSET;
    unsigned qs = 0;
    if (!empty(f[C_QUANTITY])) {
        if (rt_decimal_parse_any(f[C_QUANTITY]->ptr, f[C_QUANTITY]->len, 6, &qm, &qs) != RT_OK ||
            qm > RT_ORDER_QTY_MAX / 1000000)
            return bad(r, RT_REJ_BAD_QUANTITY, C_QUANTITY, "not a quantity");
    } else if (action == RT_ORDER_NEW || one_time) {
        return bad(r, RT_REJ_MISSING_FIELD, C_QUANTITY, "missing");
    }
    if (!empty(f[C_PRICE]) &&
        (rt_decimal_parse(f[C_PRICE]->ptr, f[C_PRICE]->len, RT_NANOS_SCALE, &price) != RT_OK ||
         price < -INT64_C(1000000000000000000) || price > INT64_C(1000000000000000000)))
        return bad(r, RT_REJ_BAD_ORDER, C_PRICE, "not a price (up to 9 decimals)");
    if (!empty(f[C_DISCOUNT]) &&
        (rt_decimal_parse(f[C_DISCOUNT]->ptr, f[C_DISCOUNT]->len, 4, &disc) != RT_OK || disc < 0 ||
         disc > 1000000))
        return bad(r, RT_REJ_BAD_ORDER, C_DISCOUNT, "not a percentage from 0 to 100");

    rt_order_line *l = rt_order_book_push(r->ob);
    if (!l) return false;
    l->order_id = copy(r, f[C_ORDER_ID]);
    l->line = (uint32_t)line_no;
    l->action = (uint32_t)action;
    l->subscription_id = copy(r, f[C_SUBSCRIPTION]);
    l->account_id = copy(r, f[C_ACCOUNT]);
    l->product_id = copy(r, f[C_PRODUCT]);
    l->effective_day = eff;
    l->booked_day = booked;
    l->end_day = end;
    l->qty_mantissa = qm;
    l->qty_scale = (uint8_t)qs;
    l->price_nanos = price;
    l->discount_e4 = disc;
    l->description = copy(r, f[C_DESCRIPTION]);
    l->source = r->source;
    l->source_line = r->line;
    l->raw = r->raw;
    l->raw_len = (uint32_t)r->rec->raw_len;
    return l->order_id && l->subscription_id && l->account_id && l->product_id && l->description;
}

/* raw_in_place: data lives as long as the book's lines (the book owns it), so their raw text
 * points into it; else each line's raw text is copied into the book's arena. */
static rt_status parse(const char *data, size_t len, uint32_t source, rt_order_book *ob,
                       bool raw_in_place, rt_error *err)
{
    const char *p = data, *end = data + len, *why;
    uint32_t column;
    rt_csv_record rec;
    rt_arena scratch;
    rt_arena_init(&scratch, 64 * 1024);
    rt_status st = RT_OK;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    if (p >= end || rt_csv_parse(&p, end, &scratch, &rec, &why, &column) != RT_OK) {
        st = rt_error_set(err, RT_EPARSE, NULL, 1, 0, NULL, "order file without a header row");
        goto done;
    }
    int col[C_COUNT];
    for (int k = 0; k < C_COUNT; k++) {
        col[k] = -1;
        for (size_t i = 0; i < rec.count; i++)
            if (rec.fields[i].len == strlen(names[k]) && memcmp(rec.fields[i].ptr, names[k], rec.fields[i].len) == 0)
                col[k] = (int)i;
        if (required_column[k] && col[k] < 0) {
            st = rt_error_set(err, RT_EPARSE, NULL, 1, 0, names[k], "the header has no '%s' column", names[k]);
            goto done;
        }
    }
    size_t header_count = rec.count;
    /* The header's column names, for the field of a malformed line: in the book's arena,
     * which rejects may point into (compaction copies their field). */
    const char **header = rt_csv_field_strings(&rec, &ob->arena);
    if (!header) {
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        goto done;
    }
    uint64_t line = 1 + rec.newlines;
    /* Every record ends a line: the newlines left bound the records, so the book grows once
     * (rt_order_book_reserve says why). */
    if (!rt_order_book_reserve(ob, rt_csv_newlines(p, (size_t)(end - p)) + 1)) {
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        goto done;
    }
    while (p < end) {
        uint64_t at = line;
        rt_status ps = rt_csv_parse(&p, end, &scratch, &rec, &why, &column);
        line += rec.newlines;
        if (ps == RT_ENOMEM) {
            st = rt_error_set(err, ps, NULL, at, 0, NULL, "out of memory");
            goto done;
        }
        if (ps == RT_OK && rt_csv_blank(&rec)) continue;
        ob->read++;
        const char *raw = raw_in_place ? rec.raw : rt_arena_strndup(&ob->arena, rec.raw, rec.raw_len);
        if (!raw) {
            st = rt_error_set(err, RT_ENOMEM, NULL, at, 0, NULL, "out of memory");
            goto done;
        }
        bool ok;
        if (ps != RT_OK) {
            /* The column by its header name, as other rejects name theirs; none beyond it. */
            const char *field = column >= 1 && column <= header_count ? header[column - 1] : "";
            ok = rt_order_book_reject(ob, RT_REJ_MALFORMED, source, at, raw, rec.raw_len, field,
                                      "malformed CSV at column %u: %s", column, why);
        } else {
            row_ctx r = {ob, source, at, &rec, col, raw};
            ok = parse_row(&r);
        }
        if (!ok) {
            st = rt_error_set(err, RT_ENOMEM, NULL, at, 0, NULL, "out of memory");
            goto done;
        }
    }
done:
    rt_arena_free(&scratch);
    return st;
}

rt_status rt_orders_csv_parse(const char *data, size_t len, uint32_t source, rt_order_book *ob,
                              rt_error *err)
{
    return parse(data, len, source, ob, false, err);
}

rt_status rt_orders_csv_read(const char *path, uint32_t source, rt_order_book *ob,
                             rt_input_info *info, rt_error *err)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_status st = rt_zio_slurp(path, &b, err);
    /* The book keeps the file's text: the lines' raw text points into it (a copy of every
     * line would be as large as the file, touched afresh). */
    const char *text = "";
    size_t len = 0;
    if (st == RT_OK && b.data) {
        if (rt_order_book_adopt(ob, b.data)) {
            text = b.data;
            len = b.len;
            rt_buf_init(&b);
        } else {
            st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        }
    }
    if (st == RT_OK) st = parse(text, len, source, ob, true, err);
    if (st != RT_OK && !err->file[0]) snprintf(err->file, sizeof err->file, "%s", path);
    rt_buf_free(&b);
    if (st == RT_OK && info) {
        st = rt_zio_checksum_file(path, &info->bytes, &info->xxh64, err);
        info->records = 0;
    }
    return st;
}

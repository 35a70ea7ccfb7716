/* book: price book schema, canonical field text, sorting and validation. */
#include "engine/book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/strmap.h"

/* ---- enumeration names ---- */

static const char *const gl_role_names[] = {"revenue", "receivable", "vat_payable",
                                            "deferred_revenue", "unbilled_receivable", NULL};
static const char *const revenue_type_names[] = {"usage", "recurring", "one_time", NULL};
static const char *const charge_model_names[] = {"per_unit", "flat", "recurring", "one_time",
                                                 NULL};
static const char *const billing_timing_names[] = {"advance", "arrears", NULL};
static const char *const vat_code_names[] = {"S", "Z", "E", "AE", "K", "G", "O", NULL};
static const char *const round_names[] = {"half_up", "half_even", "up", "down", NULL};

_Static_assert(RT_ARRAY_LEN(gl_role_names) == RT_GL_ROLE_COUNT_ + 1, "gl role names");
_Static_assert(RT_ARRAY_LEN(revenue_type_names) == RT_REVENUE_TYPE_COUNT_ + 1, "revenue names");
_Static_assert(RT_ARRAY_LEN(charge_model_names) == RT_CHARGE_MODEL_COUNT_ + 1, "model names");
_Static_assert(RT_ARRAY_LEN(vat_code_names) == RT_VAT_CODE_COUNT_ + 1, "vat code names");
_Static_assert(RT_ARRAY_LEN(billing_timing_names) == RT_BILLING_TIMING_COUNT_ + 1, "timing names");
_Static_assert(RT_ARRAY_LEN(round_names) == RT_ROUND_COUNT_ + 1, "round names");

const char *rt_gl_role_name(rt_gl_role r) { return gl_role_names[r]; }
const char *rt_revenue_type_name(rt_revenue_type t) { return revenue_type_names[t]; }
const char *rt_charge_model_name(rt_charge_model m) { return charge_model_names[m]; }
const char *rt_vat_code_name(rt_vat_code c) { return vat_code_names[c]; }
const char *rt_billing_timing_name(rt_billing_timing t) { return billing_timing_names[t]; }

/* ---- schema ---- */

#define REQ RT_FIELD_REQUIRED
#define KEY (RT_FIELD_KEY | RT_FIELD_REQUIRED)
#define F_ID(T, m, fl) {#m, RT_FT_ID, offsetof(T, m), 0, fl, 0, 0, NULL, NULL}
#define F_TEXT(T, m, fl) {#m, RT_FT_TEXT, offsetof(T, m), 0, fl, 0, 0, NULL, ""}
#define F_CUR(T, m, fl) {#m, RT_FT_CURRENCY, offsetof(T, m), 0, fl, 0, 0, NULL, NULL}
#define F_INT(T, m, fl, lo, hi, d) {#m, RT_FT_INT, offsetof(T, m), 0, fl, lo, hi, NULL, d}
#define F_DEC(T, m, col, fl, sc, lo, hi, d) {col, RT_FT_DECIMAL, offsetof(T, m), sc, fl, lo, hi, NULL, d}
#define F_ENUM(T, m, fl, nm, d) {#m, RT_FT_ENUM, offsetof(T, m), 0, fl, 0, 0, nm, d}
#define F_FROM(T, m, fl) {#m, RT_FT_FROM, offsetof(T, m), 0, fl, 0, 0, NULL, ""}
#define F_TO(T, m) {#m, RT_FT_TO, offsetof(T, m), 0, 0, 0, 0, NULL, ""}

/* Largest money amount a book may hold: one billion currency units, in nanos. */
#define MONEY_MAX_NANOS INT64_C(1000000000000000000)

static const rt_field company_fields[] = {
    F_TEXT(rt_company, name, REQ),
    F_TEXT(rt_company, vat_id, 0),
    F_TEXT(rt_company, registration_id, 0),
    F_TEXT(rt_company, street, 0),
    F_TEXT(rt_company, city, 0),
    F_TEXT(rt_company, postcode, 0),
    F_ID(rt_company, country, REQ),
    F_TEXT(rt_company, email, 0),
    F_CUR(rt_company, functional_currency, REQ),
    F_ID(rt_company, invoice_prefix, REQ),
    F_ID(rt_company, credit_note_prefix, REQ),
    F_INT(rt_company, payment_terms_days, 0, 0, 365, "30"),
    F_ENUM(rt_company, line_rounding, 0, round_names, "half_up"),
    F_ENUM(rt_company, tax_rounding, 0, round_names, "half_up"),
    F_ID(rt_company, sales_journal_code, REQ),
    F_TEXT(rt_company, sales_journal_label, REQ),
};

static const rt_field gl_account_fields[] = {
    F_ID(rt_gl_account, gl_account, KEY),
    F_TEXT(rt_gl_account, label, REQ),
    F_ENUM(rt_gl_account, role, 0, gl_role_names, "revenue"),
};

static const rt_field product_fields[] = {
    F_ID(rt_product, product_id, KEY),
    F_FROM(rt_product, valid_from, RT_FIELD_KEY),
    F_TO(rt_product, valid_to),
    F_TEXT(rt_product, name, REQ),
    F_ID(rt_product, unit, REQ),
    F_ID(rt_product, unit_code, REQ),
    F_INT(rt_product, quantity_decimals, 0, 0, 6, "0"),
    F_ID(rt_product, gl_account, REQ),
    F_ID(rt_product, tax_category, REQ),
    F_ENUM(rt_product, revenue_type, 0, revenue_type_names, "usage"),
    F_INT(rt_product, max_quantity, 0, 1, INT64_C(1000000000000000000), NULL),
    F_ENUM(rt_product, billing_timing, 0, billing_timing_names, "advance"),
};

static const rt_field plan_fields[] = {
    F_ID(rt_plan, plan_id, KEY),
    F_TEXT(rt_plan, name, REQ),
    F_CUR(rt_plan, currency, REQ),
    F_ID(rt_plan, time_zone, 0),
};

static const rt_field charge_fields[] = {
    F_ID(rt_charge, plan_id, KEY),
    F_ID(rt_charge, charge_id, KEY),
    F_FROM(rt_charge, valid_from, RT_FIELD_KEY),
    F_TO(rt_charge, valid_to),
    F_ID(rt_charge, product_id, REQ),
    F_TEXT(rt_charge, description, 0),
    F_ENUM(rt_charge, model, REQ, charge_model_names, NULL),
    F_DEC(rt_charge, price_nanos, "price", REQ, RT_NANOS_SCALE, -MONEY_MAX_NANOS, MONEY_MAX_NANOS, NULL),
    F_INT(rt_charge, price_per, 0, 1, INT64_C(1000000000000), "1"),
    F_INT(rt_charge, first_increment, 0, 0, INT64_C(1000000000000), "0"),
    F_INT(rt_charge, next_increment, 0, 0, INT64_C(1000000000000), "0"),
    F_DEC(rt_charge, setup_fee_nanos, "setup_fee", 0, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, "0"),
    F_DEC(rt_charge, min_per_event_nanos, "min_per_event", 0, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, NULL),
    F_DEC(rt_charge, max_per_event_nanos, "max_per_event", 0, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, NULL),
    F_INT(rt_charge, event_decimals, 0, 0, RT_NANOS_SCALE, "9"),
    F_ENUM(rt_charge, event_rounding, 0, round_names, "half_up"),
};

static const rt_field account_fields[] = {
    F_ID(rt_account, account_id, KEY),
    F_TEXT(rt_account, name, REQ),
    F_TEXT(rt_account, street, 0),
    F_TEXT(rt_account, city, 0),
    F_TEXT(rt_account, postcode, 0),
    F_ID(rt_account, country, REQ),
    F_TEXT(rt_account, vat_id, 0),
    F_TEXT(rt_account, email, 0),
    F_TEXT(rt_account, buyer_reference, 0),
    F_CUR(rt_account, currency, REQ),
    F_ID(rt_account, tax_jurisdiction, REQ),
    F_INT(rt_account, bill_cycle_day, 0, 1, 28, "1"),
    F_INT(rt_account, payment_terms_days, 0, 0, 365, NULL),
};

static const rt_field account_plan_fields[] = {
    F_ID(rt_account_plan, account_id, KEY),
    F_ID(rt_account_plan, plan_id, KEY),
    F_FROM(rt_account_plan, valid_from, RT_FIELD_KEY),
    F_TO(rt_account_plan, valid_to),
};

static const rt_field tax_rate_fields[] = {
    F_ID(rt_tax_rate, jurisdiction, KEY),
    F_ID(rt_tax_rate, tax_category, KEY),
    F_FROM(rt_tax_rate, valid_from, RT_FIELD_KEY),
    F_TO(rt_tax_rate, valid_to),
    F_DEC(rt_tax_rate, rate_e4, "rate_percent", REQ, 4, 0, 1000000, NULL),
    F_ENUM(rt_tax_rate, vat_code, 0, vat_code_names, "S"),
    F_TEXT(rt_tax_rate, exemption_reason, 0),
};

#define TABLE(tid, nm, T, flds, single, opt) \
    {tid, nm, nm ".csv", sizeof(T), flds, RT_ARRAY_LEN(flds), single, opt}

static const rt_table tables[RT_T_COUNT_] = {
    TABLE(RT_T_COMPANY, "company", rt_company, company_fields, true, false),
    TABLE(RT_T_GL_ACCOUNTS, "gl_accounts", rt_gl_account, gl_account_fields, false, false),
    TABLE(RT_T_PRODUCTS, "products", rt_product, product_fields, false, false),
    TABLE(RT_T_PLANS, "plans", rt_plan, plan_fields, false, false),
    TABLE(RT_T_CHARGES, "charges", rt_charge, charge_fields, false, false),
    TABLE(RT_T_ACCOUNTS, "accounts", rt_account, account_fields, false, false),
    TABLE(RT_T_ACCOUNT_PLANS, "account_plans", rt_account_plan, account_plan_fields, false,
          false),
    TABLE(RT_T_TAX_RATES, "tax_rates", rt_tax_rate, tax_rate_fields, false, false),
};

const rt_table *rt_book_table(rt_table_id id)
{
    RT_ASSERT(tables[id].field_count <= RT_TABLE_FIELDS_MAX);
    RT_ASSERT((unsigned)id < RT_T_COUNT_);
    RT_ASSERT(tables[id].id == id);
    return &tables[id];
}

const rt_table *rt_book_table_by_name(const char *name)
{
    for (unsigned i = 0; i < RT_T_COUNT_; i++)
        if (strcmp(tables[i].name, name) == 0 || strcmp(tables[i].file, name) == 0)
            return &tables[i];
    return NULL;
}

/* ---- rows ---- */

void rt_book_init(rt_book *book)
{
    memset(book, 0, sizeof *book);
    rt_arena_init(&book->arena, 256 * 1024);
}

void rt_book_free(rt_book *book)
{
    for (unsigned i = 0; i < RT_T_COUNT_; i++) {
        free(book->tables[i].rows);
        free(book->tables[i].lines);
    }
    rt_arena_free(&book->arena);
    memset(book, 0, sizeof *book);
}

rt_status rt_book_append(rt_book *book, rt_table_id id, uint32_t line, void **row)
{
    const rt_table *t = rt_book_table(id);
    rt_book_rows *r = &book->tables[id];
    if (r->count == r->capacity) {
        size_t cap = r->capacity ? r->capacity * 2 : 16;
        void *rows = realloc(r->rows, cap * t->row_size);
        if (!rows) return RT_ENOMEM;
        r->rows = rows;
        uint32_t *lines = realloc(r->lines, cap * sizeof *lines);
        if (!lines) return RT_ENOMEM;
        r->lines = lines;
        r->capacity = cap;
    }
    void *p = (char *)r->rows + r->count * t->row_size;
    memset(p, 0, t->row_size);
    r->lines[r->count] = line;
    r->count++;
    *row = p;
    return RT_OK;
}

/* ---- field text ---- */

#define MEMBER(row, f, type) ((type *)((char *)(row) + (f)->offset))
#define CMEMBER(row, f, type) ((const type *)((const char *)(row) + (f)->offset))

static bool id_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '+' || c == '@' || c == '/' || c == '-';
}

static rt_status why_fail(char *why, size_t n, rt_status st, const char *fmt, const char *arg)
{
    snprintf(why, n, fmt, arg);
    return st;
}

static rt_status parse_string(rt_book *book, const rt_field *f, void *row, const char *text,
                              size_t len, char *why, size_t wn)
{
    if (f->type == RT_FT_ID) {
        if (len > RT_ID_LEN_MAX)
            return why_fail(why, wn, RT_ELIMIT, "identifier longer than %s characters", "64");
        for (size_t i = 0; i < len; i++)
            if (!id_char_ok((unsigned char)text[i]))
                return why_fail(why, wn, RT_EPARSE,
                                "identifier may only contain letters, digits and %s",
                                "._:+@/-");
    } else if (f->type == RT_FT_TEXT) {
        if (len > RT_TEXT_LEN_MAX)
            return why_fail(why, wn, RT_ELIMIT, "text longer than %s bytes", "256");
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
                return why_fail(why, wn, RT_EPARSE, "control character in %s", "text");
    } else {
        RT_ASSERT(f->type == RT_FT_CURRENCY);
        char code[4] = {0};
        if (len == 3) memcpy(code, text, 3);
        if (!rt_currency_find(code))
            return why_fail(why, wn, RT_EPARSE, "'%s' is not an ISO 4217 currency code", code);
    }
    char *s = rt_arena_strndup(&book->arena, text, len);
    if (!s) return RT_ENOMEM;
    *MEMBER(row, f, const char *) = s;
    return RT_OK;
}

rt_status rt_book_field_parse(rt_book *book, const rt_field *f, void *row, const char *text,
                              size_t len, char *why, size_t wn)
{
    why[0] = '\0';
    /* A safe value first, so a row with a bad cell can still be validated. */
    switch (f->type) {
    case RT_FT_ID:
    case RT_FT_TEXT:
    case RT_FT_CURRENCY: *MEMBER(row, f, const char *) = ""; break;
    case RT_FT_ENUM: *MEMBER(row, f, int32_t) = 0; break;
    case RT_FT_FROM: *MEMBER(row, f, rt_time_s) = RT_TIME_OPEN_START; break;
    case RT_FT_TO: *MEMBER(row, f, rt_time_s) = RT_TIME_OPEN_END; break;
    default: *MEMBER(row, f, int64_t) = f->dflt ? 0 : RT_UNSET; break;
    }
    if (len == 0) {
        if (f->flags & RT_FIELD_REQUIRED)
            return why_fail(why, wn, RT_EPARSE, "%s", "required value is empty");
        switch (f->type) {
        case RT_FT_FROM: *MEMBER(row, f, rt_time_s) = RT_TIME_OPEN_START; return RT_OK;
        case RT_FT_TO: *MEMBER(row, f, rt_time_s) = RT_TIME_OPEN_END; return RT_OK;
        case RT_FT_ID:
        case RT_FT_TEXT:
        case RT_FT_CURRENCY: *MEMBER(row, f, const char *) = ""; return RT_OK;
        default: break;
        }
        if (!f->dflt) {
            *MEMBER(row, f, int64_t) = RT_UNSET;
            RT_ASSERT(f->type == RT_FT_INT || f->type == RT_FT_DECIMAL);
            return RT_OK;
        }
        text = f->dflt;
        len = strlen(text);
    }
    switch (f->type) {
    case RT_FT_ID:
    case RT_FT_TEXT:
    case RT_FT_CURRENCY: return parse_string(book, f, row, text, len, why, wn);
    case RT_FT_INT:
    case RT_FT_DECIMAL: {
        int64_t v;
        rt_status st = rt_decimal_parse(text, len, f->type == RT_FT_DECIMAL ? f->scale : 0, &v);
        if (st == RT_ELIMIT) {
            char lim[8];
            snprintf(lim, sizeof lim, "%u", (unsigned)f->scale);
            return why_fail(why, wn, st,
                            f->scale ? "more than %s decimals" : "not a whole number%s",
                            f->scale ? lim : "");
        }
        if (st == RT_EPARSE) {
            /* Quote the cell itself (bounded), so the reason says what was read. */
            snprintf(why, wn, "'%.*s' is not a number", (int)(len < 40 ? len : 40), text);
            return st;
        }
        if (st != RT_OK) return why_fail(why, wn, st, "%s", "number out of range");
        if (v < f->min || v > f->max) {
            char lo[48], hi[48], msg[120];
            rt_decimal_str(f->min, f->type == RT_FT_DECIMAL ? f->scale : 0, lo, sizeof lo);
            rt_decimal_str(f->max, f->type == RT_FT_DECIMAL ? f->scale : 0, hi, sizeof hi);
            snprintf(msg, sizeof msg, "value outside [%s, %s]", lo, hi);
            return why_fail(why, wn, RT_ELIMIT, "%s", msg);
        }
        *MEMBER(row, f, int64_t) = v;
        return RT_OK;
    }
    case RT_FT_ENUM:
        for (int32_t i = 0; f->names[i]; i++) {
            if (strlen(f->names[i]) == len && memcmp(f->names[i], text, len) == 0) {
                *MEMBER(row, f, int32_t) = i;
                return RT_OK;
            }
        }
        {
            char list[160] = "";
            for (int32_t i = 0; f->names[i]; i++) {
                if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, f->names[i], sizeof list - strlen(list) - 1);
            }
            return why_fail(why, wn, RT_EPARSE, "expected one of: %s", list);
        }
    case RT_FT_FROM:
    case RT_FT_TO: {
        rt_time_s t;
        if (rt_instant_or_date_parse(text, len, &t) != RT_OK)
            return why_fail(why, wn, RT_EPARSE, "%s",
                            "expected a date YYYY-MM-DD or an instant YYYY-MM-DDThh:mm:ssZ");
        *MEMBER(row, f, rt_time_s) = t;
        return RT_OK;
    }
    }
    RT_ASSERT(!"unknown field type");
    return RT_EINVAL;
}

size_t rt_book_field_format(const rt_field *f, const void *row, char *buf, size_t n)
{
    RT_ASSERT(n > 0);
    switch (f->type) {
    case RT_FT_ID:
    case RT_FT_TEXT:
    case RT_FT_CURRENCY: {
        const char *s = *CMEMBER(row, f, const char *);
        int w = snprintf(buf, n, "%s", s ? s : "");
        return w < 0 ? 0 : ((size_t)w < n ? (size_t)w : n - 1);
    }
    case RT_FT_INT:
    case RT_FT_DECIMAL: {
        int64_t v = *CMEMBER(row, f, int64_t);
        if (v == RT_UNSET) {
            buf[0] = '\0';
            return 0;
        }
        return rt_decimal_format(v, f->type == RT_FT_DECIMAL ? f->scale : 0, -1, 0, '.', buf, n);
    }
    case RT_FT_ENUM: {
        int w = snprintf(buf, n, "%s", f->names[*CMEMBER(row, f, int32_t)]);
        return w < 0 ? 0 : (size_t)w;
    }
    case RT_FT_FROM:
    case RT_FT_TO: {
        rt_time_s t = *CMEMBER(row, f, rt_time_s);
        if (t == RT_TIME_OPEN_START || t == RT_TIME_OPEN_END) {
            buf[0] = '\0';
            return 0;
        }
        return rt_instant_or_date_format(t, buf, n);
    }
    }
    RT_ASSERT(!"unknown field type");
    return 0;
}

/* ---- ordering ---- */

static int field_compare(const rt_field *f, const void *a, const void *b)
{
    if (f->type == RT_FT_FROM || f->type == RT_FT_TO || f->type == RT_FT_INT ||
        f->type == RT_FT_DECIMAL) {
        int64_t x = *CMEMBER(a, f, int64_t), y = *CMEMBER(b, f, int64_t);
        return x < y ? -1 : x > y;
    }
    if (f->type == RT_FT_ENUM) {
        int32_t x = *CMEMBER(a, f, int32_t), y = *CMEMBER(b, f, int32_t);
        return x < y ? -1 : x > y;
    }
    return strcmp(*CMEMBER(a, f, const char *), *CMEMBER(b, f, const char *));
}

int rt_book_row_compare(const rt_table *t, const void *a, const void *b)
{
    for (size_t i = 0; i < t->field_count; i++) {
        if (!(t->fields[i].flags & RT_FIELD_KEY)) continue;
        int c = field_compare(&t->fields[i], a, b);
        if (c) return c;
    }
    return 0;
}

/* Merge sort of row indices (stable, no recursion, no global comparator state). */
static rt_status sort_table(const rt_table *t, rt_book_rows *r)
{
    size_t n = r->count;
    if (n < 2) return RT_OK;
    size_t *idx = malloc(n * sizeof *idx), *tmp = malloc(n * sizeof *tmp);
    void *rows = malloc(n * t->row_size);
    uint32_t *lines = malloc(n * sizeof *lines);
    rt_status st = RT_ENOMEM;
    if (!idx || !tmp || !rows || !lines) goto done;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                const void *a = (char *)r->rows + idx[i] * t->row_size;
                const void *b = (char *)r->rows + idx[j] * t->row_size;
                tmp[k++] = rt_book_row_compare(t, b, a) < 0 ? idx[j++] : idx[i++];
            }
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        size_t *sw = idx;
        idx = tmp;
        tmp = sw;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy((char *)rows + i * t->row_size, (char *)r->rows + idx[i] * t->row_size,
               t->row_size);
        lines[i] = r->lines[idx[i]];
    }
    free(r->rows);
    free(r->lines);
    r->rows = rows;
    r->lines = lines;
    r->capacity = n;
    rows = NULL;
    lines = NULL;
    st = RT_OK;
done:
    free(idx);
    free(tmp);
    free(rows);
    free(lines);
    return st;
}

rt_status rt_book_sort(rt_book *book)
{
    for (unsigned i = 0; i < RT_T_COUNT_; i++) {
        rt_status st = sort_table(rt_book_table((rt_table_id)i), &book->tables[i]);
        if (st != RT_OK) return st;
    }
    return RT_OK;
}

const rt_company *rt_book_company(const rt_book *book)
{
    RT_ASSERT(book->tables[RT_T_COMPANY].count == 1);
    return RT_BOOK_ROWS(book, RT_T_COMPANY, rt_company);
}

/* ---- validation ---- */

typedef struct validator {
    const rt_book *book;
    rt_diags *d;
    rt_strmap gl, products, plans, accounts;
} validator;

static const char *file_of(rt_table_id id) { return rt_book_table(id)->file; }

/* Source column of a field (by column name) for diagnostics; 0 when unknown. */
static uint32_t col_of(const rt_book *b, rt_table_id id, const char *field)
{
    const rt_table *t = rt_book_table(id);
    if (!field) return 0;
    for (size_t k = 0; k < t->field_count; k++)
        if (strcmp(t->fields[k].name, field) == 0) return b->tables[id].columns[k];
    return 0;
}
static uint32_t line_of(const rt_book *b, rt_table_id id, size_t i)
{
    return b->tables[id].lines[i];
}

/* Index the distinct values of a table's first key column (rows sorted, so equal ids are
 * adjacent); report duplicate full keys. */
static rt_status index_ids(validator *v, rt_table_id id, rt_strmap *map)
{
    const rt_table *t = rt_book_table(id);
    const rt_book_rows *r = &v->book->tables[id];
    rt_status st = rt_strmap_init(map, r->count);
    if (st != RT_OK) return st;
    const rt_field *first = &t->fields[0];
    for (size_t i = 0; i < r->count; i++) {
        const void *row = (const char *)r->rows + i * t->row_size;
        if (i > 0) {
            const void *prev = (const char *)r->rows + (i - 1) * t->row_size;
            if (rt_book_row_compare(t, prev, row) == 0)
                rt_diags_add(v->d, t->file, line_of(v->book, id, i),
                             col_of(v->book, id, first->name), first->name,
                             "duplicate key '%s' (first defined on line %u)",
                             *CMEMBER(row, first, const char *), line_of(v->book, id, i - 1));
        }
        const char *key = *CMEMBER(row, first, const char *);
        st = rt_strmap_put(map, key, strlen(key), (uint32_t)i);
        if (st == RT_ENOMEM) return st;
    }
    return RT_OK;
}

static bool has(const rt_strmap *m, const char *key)
{
    uint32_t v;
    return rt_strmap_get(m, key, strlen(key), &v) == RT_OK;
}

/* Versions of one thing (same key columns before valid_from) must not overlap, and every
 * range must be non-empty. `ident` is the number of leading key fields naming the thing. */
static void check_versions(validator *v, rt_table_id id, size_t ident, size_t from_off,
                           size_t to_off)
{
    const rt_table *t = rt_book_table(id);
    const rt_book_rows *r = &v->book->tables[id];
#define VERSION_TIME(i, off) (*(const rt_time_s *)((const char *)r->rows + (i) * t->row_size + (off)))
    /* Rows are sorted by valid_from within a thing, so a version overlaps an earlier one
     * exactly when it starts before the latest end seen so far in its group (not only the
     * previous row's end: [2020, 2030) contains both [2021, 2022) and [2023, 2024)). */
    size_t latest = 0;
    for (size_t i = 0; i < r->count; i++) {
        const char *row = (const char *)r->rows + i * t->row_size;
        rt_time_s from = VERSION_TIME(i, from_off), to = VERSION_TIME(i, to_off);
        if (to <= from)
            rt_diags_add(v->d, t->file, line_of(v->book, id, i), col_of(v->book, id, "valid_to"), "valid_to",
                         "valid_to must be after valid_from");
        bool same = i > 0;
        for (size_t k = 0; same && k < ident; k++)
            same = field_compare(&t->fields[k], row - t->row_size, row) == 0;
        if (!same) {
            latest = i;
            continue;
        }
        if (VERSION_TIME(latest, to_off) > from)
            rt_diags_add(v->d, t->file, line_of(v->book, id, i), col_of(v->book, id, "valid_from"), "valid_from",
                         "effective dates overlap the version on line %u",
                         line_of(v->book, id, latest));
        if (to > VERSION_TIME(latest, to_off)) latest = i;
    }
#undef VERSION_TIME
}

static void validate_company_and_gl(validator *v)
{
    const rt_book *b = v->book;
    if (RT_BOOK_COUNT(b, RT_T_COMPANY) != 1)
        rt_diags_add(v->d, file_of(RT_T_COMPANY), 0, 0, NULL,
                     "must have exactly one company row, found %zu",
                     RT_BOOK_COUNT(b, RT_T_COMPANY));
    size_t roles[RT_GL_ROLE_COUNT_] = {0};
    const rt_gl_account *gl = RT_BOOK_ROWS(b, RT_T_GL_ACCOUNTS, rt_gl_account);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_GL_ACCOUNTS); i++) {
        rt_gl_role role = (rt_gl_role)gl[i].role;
        if (role != RT_GL_REVENUE && roles[role] > 0)
            rt_diags_add(v->d, file_of(RT_T_GL_ACCOUNTS), line_of(b, RT_T_GL_ACCOUNTS, i),
                         col_of(b, RT_T_GL_ACCOUNTS, "role"), "role",
                         "a second account with role %s", rt_gl_role_name(role));
        roles[role]++;
    }
    static const rt_gl_role needed[] = {RT_GL_RECEIVABLE, RT_GL_VAT_PAYABLE};
    for (size_t i = 0; i < RT_ARRAY_LEN(needed); i++)
        if (roles[needed[i]] == 0)
            rt_diags_add(v->d, file_of(RT_T_GL_ACCOUNTS), 0, col_of(v->book, RT_T_GL_ACCOUNTS, "role"), "role",
                         "no account has role %s", rt_gl_role_name(needed[i]));
}

static void validate_products(validator *v)
{
    const rt_book *b = v->book;
    const rt_product *p = RT_BOOK_ROWS(b, RT_T_PRODUCTS, rt_product);
    const rt_gl_account *gl = RT_BOOK_ROWS(b, RT_T_GL_ACCOUNTS, rt_gl_account);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_PRODUCTS); i++) {
        uint32_t gi;
        if (rt_strmap_get(&v->gl, p[i].gl_account, strlen(p[i].gl_account), &gi) != RT_OK)
            rt_diags_add(v->d, file_of(RT_T_PRODUCTS), line_of(b, RT_T_PRODUCTS, i),
                         col_of(b, RT_T_PRODUCTS, "gl_account"), "gl_account",
                         "unknown GL account '%s'", p[i].gl_account);
        else if (gl[gi].role != RT_GL_REVENUE)
            rt_diags_add(v->d, file_of(RT_T_PRODUCTS), line_of(b, RT_T_PRODUCTS, i),
                         col_of(b, RT_T_PRODUCTS, "gl_account"), "gl_account",
                         "GL account '%s' is not a revenue account",
                         p[i].gl_account);
    }
    check_versions(v, RT_T_PRODUCTS, 1, offsetof(rt_product, valid_from),
                   offsetof(rt_product, valid_to));
}

static void validate_charges(validator *v)
{
    const rt_book *b = v->book;
    const rt_charge *c = RT_BOOK_ROWS(b, RT_T_CHARGES, rt_charge);
    const char *file = file_of(RT_T_CHARGES);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_CHARGES); i++) {
        uint32_t line = line_of(b, RT_T_CHARGES, i);
        if (!has(&v->plans, c[i].plan_id))
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_CHARGES, "plan_id"), "plan_id", "unknown plan '%s'", c[i].plan_id);
        if (!has(&v->products, c[i].product_id))
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_CHARGES, "product_id"), "product_id", "unknown product '%s'",
                         c[i].product_id);
        uint32_t pi;
        if (rt_strmap_get(&v->products, c[i].product_id, strlen(c[i].product_id), &pi) == RT_OK) {
            const rt_product *p = &RT_BOOK_ROWS(b, RT_T_PRODUCTS, rt_product)[pi];
            bool usage_model = c[i].model == RT_CHARGE_PER_UNIT || c[i].model == RT_CHARGE_FLAT;
            rt_revenue_type want = usage_model                         ? RT_REVENUE_USAGE
                                   : c[i].model == RT_CHARGE_RECURRING ? RT_REVENUE_RECURRING
                                                                       : RT_REVENUE_ONE_TIME;
            if (p->revenue_type != (int32_t)want)
                rt_diags_add(v->d, file, line, col_of(v->book, RT_T_CHARGES, "model"), "model",
                             "a %s charge needs a %s product, '%s' is %s",
                             rt_charge_model_name((rt_charge_model)c[i].model),
                             rt_revenue_type_name(want), p->product_id,
                             rt_revenue_type_name((rt_revenue_type)p->revenue_type));
        }
        if (c[i].first_increment > 0 && c[i].next_increment == 0)
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_CHARGES, "next_increment"), "next_increment",
                         "next_increment must be at least 1 when first_increment is set");
        if (c[i].min_per_event_nanos != RT_UNSET && c[i].max_per_event_nanos != RT_UNSET &&
            c[i].min_per_event_nanos > c[i].max_per_event_nanos)
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_CHARGES, "max_per_event"), "max_per_event",
                         "max_per_event is below min_per_event");
    }
    check_versions(v, RT_T_CHARGES, 2, offsetof(rt_charge, valid_from),
                   offsetof(rt_charge, valid_to));

    /* Two charges of one plan for the same product at the same time would make rating
     * ambiguous: find them by comparing every pair within a plan (plans are small). */
    size_t n = RT_BOOK_COUNT(b, RT_T_CHARGES);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n && strcmp(c[j].plan_id, c[i].plan_id) == 0; j++) {
            if (strcmp(c[i].charge_id, c[j].charge_id) == 0) continue;
            if (strcmp(c[i].product_id, c[j].product_id) != 0) continue;
            if (c[i].valid_from < c[j].valid_to && c[j].valid_from < c[i].valid_to)
                rt_diags_add(v->d, file, line_of(b, RT_T_CHARGES, j), col_of(v->book, RT_T_CHARGES, "product_id"), "product_id",
                             "plan '%s' already charges product '%s' at these dates "
                             "(charge '%s', line %u)",
                             c[j].plan_id, c[j].product_id, c[i].charge_id,
                             line_of(b, RT_T_CHARGES, i));
        }
    }
}

static void validate_accounts(validator *v)
{
    const rt_book *b = v->book;
    const rt_account *a = RT_BOOK_ROWS(b, RT_T_ACCOUNTS, rt_account);
    const rt_plan *pl = RT_BOOK_ROWS(b, RT_T_PLANS, rt_plan);
    const rt_account_plan *ap = RT_BOOK_ROWS(b, RT_T_ACCOUNT_PLANS, rt_account_plan);
    const char *file = file_of(RT_T_ACCOUNT_PLANS);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_ACCOUNT_PLANS); i++) {
        uint32_t line = line_of(b, RT_T_ACCOUNT_PLANS, i);
        uint32_t ai, pi;
        bool ok_a = rt_strmap_get(&v->accounts, ap[i].account_id, strlen(ap[i].account_id),
                                  &ai) == RT_OK;
        bool ok_p = rt_strmap_get(&v->plans, ap[i].plan_id, strlen(ap[i].plan_id), &pi) == RT_OK;
        if (!ok_a)
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_ACCOUNT_PLANS, "account_id"), "account_id", "unknown account '%s'",
                         ap[i].account_id);
        if (!ok_p)
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_ACCOUNT_PLANS, "plan_id"), "plan_id", "unknown plan '%s'", ap[i].plan_id);
        if (ok_a && ok_p && strcmp(a[ai].currency, pl[pi].currency) != 0)
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_ACCOUNT_PLANS, "plan_id"), "plan_id",
                         "plan '%s' is priced in %s but account '%s' is billed in %s",
                         pl[pi].plan_id, pl[pi].currency, a[ai].account_id, a[ai].currency);
    }
    const rt_company *co = RT_BOOK_COUNT(b, RT_T_COMPANY) == 1 ? rt_book_company(b) : NULL;
    for (size_t i = 0; co && i < RT_BOOK_COUNT(b, RT_T_ACCOUNTS); i++)
        if (strcmp(a[i].currency, co->functional_currency) != 0)
            rt_diags_add(v->d, file_of(RT_T_ACCOUNTS), line_of(b, RT_T_ACCOUNTS, i), col_of(v->book, RT_T_ACCOUNTS, "currency"), "currency",
                         "account '%s' is billed in %s but the book has no FX rates to the "
                         "functional currency %s",
                         a[i].account_id, a[i].currency, co->functional_currency);
    check_versions(v, RT_T_ACCOUNT_PLANS, 2, offsetof(rt_account_plan, valid_from),
                   offsetof(rt_account_plan, valid_to));
}

static void validate_taxes(validator *v)
{
    const rt_book *b = v->book;
    check_versions(v, RT_T_TAX_RATES, 2, offsetof(rt_tax_rate, valid_from),
                   offsetof(rt_tax_rate, valid_to));
    /* Every (jurisdiction of an account, tax category of a product) pair needs a rate. */
    const rt_tax_rate *tr = RT_BOOK_ROWS(b, RT_T_TAX_RATES, rt_tax_rate);
    const rt_account *a = RT_BOOK_ROWS(b, RT_T_ACCOUNTS, rt_account);
    const rt_product *p = RT_BOOK_ROWS(b, RT_T_PRODUCTS, rt_product);
    rt_strmap seen;
    if (rt_strmap_init(&seen, 64) != RT_OK) return;
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_ACCOUNTS); i++) {
        const char *j = a[i].tax_jurisdiction;
        if (rt_strmap_put(&seen, j, strlen(j), 0) != RT_OK) continue;
        for (size_t k = 0; k < RT_BOOK_COUNT(b, RT_T_PRODUCTS); k++) {
            bool found = false;
            for (size_t t = 0; t < RT_BOOK_COUNT(b, RT_T_TAX_RATES) && !found; t++)
                found = strcmp(tr[t].jurisdiction, j) == 0 &&
                        strcmp(tr[t].tax_category, p[k].tax_category) == 0;
            if (!found)
                rt_diags_add(v->d, file_of(RT_T_ACCOUNTS), line_of(b, RT_T_ACCOUNTS, i),
                             col_of(b, RT_T_ACCOUNTS, "tax_jurisdiction"), "tax_jurisdiction",
                             "no tax rate for jurisdiction '%s' and tax category '%s' "
                             "(product '%s')",
                             j, p[k].tax_category, p[k].product_id);
        }
    }
    rt_strmap_free(&seen);
}

rt_status rt_book_validate(const rt_book *book, rt_diags *diags)
{
    size_t before = rt_diags_total(diags);
    validator v = {.book = book, .d = diags};
    rt_status st = RT_OK;
    if ((st = index_ids(&v, RT_T_GL_ACCOUNTS, &v.gl)) != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_PRODUCTS, &v.products)) != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_PLANS, &v.plans)) != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_ACCOUNTS, &v.accounts)) != RT_OK) goto done;
    {
        /* Duplicate full keys in the tables not indexed above. */
        rt_strmap scratch;
        static const rt_table_id others[] = {RT_T_CHARGES, RT_T_ACCOUNT_PLANS, RT_T_TAX_RATES};
        for (size_t i = 0; i < RT_ARRAY_LEN(others); i++) {
            if ((st = index_ids(&v, others[i], &scratch)) != RT_OK) goto done;
            rt_strmap_free(&scratch);
        }
    }
    validate_company_and_gl(&v);
    validate_products(&v);
    validate_charges(&v);
    validate_accounts(&v);
    validate_taxes(&v);
done:
    rt_strmap_free(&v.gl);
    rt_strmap_free(&v.products);
    rt_strmap_free(&v.plans);
    rt_strmap_free(&v.accounts);
    if (st != RT_OK) return st;
    return rt_diags_total(diags) > before ? RT_EINVALID : RT_OK;
}

/* book: price book schema, canonical field text, sorting and validation. */
#include "engine/book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/strmap.h"
#include "engine/timezone.h"

/* ---- enumeration names ---- */

static const char *const gl_role_names[] = {"revenue", "receivable", "vat_payable",
                                            "deferred_revenue", "unbilled_receivable", NULL};
static const char *const revenue_type_names[] = {"usage", "recurring", "one_time", NULL};
static const char *const charge_model_names[] = {
    "per_unit", "flat", "recurring", "one_time", "tiered", "volume", "package", "percentage",
    NULL};
static const char *const band_crossing_names[] = {"start", "split", NULL};
static const char *const billing_timing_names[] = {"advance", "arrears", NULL};
static const char *const vat_code_names[] = {"S", "Z", "E", "AE", "K", "G", "O", NULL};
static const char *const round_names[] = {"half_up", "half_even", "up", "down", NULL};

_Static_assert(RT_ARRAY_LEN(gl_role_names) == RT_GL_ROLE_COUNT_ + 1, "gl role names");
_Static_assert(RT_ARRAY_LEN(revenue_type_names) == RT_REVENUE_TYPE_COUNT_ + 1, "revenue names");
_Static_assert(RT_ARRAY_LEN(charge_model_names) == RT_CHARGE_MODEL_COUNT_ + 1, "model names");
_Static_assert(RT_ARRAY_LEN(vat_code_names) == RT_VAT_CODE_COUNT_ + 1, "vat code names");
_Static_assert(RT_ARRAY_LEN(billing_timing_names) == RT_BILLING_TIMING_COUNT_ + 1, "timing names");
_Static_assert(RT_ARRAY_LEN(round_names) == RT_ROUND_COUNT_ + 1, "round names");
_Static_assert(RT_ARRAY_LEN(band_crossing_names) == RT_BAND_CROSSING_COUNT_ + 1, "crossings");

const char *rt_gl_role_name(rt_gl_role r) { return gl_role_names[r]; }
const char *rt_revenue_type_name(rt_revenue_type t) { return revenue_type_names[t]; }
const char *rt_charge_model_name(rt_charge_model m) { return charge_model_names[m]; }
const char *rt_vat_code_name(rt_vat_code c) { return vat_code_names[c]; }
const char *rt_billing_timing_name(rt_billing_timing t) { return billing_timing_names[t]; }
const char *rt_band_crossing_name(rt_band_crossing c) { return band_crossing_names[c]; }

bool rt_charge_model_is_usage(rt_charge_model m)
{
    return m == RT_CHARGE_PER_UNIT || m == RT_CHARGE_FLAT || rt_charge_model_is_period(m);
}

bool rt_charge_model_is_period(rt_charge_model m)
{
    return m == RT_CHARGE_TIERED || m == RT_CHARGE_VOLUME || m == RT_CHARGE_PACKAGE;
}

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
#define F_DIGITS(T, m, fl, lo, hi, d) {#m, RT_FT_DIGITS, offsetof(T, m), 0, fl, lo, hi, NULL, d}
#define F_CLOCK(T, m, col, fl) {col, RT_FT_CLOCK, offsetof(T, m), 0, fl, 0, 86400, NULL, NULL}
#define F_DAYS(T, m, fl) {#m, RT_FT_DAYS, offsetof(T, m), 0, fl, 1, 0xff, NULL, NULL}
#define F_DATE(T, m, fl) {#m, RT_FT_DATE, offsetof(T, m), 0, fl, 0, 0, NULL, NULL}
/* A key column that may be empty (a wildcard: "any zone"). */
#define OPTKEY RT_FIELD_KEY

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
    F_TEXT(rt_company, peppol_id, 0),
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
    F_ID(rt_plan, band_set_id, 0),
    F_ENUM(rt_plan, band_crossing, 0, band_crossing_names, "start"),
    F_DIGITS(rt_plan, country_code, 0, 1, 3, NULL),
    F_DIGITS(rt_plan, national_prefix, 0, 1, 2, NULL),
    F_DIGITS(rt_plan, international_prefix, 0, 1, 4, "00"),
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
    F_ID(rt_charge, deck_id, 0),
    F_DEC(rt_charge, min_per_period_nanos, "min_per_period", 0, RT_NANOS_SCALE, 1,
          MONEY_MAX_NANOS, NULL),
    F_INT(rt_charge, cycle_months, 0, 1, 12, "1"),
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
    F_TEXT(rt_account, peppol_id, 0),
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

/* Quantities in product units carry up to 6 decimals (the largest quantity_decimals). */
#define QTY_MAX_E6 INT64_C(1000000000000000000)

static const rt_field tier_fields[] = {
    F_ID(rt_tier, plan_id, KEY),
    F_ID(rt_tier, charge_id, KEY),
    F_FROM(rt_tier, valid_from, RT_FIELD_KEY),
    F_INT(rt_tier, tier, KEY, 1, RT_TIERS_MAX, NULL),
    F_DEC(rt_tier, up_to_e6, "up_to", 0, 6, 1, QTY_MAX_E6, NULL),
    F_DEC(rt_tier, price_nanos, "price", REQ, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, NULL),
    F_DEC(rt_tier, flat_fee_nanos, "flat_fee", 0, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, "0"),
};

static const rt_field zone_fields[] = {
    F_ID(rt_zone, deck_id, KEY),
    F_ID(rt_zone, zone_id, KEY),
    F_TEXT(rt_zone, name, REQ),
};

static const rt_field prefix_fields[] = {
    F_ID(rt_prefix, deck_id, KEY),
    F_DIGITS(rt_prefix, prefix, KEY, 1, RT_PREFIX_DIGITS_MAX, NULL),
    F_FROM(rt_prefix, valid_from, RT_FIELD_KEY),
    F_TO(rt_prefix, valid_to),
    F_ID(rt_prefix, zone_id, REQ),
};

static const rt_field rate_fields[] = {
    F_ID(rt_rate, plan_id, KEY),
    F_ID(rt_rate, charge_id, KEY),
    F_ID(rt_rate, zone_id, OPTKEY),
    F_ID(rt_rate, band_id, OPTKEY),
    F_INT(rt_rate, interval_start, RT_FIELD_KEY, 0, INT64_C(1000000000000), "0"),
    F_FROM(rt_rate, valid_from, RT_FIELD_KEY),
    F_TO(rt_rate, valid_to),
    F_DEC(rt_rate, price_nanos, "price", REQ, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, NULL),
    F_INT(rt_rate, price_per, 0, 1, INT64_C(1000000000000), NULL),
    F_INT(rt_rate, first_increment, 0, 0, INT64_C(1000000000000), NULL),
    F_INT(rt_rate, next_increment, 0, 0, INT64_C(1000000000000), NULL),
    F_DEC(rt_rate, setup_fee_nanos, "setup_fee", 0, RT_NANOS_SCALE, 0, MONEY_MAX_NANOS, NULL),
};

static const rt_field time_band_fields[] = {
    F_ID(rt_time_band, band_set_id, KEY),
    F_DAYS(rt_time_band, days, KEY),
    F_CLOCK(rt_time_band, start_s, "start", KEY),
    F_CLOCK(rt_time_band, end_s, "end", REQ),
    F_ID(rt_time_band, band_id, REQ),
};

static const rt_field holiday_fields[] = {
    F_ID(rt_holiday, band_set_id, KEY),
    F_DATE(rt_holiday, date, KEY),
    F_TEXT(rt_holiday, name, 0),
};

static const rt_field allowance_fields[] = {
    F_ID(rt_allowance, plan_id, KEY),
    F_ID(rt_allowance, allowance_id, KEY),
    F_FROM(rt_allowance, valid_from, RT_FIELD_KEY),
    F_TO(rt_allowance, valid_to),
    F_ID(rt_allowance, charge_id, REQ),
    F_ID(rt_allowance, zone_id, 0),
    F_DEC(rt_allowance, quantity_e6, "quantity", REQ, 6, 0, QTY_MAX_E6, NULL),
    F_TEXT(rt_allowance, description, 0),
};

static const rt_field discount_fields[] = {
    F_ID(rt_discount, discount_id, KEY),
    F_FROM(rt_discount, valid_from, RT_FIELD_KEY),
    F_TO(rt_discount, valid_to),
    F_ID(rt_discount, account_id, 0),
    F_ID(rt_discount, plan_id, 0),
    F_ID(rt_discount, charge_id, 0),
    F_DEC(rt_discount, percent_e4, "percent", 0, 4, 1, 1000000, NULL),
    F_DEC(rt_discount, amount_nanos, "amount", 0, RT_NANOS_SCALE, 1, MONEY_MAX_NANOS, NULL),
    F_ID(rt_discount, product_id, 0),
    F_TEXT(rt_discount, description, 0),
};

static const rt_field fx_rate_fields[] = {
    F_CUR(rt_fx_rate, currency, KEY),
    F_FROM(rt_fx_rate, valid_from, RT_FIELD_KEY),
    F_TO(rt_fx_rate, valid_to),
    F_DEC(rt_fx_rate, rate_nanos, "rate", REQ, RT_NANOS_SCALE, 1, MONEY_MAX_NANOS, NULL),
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
    TABLE(RT_T_TIERS, "tiers", rt_tier, tier_fields, false, true),
    TABLE(RT_T_ZONES, "zones", rt_zone, zone_fields, false, true),
    TABLE(RT_T_PREFIXES, "prefixes", rt_prefix, prefix_fields, false, true),
    TABLE(RT_T_RATES, "rates", rt_rate, rate_fields, false, true),
    TABLE(RT_T_TIME_BANDS, "time_bands", rt_time_band, time_band_fields, false, true),
    TABLE(RT_T_HOLIDAYS, "holidays", rt_holiday, holiday_fields, false, true),
    TABLE(RT_T_ALLOWANCES, "allowances", rt_allowance, allowance_fields, false, true),
    TABLE(RT_T_DISCOUNTS, "discounts", rt_discount, discount_fields, false, true),
    TABLE(RT_T_FX_RATES, "fx_rates", rt_fx_rate, fx_rate_fields, false, true),
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
    rt_arena_init(&book->arena, 4 << 20);
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
    } else if (f->type == RT_FT_DIGITS) {
        char lim[48];
        snprintf(lim, sizeof lim, "%lld to %lld digits", (long long)f->min, (long long)f->max);
        if ((int64_t)len < f->min || (int64_t)len > f->max)
            return why_fail(why, wn, RT_EPARSE, "expected %s", lim);
        for (size_t i = 0; i < len; i++)
            if (text[i] < '0' || text[i] > '9')
                return why_fail(why, wn, RT_EPARSE, "expected %s, without '+' or spaces", lim);
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

/* "hh:mm" or "hh:mm:ss", from 00:00 to 24:00 (the end of a day). */
static bool two_digits(const char *t, int *out)
{
    if (t[0] < '0' || t[0] > '9' || t[1] < '0' || t[1] > '9') return false;
    *out = (t[0] - '0') * 10 + (t[1] - '0');
    return true;
}

static rt_status parse_clock(const rt_field *f, void *row, const char *t, size_t len, char *why,
                             size_t wn)
{
    int h = 0, m = 0, sec = 0;
    bool ok = (len == 5 || (len == 8 && t[5] == ':' && two_digits(t + 6, &sec))) &&
              t[2] == ':' && two_digits(t, &h) && two_digits(t + 3, &m) && m <= 59 && sec <= 59;
    int64_t v = (int64_t)h * 3600 + m * 60 + sec;
    if (!ok || v > 86400)
        return why_fail(why, wn, RT_EPARSE, "%s", "expected a time of day hh:mm (00:00 to 24:00)");
    *MEMBER(row, f, int64_t) = v;
    return RT_OK;
}

static const char *const day_names[8] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "hol"};

static int day_index(const char *t, size_t len)
{
    for (int d = 0; d < 8; d++)
        if (len == 3 && memcmp(t, day_names[d], 3) == 0) return d;
    return -1;
}

/* Days joined by '+': "mon", a range "mon-fri" (weekdays only), "hol", or "all" (mon-sun). */
static rt_status parse_days(const rt_field *f, void *row, const char *t, size_t len, char *why,
                            size_t wn)
{
    int64_t mask = 0;
    const char *p = t, *end = t + len;
    while (p <= end) {
        const char *q = memchr(p, '+', (size_t)(end - p));
        if (!q) q = end;
        size_t n = (size_t)(q - p);
        int a = -1, b = -1;
        if (n == 3 && memcmp(p, "all", 3) == 0) {
            a = 0;
            b = 6;
        } else if (n == 7 && p[3] == '-') {
            a = day_index(p, 3);
            b = day_index(p + 4, 3);
            if (a == 7 || b == 7 || b < a) a = -1;
        } else {
            a = b = day_index(p, n);
        }
        if (a < 0)
            return why_fail(why, wn, RT_EPARSE, "%s",
                            "expected days like mon-fri, sat+sun, hol or all");
        for (int d = a; d <= b; d++) mask |= INT64_C(1) << d;
        p = q + 1;
    }
    *MEMBER(row, f, int64_t) = mask;
    return RT_OK;
}

size_t rt_days_set_format(int64_t days, char *buf, size_t n)
{
    char tmp[48];
    size_t len = 0;
    for (int d = 0; d < 8;) {
        if (!(days & (INT64_C(1) << d))) {
            d++;
            continue;
        }
        int e = d;
        while (d < 7 && e + 1 < 7 && (days & (INT64_C(1) << (e + 1)))) e++;
        if (len) tmp[len++] = '+';
        memcpy(tmp + len, day_names[d], 3);
        len += 3;
        if (e > d) {
            tmp[len++] = '-';
            memcpy(tmp + len, day_names[e], 3);
            len += 3;
        }
        d = e + 1;
    }
    if (len >= n) len = n - 1;
    memcpy(buf, tmp, len);
    buf[len] = '\0';
    return len;
}

/* An integer or a decimal with the field's scale, within its [min, max]. */
static rt_status parse_number(const rt_field *f, void *row, const char *text, size_t len,
                              char *why, size_t wn)
{
    int64_t v;
    rt_status st = rt_decimal_parse(text, len, f->type == RT_FT_DECIMAL ? f->scale : 0, &v);
    if (st == RT_ELIMIT) {
        char lim[8];
        snprintf(lim, sizeof lim, "%u", (unsigned)f->scale);
        return why_fail(why, wn, st, f->scale ? "more than %s decimals" : "not a whole number%s",
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

rt_status rt_book_field_parse(rt_book *book, const rt_field *f, void *row, const char *text,
                              size_t len, char *why, size_t wn)
{
    why[0] = '\0';
    /* A safe value first, so a row with a bad cell can still be validated. */
    switch (f->type) {
    case RT_FT_ID:
    case RT_FT_TEXT:
    case RT_FT_DIGITS:
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
        case RT_FT_DIGITS:
        case RT_FT_CURRENCY:
            if (f->dflt && f->dflt[0]) break;
            *MEMBER(row, f, const char *) = "";
            return RT_OK;
        default: break;
        }
        if (!f->dflt) {
            *MEMBER(row, f, int64_t) = RT_UNSET;
            RT_ASSERT(f->type != RT_FT_ENUM);
            return RT_OK;
        }
        text = f->dflt;
        len = strlen(text);
    }
    switch (f->type) {
    case RT_FT_ID:
    case RT_FT_TEXT:
    case RT_FT_DIGITS:
    case RT_FT_CURRENCY: return parse_string(book, f, row, text, len, why, wn);
    case RT_FT_CLOCK: return parse_clock(f, row, text, len, why, wn);
    case RT_FT_DAYS: return parse_days(f, row, text, len, why, wn);
    case RT_FT_DATE: {
        rt_days d;
        if (rt_date_parse(text, len, &d) != RT_OK)
            return why_fail(why, wn, RT_EPARSE, "%s", "expected a date YYYY-MM-DD");
        *MEMBER(row, f, int64_t) = d;
        return RT_OK;
    }
    case RT_FT_INT:
    case RT_FT_DECIMAL: return parse_number(f, row, text, len, why, wn);
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
    RT_ASSERT(false && "unknown field type");
    return RT_EINVAL;
}

size_t rt_book_field_format(const rt_field *f, const void *row, char *buf, size_t n)
{
    RT_ASSERT(n > 0);
    switch (f->type) {
    case RT_FT_CLOCK: {
        int64_t v = *CMEMBER(row, f, int64_t);
        if (v == RT_UNSET) break;
        int w = v % 60 ? snprintf(buf, n, "%02d:%02d:%02d", (int)(v / 3600), (int)(v / 60 % 60),
                                  (int)(v % 60))
                       : snprintf(buf, n, "%02d:%02d", (int)(v / 3600), (int)(v / 60 % 60));
        return w < 0 ? 0 : ((size_t)w < n ? (size_t)w : n - 1);
    }
    case RT_FT_DAYS: {
        int64_t v = *CMEMBER(row, f, int64_t);
        if (v == RT_UNSET) break;
        return rt_days_set_format(v, buf, n);
    }
    case RT_FT_DATE: {
        int64_t v = *CMEMBER(row, f, int64_t);
        if (v == RT_UNSET) break;
        return rt_date_format((rt_days)v, buf, n);
    }
    case RT_FT_ID:
    case RT_FT_TEXT:
    case RT_FT_DIGITS:
    case RT_FT_CURRENCY: {
        const char *s = *CMEMBER(row, f, char *);
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
    buf[0] = '\0';
    return 0;
}

/* ---- ordering ---- */

static int field_compare(const rt_field *f, const void *a, const void *b)
{
    if (f->type == RT_FT_FROM || f->type == RT_FT_TO || f->type == RT_FT_INT ||
        f->type == RT_FT_DECIMAL || f->type == RT_FT_CLOCK || f->type == RT_FT_DAYS ||
        f->type == RT_FT_DATE) {
        int64_t x = *CMEMBER(a, f, int64_t), y = *CMEMBER(b, f, int64_t);
        return x < y ? -1 : x > y;
    }
    if (f->type == RT_FT_ENUM) {
        int32_t x = *CMEMBER(a, f, int32_t), y = *CMEMBER(b, f, int32_t);
        return x < y ? -1 : x > y;
    }
    return strcmp(*CMEMBER(a, f, char *), *CMEMBER(b, f, char *));
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
    const char *tzdir;
    rt_strmap gl, products, plans, accounts;
    /* Composite keys ("a\x1fb") of the pricing tables; their text lives in `keys`. */
    rt_arena keys;
    rt_strmap charge_ids; /* plan\x1fcharge -> first charge row */
    rt_strmap decks;      /* deck -> first zone row */
    rt_strmap zones;      /* deck\x1fzone -> zone row */
    rt_strmap band_sets;  /* band set -> first time band row */
    rt_strmap bands;      /* band set\x1fband -> a time band row */
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
                             *CMEMBER(row, first, char *), line_of(v->book, id, i - 1));
        }
        const char *key = *CMEMBER(row, first, char *);
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

/* ---- validation of the pricing tables ---- */

#define DIAG(v, tid, i, field, ...)                                                            \
    rt_diags_add((v)->d, file_of(tid), line_of((v)->book, tid, i), col_of((v)->book, tid, field), \
                 field, __VA_ARGS__)

/* "a\x1fb" in the validator's arena (NULL when memory runs out: lookups then fail softly). */
static const char *pair_key(validator *v, const char *a, const char *b, size_t *len)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *k = rt_arena_alloc(&v->keys, n);
    if (!k) return NULL;
    *len = rt_strmap_pair(k, n, a, b);
    return k;
}

/* Row of a composite key, or UINT32_MAX. The probe key is built on the stack. */
static uint32_t find_pair(const rt_strmap *m, const char *a, const char *b)
{
    char k[2 * RT_ID_LEN_MAX + 2];
    size_t len = rt_strmap_pair(k, sizeof k, a, b);
    uint32_t row;
    return len && rt_strmap_get(m, k, len, &row) == RT_OK ? row : UINT32_MAX;
}

static rt_status index_pairs(validator *v, rt_table_id id, size_t off_a, size_t off_b,
                             rt_strmap *pairs, rt_strmap *firsts)
{
    const rt_table *t = rt_book_table(id);
    const rt_book_rows *r = &v->book->tables[id];
    rt_status st = rt_strmap_init(pairs, r->count);
    if (st == RT_OK && firsts) st = rt_strmap_init(firsts, r->count);
    for (size_t i = 0; st == RT_OK && i < r->count; i++) {
        const char *row = (const char *)r->rows + i * t->row_size;
        const char *a = *(const char *const *)(row + off_a);
        const char *b = *(const char *const *)(row + off_b);
        size_t len;
        const char *k = pair_key(v, a, b, &len);
        if (!k) return RT_ENOMEM;
        st = rt_strmap_put(pairs, k, len, (uint32_t)i);
        if (st == RT_EEXIST) st = RT_OK;
        if (st == RT_OK && firsts) {
            st = rt_strmap_put(firsts, a, strlen(a), (uint32_t)i);
            if (st == RT_EEXIST) st = RT_OK;
        }
    }
    return st;
}

static const rt_charge *charge_row(const validator *v, uint32_t i)
{
    return &RT_BOOK_ROWS(v->book, RT_T_CHARGES, rt_charge)[i];
}

static const rt_product *product_of(const validator *v, const char *product_id)
{
    uint32_t pi;
    if (rt_strmap_get(&v->products, product_id, strlen(product_id), &pi) != RT_OK) return NULL;
    return &RT_BOOK_ROWS(v->book, RT_T_PRODUCTS, rt_product)[pi];
}

/* A quantity with 6 decimals must be expressible in the product's base unit. */
static bool fits_decimals(int64_t q_e6, const rt_product *p)
{
    return q_e6 == RT_UNSET || !p || q_e6 % rt_pow10((unsigned)(6 - p->quantity_decimals)) == 0;
}

/* Per charge: what its model allows, and the same model and deck across its versions. */
static void validate_charge_models(validator *v)
{
    const rt_book *b = v->book;
    const rt_charge *c = RT_BOOK_ROWS(b, RT_T_CHARGES, rt_charge);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_CHARGES); i++) {
        rt_charge_model m = (rt_charge_model)c[i].model;
        if (c[i].deck_id[0] && !has(&v->decks, c[i].deck_id))
            DIAG(v, RT_T_CHARGES, i, "deck_id", "unknown deck '%s' (no zone in zones.csv)",
                 c[i].deck_id);
        if (c[i].deck_id[0] && m != RT_CHARGE_PER_UNIT && m != RT_CHARGE_FLAT)
            DIAG(v, RT_T_CHARGES, i, "deck_id", "a %s charge cannot be rated per zone",
                 rt_charge_model_name(m));
        if (c[i].min_per_period_nanos != RT_UNSET && !rt_charge_model_is_usage(m))
            DIAG(v, RT_T_CHARGES, i, "min_per_period",
                 "a minimum per period needs a usage charge, not %s", rt_charge_model_name(m));
        if (m == RT_CHARGE_PERCENTAGE &&
            (c[i].first_increment != 0 || c[i].next_increment != 0 ||
             c[i].setup_fee_nanos != 0 || c[i].min_per_event_nanos != RT_UNSET ||
             c[i].max_per_event_nanos != RT_UNSET))
            DIAG(v, RT_T_CHARGES, i, "model",
                 "a percentage charge has no increments, setup fee or per-event bounds");
        if (rt_charge_model_is_period(m) &&
            (c[i].min_per_event_nanos != RT_UNSET || c[i].max_per_event_nanos != RT_UNSET))
            DIAG(v, RT_T_CHARGES, i, "model", "a %s charge is priced per period: it has no "
                 "per-event minimum or maximum", rt_charge_model_name(m));
        if (m == RT_CHARGE_PERCENTAGE && c[i].price_nanos > INT64_C(1000) * RT_NANOS_PER_UNIT)
            DIAG(v, RT_T_CHARGES, i, "price", "a percentage above 1000 is not plausible");
        if (i > 0 && strcmp(c[i].plan_id, c[i - 1].plan_id) == 0 &&
            strcmp(c[i].charge_id, c[i - 1].charge_id) == 0 &&
            (c[i].model != c[i - 1].model || strcmp(c[i].deck_id, c[i - 1].deck_id) != 0))
            DIAG(v, RT_T_CHARGES, i, "model",
                 "every version of charge '%s' must have the same model and deck_id",
                 c[i].charge_id);
    }
}

static void validate_tiers(validator *v, bool *has_tiers)
{
    const rt_book *b = v->book;
    const rt_tier *t = RT_BOOK_ROWS(b, RT_T_TIERS, rt_tier);
    size_t n = RT_BOOK_COUNT(b, RT_T_TIERS);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(t[j].plan_id, t[i].plan_id) == 0 &&
               strcmp(t[j].charge_id, t[i].charge_id) == 0 && t[j].valid_from == t[i].valid_from)
            j++;
        /* The charge version the tiers belong to: same plan, charge and valid_from. */
        uint32_t first = find_pair(&v->charge_ids, t[i].plan_id, t[i].charge_id);
        const rt_charge *ch = NULL;
        for (size_t k = first; first != UINT32_MAX && k < RT_BOOK_COUNT(b, RT_T_CHARGES); k++) {
            const rt_charge *c = charge_row(v, (uint32_t)k);
            if (strcmp(c->plan_id, t[i].plan_id) || strcmp(c->charge_id, t[i].charge_id)) break;
            if (c->valid_from == t[i].valid_from) {
                ch = c;
                has_tiers[k] = true;
            }
        }
        if (!ch)
            DIAG(v, RT_T_TIERS, i, "valid_from",
                 "no version of charge '%s' of plan '%s' starts at this valid_from",
                 t[i].charge_id, t[i].plan_id);
        else if (ch->model != RT_CHARGE_TIERED && ch->model != RT_CHARGE_VOLUME)
            DIAG(v, RT_T_TIERS, i, "charge_id", "charge '%s' is %s, not tiered or volume",
                 ch->charge_id, rt_charge_model_name((rt_charge_model)ch->model));
        const rt_product *p = ch ? product_of(v, ch->product_id) : NULL;
        for (size_t k = i; k < j; k++) {
            if (t[k].tier != (int64_t)(k - i + 1))
                DIAG(v, RT_T_TIERS, k, "tier", "tiers out of order: tier %lld where tier %zu "
                     "was expected", (long long)t[k].tier, k - i + 1);
            bool last = k + 1 == j;
            if (last && t[k].up_to_e6 != RT_UNSET)
                DIAG(v, RT_T_TIERS, k, "up_to", "the last tier must have no up_to (unbounded)");
            if (!last && t[k].up_to_e6 == RT_UNSET)
                DIAG(v, RT_T_TIERS, k, "up_to", "only the last tier may be unbounded");
            if (k > i && t[k].up_to_e6 != RT_UNSET && t[k - 1].up_to_e6 != RT_UNSET &&
                t[k].up_to_e6 <= t[k - 1].up_to_e6)
                DIAG(v, RT_T_TIERS, k, "up_to",
                     "tiers out of order: up_to must be above the previous tier's");
            if (!fits_decimals(t[k].up_to_e6, p))
                DIAG(v, RT_T_TIERS, k, "up_to", "more decimals than product '%s' allows",
                     p->product_id);
        }
        i = j;
    }
    const rt_charge *c = RT_BOOK_ROWS(b, RT_T_CHARGES, rt_charge);
    for (size_t k = 0; k < RT_BOOK_COUNT(b, RT_T_CHARGES); k++)
        if ((c[k].model == RT_CHARGE_TIERED || c[k].model == RT_CHARGE_VOLUME) && !has_tiers[k])
            DIAG(v, RT_T_CHARGES, k, "model", "a %s charge needs tiers in tiers.csv",
                 rt_charge_model_name((rt_charge_model)c[k].model));
}

static void validate_decks(validator *v)
{
    const rt_book *b = v->book;
    const rt_prefix *p = RT_BOOK_ROWS(b, RT_T_PREFIXES, rt_prefix);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_PREFIXES); i++)
        if (find_pair(&v->zones, p[i].deck_id, p[i].zone_id) == UINT32_MAX)
            DIAG(v, RT_T_PREFIXES, i, "zone_id", "deck '%s' has no zone '%s'", p[i].deck_id,
                 p[i].zone_id);
    check_versions(v, RT_T_PREFIXES, 2, offsetof(rt_prefix, valid_from),
                   offsetof(rt_prefix, valid_to));
}

/* The plan row of an id (validated to exist), or NULL. */
static const rt_plan *plan_of(const validator *v, const char *plan_id)
{
    uint32_t i;
    if (rt_strmap_get(&v->plans, plan_id, strlen(plan_id), &i) != RT_OK) return NULL;
    return &RT_BOOK_ROWS(v->book, RT_T_PLANS, rt_plan)[i];
}

/* Checks shared by rates and allowances: the charge of the plan, and the zone of its deck. */
static const rt_charge *check_charge_zone(validator *v, rt_table_id tid, size_t i,
                                          const char *plan_id, const char *charge_id,
                                          const char *zone_id)
{
    uint32_t ci = find_pair(&v->charge_ids, plan_id, charge_id);
    if (ci == UINT32_MAX) {
        DIAG(v, tid, i, "charge_id", "plan '%s' has no charge '%s'", plan_id, charge_id);
        return NULL;
    }
    const rt_charge *ch = charge_row(v, ci);
    if (zone_id[0] && !ch->deck_id[0])
        DIAG(v, tid, i, "zone_id", "charge '%s' has no deck, so no zones", charge_id);
    else if (zone_id[0] && find_pair(&v->zones, ch->deck_id, zone_id) == UINT32_MAX)
        DIAG(v, tid, i, "zone_id", "deck '%s' has no zone '%s'", ch->deck_id, zone_id);
    return ch;
}

/* Whether a rate row bills with a first step but no next one under some version of its
 * charge (first row `ci`), taking the charge's increment where the row leaves one empty: the
 * row's own pair is checked apart, but a first step of its own over the charge's 0/0, or an
 * empty first step under the charge's 60/60 with a next step of 0, is the same mistake. */
static bool rate_lacks_next_step(const validator *v, const rt_rate *r, uint32_t ci)
{
    const rt_charge *c = RT_BOOK_ROWS(v->book, RT_T_CHARGES, rt_charge);
    for (size_t k = ci; k < RT_BOOK_COUNT(v->book, RT_T_CHARGES) &&
                        strcmp(c[k].plan_id, c[ci].plan_id) == 0 &&
                        strcmp(c[k].charge_id, c[ci].charge_id) == 0;
         k++) {
        int64_t first = r->first_increment != RT_UNSET ? r->first_increment : c[k].first_increment;
        int64_t next = r->next_increment != RT_UNSET ? r->next_increment : c[k].next_increment;
        if (first > 0 && next == 0) return true;
    }
    return false;
}

static void validate_rates(validator *v)
{
    const rt_book *b = v->book;
    const rt_rate *r = RT_BOOK_ROWS(b, RT_T_RATES, rt_rate);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_RATES); i++) {
        const rt_charge *ch = check_charge_zone(v, RT_T_RATES, i, r[i].plan_id, r[i].charge_id,
                                                r[i].zone_id);
        if (ch && ch->model != RT_CHARGE_PER_UNIT && ch->model != RT_CHARGE_FLAT)
            DIAG(v, RT_T_RATES, i, "charge_id",
                 "charge '%s' is %s: only per_unit and flat charges have rates", ch->charge_id,
                 rt_charge_model_name((rt_charge_model)ch->model));
        const rt_plan *pl = plan_of(v, r[i].plan_id);
        bool unknown_band = r[i].band_id[0] && pl &&
                            (!pl->band_set_id[0] ||
                             find_pair(&v->bands, pl->band_set_id, r[i].band_id) == UINT32_MAX);
        if (unknown_band)
            DIAG(v, RT_T_RATES, i, "band_id", "band '%s' is not in band set '%s' of plan '%s'",
                 r[i].band_id, pl->band_set_id, pl->plan_id);
        if (ch && rate_lacks_next_step(v, &r[i], find_pair(&v->charge_ids, r[i].plan_id,
                                                           r[i].charge_id)))
            DIAG(v, RT_T_RATES, i, "next_increment",
                 "next_increment must be at least 1 when first_increment is set (the rate's or "
                 "the charge's)");
        bool group_start = i == 0 || strcmp(r[i].plan_id, r[i - 1].plan_id) ||
                           strcmp(r[i].charge_id, r[i - 1].charge_id) ||
                           strcmp(r[i].zone_id, r[i - 1].zone_id) ||
                           strcmp(r[i].band_id, r[i - 1].band_id);
        if (group_start && r[i].interval_start != 0)
            DIAG(v, RT_T_RATES, i, "interval_start",
                 "the rates of a zone and band must start with an interval_start of 0");
    }
    check_versions(v, RT_T_RATES, 5, offsetof(rt_rate, valid_from), offsetof(rt_rate, valid_to));
    /* A charge with a deck is priced only by its rates: it must have some. */
    const rt_charge *c = RT_BOOK_ROWS(b, RT_T_CHARGES, rt_charge);
    for (size_t k = 0; k < RT_BOOK_COUNT(b, RT_T_CHARGES); k++) {
        if (!c[k].deck_id[0] || find_pair(&v->charge_ids, c[k].plan_id, c[k].charge_id) != k)
            continue;
        size_t lo = 0, hi = RT_BOOK_COUNT(b, RT_T_RATES);
        while (lo < hi) { /* rates are sorted by (plan_id, charge_id, ...) */
            size_t mid = lo + (hi - lo) / 2;
            int cmp = strcmp(r[mid].plan_id, c[k].plan_id);
            if (cmp == 0) cmp = strcmp(r[mid].charge_id, c[k].charge_id);
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == RT_BOOK_COUNT(b, RT_T_RATES) || strcmp(r[lo].plan_id, c[k].plan_id) ||
            strcmp(r[lo].charge_id, c[k].charge_id))
            DIAG(v, RT_T_CHARGES, k, "deck_id", "charge '%s' has a deck but no rates in rates.csv",
                 c[k].charge_id);
    }
}

static void format_clock(int64_t s, char *buf, size_t n)
{
    snprintf(buf, n, "%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60));
}

typedef struct band_span {
    int64_t start, end;
    size_t row;
} band_span;

/* One day type of one band set: rules must not overlap, and weekdays must be covered from
 * 00:00 to 24:00 so that every instant has exactly one band. */
static void check_band_day(validator *v, size_t first, size_t end, int day)
{
    const rt_time_band *t = RT_BOOK_ROWS(v->book, RT_T_TIME_BANDS, rt_time_band);
    band_span sp[RT_BAND_RULES_MAX];
    size_t n = 0;
    for (size_t i = first; i < end && n < RT_BAND_RULES_MAX; i++)
        if ((t[i].days & (INT64_C(1) << day)) && t[i].start_s < t[i].end_s)
            sp[n++] = (band_span){t[i].start_s, t[i].end_s, i};
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && sp[j - 1].start > sp[j].start; j--) {
            band_span tmp = sp[j];
            sp[j] = sp[j - 1];
            sp[j - 1] = tmp;
        }
    static const char *const names[8] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "hol"};
    int64_t covered = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && sp[i].start < sp[i - 1].end)
            DIAG(v, RT_T_TIME_BANDS, sp[i].row, "start", "on %s this rule overlaps the rule on "
                 "line %u", names[day], line_of(v->book, RT_T_TIME_BANDS, sp[i - 1].row));
        if (day < 7 && sp[i].start > covered) {
            char a[8], b[8];
            format_clock(covered, a, sizeof a);
            format_clock(sp[i].start, b, sizeof b);
            DIAG(v, RT_T_TIME_BANDS, sp[i].row, "start", "band set '%s' has no band on %s from "
                 "%s to %s", t[first].band_set_id, names[day], a, b);
        }
        if (sp[i].end > covered) covered = sp[i].end;
    }
    if (day < 7 && covered < 86400) {
        char a[8];
        format_clock(covered, a, sizeof a);
        DIAG(v, RT_T_TIME_BANDS, first, "end", "band set '%s' has no band on %s from %s to 24:00",
             t[first].band_set_id, names[day], a);
    }
}

static void validate_time_bands(validator *v)
{
    const rt_book *b = v->book;
    const rt_time_band *t = RT_BOOK_ROWS(b, RT_T_TIME_BANDS, rt_time_band);
    size_t n = RT_BOOK_COUNT(b, RT_T_TIME_BANDS);
    rt_strmap ids;
    if (rt_strmap_init(&ids, RT_BANDS_MAX) != RT_OK) return;
    for (size_t i = 0; i < n; i++) {
        if (t[i].start_s >= t[i].end_s)
            DIAG(v, RT_T_TIME_BANDS, i, "end", "end must be after start");
        if (rt_strmap_put(&ids, t[i].band_id, strlen(t[i].band_id), 0) == RT_OK &&
            ids.count > RT_BANDS_MAX)
            DIAG(v, RT_T_TIME_BANDS, i, "band_id", "more than %d distinct band ids in the book",
                 RT_BANDS_MAX);
    }
    rt_strmap_free(&ids);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(t[j].band_set_id, t[i].band_set_id) == 0) j++;
        if (j - i > RT_BAND_RULES_MAX)
            DIAG(v, RT_T_TIME_BANDS, i, "band_set_id", "band set '%s' has more than %d rules",
                 t[i].band_set_id, RT_BAND_RULES_MAX);
        for (int d = 0; d < 8; d++) check_band_day(v, i, j, d);
        i = j;
    }
    const rt_holiday *h = RT_BOOK_ROWS(b, RT_T_HOLIDAYS, rt_holiday);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_HOLIDAYS); i++)
        if (!has(&v->band_sets, h[i].band_set_id))
            DIAG(v, RT_T_HOLIDAYS, i, "band_set_id", "unknown band set '%s'", h[i].band_set_id);
}

/* Plans: the time zone exists, the band set exists, national numbers can be normalised. */
static void validate_plans(validator *v)
{
    const rt_book *b = v->book;
    const rt_plan *p = RT_BOOK_ROWS(b, RT_T_PLANS, rt_plan);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_PLANS); i++) {
        if (p[i].time_zone[0]) {
            rt_tz tz;
            rt_error err;
            rt_status st = rt_tz_load(v->tzdir, p[i].time_zone, &tz, &err);
            if (st == RT_OK)
                rt_tz_free(&tz);
            else if (st == RT_ENOTFOUND || st == RT_EINVAL)
                DIAG(v, RT_T_PLANS, i, "time_zone", "time zone '%s' does not exist in the tz "
                     "database", p[i].time_zone);
            else
                DIAG(v, RT_T_PLANS, i, "time_zone", "%s", err.message);
        }
        if (p[i].band_set_id[0] && !has(&v->band_sets, p[i].band_set_id))
            DIAG(v, RT_T_PLANS, i, "band_set_id", "unknown band set '%s'", p[i].band_set_id);
        if (p[i].national_prefix[0] && !p[i].country_code[0])
            DIAG(v, RT_T_PLANS, i, "country_code",
                 "a national_prefix needs the country_code that replaces it");
    }
}

static void validate_allowances(validator *v)
{
    const rt_book *b = v->book;
    const rt_allowance *a = RT_BOOK_ROWS(b, RT_T_ALLOWANCES, rt_allowance);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_ALLOWANCES); i++) {
        const rt_charge *ch = check_charge_zone(v, RT_T_ALLOWANCES, i, a[i].plan_id,
                                                a[i].charge_id, a[i].zone_id);
        if (!ch) continue;
        if (!rt_charge_model_is_usage((rt_charge_model)ch->model)) {
            DIAG(v, RT_T_ALLOWANCES, i, "charge_id", "charge '%s' is %s: allowances cover usage",
                 ch->charge_id, rt_charge_model_name((rt_charge_model)ch->model));
            continue;
        }
        const rt_product *p = product_of(v, ch->product_id);
        bool flat = ch->model == RT_CHARGE_FLAT;
        if (flat ? a[i].quantity_e6 % 1000000 != 0 : !fits_decimals(a[i].quantity_e6, p))
            DIAG(v, RT_T_ALLOWANCES, i, "quantity", flat ? "a flat charge's allowance counts "
                 "events: a whole number" : "more decimals than the product allows");
    }
    check_versions(v, RT_T_ALLOWANCES, 2, offsetof(rt_allowance, valid_from),
                   offsetof(rt_allowance, valid_to));
}

static void validate_discounts(validator *v)
{
    const rt_book *b = v->book;
    const rt_discount *d = RT_BOOK_ROWS(b, RT_T_DISCOUNTS, rt_discount);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_DISCOUNTS); i++) {
        if (!d[i].account_id[0] && !d[i].plan_id[0])
            DIAG(v, RT_T_DISCOUNTS, i, "account_id", "a discount needs an account_id or a plan_id");
        if (d[i].account_id[0] && !has(&v->accounts, d[i].account_id))
            DIAG(v, RT_T_DISCOUNTS, i, "account_id", "unknown account '%s'", d[i].account_id);
        if (d[i].plan_id[0] && !has(&v->plans, d[i].plan_id))
            DIAG(v, RT_T_DISCOUNTS, i, "plan_id", "unknown plan '%s'", d[i].plan_id);
        if (d[i].charge_id[0] && !d[i].plan_id[0])
            DIAG(v, RT_T_DISCOUNTS, i, "charge_id", "a charge discount needs the charge's plan_id");
        else if (d[i].charge_id[0] && find_pair(&v->charge_ids, d[i].plan_id, d[i].charge_id) ==
                                          UINT32_MAX)
            DIAG(v, RT_T_DISCOUNTS, i, "charge_id", "plan '%s' has no charge '%s'", d[i].plan_id,
                 d[i].charge_id);
        if ((d[i].percent_e4 == RT_UNSET) == (d[i].amount_nanos == RT_UNSET))
            DIAG(v, RT_T_DISCOUNTS, i, "percent", "set exactly one of percent and amount");
        if (!d[i].charge_id[0] && !d[i].product_id[0])
            DIAG(v, RT_T_DISCOUNTS, i, "product_id",
                 "an invoice discount needs a product (its GL account and tax category)");
        if (d[i].product_id[0] && !has(&v->products, d[i].product_id))
            DIAG(v, RT_T_DISCOUNTS, i, "product_id", "unknown product '%s'", d[i].product_id);
    }
    check_versions(v, RT_T_DISCOUNTS, 1, offsetof(rt_discount, valid_from),
                   offsetof(rt_discount, valid_to));
}

/* FX rates: none for the functional currency itself, and some for every other currency an
 * account is billed in. */
static void validate_fx(validator *v)
{
    const rt_book *b = v->book;
    const rt_company *co = RT_BOOK_COUNT(b, RT_T_COMPANY) == 1 ? rt_book_company(b) : NULL;
    const rt_fx_rate *fx = RT_BOOK_ROWS(b, RT_T_FX_RATES, rt_fx_rate);
    size_t nfx = RT_BOOK_COUNT(b, RT_T_FX_RATES);
    for (size_t i = 0; co && i < nfx; i++)
        if (strcmp(fx[i].currency, co->functional_currency) == 0)
            DIAG(v, RT_T_FX_RATES, i, "currency", "%s is the functional currency",
                 fx[i].currency);
    check_versions(v, RT_T_FX_RATES, 1, offsetof(rt_fx_rate, valid_from),
                   offsetof(rt_fx_rate, valid_to));
    const rt_account *a = RT_BOOK_ROWS(b, RT_T_ACCOUNTS, rt_account);
    for (size_t i = 0; co && i < RT_BOOK_COUNT(b, RT_T_ACCOUNTS); i++) {
        if (strcmp(a[i].currency, co->functional_currency) == 0) continue;
        bool found = false;
        for (size_t k = 0; k < nfx && !found; k++)
            found = strcmp(fx[k].currency, a[i].currency) == 0;
        if (!found)
            DIAG(v, RT_T_ACCOUNTS, i, "currency",
                 "account '%s' is billed in %s but fx_rates.csv has no rate from %s to the "
                 "functional currency %s",
                 a[i].account_id, a[i].currency, a[i].currency, co->functional_currency);
    }
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
            bool usage_model = rt_charge_model_is_usage((rt_charge_model)c[i].model) ||
                               c[i].model == RT_CHARGE_PERCENTAGE;
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
        if (c[i].cycle_months <= 0 || 12 % c[i].cycle_months != 0)
            rt_diags_add(v->d, file, line, col_of(v->book, RT_T_CHARGES, "cycle_months"),
                         "cycle_months", "cycle_months must divide 12 (1, 2, 3, 4, 6 or 12)");
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
    validate_charge_models(v);

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

bool rt_book_peppol_id_ok(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    if (s[4] != ':') return false;
    size_t n = 0;
    for (const char *c = s + 5; *c; c++, n++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
              *c == '.' || *c == '-' || *c == '_'))
            return false;
    return n >= 1 && n <= RT_PEPPOL_ID_MAX;
}

#define PEPPOL_ID_RULE                                                                             \
    "is not a Peppol participant identifier: a 4-digit EAS scheme code, ':', then up to 50 "       \
    "letters, digits, '.', '-' or '_' (0088:5790000435975)"

static void validate_peppol_ids(validator *v)
{
    const rt_book *b = v->book;
    const rt_company *co = RT_BOOK_ROWS(b, RT_T_COMPANY, rt_company);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_COMPANY); i++)
        if (co[i].peppol_id && co[i].peppol_id[0] && !rt_book_peppol_id_ok(co[i].peppol_id))
            DIAG(v, RT_T_COMPANY, i, "peppol_id", "'%s' " PEPPOL_ID_RULE, co[i].peppol_id);
    const rt_account *a = RT_BOOK_ROWS(b, RT_T_ACCOUNTS, rt_account);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_ACCOUNTS); i++)
        if (a[i].peppol_id && a[i].peppol_id[0] && !rt_book_peppol_id_ok(a[i].peppol_id))
            DIAG(v, RT_T_ACCOUNTS, i, "peppol_id", "account '%s': '%s' " PEPPOL_ID_RULE,
                 a[i].account_id, a[i].peppol_id);
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
    validate_fx(v);
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
    return rt_book_validate_tz(book, NULL, diags);
}

static rt_status index_pricing(validator *v)
{
    rt_status st;
    if ((st = index_pairs(v, RT_T_CHARGES, offsetof(rt_charge, plan_id),
                          offsetof(rt_charge, charge_id), &v->charge_ids, NULL)) != RT_OK)
        return st;
    if ((st = index_pairs(v, RT_T_ZONES, offsetof(rt_zone, deck_id), offsetof(rt_zone, zone_id),
                          &v->zones, &v->decks)) != RT_OK)
        return st;
    return index_pairs(v, RT_T_TIME_BANDS, offsetof(rt_time_band, band_set_id),
                       offsetof(rt_time_band, band_id), &v->bands, &v->band_sets);
}

rt_status rt_book_validate_tz(const rt_book *book, const char *tzdir, rt_diags *diags)
{
    size_t before = rt_diags_total(diags);
    validator v = {.book = book, .d = diags, .tzdir = tzdir};
    rt_arena_init(&v.keys, 64 * 1024);
    bool *has_tiers = calloc(RT_BOOK_COUNT(book, RT_T_CHARGES) + 1, sizeof *has_tiers);
    rt_status st = has_tiers ? RT_OK : RT_ENOMEM;
    if (st != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_GL_ACCOUNTS, &v.gl)) != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_PRODUCTS, &v.products)) != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_PLANS, &v.plans)) != RT_OK) goto done;
    if ((st = index_ids(&v, RT_T_ACCOUNTS, &v.accounts)) != RT_OK) goto done;
    {
        /* Duplicate full keys in the tables not indexed above. */
        rt_strmap scratch;
        static const rt_table_id others[] = {
            RT_T_CHARGES,    RT_T_ACCOUNT_PLANS, RT_T_TAX_RATES, RT_T_TIERS,
            RT_T_ZONES,      RT_T_PREFIXES,      RT_T_RATES,     RT_T_TIME_BANDS,
            RT_T_HOLIDAYS,   RT_T_ALLOWANCES,    RT_T_DISCOUNTS, RT_T_FX_RATES};
        for (size_t i = 0; i < RT_ARRAY_LEN(others); i++) {
            if ((st = index_ids(&v, others[i], &scratch)) != RT_OK) goto done;
            rt_strmap_free(&scratch);
        }
    }
    if ((st = index_pricing(&v)) != RT_OK) goto done;
    validate_company_and_gl(&v);
    validate_products(&v);
    validate_plans(&v);
    validate_charges(&v);
    validate_tiers(&v, has_tiers);
    validate_decks(&v);
    validate_time_bands(&v);
    validate_rates(&v);
    validate_allowances(&v);
    validate_discounts(&v);
    validate_accounts(&v);
    validate_peppol_ids(&v);
    validate_taxes(&v);
done:
    free(has_tiers);
    rt_strmap_free(&v.gl);
    rt_strmap_free(&v.products);
    rt_strmap_free(&v.plans);
    rt_strmap_free(&v.accounts);
    rt_strmap_free(&v.charge_ids);
    rt_strmap_free(&v.decks);
    rt_strmap_free(&v.zones);
    rt_strmap_free(&v.band_sets);
    rt_strmap_free(&v.bands);
    rt_arena_free(&v.keys);
    if (st != RT_OK) return st;
    return rt_diags_total(diags) > before ? RT_EINVALID : RT_OK;
}

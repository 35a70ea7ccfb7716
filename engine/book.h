/* book: the price book as data: its tables, their schema, and their validation.
 *
 * Owns the in-memory model of a price book (company settings, chart of accounts, products,
 * plans, charges, accounts, plan assignments, tax rates, tiers, destination rate decks (zones
 * and prefixes), rates per zone and time band, time bands and holidays, allowances,
 * discounts, FX rates), the schema that describes every
 * table column by column (used by the CSV reader/writer, LMDB storage and `book show`), the
 * canonical text form of every field, and the cross-table validation rules. It does not read
 * files (formats/book_csv does), store anything (pricebook does) or index for rating
 * (catalog does).
 *
 * Effective dating: rows that carry valid_from / valid_to are versions of one thing, in force
 * over the half-open range [valid_from, valid_to). Versions of one thing must not overlap. */
#ifndef RT_BOOK_H
#define RT_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/datetime.h"
#include "engine/money.h"
#include "engine/status.h"

/* ---- limits ---- */
enum {
    RT_ID_LEN_MAX = 64,     /* identifiers: ids of products, plans, accounts... */
    RT_TEXT_LEN_MAX = 256,  /* free text: names, addresses, descriptions */
    RT_FIELD_TEXT_MAX = 320, /* a buffer large enough for any field's canonical text */
    RT_PREFIX_DIGITS_MAX = 15, /* E.164 numbers have at most 15 digits */
    RT_TIERS_MAX = 32,         /* tiers of one charge version */
    RT_BANDS_MAX = 64,         /* distinct band ids in a book */
    RT_BAND_RULES_MAX = 64,    /* time band rows of one band set */
};

/* Optional integer or decimal fields hold RT_UNSET when their cell is empty. */
#define RT_UNSET INT64_MIN
/* valid_from left empty: in force since always. */
#define RT_TIME_OPEN_START INT64_MIN

/* ---- enumerations stored in the book ---- */
typedef enum rt_gl_role {
    RT_GL_REVENUE = 0,
    RT_GL_RECEIVABLE,
    RT_GL_VAT_PAYABLE,
    RT_GL_DEFERRED_REVENUE,
    RT_GL_UNBILLED_RECEIVABLE,
    RT_GL_ROLE_COUNT_
} rt_gl_role;

typedef enum rt_revenue_type {
    RT_REVENUE_USAGE = 0,
    RT_REVENUE_RECURRING,
    RT_REVENUE_ONE_TIME,
    RT_REVENUE_TYPE_COUNT_
} rt_revenue_type;

typedef enum rt_charge_model {
    RT_CHARGE_PER_UNIT = 0, /* usage: price per price_per units of billable quantity, per event */
    RT_CHARGE_FLAT,         /* usage: price per event, whatever its quantity */
    RT_CHARGE_RECURRING,    /* orders: price per month of service and unit, prorated by day */
    RT_CHARGE_ONE_TIME,     /* orders: price per unit ordered, billed once */
    RT_CHARGE_TIERED,       /* usage, per period: graduated tiers (tiers.csv) */
    RT_CHARGE_VOLUME,       /* usage, per period: the whole quantity at its tier's price */
    RT_CHARGE_PACKAGE,      /* usage, per period: price per started block of price_per units */
    RT_CHARGE_PERCENTAGE,   /* per period: price percent of the plan's other charges */
    RT_CHARGE_MODEL_COUNT_
} rt_charge_model;

/* When a recurring product is billed relative to its service period. */
typedef enum rt_billing_timing {
    RT_BILL_IN_ADVANCE = 0, /* the next period's service is billed now (deferred revenue) */
    RT_BILL_IN_ARREARS,     /* the period's service is billed at its end */
    RT_BILLING_TIMING_COUNT_
} rt_billing_timing;

/* How a call that crosses a time band boundary is rated. */
typedef enum rt_band_crossing {
    RT_CROSSING_START = 0, /* wholly at the band in force when it starts */
    RT_CROSSING_SPLIT,     /* each part at the band in force during it */
    RT_BAND_CROSSING_COUNT_
} rt_band_crossing;

/* Bits of a time band's `days` set: ISO weekdays Monday (bit 0) to Sunday (bit 6), and
 * holidays (bit 7). */
enum { RT_DAYS_HOLIDAY = 1 << 7, RT_DAYS_WEEK = 0x7f };

/* UNCL 5305 duty/tax category codes used by EN 16931. */
typedef enum rt_vat_code {
    RT_VAT_S = 0, /* standard rate */
    RT_VAT_Z,     /* zero rated */
    RT_VAT_E,     /* exempt */
    RT_VAT_AE,    /* reverse charge */
    RT_VAT_K,     /* intra-community supply */
    RT_VAT_G,     /* export outside the EU */
    RT_VAT_O,     /* outside the scope of VAT */
    RT_VAT_CODE_COUNT_
} rt_vat_code;

/* ---- rows ----
 * Every string points into the book's arena and lives as long as the book. */
typedef struct rt_company {
    const char *name;
    const char *vat_id;
    const char *registration_id; /* SIREN for France, company number elsewhere */
    const char *street;
    const char *city;
    const char *postcode;
    const char *country; /* ISO 3166-1 alpha-2 */
    const char *email;
    const char *functional_currency;
    const char *invoice_prefix;     /* "INV-2026-" style series prefix */
    const char *credit_note_prefix; /* series of credit notes */
    int64_t payment_terms_days;
    int32_t line_rounding; /* rt_round: event nanos summed, then rounded to minor units */
    int32_t tax_rounding;  /* rt_round: tax per rate on the sum of line nets */
    const char *sales_journal_code;
    const char *sales_journal_label;
    const char *peppol_id; /* Peppol participant id "SCHEME:ID" (rt_book_peppol_id_ok); "" */
} rt_company;

typedef struct rt_gl_account {
    const char *gl_account;
    const char *label;
    int32_t role; /* rt_gl_role */
} rt_gl_account;

typedef struct rt_product {
    const char *product_id;
    rt_time_s valid_from;
    rt_time_s valid_to;
    const char *name;
    const char *unit;           /* second, byte, kWh, message, each, month... */
    const char *unit_code;      /* UN/ECE Recommendation 20 code for e-invoices: SEC, KWH... */
    int64_t quantity_decimals;  /* usage quantities carry this many decimals (base unit) */
    const char *gl_account;     /* revenue account */
    const char *tax_category;   /* matched against tax_rates.tax_category */
    int32_t revenue_type;       /* rt_revenue_type */
    int64_t max_quantity;       /* base units; a larger event is rejected (RT_UNSET: none) */
    int32_t billing_timing;     /* rt_billing_timing, for recurring products */
} rt_product;

typedef struct rt_plan {
    const char *plan_id;
    const char *name;
    const char *currency;
    const char *time_zone; /* IANA name, for time bands; "" = UTC */
    const char *band_set_id;  /* time bands of the plan's rates ("" = none) */
    int32_t band_crossing;    /* rt_band_crossing */
    const char *country_code; /* E.164 country code of national numbers ("33") */
    const char *national_prefix;      /* trunk prefix replaced by country_code ("0") */
    const char *international_prefix; /* dialled before a country code ("00") */
} rt_plan;

typedef struct rt_charge {
    const char *plan_id;
    const char *charge_id;
    rt_time_s valid_from;
    rt_time_s valid_to;
    const char *product_id;
    const char *description;      /* invoice line text; the product name when empty */
    int32_t model;                /* rt_charge_model */
    int64_t price_nanos;          /* per price_per units (per_unit) or per event (flat) */
    int64_t price_per;            /* units the price is for: 60 = per minute of seconds */
    int64_t first_increment;      /* base units billed for the first step (0: none) */
    int64_t next_increment;       /* base units of every following step (0/0: no rounding) */
    int64_t setup_fee_nanos;      /* added to every event (connection fee) */
    int64_t min_per_event_nanos;  /* RT_UNSET: none */
    int64_t max_per_event_nanos;  /* RT_UNSET: none */
    int64_t event_decimals;       /* event amounts are rounded to this many decimals */
    int32_t event_rounding;       /* rt_round */
    const char *deck_id;          /* destination deck: rated per zone (rates.csv); "" none */
    int64_t min_per_period_nanos; /* minimum of the charge per period (RT_UNSET: none) */
    int64_t cycle_months;         /* recurring: months per billing cycle (1,2,3,4,6,12) */
} rt_charge;

typedef struct rt_account {
    const char *account_id;
    const char *name;
    const char *street;
    const char *city;
    const char *postcode;
    const char *country;
    const char *vat_id;
    const char *email;
    const char *buyer_reference;
    const char *currency;
    const char *tax_jurisdiction;
    int64_t bill_cycle_day;
    int64_t payment_terms_days; /* RT_UNSET: the company's */
    const char *peppol_id;      /* Peppol participant id "SCHEME:ID" (rt_book_peppol_id_ok); "" */
} rt_account;

typedef struct rt_account_plan {
    const char *account_id;
    const char *plan_id;
    rt_time_s valid_from;
    rt_time_s valid_to;
} rt_account_plan;

typedef struct rt_tax_rate {
    const char *jurisdiction;
    const char *tax_category;
    rt_time_s valid_from;
    rt_time_s valid_to;
    int64_t rate_e4;          /* percent with four decimals: 20% = 200000 */
    int32_t vat_code;         /* rt_vat_code */
    const char *exemption_reason;
} rt_tax_rate;

/* One tier of a tiered or volume charge version (tiers.csv). */
typedef struct rt_tier {
    const char *plan_id;
    const char *charge_id;
    rt_time_s valid_from; /* the valid_from of the charge version the tier belongs to */
    int64_t tier;         /* 1, 2, ... in order */
    int64_t up_to_e6;     /* inclusive upper bound, product units x 10^6; RT_UNSET: none */
    int64_t price_nanos;  /* per the charge's price_per units */
    int64_t flat_fee_nanos; /* added once when the tier is reached */
} rt_tier;

/* A zone of a destination deck (zones.csv). */
typedef struct rt_zone {
    const char *deck_id;
    const char *zone_id;
    const char *name;
} rt_zone;

/* A number prefix of a deck and the zone it leads to (prefixes.csv). */
typedef struct rt_prefix {
    const char *deck_id;
    const char *prefix; /* 1-15 digits, E.164 without '+' */
    rt_time_s valid_from;
    rt_time_s valid_to;
    const char *zone_id;
} rt_prefix;

/* A rate of a charge for a zone and a time band, from interval_start base units of the
 * event on (rates.csv). Empty optional columns take the charge's values. */
typedef struct rt_rate {
    const char *plan_id;
    const char *charge_id;
    const char *zone_id; /* "" = any zone (or a charge without deck) */
    const char *band_id; /* "" = any band */
    int64_t interval_start; /* base units of the event before this rate applies */
    rt_time_s valid_from;
    rt_time_s valid_to;
    int64_t price_nanos;
    int64_t price_per;       /* RT_UNSET: the charge's */
    int64_t first_increment; /* RT_UNSET: the charge's */
    int64_t next_increment;  /* RT_UNSET: the charge's */
    int64_t setup_fee_nanos; /* RT_UNSET: the charge's; only the interval from 0 has one */
} rt_rate;

/* One rule of a band set: on `days`, from start to end (local time), band_id applies. */
typedef struct rt_time_band {
    const char *band_set_id;
    int64_t days;    /* RT_DAYS_* bit set */
    int64_t start_s; /* seconds after local midnight */
    int64_t end_s;   /* exclusive; 86400 = midnight at the end of the day */
    const char *band_id;
} rt_time_band;

/* A holiday of a band set: its `hol` rules apply all that local day. */
typedef struct rt_holiday {
    const char *band_set_id;
    int64_t date; /* rt_days */
    const char *name;
} rt_holiday;

/* Free units per billing period of a charge, optionally of one zone (allowances.csv). */
typedef struct rt_allowance {
    const char *plan_id;
    const char *allowance_id;
    rt_time_s valid_from;
    rt_time_s valid_to;
    const char *charge_id;
    const char *zone_id;  /* "" = every zone */
    int64_t quantity_e6;  /* product units x 10^6 (events for flat charges) */
    const char *description;
} rt_allowance;

/* A discount of an account or of a plan's accounts, on one charge or on the invoice. */
typedef struct rt_discount {
    const char *discount_id;
    rt_time_s valid_from;
    rt_time_s valid_to;
    const char *account_id; /* "" = every account on plan_id */
    const char *plan_id;    /* "" = an account's own discount */
    const char *charge_id;  /* "" = the whole invoice */
    int64_t percent_e4;     /* RT_UNSET, or percent with 4 decimals */
    int64_t amount_nanos;   /* RT_UNSET, or a fixed amount in the account's currency */
    const char *product_id; /* GL account and tax category of the line ("" = the charge's) */
    const char *description;
} rt_discount;

/* Units of the functional currency for one unit of `currency` (fx_rates.csv). */
typedef struct rt_fx_rate {
    const char *currency;
    rt_time_s valid_from;
    rt_time_s valid_to;
    int64_t rate_nanos;
} rt_fx_rate;

/* ---- schema ---- */
typedef enum rt_table_id {
    RT_T_COMPANY = 0,
    RT_T_GL_ACCOUNTS,
    RT_T_PRODUCTS,
    RT_T_PLANS,
    RT_T_CHARGES,
    RT_T_ACCOUNTS,
    RT_T_ACCOUNT_PLANS,
    RT_T_TAX_RATES,
    RT_T_TIERS,
    RT_T_ZONES,
    RT_T_PREFIXES,
    RT_T_RATES,
    RT_T_TIME_BANDS,
    RT_T_HOLIDAYS,
    RT_T_ALLOWANCES,
    RT_T_DISCOUNTS,
    RT_T_FX_RATES,
    RT_T_COUNT_
} rt_table_id;

typedef enum rt_field_type {
    RT_FT_ID,       /* const char *: 1..64 of [A-Za-z0-9._:+@/-] */
    RT_FT_TEXT,     /* const char *: up to 256 bytes of UTF-8 without control characters */
    RT_FT_DECIMAL,  /* int64_t with `scale` decimals */
    RT_FT_INT,      /* int64_t */
    RT_FT_ENUM,     /* int32_t index into `names` */
    RT_FT_FROM,     /* rt_time_s; empty = RT_TIME_OPEN_START */
    RT_FT_TO,       /* rt_time_s; empty = RT_TIME_OPEN_END */
    RT_FT_CURRENCY, /* const char *: an ISO 4217 code */
    RT_FT_DIGITS,   /* const char *: min..max decimal digits */
    RT_FT_CLOCK,    /* int64_t seconds after midnight: "hh:mm" or "hh:mm:ss", 00:00-24:00 */
    RT_FT_DAYS,     /* int64_t RT_DAYS_* bits: "mon-fri", "sat+sun", "hol", "all" */
    RT_FT_DATE,     /* int64_t rt_days: "YYYY-MM-DD" */
} rt_field_type;

enum {
    RT_FIELD_REQUIRED = 1, /* the cell may not be empty */
    RT_FIELD_KEY = 2,      /* part of the row's key (rows sort and store by key) */
};

typedef struct rt_field {
    const char *name; /* column name in the CSV header */
    rt_field_type type;
    uint16_t offset;  /* offsetof the member in the row struct */
    uint8_t scale;    /* decimals for RT_FT_DECIMAL */
    uint8_t flags;
    int64_t min, max; /* inclusive range for INT and DECIMAL (in scaled units) */
    const char *const *names; /* RT_FT_ENUM: NULL-terminated list of names */
    const char *dflt; /* text used when the cell is empty and the field is not required */
} rt_field;

typedef struct rt_table {
    rt_table_id id;
    const char *name; /* "products" */
    const char *file; /* "products.csv" */
    size_t row_size;
    const rt_field *fields;
    size_t field_count;
    bool single_row; /* company: exactly one row */
    bool optional;   /* the file may be absent from a source directory */
} rt_table;

/* The schema of table `id` (static data). */
const rt_table *rt_book_table(rt_table_id id);
/* The table whose name or file name matches, or NULL. */
const rt_table *rt_book_table_by_name(const char *name);

/* ---- the book ---- */
enum { RT_TABLE_FIELDS_MAX = 64 };

typedef struct rt_book_rows {
    void *rows;      /* row structs of the table's row_size */
    uint32_t *lines; /* source line of each row (0 when not from a file) */
    size_t count;
    size_t capacity;
    /* 1-based source column of each schema field (0: not from a file), so that validation
     * can point at file:line:column. */
    uint16_t columns[RT_TABLE_FIELDS_MAX];
} rt_book_rows;

typedef struct rt_book {
    rt_arena arena;
    rt_book_rows tables[RT_T_COUNT_];
} rt_book;

#define RT_BOOK_ROWS(book, tid, type) ((type *)(book)->tables[(tid)].rows)
#define RT_BOOK_COUNT(book, tid) ((book)->tables[(tid)].count)

void rt_book_init(rt_book *book);
void rt_book_free(rt_book *book);

/* Append a zeroed row to a table. The pointer is valid until the next append to that table.
 * RT_ENOMEM on failure. */
rt_status rt_book_append(rt_book *book, rt_table_id id, uint32_t line, void **row);

/* Set one field of a row from its text (the canonical text or any accepted spelling).
 * An empty cell takes the field's default, or is an error for a required field.
 * On failure returns RT_EPARSE / RT_ELIMIT / RT_EOVERFLOW and writes the reason to why. */
rt_status rt_book_field_parse(rt_book *book, const rt_field *f, void *row, const char *text,
                              size_t len, char *why, size_t why_size);

/* The canonical text of one field of a row into buf (RT_FIELD_TEXT_MAX bytes suffice).
 * Canonical means: importing it gives the same value, and formatting again the same text. */
size_t rt_book_field_format(const rt_field *f, const void *row, char *buf, size_t buf_size);

/* Compare two rows of a table by their key fields (strings bytewise, times numerically). */
int rt_book_row_compare(const rt_table *t, const void *a, const void *b);

/* Sort every table by key (the canonical order for storage and export). Stable. */
rt_status rt_book_sort(rt_book *book);

/* Cross-table validation: duplicate keys, missing references, overlapping effective dates,
 * empty ranges, exactly one company row and one receivable and VAT account, tiers in order,
 * band sets that cover every hour of the week once, time zones that exist in the tz
 * database under tzdir (RT_TZ_DIR_DEFAULT when NULL), FX rates for every billing currency.
 * Every problem is added to diags with its file, line and column. Call after rt_book_sort.
 * Returns RT_OK when nothing was found, RT_EINVALID otherwise. */
rt_status rt_book_validate(const rt_book *book, rt_diags *diags);
rt_status rt_book_validate_tz(const rt_book *book, const char *tzdir, rt_diags *diags);

/* A Peppol participant identifier as the book writes one (company.csv and accounts.csv
 * `peppol_id`, the electronic address of invoices): a 4-digit EAS scheme code, ':', then 1 to
 * RT_PEPPOL_ID_MAX letters, digits, '.', '-' or '_' ("0088:5790000435975"). Whether the code
 * is in Peppol's EAS list, which changes, is not checked. */
enum { RT_PEPPOL_ID_MAX = 50 };
bool rt_book_peppol_id_ok(const char *s);

/* Names for enumerations (static strings). */
const char *rt_gl_role_name(rt_gl_role role);
const char *rt_revenue_type_name(rt_revenue_type t);
const char *rt_charge_model_name(rt_charge_model m);
const char *rt_vat_code_name(rt_vat_code c);
const char *rt_billing_timing_name(rt_billing_timing t);
const char *rt_band_crossing_name(rt_band_crossing c);

/* True for the models rated from usage events (per_unit, flat, tiered, volume, package). */
bool rt_charge_model_is_usage(rt_charge_model m);
/* True for the models priced on the period's total (tiered, volume, package). */
bool rt_charge_model_is_period(rt_charge_model m);

/* The canonical text of a `days` set ("mon-fri", "sat+sun+hol") into buf (32 bytes). */
size_t rt_days_set_format(int64_t days, char *buf, size_t buf_size);

/* The single company row (the book must have been validated). */
const rt_company *rt_book_company(const rt_book *book);

#endif

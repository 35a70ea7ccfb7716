/* book_cgrates: CGRateS tariff plan reader and mapper.
 *
 * The six files are read whole (rating files are small next to usage; a 100k-prefix
 * Destinations.csv is a few MB), their rows parsed by position, then each rating plan is
 * mapped on its own: entries (destination, timing) from its destination rates, the band set
 * of its timings, its deck, and one charge with rates per category that rating profiles
 * rate with it. */
#include "formats/book_cgrates.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/strmap.h"
#include "formats/csv.h"
#include "formats/zio.h"

/* ---- durations ---- */

rt_status rt_cgrates_duration(const char *s, int64_t *out)
{
    size_t len = strlen(s), i = 0;
    __int128 ns = 0;
    bool plain = true, any = false;
    while (i < len) {
        __int128 whole = 0, frac = 0, scale = 1;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 15)
            whole = whole * 10 + (s[i++] - '0');
        if (i < len && s[i] == '.') {
            i++;
            for (int k = 0; i < len && s[i] >= '0' && s[i] <= '9'; k++, i++) {
                if (k == 9) return RT_EPARSE;
                frac = frac * 10 + (s[i] - '0');
                scale *= 10;
            }
        }
        if (i == start) return RT_EPARSE;
        int64_t unit_ns;
        if (i == len && !any) { /* a plain number: units (messages, bytes...) */
            if (scale != 1) return RT_EPARSE;
            *out = (int64_t)whole;
            return RT_OK;
        }
        if (len - i >= 2 && (memcmp(s + i, "ms", 2) == 0 || memcmp(s + i, "us", 2) == 0 ||
                             memcmp(s + i, "ns", 2) == 0)) {
            unit_ns = s[i] == 'm' ? 1000000 : s[i] == 'u' ? 1000 : 1;
            i += 2;
        } else if (i < len && (s[i] == 'h' || s[i] == 'm' || s[i] == 's')) {
            unit_ns = s[i] == 'h'   ? INT64_C(3600000000000)
                      : s[i] == 'm' ? INT64_C(60000000000)
                                    : INT64_C(1000000000);
            i++;
        } else {
            return RT_EPARSE;
        }
        if ((frac * unit_ns) % scale != 0) return RT_EPARSE;
        ns += whole * unit_ns + frac * unit_ns / scale;
        plain = false;
        any = true;
        if (ns > (__int128)INT64_MAX) return RT_EPARSE;
    }
    if (plain || ns % 1000000000 != 0) return RT_EPARSE;
    *out = (int64_t)(ns / 1000000000);
    return RT_OK;
}

/* ---- the files, by position ---- */

enum { TP_FIELDS_MAX = 16 };

typedef struct tp_row {
    uint32_t line;
    uint32_t count;
    bool bad; /* its problems were reported by check_rows: used by no plan */
    const char *f[TP_FIELDS_MAX]; /* NUL-terminated copies in the arena */
} tp_row;

typedef struct tp_file {
    tp_row *rows;
    size_t count, cap;
} tp_file;

enum { F_DEST, F_RATES, F_DRATES, F_TIMINGS, F_PLANS, F_PROFILES, F_COUNT };
static const char *const file_names[F_COUNT] = {"Destinations.csv",     "Rates.csv",
                                                "DestinationRates.csv", "Timings.csv",
                                                "RatingPlans.csv",      "RatingProfiles.csv"};
static const uint32_t min_fields[F_COUNT] = {2, 6, 5, 6, 3, 5};

typedef struct tp {
    const rt_cgrates_options *opt;
    rt_book *book;
    rt_diags *d;
    rt_arena arena;
    tp_file files[F_COUNT];
    rt_strmap rates, drates, dests, timings; /* id -> first row (rows sorted by id) */
    rt_strmap plan_ids;                      /* imported plan ids */
    rt_strmap deck_ids;                      /* their decks and band sets: CGR_<plan> */
} tp;

#define DIAG(t, file, row, col, field, ...)                                                        \
    rt_diags_add((t)->d, file_names[file], (row)->line, col, field, __VA_ARGS__)

static rt_status read_file(tp *t, const char *dir, int which)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file_names[which]);
    rt_buf text;
    rt_error err;
    rt_buf_init(&text);
    rt_status st = rt_zio_slurp(path, &text, &err);
    if (st != RT_OK) {
        rt_diags_add(t->d, file_names[which], 0, 0, NULL, "%s",
                     st == RT_ENOTFOUND ? "file is missing" : err.message);
        rt_buf_free(&text);
        return st == RT_ENOMEM ? st : RT_OK;
    }
    tp_file *f = &t->files[which];
    const char *p = text.data ? text.data : "", *end = p + text.len;
    uint64_t line = 1;
    st = RT_OK;
    while (p < end && st == RT_OK) {
        rt_csv_record rec;
        const char *why;
        uint32_t col;
        uint64_t at = line;
        rt_status ps = rt_csv_parse(&p, end, &t->arena, &rec, &why, &col);
        line += rec.newlines;
        if (ps == RT_ENOMEM) st = ps;
        if (ps != RT_OK) {
            if (ps != RT_ENOMEM)
                rt_diags_add(t->d, file_names[which], at, col, NULL, "malformed CSV: %s", why);
            continue;
        }
        if (rt_csv_blank(&rec) || (rec.fields[0].len > 0 && rec.fields[0].ptr[0] == '#'))
            continue; /* comments, like the header line CGRateS files start with */
        if (rec.count < min_fields[which]) {
            rt_diags_add(t->d, file_names[which], at, 0, NULL,
                         "expected at least %u columns, found %zu", min_fields[which], rec.count);
            continue;
        }
        if (f->count == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 64;
            tp_row *r = realloc(f->rows, cap * sizeof *r);
            if (!r) return RT_ENOMEM;
            f->rows = r;
            f->cap = cap;
        }
        tp_row *r = &f->rows[f->count++];
        r->line = (uint32_t)at;
        r->bad = false;
        r->count = rec.count < TP_FIELDS_MAX ? (uint32_t)rec.count : TP_FIELDS_MAX;
        for (uint32_t k = 0; k < r->count; k++) {
            r->f[k] = rt_arena_strndup(&t->arena, rec.fields[k].ptr, rec.fields[k].len);
            if (!r->f[k]) st = RT_ENOMEM;
        }
    }
    rt_buf_free(&text);
    return st;
}

/* Sort a file's rows by their first column (stable: by line next) and index them. */
static int row_cmp(const void *x, const void *y)
{
    const tp_row *a = x, *b = y;
    int c = strcmp(a->f[0], b->f[0]);
    return c ? c : (a->line < b->line ? -1 : a->line > b->line);
}

static rt_status index_file(tp *t, int which, rt_strmap *m)
{
    tp_file *f = &t->files[which];
    if (f->count > 1) qsort(f->rows, f->count, sizeof *f->rows, row_cmp);
    rt_status st = rt_strmap_init(m, f->count);
    for (size_t i = 0; st == RT_OK && i < f->count; i++) {
        st = rt_strmap_put(m, f->rows[i].f[0], strlen(f->rows[i].f[0]), (uint32_t)i);
        if (st == RT_EEXIST) st = RT_OK;
    }
    return st;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RT_ID_LEN_MAX - 4) return false; /* room for the CGR_ prefix */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '+' || c == '@' || c == '/' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* ---- rows of the book ---- */

static const char *dup_str(tp *t, const char *s)
{
    return rt_arena_strndup(&t->book->arena, s, strlen(s));
}

static const char *cgr_id(tp *t, const char *plan)
{
    char buf[RT_ID_LEN_MAX + 8];
    snprintf(buf, sizeof buf, "CGR_%s", plan);
    return dup_str(t, buf);
}

static void *append(tp *t, rt_table_id id, rt_status *st)
{
    void *row = NULL;
    if (*st == RT_OK) *st = rt_book_append(t->book, id, 0, &row);
    return *st == RT_OK ? row : NULL;
}

/* Remove the rows of a table whose string member at `off` is in `set`. */
static void remove_rows(rt_book *b, rt_table_id id, size_t off, const rt_strmap *set)
{
    const rt_table *tb = rt_book_table(id);
    rt_book_rows *r = &b->tables[id];
    size_t kept = 0;
    for (size_t i = 0; i < r->count; i++) {
        char *row = (char *)r->rows + i * tb->row_size;
        const char *key = *(const char **)(row + off);
        uint32_t v;
        if (rt_strmap_get(set, key, strlen(key), &v) == RT_OK) continue;
        if (kept != i) {
            memmove((char *)r->rows + kept * tb->row_size, row, tb->row_size);
            r->lines[kept] = r->lines[i];
        }
        kept++;
    }
    r->count = kept;
}

/* ---- parsing the rating files ---- */

static bool money(tp *t, int file, const tp_row *r, uint32_t col, const char *name, int64_t *out)
{
    const char *s = r->f[col];
    rt_status st = rt_decimal_parse(s, strlen(s), RT_NANOS_SCALE, out);
    if (st == RT_OK && *out >= 0) return true;
    DIAG(t, file, r, col + 1, name,
         st == RT_ELIMIT ? "'%s' has more than 9 decimals" : "'%s' is not an amount", s);
    return false;
}

static bool duration(tp *t, int file, const tp_row *r, uint32_t col, const char *name, int64_t *out)
{
    if (rt_cgrates_duration(r->f[col], out) == RT_OK) return true;
    DIAG(t, file, r, col + 1, name, "'%s' is not a duration in whole seconds or a number",
         r->f[col]);
    return false;
}

typedef struct drate_info {
    int32_t round;
    int64_t decimals;
    int64_t max_cost;
} drate_info;

static bool parse_drate(tp *t, const tp_row *r, drate_info *out)
{
    static const char *const methods[] = {"*up", "*down", "*middle"};
    static const rt_round modes[] = {RT_ROUND_UP, RT_ROUND_DOWN, RT_ROUND_HALF_UP};
    bool ok = true;
    out->round = -1;
    for (int k = 0; k < 3; k++)
        if (strcmp(r->f[3], methods[k]) == 0) out->round = (int32_t)modes[k];
    if (out->round < 0) {
        DIAG(t, F_DRATES, r, 4, "RoundingMethod", "'%s' is not *up, *down or *middle", r->f[3]);
        ok = false;
    }
    if (rt_decimal_parse(r->f[4], strlen(r->f[4]), 0, &out->decimals) != RT_OK ||
        out->decimals < 0 || out->decimals > RT_NANOS_SCALE) {
        DIAG(t, F_DRATES, r, 5, "RoundingDecimals", "'%s' is not a number of decimals (0-9)",
             r->f[4]);
        ok = false;
    }
    out->max_cost = 0;
    if (r->count > 5 && r->f[5][0] && !money(t, F_DRATES, r, 5, "MaxCost", &out->max_cost))
        ok = false;
    return ok;
}

/* Weekdays of a timing as RT_DAYS bits: "*any" or "1;2;3" (1 = Monday, 7 or 0 = Sunday). */
static bool parse_weekdays(const char *s, int64_t *days)
{
    if (strcmp(s, "*any") == 0 || s[0] == '\0') {
        *days = RT_DAYS_WEEK;
        return true;
    }
    *days = 0;
    for (const char *p = s; *p;) {
        if (*p < '0' || *p > '7' || (p[1] != ';' && p[1] != '\0')) return false;
        int d = *p - '0';
        *days |= INT64_C(1) << (d == 0 || d == 7 ? 6 : d - 1);
        p += p[1] ? 2 : 1;
    }
    return *days != 0;
}

static bool parse_clock(const char *s, int64_t *out)
{
    int h, m, sec;
    char tail;
    if (sscanf(s, "%2d:%2d:%2d%c", &h, &m, &sec, &tail) != 3 || h < 0 || h > 23 || m < 0 ||
        m > 59 || sec < 0 || sec > 59)
        return false;
    *out = h * 3600 + m * 60 + sec;
    return true;
}

typedef struct timing {
    const char *id;
    int64_t days;
    int64_t start_s;
    bool always;
} timing;

static bool find_timing(tp *t, const tp_row *plan_row, timing *out)
{
    const char *id = plan_row->f[2];
    uint32_t i;
    out->id = id;
    out->always = false;
    if (rt_strmap_get(&t->timings, id, strlen(id), &i) != RT_OK) {
        if (strcmp(id, "*any") == 0 || strcmp(id, "ALWAYS") == 0) {
            out->always = true;
            return true;
        }
        DIAG(t, F_PLANS, plan_row, 3, "TimingTag", "unknown timing '%s'", id);
        return false;
    }
    const tp_row *r = &t->files[F_TIMINGS].rows[i];
    for (uint32_t k = 1; k <= 3; k++)
        if (strcmp(r->f[k], "*any") != 0 && r->f[k][0]) {
            DIAG(t, F_TIMINGS, r, k + 1, NULL,
                 "timings on given years, months or days of the "
                 "month are not supported (only *any)");
            return false;
        }
    if (!parse_weekdays(r->f[4], &out->days)) {
        DIAG(t, F_TIMINGS, r, 5, "WeekDays", "'%s' is not *any or a list like 1;2;3", r->f[4]);
        return false;
    }
    if (!parse_clock(r->f[5], &out->start_s)) {
        DIAG(t, F_TIMINGS, r, 6, "Time", "'%s' is not a time hh:mm:ss (*asap is not supported)",
             r->f[5]);
        return false;
    }
    out->always = out->days == RT_DAYS_WEEK && out->start_s == 0;
    return true;
}

/* ---- one rating plan ---- */

typedef struct entry {
    const char *dest; /* destination id */
    const timing *tm; /* when it applies */
    int64_t weight;
    const tp_row *drate;
    const tp_row *plan_row;
} entry;

typedef struct plan_map {
    const char *plan;
    const char *deck; /* CGR_<plan>: the deck and the band set */
    entry *entries;
    size_t count, cap;
    timing timings[RT_BAND_RULES_MAX];
    size_t timing_count;
    drate_info rounding;
} plan_map;

/* The band of a timing: its id, or "" (any band) for a timing that covers all the time. */
static const char *band_of(const timing *tm)
{
    return tm->always ? "" : tm->id;
}

static int entry_cmp(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    int c = strcmp(a->dest, b->dest);
    if (!c) c = strcmp(band_of(a->tm), band_of(b->tm));
    if (!c) c = a->weight > b->weight ? -1 : a->weight < b->weight;
    if (!c) c = a->plan_row->line < b->plan_row->line ? -1 : a->plan_row->line > b->plan_row->line;
    return c;
}

static const timing *plan_timing(tp *t, plan_map *pm, const tp_row *row)
{
    for (size_t i = 0; i < pm->timing_count; i++)
        if (strcmp(pm->timings[i].id, row->f[2]) == 0) return &pm->timings[i];
    if (pm->timing_count == RT_BAND_RULES_MAX) {
        DIAG(t, F_PLANS, row, 3, "TimingTag", "more than %d timings in one rating plan",
             RT_BAND_RULES_MAX);
        return NULL;
    }
    timing *tm = &pm->timings[pm->timing_count];
    if (!find_timing(t, row, tm)) return NULL;
    pm->timing_count++;
    return tm;
}

/* The entries (destination, timing) of the plan's rows [first, end) of RatingPlans.csv,
 * the heaviest kept where two cover the same destination and timing. */
static rt_status collect_entries(tp *t, plan_map *pm, size_t first, size_t end)
{
    const tp_file *plans = &t->files[F_PLANS], *dr = &t->files[F_DRATES];
    for (size_t i = first; i < end; i++) {
        const tp_row *row = &plans->rows[i];
        const timing *tm = plan_timing(t, pm, row);
        int64_t weight = 0;
        if (row->count > 3 && row->f[3][0] &&
            rt_decimal_parse(row->f[3], strlen(row->f[3]), 0, &weight) != RT_OK)
            DIAG(t, F_PLANS, row, 4, "Weight", "'%s' is not a whole number", row->f[3]);
        uint32_t d;
        if (rt_strmap_get(&t->drates, row->f[1], strlen(row->f[1]), &d) != RT_OK) {
            DIAG(t, F_PLANS, row, 2, "DestinationRatesId", "unknown destination rates '%s'",
                 row->f[1]);
            continue;
        }
        for (; tm && d < dr->count && strcmp(dr->rows[d].f[0], row->f[1]) == 0; d++) {
            if (pm->count == pm->cap) {
                size_t cap = pm->cap ? pm->cap * 2 : 64;
                entry *e = realloc(pm->entries, cap * sizeof *e);
                if (!e) return RT_ENOMEM;
                pm->entries = e;
                pm->cap = cap;
            }
            pm->entries[pm->count++] = (entry){dr->rows[d].f[1], tm, weight, &dr->rows[d], row};
        }
    }
    if (pm->count > 1) qsort(pm->entries, pm->count, sizeof *pm->entries, entry_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < pm->count; i++) {
        entry *e = &pm->entries[i];
        const entry *prev = kept > 0 ? &pm->entries[kept - 1] : NULL;
        if (prev && strcmp(prev->dest, e->dest) == 0 &&
            strcmp(band_of(prev->tm), band_of(e->tm)) == 0) {
            if (prev->weight == e->weight)
                DIAG(t, F_PLANS, e->plan_row, 4, "Weight",
                     "destination '%s' is rated twice "
                     "at timing '%s' with the same weight",
                     e->dest, e->tm->id);
            continue; /* a lighter duplicate: CGRateS would use the heavier one */
        }
        pm->entries[kept++] = *e;
    }
    pm->count = kept;
    return RT_OK;
}

/* One rounding (method, decimals, maximum cost) per plan: ratel rounds per charge. */
static void check_rounding(tp *t, plan_map *pm)
{
    for (size_t i = 0; i < pm->count; i++) {
        drate_info di;
        if (!parse_drate(t, pm->entries[i].drate, &di)) continue;
        if (i == 0) {
            pm->rounding = di;
        } else if (di.round != pm->rounding.round || di.decimals != pm->rounding.decimals ||
                   di.max_cost != pm->rounding.max_cost) {
            DIAG(t, F_DRATES, pm->entries[i].drate, 4, "RoundingMethod",
                 "the destination rates of plan '%s' round or cap differently: one rounding "
                 "and MaxCost per rating plan is supported",
                 pm->plan);
            return;
        }
    }
}

/* ---- band sets ---- */

typedef struct span {
    int64_t start, end;
    const timing *tm;
} span;

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* A band set row being built: one interval of one timing, on the days it is the same. */
typedef struct band_row {
    int64_t days, start, end;
    const timing *tm;
} band_row;

/* A timing applies from its start until the next timing of the day starts. Rows with the
 * same interval and timing on several days are merged into one row for those days. */
static rt_status emit_band_set(tp *t, plan_map *pm, bool *has_bands)
{
    static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    band_row rows[7 * RT_BAND_RULES_MAX];
    size_t nrows = 0;
    rt_status st = RT_OK;
    *has_bands = false;
    for (int d = 0; d < 7; d++) {
        span sp[RT_BAND_RULES_MAX];
        size_t n = 0;
        for (size_t i = 0; i < pm->timing_count; i++)
            if (!pm->timings[i].always && (pm->timings[i].days & (INT64_C(1) << d)))
                sp[n++] = (span){pm->timings[i].start_s, 86400, &pm->timings[i]};
        if (n == 0) {
            for (size_t i = 0; i < pm->timing_count; i++)
                if (!pm->timings[i].always) {
                    rt_diags_add(t->d, file_names[F_PLANS], 0, 0, pm->plan,
                                 "the timings of "
                                 "rating plan '%s' leave %s without a timing",
                                 pm->plan, names[d]);
                    return RT_OK;
                }
            continue; /* only "always" timings: no band set */
        }
        qsort(sp, n, sizeof *sp, span_cmp);
        if (sp[0].start != 0) {
            rt_diags_add(t->d, file_names[F_PLANS], 0, 0, pm->plan,
                         "the timings of rating plan "
                         "'%s' leave %s 00:00 to their first start without a timing",
                         pm->plan, names[d]);
            return RT_OK;
        }
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n) sp[i].end = sp[i + 1].start;
            if (sp[i].end == sp[i].start) {
                rt_diags_add(t->d, file_names[F_PLANS], 0, 0, pm->plan,
                             "timings '%s' and '%s' "
                             "start at the same time on %s",
                             sp[i].tm->id, sp[i + 1].tm->id, names[d]);
                return RT_OK;
            }
            size_t k = 0;
            while (k < nrows && !(rows[k].start == sp[i].start && rows[k].end == sp[i].end &&
                                  rows[k].tm == sp[i].tm))
                k++;
            if (k == nrows) rows[nrows++] = (band_row){0, sp[i].start, sp[i].end, sp[i].tm};
            rows[k].days |= INT64_C(1) << d;
        }
    }
    for (size_t k = 0; st == RT_OK && k < nrows; k++) {
        rt_time_band *b = append(t, RT_T_TIME_BANDS, &st);
        if (b)
            *b = (rt_time_band){pm->deck, rows[k].days, rows[k].start, rows[k].end,
                                dup_str(t, rows[k].tm->id)};
        *has_bands = true;
    }
    return st;
}

/* ---- decks, charges, rates ---- */

/* Zones and prefixes of the destinations the plan rates ('+' dropped from prefixes). */
/* Whether a Destinations prefix is 1 to 15 digits (after a leading '+'); *out the digits. */
static bool prefix_ok(const char *s, const char **out, size_t *len)
{
    const char *p = s + (s[0] == '+');
    size_t n = strlen(p), k = 0;
    while (k < n && p[k] >= '0' && p[k] <= '9')
        k++;
    *out = p;
    *len = n;
    return n > 0 && k == n && n <= RT_PREFIX_DIGITS_MAX;
}

/* Every row of Rates.csv and Destinations.csv checked once, each field on its own, whether or
 * not a plan uses it (a bad row no plan uses is a problem of the source all the same); a bad
 * row is marked so that the plans that use it skip it without reporting it again. */
static void check_rows(tp *t)
{
    tp_file *rf = &t->files[F_RATES], *df = &t->files[F_DEST];
    for (size_t i = 0; i < rf->count; i++) {
        tp_row *r = &rf->rows[i];
        int64_t connect, price = 0, unit = 1, incr, gis;
        bool ok = money(t, F_RATES, r, 1, "ConnectFee", &connect);
        ok = money(t, F_RATES, r, 2, "Rate", &price) && ok;
        bool unit_ok = duration(t, F_RATES, r, 3, "RateUnit", &unit);
        ok = unit_ok && ok;
        ok = duration(t, F_RATES, r, 4, "RateIncrement", &incr) && ok;
        ok = duration(t, F_RATES, r, 5, "GroupIntervalStart", &gis) && ok;
        if (unit_ok && unit == 0 && price != 0) {
            DIAG(t, F_RATES, r, 4, "RateUnit", "a rate per 0 units");
            ok = false;
        }
        r->bad = !ok;
    }
    for (size_t i = 0; i < df->count; i++) {
        tp_row *r = &df->rows[i];
        const char *p;
        size_t n;
        if (prefix_ok(r->f[1], &p, &n)) continue;
        DIAG(t, F_DEST, r, 2, "Prefix", "'%s' is not a prefix of 1 to 15 digits", r->f[1]);
        r->bad = true;
    }
}

static rt_status emit_deck(tp *t, plan_map *pm)
{
    const tp_file *dst = &t->files[F_DEST];
    rt_strmap seen;
    rt_status st = rt_strmap_init(&seen, 64);
    for (size_t i = 0; st == RT_OK && i < pm->count; i++) {
        const entry *e = &pm->entries[i];
        if (i > 0 && strcmp(e->dest, pm->entries[i - 1].dest) == 0) continue;
        uint32_t d;
        if (strcmp(e->dest, "*any") == 0) {
            DIAG(t, F_DRATES, e->drate, 2, "DestinationId",
                 "destination *any is not supported: list its prefixes in a destination");
            continue;
        }
        if (!id_ok(e->dest) || rt_strmap_get(&t->dests, e->dest, strlen(e->dest), &d) != RT_OK) {
            DIAG(t, F_DRATES, e->drate, 2, "DestinationId", "unknown destination '%s'", e->dest);
            continue;
        }
        rt_zone *z = append(t, RT_T_ZONES, &st);
        if (z) *z = (rt_zone){pm->deck, dup_str(t, e->dest), dup_str(t, e->dest)};
        for (; st == RT_OK && d < dst->count && strcmp(dst->rows[d].f[0], e->dest) == 0; d++) {
            const tp_row *r = &dst->rows[d];
            const char *p;
            size_t n;
            if (r->bad || !prefix_ok(r->f[1], &p, &n)) continue; /* reported by check_rows */
            rt_status ps = rt_strmap_put(&seen, p, n, 0);
            if (ps == RT_EEXIST) {
                DIAG(t, F_DEST, r, 2, "Prefix",
                     "prefix %s is in two destinations of rating "
                     "plan '%s'",
                     p, pm->plan);
                continue;
            }
            if (ps != RT_OK) st = ps;
            rt_prefix *x = append(t, RT_T_PREFIXES, &st);
            if (x)
                *x = (rt_prefix){pm->deck, dup_str(t, p), RT_TIME_OPEN_START, RT_TIME_OPEN_END,
                                 z->zone_id};
        }
    }
    rt_strmap_free(&seen);
    return st;
}

/* The product a category is billed as, by the options' map or by the same id. */
static const rt_product *category_product(tp *t, const char *category)
{
    const char *id = category;
    for (size_t i = 0; i < t->opt->category_count; i++)
        if (strcmp(t->opt->category[i], category) == 0) id = t->opt->product[i];
    const rt_product *p = RT_BOOK_ROWS(t->book, RT_T_PRODUCTS, rt_product);
    for (size_t i = 0; i < RT_BOOK_COUNT(t->book, RT_T_PRODUCTS); i++)
        if (strcmp(p[i].product_id, id) == 0) return &p[i];
    return NULL;
}

/* The rates of one entry under charge `charge_id`: one interval per GroupIntervalStart. */
static rt_status emit_rates(tp *t, plan_map *pm, const entry *e, const char *charge_id,
                            int64_t qdec)
{
    const tp_file *rf = &t->files[F_RATES];
    const char *tag = e->drate->f[2];
    uint32_t i;
    rt_status st = RT_OK;
    if (rt_strmap_get(&t->rates, tag, strlen(tag), &i) != RT_OK) {
        DIAG(t, F_DRATES, e->drate, 3, "RatesTag", "unknown rates '%s'", tag);
        return RT_OK;
    }
    int64_t scale = rt_pow10((unsigned)qdec);
    for (; st == RT_OK && i < rf->count && strcmp(rf->rows[i].f[0], tag) == 0; i++) {
        const tp_row *r = &rf->rows[i];
        int64_t connect, price, unit, incr, gis;
        if (r->bad) continue; /* reported by check_rows */
        /* check_rows found these good: they parse without a problem. */
        if (!money(t, F_RATES, r, 1, "ConnectFee", &connect) ||
            !money(t, F_RATES, r, 2, "Rate", &price) ||
            !duration(t, F_RATES, r, 3, "RateUnit", &unit) ||
            !duration(t, F_RATES, r, 4, "RateIncrement", &incr) ||
            !duration(t, F_RATES, r, 5, "GroupIntervalStart", &gis))
            continue;
        rt_rate *x = append(t, RT_T_RATES, &st);
        if (!x) break;
        *x = (rt_rate){pm->plan,
                       charge_id,
                       dup_str(t, e->dest),
                       dup_str(t, band_of(e->tm)),
                       gis * scale,
                       RT_TIME_OPEN_START,
                       RT_TIME_OPEN_END,
                       price,
                       unit ? unit : 1,
                       incr * scale,
                       incr * scale,
                       gis == 0 ? connect : RT_UNSET};
    }
    return st;
}

static rt_status emit_charge(tp *t, plan_map *pm, const char *category, const tp_row *profile)
{
    const rt_product *p = category_product(t, category);
    if (!p) {
        DIAG(t, F_PROFILES, profile, 2, "Category",
             "no product '%s' in the price book for "
             "category '%s' (map it with --product %s=PRODUCT)",
             category, category, category);
        return RT_OK;
    }
    rt_status st = RT_OK;
    char desc[RT_TEXT_LEN_MAX];
    snprintf(desc, sizeof desc, "%s (CGRateS %s)", p->name, pm->plan);
    rt_charge *c = append(t, RT_T_CHARGES, &st);
    if (!c) return st;
    *c =
        (rt_charge){.plan_id = pm->plan,
                    .charge_id = cgr_id(t, category),
                    .valid_from = RT_TIME_OPEN_START,
                    .valid_to = RT_TIME_OPEN_END,
                    .product_id = p->product_id,
                    .description = dup_str(t, desc),
                    .model = RT_CHARGE_PER_UNIT,
                    .price_per = 1,
                    .min_per_event_nanos = RT_UNSET,
                    .max_per_event_nanos = pm->rounding.max_cost ? pm->rounding.max_cost : RT_UNSET,
                    .event_decimals = pm->rounding.decimals,
                    .event_rounding = pm->rounding.round < 0 ? 0 : pm->rounding.round,
                    .deck_id = pm->deck,
                    .min_per_period_nanos = RT_UNSET,
                    .cycle_months = 1};
    const char *charge_id = c->charge_id;
    for (size_t i = 0; st == RT_OK && i < pm->count; i++)
        if (strcmp(pm->entries[i].dest, "*any") != 0)
            st = emit_rates(t, pm, &pm->entries[i], charge_id, p->quantity_decimals);
    return st;
}

/* ---- rating profiles ---- */

typedef struct profile {
    const tp_row *row;
    const char *category, *subject, *plan;
    rt_time_s at;
} profile;

static int profile_cmp(const void *x, const void *y)
{
    const profile *a = x, *b = y;
    int c = strcmp(a->subject, b->subject);
    if (!c) c = strcmp(a->category, b->category);
    if (!c) c = a->at < b->at ? -1 : a->at > b->at;
    return c;
}

static bool has_account(const rt_book *b, const char *id)
{
    const rt_account *a = RT_BOOK_ROWS(b, RT_T_ACCOUNTS, rt_account);
    for (size_t i = 0; i < RT_BOOK_COUNT(b, RT_T_ACCOUNTS); i++)
        if (strcmp(a[i].account_id, id) == 0) return true;
    return false;
}

/* Rows of RatingProfiles.csv: Tenant, Category, Subject, ActivationTime, RatingPlanId (an
 * older layout starts with a Direction column, *out or *in, which is skipped). */
static rt_status parse_profiles(tp *t, profile **out, size_t *n)
{
    const tp_file *f = &t->files[F_PROFILES];
    *n = 0;
    *out = calloc(f->count ? f->count : 1, sizeof **out);
    if (!*out) return RT_ENOMEM;
    for (size_t i = 0; i < f->count; i++) {
        const tp_row *r = &f->rows[i];
        uint32_t o = (strcmp(r->f[0], "*out") == 0 || strcmp(r->f[0], "*in") == 0) && r->count > 5;
        if (t->opt->tenant && strcmp(r->f[o], t->opt->tenant) != 0) continue;
        profile p = {r, r->f[o + 1], r->f[o + 2], r->f[o + 4], 0};
        uint32_t v;
        bool ok = true;
        if (rt_time_parse(r->f[o + 3], strlen(r->f[o + 3]), &p.at) != RT_OK) {
            DIAG(t, F_PROFILES, r, o + 4, "ActivationTime", "'%s' is not an ISO 8601 instant",
                 r->f[o + 3]);
            ok = false;
        }
        if (strcmp(p.subject, "*any") == 0) {
            DIAG(t, F_PROFILES, r, o + 3, "Subject",
                 "subject *any is not supported: ratel assigns plans to accounts");
            ok = false;
        } else if (!has_account(t->book, p.subject)) {
            DIAG(t, F_PROFILES, r, o + 3, "Subject", "account '%s' is not in the price book",
                 p.subject);
            ok = false;
        }
        if (rt_strmap_get(&t->plan_ids, p.plan, strlen(p.plan), &v) != RT_OK) {
            DIAG(t, F_PROFILES, r, o + 5, "RatingPlanId", "unknown rating plan '%s'", p.plan);
            ok = false;
        }
        if (!id_ok(p.category)) {
            DIAG(t, F_PROFILES, r, o + 2, "Category", "'%s' is not a valid identifier", p.category);
            ok = false;
        }
        if (ok) (*out)[(*n)++] = p;
    }
    qsort(*out, *n, sizeof **out, profile_cmp);
    return RT_OK;
}

/* Each profile is in force from its activation until the next activation of the same
 * subject and category. */
static rt_status emit_assignments(tp *t, const profile *p, size_t n)
{
    rt_status st = RT_OK;
    size_t first = RT_BOOK_COUNT(t->book, RT_T_ACCOUNT_PLANS);
    for (size_t i = 0; st == RT_OK && i < n; i++) {
        bool next_same = i + 1 < n && strcmp(p[i + 1].subject, p[i].subject) == 0 &&
                         strcmp(p[i + 1].category, p[i].category) == 0;
        rt_account_plan ap = {dup_str(t, p[i].subject), dup_str(t, p[i].plan), p[i].at,
                              next_same ? p[i + 1].at : RT_TIME_OPEN_END};
        /* Two categories rated by one plan give one assignment. */
        const rt_account_plan *done = RT_BOOK_ROWS(t->book, RT_T_ACCOUNT_PLANS, rt_account_plan);
        bool dup = false;
        for (size_t k = first; k < RT_BOOK_COUNT(t->book, RT_T_ACCOUNT_PLANS) && !dup; k++)
            dup = strcmp(done[k].account_id, ap.account_id) == 0 &&
                  strcmp(done[k].plan_id, ap.plan_id) == 0 && done[k].valid_from == ap.valid_from &&
                  done[k].valid_to == ap.valid_to;
        if (dup) continue;
        rt_account_plan *x = append(t, RT_T_ACCOUNT_PLANS, &st);
        if (x) *x = ap;
    }
    return st;
}

/* ---- the whole tariff plan ---- */

static rt_status map_plan(tp *t, const char *plan, size_t first, size_t end, const profile *pr,
                          size_t npr)
{
    rt_status st = RT_OK;
    plan_map pm = {.plan = dup_str(t, plan), .deck = cgr_id(t, plan), .rounding = {-1, 4, 0}};
    if (!pm.plan || !pm.deck) return RT_ENOMEM;
    if ((st = collect_entries(t, &pm, first, end)) != RT_OK) goto done;
    check_rounding(t, &pm);
    bool bands;
    if ((st = emit_band_set(t, &pm, &bands)) != RT_OK) goto done;
    if ((st = emit_deck(t, &pm)) != RT_OK) goto done;
    const rt_company *co =
        RT_BOOK_COUNT(t->book, RT_T_COMPANY) == 1 ? rt_book_company(t->book) : NULL;
    rt_plan *p = append(t, RT_T_PLANS, &st);
    if (!p) goto done;
    char name[RT_TEXT_LEN_MAX];
    snprintf(name, sizeof name, "CGRateS rating plan %s", plan);
    *p = (rt_plan){pm.plan,
                   dup_str(t, name),
                   t->opt->currency ? dup_str(t, t->opt->currency)
                   : co             ? co->functional_currency
                                    : "EUR",
                   dup_str(t, t->opt->time_zone ? t->opt->time_zone : "UTC"),
                   bands ? pm.deck : "",
                   RT_CROSSING_SPLIT,
                   "",
                   "",
                   "00"};
    /* One charge per category that a profile rates with this plan. */
    for (size_t i = 0; st == RT_OK && i < npr; i++) {
        if (strcmp(pr[i].plan, plan) != 0) continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(pr[k].plan, plan) == 0 && strcmp(pr[k].category, pr[i].category) == 0;
        if (!seen) st = emit_charge(t, &pm, pr[i].category, pr[i].row);
    }
done:
    free(pm.entries);
    return st;
}

/* Forget what the book held for the plans being imported. */
static void remove_previous(tp *t)
{
    rt_book *b = t->book;
    remove_rows(b, RT_T_PLANS, offsetof(rt_plan, plan_id), &t->plan_ids);
    remove_rows(b, RT_T_CHARGES, offsetof(rt_charge, plan_id), &t->plan_ids);
    remove_rows(b, RT_T_TIERS, offsetof(rt_tier, plan_id), &t->plan_ids);
    remove_rows(b, RT_T_RATES, offsetof(rt_rate, plan_id), &t->plan_ids);
    remove_rows(b, RT_T_ALLOWANCES, offsetof(rt_allowance, plan_id), &t->plan_ids);
    remove_rows(b, RT_T_ACCOUNT_PLANS, offsetof(rt_account_plan, plan_id), &t->plan_ids);
    remove_rows(b, RT_T_ZONES, offsetof(rt_zone, deck_id), &t->deck_ids);
    remove_rows(b, RT_T_PREFIXES, offsetof(rt_prefix, deck_id), &t->deck_ids);
    remove_rows(b, RT_T_TIME_BANDS, offsetof(rt_time_band, band_set_id), &t->deck_ids);
    remove_rows(b, RT_T_HOLIDAYS, offsetof(rt_holiday, band_set_id), &t->deck_ids);
}

static rt_status index_plans(tp *t)
{
    const tp_file *f = &t->files[F_PLANS];
    rt_status st = index_file(t, F_PLANS, &t->plan_ids);
    if (st == RT_OK) st = rt_strmap_init(&t->deck_ids, f->count);
    for (size_t i = 0; st == RT_OK && i < f->count; i++) {
        if (i > 0 && strcmp(f->rows[i].f[0], f->rows[i - 1].f[0]) == 0) continue;
        if (!id_ok(f->rows[i].f[0])) {
            DIAG(t, F_PLANS, &f->rows[i], 1, "Id",
                 "'%s' is not a valid identifier (at most "
                 "60 of A-Z a-z 0-9 . _ : + @ / -)",
                 f->rows[i].f[0]);
            continue;
        }
        const char *deck = cgr_id(t, f->rows[i].f[0]);
        if (!deck) return RT_ENOMEM;
        st = rt_strmap_put(&t->deck_ids, deck, strlen(deck), 0);
    }
    return st;
}

rt_status rt_book_cgrates_read(const char *dir, const rt_cgrates_options *opt, rt_book *book,
                               rt_diags *diags)
{
    size_t before = rt_diags_total(diags);
    tp t = {.opt = opt, .book = book, .d = diags};
    rt_arena_init(&t.arena, 64 * 1024);
    profile *pr = NULL;
    size_t npr = 0;
    rt_status st = RT_OK;
    for (int i = 0; i < F_COUNT && st == RT_OK; i++)
        st = read_file(&t, dir, i);
    if (st == RT_OK) check_rows(&t);
    if (st == RT_OK) st = index_file(&t, F_DEST, &t.dests);
    if (st == RT_OK) st = index_file(&t, F_RATES, &t.rates);
    if (st == RT_OK) st = index_file(&t, F_DRATES, &t.drates);
    if (st == RT_OK) st = index_file(&t, F_TIMINGS, &t.timings);
    if (st == RT_OK) st = index_plans(&t);
    if (st == RT_OK) {
        remove_previous(&t);
        st = parse_profiles(&t, &pr, &npr);
    }
    const tp_file *plans = &t.files[F_PLANS];
    for (size_t i = 0; st == RT_OK && i < plans->count;) {
        size_t j = i;
        while (j < plans->count && strcmp(plans->rows[j].f[0], plans->rows[i].f[0]) == 0)
            j++;
        if (id_ok(plans->rows[i].f[0])) st = map_plan(&t, plans->rows[i].f[0], i, j, pr, npr);
        i = j;
    }
    if (st == RT_OK) st = emit_assignments(&t, pr, npr);
    free(pr);
    for (int i = 0; i < F_COUNT; i++)
        free(t.files[i].rows);
    rt_strmap_free(&t.dests);
    rt_strmap_free(&t.rates);
    rt_strmap_free(&t.drates);
    rt_strmap_free(&t.timings);
    rt_strmap_free(&t.plan_ids);
    rt_strmap_free(&t.deck_ids);
    rt_arena_free(&t.arena);
    if (st != RT_OK) return st;
    return rt_diags_total(diags) > before ? RT_EINVALID : RT_OK;
}

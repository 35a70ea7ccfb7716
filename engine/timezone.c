/* timezone: TZif files (RFC 8536) and their POSIX TZ footer rules. */
#include "engine/timezone.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- big-endian readers over a bounded buffer ---- */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static const unsigned char *take(reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *at = r->p;
    r->p += n;
    return at;
}

static uint32_t be32(reader *r)
{
    const unsigned char *b = take(r, 4);
    if (!b) return 0;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int64_t be64(reader *r)
{
    uint64_t hi = be32(r), lo = be32(r);
    return (int64_t)(hi << 32 | lo);
}

static rt_status why_fail(char *why, size_t n, rt_status st, const char *text)
{
    snprintf(why, n, "%s", text);
    return st;
}

/* ---- TZif header and data block ---- */

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static rt_status read_header(reader *r, char *version, tzif_counts *c, char *why, size_t wn)
{
    const unsigned char *magic = take(r, 4);
    if (!magic || memcmp(magic, "TZif", 4) != 0)
        return why_fail(why, wn, RT_EPARSE, "not a TZif file (no TZif magic)");
    const unsigned char *v = take(r, 16);
    if (!v) return why_fail(why, wn, RT_EPARSE, "truncated TZif header");
    *version = (char)v[0];
    c->isut = be32(r);
    c->isstd = be32(r);
    c->leap = be32(r);
    c->time = be32(r);
    c->type = be32(r);
    c->chars = be32(r);
    if (r->bad) return why_fail(why, wn, RT_EPARSE, "truncated TZif header");
    if (c->type == 0 || c->type > 256 || c->chars == 0)
        return why_fail(why, wn, RT_EPARSE, "TZif header has no local time types");
    if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type))
        return why_fail(why, wn, RT_EPARSE, "TZif header counts are inconsistent");
    if (c->leap != 0)
        return why_fail(why, wn, RT_EPARSE,
                        "TZif file with leap seconds (a right/ zone) is not supported");
    if (c->time > RT_TZ_TRANSITIONS_MAX)
        return why_fail(why, wn, RT_ELIMIT, "TZif file has too many transitions");
    return RT_OK;
}

/* Read one data block whose transition times are `tsize` bytes wide into tz. */
static rt_status read_block(reader *r, const tzif_counts *c, unsigned tsize, rt_tz *tz, char *why,
                            size_t wn)
{
    tz->count = c->time;
    tz->at_s = calloc(c->time ? c->time : 1, sizeof *tz->at_s);
    tz->utoff_s = calloc(c->time ? c->time : 1, sizeof *tz->utoff_s);
    if (!tz->at_s || !tz->utoff_s) return RT_ENOMEM;
    for (uint32_t i = 0; i < c->time; i++) {
        tz->at_s[i] = tsize == 8 ? be64(r) : (int64_t)(int32_t)be32(r);
        if (!r->bad && i > 0 && tz->at_s[i] <= tz->at_s[i - 1])
            return why_fail(why, wn, RT_EPARSE, "TZif transitions are not in increasing order");
    }
    const unsigned char *idx = take(r, c->time);
    int32_t utoff[256];
    for (uint32_t i = 0; i < c->type; i++) {
        utoff[i] = (int32_t)be32(r);
        const unsigned char *rest = take(r, 2);
        if (r->bad) break;
        if (utoff[i] <= -25 * 3600 || utoff[i] >= 26 * 3600 || rest[1] >= c->chars)
            return why_fail(why, wn, RT_EPARSE, "TZif local time type out of range");
    }
    take(r, (size_t)c->chars + (size_t)c->isstd + (size_t)c->isut);
    if (r->bad) return why_fail(why, wn, RT_EPARSE, "truncated TZif data block");
    for (uint32_t i = 0; i < c->time; i++) {
        if (idx[i] >= c->type)
            return why_fail(why, wn, RT_EPARSE, "TZif transition names an unknown type");
        tz->utoff_s[i] = utoff[idx[i]];
    }
    tz->initial_utoff_s = utoff[0];
    return RT_OK;
}

/* ---- POSIX TZ footer ---- */

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool at_char(const cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}
static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool parse_number(cursor *c, int max, int *out)
{
    int v = 0, n = 0;
    while (c->p < c->end && is_digit(*c->p) && n < 4) {
        v = v * 10 + (*c->p++ - '0');
        n++;
    }
    *out = v;
    return n > 0 && v <= max;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, + and -. */
static bool parse_abbr(cursor *c)
{
    size_t n = 0;
    if (at_char(c, '<')) {
        c->p++;
        while (c->p < c->end && *c->p != '>') {
            char ch = *c->p++;
            if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '-') return false;
            n++;
        }
        if (!at_char(c, '>')) return false;
        c->p++;
    } else {
        while (c->p < c->end && is_alpha(*c->p)) {
            c->p++;
            n++;
        }
    }
    return n >= 3;
}

/* [+-]hh[:mm[:ss]] in seconds, hours at most max_hours. */
static bool parse_hms(cursor *c, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (at_char(c, '+') || at_char(c, '-')) sign = *c->p++ == '-' ? -1 : 1;
    if (!parse_number(c, max_hours, &h)) return false;
    if (at_char(c, ':')) {
        c->p++;
        if (!parse_number(c, 59, &m)) return false;
        if (at_char(c, ':')) {
            c->p++;
            if (!parse_number(c, 59, &s)) return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool parse_rule_date(cursor *c, rt_tz_rule_date *d)
{
    int a, b, e;
    memset(d, 0, sizeof *d);
    if (at_char(c, 'J')) {
        c->p++;
        if (!parse_number(c, 365, &a) || a < 1) return false;
        d->kind = 'J';
        d->day = a;
    } else if (at_char(c, 'M')) {
        c->p++;
        if (!parse_number(c, 12, &a) || a < 1 || !at_char(c, '.')) return false;
        c->p++;
        if (!parse_number(c, 5, &b) || b < 1 || !at_char(c, '.')) return false;
        c->p++;
        if (!parse_number(c, 6, &e)) return false;
        d->kind = 'M';
        d->month = (uint8_t)a;
        d->week = (uint8_t)b;
        d->weekday = (uint8_t)e;
    } else {
        if (!parse_number(c, 365, &a)) return false;
        d->kind = 'N';
        d->day = a;
    }
    d->time_s = 2 * 3600; /* POSIX default: 02:00 local */
    if (at_char(c, '/')) {
        c->p++;
        /* RFC 8536 extends the hour range to -167..167. */
        if (!parse_hms(c, 167, &d->time_s)) return false;
    }
    return true;
}

static rt_status parse_footer(const char *s, size_t len, rt_tz *tz, char *why, size_t wn)
{
    cursor c = {s, s + len};
    int32_t off;
    if (len == 0) return RT_OK; /* no rule: the last transition's offset stays */
    if (!parse_abbr(&c) || !parse_hms(&c, 24, &off))
        return why_fail(why, wn, RT_EPARSE, "TZif footer is not a POSIX TZ string");
    /* POSIX offsets count west of Greenwich: "CET-1" is UTC+1. */
    tz->std_utoff_s = -off;
    tz->has_rule = 1;
    if (c.p == c.end) return RT_OK;
    if (!parse_abbr(&c)) return why_fail(why, wn, RT_EPARSE, "TZif footer: bad DST name");
    tz->dst_utoff_s = tz->std_utoff_s + 3600;
    if (c.p < c.end && *c.p != ',') {
        if (!parse_hms(&c, 24, &off))
            return why_fail(why, wn, RT_EPARSE, "TZif footer: bad DST offset");
        tz->dst_utoff_s = -off;
    }
    tz->has_rule = 2;
    if (c.p == c.end) {
        /* No rule given: the usual POSIX default (second Sunday of March to first Sunday of
         * November), as C libraries apply it. */
        tz->dst_start = (rt_tz_rule_date){'M', 3, 2, 0, 0, 7200};
        tz->dst_end = (rt_tz_rule_date){'M', 11, 1, 0, 0, 7200};
        return RT_OK;
    }
    if (!at_char(&c, ',')) return why_fail(why, wn, RT_EPARSE, "TZif footer: bad rule");
    c.p++;
    if (!parse_rule_date(&c, &tz->dst_start) || !at_char(&c, ','))
        return why_fail(why, wn, RT_EPARSE, "TZif footer: bad DST start");
    c.p++;
    if (!parse_rule_date(&c, &tz->dst_end) || c.p != c.end)
        return why_fail(why, wn, RT_EPARSE, "TZif footer: bad DST end");
    return RT_OK;
}

/* ---- parse and load ---- */

void rt_tz_free(rt_tz *tz)
{
    free(tz->at_s);
    free(tz->utoff_s);
    memset(tz, 0, sizeof *tz);
}

rt_status rt_tz_parse(const void *data, size_t len, rt_tz *out, char *why, size_t wn)
{
    memset(out, 0, sizeof *out);
    if (len > RT_TZ_FILE_MAX) return why_fail(why, wn, RT_ELIMIT, "TZif file is too large");
    reader r = {data, (const unsigned char *)data + len, false};
    char version;
    tzif_counts c;
    rt_status st = read_header(&r, &version, &c, why, wn);
    if (st != RT_OK) return st;
    if (version == 0) {
        st = read_block(&r, &c, 4, out, why, wn);
    } else {
        /* Version 2+: skip the 32-bit block, read the 64-bit one and the footer. */
        size_t v1 = (size_t)c.time * 5 + (size_t)c.type * 6 + c.chars + c.isstd + c.isut;
        if (!take(&r, v1)) return why_fail(why, wn, RT_EPARSE, "truncated TZif data block");
        if ((st = read_header(&r, &version, &c, why, wn)) != RT_OK) return st;
        if ((st = read_block(&r, &c, 8, out, why, wn)) != RT_OK) goto fail;
        const unsigned char *nl = take(&r, 1);
        if (!nl || *nl != '\n') {
            st = why_fail(why, wn, RT_EPARSE, "TZif footer is missing");
            goto fail;
        }
        const char *s = (const char *)r.p, *e = memchr(s, '\n', (size_t)(r.end - r.p));
        if (!e) {
            st = why_fail(why, wn, RT_EPARSE, "TZif footer is not terminated");
            goto fail;
        }
        st = parse_footer(s, (size_t)(e - s), out, why, wn);
    }
    if (st == RT_OK) return RT_OK;
fail:
    rt_tz_free(out);
    return st;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RT_TZ_NAME_MAX || name[0] == '/' || strstr(name, "..")) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!is_alpha(ch) && !is_digit(ch) && ch != '/' && ch != '_' && ch != '+' && ch != '-')
            return false;
    }
    return true;
}

rt_status rt_tz_load(const char *tzdir, const char *name, rt_tz *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name_ok(name))
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, "time_zone",
                            "'%s' is not an IANA time zone name", name);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tzdir ? tzdir : RT_TZ_DIR_DEFAULT, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        rt_status st = errno == ENOENT || errno == ENOTDIR ? RT_ENOTFOUND : RT_EIO;
        return rt_error_set(err, st, NULL, 0, 0, "time_zone",
                            "time zone '%s' is not in the tz database (%s)", name, path);
    }
    unsigned char *buf = malloc(RT_TZ_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    size_t len = fread(buf, 1, RT_TZ_FILE_MAX + 1, f);
    int read_error = ferror(f);
    fclose(f);
    char why[160];
    rt_status st = read_error ? RT_EIO : rt_tz_parse(buf, len, out, why, sizeof why);
    free(buf);
    if (st == RT_EIO)
        return rt_error_set(err, st, path, 0, 0, "time_zone", "cannot read the zone file");
    if (st != RT_OK)
        return rt_error_set(err, st == RT_ENOMEM ? st : RT_EPARSE, path, 0, 0, "time_zone",
                            "time zone '%s': %s", name, why);
    snprintf(out->name, sizeof out->name, "%s", name);
    return RT_OK;
}

/* ---- offsets ---- */

/* Local day number of a rule date in year y. */
static rt_days rule_day(const rt_tz_rule_date *d, int y)
{
    rt_days jan1 = rt_days_from_civil(y, 1, 1);
    if (d->kind == 'J') return jan1 + d->day - 1 + (rt_is_leap_year(y) && d->day >= 60);
    if (d->kind == 'N') return jan1 + d->day;
    rt_days first = rt_days_from_civil(y, d->month, 1);
    unsigned wd = rt_iso_weekday(first) % 7; /* 0 = Sunday, as in the rule */
    rt_days day = first + (rt_days)((d->weekday + 7 - wd) % 7) + 7 * (d->week - 1);
    rt_days month_end = first + (rt_days)rt_days_in_month(y, d->month);
    while (day >= month_end)
        day -= 7; /* week 5 means the last one */
    return day;
}

typedef struct rule_change {
    rt_time_s at;
    int32_t utoff;
} rule_change;

/* The rule's changes of years y-1..y+1, in time order (the change back to standard time
 * first when two fall on one instant, as with DST all year round). */
static void rule_changes(const rt_tz *tz, int y, rule_change out[6])
{
    size_t n = 0;
    for (int yy = y - 1; yy <= y + 1; yy++) {
        rt_time_s end_local = rt_time_of_days(rule_day(&tz->dst_end, yy)) + tz->dst_end.time_s;
        rt_time_s start_local =
            rt_time_of_days(rule_day(&tz->dst_start, yy)) + tz->dst_start.time_s;
        out[n++] = (rule_change){end_local - tz->dst_utoff_s, tz->std_utoff_s};
        out[n++] = (rule_change){start_local - tz->std_utoff_s, tz->dst_utoff_s};
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && out[j - 1].at > out[j].at; j--) {
            rule_change tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
}

static int year_of(rt_time_s t)
{
    int y;
    unsigned m, d;
    rt_civil_from_days(rt_days_of(t), &y, &m, &d);
    return y;
}

static int32_t rule_offset(const rt_tz *tz, rt_time_s t)
{
    if (tz->has_rule == 1) return tz->std_utoff_s;
    rule_change ch[6];
    rule_changes(tz, year_of(t + tz->std_utoff_s), ch);
    int32_t off = tz->std_utoff_s;
    for (size_t i = 0; i < 6 && ch[i].at <= t; i++)
        off = ch[i].utoff;
    return off;
}

/* Index of the last listed transition at or before t, or -1. */
static ptrdiff_t last_at_or_before(const rt_tz *tz, rt_time_s t)
{
    size_t lo = 0, hi = tz->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at_s[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

int32_t rt_tz_offset_s(const rt_tz *tz, rt_time_s t)
{
    ptrdiff_t i = last_at_or_before(tz, t);
    if (i < 0) return tz->count == 0 && tz->has_rule ? rule_offset(tz, t) : tz->initial_utoff_s;
    if ((size_t)i == tz->count - 1 && tz->has_rule && t > tz->at_s[i]) return rule_offset(tz, t);
    return tz->utoff_s[i];
}

rt_time_s rt_tz_next_change(const rt_tz *tz, rt_time_s t)
{
    int32_t cur = rt_tz_offset_s(tz, t);
    ptrdiff_t i = last_at_or_before(tz, t);
    /* Listed transitions first; some change only the abbreviation or the DST flag. */
    for (size_t j = (size_t)(i + 1); j < tz->count; j++) {
        if (tz->utoff_s[j] != cur) return tz->at_s[j];
    }
    if (tz->has_rule != 2) return RT_TIME_OPEN_END;
    rt_time_s from = t;
    if (tz->count > 0 && tz->at_s[tz->count - 1] > from) from = tz->at_s[tz->count - 1];
    /* Three years of rule changes always hold the next one, unless DST lasts all year. */
    for (int y = year_of(from + tz->std_utoff_s), k = 0; k < 3; k++, y += 2) {
        rule_change ch[6];
        rule_changes(tz, y, ch);
        for (size_t n = 0; n < 6; n++)
            if (ch[n].at > from && rt_tz_offset_s(tz, ch[n].at) != cur) return ch[n].at;
    }
    return RT_TIME_OPEN_END;
}

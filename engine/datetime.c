/* datetime: calendar arithmetic, ISO 8601 text, billing periods.
 *
 * The civil-date conversions use the era-based algorithm described by Howard Hinnant in
 * "chrono-Compatible Low-Level Date Algorithms": dates are counted in 400-year eras of 146097
 * days, with years starting in March so that the leap day is the last day of the year. */
#include "engine/datetime.h"

#include <stdio.h>
#include <string.h>

rt_days rt_days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;                                       /* [0, 399] */
    int64_t mp = month > 2 ? (int64_t)month - 3 : (int64_t)month + 9;    /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1;                 /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                 /* [0, 146096] */
    return (rt_days)(era * 146097 + doe - 719468);
}

void rt_civil_from_days(rt_days days, int *year, unsigned *month, unsigned *day)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *month = (unsigned)m;
    *day = (unsigned)d;
}

unsigned rt_iso_weekday(rt_days days)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t w = ((int64_t)days + 3) % 7;
    if (w < 0) w += 7;
    return (unsigned)w + 1;
}

bool rt_is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned rt_days_in_month(int year, unsigned month)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    RT_ASSERT(month >= 1 && month <= 12);
    return month == 2 && rt_is_leap_year(year) ? 29 : days[month - 1];
}

/* ---- parsing ---- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

rt_status rt_date_parse(const char *s, size_t len, rt_days *out)
{
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-') return RT_EPARSE;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) return RT_EPARSE;
    if (y < 1 || m < 1 || m > 12 || d < 1 || (unsigned)d > rt_days_in_month(y, (unsigned)m))
        return RT_EPARSE;
    *out = rt_days_from_civil(y, (unsigned)m, (unsigned)d);
    return RT_OK;
}

rt_status rt_time_parse(const char *s, size_t len, rt_time_s *out)
{
    rt_days day;
    int hh, mm, ss;
    if (len < 19) return RT_EPARSE;
    if (rt_date_parse(s, 10, &day) != RT_OK) return RT_EPARSE;
    /* RFC 3339 (section 5.6) lets the T and the Z be lowercase; exports write them so. */
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return RT_EPARSE;
    if (!digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss))
        return RT_EPARSE;
    /* A leap second (ss == 60) is refused: POSIX time has none, and a CDR that carries one is
     * better rejected and looked at than silently moved. */
    if (hh > 23 || mm > 59 || ss > 59) return RT_EPARSE;
    size_t i = 19;
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        if (i == start || i - start > 9) return RT_EPARSE;
    }
    int64_t offset_s = 0;
    if (i < len) {
        char c = s[i];
        if (c == 'Z' || c == 'z') {
            i++;
        } else if (c == '+' || c == '-') {
            int oh, om = 0;
            i++;
            if (i + 2 > len || !digits(s + i, 2, &oh)) return RT_EPARSE;
            i += 2;
            if (i < len) {
                if (s[i] == ':') i++;
                if (i + 2 > len || !digits(s + i, 2, &om)) return RT_EPARSE;
                i += 2;
            }
            if (oh > 23 || om > 59) return RT_EPARSE;
            offset_s = (int64_t)(oh * 3600 + om * 60);
            if (c == '-') offset_s = -offset_s;
        } else {
            return RT_EPARSE;
        }
    }
    if (i != len) return RT_EPARSE;
    rt_time_s t = rt_time_of_days(day) + hh * 3600 + mm * 60 + ss - offset_s;
    /* An offset can carry an instant of 0001-01-01 or 9999-12-31 out of the supported range;
     * it would then format as year 0 or 10000, which no parser accepts back. */
    if (t < RT_TIME_MIN || t > RT_TIME_MAX) return RT_EPARSE;
    *out = t;
    return RT_OK;
}

rt_status rt_instant_or_date_parse(const char *s, size_t len, rt_time_s *out)
{
    if (len == 10) {
        rt_days d;
        if (rt_date_parse(s, len, &d) != RT_OK) return RT_EPARSE;
        *out = rt_time_of_days(d);
        return RT_OK;
    }
    return rt_time_parse(s, len, out);
}

/* ---- formatting ---- */

/* Two decimal digits of v (< 100). */
static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* "YYYY" (4 bytes, no terminator) for a year in 0..9999. */
static void put_year(char *p, int y)
{
    put2(p, (unsigned)y / 100);
    put2(p + 2, (unsigned)y % 100);
}

/* "YYYY-MM-DD" (10 bytes, no terminator) for a year in 0..9999. */
static void put_ymd(char *p, int y, unsigned m, unsigned d)
{
    put_year(p, y);
    p[4] = '-';
    put2(p + 5, m);
    p[7] = '-';
    put2(p + 8, d);
}

size_t rt_date_format(rt_days d, char *buf, size_t buf_size)
{
    int y;
    unsigned m, dd;
    rt_civil_from_days(d, &y, &m, &dd);
    if (y >= 0 && y <= 9999 && buf_size > 10) {
        put_ymd(buf, y, m, dd);
        buf[10] = '\0';
        return 10;
    }
    int n = snprintf(buf, buf_size, "%04d-%02u-%02u", y, m, dd);
    return n < 0 ? 0 : (size_t)n;
}

size_t rt_date_format_compact(rt_days d, char *buf, size_t buf_size)
{
    int y;
    unsigned m, dd;
    rt_civil_from_days(d, &y, &m, &dd);
    if (y >= 0 && y <= 9999 && buf_size > 8) {
        /* Three times per line of the FEC file: digits by hand, not printf. */
        put_year(buf, y);
        put2(buf + 4, m);
        put2(buf + 6, dd);
        buf[8] = '\0';
        return 8;
    }
    int n = snprintf(buf, buf_size, "%04d%02u%02u", y, m, dd);
    return n < 0 ? 0 : (size_t)n;
}

size_t rt_time_format(rt_time_s t, char *buf, size_t buf_size)
{
    rt_days d = rt_days_of(t);
    int64_t sod = t - rt_time_of_days(d);
    int y;
    unsigned m, dd;
    rt_civil_from_days(d, &y, &m, &dd);
    if (y >= 0 && y <= 9999 && buf_size > 20) {
        /* Once per rated event in the detail files: digits by hand, not printf. */
        put_ymd(buf, y, m, dd);
        buf[10] = 'T';
        put2(buf + 11, (unsigned)(sod / 3600));
        buf[13] = ':';
        put2(buf + 14, (unsigned)(sod / 60 % 60));
        buf[16] = ':';
        put2(buf + 17, (unsigned)(sod % 60));
        buf[19] = 'Z';
        buf[20] = '\0';
        return 20;
    }
    int n = snprintf(buf, buf_size, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, dd, (int)(sod / 3600),
                     (int)(sod / 60 % 60), (int)(sod % 60));
    return n < 0 ? 0 : (size_t)n;
}

size_t rt_instant_or_date_format(rt_time_s t, char *buf, size_t buf_size)
{
    if (t == RT_TIME_OPEN_END) {
        if (buf_size) buf[0] = '\0';
        return 0;
    }
    if (t % RT_SECONDS_PER_DAY == 0) return rt_date_format(rt_days_of(t), buf, buf_size);
    return rt_time_format(t, buf, buf_size);
}

/* ---- periods ---- */

void rt_period_of_month(int year, unsigned month, rt_period *out)
{
    out->year = year;
    out->month = month;
    out->start_day = rt_days_from_civil(year, month, 1);
    out->end_day = out->start_day + (rt_days)rt_days_in_month(year, month);
    out->start_s = rt_time_of_days(out->start_day);
    out->end_s = rt_time_of_days(out->end_day);
}

rt_status rt_period_parse(const char *s, rt_period *out)
{
    int y, m;
    if (!s || strlen(s) != 7 || s[4] != '-') return RT_EPARSE;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || y < 1 || m < 1 || m > 12)
        return RT_EPARSE;
    rt_period_of_month(y, (unsigned)m, out);
    return RT_OK;
}

size_t rt_period_format(const rt_period *p, char *buf, size_t buf_size)
{
    int n = snprintf(buf, buf_size, "%04d-%02u", p->year, p->month);
    return n < 0 ? 0 : (size_t)n;
}

int32_t rt_days_overlap(rt_days a_start, rt_days a_end, rt_days b_start, rt_days b_end)
{
    rt_days s = a_start > b_start ? a_start : b_start;
    rt_days e = a_end < b_end ? a_end : b_end;
    return e > s ? e - s : 0;
}

/* datetime: UTC instants, calendar dates and billing periods.
 *
 * Owns the time representation used everywhere in ratel: an instant is an int64 count of
 * seconds since 1970-01-01T00:00:00Z (rt_time_s), a calendar date is an int32 count of days
 * since 1970-01-01 (rt_days). Owns ISO 8601 parsing (with offsets) and formatting, the
 * proleptic Gregorian calendar arithmetic, and billing periods as half-open [start, end)
 * ranges, and the monotonic clock that times a run's stages. Local time in a plan's time zone
 * (time bands, DST) is the timezone module's. */
#ifndef RT_DATETIME_H
#define RT_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine/status.h"

/* A monotonic clock in nanoseconds, for durations: the run's stage times, a reader's
 * decompression time. */
static inline uint64_t rt_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

typedef int64_t rt_time_s; /* seconds since the Unix epoch, UTC */
typedef int32_t rt_days;   /* days since 1970-01-01 */

#define RT_SECONDS_PER_DAY INT64_C(86400)
/* Instants outside [0001-01-01, 9999-12-31] are refused by the parsers. */
#define RT_TIME_MIN INT64_C(-62135596800)
#define RT_TIME_MAX INT64_C(253402300799)
/* An open end of an effective-date range ("valid until further notice"). */
#define RT_TIME_OPEN_END INT64_MAX

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31, not checked). */
rt_days rt_days_from_civil(int64_t year, unsigned month, unsigned day);
void rt_civil_from_days(rt_days days, int *year, unsigned *month, unsigned *day);
/* ISO weekday: 1 = Monday ... 7 = Sunday. */
unsigned rt_iso_weekday(rt_days days);
bool rt_is_leap_year(int year);
unsigned rt_days_in_month(int year, unsigned month);

static inline rt_days rt_days_of(rt_time_s t)
{
    /* floor division, so instants before 1970 land on the right day */
    return (rt_days)(t >= 0 ? t / RT_SECONDS_PER_DAY : -((-t + RT_SECONDS_PER_DAY - 1) / RT_SECONDS_PER_DAY));
}
static inline rt_time_s rt_time_of_days(rt_days d) { return (rt_time_s)d * RT_SECONDS_PER_DAY; }

/* Parse an ISO 8601 instant: "YYYY-MM-DDThh:mm:ss" followed by "Z", "+hh:mm", "-hh:mm",
 * "+hhmm" or "+hh"; a space may replace the 'T'; 'T' and 'Z' may be lowercase (RFC 3339
 * section 5.6); fractional seconds (".123") are accepted
 * and truncated toward the start of the second. Without an offset the time is taken as UTC.
 * RT_EPARSE on anything else, including impossible dates (2026-02-30) and hours > 23. */
rt_status rt_time_parse(const char *s, size_t len, rt_time_s *out);

/* Parse a calendar date "YYYY-MM-DD". RT_EPARSE when malformed or impossible. */
rt_status rt_date_parse(const char *s, size_t len, rt_days *out);

/* Parse either a date (meaning its midnight UTC) or an instant, for effective dates. */
rt_status rt_instant_or_date_parse(const char *s, size_t len, rt_time_s *out);

/* "2026-10-05T14:03:22Z". buf needs 21 bytes; returns the length. */
size_t rt_time_format(rt_time_s t, char *buf, size_t buf_size);
/* "2026-10-05". buf needs 11 bytes; returns the length. */
size_t rt_date_format(rt_days d, char *buf, size_t buf_size);
/* "20261005" (FEC's AAAAMMJJ). buf needs 9 bytes. */
size_t rt_date_format_compact(rt_days d, char *buf, size_t buf_size);
/* Effective dates as the price book writes them: a date when the instant is midnight UTC,
 * otherwise an instant; the open end as the empty string. */
size_t rt_instant_or_date_format(rt_time_s t, char *buf, size_t buf_size);

/* A billing period: the half-open range [start, end) of whole UTC days. */
typedef struct rt_period {
    int year;
    unsigned month;  /* 1-12 for calendar-month periods */
    rt_days start_day; /* first day in the period */
    rt_days end_day;   /* first day after the period */
    rt_time_s start_s;
    rt_time_s end_s;
} rt_period;

/* Parse "YYYY-MM" into the calendar month period. */
rt_status rt_period_parse(const char *s, rt_period *out);
/* The calendar month period containing day d. */
void rt_period_of_month(int year, unsigned month, rt_period *out);
/* "2026-10". buf needs 8 bytes. */
size_t rt_period_format(const rt_period *p, char *buf, size_t buf_size);
static inline int32_t rt_period_days(const rt_period *p) { return p->end_day - p->start_day; }
static inline bool rt_period_contains(const rt_period *p, rt_time_s t)
{
    return t >= p->start_s && t < p->end_s;
}
/* Number of days of the half-open range [a_start, a_end) that fall in [b_start, b_end). */
int32_t rt_days_overlap(rt_days a_start, rt_days a_end, rt_days b_start, rt_days b_end);

#endif

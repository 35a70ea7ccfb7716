/* test_datetime: civil calendar conversions, ISO 8601 parsing and formatting, billing periods.
 *
 * Day numbers below were worked out by hand from 1970-01-01 = day 0: for instance
 * 2026-01-01 = 56 x 365 + 14 leap days (1972..2024) = 20454, and 2026-10-05 adds the 273
 * days of January..September plus 4 = 20731. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/datetime.h"

static rt_time_s parse_ok(const char *s)
{
    rt_time_s t = 0;
    cr_assert_eq(rt_time_parse(s, strlen(s), &t), RT_OK, "'%s' should parse", s);
    return t;
}

static void parse_bad(const char *s)
{
    rt_time_s t = 12345;
    cr_assert_eq(rt_time_parse(s, strlen(s), &t), RT_EPARSE, "'%s' should be refused", s);
    cr_assert_eq(t, 12345, "a refused parse leaves the output alone");
}

/* ---- civil dates ---- */

Test(datetime, known_day_numbers)
{
    cr_assert_eq(rt_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(rt_days_from_civil(2000, 1, 1), 10957);
    cr_assert_eq(rt_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(rt_days_from_civil(2024, 2, 29), 19782);
    cr_assert_eq(rt_days_from_civil(2024, 3, 1), 19783);
    cr_assert_eq(rt_days_from_civil(2026, 1, 1), 20454);
    cr_assert_eq(rt_days_from_civil(2026, 10, 5), 20731);
    /* 2100 is not a leap year: 1 March follows 28 February. */
    cr_assert_eq(rt_days_from_civil(2100, 1, 1), 47482);
    cr_assert_eq(rt_days_from_civil(2100, 3, 1), 47541);
    cr_assert_eq(rt_days_from_civil(2100, 3, 1) - rt_days_from_civil(2100, 2, 28), 1);
    cr_assert_eq(rt_days_from_civil(2000, 3, 1) - rt_days_from_civil(2000, 2, 28), 2);
    /* The range ends: RT_TIME_MIN and RT_TIME_MAX are these days' first and last second. */
    cr_assert_eq(rt_days_from_civil(1, 1, 1), -719162);
    cr_assert_eq(rt_days_from_civil(9999, 12, 31), 2932896);
    cr_assert_eq(rt_time_of_days(-719162), RT_TIME_MIN);
    cr_assert_eq(rt_time_of_days(2932897) - 1, RT_TIME_MAX);
}

Test(datetime, every_day_from_year_1_to_9999_round_trips)
{
    /* Walk every day of the supported range: the civil date must advance by exactly one day
     * each step and convert back to the same day number. */
    int y = 1;
    unsigned m = 1, d = 1;
    for (rt_days day = -719162; day <= 2932896; day++) {
        int yy;
        unsigned mm, dd;
        rt_civil_from_days(day, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d)
            cr_assert_fail("day %d is %04d-%02u-%02u, expected %04d-%02u-%02u", day, yy, mm, dd,
                           y, m, d);
        if (rt_days_from_civil(yy, mm, dd) != day) cr_assert_fail("day %d does not round-trip", day);
        if (++d > rt_days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    cr_assert_eq(y, 10000, "the walk ends on 10000-01-01");
}

Test(datetime, leap_years)
{
    cr_assert(rt_is_leap_year(2000));
    cr_assert(rt_is_leap_year(2024));
    cr_assert_not(rt_is_leap_year(2100));
    cr_assert_not(rt_is_leap_year(1900));
    cr_assert_not(rt_is_leap_year(2026));
    cr_assert_eq(rt_days_in_month(2000, 2), 29);
    cr_assert_eq(rt_days_in_month(2024, 2), 29);
    cr_assert_eq(rt_days_in_month(2100, 2), 28);
    cr_assert_eq(rt_days_in_month(2026, 2), 28);
    cr_assert_eq(rt_days_in_month(2026, 4), 30);
    cr_assert_eq(rt_days_in_month(2026, 12), 31);
}

Test(datetime, iso_weekday)
{
    cr_assert_eq(rt_iso_weekday(0), 4, "1970-01-01 was a Thursday");
    cr_assert_eq(rt_iso_weekday(-1), 3, "1969-12-31 was a Wednesday");
    cr_assert_eq(rt_iso_weekday(10957), 6, "2000-01-01 was a Saturday");
    cr_assert_eq(rt_iso_weekday(20731), 1, "2026-10-05 is a Monday");
    cr_assert_eq(rt_iso_weekday(20758), 7, "2026-11-01 is a Sunday");
    cr_assert_eq(rt_iso_weekday(-719162), 1, "0001-01-01 was a Monday (proleptic)");
    cr_assert_eq(rt_iso_weekday(2932896), 5, "9999-12-31 is a Friday");
}

Test(datetime, days_of_floors_instants_before_1970)
{
    cr_assert_eq(rt_days_of(0), 0);
    cr_assert_eq(rt_days_of(86399), 0);
    cr_assert_eq(rt_days_of(86400), 1);
    cr_assert_eq(rt_days_of(-1), -1);
    cr_assert_eq(rt_days_of(-86400), -1);
    cr_assert_eq(rt_days_of(-86401), -2);
    cr_assert_eq(rt_days_of(RT_TIME_MIN), -719162);
    cr_assert_eq(rt_days_of(RT_TIME_MAX), 2932896);
}

/* ---- ISO 8601 parsing ---- */

Test(datetime, parse_utc_forms)
{
    /* 2026-10-05T14:03:22Z = 20731 x 86400 + 14 x 3600 + 3 x 60 + 22. */
    const rt_time_s want = INT64_C(1791209002);
    cr_assert_eq(parse_ok("2026-10-05T14:03:22Z"), want);
    cr_assert_eq(parse_ok("2026-10-05T14:03:22z"), want);
    /* RFC 3339 section 5.6: "T" and "Z" may alternatively be lower case. */
    cr_assert_eq(parse_ok("2026-10-05t14:03:22z"), want);
    cr_assert_eq(parse_ok("2026-10-05t14:03:22Z"), want);
    cr_assert_eq(parse_ok("2026-10-05t16:03:22+02:00"), want);
    cr_assert_eq(parse_ok("2026-10-05t14:03:22.5z"), want);
    cr_assert_eq(parse_ok("2026-10-05 14:03:22Z"), want, "a space may replace the T");
    cr_assert_eq(parse_ok("2026-10-05T14:03:22"), want, "no offset means UTC");
    cr_assert_eq(parse_ok("2026-10-05 14:03:22"), want);
    cr_assert_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(parse_ok("1969-12-31T23:59:59Z"), -1);
}

Test(datetime, parse_offsets)
{
    const rt_time_s utc = INT64_C(1791209002); /* 2026-10-05T14:03:22Z */
    cr_assert_eq(parse_ok("2026-10-05T16:03:22+02:00"), utc);
    cr_assert_eq(parse_ok("2026-10-05T16:03:22+0200"), utc);
    cr_assert_eq(parse_ok("2026-10-05T16:03:22+02"), utc);
    cr_assert_eq(parse_ok("2026-10-05T08:33:22-05:30"), utc);
    cr_assert_eq(parse_ok("2026-10-05T08:33:22-0530"), utc);
    cr_assert_eq(parse_ok("2026-10-05T09:03:22-05"), utc);
    cr_assert_eq(parse_ok("2026-10-05T14:03:22+00:00"), utc);
    cr_assert_eq(parse_ok("2026-10-05T14:03:22-00:00"), utc);
    /* An offset can move the instant to another UTC day. */
    cr_assert_eq(parse_ok("2026-10-05T00:30:00+01:00"), parse_ok("2026-10-04T23:30:00Z"));
    cr_assert_eq(parse_ok("2026-12-31T23:30:00-01:00"), parse_ok("2027-01-01T00:30:00Z"));
}

Test(datetime, parse_fractional_seconds_truncate)
{
    const rt_time_s utc = INT64_C(1791209002);
    cr_assert_eq(parse_ok("2026-10-05T14:03:22.999Z"), utc, "truncated, never rounded up");
    cr_assert_eq(parse_ok("2026-10-05T14:03:22.5"), utc);
    cr_assert_eq(parse_ok("2026-10-05T14:03:22,25Z"), utc);
    cr_assert_eq(parse_ok("2026-10-05T16:03:22.123456789+02:00"), utc);
    parse_bad("2026-10-05T14:03:22.Z");
    parse_bad("2026-10-05T14:03:22.");
    parse_bad("2026-10-05T14:03:22.1234567890Z"); /* more than nanoseconds */
}

Test(datetime, parse_refuses_impossible_and_malformed_text)
{
    parse_bad("2026-02-30T00:00:00Z");
    parse_bad("2026-02-29T00:00:00Z"); /* 2026 is not a leap year */
    parse_bad("2100-02-29T00:00:00Z");
    parse_bad("2026-04-31T00:00:00Z");
    parse_bad("2026-13-01T00:00:00Z");
    parse_bad("2026-00-10T00:00:00Z");
    parse_bad("2026-10-00T00:00:00Z");
    parse_bad("0000-01-01T00:00:00Z");
    parse_bad("2026-10-05T24:00:00Z");
    parse_bad("2026-10-05T23:60:00Z");
    parse_bad("2026-12-31T23:59:60Z"); /* leap second */
    parse_bad("garbage");
    parse_bad("");
    parse_bad("2026-10-05");              /* a date is not an instant */
    parse_bad("2026-10-05T14:03");        /* truncated */
    parse_bad("2026-10-05T14:03:2");      /* truncated */
    parse_bad("2026-10-05x14:03:22Z");    /* only T, t or a space */
    parse_bad("2026-10-05T14:03:22x");    /* only Z, z or an offset */
    parse_bad("2026-10-05T14:03:22+");    /* truncated offset */
    parse_bad("2026-10-05T14:03:22+1");   /* one-digit offset */
    parse_bad("2026-10-05T14:03:22+01:"); /* truncated minutes */
    parse_bad("2026-10-05T14:03:22+01:3");
    parse_bad("2026-10-05T14:03:22+24:00"); /* offset hours above 23 */
    parse_bad("2026-10-05T14:03:22+01:60");
    parse_bad("2026-10-05T14:03:22Zjunk");
    parse_bad("2026-10-05T14:03:22 ");
    parse_bad("2026/10/05T14:03:22Z");
    parse_bad("2026-1a-05T14:03:22Z");
    parse_bad("+026-10-05T14:03:22Z");
    parse_bad("2026-10-05T-4:03:22Z");
}

Test(datetime, parse_respects_the_length_argument)
{
    /* The text is a view: bytes after len are not part of it. */
    const char *s = "2026-10-05T14:03:22Zjunk";
    rt_time_s t;
    cr_assert_eq(rt_time_parse(s, 20, &t), RT_OK);
    cr_assert_eq(t, INT64_C(1791209002));
    cr_assert_eq(rt_time_parse(s, 19, &t), RT_OK);
    cr_assert_eq(rt_time_parse(s, 18, &t), RT_EPARSE);
}

Test(datetime, parse_refuses_instants_outside_years_1_to_9999)
{
    cr_assert_eq(parse_ok("0001-01-01T00:00:00Z"), RT_TIME_MIN);
    cr_assert_eq(parse_ok("9999-12-31T23:59:59Z"), RT_TIME_MAX);
    cr_assert_eq(parse_ok("0001-01-01T01:00:00+01:00"), RT_TIME_MIN);
    cr_assert_eq(parse_ok("9999-12-31T22:59:59-01:00"), RT_TIME_MAX);
    /* An offset must not carry an instant out of the documented range: such an instant
     * would format as year 0 or 10000, which no parser accepts back. */
    parse_bad("0001-01-01T00:00:00+01:00");
    parse_bad("9999-12-31T23:59:59-00:01");
}

Test(datetime, date_parse)
{
    rt_days d;
    cr_assert_eq(rt_date_parse("2024-02-29", 10, &d), RT_OK);
    cr_assert_eq(d, 19782);
    cr_assert_eq(rt_date_parse("2000-02-29", 10, &d), RT_OK);
    cr_assert_eq(d, 11016);
    cr_assert_eq(rt_date_parse("2023-02-29", 10, &d), RT_EPARSE);
    cr_assert_eq(rt_date_parse("2100-02-29", 10, &d), RT_EPARSE);
    cr_assert_eq(rt_date_parse("2026-10-5", 9, &d), RT_EPARSE);
    cr_assert_eq(rt_date_parse("2026-10-05T", 11, &d), RT_EPARSE);
    cr_assert_eq(rt_date_parse("2026-10-0x", 10, &d), RT_EPARSE);
}

Test(datetime, instant_or_date)
{
    rt_time_s t;
    cr_assert_eq(rt_instant_or_date_parse("2026-10-15", 10, &t), RT_OK);
    cr_assert_eq(t, INT64_C(20741) * 86400, "a date means its midnight UTC");
    cr_assert_eq(rt_instant_or_date_parse("2026-10-15T12:00:00Z", 20, &t), RT_OK);
    cr_assert_eq(t, INT64_C(20741) * 86400 + 43200);
    cr_assert_eq(rt_instant_or_date_parse("2026-10-32", 10, &t), RT_EPARSE);
    cr_assert_eq(rt_instant_or_date_parse("2026-10", 7, &t), RT_EPARSE);
}

/* ---- formatting ---- */

Test(datetime, format_instants)
{
    char buf[32];
    cr_assert_eq(rt_time_format(INT64_C(1791209002), buf, sizeof buf), 20);
    cr_assert_str_eq(buf, "2026-10-05T14:03:22Z");
    rt_time_format(0, buf, sizeof buf);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
    rt_time_format(-1, buf, sizeof buf);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59Z");
    rt_time_format(RT_TIME_MIN, buf, sizeof buf);
    cr_assert_str_eq(buf, "0001-01-01T00:00:00Z");
    rt_time_format(RT_TIME_MAX, buf, sizeof buf);
    cr_assert_str_eq(buf, "9999-12-31T23:59:59Z");
    rt_time_format(INT64_C(19782) * 86400 + 86399, buf, sizeof buf);
    cr_assert_str_eq(buf, "2024-02-29T23:59:59Z");
}

Test(datetime, format_dates)
{
    char buf[16];
    cr_assert_eq(rt_date_format(20731, buf, sizeof buf), 10);
    cr_assert_str_eq(buf, "2026-10-05");
    cr_assert_eq(rt_date_format_compact(20731, buf, sizeof buf), 8);
    cr_assert_str_eq(buf, "20261005");
    rt_date_format(-719162, buf, sizeof buf);
    cr_assert_str_eq(buf, "0001-01-01");
    cr_assert_eq(rt_date_format_compact(-719162, buf, sizeof buf), 8);
    cr_assert_str_eq(buf, "00010101");
    char small[8]; /* no room for the terminator: cut as snprintf cuts */
    cr_assert_eq(rt_date_format_compact(20731, small, sizeof small), 8);
    cr_assert_str_eq(small, "2026100");
    rt_date_format(47540, buf, sizeof buf);
    cr_assert_str_eq(buf, "2100-02-28");
}

Test(datetime, format_effective_dates)
{
    char buf[32];
    cr_assert_eq(rt_instant_or_date_format(INT64_C(20741) * 86400, buf, sizeof buf), 10);
    cr_assert_str_eq(buf, "2026-10-15");
    rt_instant_or_date_format(INT64_C(20741) * 86400 + 1, buf, sizeof buf);
    cr_assert_str_eq(buf, "2026-10-15T00:00:01Z");
    cr_assert_eq(rt_instant_or_date_format(RT_TIME_OPEN_END, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "");
    /* Midnight before 1970 is still a date. */
    rt_instant_or_date_format(-86400, buf, sizeof buf);
    cr_assert_str_eq(buf, "1969-12-31");
}

Test(datetime, parse_format_round_trip)
{
    static const char *const canon[] = {"2026-10-05T14:03:22Z", "0001-01-01T00:00:00Z",
                                        "9999-12-31T23:59:59Z", "2024-02-29T12:00:00Z",
                                        "1969-07-20T20:17:40Z", "2100-03-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof canon / sizeof *canon; i++) {
        char buf[32];
        rt_time_format(parse_ok(canon[i]), buf, sizeof buf);
        cr_assert_str_eq(buf, canon[i]);
    }
}

/* ---- periods ---- */

Test(datetime, period_parse)
{
    rt_period p;
    cr_assert_eq(rt_period_parse("2026-10", &p), RT_OK);
    cr_assert_eq(p.year, 2026);
    cr_assert_eq(p.month, 10);
    cr_assert_eq(p.start_day, 20727);
    cr_assert_eq(p.end_day, 20758);
    cr_assert_eq(rt_period_days(&p), 31);
    cr_assert_eq(p.start_s, INT64_C(20727) * 86400);
    cr_assert_eq(p.end_s, INT64_C(20758) * 86400);
    char buf[8];
    cr_assert_eq(rt_period_format(&p, buf, sizeof buf), 7);
    cr_assert_str_eq(buf, "2026-10");
}

Test(datetime, period_february_and_december)
{
    rt_period p;
    cr_assert_eq(rt_period_parse("2024-02", &p), RT_OK);
    cr_assert_eq(rt_period_days(&p), 29);
    cr_assert_eq(p.start_day, 19754);
    cr_assert_eq(rt_period_parse("2023-02", &p), RT_OK);
    cr_assert_eq(rt_period_days(&p), 28);
    cr_assert_eq(rt_period_parse("2100-02", &p), RT_OK);
    cr_assert_eq(rt_period_days(&p), 28);
    /* December ends on the first day of the next year. */
    cr_assert_eq(rt_period_parse("2026-12", &p), RT_OK);
    cr_assert_eq(p.end_day, 20819);
    cr_assert_eq(rt_period_days(&p), 31);
    int y;
    unsigned m, d;
    rt_civil_from_days(p.end_day, &y, &m, &d);
    cr_assert(y == 2027 && m == 1 && d == 1);
}

Test(datetime, period_parse_refuses_bad_text)
{
    rt_period p;
    static const char *const bad[] = {"2026-13", "2026-00", "2026-1", "202610", "2026-100",
                                       "abcd-ef", "2026-10-01", "0000-05", "2026/10", "",
                                       "-026-10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(rt_period_parse(bad[i], &p), RT_EPARSE, "'%s'", bad[i]);
    cr_assert_eq(rt_period_parse(NULL, &p), RT_EPARSE);
}

Test(datetime, period_contains_is_half_open)
{
    rt_period p;
    rt_period_of_month(2026, 10, &p);
    cr_assert(rt_period_contains(&p, p.start_s));
    cr_assert(rt_period_contains(&p, p.end_s - 1));
    cr_assert_not(rt_period_contains(&p, p.end_s));
    cr_assert_not(rt_period_contains(&p, p.start_s - 1));
}

Test(datetime, days_overlap)
{
    cr_assert_eq(rt_days_overlap(0, 10, 5, 20), 5);
    cr_assert_eq(rt_days_overlap(5, 20, 0, 10), 5);
    cr_assert_eq(rt_days_overlap(0, 5, 5, 10), 0, "touching ranges share no day");
    cr_assert_eq(rt_days_overlap(0, 5, 7, 10), 0);
    cr_assert_eq(rt_days_overlap(3, 4, 0, 31), 1);
    cr_assert_eq(rt_days_overlap(0, 31, 0, 31), 31);
    cr_assert_eq(rt_days_overlap(-10, 10, -5, 0), 5);
    cr_assert_eq(rt_days_overlap(10, 5, 0, 31), 0, "an empty range overlaps nothing");
    /* A service from 2026-10-20 to 2026-12-01 in the October period: 12 days (20..31). */
    rt_period p;
    rt_period_of_month(2026, 10, &p);
    cr_assert_eq(rt_days_overlap(rt_days_from_civil(2026, 10, 20), rt_days_from_civil(2026, 12, 1),
                                 p.start_day, p.end_day),
                 12);
}

Test(datetime, format_into_small_buffers_truncates)
{
    char buf[8];
    cr_assert_eq(rt_time_format(INT64_C(1791209002), buf, sizeof buf), 20, "the length it needs");
    cr_assert_str_eq(buf, "2026-10");
    cr_assert_eq(rt_date_format(20731, buf, sizeof buf), 10);
    cr_assert_str_eq(buf, "2026-10");
}

/* test_timezone: TZif parsing and UTC offsets from the system tz database and from footer
 * rules, checked against the published transition instants (zdump -v) of 2026. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/timezone.h"

static rt_time_s at(const char *iso)
{
    rt_time_s t;
    cr_assert_eq(rt_time_parse(iso, strlen(iso), &t), RT_OK, "%s", iso);
    return t;
}

static void load(const char *name, rt_tz *tz)
{
    rt_error err;
    cr_assert_eq(rt_tz_load(NULL, name, tz, &err), RT_OK, "%s: %s", name, err.message);
}

Test(timezone, paris_switches_at_one_utc_in_march_and_october)
{
    rt_tz tz;
    load("Europe/Paris", &tz);
    /* 2026-03-29 02:00 CET becomes 03:00 CEST at 01:00Z; back on 2026-10-25 at 01:00Z. */
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-03-29T00:59:59Z")), 3600);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-03-29T01:00:00Z")), 7200);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-10-25T00:59:59Z")), 7200);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-10-25T01:00:00Z")), 3600);
    cr_assert_eq(rt_tz_next_change(&tz, at("2026-10-01T00:00:00Z")), at("2026-10-25T01:00:00Z"));
    cr_assert_eq(rt_tz_next_change(&tz, at("2026-10-25T01:00:00Z")), at("2027-03-28T01:00:00Z"));
    /* Far beyond the listed transitions, the footer rule keeps going. */
    cr_assert_eq(rt_tz_offset_s(&tz, at("2080-07-01T00:00:00Z")), 7200);
    cr_assert_eq(rt_tz_next_change(&tz, at("2080-01-01T00:00:00Z")), at("2080-03-31T01:00:00Z"));
    rt_tz_free(&tz);
}

Test(timezone, new_york_and_sydney)
{
    rt_tz ny, syd;
    load("America/New_York", &ny);
    load("Australia/Sydney", &syd);
    cr_assert_eq(rt_tz_offset_s(&ny, at("2026-03-08T06:59:59Z")), -18000);
    cr_assert_eq(rt_tz_offset_s(&ny, at("2026-03-08T07:00:00Z")), -14400);
    cr_assert_eq(rt_tz_next_change(&ny, at("2026-06-01T00:00:00Z")), at("2026-11-01T06:00:00Z"));
    /* Southern hemisphere: summer time spans the new year. */
    cr_assert_eq(rt_tz_offset_s(&syd, at("2026-01-15T00:00:00Z")), 39600);
    cr_assert_eq(rt_tz_offset_s(&syd, at("2026-04-04T16:00:00Z")), 36000);
    cr_assert_eq(rt_tz_next_change(&syd, at("2026-05-01T00:00:00Z")), at("2026-10-03T16:00:00Z"));
    rt_tz_free(&ny);
    rt_tz_free(&syd);
}

Test(timezone, utc_and_fixed_zones_never_change)
{
    rt_tz utc, kolkata;
    load("UTC", &utc);
    load("Asia/Kolkata", &kolkata);
    cr_assert_eq(rt_tz_offset_s(&utc, at("2026-07-01T12:00:00Z")), 0);
    cr_assert_eq(rt_tz_next_change(&utc, at("2026-07-01T12:00:00Z")), RT_TIME_OPEN_END);
    cr_assert_eq(rt_tz_offset_s(&kolkata, at("2026-07-01T12:00:00Z")), 19800);
    cr_assert_eq(rt_tz_next_change(&kolkata, at("2026-07-01T12:00:00Z")), RT_TIME_OPEN_END);
    rt_tz_free(&utc);
    rt_tz_free(&kolkata);
}

/* ---- hand-made TZif files ---- */

static size_t put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

/* A "slim" TZif v2 file with no transitions at all: everything comes from the footer. */
static size_t slim_file(unsigned char *b, int32_t std_utoff, const char *abbr, const char *footer)
{
    size_t n = 0;
    size_t al = strlen(abbr) + 1;
    for (int block = 0; block < 2; block++) {
        memcpy(b + n, "TZif2", 5);
        memset(b + n + 5, 0, 15);
        n += 20;
        n += put32(b + n, 0);            /* isutcnt */
        n += put32(b + n, 0);            /* isstdcnt */
        n += put32(b + n, 0);            /* leapcnt */
        n += put32(b + n, 0);            /* timecnt */
        n += put32(b + n, 1);            /* typecnt */
        n += put32(b + n, (uint32_t)al); /* charcnt */
        n += put32(b + n, (uint32_t)std_utoff);
        b[n++] = 0; /* isdst */
        b[n++] = 0; /* abbreviation index */
        memcpy(b + n, abbr, al);
        n += al;
    }
    b[n++] = '\n';
    memcpy(b + n, footer, strlen(footer));
    n += strlen(footer);
    b[n++] = '\n';
    return n;
}

Test(timezone, a_slim_file_is_rated_from_its_footer_rule)
{
    unsigned char b[512];
    size_t n = slim_file(b, 3600, "CET", "CET-1CEST,M3.5.0,M10.5.0/3");
    rt_tz tz;
    char why[160];
    cr_assert_eq(rt_tz_parse(b, n, &tz, why, sizeof why), RT_OK, "%s", why);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-01-15T12:00:00Z")), 3600);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-07-15T12:00:00Z")), 7200);
    cr_assert_eq(rt_tz_next_change(&tz, at("2026-04-01T00:00:00Z")), at("2026-10-25T01:00:00Z"));
    rt_tz_free(&tz);

    /* Southern rule, Julian-day and hour-offset forms. */
    n = slim_file(b, 36000, "AEST", "AEST-10AEDT,M10.1.0,M4.1.0/3");
    cr_assert_eq(rt_tz_parse(b, n, &tz, why, sizeof why), RT_OK, "%s", why);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-01-15T00:00:00Z")), 39600);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-04-04T16:00:00Z")), 36000);
    rt_tz_free(&tz);
    n = slim_file(b, -10800, "-03", "<-03>3");
    cr_assert_eq(rt_tz_parse(b, n, &tz, why, sizeof why), RT_OK, "%s", why);
    cr_assert_eq(rt_tz_offset_s(&tz, at("2026-01-15T00:00:00Z")), -10800);
    rt_tz_free(&tz);
}

Test(timezone, bad_files_and_names_are_refused)
{
    unsigned char b[512];
    rt_tz tz;
    char why[160];
    rt_error err;
    cr_assert_eq(rt_tz_parse("TZxf", 4, &tz, why, sizeof why), RT_EPARSE);
    size_t n = slim_file(b, 3600, "CET", "CET-1CEST,M3.5.0,M10.5.0/3");
    cr_assert_eq(rt_tz_parse(b, n - 5, &tz, why, sizeof why), RT_EPARSE, "truncated footer");
    cr_assert_eq(rt_tz_parse(b, 30, &tz, why, sizeof why), RT_EPARSE, "truncated header");
    n = slim_file(b, 3600, "CET", "CET-1CEST,M13.5.0,M10.5.0/3");
    cr_assert_eq(rt_tz_parse(b, n, &tz, why, sizeof why), RT_EPARSE, "month 13");
    cr_assert_eq(rt_tz_load(NULL, "Europe/Pariss", &tz, &err), RT_ENOTFOUND);
    cr_assert_eq(rt_tz_load(NULL, "../../etc/passwd", &tz, &err), RT_EINVAL);
    cr_assert_eq(rt_tz_load(NULL, "/etc/passwd", &tz, &err), RT_EINVAL);
    cr_assert_eq(rt_tz_load(NULL, "", &tz, &err), RT_EINVAL);
    /* A directory of the database is not a zone. */
    cr_assert_neq(rt_tz_load(NULL, "Europe", &tz, &err), RT_OK);
}

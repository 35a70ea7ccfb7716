/* fuzz_time: ISO 8601 instants and dates, effective dates and periods.
 *
 * Invariants (abort on violation): an accepted instant lies in years 1..9999, formats to the
 * canonical "YYYY-MM-DDThh:mm:ssZ" which parses back to the same instant; an accepted date
 * or period formats back to exactly its text; effective dates round-trip through their
 * canonical text; the civil calendar conversions agree with each other. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/datetime.h"

#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #x), abort()))

static void check_instant(rt_time_s t)
{
    CHECK(t >= RT_TIME_MIN && t <= RT_TIME_MAX);
    char buf[32];
    size_t n = rt_time_format(t, buf, sizeof buf);
    CHECK(n == 20 && buf[10] == 'T' && buf[19] == 'Z');
    rt_time_s back;
    CHECK(rt_time_parse(buf, n, &back) == RT_OK && back == t);
    rt_days d = rt_days_of(t);
    CHECK(rt_time_of_days(d) <= t && t - rt_time_of_days(d) < RT_SECONDS_PER_DAY);
    int y;
    unsigned m, dd;
    rt_civil_from_days(d, &y, &m, &dd);
    CHECK(y >= 1 && y <= 9999 && m >= 1 && m <= 12 && dd >= 1 && dd <= rt_days_in_month(y, m));
    CHECK(rt_days_from_civil(y, m, dd) == d);
    CHECK(rt_iso_weekday(d) >= 1 && rt_iso_weekday(d) <= 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    rt_time_s t;
    if (rt_time_parse(s, size, &t) == RT_OK) check_instant(t);

    rt_days d;
    if (rt_date_parse(s, size, &d) == RT_OK) {
        char buf[16];
        size_t n = rt_date_format(d, buf, sizeof buf);
        CHECK(n == size && memcmp(buf, s, n) == 0);
        check_instant(rt_time_of_days(d));
    }

    if (rt_instant_or_date_parse(s, size, &t) == RT_OK) {
        check_instant(t);
        char buf[32];
        size_t n = rt_instant_or_date_format(t, buf, sizeof buf);
        rt_time_s back;
        CHECK(rt_instant_or_date_parse(buf, n, &back) == RT_OK && back == t);
    }

    if (size < 32) {
        char z[32];
        memcpy(z, s, size);
        z[size] = '\0';
        rt_period p;
        if (rt_period_parse(z, &p) == RT_OK) {
            char buf[16];
            CHECK(rt_period_format(&p, buf, sizeof buf) == 7 && strcmp(buf, z) == 0);
            CHECK(rt_period_days(&p) >= 28 && rt_period_days(&p) <= 31);
            CHECK(p.end_s - p.start_s == (rt_time_s)rt_period_days(&p) * RT_SECONDS_PER_DAY);
        }
    }
    return 0;
}

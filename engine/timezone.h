/* timezone: local time in an IANA time zone, read from the system tz database.
 *
 * Owns the parsing of TZif files (RFC 8536, versions 1 to 4, as zic writes them under
 * /usr/share/zoneinfo), including the POSIX TZ rule in their footer that gives the offsets
 * after the last listed transition (slim TZif files list no future transitions at all), and
 * the two questions rating asks: the UTC offset in force at an instant, and the next instant
 * at which it changes. Everything is computed from the loaded rules: no setenv("TZ"), no
 * localtime(), no process-wide state, so any number of threads can share a loaded zone.
 * It does not know about time bands or holidays (catalog and rating do). */
#ifndef RT_TIMEZONE_H
#define RT_TIMEZONE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/datetime.h"
#include "engine/status.h"

#define RT_TZ_DIR_DEFAULT "/usr/share/zoneinfo"

enum {
    RT_TZ_NAME_MAX = 64,          /* longest accepted zone name ("America/Argentina/...") */
    RT_TZ_FILE_MAX = 256 * 1024,  /* a larger file is refused as not a TZif file */
    RT_TZ_TRANSITIONS_MAX = 4096, /* the largest real zone has a few hundred */
};

/* One rule date of a POSIX TZ string: Jn, n or Mm.w.d, and the local time of the change. */
typedef struct rt_tz_rule_date {
    uint8_t kind;    /* 'J' (1-365, no leap day), 'N' (0-365), 'M' (month.week.weekday) */
    uint8_t month;   /* 'M': 1-12 */
    uint8_t week;    /* 'M': 1-5, 5 = the last such weekday of the month */
    uint8_t weekday; /* 'M': 0 = Sunday ... 6 */
    int32_t day;     /* 'J' and 'N' */
    int32_t time_s;  /* local wall-clock seconds after midnight, may be negative or > 24 h */
} rt_tz_rule_date;

typedef struct rt_tz {
    char name[RT_TZ_NAME_MAX + 1];
    size_t count;            /* transitions listed in the file */
    rt_time_s *at_s;         /* transition instants, strictly increasing */
    int32_t *utoff_s;        /* UTC offset in force from each transition on */
    int32_t initial_utoff_s; /* before the first transition (time type 0) */
    /* The footer rule, used after the last listed transition. */
    int has_rule; /* 0: the last offset stays; 1: std only; 2: std and dst */
    int32_t std_utoff_s;
    int32_t dst_utoff_s;
    rt_tz_rule_date dst_start, dst_end;
} rt_tz;

/* Parse the bytes of a TZif file. On failure returns RT_EPARSE (or RT_ELIMIT for a file
 * beyond the limits above, RT_ENOMEM) and writes the reason to why. *out needs rt_tz_free
 * only on success. */
rt_status rt_tz_parse(const void *data, size_t len, rt_tz *out, char *why, size_t why_size);

/* Load zone `name` ("Europe/Paris", "UTC") from directory tzdir (RT_TZ_DIR_DEFAULT when
 * NULL). Returns RT_OK; RT_EINVAL for a name that is not a plausible zone name (empty, too
 * long, "..", a leading '/', characters outside A-Z a-z 0-9 / _ + -); RT_ENOTFOUND when the
 * database has no such zone; RT_EPARSE when the file is not a valid TZif file; RT_EIO.
 * The reason is in err. */
rt_status rt_tz_load(const char *tzdir, const char *name, rt_tz *out, rt_error *err);

void rt_tz_free(rt_tz *tz);

/* The UTC offset in force at instant t (local time = t + offset). */
int32_t rt_tz_offset_s(const rt_tz *tz, rt_time_s t);

/* The first instant after t at which the UTC offset changes; RT_TIME_OPEN_END when it never
 * changes again. */
rt_time_s rt_tz_next_change(const rt_tz *tz, rt_time_s t);

#endif

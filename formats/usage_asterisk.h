/* usage_asterisk: call detail records written by telephone switches, as usage.
 *
 * Owns the mapping from switch CDR files to usage events (formats/README.md, "Switch CDRs"):
 * Asterisk's cdr-csv Master.csv (no header; accountcode, src, dst, dcontext, clid, channel,
 * dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition,
 * amaflags, optionally uniqueid and userfield) and FreeSWITCH mod_cdr_csv's default
 * "example" template. Only answered calls are billed, for their billsec; an unanswered call
 * is a reject with reason NOT_ANSWERED so that read = rated + rejected + duplicate holds.
 * The CSV tokenizing, chunking and compression handling are usage_csv's. */
#ifndef RT_USAGE_ASTERISK_H
#define RT_USAGE_ASTERISK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/usage.h"

typedef enum rt_cdr_flavor { RT_CDR_ASTERISK = 0, RT_CDR_FREESWITCH } rt_cdr_flavor;

enum { RT_CDR_PRODUCT_MAX = 64, RT_CDR_UTC_OFFSET_MAX_S = 14 * 3600 };

typedef struct rt_cdr_opts {
    rt_cdr_flavor flavor;
    /* Product of every call; empty: the call's dialplan context (dcontext / context). */
    char product[RT_CDR_PRODUCT_MAX + 1];
    /* The switch writes local times at UTC + utc_offset_s (0: UTC, e.g. Asterisk with
     * usegmtime=yes). A fixed offset: a zone with daylight saving time needs UTC times. */
    int32_t utc_offset_s;
} rt_cdr_opts;

/* Defaults: product from the context, times in UTC. */
void rt_cdr_opts_init(rt_cdr_opts *o, rt_cdr_flavor flavor);
/* Set o->product; RT_EINVAL when it is empty or longer than RT_CDR_PRODUCT_MAX. */
rt_status rt_cdr_opts_set_product(rt_cdr_opts *o, const char *product);
/* Parse "Z", "UTC", "+hh:mm", "-hh:mm", "+hhmm" or "+hh" (at most 14 hours). RT_EPARSE. */
rt_status rt_cdr_parse_utc_offset(const char *s, int32_t *offset_s);

/* Open a CDR file (plain or zstd). Errors as rt_usage_csv_open. */
rt_status rt_usage_cdr_open(const char *path, size_t chunk_bytes, const rt_cdr_opts *o,
                            rt_usage_reader **out, rt_error *err);

/* Map the records of an in-memory buffer of whole CDR lines into batch (fuzzing, tests).
 * Events of a fixed product point into o, which must outlive them. */
rt_status rt_usage_cdr_parse_buffer(const char *data, size_t len, const rt_cdr_opts *o,
                                    rt_event_batch *batch);

#endif

/* test_usage_asterisk: switch CDRs as usage, on files written the way Asterisk's cdr_csv
 * and FreeSWITCH's mod_cdr_csv write them (every string quoted, a quote doubled, numbers
 * bare in Asterisk, an empty answer time for an unanswered call), and billed end to end
 * against the telco sample book. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "formats/usage_asterisk.h"
#include "formats/usage_open.h"
#include "testutil.h"

/* 7 CDRs: answered (122 s), no answer, answered without uniqueid (45 s), busy, failed,
 * answered without accountcode, and the first one delivered a second time. */
#define L1 "\"ACC-0001\",\"1001\",\"0142868200\",\"VOICE_NAT\",\"\"\"Alice Martin\"\" <1001>\"," \
           "\"SIP/1001-00000001\",\"SIP/trunk-00000002\",\"Dial\",\"SIP/trunk/0142868200,30\"," \
           "\"2026-10-05 14:03:10\",\"2026-10-05 14:03:22\",\"2026-10-05 14:05:24\",134,122," \
           "\"ANSWERED\",\"DOCUMENTATION\",\"1791208990.1\",\"\""
#define L2 "\"ACC-0001\",\"1001\",\"0611223344\",\"VOICE_MOB\",\"\"\"Alice Martin\"\" <1001>\"," \
           "\"SIP/1001-00000003\",\"\",\"Dial\",\"SIP/trunk/0611223344,30\"," \
           "\"2026-10-05 15:00:00\",,\"2026-10-05 15:00:25\",25,0,\"NO ANSWER\"," \
           "\"DOCUMENTATION\",\"1791212400.3\",\"\""
#define L3 "\"ACC-0002\",\"2001\",\"0699887766\",\"VOICE_MOB\",\"\"\"Garage\"\" <2001>\"," \
           "\"SIP/2001-00000005\",\"SIP/trunk-00000006\",\"Dial\",\"SIP/trunk/0699887766,30\"," \
           "\"2026-10-06 09:00:00\",\"2026-10-06 09:00:07\",\"2026-10-06 09:00:52\",52,45," \
           "\"ANSWERED\",\"BILLING\""
#define L4 "\"ACC-0002\",\"2001\",\"0142000000\",\"VOICE_NAT\",\"\",\"SIP/2001-00000007\",\"\"," \
           "\"Dial\",\"SIP/trunk/0142000000\",\"2026-10-06 10:00:00\",,\"2026-10-06 10:00:03\",3,0," \
           "\"BUSY\",\"BILLING\",\"1791280800.7\",\"\""
#define L5 "\"ACC-0002\",\"2001\",\"0142000001\",\"VOICE_NAT\",\"\",\"SIP/2001-00000008\",\"\"," \
           "\"Dial\",\"SIP/trunk/0142000001\",\"2026-10-06 10:01:00\",,\"2026-10-06 10:01:01\",1,0," \
           "\"FAILED\",\"BILLING\",\"1791280860.8\",\"\""
#define L6 "\"\",\"3001\",\"0142000002\",\"VOICE_NAT\",\"\",\"SIP/3001-00000009\",\"\",\"Dial\"," \
           "\"\",\"2026-10-07 10:00:00\",\"2026-10-07 10:00:02\",\"2026-10-07 10:01:02\",62,60," \
           "\"ANSWERED\",\"DOCUMENTATION\",\"1791367200.9\",\"\""
static const char sample[] = L1 "\n" L2 "\n" L3 "\n" L4 "\n" L5 "\n" L6 "\n" L1 "\n";

static void parse(const char *text, const rt_cdr_opts *o, rt_event_batch *b)
{
    rt_event_batch_init(b);
    cr_assert_eq(rt_usage_cdr_parse_buffer(text, strlen(text), o, b), RT_OK);
}

static int view_is(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

Test(usage_asterisk, answered_calls_map_to_events_and_the_rest_are_rejected)
{
    rt_cdr_opts o;
    rt_cdr_opts_init(&o, RT_CDR_ASTERISK);
    rt_event_batch b;
    parse(sample, &o, &b);
    cr_assert_eq(b.records, 7);
    cr_assert_eq(b.count, 3);
    cr_assert_eq(b.reject_count, 4);
    const rt_event *e = &b.events[0];
    cr_assert(view_is(e->account, e->account_len, "ACC-0001"));
    cr_assert(view_is(e->product, e->product_len, "VOICE_NAT")); /* from dcontext */
    cr_assert(view_is(e->called, e->called_len, "0142868200"));
    cr_assert_eq(e->start_s, 1791209002); /* answer time 2026-10-05T14:03:22Z */
    cr_assert_eq(e->qty_mantissa, 122);   /* billsec, not duration */
    cr_assert_eq(e->qty_scale, 0);
    cr_assert_eq(e->line_rel, 0);
    /* uniqueid + '#' + the high 32 bits of XXH3-64 of the row: several CDRs of one call
     * share a uniqueid. */
    char want[64];
    snprintf(want, sizeof want, "1791208990.1#%08x",
             (unsigned)(XXH3_64bits(L1, strlen(L1)) >> 32));
    cr_assert(view_is(e->event_id, e->event_id_len, want), "%.*s", (int)e->event_id_len,
              e->event_id);
    cr_assert(view_is(e->raw, e->raw_len, L1));
    /* No uniqueid column: the id is the row's hash. */
    e = &b.events[1];
    snprintf(want, sizeof want, "cdr-%016llx",
             (unsigned long long)XXH3_64bits(L3, strlen(L3)));
    cr_assert(view_is(e->event_id, e->event_id_len, want));
    cr_assert_eq(e->qty_mantissa, 45);
    cr_assert_eq(e->line_rel, 2);
    /* The row delivered twice has the same id: the run counts it as a duplicate. */
    cr_assert(view_is(b.events[2].event_id, b.events[2].event_id_len,
                      b.events[0].event_id) && b.events[2].event_id_len == b.events[0].event_id_len);
    static const rt_reject_reason reasons[4] = {RT_REJ_NOT_ANSWERED, RT_REJ_NOT_ANSWERED,
                                                RT_REJ_NOT_ANSWERED, RT_REJ_MISSING_FIELD};
    static const uint32_t lines[4] = {1, 3, 4, 5};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(b.rejects[i].reason, reasons[i], "reject %d", i);
        cr_assert_eq(b.rejects[i].line_rel, lines[i]);
    }
    cr_assert(strstr(b.rejects[0].message, "NO ANSWER"));
    cr_assert(strstr(b.rejects[1].message, "BUSY"));
    cr_assert_str_eq(b.rejects[3].field, "accountcode");
    rt_event_batch_free(&b);
}

Test(usage_asterisk, a_fixed_product_and_the_switch_utc_offset_apply)
{
    rt_cdr_opts o;
    rt_cdr_opts_init(&o, RT_CDR_ASTERISK);
    cr_assert_eq(rt_cdr_opts_set_product(&o, "VOICE"), RT_OK);
    cr_assert_eq(rt_cdr_parse_utc_offset("+02:00", &o.utc_offset_s), RT_OK);
    cr_assert_eq(o.utc_offset_s, 7200);
    rt_event_batch b;
    parse(L1 "\n", &o, &b);
    cr_assert_eq(b.count, 1);
    cr_assert(view_is(b.events[0].product, b.events[0].product_len, "VOICE"));
    cr_assert_eq(b.events[0].start_s, 1791209002 - 7200); /* 14:03:22 at UTC+2 is 12:03:22Z */
    rt_event_batch_free(&b);
    int32_t off;
    cr_assert_eq(rt_cdr_parse_utc_offset("-0530", &off), RT_OK);
    cr_assert_eq(off, -19800);
    cr_assert_eq(rt_cdr_parse_utc_offset("+15:00", &off), RT_EPARSE);
    cr_assert_eq(rt_cdr_parse_utc_offset("01:00", &off), RT_EPARSE);
}

Test(usage_asterisk, records_that_are_not_cdrs_are_malformed_or_bad)
{
    rt_cdr_opts o;
    rt_cdr_opts_init(&o, RT_CDR_ASTERISK);
    rt_event_batch b;
    const char *text =
        "\"ACC-0001\",\"1001\",\"0142868200\"\n" /* three columns */
        "\"ACC-0001\",\"1001\",\"0142868200\",\"VOICE_NAT\",\"\",\"\",\"\",\"\",\"\","
        "\"2026-10-05 14:03:10\",\"yesterday\",\"2026-10-05 14:05:24\",134,122,\"ANSWERED\","
        "\"DOCUMENTATION\"\n"
        "\"ACC-0001\",\"1001\",\"0142868200\",\"VOICE_NAT\",\"\",\"\",\"\",\"\",\"\","
        "\"2026-10-05 14:03:10\",\"2026-10-05 14:03:22\",\"2026-10-05 14:05:24\",134,12.5,"
        "\"ANSWERED\",\"DOCUMENTATION\"\n";
    parse(text, &o, &b);
    cr_assert_eq(b.count, 0);
    cr_assert_eq(b.reject_count, 3);
    cr_assert_eq(b.rejects[0].reason, RT_REJ_MALFORMED);
    cr_assert_eq(b.rejects[1].reason, RT_REJ_BAD_TIME);
    cr_assert_eq(b.rejects[2].reason, RT_REJ_BAD_QUANTITY);
    rt_event_batch_free(&b);
}

Test(usage_asterisk, an_id_too_long_for_an_event_id_is_rejected)
{
    rt_cdr_opts o;
    rt_cdr_opts_init(&o, RT_CDR_ASTERISK);
    char text[1024], uid[130];
    memset(uid, '7', 125);
    uid[125] = '\0';
    snprintf(text, sizeof text,
             "\"ACC-0001\",\"1001\",\"0142868200\",\"VOICE_NAT\",\"\",\"\",\"\",\"\",\"\","
             "\"2026-10-05 14:03:10\",\"2026-10-05 14:03:22\",\"2026-10-05 14:05:24\",134,122,"
             "\"ANSWERED\",\"DOCUMENTATION\",\"%s\",\"\"\n",
             uid);
    rt_event_batch b;
    parse(text, &o, &b);
    cr_assert_eq(b.count, 0);
    cr_assert_eq(b.reject_count, 1);
    cr_assert_eq(b.rejects[0].reason, RT_REJ_FIELD_TOO_LONG);
    cr_assert_str_eq(b.rejects[0].field, "uniqueid");
    rt_event_batch_free(&b);
}

Test(usage_asterisk, freeswitch_example_template)
{
    rt_cdr_opts o;
    rt_cdr_opts_init(&o, RT_CDR_FREESWITCH);
    rt_event_batch b;
    const char *text =
        "\"Alice\",\"1001\",\"0142868200\",\"VOICE_NAT\",\"2026-10-05 14:03:10\","
        "\"2026-10-05 14:03:22\",\"2026-10-05 14:05:24\",\"134\",\"122\",\"NORMAL_CLEARING\","
        "\"a1b2c3d4-0000-4000-8000-000000000001\",\"\",\"ACC-0001\",\"PCMA\",\"PCMA\"\n"
        "\"Alice\",\"1001\",\"0611223344\",\"VOICE_MOB\",\"2026-10-05 15:00:00\",\"\","
        "\"2026-10-05 15:00:25\",\"25\",\"0\",\"NO_ANSWER\","
        "\"a1b2c3d4-0000-4000-8000-000000000002\",\"\",\"ACC-0001\",\"PCMA\",\"PCMA\"\n";
    parse(text, &o, &b);
    cr_assert_eq(b.count, 1);
    cr_assert_eq(b.reject_count, 1);
    const rt_event *e = &b.events[0];
    cr_assert(view_is(e->event_id, e->event_id_len, "a1b2c3d4-0000-4000-8000-000000000001"));
    cr_assert(view_is(e->account, e->account_len, "ACC-0001"));
    cr_assert_eq(e->start_s, 1791209002);
    cr_assert_eq(e->qty_mantissa, 122);
    cr_assert_eq(b.rejects[0].reason, RT_REJ_NOT_ANSWERED);
    rt_event_batch_free(&b);
}

Test(usage_asterisk, the_reader_is_chosen_by_name_or_format)
{
    cr_assert_eq(rt_usage_format_of("/var/log/asterisk/cdr-csv/Master.csv"), RT_USAGE_ASTERISK);
    cr_assert_eq(rt_usage_format_of("oct.asterisk.csv.zst"), RT_USAGE_ASTERISK);
    cr_assert_eq(rt_usage_format_of("oct.freeswitch.csv"), RT_USAGE_FREESWITCH);
    cr_assert_eq(rt_usage_format_of("usage.rtu"), RT_USAGE_NATIVE);
    cr_assert_eq(rt_usage_format_of("usage.csv.zst"), RT_USAGE_CSV);
    cr_assert_eq(rt_usage_format_of("usage.txt"), RT_USAGE_AUTO);
    rt_usage_format f;
    cr_assert_eq(rt_usage_format_parse("freeswitch", &f), RT_OK);
    cr_assert_eq(f, RT_USAGE_FREESWITCH);
    cr_assert_eq(rt_usage_format_parse("cdr", &f), RT_EINVAL);
}

/* ACC-0001 (P_START): 122 s under 60/60 increments bills 180 s at 0.02 per 60 s = 0.06.
 * ACC-0002 (P_BIZ): 45 s under 1/1 at 0.03 per 60 s = 0.0225, above the 0.02 minimum.
 * read 7 = rated 2 + rejected 4 (3 NOT_ANSWERED, 1 MISSING_FIELD) + duplicate 1. */
Test(usage_asterisk, a_master_csv_is_billed_end_to_end)
{
    char tmp[256], path[512];
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(path, sizeof path, "%s/Master.csv", tmp);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(sample, f);
    fclose(f);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/book' > /dev/null",
                               rt_test_src("data-samples/telco/book"), tmp), 0);
    cr_assert_eq(rt_test_ratel("run --quiet --book '%s/book' --period 2026-10 --usage '%s' "
                               "--out '%s/out'", tmp, path, tmp), 0);
    char p2[600];
    snprintf(p2, sizeof p2, "%s/out/manifest.json", tmp);
    char *m = rt_test_read(p2, NULL);
    cr_assert(strstr(m, "\"counts\": {\"read\": 7, \"rated\": 2, \"rejected\": 4, "
                        "\"duplicate\": 1, \"late\": 0}"), "%s", m);
    cr_assert(strstr(m, "\"NOT_ANSWERED\": 3"), "%s", m);
    free(m);
    snprintf(p2, sizeof p2, "%s/out/rated_usage.csv.zst", tmp);
    char *rated = rt_test_read(p2, NULL);
    cr_assert(strstr(rated, ",ACC-0001,VOICE_NAT,2026-10-05T14:03:22Z,122,180,P_START,"
                            "C_VOICE_NAT,0.06,EUR,0"), "%s", rated);
    cr_assert(strstr(rated, ",ACC-0002,VOICE_MOB,2026-10-06T09:00:07Z,45,45,P_BIZ,"
                            "C_VOICE_MOB,0.0225,EUR,0"), "%s", rated);
    free(rated);
    snprintf(p2, sizeof p2, "%s/out/rejects.csv.zst", tmp);
    char *rej = rt_test_read(p2, NULL);
    char row[2048];
    rt_test_line(rej, "NOT_ANSWERED,", row, sizeof row);
    cr_assert(strstr(row, "/Master.csv,2,disposition,call not answered (NO ANSWER)"), "%s", row);
    free(rej);
    /* The same file under another name, with the format named on the command line. */
    char other[600];
    snprintf(other, sizeof other, "%s/cdrs-october.txt", tmp);
    cr_assert_eq(rt_test_sh("cp '%s' '%s'", path, other), 0);
    cr_assert_eq(rt_test_ratel("run --quiet --book '%s/book' --period 2026-10 --usage '%s' "
                               "--usage-format asterisk --rerun --out '%s/out2'", tmp, other, tmp), 0);
    /* The CDR options on the run: every call as one product, local times at +02:00. */
    cr_assert_eq(rt_test_ratel("run --quiet --book '%s/book' --period 2026-10 --usage '%s' "
                               "--cdr-product VOICE_NAT --cdr-utc-offset +02:00 --rerun "
                               "--out '%s/out3'", tmp, path, tmp), 0);
    snprintf(p2, sizeof p2, "%s/out3/rated_usage.csv.zst", tmp);
    rated = rt_test_read(p2, NULL);
    cr_assert(strstr(rated, ",ACC-0001,VOICE_NAT,2026-10-05T12:03:22Z,122,"), "%s", rated);
    cr_assert_null(strstr(rated, "VOICE_MOB"), "%s", rated);
    free(rated);
    cr_assert_neq(rt_test_ratel("run --quiet --book '%s/book' --period 2026-10 --usage '%s' "
                                "--cdr-utc-offset 2h --rerun --out '%s/out4' 2> /dev/null",
                                tmp, path, tmp), 0, "a bad offset is a usage error");
}

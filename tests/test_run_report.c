/* test_run_report: the HTML report of the telco sample run shows its real figures. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/run_report.h"
#include "testutil.h"

/* The report of the run in out, written to html, as text (malloc'd). */
static char *report_of(const char *out, const char *html)
{
    rt_error err;
    cr_assert_eq(rt_run_report_write(out, html, &err), RT_OK, "%s", err.message);
    char *text = rt_test_read(html, NULL);
    cr_assert_not_null(text);
    return text;
}

Test(run_report, shows_counts_revenue_hours_accounts_and_rejects)
{
    char tmp[256], out[300], html[320];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/book' > /dev/null",
                               rt_test_src("data-samples/telco/book"), tmp), 0);
    snprintf(out, sizeof out, "%s/out", tmp);
    cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-10 "
                            "--usage data-samples/telco/usage-2026-10-voice.csv.zst "
                            "data-samples/telco/usage-2026-10-other.csv.zst --out '%s'",
                            RATEL_SOURCE_DIR, RATEL_BIN, tmp, out),
                 0);
    snprintf(html, sizeof html, "%s/report.html", tmp);
    char *text = report_of(out, html);
    cr_assert(strstr(text, "<h1>ratel run 1, period 2026-10</h1>"));
    cr_assert(strstr(text, "<tr><th>records read</th><td>3732</td></tr>"));
    cr_assert_null(strstr(text, "rerun of run"), "a first run corrects none");
    cr_assert(strstr(text, "read = rated + rejected + duplicate"));
    cr_assert(strstr(text, "net 299.91, tax 59.93, gross 359.84"));
    /* Revenue by product, largest first: data 130.89 EUR (as the accrual test finds). */
    char *rev = strstr(text, "Revenue by product");
    cr_assert(rev && strstr(rev, "<text x=\"0\" y=\"18\">DATA</text>"));
    cr_assert(strstr(text, "130.89 EUR"));
    /* 24 hour bars and the 10 rejects reasons of the sample (9 reasons, one twice). */
    size_t bars = 0;
    for (const char *p = text; (p = strstr(p, " events</title>")) != NULL; p++) bars++;
    cr_assert_eq(bars, 24);
    cr_assert(strstr(text, "BAD_QUANTITY</text>"));
    char *top = strstr(text, "Top accounts");
    cr_assert_not_null(top);
    size_t accounts = 0;
    for (const char *p = top; (p = strstr(p, "<rect")) != NULL && p < strstr(top, "Rejects by reason"); p++)
        accounts++;
    cr_assert_eq(accounts, 10);
    free(text);
    /* The report never overwrites, and the run directory is left as committed. */
    rt_error err;
    cr_assert_eq(rt_run_report_write(out, html, &err), RT_EEXIST);
    cr_assert_eq(rt_test_ratel("verify '%s' > /dev/null", out), 0);
}

/* A rerun's report says what it changed in the run it corrects, and counts the order lines. */
Test(run_report, a_rerun_shows_its_corrections_and_order_lines)
{
    char tmp[256], html[320];
    rt_test_tmpdir(tmp, sizeof tmp);
    cr_assert_eq(rt_test_ratel("book import '%s' --book '%s/book' > /dev/null",
                               rt_test_src("data-samples/telco/book"), tmp), 0);
    const char *names[2] = {"first", "again"}, *extra[2] = {"", "--rerun"};
    for (int i = 0; i < 2; i++)
        cr_assert_eq(rt_test_sh("cd '%s' && '%s' run --quiet --book '%s/book' --period 2026-10 "
                                "--usage data-samples/telco/usage-2026-10-voice.csv.zst "
                                "data-samples/telco/usage-2026-10-other.csv.zst "
                                "--orders data-samples/telco/orders-2026.csv.zst --out '%s/%s' %s",
                                RATEL_SOURCE_DIR, RATEL_BIN, tmp, tmp, names[i], extra[i]),
                     0);
    char out[300];
    snprintf(out, sizeof out, "%s/again", tmp);
    snprintf(html, sizeof html, "%s/report.html", tmp);
    char *text = report_of(out, html);
    cr_assert(strstr(text, "<h1>ratel run 2, period 2026-10</h1>"));
    cr_assert(strstr(text, "<tr><th>rerun of run 1</th><td>0 credit notes, 0 new invoices, "
                           "33 invoices unchanged</td></tr>"),
              "%s", text);
    cr_assert(strstr(text, "<tr><th>order lines</th><td>"));
    free(text);
}

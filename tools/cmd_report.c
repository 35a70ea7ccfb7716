/* cmd_report: `ratel report OUT_DIR [--html FILE]`. */
#include <stdio.h>
#include <string.h>

#include "formats/run_report.h"
#include "tools/cli.h"

int rt_cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *html = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            puts("usage: ratel report OUT_DIR [--html FILE]\n\nWrites the HTML report of a run "
                 "(counts, totals, revenue by product, usage by hour,\ntop accounts, rejects by "
                 "reason) to FILE, by default OUT_DIR.report.html beside\nthe output directory, "
                 "which stays exactly as the run committed it.");
            return RT_EXIT_OK;
        }
        if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
            html = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else
            return rt_cli_usage_error("report", "unexpected argument '%s'", argv[i]);
    }
    if (!dir) return rt_cli_usage_error("report", "needs OUT_DIR");
    char path[4096];
    if (!html) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        snprintf(path, sizeof path, "%.*s.report.html", (int)n, dir);
        html = path;
    }
    rt_error err;
    if (rt_run_report_write(dir, html, &err) != RT_OK) {
        rt_cli_error(&err);
        return RT_EXIT_FAILED;
    }
    printf("%s\n", html);
    return RT_EXIT_OK;
}

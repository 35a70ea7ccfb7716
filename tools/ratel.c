/* ratel: the command-line entry point; dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"

#ifndef RATEL_VERSION
#define RATEL_VERSION "0.0.0"
#endif

static const char usage[] =
    "ratel " RATEL_VERSION " - batch billing and rating engine\n"
    "\n"
    "usage:\n"
    "  ratel book import SRC_DIR --book BOOK_DIR\n"
    "  ratel book export --book BOOK_DIR OUT_DIR\n"
    "  ratel book import-cgrates TP_DIR --book BOOK_DIR [--currency CUR] [--time-zone TZ]\n"
    "            [--tenant TENANT] [--product CATEGORY=PRODUCT]...\n"
    "  ratel book show --book BOOK_DIR [--account ID | --plan ID | --product ID]\n"
    "            [--number E164 --at TIME]\n"
    "  ratel run --book BOOK_DIR --period YYYY-MM --usage FILE... --out OUT_DIR\n"
    "            [--orders FILE...] [--threads N] [--rerun] [--accrue-only]\n"
    "            [--late bill|reject] [--late-window MONTHS] [--quiet]\n"
    "  ratel verify OUT_DIR [--book BOOK_DIR]\n"
    "  ratel report OUT_DIR [--html FILE]\n"
    "  ratel convert IN OUT              (.csv, .csv.zst, .rtu; CDRs as input)\n"
    "  ratel gen --out DIR --accounts N --records M [--seed S] [--format csv.zst|native]\n"
    "            [--bad-share F] [--dup-share F]\n"
    "  ratel help | ratel CMD --help | ratel --version\n"
    "\n"
    "exit status: 0 success; 1 failed, nothing committed; 2 bad command line;\n"
    "             3 invalid book source; 4 verification failed; 5 period already billed\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return RT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return RT_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("ratel %s\n", RATEL_VERSION);
        return RT_EXIT_OK;
    }
    rt_cli_prefer_huge_pages(argv);
    if (strcmp(cmd, "book") == 0) return rt_cmd_book(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return rt_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0) return rt_cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return rt_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "convert") == 0) return rt_cmd_convert(argc - 1, argv + 1);
    if (strcmp(cmd, "gen") == 0) return rt_cmd_gen(argc - 1, argv + 1);
    fprintf(stderr, "ratel: unknown command '%s'\n\n%s", cmd, usage);
    return RT_EXIT_USAGE;
}

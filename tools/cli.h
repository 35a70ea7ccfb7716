/* cli: what every ratel subcommand shares: exit codes, error printing, option parsing.
 *
 * Owns the command-line contract's exit statuses and the way errors reach the user
 * (stderr, "ratel: file:line:column: field: message"). Subcommands are thin mains over the
 * library; they parse options, call one library function, and print. */
#ifndef RT_CLI_H
#define RT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/status.h"

enum {
    RT_EXIT_OK = 0,
    RT_EXIT_FAILED = 1,     /* the command failed; nothing was committed or changed */
    RT_EXIT_USAGE = 2,      /* bad command line */
    RT_EXIT_INVALID = 3,    /* book import: the source is invalid (every problem printed) */
    RT_EXIT_VERIFY = 4,     /* verify: the output directory failed a check */
    RT_EXIT_COMMITTED = 5,  /* run: the period is already billed (use --rerun) */
};

void rt_cli_error(const rt_error *err);
void rt_cli_diags(const rt_diags *d);
int rt_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit status for a failed library call. */
int rt_cli_exit_for(rt_status st);
/* A run touches gigabytes of memory, and where the kernel gives transparent huge pages only
 * on request (THP "madvise"), glibc's malloc asks for them only when its start-up tunable
 * glibc.malloc.hugetlb is 1. So, unless GLIBC_TUNABLES already names it or RATEL_NO_HUGE_PAGES
 * is set, the process is restarted once (execv of /proc/self/exe with the same argv) with it
 * added, with malloc's trim threshold raised and its own mappings turned off (unless named)
 * so that every freed block stays in the heap for reuse, and with one malloc arena for every
 * thread (the others' heaps get no huge pages); when that fails, it carries on as it is.
 * Memory placement only: outputs are the same either way. */
void rt_cli_prefer_huge_pages(char **argv);
/* Parse a whole unsigned number; false when it is not one. */
bool rt_cli_parse_uint(const char *s, uint64_t *out);
/* The index of s among names (NULL-terminated), or -1: an option's value from a fixed list. */
int rt_cli_choice(const char *s, const char *const *names);

int rt_cmd_book(int argc, char **argv);
int rt_cmd_run(int argc, char **argv);
int rt_cmd_verify(int argc, char **argv);
int rt_cmd_report(int argc, char **argv);
int rt_cmd_convert(int argc, char **argv);
int rt_cmd_gen(int argc, char **argv);

#endif

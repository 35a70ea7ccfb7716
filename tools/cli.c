/* cli: shared helpers of the ratel command. */
#include "tools/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rt_cli_error(const rt_error *err)
{
    char buf[2048];
    rt_error_format(err, buf, sizeof buf);
    fprintf(stderr, "ratel: %s\n", buf);
}

void rt_cli_diags(const rt_diags *d)
{
    for (size_t i = 0; i < d->count; i++) rt_cli_error(&d->items[i]);
    if (d->dropped) fprintf(stderr, "ratel: ... and %zu more problems\n", d->dropped);
}

int rt_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ratel %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `ratel %s --help`)\n", cmd);
    va_end(ap);
    return RT_EXIT_USAGE;
}

int rt_cli_exit_for(rt_status st)
{
    switch (st) {
    case RT_OK: return RT_EXIT_OK;
    case RT_EINVALID: return RT_EXIT_INVALID;
    case RT_EVERIFY: return RT_EXIT_VERIFY;
    case RT_ECOMMITTED: return RT_EXIT_COMMITTED;
    default: return RT_EXIT_FAILED;
    }
}

bool rt_cli_parse_uint(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || s[0] == '-') return false;
    *out = v;
    return true;
}

int rt_cli_choice(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* Whether the kernel gives transparent huge pages only to memory that asks for them. */
static bool thp_on_request(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return false;
    char line[128] = "";
    bool madvise = fgets(line, sizeof line, f) && strstr(line, "[madvise]");
    fclose(f);
    return madvise;
}

void rt_cli_prefer_huge_pages(char **argv)
{
    /* The first is the one asked for. Then every block comes from the heap (no block of its
     * own mapped, whatever its size: mmap_max 0; blocks up to the 32 MiB mmap threshold were
     * already) and, with trimming off, stays there when freed, for the next stage to reuse: a
     * page touched afresh costs far more than one reused (it is cleared, and on virtual
     * machines often handed back and forth), and unmapping a block flushes every thread's
     * TLB. glibc falls back to mapping when the heap cannot grow. One arena: glibc gives
     * every other thread an arena of its own whose heap is never offered huge pages, so the
     * worker threads' buffers were touched 4 KiB at a time (90,000 faults in a 10M run with
     * 2 threads against 8,000 with one arena); the threads allocate blocks and reuse them,
     * not per row, so they rarely meet at its lock. */
    static const char *const tunables[][2] = {{"glibc.malloc.hugetlb", "1"},
                                              {"glibc.malloc.mmap_threshold", "33554432"},
                                              {"glibc.malloc.trim_threshold", "17179869184"},
                                              {"glibc.malloc.arena_max", "1"},
                                              {"glibc.malloc.mmap_max", "0"}};
    const char *was = getenv("GLIBC_TUNABLES");
    if (was && !was[0]) was = NULL;
    if (getenv("RATEL_NO_HUGE_PAGES") || (was && strstr(was, tunables[0][0])) ||
        !thp_on_request())
        return;
    char value[1024];
    int n = snprintf(value, sizeof value, "%s", was ? was : "");
    for (size_t i = 0; i < sizeof tunables / sizeof tunables[0]; i++) {
        if (n < 0 || (size_t)n >= sizeof value) return;
        if (was && strstr(was, tunables[i][0])) continue; /* the caller's choice stands */
        n += snprintf(value + n, sizeof value - (size_t)n, "%s%s=%s", n ? ":" : "",
                      tunables[i][0], tunables[i][1]);
    }
    if (n < 0 || (size_t)n >= sizeof value) return;
    char *keep = was ? strdup(was) : NULL;
    if (was && !keep) return;
    if (setenv("GLIBC_TUNABLES", value, 1) == 0) execv("/proc/self/exe", argv);
    /* Not restarted: carry on as we are, with the environment as it was. */
    if (keep) setenv("GLIBC_TUNABLES", keep, 1);
    else unsetenv("GLIBC_TUNABLES");
    free(keep);
}

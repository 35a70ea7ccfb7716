/* cli: shared helpers of the ratel command. */
#include "tools/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

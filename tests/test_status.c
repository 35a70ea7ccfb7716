/* test_status: status names, error records and their "file:line:column: field: message"
 * form, truncation, and the diagnostics list with its limit. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/status.h"

Test(status, every_status_has_a_name)
{
    for (int s = 0; s < RT_STATUS_COUNT_; s++) {
        const char *n = rt_status_str((rt_status)s);
        cr_assert_not_null(n);
        cr_assert(strncmp(n, "RT_", 3) == 0, "%d: %s", s, n);
    }
    cr_assert_str_eq(rt_status_str(RT_OK), "RT_OK: success");
    cr_assert_str_eq(rt_status_str(RT_EPARSE), "RT_EPARSE: malformed input");
    cr_assert_str_eq(rt_status_str(RT_STATUS_COUNT_), "RT_?: unknown status");
}

static const char *fmt(const rt_error *e)
{
    static char buf[1024];
    rt_error_format(e, buf, sizeof buf);
    return buf;
}

Test(status, error_format)
{
    rt_error e;
    cr_assert_eq(rt_error_set(&e, RT_EPARSE, "usage.csv", 12, 3, "quantity", "not a %s",
                              "number"),
                 RT_EPARSE);
    cr_assert_eq(e.code, RT_EPARSE);
    cr_assert_str_eq(fmt(&e), "usage.csv:12:3: quantity: not a number");
    rt_error_set(&e, RT_EPARSE, "usage.csv", 12, 0, "quantity", "x");
    cr_assert_str_eq(fmt(&e), "usage.csv:12: quantity: x");
    rt_error_set(&e, RT_EPARSE, "usage.csv", 0, 7, NULL, "x");
    cr_assert_str_eq(fmt(&e), "usage.csv: x", "a column without a line is not shown");
    rt_error_set(&e, RT_EINVAL, NULL, 5, 5, "period", "bad");
    cr_assert_str_eq(fmt(&e), "period: bad");
    rt_error_set(&e, RT_EIO, NULL, 0, 0, NULL, "disk full");
    cr_assert_str_eq(fmt(&e), "disk full");
    rt_error_clear(&e);
    cr_assert_eq(e.code, RT_OK);
    cr_assert_str_eq(fmt(&e), "");
    cr_assert_eq(rt_error_set(NULL, RT_ENOMEM, "f", 1, 1, NULL, "ignored"), RT_ENOMEM,
                 "a NULL error still returns the code");
}

Test(status, error_truncation)
{
    rt_error e;
    char path[600], msg[700];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    memset(msg, 'm', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    rt_error_set(&e, RT_EIO, path, 1, 1, "a_field_name_much_longer_than_sixty_four_bytes_xxxxxxxxxxxxxxxxxxxxxxxxxxx",
                 "%s", msg);
    cr_assert_eq(strlen(e.file), RT_ERROR_PATH_MAX - 1);
    cr_assert_eq(strlen(e.field), RT_ERROR_FIELD_MAX - 1);
    cr_assert_eq(strlen(e.message), RT_ERROR_MESSAGE_MAX - 1);
    char small[10];
    rt_error_set(&e, RT_EIO, "file.csv", 1234, 5, NULL, "boom");
    rt_error_format(&e, small, sizeof small);
    cr_assert_str_eq(small, "file.csv:");
    char one[1] = {'x'};
    rt_error_format(&e, one, 1);
    cr_assert_eq(one[0], '\0');
    char exact[24];
    rt_error_format(&e, exact, sizeof exact);
    cr_assert_str_eq(exact, "file.csv:1234:5: boom");
}

Test(status, diags_collect_and_cap)
{
    rt_diags d;
    rt_diags_init(&d);
    rt_diags_add(&d, "charges.csv", 3, 5, "product_id", "unknown product '%s'", "NOPE");
    rt_diags_add(&d, NULL, 0, 0, NULL, "second");
    cr_assert_eq(d.count, 2);
    cr_assert_eq(rt_diags_total(&d), 2);
    cr_assert_eq(d.items[0].code, RT_EINVALID);
    char buf[256];
    rt_error_format(&d.items[0], buf, sizeof buf);
    cr_assert_str_eq(buf, "charges.csv:3:5: product_id: unknown product 'NOPE'");
    for (int i = 0; i < RT_DIAGS_MAX + 5; i++) rt_diags_add(&d, "f", (uint64_t)i, 0, NULL, "x");
    cr_assert_eq(d.count, RT_DIAGS_MAX, "at most RT_DIAGS_MAX are kept");
    cr_assert_eq(d.dropped, 7);
    cr_assert_eq(rt_diags_total(&d), RT_DIAGS_MAX + 7, "the dropped ones still count");
    rt_diags_free(&d);
    cr_assert_eq(rt_diags_total(&d), 0);
}

Test(status, diags_append_keeps_order_fields_and_the_cap)
{
    rt_diags a, b;
    rt_diags_init(&a);
    rt_diags_init(&b);
    rt_diags_add(&a, "a.csv", 1, 2, "x", "first");
    rt_diags_add(&b, "b.csv", 7, 3, "amount", "second %d", 2);
    rt_diags_add(&b, NULL, 0, 0, NULL, "third");
    b.dropped = 4;
    rt_diags_append(&a, &b);
    cr_assert_eq(a.count, 3);
    cr_assert_eq(a.dropped, 4);
    cr_assert_str_eq(a.items[0].message, "first");
    cr_assert_str_eq(a.items[1].file, "b.csv");
    cr_assert_eq(a.items[1].line, 7);
    cr_assert_eq(a.items[1].column, 3);
    cr_assert_str_eq(a.items[1].field, "amount");
    cr_assert_str_eq(a.items[1].message, "second 2");
    cr_assert_str_eq(a.items[2].file, "");
    cr_assert_str_eq(a.items[2].field, "");
    cr_assert_str_eq(a.items[2].message, "third");
    cr_assert_eq(rt_diags_total(&a), 7);
    /* Past the cap, appended problems are counted as dropped. */
    rt_diags full;
    rt_diags_init(&full);
    for (int i = 0; i < RT_DIAGS_MAX; i++) rt_diags_add(&full, NULL, 0, 0, NULL, "p%d", i);
    rt_diags_append(&full, &b);
    cr_assert_eq(full.count, RT_DIAGS_MAX);
    cr_assert_eq(full.dropped, 2 + 4);
    rt_diags_free(&full);
    rt_diags_free(&a);
    rt_diags_free(&b);
}

/* testutil: test helpers. */
#include "testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "engine/book.h"
#include "engine/buf.h"
#include "engine/catalog.h"

#include "formats/book_csv.h"
#include "formats/zio.h"

const char *rt_test_src(const char *rel)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, 4096, "%s/%s", RATEL_SOURCE_DIR, rel);
    return b;
}

/* Every directory a test process made, removed when it exits (a Criterion test is a process
 * of its own and runs its atexit handlers whether it passed or failed), so that a test that
 * returns early or fails leaves nothing behind. RATEL_TEST_KEEP_TMP=1 keeps them to look at. */
#define RT_TEST_MAX_TMPDIRS 64
static char tmpdirs[RT_TEST_MAX_TMPDIRS][4096];
static unsigned n_tmpdirs;
static int tmpdirs_registered;

static void remove_tmpdirs(void)
{
    const char *keep = getenv("RATEL_TEST_KEEP_TMP");
    if (keep && *keep && strcmp(keep, "0") != 0) return;
    for (unsigned i = 0; i < n_tmpdirs; i++) rt_test_rmtree(tmpdirs[i]);
    n_tmpdirs = 0;
}

void rt_test_tmpdir(char *buf, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, size, "%s/ratel-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(buf)) abort();
    if (!tmpdirs_registered) {
        if (atexit(remove_tmpdirs) != 0) abort();
        tmpdirs_registered = 1;
    }
    if (n_tmpdirs == RT_TEST_MAX_TMPDIRS || strlen(buf) >= sizeof tmpdirs[0]) abort();
    memcpy(tmpdirs[n_tmpdirs++], buf, strlen(buf) + 1);
}

static int run_shell(const char *cmd);

void rt_test_rmtree(const char *dir)
{
    if (dir && strstr(dir, "/ratel-test-")) (void)rt_test_sh("rm -rf '%s'", dir);
}

static int run_shell(const char *cmd)
{
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) return -1;
    return WEXITSTATUS(rc);
}

int rt_test_sh(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return run_shell(cmd);
}

int rt_test_ratel(const char *fmt, ...)
{
    char args[15000], cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", RATEL_BIN, args);
    return run_shell(cmd);
}

char *rt_test_read(const char *path, size_t *len)
{
    rt_buf b;
    rt_error err;
    rt_buf_init(&b);
    if (rt_zio_slurp(path, &b, &err) != RT_OK) {
        rt_buf_free(&b);
        return NULL;
    }
    rt_buf_putc(&b, '\0');
    if (b.failed) {
        rt_buf_free(&b);
        return NULL;
    }
    if (len) *len = b.len - 1;
    return b.data;
}

size_t rt_test_count_lines(const char *text, const char *prefix)
{
    size_t n = 0, pl = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, pl) == 0) n++;
        p = strchr(p, '\n');
        if (p) p++;
    }
    return n;
}

void rt_test_line(const char *text, const char *prefix, char *buf, size_t size)
{
    size_t pl = strlen(prefix);
    buf[0] = '\0';
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, pl) == 0) {
            const char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n >= size) n = size - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            return;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
}

void rt_test_write(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

void rt_test_base_book(const char *dir)
{
    rt_test_write(dir, "company.csv",
                  "name,country,functional_currency,invoice_prefix,credit_note_prefix,"
                  "sales_journal_code,sales_journal_label\n"
                  "Test SA,FR,EUR,INV-,CN-,VE,Ventes\n");
    rt_test_write(dir, "gl_accounts.csv",
                  "gl_account,label,role\n411000,Clients,receivable\n445710,TVA,vat_payable\n"
                  "706000,Ventes,revenue\n709000,Remises,revenue\n");
    rt_test_write(dir, "tax_rates.csv",
                  "jurisdiction,tax_category,rate_percent\nFR,standard,20\nFR,reduced,5.5\n");
    rt_test_write(dir, "accounts.csv",
                  "account_id,name,country,currency,tax_jurisdiction\nACC,Acme,FR,EUR,FR\n");
}

static void format_diags(const rt_diags *d, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < d->count && n + 1 < size; i++) {
        char line[1024];
        rt_error_format(&d->items[i], line, sizeof line);
        int w = snprintf(buf + n, size - n, "%s\n", line);
        if (w < 0) break;
        n += (size_t)w < size - n ? (size_t)w : size - n - 1;
    }
}

void rt_test_load_book(const char *dir, rt_book *book, rt_catalog *cat)
{
    rt_diags d;
    rt_diags_init(&d);
    rt_book_init(book);
    rt_status st = rt_book_csv_read(dir, book, &d);
    if (st == RT_OK) st = rt_book_validate(book, &d);
    static char text[16384];
    format_diags(&d, text, sizeof text);
    cr_assert_eq(st, RT_OK, "the test book is invalid:\n%s", text);
    rt_diags_free(&d);
    rt_error err;
    cr_assert_eq(rt_catalog_build(book, cat, &err), RT_OK, "catalog: %s", err.message);
}

void rt_test_book_problems(const char *dir, char *buf, size_t size)
{
    rt_diags d;
    rt_book book;
    rt_diags_init(&d);
    rt_book_init(&book);
    rt_status st = rt_book_csv_read(dir, &book, &d);
    if (st == RT_OK || st == RT_EINVALID) st = rt_book_validate(&book, &d);
    cr_assert_eq(st, RT_EINVALID, "the book was expected to be invalid");
    format_diags(&d, buf, size);
    rt_diags_free(&d);
    rt_book_free(&book);
}

void rt_test_mini_book(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) abort();
    rt_test_write(dir, "company.csv", MINI_BOOK_COMPANY);
    rt_test_write(dir, "gl_accounts.csv", MINI_BOOK_GL_ACCOUNTS);
    rt_test_write(dir, "products.csv", MINI_BOOK_PRODUCTS);
    rt_test_write(dir, "plans.csv", MINI_BOOK_PLANS);
    rt_test_write(dir, "charges.csv", MINI_BOOK_CHARGES);
    rt_test_write(dir, "accounts.csv", MINI_BOOK_ACCOUNTS);
    rt_test_write(dir, "account_plans.csv", MINI_BOOK_ACCOUNT_PLANS);
    rt_test_write(dir, "tax_rates.csv", MINI_BOOK_TAX_RATES);
}

size_t rt_test_read_book(const char *dir, rt_book *book)
{
    rt_diags diags;
    rt_diags_init(&diags);
    rt_book_init(book);
    rt_status st = rt_book_csv_read(dir, book, &diags);
    if (st == RT_OK) st = rt_book_validate(book, &diags);
    size_t n = rt_diags_total(&diags);
    for (size_t i = 0; i < diags.count; i++) {
        char line[1024];
        rt_error_format(&diags.items[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (st != RT_OK && n == 0) n = 1;
    rt_diags_free(&diags);
    return n;
}

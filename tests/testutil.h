/* testutil: helpers shared by the Criterion tests: source paths, temporary directories,
 * running the ratel command, reading files. Tests only; not part of the library. */
#ifndef RT_TESTUTIL_H
#define RT_TESTUTIL_H

#include <stddef.h>

/* Absolute path of a file in the source tree ("data-samples/telco/book"). Static buffer
 * per call slot: valid until the 8th next call. */
const char *rt_test_src(const char *rel);
/* A fresh empty directory under $TMPDIR (or /tmp); the path is copied into buf. */
void rt_test_tmpdir(char *buf, size_t size);
/* Run `ratel ARGS` through the shell (stdout/stderr to files in the temp dir when given);
 * returns the exit status. */
int rt_test_ratel(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command; returns its exit status. */
int rt_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whole file (decompressed when zstd) as a NUL-terminated malloc'd string, or NULL. */
char *rt_test_read(const char *path, size_t *len);
/* Number of lines of a text that start with `prefix`. */
size_t rt_test_count_lines(const char *text, const char *prefix);
/* The line of text that starts with prefix, copied into buf ("" when none). */
void rt_test_line(const char *text, const char *prefix, char *buf, size_t size);

/* Write text to dir/name (replacing it). */
void rt_test_write(const char *dir, const char *name, const char *text);

/* A minimal valid price book source in dir: company (EUR, FR), GL accounts 411000
 * (receivable), 445710 (VAT), 706000 and 709000 (revenue), tax rates FR/standard 20% and
 * FR/reduced 5.5%, account ACC (EUR, FR). A test adds products, plans, charges,
 * account_plans and the rest with rt_test_write. */
void rt_test_base_book(const char *dir);

struct rt_book;
struct rt_catalog;
/* Read, validate (failing the test with every problem when invalid) and compile a book
 * source dir. */
void rt_test_load_book(const char *dir, struct rt_book *book, struct rt_catalog *cat);
/* Read and validate a source dir that must be invalid; the problems, one per line as
 * "file:line:column: field: message", into buf. */
void rt_test_book_problems(const char *dir, char *buf, size_t size);

#endif

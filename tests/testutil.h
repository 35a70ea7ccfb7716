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

#endif

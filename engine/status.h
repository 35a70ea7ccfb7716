/* status: the library's one error vocabulary.
 *
 * Owns rt_status (every failure a library function can report), rt_error (one failure with its
 * file/line/field context), rt_diags (a list of errors, for validators that report everything
 * at once) and the RT_ASSERT invariant macros. It does not print or exit: the tools decide how
 * to show an error. */
#ifndef RT_STATUS_H
#define RT_STATUS_H

#include <stddef.h>
#include <stdint.h>

typedef enum rt_status {
    RT_OK = 0,
    RT_ENOMEM,      /* an allocation failed */
    RT_EINVAL,      /* a caller passed an argument outside the documented domain */
    RT_EIO,         /* a read, write, fsync or rename failed (errno in the message) */
    RT_EPARSE,      /* text or bytes do not follow their format */
    RT_EOVERFLOW,   /* an amount or count does not fit its integer type */
    RT_ENOTFOUND,   /* a key, file or entity does not exist */
    RT_EEXIST,      /* something that must not exist yet does */
    RT_ECORRUPT,    /* a checksum or structural check failed on stored data */
    RT_ELMDB,       /* LMDB returned an error (its text in the message) */
    RT_EZSTD,       /* zstd returned an error (its text in the message) */
    RT_ELIMIT,      /* a declared limit (field length, tiers, digits...) was exceeded */
    RT_EINVALID,    /* validation found problems; the details are in an rt_diags list */
    RT_ECOMMITTED,  /* the period already has a committed run and --rerun was not given */
    RT_EVERIFY,     /* ratel verify found an inconsistency */
    RT_STATUS_COUNT_
} rt_status;

/* A static, human-readable name for a status ("RT_EPARSE: malformed input"). */
const char *rt_status_str(rt_status status);

enum { RT_ERROR_MESSAGE_MAX = 512, RT_ERROR_PATH_MAX = 256, RT_ERROR_FIELD_MAX = 64 };

/* One error with the place it was found. line and column are 1-based, 0 when unknown. */
typedef struct rt_error {
    rt_status code;
    uint64_t line;
    uint32_t column;
    char file[RT_ERROR_PATH_MAX];
    char field[RT_ERROR_FIELD_MAX];
    char message[RT_ERROR_MESSAGE_MAX];
} rt_error;

/* Fill err (when not NULL) and return code, so a failure path reads
 * `return rt_error_set(err, RT_EPARSE, path, line, col, "quantity", "not a number");`.
 * file and field may be NULL. The message is printf-formatted and truncated to fit. */
rt_status rt_error_set(rt_error *err, rt_status code, const char *file, uint64_t line,
                       uint32_t column, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Clear err to RT_OK with empty context. */
void rt_error_clear(rt_error *err);

/* Format "file:line:column: field: message" into buf (always NUL-terminated). */
void rt_error_format(const rt_error *err, char *buf, size_t buf_size);

/* A growable list of errors, for validators that must report every problem in one pass.
 * At most RT_DIAGS_MAX are kept; the count of dropped ones is in `dropped`. */
enum { RT_DIAGS_MAX = 10000 };
typedef struct rt_diags {
    rt_error *items;
    size_t count;
    size_t capacity;
    size_t dropped;
} rt_diags;

void rt_diags_init(rt_diags *d);
void rt_diags_free(rt_diags *d);
/* Append one error. Never fails: on allocation failure the error is counted as dropped. */
void rt_diags_add(rt_diags *d, const char *file, uint64_t line, uint32_t column,
                  const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Append every problem of `from` after those of d, in order (for checks run in parallel, each
 * into a list of its own, then gathered in a fixed order). */
void rt_diags_append(rt_diags *d, const rt_diags *from);
/* Number of problems recorded, including dropped ones. */
size_t rt_diags_total(const rt_diags *d);

/* One thread's failure among items worked on in parallel: the item it failed on, with its
 * status and error. When every thread takes its items in ascending order and stops at its
 * first failure, the lowest failing item of all the threads is the first failing item of all
 * (rt_failure_first), whatever the thread count. */
typedef struct rt_failure {
    size_t item; /* SIZE_MAX: none */
    rt_status status;
    rt_error err;
} rt_failure;

static inline void rt_failure_clear(rt_failure *f) { f->item = SIZE_MAX; }
static inline void rt_failure_set(rt_failure *f, size_t item, rt_status status)
{
    f->item = item;
    f->status = status;
}
/* The lowest failing item of f[0..n), or NULL when none failed. */
const rt_failure *rt_failure_first(const rt_failure *f, size_t n);

/* ---- invariants ----
 * RT_ASSERT stays on in release builds: a wrong invoice is worse than a stopped run.
 * RT_DASSERT is for expensive checks and only runs in debug builds. */
void rt__assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

#define RT_ASSERT(expr) ((expr) ? (void)0 : rt__assert_fail(#expr, __FILE__, __LINE__))
#ifdef NDEBUG
#define RT_DASSERT(expr) ((void)0)
#else
#define RT_DASSERT(expr) RT_ASSERT(expr)
#endif

#define RT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif

/* registry: the record of committed runs, in the book's LMDB environment.
 *
 * Owns the run records (period, book fingerprint, input fingerprints, output manifest
 * checksum, counts, totals, invoice number range), the per-period index used to refuse a
 * second run of a committed period, the gap-free invoice number series, and the invoices in
 * effect after each run (stored in compressed blocks, and held that way for a rerun). Everything a
 * run commits happens in one write transaction (rt_registry_txn): numbers are taken, the run
 * is recorded, and both become visible together or not at all. It does not write output
 * files (the run does). */
#ifndef RT_REGISTRY_H
#define RT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "engine/arena.h"
#include "engine/buf.h"
#include "engine/store.h"
#include "engine/usage.h"

enum {
    RT_RUN_FLAG_RERUN = 1,
    RT_RUN_FLAG_ACCRUAL = 2, /* --accrue-only: books an accrual, bills nothing; a period's
                                billing runs ignore it */
};
enum { RT_RUN_CURRENCIES_MAX = 16 };

typedef enum rt_input_kind { RT_INPUT_USAGE = 0, RT_INPUT_ORDERS = 1 } rt_input_kind;

typedef struct rt_run_input {
    char *path;
    uint32_t kind; /* rt_input_kind */
    rt_input_info info;
} rt_run_input;

typedef struct rt_currency_total {
    char currency[4];
    uint64_t invoices;
    int64_t net_minor;
    int64_t tax_minor;
    int64_t gross_minor;
} rt_currency_total;

/* Deferred revenue a run released, per revenue GL account (so a rerun can reverse it). */
typedef struct rt_run_release {
    char gl_account[72];
    int64_t amount_minor;
} rt_run_release;

enum { RT_RUN_RELEASES_MAX = 256 };

typedef struct rt_run_record {
    uint64_t run_no;
    char period[8]; /* "YYYY-MM" */
    uint32_t flags; /* RT_RUN_FLAG_* */
    uint64_t book_fingerprint;
    uint64_t book_version;
    uint64_t read, rated, rejected, duplicate;
    uint64_t invoices;
    char first_invoice[48];
    char last_invoice[48];
    uint64_t manifest_xxh64;
    uint64_t billed_count; /* entries of the run's billed-events file (engine/billed) */
    uint64_t billed_xxh64;
    char out_dir[1024];
    rt_run_input *inputs; /* owned (malloc) when returned by rt_registry_get_run */
    size_t input_count;
    rt_currency_total totals[RT_RUN_CURRENCIES_MAX];
    size_t total_count;
    uint64_t supersedes; /* a rerun: the run of the period it corrects, else 0 */
    uint64_t credit_notes;
    uint64_t unchanged;  /* a rerun: invoices of the corrected run that stay as they were */
    rt_run_release releases[RT_RUN_RELEASES_MAX];
    size_t release_count;
} rt_run_record;

/* Free what rt_registry_get_run allocated in a record. */
void rt_run_record_free(rt_run_record *r);

typedef struct rt_registry_txn rt_registry_txn;

/* Begin the run's commit transaction (LMDB allows one writer: a concurrent import or run waits
 * here). RT_ELMDB. */
rt_status rt_registry_begin(rt_store *store, rt_registry_txn **out, rt_error *err);
/* Make everything done in txn durable and visible; txn is freed either way. */
rt_status rt_registry_commit(rt_registry_txn *txn, rt_error *err);
void rt_registry_abort(rt_registry_txn *txn);

/* The number the next committed run will get. */
rt_status rt_registry_next_run_no(rt_registry_txn *txn, uint64_t *run_no, rt_error *err);
/* The last committed run of a period; RT_ENOTFOUND when the period was never billed. */
rt_status rt_registry_period_last_run(rt_registry_txn *txn, const char *period,
                                      uint64_t *run_no, rt_error *err);
/* Reserve `count` consecutive numbers of a series (by prefix); *first is the first of them.
 * Series start at 1. */
rt_status rt_registry_take_numbers(rt_registry_txn *txn, const char *series, uint64_t count,
                                   uint64_t *first, rt_error *err);
/* Record a run (run_no from rt_registry_next_run_no). RT_EEXIST if the number is taken. */
rt_status rt_registry_put_run(rt_registry_txn *txn, const rt_run_record *run, rt_error *err);

/* The invoices in effect for a period after a run: every account's current invoice (new, or
 * carried over unchanged from the run a rerun corrects), content as engine/corrections packs
 * it (opaque to the registry). They are stored in blocks of up to RT_REGISTRY_INVOICE_BLOCK
 * consecutive invoices, each block one zstd frame (level 1, with its checksum) of its
 * invoices' account ids, numbers and contents, keyed by the run and its first account id:
 * about an eighth of the contents' size, where an invoice compressed on its own (about a
 * kilobyte) keeps over two fifths of it, and takes 1.75 times as long even at level -1. */
enum { RT_REGISTRY_INVOICE_BLOCK = 64 };
/* Invoice i of those to store: pointers valid until the next call. */
typedef rt_status (*rt_registry_invoice_src)(void *ctx, size_t i, const char **account_id,
                                             const char **number, const void **content,
                                             size_t *len, rt_error *err);
/* Store the n invoices src gives for run_no, which come in strictly ascending account id
 * order (RT_EINVAL otherwise, nothing is then to be committed). RT_ENOMEM, RT_EZSTD,
 * RT_ELIMIT (an account id or number too long), RT_ELMDB, or src's status. */
rt_status rt_registry_put_invoices(rt_registry_txn *txn, uint64_t run_no, size_t n,
                                   rt_registry_invoice_src src, void *ctx, rt_error *err);

/* The form books written before blocks hold, one entry per invoice, which
 * rt_registry_each_invoice still reads (and tests write): the content as one zstd frame with
 * its checksum (rt_registry_invoice_encode, appended to out; cctx is the caller's), or, in the
 * oldest books, as it is. RT_EZSTD, RT_ENOMEM. */
rt_status rt_registry_invoice_encode(ZSTD_CCtx *cctx, const void *content, size_t len,
                                     rt_buf *out);
rt_status rt_registry_put_invoice(rt_registry_txn *txn, uint64_t run_no, const char *account_id,
                                  const char *number, const void *stored, size_t len,
                                  rt_error *err);

/* The invoices in effect after a run, held as the registry stores them, for a rerun to compare
 * its invoices with and to carry the unchanged ones: every stored entry's bytes (a block's
 * frame, about an eighth of its invoices' contents) and, per invoice in account id order, its
 * account id, number and place in its entry. A million invoices hold ~150 MB where their
 * contents take 1.1 GB (touched afresh, that was most of a rerun's set-up time). A reader
 * decodes the contents an entry at a time: in account order, each entry once. */
typedef struct rt_registry_invoice {
    const char *account_id;
    const char *number;
    uint32_t entry;                  /* its entry in the set */
    size_t offset, len;              /* its content within the entry's decoded bytes */
    uint64_t content_lo, content_hi; /* XXH3-128 of the content (rt_registry_invoice_same) */
} rt_registry_invoice;

typedef struct rt_registry_entry {
    const unsigned char *stored; /* as stored (in the set's arena) */
    size_t len;
    uint32_t kind; /* how it decodes (registry.c) */
} rt_registry_entry;

typedef struct rt_registry_invoices {
    rt_arena arena;
    rt_registry_invoice *items; /* in account id order */
    size_t count, capacity;
    rt_registry_entry *entries;
    size_t entry_count, entry_capacity;
} rt_registry_invoices;

void rt_registry_invoices_init(rt_registry_invoices *s);
void rt_registry_invoices_free(rt_registry_invoices *s);
/* The invoices stored for run_no, into an initialised, empty set. Every entry is decoded once
 * here, so that a damaged one is found before a rerun relies on it: RT_ECORRUPT, naming it. */
rt_status rt_registry_invoices_load(rt_store *store, uint64_t run_no, rt_registry_invoices *s,
                                    rt_error *err);
/* Append an invoice whose content is held as it is, in an entry of its own (a set built in
 * memory: tests); account ids must keep ascending. RT_ENOMEM. */
rt_status rt_registry_invoices_add(rt_registry_invoices *s, const char *account_id,
                                   const char *number, const void *content, size_t len);

typedef struct rt_registry_invoice_reader {
    const rt_registry_invoices *set;
    ZSTD_DCtx *dctx;
    rt_buf bytes;   /* the decoded entry */
    uint32_t entry; /* which, or UINT32_MAX */
} rt_registry_invoice_reader;

void rt_registry_invoice_reader_init(rt_registry_invoice_reader *r,
                                     const rt_registry_invoices *set);
void rt_registry_invoice_reader_free(rt_registry_invoice_reader *r);
/* Whether content is the invoice's own: its length and XXH3-128 fingerprint, taken at load,
 * so that a rerun finds its unchanged invoices without decoding the old ones (a 128-bit
 * fingerprint, as the run's duplicate checks rely on). */
bool rt_registry_invoice_same(const rt_registry_invoice *it, const void *content, size_t len);

/* The content of the set's invoice i: valid until the reader's next call. RT_ENOMEM, or
 * RT_ECORRUPT (an entry that decoded at load does not now: memory was damaged). */
rt_status rt_registry_invoice_content(rt_registry_invoice_reader *r, size_t i, const void **content,
                                      size_t *len, rt_error *err);

/* Call fn for every invoice stored for run_no, in account id order, with its content decoded
 * (from blocks, or from single entries; content stored before invoices were compressed, which
 * is not a zstd frame, is passed as stored). The pointers are valid only during the call. fn
 * returns RT_OK to go on. RT_ECORRUPT when a stored invoice does not decode. */
typedef rt_status (*rt_registry_invoice_fn)(void *ctx, const char *account_id,
                                            const char *number, const void *content, size_t len);
rt_status rt_registry_each_invoice(rt_store *store, uint64_t run_no, rt_registry_invoice_fn fn,
                                   void *ctx, rt_error *err);

/* Read-only helpers, each in its own read transaction. */
rt_status rt_registry_get_run(rt_store *store, uint64_t run_no, rt_run_record *out,
                              rt_error *err);
rt_status rt_registry_find_period(rt_store *store, const char *period, uint64_t *run_no,
                                  rt_error *err);

#endif

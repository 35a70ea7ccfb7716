/* pricebook: the price book's tables stored in LMDB.
 *
 * Owns the storage layout of a book inside the store (one named database per table, keyed
 * by the table's key columns, plus a meta database with the book's fingerprint and version),
 * the atomic replacement of the whole book in one write transaction, and loading one
 * consistent snapshot in one read transaction. It does not validate (book does) or parse CSV
 * (formats/book_csv does). */
#ifndef RT_PRICEBOOK_H
#define RT_PRICEBOOK_H

#include <stdint.h>

#include "engine/book.h"
#include "engine/store.h"

typedef struct rt_pricebook_info {
    uint64_t fingerprint; /* XXH64 over every stored key and value, in order */
    uint64_t version;     /* 1 for the first import, +1 for every import since */
    uint64_t rows;        /* rows in all tables */
} rt_pricebook_info;

/* Replace the stored book with `book` (sorted and validated by the caller) in one write
 * transaction: a concurrent reader sees the old book or the new one, never a mix. On any
 * failure nothing changes. Returns RT_OK, RT_ENOMEM or RT_ELMDB. */
rt_status rt_pricebook_import(rt_store *store, const rt_book *book, rt_pricebook_info *info,
                              rt_error *err);

/* Load the whole stored book into `book` (initialised by the caller) from one read
 * transaction. RT_ENOTFOUND when nothing was ever imported; RT_ECORRUPT when a record does not
 * decode. Strings live in the book's arena. */
rt_status rt_pricebook_load(rt_store *store, rt_book *book, rt_pricebook_info *info,
                            rt_error *err);

#endif

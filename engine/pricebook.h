/* pricebook: the price book's tables stored in LMDB.
 *
 * Owns the storage layout of a book inside the store (one named database per table, keyed
 * by the table's key columns, plus a meta database with the book's fingerprint and version,
 * and the source files the book was imported from), the atomic replacement of the whole book
 * in one write transaction, and loading one consistent snapshot in one read transaction. It does not validate (book does) or parse CSV
 * (formats/book_csv does). */
#ifndef RT_PRICEBOOK_H
#define RT_PRICEBOOK_H

#include <stdint.h>

#include "engine/book.h"
#include "engine/buf.h"
#include "engine/store.h"

typedef struct rt_pricebook_info {
    uint64_t fingerprint; /* XXH64 over every stored key and value, in order */
    uint64_t version;     /* 1 for the first import, +1 for every import since */
    uint64_t rows;        /* rows in all tables */
} rt_pricebook_info;

/* One file of a price book source as an import read it: its name in the source directory
 * and its bytes as stored there (compressed or not). */
typedef struct rt_book_file {
    char *name;
    rt_buf bytes;
} rt_book_file;

/* The files of the source a book was imported from. The book keeps them beside its tables,
 * so that `book export` gives back exactly what finance wrote (row order, column order,
 * number formats, quoting, line ends), which the canonical export cannot. */
typedef struct rt_book_source {
    rt_book_file *files;
    size_t count, cap;
} rt_book_source;

void rt_book_source_init(rt_book_source *s);
void rt_book_source_free(rt_book_source *s);
/* Add a file, taking its bytes (*bytes is left empty and may be reused). RT_ENOMEM. */
rt_status rt_book_source_add(rt_book_source *s, const char *name, rt_buf *bytes);

/* Replace the stored book with `book` (sorted and validated by the caller) and the source it
 * was read from (NULL when there is none, e.g. a CGRateS tariff plan merged into the book:
 * the source kept before is dropped, as it no longer describes the book) in one write
 * transaction: a concurrent reader sees the old book or the new one, never a mix. On any
 * failure nothing changes. Returns RT_OK, RT_ENOMEM, RT_EZSTD or RT_ELMDB. */
rt_status rt_pricebook_import(rt_store *store, const rt_book *book, const rt_book_source *source,
                              rt_pricebook_info *info, rt_error *err);

/* The source the stored book was imported from, its files in name order, each checked
 * against the size and XXH64 kept with it, and the book version it belongs to (*version, may
 * be NULL), read in one transaction. RT_ENOTFOUND when the book keeps no source (imported
 * before sources were kept, or merged from a CGRateS tariff plan since); RT_ECORRUPT when a
 * kept file does not decompress to what was kept. */
rt_status rt_pricebook_source(rt_store *store, rt_book_source *out, uint64_t *version,
                              rt_error *err);

/* How many source files the book keeps and their bytes, from the kept values' heads (each
 * size checked against its frame's own content size), without decompressing them; 0 and 0
 * when it keeps none. Loading the book never reads the kept source: a damaged one fails
 * this and rt_pricebook_source only. RT_ECORRUPT, RT_ELMDB. */
rt_status rt_pricebook_source_info(rt_store *store, uint64_t *files, uint64_t *bytes,
                                   rt_error *err);

/* Load the whole stored book into `book` (initialised by the caller) from one read
 * transaction. RT_ENOTFOUND when nothing was ever imported; RT_ECORRUPT when a record does not
 * decode. Strings live in the book's arena. */
rt_status rt_pricebook_load(rt_store *store, rt_book *book, rt_pricebook_info *info,
                            rt_error *err);

#endif

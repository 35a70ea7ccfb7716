/* book_csv: the price book's human-editable source, a directory of CSV files.
 *
 * Owns reading a source directory into an rt_book (one file per table, named by the schema:
 * products.csv, charges.csv...; a header row naming columns in any order; every cell parsed
 * by the book schema) with every problem reported as file:line:column, and writing a book
 * back as the canonical source (every column, canonical text, rows in key order), so that
 * export -> import -> export gives the same bytes; and keeping the files it read, as stored,
 * and writing them back, so that import -> export gives the source's own bytes. */
#ifndef RT_BOOK_CSV_H
#define RT_BOOK_CSV_H

#include "engine/book.h"
#include "engine/buf.h"
#include "engine/pricebook.h"

/* Read every table of dir into book (initialised by the caller). Problems go to diags; the
 * return is RT_OK when there were none, RT_EINVALID when there were, RT_ENOMEM. Rows are
 * sorted by key afterwards; cross-table validation is the caller's (rt_book_validate). */
rt_status rt_book_csv_read(const char *dir, rt_book *book, rt_diags *diags);
/* The same, also adding every table file read to source, its bytes as stored (the very bytes
 * that were parsed), for rt_pricebook_import to keep. */
rt_status rt_book_csv_read_kept(const char *dir, rt_book *book, rt_diags *diags,
                                rt_book_source *source);

/* Write every table of book as dir/<table>.csv into dir, which is created, or must be an
 * empty directory. RT_EEXIST when it holds anything, RT_EIO with the path in err. */
rt_status rt_book_csv_write(const char *dir, const rt_book *book, rt_error *err);

/* Write a kept source's files into dir (created, or an empty directory, as
 * rt_book_csv_write), byte for byte. */
rt_status rt_book_csv_write_source(const char *dir, const rt_book_source *source,
                                   rt_error *err);

/* One table as CSV text (header and rows), for `book show` and tests. */
rt_status rt_book_csv_table(const rt_book *book, rt_table_id id, rt_buf *out);

#endif

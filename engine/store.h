/* store: the LMDB environment behind a price book directory.
 *
 * Owns opening and closing the environment (map size, named databases, file mode) and the
 * translation of LMDB errors into rt_error. The price book tables (pricebook) and the run
 * registry (registry) are two sets of named databases in this one environment, so a run can
 * read the book and commit its registry record against the same directory. It does not
 * decide what is stored: those two modules do. */
#ifndef RT_STORE_H
#define RT_STORE_H

#include <lmdb.h>
#include <stdbool.h>

#include "engine/status.h"

typedef struct rt_store rt_store;

/* Open the environment in directory `dir`. With create, the directory and the database are
 * created when missing; without it, a missing book is RT_ENOTFOUND. */
rt_status rt_store_open(const char *dir, bool create, rt_store **out, rt_error *err);
void rt_store_close(rt_store *store);

MDB_env *rt_store_env(rt_store *store);

/* Drop this process's mappings of the environment's pages, which stay in the page cache: once
 * a run has read the whole price book into memory, the map's pages it touched (the size of the
 * book file) would otherwise count in its resident memory to the end of the run, though
 * nothing reads them again until the commit, which maps back only the pages it touches. Only
 * memory accounting changes; reads see the same data. */
void rt_store_release_pages(rt_store *store);
const char *rt_store_dir(const rt_store *store);

/* Open (creating when `create` and the transaction is a write one) the named database `name`
 * inside txn. RT_ENOTFOUND when it does not exist and create is false. */
rt_status rt_store_dbi(MDB_txn *txn, const char *name, bool create, MDB_dbi *dbi, rt_error *err);

/* Wrap an LMDB return code: RT_OK for MDB_SUCCESS, RT_ENOTFOUND for MDB_NOTFOUND, otherwise
 * RT_ELMDB with mdb_strerror and `what` in err. */
rt_status rt_store_check(int rc, const char *what, rt_error *err);

#endif

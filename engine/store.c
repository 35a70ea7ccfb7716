/* store: LMDB environment lifecycle. */
#include "engine/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct rt_store {
    MDB_env *env;
    char *dir;
};

/* Virtual size of the memory map. LMDB files are sparse, so this is an upper bound on the
 * book plus registry, not disk space used. */
#define STORE_MAP_SIZE ((size_t)256 << 30)
#define STORE_MAX_DBS 64

rt_status rt_store_check(int rc, const char *what, rt_error *err)
{
    if (rc == MDB_SUCCESS) return RT_OK;
    if (rc == MDB_NOTFOUND) return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL, "%s: not found", what);
    return rt_error_set(err, RT_ELMDB, NULL, 0, 0, NULL, "%s: %s", what, mdb_strerror(rc));
}

rt_status rt_store_open(const char *dir, bool create, rt_store **out, rt_error *err)
{
    struct stat sb;
    char path[4096];
    rt_status st;
    rt_store *s = calloc(1, sizeof *s);
    if (!s) return rt_error_set(err, RT_ENOMEM, dir, 0, 0, NULL, "out of memory");
    s->dir = strdup(dir);
    if (!s->dir) {
        st = rt_error_set(err, RT_ENOMEM, dir, 0, 0, NULL, "out of memory");
        goto fail;
    }
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0) {
        if (!create) {
            st = rt_error_set(err, RT_ENOTFOUND, dir, 0, 0, NULL,
                              "no price book here (import one with `ratel book import`)");
            goto fail;
        }
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            st = rt_error_set(err, RT_EIO, dir, 0, 0, NULL, "cannot create directory: %s",
                              strerror(errno));
            goto fail;
        }
    }
    if ((st = rt_store_check(mdb_env_create(&s->env), "mdb_env_create", err)) != RT_OK) goto fail;
    if ((st = rt_store_check(mdb_env_set_mapsize(s->env, STORE_MAP_SIZE), "mdb_env_set_mapsize",
                             err)) != RT_OK)
        goto fail;
    if ((st = rt_store_check(mdb_env_set_maxdbs(s->env, STORE_MAX_DBS), "mdb_env_set_maxdbs",
                             err)) != RT_OK)
        goto fail;
    /* Many reader slots: OpenMP threads never open transactions, but tools and tests may. */
    if ((st = rt_store_check(mdb_env_set_maxreaders(s->env, 256), "mdb_env_set_maxreaders",
                             err)) != RT_OK)
        goto fail;
    if ((st = rt_store_check(mdb_env_open(s->env, dir, MDB_NOTLS, 0664), "mdb_env_open", err)) !=
        RT_OK) {
        snprintf(err->file, sizeof err->file, "%s", dir);
        goto fail;
    }
    *out = s;
    return RT_OK;
fail:
    rt_store_close(s);
    return st;
}

void rt_store_close(rt_store *s)
{
    if (!s) return;
    if (s->env) mdb_env_close(s->env);
    free(s->dir);
    free(s);
}

MDB_env *rt_store_env(rt_store *s) { return s->env; }

void rt_store_release_pages(rt_store *s)
{
    /* LMDB does not give out its map's address (mdb_env_info has it with MDB_FIXEDMAP only):
     * the mappings of data.mdb are found in /proc/self/maps by device and inode. */
    char path[4096];
    struct stat sb;
    if (!s) return;
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    if (stat(path, &sb) != 0) return;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return;
    char line[4096 + 128];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu", &lo, &hi, &maj, &min, &ino) != 5)
            continue;
        if (ino != (unsigned long)sb.st_ino || maj != major(sb.st_dev) ||
            min != minor(sb.st_dev))
            continue;
        /* LMDB's map is a read-only shared file mapping (no MDB_WRITEMAP): MADV_DONTNEED only
         * unmaps its pages, and the next read faults them back from the file. */
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    fclose(f);
}

const char *rt_store_dir(const rt_store *s) { return s->dir; }

rt_status rt_store_dbi(MDB_txn *txn, const char *name, bool create, MDB_dbi *dbi, rt_error *err)
{
    int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, dbi);
    if (rc == MDB_NOTFOUND)
        return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL, "database '%s' not found", name);
    return rt_store_check(rc, name, err);
}

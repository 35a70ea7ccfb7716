/* outfile: one output file of a run, written row by row through a buffer.
 *
 * Owns the pattern every run output shares: rows are formatted into a memory buffer that is
 * flushed to an rt_zwriter when it fills, and closing records the file's name, size, XXH64 and
 * row count for the manifest. A large table can instead be formatted in chunks on several
 * threads and written in order (rt_outfile_write_items). A compressed outfile is a series of
 * independent zstd frames, one per flush or chunk, so its bytes do not depend on the thread
 * count either. In a distributed run (engine/spread) the chunks are formatted by every
 * process and written by rank 0; the other processes open their outfiles without a directory
 * and write nothing. */
#ifndef RT_OUTFILE_H
#define RT_OUTFILE_H

#include "engine/buf.h"
#include "engine/run.h"
#include "engine/spread.h"
#include "formats/zio.h"

typedef struct rt_outfile {
    rt_zwriter *w;
    int level;       /* 0: plain; else the zstd level of each frame */
    ZSTD_CCtx *cctx; /* for the frames of flushes, when compressed */
    rt_buf buf;
    rt_buf frame;
    uint64_t rows;
    char name[RT_OUTPUT_NAME_MAX];
    /* Set after opening, in a distributed run (rt_run_result.spread): chunks of
     * rt_outfile_write_items are shared out among the processes. */
    rt_spread *spread;
} rt_outfile;

/* The name of a table that may be compressed: name, plus ".zst" when level > 0. */
void rt_outfile_name(const char *name, int level, char *buf, size_t n);

/* Create dir/name; level 0 = plain, >0 = zstd level. dir NULL: a distributed run's process
 * other than rank 0, which writes nothing (what it is given is dropped, and closing lists
 * nothing) but takes its part in rt_outfile_write_items. */
rt_status rt_outfile_open(rt_outfile *f, const char *dir, const char *name, int level,
                          rt_error *err);
/* Flush the buffer when it holds more than a megabyte (call after each row). */
rt_status rt_outfile_row_done(rt_outfile *f, rt_error *err);
/* Appends the text of items [from, to) to b and returns how many rows that is. */
typedef uint64_t (*rt_outfile_items_fn)(const void *ctx, size_t from, size_t to, rt_buf *b);

/* Write items [0, n) after what the buffer holds: chunks of `chunk` items are formatted by fn
 * (and compressed, for a compressed file) on up to `threads` threads and appended in item
 * order, so the file is the same for any thread count. fn must only read shared state. */
rt_status rt_outfile_write_items(rt_outfile *f, size_t n, size_t chunk, unsigned threads,
                                 rt_outfile_items_fn fn, const void *ctx, rt_error *err);
/* Leave the fsync out of rt_outfile_close (see rt_zwriter_defer_sync): a run's outputs are
 * synced together before its manifest is written. */
void rt_outfile_defer_sync(rt_outfile *f);
/* Flush, fsync (unless deferred), close, and append the file's entry to list (when list is
 * not NULL). */
rt_status rt_outfile_close(rt_outfile *f, rt_output_list *list, rt_output_file *entry,
                           rt_error *err);
void rt_outfile_abort(rt_outfile *f);

#endif

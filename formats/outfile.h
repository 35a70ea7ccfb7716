/* outfile: one output file of a run, written row by row through a buffer.
 *
 * Owns the pattern every run output shares: rows are formatted into a memory buffer that is
 * flushed to an rt_zwriter when it fills, and closing records the file's name, size, XXH64 and
 * row count for the manifest. */
#ifndef RT_OUTFILE_H
#define RT_OUTFILE_H

#include "engine/buf.h"
#include "engine/run.h"
#include "formats/zio.h"

typedef struct rt_outfile {
    rt_zwriter *w;
    rt_buf buf;
    uint64_t rows;
    char name[RT_OUTPUT_NAME_MAX];
} rt_outfile;

/* Create dir/name; level 0 = plain, >0 = zstd level. */
rt_status rt_outfile_open(rt_outfile *f, const char *dir, const char *name, int level,
                          rt_error *err);
/* Flush the buffer when it holds more than a megabyte (call after each row). */
rt_status rt_outfile_row_done(rt_outfile *f, rt_error *err);
/* Flush, fsync, close, and append the file's entry to list (when list is not NULL). */
rt_status rt_outfile_close(rt_outfile *f, rt_output_list *list, rt_output_file *entry,
                           rt_error *err);
void rt_outfile_abort(rt_outfile *f);

#endif

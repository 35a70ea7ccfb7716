/* tar: POSIX ustar archives, written member by member and read as a stream.
 *
 * Owns the ustar header layout (512-byte blocks: name, octal mode/uid/gid/size/mtime, header
 * checksum, type, "ustar" magic), member padding and the two zero blocks that end an archive.
 * Members written here are regular files with fixed metadata (mode 0644, owner 0, a given
 * modification time), so an archive depends only on its members. Compression is the caller's
 * (zio). Names are at most 100 bytes (the ustar name field, without the prefix extension). */
#ifndef RT_TAR_H
#define RT_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/status.h"

enum { RT_TAR_BLOCK = 512, RT_TAR_NAME_MAX = 100 };

/* Append one member (header, data, padding to a block) to out. RT_ELIMIT when the name is
 * longer than RT_TAR_NAME_MAX; RT_ENOMEM. */
rt_status rt_tar_member(rt_buf *out, const char *name, const void *data, size_t len,
                        int64_t mtime_s);
/* A member whose data is written in place: rt_tar_open_member appends a header block to be
 * filled and returns where it starts; the caller appends the member's data to out; then
 * rt_tar_close_member fills the header (its size is what was appended since) and pads to a
 * block. The bytes are those rt_tar_member writes. RT_ELIMIT (the name), RT_ENOMEM (out
 * failed). */
size_t rt_tar_open_member(rt_buf *out);
rt_status rt_tar_close_member(rt_buf *out, size_t at, const char *name, int64_t mtime_s);
/* Append the end of the archive: two zero blocks. */
void rt_tar_end(rt_buf *out);

/* Called for every member of an archive, in order; returning non-RT_OK stops the walk and
 * is returned. data is valid only during the call. */
typedef rt_status (*rt_tar_member_fn)(void *ctx, const char *name, const char *data,
                                      size_t len);

/* Walk the archive at path (plain or zstd-compressed), members of at most `member_max` bytes.
 * RT_ECORRUPT (bad header checksum, truncated archive, member too large, no end blocks), plus
 * the zio errors. */
rt_status rt_tar_each(const char *path, size_t member_max, rt_tar_member_fn fn, void *ctx,
                      rt_error *err);

#endif

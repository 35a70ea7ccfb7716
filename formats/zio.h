/* zio: files that may be zstd-compressed, read and written as streams.
 *
 * Owns the byte-level I/O of every input and output file: a reader that recognises a zstd
 * frame by its magic number and decompresses as it goes (plain files pass through), detects
 * a truncated or corrupt frame, and checksums the file as stored (XXH64); and a writer that
 * compresses (or not), can append frames compressed elsewhere (parallel encoders), checksums
 * what it writes, and fsyncs on close. It does not know what the bytes mean. */
#ifndef RT_ZIO_H
#define RT_ZIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "engine/buf.h"
#include "engine/status.h"

typedef struct rt_zreader rt_zreader;

/* Open path for reading. RT_ENOTFOUND / RT_EIO with the reason in err. */
rt_status rt_zreader_open(const char *path, rt_zreader **out, rt_error *err);
/* Read up to cap decompressed bytes; *got == 0 means end of file. RT_ECORRUPT when the
 * compressed data is damaged or the last frame is truncated; RT_EIO on a read error. */
rt_status rt_zreader_read(rt_zreader *r, void *buf, size_t cap, size_t *got, rt_error *err);
/* Bytes of the file consumed so far (as stored). */
uint64_t rt_zreader_offset(const rt_zreader *r);
bool rt_zreader_compressed(const rt_zreader *r);
/* After end of file: size and XXH64 of the file as stored. */
void rt_zreader_checksum(const rt_zreader *r, uint64_t *bytes, uint64_t *xxh64);
void rt_zreader_close(rt_zreader *r);

/* The path of a file that may have been written compressed: dir/name.zst when that exists,
 * else dir/name. */
void rt_zio_find(const char *dir, const char *name, char *path, size_t n);

/* Read a whole (small) file, decompressing when needed, into b. */
rt_status rt_zio_slurp(const char *path, rt_buf *b, rt_error *err);
/* The same, also appending the file's bytes as stored (compressed or not) to raw: the very
 * bytes that were decompressed into b. */
rt_status rt_zio_slurp_raw(const char *path, rt_buf *b, rt_buf *raw, rt_error *err);

/* Checksum a file as stored: size and XXH64. */
rt_status rt_zio_checksum_file(const char *path, uint64_t *bytes, uint64_t *xxh64, rt_error *err);

typedef struct rt_zwriter rt_zwriter;

/* Create path (it must not exist). level 0 writes plain bytes; 1..19 compresses with zstd. */
rt_status rt_zwriter_open(const char *path, int level, rt_zwriter **out, rt_error *err);
/* Append bytes (compressed by the writer when it compresses). */
rt_status rt_zwriter_write(rt_zwriter *w, const void *data, size_t len, rt_error *err);
/* Append bytes as they are: complete zstd frames made by rt_zframe_compress, or plain bytes
 * for a plain file. Must not be mixed with rt_zwriter_write on a compressing writer. */
rt_status rt_zwriter_write_raw(rt_zwriter *w, const void *data, size_t len, rt_error *err);
/* Finish the last frame, flush, fsync and close. *bytes and *xxh64 describe the file as
 * stored. The writer is freed whatever the result. */
rt_status rt_zwriter_close(rt_zwriter *w, uint64_t *bytes, uint64_t *xxh64, rt_error *err);
/* Leave the fsync out of rt_zwriter_close: the caller syncs the file later (rt_zio_fsync),
 * once several files are written, instead of waiting on the disk at each close. */
void rt_zwriter_defer_sync(rt_zwriter *w);
/* fsync the file at path (open it, fsync, close). RT_EIO. */
rt_status rt_zio_fsync(const char *path, rt_error *err);
/* Close without finishing (the file is left to be removed by the caller). */
void rt_zwriter_abort(rt_zwriter *w);

/* Compress src into one complete zstd frame appended to out, with a caller-owned context
 * (one per thread). Frames concatenate into a valid zstd stream. RT_EZSTD, RT_ENOMEM. */
rt_status rt_zframe_compress(ZSTD_CCtx *cctx, int level, const void *src, size_t len,
                             rt_buf *out);
/* The same with the match finder's hash table at 2^hash_log entries (ZSTD_c_hashLog,
 * ZSTD_HASHLOG_MIN..MAX; 0: the level's, as rt_zframe_compress). The context's parameters are
 * reset first, so one context serves calls with either. */
rt_status rt_zframe_compress_hashed(ZSTD_CCtx *cctx, int level, int hash_log, const void *src,
                                    size_t len, rt_buf *out);

#endif

/* usage_native: ratel's native binary columnar usage format (".rtu").
 *
 * Owns the byte layout documented in formats/README.md ("Native usage files"): a checked
 * header with a magic number and a version, blocks of up to RT_NATIVE_BLOCK_RECORDS_MAX
 * records whose columns (dictionary-encoded accounts, products and event-id prefixes,
 * delta-encoded times and event-id suffixes, quantities as mantissa and scale, an optional
 * called number column) are compressed together as one zstd frame and protected by an XXH3
 * checksum, and a footer index of block offsets and record counts so blocks decode in
 * parallel. It owns the block builder and the file writer, and the rt_usage_reader that
 * hands out one block per chunk and decodes blocks on any thread. A damaged, truncated or
 * tampered file is an error naming the file and the block, never a misread. It does not
 * read or write CSV (usage_csv does) and does not rate anything. */
#ifndef RT_USAGE_NATIVE_H
#define RT_USAGE_NATIVE_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "engine/buf.h"
#include "engine/usage.h"

enum {
    RT_NATIVE_VERSION = 1,
    RT_NATIVE_BLOCK_RECORDS_DEFAULT = 65536,
    RT_NATIVE_BLOCK_RECORDS_MAX = 262144,
    RT_NATIVE_ACCOUNT_LEN_MAX = 64,
    RT_NATIVE_PRODUCT_LEN_MAX = 64,
    RT_NATIVE_LEVEL_DEFAULT = 3, /* zstd level of blocks */
};
#define RT_NATIVE_PAYLOAD_MAX ((size_t)128 << 20) /* decompressed bytes of one block */
#define RT_NATIVE_BLOCKS_MAX ((uint32_t)1 << 24)

/* ---- building blocks ----
 * A block builder collects records (copying their strings) and encodes them as one complete
 * block. Builders are independent: one per thread encodes blocks in parallel. */
typedef struct rt_native_block rt_native_block;

/* NULL when memory runs out. */
rt_native_block *rt_native_block_new(void);
void rt_native_block_free(rt_native_block *b);
/* Forget every record (keeps memory). */
void rt_native_block_reset(rt_native_block *b);
size_t rt_native_block_records(const rt_native_block *b);
/* Append one record. RT_ELIMIT with a reason in why (static text) when a field is empty
 * where it may not be, too long, or the quantity scale is above 6; RT_ENOMEM. */
rt_status rt_native_block_add(rt_native_block *b, const rt_event *ev, const char **why);
/* Encode the block whose first record is the file's record number first_record (0-based)
 * and whose position in the file is block_no, compressed at zstd `level` with the caller's
 * context, and append it to out. The builder is left as it was (reset it to reuse it).
 * RT_EINVAL for an empty block, RT_ELIMIT when it is too large, RT_EZSTD, RT_ENOMEM. */
rt_status rt_native_block_finish(rt_native_block *b, uint32_t block_no, uint64_t first_record,
                                 int level, ZSTD_CCtx *cctx, rt_buf *out);

/* ---- writing files ---- */
typedef struct rt_native_writer rt_native_writer;

/* Create path (it must not exist) and write the header. RT_EEXIST, RT_EIO, RT_ENOMEM. */
rt_status rt_native_writer_open(const char *path, rt_native_writer **out, rt_error *err);
/* Block number and first record number the next block must carry. */
void rt_native_writer_next(const rt_native_writer *w, uint32_t *block_no, uint64_t *first_record);
/* Append one complete block made by rt_native_block_finish, in order. RT_EINVAL when its
 * block number or first record is not the next one; RT_ELIMIT past RT_NATIVE_BLOCKS_MAX. */
rt_status rt_native_writer_put(rt_native_writer *w, const void *block, size_t len, rt_error *err);
/* Write the footer index and trailer, fsync and close. The writer is freed whatever the
 * result; *bytes, *xxh64 (may be NULL) describe the file as stored. */
rt_status rt_native_writer_close(rt_native_writer *w, uint64_t *records, uint64_t *bytes,
                                 uint64_t *xxh64, rt_error *err);
/* Close without finishing (the caller removes the file). */
void rt_native_writer_abort(rt_native_writer *w);

/* ---- reading ---- */

/* True when the first bytes of a file are the native magic number. */
int rt_native_sniff(const void *head, size_t len);

/* Open a native usage file: checks the header (magic, version, checksum), the trailer and the
 * footer index (checksum, blocks contiguous from the header to the footer, record counts).
 * chunk_bytes is ignored (a chunk is one block). Chunks hand out the block's stored bytes;
 * parse_chunk verifies the block checksum, decompresses and decodes it (into the batch
 * arena: event ids live there, other strings point into the decompressed block there too).
 * Events have raw == NULL (the record text is synthesised when needed) and line_rel = the
 * record's index in its block; chunk first_line is the 1-based record number in the file.
 * RT_ENOTFOUND, RT_EIO, RT_ECORRUPT (with the reason in err), RT_ENOMEM. */
rt_status rt_usage_native_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                               rt_error *err);

/* Decode one block held in memory (the bytes of one block as stored, as a chunk holds them)
 * into batch. For fuzzing and tests: the same code path as parse_chunk. RT_ECORRUPT with the
 * reason in err, RT_ENOMEM. */
rt_status rt_usage_native_decode_block(const void *block, size_t len, rt_event_batch *batch,
                                       rt_error *err);

#endif

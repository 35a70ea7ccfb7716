/* usage_csv: the usage CSV reader and writer (plain or zstd-compressed).
 *
 * Owns the usage CSV layout (a header row naming the columns event_id, account_id,
 * product_id, start_time, quantity and optionally called_number, in any order; other columns
 * are ignored), cutting the stream into chunks at record boundaries, and parsing a chunk's
 * records into events or rejects. Implements rt_usage_reader.
 *
 * Compressed files are read frame by frame. A zstd frame announced by a ratel frame index (a
 * zstd skippable frame saying how many bytes and line ends the next frame holds and that it
 * ends at a record boundary, see formats/README.md "Indexed CSV.zst") is handed out still
 * compressed, so frames decompress in parallel in parse_chunk, where the index is checked
 * against the data (a frame that does not match its index is an error, never a mis-split
 * record). Frames without an index (other writers) are read ahead and decompressed in parallel
 * when their headers give their sizes (else in order), then stitched and cut at record
 * boundaries in order, so line numbers stay exact.
 *
 * Chunks of this reader start with a private 32-byte prefix that parse_chunk reads. Rather
 * than copy a chunk, next_chunk may exchange chunk->data (and chunk->cap) for a buffer of its
 * own: both come from malloc, and the caller frees whatever chunk->data holds at the end, as
 * the rt_chunk contract says.
 *
 * Owns the canonical text of a usage record too (rt_usage_csv_format_event), used by
 * `ratel convert` and to show records that came from binary inputs. */
#ifndef RT_USAGE_CSV_H
#define RT_USAGE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "engine/buf.h"
#include "engine/usage.h"
#include "formats/csv.h"

/* Open a usage CSV file and read its header. chunk_bytes 0 picks 4 MiB.
 * RT_ENOTFOUND, RT_EIO, RT_ECORRUPT (damaged zstd), RT_EPARSE (header missing a required
 * column, with the column name in err). */
rt_status rt_usage_csv_open(const char *path, size_t chunk_bytes, rt_usage_reader **out,
                            rt_error *err);

/* ---- other CSV layouts (switch CDRs) ----
 * A mapper turns one parsed CSV record into one event or one reject in b (rt_event_batch_push
 * or rt_event_batch_reject, with the rec_no and line_rel given); it returns false only when
 * memory runs out. Text it makes up (an event id) goes to b->arena. */
typedef bool (*rt_usage_csv_mapper)(const void *ctx, const rt_csv_record *rec, uint32_t rec_no,
                                    uint32_t line_rel, rt_event_batch *b);

/* Open a CSV file without a header row whose records are mapped by `map`. ctx_size bytes of
 * ctx are copied into the reader (so ctx must hold no pointers to caller memory that dies
 * first) and handed to map. Same chunking, compression handling and errors as
 * rt_usage_csv_open; the first record is line 1. */
rt_status rt_usage_csv_open_mapped(const char *path, size_t chunk_bytes, rt_usage_csv_mapper map,
                                   const void *ctx, size_t ctx_size, rt_usage_reader **out,
                                   rt_error *err);
/* The mapped parse of an in-memory buffer of whole records, for fuzzing and tests. */
rt_status rt_usage_csv_parse_mapped(const char *data, size_t len, rt_usage_csv_mapper map,
                                    const void *ctx, rt_event_batch *batch);

/* Parse the records of an in-memory buffer that holds whole records (no header) with the
 * standard column order. For fuzzing and tests: the same code path as a file's chunks. */
rt_status rt_usage_csv_parse_buffer(const char *data, size_t len, rt_event_batch *batch);

/* ---- canonical text ---- */

/* The canonical header row, with its line end. */
const char *rt_usage_csv_header(void);
/* Append ev as a canonical record without its line end: the columns of the canonical header;
 * text quoted only when it must be (never altered), start_time as "YYYY-MM-DDThh:mm:ssZ",
 * quantity with exactly qty_scale decimals. Parsing it gives back the same event. */
void rt_usage_csv_format_event(rt_buf *b, const rt_event *ev);

/* ---- indexed zstd frames ---- */

/* Default size of the text of one frame written by ratel. */
#define RT_USAGE_CSV_FRAME_BYTES ((size_t)4 << 20)

/* Append text[0..len) to out as a ratel frame index followed by one zstd frame (level
 * `level`, with content size and checksum) compressed with the caller's context (one per
 * thread). The index says whether text ends at a record boundary (it ends with a line end
 * outside quotes, counting quotes from its start, which must be a record start). Frames made
 * this way concatenate into a valid zstd file. RT_EZSTD, RT_ENOMEM. */
rt_status rt_usage_csv_frame(ZSTD_CCtx *cctx, int level, const char *text, size_t len,
                             rt_buf *out);

/* What a writer has written of indexed frames, for the end frame that closes the file. Every
 * index rt_usage_csv_frame writes promises that end frame, so a file cut at a frame boundary
 * (a writer killed between two frames, a copy cut short) is an error for the reader, not a
 * shorter file. */
typedef struct rt_usage_csv_tally {
    uint64_t frames; /* indexed frames */
    uint64_t lines;  /* their line ends */
} rt_usage_csv_tally;

/* Add to t the indexed frames of framed[0..len), the output of rt_usage_csv_frame calls
 * (whole index-and-frame pairs), as the writer writes it to the file. */
void rt_usage_csv_count(rt_usage_csv_tally *t, const void *framed, size_t len);

/* The end frame holding t (a skippable frame: `zstd -d` skips it), to write after the last
 * frame. */
#define RT_USAGE_CSV_END_BYTES 40
void rt_usage_csv_end(const rt_usage_csv_tally *t, unsigned char frame[RT_USAGE_CSV_END_BYTES]);

#endif

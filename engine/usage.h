/* usage: the contract between usage readers and the rating engine.
 *
 * Owns the parsed usage event (rt_event), the reject reason codes, chunks of input and the
 * batches a reader produces from them, and the reader interface (rt_usage_reader) that every
 * usage format implements in formats/. A reader hands out chunks in input order from one
 * thread (next_chunk) and parses any chunk on any thread (parse_chunk), so parsing runs in
 * parallel while the order of records stays defined. It does not rate anything. */
#ifndef RT_USAGE_H
#define RT_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"
#include "engine/datetime.h"
#include "engine/status.h"

/* ---- reject reasons (stable codes: they are written to rejects files) ---- */
typedef enum rt_reject_reason {
    RT_REJ_NONE = 0,
    RT_REJ_MALFORMED,         /* the record is not valid CSV (or not a valid native record) */
    RT_REJ_MISSING_FIELD,     /* a required field is absent or empty */
    RT_REJ_FIELD_TOO_LONG,    /* a field exceeds its declared limit */
    RT_REJ_BAD_TIME,          /* start time is not an ISO 8601 instant */
    RT_REJ_BAD_QUANTITY,      /* quantity is not a decimal number, or has too many decimals */
    RT_REJ_NEGATIVE_QUANTITY, /* quantity below zero */
    RT_REJ_ABSURD_QUANTITY,   /* quantity above the product's max_quantity */
    RT_REJ_UNKNOWN_ACCOUNT,   /* account id not in the price book */
    RT_REJ_UNKNOWN_PRODUCT,   /* product id not in the price book (or not in force then) */
    RT_REJ_NO_PLAN,           /* the account has no plan in force at the event time */
    RT_REJ_NO_CHARGE,         /* no plan of the account charges this product at that time */
    RT_REJ_AFTER_PERIOD,      /* event starts at or after the period end */
    RT_REJ_LATE,              /* event starts before the period and --late reject is in force */
    RT_REJ_OVERFLOW,          /* the event's amount does not fit the money representation */
    RT_REJ_BAD_NUMBER,        /* called number is not a plausible E.164 number */
    RT_REJ_BAD_ORDER,         /* an order line out of sequence (change before start...) */
    RT_REJ_UNKNOWN_DESTINATION, /* no prefix of the deck (or no rate) for the called number */
    RT_REJ_NOT_ANSWERED,      /* a switch CDR of a call that was not answered: nothing to bill */
    RT_REJ_REASON_COUNT_
} rt_reject_reason;

/* Stable upper-case code of a reason ("UNKNOWN_ACCOUNT"). */
const char *rt_reject_reason_code(rt_reject_reason r);

/* ---- limits ---- */
enum {
    RT_EVENT_ID_LEN_MAX = 128,
    RT_NUMBER_LEN_MAX = 32,
    RT_RECORD_LEN_MAX = 64 * 1024, /* a longer record is rejected as MALFORMED */
    RT_REJECT_MESSAGE_MAX = 120,
};

/* One parsed usage record. Strings are views into the chunk buffer (not NUL-terminated) and
 * live as long as the chunk. */
typedef struct rt_event {
    const char *event_id;
    const char *account;
    const char *product;
    const char *called; /* called number, may be empty */
    uint16_t event_id_len;
    uint16_t account_len;
    uint16_t product_len;
    uint16_t called_len;
    uint32_t rec_no;      /* index of the record within its chunk (the order key) */
    uint32_t line_rel;    /* physical line of the record, relative to the chunk's first line */
    rt_time_s start_s;
    int64_t qty_mantissa; /* quantity as written: mantissa x 10^-qty_scale */
    uint8_t qty_scale;
    const char *raw; /* the original record text, for rejects and detail (NULL: synthesise) */
    uint32_t raw_len;
} rt_event;

/* A record a reader or the rater could not use. */
typedef struct rt_reject {
    uint32_t reason; /* rt_reject_reason */
    uint32_t rec_no;
    uint32_t line_rel;
    uint32_t raw_len;
    const char *raw; /* original text, a view into the chunk */
    const char *field; /* name of the offending field, or "": static, or owned by the reader
                        * that made the reject (a header's column name) */
    char message[RT_REJECT_MESSAGE_MAX];
} rt_reject;

/* A chunk of input: whole records only, handed out in order. */
typedef struct rt_chunk {
    char *data;
    size_t len;
    size_t cap;
    uint64_t first_line; /* physical line number of the chunk's first byte (1-based) */
    uint32_t file_index; /* which input file, in command-line order */
    uint32_t seq;        /* chunk number within the run, in input order */
    uint64_t source_offset; /* bytes of the file (as stored) consumed once this chunk was cut */
} rt_chunk;

/* What a reader made of one chunk. */
typedef struct rt_event_batch {
    rt_event *events;
    size_t count, capacity;
    rt_reject *rejects;
    size_t reject_count, reject_capacity;
    uint64_t records; /* records in the chunk, set by the reader: parsed events + its rejects */
    uint64_t decompress_ns; /* of parse_chunk's time, what the reader spent decompressing (0
                               when the chunk came plain: uncompressed input, or decompressed as
                               it was cut); for the run's per-stage times only */
    rt_arena arena;   /* text a reader had to copy (unescaped fields); reset with the batch */
} rt_event_batch;

void rt_event_batch_init(rt_event_batch *b);
void rt_event_batch_free(rt_event_batch *b);
void rt_event_batch_clear(rt_event_batch *b);
/* A new zeroed event / reject at the end of the batch; NULL when memory runs out. */
rt_event *rt_event_batch_push(rt_event_batch *b);
rt_reject *rt_event_batch_reject(rt_event_batch *b, rt_reject_reason reason, uint32_t rec_no,
                                 uint32_t line_rel, const char *raw, size_t raw_len,
                                 const char *field, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Facts about one input file, for the manifest. */
typedef struct rt_input_info {
    uint64_t bytes;  /* size of the file as stored (compressed bytes when compressed) */
    uint64_t xxh64;  /* XXH64 (seed 0) of the file as stored */
    uint64_t records;
} rt_input_info;

/* ---- the reader interface ---- */
typedef struct rt_usage_reader rt_usage_reader;
typedef struct rt_usage_reader_ops {
    /* Fill chunk with the next whole records (chunk->data is owned by the caller and grown
     * with realloc as needed; the reader sets len and first_line). *eof is set when the input
     * is exhausted and chunk is empty. Called from one thread, in order. */
    rt_status (*next_chunk)(rt_usage_reader *r, rt_chunk *chunk, int *eof, rt_error *err);
    /* Parse the records of a chunk into batch. Safe to call concurrently on different
     * chunks. Bad records become rejects; only a broken reader returns an error. */
    rt_status (*parse_chunk)(const rt_usage_reader *r, const rt_chunk *chunk,
                             rt_event_batch *batch, rt_error *err);
    /* After eof: the file's size and checksum as stored (bytes, xxh64; records is the
     * run's to count). */
    void (*info)(const rt_usage_reader *r, rt_input_info *info);
    void (*close)(rt_usage_reader *r);
} rt_usage_reader_ops;

struct rt_usage_reader {
    const rt_usage_reader_ops *ops;
    const char *path;
    /* Threads the reader may use of its own accord (the CSV reader decompresses frames it
     * reads ahead in parallel); 0: as many as there are cores. Set by whoever opens it. */
    unsigned threads;
};

#endif

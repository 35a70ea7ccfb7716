/* run: one billing run, from input files to a committed output directory.
 *
 * Owns the pipeline and its guarantees: one consistent price book snapshot; usage read in
 * chunks and parsed, rated, de-duplicated and aggregated in parallel waves with a result that
 * does not depend on the thread count; invoices and journal built from the aggregates; the
 * commit (invoice numbers and the run record in one registry transaction); and the atomic
 * appearance of the output directory (written under a staging name, fsynced, renamed).
 * A run that fails or is killed leaves no output directory and no registry record.
 *
 * The run does not know file formats: readers come from cfg->open_usage and every output file
 * is written by cfg->outputs (both implemented in formats/). */
#ifndef RT_RUN_H
#define RT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/billing.h"
#include "engine/journal.h"
#include "engine/orders.h"
#include "engine/peers.h"
#include "engine/pricebook.h"
#include "engine/registry.h"
#include "engine/spread.h"

enum { RT_RATED_DUPLICATE = 2 }; /* flag on rt_rated: an earlier event had the same id */
enum { RT_LATE_WINDOW_DEFAULT_MONTHS = 3, RT_LATE_WINDOW_MAX_MONTHS = 24 };

typedef struct rt_run_counts {
    uint64_t read;      /* records read from every input */
    uint64_t rated;     /* records billed */
    uint64_t rejected;  /* records written to the rejects file */
    uint64_t duplicate; /* records not billed because their event id was already billed */
    uint64_t late;      /* of rated: events before the period, billed under --late bill */
    uint64_t by_reason[RT_REJ_REASON_COUNT_];
    uint64_t order_lines;    /* order lines read from every order file */
    uint64_t order_rejected; /* of them, rejected (written to the rejects file) */
} rt_run_counts;

/* A chunk after rating, as the output writer sees it. */
typedef struct rt_chunk_view {
    const rt_catalog *cat;
    const rt_usage_reader *reader;
    const rt_chunk *chunk;
    const rt_event_batch *batch; /* events, and rejects sorted by rec_no */
    const rt_rated *rated;       /* in input order; RT_RATED_DUPLICATE marks duplicates */
    size_t rated_count;
} rt_chunk_view;

typedef struct rt_stage_times {
    uint64_t load_ns, read_ns, rate_ns, dedup_ns, output_ns, bill_ns, commit_ns, total_ns;
    uint64_t orders_ns;      /* reading and billing the orders: alongside read .. output on
                                their own thread, or after them with one thread */
    uint64_t orders_wait_ns; /* waiting for them (or, with one thread, reading them) after the
                                usage, in no other stage */
    bool orders_alongside;   /* the orders had a thread of their own (runs of 2+ threads) */
    /* Within commit_ns, in this order: */
    uint64_t books_ns;     /* corrections, invoice numbers and the journal */
    uint64_t detail_ns;    /* the order rejects appended, the usage detail sorted and written */
    uint64_t tables_ns;    /* the invoice tables, the journal and the FEC file */
    uint64_t documents_ns; /* the UBL and HTML archives, the detail files closed, the manifest */
    uint64_t registry_ns;  /* billed events and invoices in effect: alongside the three above
                              with 2+ threads, after them with one */
    bool registry_alongside;
    uint64_t sync_ns;      /* the marker, fsyncs, the registry's commit and the rename */
    /* The work of read .. output by step, in thread time (nanoseconds summed over the threads
     * that did it, so with N threads they may add up to N times the stages' wall time):
     * decompressing the usage chunks (within the readers' parsing; 0 for plain input, or
     * when a reader decompresses as it cuts chunks, in read), parsing them into events, rating
     * the events (plans, charges, prices, the committed runs' billed events), adding them to
     * the aggregates, encoding the per-event outputs (rated usage, rejects, duplicates, the
     * usage detail's spill) and writing them. */
    struct {
        uint64_t decompress, parse, rate, aggregate, encode, write;
    } thread_ns;
} rt_stage_times;

/* Everything the run produced, as the output writer sees it at the end. */
typedef struct rt_run_result {
    uint64_t run_no;
    rt_period period;
    char period_text[8];
    bool rerun;
    rt_late_policy late;
    const rt_catalog *cat;
    rt_pricebook_info book;
    const rt_run_input *inputs; /* usage files, then order files */
    size_t input_count;
    size_t usage_input_count;
    rt_run_counts counts;
    const rt_order_book *orders; /* its rejects go to the rejects file after usage rejects */
    const rt_invoice_set *invoices;
    const rt_journal *journal;
    const rt_currency_total *totals;
    size_t total_count;
    bool accrual;          /* --accrue-only: no invoices; the journal holds the accrual */
    uint64_t corrects_run; /* --rerun: the run whose invoices this one corrects, else 0 */
    uint64_t credit_notes; /* documents of type RT_CREDIT_NOTE among invoices */
    uint64_t unchanged;    /* invoices of the corrected run left as they were */
    int tables_zstd_level; /* rt_run_config.tables_zstd_level */
    /* Where the writer records how long it took (detail_ns, tables_ns, documents_ns), or NULL.
     * It must not touch the other fields: they belong to the thread that commits. */
    rt_stage_times *times;
    /* Called by the writer once each (NULL: not called), with hooks_ctx, so that the run
     * releases memory as soon as the outputs are done with it:
     *  - journal_written: the journal's lines are written (journal and GL files): the run
     *    frees them, and from then on only the journal's count, entries and sums are valid;
     *  - detail_written: the usage detail, the outputs' largest working memory, is written
     *    and its memory freed, or the writer stopped before: the run waits for it before it
     *    stores its invoices in the registry alongside, so that the two do not add up. */
    void (*journal_written)(void *ctx);
    void (*detail_written)(void *ctx);
    void *hooks_ctx;
    /* A distributed run: the processes share out the tables' and documents' work
     * (engine/spread); every process but rank 0 writes with a sink begun without a directory,
     * and its writer takes only its part in those (finish lists nothing). NULL otherwise. */
    rt_spread *spread;
} rt_run_result;

enum { RT_OUTPUT_FILES_MAX = 32, RT_OUTPUT_NAME_MAX = 64 };
typedef struct rt_output_file {
    char name[RT_OUTPUT_NAME_MAX]; /* relative to the output directory */
    uint64_t bytes;
    uint64_t xxh64;
    uint64_t rows;
} rt_output_file;

typedef struct rt_output_list {
    rt_output_file items[RT_OUTPUT_FILES_MAX];
    size_t count;
} rt_output_list;

/* The writer of a run's output directory. */
typedef struct rt_output_sink rt_output_sink;
typedef struct rt_output_ops {
    /* Start writing into dir (it exists and is empty). `slots` chunk encoders are used; the
     * run has `threads` threads (the writer's own parallel work takes as many). */
    rt_status (*begin)(const char *dir, unsigned slots, unsigned threads, rt_output_sink **out,
                       rt_error *err);
    /* Encode the rows of one chunk into slot `slot`. Called concurrently for distinct slots. */
    rt_status (*encode_chunk)(rt_output_sink *s, unsigned slot, const rt_chunk_view *v,
                              rt_error *err);
    /* Append what slot `slot` holds to the files. Called in input order, from one thread. */
    rt_status (*write_chunk)(rt_output_sink *s, unsigned slot, rt_error *err);
    /* Write the rest (invoices, journal, manifest), fsync every file, and report what was
     * written; *manifest_xxh64 is the checksum of manifest.json. */
    rt_status (*finish)(rt_output_sink *s, const rt_run_result *res, rt_output_list *files,
                        uint64_t *manifest_xxh64, rt_error *err);
    void (*destroy)(rt_output_sink *s);
    /* Optional (NULL: none): called once, after the first wave of chunks is rated and
     * de-duplicated and before any is encoded, with that wave and an estimate of the run's
     * records, so that the writer can size its work to the run. What it decides must not
     * change the bytes written (the wave depends on the thread count). */
    rt_status (*plan)(rt_output_sink *s, const rt_chunk_view *views, size_t n,
                      uint64_t records_expected, rt_error *err);
    /* Distributed runs (rt_run_config.peers): begin with dir NULL makes a writer that only
     * encodes; pack_chunk appends what encode_chunk left in a slot to `out`, and unpack_chunk
     * puts such bytes into a slot of rank 0's writer, to be written by write_chunk as if
     * encoded there. Only rank 0 calls plan; pack_plan gives what it decided as bytes, and
     * the other processes' writers take them with unpack_plan instead of planning, so that
     * every process encodes for the same plan. unpack: RT_ECORRUPT, RT_ENOMEM. */
    rt_status (*pack_chunk)(rt_output_sink *s, unsigned slot, rt_buf *out);
    rt_status (*unpack_chunk)(rt_output_sink *s, unsigned slot, const char *data, size_t len,
                              rt_error *err);
    rt_status (*pack_plan)(rt_output_sink *s, const rt_catalog *cat, rt_buf *out);
    rt_status (*unpack_plan)(rt_output_sink *s, const rt_catalog *cat, const char *data,
                             size_t len, rt_error *err);
} rt_output_ops;

typedef struct rt_run_progress {
    uint64_t records;
    uint64_t bytes_done;  /* input bytes consumed (as stored) */
    uint64_t bytes_total; /* input bytes (as stored), for an ETA */
    uint64_t elapsed_ns;
} rt_run_progress;

/* Open a usage file whose chunks hold about chunk_bytes (0: the reader's default); ctx is the
 * config's open_ctx (the opener's options). */
typedef rt_status (*rt_usage_open_fn)(const void *ctx, const char *path, size_t chunk_bytes,
                                      rt_usage_reader **out, rt_error *err);
/* Read one order file into the book (source = its index among the order files). */
typedef rt_status (*rt_orders_read_fn)(const char *path, uint32_t source, rt_order_book *ob,
                                       rt_input_info *info, rt_error *err);

/* The zstd level of compressed tables: fast, and text tables shrink about tenfold. */
enum { RT_TABLES_ZSTD_LEVEL = 1 };

/* Whether usage ids are read once ahead of rating (see rt_run_config.id_scan). */
typedef enum rt_id_scan {
    RT_ID_SCAN_AUTO = 0, /* when the in-run duplicate set would pass 1/4 of the memory */
    RT_ID_SCAN_ON,
    RT_ID_SCAN_OFF
} rt_id_scan;

typedef struct rt_run_config {
    const char *book_dir;
    const char *period; /* "YYYY-MM" */
    const char *const *usage_paths;
    size_t usage_count;
    const char *const *order_paths;
    size_t order_count;
    const char *out_dir;
    unsigned threads; /* 0: every core */
    bool rerun;
    bool accrue_only; /* book the month-end accrual of usage rated, issue no invoice */
    rt_late_policy late;
    unsigned late_window_months; /* 0: 3. Older events are rejected; runs of the periods
                                    within this many months are checked for duplicates */
    size_t chunk_bytes; /* 0: the reader's default (4 MiB for CSV) */
    /* In-run duplicates: without the scan, a set holds every event's fingerprint (about 25
     * bytes an event); with it, the usage files are read once for their ids first (a full
     * parse, about half the rating stage's time), and the set holds only the ids seen more
     * than once (a filter of ~1.25 bytes an event finds them). The same outputs either way. */
    rt_id_scan id_scan;
    int tables_zstd_level; /* 0: the invoice, journal and GL tables are plain text; else
                              zstd at this level (1..19), each file named *.zst */
    rt_usage_open_fn open_usage;
    const void *open_ctx; /* passed to open_usage */
    rt_orders_read_fn read_orders; /* needed when order_count > 0 */
    const rt_output_ops *outputs;
    /* A distributed run (NULL: one process): every process of the job calls rt_run_execute
     * with the same configuration, the same price book (its own copy, or a shared one) and
     * the same input files at the same paths. Every process cuts the same chunks; chunk k is
     * parsed, rated and encoded by process k mod size; the duplicate set's partitions are
     * dealt out to the processes, each marking the duplicates of its partitions over every
     * chunk in input order (rank 0 writes the billed-events file from every process's
     * partitions); each process aggregates the events it
     * rated, and after the last chunk the aggregates are summed by the account's owner (a
     * hash of its row); rank 0 reads the orders, writes the per-event files in input order
     * from the chunks the others encoded, takes the owners' sums, bills, writes the rest and
     * commits, so its output directory is byte for byte that of a run in one process. The
     * other processes write nothing and return rank 0's status (the error is reported by
     * rank 0, which names the process where it arose). The id scan is off (--id-scan is
     * ignored). */
    const rt_peers *peers;
    /* Distributed runs: a digest of what the process was told (its command line), which
     * every process must share with rank 0 (0 when the caller has none). */
    uint64_t args_digest;
    void (*progress)(void *ctx, const rt_run_progress *p);
    void *progress_ctx;
} rt_run_config;

/* The memory a run may count on: `physical` bytes, or less when the cgroup the process is in
 * (read from proc_cgroup, /proc/self/cgroup, and looked up under cgroup_fs, /sys/fs/cgroup),
 * or one of its ancestors, has a lower limit: cgroup v2's memory.max, or v1's
 * memory/memory.limit_in_bytes. What cannot be read is taken as no limit. (--id-scan auto.) */
uint64_t rt_run_memory_limit(const char *proc_cgroup, const char *cgroup_fs, uint64_t physical);

typedef struct rt_run_summary {
    uint64_t run_no;
    rt_run_counts counts;
    uint64_t invoices;     /* new invoices */
    uint64_t credit_notes;
    uint64_t unchanged;
    uint64_t corrects_run;
    char first_invoice[RT_INVOICE_NUMBER_MAX];
    char last_invoice[RT_INVOICE_NUMBER_MAX];
    rt_currency_total totals[RT_RUN_CURRENCIES_MAX];
    size_t total_count;
    __int128 journal_debit_minor, journal_credit_minor;
    uint64_t journal_lines;
    uint64_t input_bytes;
    rt_stage_times times;
} rt_run_summary;

/* Execute a run. Returns RT_OK when the output directory exists and the run is committed.
 * Errors: RT_EINVAL (bad period or arguments), RT_ENOTFOUND (book or input missing),
 * RT_EEXIST (output directory exists), RT_ECOMMITTED (period already billed, no --rerun),
 * RT_EIO, RT_EPARSE/RT_ECORRUPT (an input is unreadable as a whole), RT_ELMDB, RT_ENOMEM,
 * RT_EOVERFLOW. On any error nothing is committed and no output directory appears. */
rt_status rt_run_execute(const rt_run_config *cfg, rt_run_summary *summary, rt_error *err);

/* Remove a leftover staging directory of out_dir, or finish its rename when its run was
 * committed (a run killed between commit and rename). Called by rt_run_execute; exposed for
 * `ratel verify`. *rolled_forward tells which happened. */
rt_status rt_run_recover(rt_store *store, const char *out_dir, bool *rolled_forward,
                         rt_error *err);

/* The staging directory name of an output directory ("<out>.staging"). */
void rt_run_staging_path(const char *out_dir, char *buf, size_t buf_size);

#endif

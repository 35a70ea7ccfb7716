/* verify: re-checks a run's output directory against its manifest and the accounting rules.
 *
 * Owns the checks behind `ratel verify`: every file the manifest lists exists with its size
 * and XXH64, nothing unlisted is present, row counts match the counts, read = rated +
 * rejected + duplicate, every journal entry balances and so does each currency, journal entry
 * numbers run from 1 without gaps, invoice numbers are gap-free within their series, each
 * invoice's lines sum to its net, its VAT to its tax, and the receivable it books equals its
 * gross, and the invoice totals equal the manifest's; one UBL document and one HTML page per
 * invoice and credit note, each UBL document's type, number and payable amount equal to
 * invoices.csv; the FEC file follows every FEC rule (gap-free EcritureNum, balanced entries,
 * formats) and its totals equal the journal's; the usage detail holds every billed event,
 * its frames cover the file, and each invoice line's events match invoice_lines.csv. */
#ifndef RT_VERIFY_H
#define RT_VERIFY_H

#include <stdint.h>

#include "engine/status.h"

typedef struct rt_verify_stats {
    uint64_t files_checked;
    uint64_t invoices;
    uint64_t journal_entries;
    uint64_t journal_lines;
    uint64_t documents;     /* UBL and HTML files checked against invoices.csv */
    uint64_t fec_entries;   /* entries of the FEC file (0 when there is none) */
    uint64_t detail_events; /* events in the itemised usage detail */
} rt_verify_stats;

/* Check dir. Every problem found is added to problems; returns RT_OK when there were none,
 * RT_EVERIFY when there were, or RT_ENOMEM. */
rt_status rt_verify_outdir(const char *dir, rt_diags *problems, rt_verify_stats *stats);

/* Check that dir is the output of a run committed in the registry of book_dir: the run the
 * manifest names exists, its recorded manifest checksum is the manifest's, and it was committed
 * for this directory and period. Problems go to diags (RT_EVERIFY); RT_OK otherwise. */
rt_status rt_verify_registry(const char *dir, const char *book_dir, rt_diags *problems);

#endif

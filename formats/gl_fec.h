/* gl_fec: France's Fichier des Écritures Comptables (LPF art. A47 A-1), written and checked.
 *
 * Owns the FEC layout: the 18 columns in their legal order with their legal names as a
 * header row, tab-separated, LF line ends, UTF-8, dates AAAAMMJJ, amounts with a decimal comma
 * and no thousands separator, entries in chronological order with EcritureNum running from 1
 * without gaps, every entry balanced, the customer sub-ledger (CompAuxNum/CompAuxLib) on
 * receivable lines only, Montantdevise/Idevise where the transaction currency differs from
 * the functional one, and text fields with tabs and line ends neutralised. The file is named
 * SIREN + "FEC" + closing date (the last day of the period) + ".txt". Also owns the checker
 * that `ratel verify` and the tests run over such a file. Documented in formats/README.md. */
#ifndef RT_GL_FEC_H
#define RT_GL_FEC_H

#include <stdint.h>

#include "engine/run.h"

enum { RT_FEC_COLUMNS = 18, RT_FEC_NAME_MAX = 64 };

/* The legal column names, in order. */
extern const char *const rt_fec_columns[RT_FEC_COLUMNS];

/* The FEC file name of a company and period ("123456789FEC20261031.txt"). The SIREN is the
 * company's registration_id when it is 9 digits, or the first 9 digits of a 14-digit SIRET
 * (spaces ignored). RT_ENOTFOUND when the company has no SIREN: no FEC is written then. */
rt_status rt_gl_fec_name(const rt_company *co, const rt_period *period, char *buf, size_t buf_size);

/* Write the run's journal as dir/<FEC name> (plus ".zst", compressed, when
 * res->tables_zstd_level is set), formatting on up to `threads` threads, and append it to
 * files. Does nothing (RT_OK) when the company has no SIREN. RT_EIO, RT_ENOMEM, RT_ELIMIT. */
rt_status rt_gl_fec_write(const char *dir, const rt_run_result *res, unsigned threads,
                          rt_output_list *files, rt_error *err);

typedef struct rt_fec_summary {
    uint64_t entries;
    uint64_t lines;
    __int128 debit_minor; /* in the functional currency's minor units */
    __int128 credit_minor;
} rt_fec_summary;

/* Check an FEC file's name and text against the rules above (amounts with exactly `minor`
 * decimals). Every problem goes to diags under the file name; the sums go to *sum. Returns
 * RT_OK when there was none, RT_EVERIFY otherwise. */
rt_status rt_gl_fec_check(const char *name, const char *text, size_t len, unsigned minor,
                          rt_fec_summary *sum, rt_diags *diags);

/* The same a piece at a time, for a file too large to hold (`ratel verify`): begin, then the
 * text in order in pieces of whole lines (the file's last line may lack its line end), then
 * end, which returns what rt_gl_fec_check would. */
typedef struct rt_fec_checker {
    const char *name;
    unsigned minor;
    rt_diags *d;
    rt_fec_summary *sum;
    size_t before; /* problems in d before the check */
    uint64_t line; /* lines read */
    /* the entry being read */
    char code[64], num[32];
    rt_days date;
    __int128 debit, credit;
    uint64_t entry_line;
    bool open;
    rt_days last_valid;
    /* last EcritureNum per journal code (sequences are per journal) */
    char codes[16][64];
    uint64_t last[16];
    size_t ncodes;
} rt_fec_checker;
void rt_gl_fec_check_begin(rt_fec_checker *c, const char *name, unsigned minor, rt_fec_summary *sum,
                           rt_diags *diags);
void rt_gl_fec_check_lines(rt_fec_checker *c, const char *text, size_t len);
rt_status rt_gl_fec_check_end(rt_fec_checker *c);

#endif

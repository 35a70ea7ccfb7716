/* testutil: helpers shared by the Criterion tests: source paths, temporary directories,
 * running the ratel command, reading files. Tests only; not part of the library. */
#ifndef RT_TESTUTIL_H
#define RT_TESTUTIL_H

#include <stddef.h>

/* Absolute path of a file in the source tree ("data-samples/telco/book"). Static buffer
 * per call slot: valid until the 8th next call. */
const char *rt_test_src(const char *rel);
/* A fresh empty directory under $TMPDIR (or /tmp); the path is copied into buf. */
void rt_test_tmpdir(char *buf, size_t size);
/* Remove a directory made by rt_test_tmpdir and everything in it. */
void rt_test_rmtree(const char *dir);
/* Run `ratel ARGS` through the shell (stdout/stderr to files in the temp dir when given);
 * returns the exit status. */
int rt_test_ratel(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command; returns its exit status. */
int rt_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whole file (decompressed when zstd) as a NUL-terminated malloc'd string, or NULL. */
char *rt_test_read(const char *path, size_t *len);
/* Number of lines of a text that start with `prefix`. */
size_t rt_test_count_lines(const char *text, const char *prefix);
/* The line of text that starts with prefix, copied into buf ("" when none). */
void rt_test_line(const char *text, const char *prefix, char *buf, size_t size);

/* Write text to dir/name (replacing it). */
void rt_test_write(const char *dir, const char *name, const char *text);

/* A minimal valid price book source in dir: company (EUR, FR), GL accounts 411000
 * (receivable), 445710 (VAT), 706000 and 709000 (revenue), tax rates FR/standard 20% and
 * FR/reduced 5.5%, account ACC (EUR, FR). A test adds products, plans, charges,
 * account_plans and the rest with rt_test_write. */
void rt_test_base_book(const char *dir);

struct rt_book;
struct rt_catalog;
/* Read, validate (failing the test with every problem when invalid) and compile a book
 * source dir. */
void rt_test_load_book(const char *dir, struct rt_book *book, struct rt_catalog *cat);
/* Read and validate a source dir that must be invalid; the problems, one per line as
 * "file:line:column: field: message", into buf. */
void rt_test_book_problems(const char *dir, char *buf, size_t size);

/* A small, valid price book source in dir (created when missing), used by the unit tests of
 * book, rating, catalog, billing and journal. Its content is MINI_BOOK_* below; a test
 * changes one table by writing that file again after this call.
 *
 * Row order once sorted (the catalog's row indexes):
 *   gl_accounts: 0 "411" receivable, 1 "4457" vat_payable, 2 "7061" voice, 3 "7062" data,
 *                4 "7063" energy
 *   products:    0 BIG, 1 DATA v1 (until 2026-10-10), 2 DATA v2, 3 KWH (3 decimals), 4 OLD
 *                (retired 2026-10-01), 5 SMS, 6 SUB (recurring), 7 VOICE (max 86400 s)
 *   plans:       0 PA, 1 PB
 *   charges:     0 PA/C_BIG, 1 PA/C_DATA, 2 PA/C_KWH, 3 PA/C_OLD, 4 PA/C_SUB,
 *                5 PA/C_VOICE v1 (0.06 per 60 s, 60/60, until 2026-10-15T12:00:00Z),
 *                6 PA/C_VOICE v2 (0.03 per 60 s, 60/60), 7 PB/C_SMS (flat 0.05),
 *                8 PB/C_VOICE (0.12 per 60 s, 1/1, setup 0.01)
 *   accounts:    0 A1 (PA), 1 A2 (PA and PB; 14 days terms), 2 A3 (no plan),
 *                3 A4 (PB from 2026-10-20)
 *   tax_rates:   0 FR/reduced 5.5%, 1 FR/std 19.6% until 2026-07-01, 2 FR/std 20% */
void rt_test_mini_book(const char *dir);

/* Read (rt_book_csv_read) and validate a book source into book, which this initialises.
 * Returns the number of problems found, each printed to stderr. */
size_t rt_test_read_book(const char *dir, struct rt_book *book);

#define MINI_BOOK_COMPANY                                                                   \
    "name,country,functional_currency,invoice_prefix,credit_note_prefix,payment_terms_days,"  \
    "line_rounding,tax_rounding,sales_journal_code,sales_journal_label\n"                    \
    "Test Co,FR,EUR,T-,TC-,30,half_up,half_up,VE,Ventes\n"
#define MINI_BOOK_GL_ACCOUNTS                                                               \
    "gl_account,label,role\n"                                                               \
    "411,Clients,receivable\n"                                                              \
    "4457,TVA collectee,vat_payable\n"                                                      \
    "7061,Voice revenue,revenue\n"                                                          \
    "7062,Data revenue,revenue\n"                                                           \
    "7063,Energy revenue,\n"
#define MINI_BOOK_PRODUCTS                                                                  \
    "product_id,valid_from,valid_to,name,unit,unit_code,quantity_decimals,gl_account,"        \
    "tax_category,revenue_type,max_quantity\n"                                               \
    "VOICE,,,Voice,second,SEC,0,7061,std,usage,86400\n"                                      \
    "SMS,,,SMS,message,C62,0,7061,std,usage,\n"                                              \
    "DATA,2026-10-10,,Data v2,byte,AD,0,7062,std,usage,\n"                                   \
    "DATA,,2026-10-10,Data v1,byte,AD,0,7062,std,usage,\n"                                   \
    "KWH,,,Energy,kWh,KWH,3,7063,reduced,,\n"                                                \
    "OLD,,2026-10-01,Retired,each,C62,0,7061,std,usage,\n"                                   \
    "SUB,,,Subscription,month,MON,0,7062,std,recurring,\n"                                   \
    "BIG,,,Big ticket,each,C62,0,7061,std,usage,\n"
#define MINI_BOOK_PLANS                                                                     \
    "plan_id,name,currency\n"                                                               \
    "PB,Plan B,EUR\n"                                                                       \
    "PA,Plan A,EUR\n"
#define MINI_BOOK_CHARGES                                                                   \
    "plan_id,charge_id,valid_from,valid_to,product_id,model,price,price_per,"                 \
    "first_increment,next_increment,setup_fee\n"                                             \
    "PA,C_VOICE,,2026-10-15T12:00:00Z,VOICE,per_unit,0.06,60,60,60,\n"                        \
    "PA,C_VOICE,2026-10-15T12:00:00Z,,VOICE,per_unit,0.03,60,60,60,\n"                        \
    "PA,C_DATA,,,DATA,per_unit,0.01,1000000,0,0,\n"                                          \
    "PA,C_KWH,,,KWH,per_unit,0.25,1,0,0,\n"                                                  \
    "PA,C_OLD,,,OLD,flat,1,1,0,0,\n"                                                         \
    "PA,C_SUB,,,SUB,recurring,10,1,0,0,\n"                                                   \
    "PA,C_BIG,,,BIG,per_unit,1000000000,1,0,0,\n"                                            \
    "PB,C_SMS,,,SMS,flat,0.05,1,0,0,\n"                                                      \
    "PB,C_VOICE,,,VOICE,per_unit,0.12,60,1,1,0.01\n"
#define MINI_BOOK_ACCOUNTS                                                                  \
    "account_id,name,country,currency,tax_jurisdiction,payment_terms_days\n"                 \
    "A1,Alice,FR,EUR,FR,\n"                                                                 \
    "A2,Bob,FR,EUR,FR,14\n"                                                                 \
    "A3,Carol,FR,EUR,FR,\n"                                                                 \
    "A4,Dave,FR,EUR,FR,\n"
#define MINI_BOOK_ACCOUNT_PLANS                                                             \
    "account_id,plan_id,valid_from,valid_to\n"                                               \
    "A1,PA,,\n"                                                                             \
    "A2,PB,,\n"                                                                             \
    "A2,PA,,\n"                                                                             \
    "A4,PB,2026-10-20,\n"
#define MINI_BOOK_TAX_RATES                                                                 \
    "jurisdiction,tax_category,valid_from,valid_to,rate_percent,vat_code\n"                  \
    "FR,std,2026-07-01,,20,S\n"                                                             \
    "FR,std,,2026-07-01,19.6,S\n"                                                           \
    "FR,reduced,,,5.5,S\n"

#endif

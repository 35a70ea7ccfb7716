/* book_cgrates: a CGRateS tariff plan mapped into the price book.
 *
 * Owns reading the six rating files of a CGRateS tariff plan directory (Destinations.csv,
 * Rates.csv, DestinationRates.csv, Timings.csv, RatingPlans.csv, RatingProfiles.csv; '#'
 * lines are comments, columns are by position) and turning them into price book rows: one
 * plan per rating plan, with a deck of the destinations it rates, a band set of its timings
 * (calls split at timing boundaries, as CGRateS splits them into timespans), one charge per
 * rated category (a product of the book), rates per destination and timing with one
 * interval per GroupIntervalStart, and the rating profiles as plan assignments of existing
 * accounts. What is not supported is reported as a problem, never guessed (the mapping is
 * documented in formats/README.md). It does not validate the result as a whole or store it:
 * the caller sorts, validates and imports the book. */
#ifndef RT_BOOK_CGRATES_H
#define RT_BOOK_CGRATES_H

#include <stddef.h>

#include "engine/book.h"

enum { RT_CGRATES_CATEGORIES_MAX = 16 };

typedef struct rt_cgrates_options {
    const char *currency;  /* currency of the plans; NULL: the company's functional one */
    const char *time_zone; /* time zone of the timings; NULL: "UTC" */
    const char *tenant;    /* only rating profiles of this tenant; NULL: every tenant */
    /* category -> product id ("call" -> "VOICE"); a category not listed maps to the product
     * of the same id. */
    const char *category[RT_CGRATES_CATEGORIES_MAX];
    const char *product[RT_CGRATES_CATEGORIES_MAX];
    size_t category_count;
} rt_cgrates_options;

/* Read the tariff plan in tp_dir and merge it into book (a complete book: company,
 * products, accounts...): rows of the plans it defines, their decks and band sets
 * ("CGR_<plan>") and their assignments are replaced, everything else is kept. Every problem
 * goes to diags with file:line:column. Returns RT_OK, RT_EINVALID when there were problems
 * (the book is then partly changed: discard it), RT_ENOMEM. The rows are left unsorted. */
rt_status rt_book_cgrates_read(const char *tp_dir, const rt_cgrates_options *opt, rt_book *book,
                               rt_diags *diags);

/* Parse a CGRateS duration ("60s", "1m30s", "1h", "0", or a plain number of units) into
 * whole units. RT_EPARSE when it is not one or not a whole number of seconds. */
rt_status rt_cgrates_duration(const char *text, int64_t *units);

#endif

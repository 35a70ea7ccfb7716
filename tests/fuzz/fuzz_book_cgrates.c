/* fuzz_book_cgrates: the CGRateS tariff plan reader on arbitrary files. The input is split
 * at '\f' into the six files (Destinations, Rates, DestinationRates, Timings, RatingPlans,
 * RatingProfiles), written to a scratch directory and mapped into a small book; whatever it
 * reports, it must not crash, and what it accepts must sort. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/book_cgrates.h"
#include "formats/book_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[6] = {"Destinations.csv", "Rates.csv",       "DestinationRates.csv",
                                     "Timings.csv",      "RatingPlans.csv", "RatingProfiles.csv"};

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(p, 1, n, f);
    fclose(f);
}

static void base_book(rt_book *book)
{
    void *row;
    rt_book_append(book, RT_T_COMPANY, 0, &row);
    ((rt_company *)row)->functional_currency = "EUR";
    rt_book_append(book, RT_T_ACCOUNTS, 0, &row);
    ((rt_account *)row)->account_id = "ACC";
    rt_book_append(book, RT_T_PRODUCTS, 0, &row);
    ((rt_product *)row)->product_id = "call";
    ((rt_product *)row)->name = "Calls";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/fuzz-cgrates-XXXXXX";
    if (!mkdtemp(dir)) return 0;
    const uint8_t *p = data, *end = data + size;
    for (int i = 0; i < 6; i++) {
        const uint8_t *cut = memchr(p, '\f', (size_t)(end - p));
        if (!cut) cut = end;
        write_file(dir, names[i], p, (size_t)(cut - p));
        p = cut < end ? cut + 1 : end;
    }
    rt_book book;
    rt_diags diags;
    rt_book_init(&book);
    rt_diags_init(&diags);
    base_book(&book);
    rt_cgrates_options opt;
    memset(&opt, 0, sizeof opt);
    if (rt_book_cgrates_read(dir, &opt, &book, &diags) == RT_OK) rt_book_sort(&book);
    rt_diags_free(&diags);
    rt_book_free(&book);
    for (int i = 0; i < 6; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    remove(dir);
    return 0;
}

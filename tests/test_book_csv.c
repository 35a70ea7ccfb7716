/* test_book_csv: the price book source directory: the telco sample reads and validates;
 * export -> import -> export is byte-identical; bad sources report every problem at once
 * with file:line:column (unknown and repeated columns, missing files and columns, empty
 * files, rows with the wrong field count, malformed rows, .csv files that are no table);
 * BOM, CRLF, zstd sources. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/book_csv.h"
#include "testutil.h"

static char tmp[256], src[300];
static void setup(void)
{
    rt_test_tmpdir(tmp, sizeof tmp);
    snprintf(src, sizeof src, "%s/src", tmp);
    rt_test_mini_book(src);
}
static void teardown(void) { rt_test_rmtree(tmp); }
TestSuite(book_csv, .init = setup, .fini = teardown);

/* Read dir; every problem formatted, one per line. */
static char *read_dir(const char *dir, rt_book *book, rt_status *st, size_t *count)
{
    rt_diags d;
    rt_diags_init(&d);
    rt_book_init(book);
    *st = rt_book_csv_read(dir, book, &d);
    rt_buf out;
    rt_buf_init(&out);
    for (size_t i = 0; i < d.count; i++) {
        char line[600];
        rt_error_format(&d.items[i], line, sizeof line);
        rt_buf_printf(&out, "%s\n", line);
    }
    rt_buf_putc(&out, '\0');
    *count = rt_diags_total(&d);
    rt_diags_free(&d);
    return out.data;
}

static char *problems_of(size_t *count)
{
    rt_book book;
    rt_status st;
    char *p = read_dir(src, &book, &st, count);
    cr_assert_eq(st, *count ? RT_EINVALID : RT_OK, "%s", p);
    rt_book_free(&book);
    return p;
}

static void expect(const char *table_file, const char *text, size_t want_count, const char *want)
{
    rt_test_write(src, table_file, text);
    size_t n;
    char *p = problems_of(&n);
    cr_assert(strstr(p, want), "expected '%s' among:\n%s", want, p);
    if (want_count) cr_assert_eq(n, want_count, "%s", p);
    free(p);
}

Test(book_csv, the_telco_sample_reads_and_validates)
{
    rt_book book;
    rt_status st;
    size_t n;
    char *p = read_dir(rt_test_src("data-samples/telco/book"), &book, &st, &n);
    cr_assert_eq(st, RT_OK, "%s", p);
    free(p);
    static const size_t rows[RT_T_COUNT_] = {
        [RT_T_COMPANY] = 1,  [RT_T_GL_ACCOUNTS] = 10, [RT_T_PRODUCTS] = 10,
        [RT_T_PLANS] = 2,    [RT_T_CHARGES] = 17,     [RT_T_ACCOUNTS] = 33,
        [RT_T_ACCOUNT_PLANS] = 33, [RT_T_TAX_RATES] = 2, [RT_T_ZONES] = 6,
        [RT_T_PREFIXES] = 7, [RT_T_RATES] = 11,       [RT_T_TIME_BANDS] = 5,
        [RT_T_HOLIDAYS] = 4};
    for (unsigned t = 0; t < RT_T_COUNT_; t++)
        cr_assert_eq(RT_BOOK_COUNT(&book, t), rows[t], "%s", rt_book_table((rt_table_id)t)->name);
    rt_diags d;
    rt_diags_init(&d);
    cr_assert_eq(rt_book_validate(&book, &d), RT_OK);
    rt_diags_free(&d);
    /* Spot checks of parsed values, with their source lines kept for diagnostics. */
    const rt_charge *c = RT_BOOK_ROWS(&book, RT_T_CHARGES, rt_charge);
    cr_assert_str_eq(c[15].charge_id, "C_VOICE_NAT");
    cr_assert_eq(c[15].price_nanos, 20000000);
    cr_assert_eq(c[15].valid_to, INT64_C(20741) * 86400);
    cr_assert_eq(c[16].price_nanos, 18000000);
    cr_assert_eq(book.tables[RT_T_CHARGES].lines[16], 18);
    cr_assert_eq(book.tables[RT_T_CHARGES].columns[7], 8, "price is column 8 of charges.csv");
    cr_assert_str_eq(rt_book_company(&book)->invoice_prefix, "LT-2026-");
    rt_book_free(&book);
}

static void export_to(const rt_book *book, const char *dir)
{
    rt_error err;
    cr_assert_eq(rt_book_csv_write(dir, book, &err), RT_OK, "%s", err.message);
}

static void round_trip(const char *from)
{
    char d1[400], d2[400];
    snprintf(d1, sizeof d1, "%s/export1", tmp);
    snprintf(d2, sizeof d2, "%s/export2", tmp);
    rt_book a, b;
    rt_status st;
    size_t n;
    free(read_dir(from, &a, &st, &n));
    cr_assert_eq(st, RT_OK);
    export_to(&a, d1);
    free(read_dir(d1, &b, &st, &n));
    cr_assert_eq(st, RT_OK);
    export_to(&b, d2);
    for (unsigned t = 0; t < RT_T_COUNT_; t++) {
        const char *f = rt_book_table((rt_table_id)t)->file;
        cr_assert_eq(RT_BOOK_COUNT(&a, t), RT_BOOK_COUNT(&b, t), "%s", f);
        cr_assert_eq(rt_test_sh("cmp -s '%s/%s' '%s/%s'", d1, f, d2, f), 0, "%s differs", f);
    }
    rt_book_free(&a);
    rt_book_free(&b);
    rt_test_rmtree(d1); /* an export writes a new or empty directory only */
    rt_test_rmtree(d2);
}

Test(book_csv, export_import_export_is_byte_identical)
{
    round_trip(rt_test_src("data-samples/telco/book"));
    round_trip(src);
}

Test(book_csv, export_is_canonical)
{
    /* Rows sorted by key, every column, canonical text, exact (no formula neutralising). */
    rt_test_write(src, "plans.csv", "currency,plan_id,name\nEUR,PB,\"Plan, B\"\nEUR,PA,=Plan A\n");
    rt_book book;
    rt_status st;
    size_t n;
    free(read_dir(src, &book, &st, &n));
    cr_assert_eq(st, RT_OK);
    rt_buf b;
    rt_buf_init(&b);
    cr_assert_eq(rt_book_csv_table(&book, RT_T_PLANS, &b), RT_OK);
    rt_buf_putc(&b, '\0');
    cr_assert_str_eq(b.data, "plan_id,name,currency,time_zone,band_set_id,band_crossing,"
                             "country_code,national_prefix,international_prefix\n"
                             "PA,=Plan A,EUR,,,start,,,00\n"
                             "PB,\"Plan, B\",EUR,,,start,,,00\n");
    rt_buf_reset(&b);
    cr_assert_eq(rt_book_csv_table(&book, RT_T_TAX_RATES, &b), RT_OK);
    rt_buf_putc(&b, '\0');
    cr_assert_str_eq(b.data, "jurisdiction,tax_category,valid_from,valid_to,rate_percent,"
                             "vat_code,exemption_reason\n"
                             "FR,reduced,,,5.5,S,\n"
                             "FR,std,,2026-07-01,19.6,S,\n"
                             "FR,std,2026-07-01,,20,S,\n");
    rt_buf_free(&b);
    rt_book_free(&book);
}

Test(book_csv, every_problem_at_once_with_file_line_column)
{
    rt_test_write(src, "charges.csv",
                  "plan_id,charge_id,product_id,model,price,price_per\n"
                  "PA,C_VOICE,VOICE,per_unit,0.06,60\n"
                  "PA,C_X,VOICE,per_unit,0.0000000001,60\n"
                  "PA,C_Y,VOICE,Flat,1,60\n"
                  "PA,C Z,VOICE,flat,1,0\n");
    rt_test_write(src, "products.csv",
                  "product_id,name,unit,unit_code,gl_account,tax_category,quantity_decimals\n"
                  "VOICE,Voice,second,SEC,7061,std,0\n"
                  "SMS,SMS,message,C62,7061,std,nine\n");
    size_t n;
    char *p = problems_of(&n);
    cr_assert(strstr(p, "charges.csv:3:5: price: more than 9 decimals\n"), "%s", p);
    cr_assert(strstr(p, "charges.csv:4:4: model: expected one of: per_unit, flat, recurring, "
                        "one_time, tiered, volume, package, percentage\n"),
              "%s", p);
    cr_assert(strstr(p, "charges.csv:5:2: charge_id: identifier may only contain letters, "
                        "digits and ._:+@/-\n"),
              "%s", p);
    cr_assert(strstr(p, "charges.csv:5:6: price_per: value outside [1, 1000000000000]\n"), "%s", p);
    cr_assert(strstr(p, "products.csv:3:7: quantity_decimals: 'nine' is not a number\n"), "%s",
              p);
    cr_assert_eq(n, 5, "%s", p);
    free(p);
}

Test(book_csv, header_problems)
{
    expect("plans.csv", "plan_id,name,currency,colour\nPA,A,EUR,red\nPB,B,EUR,blue\n", 1,
           "plans.csv:1:4: unknown column 'colour'\n");
    expect("plans.csv", "plan_id,name,name,currency\nPA,A,A,EUR\nPB,B,B,EUR\n", 1,
           "plans.csv:1:3: name: column appears twice\n");
    expect("plans.csv", "plan_id,currency\nPA,EUR\nPB,EUR\n", 1,
           "plans.csv:1: name: required column is missing\n");
    expect("plans.csv", "plan_id,\"name\n", 0, "plans.csv:1:2: bad header row: unterminated quote\n");
}

Test(book_csv, missing_and_empty_files)
{
    char path[400];
    snprintf(path, sizeof path, "%s/tax_rates.csv", src);
    cr_assert_eq(remove(path), 0);
    size_t n;
    char *p = problems_of(&n);
    cr_assert_str_eq(p, "tax_rates.csv: file is missing\n");
    free(p);
    expect("accounts.csv", "", 0, "accounts.csv:1: file is empty: a header row is required\n");

    rt_book book;
    rt_status st;
    p = read_dir("/nonexistent/ratel/book", &book, &st, &n);
    cr_assert_eq(st, RT_EINVALID);
    cr_assert_str_eq(p, "/nonexistent/ratel/book: not a directory\n");
    free(p);
    rt_book_free(&book);
}

/* A .csv file that is not one of the book's tables is a problem (a misspelt "discount.csv"
 * would otherwise leave every discount out without a word); other files are not. */
Test(book_csv, a_csv_file_that_is_no_table_is_a_problem)
{
    rt_test_write(src, "README", "notes\n");
    rt_test_write(src, "discount.csv", "discount_id,percent\nD,5\n");
    rt_test_write(src, "old_rates.csv.zst", "x");
    size_t n;
    char *p = problems_of(&n);
    cr_assert_eq(n, 2, "%s", p);
    cr_assert(strstr(p, "discount.csv: not a price book file"), "%s", p);
    cr_assert(strstr(p, "old_rates.csv.zst: not a price book file"), "%s", p);
    cr_assert(strstr(p, "discount.csv") < strstr(p, "old_rates.csv.zst"), "in name order");
    free(p);
}

Test(book_csv, rows_with_the_wrong_field_count_or_malformed)
{
    expect("plans.csv", "plan_id,name,currency\nPB,Plan B,EUR\nPA,Plan A\nPC,C,EUR,extra\n", 2,
           "plans.csv:3: row has 2 fields, the header has 3\n");
    expect("plans.csv", "plan_id,name,currency\nPB,Plan B,EUR\nPA,Plan A\nPC,C,EUR,extra\n", 2,
           "plans.csv:4: row has 4 fields, the header has 3\n");
    expect("plans.csv", "plan_id,name,currency\nPB,Plan B,EUR\nPA,Plan \"A\",EUR\n", 0,
           "plans.csv:3:2: malformed CSV: quote inside an unquoted field\n");
}

Test(book_csv, exactly_one_company_row)
{
    expect("company.csv", "name,country,functional_currency,invoice_prefix,credit_note_prefix,"
                          "sales_journal_code,sales_journal_label\n",
           1, "company.csv: must hold exactly one row, found 0\n");
}

Test(book_csv, line_numbers_follow_physical_lines)
{
    /* A BOM, CRLF, blank lines and a quoted field spanning lines all count. */
    expect("plans.csv", "\xEF\xBB\xBFplan_id,name,currency\r\n\r\nPB,\"Plan\r\nB\",EUR\r\n"
                        "\r\nPA,Plan A,XXX\r\n",
           0, "plans.csv:6:3: currency: 'XXX' is not an ISO 4217 currency code\n");
    expect("plans.csv", "\xEF\xBB\xBFplan_id,name,currency\r\n\r\nPB,\"Plan\r\nB\",EUR\r\n"
                        "\r\nPA,Plan A,XXX\r\n",
           0, "plans.csv:3:2: name: control character in text\n");
}

Test(book_csv, bom_crlf_and_quoted_source_files_read_cleanly)
{
    rt_test_write(src, "plans.csv", "\xEF\xBB\xBFplan_id,name,currency\r\nPB,\"Plan, \"\"B\"\"\",EUR\r\n"
                                    "\r\nPA,Plan A,EUR\r\n");
    rt_book book;
    rt_status st;
    size_t n;
    char *p = read_dir(src, &book, &st, &n);
    cr_assert_eq(st, RT_OK, "%s", p);
    free(p);
    const rt_plan *pl = RT_BOOK_ROWS(&book, RT_T_PLANS, rt_plan);
    cr_assert_str_eq(pl[1].name, "Plan, \"B\"");
    cr_assert_eq(book.tables[RT_T_PLANS].lines[0], 4);
    rt_book_free(&book);
}

Test(book_csv, a_compressed_source_file)
{
    cr_assert_eq(rt_test_sh("zstd -q --rm '%s/charges.csv' -o '%s/charges.zst' && "
                            "mv '%s/charges.zst' '%s/charges.csv'",
                            src, src, src, src),
                 0);
    rt_book book;
    rt_status st;
    size_t n;
    char *p = read_dir(src, &book, &st, &n);
    cr_assert_eq(st, RT_OK, "%s", p);
    cr_assert_eq(RT_BOOK_COUNT(&book, RT_T_CHARGES), 9);
    free(p);
    rt_book_free(&book);
}

Test(book_csv, write_errors)
{
    rt_book book;
    rt_status st;
    size_t n;
    free(read_dir(src, &book, &st, &n));
    rt_error err;
    cr_assert_eq(rt_book_csv_write("/nonexistent/ratel/out", &book, &err), RT_EIO);
    cr_assert_str_eq(err.file, "/nonexistent/ratel/out");
    rt_book_free(&book);
}

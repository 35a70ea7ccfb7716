/* cmd_book: `ratel book import|export|show`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/book.h"
#include "engine/catalog.h"
#include "engine/pricebook.h"
#include "formats/book_csv.h"
#include "tools/cli.h"

static const char book_usage[] =
    "usage:\n"
    "  ratel book import SRC_DIR --book BOOK_DIR   validate a CSV source and replace the book\n"
    "  ratel book export --book BOOK_DIR OUT_DIR   write the book back as a CSV source\n"
    "  ratel book show --book BOOK_DIR [--account ID | --plan ID | --product ID]\n";

static int cmd_import(int argc, char **argv)
{
    const char *src = NULL, *book_dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--book") == 0 && i + 1 < argc)
            book_dir = argv[++i];
        else if (argv[i][0] != '-' && !src)
            src = argv[i];
        else
            return rt_cli_usage_error("book import", "unexpected argument '%s'", argv[i]);
    }
    if (!src || !book_dir)
        return rt_cli_usage_error("book import", "needs SRC_DIR and --book BOOK_DIR");
    rt_book book;
    rt_diags diags;
    rt_book_init(&book);
    rt_diags_init(&diags);
    int rc = RT_EXIT_OK;
    rt_status st = rt_book_csv_read(src, &book, &diags);
    if (st == RT_OK || st == RT_EINVALID) {
        rt_status vs = rt_book_validate(&book, &diags);
        if (vs != RT_OK && vs != RT_EINVALID) st = vs;
    }
    if (rt_diags_total(&diags) > 0) {
        rt_cli_diags(&diags);
        fprintf(stderr, "ratel: %zu problem(s) in %s; the book was not changed\n",
                rt_diags_total(&diags), src);
        rc = RT_EXIT_INVALID;
        goto done;
    }
    if (st != RT_OK) {
        fprintf(stderr, "ratel: %s\n", rt_status_str(st));
        rc = RT_EXIT_FAILED;
        goto done;
    }
    rt_store *store = NULL;
    rt_error err;
    rt_pricebook_info info;
    if ((st = rt_store_open(book_dir, true, &store, &err)) == RT_OK)
        st = rt_pricebook_import(store, &book, &info, &err);
    rt_store_close(store);
    if (st != RT_OK) {
        rt_cli_error(&err);
        rc = RT_EXIT_FAILED;
        goto done;
    }
    printf("imported %s into %s: %" PRIu64 " rows, version %" PRIu64 ", fingerprint %016" PRIx64 "\n",
           src, book_dir, info.rows, info.version, info.fingerprint);
done:
    rt_diags_free(&diags);
    rt_book_free(&book);
    return rc;
}

static int load(const char *book_dir, rt_book *book, rt_pricebook_info *info)
{
    rt_store *store;
    rt_error err;
    rt_status st = rt_store_open(book_dir, false, &store, &err);
    if (st == RT_OK) {
        st = rt_pricebook_load(store, book, info, &err);
        rt_store_close(store);
    }
    if (st != RT_OK) rt_cli_error(&err);
    return st == RT_OK;
}

static int cmd_export(int argc, char **argv)
{
    const char *out = NULL, *book_dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--book") == 0 && i + 1 < argc)
            book_dir = argv[++i];
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            return rt_cli_usage_error("book export", "unexpected argument '%s'", argv[i]);
    }
    if (!out || !book_dir) return rt_cli_usage_error("book export", "needs --book BOOK_DIR and OUT_DIR");
    rt_book book;
    rt_pricebook_info info;
    rt_book_init(&book);
    int rc = RT_EXIT_FAILED;
    if (load(book_dir, &book, &info)) {
        rt_error err;
        if (rt_book_csv_write(out, &book, &err) == RT_OK) {
            printf("exported %s (version %" PRIu64 ") to %s\n", book_dir, info.version, out);
            rc = RT_EXIT_OK;
        } else {
            rt_cli_error(&err);
        }
    }
    rt_book_free(&book);
    return rc;
}

/* Print one row as "column: value" lines. */
static void show_row(const rt_table *t, const void *row, const char *indent)
{
    char cell[RT_FIELD_TEXT_MAX];
    for (size_t k = 0; k < t->field_count; k++) {
        rt_book_field_format(&t->fields[k], row, cell, sizeof cell);
        if (cell[0]) printf("%s%-20s %s\n", indent, t->fields[k].name, cell);
    }
}

static void show_plan_charges(const rt_catalog *cat, const char *plan_id, const char *indent)
{
    const rt_table *t = rt_book_table(RT_T_CHARGES);
    for (size_t i = 0; i < cat->charge_count; i++) {
        if (strcmp(cat->charges[i].plan_id, plan_id) != 0) continue;
        printf("%scharge %s\n", indent, cat->charges[i].charge_id);
        char deeper[32];
        snprintf(deeper, sizeof deeper, "%s  ", indent);
        show_row(t, &cat->charges[i], deeper);
    }
}

static int show(const rt_catalog *cat, const char *what, const char *id)
{
    size_t len = strlen(id);
    if (strcmp(what, "--account") == 0) {
        uint32_t a = rt_catalog_account(cat, id, len);
        if (a == RT_NO_INDEX) return fprintf(stderr, "ratel: no account '%s'\n", id), RT_EXIT_FAILED;
        printf("account %s\n", id);
        show_row(rt_book_table(RT_T_ACCOUNTS), &cat->accounts[a], "  ");
        rt_range32 r = cat->account_plan_ranges[a];
        for (uint32_t i = r.first; i < r.first + r.count; i++) {
            const rt_account_plan *ap = &cat->account_plans[i];
            char from[32], to[32];
            rt_instant_or_date_format(ap->valid_from, from, sizeof from);
            rt_instant_or_date_format(ap->valid_to, to, sizeof to);
            printf("  plan %s  [%s, %s)\n", ap->plan_id, ap->valid_from == RT_TIME_OPEN_START ? "" : from, to);
            show_plan_charges(cat, ap->plan_id, "    ");
        }
        return RT_EXIT_OK;
    }
    if (strcmp(what, "--plan") == 0) {
        uint32_t p = rt_catalog_plan(cat, id, len);
        if (p == RT_NO_INDEX) return fprintf(stderr, "ratel: no plan '%s'\n", id), RT_EXIT_FAILED;
        printf("plan %s\n", id);
        show_row(rt_book_table(RT_T_PLANS), &cat->plans[p], "  ");
        show_plan_charges(cat, id, "  ");
        return RT_EXIT_OK;
    }
    uint32_t pk = rt_catalog_product_key(cat, id, len);
    if (pk == RT_NO_INDEX) return fprintf(stderr, "ratel: no product '%s'\n", id), RT_EXIT_FAILED;
    rt_range32 r = cat->product_keys[pk];
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        printf("product %s (version %u of %u)\n", id, i - r.first + 1, r.count);
        show_row(rt_book_table(RT_T_PRODUCTS), &cat->products[i], "  ");
    }
    return RT_EXIT_OK;
}

static int cmd_show(int argc, char **argv)
{
    const char *book_dir = NULL, *what = NULL, *id = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--book") == 0 && i + 1 < argc) {
            book_dir = argv[++i];
        } else if ((strcmp(argv[i], "--account") == 0 || strcmp(argv[i], "--plan") == 0 ||
                    strcmp(argv[i], "--product") == 0) && i + 1 < argc && !what) {
            what = argv[i];
            id = argv[++i];
        } else {
            return rt_cli_usage_error("book show", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!book_dir) return rt_cli_usage_error("book show", "needs --book BOOK_DIR");
    rt_book book;
    rt_pricebook_info info;
    rt_book_init(&book);
    int rc = RT_EXIT_FAILED;
    if (!load(book_dir, &book, &info)) goto done;
    if (!what) {
        printf("price book %s: version %" PRIu64 ", fingerprint %016" PRIx64 ", %" PRIu64 " rows\n",
               book_dir, info.version, info.fingerprint, info.rows);
        for (unsigned t = 0; t < RT_T_COUNT_; t++)
            printf("  %-16s %zu\n", rt_book_table((rt_table_id)t)->name, book.tables[t].count);
        rc = RT_EXIT_OK;
        goto done;
    }
    rt_catalog cat;
    rt_error err;
    if (rt_catalog_build(&book, &cat, &err) != RT_OK) {
        rt_cli_error(&err);
        goto done;
    }
    rc = show(&cat, what, id);
    rt_catalog_free(&cat);
done:
    rt_book_free(&book);
    return rc;
}

int rt_cmd_book(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(book_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? RT_EXIT_USAGE : RT_EXIT_OK;
    }
    if (strcmp(argv[1], "import") == 0) return cmd_import(argc - 2, argv + 2);
    if (strcmp(argv[1], "export") == 0) return cmd_export(argc - 2, argv + 2);
    if (strcmp(argv[1], "show") == 0) return cmd_show(argc - 2, argv + 2);
    return rt_cli_usage_error("book", "unknown subcommand '%s'", argv[1]);
}

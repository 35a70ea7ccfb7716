/* cmd_book: `ratel book import|export|show`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/book.h"
#include "engine/catalog.h"
#include "engine/pricebook.h"
#include "engine/rating.h"
#include "formats/book_cgrates.h"
#include "formats/book_csv.h"
#include "tools/cli.h"

static const char book_usage[] =
    "usage:\n"
    "  ratel book import SRC_DIR --book BOOK_DIR   validate a CSV source and replace the book\n"
    "  ratel book export --book BOOK_DIR OUT_DIR [--canonical]\n"
    "                                              write back the source the book was imported\n"
    "                                              from, byte for byte (--canonical: the book\n"
    "                                              as a canonical source, every column, rows\n"
    "                                              in key order)\n"
    "  ratel book import-cgrates TP_DIR --book BOOK_DIR [--currency CUR] [--time-zone TZ]\n"
    "        [--tenant TENANT] [--product CATEGORY=PRODUCT]...\n"
    "                                              merge a CGRateS tariff plan into the book\n"
    "  ratel book show --book BOOK_DIR [--account ID | --plan ID | --product ID]\n"
    "  ratel book show --book BOOK_DIR (--account ID | --plan ID) --number E164 --at TIME\n"
    "                                  the zone, time band and rate a call would get\n";

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
    rt_book_source source;
    rt_book_init(&book);
    rt_diags_init(&diags);
    rt_book_source_init(&source);
    int rc = RT_EXIT_OK;
    rt_status st = rt_book_csv_read_kept(src, &book, &diags, &source);
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
        st = rt_pricebook_import(store, &book, &source, &info, &err);
    rt_store_close(store);
    if (st != RT_OK) {
        rt_cli_error(&err);
        rc = RT_EXIT_FAILED;
        goto done;
    }
    printf("imported %s into %s: %" PRIu64 " rows, version %" PRIu64 ", fingerprint %016" PRIx64 "\n",
           src, book_dir, info.rows, info.version, info.fingerprint);
done:
    rt_book_source_free(&source);
    rt_diags_free(&diags);
    rt_book_free(&book);
    return rc;
}

static int load(const char *book_dir, rt_book *book, rt_pricebook_info *info);

/* Print every problem and say that nothing changed. */
static int report_invalid(const rt_diags *diags, const char *src)
{
    rt_cli_diags(diags);
    fprintf(stderr, "ratel: %zu problem(s) in %s; the book was not changed\n",
            rt_diags_total(diags), src);
    return RT_EXIT_INVALID;
}

static int parse_cgrates_options(int argc, char **argv, const char **tp_dir,
                                 const char **book_dir, rt_cgrates_options *opt)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--book") == 0 && has_value) {
            *book_dir = argv[++i];
        } else if (strcmp(a, "--currency") == 0 && has_value) {
            opt->currency = argv[++i];
        } else if (strcmp(a, "--time-zone") == 0 && has_value) {
            opt->time_zone = argv[++i];
        } else if (strcmp(a, "--tenant") == 0 && has_value) {
            opt->tenant = argv[++i];
        } else if (strcmp(a, "--product") == 0 && has_value) {
            char *map = argv[++i], *eq = strchr(map, '=');
            if (!eq || eq == map || !eq[1] || opt->category_count == RT_CGRATES_CATEGORIES_MAX)
                return rt_cli_usage_error("book import-cgrates",
                                          "--product takes CATEGORY=PRODUCT, not '%s'", map);
            *eq = '\0';
            opt->category[opt->category_count] = map;
            opt->product[opt->category_count++] = eq + 1;
        } else if (a[0] != '-' && !*tp_dir) {
            *tp_dir = a;
        } else {
            return rt_cli_usage_error("book import-cgrates", "unexpected argument '%s'", a);
        }
    }
    if (!*tp_dir || !*book_dir)
        return rt_cli_usage_error("book import-cgrates", "needs TP_DIR and --book BOOK_DIR");
    return RT_EXIT_OK;
}

/* Merge a CGRateS tariff plan into the stored book: load, map, validate, import as one. */
static int cmd_import_cgrates(int argc, char **argv)
{
    const char *tp_dir = NULL, *book_dir = NULL;
    rt_cgrates_options opt;
    memset(&opt, 0, sizeof opt);
    int rc = parse_cgrates_options(argc, argv, &tp_dir, &book_dir, &opt);
    if (rc != RT_EXIT_OK) return rc;
    rt_book book;
    rt_pricebook_info info;
    rt_diags diags;
    rt_book_init(&book);
    rt_diags_init(&diags);
    rc = RT_EXIT_FAILED;
    if (!load(book_dir, &book, &info)) goto done;
    rt_status st = rt_book_cgrates_read(tp_dir, &opt, &book, &diags);
    if (st == RT_OK || st == RT_EINVALID) st = rt_book_sort(&book);
    if (st == RT_OK && rt_diags_total(&diags) == 0) st = rt_book_validate(&book, &diags);
    if (rt_diags_total(&diags) > 0) {
        rc = report_invalid(&diags, tp_dir);
        goto done;
    }
    if (st != RT_OK) {
        fprintf(stderr, "ratel: %s\n", rt_status_str(st));
        goto done;
    }
    rt_store *store = NULL;
    rt_error err;
    if ((st = rt_store_open(book_dir, true, &store, &err)) == RT_OK)
        st = rt_pricebook_import(store, &book, NULL, &info, &err);
    rt_store_close(store);
    if (st != RT_OK) {
        rt_cli_error(&err);
        goto done;
    }
    printf("imported CGRateS tariff plan %s into %s: %" PRIu64 " rows, version %" PRIu64
           ", fingerprint %016" PRIx64 "\n",
           tp_dir, book_dir, info.rows, info.version, info.fingerprint);
    rc = RT_EXIT_OK;
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

/* The source the book keeps, written back as it was imported. RT_ENOTFOUND (nothing written)
 * when the book keeps none. */
static rt_status export_source(const char *book_dir, const char *out, size_t *files,
                               uint64_t *version, rt_error *err)
{
    rt_store *store;
    rt_status st = rt_store_open(book_dir, false, &store, err);
    if (st != RT_OK) return st;
    rt_book_source source;
    rt_book_source_init(&source);
    st = rt_pricebook_source(store, &source, version, err);
    rt_store_close(store);
    if (st == RT_OK) st = rt_book_csv_write_source(out, &source, err);
    *files = source.count;
    rt_book_source_free(&source);
    return st;
}

static int cmd_export(int argc, char **argv)
{
    const char *out = NULL, *book_dir = NULL;
    bool canonical = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--book") == 0 && i + 1 < argc)
            book_dir = argv[++i];
        else if (strcmp(argv[i], "--canonical") == 0)
            canonical = true;
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            return rt_cli_usage_error("book export", "unexpected argument '%s'", argv[i]);
    }
    if (!out || !book_dir) return rt_cli_usage_error("book export", "needs --book BOOK_DIR and OUT_DIR");
    /* The kept source needs no loading of the book; the canonical source (asked for, or when
     * the book keeps none, or when there is no book: load says so) is written from it. */
    rt_error err;
    size_t files = 0;
    uint64_t version = 0;
    rt_status st = canonical ? RT_ENOTFOUND : export_source(book_dir, out, &files, &version, &err);
    if (st == RT_OK) {
        printf("exported %s (version %" PRIu64 ") to %s: the %zu source files it was imported "
               "from\n",
               book_dir, version, out, files);
        return RT_EXIT_OK;
    }
    if (st != RT_ENOTFOUND) {
        rt_cli_error(&err);
        return RT_EXIT_FAILED;
    }
    rt_book book;
    rt_pricebook_info info;
    rt_book_init(&book);
    int rc = RT_EXIT_FAILED;
    if (load(book_dir, &book, &info)) {
        if (rt_book_csv_write(out, &book, &err) == RT_OK) {
            printf("exported %s (version %" PRIu64 ") to %s: canonical%s\n", book_dir,
                   info.version, out, canonical ? "" : " (the book keeps no source)");
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

/* One line per row: "tier 1: up_to 100, price 0.30, ..." (empty cells left out). */
static void show_compact(const rt_table *t, const void *row, const char *indent, const char *what,
                         size_t skip)
{
    char cell[RT_FIELD_TEXT_MAX];
    printf("%s%s:", indent, what);
    const char *sep = " ";
    for (size_t k = skip; k < t->field_count; k++) {
        rt_book_field_format(&t->fields[k], row, cell, sizeof cell);
        if (!cell[0]) continue;
        printf("%s%s %s", sep, t->fields[k].name, cell);
        sep = ", ";
    }
    printf("\n");
}

/* A plan's charges (with their tiers and the number of their rates) and its allowances. */
static void show_plan_charges(const rt_catalog *cat, const char *plan_id, const char *indent)
{
    const rt_table *t = rt_book_table(RT_T_CHARGES);
    char deeper[32];
    snprintf(deeper, sizeof deeper, "%s  ", indent);
    uint32_t plan = rt_catalog_plan(cat, plan_id, strlen(plan_id));
    rt_range32 r = cat->plan_charges[plan];
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        printf("%scharge %s\n", indent, cat->charges[i].charge_id);
        show_row(t, &cat->charges[i], deeper);
        rt_range32 tr = cat->charge_tiers[i];
        for (uint32_t k = tr.first; k < tr.first + tr.count; k++)
            show_compact(rt_book_table(RT_T_TIERS), &cat->tiers[k], deeper, "tier", 3);
        size_t rates = 0;
        for (size_t k = 0; k < cat->rate_count; k++)
            rates += strcmp(cat->rates[k].plan_id, plan_id) == 0 &&
                     strcmp(cat->rates[k].charge_id, cat->charges[i].charge_id) == 0;
        if (rates && (i + 1 == r.first + r.count ||
                      strcmp(cat->charges[i + 1].charge_id, cat->charges[i].charge_id) != 0))
            printf("%s%zu rates (rates.csv; see --number for one call)\n", deeper, rates);
    }
    rt_range32 ar = cat->plan_allowances[plan];
    for (uint32_t k = ar.first; k < ar.first + ar.count; k++)
        show_compact(rt_book_table(RT_T_ALLOWANCES), &cat->allowances[k], indent, "allowance", 1);
}

/* ---- --number: the zone, band and rate of a call ---- */

static void print_money(const char *label, int64_t nanos)
{
    char b[48];
    rt_decimal_format(nanos, RT_NANOS_SCALE, -1, 2, '.', b, sizeof b);
    printf("%s%s", label, b);
}

static void show_quote_rates(const rt_catalog *cat, uint32_t charge, const rt_number_quote *q)
{
    const rt_charge *ch = &cat->charges[charge];
    if (q->rate_group == RT_NO_INDEX) {
        print_money("    price ", ch->price_nanos);
        printf(" per %lld, increments %lld/%lld", (long long)ch->price_per,
               (long long)ch->first_increment, (long long)ch->next_increment);
        print_money(", setup fee ", ch->setup_fee_nanos);
        printf(" (the charge's own price)\n");
        return;
    }
    const rt_rate *g = rt_catalog_rate_first(cat, q->rate_group);
    printf("    rate for zone %s, band %s:\n", g->zone_id[0] ? g->zone_id : "(any)",
           g->band_id[0] ? g->band_id : "(any)");
    for (size_t i = 0; i < q->row_count; i++) {
        const rt_rate *r = &cat->rates[q->rows[i]];
        int64_t per = r->price_per != RT_UNSET ? r->price_per : ch->price_per;
        int64_t first = r->first_increment != RT_UNSET ? r->first_increment : ch->first_increment;
        int64_t next = r->next_increment != RT_UNSET ? r->next_increment : ch->next_increment;
        printf("      from %lld:", (long long)r->interval_start);
        print_money(" ", r->price_nanos);
        printf(" per %lld, increments %lld/%lld", (long long)per, (long long)first,
               (long long)next);
        if (i == 0)
            print_money(", setup fee ",
                        r->setup_fee_nanos != RT_UNSET ? r->setup_fee_nanos : ch->setup_fee_nanos);
        printf("\n");
    }
}

static int show_number_charge(const rt_catalog *cat, uint32_t charge, const char *number,
                              rt_time_s t)
{
    const rt_charge *ch = &cat->charges[charge];
    rt_number_quote q;
    rt_reject_reason why = rt_quote_number(cat, charge, number, strlen(number), t, &q);
    printf("  charge %s (product %s)", ch->charge_id, ch->product_id);
    if (ch->deck_id[0]) printf(", deck %s", ch->deck_id);
    printf("\n");
    if (q.e164[0]) printf("    number %s -> E.164 %s\n", number, q.e164);
    if (q.zone != RT_NO_INDEX)
        printf("    prefix %.*s -> zone %s (%s)\n", (int)q.prefix_len, q.e164,
               cat->zones[q.zone].zone_id, cat->zones[q.zone].name);
    if (why != RT_REJ_NONE) {
        printf("    not rated: %s\n", rt_reject_reason_code(why));
        return 0;
    }
    show_quote_rates(cat, charge, &q);
    return 1;
}

static void show_plan_time(const rt_catalog *cat, uint32_t plan, rt_time_s t)
{
    const rt_plan *p = &cat->plans[plan];
    int32_t off = rt_catalog_plan_offset_s(cat, plan, t);
    rt_time_s until;
    uint32_t band = rt_catalog_band_at(cat, plan, t, &until);
    char local[32], end[32];
    rt_time_format(t + off, local, sizeof local);
    local[19] = '\0'; /* drop the Z: this is local time */
    printf("plan %s: time zone %s, local time %s (UTC%+03d:%02d)", p->plan_id,
           p->time_zone[0] ? p->time_zone : "UTC", local, off / 3600, (off < 0 ? -off : off) / 60 % 60);
    if (band != RT_BAND_NONE) {
        rt_time_format(until, end, sizeof end);
        printf(", band %s until %s", cat->band_names[band], until == RT_TIME_OPEN_END ? "-" : end);
    }
    printf("\n");
}

/* Every charge with a deck (or every charge of --product) of the plan in force at t. */
static int show_number_plan(const rt_catalog *cat, uint32_t plan, const char *number, rt_time_s t,
                            const char *product)
{
    show_plan_time(cat, plan, t);
    int shown = 0;
    rt_range32 r = cat->plan_charges[plan];
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        const rt_charge *ch = &cat->charges[i];
        if (t < ch->valid_from || t >= ch->valid_to) continue;
        if (product ? strcmp(ch->product_id, product) != 0 : !ch->deck_id[0]) continue;
        show_number_charge(cat, i, number, t);
        shown++;
    }
    if (!shown) printf("  no charge of this plan is priced by destination at that time\n");
    return shown;
}

static int show_number(const rt_catalog *cat, const char *what, const char *id, const char *number,
                       const char *at, const char *product)
{
    rt_time_s t;
    if (rt_time_parse(at, strlen(at), &t) != RT_OK)
        return rt_cli_usage_error("book show", "--at '%s' is not an ISO 8601 instant", at);
    char when[32];
    rt_time_format(t, when, sizeof when);
    printf("number %s at %s\n", number, when);
    if (strcmp(what, "--plan") == 0) {
        uint32_t p = rt_catalog_plan(cat, id, strlen(id));
        if (p == RT_NO_INDEX) return fprintf(stderr, "ratel: no plan '%s'\n", id), RT_EXIT_FAILED;
        show_number_plan(cat, p, number, t, product);
        return RT_EXIT_OK;
    }
    uint32_t a = rt_catalog_account(cat, id, strlen(id));
    if (a == RT_NO_INDEX) return fprintf(stderr, "ratel: no account '%s'\n", id), RT_EXIT_FAILED;
    rt_range32 r = cat->account_plan_ranges[a];
    int plans = 0;
    for (uint32_t i = r.first; i < r.first + r.count; i++) {
        const rt_account_plan *ap = &cat->account_plans[i];
        if (t < ap->valid_from || t >= ap->valid_to) continue;
        show_number_plan(cat, cat->account_plan_plan[i], number, t, product);
        plans++;
    }
    if (!plans) printf("account %s has no plan in force at that time\n", id);
    return RT_EXIT_OK;
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
        rt_range32 dr = cat->account_discounts[a];
        for (uint32_t i = dr.first; i < dr.first + dr.count; i++)
            show_compact(rt_book_table(RT_T_DISCOUNTS), &cat->discounts[cat->discount_rows[i]],
                         "  ", "discount", 0);
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
    const char *book_dir = NULL, *what = NULL, *id = NULL, *number = NULL, *at = NULL,
               *product = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--book") == 0 && i + 1 < argc) {
            book_dir = argv[++i];
        } else if (strcmp(argv[i], "--number") == 0 && i + 1 < argc) {
            number = argv[++i];
        } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            at = argv[++i];
        } else if (strcmp(argv[i], "--product") == 0 && i + 1 < argc && what) {
            product = argv[++i];
        } else if ((strcmp(argv[i], "--account") == 0 || strcmp(argv[i], "--plan") == 0 ||
                    strcmp(argv[i], "--product") == 0) && i + 1 < argc && !what) {
            what = argv[i];
            id = argv[++i];
        } else {
            return rt_cli_usage_error("book show", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!book_dir) return rt_cli_usage_error("book show", "needs --book BOOK_DIR");
    if (number && (!at || !what || strcmp(what, "--product") == 0))
        return rt_cli_usage_error("book show", "--number needs --at TIME and --account or --plan");
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
        uint64_t files = 0, bytes = 0;
        rt_store *store;
        rt_error err;
        rt_status st = rt_store_open(book_dir, false, &store, &err);
        if (st == RT_OK) {
            st = rt_pricebook_source_info(store, &files, &bytes, &err);
            rt_store_close(store);
        }
        if (st != RT_OK)
            printf("  source: unreadable (%s; book export --canonical writes the book)\n",
                   err.message);
        else if (files)
            printf("  source: %" PRIu64 " files, %" PRIu64 " bytes, kept as imported (book export "
                   "gives them back)\n",
                   files, bytes);
        else
            printf("  source: none kept (book export writes the canonical source)\n");
        rc = RT_EXIT_OK;
        goto done;
    }
    rt_catalog cat;
    rt_error err;
    if (rt_catalog_build(&book, &cat, &err) != RT_OK) {
        rt_cli_error(&err);
        goto done;
    }
    rc = number ? show_number(&cat, what, id, number, at, product) : show(&cat, what, id);
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
    if (strcmp(argv[1], "import-cgrates") == 0) return cmd_import_cgrates(argc - 2, argv + 2);
    if (strcmp(argv[1], "show") == 0) return cmd_show(argc - 2, argv + 2);
    return rt_cli_usage_error("book", "unknown subcommand '%s'", argv[1]);
}

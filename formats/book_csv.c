/* book_csv: price book source directory reader and writer. */
#include "formats/book_csv.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/csv.h"
#include "formats/zio.h"

static bool field_optional_column(const rt_field *f)
{
    /* A column may be left out of the file when an empty cell would be accepted. */
    return !(f->flags & RT_FIELD_REQUIRED);
}

static rt_status read_table(const char *dir, const rt_table *t, rt_book *book, rt_diags *diags,
                            rt_book_source *source)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, t->file);
    rt_buf text, raw;
    rt_buf_init(&text);
    rt_buf_init(&raw);
    rt_error err;
    rt_status st = rt_zio_slurp_raw(path, &text, source ? &raw : NULL, &err);
    if (st == RT_OK && source && rt_book_source_add(source, t->file, &raw) != RT_OK)
        st = rt_error_set(&err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    rt_buf_free(&raw);
    if (st == RT_ENOTFOUND) {
        if (!t->optional) rt_diags_add(diags, t->file, 0, 0, NULL, "file is missing");
        rt_buf_free(&text);
        return RT_OK;
    }
    if (st != RT_OK) {
        rt_diags_add(diags, t->file, 0, 0, NULL, "%s", err.message);
        rt_buf_free(&text);
        return st == RT_ENOMEM ? st : RT_OK;
    }
    rt_arena scratch;
    rt_arena_init(&scratch, 64 * 1024);
    const char *p = text.data ? text.data : "", *end = p + text.len;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    rt_csv_record rec;
    const char *why;
    uint32_t col;
    uint64_t line = 1;
    int map[RT_CSV_FIELDS_MAX]; /* CSV column -> schema field index, -1 unknown */
    size_t ncols = 0;
    st = RT_OK;

    if (p >= end) {
        rt_diags_add(diags, t->file, 1, 0, NULL, "file is empty: a header row is required");
        goto done;
    }
    if (rt_csv_parse(&p, end, &scratch, &rec, &why, &col) != RT_OK) {
        rt_diags_add(diags, t->file, 1, col, NULL, "bad header row: %s", why);
        goto done;
    }
    line += rec.newlines;
    ncols = rec.count;
    bool seen[RT_TABLE_FIELDS_MAX] = {false};
    for (size_t c = 0; c < ncols; c++) {
        map[c] = -1;
        for (size_t k = 0; k < t->field_count; k++) {
            const char *name = t->fields[k].name;
            if (strlen(name) == rec.fields[c].len && memcmp(name, rec.fields[c].ptr, rec.fields[c].len) == 0) {
                if (seen[k])
                    rt_diags_add(diags, t->file, 1, (uint32_t)c + 1, name, "column appears twice");
                seen[k] = true;
                map[c] = (int)k;
                book->tables[t->id].columns[k] = (uint16_t)(c + 1);
            }
        }
        if (map[c] < 0)
            rt_diags_add(diags, t->file, 1, (uint32_t)c + 1, NULL, "unknown column '%.*s'",
                         (int)rec.fields[c].len, rec.fields[c].ptr);
    }
    for (size_t k = 0; k < t->field_count; k++)
        if (!seen[k] && !field_optional_column(&t->fields[k]))
            rt_diags_add(diags, t->file, 1, 0, t->fields[k].name, "required column is missing");

    while (p < end) {
        uint64_t at = line;
        rt_status ps = rt_csv_parse(&p, end, &scratch, &rec, &why, &col);
        line += rec.newlines;
        if (ps == RT_ENOMEM) {
            st = ps;
            goto done;
        }
        if (ps != RT_OK) {
            rt_diags_add(diags, t->file, at, col, NULL, "malformed CSV: %s", why);
            continue;
        }
        if (rt_csv_blank(&rec)) continue;
        if (rec.count != ncols) {
            rt_diags_add(diags, t->file, at, 0, NULL, "row has %zu fields, the header has %zu",
                         rec.count, ncols);
            continue;
        }
        void *row;
        if ((st = rt_book_append(book, t->id, (uint32_t)at, &row)) != RT_OK) goto done;
        bool set[RT_TABLE_FIELDS_MAX] = {false};
        for (size_t c = 0; c < ncols; c++) {
            if (map[c] < 0) continue;
            const rt_field *f = &t->fields[map[c]];
            char reason[160];
            rt_status fs = rt_book_field_parse(book, f, row, rec.fields[c].ptr, rec.fields[c].len,
                                               reason, sizeof reason);
            if (fs == RT_ENOMEM) {
                st = fs;
                goto done;
            }
            if (fs != RT_OK) rt_diags_add(diags, t->file, at, (uint32_t)c + 1, f->name, "%s", reason);
            set[map[c]] = true;
        }
        for (size_t k = 0; k < t->field_count; k++) {
            if (set[k]) continue;
            char reason[160];
            /* Column absent from the file: the field's default (reported if required). */
            if (rt_book_field_parse(book, &t->fields[k], row, "", 0, reason, sizeof reason) == RT_ENOMEM) {
                st = RT_ENOMEM;
                goto done;
            }
        }
    }
    if (t->single_row && book->tables[t->id].count != 1)
        rt_diags_add(diags, t->file, 0, 0, NULL, "must hold exactly one row, found %zu",
                     book->tables[t->id].count);
done:
    rt_arena_free(&scratch);
    rt_buf_free(&text);
    return st;
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A .csv (or .csv.zst) file of dir that is not one of the book's tables is a problem: most
 * likely a misspelt name ("discount.csv"), whose rows would otherwise be left out without a
 * word. Reported in name order; other files (a README) are not the book's business. */
static rt_status unknown_files(const char *dir, rt_diags *diags)
{
    DIR *d = opendir(dir);
    if (!d) return RT_OK; /* read_table has reported what cannot be read */
    char **names = NULL;
    size_t n = 0, cap = 0;
    rt_status st = RT_OK;
    const struct dirent *e;
    while (st == RT_OK && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        bool csv = (len > 4 && strcmp(e->d_name + len - 4, ".csv") == 0) ||
                   (len > 8 && strcmp(e->d_name + len - 8, ".csv.zst") == 0);
        bool known = false;
        for (unsigned i = 0; csv && !known && i < RT_T_COUNT_; i++)
            known = strcmp(e->d_name, rt_book_table((rt_table_id)i)->file) == 0;
        if (!csv || known) continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 8;
            char **m = realloc(names, c * sizeof *m);
            if (!m) {
                st = RT_ENOMEM;
                break;
            }
            names = m;
            cap = c;
        }
        if (!(names[n] = strdup(e->d_name))) st = RT_ENOMEM;
        else n++;
    }
    closedir(d);
    if (n > 1) qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (st == RT_OK)
            rt_diags_add(diags, names[i], 0, 0, NULL,
                         "not a price book file (the book's are named as in formats/README.md, "
                         "e.g. discounts.csv, fx_rates.csv): a misspelt name?");
        free(names[i]);
    }
    free(names);
    return st;
}

rt_status rt_book_csv_read(const char *dir, rt_book *book, rt_diags *diags)
{
    return rt_book_csv_read_kept(dir, book, diags, NULL);
}

rt_status rt_book_csv_read_kept(const char *dir, rt_book *book, rt_diags *diags,
                                rt_book_source *source)
{
    size_t before = rt_diags_total(diags);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        rt_diags_add(diags, dir, 0, 0, NULL, "not a directory");
        return RT_EINVALID;
    }
    for (unsigned i = 0; i < RT_T_COUNT_; i++) {
        rt_status st = read_table(dir, rt_book_table((rt_table_id)i), book, diags, source);
        if (st != RT_OK) return st;
    }
    rt_status st = unknown_files(dir, diags);
    if (st != RT_OK) return st;
    st = rt_book_sort(book);
    if (st != RT_OK) return st;
    return rt_diags_total(diags) > before ? RT_EINVALID : RT_OK;
}

rt_status rt_book_csv_table(const rt_book *book, rt_table_id id, rt_buf *b)
{
    const rt_table *t = rt_book_table(id);
    for (size_t k = 0; k < t->field_count; k++) {
        if (k) rt_csv_sep(b);
        rt_buf_puts(b, t->fields[k].name);
    }
    rt_csv_end(b);
    const rt_book_rows *r = &book->tables[id];
    char cell[RT_FIELD_TEXT_MAX];
    for (size_t i = 0; i < r->count; i++) {
        const void *row = (const char *)r->rows + i * t->row_size;
        for (size_t k = 0; k < t->field_count; k++) {
            if (k) rt_csv_sep(b);
            size_t n = rt_book_field_format(&t->fields[k], row, cell, sizeof cell);
            /* Exact, not neutralised: the source must re-import to the same values. */
            rt_csv_put_exact(b, cell, n);
        }
        rt_csv_end(b);
    }
    return rt_buf_status(b);
}

/* Whether dir holds anything but "." and "..". */
static bool dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return true; /* not a directory we can read: not ours to write into */
    const struct dirent *e;
    bool any = false;
    while (!any && (e = readdir(d)) != NULL)
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* Into a new or empty directory only: written into another (a run's output directory, an
 * older source), the export would mix with files it did not write, which a later import
 * would read or ignore. */
static rt_status export_dir(const char *dir, rt_error *err)
{
    if (mkdir(dir, 0777) != 0) {
        if (errno != EEXIST)
            return rt_error_set(err, RT_EIO, dir, 0, 0, NULL, "cannot create: %s", strerror(errno));
        if (dir_has_entries(dir))
            return rt_error_set(err, RT_EEXIST, dir, 0, 0, NULL,
                                "exists and is not an empty directory");
    }
    return RT_OK;
}

static rt_status put_file(const char *dir, const char *name, const rt_buf *b, rt_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    size_t w = fwrite(b->data, 1, b->len, f);
    if (fclose(f) != 0 || w != b->len)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "write failed");
    return RT_OK;
}

rt_status rt_book_csv_write(const char *dir, const rt_book *book, rt_error *err)
{
    rt_status st = export_dir(dir, err);
    if (st != RT_OK) return st;
    rt_buf b;
    rt_buf_init(&b);
    for (unsigned i = 0; i < RT_T_COUNT_ && st == RT_OK; i++) {
        const rt_table *t = rt_book_table((rt_table_id)i);
        rt_buf_reset(&b);
        if ((st = rt_book_csv_table(book, t->id, &b)) != RT_OK)
            rt_error_set(err, st, t->file, 0, 0, NULL, "out of memory");
        else
            st = put_file(dir, t->file, &b, err);
    }
    rt_buf_free(&b);
    return st;
}

rt_status rt_book_csv_write_source(const char *dir, const rt_book_source *source, rt_error *err)
{
    rt_status st = export_dir(dir, err);
    for (size_t i = 0; i < source->count && st == RT_OK; i++) {
        const char *name = source->files[i].name;
        /* A kept name is one of the schema's file names: never a path out of dir, nor a file
         * the next import would refuse. */
        bool table = false;
        for (unsigned t = 0; t < RT_T_COUNT_ && !table; t++)
            table = strcmp(name, rt_book_table((rt_table_id)t)->file) == 0;
        if (!table)
            return rt_error_set(err, RT_ECORRUPT, dir, 0, 0, NULL,
                                "kept source file '%s' is not a table of the book", name);
        st = put_file(dir, name, &source->files[i].bytes, err);
    }
    return st;
}

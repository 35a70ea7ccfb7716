/* fuzz_verify_table: the table reader `ratel verify` streams its CSV tables with (invoices,
 * lines, journal, detail index) reads a few megabytes at a time and parses a record cut by a
 * read again after the next one. Whatever the text, reading it a few bytes at a time must give
 * what one read gives: the same header, the same rows with the same fields and line numbers,
 * the same end (whole, or failed at the same malformed row). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/buf.h"
#include "formats/verify_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything the reader gave, as one byte string to compare. */
static void record(rt_buf *b, const rt_csv_record *r, uint64_t line)
{
    rt_buf_printf(b, "%llu:%zu", (unsigned long long)line, (size_t)r->count);
    for (size_t i = 0; i < r->count; i++) {
        rt_buf_printf(b, "|%zu:", (size_t)r->fields[i].len);
        rt_buf_append(b, r->fields[i].ptr, r->fields[i].len);
    }
    rt_buf_putc(b, '\n');
}

static void read_all(const char *dir, size_t read_size, rt_buf *out)
{
    rt__vtable t;
    int opened = rt__vtable_open_sized(dir, "t.csv", read_size, &t, NULL);
    rt_buf_printf(out, "open %d\n", opened);
    if (opened) {
        record(out, &t.header, 1);
        for (;;) {
            uint64_t at = t.line;
            if (!rt__vtable_next(&t, NULL)) break;
            record(out, &t.rec, at);
        }
        rt_buf_printf(out, "done %d failed %d\n", rt__vtable_done(&t, NULL), (int)t.failed);
    }
    rt__vtable_close(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_verify_table_XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    /* The first byte picks the read size: 1 to 64 bytes. */
    size_t small = size ? 1 + data[0] % 64 : 1;
    const uint8_t *text = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    char path[128];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (len && fwrite(text, 1, len, f) != len) abort();
    if (fclose(f) != 0) abort();

    rt_buf whole, cut;
    rt_buf_init(&whole);
    rt_buf_init(&cut);
    read_all(dir, len + 16, &whole); /* the whole text in the first read */
    read_all(dir, small, &cut);
    if (whole.failed || cut.failed) abort();
    if (whole.len != cut.len || memcmp(whole.data, cut.data, whole.len) != 0) {
        fprintf(stderr, "read %zu bytes at a time:\n%.*s\nin one read:\n%.*s\n", small,
                (int)cut.len, cut.data, (int)whole.len, whole.data);
        abort();
    }
    rt_buf_free(&whole);
    rt_buf_free(&cut);
    unlink(path);
    return 0;
}

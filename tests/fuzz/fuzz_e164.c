/* fuzz_e164: the small text parsers of the pricing tables on arbitrary bytes: E.164
 * normalisation and longest-prefix lookup (engine/deck), CGRateS durations
 * (formats/book_cgrates), and the book fields of new types (days, clock times, digits,
 * dates) whose canonical text must parse back to the same value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/book.h"
#include "engine/deck.h"
#include "formats/book_cgrates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void field_round_trip(rt_book *book, rt_table_id tid, const char *name, const char *text,
                             size_t len)
{
    const rt_table *t = rt_book_table(tid);
    const rt_field *f = NULL;
    for (size_t i = 0; i < t->field_count; i++)
        if (strcmp(t->fields[i].name, name) == 0) f = &t->fields[i];
    RT_ASSERT(f != NULL);
    char row[512], again[512], why[160], canon[RT_FIELD_TEXT_MAX], canon2[RT_FIELD_TEXT_MAX];
    memset(row, 0, sizeof row);
    memset(again, 0, sizeof again);
    if (rt_book_field_parse(book, f, row, text, len, why, sizeof why) != RT_OK) return;
    size_t n = rt_book_field_format(f, row, canon, sizeof canon);
    RT_ASSERT(rt_book_field_parse(book, f, again, canon, n, why, sizeof why) == RT_OK);
    rt_book_field_format(f, again, canon2, sizeof canon2);
    RT_ASSERT(strcmp(canon, canon2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[64];
    size_t len = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, len);
    text[len] = '\0';

    rt_dialling fr = {"33", "0", "00"};
    char out[RT_E164_DIGITS_MAX + 1];
    size_t n;
    if (rt_e164_normalise(text, len, &fr, out, &n) == RT_OK) {
        RT_ASSERT(n >= RT_E164_DIGITS_MIN && n <= RT_E164_DIGITS_MAX && strlen(out) == n);
        rt_decks d;
        if (rt_decks_init(&d, 1) == RT_OK) {
            rt_decks_add(&d, 0, "33", 2, INT64_MIN, INT64_MAX, 1);
            rt_decks_add(&d, 0, "336", 3, INT64_MIN, INT64_MAX, 2);
            size_t matched;
            uint32_t z = rt_decks_match(&d, 0, out, n, 0, &matched);
            RT_ASSERT(z == RT_DECK_NONE || matched <= n);
            rt_decks_free(&d);
        }
    }
    int64_t units;
    if (memchr(text, '\0', len) == NULL) rt_cgrates_duration(text, &units);

    rt_book book;
    rt_book_init(&book);
    field_round_trip(&book, RT_T_TIME_BANDS, "days", text, len);
    field_round_trip(&book, RT_T_TIME_BANDS, "start", text, len);
    field_round_trip(&book, RT_T_PREFIXES, "prefix", text, len);
    field_round_trip(&book, RT_T_HOLIDAYS, "date", text, len);
    rt_book_free(&book);
    return 0;
}

/* test_deck: longest-prefix matching in the digit trie, effective-dated prefixes, and E.164
 * normalisation of dialled numbers. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/deck.h"

#define OPEN INT64_MIN, RT_TIME_OPEN_END

static void add(rt_decks *d, uint32_t deck, const char *p, rt_time_s from, rt_time_s to,
                uint32_t zone)
{
    cr_assert_eq(rt_decks_add(d, deck, p, strlen(p), from, to, zone), RT_OK, "%s", p);
}

static uint32_t match(const rt_decks *d, uint32_t deck, const char *n, rt_time_s t, size_t *len)
{
    return rt_decks_match(d, deck, n, strlen(n), t, len);
}

Test(deck, the_longest_matching_prefix_wins)
{
    rt_decks d;
    size_t len;
    cr_assert_eq(rt_decks_init(&d, 2), RT_OK);
    add(&d, 0, "44", OPEN, 1);
    add(&d, 0, "447", OPEN, 2);
    add(&d, 0, "4478", OPEN, 3);
    add(&d, 1, "4", OPEN, 9); /* another deck: never seen from deck 0 */
    cr_assert_eq(match(&d, 0, "442071234567", 0, &len), 1);
    cr_assert_eq(len, 2);
    cr_assert_eq(match(&d, 0, "447911123456", 0, &len), 2);
    cr_assert_eq(len, 3);
    cr_assert_eq(match(&d, 0, "447811123456", 0, &len), 3);
    cr_assert_eq(len, 4);
    /* Exactly the prefix itself, and a number shorter than the longer prefix. */
    cr_assert_eq(match(&d, 0, "4478", 0, &len), 3);
    cr_assert_eq(match(&d, 0, "447", 0, &len), 2);
    cr_assert_eq(match(&d, 0, "4", 0, &len), RT_DECK_NONE);
    cr_assert_eq(len, 0);
    cr_assert_eq(match(&d, 0, "33142868200", 0, &len), RT_DECK_NONE);
    cr_assert_eq(match(&d, 1, "447811123456", 0, &len), 9);
    cr_assert_eq(len, 1);
    rt_decks_free(&d);
}

Test(deck, prefix_versions_are_effective_dated)
{
    rt_decks d;
    cr_assert_eq(rt_decks_init(&d, 1), RT_OK);
    /* 4478 moves from zone 3 to zone 4 at t = 1000 and is withdrawn at t = 2000, after which
     * its numbers fall back to the shorter 447. */
    add(&d, 0, "447", OPEN, 2);
    add(&d, 0, "4478", INT64_MIN, 1000, 3);
    add(&d, 0, "4478", 1000, 2000, 4);
    cr_assert_eq(match(&d, 0, "447811123456", 999, NULL), 3);
    cr_assert_eq(match(&d, 0, "447811123456", 1000, NULL), 4);
    cr_assert_eq(match(&d, 0, "447811123456", 1999, NULL), 4);
    cr_assert_eq(match(&d, 0, "447811123456", 2000, NULL), 2);
    rt_decks_free(&d);
}

Test(deck, bad_prefixes_are_refused)
{
    rt_decks d;
    cr_assert_eq(rt_decks_init(&d, 1), RT_OK);
    cr_assert_eq(rt_decks_add(&d, 0, "44a", 3, OPEN, 1), RT_EINVAL);
    cr_assert_eq(rt_decks_add(&d, 0, "", 0, OPEN, 1), RT_EINVAL);
    cr_assert_eq(rt_decks_add(&d, 0, "1234567890123456", 16, OPEN, 1), RT_EINVAL);
    rt_decks_free(&d);
}

static const char *norm(const char *in, const rt_dialling *r)
{
    static char out[RT_E164_DIGITS_MAX + 1];
    size_t n;
    if (rt_e164_normalise(in, strlen(in), r, out, &n) != RT_OK) return "BAD";
    cr_assert_eq(n, strlen(out));
    return out;
}

Test(deck, numbers_are_normalised_to_e164)
{
    rt_dialling fr = {"33", "0", "00"};
    cr_assert_str_eq(norm("+33142868200", &fr), "33142868200");
    cr_assert_str_eq(norm("0033142868200", &fr), "33142868200");
    cr_assert_str_eq(norm("0142868200", &fr), "33142868200");
    cr_assert_str_eq(norm("33142868200", &fr), "33142868200");
    cr_assert_str_eq(norm("00442071234567", &fr), "442071234567");
    cr_assert_str_eq(norm("+442071234567", &fr), "442071234567");
    /* Not plausible: separators, letters, too short, too long, a '+' inside. */
    cr_assert_str_eq(norm("+33 1 42 86 82 00", &fr), "BAD");
    cr_assert_str_eq(norm("+33-142868200", &fr), "BAD");
    cr_assert_str_eq(norm("ANONYMOUS", &fr), "BAD");
    cr_assert_str_eq(norm("", &fr), "BAD");
    cr_assert_str_eq(norm("+", &fr), "BAD");
    cr_assert_str_eq(norm("12", &fr), "BAD");
    cr_assert_str_eq(norm("+1234567890123456", &fr), "BAD");
    cr_assert_str_eq(norm("33+142868200", &fr), "BAD");
    /* 15 digits is the E.164 maximum. */
    cr_assert_str_eq(norm("+123456789012345", &fr), "123456789012345");

    /* A plan without national rules (North American style with "011" abroad). */
    rt_dialling us = {"", "", "011"};
    cr_assert_str_eq(norm("011442071234567", &us), "442071234567");
    cr_assert_str_eq(norm("12125550100", &us), "12125550100");
    /* A national number cannot be made E.164 without a country code. */
    cr_assert_str_eq(norm("0142868200", &us), "BAD");
}

/* deck: destination rate decks compiled for longest-prefix lookup, and E.164 numbers.
 *
 * Owns a digit trie shared by every deck of a price book (one root per deck), whose nodes
 * hold the effective-dated versions of a prefix (prefix -> zone over [valid_from, valid_to)),
 * the longest-prefix match of a number at an instant in O(number of digits), and the
 * normalisation of a dialled number to E.164 digits under a plan's dialling rules (+, an
 * international prefix such as 00, a national trunk prefix such as 0). It does not know
 * zones' names or rates (catalog does). Building is single-threaded; lookups are read-only
 * and safe from any number of threads. */
#ifndef RT_DECK_H
#define RT_DECK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/datetime.h"
#include "engine/status.h"

enum {
    RT_E164_DIGITS_MAX = 15, /* ITU-T E.164: at most 15 digits */
    RT_E164_DIGITS_MIN = 3,  /* anything shorter is not a destination */
};

#define RT_DECK_NONE UINT32_MAX

typedef struct rt_deck_node {
    uint32_t child[10]; /* node index per next digit; 0 = none (node 0 is never a child) */
    uint32_t version;   /* first version of the prefix ending here, RT_DECK_NONE if none */
} rt_deck_node;

typedef struct rt_deck_version {
    rt_time_s valid_from;
    rt_time_s valid_to;
    uint32_t zone; /* caller's zone number */
    uint32_t next; /* next version of the same prefix, RT_DECK_NONE at the end */
} rt_deck_version;

typedef struct rt_decks {
    rt_deck_node *nodes;
    size_t node_count, node_capacity;
    rt_deck_version *versions;
    size_t version_count, version_capacity;
    uint32_t *roots; /* root node of each deck */
    size_t deck_count;
} rt_decks;

/* Room for `decks` decks numbered 0..decks-1. RT_ENOMEM. */
rt_status rt_decks_init(rt_decks *d, size_t decks);
void rt_decks_free(rt_decks *d);

/* Add one version of a prefix (1..RT_E164_DIGITS_MAX ASCII digits) of deck `deck`.
 * Versions of one prefix must not overlap (the book validates that). RT_EINVAL for a bad
 * prefix, RT_ENOMEM. */
rt_status rt_decks_add(rt_decks *d, uint32_t deck, const char *prefix, size_t len,
                       rt_time_s valid_from, rt_time_s valid_to, uint32_t zone);

/* The zone of the longest prefix of `digits` that has a version in force at t in deck
 * `deck`, or RT_DECK_NONE; *matched (when not NULL) receives that prefix's length. */
uint32_t rt_decks_match(const rt_decks *d, uint32_t deck, const char *digits, size_t len,
                        rt_time_s t, size_t *matched);

/* The dialling rules of a plan, as NUL-terminated digit strings ("" when not used). */
typedef struct rt_dialling {
    const char *country_code;         /* "33" */
    const char *national_prefix;      /* "0": 0142... -> 33142... */
    const char *international_prefix; /* "00": 0044... -> 44... */
} rt_dialling;

/* Normalise a dialled number to E.164 digits (without '+') into out (at least
 * RT_E164_DIGITS_MAX + 1 bytes): "+33142..." and "0033142..." and, with national prefix "0"
 * and country code "33", "0142..." all give "33142..."; digits without any prefix are taken
 * as E.164 already. Only a leading '+' and digits are accepted. Returns RT_OK, or RT_EPARSE
 * when the number is not plausible (other characters, fewer than RT_E164_DIGITS_MIN or more
 * than RT_E164_DIGITS_MAX digits). */
rt_status rt_e164_normalise(const char *number, size_t len, const rt_dialling *rules, char *out,
                            size_t *out_len);

#endif

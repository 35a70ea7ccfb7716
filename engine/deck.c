/* deck: digit trie of destination prefixes and E.164 normalisation. */
#include "engine/deck.h"

#include <stdlib.h>
#include <string.h>

/* ---- building ---- */

static rt_status new_node(rt_decks *d, uint32_t *out)
{
    if (d->node_count == d->node_capacity) {
        size_t cap = d->node_capacity ? d->node_capacity * 2 : 1024;
        if (cap > UINT32_MAX / 2) return RT_ELIMIT;
        rt_deck_node *n = realloc(d->nodes, cap * sizeof *n);
        if (!n) return RT_ENOMEM;
        d->nodes = n;
        d->node_capacity = cap;
    }
    rt_deck_node *n = &d->nodes[d->node_count];
    memset(n->child, 0, sizeof n->child);
    n->version = RT_DECK_NONE;
    *out = (uint32_t)d->node_count++;
    return RT_OK;
}

rt_status rt_decks_init(rt_decks *d, size_t decks)
{
    memset(d, 0, sizeof *d);
    d->roots = calloc(decks ? decks : 1, sizeof *d->roots);
    if (!d->roots) return RT_ENOMEM;
    d->deck_count = decks;
    uint32_t sentinel;
    /* Node 0 is a sentinel nobody points to, so a zero child means "no child". */
    rt_status st = new_node(d, &sentinel);
    for (size_t i = 0; st == RT_OK && i < decks; i++)
        st = new_node(d, &d->roots[i]);
    return st;
}

void rt_decks_free(rt_decks *d)
{
    free(d->nodes);
    free(d->versions);
    free(d->roots);
    memset(d, 0, sizeof *d);
}

rt_status rt_decks_add(rt_decks *d, uint32_t deck, const char *prefix, size_t len, rt_time_s from,
                       rt_time_s to, uint32_t zone)
{
    RT_ASSERT(deck < d->deck_count);
    if (len == 0 || len > RT_E164_DIGITS_MAX) return RT_EINVAL;
    uint32_t at = d->roots[deck];
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(prefix[i] - '0');
        if (digit > 9) return RT_EINVAL;
        if (d->nodes[at].child[digit] == 0) {
            uint32_t n;
            rt_status st = new_node(d, &n); /* may move d->nodes */
            if (st != RT_OK) return st;
            d->nodes[at].child[digit] = n;
        }
        at = d->nodes[at].child[digit];
    }
    if (d->version_count == d->version_capacity) {
        size_t cap = d->version_capacity ? d->version_capacity * 2 : 1024;
        rt_deck_version *v = realloc(d->versions, cap * sizeof *v);
        if (!v) return RT_ENOMEM;
        d->versions = v;
        d->version_capacity = cap;
    }
    uint32_t vi = (uint32_t)d->version_count++;
    d->versions[vi] = (rt_deck_version){from, to, zone, d->nodes[at].version};
    d->nodes[at].version = vi;
    return RT_OK;
}

/* ---- lookup ---- */

static uint32_t zone_in_force(const rt_decks *d, uint32_t v, rt_time_s t)
{
    for (; v != RT_DECK_NONE; v = d->versions[v].next)
        if (d->versions[v].valid_from <= t && t < d->versions[v].valid_to)
            return d->versions[v].zone;
    return RT_DECK_NONE;
}

uint32_t rt_decks_match(const rt_decks *d, uint32_t deck, const char *digits, size_t len,
                        rt_time_s t, size_t *matched)
{
    RT_ASSERT(deck < d->deck_count);
    uint32_t best = RT_DECK_NONE, at = d->roots[deck];
    size_t best_len = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(digits[i] - '0');
        if (digit > 9) break;
        at = d->nodes[at].child[digit];
        if (at == 0) break;
        uint32_t z = zone_in_force(d, d->nodes[at].version, t);
        if (z != RT_DECK_NONE) {
            best = z;
            best_len = i + 1;
        }
    }
    if (matched) *matched = best_len;
    return best;
}

/* ---- E.164 ---- */

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 0 && n <= len && memcmp(s, prefix, n) == 0;
}

rt_status rt_e164_normalise(const char *s, size_t len, const rt_dialling *rules, char *out,
                            size_t *out_len)
{
    bool plus = len > 0 && s[0] == '+';
    const char *digits = s + plus;
    size_t n = len - plus;
    for (size_t i = 0; i < n; i++)
        if (digits[i] < '0' || digits[i] > '9') return RT_EPARSE;
    const char *cc = "";
    if (!plus && starts_with(digits, n, rules->international_prefix)) {
        size_t k = strlen(rules->international_prefix);
        digits += k;
        n -= k;
    } else if (!plus && rules->country_code[0] && starts_with(digits, n, rules->national_prefix)) {
        size_t k = strlen(rules->national_prefix);
        digits += k;
        n -= k;
        cc = rules->country_code;
    }
    size_t ncc = strlen(cc);
    if (ncc + n < RT_E164_DIGITS_MIN || ncc + n > RT_E164_DIGITS_MAX ||
        (n > 0 && ncc == 0 && digits[0] == '0'))
        return RT_EPARSE;
    memcpy(out, cc, ncc);
    memcpy(out + ncc, digits, n);
    out[ncc + n] = '\0';
    *out_len = ncc + n;
    return RT_OK;
}

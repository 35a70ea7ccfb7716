/* sample_book: the static price book source of `ratel gen` and its destination deck. */
#include "formats/sample_book.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/money.h"
#include "formats/csv.h"
#include "formats/zio.h"

/* ---- the destination deck: tables ----
 * Real country codes, and real leading digits of fixed (geographic) and mobile numbers for
 * each country; each range is listed down to number blocks (`expand` more digits), as the
 * decks operators exchange do, so one destination has hundreds of prefixes. The country code
 * alone leads to the fixed zone, so a number in a range the table does not know still has a
 * zone. Overlaps: a range inside another one's digits (Belgian mobiles 46-49 inside
 * Liege's 4, Kazakhstan inside +7, the Caribbean inside +1, Guernsey, Jersey and the Isle of
 * Man inside the UK, the Vatican inside Rome) belongs to the longest prefix. */

typedef struct country {
    const char *cc, *iso, *name;
    uint8_t digits;    /* of a full number, country code included */
    const char *fixed; /* ranges after the country code, space-separated */
    const char *mobile;
    uint8_t fixed_expand, mobile_expand; /* more digits listed under each range */
    uint16_t weight;                     /* share of the international calls it receives */
    uint16_t fixed_e4, mobile_e4;        /* base price per minute, 1e-4 EUR */
} country;

static const country countries[] = {
    {"33", "FR", "France", 11, "1 2 3 4 5 9", "6 7", 2, 2, 0, 200, 500},
    {"32", "BE", "Belgium", 11, "2 3 4 5 6 7 8 9", "46 47 48 49", 1, 2, 80, 500, 1500},
    {"41", "CH", "Switzerland", 11,
     "21 22 24 26 27 31 32 33 34 41 43 44 51 52 55 56 58 61 62 71 81 91", "75 76 77 78 79", 1, 2,
     60, 600, 2000},
    {"44", "GB", "United Kingdom", 12, "1 2", "71 72 73 74 75 77 78 79", 2, 2, 120, 400, 1200},
    {"49", "DE", "Germany", 12, "30 40 69 89 211 221 228 231 341 351 511 711 911",
     "151 152 155 157 159 160 162 163 170 171 172 173 174 175 176 177 178 179", 1, 2, 100, 400,
     1200},
    {"34", "ES", "Spain", 11, "8 9", "6 7", 2, 2, 90, 400, 1200},
    {"39", "IT", "Italy", 12, "0", "3", 2, 2, 80, 400, 1200},
    {"31", "NL", "Netherlands", 11,
     "10 13 15 20 23 24 26 30 33 35 36 38 40 43 45 46 50 53 58 70 71 72 73 74 75 76 77 78 79", "6",
     0, 2, 30, 400, 1200},
    {"351", "PT", "Portugal", 12, "2", "91 92 93 96", 2, 1, 60, 400, 1200},
    {"352", "LU", "Luxembourg", 12, "2 4", "621 628 661 671 691", 1, 1, 10, 400, 1200},
    {"43", "AT", "Austria", 12, "1 316 512 662 732", "650 660 664 676 680 681 688 699", 1, 1, 15,
     400, 1200},
    {"353", "IE", "Ireland", 12, "1 21 61 91", "83 85 86 87 89", 1, 1, 10, 400, 1200},
    {"45", "DK", "Denmark", 10, "3 4 7 8 9", "2 5 6", 1, 1, 5, 400, 1200},
    {"46", "SE", "Sweden", 11, "8 31 40", "70 72 73 76 79", 1, 1, 5, 400, 1200},
    {"47", "NO", "Norway", 10, "2 3 5 6 7", "4 9", 1, 2, 5, 400, 1200},
    {"358", "FI", "Finland", 12, "2 3 9", "40 41 44 45 50", 1, 1, 5, 400, 1200},
    {"48", "PL", "Poland", 11, "12 22 58 61 71", "50 51 53 57 60 66 69 72 73 78 79 88", 1, 1, 15,
     500, 1500},
    {"420", "CZ", "Czechia", 12, "2 3 4 5", "60 70 72 73 77 79", 1, 1, 5, 500, 1500},
    {"30", "GR", "Greece", 12, "21 23", "69", 1, 2, 5, 500, 1500},
    {"36", "HU", "Hungary", 11, "1", "20 30 31 70", 1, 1, 5, 500, 1500},
    {"40", "RO", "Romania", 11, "21", "7", 1, 2, 15, 500, 1500},
    {"90", "TR", "Turkey", 12, "212 216 232 312", "5", 1, 2, 15, 1000, 2500},
    {"7", "RU", "Russia", 11, "3 4 8", "9", 1, 2, 5, 1500, 2500},
    {"7", "KZ", "Kazakhstan", 11, "71 72", "70 77", 1, 1, 2, 2000, 3000},
    {"212", "MA", "Morocco", 12, "52 53", "6 7", 1, 2, 60, 1500, 3500},
    {"213", "DZ", "Algeria", 12, "21", "5 6 7", 1, 2, 50, 1500, 4000},
    {"216", "TN", "Tunisia", 11, "7", "2 5 9", 1, 1, 30, 1500, 3500},
    {"221", "SN", "Senegal", 12, "33", "70 75 76 77 78", 1, 1, 15, 2500, 3500},
    {"225", "CI", "Cote d'Ivoire", 13, "27", "01 05 07", 1, 1, 15, 2500, 3500},
    {"237", "CM", "Cameroon", 12, "2", "6", 1, 2, 10, 2500, 3500},
    {"27", "ZA", "South Africa", 11, "10 11 21 31", "6 7 8", 1, 2, 5, 1000, 2000},
    {"20", "EG", "Egypt", 12, "2 3", "10 11 12 15", 1, 1, 5, 1500, 2500},
    {"234", "NG", "Nigeria", 13, "1 9", "70 80 81 90 91", 1, 1, 5, 1500, 2500},
    {"52", "MX", "Mexico", 12, "33 55 81", "", 2, 0, 5, 500, 500},
    {"55", "BR", "Brazil", 13, "11 21 31 41 51 61 71 81", "119 219 319 419 519 619 719 819", 1, 1,
     5, 500, 1500},
    {"54", "AR", "Argentina", 13, "11 221 341 351", "911 9221 9341 9351", 1, 1, 5, 800, 1500},
    {"86", "CN", "China", 13, "10 20 21 22 23 24 25 27 28 29", "13 15 17 18 19", 1, 2, 15, 300,
     300},
    {"81", "JP", "Japan", 12, "3 6 45 52 92", "70 80 90", 1, 2, 5, 500, 1500},
    {"82", "KR", "South Korea", 12, "2 31 51", "10", 1, 2, 5, 500, 1000},
    {"91", "IN", "India", 12, "11 22 33 40 44 80", "6 7 8 9", 1, 2, 10, 500, 500},
    {"61", "AU", "Australia", 11, "2 3 7 8", "4", 1, 2, 5, 500, 1500},
    {"971", "AE", "United Arab Emirates", 12, "2 4 6", "50 52 54 55 56 58", 1, 1, 5, 1500, 2500},
    {"972", "IL", "Israel", 12, "2 3 4 8 9", "50 52 53 54 55 58", 1, 1, 5, 500, 1500},
    {"966", "SA", "Saudi Arabia", 12, "11 12 13", "50 53 54 55 56 58 59", 1, 1, 5, 1500, 2500},
    {"65", "SG", "Singapore", 10, "6", "8 9", 1, 2, 5, 500, 500},
    {"852", "HK", "Hong Kong", 11, "2 3", "5 6 9", 1, 2, 5, 500, 500},
};

/* The North American Numbering Plan: +1 and a three-digit area code. Every plausible area
 * code (first digit 2-9, second 0-8, not N11) is listed; Canada's and those of the
 * Caribbean members are their own zones, the rest the United States. */
static const char canada[] =
    "204 226 236 249 250 263 289 306 343 354 365 367 368 382 403 416 418 428 431 437 438 450 "
    "468 474 506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 778 780 "
    "782 807 819 825 867 873 879 902 905";

typedef struct nanp_member {
    const char *iso, *name, *area_codes;
    uint16_t weight, price_e4;
} nanp_member;

static const nanp_member nanp[] = {
    {"CA", "Canada", canada, 10, 300},
    {"JM", "Jamaica", "658 876", 2, 3000},
    {"DO", "Dominican Republic", "809 829 849", 3, 2500},
    {"PR", "Puerto Rico", "787 939", 2, 500},
    {"TT", "Trinidad and Tobago", "868", 1, 3000},
    {"BS", "Bahamas", "242", 1, 3000},
    {"BB", "Barbados", "246", 1, 3000},
    {"BM", "Bermuda", "441", 1, 3000},
    {"KY", "Cayman Islands", "345", 1, 3000},
};

/* Longer prefixes of another zone inside a country's ranges, or extra destinations. `type`
 * says which of the parent's number lists they join (numbers are drawn from them). */
typedef struct special {
    const char *parent; /* iso of the destination the prefixes belong to */
    const char *zone_id, *name, *prefixes;
    uint8_t type, expand;
    uint16_t price_e4;
} special;

static const special specials[] = {
    {"FR", "FR_SPC", "France special numbers", "338", RT_GEN_FIXED, 1, 1500},
    {"GB", "GG_FIX", "Guernsey fixed", "441481", RT_GEN_FIXED, 0, 800},
    {"GB", "JE_FIX", "Jersey fixed", "441534", RT_GEN_FIXED, 0, 800},
    {"GB", "IM_FIX", "Isle of Man fixed", "441624", RT_GEN_FIXED, 0, 800},
    {"GB", "GG_MOB", "Guernsey mobile", "447781 447839 447911", RT_GEN_MOBILE, 0, 3000},
    {"GB", "JE_MOB", "Jersey mobile", "447509 447700 447797 447829 447937", RT_GEN_MOBILE, 0, 3000},
    {"GB", "IM_MOB", "Isle of Man mobile", "447524 447624 447924", RT_GEN_MOBILE, 0, 3000},
    {"DE", "DE_PRM", "Germany premium rate", "49900", RT_GEN_FIXED, 0, 8000},
    {"ES", "ES_SPC", "Spain special numbers", "34901 34902", RT_GEN_FIXED, 0, 1500},
    {"IT", "VA", "Vatican City", "3906698", RT_GEN_FIXED, 0, 1000},
    {"SAT", "SAT", "Satellite networks (Inmarsat, Iridium, Thuraya)", "870 8816 8817 88216",
     RT_GEN_FIXED, 0, 0},
};

/* ---- the destination deck: building ---- */

enum { DECK_PREFIXES_MAX = 40000, DECK_ZONES_MAX = 256, DECK_DESTS_MAX = 128 };

/* A range `stem` and its blocks, `expand` more digits (0: the stem alone). */
static rt_status add_prefix(rt_gen_deck *d, uint32_t dest_first, const char *digits, uint32_t zone,
                            uint32_t dest, uint8_t type)
{
    /* A prefix listed twice (a block of one range that is another range) keeps the last
     * zone: prefixes of one destination are contiguous, so only they are searched. */
    for (uint32_t i = dest_first; i < d->prefix_count; i++)
        if (strcmp(d->prefix[i], digits) == 0) {
            d->prefix_zone[i] = zone;
            d->prefix_type[i] = type;
            return RT_OK;
        }
    if (d->prefix_count == DECK_PREFIXES_MAX || strlen(digits) >= RT_GEN_PREFIX_SIZE)
        return RT_ELIMIT;
    uint32_t i = d->prefix_count++;
    snprintf(d->prefix[i], RT_GEN_PREFIX_SIZE, "%s", digits);
    d->prefix_zone[i] = zone;
    d->prefix_dest[i] = dest;
    d->prefix_type[i] = type;
    return RT_OK;
}

static rt_status add_range(rt_gen_deck *d, uint32_t dest_first, const char *stem, unsigned expand,
                           uint32_t zone, uint32_t dest, uint8_t type)
{
    RT_ASSERT(expand <= 2);
    size_t n = strlen(stem);
    if (n + expand >= RT_GEN_PREFIX_SIZE) return RT_ELIMIT;
    rt_status st = add_prefix(d, dest_first, stem, zone, dest, type);
    unsigned blocks = expand == 0 ? 0 : expand == 1 ? 10 : 100;
    char digits[RT_GEN_PREFIX_SIZE];
    memcpy(digits, stem, n);
    for (unsigned b = 0; b < blocks && st == RT_OK; b++) {
        char *p = digits + n;
        if (expand == 2) *p++ = (char)('0' + b / 10);
        *p++ = (char)('0' + b % 10);
        *p = '\0';
        st = add_prefix(d, dest_first, digits, zone, dest, type);
    }
    return st;
}

/* Each space-separated range of `list`, after the country code. */
static rt_status add_ranges(rt_gen_deck *d, uint32_t dest_first, const char *cc, const char *list,
                            unsigned expand, uint32_t zone, uint32_t dest, uint8_t type)
{
    rt_status st = RT_OK;
    for (const char *p = list; *p && st == RT_OK;) {
        size_t n = strcspn(p, " ");
        char stem[RT_GEN_PREFIX_SIZE];
        if (n && snprintf(stem, sizeof stem, "%s%.*s", cc, (int)n, p) < (int)sizeof stem)
            st = add_range(d, dest_first, stem, expand, zone, dest, type);
        p += n;
        while (*p == ' ')
            p++;
    }
    return st;
}

static uint32_t add_zone(rt_gen_deck *d, const char *id, const char *suffix, const char *name,
                         const char *name_suffix, uint32_t dest, int64_t price_e4)
{
    RT_ASSERT(d->zone_count < DECK_ZONES_MAX);
    rt_gen_zone *z = &d->zones[d->zone_count];
    snprintf(z->zone_id, sizeof z->zone_id, "%s%s", id, suffix);
    snprintf(z->name, sizeof z->name, "%s%s", name, name_suffix);
    z->dest = dest;
    z->price_e4 = price_e4;
    return d->zone_count++;
}

static uint32_t add_dest(rt_gen_deck *d, const char *cc, const char *iso, unsigned digits,
                         unsigned weight)
{
    RT_ASSERT(d->dest_count < DECK_DESTS_MAX);
    d->dests[d->dest_count] =
        (rt_gen_dest){.cc = cc, .iso = iso, .number_digits = digits, .weight = weight};
    return d->dest_count++;
}

static rt_status add_country(rt_gen_deck *d, const country *c)
{
    uint32_t dest = add_dest(d, c->cc, c->iso, c->digits, c->weight);
    uint32_t first = d->prefix_count;
    uint32_t zf = add_zone(d, c->iso, "_FIX", c->name, " fixed", dest, c->fixed_e4);
    uint32_t zm =
        c->mobile[0] ? add_zone(d, c->iso, "_MOB", c->name, " mobile", dest, c->mobile_e4) : zf;
    /* +7 is Russia's: Kazakhstan only has its ranges. */
    rt_status st =
        strcmp(c->iso, "KZ") == 0 ? RT_OK : add_prefix(d, first, c->cc, zf, dest, RT_GEN_FIXED);
    if (st == RT_OK)
        st = add_ranges(d, first, c->cc, c->fixed, c->fixed_expand, zf, dest, RT_GEN_FIXED);
    if (st == RT_OK)
        st = add_ranges(d, first, c->cc, c->mobile, c->mobile_expand, zm, dest, RT_GEN_MOBILE);
    return st;
}

/* Is area code `npa` (3 digits) in the space-separated list? */
static bool listed(const char *list, const char *npa)
{
    for (const char *p = list; (p = strstr(p, npa)) != NULL; p++)
        if ((p == list || p[-1] == ' ') && (p[3] == ' ' || p[3] == '\0')) return true;
    return false;
}

static rt_status add_nanp(rt_gen_deck *d)
{
    uint32_t us = add_dest(d, "1", "US", 11, 80);
    uint32_t zus = add_zone(d, "US", "", "United States", "", us, 300);
    uint32_t first_us = d->prefix_count;
    rt_status st = add_prefix(d, first_us, "1", zus, us, RT_GEN_FIXED);
    for (size_t m = 0; st == RT_OK && m < RT_ARRAY_LEN(nanp); m++) {
        uint32_t dest = add_dest(d, "1", nanp[m].iso, 11, nanp[m].weight);
        uint32_t z = add_zone(d, nanp[m].iso, "", nanp[m].name, "", dest, nanp[m].price_e4);
        uint32_t first = d->prefix_count;
        for (const char *p = nanp[m].area_codes; *p && st == RT_OK; p += p[3] ? 4 : 3) {
            char digits[8];
            snprintf(digits, sizeof digits, "1%.3s", p);
            st = add_prefix(d, first, digits, z, dest, RT_GEN_FIXED);
        }
    }
    /* The United States: every other plausible area code. Its prefixes come after the
     * members' in the table, so they are searched from their own first row. */
    first_us = d->prefix_count;
    for (unsigned npa = 200; npa < 1000 && st == RT_OK; npa++) {
        char code[4], digits[8];
        snprintf(code, sizeof code, "%u", npa);
        if (code[1] == '9' || (code[1] == '1' && code[2] == '1')) continue;
        bool member = false;
        for (size_t m = 0; m < RT_ARRAY_LEN(nanp) && !member; m++)
            member = listed(nanp[m].area_codes, code);
        if (member) continue;
        snprintf(digits, sizeof digits, "1%s", code);
        st = add_prefix(d, first_us, digits, zus, us, RT_GEN_FIXED);
    }
    return st;
}

static uint32_t dest_by_iso(const rt_gen_deck *d, const char *iso)
{
    for (uint32_t i = 0; i < d->dest_count; i++)
        if (strcmp(d->dests[i].iso, iso) == 0) return i;
    return UINT32_MAX;
}

static rt_status add_special(rt_gen_deck *d, const special *s)
{
    uint32_t dest = dest_by_iso(d, s->parent);
    /* A network of its own (satellites): no country code, rarely called. */
    if (dest == UINT32_MAX) dest = add_dest(d, "", s->parent, 12, 1);
    uint32_t z = add_zone(d, s->zone_id, "", s->name, "", dest, s->price_e4);
    /* Search the whole table: a special's parent rows are not the last ones. */
    rt_status st = RT_OK;
    for (const char *p = s->prefixes; *p && st == RT_OK;) {
        size_t n = strcspn(p, " ");
        char stem[RT_GEN_PREFIX_SIZE];
        snprintf(stem, sizeof stem, "%.*s", (int)n, p);
        st = add_range(d, 0, stem, s->expand, z, dest, s->type);
        p += n;
        while (*p == ' ')
            p++;
    }
    return st;
}

/* A prefix numbers are drawn from: not a bare country code, which would give numbers in
 * no range (a national number cannot start with 0, and "+33 0..." written nationally reads
 * as an international number). */
static bool drawable(const rt_gen_deck *d, uint32_t i)
{
    return strcmp(d->prefix[i], d->dests[d->prefix_dest[i]].cc) != 0;
}

/* Group prefix indexes by (destination, type) so that a number of a destination and type is
 * drawn from its own list. */
static rt_status build_picks(rt_gen_deck *d)
{
    d->pick = calloc(d->prefix_count ? d->prefix_count : 1, sizeof *d->pick);
    d->intl_cum = calloc(d->dest_count, sizeof *d->intl_cum);
    if (!d->pick || !d->intl_cum) return RT_ENOMEM;
    for (uint32_t i = 0; i < d->prefix_count; i++)
        if (drawable(d, i)) d->dests[d->prefix_dest[i]].count[d->prefix_type[i]]++;
    uint32_t at = 0;
    uint64_t cum = 0;
    for (uint32_t k = 0; k < d->dest_count; k++) {
        RT_ASSERT(d->dests[k].count[RT_GEN_FIXED] + d->dests[k].count[RT_GEN_MOBILE] > 0);
        for (int t = 0; t < 2; t++) {
            d->dests[k].first[t] = at;
            at += d->dests[k].count[t];
            d->dests[k].count[t] = 0;
        }
        cum += d->dests[k].weight;
        d->intl_cum[k] = cum;
    }
    for (uint32_t i = 0; i < d->prefix_count; i++) {
        if (!drawable(d, i)) continue;
        rt_gen_dest *g = &d->dests[d->prefix_dest[i]];
        int t = d->prefix_type[i];
        d->pick[g->first[t] + g->count[t]++] = i;
    }
    return RT_OK;
}

rt_status rt_gen_deck_build(rt_gen_deck *d)
{
    memset(d, 0, sizeof *d);
    d->prefix = calloc(DECK_PREFIXES_MAX, sizeof *d->prefix);
    d->prefix_zone = calloc(DECK_PREFIXES_MAX, sizeof *d->prefix_zone);
    d->prefix_dest = calloc(DECK_PREFIXES_MAX, sizeof *d->prefix_dest);
    d->prefix_type = calloc(DECK_PREFIXES_MAX, sizeof *d->prefix_type);
    d->zones = calloc(DECK_ZONES_MAX, sizeof *d->zones);
    d->dests = calloc(DECK_DESTS_MAX, sizeof *d->dests);
    rt_status st =
        d->prefix && d->prefix_zone && d->prefix_dest && d->prefix_type && d->zones && d->dests
            ? RT_OK
            : RT_ENOMEM;
    for (size_t c = 0; c < RT_ARRAY_LEN(countries) && st == RT_OK; c++)
        st = add_country(d, &countries[c]);
    if (st == RT_OK) st = add_nanp(d);
    for (size_t s = 0; s < RT_ARRAY_LEN(specials) && st == RT_OK; s++)
        st = add_special(d, &specials[s]);
    if (st == RT_OK) st = build_picks(d);
    if (st != RT_OK) {
        rt_gen_deck_free(d);
        return st;
    }
    d->home_fr = dest_by_iso(d, "FR");
    d->home_be = dest_by_iso(d, "BE");
    d->home_ch = dest_by_iso(d, "CH");
    RT_ASSERT(d->home_fr != UINT32_MAX && d->home_be != UINT32_MAX && d->home_ch != UINT32_MAX);
    return RT_OK;
}

void rt_gen_deck_free(rt_gen_deck *d)
{
    free(d->prefix);
    free(d->prefix_zone);
    free(d->prefix_dest);
    free(d->prefix_type);
    free(d->pick);
    free(d->zones);
    free(d->dests);
    free(d->intl_cum);
    memset(d, 0, sizeof *d);
}

/* ---- the book's static tables ---- */

const char *rt_gen_plan_id(rt_gen_plan p)
{
    static const char *const ids[RT_GEN_PLAN_COUNT_] = {"P_START", "P_BIZ", "P_CH"};
    return ids[p];
}

static const char company_csv[] =
    "name,vat_id,registration_id,street,city,postcode,country,email,functional_currency,"
    "invoice_prefix,credit_note_prefix,payment_terms_days,line_rounding,tax_rounding,"
    "sales_journal_code,sales_journal_label\n"
    "Ratel Demo Telecom SAS,FR40123456789,123456789,1 place du Marche,Paris,75001,FR,"
    "billing@demo-telecom.example,EUR,GEN-,GENC-,30,half_up,half_up,VE,Ventes\n";

static const char gl_accounts_csv[] = "gl_account,label,role\n"
                                      "411000,Clients,receivable\n"
                                      "418100,Clients - factures a etablir,unbilled_receivable\n"
                                      "445710,TVA collectee,vat_payable\n"
                                      "487000,Produits constates d'avance,deferred_revenue\n"
                                      "706100,Voix,revenue\n"
                                      "706200,SMS,revenue\n"
                                      "706300,Donnees,revenue\n"
                                      "706400,Abonnements,revenue\n"
                                      "706410,Abonnements TV,revenue\n"
                                      "706500,Frais de mise en service,revenue\n"
                                      "706600,Contributions reglementaires,revenue\n"
                                      "707000,Ventes de terminaux,revenue\n"
                                      "709000,Rabais remises ristournes,revenue\n";

/* SUB_TV is the one product at the reduced VAT rate. */
static const char products_csv[] =
    "product_id,valid_from,valid_to,name,unit,unit_code,quantity_decimals,gl_account,"
    "tax_category,revenue_type,max_quantity,billing_timing\n"
    "DATA,,,Mobile data,byte,AD,0,706300,standard,usage,,\n"
    "DISCOUNT,,,Discounts,each,C62,0,709000,standard,usage,,\n"
    "HANDSET,,,Handset,each,H87,0,707000,standard,one_time,,\n"
    "INSTALL,,,Installation,each,C62,0,706500,standard,one_time,,\n"
    "REG_FEE,,,Regulatory contribution,each,C62,0,706600,standard,usage,,\n"
    "SMS,,,SMS,message,C62,0,706200,standard,usage,1,\n"
    "SUB_FIBER,,,Fibre access,month,MON,0,706400,standard,recurring,,arrears\n"
    "SUB_MOBILE,,,Mobile line,month,MON,0,706400,standard,recurring,,advance\n"
    "SUB_SUPPORT,,,Premium support,month,MON,0,706400,standard,recurring,,advance\n"
    "SUB_TV,,,TV package,month,MON,0,706410,reduced,recurring,,advance\n"
    "VOICE,,,Calls,second,SEC,0,706100,standard,usage,86400,\n";

static const char plans_csv[] =
    "plan_id,name,currency,time_zone,band_set_id,band_crossing,country_code,national_prefix,"
    "international_prefix\n"
    "P_BIZ,Business Pro,EUR,Europe/Paris,FR_STD,split,33,0,00\n"
    "P_CH,Swiss Mobile,CHF,Europe/Zurich,CH_STD,start,41,0,00\n"
    "P_START,Mobile Start,EUR,Europe/Paris,FR_STD,start,33,0,00\n";

static const char tax_rates_csv[] =
    "jurisdiction,tax_category,valid_from,valid_to,rate_percent,vat_code,exemption_reason\n"
    "BE_B2B,reduced,,,0,AE,Reverse charge - Art. 196 Directive 2006/112/EC\n"
    "BE_B2B,standard,,,0,AE,Reverse charge - Art. 196 Directive 2006/112/EC\n"
    "CH_EXPORT,reduced,,,0,G,Export outside the EU\n"
    "CH_EXPORT,standard,,,0,G,Export outside the EU\n"
    "FR,reduced,,,10,S,\n"
    "FR,standard,,,20,S,\n";

/* Tiers of P_BIZ's graduated data (per GB, a flat fee once past 50 GB) and P_CH's volume
 * data (the whole month at the price of the tier it reaches). */
static const char tiers_csv[] = "plan_id,charge_id,valid_from,tier,up_to,price,flat_fee\n"
                                "P_BIZ,C_DATA,,1,10000000000,2.00,0\n"
                                "P_BIZ,C_DATA,,2,50000000000,1.00,0\n"
                                "P_BIZ,C_DATA,,3,,0.50,5.00\n"
                                "P_CH,C_DATA,,1,5000000000,3.00,0\n"
                                "P_CH,C_DATA,,2,20000000000,2.00,0\n"
                                "P_CH,C_DATA,,3,,1.00,0\n";

static const char allowances_csv[] =
    "plan_id,allowance_id,valid_from,valid_to,charge_id,zone_id,quantity,description\n"
    "P_BIZ,A_DATA,,,C_DATA,,5000000000,5 GB of data included\n"
    "P_BIZ,A_FR_FIX,,,C_VOICE,FR_FIX,30000,500 minutes to French landlines included\n"
    "P_CH,A_DATA,,,C_DATA,,1000000000,1 GB of data included\n"
    "P_CH,A_VOICE,,,C_VOICE,,1800,30 minutes of calls included\n"
    "P_START,A_FR_MOB,,,C_VOICE,FR_MOB,3600,60 minutes to French mobiles included\n"
    "P_START,A_SMS,,,C_SMS,,100,100 SMS included\n";

/* Peak on working days, off-peak at night, weekend all weekend and on public holidays. */
static const char time_bands_csv[] = "band_set_id,days,start,end,band_id\n"
                                     "CH_STD,mon-fri,00:00,07:00,offpeak\n"
                                     "CH_STD,mon-fri,07:00,19:00,peak\n"
                                     "CH_STD,mon-fri,19:00,24:00,offpeak\n"
                                     "CH_STD,sat-sun,00:00,24:00,weekend\n"
                                     "CH_STD,hol,00:00,24:00,weekend\n"
                                     "FR_STD,mon-fri,00:00,08:00,offpeak\n"
                                     "FR_STD,mon-fri,08:00,20:00,peak\n"
                                     "FR_STD,mon-fri,20:00,24:00,offpeak\n"
                                     "FR_STD,sat-sun,00:00,24:00,weekend\n"
                                     "FR_STD,hol,00:00,24:00,weekend\n";

void rt_gen_book_plan_discounts(rt_buf *b)
{
    rt_buf_puts(b, "discount_id,valid_from,valid_to,account_id,plan_id,charge_id,percent,amount,"
                   "product_id,description\n"
                   "D_BIZ_DATA,,,,P_BIZ,C_DATA,10,,,Business data discount 10%\n"
                   "D_PAPERLESS,,,,P_START,,,1.00,DISCOUNT,Paperless billing discount\n");
}

/* Every model of the book: per_unit (with a deck, increments, setup fee, minimum and maximum
 * per event, a minimum per period), flat (with a price change on the 15th), tiered, volume,
 * package, percentage, recurring (monthly and quarterly) and one_time. */
static void charges_csv(rt_buf *b, const rt_period *p)
{
    char mid[16];
    rt_date_format(p->start_day + 14, mid, sizeof mid);
    rt_buf_puts(b, "plan_id,charge_id,valid_from,valid_to,product_id,description,model,price,"
                   "price_per,first_increment,next_increment,setup_fee,min_per_event,"
                   "max_per_event,event_decimals,event_rounding,deck_id,min_per_period,"
                   "cycle_months\n");
    rt_buf_puts(b,
                "P_BIZ,C_DATA,,,DATA,Mobile data (per GB; tiered),tiered,0,1000000000,0,0,0,,,"
                "4,half_up,,,1\n"
                "P_BIZ,C_FIBER,,,SUB_FIBER,Fibre access,recurring,49.90,1,0,0,0,,,2,half_up,,,1\n"
                "P_BIZ,C_HANDSET,,,HANDSET,Handset,one_time,299,1,0,0,0,,,2,half_up,,,1\n"
                "P_BIZ,C_MOBILE,,,SUB_MOBILE,Mobile lines,recurring,14.99,1,0,0,0,,,2,half_up,,,"
                "1\n"
                "P_BIZ,C_REGFEE,,,REG_FEE,Regulatory contribution (1.5%),percentage,1.5,1,0,0,0,"
                ",,2,half_up,,,1\n"
                "P_BIZ,C_SMS,,,SMS,SMS (per started pack of 500),package,4.00,500,0,0,0,,,4,"
                "half_up,,,1\n"
                "P_BIZ,C_SUPPORT,,,SUB_SUPPORT,Premium support (quarterly),recurring,30.00,1,0,"
                "0,0,,,2,half_up,,,3\n"
                "P_BIZ,C_VOICE,,,VOICE,Calls,per_unit,0,60,1,1,0,0.02,,4,half_up,WORLD,5.00,1\n");
    rt_buf_puts(b,
                "P_CH,C_DATA,,,DATA,Mobile data (per GB; volume),volume,0,1000000000,0,0,0,,,4,"
                "half_up,,,1\n"
                "P_CH,C_MOBILE,,,SUB_MOBILE,Mobile line,recurring,29.00,1,0,0,0,,,2,half_up,,,1\n"
                "P_CH,C_SMS,,,SMS,SMS,flat,0.10,1,0,0,0,,,4,half_up,,,1\n"
                "P_CH,C_VOICE,,,VOICE,Calls,per_unit,0,60,10,10,0.05,,,4,down,WORLD,,1\n");
    rt_buf_printf(b,
                  "P_START,C_DATA,,,DATA,Mobile data (per MB),per_unit,0.01,1000000,102400,102400,"
                  "0,,0.50,4,half_even,,,1\n"
                  "P_START,C_INSTALL,,,INSTALL,Installation,one_time,49,1,0,0,0,,,2,half_up,,,1\n"
                  "P_START,C_MOBILE,,,SUB_MOBILE,Mobile line,recurring,19.99,1,0,0,0,,,2,half_up,"
                  ",,1\n"
                  "P_START,C_SMS,,%s,SMS,SMS,flat,0.05,1,0,0,0,,,4,half_up,,,1\n"
                  "P_START,C_SMS,%s,,SMS,SMS,flat,0.06,1,0,0,0,,,4,half_up,,,1\n"
                  "P_START,C_TV,,,SUB_TV,TV package,recurring,7.99,1,0,0,0,,,2,half_up,,,1\n"
                  "P_START,C_VOICE,,,VOICE,Calls,per_unit,0,60,60,60,0,,5.00,4,up,WORLD,,1\n",
                  mid, mid);
}

/* Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm). */
static rt_days easter(int y)
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
    return rt_days_from_civil(y, (unsigned)month, (unsigned)day);
}

typedef struct holiday {
    int month, day; /* a fixed date, or month 0: `day` days after Easter Sunday */
    const char *name;
} holiday;

static const holiday fr_holidays[] = {
    {1, 1, "Jour de l'an"},     {0, 1, "Lundi de Paques"}, {5, 1, "Fete du Travail"},
    {5, 8, "Victoire 1945"},    {0, 39, "Ascension"},      {0, 50, "Lundi de Pentecote"},
    {7, 14, "Fete nationale"},  {8, 15, "Assomption"},     {11, 1, "Toussaint"},
    {11, 11, "Armistice 1918"}, {12, 25, "Noel"},
};

static const holiday ch_holidays[] = {
    {1, 1, "Neujahr"},       {0, -2, "Karfreitag"},    {0, 1, "Ostermontag"},
    {0, 39, "Auffahrt"},     {0, 50, "Pfingstmontag"}, {8, 1, "Bundesfeier"},
    {12, 25, "Weihnachten"}, {12, 26, "Stephanstag"},
};

static void holidays_of(rt_buf *b, const char *set, const holiday *h, size_t n, int year)
{
    for (size_t i = 0; i < n; i++) {
        rt_days d = h[i].month ? rt_days_from_civil(year, (unsigned)h[i].month, (unsigned)h[i].day)
                               : easter(year) + h[i].day;
        char date[16];
        rt_date_format(d, date, sizeof date);
        rt_buf_printf(b, "%s,%s,%s\n", set, date, h[i].name);
    }
}

/* The public holidays of France and Switzerland in the period's year and the next. */
static void holidays_csv(rt_buf *b, const rt_period *p)
{
    rt_buf_puts(b, "band_set_id,date,name\n");
    for (int y = p->year; y <= p->year + 1; y++) {
        holidays_of(b, "CH_STD", ch_holidays, RT_ARRAY_LEN(ch_holidays), y);
        holidays_of(b, "FR_STD", fr_holidays, RT_ARRAY_LEN(fr_holidays), y);
    }
}

/* CHF: one rate until the period's end, a new one from the day the invoices are issued (the
 * journal converts at the entry date). */
static void fx_rates_csv(rt_buf *b, const rt_period *p)
{
    char end[16];
    rt_date_format(p->end_day, end, sizeof end);
    rt_buf_printf(b, "currency,valid_from,valid_to,rate\nCHF,,%s,1.065\nCHF,%s,,1.0712\n", end,
                  end);
}

/* ---- the deck's tables ---- */

static void zones_csv(rt_buf *b, const rt_gen_deck *d)
{
    rt_buf_puts(b, "deck_id,zone_id,name\n");
    for (uint32_t z = 0; z < d->zone_count; z++) {
        rt_buf_printf(b, "WORLD,%s,", d->zones[z].zone_id);
        rt_csv_put_exact(b, d->zones[z].name, strlen(d->zones[z].name));
        rt_csv_end(b);
    }
}

static void prefixes_csv(rt_buf *b, const rt_gen_deck *d)
{
    rt_buf_puts(b, "deck_id,prefix,valid_from,valid_to,zone_id\n");
    for (uint32_t i = 0; i < d->prefix_count; i++)
        rt_buf_printf(b, "WORLD,%s,,,%s\n", d->prefix[i], d->zones[d->prefix_zone[i]].zone_id);
}

typedef struct band {
    const char *id;
    int64_t percent; /* of the peak price */
} band;

static const band bands[] = {{"peak", 100}, {"offpeak", 70}, {"weekend", 50}};

/* Price per minute in 1e-4 units: base x plan share x band share, rounded half up. */
static int64_t rate_e4(int64_t base_e4, int64_t plan_percent, int64_t band_percent)
{
    return (base_e4 * plan_percent * band_percent + 5000) / 10000;
}

static void price_text(int64_t e4, char *buf, size_t size)
{
    rt_decimal_format(e4, 4, -1, 2, '.', buf, size);
}

/* One rates.csv row; empty strings leave a column to the charge. */
static void rate_row(rt_buf *b, const char *plan, const char *zone, const char *band_id,
                     unsigned interval, const char *from, const char *to, int64_t e4,
                     const char *incr, const char *setup)
{
    char price[48];
    price_text(e4, price, sizeof price);
    rt_buf_printf(b, "%s,C_VOICE,%s,%s,%u,%s,%s,%s,,%s,%s\n", plan, zone, band_id, interval, from,
                  to, price, incr, setup);
}

/* P_START: every zone per band (a setup fee for special numbers, a price cut for UK mobiles
 * on the 15th); satellites fall to the any-zone rate of their band. */
static void rates_start(rt_buf *b, const rt_gen_deck *d, const char *mid)
{
    for (uint32_t z = 0; z < d->zone_count; z++) {
        const rt_gen_zone *g = &d->zones[z];
        if (g->price_e4 == 0) continue;
        bool cut = strcmp(g->zone_id, "GB_MOB") == 0;
        const char *setup = strcmp(g->zone_id, "FR_SPC") == 0 ? "0.10" : "";
        for (size_t k = 0; k < RT_ARRAY_LEN(bands); k++) {
            int64_t e4 = rate_e4(g->price_e4, 120, bands[k].percent);
            rate_row(b, "P_START", g->zone_id, bands[k].id, 0, "", cut ? mid : "", e4, ",", setup);
            if (cut)
                rate_row(b, "P_START", g->zone_id, bands[k].id, 0, mid, "", e4 * 8 / 10, ",",
                         setup);
        }
    }
    for (size_t k = 0; k < RT_ARRAY_LEN(bands); k++)
        rate_row(b, "P_START", "", bands[k].id, 0, "", "", 20000 * bands[k].percent / 100, ",", "");
}

/* P_BIZ and P_CH: home zones per band (a connection fee on French landlines for P_BIZ);
 * other zones in any band, P_BIZ's in 30/6 steps and 20% cheaper after five minutes;
 * satellites at the any-zone, any-band rate. */
static void rates_home(rt_buf *b, const rt_gen_deck *d, rt_gen_plan plan)
{
    const char *id = rt_gen_plan_id(plan);
    uint32_t home = plan == RT_GEN_CH ? d->home_ch : d->home_fr;
    int64_t share = plan == RT_GEN_CH ? 130 : 100;
    for (uint32_t z = 0; z < d->zone_count; z++) {
        const rt_gen_zone *g = &d->zones[z];
        if (g->price_e4 == 0) continue;
        if (g->dest == home) {
            const char *setup = strcmp(g->zone_id, "FR_FIX") == 0 ? "0.015" : "";
            for (size_t k = 0; k < RT_ARRAY_LEN(bands); k++)
                rate_row(b, id, g->zone_id, bands[k].id, 0, "", "",
                         rate_e4(g->price_e4, share, bands[k].percent), ",", setup);
        } else if (plan == RT_GEN_BIZ) {
            int64_t e4 = rate_e4(g->price_e4, share, 100);
            rate_row(b, id, g->zone_id, "", 0, "", "", e4, "30,6", "");
            rate_row(b, id, g->zone_id, "", 300, "", "", e4 * 8 / 10, ",", "");
        } else {
            rate_row(b, id, g->zone_id, "", 0, "", "", rate_e4(g->price_e4, share, 100), ",", "");
        }
    }
    rate_row(b, id, "", "", 0, "", "", plan == RT_GEN_CH ? 39000 : 30000, ",", "");
}

static void rates_csv(rt_buf *b, const rt_gen_deck *d, const rt_period *p)
{
    char mid[16];
    rt_date_format(p->start_day + 14, mid, sizeof mid);
    rt_buf_puts(b, "plan_id,charge_id,zone_id,band_id,interval_start,valid_from,valid_to,price,"
                   "price_per,first_increment,next_increment,setup_fee\n");
    rates_start(b, d, mid);
    rates_home(b, d, RT_GEN_BIZ);
    rates_home(b, d, RT_GEN_CH);
}

/* ---- writing ---- */

static rt_status write_text(const char *dir, const char *name, const rt_buf *b, rt_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return rt_error_set(err, RT_EINVAL, dir, 0, 0, NULL, "path too long");
    if (b->failed) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    rt_zwriter *w;
    rt_status st = rt_zwriter_open(path, 0, &w, err);
    if (st != RT_OK) return st;
    if ((st = rt_zwriter_write(w, b->data, b->len, err)) != RT_OK) {
        rt_zwriter_abort(w);
        return st;
    }
    return rt_zwriter_close(w, NULL, NULL, err);
}

enum {
    F_COMPANY,
    F_GL,
    F_PRODUCTS,
    F_PLANS,
    F_TAX,
    F_TIERS,
    F_ALLOWANCES,
    F_BANDS,
    F_CHARGES,
    F_HOLIDAYS,
    F_FX,
    F_ZONES,
    F_PREFIXES,
    F_RATES,
    F_COUNT
};

static const char *const file_names[F_COUNT] = {
    "company.csv",  "gl_accounts.csv", "products.csv",   "plans.csv",   "tax_rates.csv",
    "tiers.csv",    "allowances.csv",  "time_bands.csv", "charges.csv", "holidays.csv",
    "fx_rates.csv", "zones.csv",       "prefixes.csv",   "rates.csv",
};

rt_status rt_gen_book_write(const char *dir, const rt_period *period, const rt_gen_deck *d,
                            rt_error *err)
{
    static const char *const fixed[F_CHARGES] = {company_csv,    gl_accounts_csv, products_csv,
                                                 plans_csv,      tax_rates_csv,   tiers_csv,
                                                 allowances_csv, time_bands_csv};
    rt_buf b[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        rt_buf_init(&b[i]);
    for (int i = 0; i < F_CHARGES; i++)
        rt_buf_puts(&b[i], fixed[i]);
    charges_csv(&b[F_CHARGES], period);
    holidays_csv(&b[F_HOLIDAYS], period);
    fx_rates_csv(&b[F_FX], period);
    zones_csv(&b[F_ZONES], d);
    prefixes_csv(&b[F_PREFIXES], d);
    rates_csv(&b[F_RATES], d, period);
    rt_status st = RT_OK;
    for (int i = 0; i < F_COUNT && st == RT_OK; i++)
        st = write_text(dir, file_names[i], &b[i], err);
    for (int i = 0; i < F_COUNT; i++)
        rt_buf_free(&b[i]);
    return st;
}

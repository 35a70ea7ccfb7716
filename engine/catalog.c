/* catalog: indexes over a loaded price book for lock-free lookups during rating. */
#include "engine/catalog.h"

#include <stdlib.h>
#include <string.h>

static rt_status build_pricing(rt_catalog *c, const char *tzdir, rt_error *err);
static void free_pricing(rt_catalog *c);
static uint32_t lookup(const rt_strmap *m, const char *id, size_t len);

static uint64_t pp_key(uint32_t plan, uint32_t product_key)
{
    return ((uint64_t)plan + 1) << 32 | ((uint64_t)product_key + 1);
}

static rt_status build_products(rt_catalog *c)
{
    rt_status st = rt_strmap_init(&c->product_index, c->product_count);
    if (st != RT_OK) return st;
    c->product_keys = calloc(c->product_count ? c->product_count : 1, sizeof *c->product_keys);
    if (!c->product_keys) return RT_ENOMEM;
    for (size_t i = 0; i < c->product_count; i++) {
        const char *id = c->products[i].product_id;
        if (i == 0 || strcmp(id, c->products[i - 1].product_id) != 0) {
            uint32_t k = (uint32_t)c->product_key_count++;
            c->product_keys[k] = (rt_range32){(uint32_t)i, 0};
            if ((st = rt_strmap_put(&c->product_index, id, strlen(id), k)) != RT_OK) return st;
        }
        c->product_keys[c->product_key_count - 1].count++;
    }
    return RT_OK;
}

static rt_status build_named(rt_strmap *m, const void *rows, size_t count, size_t row_size,
                             size_t id_offset)
{
    rt_status st = rt_strmap_init(m, count);
    for (size_t i = 0; st == RT_OK && i < count; i++) {
        const char *id = *(const char *const *)((const char *)rows + i * row_size + id_offset);
        st = rt_strmap_put(m, id, strlen(id), (uint32_t)i);
        if (st == RT_EEXIST) st = RT_OK; /* versions of one id: the first row is the index */
    }
    return st;
}

static rt_status build_account_plans(rt_catalog *c)
{
    size_t n = RT_BOOK_COUNT(c->book, RT_T_ACCOUNT_PLANS);
    c->account_plan_ranges =
        calloc(c->account_count ? c->account_count : 1, sizeof *c->account_plan_ranges);
    c->account_plan_plan = calloc(n ? n : 1, sizeof *c->account_plan_plan);
    if (!c->account_plan_ranges || !c->account_plan_plan) return RT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const rt_account_plan *ap = &c->account_plans[i];
        uint32_t a = rt_catalog_account(c, ap->account_id, strlen(ap->account_id));
        uint32_t p = rt_catalog_plan(c, ap->plan_id, strlen(ap->plan_id));
        RT_ASSERT(a != RT_NO_INDEX && p != RT_NO_INDEX); /* the book was validated */
        c->account_plan_plan[i] = p;
        rt_range32 *r = &c->account_plan_ranges[a];
        if (r->count == 0) r->first = (uint32_t)i;
        RT_ASSERT(r->first + r->count == i); /* rows of one account are adjacent */
        r->count++;
    }
    return RT_OK;
}

static rt_status build_charges(rt_catalog *c)
{
    size_t n = c->charge_count;
    rt_status st = rt_u64map_init(&c->plan_product, n);
    if (st != RT_OK) return st;
    c->charge_product_key = calloc(n ? n : 1, sizeof *c->charge_product_key);
    c->charge_plan = calloc(n ? n : 1, sizeof *c->charge_plan);
    c->plan_product_ranges = calloc(n ? n : 1, sizeof *c->plan_product_ranges);
    c->charge_versions = calloc(n ? n : 1, sizeof *c->charge_versions);
    uint32_t *group = calloc(n ? n : 1, sizeof *group);
    if (!c->charge_product_key || !c->charge_plan || !c->plan_product_ranges ||
        !c->charge_versions || !group) {
        free(group);
        return RT_ENOMEM;
    }
    uint32_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        const rt_charge *ch = &c->charges[i];
        uint32_t plan = rt_catalog_plan(c, ch->plan_id, strlen(ch->plan_id));
        uint32_t pk = rt_catalog_product_key(c, ch->product_id, strlen(ch->product_id));
        RT_ASSERT(plan != RT_NO_INDEX && pk != RT_NO_INDEX);
        c->charge_product_key[i] = pk;
        c->charge_plan[i] = plan;
        int inserted;
        if ((st = rt_u64map_upsert(&c->plan_product, pp_key(plan, pk), groups, &group[i],
                                   &inserted)) != RT_OK)
            break;
        if (inserted) groups++;
        c->plan_product_ranges[group[i]].count++;
    }
    if (st == RT_OK) {
        uint32_t at = 0;
        for (uint32_t g = 0; g < groups; g++) {
            c->plan_product_ranges[g].first = at;
            at += c->plan_product_ranges[g].count;
            c->plan_product_ranges[g].count = 0;
        }
        for (size_t i = 0; i < n; i++) {
            rt_range32 *r = &c->plan_product_ranges[group[i]];
            /* Insert by valid_from so the version scan can stop early. */
            uint32_t j = r->first + r->count++;
            while (j > r->first &&
                   c->charges[c->charge_versions[j - 1]].valid_from > c->charges[i].valid_from) {
                c->charge_versions[j] = c->charge_versions[j - 1];
                j--;
            }
            c->charge_versions[j] = (uint32_t)i;
        }
    }
    free(group);
    return st;
}

static rt_status build_taxes(rt_catalog *c)
{
    size_t n = RT_BOOK_COUNT(c->book, RT_T_TAX_RATES);
    size_t bytes = 1;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(c->tax_rates[i].jurisdiction) + strlen(c->tax_rates[i].tax_category) + 2;
    c->tax_keys = malloc(bytes);
    c->tax_ranges = calloc(n ? n : 1, sizeof *c->tax_ranges);
    if (!c->tax_keys || !c->tax_ranges) return RT_ENOMEM;
    rt_status st = rt_strmap_init(&c->tax_index, n);
    if (st != RT_OK) return st;
    char *at = c->tax_keys;
    uint32_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        const rt_tax_rate *t = &c->tax_rates[i];
        bool same = i > 0 && strcmp(t->jurisdiction, c->tax_rates[i - 1].jurisdiction) == 0 &&
                    strcmp(t->tax_category, c->tax_rates[i - 1].tax_category) == 0;
        if (!same) {
            size_t lj = strlen(t->jurisdiction), lc = strlen(t->tax_category);
            memcpy(at, t->jurisdiction, lj);
            at[lj] = '\x1f';
            memcpy(at + lj + 1, t->tax_category, lc);
            if ((st = rt_strmap_put(&c->tax_index, at, lj + 1 + lc, groups)) != RT_OK) return st;
            at += lj + 1 + lc;
            c->tax_ranges[groups++] = (rt_range32){(uint32_t)i, 0};
        }
        c->tax_ranges[groups - 1].count++;
    }
    return RT_OK;
}

rt_status rt_catalog_build(const rt_book *book, rt_catalog *c, rt_error *err)
{
    return rt_catalog_build_tz(book, NULL, c, err);
}

rt_status rt_catalog_build_tz(const rt_book *book, const char *tzdir, rt_catalog *c, rt_error *err)
{
    memset(c, 0, sizeof *c);
    c->book = book;
    c->company = rt_book_company(book);
    c->accounts = RT_BOOK_ROWS(book, RT_T_ACCOUNTS, rt_account);
    c->products = RT_BOOK_ROWS(book, RT_T_PRODUCTS, rt_product);
    c->plans = RT_BOOK_ROWS(book, RT_T_PLANS, rt_plan);
    c->charges = RT_BOOK_ROWS(book, RT_T_CHARGES, rt_charge);
    c->account_plans = RT_BOOK_ROWS(book, RT_T_ACCOUNT_PLANS, rt_account_plan);
    c->tax_rates = RT_BOOK_ROWS(book, RT_T_TAX_RATES, rt_tax_rate);
    c->gl_accounts = RT_BOOK_ROWS(book, RT_T_GL_ACCOUNTS, rt_gl_account);
    c->account_count = RT_BOOK_COUNT(book, RT_T_ACCOUNTS);
    c->product_count = RT_BOOK_COUNT(book, RT_T_PRODUCTS);
    c->plan_count = RT_BOOK_COUNT(book, RT_T_PLANS);
    c->charge_count = RT_BOOK_COUNT(book, RT_T_CHARGES);
    c->gl_count = RT_BOOK_COUNT(book, RT_T_GL_ACCOUNTS);

    rt_status st;
    if ((st = build_named(&c->account_index, c->accounts, c->account_count, sizeof(rt_account),
                          offsetof(rt_account, account_id))) != RT_OK)
        goto fail;
    if ((st = build_named(&c->plan_index, c->plans, c->plan_count, sizeof(rt_plan),
                          offsetof(rt_plan, plan_id))) != RT_OK)
        goto fail;
    if ((st = build_named(&c->gl_index, c->gl_accounts, c->gl_count, sizeof(rt_gl_account),
                          offsetof(rt_gl_account, gl_account))) != RT_OK)
        goto fail;
    if ((st = build_products(c)) != RT_OK) goto fail;
    if ((st = build_account_plans(c)) != RT_OK) goto fail;
    if ((st = build_charges(c)) != RT_OK) goto fail;
    if ((st = build_taxes(c)) != RT_OK) goto fail;
    for (unsigned r = 0; r < RT_GL_ROLE_COUNT_; r++)
        c->gl_role[r] = RT_NO_INDEX;
    for (size_t i = 0; i < c->gl_count; i++)
        if (c->gl_accounts[i].role != RT_GL_REVENUE)
            c->gl_role[c->gl_accounts[i].role] = (uint32_t)i;
    if ((st = build_pricing(c, tzdir, err)) != RT_OK) {
        rt_catalog_free(c);
        return st;
    }
    return RT_OK;
fail:
    rt_catalog_free(c);
    return rt_error_set(err, st, NULL, 0, 0, NULL, "cannot build the rating index");
}

void rt_catalog_free(rt_catalog *c)
{
    rt_strmap_free(&c->account_index);
    rt_strmap_free(&c->product_index);
    rt_strmap_free(&c->plan_index);
    rt_strmap_free(&c->gl_index);
    rt_strmap_free(&c->tax_index);
    rt_u64map_free(&c->plan_product);
    free(c->product_keys);
    free(c->account_plan_ranges);
    free(c->account_plan_plan);
    free(c->charge_product_key);
    free(c->charge_plan);
    free(c->plan_product_ranges);
    free(c->charge_versions);
    free(c->tax_ranges);
    free(c->tax_keys);
    free_pricing(c);
    memset(c, 0, sizeof *c);
}

/* ---- lookups ---- */

static uint32_t lookup(const rt_strmap *m, const char *id, size_t len)
{
    uint32_t v;
    return rt_strmap_get(m, id, len, &v) == RT_OK ? v : RT_NO_INDEX;
}

uint32_t rt_catalog_account(const rt_catalog *c, const char *id, size_t len)
{
    return lookup(&c->account_index, id, len);
}
uint64_t rt_catalog_account_hash(const char *id, size_t len)
{
    return rt_strmap_hash(id, len);
}

void rt_catalog_account_prefetch(const rt_catalog *c, uint64_t hash, int step)
{
    if (step == 1) {
        rt_strmap_prefetch_slot(&c->account_index, hash);
        return;
    }
    uint32_t a = rt_strmap_prefetch_key(&c->account_index, hash);
    if (a < c->account_count) __builtin_prefetch(&c->account_plan_ranges[a]);
}

uint32_t rt_catalog_account_hashed(const rt_catalog *c, uint64_t hash, const char *id, size_t len)
{
    uint32_t v;
    return rt_strmap_get_hashed(&c->account_index, hash, id, len, &v) == RT_OK ? v : RT_NO_INDEX;
}

void rt_catalog_account_plans_prefetch(const rt_catalog *c, uint32_t account)
{
    if (account >= c->account_count) return;
    rt_range32 r = c->account_plan_ranges[account];
    __builtin_prefetch(&c->account_plans[r.first]);
    __builtin_prefetch(&c->account_plan_plan[r.first]);
}

uint32_t rt_catalog_product_key(const rt_catalog *c, const char *id, size_t len)
{
    return lookup(&c->product_index, id, len);
}
uint32_t rt_catalog_plan(const rt_catalog *c, const char *id, size_t len)
{
    return lookup(&c->plan_index, id, len);
}
uint32_t rt_catalog_gl(const rt_catalog *c, const char *gl_account)
{
    return lookup(&c->gl_index, gl_account, strlen(gl_account));
}

uint32_t rt_catalog_product_at(const rt_catalog *c, uint32_t pk, rt_time_s t)
{
    rt_range32 r = c->product_keys[pk];
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (c->products[i].valid_from <= t && t < c->products[i].valid_to) return i;
    return RT_NO_INDEX;
}

rt_status rt_catalog_charge_at(const rt_catalog *c, uint32_t account, uint32_t pk, rt_time_s t,
                               uint32_t *charge, int *no_plan)
{
    rt_range32 ar = c->account_plan_ranges[account];
    *no_plan = 1;
    for (uint32_t i = ar.first; i < ar.first + ar.count; i++) {
        const rt_account_plan *ap = &c->account_plans[i];
        if (t < ap->valid_from || t >= ap->valid_to) continue;
        *no_plan = 0;
        uint32_t g;
        if (rt_u64map_get(&c->plan_product, pp_key(c->account_plan_plan[i], pk), &g) != RT_OK)
            continue;
        rt_range32 r = c->plan_product_ranges[g];
        for (uint32_t k = r.first; k < r.first + r.count; k++) {
            const rt_charge *ch = &c->charges[c->charge_versions[k]];
            if (ch->valid_from > t) break;
            if (t < ch->valid_to) {
                *charge = c->charge_versions[k];
                return RT_OK;
            }
        }
    }
    return RT_ENOTFOUND;
}

uint32_t rt_catalog_tax_at(const rt_catalog *c, const char *jurisdiction, const char *category,
                           rt_time_s t)
{
    char key[2 * RT_ID_LEN_MAX + 2];
    size_t lj = strlen(jurisdiction), lc = strlen(category);
    if (lj + lc + 1 > sizeof key) return RT_NO_INDEX;
    memcpy(key, jurisdiction, lj);
    key[lj] = '\x1f';
    memcpy(key + lj + 1, category, lc);
    uint32_t g = lookup(&c->tax_index, key, lj + 1 + lc);
    if (g == RT_NO_INDEX) return RT_NO_INDEX;
    rt_range32 r = c->tax_ranges[g];
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (c->tax_rates[i].valid_from <= t && t < c->tax_rates[i].valid_to) return i;
    return RT_NO_INDEX;
}

/* ---- pricing tables: building ---- */

/* "a\x1fb" copied into the catalog's key arena. */
static const char *cat_pair(rt_catalog *c, const char *a, const char *b, size_t *len)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *k = rt_arena_alloc(&c->keys, n);
    if (!k) return NULL;
    *len = rt_strmap_pair(k, n, a, b);
    return k;
}

static uint32_t find_pair(const rt_strmap *m, const char *a, const char *b)
{
    char k[2 * RT_ID_LEN_MAX + 2];
    size_t len = rt_strmap_pair(k, sizeof k, a, b);
    return len ? lookup(m, k, len) : RT_NO_INDEX;
}

static void *calloc_n(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

static rt_status build_charge_keys(rt_catalog *c)
{
    size_t n = c->charge_count;
    c->charge_key = calloc_n(n, sizeof *c->charge_key);
    c->charge_key_rows = calloc_n(n, sizeof *c->charge_key_rows);
    c->plan_charges = calloc_n(c->plan_count, sizeof *c->plan_charges);
    c->charge_tiers = calloc_n(n, sizeof *c->charge_tiers);
    c->charge_deck = calloc_n(n, sizeof *c->charge_deck);
    if (!c->charge_key || !c->charge_key_rows || !c->plan_charges || !c->charge_tiers ||
        !c->charge_deck)
        return RT_ENOMEM;
    rt_status st = rt_strmap_init(&c->charge_key_index, n);
    for (size_t i = 0; st == RT_OK && i < n; i++) {
        const rt_charge *ch = &c->charges[i];
        if (i == 0 || strcmp(ch->plan_id, c->charges[i - 1].plan_id) != 0 ||
            strcmp(ch->charge_id, c->charges[i - 1].charge_id) != 0) {
            size_t len;
            const char *k = cat_pair(c, ch->plan_id, ch->charge_id, &len);
            if (!k) return RT_ENOMEM;
            c->charge_key_rows[c->charge_key_count] = (rt_range32){(uint32_t)i, 0};
            st = rt_strmap_put(&c->charge_key_index, k, len, (uint32_t)c->charge_key_count++);
        }
        c->charge_key[i] = (uint32_t)c->charge_key_count - 1;
        c->charge_key_rows[c->charge_key[i]].count++;
        rt_range32 *pr = &c->plan_charges[c->charge_plan[i]];
        if (pr->count == 0) pr->first = (uint32_t)i;
        pr->count++;
    }
    return st;
}

static rt_status build_tiers(rt_catalog *c)
{
    size_t n = RT_BOOK_COUNT(c->book, RT_T_TIERS);
    for (size_t i = 0; i < n;) {
        const rt_tier *t = &c->tiers[i];
        size_t j = i;
        while (j < n && strcmp(c->tiers[j].plan_id, t->plan_id) == 0 &&
               strcmp(c->tiers[j].charge_id, t->charge_id) == 0 &&
               c->tiers[j].valid_from == t->valid_from)
            j++;
        uint32_t key = find_pair(&c->charge_key_index, t->plan_id, t->charge_id);
        RT_ASSERT(key != RT_NO_INDEX); /* validated */
        rt_range32 r = c->charge_key_rows[key];
        for (uint32_t k = r.first; k < r.first + r.count; k++)
            if (c->charges[k].valid_from == t->valid_from)
                c->charge_tiers[k] = (rt_range32){(uint32_t)i, (uint32_t)(j - i)};
        i = j;
    }
    return RT_OK;
}

static rt_status build_decks(rt_catalog *c)
{
    rt_status st = rt_strmap_init(&c->deck_index, c->zone_count);
    if (st == RT_OK) st = rt_strmap_init(&c->zone_index, c->zone_count);
    size_t decks = 0;
    for (size_t i = 0; st == RT_OK && i < c->zone_count; i++) {
        const rt_zone *z = &c->zones[i];
        if (i == 0 || strcmp(z->deck_id, c->zones[i - 1].deck_id) != 0)
            st = rt_strmap_put(&c->deck_index, z->deck_id, strlen(z->deck_id), (uint32_t)decks++);
        size_t len;
        const char *k = cat_pair(c, z->deck_id, z->zone_id, &len);
        if (!k) return RT_ENOMEM;
        if (st == RT_OK) st = rt_strmap_put(&c->zone_index, k, len, (uint32_t)i);
    }
    if (st == RT_OK) st = rt_decks_init(&c->decks, decks);
    const rt_prefix *p = RT_BOOK_ROWS(c->book, RT_T_PREFIXES, rt_prefix);
    for (size_t i = 0; st == RT_OK && i < RT_BOOK_COUNT(c->book, RT_T_PREFIXES); i++) {
        uint32_t deck = lookup(&c->deck_index, p[i].deck_id, strlen(p[i].deck_id));
        uint32_t zone = find_pair(&c->zone_index, p[i].deck_id, p[i].zone_id);
        RT_ASSERT(deck != RT_NO_INDEX && zone != RT_NO_INDEX); /* validated */
        st = rt_decks_add(&c->decks, deck, p[i].prefix, strlen(p[i].prefix), p[i].valid_from,
                          p[i].valid_to, zone);
    }
    for (size_t i = 0; st == RT_OK && i < c->charge_count; i++) {
        const char *d = c->charges[i].deck_id;
        c->charge_deck[i] = d[0] ? lookup(&c->deck_index, d, strlen(d)) : RT_NO_INDEX;
    }
    return st;
}

static rt_status build_time_zones(rt_catalog *c, const char *tzdir, rt_error *err)
{
    c->plan_tz = calloc_n(c->plan_count, sizeof *c->plan_tz);
    c->tzs = calloc_n(c->plan_count, sizeof *c->tzs);
    if (!c->plan_tz || !c->tzs)
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t i = 0; i < c->plan_count; i++) {
        const char *name = c->plans[i].time_zone;
        c->plan_tz[i] = RT_NO_INDEX;
        if (!name[0]) continue;
        size_t k = 0;
        while (k < c->tz_count && strcmp(c->tzs[k].name, name) != 0)
            k++;
        if (k == c->tz_count) {
            rt_status st = rt_tz_load(tzdir, name, &c->tzs[k], err);
            if (st != RT_OK) return st;
            c->tz_count++;
        }
        c->plan_tz[i] = (uint32_t)k;
    }
    return RT_OK;
}

/* Rules of one day type of one band set, appended to band_rules by start. */
static void add_day_rules(rt_catalog *c, size_t first, size_t end, int day, uint32_t *at)
{
    const rt_time_band *t = RT_BOOK_ROWS(c->book, RT_T_TIME_BANDS, rt_time_band);
    uint32_t from = *at;
    for (size_t i = first; i < end; i++) {
        if (!(t[i].days & (INT64_C(1) << day))) continue;
        uint32_t band = lookup(&c->band_index, t[i].band_id, strlen(t[i].band_id));
        rt_band_rule r = {(int32_t)t[i].start_s, (int32_t)t[i].end_s, band};
        uint32_t j = (*at)++;
        while (j > from && c->band_rules[j - 1].start_s > r.start_s) {
            c->band_rules[j] = c->band_rules[j - 1];
            j--;
        }
        c->band_rules[j] = r;
    }
}

static rt_status build_bands(rt_catalog *c)
{
    const rt_time_band *t = RT_BOOK_ROWS(c->book, RT_T_TIME_BANDS, rt_time_band);
    size_t n = RT_BOOK_COUNT(c->book, RT_T_TIME_BANDS);
    const rt_holiday *h = RT_BOOK_ROWS(c->book, RT_T_HOLIDAYS, rt_holiday);
    size_t nh = RT_BOOK_COUNT(c->book, RT_T_HOLIDAYS);
    rt_strmap set_index;
    rt_status st = rt_strmap_init(&c->band_index, RT_BANDS_MAX);
    if (st == RT_OK) st = rt_strmap_init(&set_index, n);
    if (st != RT_OK) return st;
    c->band_rules = calloc_n(8 * n, sizeof *c->band_rules);
    c->band_sets = calloc_n(n, sizeof *c->band_sets);
    c->holiday_days = calloc_n(nh, sizeof *c->holiday_days);
    c->plan_band_set = calloc_n(c->plan_count, sizeof *c->plan_band_set);
    if (!c->band_rules || !c->band_sets || !c->holiday_days || !c->plan_band_set) st = RT_ENOMEM;
    c->band_names[RT_BAND_NONE] = "";
    for (size_t i = 0; st == RT_OK && i < n; i++) {
        st = rt_strmap_put(&c->band_index, t[i].band_id, strlen(t[i].band_id),
                           (uint32_t)c->band_count + 1);
        if (st == RT_OK) {
            RT_ASSERT(c->band_count < RT_BANDS_MAX); /* validated */
            c->band_names[++c->band_count] = t[i].band_id;
        }
        if (st == RT_EEXIST) st = RT_OK;
    }
    uint32_t at = 0;
    for (size_t i = 0; st == RT_OK && i < n;) {
        size_t j = i;
        while (j < n && strcmp(t[j].band_set_id, t[i].band_set_id) == 0)
            j++;
        rt_band_set *bs = &c->band_sets[c->band_set_count];
        st = rt_strmap_put(&set_index, t[i].band_set_id, strlen(t[i].band_set_id),
                           (uint32_t)c->band_set_count++);
        for (int d = 0; d < 8; d++) {
            bs->rule_first[d] = at;
            add_day_rules(c, i, j, d, &at);
        }
        bs->rule_first[8] = at;
        i = j;
    }
    for (size_t i = 0; st == RT_OK && i < nh; i++) {
        c->holiday_days[i] = (rt_days)h[i].date;
        uint32_t s = lookup(&set_index, h[i].band_set_id, strlen(h[i].band_set_id));
        RT_ASSERT(s != RT_NO_INDEX);
        if (c->band_sets[s].holiday_count++ == 0) c->band_sets[s].holiday_first = (uint32_t)i;
    }
    for (size_t i = 0; st == RT_OK && i < c->plan_count; i++) {
        const char *b = c->plans[i].band_set_id;
        c->plan_band_set[i] = b[0] ? lookup(&set_index, b, strlen(b)) : RT_NO_INDEX;
    }
    rt_strmap_free(&set_index);
    return st;
}

#define RATE_KEY_CHARGES_MAX (UINT32_C(1) << 23)
#define RATE_KEY_ZONES_MAX (UINT32_C(1) << 23)

static uint64_t rate_key(uint32_t charge_key, uint32_t zone, uint32_t band)
{
    uint64_t z = zone == RT_NO_INDEX ? 0 : (uint64_t)zone + 1;
    return ((uint64_t)charge_key + 1) << 40 | z << 16 | band;
}

static int time_cmp(const void *x, const void *y)
{
    rt_time_s a = *(const rt_time_s *)x, b = *(const rt_time_s *)y;
    return a < b ? -1 : a > b;
}

/* Grow the group array to hold `need` groups, and the rows to hold `rows_need`. */
static rt_status rate_room(rt_catalog *c, size_t need, size_t rows_need, size_t *cap,
                           size_t *rows_cap)
{
    if (need > *cap) {
        size_t n = *cap * 2 > need ? *cap * 2 : need;
        rt_rate_group *g = realloc(c->rate_groups, n * sizeof *g);
        if (!g) return RT_ENOMEM;
        c->rate_groups = g;
        *cap = n;
    }
    if (rows_need > *rows_cap) {
        size_t n = *rows_cap * 2 > rows_need ? *rows_cap * 2 : rows_need;
        uint32_t *r = realloc(c->rate_group_rows, n * sizeof *r);
        if (!r) return RT_ENOMEM;
        c->rate_group_rows = r;
        *rows_cap = n;
    }
    return RT_OK;
}

/* The versions of one key's rows [i, j) (sorted by interval_start): between consecutive
 * validity bounds of its rows, the rows in force throughout form a group, linked in time
 * order; the first goes into the index. */
static rt_status build_rate_versions(rt_catalog *c, size_t i, size_t j, uint64_t key,
                                     size_t *cap, size_t *rows_cap, size_t *nrows)
{
    size_t nb = 2 * (j - i);
    rt_time_s *bounds = malloc(nb * sizeof *bounds);
    if (!bounds) return RT_ENOMEM;
    for (size_t k = i; k < j; k++) {
        bounds[2 * (k - i)] = c->rates[k].valid_from;
        bounds[2 * (k - i) + 1] = c->rates[k].valid_to;
    }
    qsort(bounds, nb, sizeof *bounds, time_cmp);
    rt_status st = RT_OK;
    uint32_t prev = RT_NO_INDEX;
    for (size_t b = 0; st == RT_OK && b + 1 < nb; b++) {
        rt_time_s from = bounds[b], to = bounds[b + 1];
        if (from == to) continue;
        size_t first = *nrows;
        if ((st = rate_room(c, c->rate_group_count + 1, *nrows + (j - i), cap, rows_cap)) != RT_OK)
            break;
        for (size_t k = i; k < j; k++)
            if (c->rates[k].valid_from <= from && c->rates[k].valid_to >= to)
                c->rate_group_rows[(*nrows)++] = (uint32_t)k;
        if (*nrows == first) continue; /* a gap: no rate in force */
        uint32_t g = (uint32_t)c->rate_group_count++;
        c->rate_groups[g] = (rt_rate_group){(uint32_t)first, (uint32_t)(*nrows - first),
                                            RT_NO_INDEX, from, to};
        if (prev != RT_NO_INDEX) {
            c->rate_groups[prev].next = g;
        } else {
            uint32_t got;
            int inserted;
            st = rt_u64map_upsert(&c->rate_index, key, g, &got, &inserted);
            RT_ASSERT(st != RT_OK || inserted);
        }
        prev = g;
    }
    free(bounds);
    return st;
}

static rt_status build_rates(rt_catalog *c)
{
    size_t n = c->rate_count;
    if (c->charge_key_count >= RATE_KEY_CHARGES_MAX || c->zone_count >= RATE_KEY_ZONES_MAX)
        return RT_ELIMIT;
    c->charge_key_rated = calloc_n(c->charge_key_count, sizeof *c->charge_key_rated);
    if (!c->charge_key_rated) return RT_ENOMEM;
    size_t cap = 0, rows_cap = 0, nrows = 0;
    rt_status st = rate_room(c, n ? n : 1, n ? n : 1, &cap, &rows_cap);
    if (st == RT_OK) st = rt_u64map_init(&c->rate_index, n);
    for (size_t i = 0; st == RT_OK && i < n;) {
        const rt_rate *r = &c->rates[i];
        size_t j = i;
        while (j < n && strcmp(c->rates[j].plan_id, r->plan_id) == 0 &&
               strcmp(c->rates[j].charge_id, r->charge_id) == 0 &&
               strcmp(c->rates[j].zone_id, r->zone_id) == 0 &&
               strcmp(c->rates[j].band_id, r->band_id) == 0)
            j++;
        uint32_t key = find_pair(&c->charge_key_index, r->plan_id, r->charge_id);
        RT_ASSERT(key != RT_NO_INDEX);
        const rt_charge *ch = &c->charges[c->charge_key_rows[key].first];
        uint32_t zone =
            r->zone_id[0] ? find_pair(&c->zone_index, ch->deck_id, r->zone_id) : RT_NO_INDEX;
        uint32_t band =
            r->band_id[0] ? lookup(&c->band_index, r->band_id, strlen(r->band_id)) : RT_BAND_NONE;
        RT_ASSERT((zone != RT_NO_INDEX) == (r->zone_id[0] != 0) && band != RT_NO_INDEX);
        c->charge_key_rated[key] = 1;
        st = build_rate_versions(c, i, j, rate_key(key, zone, band), &cap, &rows_cap, &nrows);
        i = j;
    }
    return st;
}

/* Allowances per plan (rows are sorted by plan_id), and discounts per account and plan. */
static rt_status build_period_rules(rt_catalog *c)
{
    c->plan_allowances = calloc_n(c->plan_count, sizeof *c->plan_allowances);
    c->account_discounts = calloc_n(c->account_count, sizeof *c->account_discounts);
    c->plan_discounts = calloc_n(c->plan_count, sizeof *c->plan_discounts);
    c->discount_rows = calloc_n(c->discount_count, sizeof *c->discount_rows);
    if (!c->plan_allowances || !c->account_discounts || !c->plan_discounts || !c->discount_rows)
        return RT_ENOMEM;
    for (size_t i = 0; i < c->allowance_count; i++) {
        const char *id = c->allowances[i].plan_id;
        rt_range32 *r = &c->plan_allowances[rt_catalog_plan(c, id, strlen(id))];
        if (r->count++ == 0) r->first = (uint32_t)i;
    }
    /* Counting sort: the account's own discounts (by account row), then plan-wide ones (by
     * plan row); within a group in discount row order, that is by discount_id. */
    uint32_t *group = calloc_n(c->discount_count, sizeof *group);
    if (!group) return RT_ENOMEM;
    for (size_t i = 0; i < c->discount_count; i++) {
        const rt_discount *d = &c->discounts[i];
        bool own = d->account_id[0] != 0;
        const char *id = own ? d->account_id : d->plan_id;
        uint32_t row =
            own ? rt_catalog_account(c, id, strlen(id)) : rt_catalog_plan(c, id, strlen(id));
        RT_ASSERT(row != RT_NO_INDEX); /* validated */
        group[i] = own ? row : (uint32_t)c->account_count + row;
        rt_range32 *r = own ? &c->account_discounts[row] : &c->plan_discounts[row];
        r->count++;
    }
    uint32_t at = 0;
    for (size_t g = 0; g < c->account_count + c->plan_count; g++) {
        rt_range32 *r = g < c->account_count ? &c->account_discounts[g]
                                             : &c->plan_discounts[g - c->account_count];
        r->first = at;
        at += r->count;
        r->count = 0;
    }
    for (size_t i = 0; i < c->discount_count; i++) {
        uint32_t g = group[i];
        rt_range32 *r = g < c->account_count ? &c->account_discounts[g]
                                             : &c->plan_discounts[g - c->account_count];
        c->discount_rows[r->first + r->count++] = (uint32_t)i;
    }
    free(group);
    return RT_OK;
}

static rt_status build_pricing(rt_catalog *c, const char *tzdir, rt_error *err)
{
    const rt_book *b = c->book;
    c->tiers = RT_BOOK_ROWS(b, RT_T_TIERS, rt_tier);
    c->zones = RT_BOOK_ROWS(b, RT_T_ZONES, rt_zone);
    c->rates = RT_BOOK_ROWS(b, RT_T_RATES, rt_rate);
    c->allowances = RT_BOOK_ROWS(b, RT_T_ALLOWANCES, rt_allowance);
    c->discounts = RT_BOOK_ROWS(b, RT_T_DISCOUNTS, rt_discount);
    c->fx_rates = RT_BOOK_ROWS(b, RT_T_FX_RATES, rt_fx_rate);
    c->zone_count = RT_BOOK_COUNT(b, RT_T_ZONES);
    c->rate_count = RT_BOOK_COUNT(b, RT_T_RATES);
    c->allowance_count = RT_BOOK_COUNT(b, RT_T_ALLOWANCES);
    c->discount_count = RT_BOOK_COUNT(b, RT_T_DISCOUNTS);
    c->fx_count = RT_BOOK_COUNT(b, RT_T_FX_RATES);
    rt_arena_init(&c->keys, 64 * 1024);
    rt_status st = build_time_zones(c, tzdir, err);
    if (st != RT_OK) return st;
    if ((st = build_charge_keys(c)) == RT_OK && (st = build_tiers(c)) == RT_OK &&
        (st = build_decks(c)) == RT_OK && (st = build_bands(c)) == RT_OK &&
        (st = build_rates(c)) == RT_OK)
        st = build_period_rules(c);
    if (st == RT_ELIMIT)
        return rt_error_set(err, st, NULL, 0, 0, NULL,
                            "the book has more charges or zones than the rating index holds");
    if (st != RT_OK) return rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

static void free_pricing(rt_catalog *c)
{
    for (size_t i = 0; i < c->tz_count; i++)
        rt_tz_free(&c->tzs[i]);
    free(c->tzs);
    free(c->plan_tz);
    rt_arena_free(&c->keys);
    rt_strmap_free(&c->charge_key_index);
    free(c->charge_key);
    free(c->charge_key_rows);
    free(c->plan_charges);
    free(c->charge_tiers);
    free(c->plan_allowances);
    free(c->discount_rows);
    free(c->account_discounts);
    free(c->plan_discounts);
    rt_strmap_free(&c->deck_index);
    rt_strmap_free(&c->zone_index);
    rt_decks_free(&c->decks);
    free(c->charge_deck);
    rt_strmap_free(&c->band_index);
    free(c->plan_band_set);
    free(c->band_sets);
    free(c->band_rules);
    free(c->holiday_days);
    rt_u64map_free(&c->rate_index);
    free(c->rate_groups);
    free(c->rate_group_rows);
    free(c->charge_key_rated);
}

/* ---- pricing lookups ---- */

uint32_t rt_catalog_zone_of(const rt_catalog *c, uint32_t charge, const char *digits, size_t len,
                            rt_time_s t, size_t *matched)
{
    uint32_t deck = c->charge_deck[charge];
    if (matched) *matched = 0;
    if (deck == RT_NO_INDEX) return RT_NO_INDEX;
    uint32_t z = rt_decks_match(&c->decks, deck, digits, len, t, matched);
    return z == RT_DECK_NONE ? RT_NO_INDEX : z;
}

rt_dialling rt_catalog_dialling(const rt_catalog *c, uint32_t plan)
{
    const rt_plan *p = &c->plans[plan];
    return (rt_dialling){p->country_code, p->national_prefix, p->international_prefix};
}

int32_t rt_catalog_plan_offset_s(const rt_catalog *c, uint32_t plan, rt_time_s t)
{
    uint32_t z = c->plan_tz[plan];
    return z == RT_NO_INDEX ? 0 : rt_tz_offset_s(&c->tzs[z], t);
}

static bool is_holiday(const rt_catalog *c, const rt_band_set *bs, rt_days day)
{
    size_t lo = bs->holiday_first, hi = bs->holiday_first + bs->holiday_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->holiday_days[mid] == day) return true;
        if (c->holiday_days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* The band of the rules of one day type at local second sod (RT_NO_INDEX: none covers
 * it), and the next rule boundary after sod into *next (unchanged when there is none). */
static uint32_t band_of_day(const rt_catalog *c, const rt_band_set *bs, int day, int32_t sod,
                            int32_t *next)
{
    uint32_t band = RT_NO_INDEX;
    for (uint32_t i = bs->rule_first[day]; i < bs->rule_first[day + 1]; i++) {
        const rt_band_rule *r = &c->band_rules[i];
        if (r->start_s <= sod && sod < r->end_s) band = r->band;
        if (r->start_s > sod && r->start_s < *next) *next = r->start_s;
        if (r->end_s > sod && r->end_s < *next) *next = r->end_s;
    }
    return band;
}

uint32_t rt_catalog_band_at(const rt_catalog *c, uint32_t plan, rt_time_s t, rt_time_s *until)
{
    uint32_t s = c->plan_band_set[plan];
    *until = RT_TIME_OPEN_END;
    if (s == RT_NO_INDEX) return RT_BAND_NONE;
    const rt_band_set *bs = &c->band_sets[s];
    uint32_t z = c->plan_tz[plan];
    int32_t off = z == RT_NO_INDEX ? 0 : rt_tz_offset_s(&c->tzs[z], t);
    rt_time_s local = t + off;
    rt_days day = rt_days_of(local);
    int32_t sod = (int32_t)(local - rt_time_of_days(day)), next = 86400;
    uint32_t band = RT_NO_INDEX;
    /* A holiday's own rules win where they apply; its weekday's rules fill the rest. */
    if (is_holiday(c, bs, day)) band = band_of_day(c, bs, 7, sod, &next);
    uint32_t weekday_band = band_of_day(c, bs, (int)rt_iso_weekday(day) - 1, sod, &next);
    if (band == RT_NO_INDEX) band = weekday_band;
    RT_ASSERT(band != RT_NO_INDEX); /* validated: weekdays are covered around the clock */
    *until = rt_time_of_days(day) + next - off;
    if (z != RT_NO_INDEX) {
        rt_time_s change = rt_tz_next_change(&c->tzs[z], t);
        if (change < *until) *until = change;
    }
    return band;
}

static bool in_force(rt_time_s from, rt_time_s to, rt_time_s t)
{
    return from <= t && t < to;
}

uint32_t rt_catalog_rate_group(const rt_catalog *c, uint32_t charge, uint32_t zone, uint32_t band,
                               rt_time_s t)
{
    const uint32_t zones[4] = {zone, zone, RT_NO_INDEX, RT_NO_INDEX};
    const uint32_t bands[4] = {band, RT_BAND_NONE, band, RT_BAND_NONE};
    uint32_t key = c->charge_key[charge];
    for (int k = 0; k < 4; k++) {
        if ((k == 0 || k == 1) && zone == RT_NO_INDEX) continue;
        if ((k == 0 || k == 2) && band == RT_BAND_NONE) continue;
        uint32_t g;
        if (rt_u64map_get(&c->rate_index, rate_key(key, zones[k], bands[k]), &g) != RT_OK) continue;
        while (g != RT_NO_INDEX && !in_force(c->rate_groups[g].from, c->rate_groups[g].to, t))
            g = c->rate_groups[g].next; /* the version in force at t */
        if (g != RT_NO_INDEX && rt_catalog_rate_first(c, g)->interval_start == 0) return g;
    }
    return RT_NO_INDEX;
}

int64_t rt_catalog_fx_at(const rt_catalog *c, const char *currency, rt_time_s t)
{
    if (strcmp(currency, c->company->functional_currency) == 0) return RT_NANOS_PER_UNIT;
    for (size_t i = 0; i < c->fx_count; i++) {
        const rt_fx_rate *f = &c->fx_rates[i];
        if (strcmp(f->currency, currency) == 0 && in_force(f->valid_from, f->valid_to, t))
            return f->rate_nanos;
    }
    return RT_UNSET;
}

uint32_t rt_catalog_charge_key(const rt_catalog *c, const char *plan_id, const char *charge_id)
{
    return find_pair(&c->charge_key_index, plan_id, charge_id);
}

uint32_t rt_catalog_zone(const rt_catalog *c, const char *deck_id, const char *zone_id)
{
    return find_pair(&c->zone_index, deck_id, zone_id);
}

uint32_t rt_catalog_charge_version_at(const rt_catalog *c, uint32_t k, rt_time_s t)
{
    rt_range32 r = c->charge_key_rows[k];
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (in_force(c->charges[i].valid_from, c->charges[i].valid_to, t)) return i;
    return RT_NO_INDEX;
}

uint32_t rt_catalog_product_for(const rt_catalog *c, uint32_t pk, rt_time_s t)
{
    uint32_t p = rt_catalog_product_at(c, pk, t);
    if (p != RT_NO_INDEX) return p;
    rt_range32 r = c->product_keys[pk];
    uint32_t best = r.first;
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (c->products[i].valid_from <= t) best = i;
    return best;
}

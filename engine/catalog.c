/* catalog: indexes over a loaded price book for lock-free lookups during rating. */
#include "engine/catalog.h"

#include <stdlib.h>
#include <string.h>

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
    c->account_plan_ranges = calloc(c->account_count ? c->account_count : 1,
                                    sizeof *c->account_plan_ranges);
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
    if (!c->charge_product_key || !c->charge_plan || !c->plan_product_ranges || !c->charge_versions || !group) {
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
    for (unsigned r = 0; r < RT_GL_ROLE_COUNT_; r++) c->gl_role[r] = RT_NO_INDEX;
    for (size_t i = 0; i < c->gl_count; i++)
        if (c->gl_accounts[i].role != RT_GL_REVENUE) c->gl_role[c->gl_accounts[i].role] = (uint32_t)i;
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

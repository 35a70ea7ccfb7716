/* corrections: stored invoices, comparison, credit notes. */
#include "engine/corrections.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pack.h"
#include "engine/registry.h"

/* ---- canonical content ---- */

static const char *effective_description(const rt_catalog *cat, const rt_invoice_line *l)
{
    if (l->description) return l->description;
    if (l->charge != RT_NO_INDEX && cat->charges[l->charge].description[0])
        return cat->charges[l->charge].description;
    return cat->products[l->product].name;
}

rt_status rt_invoice_pack_format(const rt_catalog *cat, const rt_invoice *inv, unsigned format,
                                 rt_buf *b, rt_error *err)
{
    rt_pack_u8(b, (uint8_t)format);
    rt_pack_str(b, inv->currency->code);
    rt_pack_svarint(b, inv->issue_day);
    rt_pack_svarint(b, inv->due_day);
    rt_pack_svarint(b, inv->tax_point_day);
    rt_pack_svarint(b, inv->net_minor);
    rt_pack_svarint(b, inv->tax_minor);
    rt_pack_svarint(b, inv->gross_minor);
    rt_pack_uvarint(b, inv->events);
    rt_pack_uvarint(b, inv->line_count);
    for (size_t i = 0; i < inv->line_count; i++) {
        const rt_invoice_line *l = &inv->lines[i];
        const rt_product *p = &cat->products[l->product];
        const rt_tax_rate *t = &cat->tax_rates[l->tax];
        rt_pack_uvarint(b, l->kind);
        rt_pack_uvarint(b, l->deferred);
        if (l->charge == RT_NO_INDEX) {
            rt_pack_str(b, "");
            rt_pack_str(b, "");
            rt_pack_svarint(b, 0);
        } else {
            const rt_charge *c = &cat->charges[l->charge];
            rt_pack_str(b, c->plan_id);
            rt_pack_str(b, c->charge_id);
            rt_pack_svarint(b, c->valid_from);
        }
        rt_pack_str(b, p->product_id);
        rt_pack_svarint(b, p->valid_from);
        rt_pack_str(b, t->jurisdiction);
        rt_pack_str(b, t->tax_category);
        rt_pack_svarint(b, t->valid_from);
        rt_pack_uvarint(b, l->events);
        rt_pack_svarint(b, l->quantity_base);
        rt_pack_svarint(b, l->billable_base);
        if (format < 3) rt_pack_svarint(b, l->amount_nanos); /* 3: what it shows, no more */
        rt_pack_svarint(b, l->net_minor);
        rt_pack_svarint(b, l->service_start_day);
        rt_pack_svarint(b, l->service_end_day);
        rt_pack_str(b, effective_description(cat, l));
        rt_pack_uvarint(b, l->subtotal);
        if (format >= 2) {
            /* What the line shows: its price and the units it is for, and its rate terms. */
            int64_t price, per;
            rt_line_shown_price(cat, l, &price, &per);
            rt_rate_step buf[RT_RATE_INTERVALS_MAX];
            rt_line_terms lt = rt_line_terms_of(cat, inv, i, buf);
            rt_pack_svarint(b, price);
            rt_pack_svarint(b, per);
            rt_pack_svarint(b, lt.setup_fee_nanos == RT_UNSET ? 0 : lt.setup_fee_nanos);
            rt_pack_svarint(b, lt.min_per_event_nanos);
            rt_pack_svarint(b, lt.max_per_event_nanos);
            rt_pack_uvarint(b, lt.step_count);
            for (uint32_t k = 0; k < lt.step_count; k++) {
                rt_pack_svarint(b, lt.steps[k].from_base);
                rt_pack_svarint(b, lt.steps[k].price_nanos);
                rt_pack_svarint(b, lt.steps[k].price_per);
            }
        }
    }
    rt_pack_uvarint(b, inv->tax_count);
    for (size_t s = 0; s < inv->tax_count; s++) {
        const rt_tax_subtotal *t = &inv->taxes[s];
        rt_pack_svarint(b, t->vat_code);
        rt_pack_svarint(b, t->rate_e4);
        rt_pack_svarint(b, t->base_minor);
        rt_pack_svarint(b, t->tax_minor);
    }
    if (format >= 3) rt_pack_svarint(b, rt_invoice_fx_rate(cat, inv));
    if (b->failed) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

rt_status rt_invoice_pack(const rt_catalog *cat, const rt_invoice *inv, rt_buf *b, rt_error *err)
{
    return rt_invoice_pack_format(cat, inv, RT_INVOICE_CONTENT, b, err);
}

/* ---- rebuilding a stored invoice against today's book ---- */

typedef struct unpacker {
    const rt_catalog *cat;
    rt_unpack u;
    rt_arena *arena;
    const char *number;
    rt_error *err;
} unpacker;

static char *str(unpacker *k)
{
    size_t len;
    const char *s = rt_unpack_str(&k->u, &len);
    return rt_arena_strndup(k->arena, s, len);
}

static rt_status missing(unpacker *k, const char *what, const char *id)
{
    return rt_error_set(k->err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                        "invoice %s cannot be credited: %s '%s' of it is no longer in the price "
                        "book (re-import a book that still has it)",
                        k->number, what, id);
}

static uint32_t find_charge(const rt_catalog *cat, const char *plan, const char *charge,
                            rt_time_s from)
{
    uint32_t k = rt_catalog_charge_key(cat, plan, charge);
    if (k == RT_NO_INDEX) return RT_NO_INDEX;
    rt_range32 r = cat->charge_key_rows[k];
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (cat->charges[i].valid_from == from) return i;
    return RT_NO_INDEX;
}

static uint32_t find_product(const rt_catalog *cat, const char *id, rt_time_s from)
{
    uint32_t pk = rt_catalog_product_key(cat, id, strlen(id));
    if (pk == RT_NO_INDEX) return RT_NO_INDEX;
    rt_range32 r = cat->product_keys[pk];
    for (uint32_t i = r.first; i < r.first + r.count; i++)
        if (cat->products[i].valid_from == from) return i;
    return RT_NO_INDEX;
}

static rt_status unpack_line(unpacker *k, unsigned format, unsigned minor_units,
                             rt_invoice_line *l, rt_line_terms *terms)
{
    const rt_catalog *cat = k->cat;
    memset(l, 0, sizeof *l);
    l->zone = l->rate_group = RT_NO_INDEX; /* not stored: the stored terms stand for them */
    uint64_t kind = rt_unpack_uvarint(&k->u), deferred = rt_unpack_uvarint(&k->u);
    if (kind >= RT_LINE_KIND_COUNT_ || deferred > 1) return RT_ECORRUPT;
    l->kind = (uint8_t)kind;
    l->deferred = (uint8_t)deferred;
    char *plan = str(k), *charge = str(k);
    rt_time_s cfrom = rt_unpack_svarint(&k->u);
    char *product = str(k);
    rt_time_s pfrom = rt_unpack_svarint(&k->u);
    char *jur = str(k), *tcat = str(k);
    rt_time_s tfrom = rt_unpack_svarint(&k->u);
    if (!plan || !charge || !product || !jur || !tcat) return RT_ENOMEM;
    l->events = rt_unpack_uvarint(&k->u);
    l->quantity_base = rt_unpack_svarint(&k->u);
    l->billable_base = rt_unpack_svarint(&k->u);
    if (format < 3) l->amount_nanos = rt_unpack_svarint(&k->u);
    l->net_minor = rt_unpack_svarint(&k->u);
    if (format >= 3 && rt_mul_i64(l->net_minor, rt_pow10(RT_NANOS_SCALE - minor_units),
                                  &l->amount_nanos) != RT_OK)
        return RT_ECORRUPT;
    l->service_start_day = (rt_days)rt_unpack_svarint(&k->u);
    l->service_end_day = (rt_days)rt_unpack_svarint(&k->u);
    l->description = str(k);
    uint64_t subtotal = rt_unpack_uvarint(&k->u);
    if (format >= 2) { /* the price the invoice showed, whatever the book says now */
        l->unit_price_nanos = rt_unpack_svarint(&k->u);
        l->price_per = rt_unpack_svarint(&k->u);
        terms->setup_fee_nanos = rt_unpack_svarint(&k->u);
        terms->min_per_event_nanos = rt_unpack_svarint(&k->u);
        terms->max_per_event_nanos = rt_unpack_svarint(&k->u);
        uint64_t steps = rt_unpack_uvarint(&k->u);
        if (l->price_per < 0 || steps >= RT_RATE_INTERVALS_MAX) return RT_ECORRUPT;
        rt_rate_step *st = NULL;
        if (steps && !(st = rt_arena_alloc(k->arena, steps * sizeof *st))) return RT_ENOMEM;
        for (uint64_t j = 0; j < steps; j++) {
            st[j].from_base = rt_unpack_svarint(&k->u);
            st[j].price_nanos = rt_unpack_svarint(&k->u);
            st[j].price_per = rt_unpack_svarint(&k->u);
            if (st[j].price_per <= 0) return RT_ECORRUPT;
        }
        terms->steps = st;
        terms->step_count = (uint32_t)steps;
    }
    if (!l->description) return RT_ENOMEM;
    if (k->u.bad || subtotal >= RT_SUBTOTALS_MAX) return RT_ECORRUPT;
    l->subtotal = (uint16_t)subtotal;
    l->charge = RT_NO_INDEX;
    if (plan[0] && (l->charge = find_charge(cat, plan, charge, cfrom)) == RT_NO_INDEX)
        return missing(k, "charge", charge);
    if ((l->product = find_product(cat, product, pfrom)) == RT_NO_INDEX)
        return missing(k, "product", product);
    l->tax = rt_catalog_tax_at(cat, jur, tcat, tfrom);
    if (l->tax == RT_NO_INDEX || cat->tax_rates[l->tax].valid_from != tfrom)
        return missing(k, "tax rate of category", tcat);
    return RT_OK;
}

/* Rebuild a stored invoice against today's book into *inv (its lines and terms in arena), its
 * amounts negated when `negate` (a credit note's). RT_ENOTFOUND when a row it names is no
 * longer in the book, RT_ECORRUPT, RT_ENOMEM. */
static rt_status unpack_invoice(const rt_catalog *cat, const rt_registry_invoice *s,
                                const void *content, size_t len, uint32_t account, bool negate,
                                rt_arena *arena, rt_invoice *inv, rt_error *err)
{
    unpacker k = {cat, {0}, arena, s->number, err};
    rt_unpack_init(&k.u, content, len);
    memset(inv, 0, sizeof *inv);
    inv->account = account;
    int64_t sign = negate ? -1 : 1;
    rt_status st = RT_ECORRUPT;
    unsigned format = rt_unpack_u8(&k.u);
    if (format < RT_INVOICE_CONTENT_1 || format > RT_INVOICE_CONTENT) goto bad;
    char *cur = str(&k);
    if (!cur) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    inv->currency = rt_currency_find(cur);
    inv->issue_day = (rt_days)rt_unpack_svarint(&k.u);
    inv->due_day = (rt_days)rt_unpack_svarint(&k.u);
    inv->tax_point_day = (rt_days)rt_unpack_svarint(&k.u);
    inv->net_minor = sign * rt_unpack_svarint(&k.u);
    inv->tax_minor = sign * rt_unpack_svarint(&k.u);
    inv->gross_minor = sign * rt_unpack_svarint(&k.u);
    inv->events = rt_unpack_uvarint(&k.u);
    uint64_t nl = rt_unpack_uvarint(&k.u);
    if (k.u.bad || !inv->currency || nl > 1000000) goto bad;
    inv->lines = rt_arena_alloc(arena, (nl ? nl : 1) * sizeof *inv->lines);
    rt_line_terms *terms = NULL; /* format 1 has none: the book's show */
    if (format >= 2 && !(terms = rt_arena_alloc(arena, (nl ? nl : 1) * sizeof *terms)))
        inv->lines = NULL;
    if (!inv->lines) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    inv->terms = terms;
    for (uint64_t i = 0; i < nl; i++) {
        rt_invoice_line *l = &inv->lines[inv->line_count++];
        rt_line_terms unused;
        if ((st = unpack_line(&k, format, inv->currency->minor_units, l,
                              terms ? &terms[i] : &unused)) != RT_OK) {
            if (st == RT_ENOTFOUND) return st;
            goto bad;
        }
        l->amount_nanos *= sign;
        l->net_minor *= sign;
    }
    uint64_t nt = rt_unpack_uvarint(&k.u);
    if (k.u.bad || nt > nl) goto bad;
    inv->taxes = rt_arena_alloc(arena, (nt ? nt : 1) * sizeof *inv->taxes);
    if (!inv->taxes) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (uint64_t i = 0; i < nt; i++) {
        rt_tax_subtotal *t = &inv->taxes[inv->tax_count++];
        t->vat_code = (int32_t)rt_unpack_svarint(&k.u);
        t->rate_e4 = rt_unpack_svarint(&k.u);
        t->base_minor = sign * rt_unpack_svarint(&k.u);
        t->tax_minor = sign * rt_unpack_svarint(&k.u);
    }
    for (size_t i = 0; i < inv->line_count; i++) {
        if (inv->lines[i].subtotal >= inv->tax_count) goto bad;
        inv->taxes[inv->lines[i].subtotal].tax = inv->lines[i].tax;
    }
    if (format >= 3) { /* the rate its entry was booked at (RT_UNSET: the book had none) */
        int64_t rate = rt_unpack_svarint(&k.u);
        inv->fx_rate_nanos = rate > 0 ? rate : 0;
    }
    if (rt_unpack_done(&k.u) != RT_OK) goto bad;
    return RT_OK;
bad:
    return rt_error_set(err, RT_ECORRUPT, NULL, 0, 0, NULL, "stored invoice %s is corrupt",
                        s->number);
}

/* Rebuild a stored invoice as the credit note that reverses it: same lines and VAT breakdown,
 * every amount negated. */
static rt_status credit_note_of(const rt_catalog *cat, const rt_registry_invoice *s,
                                const void *content, size_t len, uint32_t account,
                                rt_arena *arena, rt_invoice *cn, rt_error *err)
{
    rt_status st = unpack_invoice(cat, s, content, len, account, true, arena, cn, err);
    if (st != RT_OK) return st;
    cn->type = RT_CREDIT_NOTE;
    snprintf(cn->corrects, sizeof cn->corrects, "%s", s->number);
    return RT_OK;
}

/* ---- the plan ---- */

void rt_correction_result_free(rt_correction_result *r)
{
    rt_invoice_set_free(&r->documents);
    free(r->effective);
    memset(r, 0, sizeof *r);
}

/* Nothing in effect (the period's first run): every fresh invoice is a new document, in its
 * place, so the documents take the fresh array over instead of copying it (a million
 * invoices are 200 MB, touched afresh by one thread). */
static rt_status take_over(rt_invoice_set *fresh, rt_correction_result *out, rt_error *err)
{
    out->effective = calloc(fresh->count + 1, sizeof *out->effective);
    if (!out->effective) { /* as below: the arena is the result's, the array is released */
        free(fresh->items);
        memset(fresh, 0, sizeof *fresh);
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    for (size_t i = 0; i < fresh->count; i++)
        out->effective[i] = (rt_effective_invoice){fresh->items[i].account, NULL, (uint32_t)i};
    out->documents.items = fresh->items;
    out->documents.count = out->effective_count = fresh->count;
    out->new_invoices = fresh->count;
    memset(fresh, 0, sizeof *fresh);
    return RT_OK;
}

/* One step of the merge of the fresh invoices with those in effect, both in account id order:
 * an account with a fresh invoice, an old one, or both (RT_NO_INDEX for none); then, once
 * classified, its account row and whether the fresh invoice is the old one unchanged; then
 * where its documents go. */
typedef struct merge_step {
    uint32_t fresh, old;
    uint32_t account;
    uint32_t doc;
    bool same;
} merge_step;

/* The merge's steps, in account id order (one thread: the comparisons are cheap next to what
 * follows). */
static merge_step *merge_steps(const rt_catalog *cat, const rt_invoice_set *fresh,
                               const rt_registry_invoices *old, size_t *count)
{
    merge_step *steps = malloc((fresh->count + old->count + 1) * sizeof *steps);
    if (!steps) return NULL;
    size_t i = 0, j = 0, n = 0;
    while (i < fresh->count || j < old->count) {
        int c = i == fresh->count ? 1
                : j == old->count
                    ? -1
                    : strcmp(cat->accounts[fresh->items[i].account].account_id,
                             old->items[j].account_id);
        steps[n++] = (merge_step){.fresh = c <= 0 ? (uint32_t)i : RT_NO_INDEX,
                                  .old = c >= 0 ? (uint32_t)j : RT_NO_INDEX};
        if (c <= 0) i++;
        if (c >= 0) j++;
    }
    *count = n;
    return steps;
}

/* Whether the stored content of an invoice in an earlier format shows what `packed` (the
 * fresh invoice in the current format) shows: format 2 is rebuilt against the book and packed
 * in the current format, which holds only what an invoice shows (format 2 kept the lines'
 * exact amounts, which a change of the rules that derive lines can move without moving a
 * cent); format 1, which has no prices, is compared as it was packed. A stored invoice that
 * cannot be rebuilt (a row of it no longer in the book) is not the same. */
static rt_status same_as_earlier(const rt_catalog *cat, const rt_invoice *f,
                                 const rt_registry_invoice *o, const void *stored,
                                 size_t stored_len, const rt_buf *packed, rt_buf *scratch,
                                 rt_arena *arena, bool *same, rt_error *err)
{
    unsigned format = stored_len ? ((const uint8_t *)stored)[0] : 0;
    *same = false;
    rt_buf_reset(scratch);
    if (format == RT_INVOICE_CONTENT_1) {
        rt_status st = rt_invoice_pack_format(cat, f, RT_INVOICE_CONTENT_1, scratch, err);
        if (st != RT_OK) return st;
        *same = scratch->len == stored_len && memcmp(scratch->data, stored, stored_len) == 0;
        return RT_OK;
    }
    if (format != RT_INVOICE_CONTENT_2) return RT_OK;
    rt_invoice was;
    rt_error ignored;
    rt_arena_reset(arena);
    rt_status st = unpack_invoice(cat, o, stored, stored_len, f->account, false, arena, &was,
                                  &ignored);
    if (st == RT_ENOTFOUND || st == RT_ECORRUPT) return RT_OK;
    if (st != RT_OK) return rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
    if ((st = rt_invoice_pack(cat, &was, scratch, err)) != RT_OK) return st;
    *same = scratch->len == packed->len && memcmp(scratch->data, packed->data, packed->len) == 0;
    return RT_OK;
}

/* A step's account row, and whether its fresh invoice is the one in effect unchanged: packed
 * and compared by fingerprint, without decoding the old one, when it was stored in the current
 * format; else its content is read (reader) and compared as same_as_earlier says. */
static rt_status classify_step(const rt_catalog *cat, const rt_invoice_set *fresh,
                               const rt_registry_invoices *old, merge_step *s, rt_buf *content,
                               rt_buf *scratch, rt_registry_invoice_reader *reader,
                               rt_arena *arena, rt_error *err)
{
    if (s->fresh != RT_NO_INDEX) {
        const rt_invoice *f = &fresh->items[s->fresh];
        s->account = f->account;
        if (s->old == RT_NO_INDEX) return RT_OK;
        rt_buf_reset(content);
        rt_status st = rt_invoice_pack(cat, f, content, err);
        if (st != RT_OK) return st;
        s->same = rt_registry_invoice_same(&old->items[s->old], content->data, content->len);
        if (s->same) return RT_OK;
        const void *stored;
        size_t stored_len;
        if ((st = rt_registry_invoice_content(reader, s->old, &stored, &stored_len, err)) != RT_OK)
            return st;
        return same_as_earlier(cat, f, &old->items[s->old], stored, stored_len, content, scratch,
                               arena, &s->same, err);
    }
    const rt_registry_invoice *o = &old->items[s->old];
    s->account = rt_catalog_account(cat, o->account_id, strlen(o->account_id));
    if (s->account == RT_NO_INDEX)
        return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                            "invoice %s cannot be credited: account '%s' is no longer in the "
                            "price book",
                            o->number, o->account_id);
    return RT_OK;
}

/* The documents of a changed step: the old invoice's credit note, then the fresh invoice,
 * from `doc` on. */
static rt_status build_step(const rt_catalog *cat, rt_invoice_set *fresh,
                            const rt_registry_invoices *old, const merge_step *s,
                            rt_registry_invoice_reader *reader, rt_arena *arena,
                            rt_invoice *doc, rt_error *err)
{
    if (s->old != RT_NO_INDEX) {
        /* The old invoice's content, decoded with its block's (once per block and thread). */
        const void *stored;
        size_t stored_len;
        rt_status st = rt_registry_invoice_content(reader, s->old, &stored, &stored_len, err);
        if (st != RT_OK) return st;
        if ((st = credit_note_of(cat, &old->items[s->old], stored, stored_len, s->account,
                                 arena, doc++, err)) != RT_OK)
            return st;
    }
    if (s->fresh != RT_NO_INDEX) *doc = fresh->items[s->fresh];
    return RT_OK;
}

rt_status rt_corrections_build(const rt_catalog *cat, const rt_registry_invoices *old,
                               rt_invoice_set *fresh, unsigned threads, rt_correction_result *out,
                               rt_error *err)
{
    memset(out, 0, sizeof *out);
    /* The fresh invoices' lines live in its arena: the documents take it over. */
    out->documents.arena = fresh->arena;
    if (old->count == 0) return take_over(fresh, out, err);
    if (threads == 0) threads = 1;
    size_t n = 0;
    merge_step *steps = merge_steps(cat, fresh, old, &n);
    rt_failure *fail = calloc(threads, sizeof *fail);
    rt_arena *arenas = calloc(threads, sizeof *arenas);
    out->effective = calloc(n + 1, sizeof *out->effective);
    rt_status st = RT_OK;
    if (!steps || !fail || !arenas || !out->effective) {
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        goto done;
    }
    /* Every step is classified on its own (packing each fresh invoice that has an old one is
     * most of the work): in parallel. */
#pragma omp parallel num_threads(threads)
    {
        rt_failure *f = &fail[omp_get_thread_num()];
        rt_failure_clear(f);
        rt_buf content, scratch;
        rt_buf_init(&content);
        rt_buf_init(&scratch);
        rt_arena arena; /* an invoice in an earlier format, rebuilt to be compared */
        rt_arena_init(&arena, 64 << 10);
        rt_registry_invoice_reader reader;
        rt_registry_invoice_reader_init(&reader, old);
#pragma omp for schedule(dynamic, 1024)
        for (size_t k = 0; k < n; k++) {
            if (f->item != SIZE_MAX) continue; /* this thread failed on an earlier step */
            rt_status s = classify_step(cat, fresh, old, &steps[k], &content, &scratch, &reader,
                                        &arena, &f->err);
            if (s != RT_OK) rt_failure_set(f, k, s);
        }
        rt_registry_invoice_reader_free(&reader);
        rt_arena_free(&arena);
        rt_buf_free(&scratch);
        rt_buf_free(&content);
    }
    /* Up to the first failing step (all of them when none fails), the documents' places, in
     * account order: a changed step's credit note, then its new invoice. */
    const rt_failure *failed = rt_failure_first(fail, threads);
    size_t upto = failed ? failed->item : n, docs = 0;
    rt_status classify_st = failed ? failed->status : RT_OK;
    rt_error classify_err = failed ? failed->err : (rt_error){0};
    for (size_t k = 0; k < upto; k++) {
        merge_step *s = &steps[k];
        rt_effective_invoice *e = &out->effective[out->effective_count];
        e->account = s->account;
        s->doc = (uint32_t)docs;
        if (s->same) {
            e->carried = &old->items[s->old];
            out->effective_count++;
            out->unchanged++;
            continue;
        }
        if (s->old != RT_NO_INDEX) docs++, out->credit_notes++;
        if (s->fresh != RT_NO_INDEX) {
            e->document = (uint32_t)docs++;
            out->new_invoices++;
            out->effective_count++;
        }
    }
    out->documents.items = malloc((docs ? docs : 1) * sizeof *out->documents.items);
    if (!out->documents.items) {
        st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
        goto done;
    }
    /* The documents, each at its place, in parallel: credit notes decode their old invoices
     * (each thread with its reader, its own block at a time) into the thread's arena; new
     * invoices are the fresh ones, moved. Most of the time is the first touch of their
     * memory, which the threads share. */
#pragma omp parallel num_threads(threads)
    {
        unsigned me = (unsigned)omp_get_thread_num();
        rt_failure *f = &fail[me];
        rt_failure_clear(f);
        rt_arena_init(&arenas[me], 8 << 20);
        rt_registry_invoice_reader reader;
        rt_registry_invoice_reader_init(&reader, old);
#pragma omp for schedule(dynamic, 1024)
        for (size_t k = 0; k < upto; k++) {
            const merge_step *s = &steps[k];
            if (f->item != SIZE_MAX || s->same) continue;
            rt_status bs = build_step(cat, fresh, old, s, &reader, &arenas[me],
                                      &out->documents.items[s->doc], &f->err);
            if (bs != RT_OK) rt_failure_set(f, k, bs);
        }
        rt_registry_invoice_reader_free(&reader);
    }
    for (unsigned t = 0; t < threads; t++) rt_arena_adopt(&out->documents.arena, &arenas[t]);
    if ((failed = rt_failure_first(fail, threads)) != NULL) {
        st = failed->status;
        if (err) *err = failed->err;
    } else if (classify_st != RT_OK) {
        st = classify_st;
        if (err) *err = classify_err;
    }
    out->documents.count = st == RT_OK ? docs : 0; /* after a failure, some are not built */
done:
    free(steps);
    free(fail);
    free(arenas);
    free(fresh->items);
    memset(fresh, 0, sizeof *fresh);
    return st;
}

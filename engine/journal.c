/* journal: invoicing entries. */
#include "engine/journal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *rt_journal_kind_name(rt_journal_kind k)
{
    static const char *const names[] = {"receivable",       "revenue",         "vat",
                                        "deferred",         "release_deferred", "release_revenue",
                                        "unbilled",         "unbilled_revenue"};
    _Static_assert(sizeof names / sizeof *names == RT_JL_KIND_COUNT_, "journal kind names");
    RT_ASSERT((unsigned)k < RT_ARRAY_LEN(names));
    return names[k];
}

void rt_journal_free(rt_journal *j)
{
    free(j->lines);
    memset(j, 0, sizeof *j);
}

void rt_journal_drop_lines(rt_journal *j)
{
    free(j->lines);
    j->lines = NULL;
    j->capacity = 0;
}

static void sums_add(rt_journal_sums *s, const rt_journal_line *l)
{
    size_t c = rt_currency_index(l->txn_currency); /* every booked line has one */
    s->debit_minor += l->debit_minor;
    s->credit_minor += l->credit_minor;
    if (l->txn_minor >= 0)
        s->txn_debit[c] += l->txn_minor;
    else
        s->txn_credit[c] -= (__int128)l->txn_minor;
    s->used[c] = true;
}

static void sums_merge(rt_journal_sums *into, const rt_journal_sums *s)
{
    into->debit_minor += s->debit_minor;
    into->credit_minor += s->credit_minor;
    for (size_t c = 0; c < RT_CURRENCY_COUNT; c++) {
        into->txn_debit[c] += s->txn_debit[c];
        into->txn_credit[c] += s->txn_credit[c];
        into->used[c] |= s->used[c];
    }
}

/* Every entry balances: its n lines' debits equal their credits. */
static void assert_balanced(const rt_journal_line *lines, size_t n)
{
    __int128 d = 0, c = 0;
    for (size_t k = 0; k < n; k++) {
        d += lines[k].debit_minor;
        c += lines[k].credit_minor;
    }
    RT_ASSERT(d == c);
}

/* An entry's n lines, just written (so still in the cache), checked and added to s. */
static void sum_entry(rt_journal_sums *s, const rt_journal_line *lines, size_t n)
{
    assert_balanced(lines, n);
    for (size_t k = 0; k < n; k++) sums_add(s, &lines[k]);
}

static rt_status push(rt_journal *j, rt_journal_line line)
{
    if (j->count == j->capacity) {
        size_t cap = j->capacity ? j->capacity * 2 : 1024;
        rt_journal_line *l = realloc(j->lines, cap * sizeof *l);
        if (!l) return RT_ENOMEM;
        j->lines = l;
        j->capacity = cap;
    }
    j->lines[j->count++] = line;
    sums_add(&j->sums, &line);
    return RT_OK;
}

rt_status rt_journal_convert(int64_t txn_minor, unsigned txn_decimals, int64_t rate_nanos,
                             unsigned fn_decimals, int64_t *fn_minor)
{
    RT_ASSERT(rate_nanos > 0 && txn_decimals <= RT_SCALE_MAX && fn_decimals <= RT_SCALE_MAX);
    __int128 num = (__int128)txn_minor * rate_nanos * rt_pow10(fn_decimals);
    __int128 den = (__int128)rt_pow10(txn_decimals) * RT_NANOS_PER_UNIT;
    return rt_div_round_i128(num, den, RT_ROUND_HALF_UP, fn_minor);
}

/* A line from its signed amounts (debit > 0): the functional amount decides the side, so no
 * line carries a negative figure; the transaction amount keeps its sign. */
static rt_journal_line sided(rt_journal_line l, int64_t txn_signed, int64_t fn_signed)
{
    bool d = fn_signed > 0 || (fn_signed == 0 && txn_signed > 0);
    int64_t a = fn_signed >= 0 ? fn_signed : -fn_signed;
    l.debit_minor = d ? a : 0;
    l.credit_minor = d ? 0 : a;
    l.txn_minor = txn_signed;
    return l;
}

/* RT_ENOTFOUND: the book has no FX rate from cur to the functional currency fn on day. */
static rt_status no_fx_rate(rt_error *err, const rt_currency *cur, const rt_currency *fn,
                            rt_days day)
{
    char d[16];
    rt_date_format(day, d, sizeof d);
    return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL, "no FX rate from %s to %s on %s",
                        cur->code, fn->code, d);
}

typedef struct fx {
    int64_t rate_nanos;
    unsigned txn_decimals, fn_decimals;
} fx;

/* What booking an invoice needs besides the invoice: the book, each product's GL row, the
 * deferred revenue row, and one thread's scratch: the revenue per GL row of the invoice being
 * booked (a row is the invoice's when its stamp is the invoice's index + 1) and those rows. */
typedef struct booker {
    const rt_catalog *cat;
    const uint32_t *product_gl;
    uint32_t deferred;
    int64_t *sum;
    uint32_t *stamp;
    uint32_t *rows;
    size_t nrows;
} booker;

/* Gather invoice i's revenue by GL row into b->rows (in GL-row order, so that the entry's
 * layout is canonical; rows that sum to 0 left out) and b->sum: a line goes to its product's
 * revenue row, or to deferred revenue when billed in advance. RT_EOVERFLOW, or RT_ENOTFOUND
 * for a line billed in advance when the book has no deferred revenue account. */
static rt_status gather(booker *b, const rt_invoice *inv, uint32_t i)
{
    const rt_catalog *cat = b->cat;
    b->nrows = 0;
    for (size_t k = 0; k < inv->line_count; k++) {
        const rt_invoice_line *l = &inv->lines[k];
        if (l->deferred && b->deferred == RT_NO_INDEX) return RT_ENOTFOUND;
        uint32_t g = l->deferred ? b->deferred : b->product_gl[l->product];
        if (g == RT_NO_INDEX || (cat->gl_accounts[g].role != RT_GL_REVENUE && g != b->deferred))
            continue;
        if (b->stamp[g] != i + 1) {
            b->stamp[g] = i + 1;
            b->sum[g] = 0;
            size_t at = b->nrows++;
            for (; at > 0 && b->rows[at - 1] > g; at--) b->rows[at] = b->rows[at - 1];
            b->rows[at] = g;
        }
        if (rt_add_i64(b->sum[g], l->net_minor, &b->sum[g]) != RT_OK) return RT_EOVERFLOW;
    }
    /* A row that sums to nothing (usage all within an allowance, a line and its credit) gets
     * no line, as a VAT subtotal of 0 gets none: a GL import reads no 0.00 / 0.00 rows. Unless
     * nothing else would be credited, so that every entry keeps a credit side. */
    bool vat = false;
    for (uint32_t s = 0; s < inv->tax_count; s++) vat = vat || inv->taxes[s].tax_minor != 0;
    size_t kept = 0;
    for (size_t r = 0; r < b->nrows; r++)
        if (b->sum[b->rows[r]] != 0) b->rows[kept++] = b->rows[r];
    if (kept > 0 || vat) b->nrows = kept;
    return RT_OK;
}

/* The lines invoice i's entry takes: the receivable, one per revenue row, one per VAT
 * subtotal that is not zero. 0 when gather fails: booking then fails before writing a line. */
static size_t entry_lines(booker *b, const rt_invoice *inv, uint32_t i)
{
    if (gather(b, inv, i) != RT_OK) return 0;
    size_t n = 1 + b->nrows;
    for (uint32_t s = 0; s < inv->tax_count; s++) n += inv->taxes[s].tax_minor != 0;
    return n;
}

/* The signed functional amount of a credit-side line of `amount` in the transaction
 * currency (the credit converted, so that half-up rounds the credit side alike whatever the
 * sign), added to *fn_sum. */
static rt_status credit_fn(int64_t amount, const fx *r, int64_t *fn, int64_t *fn_sum)
{
    if (rt_journal_convert(-amount, r->txn_decimals, r->rate_nanos, r->fn_decimals, fn) != RT_OK ||
        rt_add_i64(*fn_sum, *fn, fn_sum) != RT_OK)
        return RT_EOVERFLOW;
    return RT_OK;
}

/* A credit-side line (revenue or VAT) of `amount` in the transaction currency, its signed
 * functional amount added to *fn_sum. */
static rt_status credit(rt_journal_line base, int64_t amount, const fx *r, int64_t *fn_sum,
                        rt_journal_line *out)
{
    int64_t fn;
    if (credit_fn(amount, r, &fn, fn_sum) != RT_OK) return RT_EOVERFLOW;
    *out = sided(base, -amount, fn);
    return RT_OK;
}

/* The invoice's FX rate and the book's functional currency, as book_invoice converts at. */
static fx invoice_fx(const rt_catalog *cat, const rt_invoice *inv, const rt_currency **fn)
{
    *fn = rt_currency_find(cat->company->functional_currency);
    RT_ASSERT(*fn != NULL);
    return (fx){rt_invoice_fx_rate(cat, inv), inv->currency->minor_units, (*fn)->minor_units};
}

rt_status rt_journal_vat_functional(const rt_catalog *cat, const rt_invoice *inv,
                                    int64_t *rate_nanos, int64_t *vat_minor)
{
    const rt_currency *fn;
    fx r = invoice_fx(cat, inv, &fn);
    *rate_nanos = r.rate_nanos;
    if (r.rate_nanos == RT_UNSET) return RT_ENOTFOUND;
    int64_t sum = 0, one; /* signed functional amount of the VAT lines (credits negative) */
    for (uint32_t s = 0; s < inv->tax_count; s++)
        if (inv->taxes[s].tax_minor != 0 &&
            credit_fn(inv->taxes[s].tax_minor, &r, &one, &sum) != RT_OK)
            return RT_EOVERFLOW;
    if (sum == INT64_MIN) return RT_EOVERFLOW;
    *vat_minor = -sum;
    return RT_OK;
}

/* Book invoice i as entry `entry` into out[0 ..), which has room for entry_lines(b, inv, i)
 * lines; *written is how many. */
static rt_status book_invoice(booker *b, const rt_invoice_set *set, uint32_t i, uint32_t entry,
                              rt_journal_line *out, size_t *written, rt_error *err)
{
    const rt_catalog *cat = b->cat;
    const rt_invoice *inv = &set->items[i];
    uint32_t ar = cat->gl_role[RT_GL_RECEIVABLE], vat = cat->gl_role[RT_GL_VAT_PAYABLE];
    RT_ASSERT(ar != RT_NO_INDEX && vat != RT_NO_INDEX);
    const rt_currency *fn;
    fx r = invoice_fx(cat, inv, &fn);
    if (r.rate_nanos == RT_UNSET) return no_fx_rate(err, inv->currency, fn, inv->issue_day);
    rt_status st = gather(b, inv, i);
    if (st == RT_ENOTFOUND)
        return rt_error_set(err, st, NULL, 0, 0, NULL,
                            "advance billing needs a GL account with role deferred_revenue");
    if (st != RT_OK) return rt_error_set(err, st, NULL, 0, 0, NULL, "revenue overflow");
    rt_journal_line base = {
        .entry = entry, .invoice = i, .date = inv->issue_day, .txn_currency = inv->currency};
    int64_t fn_sum = 0; /* signed functional amount of the credit-side lines */
    size_t n = 1;       /* out[0], the receivable, is set once the credits are known */
    for (size_t k = 0; k < b->nrows && st == RT_OK; k++) {
        base.gl = b->rows[k];
        base.kind = base.gl == b->deferred ? RT_JL_DEFERRED : RT_JL_REVENUE;
        st = credit(base, b->sum[base.gl], &r, &fn_sum, &out[n++]);
    }
    for (uint32_t s = 0; s < inv->tax_count && st == RT_OK; s++) {
        if (inv->taxes[s].tax_minor == 0) continue;
        base.gl = vat;
        base.kind = RT_JL_VAT;
        base.subtotal = s;
        st = credit(base, inv->taxes[s].tax_minor, &r, &fn_sum, &out[n++]);
    }
    if (st != RT_OK)
        return rt_error_set(err, st, NULL, 0, 0, NULL,
                            "the invoice of account %s: FX conversion overflows",
                            cat->accounts[inv->account].account_id);
    base.gl = ar;
    base.kind = RT_JL_RECEIVABLE;
    base.subtotal = 0;
    /* The receivable balances the entry in the functional currency. */
    out[0] = sided(base, inv->gross_minor, -fn_sum);
    *written = n;
    return RT_OK;
}

/* One thread's share of the invoices, [first, end): how many lines its entries take, then
 * those entries, booked straight into the journal from line `dest` on. */
typedef struct book_share {
    size_t first, end;
    size_t lines, dest;
    size_t failed_at; /* SIZE_MAX: none */
    rt_status status;
    rt_error err;
    rt_journal_sums sums; /* of its entries */
} book_share;

rt_status rt_journal_book_invoices(const rt_catalog *cat, const rt_invoice_set *invoices,
                                   unsigned threads, rt_journal *j, rt_error *err)
{
    if (cat->gl_role[RT_GL_RECEIVABLE] == RT_NO_INDEX ||
        cat->gl_role[RT_GL_VAT_PAYABLE] == RT_NO_INDEX)
        return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                            "the price book has no receivable or VAT payable GL account");
    size_t n = invoices->count;
    RT_ASSERT(n < UINT32_MAX && j->entries <= UINT32_MAX - n);
    if (threads == 0) threads = 1;
    if (threads > n) threads = n ? (unsigned)n : 1;
    size_t gls = cat->gl_count ? cat->gl_count : 1;
    size_t products = cat->product_count ? cat->product_count : 1;
    uint32_t *product_gl = malloc(products * sizeof *product_gl);
    book_share *share = calloc(threads, sizeof *share);
    booker *bk = calloc(threads, sizeof *bk);
    bool failed = !product_gl || !share || !bk;
    for (unsigned t = 0; t < threads && !failed; t++) {
        bk[t] = (booker){cat, product_gl, cat->gl_role[RT_GL_DEFERRED_REVENUE],
                         malloc(gls * sizeof *bk[t].sum), calloc(gls, sizeof *bk[t].stamp),
                         malloc(gls * sizeof *bk[t].rows), 0};
        failed = !bk[t].sum || !bk[t].stamp || !bk[t].rows;
    }
    rt_status st = RT_OK;
    if (failed) st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    for (size_t p = 0; p < cat->product_count && st == RT_OK; p++)
        product_gl[p] = rt_catalog_gl(cat, cat->products[p].gl_account);
    /* Each invoice makes exactly one entry, so invoice i's entry number is known before it is
     * booked, and so is where its lines go once every share has counted its own: contiguous
     * shares are counted, then booked, in parallel, each straight into its place. The result
     * does not depend on the split. */
    if (st == RT_OK) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (unsigned t = 0; t < threads; t++) {
            book_share *sh = &share[t];
            sh->first = n * t / threads;
            sh->end = n * (t + 1) / threads;
            sh->failed_at = SIZE_MAX;
            for (size_t i = sh->first; i < sh->end; i++)
                sh->lines += entry_lines(&bk[t], &invoices->items[i], (uint32_t)i);
        }
        size_t total = j->count;
        for (unsigned t = 0; t < threads; t++) {
            share[t].dest = total;
            total += share[t].lines;
        }
        if (total > j->capacity) {
            /* With room for the entries booked after the invoices (revenue releases and
             * accruals, a few lines each): pushing them must not move the whole journal, as
             * doubling would (realloc moves a large block, and on this kind of guest, with
             * shadow page tables, every moved page faults again when next read: 0.8 s for
             * 6.5 million lines). */
            size_t cap = total + total / 64 + 1024;
            rt_journal_line *l = realloc(j->lines, cap * sizeof *l);
            if (!l) st = rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
            else {
                j->lines = l;
                j->capacity = cap;
            }
        }
    }
    if (st == RT_OK) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (unsigned t = 0; t < threads; t++) {
            book_share *sh = &share[t];
            /* Stamps are of the counting pass: clear them, so every row is gathered afresh. */
            memset(bk[t].stamp, 0, gls * sizeof *bk[t].stamp);
            size_t at = sh->dest;
            for (size_t i = sh->first; i < sh->end; i++) {
                size_t written = 0;
                uint32_t entry = j->entries + (uint32_t)i + 1;
                rt_status s = book_invoice(&bk[t], invoices, (uint32_t)i, entry, j->lines + at,
                                           &written, &sh->err);
                if (s != RT_OK) {
                    sh->failed_at = i;
                    sh->status = s;
                    break;
                }
                sum_entry(&sh->sums, j->lines + at, written);
                at += written;
            }
            RT_ASSERT(sh->failed_at != SIZE_MAX || at == sh->dest + sh->lines);
        }
        for (unsigned t = 0; t < threads && st == RT_OK; t++) {
            if (share[t].failed_at != SIZE_MAX) {
                st = share[t].status; /* the shares are in invoice order: the first failure */
                if (err) *err = share[t].err;
            }
        }
        if (st == RT_OK) {
            j->count = share[threads - 1].dest + share[threads - 1].lines;
            j->entries += (uint32_t)n;
            for (unsigned t = 0; t < threads; t++) sums_merge(&j->sums, &share[t].sums);
        }
    }
    for (unsigned t = 0; bk && t < threads; t++) {
        free(bk[t].sum);
        free(bk[t].stamp);
        free(bk[t].rows);
    }
    free(bk);
    free(share);
    free(product_gl);
    return st;
}

rt_status rt_journal_book_releases(const rt_catalog *cat, const rt_revenue_release *releases,
                                   size_t count, rt_days day, rt_journal *j, rt_error *err)
{
    int64_t total = 0;
    for (size_t i = 0; i < count; i++)
        if (rt_add_i64(total, releases[i].amount_minor, &total) != RT_OK)
            return rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "release overflow");
    if (count == 0) return RT_OK;
    uint32_t deferred = cat->gl_role[RT_GL_DEFERRED_REVENUE];
    if (deferred == RT_NO_INDEX)
        return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                            "releasing deferred revenue needs a GL account with role "
                            "deferred_revenue");
    const rt_currency *fc = rt_currency_find(cat->company->functional_currency);
    rt_journal_line base = {.entry = ++j->entries, .invoice = RT_JOURNAL_NO_INVOICE, .date = day,
                            .txn_currency = fc};
    size_t first = j->count;
    base.gl = deferred;
    base.kind = RT_JL_RELEASE_DEFERRED;
    rt_status st = push(j, sided(base, total, total));
    for (size_t i = 0; i < count && st == RT_OK; i++) {
        base.gl = releases[i].gl;
        base.kind = RT_JL_RELEASE_REVENUE;
        st = push(j, sided(base, -releases[i].amount_minor, -releases[i].amount_minor));
    }
    if (st != RT_OK) return rt_error_set(err, st, NULL, 0, 0, NULL, "out of memory");
    assert_balanced(j->lines + first, j->count - first);
    return RT_OK;
}

/* One accrual entry in currency row c of the currency table: Dr unbilled receivable / Cr
 * revenue per GL row, the transaction amounts txn[g] converted at rate_nanos as an invoice's
 * credit lines are (credit(): each on its own, the receivable their sum), or the reversal of
 * exactly that. */
static rt_status accrual_entry(const rt_catalog *cat, size_t c, const int64_t *txn,
                               int64_t rate_nanos, rt_days day, bool reversal, rt_journal *j)
{
    const rt_currency *fc = rt_currency_find(cat->company->functional_currency);
    const rt_currency *cur = rt_currency_at(c);
    fx r = {rate_nanos, cur->minor_units, fc->minor_units};
    rt_journal_line base = {.entry = ++j->entries, .invoice = RT_JOURNAL_NO_INVOICE, .date = day,
                            .txn_currency = cur, .reversal = reversal};
    int64_t sign = reversal ? -1 : 1, fn_sum = 0, txn_total = 0;
    size_t first = j->count;
    rt_status st = push(j, base); /* the receivable, set once the credits are known */
    for (uint32_t g = 0; g < cat->gl_count && st == RT_OK; g++) {
        if (!txn[g]) continue;
        rt_journal_line line;
        base.gl = g;
        base.kind = RT_JL_UNBILLED_REVENUE;
        if (credit(base, sign * txn[g], &r, &fn_sum, &line) != RT_OK ||
            rt_add_i64(txn_total, txn[g], &txn_total) != RT_OK)
            return RT_EOVERFLOW;
        st = push(j, line);
    }
    if (st != RT_OK) return st;
    base.gl = cat->gl_role[RT_GL_UNBILLED_RECEIVABLE];
    base.kind = RT_JL_UNBILLED;
    j->lines[first] = sided(base, sign * txn_total, -fn_sum);
    assert_balanced(j->lines + first, j->count - first);
    return RT_OK;
}

rt_status rt_journal_book_accrual(const rt_catalog *cat, const rt_invoice_set *invoices,
                                  const rt_period *period, rt_journal *j, rt_error *err)
{
    if (cat->gl_role[RT_GL_UNBILLED_RECEIVABLE] == RT_NO_INDEX)
        return rt_error_set(err, RT_ENOTFOUND, NULL, 0, 0, NULL,
                            "accruals need a GL account with role unbilled_receivable");
    const rt_currency *fc = rt_currency_find(cat->company->functional_currency);
    RT_ASSERT(fc != NULL);
    /* Net per currency and GL row, in the invoices' currency: by_gl[c * gl_count + g]. */
    size_t rows = cat->gl_count ? cat->gl_count : 1;
    int64_t *by_gl = calloc(RT_CURRENCY_COUNT * rows, sizeof *by_gl);
    bool used[RT_CURRENCY_COUNT] = {false};
    if (!by_gl) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    rt_status st = RT_OK;
    for (size_t i = 0; i < invoices->count && st == RT_OK; i++) {
        const rt_invoice *inv = &invoices->items[i];
        size_t c = rt_currency_index(inv->currency);
        for (size_t k = 0; k < inv->line_count; k++) {
            const rt_invoice_line *l = &inv->lines[k];
            uint32_t g = rt_catalog_gl(cat, cat->products[l->product].gl_account);
            if (rt_add_i64(by_gl[c * rows + g], l->net_minor, &by_gl[c * rows + g]) != RT_OK) {
                st = rt_error_set(err, RT_EOVERFLOW, NULL, 0, 0, NULL, "accrual overflow");
                break;
            }
        }
    }
    for (size_t c = 0; c < RT_CURRENCY_COUNT; c++)
        for (size_t g = 0; g < rows && !used[c]; g++) used[c] = by_gl[c * rows + g] != 0;
    /* Converted at the rate in force on the accrual's date; the reversal mirrors it. */
    rt_days day = period->end_day - 1;
    int64_t rate[RT_CURRENCY_COUNT];
    for (size_t c = 0; c < RT_CURRENCY_COUNT && st == RT_OK; c++) {
        if (!used[c]) continue;
        const rt_currency *cur = rt_currency_at(c);
        rate[c] = rt_catalog_fx_at(cat, cur->code, rt_time_of_days(day));
        if (rate[c] == RT_UNSET || rate[c] <= 0) st = no_fx_rate(err, cur, fc, day);
    }
    for (int reversal = 0; reversal < 2 && st == RT_OK; reversal++)
        for (size_t c = 0; c < RT_CURRENCY_COUNT && st == RT_OK; c++) {
            if (!used[c]) continue;
            st = accrual_entry(cat, c, by_gl + c * rows, rate[c],
                               reversal ? period->end_day : day, reversal, j);
            if (st != RT_OK)
                rt_error_set(err, st, NULL, 0, 0, NULL,
                             st == RT_EOVERFLOW ? "accrual conversion overflows" : "out of memory");
        }
    free(by_gl);
    return st;
}

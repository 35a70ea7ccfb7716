/* sample_gen: deterministic generator of books, orders and usage. */
#include "formats/sample_gen.h"

#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/datetime.h"
#include "engine/money.h"
#include "engine/usage.h"
#include "formats/csv.h"
#include "formats/usage_csv.h"
#include "formats/usage_native.h"
#include "formats/zio.h"

/* ---- PRNG: xoshiro256** streams seeded by splitmix64 ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Stream `stream` of seed `seed`: independent of every other stream and of thread order. */
static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) (Lemire's multiply; the bias is below 2^-32 for the n used here). */
static uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static uint64_t rng_range(rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* Skewed index in [0, n): P(index < x) = (x / n)^(1/3), so the first accounts are the heavy
 * ones (the top 0.1% make 10% of the traffic) and the tail is long. Integer arithmetic. */
static uint64_t rng_skewed(rng *r, uint64_t n)
{
    unsigned __int128 u = rng_next(r) >> 32; /* 32 bits */
    unsigned __int128 cube = u * u * u;       /* 96 bits */
    return (uint64_t)((cube * n) >> 96);
}

/* ---- small text helpers ---- */

static char *put_uint(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width) tmp[n++] = '0';
    while (n) *p++ = tmp[--n];
    return p;
}

static int digits_of(uint64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static rt_status write_text(const char *dir, const char *name, const rt_buf *b, int level,
                            rt_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (b->failed) return rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
    rt_zwriter *w;
    rt_status st = rt_zwriter_open(path, level, &w, err);
    if (st != RT_OK) return st;
    if ((st = rt_zwriter_write(w, b->data, b->len, err)) != RT_OK) {
        rt_zwriter_abort(w);
        return st;
    }
    return rt_zwriter_close(w, NULL, NULL, err);
}

/* A text file written as it is produced, so that millions of accounts or orders never sit
 * in memory at once. */
typedef struct text_out {
    rt_zwriter *z;
    rt_buf b;
} text_out;

#define TEXT_FLUSH_BYTES ((size_t)1 << 20)

static rt_status text_open(text_out *t, const char *dir, const char *name, int level,
                           rt_error *err)
{
    char path[PATH_MAX];
    rt_buf_init(&t->b);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return rt_error_set(err, RT_EINVAL, dir, 0, 0, NULL, "path too long");
    return rt_zwriter_open(path, level, &t->z, err);
}

/* Write what the buffer holds once it is large (or always, with force). */
static rt_status text_flush(text_out *t, bool force, rt_error *err)
{
    if (t->b.failed) return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    if (t->b.len < TEXT_FLUSH_BYTES && !force) return RT_OK;
    rt_status st = rt_zwriter_write(t->z, t->b.data, t->b.len, err);
    rt_buf_reset(&t->b);
    return st;
}

/* Flush and close (st: the writer's status so far; on failure the file is abandoned). */
static rt_status text_close(text_out *t, rt_status st, rt_error *err)
{
    if (st == RT_OK) st = text_flush(t, true, err);
    if (st == RT_OK)
        st = rt_zwriter_close(t->z, NULL, NULL, err);
    else
        rt_zwriter_abort(t->z);
    t->z = NULL;
    rt_buf_free(&t->b);
    return st;
}

static rt_status make_dir(const char *path, rt_error *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    return RT_OK;
}

/* ---- the world: plans, products, period ---- */

enum { P_VOICE_NAT, P_VOICE_MOB, P_VOICE_INTL, P_SMS, P_DATA, USAGE_PRODUCTS };
static const char *const usage_products[USAGE_PRODUCTS] = {"VOICE_NAT", "VOICE_MOB",
                                                           "VOICE_INTL", "SMS", "DATA"};
/* Cumulative share of records per usage product, in parts per thousand. */
static const unsigned product_mix[USAGE_PRODUCTS] = {450, 650, 700, 900, 1000};

typedef struct world {
    rt_period period;
    rt_time_s dst_switch_s;  /* a European DST change inside the period, or 0 */
    uint64_t accounts;
    int account_digits;
    uint32_t bad_ppm, dup_ppm;
    bool native;
    const char (*deck)[8];   /* prefixes (digits after '+') */
    uint32_t deck_count;
} world;

/* Europe/Paris: UTC+1, UTC+2 from the last Sunday of March to the last Sunday of October,
 * both changes at 01:00 UTC. */
static rt_time_s last_sunday_1am(int year, unsigned month)
{
    rt_days d = rt_days_from_civil(year, month, rt_days_in_month(year, month));
    while (rt_iso_weekday(d) != 7) d--;
    return rt_time_of_days(d) + 3600;
}

static int64_t paris_offset_s(rt_time_s t)
{
    int y;
    unsigned m, dd;
    rt_civil_from_days(rt_days_of(t), &y, &m, &dd);
    return t >= last_sunday_1am(y, 3) && t < last_sunday_1am(y, 10) ? 7200 : 3600;
}

static rt_status world_init(world *w, const rt_gen_opts *o, rt_error *err)
{
    memset(w, 0, sizeof *w);
    if (rt_period_parse(o->period ? o->period : "2026-10", &w->period) != RT_OK)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, "period", "period must be YYYY-MM");
    for (unsigned m = 3; m <= 10; m += 7) {
        rt_time_s t = last_sunday_1am(w->period.year, m);
        if (rt_period_contains(&w->period, t)) w->dst_switch_s = t;
    }
    w->accounts = o->accounts;
    w->account_digits = digits_of(o->accounts) < 7 ? 7 : digits_of(o->accounts);
    w->bad_ppm = o->bad_ppm;
    w->dup_ppm = o->dup_ppm;
    w->native = o->native;
    return RT_OK;
}

static size_t account_id(const world *w, uint64_t index, char *buf)
{
    char *p = buf;
    memcpy(p, "ACC-", 4);
    p = put_uint(p + 4, index + 1, w->account_digits);
    return (size_t)(p - buf);
}

/* ---- the price book source ----
 * Every pricing model the book supports today: per_unit with price_per and billing
 * increments, flat, setup fee, minimum and maximum per event, event rounding, an
 * effective-dated price change in the middle of the period, recurring (in advance and in
 * arrears) and one_time charges. New models go in as more rows of charges_csv(). */

static void book_static(rt_buf *co, rt_buf *gl, rt_buf *pr, rt_buf *pl, rt_buf *tx)
{
    rt_buf_puts(co, "name,vat_id,registration_id,street,city,postcode,country,email,"
                    "functional_currency,invoice_prefix,credit_note_prefix,payment_terms_days,"
                    "line_rounding,tax_rounding,sales_journal_code,sales_journal_label\n"
                    "Ratel Demo Telecom SAS,FR40123456789,123456789,1 place du Marche,Paris,"
                    "75001,FR,billing@demo-telecom.example,EUR,GEN-,GENC-,30,half_up,half_up,"
                    "VE,Ventes\n");
    rt_buf_puts(gl, "gl_account,label,role\n411000,Clients,receivable\n"
                    "445710,TVA collectee,vat_payable\n487000,Produits constates d'avance,"
                    "deferred_revenue\n706100,Voix,revenue\n706200,SMS,revenue\n"
                    "706300,Donnees,revenue\n706400,Abonnements,revenue\n"
                    "706500,Frais et materiel,revenue\n");
    rt_buf_puts(pr, "product_id,valid_from,valid_to,name,unit,unit_code,quantity_decimals,"
                    "gl_account,tax_category,revenue_type,max_quantity,billing_timing\n"
                    "DATA,,,Mobile data,byte,AD,0,706300,standard,usage,,\n"
                    "HANDSET,,,Handset,each,C62,0,706500,standard,one_time,,\n"
                    "INSTALL,,,Installation,each,C62,0,706500,standard,one_time,,\n"
                    "SMS,,,SMS,message,C62,0,706200,standard,usage,1,\n"
                    "SUB_FIBER,,,Fibre access,month,MON,0,706400,standard,recurring,,arrears\n"
                    "SUB_MOBILE,,,Mobile line,month,MON,0,706400,standard,recurring,,advance\n"
                    "VOICE_INTL,,,International calls,second,SEC,0,706100,standard,usage,86400,\n"
                    "VOICE_MOB,,,Calls to mobiles,second,SEC,0,706100,standard,usage,86400,\n"
                    "VOICE_NAT,,,National calls,second,SEC,0,706100,standard,usage,86400,\n");
    rt_buf_puts(pl, "plan_id,name,currency,time_zone\nP_BIZ,Business Pro,EUR,Europe/Paris\n"
                    "P_START,Mobile Start,EUR,Europe/Paris\n");
    rt_buf_puts(tx, "jurisdiction,tax_category,valid_from,valid_to,rate_percent,vat_code,"
                    "exemption_reason\n"
                    "BE_B2B,standard,,,0,AE,Reverse charge - Art. 196 Directive 2006/112/EC\n"
                    "FR,standard,,,20,S,\n");
}

static void charges_csv(rt_buf *b, const world *w)
{
    char mid[16];
    rt_date_format(w->period.start_day + 14, mid, sizeof mid); /* the price change */
    rt_buf_puts(b, "plan_id,charge_id,valid_from,valid_to,product_id,description,model,price,"
                   "price_per,first_increment,next_increment,setup_fee,min_per_event,"
                   "max_per_event,event_decimals,event_rounding\n");
    rt_buf_puts(b, "P_BIZ,C_DATA,,,DATA,Mobile data (per MB),per_unit,0.005,1000000,1000000,"
                   "1000000,0,,0.50,4,half_up\n"
                   "P_BIZ,C_FIBER,,,SUB_FIBER,Fibre access,recurring,49.90,1,0,0,0,,,2,half_up\n"
                   "P_BIZ,C_HANDSET,,,HANDSET,Handset,one_time,299,1,0,0,0,,,2,half_up\n"
                   "P_BIZ,C_MOBILE,,,SUB_MOBILE,Mobile line,recurring,14.99,1,0,0,0,,,2,half_up\n"
                   "P_BIZ,C_SMS,,,SMS,SMS,flat,0.03,1,0,0,0,,,4,half_up\n"
                   "P_BIZ,C_VOICE_INTL,,,VOICE_INTL,International calls,per_unit,0.25,60,1,1,0,"
                   "0.05,,4,half_up\n"
                   "P_BIZ,C_VOICE_MOB,,,VOICE_MOB,Calls to mobiles,per_unit,0.03,60,1,1,0,0.02,"
                   ",4,half_up\n"
                   "P_BIZ,C_VOICE_NAT,,,VOICE_NAT,National calls,per_unit,0.012,60,1,1,0.015,,,"
                   "4,half_up\n");
    rt_buf_puts(b, "P_START,C_DATA,,,DATA,Mobile data,per_unit,0.01,1000000,102400,102400,0,,"
                   ",4,half_even\n"
                   "P_START,C_INSTALL,,,INSTALL,Installation,one_time,49,1,0,0,0,,,2,half_up\n"
                   "P_START,C_MOBILE,,,SUB_MOBILE,Mobile line,recurring,19.99,1,0,0,0,,,2,"
                   "half_up\n"
                   "P_START,C_SMS,,,SMS,SMS,flat,0.05,1,0,0,0,,,4,half_up\n"
                   "P_START,C_VOICE_INTL,,,VOICE_INTL,International calls,per_unit,0.35,60,60,"
                   "60,0,,5.00,4,up\n"
                   "P_START,C_VOICE_MOB,,,VOICE_MOB,Calls to mobiles,per_unit,0.05,60,30,6,0.01,"
                   ",,4,half_up\n");
    rt_buf_printf(b,
                  "P_START,C_VOICE_NAT,,%s,VOICE_NAT,National calls,per_unit,0.02,60,60,60,0,"
                  ",,4,half_up\n"
                  "P_START,C_VOICE_NAT,%s,,VOICE_NAT,National calls,per_unit,0.018,60,60,60,0,"
                  ",,4,half_up\n",
                  mid, mid);
}

/* Plan of an account: one in four is a business account, some of them in Belgium. */
static bool is_business(uint64_t index) { return index % 4 == 1; }
static bool is_belgian(uint64_t index) { return index % 20 == 5; }

/* accounts.csv and account_plans.csv, streamed. */
static rt_status write_accounts(const char *dir, const world *w, rt_error *err)
{
    text_out ac, ap;
    rt_status st = text_open(&ac, dir, "accounts.csv", 0, err);
    if (st != RT_OK) return st;
    if ((st = text_open(&ap, dir, "account_plans.csv", 0, err)) != RT_OK)
        return text_close(&ac, st, err);
    rt_buf_puts(&ac.b, "account_id,name,street,city,postcode,country,vat_id,email,"
                       "buyer_reference,currency,tax_jurisdiction,bill_cycle_day,"
                       "payment_terms_days\n");
    rt_buf_puts(&ap.b, "account_id,plan_id,valid_from,valid_to\n");
    for (uint64_t i = 0; i < w->accounts && st == RT_OK; i++) {
        char id[32];
        size_t n = account_id(w, i, id);
        bool biz = is_business(i), be = is_belgian(i);
        rt_buf_printf(&ac.b, "%.*s,%s %llu,%llu rue de la Gare,%s,%05llu,%s,%s,,,EUR,%s,1,\n",
                      (int)n, id, biz ? "Entreprise" : "Client", (unsigned long long)i + 1,
                      (unsigned long long)(i % 200 + 1), be ? "Bruxelles" : "Paris",
                      (unsigned long long)(be ? 1000 + i % 200 : 75001 + i % 20),
                      be ? "BE" : "FR", be ? "BE0123456789" : "", be ? "BE_B2B" : "FR");
        rt_buf_printf(&ap.b, "%.*s,%s,2026-01-01,\n", (int)n, id, biz ? "P_BIZ" : "P_START");
        st = text_flush(&ac, false, err);
        if (st == RT_OK) st = text_flush(&ap, false, err);
    }
    st = text_close(&ac, st, err);
    return text_close(&ap, st, err);
}

static rt_status write_book(const char *dir, const world *w, rt_error *err)
{
    enum { CO, GL, PR, PL, CH, TX, NFILES };
    static const char *const names[NFILES] = {"company.csv", "gl_accounts.csv", "products.csv",
                                              "plans.csv",   "charges.csv",     "tax_rates.csv"};
    rt_buf b[NFILES];
    for (int i = 0; i < NFILES; i++) rt_buf_init(&b[i]);
    book_static(&b[CO], &b[GL], &b[PR], &b[PL], &b[TX]);
    charges_csv(&b[CH], w);
    rt_status st = make_dir(dir, err);
    for (int i = 0; i < NFILES && st == RT_OK; i++) st = write_text(dir, names[i], &b[i], 0, err);
    for (int i = 0; i < NFILES; i++) rt_buf_free(&b[i]);
    return st == RT_OK ? write_accounts(dir, w, err) : st;
}

/* ---- rate deck: 10k+ destination prefixes ---- */

typedef struct country {
    const char *code; /* E.164 country code */
    const char *name;
    unsigned expand;  /* 2 or 3 more digits per prefix */
} country;

static const country countries[] = {
    {"1", "United States", 3},  {"44", "United Kingdom", 3}, {"49", "Germany", 3},
    {"33", "France", 3},        {"34", "Spain", 3},          {"39", "Italy", 3},
    {"32", "Belgium", 3},       {"41", "Switzerland", 3},    {"31", "Netherlands", 2},
    {"351", "Portugal", 2},     {"352", "Luxembourg", 2},    {"353", "Ireland", 2},
    {"43", "Austria", 2},       {"45", "Denmark", 2},        {"46", "Sweden", 2},
    {"47", "Norway", 2},        {"48", "Poland", 2},         {"30", "Greece", 2},
    {"36", "Hungary", 2},       {"40", "Romania", 2},        {"420", "Czechia", 2},
    {"212", "Morocco", 2},      {"213", "Algeria", 2},       {"216", "Tunisia", 2},
    {"221", "Senegal", 2},      {"225", "Cote d'Ivoire", 2}, {"237", "Cameroon", 2},
    {"27", "South Africa", 2},  {"20", "Egypt", 2},          {"90", "Turkey", 2},
    {"7", "Russia", 2},         {"86", "China", 2},          {"81", "Japan", 2},
    {"82", "South Korea", 2},   {"91", "India", 2},          {"61", "Australia", 2},
    {"55", "Brazil", 2},        {"52", "Mexico", 2},         {"54", "Argentina", 2},
    {"971", "United Arab Emirates", 2},
};

static rt_status write_deck(const char *out_dir, world *w, uint64_t seed, rt_error *err)
{
    size_t total = 0;
    for (size_t c = 0; c < RT_ARRAY_LEN(countries); c++)
        total += countries[c].expand == 3 ? 1000 : 100;
    char(*deck)[8] = calloc(total, sizeof *deck);
    if (!deck) return rt_error_set(err, RT_ENOMEM, out_dir, 0, 0, NULL, "out of memory");
    rt_buf b;
    rt_buf_init(&b);
    rt_buf_puts(&b, "prefix,destination,rate_per_minute,valid_from\n");
    rng r;
    rng_seed(&r, seed, UINT64_C(0xDEC));
    size_t n = 0;
    for (size_t c = 0; c < RT_ARRAY_LEN(countries); c++) {
        const country *k = &countries[c];
        unsigned count = k->expand == 3 ? 1000 : 100;
        for (unsigned i = 0; i < count; i++, n++) {
            snprintf(deck[n], sizeof deck[n], "%s%0*u", k->code, (int)k->expand, i);
            bool mobile = i * 10 / count >= 6; /* ranges 6xx-9xx read as mobile */
            uint64_t nanos = rng_range(&r, 5, 900) * 1000000; /* 0.005 .. 0.900 */
            char price[48];
            rt_decimal_format((int64_t)nanos, RT_NANOS_SCALE, -1, 3, '.', price, sizeof price);
            rt_buf_printf(&b, "+%s,%s %s,%s,2026-01-01\n", deck[n], k->name,
                          mobile ? "mobile" : "fixed", price);
        }
    }
    w->deck = (const char(*)[8])deck;
    w->deck_count = (uint32_t)n;
    rt_status st = write_text(out_dir, "rate_deck.csv", &b, 0, err);
    rt_buf_free(&b);
    return st;
}

/* ---- order book (formats/README.md, "Order files") ---- */

static void date_text(rt_days d, char *buf) { rt_date_format(d, buf, 16); }

typedef struct order_writer {
    rt_buf *b;
    uint64_t next_order;
    uint64_t lines;
} order_writer;

static void order_line(order_writer *o, unsigned line, const char *sub, const char *action,
                       const char *acc, const char *product, rt_days eff, const char *qty,
                       const char *price, const char *discount, const char *end,
                       const char *description)
{
    char d[16];
    date_text(eff, d);
    rt_buf_printf(o->b, "ORD-%08llu,%u,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
                  (unsigned long long)o->next_order, line, sub, action, acc, product, d, qty,
                  price, discount, end, description);
    o->lines++;
}

/* One account's orders: its subscriptions, and changes, cancels and one-time charges in
 * the period for some of them. */
static void account_orders(order_writer *o, const world *w, rng *r, uint64_t i)
{
    char acc[32], sub[48], qty[24], end[16] = "";
    acc[account_id(w, i, acc)] = '\0';
    rt_days p0 = w->period.start_day, days = rt_period_days(&w->period);
    bool biz = is_business(i);
    rt_days start = rng_below(r, 5) == 0 ? p0 + (rt_days)rng_below(r, (uint64_t)days)
                                         : p0 - 1 - (rt_days)rng_below(r, 400);
    uint64_t roll = rng_below(r, 100);
    if (roll < 5) date_text(start + 365, end);                             /* fixed term */
    if (roll >= 5 && roll < 7) date_text(p0 + 1 + (rt_days)rng_below(r, (uint64_t)days - 1), end);
    const char *discount = rng_below(r, 10) == 0 ? "10" : "";
    snprintf(sub, sizeof sub, "SUB-%s-1", acc);
    o->next_order++;
    order_line(o, 1, sub, "new", acc, biz ? "SUB_FIBER" : "SUB_MOBILE", start, "1", "", discount,
               end, biz ? "Fibre access" : "Mobile line");
    if (biz) {
        snprintf(sub, sizeof sub, "SUB-%s-2", acc);
        snprintf(qty, sizeof qty, "%llu", (unsigned long long)rng_range(r, 2, 20));
        order_line(o, 2, sub, "new", acc, "SUB_MOBILE", start, qty,
                   rng_below(r, 10) == 0 ? "12.50" : "", "", "", "Mobile lines");
    }
    if (days > 2 && rng_below(r, 10) == 0) { /* quantity change in the period */
        o->next_order++;
        snprintf(sub, sizeof sub, "SUB-%s-1", acc);
        order_line(o, 1, sub, "change", acc, biz ? "SUB_FIBER" : "SUB_MOBILE",
                   p0 + 1 + (rt_days)rng_below(r, (uint64_t)days - 1), "2", "", "", "", "");
    } else if (days > 2 && rng_below(r, 20) == 0) { /* cancel in the period */
        o->next_order++;
        snprintf(sub, sizeof sub, "SUB-%s-1", acc);
        order_line(o, 1, sub, "cancel", acc, biz ? "SUB_FIBER" : "SUB_MOBILE",
                   p0 + 1 + (rt_days)rng_below(r, (uint64_t)days - 1), "", "", "", "", "");
    }
    if (rng_below(r, 20) == 0) { /* one-time charge */
        o->next_order++;
        snprintf(sub, sizeof sub, "OT-%s", acc);
        order_line(o, 1, sub, "one_time", acc, biz ? "HANDSET" : "INSTALL",
                   p0 + (rt_days)rng_below(r, (uint64_t)days), "1",
                   biz && rng_below(r, 2) ? "249" : "", "", "",
                   biz ? "\"Handset, model X\"" : "Installation");
    }
}

static rt_status write_orders(const char *dir, const world *w, uint64_t seed, uint64_t *lines,
                              rt_error *err)
{
    text_out t;
    rt_status st = text_open(&t, dir, "orders.csv.zst", 3, err);
    if (st != RT_OK) return st;
    rt_buf_puts(&t.b, "order_id,line,subscription_id,action,account_id,product_id,effective_date,"
                      "quantity,price,discount_percent,end_date,description\n");
    order_writer o = {&t.b, 0, 0};
    rng r;
    rng_seed(&r, seed, UINT64_C(0x0DE5));
    for (uint64_t i = 0; i < w->accounts && st == RT_OK; i++) {
        account_orders(&o, w, &r, i);
        st = text_flush(&t, false, err);
    }
    *lines = o.lines;
    return text_close(&t, st, err);
}

/* ---- usage records ---- */

enum kind {
    K_GOOD,
    K_DUP,
    /* bad records any format can carry */
    K_UNKNOWN_ACCOUNT,
    K_UNKNOWN_PRODUCT,
    K_NEGATIVE,
    K_ABSURD,
    K_AFTER_PERIOD,
    /* bad records only text can carry */
    K_BAD_TIME,
    K_BAD_QUANTITY,
    K_MISSING_FIELD,
    K_MALFORMED,
    K_COUNT
};
#define K_NATIVE_BAD_END K_BAD_TIME

enum { STRIPE = 96, ID_AT = 0, ACCOUNT_AT = 24, CALLED_AT = 48, SPARE_AT = 72, RING = 64 };

typedef struct gen_slot {
    rt_event ev[RT_GEN_BLOCK_RECORDS];
    uint8_t kind[RT_GEN_BLOCK_RECORDS];
    char pool[(size_t)RT_GEN_BLOCK_RECORDS * STRIPE];
    rt_buf text, out;
    rt_native_block *blk;
    ZSTD_CCtx *cctx;
    uint64_t bad, dups;
    rt_status st;
} gen_slot;

/* Seconds of a call: a few very short or failed, most between 10 s and 5 min, a tail to 2 h. */
static int64_t call_seconds(rng *r)
{
    uint64_t roll = rng_below(r, 100);
    if (roll < 8) return (int64_t)rng_below(r, 10);
    if (roll < 80) return (int64_t)(10 + rng_skewed(r, 291) + rng_below(r, 60));
    if (roll < 97) return (int64_t)rng_range(r, 300, 1800);
    return (int64_t)rng_range(r, 1800, 7200);
}

/* Start time: mostly uniform over the period; some just before a time-band change (08:00
 * and 20:00 in Paris) and around the DST change so that calls cross them. */
static rt_time_s start_time(const world *w, rng *r)
{
    uint64_t roll = rng_below(r, 100);
    const rt_period *p = &w->period;
    if (roll < 5) {
        rt_days d = p->start_day + (rt_days)rng_below(r, (uint64_t)rt_period_days(p));
        rt_time_s day = rt_time_of_days(d);
        rt_time_s local = day + (rng_below(r, 2) ? 8 : 20) * 3600;
        rt_time_s t = local - paris_offset_s(local) - (rt_time_s)rng_below(r, 900);
        if (t >= p->start_s) return t;
    } else if (roll < 10 && w->dst_switch_s) {
        return w->dst_switch_s - 7200 + (rt_time_s)rng_below(r, 14400);
    }
    return p->start_s + (rt_time_s)rng_below(r, (uint64_t)(p->end_s - p->start_s));
}

static size_t e164(const world *w, rng *r, int product, char *out)
{
    char *p = out;
    *p++ = '+';
    size_t total = 11; /* digits of a French number: 33 + 9 */
    if (product == P_VOICE_INTL) {
        const char *pre = w->deck[rng_below(r, w->deck_count)];
        size_t n = strlen(pre);
        memcpy(p, pre, n);
        p += n;
        total = 11 + rng_below(r, 2);
        if (total < n + 4) total = n + 4;
    } else {
        memcpy(p, "33", 2);
        p += 2;
        *p++ = (char)(product == P_VOICE_NAT ? '1' + rng_below(r, 5) : '6' + rng_below(r, 2));
    }
    while ((size_t)(p - out - 1) < total) *p++ = (char)('0' + rng_below(r, 10));
    return (size_t)(p - out);
}

static void good_event(const world *w, rng *r, uint64_t global, char *stripe, rt_event *ev)
{
    memset(ev, 0, sizeof *ev);
    char *id = stripe + ID_AT;
    id[0] = 'E';
    ev->event_id = id;
    ev->event_id_len = (uint16_t)(put_uint(id + 1, global, 12) - id);
    ev->account = stripe + ACCOUNT_AT;
    ev->account_len = (uint16_t)account_id(w, rng_skewed(r, w->accounts), stripe + ACCOUNT_AT);
    unsigned roll = (unsigned)rng_below(r, 1000);
    int product = 0;
    while (roll >= product_mix[product]) product++;
    ev->product = usage_products[product];
    ev->product_len = (uint16_t)strlen(ev->product);
    ev->start_s = start_time(w, r);
    ev->called = stripe + CALLED_AT;
    ev->called_len = 0;
    if (product == P_DATA) {
        ev->qty_mantissa = (int64_t)(rng_skewed(r, 500000000) + 1);
    } else {
        ev->called_len = (uint16_t)e164(w, r, product, stripe + CALLED_AT);
        ev->qty_mantissa = product == P_SMS ? 1 : call_seconds(r);
    }
}

static void make_bad(const world *w, rng *r, int kind, char *stripe, rt_event *ev)
{
    switch (kind) {
    case K_UNKNOWN_ACCOUNT:
        memcpy(stripe + SPARE_AT, "ACC-X", 5);
        ev->account = stripe + SPARE_AT;
        ev->account_len = (uint16_t)(put_uint(stripe + SPARE_AT + 5, rng_below(r, 1000000), 6) -
                                     (stripe + SPARE_AT));
        break;
    case K_UNKNOWN_PRODUCT:
        ev->product = "VIDEO";
        ev->product_len = 5;
        break;
    case K_NEGATIVE: ev->qty_mantissa = -1 - (int64_t)rng_below(r, 100); break;
    case K_ABSURD:
        ev->product = usage_products[P_VOICE_NAT];
        ev->product_len = (uint16_t)strlen(ev->product);
        ev->qty_mantissa = 100000 + (int64_t)rng_below(r, 1000000); /* above 86,400 s */
        break;
    case K_AFTER_PERIOD: ev->start_s = w->period.end_s + (rt_time_s)rng_below(r, 3 * 86400); break;
    default: break; /* text-only kinds are written by csv_record() */
    }
}

static void gen_block(const world *w, uint64_t seed, uint64_t block, uint32_t n, gen_slot *s)
{
    rng r;
    rng_seed(&r, seed, UINT64_C(0x5EED000000000000) + block);
    uint32_t good[RING], ngood = 0;
    uint64_t first = block * RT_GEN_BLOCK_RECORDS;
    int bad_kinds = (w->native ? K_NATIVE_BAD_END : K_COUNT) - K_UNKNOWN_ACCOUNT;
    s->bad = s->dups = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t roll = rng_below(&r, RT_GEN_SHARE_SCALE);
        char *stripe = s->pool + (size_t)i * STRIPE;
        if (roll < w->dup_ppm && ngood > 0) {
            /* A record delivered twice: the same bytes as a recent good one. */
            s->ev[i] = s->ev[good[rng_below(&r, ngood < RING ? ngood : RING)]];
            s->kind[i] = K_DUP;
            s->dups++;
            continue;
        }
        good_event(w, &r, first + i, stripe, &s->ev[i]);
        s->kind[i] = K_GOOD;
        if (roll < (uint64_t)w->dup_ppm + w->bad_ppm) {
            s->kind[i] = (uint8_t)(K_UNKNOWN_ACCOUNT + (int)rng_below(&r, (uint64_t)bad_kinds));
            make_bad(w, &r, s->kind[i], stripe, &s->ev[i]);
            s->bad++;
        } else {
            good[ngood++ % RING] = i;
        }
    }
}

/* The CSV text of one record; text-only bad kinds are spelled out here. */
static void csv_record(rt_buf *b, const rt_event *ev, int kind)
{
    if (kind < K_BAD_TIME) {
        rt_usage_csv_format_event(b, ev);
        rt_csv_end(b);
        return;
    }
    if (kind == K_MALFORMED) { /* more fields than a CSV record may have */
        rt_buf_printf(b, "%.*s", (int)ev->event_id_len, ev->event_id);
        for (int i = 0; i < RT_CSV_FIELDS_MAX + 6; i++) rt_buf_putc(b, ',');
        rt_csv_end(b);
        return;
    }
    char t[32];
    rt_time_format(ev->start_s, t, sizeof t);
    rt_buf_printf(b, "%.*s,%.*s,%.*s,%s,%lld%s,%.*s\n", (int)ev->event_id_len, ev->event_id,
                  kind == K_MISSING_FIELD ? 0 : (int)ev->account_len, ev->account,
                  (int)ev->product_len, ev->product,
                  kind == K_BAD_TIME ? "2026-13-45T25:61:00Z" : t, (long long)ev->qty_mantissa,
                  kind == K_BAD_QUANTITY ? "x" : "", (int)ev->called_len, ev->called);
}

/* Generate one block and encode it (a CSV frame with its index, or a native block). */
static void block_job(const world *w, const rt_gen_opts *o, uint64_t block, uint32_t n,
                      gen_slot *s)
{
    gen_block(w, o->seed, block, n, s);
    rt_buf_reset(&s->out);
    int level = o->level ? o->level : 3;
    if (w->native) {
        rt_native_block_reset(s->blk);
        for (uint32_t i = 0; i < n; i++) {
            const char *why;
            s->st = rt_native_block_add(s->blk, &s->ev[i], &why);
            if (s->st != RT_OK) return;
        }
        s->st = rt_native_block_finish(s->blk, (uint32_t)block, block * RT_GEN_BLOCK_RECORDS,
                                       level, s->cctx, &s->out);
        return;
    }
    rt_buf_reset(&s->text);
    for (uint32_t i = 0; i < n; i++) csv_record(&s->text, &s->ev[i], s->kind[i]);
    s->st = s->text.failed ? RT_ENOMEM
                           : rt_usage_csv_frame(s->cctx, level, s->text.data, s->text.len, &s->out);
}

typedef struct usage_out {
    rt_zwriter *z;
    rt_native_writer *nw;
} usage_out;

static rt_status usage_open(const char *dir, const world *w, ZSTD_CCtx *cctx, int level,
                            usage_out *u, rt_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/usage.%s", dir, w->native ? "rtu" : "csv.zst");
    if (w->native) return rt_native_writer_open(path, &u->nw, err);
    rt_status st = rt_zwriter_open(path, 0, &u->z, err);
    if (st != RT_OK) return st;
    rt_buf h;
    rt_buf_init(&h);
    const char *header = rt_usage_csv_header();
    st = rt_usage_csv_frame(cctx, level, header, strlen(header), &h);
    if (st != RT_OK) st = rt_error_set(err, st, path, 0, 0, NULL, "cannot compress");
    if (st == RT_OK) st = rt_zwriter_write_raw(u->z, h.data, h.len, err);
    rt_buf_free(&h);
    return st;
}

static rt_status usage_put(usage_out *u, const rt_buf *block, rt_error *err)
{
    if (u->nw) return rt_native_writer_put(u->nw, block->data, block->len, err);
    return rt_zwriter_write_raw(u->z, block->data, block->len, err);
}

static void slots_free(gen_slot *slots, unsigned n)
{
    if (!slots) return;
    for (unsigned i = 0; i < n; i++) {
        rt_buf_free(&slots[i].text);
        rt_buf_free(&slots[i].out);
        rt_native_block_free(slots[i].blk);
        ZSTD_freeCCtx(slots[i].cctx);
    }
    free(slots);
}

static gen_slot *slots_new(unsigned n)
{
    gen_slot *slots = calloc(n, sizeof *slots);
    if (!slots) return NULL;
    for (unsigned i = 0; i < n; i++) {
        rt_buf_init(&slots[i].text);
        rt_buf_init(&slots[i].out);
        slots[i].blk = rt_native_block_new();
        slots[i].cctx = ZSTD_createCCtx();
        if (!slots[i].blk || !slots[i].cctx) {
            slots_free(slots, n);
            return NULL;
        }
    }
    return slots;
}

/* Blocks are generated and compressed in parallel waves and written in order. */
static rt_status generate_usage(const char *dir, const world *w, const rt_gen_opts *o,
                                rt_gen_result *res, rt_error *err)
{
    unsigned threads = o->threads ? o->threads : (unsigned)omp_get_num_procs();
    unsigned nslots = threads * 2;
    uint64_t nblocks = (o->records + RT_GEN_BLOCK_RECORDS - 1) / RT_GEN_BLOCK_RECORDS;
    gen_slot *slots = slots_new(nslots);
    usage_out u = {NULL, NULL};
    if (!slots) return rt_error_set(err, RT_ENOMEM, dir, 0, 0, NULL, "out of memory");
    rt_status st = usage_open(dir, w, slots[0].cctx, o->level ? o->level : 3, &u, err);
    for (uint64_t b0 = 0; b0 < nblocks && st == RT_OK; b0 += nslots) {
        unsigned n = nblocks - b0 < nslots ? (unsigned)(nblocks - b0) : nslots;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (unsigned k = 0; k < n; k++) {
            uint64_t b = b0 + k, left = o->records - b * RT_GEN_BLOCK_RECORDS;
            block_job(w, o, b, left < RT_GEN_BLOCK_RECORDS ? (uint32_t)left : RT_GEN_BLOCK_RECORDS,
                      &slots[k]);
        }
        for (unsigned k = 0; k < n && st == RT_OK; k++) {
            if (slots[k].st != RT_OK) {
                st = rt_error_set(err, slots[k].st, dir, 0, 0, NULL, "cannot encode usage");
                break;
            }
            st = usage_put(&u, &slots[k].out, err);
            res->bad += slots[k].bad;
            res->duplicates += slots[k].dups;
        }
    }
    if (st == RT_OK && u.nw) {
        st = rt_native_writer_close(u.nw, &res->records, &res->usage_bytes, NULL, err);
    } else if (st == RT_OK && u.z) {
        st = rt_zwriter_close(u.z, &res->usage_bytes, NULL, err);
    } else {
        rt_native_writer_abort(u.nw);
        rt_zwriter_abort(u.z);
    }
    if (st == RT_OK) res->records = o->records;
    slots_free(slots, nslots);
    return st;
}

/* ---- entry points ---- */

void rt_gen_opts_init(rt_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->period = "2026-10";
}

rt_status rt_gen_parse_share(const char *s, uint32_t *ppm)
{
    int64_t v;
    if (rt_decimal_parse(s, strlen(s), 6, &v) != RT_OK || v < 0 || v > RT_GEN_SHARE_SCALE)
        return RT_EPARSE;
    *ppm = (uint32_t)v;
    return RT_OK;
}

rt_status rt_gen_run(const rt_gen_opts *o, rt_gen_result *res, rt_error *err)
{
    memset(res, 0, sizeof *res);
    if (o->accounts == 0 || o->accounts > RT_GEN_ACCOUNTS_MAX || o->records > RT_GEN_RECORDS_MAX)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL, "accounts must be 1 to %llu, "
                            "records at most %llu", (unsigned long long)RT_GEN_ACCOUNTS_MAX,
                            (unsigned long long)RT_GEN_RECORDS_MAX);
    if ((uint64_t)o->bad_ppm + o->dup_ppm > RT_GEN_SHARE_SCALE)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL, "bad and duplicate shares add up "
                            "to more than 1");
    world w;
    rt_status st = world_init(&w, o, err);
    if (st != RT_OK) return st;
    char book[PATH_MAX];
    snprintf(book, sizeof book, "%s/book", o->out_dir);
    if ((st = make_dir(o->out_dir, err)) == RT_OK && (st = write_book(book, &w, err)) == RT_OK &&
        (st = write_deck(o->out_dir, &w, o->seed, err)) == RT_OK &&
        (st = write_orders(o->out_dir, &w, o->seed, &res->order_lines, err)) == RT_OK)
        st = generate_usage(o->out_dir, &w, o, res, err);
    res->accounts = o->accounts;
    res->deck_prefixes = w.deck_count;
    free((void *)w.deck);
    return st;
}

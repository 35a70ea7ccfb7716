/* sample_gen: deterministic generator of accounts, orders and usage over the sample book. */
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
#include "formats/sample_book.h"
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
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

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
    unsigned __int128 cube = u * u * u;      /* 96 bits */
    return (uint64_t)((cube * n) >> 96);
}

/* Streams: one per usage block, one per account (its orders and attributes). */
#define STREAM_USAGE UINT64_C(0x5EED000000000000)
#define STREAM_ACCOUNT UINT64_C(0x0DE5000000000000)
#define STREAM_BAD UINT64_C(0xBAD0000000000000) /* + record: a bad record's details */

/* ---- small text helpers ---- */

static char *put_uint(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
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

static rt_status make_dir(const char *path, rt_error *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return rt_error_set(err, RT_EIO, path, 0, 0, NULL, "cannot create: %s", strerror(errno));
    return RT_OK;
}

/* ---- the world ---- */

typedef struct world {
    rt_period period;
    rt_time_s dst_switch_s; /* a European DST change inside the period, or 0 */
    uint64_t seed;
    uint64_t accounts;
    int account_digits;
    uint32_t bad_ppm, dup_ppm;
    bool native;
    rt_gen_deck deck;
} world;

/* Europe/Paris and Europe/Zurich: UTC+1, UTC+2 from the last Sunday of March to the last
 * Sunday of October, both changes at 01:00 UTC. */
static rt_time_s last_sunday_1am(int year, unsigned month)
{
    rt_days d = rt_days_from_civil(year, month, rt_days_in_month(year, month));
    while (rt_iso_weekday(d) != 7)
        d--;
    return rt_time_of_days(d) + 3600;
}

static int64_t cet_offset_s(rt_time_s t)
{
    int y;
    unsigned m, dd;
    rt_civil_from_days(rt_days_of(t), &y, &m, &dd);
    return t >= last_sunday_1am(y, 3) && t < last_sunday_1am(y, 10) ? 7200 : 3600;
}

/* The UTC instant of a local (Paris or Zurich) wall-clock time. */
static rt_time_s cet_to_utc(rt_time_s local)
{
    return local - cet_offset_s(local);
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
    w->seed = o->seed;
    w->accounts = o->accounts;
    w->account_digits = digits_of(o->accounts) < 7 ? 7 : digits_of(o->accounts);
    w->bad_ppm = o->bad_ppm;
    w->dup_ppm = o->dup_ppm;
    w->native = o->native;
    if (rt_gen_deck_build(&w->deck) != RT_OK)
        return rt_error_set(err, RT_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    return RT_OK;
}

static size_t account_id(const world *w, uint64_t index, char *buf)
{
    char *p = buf;
    memcpy(p, "ACC-", 4);
    p = put_uint(p + 4, index + 1, w->account_digits);
    return (size_t)(p - buf);
}

/* ---- accounts: who they are ----
 * Fixed by the account's index (so shares are exact and easy to check): one in 25 is Swiss
 * (P_CH, CHF), one in 20 a Belgian business (P_BIZ, reverse-charged VAT), one in four a
 * French business (P_BIZ), one in 100 moves from P_START to P_BIZ on the 10th, the rest are
 * French consumers (P_START). The rest derives from a hash of the seed and the index, so
 * usage generation finds an account's start date without a table. */

enum home { HOME_FR, HOME_BE, HOME_CH };

typedef struct acct_info {
    rt_gen_plan plan; /* the plan at the period's end */
    bool migrates;    /* P_START until the 10th of the period, then P_BIZ */
    uint8_t home;     /* enum home */
    rt_days since;    /* customer since: the start of its plan and of its subscriptions */
    uint64_t hash;    /* more attributes */
} acct_info;

static uint64_t mix64(uint64_t x)
{
    return splitmix64(&x);
}

static acct_info account_info(const world *w, uint64_t i)
{
    acct_info a = {.plan = RT_GEN_START, .home = HOME_FR};
    if (i % 25 == 7) {
        a.plan = RT_GEN_CH;
        a.home = HOME_CH;
    } else if (i % 20 == 5) {
        a.plan = RT_GEN_BIZ;
        a.home = HOME_BE;
    } else if (i % 4 == 1) {
        a.plan = RT_GEN_BIZ;
    } else if (i % 100 == 42) {
        a.plan = RT_GEN_BIZ;
        a.migrates = true;
    }
    a.hash = mix64(w->seed ^ (i + 1) * UINT64_C(0x9E3779B97F4A7C15));
    rt_days p0 = w->period.start_day, days = rt_period_days(&w->period);
    /* 3% joined during the period (never the ten heaviest, nor one that changes plan). */
    if (i >= 10 && !a.migrates && a.hash % 1000 < 30)
        a.since = p0 + (rt_days)((a.hash >> 10) % (uint64_t)days);
    else
        a.since = p0 - 30 - (rt_days)((a.hash >> 10) % 700);
    return a;
}

/* Account bits beyond the ones account_info uses, for independent yes/no choices. */
static bool acct_bit(const acct_info *a, unsigned salt, unsigned per_mille)
{
    return mix64(a->hash + salt) % 1000 < per_mille;
}

/* ---- accounts.csv, account_plans.csv and the accounts' discounts ---- */

static const char *const first_names[] = {"Marie",  "Jean",    "Hélène",  "Luc",
                                          "Sophie", "Karim",   "Camille", "Thomas",
                                          "Léa",    "Nicolas", "Inès",    "Paul"};
static const char *const last_names[] = {"Martin",  "Bernard", "Dubois",  "Thomas", "Robert",
                                         "Richard", "Petit",   "Durand",  "Leroy",  "Moreau",
                                         "Simon",   "Laurent", "Lefèvre", "Michel", "Garcia"};
static const char *const trades[] = {"Boulangerie", "Garage", "Cabinet",    "Atelier",  "Pharmacie",
                                     "Librairie",   "Studio", "Transports", "Crêperie", "Agence"};

typedef struct town {
    const char *city, *postcode;
} town;

static const town fr_towns[] = {
    {"Paris", "75011"},  {"Lyon", "69003"},     {"Marseille", "13006"}, {"Lille", "59000"},
    {"Nantes", "44000"}, {"Bordeaux", "33000"}, {"Toulouse", "31000"},  {"Strasbourg", "67000"}};
static const town be_towns[] = {{"Bruxelles", "1000"}, {"Liège", "4000"}, {"Gent", "9000"}};
static const town ch_towns[] = {{"Genève", "1204"}, {"Lausanne", "1003"}, {"Zürich", "8001"}};

/* Rows are assembled without printf: the account pass writes millions of them. */
static void put_u(rt_buf *b, uint64_t v, int width)
{
    char t[24];
    rt_buf_append(b, t, (size_t)(put_uint(t, v, width) - t));
}

static void put_date(rt_buf *b, rt_days d)
{
    char t[16];
    rt_buf_append(b, t, rt_date_format(d, t, sizeof t));
}

static void put_account(rt_buf *b, const world *w, uint64_t i)
{
    char id[32];
    rt_buf_append(b, id, account_id(w, i, id));
}

static const char *country_of(const acct_info *a)
{
    return a->home == HOME_CH ? "CH" : a->home == HOME_BE ? "BE" : "FR";
}

/* Name, then VAT id: "Garage Dubois, SARL" (quoted) and a VAT number for businesses. */
static void account_party(rt_buf *b, const acct_info *a, bool business)
{
    uint64_t h = a->hash;
    const char *last = last_names[(h >> 8) % RT_ARRAY_LEN(last_names)];
    const town *t = a->home == HOME_CH   ? &ch_towns[(h >> 16) % RT_ARRAY_LEN(ch_towns)]
                    : a->home == HOME_BE ? &be_towns[(h >> 16) % RT_ARRAY_LEN(be_towns)]
                                         : &fr_towns[(h >> 16) % RT_ARRAY_LEN(fr_towns)];
    if (business) {
        rt_buf_putc(b, '"');
        rt_buf_puts(b, trades[(h >> 24) % RT_ARRAY_LEN(trades)]);
        rt_buf_putc(b, ' ');
        rt_buf_puts(b, last);
        rt_buf_puts(b, a->home == HOME_BE ? ", BV\"," : ", SARL\",");
    } else {
        rt_buf_puts(b, first_names[h % RT_ARRAY_LEN(first_names)]);
        rt_buf_putc(b, ' ');
        rt_buf_puts(b, last);
        rt_buf_putc(b, ',');
    }
    put_u(b, (h >> 32) % 200 + 1, 0);
    rt_buf_puts(b, " rue de la Gare,");
    rt_buf_puts(b, t->city);
    rt_buf_putc(b, ',');
    rt_buf_puts(b, t->postcode);
    rt_buf_putc(b, ',');
    rt_buf_puts(b, country_of(a));
    rt_buf_putc(b, ',');
    if (business && a->home == HOME_BE) {
        rt_buf_puts(b, "BE0");
        put_u(b, h % 1000000000, 9);
    } else if (business) {
        rt_buf_puts(b, "FR");
        put_u(b, (h >> 40) % 100, 2);
        put_u(b, h % 1000000000, 9);
    }
    rt_buf_putc(b, ',');
}

static void account_row(rt_buf *b, const world *w, uint64_t i, const acct_info *a)
{
    bool business = a->plan == RT_GEN_BIZ && !a->migrates;
    put_account(b, w, i);
    rt_buf_putc(b, ',');
    account_party(b, a, business);
    rt_buf_puts(b, "billing.");
    put_u(b, i + 1, w->account_digits);
    rt_buf_puts(b, "@example.net,");
    if (business && acct_bit(a, 1, 300)) rt_buf_puts(b, "PO-2026-117");
    rt_buf_puts(b, a->plan == RT_GEN_CH ? ",CHF," : ",EUR,");
    rt_buf_puts(b, a->home == HOME_CH ? "CH_EXPORT" : a->home == HOME_BE ? "BE_B2B" : "FR");
    rt_buf_puts(b, business && acct_bit(a, 2, 200) ? ",1,45\n" : ",1,\n");
}

static void account_plan_rows(rt_buf *b, const world *w, uint64_t i, const acct_info *a)
{
    put_account(b, w, i);
    rt_buf_putc(b, ',');
    rt_buf_puts(b, a->migrates ? "P_START" : rt_gen_plan_id(a->plan));
    rt_buf_putc(b, ',');
    put_date(b, a->since);
    if (!a->migrates) {
        rt_buf_puts(b, ",\n");
        return;
    }
    rt_days move = w->period.start_day + 9;
    rt_buf_putc(b, ',');
    put_date(b, move);
    rt_buf_putc(b, '\n');
    put_account(b, w, i);
    rt_buf_puts(b, ",P_BIZ,");
    put_date(b, move);
    rt_buf_puts(b, ",\n");
}

/* An account's own discounts: a loyalty discount on the invoice (percent), and for some
 * businesses a fixed credit on their calls. */
static void discount_rows(rt_buf *b, const world *w, uint64_t i, const acct_info *a)
{
    if (acct_bit(a, 3, 25)) {
        rt_buf_puts(b, "D-LOY-");
        put_u(b, i + 1, w->account_digits);
        rt_buf_puts(b, ",,,");
        put_account(b, w, i);
        rt_buf_puts(b, ",,,5,,DISCOUNT,Loyalty discount 5%\n");
    }
    if (a->plan == RT_GEN_BIZ && !a->migrates && acct_bit(a, 4, 40)) {
        rt_buf_puts(b, "D-VOX-");
        put_u(b, i + 1, w->account_digits);
        rt_buf_puts(b, ",,,");
        put_account(b, w, i);
        rt_buf_puts(b, ",P_BIZ,C_VOICE,,2.00,,Voice credit\n");
    }
}

/* ---- orders (formats/README.md, "Order files") ---- */

typedef struct order_writer {
    rt_buf *b;
    char acc[32];
    unsigned order, line; /* the account's current order and line */
    uint64_t lines;
} order_writer;

typedef struct order_fields {
    unsigned sub; /* subscription number of the account, 0 for one-time lines */
    const char *action, *product;
    rt_days effective, booked; /* booked 0: not given (the effective date) */
    const char *qty, *price, *discount;
    rt_days end; /* 0: no end date */
    const char *description;
} order_fields;

static void order_begin(order_writer *o)
{
    o->order++;
    o->line = 0;
}

static void order_line(order_writer *o, const order_fields *f)
{
    rt_buf *b = o->b;
    const char *digits = o->acc + 4;
    rt_buf_puts(b, "ORD-");
    rt_buf_puts(b, digits);
    rt_buf_putc(b, '-');
    put_u(b, o->order, 0);
    rt_buf_putc(b, ',');
    put_u(b, ++o->line, 0);
    rt_buf_putc(b, ',');
    if (f->sub) {
        rt_buf_puts(b, "SUB-");
        rt_buf_puts(b, digits);
        rt_buf_putc(b, '-');
        put_u(b, f->sub, 0);
    }
    const char *text[] = {f->action, o->acc, f->product};
    for (size_t i = 0; i < RT_ARRAY_LEN(text); i++) {
        rt_buf_putc(b, ',');
        rt_buf_puts(b, text[i]);
    }
    rt_buf_putc(b, ',');
    put_date(b, f->effective);
    rt_buf_putc(b, ',');
    if (f->booked) put_date(b, f->booked);
    const char *more[] = {f->qty, f->price, f->discount};
    for (size_t i = 0; i < RT_ARRAY_LEN(more); i++) {
        rt_buf_putc(b, ',');
        if (more[i]) rt_buf_puts(b, more[i]);
    }
    rt_buf_putc(b, ',');
    if (f->end) put_date(b, f->end);
    rt_buf_putc(b, ',');
    if (f->description) rt_buf_puts(b, f->description);
    rt_buf_putc(b, '\n');
    o->lines++;
}

/* A day strictly inside the period (so the previous state held on its first day). */
static rt_days day_inside(const world *w, rng *r)
{
    return w->period.start_day + 1 +
           (rt_days)rng_below(r, (uint64_t)rt_period_days(&w->period) - 1);
}

/* The subscription an account changes during the period: its mobile line(s). */
typedef struct main_sub {
    unsigned sub;
    const char *product;
    rt_days start;
    uint64_t qty;
} main_sub;

/* Start, change, cancel or a backdated change of the main subscription, for accounts that
 * had it before the period (a fixed-term one is left alone). */
static void period_events(order_writer *o, const world *w, rng *r, const main_sub *m)
{
    rt_days p0 = w->period.start_day;
    char qty[24];
    uint64_t roll = rng_below(r, 1000);
    if (m->start < p0 - 10 && rng_below(r, 100) == 0) { /* entered late: billed as adjustment */
        snprintf(qty, sizeof qty, "%llu", (unsigned long long)m->qty + 1);
        order_begin(o);
        order_line(o, &(order_fields){m->sub, "change", m->product, p0 - 10, p0 + 2, qty, NULL,
                                      NULL, 0, NULL});
    }
    order_begin(o);
    if (roll < 100) {
        snprintf(qty, sizeof qty, "%llu", (unsigned long long)m->qty + 1 + rng_below(r, 3));
        order_line(o, &(order_fields){m->sub, "change", m->product, day_inside(w, r), 0, qty, NULL,
                                      NULL, 0, NULL});
    } else if (roll < 150) {
        order_line(o, &(order_fields){m->sub, "cancel", m->product, day_inside(w, r), 0, NULL, NULL,
                                      NULL, 0, NULL});
    } else if (roll < 170) {
        order_line(o, &(order_fields){m->sub, "change", m->product, day_inside(w, r), 0, NULL, NULL,
                                      "20", 0, NULL});
    } else {
        o->order--; /* nothing this period */
    }
}

/* A consumer (or one moving to P_BIZ): a mobile line, maybe a TV package, installation when
 * joining. */
static void consumer_orders(order_writer *o, const world *w, rng *r, const acct_info *a)
{
    rt_days p0 = w->period.start_day, end = 0;
    bool joined = a->since >= p0;
    uint64_t roll = rng_below(r, 100);
    if (roll < 3) end = a->since + 365;                           /* a one-year contract */
    if (roll >= 3 && roll < 5 && !joined) end = day_inside(w, r); /* its term ends now */
    order_begin(o);
    order_line(o, &(order_fields){1, "new", "SUB_MOBILE", a->since, 0, "1", NULL,
                                  rng_below(r, 10) == 0 ? "10" : NULL, end, "Mobile line"});
    if (joined)
        order_line(o, &(order_fields){0, "one_time", "INSTALL", a->since, 0, "1", NULL, NULL, 0,
                                      "Installation"});
    if (!a->migrates && rng_below(r, 100) < 30) {
        rt_days tv = joined || rng_below(r, 4) ? a->since : p0 + (rt_days)rng_below(r, 28);
        order_begin(o);
        order_line(o, &(order_fields){2, "new", "SUB_TV", tv, 0, "1", NULL, NULL, 0, NULL});
    }
    if (!joined && !end) period_events(o, w, r, &(main_sub){1, "SUB_MOBILE", a->since, 1});
}

/* A business: fibre (billed in arrears), mobile lines, maybe quarterly support, a handset
 * when joining or now and then. */
static void business_orders(order_writer *o, const world *w, rng *r, const acct_info *a)
{
    rt_days p0 = w->period.start_day;
    bool joined = a->since >= p0;
    uint64_t lines = rng_range(r, 2, 20);
    char qty[24];
    snprintf(qty, sizeof qty, "%llu", (unsigned long long)lines);
    order_begin(o);
    order_line(
        o, &(order_fields){1, "new", "SUB_FIBER", a->since, 0, "1", NULL, NULL, 0, "Fibre access"});
    order_line(o, &(order_fields){2, "new", "SUB_MOBILE", a->since, 0, qty,
                                  rng_below(r, 10) == 0 ? "12.50" : NULL, NULL, 0, "Mobile lines"});
    if (joined || rng_below(r, 100) < 3) {
        snprintf(qty, sizeof qty, "%llu", (unsigned long long)rng_range(r, 1, 5));
        order_line(o, &(order_fields){0, "one_time", "HANDSET",
                                      joined ? a->since : p0 + (rt_days)rng_below(r, 28), 0, qty,
                                      rng_below(r, 2) ? "249" : NULL, NULL, 0,
                                      "\"Handset, model X\""});
    }
    if (rng_below(r, 100) < 30) {
        rt_days s = joined || rng_below(r, 10) >= 4 ? a->since : day_inside(w, r);
        order_begin(o);
        order_line(o, &(order_fields){3, "new", "SUB_SUPPORT", s, 0, "1", NULL, NULL, 0, NULL});
    }
    if (!joined) period_events(o, w, r, &(main_sub){2, "SUB_MOBILE", a->since, lines});
}

static void account_orders(order_writer *o, const world *w, uint64_t i, const acct_info *a)
{
    rng r;
    rng_seed(&r, w->seed, STREAM_ACCOUNT + i);
    o->acc[account_id(w, i, o->acc)] = '\0';
    o->order = 0;
    if (a->plan == RT_GEN_BIZ && !a->migrates) {
        business_orders(o, w, &r, a);
    } else if (a->plan == RT_GEN_CH) {
        char qty[24];
        snprintf(qty, sizeof qty, "%llu", (unsigned long long)rng_range(&r, 1, 3));
        order_begin(o);
        order_line(o, &(order_fields){1, "new", "SUB_MOBILE", a->since, 0, qty, NULL, NULL, 0,
                                      "Abonnement mobile"});
    } else {
        consumer_orders(o, w, &r, a);
    }
}

/* ---- the account pass: blocks of accounts in parallel, written in order ---- */

enum { ACCT_BLOCK = 8192, AF_ACCOUNTS = 0, AF_PLANS, AF_DISCOUNTS, AF_ORDERS, AF_COUNT };

/* One block of accounts: the text of its rows in each file; orders compressed as one zstd
 * frame in the block's thread. */
typedef struct acct_slot {
    rt_buf b[AF_COUNT];
    rt_buf frame;
    ZSTD_CCtx *cctx;
    uint64_t order_lines;
    rt_status st;
} acct_slot;

static void account_block(const world *w, uint64_t first, uint64_t n, acct_slot *s)
{
    for (int f = 0; f < AF_COUNT; f++)
        rt_buf_reset(&s->b[f]);
    rt_buf_reset(&s->frame);
    order_writer o = {.b = &s->b[AF_ORDERS]};
    for (uint64_t i = first; i < first + n; i++) {
        acct_info a = account_info(w, i);
        account_row(&s->b[AF_ACCOUNTS], w, i, &a);
        account_plan_rows(&s->b[AF_PLANS], w, i, &a);
        discount_rows(&s->b[AF_DISCOUNTS], w, i, &a);
        account_orders(&o, w, i, &a);
    }
    s->order_lines = o.lines;
    s->st = RT_ENOMEM;
    for (int f = 0; f < AF_COUNT; f++)
        if (s->b[f].failed) return;
    s->st = rt_zframe_compress(s->cctx, 3, s->b[AF_ORDERS].data, s->b[AF_ORDERS].len, &s->frame);
}

static const char *const account_files[AF_COUNT] = {"accounts.csv", "account_plans.csv",
                                                    "discounts.csv", "orders.csv.zst"};

/* Open the four files and write their headers (orders: a zstd frame of its own). */
static rt_status accounts_open(rt_zwriter **z, const char *out_dir, const char *book,
                               ZSTD_CCtx *cctx, rt_error *err)
{
    rt_buf h[AF_COUNT];
    for (int f = 0; f < AF_COUNT; f++)
        rt_buf_init(&h[f]);
    rt_buf_puts(&h[AF_ACCOUNTS], "account_id,name,street,city,postcode,country,vat_id,email,"
                                 "buyer_reference,currency,tax_jurisdiction,bill_cycle_day,"
                                 "payment_terms_days\n");
    rt_buf_puts(&h[AF_PLANS], "account_id,plan_id,valid_from,valid_to\n");
    rt_gen_book_plan_discounts(&h[AF_DISCOUNTS]);
    static const char orders_header[] =
        "order_id,line,subscription_id,action,account_id,product_id,effective_date,booked_date,"
        "quantity,price,discount_percent,end_date,description\n";
    rt_status st = rt_zframe_compress(cctx, 3, orders_header, strlen(orders_header), &h[AF_ORDERS]);
    if (st != RT_OK) st = rt_error_set(err, st, out_dir, 0, 0, NULL, "cannot compress");
    for (int f = 0; f < AF_COUNT && st == RT_OK; f++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", f == AF_ORDERS ? out_dir : book,
                     account_files[f]) >= (int)sizeof path)
            st = rt_error_set(err, RT_EINVAL, book, 0, 0, NULL, "path too long");
        else if (h[f].failed)
            st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
        if (st == RT_OK) st = rt_zwriter_open(path, 0, &z[f], err);
        if (st == RT_OK) st = rt_zwriter_write_raw(z[f], h[f].data, h[f].len, err);
    }
    for (int f = 0; f < AF_COUNT; f++)
        rt_buf_free(&h[f]);
    return st;
}

static rt_status accounts_put(rt_zwriter **z, const acct_slot *s, const char *book, rt_error *err)
{
    if (s->st != RT_OK) return rt_error_set(err, s->st, book, 0, 0, NULL, "cannot encode accounts");
    rt_status st = RT_OK;
    for (int f = 0; f < AF_COUNT && st == RT_OK; f++) {
        const rt_buf *b = f == AF_ORDERS ? &s->frame : &s->b[f];
        st = rt_zwriter_write_raw(z[f], b->data, b->len, err);
    }
    return st;
}

static void acct_slots_free(acct_slot *slots, unsigned n)
{
    for (unsigned k = 0; slots && k < n; k++) {
        for (int f = 0; f < AF_COUNT; f++)
            rt_buf_free(&slots[k].b[f]);
        rt_buf_free(&slots[k].frame);
        ZSTD_freeCCtx(slots[k].cctx);
    }
    free(slots);
}

static acct_slot *acct_slots_new(unsigned n)
{
    acct_slot *slots = calloc(n, sizeof *slots);
    for (unsigned k = 0; slots && k < n; k++) {
        slots[k].cctx = ZSTD_createCCtx();
        if (!slots[k].cctx) {
            acct_slots_free(slots, n);
            return NULL;
        }
    }
    return slots;
}

/* accounts.csv, account_plans.csv and discounts.csv (in the book) and orders.csv.zst, from
 * blocks of accounts made in parallel waves and written in order. */
static rt_status write_accounts(const char *out_dir, const char *book, const world *w,
                                unsigned threads, uint64_t *order_lines, rt_error *err)
{
    rt_zwriter *z[AF_COUNT] = {NULL};
    unsigned nslots = threads * 2;
    acct_slot *slots = acct_slots_new(nslots);
    rt_status st = slots ? accounts_open(z, out_dir, book, slots[0].cctx, err)
                         : rt_error_set(err, RT_ENOMEM, book, 0, 0, NULL, "out of memory");
    uint64_t nblocks = (w->accounts + ACCT_BLOCK - 1) / ACCT_BLOCK;
    for (uint64_t b0 = 0; b0 < nblocks && st == RT_OK; b0 += nslots) {
        unsigned n = nblocks - b0 < nslots ? (unsigned)(nblocks - b0) : nslots;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (unsigned k = 0; k < n; k++) {
            uint64_t first = (b0 + k) * ACCT_BLOCK, left = w->accounts - first;
            account_block(w, first, left < ACCT_BLOCK ? left : ACCT_BLOCK, &slots[k]);
        }
        for (unsigned k = 0; k < n && st == RT_OK; k++) {
            *order_lines += slots[k].order_lines;
            st = accounts_put(z, &slots[k], book, err);
        }
    }
    for (int f = 0; f < AF_COUNT; f++) {
        if (st == RT_OK)
            st = rt_zwriter_close(z[f], NULL, NULL, err);
        else if (z[f])
            rt_zwriter_abort(z[f]);
    }
    acct_slots_free(slots, nslots);
    return st;
}

/* ---- usage records ---- */

enum { U_VOICE, U_SMS, U_DATA, USAGE_PRODUCTS };
static const char *const usage_products[USAGE_PRODUCTS] = {"VOICE", "SMS", "DATA"};
/* Cumulative share of records per usage product, in parts per thousand. */
static const unsigned product_mix[USAGE_PRODUCTS] = {700, 900, 1000};

enum kind {
    K_GOOD,
    K_DUP,
    /* bad records any format can carry */
    K_UNKNOWN_ACCOUNT,
    K_UNKNOWN_PRODUCT,
    K_NEGATIVE,
    K_ABSURD,
    K_AFTER_PERIOD,
    K_UNKNOWN_DEST,
    K_BAD_NUMBER,
    /* bad records only text can carry */
    K_BAD_TIME,
    K_BAD_QUANTITY,
    K_MISSING_FIELD,
    K_MALFORMED,
    K_COUNT
};
#define K_NATIVE_BAD_END K_BAD_TIME
/* Every format draws a bad record's kind among all of them, so that the formats' records
 * stay the same: native blocks cannot carry the text-only kinds and carry these instead. */
static int native_kind(int kind)
{
    if (kind < K_NATIVE_BAD_END) return kind;
    return K_UNKNOWN_ACCOUNT + (kind - K_NATIVE_BAD_END) % (K_NATIVE_BAD_END - K_UNKNOWN_ACCOUNT);
}

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

/* A start just before a band boundary of the account's plan (08:00 and 20:00 in Paris,
 * 07:00 and 19:00 in Zurich), or 0 when it falls before the period. */
static rt_time_s before_boundary(const world *w, rng *r, const acct_info *a)
{
    const rt_period *p = &w->period;
    rt_days d = p->start_day + (rt_days)rng_below(r, (uint64_t)rt_period_days(p));
    int64_t hour = (a->plan == RT_GEN_CH ? 7 : 8) + (rng_below(r, 2) ? 12 : 0);
    rt_time_s t = cet_to_utc(rt_time_of_days(d) + hour * 3600) - (rt_time_s)rng_below(r, 900);
    return t >= p->start_s ? t : 0;
}

/* A start in the last half hour of a Friday, local time, so the call runs into the weekend. */
static rt_time_s before_weekend(const world *w, rng *r)
{
    const rt_period *p = &w->period;
    rt_days fri = p->start_day + (rt_days)((5 + 7 - rt_iso_weekday(p->start_day)) % 7);
    int64_t fridays = (p->end_day - 1 - fri) / 7 + 1;
    fri += 7 * (rt_days)rng_below(r, (uint64_t)fridays);
    return cet_to_utc(rt_time_of_days(fri + 1)) - 1 - (rt_time_s)rng_below(r, 1800);
}

/* Start time: mostly uniform over the period; some just before a time-band change, a
 * weekend or across the DST change, so that calls cross them; never before the account's
 * start. */
static rt_time_s start_time(const world *w, rng *r, const acct_info *a)
{
    uint64_t roll = rng_below(r, 100);
    const rt_period *p = &w->period;
    rt_time_s t = 0;
    if (roll < 6)
        t = before_boundary(w, r, a);
    else if (roll < 9)
        t = before_weekend(w, r);
    else if (roll < 12 && w->dst_switch_s)
        t = w->dst_switch_s - 7200 + (rt_time_s)rng_below(r, 14400);
    if (t < p->start_s || t >= p->end_s)
        t = p->start_s + (rt_time_s)rng_below(r, (uint64_t)(p->end_s - p->start_s));
    rt_time_s since = rt_time_of_days(a->since);
    if (t < since) t = since + (t - p->start_s) % (p->end_s - since);
    return t;
}

/* A called number drawn from the deck: home fixed, mobile and special numbers and
 * international destinations by their weight; written as E.164 (+...), with the
 * international prefix (00...) or, for the plan's own country, in national form (0...). */
static size_t called_number(const world *w, rng *r, const acct_info *a, int product, char *out)
{
    const rt_gen_deck *d = &w->deck;
    uint32_t home = a->home == HOME_CH ? d->home_ch : a->home == HOME_BE ? d->home_be : d->home_fr;
    uint32_t dest = home;
    int type = RT_GEN_MOBILE;
    uint64_t roll = rng_below(r, 1000);
    if (product == U_VOICE && roll < 520) {
        type = RT_GEN_FIXED;
    } else if (product == U_VOICE && roll >= 850) {
        uint64_t x = rng_below(r, d->intl_cum[d->dest_count - 1]);
        for (dest = 0; d->intl_cum[dest] <= x; dest++)
            continue;
        type = (int)rng_below(r, 2);
    }
    const rt_gen_dest *g = &d->dests[dest];
    if (g->count[type] == 0) type ^= 1;
    const char *pre = d->prefix[d->pick[g->first[type] + rng_below(r, g->count[type])]];
    char e164[RT_GEN_PREFIX_SIZE + 8];
    size_t n = strlen(pre), digits = g->number_digits < n + 3 ? n + 3 : g->number_digits;
    memcpy(e164, pre, n);
    while (n < digits && n < 15)
        e164[n++] = (char)('0' + rng_below(r, 10));
    size_t cc = strlen(g->cc);
    uint64_t form = rng_below(r, 100);
    char *p = out;
    if (form < 25 && dest == home && a->home != HOME_BE) { /* national: 0 + number */
        *p++ = '0';
        memcpy(p, e164 + cc, n - cc);
        return 1 + n - cc;
    }
    if (form < 30) {
        memcpy(p, "00", 2);
        p += 2;
    } else {
        *p++ = '+';
    }
    memcpy(p, e164, n);
    return (size_t)(p - out) + n;
}

static void good_event(const world *w, rng *r, uint64_t global, char *stripe, rt_event *ev)
{
    memset(ev, 0, sizeof *ev);
    char *id = stripe + ID_AT;
    id[0] = 'E';
    ev->event_id = id;
    ev->event_id_len = (uint16_t)(put_uint(id + 1, global, 12) - id);
    uint64_t index = rng_skewed(r, w->accounts);
    acct_info a = account_info(w, index);
    ev->account = stripe + ACCOUNT_AT;
    ev->account_len = (uint16_t)account_id(w, index, stripe + ACCOUNT_AT);
    unsigned roll = (unsigned)rng_below(r, 1000);
    int product = 0;
    while (roll >= product_mix[product])
        product++;
    ev->product = usage_products[product];
    ev->product_len = (uint16_t)strlen(ev->product);
    ev->start_s = start_time(w, r, &a);
    ev->called = stripe + CALLED_AT;
    ev->called_len = 0;
    if (product == U_DATA) {
        ev->qty_mantissa = (int64_t)(rng_skewed(r, 500000000) + 1);
    } else {
        ev->called_len = (uint16_t)called_number(w, r, &a, product, stripe + CALLED_AT);
        ev->qty_mantissa = product == U_SMS ? 1 : call_seconds(r);
    }
}

static void set_product(rt_event *ev, int product)
{
    ev->product = usage_products[product];
    ev->product_len = (uint16_t)strlen(ev->product);
}

/* A call to a number no prefix of the deck covers (+883: International Networks; +979:
 * International Premium Rate), or a number that is not one. */
static void bad_called(rng *r, int kind, char *stripe, rt_event *ev)
{
    static const char *const not_numbers[] = {"anonymous", "+33 1 42 68 53 00", "12"};
    char *p = stripe + CALLED_AT;
    ev->called = p;
    if (kind == K_BAD_NUMBER) {
        const char *s = not_numbers[rng_below(r, RT_ARRAY_LEN(not_numbers))];
        ev->called_len = (uint16_t)strlen(s);
        memcpy(p, s, ev->called_len);
        return;
    }
    memcpy(p, rng_below(r, 2) ? "+883" : "+979", 4);
    for (int i = 4; i < 13; i++)
        p[i] = (char)('0' + rng_below(r, 10));
    ev->called_len = 13;
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
    case K_NEGATIVE:
        ev->qty_mantissa = -1 - (int64_t)rng_below(r, 100);
        break;
    case K_ABSURD: /* an SMS is one message */
        set_product(ev, U_SMS);
        if (ev->called_len == 0) bad_called(r, K_UNKNOWN_DEST, stripe, ev);
        ev->qty_mantissa = 2 + (int64_t)rng_below(r, 1000);
        break;
    case K_AFTER_PERIOD:
        ev->start_s = w->period.end_s + (rt_time_s)rng_below(r, 3 * 86400);
        break;
    case K_UNKNOWN_DEST:
    case K_BAD_NUMBER:
        set_product(ev, U_VOICE);
        bad_called(r, kind, stripe, ev);
        ev->qty_mantissa = call_seconds(r);
        break;
    default:
        break; /* text-only kinds are written by csv_record() */
    }
}

static void gen_block(const world *w, uint64_t block, uint32_t n, gen_slot *s)
{
    rng r;
    rng_seed(&r, w->seed, STREAM_USAGE + block);
    uint32_t good[RING], ngood = 0;
    uint64_t first = block * RT_GEN_BLOCK_RECORDS;
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
            /* One draw of the block's stream whatever the kind and format; the details from
             * the record's own stream. So the CSV and native files of a seed hold the same
             * records but for the bad ones only text can carry. */
            int kind = K_UNKNOWN_ACCOUNT + (int)rng_below(&r, K_COUNT - K_UNKNOWN_ACCOUNT);
            s->kind[i] = (uint8_t)(w->native ? native_kind(kind) : kind);
            rng rb;
            rng_seed(&rb, w->seed, STREAM_BAD + first + i);
            make_bad(w, &rb, s->kind[i], stripe, &s->ev[i]);
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
        for (int i = 0; i < RT_CSV_FIELDS_MAX + 6; i++)
            rt_buf_putc(b, ',');
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
static void block_job(const world *w, const rt_gen_opts *o, uint64_t block, uint32_t n, gen_slot *s)
{
    gen_block(w, block, n, s);
    rt_buf_reset(&s->out);
    int level = o->level ? o->level : 3;
    if (w->native) {
        rt_native_block_reset(s->blk);
        for (uint32_t i = 0; i < n; i++) {
            const char *why;
            s->st = rt_native_block_add(s->blk, &s->ev[i], &why);
            if (s->st != RT_OK) return;
        }
        s->st = rt_native_block_finish(s->blk, (uint32_t)block, block * RT_GEN_BLOCK_RECORDS, level,
                                       s->cctx, &s->out);
        return;
    }
    rt_buf_reset(&s->text);
    for (uint32_t i = 0; i < n; i++)
        csv_record(&s->text, &s->ev[i], s->kind[i]);
    s->st = s->text.failed ? RT_ENOMEM
                           : rt_usage_csv_frame(s->cctx, level, s->text.data, s->text.len, &s->out);
}

typedef struct usage_out {
    rt_zwriter *z;
    rt_native_writer *nw;
    rt_usage_csv_tally tally; /* CSV.zst: the indexed frames written, for the end frame */
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
    rt_usage_csv_count(&u->tally, h.data, h.len);
    rt_buf_free(&h);
    return st;
}

static rt_status usage_put(usage_out *u, const rt_buf *block, rt_error *err)
{
    if (u->nw) return rt_native_writer_put(u->nw, block->data, block->len, err);
    rt_usage_csv_count(&u->tally, block->data, block->len);
    return rt_zwriter_write_raw(u->z, block->data, block->len, err);
}

/* The CSV.zst file's end frame, then the file closed. */
static rt_status usage_close_csv(usage_out *u, uint64_t *bytes, rt_error *err)
{
    unsigned char end[RT_USAGE_CSV_END_BYTES];
    rt_usage_csv_end(&u->tally, end);
    rt_status st = rt_zwriter_write_raw(u->z, end, sizeof end, err);
    if (st != RT_OK) {
        rt_zwriter_abort(u->z);
        return st;
    }
    return rt_zwriter_close(u->z, bytes, NULL, err);
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
                                unsigned threads, rt_gen_result *res, rt_error *err)
{
    unsigned nslots = threads * 2;
    uint64_t nblocks = (o->records + RT_GEN_BLOCK_RECORDS - 1) / RT_GEN_BLOCK_RECORDS;
    gen_slot *slots = slots_new(nslots);
    usage_out u = {NULL, NULL, {0, 0}};
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
        st = usage_close_csv(&u, &res->usage_bytes, err);
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
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                            "accounts must be 1 to %llu, "
                            "records at most %llu",
                            (unsigned long long)RT_GEN_ACCOUNTS_MAX,
                            (unsigned long long)RT_GEN_RECORDS_MAX);
    if ((uint64_t)o->bad_ppm + o->dup_ppm > RT_GEN_SHARE_SCALE)
        return rt_error_set(err, RT_EINVAL, NULL, 0, 0, NULL,
                            "bad and duplicate shares add up "
                            "to more than 1");
    world w;
    rt_status st = world_init(&w, o, err);
    if (st != RT_OK) return st;
    unsigned threads = o->threads ? o->threads : (unsigned)omp_get_num_procs();
    char book[PATH_MAX];
    snprintf(book, sizeof book, "%s/book", o->out_dir);
    if ((st = make_dir(o->out_dir, err)) == RT_OK && (st = make_dir(book, err)) == RT_OK &&
        (st = rt_gen_book_write(book, &w.period, &w.deck, err)) == RT_OK &&
        (st = write_accounts(o->out_dir, book, &w, threads, &res->order_lines, err)) == RT_OK)
        st = generate_usage(o->out_dir, &w, o, threads, res, err);
    res->accounts = o->accounts;
    res->deck_prefixes = w.deck.prefix_count;
    rt_gen_deck_free(&w.deck);
    return st;
}

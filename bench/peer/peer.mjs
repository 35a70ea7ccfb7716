// The peer of ratel's end-to-end benchmark: the same rating job as SQL in DuckDB.
//
//   node bench/peer/peer.mjs --book BOOK_SRC_DIR --usage usage.csv.zst --period YYYY-MM
//        [--threads N] [--late-window MONTHS] [--compare usage_detail_index.csv]
//        [--expect totals.csv] [--out totals.csv] [--explain PLAN.txt]
//
// It reads the price book source (the CSV files `ratel book import` reads) and the usage
// CSV.zst file as they are, and computes per account the sum of the event amounts of the
// usage charges ratel prices per event (`per_unit` and `flat`), following ratel's rules
// (formats/README.md): account -> plan in force (plans tried in plan_id order) -> charge
// version in force -> quantity in base units -> destination zone by longest prefix of the
// called number normalised with the plan's dialling rules -> time band of the call's start in
// the plan's time zone (holidays first) -> rate (zone, band), (zone, any), (any, band), (any,
// any), with its intervals -> billing increments -> price -> event rounding -> setup fee,
// minimum, maximum. Bad records are left out as ratel rejects them, and a repeated event id
// is billed once (its first rateable occurrence in file order). Money is integer nanos in
// HUGEINT (128-bit) with named rounding: never a DOUBLE.
//
// Not covered (the compared charges leave them out, and the output says so): plans whose
// band_crossing is `split` (a call cut at band boundaries), and the period-priced models
// (tiered, volume, package), whose events carry only their setup fee.
//
// --compare sums ratel's usage_detail_index.csv (the exact sum of each invoice line's event
// amounts) per account over the same charges and checks that both give the same figures;
// --expect does the same with a hand-made totals file (account_id,currency,events,amount);
// both may be given. --out writes the peer's totals in that layout. --explain writes the
// job's query profile (DuckDB's JSON profiling output, per operator) to a file.
// The last line printed is `PEER key=value...` for bench/run.sh; the exit status is 1 when a
// comparison finds a difference.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

// ---- command line ----

function parseArgs(argv) {
  const o = { threads: '2', lateWindow: 3 };
  const names = {
    '--book': 'book', '--usage': 'usage', '--period': 'period', '--threads': 'threads',
    '--late-window': 'lateWindow', '--compare': 'compare', '--expect': 'expect', '--out': 'out',
    '--explain': 'explain',
  };
  for (let i = 2; i < argv.length; i++) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`unexpected argument '${argv[i]}'`);
    o[key] = argv[++i];
  }
  if (!o.book || !o.usage || !/^\d{4}-\d{2}$/.test(o.period || ''))
    throw new Error('needs --book DIR, --usage FILE and --period YYYY-MM');
  return o;
}

const sqlString = (s) => `'${String(s).replace(/'/g, "''")}'`;

// The period [start, end) in UTC and the start of the late-usage window, as ratel computes
// them: whole UTC months.
function periodBounds(period, lateWindow) {
  const [y, m] = period.split('-').map(Number);
  const at = (year, month0) => Date.UTC(year, month0, 1) / 1000;
  return { start: at(y, m - 1), end: at(y, m), late: at(y, m - 1 - Number(lateWindow)) };
}

// ---- the price book source ----

// The columns the job reads from each table; a column missing from a file is NULL (its
// default is applied in SQL), and a missing optional file is an empty table.
const BOOK = {
  products: ['product_id', 'valid_from', 'valid_to', 'unit', 'quantity_decimals', 'revenue_type',
    'max_quantity'],
  plans: ['plan_id', 'currency', 'time_zone', 'band_set_id', 'band_crossing', 'country_code',
    'national_prefix', 'international_prefix'],
  charges: ['plan_id', 'charge_id', 'valid_from', 'valid_to', 'product_id', 'model', 'price',
    'price_per', 'first_increment', 'next_increment', 'setup_fee', 'min_per_event',
    'max_per_event', 'event_decimals', 'event_rounding', 'deck_id'],
  account_plans: ['account_id', 'plan_id', 'valid_from', 'valid_to'],
  prefixes: ['deck_id', 'prefix', 'valid_from', 'valid_to', 'zone_id'],
  rates: ['plan_id', 'charge_id', 'zone_id', 'band_id', 'interval_start', 'valid_from', 'valid_to',
    'price', 'price_per', 'first_increment', 'next_increment', 'setup_fee'],
  time_bands: ['band_set_id', 'days', 'start', 'end', 'band_id'],
  holidays: ['band_set_id', 'date'],
};

function csvHeader(path) {
  const fd = fs.openSync(path, 'r');
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const line = buf.subarray(0, n).toString('utf8').split(/\r?\n/)[0];
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

function bookTableSql(dir, table) {
  const path = `${dir}/${table}.csv`;
  const want = BOOK[table];
  if (!fs.existsSync(path))
    return `SELECT ${want.map((c) => `NULL::VARCHAR AS "${c}"`).join(', ')} WHERE false`;
  const have = csvHeader(path);
  const columns = `{${have.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`;
  const pick = want.map((c) => (have.includes(c) ? `NULLIF(trim("${c}"), '') AS "${c}"`
    : `NULL::VARCHAR AS "${c}"`));
  return `SELECT ${pick.join(', ')} FROM read_csv(${sqlString(path)}, header = true, ` +
    `auto_detect = false, columns = ${columns}, delim = ',', quote = '"', escape = '"')`;
}

// Helpers: instants as Unix seconds (an empty bound is open), money as nanos, powers of ten,
// billing increments and ratel's named rounding of an exact quotient num / den (den > 0).
const MACROS = `
SET TimeZone = 'UTC';
CREATE MACRO secs(x) AS epoch_us(CAST(x AS TIMESTAMPTZ)) // 1000000;
CREATE MACRO from_s(x) AS coalesce(secs(x), -(CAST(1 AS BIGINT) << 62));
CREATE MACRO to_s(x) AS coalesce(secs(x), CAST(1 AS BIGINT) << 62);
CREATE MACRO nanos(x) AS CAST(CAST(x AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT);
CREATE MACRO p10(k) AS (CAST([1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
  1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
  1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000] AS HUGEINT[]))[k + 1];
CREATE MACRO inc(q, f, n) AS CASE WHEN q = 0 OR f = 0 THEN q WHEN q <= f THEN f
  ELSE f + ((q - f + n - 1) // n) * n END;
CREATE MACRO rnd_abs(a, d, mode) AS CASE mode
  WHEN 'down' THEN a // d
  WHEN 'up' THEN (a + d - 1) // d
  WHEN 'half_even' THEN a // d + CASE WHEN 2 * (a % d) > d OR (2 * (a % d) = d AND (a // d) % 2 = 1)
                                      THEN 1 ELSE 0 END
  ELSE (2 * a + d) // (2 * d) END;
CREATE MACRO money_text(n) AS CASE WHEN n < 0 THEN '-' ELSE '' END || CAST(abs(n) // 1000000000 AS VARCHAR)
  || '.' || lpad(CAST(abs(n) % 1000000000 AS VARCHAR), 9, '0');
CREATE MACRO rnd(num, den, mode) AS CASE WHEN num < 0 THEN -rnd_abs(-num, den, mode)
  ELSE rnd_abs(num, den, mode) END;
`;

// The book's tables, typed: ids as text, instants as seconds, money as HUGEINT nanos.
function paramSql() {
  return `
CREATE TABLE products_t AS SELECT product_id, from_s(valid_from) AS vf, to_s(valid_to) AS vt,
  CAST(coalesce(quantity_decimals, '0') AS INTEGER) AS qd,
  coalesce(revenue_type, 'usage') = 'usage' AS is_usage,
  CAST(max_quantity AS HUGEINT) AS maxq FROM src_products;
CREATE TABLE plans_t AS SELECT plan_id, currency, coalesce(time_zone, 'UTC') AS tz, band_set_id,
  coalesce(band_crossing, 'start') = 'split' AS split, country_code AS cc,
  coalesce(national_prefix, '') AS natl, coalesce(international_prefix, '00') AS intl
  FROM src_plans;
CREATE TABLE charges_t AS SELECT row_number() OVER (ORDER BY c.plan_id, c.charge_id, c.valid_from)
  AS cid, c.plan_id, c.charge_id, from_s(c.valid_from) AS vf,
  to_s(c.valid_to) AS vt, c.product_id, c.model, nanos(coalesce(c.price, '0')) AS price,
  CAST(coalesce(c.price_per, '1') AS HUGEINT) AS per,
  CAST(coalesce(c.first_increment, '0') AS HUGEINT) AS fi,
  CAST(coalesce(c.next_increment, '0') AS HUGEINT) AS ni,
  nanos(coalesce(c.setup_fee, '0')) AS setup, nanos(c.min_per_event) AS minv,
  nanos(c.max_per_event) AS maxv, CAST(coalesce(c.event_decimals, '9') AS INTEGER) AS ed,
  coalesce(c.event_rounding, 'half_up') AS mode, c.deck_id,
  EXISTS (SELECT 1 FROM src_rates r WHERE r.plan_id = c.plan_id AND r.charge_id = c.charge_id)
    AS rated,
  c.model IN ('per_unit', 'flat') AND NOT p.split AS compared,
  p.currency, p.tz, p.band_set_id, p.cc, p.natl, p.intl
  FROM src_charges c JOIN plans_t p USING (plan_id);
CREATE TABLE ap_t AS SELECT account_id, plan_id, from_s(valid_from) AS vf, to_s(valid_to) AS vt
  FROM src_account_plans;
-- Accounts with two plans in force at once (their events take the first plan, by plan_id,
-- that charges the product; every other event matches one charge version at most).
CREATE TABLE multi_t AS SELECT DISTINCT a.account_id FROM ap_t a JOIN ap_t b
  ON a.account_id = b.account_id AND a.plan_id < b.plan_id AND a.vf < b.vt AND b.vf < a.vt;
CREATE TABLE pfx_t AS SELECT deck_id, prefix, length(prefix) AS len, from_s(valid_from) AS vf,
  to_s(valid_to) AS vt, zone_id FROM src_prefixes;
-- Time band rules per day: 1 = Monday ... 7 = Sunday, 8 = holidays.
CREATE TABLE rules_t AS
  WITH names(name, d) AS (VALUES ('mon', 1), ('tue', 2), ('wed', 3), ('thu', 4), ('fri', 5),
    ('sat', 6), ('sun', 7), ('hol', 8)),
  parts AS (SELECT band_set_id, band_id, start, "end", unnest(string_split(lower(days), '+')) AS part
    FROM src_time_bands),
  spans AS (SELECT *, CASE WHEN part = 'all' THEN 'mon' ELSE split_part(part, '-', 1) END AS a,
    CASE WHEN part = 'all' THEN 'sun' WHEN part LIKE '%-%' THEN split_part(part, '-', 2)
      ELSE part END AS b FROM parts)
  SELECT s.band_set_id, n.d AS day, s.band_id,
    CAST(split_part(s.start, ':', 1) AS INTEGER) * 3600 + CAST(split_part(s.start, ':', 2) AS INTEGER) * 60
      + CAST(coalesce(NULLIF(split_part(s.start, ':', 3), ''), '0') AS INTEGER) AS s,
    CAST(split_part(s."end", ':', 1) AS INTEGER) * 3600 + CAST(split_part(s."end", ':', 2) AS INTEGER) * 60
      + CAST(coalesce(NULLIF(split_part(s."end", ':', 3), ''), '0') AS INTEGER) AS e
  FROM spans s JOIN names na ON na.name = s.a JOIN names nb ON nb.name = s.b
  JOIN names n ON n.d BETWEEN na.d AND nb.d;
CREATE TABLE hol_t AS SELECT DISTINCT band_set_id, CAST(date AS DATE) AS d FROM src_holidays;
-- Rate groups (charge, zone or '' for any, band or '' for any), cut into time segments over
-- which the same rows are in force; each segment holds its intervals in order, with the start
-- of the next one. Only segments whose first interval starts at 0 can rate an event.
CREATE TABLE rates_t AS SELECT plan_id, charge_id, coalesce(zone_id, '') AS zone_id,
  coalesce(band_id, '') AS band_id, CAST(coalesce(interval_start, '0') AS HUGEINT) AS istart,
  from_s(valid_from) AS vf, to_s(valid_to) AS vt, nanos(price) AS price,
  CAST(price_per AS HUGEINT) AS per, CAST(first_increment AS HUGEINT) AS fi,
  CAST(next_increment AS HUGEINT) AS ni, nanos(setup_fee) AS setup FROM src_rates;
CREATE TABLE groups_t AS
  WITH bounds AS (SELECT DISTINCT plan_id, charge_id, zone_id, band_id, b FROM (
      SELECT plan_id, charge_id, zone_id, band_id, vf AS b FROM rates_t UNION ALL
      SELECT plan_id, charge_id, zone_id, band_id, vt FROM rates_t)),
  segs AS (SELECT *, lead(b) OVER (PARTITION BY plan_id, charge_id, zone_id, band_id ORDER BY b)
      AS b_to FROM bounds),
  rows AS (SELECT s.plan_id, s.charge_id, s.zone_id, s.band_id, s.b AS sf, s.b_to AS st, r.istart,
      lead(r.istart) OVER (PARTITION BY s.plan_id, s.charge_id, s.zone_id, s.band_id, s.b
        ORDER BY r.istart) AS inext, r.price, r.per, r.fi, r.ni, r.setup
    FROM segs s JOIN rates_t r ON r.plan_id = s.plan_id AND r.charge_id = s.charge_id
      AND r.zone_id = s.zone_id AND r.band_id = s.band_id AND r.vf <= s.b AND s.b < r.vt
    WHERE s.b_to IS NOT NULL)
  SELECT plan_id, charge_id, zone_id, band_id, sf, st,
    struct_pack(iv := list(struct_pack(s := istart, n := inext, p := price, per := per, fi := fi,
      ni := ni) ORDER BY istart), setup0 := arg_min(setup, istart), price0 := arg_min(price, istart)) AS g
  FROM rows GROUP BY ALL HAVING min(istart) = 0;
`;
}

// ---- the rating job ----

function jobSql(usage, bounds, prefixLengths, multiPlan) {
  const lens = prefixLengths.slice().sort((a, b) => b - a);
  const pfxJoins = lens.map((l) => `LEFT JOIN pfx_t p${l} ON p${l}.deck_id = x.deck_id AND ` +
    `p${l}.len = ${l} AND p${l}.prefix = left(x.num, ${l}) AND p${l}.vf <= x.t AND x.t < p${l}.vt`);
  const zone = lens.length ? `coalesce(${lens.map((l) => `p${l}.zone_id`).join(', ')})` : 'NULL';
  const grpJoin = (a, zoneExpr, bandExpr) => `LEFT JOIN groups_t ${a} ON ${a}.plan_id = x.plan_id ` +
    `AND ${a}.charge_id = x.charge_id AND ${a}.zone_id = ${zoneExpr} AND ${a}.band_id = ${bandExpr} ` +
    `AND ${a}.sf <= x.t AND x.t < ${a}.st`;
  // One interval's share [lo, hi) of the call, rounded up to the interval's increments.
  const billed = `CASE WHEN (CASE WHEN i.n IS NOT NULL AND i.n < qty THEN i.n ELSE qty END) > i.s
    THEN inc((CASE WHEN i.n IS NOT NULL AND i.n < qty THEN i.n ELSE qty END) - i.s,
             coalesce(i.fi, fi), coalesce(i.ni, ni)) ELSE 0 END`;
  return `
CREATE TABLE totals_t AS
WITH raw AS (
  SELECT row_number() OVER () AS rn, event_id, account_id, product_id, start_time, quantity,
    called_number
  FROM read_csv(${sqlString(usage)}, header = true, all_varchar = true, delim = ',', quote = '"',
    escape = '"', compression = 'zstd', ignore_errors = true)),
ev AS (
  SELECT rn, event_id, account_id, product_id, called_number, quantity, ts,
    epoch_us(ts) // 1000000 AS t
  FROM (SELECT *, date_trunc('second', TRY_CAST(start_time AS TIMESTAMPTZ)) AS ts FROM raw)
  WHERE event_id IS NOT NULL AND account_id IS NOT NULL AND product_id IS NOT NULL
    AND quantity IS NOT NULL AND regexp_full_match(quantity, '\\+?[0-9]+(\\.[0-9]+)?')),
-- The charge: the plan in force, its charge version in force, the product version in force.
-- Only the charge's row number travels through the joins; its terms are joined after.
matched AS (
  SELECT e.rn, e.event_id, e.account_id, e.t, e.ts, e.called_number, e.quantity, c.cid,
    c.plan_id AS cplan, p.qd, p.maxq
  FROM ev e
  JOIN ap_t a ON a.account_id = e.account_id AND a.vf <= e.t AND e.t < a.vt
  JOIN (SELECT cid, plan_id, product_id, vf, vt FROM charges_t) c ON c.plan_id = a.plan_id
    AND c.product_id = e.product_id AND c.vf <= e.t AND e.t < c.vt
  JOIN products_t p ON p.product_id = e.product_id AND p.vf <= e.t AND e.t < p.vt AND p.is_usage
  WHERE e.t >= ${bounds.late} AND e.t < ${bounds.end}),
${multiPlan ? `-- Some accounts have two plans in force at once: the first (by plan_id) that charges
-- the product wins.
resolved AS (SELECT * FROM matched QUALIFY row_number() OVER (PARTITION BY rn ORDER BY cplan) = 1),`
    : '-- No account has two plans in force at once: an event matches one charge version at most.\nresolved AS (SELECT * FROM matched),'}
charged AS (
  SELECT r.rn, r.event_id, r.account_id, r.t, r.ts, r.called_number, r.qd, r.maxq,
    ltrim(split_part(r.quantity, '.', 1), '+') AS qi, rtrim(split_part(r.quantity, '.', 2), '0') AS qf,
    c.*
  FROM resolved r JOIN charges_t c ON c.cid = r.cid),
-- Quantity in base units (trailing zeros carry no value) and the normalised called number.
qty AS (
  SELECT *, TRY_CAST(qi || rpad(qf, qd, '0') AS HUGEINT) AS qty,
    CASE WHEN deck_id IS NULL OR called_number IS NULL THEN NULL
      WHEN NOT regexp_full_match(called_number, '\\+?[0-9]*') THEN NULL
      WHEN starts_with(called_number, '+') THEN substr(called_number, 2)
      WHEN intl <> '' AND starts_with(called_number, intl) THEN substr(called_number, length(intl) + 1)
      WHEN cc IS NOT NULL AND natl <> '' AND starts_with(called_number, natl)
        THEN cc || substr(called_number, length(natl) + 1)
      ELSE called_number END AS num0,
    cc IS NOT NULL AND natl <> '' AND NOT starts_with(called_number, '+')
      AND NOT (intl <> '' AND starts_with(called_number, intl))
      AND starts_with(called_number, natl) AS with_cc
  FROM charged
  WHERE length(qf) <= qd AND model <> 'percentage'),
valid AS (
  SELECT *, CASE WHEN num0 IS NOT NULL AND length(num0) BETWEEN 3 AND 15
      AND (with_cc OR NOT starts_with(num0, '0')) THEN num0 END AS num,
    CASE WHEN rated AND band_set_id IS NOT NULL THEN timezone(tz, ts) END AS lt
  FROM qty
  WHERE qty IS NOT NULL AND qty <= 1000000000000000 AND (maxq IS NULL OR qty <= maxq)),
-- Destination zone (longest prefix in force) and time band (holiday rules first).
placed AS (
  SELECT x.*, ${zone} AS zone, coalesce(hr.band_id, wr.band_id) AS band
  FROM (SELECT *, hour(lt) * 3600 + minute(lt) * 60 + second(lt) AS sod FROM valid) x
  ${pfxJoins.join('\n  ')}
  LEFT JOIN hol_t h ON h.band_set_id = x.band_set_id AND h.d = CAST(x.lt AS DATE)
  LEFT JOIN rules_t hr ON hr.band_set_id = x.band_set_id AND hr.day = 8 AND h.d IS NOT NULL
    AND hr.s <= x.sod AND x.sod < hr.e
  LEFT JOIN rules_t wr ON wr.band_set_id = x.band_set_id AND wr.day = isodow(x.lt)
    AND wr.s <= x.sod AND x.sod < wr.e),
-- The rate group: (zone, band), (zone, any), (any, band), (any, any).
grouped AS (
  SELECT x.*, coalesce(g1.g, g2.g, g3.g, g4.g) AS g
  FROM placed x
  ${grpJoin('g1', 'x.zone', 'x.band')}
  ${grpJoin('g2', 'x.zone', "''")}
  ${grpJoin('g3', "''", 'x.band')}
  ${grpJoin('g4', "''", "''")}
  WHERE (deck_id IS NULL OR zone IS NOT NULL)),
rateable AS (
  SELECT *, CASE WHEN rated THEN list_reduce(list_transform(g.iv, j -> coalesce(j.per, per)),
      (a, b) -> lcm(a, b)) END AS lcm_per
  FROM grouped WHERE NOT rated OR g IS NOT NULL),
-- Price before the setup fee and bounds, and whether the event is charged at all.
priced AS (
  SELECT rn, event_id, account_id, currency, compared,
    CASE
      WHEN NOT compared THEN NULL
      WHEN model = 'flat' AND rated THEN g.price0
      WHEN model = 'flat' THEN rnd(price, p10(9 - ed), mode) * p10(9 - ed)
      WHEN rated THEN rnd(list_sum(list_transform(g.iv, i -> (${billed}) * i.p
          * (lcm_per // coalesce(i.per, per)))), lcm_per * p10(qd) * p10(9 - ed), mode) * p10(9 - ed)
      ELSE rnd(inc(qty, fi, ni) * price, per * p10(qd) * p10(9 - ed), mode) * p10(9 - ed)
    END AS base,
    model = 'flat' OR (CASE WHEN rated THEN list_sum(list_transform(g.iv, i -> ${billed}))
                            ELSE inc(qty, fi, ni) END) > 0 AS is_charged,
    CASE WHEN rated THEN coalesce(g.setup0, setup) ELSE setup END AS setup_fee, minv, maxv
  FROM rateable),
-- Setup fee, then raised to the minimum, then capped at the maximum (charged events only).
raised AS (
  SELECT *, CASE WHEN minv IS NOT NULL AND base + setup_fee < minv THEN minv
    ELSE base + setup_fee END AS v FROM priced),
amounts AS (
  SELECT rn, event_id, account_id, currency, compared,
    CASE WHEN NOT is_charged THEN base WHEN maxv IS NOT NULL AND v > maxv THEN maxv ELSE v END
      AS amount
  FROM raised),
-- A repeated event id is billed once: its first rateable occurrence in file order.
firsts AS (
  SELECT arg_min(struct_pack(a := account_id, c := currency, x := amount, k := compared), rn) AS f
  FROM amounts GROUP BY event_id)
SELECT f.a AS account_id, f.c AS currency, count(*) AS events, sum(f.x) AS amount
FROM firsts WHERE f.k GROUP BY ALL`;
}

// ---- comparisons ----

function ratelTotalsSql(index) {
  return `
CREATE TABLE other_t AS
SELECT i.account_id, i.currency, sum(CAST(i.events AS BIGINT)) AS events,
  sum(CAST(CAST(i.amount AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT)) AS amount
FROM read_csv(${sqlString(index)}, header = true, all_varchar = true, delim = ',', quote = '"',
  escape = '"') i
WHERE EXISTS (SELECT 1 FROM charges_t c WHERE c.plan_id = i.plan_id AND c.charge_id = i.charge_id
  AND c.compared)
GROUP BY ALL`;
}

function expectedTotalsSql(file) {
  return `
CREATE TABLE other_t AS
SELECT account_id, currency, CAST(events AS BIGINT) AS events,
  CAST(CAST(amount AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS amount
FROM read_csv(${sqlString(file)}, header = true, all_varchar = true)`;
}

const COMPARE_SQL = `
SELECT coalesce(a.account_id, b.account_id) AS account_id, a.events AS peer_events,
  b.events AS other_events, CAST(a.amount AS VARCHAR) AS peer_nanos,
  CAST(b.amount AS VARCHAR) AS other_nanos
FROM totals_t a FULL OUTER JOIN other_t b ON a.account_id = b.account_id AND a.currency = b.currency
WHERE a.amount IS DISTINCT FROM b.amount OR a.events IS DISTINCT FROM b.events
ORDER BY 1`;

const fmtNanos = (s) => {
  const v = BigInt(s);
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / 1000000000n}.${String(a % 1000000000n).padStart(9, '0')}`;
};

// ---- main ----

async function main() {
  const o = parseArgs(process.argv);
  const bounds = periodBounds(o.period, o.lateWindow);
  const db = await DuckDBInstance.create(':memory:', { threads: String(o.threads) });
  const con = await db.connect();
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
  const t0 = process.hrtime.bigint();
  const secsSince = (t) => Number(process.hrtime.bigint() - t) / 1e9;

  await con.run(MACROS);
  for (const table of Object.keys(BOOK))
    await con.run(`CREATE TABLE src_${table} AS ${bookTableSql(o.book, table)}`);
  await con.run(paramSql());
  const lens = (await rows('SELECT DISTINCT len FROM pfx_t ORDER BY len')).map((r) => Number(r.len));
  const multiPlan = Number((await rows('SELECT count(*) AS n FROM multi_t'))[0].n) > 0;
  const prepS = secsSince(t0);

  if (o.explain) {
    await con.run(`SET enable_profiling = 'json'`);
    await con.run(`SET profiling_output = ${sqlString(o.explain)}`);
  }
  const t1 = process.hrtime.bigint();
  await con.run(jobSql(o.usage, bounds, lens, multiPlan));
  if (o.explain) await con.run(`SET enable_profiling = 'no_output'`);
  const jobS = secsSince(t1);

  const [sum] = await rows(`SELECT count(*) AS accounts, coalesce(sum(events), 0) AS events,
    CAST(coalesce(sum(amount), 0) AS VARCHAR) AS nanos FROM totals_t`);
  const [book] = await rows(`SELECT
    (SELECT count(*) FROM pfx_t) AS prefixes, (SELECT count(*) FROM rules_t) AS band_rules,
    (SELECT count(*) FROM rates_t) AS rates,
    (SELECT string_agg(plan_id || '/' || charge_id || ' ' || model, ', ' ORDER BY plan_id, charge_id)
       FROM (SELECT DISTINCT plan_id, charge_id, model FROM charges_t WHERE compared)) AS compared,
    (SELECT string_agg(plan_id || '/' || charge_id || ' ' || model, ', ' ORDER BY plan_id, charge_id)
       FROM (SELECT DISTINCT plan_id, charge_id, model FROM charges_t WHERE NOT compared
             AND model NOT IN ('recurring', 'one_time'))) AS left_out`);
  console.log(`peer: DuckDB ${(await rows('SELECT version() AS v'))[0].v}, ${o.threads} threads; ` +
    `book: ${book.prefixes} deck prefixes, ${book.band_rules} time band rules, ${book.rates} rates`);
  if (Number(book.prefixes) === 0 || Number(book.rates) === 0)
    console.log('peer: the book has no deck or no rates: the comparison covers what it prices ' +
      '(per-unit and flat rating with increments, setup fees, minimum and maximum per event, ' +
      'event rounding, effective dates), not destinations and time bands');
  console.log(`peer: compared charges: ${book.compared || 'none'}`);
  if (book.left_out) console.log(`peer: charges left out (period-priced or split calls): ${book.left_out}`);
  console.log(`peer: ${sum.events} events of ${sum.accounts} accounts, total ${fmtNanos(sum.nanos)}; ` +
    `book tables ${prepS.toFixed(3)} s, rating job ${jobS.toFixed(3)} s`);

  if (o.out) await con.run(`COPY (SELECT account_id, currency, events, money_text(amount) AS amount
    FROM totals_t ORDER BY account_id) TO ${sqlString(o.out)} (HEADER, DELIMITER ',')`);

  // Each comparison: ratel's totals and/or a hand-made expected file.
  let match = '-', mismatched = 0;
  const others = [];
  if (o.compare) others.push(['ratel (usage_detail_index.csv)', ratelTotalsSql(o.compare)]);
  if (o.expect) others.push([`expected (${o.expect})`, expectedTotalsSql(o.expect)]);
  for (const [what, sql] of others) {
    await con.run('DROP TABLE IF EXISTS other_t');
    await con.run(sql);
    const diff = await rows(COMPARE_SQL);
    const [other] = await rows(`SELECT count(*) AS accounts, coalesce(sum(events), 0) AS events,
      CAST(coalesce(sum(amount), 0) AS VARCHAR) AS nanos FROM other_t`);
    mismatched += diff.length;
    match = mismatched === 0 ? 'yes' : 'no';
    console.log(`peer: ${what}: ${other.events} events of ${other.accounts} accounts, total ` +
      `${fmtNanos(other.nanos)}; per-account totals ${diff.length === 0 ? 'match exactly'
        : `differ for ${diff.length} accounts`}`);
    for (const d of diff.slice(0, 10))
      console.log(`peer:   ${d.account_id}: peer ${d.peer_events} events ` +
        `${d.peer_nanos == null ? '-' : fmtNanos(d.peer_nanos)}, other ${d.other_events} events ` +
        `${d.other_nanos == null ? '-' : fmtNanos(d.other_nanos)}`);
  }
  console.log(`PEER job_s=${jobS.toFixed(3)} prep_s=${prepS.toFixed(3)} events=${sum.events} ` +
    `accounts=${sum.accounts} match=${match} mismatched=${mismatched} threads=${o.threads}`);
  return match === 'no' ? 1 : 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  console.error(`peer: ${e.message}`);
  process.exitCode = 2;
});

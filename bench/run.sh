#!/usr/bin/env bash
# End-to-end benchmark of `ratel run` (issue 6), side by side with a peer (DuckDB).
#
#   bench/run.sh [--smoke] [--sizes "10000000 50000000"] [--accounts N] [--repeat N]
#                [--threads "1 2"] [--formats "csv native"] [--no-peer] [--append FILE]
#                [--gen-only] [--run-option OPTION]... [--follow-ups]
#
# For each usage size it generates a workload with `ratel gen` (cached, see below), imports
# its price book once per input format, then runs `ratel run` REPEAT times per thread count
# from the compressed usage file on disk until every output is written and committed, each
# time into a fresh copy of the imported book (so the period is never "already billed").
# It prints a Markdown report ready to paste into bench/RESULTS.md: min / median / max
# records/s end to end and per stage (the run summary's stage times, and the thread-seconds
# of its `threads` line: decompress, parse, rate, aggregate, encode, write), thread scaling, peak
# RSS, the physical floor `zstd -dc FILE > /dev/null` on the same CSV.zst file with the ratio
# of ratel's wall time to it, the outputs' floor (the text of every output the CSV.zst run
# wrote, and the time zstd alone takes to compress it at ratel's level: the least any run
# that writes those outputs spends, measured after the run, not in it), and the peer: the same rating job as SQL in DuckDB over the same
# CSV.zst (bench/peer/), whose per-account totals are checked against ratel's.
#
# --run-option passes OPTION (e.g. --compress-tables) to every `ratel run` measured.
# --follow-ups also measures, after each case's last run, what a billing team runs next on
# that committed period, REPEAT times per thread count, each on a fresh copy of the book that
# holds the run: `ratel verify` of its output (--book, so the registry is checked too);
# `ratel run --rerun` with the same inputs (nothing changes: every invoice is carried); and
# `ratel run --rerun` without the order file (every invoice that billed an order is credited
# and issued again). --smoke measures them too.
# --gen-only only generates (and caches) the workloads. --smoke runs a tiny size once per
# case (a few seconds; what ctest runs): the peer is run only when bench/peer/node_modules is
# already installed, since a smoke test downloads nothing. When the peer runs, it is first
# checked on bench/peer/fixture (ratel, DuckDB and the hand-computed totals must agree).
#
# Environment: RATEL_BENCH_DIR (default /tmp/ratel-bench) caches the generated data under a
# directory named after the generator's source hash and the parameters; RATEL_BIN is the ratel
# binary to measure (default: a Release build made into RATEL_BENCH_BUILD, default
# build/bench); RATEL_BENCH_REPEAT, RATEL_BENCH_SIZES, RATEL_BENCH_ACCOUNTS,
# RATEL_BENCH_THREADS give the defaults of the options; RATEL_BENCH_COMMIT and
# RATEL_BENCH_BRANCH name the code measured when the tree is not a git checkout. Exit status
# 77: a required tool is missing (ctest reports the smoke test as skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
sizes=${RATEL_BENCH_SIZES:-"10000000 50000000"}
accounts=${RATEL_BENCH_ACCOUNTS:-1000000}
repeat=${RATEL_BENCH_REPEAT:-3}
threads_list=${RATEL_BENCH_THREADS:-"1 2"}
formats="csv native"
peer=1
append=""
run_options=()
gen_only=0
follow_ups=0
seed=1
bad_share=0.001
dup_share=0.001
period=2026-10
command_line="bench/run.sh $*"

while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --sizes) sizes=$2; shift ;;
    --accounts) accounts=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --threads) threads_list=$2; shift ;;
    --formats) formats=$2; shift ;;
    --no-peer) peer=0 ;;
    --gen-only) gen_only=1 ;;
    --follow-ups) follow_ups=1 ;;
    --run-option) run_options+=("$2"); shift ;;
    --append) append=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unexpected argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then
  sizes=20000
  accounts=2000
  repeat=1
  follow_ups=1
fi

for tool in zstd awk sort; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench/run.sh: $tool is missing; skipped" >&2
    exit 77
  fi
done
have_time=0
[ -x /usr/bin/time ] && have_time=1

bench_dir=${RATEL_BENCH_DIR:-/tmp/ratel-bench}
mkdir -p "$bench_dir"
work=$(mktemp -d "$bench_dir/work.XXXXXX")
cleanup() {
  [ -d "$work/trash" ] && log "deleting the runs' outputs in $work (may take minutes)"
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "== $*" >&2; }

# ---- the ratel binary ----
. bench/common.sh
ratel=$(bench_ratel)
[ -x "$ratel" ] || { echo "bench/run.sh: no ratel binary at $ratel" >&2; exit 1; }

# ---- generated workloads (cached) ----
# The cache key names the generator's source, so a changed generator makes new data.
gen_hash=$(cat formats/sample_gen.c formats/sample_gen.h tools/cmd_gen.c | cksum | cut -d' ' -f1)
dataset() { # records format -> directory holding book/, orders.csv.zst and the usage file
  echo "$bench_dir/e2e-g$gen_hash-a$accounts-r$1-s$seed-b$bad_share-d$dup_share-p$period/$2"
}
usage_file() { # records format
  if [ "$2" = native ]; then echo "$(dataset "$1" native)/usage.rtu"; else echo "$(dataset "$1" csv)/usage.csv.zst"; fi
}
generate() { # records format
  local dir tmp flag="" start end
  dir=$(dataset "$1" "$2")
  [ -f "$(usage_file "$1" "$2")" ] && [ -f "$dir/.complete" ] && return 0
  [ "$2" = native ] && flag="--format native"
  tmp=$dir.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$(dirname "$dir")"
  log "ratel gen $1 records, $accounts accounts, $2 (2 threads) into $dir"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$ratel" gen --out "$tmp" --accounts "$accounts" --records "$1" --seed "$seed" \
    --bad-share "$bad_share" --dup-share "$dup_share" --period "$period" --threads 2 $flag >&2
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$tmp/.gen_seconds"
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

# ---- one measured command ----
# Runs "$@" with its wall time (date, ns), and with /usr/bin/time when present its peak RSS
# and CPU time; prints "wall_s rss_kb user_s sys_s" and leaves the command's stdout in
# $work/last.out. The command's failure fails the benchmark.
measure() {
  local s e rc=0
  s=$(date +%s%N)
  if [ "$have_time" = 1 ]; then
    /usr/bin/time -f "%M %U %S" -o "$work/last.time" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  else
    "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
    echo "- - -" >"$work/last.time"
  fi
  e=$(date +%s%N)
  if [ "$rc" != 0 ]; then
    echo "bench/run.sh: '$*' failed with status $rc:" >&2
    cat "$work/last.err" "$work/last.out" >&2
    exit 1
  fi
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", (e - s) / 1e9 }'
  echo " $(tail -n 1 "$work/last.time")"
}

# ---- ratel runs ----
# results.tsv: format records threads rep wall_s rss_kb user_s sys_s read load read rate
# dedup output bill commit books detail tables documents registry sync decompress parse
# rating aggregate encode write (stage times in seconds, from the run summary; books .. sync
# are the commit stage's parts, decompress .. write the thread-seconds of read .. output by
# step; "-" when the binary measured does not print them).
results=$work/results.tsv
: >"$results"
: >"$work/imports.tsv"
summary_stages() { # the run summary's "time" line -> 7 stage seconds
  sed -n 's/.*(load \([0-9.]*\), read \([0-9.]*\), rate \([0-9.]*\), dedup \([0-9.]*\), output \([0-9.]*\), bill \([0-9.]*\), commit \([0-9.]*\)[;)].*/\1 \2 \3 \4 \5 \6 \7/p' "$1"
}
summary_read() { sed -n 's/^ *records *read \([0-9]*\) .*/\1/p' "$1"; }
summary_commit() { # the run summary's "commit" line -> 6 seconds (or 6 dashes)
  local c
  c=$(sed -n 's/^ *commit *books \([0-9.]*\), usage detail \([0-9.]*\), tables \([0-9.]*\), documents \([0-9.]*\)[ ,(]*registry \([0-9.]*\)[ a-z)]*, sync \([0-9.]*\)$/\1 \2 \3 \4 \5 \6/p' "$1")
  echo "${c:-- - - - - -}"
}
summary_rerun() { # the run summary's "rerun" line -> credit notes, new invoices, unchanged
  local c
  c=$(sed -n 's/^ *rerun *corrects run [0-9]*: \([0-9]*\) credit notes, \([0-9]*\) new invoices, \([0-9]*\) invoices unchanged$/\1 \2 \3/p' "$1")
  echo "${c:-- - -}"
}
summary_threads() { # the run summary's "threads" line -> 6 thread-seconds (or 6 dashes)
  local c
  c=$(sed -n 's/^ *threads *decompress \([0-9.]*\), parse \([0-9.]*\), rate \([0-9.]*\), aggregate \([0-9.]*\), encode \([0-9.]*\), write \([0-9.]*\) .*/\1 \2 \3 \4 \5 \6/p' "$1")
  echo "${c:-- - - - - -}"
}

# A run's outputs (at 1M accounts, two million UBL and HTML files: deleting them takes many
# minutes on a busy disk) are set aside, and deleted only when the next run might lack room
# (less free space than twice what the last run wrote) and at exit, never during a measure.
last_kb=0
avail_kb() { df -Pk "$work" | awk 'NR == 2 { print $4 }'; }
set_aside() { # directories...
  local d
  mkdir -p "$work/trash"
  for d in "$@"; do [ -e "$d" ] && mv "$d" "$work/trash/$(date +%s%N)"; done
  return 0
}
make_room() {
  local s e
  if [ -d "$work/trash" ] && [ "$(avail_kb)" -lt $((2 * last_kb + 1048576)) ]; then
    s=$(date +%s)
    rm -rf "$work/trash"
    e=$(date +%s)
    log "deleted earlier outputs to make room ($((e - s)) s, not measured)"
  fi
}

run_case() { # records format
  local records=$1 fmt=$2 dir usage book0 t rep m stages nread before
  dir=$(dataset "$records" "$fmt")
  usage=$(usage_file "$records" "$fmt")
  book0=$work/book-$fmt-$records
  rm -rf "$book0"
  m=$(measure "$ratel" book import "$dir/book" --book "$book0")
  echo "$fmt $records $m" >>"$work/imports.tsv"
  # Thread counts take turns, run after run, so that a drift in the machine's speed (seen here:
  # up to 25% within minutes) weighs on each count alike, not on the scaling figure.
  for rep in $(seq 1 "$repeat"); do
    for t in $threads_list; do
      set_aside "$work/book" "$work/out" "$work/out.staging"
      make_room
      cp -r "$book0" "$work/book"
      # Flush earlier runs' dirty pages so that this run's fsyncs pay for its own writes only.
      [ "$smoke" = 1 ] || sync
      before=$(avail_kb)
      m=$(measure "$ratel" run --book "$work/book" --period "$period" --usage "$usage" \
        --orders "$dir/orders.csv.zst" --out "$work/out" --threads "$t" ${run_options[@]+"${run_options[@]}"})
      stages=$(summary_stages "$work/last.out")
      nread=$(summary_read "$work/last.out")
      if [ -z "$stages" ] || [ -z "$nread" ]; then
        echo "bench/run.sh: cannot read the run summary:" >&2
        cat "$work/last.out" >&2
        exit 1
      fi
      last_kb=$((before - $(avail_kb)))
      [ "$last_kb" -gt 0 ] || last_kb=0
      echo "$fmt $records $t $rep $m $nread $stages $(summary_commit "$work/last.out")" \
        "$(summary_threads "$work/last.out")" >>"$results"
      log "$(printf '%-6s %9s records, %s thread(s), run %s: %s s' "$fmt" "$records" "$t" "$rep" "${m%% *}")"
      # The peer is checked against the per-account totals of a CSV.zst run.
      if [ "$fmt" = csv ] && [ "$rep" = "$repeat" ]; then
        if [ -f "$work/out/usage_detail_index.csv.zst" ]; then # --run-option --compress-tables
          zstd -q -dc "$work/out/usage_detail_index.csv.zst" >"$work/index-$records.csv"
        else
          cp "$work/out/usage_detail_index.csv" "$work/index-$records.csv"
        fi
        # Once per size: what writing these outputs costs at the least (not timed in the run).
        if [ "$t" = "${threads_list##* }" ]; then output_floor "$records" "$work/out"; fi
      fi
    done
  done
  if [ "$follow_ups" = 1 ]; then follow_up_case "$records" "$fmt"; fi
  set_aside "$work/book" "$work/out" "$book0"
}

# ---- after a run: verify, rerun ----
# followups.tsv: format records case threads rep wall_s rss_kb user_s sys_s books_s
# credit_notes new_invoices unchanged ("-" where the case has none); case is verify,
# rerun-same or rerun-changed.
follow_up_case() { # records format; $work/book and $work/out hold the case's last run
  # The output stays where the run wrote it (verify --book checks the registry names it).
  local records=$1 fmt=$2 dir usage committed=$work/committed rep t m c orders
  dir=$(dataset "$records" "$fmt")
  usage=$(usage_file "$records" "$fmt")
  set_aside "$committed"
  mv "$work/book" "$committed"
  for rep in $(seq 1 "$repeat"); do
    for t in $threads_list; do
      # verify reads the output on every core; it is measured once per round.
      if [ "$t" = "${threads_list%% *}" ]; then
        m=$(measure "$ratel" verify "$work/out" --book "$committed")
        echo "$fmt $records verify - $rep $m - - - -" >>"$work/followups.tsv"
        log "$(printf '%-6s %9s records, verify, run %s: %s s' "$fmt" "$records" "$rep" "${m%% *}")"
      fi
      for c in rerun-same rerun-changed; do
        orders=(--orders "$dir/orders.csv.zst")
        [ "$c" = rerun-changed ] && orders=()
        set_aside "$work/book" "$work/rerun" "$work/rerun.staging"
        make_room
        cp -r "$committed" "$work/book"
        [ "$smoke" = 1 ] || sync
        m=$(measure "$ratel" run --book "$work/book" --period "$period" --usage "$usage" \
          ${orders[@]+"${orders[@]}"} --out "$work/rerun" --threads "$t" --rerun \
          ${run_options[@]+"${run_options[@]}"})
        echo "$fmt $records $c $t $rep $m $(summary_commit "$work/last.out" | cut -d' ' -f1)" \
          "$(summary_rerun "$work/last.out")" >>"$work/followups.tsv"
        log "$(printf '%-6s %9s records, %s, %s thread(s), run %s: %s s' "$fmt" "$records" "$c" "$t" "$rep" "${m%% *}")"
      done
    done
  done
  set_aside "$committed" "$work/rerun"
}

# ---- the outputs' floor ----
# outfloor.tsv: records file text_bytes stored_bytes mb_per_s ("-" for a plain file). What a
# run must at least do to write its outputs: each compressed output's text compressed again
# by zstd at level 1 (ratel's level) in 1 MiB blocks (ratel's frames are 0.5 to 1 MiB), the
# speed measured with `zstd -b1` on the first 256 MiB of that text, on one core.
output_floor() { # records out_dir
  local records=$1 out=$2 f name text stored sample=$work/floor-sample mbs
  for f in "$out"/*; do
    [ -f "$f" ] || continue
    name=${f##*/}
    case "$name" in manifest.json) continue ;; esac
    stored=$(stat -c %s "$f")
    if [[ "$name" == *.zst ]]; then
      text=$(zstd -q -dc "$f" | wc -c)
      (set +o pipefail; zstd -q -dc "$f" | head -c 268435456 >"$sample")
      mbs=-
      if [ -s "$sample" ]; then
        mbs=$(zstd -b1 -B1M -i1 "$sample" 2>&1 | tr '\r' '\n' | grep -o '), *[0-9.]* MB/s' |
          tail -1 | grep -o '[0-9.]* MB' | cut -d' ' -f1 || true)
        [ -n "$mbs" ] || mbs=-
      fi
      rm -f "$sample"
    else
      text=$stored
      mbs=-
    fi
    echo "$records $name $text $stored $mbs" >>"$work/outfloor.tsv"
  done
}

# ---- the physical floor ----
floor_case() { # records
  local f rep
  f=$(usage_file "$1" csv)
  for rep in $(seq 1 "$repeat"); do
    s=$(date +%s%N)
    zstd -dc "$f" >/dev/null
    e=$(date +%s%N)
    awk -v s="$s" -v e="$e" -v r="$1" 'BEGIN { printf "%s %.3f\n", r, (e - s) / 1e9 }' >>"$work/floor.tsv"
  done
}

# ---- the peer ----
peer_ready=0
peer_note=""
peer_setup() {
  if [ "$peer" = 0 ]; then peer_note="peer not run (--no-peer)"; return; fi
  if ! command -v node >/dev/null 2>&1; then peer_note="peer not run: node is missing"; return; fi
  if [ ! -d bench/peer/node_modules/@duckdb/node-api ]; then
    if [ "$smoke" = 1 ]; then
      peer_note="peer not run: bench/peer/node_modules is not installed (a smoke test downloads nothing; any full run of bench/run.sh installs it)"
      return
    fi
    if ! command -v npm >/dev/null 2>&1; then peer_note="peer not run: npm is missing"; return; fi
    log "installing the peer (npm ci in bench/peer)"
    # Some npm releases (11.x) refuse the lock file in `npm ci` for want of the other
    # platforms' optional DuckDB bindings; `npm install` of the same pinned version, leaving
    # package.json and the lock file as they are, then does the job.
    if ! (cd bench/peer && npm ci --no-audit --no-fund >&2); then
      log "npm ci refused the lock file; npm install of the pinned version instead"
      if ! (cd bench/peer && npm install --no-save --no-package-lock --no-audit --no-fund >&2); then
        peer_note="peer not run: npm ci and npm install failed in bench/peer"
        return
      fi
    fi
  fi
  peer_ready=1
}
peer_case() { # records
  local records=$1 dir t rep m line
  dir=$(dataset "$records" csv)
  for rep in $(seq 1 "$repeat"); do
    for t in $threads_list; do
      m=$(measure node bench/peer/peer.mjs --book "$dir/book" --usage "$(usage_file "$records" csv)" \
        --period "$period" --threads "$t" --compare "$work/index-$records.csv")
      line=$(grep '^PEER ' "$work/last.out" | tail -n 1)
      echo "$records $t $rep $m ${line#PEER }" >>"$work/peer.tsv"
      log "peer   $records records, $t thread(s), run $rep: ${m%% *} s; $(grep '^peer:' "$work/last.out" | tail -n 1)"
    done
  done
  grep -v '^PEER ' "$work/last.out" >"$work/peer-$records.txt" || true
}

# The fixture of bench/peer/fixture: ratel and the peer must both give its hand-computed
# per-account totals (a check of the instrument, not a measurement).
fixture_check() {
  local fx=bench/peer/fixture dir=$work/fixture
  rm -rf "$dir"
  mkdir -p "$dir"
  zstd -q "$fx/usage.csv" -o "$dir/usage.csv.zst"
  "$ratel" book import "$fx/book" --book "$dir/book" >/dev/null
  "$ratel" run --book "$dir/book" --period 2026-10 --usage "$dir/usage.csv.zst" --out "$dir/out" >/dev/null
  if node bench/peer/peer.mjs --book "$fx/book" --usage "$dir/usage.csv.zst" --period 2026-10 \
    --compare "$dir/out/usage_detail_index.csv" --expect "$fx/expected_totals.csv" >"$dir/peer.txt"; then
    fixture_note="Peer fixture (bench/peer/fixture, decks, bands, intervals): ratel, DuckDB and the hand-computed totals agree."
    log "peer fixture: ratel, DuckDB and the hand-computed totals agree"
  else
    cat "$dir/peer.txt" >&2
    echo "bench/run.sh: the peer fixture's totals differ (see above)" >&2
    exit 1
  fi
}

# ---- run everything ----
if [ "$gen_only" = 1 ]; then
  for records in $sizes; do
    for fmt in $formats; do generate "$records" "$fmt"; done
  done
  exit 0
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
peer_setup
fixture_note=""
if [ "$peer_ready" = 1 ]; then fixture_check; fi
: >"$work/floor.tsv"
: >"$work/outfloor.tsv"
: >"$work/peer.tsv"
: >"$work/followups.tsv"
for records in $sizes; do
  for fmt in $formats; do generate "$records" "$fmt"; done
  for fmt in $formats; do run_case "$records" "$fmt"; done
  if [[ " $formats " == *" csv "* ]]; then
    floor_case "$records"
    if [ "$peer_ready" = 1 ]; then peer_case "$records"; fi
  fi
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$peer_ready" = 1 ] && [[ " $formats " != *" csv "* ]] && peer_note="peer not run: it reads the CSV.zst input"

# ---- report ----
report=$work/report.md
{
  # RATEL_BENCH_COMMIT names the commit when the tree is a copy outside git (git archive).
  commit=${RATEL_BENCH_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
  branch=${RATEL_BENCH_BRANCH:-$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)}
  dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "### $(date -u +%Y-%m-%d), commit ${commit:0:12} ($branch)$dirty"
  echo
  echo "Machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr). Load average (1, 5, 15 min)"
  echo "at start $load_start, at end $load_end: the machine is shared, so wall times carry the"
  echo "neighbours' load. Date: $(date -u +%Y-%m-%dT%H:%MZ). Command: \`$command_line\`"
  echo "(repeat $repeat, ratel binary \`$ratel\`)."
  echo
  echo "Workload: \`ratel gen --accounts $accounts --seed $seed --bad-share $bad_share --dup-share"
  echo "$dup_share --period $period\`, usage as indexed CSV.zst and native \`.rtu\`; each run is"
  echo "\`ratel run --book B --period $period --usage FILE --orders orders.csv.zst --out O --threads T${run_options[*]+ ${run_options[*]}}\`"
  echo "into a fresh copy of the imported book, timed from process start to exit (every output"
  echo "written, fsynced and committed). records/s = records read / wall time."
  echo
  for records in $sizes; do
    for fmt in $formats; do
      f=$(usage_file "$records" "$fmt")
      printf -- '- %s records, %s: %s bytes' "$records" "$fmt" "$(stat -c %s "$f")"
      [ -f "$(dataset "$records" "$fmt")/.gen_seconds" ] &&
        printf ', generated in %s s' "$(cat "$(dataset "$records" "$fmt")/.gen_seconds")"
      awk -v f="$fmt" -v r="$records" '$1 == f && $2 == r { printf ", book import %s s (peak RSS %.0f MiB)", $3, $4 / 1024 }' "$work/imports.tsv"
      echo
    done
  done
  echo
  awk -f bench/run_report.awk -v section=main "$results"
  echo
  awk -f bench/run_report.awk -v section=stages "$results"
  echo
  awk -f bench/run_report.awk -v section=commit "$results"
  echo
  awk -f bench/run_report.awk -v section=threads "$results"
  echo
  awk -f bench/run_report.awk -v section=scaling "$results"
  echo
  awk -f bench/run_report.awk -v section=floor "$work/floor.tsv" "$results"
  echo
  if [ -s "$work/outfloor.tsv" ]; then
    awk -f bench/run_report.awk -v section=outfloor -v threads="${threads_list##* }" \
      "$work/outfloor.tsv" "$results"
    echo
  fi
  if [ -s "$work/followups.tsv" ]; then
    awk -f bench/run_report.awk -v section=followups "$work/followups.tsv" "$results"
    echo
  fi
  echo "No \`ratel run\` option leaves out the output detail (rated_usage, usage_detail, UBL and"
  echo "HTML documents), so there is no run without it. Stages are the run summary's, in wall"
  echo "time: \`rate\` decompresses, parses and rates the usage (the table of thread-seconds above"
  echo "splits it), \`output\` adds the events to the aggregates and encodes the per-event outputs."
  echo
  if [ "$peer_ready" = 1 ] && [ -s "$work/peer.tsv" ]; then
    awk -f bench/run_report.awk -v section=peer "$work/peer.tsv" "$results"
    echo
    for records in $sizes; do
      if [ -f "$work/peer-$records.txt" ]; then
        echo "Peer output, $records records (last run):"
        echo
        sed 's/^/    /' "$work/peer-$records.txt"
        echo
      fi
    done
    echo "$fixture_note"
  else
    echo "Peer: ${peer_note:-not run}."
  fi
} >"$report"

cat "$report"
mkdir -p "$bench_dir/results"
saved=$bench_dir/results/e2e-$(date -u +%Y%m%dT%H%M%SZ).md
cp "$report" "$saved"
log "report saved to $saved"
if [ -n "$append" ]; then
  { echo; cat "$report"; } >>"$append"
  log "report appended to $append"
fi

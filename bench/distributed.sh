#!/usr/bin/env bash
# Distributed runs (`ratel run --distributed` under Open MPI's mpirun) against runs in one
# process, on the same workload as bench/run.sh.
#
#   bench/distributed.sh [--size RECORDS] [--accounts N] [--repeat N] [--processes "2"]
#                        [--threads T] [--run-option OPTION]... [--smoke]
#
# For the size (default 10,000,000 records, 1M accounts, CSV.zst; generated and cached by
# bench/run.sh --gen-only) it times, REPEAT times in turn: one process with T threads, then N
# processes with T threads each, for each N of --processes, every run into a fresh copy of
# the imported book. Every distributed output directory is compared byte for byte with the
# one-process run's of the same round (the benchmark fails if one differs). It prints a
# Markdown table: wall time, records/s, the run summary's stage times (rank 0's), the peak
# RSS of rank 0 and of the largest other process, and the CPU seconds (user + system) of rank
# 0 and of the other processes together. --run-option passes OPTION (e.g.
# --compress-tables, which spares the disk 7 GB of text tables at 1M accounts) to every run.
# On one machine the processes share its
# cores, so this measures what the distribution costs and how the per-record work splits,
# not what more machines would give.
#
# Environment: RATEL_BIN (default: a Release build in build/bench), RATEL_BENCH_DIR (default
# /tmp/ratel-bench, the data cache shared with bench/run.sh). Exit status 77: mpirun or
# /usr/bin/time is missing, or the binary was built without Open MPI.
set -euo pipefail
cd "$(dirname "$0")/.."

size=10000000
accounts=1000000
repeat=3
processes="2"
threads=2
smoke=0
run_options=()
command_line="bench/distributed.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift ;;
    --accounts) accounts=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --processes) processes=$2; shift ;;
    --threads) threads=$2; shift ;;
    --run-option) run_options+=("$2"); shift ;;
    --smoke) smoke=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/distributed.sh: unexpected argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then size=20000; accounts=2000; repeat=1; fi
for tool in mpirun /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/distributed.sh: $tool is missing; skipped" >&2; exit 77; }
done
log() { echo "== $*" >&2; }

. bench/common.sh
ratel=$(bench_ratel)
if ! "$ratel" run --help | grep -q -- --distributed; then
  echo "bench/distributed.sh: $ratel was built without Open MPI; skipped" >&2
  exit 77
fi

# The data: bench/run.sh's cache (same generator hash and parameters).
RATEL_BIN=$ratel bench/run.sh --gen-only --sizes "$size" --accounts "$accounts" --formats csv >&2
bench_dir=${RATEL_BENCH_DIR:-/tmp/ratel-bench}
gen_hash=$(cat formats/sample_gen.c formats/sample_gen.h tools/cmd_gen.c | cksum | cut -d' ' -f1)
data=$bench_dir/e2e-g$gen_hash-a$accounts-r$size-s1-b0.001-d0.001-p2026-10/csv
[ -f "$data/usage.csv.zst" ] || { echo "bench/distributed.sh: no data in $data" >&2; exit 1; }

work=$(mktemp -d "$bench_dir/dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$ratel" book import "$data/book" --book "$work/book0" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's session files under the work directory: mpiruns started at once (ctest's jobs)
# race to create a shared one under /tmp.
export OMPI_MCA_orte_tmpdir_base=$work

# One run: NP processes (0: one process without mpirun) -> "wall rss0 rss_max_other cpu0
# cpu_others" (peak RSS in KiB; CPU seconds, user + system, of rank 0 and the sum of the
# others') and the run summary in $work/NAME.out.
one() { # name np
  local name=$1 np=$2 s e
  rm -rf "$work/book" "$work/$name"
  cp -r "$work/book0" "$work/book"
  [ "$smoke" = 1 ] || sync
  local args=(run --book "$work/book" --period 2026-10 --usage "$data/usage.csv.zst"
              --orders "$data/orders.csv.zst" --out "$work/$name" --threads "$threads"
              ${run_options[@]+"${run_options[@]}"})
  s=$(date +%s%N)
  if [ "$np" = 0 ]; then
    /usr/bin/time -f "%M %U %S" -o "$work/$name.rss.0" "$ratel" "${args[@]}" >"$work/$name.out" 2>&1
  else
    mpirun -np "$np" --oversubscribe --bind-to none sh -c \
      "exec /usr/bin/time -f '%M %U %S' -o '$work/$name.rss.'\$OMPI_COMM_WORLD_RANK \"\$@\"" sh \
      "$ratel" "${args[@]}" --distributed >"$work/$name.out" 2>&1
  fi
  e=$(date +%s%N)
  local others cpu0 cpu_others
  others=$(cat "$work/$name".rss.[1-9]* 2>/dev/null | awk '{ print $1 }' | sort -n | tail -n 1)
  cpu0=$(awk '{ printf "%.1f", $2 + $3 }' "$work/$name.rss.0")
  cpu_others=$(cat "$work/$name".rss.[1-9]* 2>/dev/null | awk '{ c += $2 + $3 } END { printf "%.1f", c }')
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", (e - s) / 1e9 }'
  echo " $(awk '{ print $1 }' "$work/$name.rss.0") ${others:--} $cpu0 $([ "$np" = 0 ] && echo - || echo "$cpu_others")"
  rm -f "$work/$name".rss.*
}

# The run summary's stage times and the commit's parts, as one cell.
stages() {
  echo "$(sed -n 's/.*(\(load .*\)).*/\1/p' "$1" | cut -d';' -f1); commit: $(sed -n 's/^ *commit *//p' "$1")"
}

rows=()
for rep in $(seq 1 "$repeat"); do
  r=$(one single 0)
  rows+=("1 $rep $r $(stages "$work/single.out")")
  log "round $rep: 1 process x $threads threads: ${r%% *} s"
  for np in $processes; do
    r=$(one "dist$np" "$np")
    if ! diff -r "$work/single" "$work/dist$np" >/dev/null; then
      echo "bench/distributed.sh: the output of $np processes differs from one process's" >&2
      exit 1
    fi
    rows+=("$np $rep $r $(stages "$work/dist$np.out")")
    log "round $rep: $np processes x $threads threads: ${r%% *} s (outputs identical)"
    rm -rf "$work/dist$np"
  done
  rm -rf "$work/single"
done

echo "### Distributed runs: $size records, $accounts accounts, $threads threads per process"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
  "$(date -u +%Y-%m-%d); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?');" \
  "command: \`$command_line\`. Every distributed output directory was byte-identical to the" \
  "one-process run's."
echo
echo "| processes | round | wall s | records/s | rank 0 peak RSS MiB | other peak RSS MiB | CPU s rank 0 / others | stages (rank 0, s) |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  set -- $row
  np=$1 rep=$2 wall=$3 rss0=$4 rss1=$5 cpu0=$6 cpu1=$7
  shift 7
  awk -v np="$np" -v rep="$rep" -v w="$wall" -v n="$size" -v a="$rss0" -v b="$rss1" \
    -v c0="$cpu0" -v c1="$cpu1" -v st="$*" \
    'BEGIN { printf "| %s | %s | %.2f | %.0f | %.0f | %s | %s / %s | %s |\n", np, rep, w, n / w,
             a / 1024, b == "-" ? "-" : sprintf("%.0f", b / 1024), c0, c1, st }'
done

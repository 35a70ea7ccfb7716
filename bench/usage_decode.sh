#!/usr/bin/env bash
# Usage input throughput: parse/decode of CSV.zst vs native with 1 and 2 threads on data made
# by `ratel gen` (cached), the `zstd -dc` floor on the same CSV.zst, and `ratel gen` speed.
# Results go to stdout; copy them into bench/RESULTS.md with the machine and date.
#
#   bench/usage_decode.sh [RECORDS] [ACCOUNTS]      (defaults: 5000000 100000)
#
# RATEL_BENCH_DIR (default /tmp/ratel-bench) caches the generated data; RATEL_BENCH_BUILD
# (default build/bench) is the release build used. Keep RECORDS small on shared machines.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-5000000}
accounts=${2:-100000}
build=${RATEL_BENCH_BUILD:-build/bench}
data=${RATEL_BENCH_DIR:-/tmp/ratel-bench}/gen-$records-$accounts

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRATEL_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "== date: $(date -u +%Y-%m-%dT%H:%MZ), ratel $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "== records: $records, accounts: $accounts"

if [ ! -f "$data/csv/usage.csv.zst" ] || [ ! -f "$data/native/usage.rtu" ]; then
  rm -rf "$data"
  mkdir -p "$data"
  echo "== ratel gen (2 threads)"
  "$build/ratel" gen --out "$data/csv" --accounts "$accounts" --records "$records" --seed 1 \
    --bad-share 0.001 --dup-share 0.001 --threads 2
  "$build/ratel" gen --out "$data/native" --accounts "$accounts" --records "$records" --seed 1 \
    --bad-share 0.001 --dup-share 0.001 --threads 2 --format native
  echo "== ratel gen (1 thread)"
  "$build/ratel" gen --out "$data/csv1" --accounts "$accounts" --records "$records" --seed 1 \
    --bad-share 0.001 --dup-share 0.001 --threads 1
  rm -rf "$data/csv1"
fi
ls -l "$data/csv/usage.csv.zst" "$data/native/usage.rtu" | awk '{print "   ", $5, $9}'

echo "== zstd -dc (physical floor, 1 thread), 3 runs"
for i in 1 2 3; do
  s=$(date +%s.%N); zstd -dc "$data/csv/usage.csv.zst" >/dev/null; e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" -v n="$records" 'BEGIN { printf "    %.3f s  %.2f M rec/s\n", e - s, n / (e - s) / 1e6 }'
done

for threads in 1 2; do
  echo "== decode csv.zst, $threads thread(s)"
  "$build/bench_usage_decode" "$data/csv/usage.csv.zst" "$threads" 3 | sed 's/^/    /'
  echo "== decode native, $threads thread(s)"
  "$build/bench_usage_decode" "$data/native/usage.rtu" "$threads" 3 | sed 's/^/    /'
done

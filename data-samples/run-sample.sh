#!/usr/bin/env bash
# Install what is missing, build ratel, and bill October 2026 for the sample telecom operator:
# import the price book, run the period, print the summary and verify the output directory.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DRATEL_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" --target ratel >/dev/null
work=${RATEL_SAMPLE_DIR:-build/sample}
rm -rf "$work"
mkdir -p "$work"
ratel=build/release/ratel
$ratel book import data-samples/telco/book --book "$work/book"
$ratel run --book "$work/book" --period 2026-10 \
  --usage data-samples/telco/usage-2026-10-voice.csv.zst data-samples/telco/usage-2026-10-other.csv.zst \
  --orders data-samples/telco/orders-2026.csv.zst \
  --out "$work/out-2026-10"
$ratel verify "$work/out-2026-10"
echo "outputs: $work/out-2026-10"

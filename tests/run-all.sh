#!/usr/bin/env bash
# Build ratel and run every test: a release build with -Werror, then an ASan+UBSan build.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps
jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build (-Wall -Wextra -Werror) and tests"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DRATEL_TESTS=ON >/dev/null
cmake --build build/release -j"$jobs"
(cd build/release && ctest --output-on-failure)

echo "== sanitizer build (ASan + UBSan) and tests"
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DRATEL_SANITIZE=ON -DRATEL_TESTS=ON >/dev/null
cmake --build build/sanitize -j"$jobs"
(cd build/sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure)

echo "== all tests passed"

# Shared by the benchmark scripts (sourced): the ratel binary they measure.

# Print the path of the ratel binary: $RATEL_BIN, else a Release build of this tree made in
# $RATEL_BENCH_BUILD (default build/bench).
bench_ratel() {
  if [ -n "${RATEL_BIN:-}" ]; then
    echo "$RATEL_BIN"
    return
  fi
  local build=${RATEL_BENCH_BUILD:-build/bench}
  echo "== release build in $build" >&2
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRATEL_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 --target ratel >/dev/null
  echo "$build/ratel"
}

#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang++ with ASan + UBSan) in build-fuzz and runs each for a
# bounded time. The corpus in build-fuzz/corpus/<target> grows across runs; it is seeded from the
# example models and the bad-input catalogue. A crash, leak, timeout or sanitizer report stops
# the run with a non-zero exit and leaves the input in build-fuzz/artifacts/<target>/: turn it
# into a regression test (tests/cli/bad_input or tests/lang), fix the bug, then delete it.
#
# Usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 300 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
jobs=$(nproc 2>/dev/null || echo 2)
if ((jobs > 2)); then jobs=2; fi
build=build-fuzz

compiler=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z "$compiler" ]]; then
  echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Only the fuzz targets are built; tests, examples and the benchmark are not even configured.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$compiler" \
  -DCHAINRULE_BUILD_FUZZERS=ON -DCHAINRULE_BUILD_TESTS=OFF -DCHAINRULE_BUILD_BENCH=OFF \
  -DCHAINRULE_BUILD_EXAMPLES=OFF -DCHAINRULE_INSTALL=OFF "${launcher[@]}" >/dev/null

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^chainrule_add_fuzzer(\([a-z_]*\) .*/\1/p' fuzz/CMakeLists.txt)
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

# seeds_for TARGET DIR: copies the seed inputs of a target into its corpus directory, with the
# inputs earlier runs found (fuzz/regressions/TARGET), so every run tries those again first.
seeds_for() {
  case "$1" in
    fuzz_chain) cp examples/*.chain tests/cli/bad_input/*.chain "$2"/ ;;
    fuzz_answers) cp tests/check/data/*.txt "$2"/ ;;
  esac
  if [[ -d "fuzz/regressions/$1" ]]; then cp "fuzz/regressions/$1"/* "$2"/; fi
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  seeds_for "$target" "$corpus"
  dictionary=()
  if [[ -f "fuzz/${target#fuzz_}.dict" ]]; then dictionary=(-dict="fuzz/${target#fuzz_}.dict"); fi
  echo "== $target for ${seconds} s (corpus $corpus) =="
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a model may not need 2 GB.
  if ! "$build/fuzz/$target" "$corpus" "${dictionary[@]}" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" 2>"$build/$target.log"; then
    status=1
    tail -n 60 "$build/$target.log" >&2
    echo "fuzz.sh: $target failed; the input is in $artifacts/" >&2
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE' "$build/$target.log" || true
  fi
done
exit "$status"

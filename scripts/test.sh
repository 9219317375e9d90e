#!/usr/bin/env bash
# The test command: installs what is needed, builds, and runs every test twice — once in a normal
# build and once with AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on any failure.
# Usage: bash scripts/test.sh        (as root, or with sudo available for the package install)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh

echo "== normal build (RelWithDebInfo) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== sanitizer build (ASan + UBSan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCHAINRULE_SANITIZE=ON -DCHAINRULE_WERROR=ON \
  -DCHAINRULE_BUILD_BENCH=OFF -DCHAINRULE_BUILD_EXAMPLES=OFF
cmake --build build-asan -j "$jobs"
# Graphviz, fontconfig and pango keep caches for the life of the process: known, not ours.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS="suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== fuzzers (libFuzzer + ASan + UBSan, 30 s each; long runs: scripts/fuzz.sh) =="
# A third, small build (clang, only what the fuzz targets link); see docs/reliability.md.
bash scripts/fuzz.sh 30

#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root) or a developer's:
#   1. set-up (packages), build, unit + integration tests against a real MariaDB;
#   2. the same suite built with AddressSanitizer and UndefinedBehaviorSanitizer (but the
#      differential run against the server, whose time goes to the server, not the code);
#   3. the libFuzzer targets, each for a bounded time.
# Exits non-zero on any failure. DJPROXY_TEST_QUICK=1 runs step 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

# ctest prints a failing test's output where it happened, long before the end; CI keeps
# only the end of the log. So after a failed stage, the failing tests' output is printed
# again at the end: the last lines of each, from the run's own log.
tests() {  # tests BUILD_DIR [ctest options...]
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure "$@" && return 0
  python3 scripts/failed_tests.py "$dir"
  return 1
}

# Every build goes through ccache; its cache outlives the build directories.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so that a fresh clone elsewhere (CI) hits the cache of
# the last one; the debug builds' compile directory is left out of the hash for the same reason.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
mkdir -p "$CCACHE_DIR"

build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DDJPROXY_WERROR=ON "$@" \
    >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j2
}

# The first stage builds what docker/Dockerfile builds (Release, the same flags), so a
# warning or an optimiser-only failure of the shipped binary fails the test command.
step "build (Release, as the image)"
mkdir -p build
build build -DCMAKE_BUILD_TYPE=Release
step "unit and integration tests"
tests build -j2 --timeout 900

if [[ ${DJPROXY_TEST_QUICK:-0} == 1 ]]; then
  exit 0
fi

step "build with ASan and UBSan"
mkdir -p build-asan
build build-asan -DCMAKE_BUILD_TYPE=Debug -DDJPROXY_SANITIZE=ON -DDJPROXY_BENCH=OFF
step "unit and integration tests under ASan and UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  tests build-asan -j2 --timeout 1200 -LE differential

step "fuzzers (bounded runs)"
mkdir -p build-fuzz
build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDJPROXY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
tests build-fuzz --timeout 600

#!/usr/bin/env bash
# Differential test of the production policy against a real MariaDB (the oracle):
# generated statements go through the policy (policy_probe); what it lets through runs
# on a throwaway MariaDB, and the server says whether it changed schema objects, read
# or changed rows outside the prefix, set a global variable, changed an account, read
# or wrote a server file, or leaked a secret. Builds the probe if needed, starts and
# stops its own MariaDB.
#
#   scripts/differential.sh [--count N] [--seed S] [--findings FILE] [--time-limit SECONDS]
#                           [--no-exhaustive] [other options of tests/differential/differential.py]
#
# Prints minimal reproductions (JSON lines) of every bypass and false positive on
# stdout, progress on stderr; exits 1 if it found any.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${DJPROXY_BUILD_DIR:-build}
if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 2; }
fi
cmake --build "$build" --target policy_probe >&2
dir=$(mktemp -d /tmp/djdiff.XXXXXX)
trap 'scripts/mariadb.sh stop "$dir/db" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
# python3-pymysql lives in Debian's python; a pyenv/venv python3 first on PATH may lack it.
py=/usr/bin/python3
[[ -x $py ]] || py=python3
"$py" tests/differential/differential.py --probe "$build/tests/differential/policy_probe" \
  --db-dir "$dir/db" --files-dir "$dir/files" "$@"

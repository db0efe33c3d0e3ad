#!/usr/bin/env bash
# MariaDB's own regression suite through djproxy. Runs a list of `main` suite tests of the
# mariadb-test package with `mariadb-test-run --extern` twice: directly against a
# throwaway MariaDB, and through djproxy in development mode (create_tables=true, no
# schema prefix, where the proxy confines nothing) in front of the same server. Prints
# each test's outcome both ways and the counts per outcome, and exits 1 when a test that
# passes directly does not pass through djproxy: the proxy is not transparent there.
#
#   scripts/mtr-through-proxy.sh [--list short|full|FILE] [--build DIR] [--keep]
#
#   --list   short (scripts/mtr/short.list, about 10 tests; the test command runs it),
#            full (scripts/mtr/full.list) or a file of test names (`main.NAME` or `NAME`,
#            one a line, `#` comments). Default: short. A name followed by `! reason`
#            is a known difference, documented in the README: it is reported, does not
#            fail the run, and runs through djproxy after the others, since a test that
#            stops half-way leaves its tables behind for the next one.
#   --build  the build directory holding djproxy (default: build).
#   --keep   keep the work directory (logs, both runs' vardirs) and print where it is.
#
# Everything it starts (MariaDB, djproxy, the test runs) lives in a temporary directory
# and is stopped on every way out: normal end, error, INT, TERM, HUP. Exit codes: 0 all
# transparent, 1 a test passed directly but not through djproxy, 2 usage or set-up error.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

list=short
build=build
keep=0
usage() { sed -n '9,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --list) list=${2:?--list needs short, full or a file}; shift 2 ;;
    --list=*) list=${1#--list=}; shift ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --build=*) build=${1#--build=}; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "mtr-through-proxy: unknown argument $1" >&2; usage ;;
  esac
done
case $list in
  short|full) list_file=$root/scripts/mtr/$list.list ;;
  *) list_file=$list ;;
esac
fail_setup() { echo "mtr-through-proxy: $*" >&2; exit 2; }
[[ -f $list_file ]] || fail_setup "no test list $list_file"
proxy_bin=$(cd "$build" 2>/dev/null && pwd)/djproxy
[[ -x $proxy_bin ]] || fail_setup "no djproxy binary in $build (build it first)"
mtr_dir=/usr/share/mysql/mysql-test
[[ -x $mtr_dir/mariadb-test-run ]] || fail_setup "mariadb-test-run not found; install mariadb-test (scripts/setup.sh)"

# "main.NAME" or "main.NAME known" per test.
mapfile -t entries < <(sed -e 's/#.*//' "$list_file" |
  awk 'NF { n = $1; if (n !~ /\./) n = "main." n; print n ($2 ~ /^!/ ? " known" : "") }')
((${#entries[@]} > 0)) || fail_setup "$list_file names no test"
tests=() plain=() known=()
for e in "${entries[@]}"; do
  tests+=("${e%% *}")
  if [[ $e == *" known" ]]; then known+=("${e%% *}"); else plain+=("${e%% *}"); fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/djproxy-mtr.XXXXXX")
db_dir=$work/mariadb
proxy_pid=
mtr_pid=
db_started=0

# Bounded: each step has a deadline, then the next harder signal.
stop_pid() {  # stop_pid PID SECONDS [process group too]
  local pid=$1 seconds=$2 group=${3:-0} target=$1
  ((group)) && target=-$1
  kill -TERM -- "$target" 2>/dev/null || { target=$pid; kill -TERM "$pid" 2>/dev/null; } || return 0
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "$target" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - INT TERM HUP EXIT
  set +e
  [[ -n $mtr_pid ]] && stop_pid "$mtr_pid" 10 1
  [[ -n $proxy_pid ]] && stop_pid "$proxy_pid" 10
  ((db_started)) && bash "$root/scripts/mariadb.sh" stop "$db_dir"
  if ((keep)); then
    echo "mtr-through-proxy: work directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap 'rc=$?; cleanup; exit $rc' EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- the server, prepared as mariadb-test-run prepares its own (mtr's bootstrap)
db_started=1  # before the start: a signal during it must stop what it started
bash "$root/scripts/mariadb.sh" start "$db_dir" >"$work/mariadb-start.log" 2>&1 ||
  { cat "$work/mariadb-start.log" >&2; fail_setup "MariaDB did not start"; }
db_port=$(cat "$db_dir/port")
as_root() { mariadb --no-defaults -uroot --socket="$db_dir/mysqld.sock" "$@"; }
# The tests run as root over TCP (both ways, so that they see the same account): the
# server skips name resolution, so root@localhost does not match 127.0.0.1.
as_root <<'SQL'
CREATE USER IF NOT EXISTS root@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO root@'127.0.0.1' WITH GRANT OPTION;
DELETE FROM mysql.global_priv WHERE user = '';
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS test CHARACTER SET latin1 COLLATE latin1_swedish_ci;
CREATE DATABASE IF NOT EXISTS mtr CHARACTER SET latin1;
SQL
as_root mysql </usr/share/mysql/mysql_test_data_timezone.sql
# mtr's helper procedures (check_testcase, check_warnings), written for its bootstrap:
# `delimiter ||;` and whole-line `--` comments, which the mariadb client reads otherwise.
for f in mtr_warnings.sql mtr_check.sql; do
  sed -e '/^[[:space:]]*--/d' -e 's/^delimiter ||;$/delimiter ||/' -e 's/^delimiter ;||$/delimiter ;/' \
    "$mtr_dir/include/$f" | as_root >"$work/load-$f.log" 2>&1 ||
    { cat "$work/load-$f.log" >&2; fail_setup "loading $f failed"; }
done
# The dynamic part of the server settings mtr gives its own servers
# (include/default_mysqld.cnf): results are recorded with them.
as_root <<'SQL'
SET GLOBAL default_storage_engine = MyISAM, use_stat_tables = 'preferably', histogram_type = 'JSON_HB',
  sort_buffer_size = 262144, max_heap_table_size = 1048576, key_buffer_size = 1048576,
  connect_timeout = 60, log_bin_trust_function_creators = 1, local_infile = 1;
SQL

# mariadb-test-run must start in its mysql-test directory and writes each failing test's
# .reject file beside its .result: a private tree of links keeps the package's files
# untouched. The runner finds the binaries and share files from the tree's parent.
tree=$work/mtr
mkdir -p "$tree/mysql-test/main"
for d in bin sbin lib share; do ln -s "/usr/$d" "$tree/$d"; done
for f in "$mtr_dir"/*; do
  [[ $(basename "$f") == main ]] || ln -s "$f" "$tree/mysql-test/"
done
ln -s "$mtr_dir"/main/* "$tree/mysql-test/main/"

# ---- djproxy in development mode, no prefix, in front of it
proxy_port=$(free_port)
admin_port=$(free_port)
(
  cd "$work"  # no datajoint.json or djproxy.toml is found from here
  exec env -i PATH=/usr/bin:/bin HOME="$work" \
    DJPROXY_LISTEN="127.0.0.1:$proxy_port" DJPROXY_ADMIN_LISTEN="127.0.0.1:$admin_port" \
    DJPROXY_BACKEND="127.0.0.1:$db_port" DJ_CREATE_TABLES=true \
    DJPROXY_AUDIT_LOG="$work/audit.log" DJPROXY_TIMEOUTS_SHUTDOWN_GRACE=5s \
    "$proxy_bin" serve
) >"$work/djproxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 150); do port_open "$proxy_port" && break; kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
port_open "$proxy_port" || { cat "$work/djproxy.log" >&2; fail_setup "djproxy did not start"; }

# ---- the two runs
# Both over TCP to 127.0.0.1 (protocol=tcp: a test's `connect(..., localhost, ...)` too),
# as root without a password, with a socket that does not exist, so that no connection
# can reach the server around the proxy.
run_mtr() {  # run_mtr NAME PORT TEST...
  local name=$1 port=$2
  shift 2
  (($#)) || return 0
  echo "== $# test(s) of the main suite, $name (127.0.0.1:$port)"
  # Its own process group, so that a signal stops the runner and every mysqltest it started.
  (cd "$tree/mysql-test" && exec setsid perl ./mariadb-test-run.pl \
    --extern host=127.0.0.1 --extern port="$port" --extern protocol=tcp --extern user=root \
    --extern socket="$work/no-such.sock" \
    --vardir="$work/var-$name" --tmpdir="$work/tmp-$name" \
    --force --max-test-fail=0 --retry=0 --parallel=1 \
    --testcase-timeout=15 --suite-timeout=180 \
    "$@") >"$work/mtr-$name.log" 2>&1 &
  mtr_pid=$!
  wait "$mtr_pid" || true  # failures are read from the log
  mtr_pid=
}
run_mtr direct "$db_port" "${tests[@]}"
run_mtr djproxy "$proxy_port" "${plain[@]}"
run_mtr djproxy-known "$proxy_port" "${known[@]}"
touch "$work/mtr-djproxy.log" "$work/mtr-djproxy-known.log"

status=0
/usr/bin/python3 - "$work" "$list_file" <<'PY' || status=$?
import os
import re
import sys

work, list_file = sys.argv[1:]
names, known = [], {}
for line in open(list_file):
    fields = line.split("#", 1)[0].split(None, 1)
    if not fields:
        continue
    name = fields[0] if "." in fields[0] else "main." + fields[0]
    names.append(name)
    if len(fields) > 1 and fields[1].startswith("!"):
        known[name] = fields[1][1:].strip()
# "main.alias   [ pass ]   12", "main.foo 'innodb'   w1 [ skipped ]  reason"
LINE = re.compile(r"^(\S+?)(?: '[^']*')?\s+(?:w\d+\s+)?\[ (pass|fail|skipped|disabled) \]\s*(.*)$")

def outcomes(path):
    seen = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if m:
                seen[m.group(1)] = (m.group(2), m.group(3).strip())
    return seen

direct = outcomes(os.path.join(work, "mtr-direct.log"))
proxy = outcomes(os.path.join(work, "mtr-djproxy.log"))
proxy.update(outcomes(os.path.join(work, "mtr-djproxy-known.log")))
width = max(len(n) for n in names) + 2
print(f"\n{'test':<{width}}{'direct':<10}djproxy")
defects, differences, fixed = [], [], []
for name in names:
    d = direct.get(name, ("missing", ""))
    p = proxy.get(name, ("missing", ""))
    note = ""
    if name in known:
        if p[0] == "pass":
            fixed.append(name)
            note = "   <- marked as a known difference, passes now: unmark it"
        else:
            differences.append(name)
            note = f"   known: {known[name]}"
    elif d[0] == "pass" and p[0] != "pass":
        defects.append(name)
        note = "   <- passes directly only"
    elif d[0] != "pass" and d[1]:
        note = f"   ({d[1][:60]})"
    print(f"{name:<{width}}{d[0]:<10}{p[0]}{note}")

def counts(results):
    c = {}
    for name in names:
        o = results.get(name, ("missing", ""))[0]
        c[o] = c.get(o, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

print(f"\n{len(names)} test(s)")
print(f"direct:  {counts(direct)}")
print(f"djproxy: {counts(proxy)}")
if differences:
    print(f"known differences (README, development mode): {len(differences)}: {' '.join(differences)}")
if defects:
    print(f"\nNOT TRANSPARENT: {len(defects)} test(s) pass directly but not through djproxy: {' '.join(defects)}")
    sys.exit(1)
print("\ntransparent: every test that passes directly passes through djproxy")
PY
if ((status != 0)); then
  # The failing tests' reports, from the run through djproxy.
  grep -n -A40 '\[ fail \]' "$work/mtr-djproxy.log" | head -200 || true
  keep=1
fi
exit "$status"

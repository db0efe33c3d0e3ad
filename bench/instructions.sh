#!/usr/bin/env bash
# User-space instructions per relayed query, and where they go: the figure to steer by
# on a machine without hardware counters, where CPU time per query swings by tens of
# percent between runs. It runs the proxy under callgrind twice, for SMALL and LARGE
# point selects over one connection (sysbench, text protocol), and divides the
# difference by LARGE - SMALL, so that start-up, log-in and shutdown cancel out.
# Prints a markdown table for bench/RESULTS.md: the total, the share of each part of
# the code (the policy, the protocol codec, the session, the event loop, Asio, the allocator, libc's
# locks and cancellation points, the rest), and the functions that cost most.
#
#   bench/instructions.sh                       djproxy of ./build, production, audit log on
#   BUILD=build-rel bench/instructions.sh
#   TARGET=build/bench/djproxy_relay_asio bench/instructions.sh   a relay of bench/reactor
#   SMALL=1000 LARGE=10000 TOP=25 bench/instructions.sh
#
# Callgrind slows the proxy about 50 times: the default run takes two to three minutes.
# Everything runs on 127.0.0.1, and everything started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$root/build}
TARGET=${TARGET:-$BUILD/djproxy}
SMALL=${SMALL:-2000}
LARGE=${LARGE:-20000}
TOP=${TOP:-15}
WORK=${WORK:-$BUILD/instructions-work}
HOST=127.0.0.1

((SMALL >= 100 && LARGE >= 2 * SMALL && LARGE <= 1000000)) ||
  { echo "need 100 <= SMALL and 2*SMALL <= LARGE <= 1000000" >&2; exit 2; }
((TOP >= 1 && TOP <= 200)) || { echo "TOP must be 1..200" >&2; exit 2; }
[[ -x $TARGET ]] || { echo "no $TARGET; build first (cmake --build $BUILD -j2)" >&2; exit 1; }
for tool in valgrind callgrind_annotate sysbench mariadb python3; do
  command -v $tool >/dev/null || { echo "missing $tool (scripts/setup.sh)" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK"
db_dir=$WORK/mariadb
proxy_pid=
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  "$root/scripts/mariadb.sh" stop "$db_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== starting MariaDB" >&2
"$root/scripts/mariadb.sh" start "$db_dir" >&2
db_port=$(cat "$db_dir/port")
mariadb --no-defaults -h $HOST -P "$db_port" -udjroot -pdjroot --ssl=0 \
  -e "DROP DATABASE IF EXISTS myproject_bench; CREATE DATABASE myproject_bench"
sysbench_args=(--db-driver=mysql --db-ps-mode=disable --mysql-host=$HOST --mysql-user=djroot
  --mysql-password=djroot --mysql-db=myproject_bench --tables=1 --table-size=1000)
sysbench oltp_point_select "${sysbench_args[@]}" --mysql-port="$db_port" prepare >/dev/null

# One profiled run of $1 point selects; writes $WORK/callgrind.$1.out.
profile() {
  local events=$1 port admin
  port=$(free_port)
  admin=$(free_port)
  # The settings go in the environment of valgrind itself: valgrind run on env(1) would
  # profile env, which then execs the proxy outside valgrind.
  local -a settings command
  if [[ $(basename "$TARGET") == djproxy ]]; then
    settings=(DJPROXY_LISTEN=$HOST:$port DJPROXY_ADMIN_LISTEN=$HOST:$admin DJ_HOST=$HOST:$db_port
      DJPROXY_CLIENT_TLS_MODE=off DJPROXY_BACKEND_TLS_MODE=off DJ_CREATE_TABLES=false
      DJ_SCHEMA_PREFIX=myproject_ DJPROXY_AUDIT_LOG="$WORK/audit.log")
    command=("$TARGET" serve)
  else
    settings=()
    command=("$TARGET" "$port" "$db_port" 2)  # a relay: LISTEN_PORT BACKEND_PORT THREADS
  fi
  env "${settings[@]}" valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$events.out" "${command[@]}" \
    >"$WORK/proxy.$events.log" 2>&1 &
  proxy_pid=$!
  local up=0
  for _ in $(seq 1 600); do  # bounded: 60 s for the proxy to start under valgrind
    kill -0 "$proxy_pid" 2>/dev/null || { echo "the proxy exited; its log:" >&2; tail -20 "$WORK/proxy.$events.log" >&2; exit 1; }
    if mariadb --no-defaults -h $HOST -P "$port" -udjroot -pdjroot --ssl=0 -e "SELECT 1" >/dev/null 2>&1; then
      up=1
      break
    fi
    sleep 0.1
  done
  ((up)) || { echo "the proxy did not answer within 60 s" >&2; exit 1; }
  echo "== $events point selects through $(basename "$TARGET") under callgrind" >&2
  sysbench oltp_point_select "${sysbench_args[@]}" --mysql-port="$port" --threads=1 --events="$events" --time=0 \
    run >"$WORK/sysbench.$events.log"
  # SIGINT: djproxy shuts down cleanly, and callgrind writes its profile at exit.
  kill -INT "$proxy_pid"
  for _ in $(seq 1 300); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$proxy_pid" 2>/dev/null || true  # a relay has no clean shutdown; callgrind still writes
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
  [[ -s $WORK/callgrind.$events.out ]] || { echo "no profile written for $events events" >&2; exit 1; }
  callgrind_annotate --threshold=100 "$WORK/callgrind.$events.out" >"$WORK/annotate.$events.txt"
}

profile "$SMALL"
profile "$LARGE"

python3 - "$WORK/annotate.$SMALL.txt" "$WORK/annotate.$LARGE.txt" "$SMALL" "$LARGE" "$TOP" "$(basename "$TARGET")" <<'EOF'
import re
import sys

small_file, large_file, small, large, top, target = sys.argv[1:7]
queries = int(large) - int(small)


def load(path):
    costs = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = re.sub(r" \[clone[^\]]*\]", "", m.group(2)).split(" [/")[0]
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def part(full_name):
    name = full_name.split("(", 1)[0]  # the function itself, not its parameters' types
    if "djproxy::policy::" in name:
        return "the policy"
    if "djproxy::protocol::" in name:
        return "the protocol codec"
    if "boost::asio" in name:
        return "Asio"
    if re.search(r"djproxy::proxy::(EventLoop|Socket|task_detail|resume\b)", name):
        return "the event loop and its tasks"
    if re.search(r"malloc|memalign|_int_free|cfree|\bfree\b|operator new|operator delete", name):
        return "the allocator"
    if re.search(r"pthread_mutex|asynccancel", name):
        return "libc's locks and cancellation points"
    if "djproxy::" in name or "relay" in name:
        return "the session and relay"
    return "the rest (standard library, libc, kernel entry)"


a, b = load(small_file), load(large_file)
per_query = {k: (b.get(k, 0) - a.get(k, 0)) / queries for k in set(a) | set(b)}
parts = {}
for name, cost in per_query.items():
    parts[part(name)] = parts.get(part(name), 0) + cost
total = sum(per_query.values())
print(f"User-space instructions per point select through {target} (callgrind, self cost; "
      f"({large} - {small} queries) / {queries}, one connection, text protocol):\n")
print("| where | instructions per query | share |")
print("| --- | ---: | ---: |")
print(f"| all | {total:,.0f} | 100 % |")
for name, cost in sorted(parts.items(), key=lambda kv: -kv[1]):
    if abs(cost) < 0.5:
        continue
    print(f"| {name} | {cost:,.0f} | {100 * cost / total:.0f} % |")
print(f"\nThe {top} functions that cost most per query:\n")
print("| instructions | function |")
print("| ---: | --- |")
for name, cost in sorted(per_query.items(), key=lambda kv: -kv[1])[: int(top)]:
    shown = name.split(":", 1)[1] if name.startswith(("???:", "./")) else name
    shown = re.sub(r"\(.*", "", shown)[:120]
    print(f"| {cost:,.0f} | `{shown}` |")
EOF

#!/usr/bin/env bash
# djproxy benchmark: the same throwaway MariaDB reached three ways, alternating per
# workload: direct, through HAProxy in plain TCP mode (the floor for any extra hop), and
# through djproxy. Prints a markdown table for bench/RESULTS.md.
#
#   bench/run.sh                 build dir ./build (djproxy, djproxy_bench_client)
#   BUILD=build-rel DURATION=20 ROUNDS=1 BLOB_MB=512 CHURN=2000 bench/run.sh
#   WORKLOADS="churn blob" bench/run.sh   only these (of: sysbench blob churn)
#   SB_PS_MODE=disable bench/run.sh       sysbench over the text protocol (default auto:
#                                         prepared statements, analysed once per connection)
#   PROTOTYPES=1 bench/run.sh             also the three reactor prototypes of bench/reactor
#                                         (sysbench only; built on request, see there)
#
# Workloads: sysbench oltp_point_select and oltp_read_only at 1 and 8 threads,
# a BLOB_MB LONGBLOB insert and fetch (C client), a CHURN-connection loop (connect,
# ping, close). With ROUNDS > 1 each figure is the median, and each ratio the median of
# the rounds' ratios. Everything runs on
# 127.0.0.1 only, every loop is bounded, and everything started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$root/build}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-1}
BLOB_MB=${BLOB_MB:-1000}  # MB of 10^6 bytes: 1000 is the 1 GB row of the RSS target
CHURN=${CHURN:-2000}
SB_PS_MODE=${SB_PS_MODE:-auto}
WORKLOADS=${WORKLOADS:-sysbench blob churn}
PROTOTYPES=${PROTOTYPES:-0}
TABLES=${TABLES:-4}
TABLE_SIZE=${TABLE_SIZE:-10000}
WORK=${WORK:-$BUILD/bench-work}
HOST=127.0.0.1  # never anything else

((DURATION >= 1 && DURATION <= 600)) || { echo "DURATION must be 1..600" >&2; exit 2; }
((ROUNDS >= 1 && ROUNDS <= 9)) || { echo "ROUNDS must be 1..9" >&2; exit 2; }
((BLOB_MB >= 1 && BLOB_MB <= 1024)) || { echo "BLOB_MB must be 1..1024" >&2; exit 2; }
((CHURN >= 1 && CHURN <= 100000)) || { echo "CHURN must be 1..100000" >&2; exit 2; }
for w in $WORKLOADS; do
  [[ $w == sysbench || $w == blob || $w == churn ]] || { echo "WORKLOADS: unknown '$w' (sysbench blob churn)" >&2; exit 2; }
done
wants() { [[ " $WORKLOADS " == *" $1 "* ]]; }

djproxy=$BUILD/djproxy
client=$(find "$BUILD" -name djproxy_bench_client -type f -perm -u+x 2>/dev/null | head -1)
[[ -x $djproxy ]] || { echo "no $djproxy; build first (cmake --build $BUILD -j2)" >&2; exit 1; }
[[ -n $client ]] || { echo "no djproxy_bench_client under $BUILD (bench/clients.cmake)" >&2; exit 1; }
declare -A relay_bin
if ((PROTOTYPES)); then
  for kind in asio epoll task; do
    relay_bin[$kind]=$(find "$BUILD" -name "djproxy_relay_$kind" -type f -perm -u+x 2>/dev/null | head -1)
    [[ -n ${relay_bin[$kind]} ]] || {
      echo "no djproxy_relay_$kind under $BUILD:" \
        "cmake --build $BUILD --target djproxy_relay_asio djproxy_relay_epoll djproxy_relay_task" >&2
      exit 1
    }
    # A relay that loses an end of file would be measured doing less than a proxy must.
    python3 "$(dirname "$0")/reactor/check_end_of_file.py" "${relay_bin[$kind]}" || exit 1
  done
fi
for tool in sysbench haproxy mariadb; do
  command -v $tool >/dev/null || { echo "missing $tool (scripts/setup.sh)" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # port pid log; bounded: 15 s
  for _ in $(seq 1 150); do
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited; its log:" >&2; tail -20 "$3" >&2; return 1; }
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $HOST:$1" >&2
  return 1
}

mkdir -p "$WORK"
db_dir=$WORK/mariadb
hap_pid= dj_pid=
declare -A relay_pid
cleanup() {
  local p
  for p in "${relay_pid[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $hap_pid ]] && kill "$hap_pid" 2>/dev/null || true
  [[ -n $dj_pid ]] && kill "$dj_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  "$root/scripts/mariadb.sh" stop "$db_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== starting MariaDB, HAProxy and djproxy" >&2
"$root/scripts/mariadb.sh" start "$db_dir" >&2
db_port=$(cat "$db_dir/port")
sql() { mariadb --no-defaults -h $HOST -P "$db_port" -udjroot -pdjroot --ssl=0 -e "$1"; }
sql "DROP DATABASE IF EXISTS myproject_bench; CREATE DATABASE myproject_bench;
     CREATE TABLE myproject_bench.blobs (id INT PRIMARY KEY, b LONGBLOB)"

hap_port=$(free_port)
cat >"$WORK/haproxy.cfg" <<EOF
global
  maxconn 4000
  nbthread 2
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen mariadb
  bind $HOST:$hap_port
  server db $HOST:$db_port
EOF
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
hap_pid=$!
wait_port "$hap_port" "$hap_pid" "$WORK/haproxy.log"

dj_port=$(free_port)
dj_admin=$(free_port)
(
  cd "$WORK"
  exec env DJPROXY_LISTEN=$HOST:$dj_port DJPROXY_ADMIN_LISTEN=$HOST:$dj_admin DJ_HOST=$HOST:$db_port \
    DJPROXY_CLIENT_TLS_MODE=off DJPROXY_BACKEND_TLS_MODE=off DJPROXY_LIMITS_MAX_CONNECTIONS=5000 \
    DJ_CREATE_TABLES=false DJ_SCHEMA_PREFIX=myproject_ DJPROXY_AUDIT_LOG="$WORK/audit.log" \
    "$djproxy" serve
) >"$WORK/djproxy.log" 2>&1 &
dj_pid=$!
wait_port "$dj_port" "$dj_pid" "$WORK/djproxy.log"

declare -A port=([direct]=$db_port [haproxy]=$hap_port [djproxy]=$dj_port)
setups=(direct haproxy djproxy)
if ((PROTOTYPES)); then
  for kind in asio epoll task; do
    port[relay_$kind]=$(free_port)
    "${relay_bin[$kind]}" "${port[relay_$kind]}" "$db_port" 2 >"$WORK/relay_$kind.log" 2>&1 &
    relay_pid[$kind]=$!
    wait_port "${port[relay_$kind]}" "${relay_pid[$kind]}" "$WORK/relay_$kind.log"
    setups+=("relay_$kind")
  done
fi
declare -A result  # result[workload,setup] = space-separated values per round

wants sysbench && echo "== sysbench prepare ($TABLES tables x $TABLE_SIZE rows)" >&2
sb_common=(--db-driver=mysql --db-ps-mode="$SB_PS_MODE" --mysql-host=$HOST --mysql-user=djroot --mysql-password=djroot
  --mysql-db=myproject_bench --tables="$TABLES" --table-size="$TABLE_SIZE")
wants sysbench && sysbench oltp_read_only "${sb_common[@]}" --mysql-port="$db_port" prepare >"$WORK/sysbench-prepare.log"

median() { tr ' ' '\n' | grep -v -e '^$' -e '^n/a$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }
add() { result[$1,$2]="${result[$1,$2]:-} ${3:-n/a}"; }  # n/a keeps the rounds aligned

# CPU time (user + system) a proxy's process has used so far, in microseconds: per query
# it is the figure to steer by on a shared machine, where throughput drifts with the
# neighbours but a process's own CPU time does not.
tick_us=$((1000000 / $(getconf CLK_TCK)))
cpu_us() {  # pid
  awk -v t="$tick_us" '{sub(/^.*\) /, ""); print ($12 + $13) * t}' "/proc/$1/stat"
}
# Of it, the user-space part: the kernel's share (system calls, the TCP stack) is much
# the same for any proxy; what a proxy does with the bytes shows here.
user_us() {  # pid
  awk -v t="$tick_us" '{sub(/^.*\) /, ""); print $12 * t}' "/proc/$1/stat"
}
declare -A pid=([haproxy]=$hap_pid [djproxy]=$dj_pid)
for kind in "${!relay_pid[@]}"; do pid[relay_$kind]=${relay_pid[$kind]}; done
declare -A cpu user  # cpu[workload,setup], user[workload,setup] = CPU µs per unit of work, per round
# With perf (linux-perf) present and allowed, the same window also counts each proxy's
# system calls and context switches: on a virtual machine without hardware counters these
# are what CPU time per query is made of, and they do not drift with the neighbours.
declare -A sys ctx  # sys[workload,setup], ctx[workload,setup] = per unit of work, per round
perf_ok=0
command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 && perf_ok=1
perf_pid=
cpu_start() {
  cpu_before= perf_pid=
  [[ -n ${pid[$1]:-} ]] || return 0
  cpu_before=$(cpu_us "${pid[$1]}")
  user_before=$(user_us "${pid[$1]}")
  if ((perf_ok)); then
    perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "${pid[$1]}" -o "$WORK/perf.$1" &
    perf_pid=$!
    sleep 0.2  # attached before the work starts
  fi
}
cpu_end() {  # key setup units-of-work
  local after user_after
  [[ -n ${cpu_before:-} ]] && after=$(cpu_us "${pid[$2]}") && user_after=$(user_us "${pid[$2]}")
  if [[ -n ${perf_pid:-} ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  [[ -n ${cpu_before:-} && -n ${3:-} && ${3:-0} != 0 ]] || return 0
  cpu[$1,$2]="${cpu[$1,$2]:-} $(awk -v a="$cpu_before" -v b="$after" -v n="$3" 'BEGIN {printf "%.2f", (b - a) / n}')"
  user[$1,$2]="${user[$1,$2]:-} $(awk -v a="$user_before" -v b="$user_after" -v n="$3" 'BEGIN {printf "%.2f", (b - a) / n}')"
  if [[ -n ${perf_pid:-} && -s $WORK/perf.$2 ]]; then
    sys[$1,$2]="${sys[$1,$2]:-} $(awk -F, -v n="$3" '$3 ~ /sys_enter/ {printf "%.2f", $1 / n}' "$WORK/perf.$2")"
    ctx[$1,$2]="${ctx[$1,$2]:-} $(awk -F, -v n="$3" '$3 ~ /context-switches/ {printf "%.2f", $1 / n}' "$WORK/perf.$2")"
  fi
}

run_sysbench() {  # test threads setup -> "rate total": queries/s or tx/s, and the queries run
  local test=$1 threads=$2 setup=$3 out
  out=$(timeout $((DURATION + 60)) sysbench "$test" "${sb_common[@]}" --mysql-port="${port[$setup]}" \
    --threads="$threads" --time="$DURATION" --report-interval=0 run)
  local total
  total=$(awk '/queries:/ {print $2; exit}' <<<"$out")
  if [[ $test == oltp_point_select ]]; then
    awk -v n="$total" '/queries:/ {gsub(/[()]/,"",$3); print $3, n; exit}' <<<"$out"
  else
    awk -v n="$total" '/transactions:/ {gsub(/[()]/,"",$3); print $3, n; exit}' <<<"$out"
  fi
}

for ((round = 1; round <= ROUNDS; ++round)); do
  # Rotate the order each round so no set-up always runs first.
  n=${#setups[@]}
  order=("${setups[@]:$(((round - 1) % n))}" "${setups[@]:0:$(((round - 1) % n))}")
  for spec in "oltp_point_select 1" "oltp_point_select 8" "oltp_read_only 1" "oltp_read_only 8"; do
    wants sysbench || break
    read -r test threads <<<"$spec"
    for s in "${order[@]}"; do
      echo "== round $round: $test, $threads thread(s), $s" >&2
      cpu_start "$s"
      read -r rate total < <(run_sysbench "$test" "$threads" "$s") || true
      add "$test/$threads" "$s" "${rate:-}"
      cpu_end "$test/$threads" "$s" "${total:-}"
    done
  done
  for s in "${order[@]}"; do
    wants blob || break
    [[ $s == relay_* ]] && continue
    echo "== round $round: ${BLOB_MB} MB LONGBLOB, $s" >&2
    cpu_start "$s"
    out=$(timeout 900 "$client" blob "${port[$s]}" "$BLOB_MB")
    cpu_end blob_insert "$s" "$((2 * BLOB_MB))"  # insert and fetch: µs per MB relayed
    add blob_insert "$s" "$(awk -F= '/^insert_mb_s=/ {print $2}' <<<"$out")"
    add blob_fetch "$s" "$(awk -F= '/^fetch_mb_s=/ {print $2}' <<<"$out")"
  done
  for s in "${order[@]}"; do
    wants churn || break
    [[ $s == relay_* ]] && continue
    echo "== round $round: $CHURN-connection churn, $s" >&2
    cpu_start "$s"
    out=$(timeout 600 "$client" churn "${port[$s]}" "$CHURN")
    cpu_end churn "$s" "$CHURN"
    add churn "$s" "$(awk -F= '/^conn_per_s=/ {print $2}' <<<"$out")"
  done
done

kill -0 "$dj_pid" 2>/dev/null || { echo "djproxy died during the benchmark; see $WORK/djproxy.log" >&2; exit 1; }
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$dj_pid/status")

round_ratios() {  # "a1 a2 ..." "b1 b2 ..." -> one a/b per line, rounds without both left out
  paste -d' ' <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') |
    awk '$1 != "n/a" && $2 != "n/a" && $2 != 0 {print $1 / $2}'
}
# The median of the per-round ratios: the set-ups of one round run back to back, so a
# round's ratio is measured at one machine speed, whatever the speed of the other rounds
# (on a shared virtual machine it drifts by tens of percent over minutes).
ratio() {  # "a1 a2 ..." "b1 b2 ..."
  round_ratios "$1" "$2" | median | awk '{ if ($1 == "n/a") print; else printf "%.2f", $1 }'
}
# The lowest and highest per-round ratio: how far one round's verdict can be trusted.
ratio_range() {  # "a1 a2 ..." "b1 b2 ..."
  round_ratios "$1" "$2" | sort -g | awk '{a[NR]=$1} END {if (NR > 1) printf "%.2f–%.2f", a[1], a[NR]; else print "n/a"}'
}

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "## djproxy benchmark, $(date -u +'%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) CPU ($cpu), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM," \
  "$(uname -sr); client, proxies and MariaDB $(mariadbd --version | awk '{print $3}') share the cores." \
  "HAProxy $(haproxy -v | awk 'NR==1 {print $3}') in TCP mode, 2 threads; djproxy TLS off on both legs." \
  "sysbench ${DURATION} s per run (--db-ps-mode=$SB_PS_MODE), $TABLES tables x $TABLE_SIZE rows; $ROUNDS round(s): figures are" \
  "medians over the rounds, ratios medians of the per-round ratios."
echo
echo "| workload | unit | direct | HAProxy | djproxy | djproxy/direct | djproxy/HAProxy | djproxy/HAProxy, rounds' range |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
row() {  # key label unit
  local d h j
  [[ -n ${result[$1,direct]:-}${result[$1,djproxy]:-} ]] || return 0
  d=$(median <<<"${result[$1,direct]:-}")
  h=$(median <<<"${result[$1,haproxy]:-}")
  j=$(median <<<"${result[$1,djproxy]:-}")
  echo "| $2 | $3 | $d | $h | $j | $(ratio "${result[$1,djproxy]:-}" "${result[$1,direct]:-}") |" \
    "$(ratio "${result[$1,djproxy]:-}" "${result[$1,haproxy]:-}") |" \
    "$(ratio_range "${result[$1,djproxy]:-}" "${result[$1,haproxy]:-}") |"
}
row "oltp_point_select/1" "sysbench oltp_point_select, 1 thread" "queries/s"
row "oltp_point_select/8" "sysbench oltp_point_select, 8 threads" "queries/s"
row "oltp_read_only/1" "sysbench oltp_read_only, 1 thread" "tx/s"
row "oltp_read_only/8" "sysbench oltp_read_only, 8 threads" "tx/s"
row blob_insert "${BLOB_MB} MB LONGBLOB insert (escaped literal, COM_QUERY)" "MB/s"
row blob_fetch "${BLOB_MB} MB LONGBLOB fetch" "MB/s"
row churn "connection churn (connect + ping + close), $CHURN connections" "conn/s"
echo
echo "CPU time (user + system) of each proxy's process per unit of work: µs per query for sysbench" \
  "(queries as sysbench counts them), per MB relayed for the blob (insert and fetch), per connection for" \
  "churn; and of it the time in user space. Medians over the rounds; the rounds' range in brackets."
echo
echo "| workload | unit | HAProxy CPU | djproxy CPU | djproxy/HAProxy | djproxy/HAProxy, rounds' range | HAProxy user | djproxy user |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
cpu_range() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR > 1) printf " [%s–%s]", a[1], a[NR]}'; }
cpu_row() {  # key label unit
  [[ -n ${cpu[$1,djproxy]:-} ]] || return 0
  echo "| $2 | $3 | $(median <<<"${cpu[$1,haproxy]:-}")$(cpu_range <<<"${cpu[$1,haproxy]:-}") |" \
    "$(median <<<"${cpu[$1,djproxy]:-}")$(cpu_range <<<"${cpu[$1,djproxy]:-}") |" \
    "$(ratio "${cpu[$1,djproxy]:-}" "${cpu[$1,haproxy]:-}") | $(ratio_range "${cpu[$1,djproxy]:-}" "${cpu[$1,haproxy]:-}") |" \
    "$(median <<<"${user[$1,haproxy]:-}")$(cpu_range <<<"${user[$1,haproxy]:-}") |" \
    "$(median <<<"${user[$1,djproxy]:-}")$(cpu_range <<<"${user[$1,djproxy]:-}") |"
}
cpu_row "oltp_point_select/1" "sysbench oltp_point_select, 1 thread" "µs/query"
cpu_row "oltp_point_select/8" "sysbench oltp_point_select, 8 threads" "µs/query"
cpu_row "oltp_read_only/1" "sysbench oltp_read_only, 1 thread" "µs/query"
cpu_row "oltp_read_only/8" "sysbench oltp_read_only, 8 threads" "µs/query"
cpu_row blob_insert "${BLOB_MB} MB LONGBLOB insert + fetch" "µs/MB"
cpu_row churn "connection churn, $CHURN connections" "µs/connection"
if ((perf_ok)); then
  echo
  echo "System calls and context switches of each proxy's process per unit of work (\`perf stat\`" \
    "over the same window as the CPU time). Medians over the rounds; the rounds' range in brackets."
  echo
  echo "| workload | unit | HAProxy syscalls | djproxy syscalls | HAProxy switches | djproxy switches |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  perf_row() {  # key label unit
    [[ -n ${sys[$1,djproxy]:-} ]] || return 0
    echo "| $2 | $3 | $(median <<<"${sys[$1,haproxy]:-}")$(cpu_range <<<"${sys[$1,haproxy]:-}") |" \
      "$(median <<<"${sys[$1,djproxy]:-}")$(cpu_range <<<"${sys[$1,djproxy]:-}") |" \
      "$(median <<<"${ctx[$1,haproxy]:-}")$(cpu_range <<<"${ctx[$1,haproxy]:-}") |" \
      "$(median <<<"${ctx[$1,djproxy]:-}")$(cpu_range <<<"${ctx[$1,djproxy]:-}") |"
  }
  perf_row "oltp_point_select/1" "sysbench oltp_point_select, 1 thread" "per query"
  perf_row "oltp_point_select/8" "sysbench oltp_point_select, 8 threads" "per query"
  perf_row "oltp_read_only/1" "sysbench oltp_read_only, 1 thread" "per query"
  perf_row "oltp_read_only/8" "sysbench oltp_read_only, 8 threads" "per query"
  perf_row blob_insert "${BLOB_MB} MB LONGBLOB insert + fetch" "per MB"
  perf_row churn "connection churn, $CHURN connections" "per connection"
fi
if ((PROTOTYPES)); then
  echo
  echo "Reactor prototypes (bench/reactor): three TCP relays that differ only in their event loop." \
    "relay_asio moves bytes as djproxy's legs do (Asio's reactor, coroutines); relay_epoll runs an" \
    "edge-triggered epoll loop of its own that waits for the next edge after a short read; relay_task" \
    "runs that loop under coroutines. CPU (user + system) in µs per query with the rounds' range in" \
    "brackets, each relay's CPU against relay_asio's (medians of the per-round ratios), and the medians" \
    "of user time (µs) and system calls per query."
  echo
  echo "| workload | relay_asio CPU | relay_epoll CPU | relay_task CPU | epoll/asio | task/asio | task/asio, rounds' range | user asio / epoll / task | syscalls asio / epoll / task |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  proto_row() {  # key label
    [[ -n ${cpu[$1,relay_task]:-} ]] || return 0
    echo "| $2 | $(median <<<"${cpu[$1,relay_asio]:-}")$(cpu_range <<<"${cpu[$1,relay_asio]:-}") |" \
      "$(median <<<"${cpu[$1,relay_epoll]:-}")$(cpu_range <<<"${cpu[$1,relay_epoll]:-}") |" \
      "$(median <<<"${cpu[$1,relay_task]:-}")$(cpu_range <<<"${cpu[$1,relay_task]:-}") |" \
      "$(ratio "${cpu[$1,relay_epoll]:-}" "${cpu[$1,relay_asio]:-}") |" \
      "$(ratio "${cpu[$1,relay_task]:-}" "${cpu[$1,relay_asio]:-}") |" \
      "$(ratio_range "${cpu[$1,relay_task]:-}" "${cpu[$1,relay_asio]:-}") |" \
      "$(median <<<"${user[$1,relay_asio]:-}") / $(median <<<"${user[$1,relay_epoll]:-}") / $(median <<<"${user[$1,relay_task]:-}") |" \
      "$(median <<<"${sys[$1,relay_asio]:-}") / $(median <<<"${sys[$1,relay_epoll]:-}") / $(median <<<"${sys[$1,relay_task]:-}") |"
  }
  proto_row "oltp_point_select/1" "sysbench oltp_point_select, 1 thread"
  proto_row "oltp_point_select/8" "sysbench oltp_point_select, 8 threads"
  proto_row "oltp_read_only/1" "sysbench oltp_read_only, 1 thread"
  proto_row "oltp_read_only/8" "sysbench oltp_read_only, 8 threads"
fi
echo
echo "djproxy peak RSS (VmHWM) over the whole run: $((rss_kb / 1024)) MB ($rss_kb kB)."

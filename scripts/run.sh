#!/usr/bin/env bash
# The main job: build djproxy, start a throwaway MariaDB on loopback, start djproxy in
# front of it in production mode (create_tables=false, schema prefix myproject_), show
# it working, and serve until Ctrl-C; then stop both cleanly. Both are stopped on
# every way out: Ctrl-C (INT), TERM (`timeout`, a supervisor), HUP (a closed
# terminal), an error, or djproxy ending by itself.
#   DJPROXY_PORT (default 6033, or a free port if taken), DJPROXY_RUN_DIR (default .run),
#   DJPROXY_BUILD_DIR (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

run_dir=${DJPROXY_RUN_DIR:-$root/.run}
build_dir=${DJPROXY_BUILD_DIR:-build}
proxy_pid=
db_started=0
cleanup() {
  trap - INT TERM HUP EXIT
  set +e  # stop everything even when one step fails
  if [[ -n $proxy_pid ]] && kill -0 "$proxy_pid" 2>/dev/null; then
    kill -TERM "$proxy_pid"
    wait "$proxy_pid" 2>/dev/null
  fi
  rm -f "$run_dir/djproxy.pid"
  if ((db_started)); then
    bash scripts/mariadb.sh stop "$run_dir/mariadb"
    echo "stopped djproxy and MariaDB"
  fi
}
# Installed before anything is started, so a signal at any point stops what runs.
# A signal ends the script (with 128 + its number) once both are stopped.
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap cleanup EXIT

bash scripts/setup.sh
mkdir -p "$build_dir"
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build_dir" -j2 --target djproxy

mkdir -p "$run_dir"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

db_started=1  # before the start: a signal during it must stop what it started
bash scripts/mariadb.sh start "$run_dir/mariadb"
db_port=$(cat "$run_dir/mariadb/port")
proxy_port=${DJPROXY_PORT:-6033}
port_taken "$proxy_port" && proxy_port=$(free_port)
admin_port=$(free_port)

export DJPROXY_LISTEN=127.0.0.1:$proxy_port
export DJPROXY_ADMIN_LISTEN=127.0.0.1:$admin_port
export DJPROXY_BACKEND=127.0.0.1:$db_port
export DJPROXY_BACKEND_TLS_MODE=verify-identity
export DJPROXY_BACKEND_TLS_CA=$run_dir/mariadb/tls/ca.pem
export DJ_CREATE_TABLES=false
export DJ_SCHEMA_PREFIX=myproject_
export DJPROXY_AUDIT_LOG=$run_dir/audit.log
export DJPROXY_TIMEOUTS_SHUTDOWN_GRACE=5s
export DJPROXY_MIGRATION_USERS=djmigrate
# The key that signs migration tokens: made once, kept with the run's other state.
if [[ ! -s $run_dir/migration.key ]]; then
  (umask 077 && openssl rand -hex 32 >"$run_dir/migration.key")
fi
export DJPROXY_MIGRATION_KEY_FILE=$run_dir/migration.key
"$build_dir/djproxy" serve 2>"$run_dir/djproxy.log" &
proxy_pid=$!
echo "$proxy_pid" >"$run_dir/djproxy.pid"
for _ in $(seq 1 100); do port_taken "$proxy_port" && break; sleep 0.05; done
port_taken "$proxy_port" || { cat "$run_dir/djproxy.log"; exit 1; }

client() { mariadb --no-defaults -h127.0.0.1 -P"$proxy_port" --ssl --ssl-verify-server-cert=0 "$@"; }
show() { printf '\n-- %s\n' "$*"; }
echo
echo "== djproxy is serving on 127.0.0.1:$proxy_port in front of MariaDB on 127.0.0.1:$db_port"
show "a migration user creates the project's schema and a table (allowed: migration.users)"
client -udjmigrate -pmigpass -e "CREATE DATABASE IF NOT EXISTS myproject_demo;
  CREATE TABLE IF NOT EXISTS myproject_demo.subject (id INT PRIMARY KEY, name VARCHAR(32));" && echo "OK"
show "a worker inserts and reads inside the prefix (allowed; TLS on both legs)"
client -udj -pdjpass -t -e "REPLACE INTO myproject_demo.subject VALUES (1, 'mouse-1');
  SELECT s.*, CURRENT_USER() AS user,
    (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version') AS backend_tls
  FROM myproject_demo.subject s;"
show "the worker tries to create a table (rejected: create_tables=false)"
client -udj -pdjpass -e "CREATE TABLE myproject_demo.session (id INT PRIMARY KEY)" 2>&1 || true
show "the worker tries to read outside the prefix (rejected)"
client -udj -pdjpass -e "SELECT user FROM mysql.user" 2>&1 || true
show "the audit log saw it ($run_dir/audit.log)"
sleep 0.3
grep '"event":"reject"' "$run_dir/audit.log" | tail -2 || true
cat <<MSG

Connect:
  mariadb -h 127.0.0.1 -P $proxy_port -u dj -pdjpass          (accounts: see scripts/mariadb.sh)
  DataJoint workers: DJ_HOST=127.0.0.1:$proxy_port DJ_USER=dj DJ_PASS=djpass
Migration token (15 minutes, whole prefix):
  export DJPROXY_MIGRATION_KEY_FILE=$run_dir/migration.key DJ_SCHEMA_PREFIX=myproject_
  $build_dir/djproxy token issue --schema 'myproject_*' --ttl 15m | tail -1
  then, in the session: SET @djproxy_migration = '<token>';
Why was it rejected?  $build_dir/djproxy explain --prefix myproject_ "SQL"
Logs: $run_dir/djproxy.log   audit: $run_dir/audit.log   metrics: http://127.0.0.1:$admin_port/metrics
Ctrl-C stops djproxy and MariaDB.
MSG
# `wait` returns when a trapped signal arrives, and the trap then stops both.
wait "$proxy_pid"

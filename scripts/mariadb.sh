#!/usr/bin/env bash
# Throwaway MariaDB on loopback, for the run command, the tests and the benchmark.
# Touches no system service: its data, socket, logs and TLS files live under DIR.
#
#   scripts/mariadb.sh start DIR [PORT]   initialise if new, start, wait until ready
#   scripts/mariadb.sh stop DIR           stop it and wait until it has exited
#   scripts/mariadb.sh sql DIR "SQL"      run SQL as root over the unix socket
#
# MARIADB_EXTRA_ARGS: more server options for start, after the defaults (a test's server
# that announces another version: "--version=8.0.36 --innodb-buffer-pool-size=64M").
#
# After start, DIR/port holds the TCP port and DIR/tls/ca.pem the CA that signed the
# server's certificate (CN=localhost, SAN 127.0.0.1). Accounts, all from any host:
#   root      ''        (unix socket only)
#   djroot    djroot    ALL PRIVILEGES WITH GRANT OPTION, mysql_native_password
#   dj        djpass    ALL on myproject\_% and SELECT on everything, mysql_native_password
#   djed      edpass    as dj, but client_ed25519
#   djmigrate migpass   ALL PRIVILEGES, mysql_native_password (the migration user in tests)
set -euo pipefail

cmd=${1:?usage: mariadb.sh start|stop|sql DIR [PORT|SQL]}
dir=${2:?usage: mariadb.sh start|stop|sql DIR [PORT|SQL]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/mysqld.sock

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

as_root() { mariadb --no-defaults -uroot --socket="$sock" "$@"; }

make_tls() {
  local t=$dir/tls
  [[ -f $t/server-key.pem ]] && return
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=djproxy test CA" \
    -keyout "$t/ca-key.pem" -out "$t/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$t/server-key.pem" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$t/san.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca-key.pem" \
    -CAcreateserial -days 3650 -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
}

start() {
  local port=${1:-}
  if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "mariadb: already running in $dir on port $(cat "$dir/port")"
    return
  fi
  [[ -n $port ]] || port=$(free_port)
  make_tls
  # Temporary tables and files under DIR too: a shared /tmp that something else cleans
  # has made mariadb-install-db fail ('Error on delete of /tmp/#sql-temptable-...').
  mkdir -p "$dir/tmp"
  export TMPDIR=$dir/tmp
  local fresh=0
  if [[ ! -d $dir/data/mysql ]]; then
    fresh=1
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
  fi
  echo "$port" >"$dir/port"
  mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" --socket="$sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/pid" --tmpdir="$dir/tmp" \
    --log-error="$dir/error.log" --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --max-allowed-packet=1G \
    --max-connections=4000 --innodb-flush-log-at-trx-commit=2 \
    --ssl-ca="$dir/tls/ca.pem" --ssl-cert="$dir/tls/server.pem" --ssl-key="$dir/tls/server-key.pem" \
    --plugin-load-add=auth_ed25519 --local-infile=1 \
    --performance-schema=ON --performance-schema-instrument='%=OFF' ${MARIADB_EXTRA_ARGS:-} >/dev/null 2>&1 &
  # The server writes the same file once it is up; written now, a stop that comes
  # while it starts finds it too.
  echo $! >"$dir/pid"
  for _ in $(seq 1 300); do
    as_root -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  as_root -e 'SELECT 1' >/dev/null 2>&1 || { echo "mariadb: did not start; see $dir/error.log" >&2; tail -20 "$dir/error.log" >&2; exit 1; }
  if ((fresh)); then
    as_root <<'SQL'
CREATE USER djroot@'%' IDENTIFIED BY 'djroot';
GRANT ALL PRIVILEGES ON *.* TO djroot@'%' WITH GRANT OPTION;
CREATE USER dj@'%' IDENTIFIED BY 'djpass';
GRANT ALL PRIVILEGES ON `myproject\_%`.* TO dj@'%';
GRANT SELECT ON *.* TO dj@'%';
CREATE USER djed@'%' IDENTIFIED VIA ed25519 USING PASSWORD('edpass');
GRANT ALL PRIVILEGES ON `myproject\_%`.* TO djed@'%';
GRANT SELECT ON *.* TO djed@'%';
CREATE USER djmigrate@'%' IDENTIFIED BY 'migpass';
GRANT ALL PRIVILEGES ON *.* TO djmigrate@'%';
FLUSH PRIVILEGES;
SQL
  fi
  echo "mariadb: running in $dir on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
}

stop() {
  local pid
  # The server removes the file when it exits (on a signal of its own, too).
  pid=$(cat "$dir/pid" 2>/dev/null) || return 0
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case $cmd in
  start) start "${3:-}" ;;
  stop) stop ;;
  sql) as_root -e "${3:?SQL}" ;;
  *) echo "usage: mariadb.sh start|stop|sql DIR [PORT|SQL]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs everything djproxy needs to build, test and benchmark, from Debian 12's
# packages only. Idempotent: when every package is present it changes nothing and
# returns in about a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache clang libclang-rt-14-dev
  libboost1.81-dev libssl-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev
  default-libmysqlclient-dev libgtest-dev libgmock-dev libbenchmark-dev
  mariadb-server mariadb-client mariadb-test python3 python3-pymysql python3-yaml docker-compose
  sysbench haproxy procps php-cli php-mysql python3-mysqldb valgrind strace
  prometheus ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# The client matrix's Node driver (mysql2) comes from npm, pinned by its lock file, into
# tests/clients/node/node_modules only. npm ci runs again only when the lock file is
# newer than what it installed (npm ci writes node_modules/.package-lock.json).
node_clients() {
  local dir
  dir=$(cd "$(dirname "$0")/.." && pwd)/tests/clients/node
  command -v npm >/dev/null || { echo "setup: npm missing; the Node client test will be skipped" >&2; return 0; }
  if [[ -f $dir/node_modules/.package-lock.json && ! $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
    return 0
  fi
  echo "setup: npm ci in tests/clients/node"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
# Debian's nodejs and npm only where the machine has no npm yet (a Node from elsewhere
# ships npm itself, and Debian's npm package would conflict with it).
command -v npm >/dev/null || missing+=(nodejs npm)

if ((${#missing[@]} == 0)); then
  node_clients
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The server package must not start or enable a system service: djproxy's scripts
# and tests start their own throwaway MariaDB instances.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}"
node_clients
echo "setup: done"

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
  sysbench haproxy procps php-cli php-mysql
  prometheus ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
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
echo "setup: done"

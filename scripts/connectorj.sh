#!/usr/bin/env bash
# MariaDB Connector/J in the client matrix, on demand (not part of the test command):
# installs Debian's libmariadb-java and default-jdk-headless if missing, compiles
# tests/clients/java/Session.java, starts a throwaway MariaDB with the integration
# fixtures, and runs the session directly and through djproxy in production (TLS
# terminated by the proxy); exits non-zero on any difference.
#   bash scripts/connectorj.sh            uses build/djproxy
#   DJPROXY_BIN=/path/djproxy bash scripts/connectorj.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jar=/usr/share/java/mariadb-java-client.jar

missing=()
for p in libmariadb-java default-jdk-headless; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || { echo "connectorj: missing ${missing[*]}; run as root" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

bin=${DJPROXY_BIN:-$root/build/djproxy}
[[ -x $bin ]] || { echo "connectorj: no djproxy binary at $bin (build first, or set DJPROXY_BIN)" >&2; exit 1; }

work=$(mktemp -d /tmp/djproxy-connectorj.XXXXXX)
cleanup() {
  "$root/tests/fixtures/it_mariadb.sh" stop "$work/db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

javac -d "$work/classes" -cp "$jar" "$root/tests/clients/java/Session.java"
"$root/tests/fixtures/it_mariadb.sh" start "$work/db"
mkdir -p "$work/logs"
echo "connectorj: libmariadb-java $(dpkg-query -W -f='${Version}' libmariadb-java), $(java -version 2>&1 | head -1)"
cd "$root/tests/clients/java"
DJPROXY_IT_DB_DIR=$work/db DJPROXY_IT_LOG_DIR=$work/logs DJPROXY_IT_PROXY_BIN=$bin DJPROXY_IT_TARGET=both \
  CONNECTORJ_CLASSPATH="$jar:$work/classes" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -m unittest -v connectorj_matrix

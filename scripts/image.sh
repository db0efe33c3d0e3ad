#!/usr/bin/env bash
# Builds the container image from docker/Dockerfile and checks it as a user would;
# exits non-zero on the first check that fails. Not part of the test command (a build
# takes 10-20 minutes on two cores); run it on demand, as root:
#
#   bash scripts/image.sh
#
# Engine: docker when its daemon answers, else podman (installed from Debian's packages
# when missing), building with --isolation=chroot --format docker so that the image
# keeps its HEALTHCHECK. Offline: when the debian:12 base cannot be pulled, it is made
# from Debian's packages with debootstrap (bookworm, minbase) and imported under the
# name the Dockerfile uses. The runtime stage is FROM scratch and needs no base.
#
# The checks, against a throwaway MariaDB on the host's loopback (scripts/mariadb.sh):
# the container runs with the host's network, a read-only root, every capability
# dropped and no new privileges, configured by environment only, holding only the
# migration public key; a worker's SELECT 1 works, CREATE TABLE gets 1142, a token the
# DBA issues with the private key (outside the sidecar) lets the DDL through, the
# sidecar cannot issue one; /healthz, /readyz and the image's own HEALTHCHECK pass;
# SIGTERM exits 0. Prints the image size and the build and stop times.
#
#   DJPROXY_IMAGE (default djproxy:image-check)   tag to build
#   DJPROXY_IMAGE_ENGINE=docker|podman            force an engine
#   DJPROXY_IMAGE_DIR (default .run/image)        scratch space (MariaDB, keys, rootfs)
#   DEBIAN_MIRROR                                 for debootstrap; default: apt's bookworm source
#   DJPROXY_IMAGE_SKIP_BUILD=1                    check an image built before
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tag=${DJPROXY_IMAGE:-djproxy:image-check}
work=${DJPROXY_IMAGE_DIR:-$root/.run/image}
container=djproxy-image-check-$$
db_dir=$work/mariadb
keys=$work/keys
failures=0

say() { printf '\n== %s\n' "$*"; }
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
die() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

engine=
db_started=0
cleanup() {
  trap - INT TERM HUP EXIT
  set +e
  if [[ -n $engine ]]; then
    "$engine" rm -f "$container" >/dev/null 2>&1
  fi
  ((db_started)) && bash scripts/mariadb.sh stop "$db_dir" >/dev/null 2>&1
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages, builds images and starts containers)"

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return
  echo "image: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---- engine ------------------------------------------------------------------------
say "engine"
case ${DJPROXY_IMAGE_ENGINE:-} in
  docker | podman) engine=$DJPROXY_IMAGE_ENGINE ;;
  "")
    if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
      engine=docker
    else
      engine=podman
    fi
    ;;
  *) die "DJPROXY_IMAGE_ENGINE must be docker or podman" ;;
esac
# Every call goes through these: the engine (with the OCI runtime it needs) and, for
# `run`, the flags a sandboxed host needs.
engine_cmd=("$engine")
run_flags=()
if [[ $engine == podman ]]; then
  # runc as well as crun: crun refuses hosts that mount cgroup v1 and v2 side by side.
  install_missing podman crun runc
  if [[ -d /sys/fs/cgroup/unified ]]; then
    engine_cmd+=(--runtime runc)
  fi
  # podman raises RLIMIT_NOFILE/NPROC past the host's hard limits by default, which
  # a root without CAP_SYS_RESOURCE (a sandbox, a CI runner) may not do.
  hard_nofile=$(ulimit -Hn)
  [[ $hard_nofile == unlimited ]] && hard_nofile=1048576
  run_flags+=(--ulimit "nofile=$hard_nofile:$hard_nofile" --ulimit nproc=4096:4096)
fi
# The host side: the throwaway MariaDB and the clients the checks use.
bash scripts/setup.sh >/dev/null
echo "image: $engine ($("$engine" --version))"

# ---- base image --------------------------------------------------------------------
base=$(awk '/^FROM/ && $2 != "scratch" && $2 !~ /^(build|rootfs)$/ {print $2}' docker/Dockerfile | sort -u)
for image in $base; do
  if "$engine" image inspect "$image" >/dev/null 2>&1; then
    echo "image: base $image present"
    continue
  fi
  if timeout 60 "$engine" pull "$image" >/dev/null 2>&1; then
    echo "image: base $image pulled"
    continue
  fi
  [[ $image == debian:12 ]] || die "base image $image: cannot pull it and cannot make it here"
  say "base $image: no registry; making it with debootstrap (bookworm, minbase)"
  install_missing debootstrap
  mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
    'Identifier: Packages' 2>/dev/null | awk '$2 == "bookworm" && $3 == "main" {print $1; exit}')}
  [[ -n $mirror ]] || die "no Debian mirror for bookworm in apt's sources; set DEBIAN_MIRROR"
  rootfs=$work/debian-12-rootfs
  rm -rf "$rootfs"
  mkdir -p "$work"
  started=$(now)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; die "debootstrap failed (log: $work/debootstrap.log)"; }
  # What debootstrap downloaded stays out of the image.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  # Short names resolve to docker.io/library/...: import under that name so FROM finds it.
  tar -C "$rootfs" -c . | "$engine" import - "docker.io/library/$image" >/dev/null
  rm -rf "$rootfs"
  echo "image: base $image made in $(elapsed "$started" "$(now)") s"
done

# ---- build -------------------------------------------------------------------------
if [[ ${DJPROXY_IMAGE_SKIP_BUILD:-0} != 1 ]]; then
  say "build $tag"
  build_args=(build -f docker/Dockerfile -t "$tag")
  [[ $engine == podman ]] && build_args+=(--isolation=chroot --format docker --pull=never)
  started=$(now)
  "$engine" "${build_args[@]}" . >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log"; die "build failed (log: $work/build.log)"; }
  build_seconds=$(elapsed "$started" "$(now)")
  echo "image: built in $build_seconds s (log: $work/build.log)"
fi
size=$("$engine" image inspect --format '{{.Size}}' "$tag")
echo "image: $tag is $((size / 1000 / 1000)) MB ($size bytes)"
((size < 100 * 1000 * 1000)) && pass "image size under 100 MB" || fail "image size $((size / 1000 / 1000)) MB, target under 100 MB"
healthcheck=$("$engine" image inspect --format '{{json .Config.Healthcheck}}' "$tag")
echo "image: HEALTHCHECK $healthcheck"
grep -q '"djproxy","health"' <<<"$healthcheck" && pass "the image carries its HEALTHCHECK (djproxy health)" ||
  fail "the image has no HEALTHCHECK"
run_once() { "${engine_cmd[@]}" run --rm --network none --no-healthcheck "${run_flags[@]}" "$@"; }
out=$(run_once "$tag" --version 2>&1) && pass "the image runs: $out" || fail "the image does not run: $out"
# No shell: a foothold in the sidecar has nothing to run but djproxy.
for shell in /bin/sh /bin/bash /usr/bin/env; do
  if out=$(run_once --entrypoint "$shell" "$tag" -c true 2>&1); then
    fail "the image has $shell"
  elif grep -qiE 'no such file|not found|executable file' <<<"$out"; then
    pass "no $shell in the image"
  else
    fail "running $shell failed for another reason: $out"
  fi
done

# ---- the database and the keys -------------------------------------------------------
say "throwaway MariaDB and the DBA's key pair"
mkdir -p "$work"
bash scripts/mariadb.sh stop "$db_dir" >/dev/null
rm -rf "$db_dir" "$keys"
db_started=1
bash scripts/mariadb.sh start "$db_dir"
db_port=$(cat "$db_dir/port")
bash scripts/mariadb.sh sql "$db_dir" "CREATE DATABASE myproject_image"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)

# The DBA's side: djproxy from the same image, run once with a key directory; the
# private key never enters the sidecar's container.
mkdir -p "$keys"
dba() { run_once --read-only --cap-drop ALL --user 0:0 -v "$keys:/keys" -e DJ_SCHEMA_PREFIX=myproject_ "$tag" "$@"; }
dba token keygen --out /keys/issuer
[[ -s $keys/issuer.key && -s $keys/issuer.pub ]] || die "token keygen wrote no key pair"
# The sidecar runs as uid 10001: the public key is world-readable, as a mounted Secret would be.
chmod 0644 "$keys/issuer.pub"

# ---- the sidecar ---------------------------------------------------------------------
say "start the sidecar (read-only root, no capabilities, environment only)"
run_args=(run "${run_flags[@]}" -d --name "$container" --network host --read-only --cap-drop ALL
  --security-opt no-new-privileges
  -e DJPROXY_ENV=production -e DJ_CREATE_TABLES=false -e DJ_SCHEMA_PREFIX=myproject_
  -e "DJPROXY_BACKEND=127.0.0.1:$db_port" -e "DJPROXY_LISTEN=127.0.0.1:$port"
  -e "DJPROXY_ADMIN_LISTEN=127.0.0.1:$admin" -e DJPROXY_CLIENT_TLS_MODE=off
  -e DJPROXY_MIGRATION_PUBLIC_KEY=/run/secrets/djproxy/issuer.pub
  -v "$keys/issuer.pub:/run/secrets/djproxy/issuer.pub:ro")
# Without systemd, podman cannot schedule the interval checks; the check itself is
# run below with `podman healthcheck run`, as a scheduler would.
[[ $engine == podman ]] && ! pidof systemd >/dev/null && run_args+=(--health-interval=disable)
"${engine_cmd[@]}" "${run_args[@]}" "$tag" >/dev/null
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
"${engine_cmd[@]}" inspect --format 'state: {{.State.Status}}, read-only root: {{.HostConfig.ReadonlyRootfs}}, cap-drop: {{.HostConfig.CapDrop}}' "$container"

client() { mariadb --no-defaults -h 127.0.0.1 -P "$port" -u dj -pdjpass --skip-ssl -N "$@" 2>&1; }

say "a worker's SELECT 1"
out=$(client -e 'SELECT 1') && [[ $out == 1 ]] && pass "SELECT 1 -> $out" || fail "SELECT 1 -> $out"

say "CREATE TABLE outside a migration"
out=$(client -e 'CREATE TABLE myproject_image.mouse (id INT PRIMARY KEY)') || true
echo "$out"
[[ $out == *"ERROR 1142"* ]] && pass "CREATE TABLE refused with 1142" || fail "CREATE TABLE was not refused with 1142"

say "the sidecar, holding only the public key, cannot issue a token"
if out=$("${engine_cmd[@]}" exec "$container" djproxy token issue --schema 'myproject_*' --ttl 5m 2>&1); then
  fail "token issue succeeded inside the sidecar: $out"
else
  echo "$out" | tail -2
  pass "token issue refused inside the sidecar"
fi

say "a token issued by the DBA with the private key"
token=$(dba token issue --schema 'myproject_*' --ttl 15m --note "scripts/image.sh" \
  --private-key /keys/issuer.key | tail -n 1)
echo "token: ${token:0:24}…"
out=$(client -e "SET @djproxy_migration = '$token'; CREATE TABLE myproject_image.mouse (id INT PRIMARY KEY); SET @djproxy_migration = NULL;") &&
  pass "the migration token let CREATE TABLE through" || fail "CREATE TABLE with the token: $out"
out=$(bash scripts/mariadb.sh sql "$db_dir" "SHOW TABLES FROM myproject_image" 2>&1)
[[ $out == *mouse* ]] && pass "the server has myproject_image.mouse" || fail "the table is not on the server: $out"

say "/healthz, /readyz and the image's HEALTHCHECK"
http() { python3 -c 'import sys, urllib.request as u
try:
    r = u.urlopen(sys.argv[1], timeout=5); print(r.status, r.read().decode().strip())
except u.HTTPError as e:
    print(e.code, e.read().decode().strip()); sys.exit(1)' "$1"; }
out=$(http "http://127.0.0.1:$admin/healthz") && pass "/healthz: $out" || fail "/healthz: $out"
out=$(http "http://127.0.0.1:$admin/readyz") && pass "/readyz: $out" || fail "/readyz: $out"
if [[ $engine == podman ]]; then
  if out=$("${engine_cmd[@]}" healthcheck run "$container" 2>&1); then
    pass "podman healthcheck run: ${out:-healthy}"
  else
    fail "podman healthcheck run: $out"
  fi
else
  status=
  for _ in $(seq 1 60); do
    status=$(docker inspect --format '{{.State.Health.Status}}' "$container")
    [[ $status == healthy ]] && break
    sleep 1
  done
  [[ $status == healthy ]] && pass "docker health status: healthy" || fail "docker health status: $status"
fi

say "SIGTERM"
started=$(now)
"${engine_cmd[@]}" kill --signal TERM "$container" >/dev/null
code=$("${engine_cmd[@]}" wait "$container")
stop_seconds=$(elapsed "$started" "$(now)")
[[ $code == 0 ]] && pass "exit code 0 after SIGTERM, in $stop_seconds s" || fail "exit code $code after SIGTERM ($stop_seconds s)"
"${engine_cmd[@]}" logs "$container" 2>&1 | tail -3

say "summary"
echo "engine:      $engine"
echo "image:       $tag, $((size / 1000 / 1000)) MB ($size bytes)"
[[ -n ${build_seconds:-} ]] && echo "build time:  $build_seconds s"
echo "SIGTERM:     exit $code in $stop_seconds s"
if ((failures)); then
  echo "image: $failures check(s) failed"
  exit 1
fi
echo "image: every check passed"

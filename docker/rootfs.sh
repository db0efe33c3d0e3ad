#!/usr/bin/env bash
# The runtime image's whole filesystem, collected in the build stage: djproxy, the
# shared libraries that it and the MariaDB client plugins load, the CA bundle, and
# passwd/group entries for uid 10001. No shell, no package manager, no coreutils: a
# foothold in the sidecar gets nothing to run but djproxy.
#
#   docker/rootfs.sh BINARY DEST
#
# The libraries come from `ldd` of what is copied, so the list follows the binary
# (a new dependency needs no edit here); a library ldd cannot find fails the build.
set -euo pipefail

bin=${1:?usage: rootfs.sh BINARY DEST}
dest=${2:?usage: rootfs.sh BINARY DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# Debian 12 merges /usr: /lib and /lib64 are links into /usr, and the binaries name
# their loader as /lib64/... So the image keeps the same links.
for link in /lib /lib32 /lib64 /libx32; do
  [[ -L $link ]] && ln -sfn "$(readlink "$link")" "$dest$link"
done

# A file goes where its directory really is (/lib/x/libc.so.6 -> /usr/lib/x/libc.so.6),
# as a regular file under the name it was asked for (the soname the loader looks up).
copy_file() {
  local src=$1 dir
  dir=$(readlink -f "$(dirname "$src")")
  mkdir -p "$dest$dir"
  [[ -e $dest$dir/$(basename "$src") ]] || cp -L "$src" "$dest$dir/$(basename "$src")"
}

libraries_of() {
  local file=$1 out
  out=$(ldd "$file") || { echo "rootfs: ldd $file failed" >&2; exit 1; }
  if grep -q 'not found' <<<"$out"; then
    echo "rootfs: $file needs a library that is not installed:" >&2
    grep 'not found' <<<"$out" >&2
    exit 1
  fi
  # "libssl.so.3 => /lib/x/libssl.so.3 (0x…)" and the loader's own "/lib64/ld-linux….so.2 (0x…)"
  while read -r path; do
    copy_file "$path"
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out")
}

mkdir -p "$dest/usr/local/bin"
cp "$bin" "$dest/usr/local/bin/djproxy"
# Symbols only serve a debugger, which the image does not have.
strip --strip-unneeded "$dest/usr/local/bin/djproxy" 2>/dev/null || true
libraries_of "$dest/usr/local/bin/djproxy"

# The client authentication plugins libmariadb loads for `djproxy check --connect`
# (caching_sha2_password, client_ed25519, …): Debian builds libmariadb3 to look in
# libmariadb3/plugin beside it.
libmariadb=$(ldd "$bin" | awk '$1 ~ /^libmariadb\.so/ {print $3}')
if [[ -n $libmariadb ]]; then
  plugins=$(readlink -f "$(dirname "$libmariadb")")/libmariadb3/plugin
  if [[ -d $plugins ]]; then
    for plugin in "$plugins"/*.so; do
      copy_file "$plugin"
      libraries_of "$plugin"
    done
  fi
fi

# backend_tls.mode=verify-ca/verify-identity without backend_tls.ca trust the system
# store: OpenSSL's default file and directory (OPENSSLDIR is /usr/lib/ssl on Debian).
bundle=/etc/ssl/certs/ca-certificates.crt
[[ -f $bundle ]] || { echo "rootfs: $bundle missing (install ca-certificates)" >&2; exit 1; }
mkdir -p "$dest/etc/ssl/certs" "$dest/usr/lib/ssl"
cp "$bundle" "$dest/etc/ssl/certs/ca-certificates.crt"
ln -sfn /etc/ssl/certs/ca-certificates.crt "$dest/usr/lib/ssl/cert.pem"
ln -sfn /etc/ssl/certs "$dest/usr/lib/ssl/certs"

# Names for the numeric ids (ps, audit tools, getpwuid); hosts from /etc/hosts, then DNS.
mkdir -p "$dest/etc/djproxy"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ndjproxy:x:10001:10001:djproxy:/nonexistent:/usr/sbin/nologin\n' \
  >"$dest/etc/passwd"
printf 'root:x:0:\ndjproxy:x:10001:\n' >"$dest/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$dest/etc/nsswitch.conf"

echo "rootfs: $(find "$dest" -type f | wc -l) files, $(du -sk "$dest" | cut -f1) KiB in $dest"

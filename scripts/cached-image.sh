#!/usr/bin/env bash
# Builds the edgesplit image with scripts/build-image.sh only when its inputs changed, and prints the path of the
# OCI archive. The key hashes everything the image is made of: the build script, package.json/lock and .npmrc,
# bin/, protos/, models/, src/ (compiled into dist/ by the build), scripts/build.mjs, tsconfig*.json,
# scripts/node-runtime.sh (the Node 24 pin) and the node binary that is copied in (its version and sha256), and the
# versions of the host's node and npm that run `npm ci` and the build. The real-node tests
# (test/k8s/real-node.test.ts) and .ci/run call it.
#
#   scripts/cached-image.sh            # prints e.g. ~/.cache/edgesplit/image/edgesplit-1a2b3c4d5e6f.oci.tar
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/edgesplit/image"
mkdir -p "$CACHE"
cd "$ROOT"
# The node the image ships (build-image.sh's default): fetched and checked here first, so the key names it.
shipped_node="$(bash scripts/node-runtime.sh)"
key=$( {
  find scripts/build-image.sh scripts/build.mjs scripts/node-runtime.sh package.json package-lock.json .npmrc \
    tsconfig.json tsconfig.build.json bin protos models src -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
    sort -z | xargs -0 sha256sum
  echo "shipped node $("$shipped_node" --version)"
  sha256sum "$shipped_node"
  echo "host node $(node --version), npm $(npm --version 2>/dev/null)"
} | sha256sum | cut -c1-12)
out="$CACHE/edgesplit-$key.oci.tar"
if [ ! -s "$out" ]; then
  tmp="$(mktemp -d "$CACHE/build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  bash scripts/build-image.sh --out "$tmp" >&2
  mv "$tmp/edgesplit-image.oci.tar" "$out"
  # Older keys are stale images of earlier sources: keep only this one.
  find "$CACHE" -maxdepth 1 -name 'edgesplit-*.oci.tar' ! -name "edgesplit-$key.oci.tar" -delete
fi
echo "$out"

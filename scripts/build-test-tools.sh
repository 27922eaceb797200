#!/usr/bin/env bash
# Builds the real test infrastructure (docs/design.md section 6) once into a cache
# folder outside the clone and reuses it on later runs.
#
#   scripts/build-test-tools.sh                 # everything
#   scripts/build-test-tools.sh kube kwok       # a subset
#
# Tools: kube (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl), etcd, kwok, helm, jaeger, grpcurl. "kube" also builds etcd, since
# a control plane is useless without it. For real nodes (test/k8s/harness/node.ts):
# node (kubelet, kube-proxy from the same kubernetes pin), coredns (a minimal
# plugin set), pause (the sandbox image, share/images/pause.oci.tar; needs umoci).
# Output: $EDGESPLIT_TOOLS (default ~/.cache/edgesplit/tools)/bin, build logs in
# logs/, one stamp per tool in stamps/ holding the pinned version it was built
# from (a tool is rebuilt only when its stamp or a binary is missing/different).
set -euo pipefail

K8S_VERSION=v1.37.2
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
# Jaeger's Go module carries the v1 tag; v1.76.0 is the same commit as Jaeger v2.13.0.
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_VERSION=v2.13.0
GRPCURL_VERSION=v1.9.4
# Cluster DNS for real test nodes (its client-go is v0.37, like the control plane).
COREDNS_VERSION=v1.15.0
# The pause image is built here from a few lines of Go (no registry can be reached); bump to rebuild.
PAUSE_IMAGE=edgesplit.local/pause:1

DIR=${EDGESPLIT_TOOLS:-$HOME/.cache/edgesplit/tools}
BIN=$DIR/bin
mkdir -p "$BIN" "$DIR/stamps" "$DIR/logs" "$DIR/work"

export CGO_ENABLED=0
# No toolchain downloads: the machine's Go must be new enough (all pins need <= go1.26).
export GOTOOLCHAIN=local

NICE=(nice -n 10)
log() { printf '[build-test-tools] %s\n' "$*" >&2; }

# Module's go.mod file from the module proxy (downloaded into GOMODCACHE).
gomod_of() {
  (cd "$DIR/work" && go mod download -json "$1" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
}

up_to_date() { # tool stamp outputs... (paths relative to $DIR)
  local tool=$1 stamp=$2; shift 2
  [[ -f $DIR/stamps/$tool && $(cat "$DIR/stamps/$tool") == "$stamp" ]] || return 1
  local f; for f in "$@"; do [[ -s $DIR/$f ]] || return 1; done
}

# Writes a wrapper module in $DIR/work/$1 requiring $2@$3; extra go.mod lines on stdin.
wrapper_module() {
  local dir=$DIR/work/$1 mod=$2 ver=$3 gomod goline
  gomod=$(gomod_of "$mod@$ver")
  goline=$(awk '$1 == "go" { print $2; exit }' "$gomod")
  rm -rf "$dir" && mkdir -p "$dir"
  {
    printf 'module edgesplit.local/tools/%s\n\ngo %s\n\nrequire %s %s\n' "$1" "$goline" "$mod" "$ver"
    cat
  } >"$dir/go.mod"
}

# The kubernetes module's staging requires, mapped to published versions (see build_kube); $1 = wrapper dir name.
kube_wrapper() {
  local gomod staging
  gomod=$(gomod_of "k8s.io/kubernetes@$K8S_VERSION")
  # Staging modules are required at v0.0.0 and replaced by ./staging paths,
  # which only apply inside the kubernetes repo: map each to its published v0.X.Y.
  staging=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u)
  [[ -n $staging ]] || { log "no staging modules found in $gomod"; return 1; }
  for m in $staging; do
    printf 'replace %s => %s v0%s\n' "$m" "$m" "${K8S_VERSION#v1}"
  done | wrapper_module "$1" k8s.io/kubernetes "$K8S_VERSION"
}

kube_ldflags() {
  local minor x="" p
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    x+=" -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "-s -w$x"
}

# A real node's pieces from the same pin as the control plane: kubelet and kube-proxy.
build_node() {
  kube_wrapper node
  (cd "$DIR/work/node" && GOFLAGS="$GOFLAGS -mod=mod" "${NICE[@]}" go build -trimpath \
    -ldflags "$(kube_ldflags)" -o "$BIN/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
}

build_kube() {
  kube_wrapper kube
  (cd "$DIR/work/kube" && GOFLAGS="$GOFLAGS -mod=mod" "${NICE[@]}" go build -trimpath \
    -ldflags "$(kube_ldflags)" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

etcd_version() {
  awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$(gomod_of "k8s.io/kubernetes@$K8S_VERSION")"
}

build_etcd() {
  # etcd's go.mod has local replaces, so `go install @version` refuses it; its
  # requires already name the matching released modules, so a plain wrapper works.
  wrapper_module etcd go.etcd.io/etcd/server/v3 "$1" </dev/null
  (cd "$DIR/work/etcd" && GOFLAGS="$GOFLAGS -mod=mod" "${NICE[@]}" go build -trimpath \
    -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
}

build_jaeger() {
  # Jaeger's go.mod has a replace (sarama), which `go install @version` refuses: copy it.
  local gomod
  gomod=$(gomod_of "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION")
  awk '/^replace .*=> [^.\/]/ { print }' "$gomod" |
    wrapper_module jaeger github.com/jaegertracing/jaeger "$JAEGER_MODULE_VERSION"
  local p=github.com/jaegertracing/jaeger/internal/version
  (cd "$DIR/work/jaeger" && GOFLAGS="$GOFLAGS -mod=mod" "${NICE[@]}" go build -trimpath \
    -ldflags "-s -w -X $p.latestVersion=$JAEGER_VERSION -X $p.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -o "$BIN/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
}

# CoreDNS with only the plugins a test cluster needs (the full set pulls in every cloud SDK): answer
# cluster.local from the API, on one address (bind), health and readiness endpoints, a cache. Order is CoreDNS' plugin.cfg order.
build_coredns() {
  wrapper_module coredns github.com/coredns/coredns "$COREDNS_VERSION" </dev/null
  cat >"$DIR/work/coredns/main.go" <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	dnsserver.Directives = []string{"bind", "ready", "health", "errors", "cache", "kubernetes"}
}

func main() { coremain.Run() }
GO
  (cd "$DIR/work/coredns" && GOFLAGS="$GOFLAGS -mod=mod" "${NICE[@]}" go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o "$BIN/coredns" .)
}

# The sandbox ("pause") image every pod needs, as an OCI archive for `ctr images import`: one static
# binary that sleeps until SIGTERM/SIGINT and reaps orphans (it is PID 1 of the pod's namespaces).
build_pause() {
  command -v umoci >/dev/null || { log "pause needs umoci (apt-get install umoci)"; return 1; }
  local w=$DIR/work/pause
  rm -rf "$w" && mkdir -p "$w/src" "$w/root"
  cat >"$w/src/go.mod" <<'MOD'
module edgesplit.local/pause

go 1.22
MOD
  cat >"$w/src/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
GO
  (cd "$w/src" && "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$w/root/pause" .)
  local ref=$w/oci:${PAUSE_IMAGE##*:}
  umoci init --layout "$w/oci"
  umoci new --image "$ref"
  umoci config --image "$ref" --os linux --architecture "$(go env GOARCH)"
  umoci insert --image "$ref" "$w/root" /
  umoci config --image "$ref" --config.entrypoint /pause --config.user 65535:65535
  umoci gc --layout "$w/oci"
  node -e '
    const fs = require("fs"); const [file, full] = process.argv.slice(1);
    const idx = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const m of idx.manifests) (m.annotations ??= {})["io.containerd.image.name"] = full;
    fs.writeFileSync(file, JSON.stringify(idx));
  ' "$w/oci/index.json" "$PAUSE_IMAGE"
  mkdir -p "$DIR/share/images"
  tar -C "$w/oci" --numeric-owner --owner=0 --group=0 -cf "$DIR/share/images/pause.oci.tar" oci-layout index.json blobs
}

go_install() { # pkg@version [extra ldflags]
  GOBIN=$BIN "${NICE[@]}" go install -trimpath -ldflags "-s -w ${2:-}" "$1"
}

build_helm() {
  # As helm's Makefile does: without these, `helm version` says v3.22 and
  # charts render against a default Kubernetes v1.20 instead of its client-go's.
  local minor x
  minor=$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' \
    "$(gomod_of "helm.sh/helm/v3@$HELM_VERSION")")
  [[ -n $minor ]] || return 1
  x="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  x+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  x+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  go_install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "$x"
}

build_kwok() {
  go_install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The kwok controller alone has no built-in stages (kwokctl normally writes
  # them): ship the upstream "fast" set of this same version for --config.
  local src
  src=$(cd "$DIR/work" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p')/kustomize/stage
  mkdir -p "$DIR/share/kwok"
  local f first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ $first == 1 ]] || echo '---'
    first=0
    cat "$src/$f"
  done >"$DIR/share/kwok/stages.yaml"
}

FAILED=()
run_tool() { # tool stamp "outputs relative to \$DIR" command...
  local tool=$1 stamp=$2 outs=$3; shift 3
  # shellcheck disable=SC2086
  if up_to_date "$tool" "$stamp" $outs; then
    printf '%-8s %-45s cached\n' "$tool" "$stamp"
    return 0
  fi
  local t0=$SECONDS logf=$DIR/logs/$tool.log
  rm -f "$DIR/stamps/$tool"
  # A subshell outside any `if` keeps errexit active inside the build function.
  local rc=0
  set +e
  ("$@") >"$logf" 2>&1
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    echo "$stamp" >"$DIR/stamps/$tool"
    printf '%-8s %-45s built in %ds\n' "$tool" "$stamp" $((SECONDS - t0))
  else
    printf '%-8s %-45s FAILED after %ds (log: %s)\n' "$tool" "$stamp" $((SECONDS - t0)) "$logf"
    tail -n 30 "$logf" | sed "s/^/  $tool| /" >&2
    FAILED+=("$tool")
  fi
}

ALL=(kube etcd kwok helm jaeger grpcurl node coredns pause)
WANT=("$@")
[[ ${#WANT[@]} -gt 0 ]] || WANT=("${ALL[@]}")
for t in "${WANT[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || { log "unknown tool '$t' (known: ${ALL[*]})"; exit 2; }
done
want() { [[ " ${WANT[*]} " == *" $1 "* ]]; }

GOFLAGS=${GOFLAGS:-$(go env GOFLAGS)}
export GOFLAGS
log "tools dir: $DIR ($(go version | awk '{print $3}'))"
T0=$SECONDS

if want kube; then
  run_tool kube "k8s.io/kubernetes@$K8S_VERSION" \
    "bin/kube-apiserver bin/kube-controller-manager bin/kube-scheduler bin/kubectl" build_kube
fi
if want kube || want etcd; then
  if ETCD_VERSION=$(etcd_version) && [[ -n $ETCD_VERSION ]]; then
    run_tool etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" bin/etcd build_etcd "$ETCD_VERSION"
  else
    printf '%-8s FAILED: cannot read the etcd version from k8s.io/kubernetes@%s go.mod\n' etcd "$K8S_VERSION"
    FAILED+=(etcd)
  fi
fi
want kwok && run_tool kwok "sigs.k8s.io/kwok@$KWOK_VERSION" "bin/kwok share/kwok/stages.yaml" build_kwok
want node && run_tool node "k8s.io/kubernetes@$K8S_VERSION" "bin/kubelet bin/kube-proxy" build_node
want coredns && run_tool coredns "github.com/coredns/coredns@$COREDNS_VERSION+bind,ready,health,errors,cache,kubernetes" bin/coredns build_coredns
want pause && run_tool pause "$PAUSE_IMAGE" share/images/pause.oci.tar build_pause
want helm && run_tool helm "helm.sh/helm/v3@$HELM_VERSION" bin/helm build_helm
want jaeger && run_tool jaeger "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" bin/jaeger build_jaeger
want grpcurl && run_tool grpcurl "github.com/fullstorydev/grpcurl@$GRPCURL_VERSION" bin/grpcurl \
  go_install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" "-X main.version=$GRPCURL_VERSION"

printf 'total    %ds\n' $((SECONDS - T0))
if [[ ${#FAILED[@]} -gt 0 ]]; then
  log "FAILED: ${FAILED[*]}"
  exit 1
fi

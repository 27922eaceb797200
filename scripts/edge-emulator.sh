#!/usr/bin/env bash
# edge-emulator.sh: an emulated edge cluster on one Linux machine (run as root).
#
#   one network namespace per device   <prefix>-dev0 .. <prefix>-dev{N-1}, address 10.77.0.(10+i)/24 on eth0
#   one namespace for router + client  <prefix>-ctl, address 10.77.0.2/24 on eth0
#   one "hub" namespace holding the bridge that joins them (<prefix>-hub); nothing touches the host's interfaces
#   tbf bandwidth shaping on both ends of every link (device egress on eth0, device ingress on the hub's port),
#     so a transfer between two devices runs at min(rate of both ends), the planner's link model
#   one cgroup per device with a CPU quota (cgroup v2 cpu.max or v1 cpu.cfs_quota_us), so a device
#     computes like a single-board computer (e.g. 0.25 of a core)
#
# This kernel family often lacks sch_netem, so link *latency* is not emulated: the cluster file records the
# measured (sub-millisecond) veth latency and the planner's model carries any latency you want to study.
#
# Commands:
#   check                                  verify root, ip, tc, veth, bridge, tbf, cgroup cpu controller
#   up   [--devices N] [--mbps M] [--cpu F] [--router-mbps M] [--period-us U]
#                                          create the cluster (prints the env file path)
#   set-bandwidth --mbps M [--router-mbps M]   re-shape every link in place
#   set-link NODE --mbps M [--burst B]     re-shape one device's (or ctl's) link, both ends, in place; --burst
#                                          in bytes (default as everywhere: 5 ms at the rate, >= 32 KiB)
#   exec NODE -- CMD...                    run CMD in NODE's namespace (dev<i>|ctl); devices also in their cgroup
#   spawn NODE LOGFILE -- CMD...           like exec, in the background; prints the pid
#   addr NODE                              print NODE's address
#   counters                               "node tx_bytes rx_bytes" per node (eth0 inside each namespace)
#   iperf FROM TO [--bytes B]              timed TCP transfer FROM -> TO, prints JSON {bytes, seconds, mbps, rttMs}
#   measure --out FILE [--package DIR]... [--service-package DIR] [--service-n N]
#                                          per-device GFLOPS/per-call overhead (timed ONNX units inside the quota),
#                                          per-message and per-MB exchange CPU (real push path, both ends inside the
#                                          quota), per-request overhead (a no-exchange package's partitions answering
#                                          Runs from ctl; the router's own cost from a real router in front of them),
#                                          link latency; writes the planner's cluster YAML
#   down                                   remove this prefix's cluster
#   cleanup [--all]                        remove leftovers of this prefix (or of every esemu* prefix)
#   run [up options] -- CMD...             up, run CMD with ES_* variables exported, then down (also on INT/TERM)
#
# Every command takes --prefix P (default: $ES_PREFIX or "esemu"); names are "<prefix>-..." so cleanup
# finds exactly what this script made. State lives in /run/edgesplit-emulator/<prefix>.env.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${ES_PREFIX:-esemu}"
STATE_DIR=/run/edgesplit-emulator
SUBNET=10.77.0
CTL_IP="$SUBNET.2"

die() { echo "edge-emulator: $*" >&2; exit 1; }
log() { [ -n "${ES_QUIET:-}" ] || echo "edge-emulator: $*" >&2; }

dev_ip() { echo "$SUBNET.$((10 + $1))"; }
ns_of() { echo "$PREFIX-$1"; }

# ---------------------------------------------------------------- feature checks

CG_VERSION=""
CG_ROOT=""
detect_cgroup() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    CG_VERSION=2; CG_ROOT=/sys/fs/cgroup
  elif [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    CG_VERSION=1; CG_ROOT=/sys/fs/cgroup/cpu
  elif [ -f /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us ]; then
    CG_VERSION=1; CG_ROOT=/sys/fs/cgroup/cpu,cpuacct
  else
    CG_VERSION=""; CG_ROOT=""
  fi
}

check() {
  local missing=()
  [ "$(id -u)" = 0 ] || missing+=("root (run as root: network namespaces, tc and cgroups need it)")
  command -v ip >/dev/null || missing+=("the 'ip' command (iproute2)")
  command -v tc >/dev/null || missing+=("the 'tc' command (iproute2)")
  command -v node >/dev/null || missing+=("node (for the transfer test and the GFLOPS measurement)")
  detect_cgroup
  [ -n "$CG_VERSION" ] || missing+=("a cgroup cpu controller (cgroup v2 with 'cpu' in /sys/fs/cgroup/cgroup.controllers, or v1 at /sys/fs/cgroup/cpu)")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'edge-emulator: missing: %s\n' "${missing[@]}" >&2
    return 1
  fi
  # Kernel features, tried in a throw-away namespace that is removed whatever happens.
  local t="$PREFIX-check$$" err=""
  ip netns add "$t" 2>/dev/null || die "missing: network namespaces (ip netns add failed)"
  ip -n "$t" link set lo up
  ip -n "$t" link add vt0 type veth peer name vt1 2>/dev/null || err="veth (kernel module veth)"
  if [ -z "$err" ]; then ip -n "$t" link add bt0 type bridge 2>/dev/null || err="bridge (kernel module bridge)"; fi
  if [ -z "$err" ]; then ip -n "$t" link set vt0 up; tc -n "$t" qdisc add dev vt0 root tbf rate 10mbit burst 32kb latency 100ms 2>/dev/null || err="the tbf qdisc (kernel module sch_tbf)"; fi
  ip netns del "$t" 2>/dev/null || true
  [ -z "$err" ] || die "missing: $err"
  local cg="$CG_ROOT/$PREFIX-check$$"
  if [ "$CG_VERSION" = 2 ]; then
    grep -qw cpu "$CG_ROOT/cgroup.subtree_control" || echo +cpu > "$CG_ROOT/cgroup.subtree_control" 2>/dev/null \
      || die "missing: cannot enable the cpu controller in $CG_ROOT/cgroup.subtree_control"
  fi
  mkdir "$cg" 2>/dev/null || die "missing: cannot create a cgroup under $CG_ROOT"
  if [ "$CG_VERSION" = 2 ]; then
    echo "25000 100000" > "$cg/cpu.max" 2>/dev/null || err="cpu.max in a child cgroup"
  else
    echo 25000 > "$cg/cpu.cfs_quota_us" 2>/dev/null || err="cpu.cfs_quota_us in a child cgroup"
  fi
  rmdir "$cg" 2>/dev/null || true
  [ -z "$err" ] || die "missing: $err"
  log "ok: root, ip, tc, veth, bridge, tbf, cgroup v$CG_VERSION cpu quota ($CG_ROOT); netem not needed (latency lives in the planner model)"
}

# ---------------------------------------------------------------- state

state_file() { echo "$STATE_DIR/$PREFIX.env"; }
load_state() {
  [ -f "$(state_file)" ] || die "no emulated cluster with prefix '$PREFIX' (run: $0 up --prefix $PREFIX)"
  # shellcheck disable=SC1090
  . "$(state_file)"
}

cg_dir() { echo "$ES_CG_ROOT/$PREFIX-$1"; }

# ---------------------------------------------------------------- shaping

burst_bytes() { # 5 ms at the rate, at least 32 KiB (must cover one jiffy's tokens)
  local b=$(( $1 * 1000000 / 8 / 200 )); [ "$b" -ge 32768 ] || b=32768; echo "$b"
}
shape() { # ns dev mbps [burst bytes]
  local ns=$1 dev=$2 mbps=$3 burst=${4:-}
  [ -n "$burst" ] || burst=$(burst_bytes "$mbps")
  tc -n "$ns" qdisc replace dev "$dev" root tbf rate "${mbps}mbit" burst "$burst" latency 400ms
}
shape_all() { # device mbps, router mbps
  local mbps=$1 rmbps=$2 i
  for ((i = 0; i < ES_DEVICES; i++)); do
    shape "$(ns_of dev$i)" eth0 "$mbps"
    shape "$(ns_of hub)" "p-dev$i" "$mbps"
  done
  shape "$(ns_of ctl)" eth0 "$rmbps"
  shape "$(ns_of hub)" p-ctl "$rmbps"
}

# ---------------------------------------------------------------- up / down

valid_num() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; }

up() {
  local devices=4 mbps=100 cpu=0.25 rmbps="" period=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --devices) devices=$2; shift 2 ;;
      --mbps) mbps=$2; shift 2 ;;
      --cpu) cpu=$2; shift 2 ;;
      --router-mbps) rmbps=$2; shift 2 ;;
      --period-us) period=$2; shift 2 ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  [ -n "$rmbps" ] || rmbps=$mbps
  valid_num "$cpu" || die "up: --cpu must be a fraction of a core such as 0.25, got '$cpu'"
  # Default period: the kernel's smallest quota (1 ms) per period, so throttling is as fine-grained as it gets
  # and short units cannot run a whole 100 ms period at full speed.
  [ -n "$period" ] || period=$(awk -v c="$cpu" 'BEGIN { p = int(1000 / c + 0.5); if (p < 1000) p = 1000; if (p > 100000) p = 100000; print p }')
  [[ "$devices" =~ ^[0-9]+$ ]] && [ "$devices" -ge 1 ] && [ "$devices" -le 32 ] || die "up: --devices must be 1..32, got '$devices'"
  [[ "$mbps" =~ ^[0-9]+$ ]] && [ "$mbps" -ge 1 ] && [ "$mbps" -le 100000 ] || die "up: --mbps must be an integer 1..100000, got '$mbps'"
  [[ "$rmbps" =~ ^[0-9]+$ ]] && [ "$rmbps" -ge 1 ] && [ "$rmbps" -le 100000 ] || die "up: --router-mbps must be an integer 1..100000, got '$rmbps'"
  valid_num "$cpu" || die "up: --cpu must be a fraction of a core such as 0.25, got '$cpu'"
  [[ "$period" =~ ^[0-9]+$ ]] && [ "$period" -ge 1000 ] && [ "$period" -le 1000000 ] || die "up: --period-us must be 1000..1000000, got '$period'"
  local quota; quota=$(awk -v c="$cpu" -v p="$period" 'BEGIN { q = int(c * p + 0.5); print q }')
  [ "$quota" -ge 1000 ] || die "up: --cpu $cpu gives a quota of ${quota}us per ${period}us period; the kernel's minimum is 1000us (raise --period-us)"
  check
  [ ! -f "$(state_file)" ] || die "a cluster with prefix '$PREFIX' exists already (run: $0 down --prefix $PREFIX)"
  [ -z "$(ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true)" ] || die "namespaces '$PREFIX-*' exist already (run: $0 cleanup --prefix $PREFIX)"

  trap 'echo "edge-emulator: up failed; removing what it made" >&2; cleanup_prefix' ERR INT TERM
  mkdir -p "$STATE_DIR"
  {
    echo "ES_PREFIX=$PREFIX"; echo "ES_DEVICES=$devices"; echo "ES_MBPS=$mbps"; echo "ES_ROUTER_MBPS=$rmbps"
    echo "ES_CPU=$cpu"; echo "ES_PERIOD_US=$period"; echo "ES_QUOTA_US=$quota"
    echo "ES_CG_VERSION=$CG_VERSION"; echo "ES_CG_ROOT=$CG_ROOT"; echo "ES_CTL_IP=$CTL_IP"
    local i ips=(); for ((i = 0; i < devices; i++)); do ips+=("$(dev_ip $i)"); done
    echo "ES_DEVICE_IPS=$(IFS=,; echo "${ips[*]}")"
  } > "$(state_file)"
  . "$(state_file)"

  local hub; hub=$(ns_of hub)
  ip netns add "$hub"
  ip -n "$hub" link set lo up
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  attach() { # node ip
    local ns; ns=$(ns_of "$1")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$hub" link add "p-$1" type veth peer name eth0 netns "$ns"
    ip -n "$hub" link set "p-$1" master br0 up
    ip -n "$ns" addr add "$2/24" dev eth0
    ip -n "$ns" link set eth0 up
  }
  attach ctl "$CTL_IP"
  for ((i = 0; i < devices; i++)); do attach "dev$i" "$(dev_ip $i)"; done
  shape_all "$mbps" "$rmbps"

  if [ "$CG_VERSION" = 2 ]; then grep -qw cpu "$CG_ROOT/cgroup.subtree_control" || echo +cpu > "$CG_ROOT/cgroup.subtree_control"; fi
  for ((i = 0; i < devices; i++)); do
    local cg; cg=$(cg_dir "dev$i")
    mkdir "$cg"
    if [ "$CG_VERSION" = 2 ]; then echo "$quota $period" > "$cg/cpu.max"
    else echo "$period" > "$cg/cpu.cfs_period_us"; echo "$quota" > "$cg/cpu.cfs_quota_us"; fi
  done
  trap - ERR INT TERM
  log "up: $devices devices at $mbps Mbit/s, ${cpu} core each (${quota}us/${period}us, cgroup v$CG_VERSION), router link $rmbps Mbit/s; prefix $PREFIX"
  state_file
}

set_bandwidth() {
  local mbps="" rmbps=""
  while [ $# -gt 0 ]; do
    case "$1" in --mbps) mbps=$2; shift 2 ;; --router-mbps) rmbps=$2; shift 2 ;; *) die "set-bandwidth: unknown option '$1'" ;; esac
  done
  [[ "$mbps" =~ ^[0-9]+$ ]] && [ "$mbps" -ge 1 ] || die "set-bandwidth: --mbps must be a positive integer, got '$mbps'"
  [ -n "$rmbps" ] || rmbps=$mbps
  [[ "$rmbps" =~ ^[0-9]+$ ]] && [ "$rmbps" -ge 1 ] || die "set-bandwidth: --router-mbps must be a positive integer, got '$rmbps'"
  load_state
  shape_all "$mbps" "$rmbps"
  sed -i -e "s/^ES_MBPS=.*/ES_MBPS=$mbps/" -e "s/^ES_ROUTER_MBPS=.*/ES_ROUTER_MBPS=$rmbps/" "$(state_file)"
  log "links now $mbps Mbit/s (router $rmbps Mbit/s)"
}

set_link() {
  local node=${1:-} mbps="" burst=""
  shift || true
  while [ $# -gt 0 ]; do
    case "$1" in --mbps) mbps=$2; shift 2 ;; --burst) burst=$2; shift 2 ;; *) die "set-link: unknown option '$1'" ;; esac
  done
  [ -z "$burst" ] || { [[ "$burst" =~ ^[0-9]+$ ]] && [ "$burst" -ge 1600 ]; } || die "set-link: --burst must be an integer >= 1600 bytes, got '$burst'"
  [[ "$node" =~ ^(dev[0-9]+|ctl)$ ]] || die "set-link: NODE must be devN or ctl, got '$node'"
  [[ "$mbps" =~ ^[0-9]+$ ]] && [ "$mbps" -ge 1 ] || die "set-link: --mbps must be a positive integer, got '$mbps'"
  load_state
  ip netns list | awk '{print $1}' | grep -qx "$(ns_of "$node")" || die "set-link: no node $node under prefix $PREFIX"
  shape "$(ns_of "$node")" eth0 "$mbps" "$burst"
  shape "$(ns_of hub)" "p-$node" "$mbps" "$burst"
  log "link of $node now $mbps Mbit/s${burst:+ (burst $burst B)}"
}

kill_pids() { # pids...: TERM, wait up to 3 s, then KILL (only processes inside our namespaces/cgroups)
  local p left
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 30); do
    left=""; for p in "$@"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ -n "$left" ] || return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
}

cleanup_prefix() { # removes every namespace, cgroup and state file named $PREFIX-*; safe to run twice
  local ns cg pids=()
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do
    pids+=($(ip netns pids "$ns" 2>/dev/null || true))
  done
  detect_cgroup
  if [ -n "$CG_ROOT" ]; then
    for cg in "$CG_ROOT/$PREFIX"-*; do
      [ -d "$cg" ] || continue
      pids+=($(cat "$cg/cgroup.procs" 2>/dev/null || true))
    done
  fi
  # shellcheck disable=SC2207
  [ ${#pids[@]} -eq 0 ] || kill_pids $(printf '%s\n' "${pids[@]}" | sort -u)
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ -n "$CG_ROOT" ]; then
    for cg in "$CG_ROOT/$PREFIX"-*; do [ -d "$cg" ] && { rmdir "$cg" 2>/dev/null || sleep 0.2; rmdir "$cg" 2>/dev/null || true; }; done
  fi
  rm -f "$STATE_DIR/$PREFIX.env"
}

cleanup() {
  if [ "${1:-}" = --all ]; then
    local p
    for p in $( { ip netns list 2>/dev/null | awk '{print $1}'; detect_cgroup; [ -z "$CG_ROOT" ] || ls "$CG_ROOT"; ls "$STATE_DIR" 2>/dev/null; } \
        | grep -oE '^esemu[A-Za-z0-9_]*' | sort -u); do
      PREFIX=$p cleanup_prefix
    done
  else
    cleanup_prefix
  fi
  log "cleaned up"
}

# ---------------------------------------------------------------- running things inside

node_check() { # node name -> validates against the state
  case "$1" in
    ctl) ;;
    dev[0-9]*) local i=${1#dev}; [[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -lt "$ES_DEVICES" ] || die "no device '$1' (devices: dev0..dev$((ES_DEVICES - 1)))" ;;
    *) die "unknown node '$1' (dev<i> or ctl)" ;;
  esac
}

exec_in() { # node -- cmd...
  local node=$1; shift; [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "exec: no command"
  load_state; node_check "$node"
  if [ "$node" = ctl ]; then exec ip netns exec "$(ns_of ctl)" "$@"; fi
  echo $$ > "$(cg_dir "$node")/cgroup.procs"
  exec ip netns exec "$(ns_of "$node")" "$@"
}

addr() {
  load_state; node_check "$1"
  if [ "$1" = ctl ]; then echo "$CTL_IP"; else dev_ip "${1#dev}"; fi
}

counters() {
  load_state
  local n i
  for n in ctl $(for ((i = 0; i < ES_DEVICES; i++)); do echo dev$i; done); do
    echo "$n $(ip netns exec "$(ns_of "$n")" cat /sys/class/net/eth0/statistics/tx_bytes) $(ip netns exec "$(ns_of "$n")" cat /sys/class/net/eth0/statistics/rx_bytes)"
  done
}

iperf() { # from to [--bytes B]
  local from=$1 to=$2 bytes=4000000; shift 2
  [ "${1:-}" = --bytes ] && bytes=$2
  [[ "$bytes" =~ ^[0-9]+$ ]] && [ "$bytes" -le 1000000000 ] || die "iperf: --bytes must be an integer up to 1e9"
  load_state; node_check "$from"; node_check "$to"
  local ip; ip=$(addr "$to")
  local tool="$REPO/src/tools/bench/nettest.mjs"
  ip netns exec "$(ns_of "$to")" node "$tool" serve --host "$ip" --port 5201 --timeout-s 120 >/dev/null 2>&1 &
  local srv=$! rc=0
  ip netns exec "$(ns_of "$from")" node "$tool" send --host "$ip" --port 5201 --bytes "$bytes" --timeout-s 120 || rc=$?
  kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true
  return $rc
}

measure() {
  local out="" pkgs=() reps="" svc="" svcn=20
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out=$2; shift 2 ;; --package) pkgs+=(--package "$2"); shift 2 ;; --reps) reps=$2; shift 2 ;;
      --service-package) svc=$2; shift 2 ;; --service-n) svcn=$2; shift 2 ;;
      *) die "measure: unknown option '$1'" ;;
    esac
  done
  [ -n "$out" ] || die "measure: --out FILE is required"
  [ -f "$REPO/dist/.build-stamp" ] || die "measure: dist/ is not built (npm run build): the devices run the compiled helpers"
  load_state
  local i res=() dev ex
  for ((i = 0; i < ES_DEVICES; i++)); do
    dev="$( "$0" --prefix "$PREFIX" exec "dev$i" -- node "$REPO/dist/src/tools/bench/measure-device.js" "${pkgs[@]}" ${reps:+--reps "$reps"} )" \
      || die "measure: the GFLOPS measurement failed on dev$i"
    ex="$( "$0" --prefix "$PREFIX" exec "dev$i" -- node "$REPO/dist/src/tools/bench/measure-exchange.js" )" \
      || die "measure: the exchange-cost measurement failed on dev$i"
    res+=("$(node -e 'const [a, b] = process.argv.slice(1).map((s) => JSON.parse(s)); console.log(JSON.stringify({ ...a, exchange: b }))' "$dev" "$ex")")
  done
  local lat; lat=$(iperf ctl dev0 --bytes 0) || die "measure: the latency probe ctl -> dev0 failed"
  local service="{}"
  if [ -n "$svc" ]; then service=$(measure_service "$svc" "$svcn") || die "measure: the per-request measurement failed"; fi
  node "$REPO/src/tools/bench/write-cluster.mjs" --out "$out" --mbps "$ES_MBPS" --router-mbps "$ES_ROUTER_MBPS" --cpu "$ES_CPU" \
    --latency-json "$lat" --service-json "$service" "${res[@]}"
}

# Per-request cost of the service path: partition i of a no-exchange package (one per device, all P of them)
# answers batch-1 Runs from the ctl namespace (where the router runs), all at once as the router fans out; then a
# real router in front of them answers the load generator. Prints JSON {package, perPartitionMs, fanOutMs, e2eMs}.
measure_service() { # package-dir n
  local pkg=$1 n=$2 i pids=() addrs=() name parts logs
  name=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1] + "/manifest.json", "utf8")).name)' "$pkg")
  parts=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1] + "/manifest.json", "utf8")).partitions)' "$pkg")
  [ "$parts" -le "$ES_DEVICES" ] || die "measure: --service-package has $parts partitions for $ES_DEVICES devices"
  logs=$(mktemp -d)
  for ((i = 0; i < parts; i++)); do addrs+=("$(dev_ip $i):7190"); done
  local joined; joined=$(IFS=,; echo "${addrs[*]}")
  for ((i = 0; i < parts; i++)); do
    pids+=("$("$0" --prefix "$PREFIX" spawn "dev$i" "$logs/p$i.log" -- node --max-semi-space-size=1 --no-concurrent-recompilation "$REPO/bin/edgesplit.mjs" serve partition --package "$pkg" \
      --index "$i" --host "$(dev_ip $i)" --port 7190 --peers "$joined" --measure false --default-timeout-ms 60000)")
  done
  local direct e2e rc=0
  direct=$(ip netns exec "$(ns_of ctl)" node "$REPO/dist/src/tools/bench/measure-request.js" --addrs "$joined" \
    --package "$name" --package-dir "$pkg" --n "$n" | tail -1) || rc=1
  if [ $rc = 0 ]; then
    pids+=("$("$0" --prefix "$PREFIX" spawn ctl "$logs/router.log" -- node --max-semi-space-size=1 --no-concurrent-recompilation "$REPO/bin/edgesplit.mjs" serve router --package "$pkg" \
      --partitions "$joined" --host "$CTL_IP" --port 8091 --timeout-ms 60000)")
    e2e=$(ip netns exec "$(ns_of ctl)" node "$REPO/dist/src/tools/bench/loadgen.js" --router "$CTL_IP:8091" \
      --latency-n "$n" --throughput-n 0 --accuracy-n 0 --warmup 3 --max-seconds 60 | tail -1) || rc=1
  fi
  [ $rc = 0 ] || cat "$logs"/*.log >&2
  # Stop what this step started (process groups of the spawned services) and wait until they are gone,
  # so their ports are free for the next measurement.
  local p left
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    left=""; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ -n "$left" ] || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  rm -rf "$logs"
  [ $rc = 0 ] || return 1
  node -e 'const [name, d, e, dir] = process.argv.slice(1); const x = JSON.parse(d); const l = JSON.parse(e).latencyMs.sort((a, b) => a - b);
    console.log(JSON.stringify({ package: name, dir, ...x, e2eMs: l[Math.floor(l.length / 2)] }))' "$name" "$direct" "$e2e" "$pkg"
}

run_wrapped() { # [up options] -- cmd...
  local upargs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do upargs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "run: no command after --"
  trap 'cleanup_prefix' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  up "${upargs[@]}" >/dev/null
  . "$(state_file)"
  export ES_PREFIX ES_DEVICES ES_MBPS ES_ROUTER_MBPS ES_CPU ES_CTL_IP ES_DEVICE_IPS
  "$@"
}

# ---------------------------------------------------------------- main

ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --) ARGS+=("$@"); break ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
set -- "${ARGS[@]+"${ARGS[@]}"}"
[[ "$PREFIX" =~ ^esemu[A-Za-z0-9_]{0,20}$ ]] || die "--prefix must match esemu[A-Za-z0-9_]{0,20} (so cleanup can find it), got '$PREFIX'"
cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
  check) check ;;
  up) up "$@" ;;
  set-bandwidth) set_bandwidth "$@" ;;
  set-link) set_link "$@" ;;
  exec) exec_in "$@" ;;
  spawn)
    node=$1 logf=$2; shift 2; [ "${1:-}" = -- ] && shift
    load_state; node_check "$node"
    setsid "$0" --prefix "$PREFIX" exec "$node" -- "$@" > "$logf" 2>&1 < /dev/null & echo $! ;;
  addr) addr "$@" ;;
  counters) counters ;;
  iperf) iperf "$@" ;;
  measure) measure "$@" ;;
  down) cleanup_prefix; log "down" ;;
  cleanup) cleanup "$@" ;;
  run) run_wrapped "$@" ;;
  ""|-h|--help|help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (try --help)" ;;
esac

// Real Kubernetes nodes on this machine, joined to the test control plane (control-plane.ts): per node a
// containerd (Debian's, with runc and the CNI plugins) and a kubelet built from the control plane's kubernetes pin;
// for all of them one kube-proxy (iptables mode; the nodes share this host's network namespace, so one kube-proxy
// serves them all) and a CoreDNS behind the kube-dns Service. Pods get a bridge per node (10.244.<i>.0/24); the host
// routes between the bridges, so a partition's pushes to a peer on the other node really cross from one bridge to
// the other. Needs root.
//
// stop() undoes everything it did: pods first (so CNI DEL removes their veths and IPs), then processes by PID
// (kubelet, kube-proxy, CoreDNS, containerd, and any containerd-shim of our containerd), mounts under our roots,
// iptables chains (kube-proxy --cleanup, then KUBE-*/CNI-* chains kubelet leaves: KUBE-FIREWALL,
// KUBE-KUBELET-CANARY), the bridges, the netns bind mounts our pods had, cgroups, sysctls (restored to what they
// were) and directories.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.ts';
import { freePort, ProcessGroup, toolPath, toolsDir } from './processes.ts';

export const NODE_BINARIES = ['kubelet', 'kube-proxy', 'coredns'];
export const PAUSE_IMAGE_TAR = 'share/images/pause.oci.tar';
/** Kept equal to PAUSE_IMAGE in scripts/build-test-tools.sh. */
export const PAUSE_IMAGE = 'edgesplit.local/pause:1';
const HOST_TOOLS = ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'iptables', 'iptables-save', 'conntrack', 'ip'];
const CNI_BIN = '/usr/lib/cni';
const DNS_IP = '10.96.0.10';
const CLUSTER_CIDR = '10.244.0.0/16';
/** What kubelet and kube-proxy may change; each is put back to the value it had before. */
const SYSCTLS = ['net/ipv4/ip_forward', 'vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops',
  'net/ipv4/conf/all/route_localnet', 'net/netfilter/nf_conntrack_max', 'net/bridge/bridge-nf-call-iptables'];

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Why real nodes cannot start here, or undefined when they can. */
export function realNodeBlocker(dir = toolsDir()): string | undefined {
  if (process.getuid?.() !== 0) return 'real nodes need root (containerd, kubelet, iptables, bridges)';
  const missingTools = NODE_BINARIES.filter((b) => !existsSync(toolPath(b, dir)));
  if (missingTools.length || !existsSync(join(dir, PAUSE_IMAGE_TAR))) {
    return `node binaries not found in ${dir} (${[...missingTools, ...(existsSync(join(dir, PAUSE_IMAGE_TAR)) ? [] : ['pause image'])].join(', ')}); build them with: scripts/build-test-tools.sh node coredns pause`;
  }
  const missingHost = HOST_TOOLS.filter((t) => !which(t));
  if (missingHost.length || !existsSync(join(CNI_BIN, 'bridge'))) {
    return `missing ${[...missingHost, ...(existsSync(join(CNI_BIN, 'bridge')) ? [] : ['CNI plugins'])].join(', ')}: apt-get install containerd runc containernetworking-plugins iptables conntrack socat`;
  }
  return undefined;
}

/** This host's address on its default route (route lookup only, nothing is sent): pods reach the apiserver and CoreDNS there. */
export function hostAddress(): string {
  const out = execFileSync('ip', ['-4', '-o', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' });
  const m = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`no IPv4 source address for the default route: ${out}`);
  return m[1];
}

export interface RealNodeSpec {
  /** Labels the kubelet registers the node with (e.g. edgesplit.io/edge=true). */
  labels?: Record<string, string>;
}

export interface RealNodes {
  names: string[];
  /** Imports an OCI archive into every node's containerd (as `ctr images import` does). */
  importImage(archive: string): Promise<void>;
  /** Containers (not sandboxes) running in the nodes' containerd, as "<node>/<task id>". */
  runningContainers(): Promise<string[]>;
  logs(): string;
  stop(): Promise<void>;
}

const sh = (cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, maxBuffer: 64 << 20 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  return r.stdout ?? '';
};

function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function cgroupHierarchies(): string[] {
  // cgroup v1 (this machine): one mount per controller set; v2: the unified root.
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 9 && ['cgroup', 'cgroup2'].includes(f[f.indexOf('-') + 1]))
    .map((f) => f[4]);
}

/** PIDs in a cgroup tree (cgroup.procs of every level). */
function procsUnder(path: string): number[] {
  if (!existsSync(path)) return [];
  const own = existsSync(join(path, 'cgroup.procs'))
    ? readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number) : [];
  return [...own, ...readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => procsUnder(join(path, e.name)))];
}

/** Removes a cgroup tree bottom-up (rmdir only works on empty leaves; our processes are gone by then). */
function removeCgroupTree(path: string): void {
  if (!existsSync(path)) return;
  for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(path, e.name));
  try {
    rmSync(path, { recursive: false, force: true });
  } catch {
    spawnSync('rmdir', [path]);
  }
}

function mountsUnder(prefixes: string[]): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && prefixes.some((p) => m === p || m.startsWith(p + '/')))
    // deepest first
    .sort((a, b) => b.length - a.length);
}

/** Deletes iptables rules jumping to chains matching `re` and then the chains themselves, in every table. */
function removeChains(re: RegExp): void {
  for (const ipt of ['iptables', 'ip6tables']) {
    if (!which(ipt)) continue;
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const rules = sh(ipt, ['-t', table, '-S'], { allowFail: true }).split('\n');
      const chains = rules.filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim()).filter((c) => re.test(c));
      if (!chains.length) continue;
      for (const l of rules) {
        const m = /^-A (\S+) (.*-j (\S+).*)$/.exec(l);
        if (m && chains.includes(m[3]) && !chains.includes(m[1])) sh(ipt, ['-t', table, '-D', m[1], ...splitRule(m[2])], { allowFail: true });
      }
      for (const c of chains) sh(ipt, ['-t', table, '-F', c], { allowFail: true });
      for (const c of chains) sh(ipt, ['-t', table, '-X', c], { allowFail: true });
    }
  }
}

/** iptables -S quotes comments; split the rule back into arguments. */
function splitRule(rule: string): string[] {
  const out: string[] = [];
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

/** Everything a run changes on the host, written to disk first so that a later run can undo a crashed one. */
interface HostState {
  pid: number;
  varRoot: string;
  runRoot: string;
  cgroupRoots: string[];
  bridges: string[];
  sockets: string[];
  sysctls: Record<string, string | undefined>;
  netnsBefore: string[];
  /** PIDs of our processes (kubelets, containerds, kube-proxy, CoreDNS), for a crashed run's cleanup. */
  pids: number[];
}

const STATE_DIR = '/run';
const STATE_PREFIX = 'edgesplit-test-';

function stateFile(s: Pick<HostState, 'runRoot'>): string {
  return `${s.runRoot}.state.json`;
}

function saveState(s: HostState): void {
  writeFileSync(stateFile(s), JSON.stringify(s));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Undoes a run's host changes (its processes must be stopped or are killed here, by PID). */
function undoHost(s: HostState, kubeProxy: string): void {
  for (const pid of s.pids) if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  // Shims outlive containerd by design; ours name our socket in their command line.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes('containerd-shim') && s.sockets.some((k) => cmd.includes(k))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch { /* gone */ }
    }
  }
  sh(kubeProxy, ['--cleanup'], { allowFail: true });
  removeChains(/^(KUBE-|CNI-)/);
  for (const b of s.bridges) if (existsSync(`/sys/class/net/${b}`)) sh('ip', ['link', 'delete', b], { allowFail: true });
  const before = new Set(s.netnsBefore);
  for (const ns of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
    // Only the cni-* namespaces made while we ran (the machine has others of its own).
    if (ns.startsWith('cni-') && !before.has(ns)) {
      sh('umount', [`/run/netns/${ns}`], { allowFail: true });
      rmSync(`/run/netns/${ns}`, { force: true });
    }
  }
  for (const m of mountsUnder([s.varRoot, s.runRoot])) sh('umount', ['-l', m], { allowFail: true });
  // Container processes whose shim is gone (a crashed run) are still in our cgroups: end them before rmdir.
  const members = () => cgroupHierarchies().flatMap((h) => s.cgroupRoots.flatMap((r) => procsUnder(join(h, r))));
  for (let tries = 0; tries < 50 && members().length; tries++) {
    for (const pid of new Set(members())) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    spawnSync('sleep', ['0.1']);
  }
  for (const h of cgroupHierarchies()) for (const r of s.cgroupRoots) removeCgroupTree(join(h, r));
  for (const [name, value] of Object.entries(s.sysctls)) {
    if (value !== undefined && readSysctl(name) !== value) {
      try {
        writeFileSync(`/proc/sys/${name}`, value);
      } catch { /* read-only here */ }
    }
  }
  rmSync(s.varRoot, { recursive: true, force: true });
  rmSync(s.runRoot, { recursive: true, force: true });
  rmSync(stateFile(s), { force: true });
}

/** Undoes what earlier runs left behind when their test process died before its teardown (killed, crashed). */
export function cleanupStaleRealNodes(dir = toolsDir()): string[] {
  const cleaned: string[] = [];
  for (const f of readdirSync(STATE_DIR).filter((n) => n.startsWith(STATE_PREFIX) && n.endsWith('.state.json'))) {
    let st: HostState;
    try {
      st = JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8'));
    } catch {
      continue;
    }
    if (alive(st.pid)) continue; // a run in progress
    undoHost(st, toolPath('kube-proxy', dir));
    cleaned.push(st.runRoot);
  }
  return cleaned;
}

/**
 * Brings up `count` real nodes named edgesplit-real-<i> (labels per node from `nodes`) and the shared kube-proxy
 * and CoreDNS. The control plane must have been started with `podReachable: hostAddress()`.
 */
export async function startRealNodes(cp: ControlPlane, opts: { count?: number; nodes?: RealNodeSpec[]; log?: (s: string) => void;
  toolsDir?: string } = {}): Promise<RealNodes> {
  const count = opts.count ?? opts.nodes?.length ?? 1;
  const dir = opts.toolsDir ?? toolsDir();
  const blocker = realNodeBlocker(dir);
  if (blocker) throw new Error(blocker);
  if (cp.host === '127.0.0.1') throw new Error('startRealNodes: start the control plane with podReachable: hostAddress() (pods cannot reach 127.0.0.1)');
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const step = (s: string) => log(`[real-node +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);
  const bin = (n: string) => toolPath(n, dir);
  const id = randomBytes(3).toString('hex');
  // Outside /tmp: kubelet and containerd mount under their roots, and a recursive rm of /tmp must not meet them.
  const varRoot = `/var/lib/edgesplit-test-${id}`;
  const runRoot = `/run/edgesplit-test-${id}`;
  // One cgroup root per kubelet: a kubelet kills (SIGKILL) the processes of pod cgroups under its root that it does
  // not know, so two kubelets sharing one root kill each other's pods.
  const cgroupRoots = Array.from({ length: count }, (_, i) => `/edgesplit-test-${id}-node${i}`);
  const names = Array.from({ length: count }, (_, i) => `edgesplit-real-${i}`);
  const bridges = names.map((_, i) => `es${id}-${i}`);
  for (const c of cleanupStaleRealNodes(dir)) step(`cleaned up after an earlier run that died: ${c}`);
  // kube-proxy's rules are per host, and teardown removes every KUBE-* chain: one run per machine at a time.
  const other = readdirSync(STATE_DIR).filter((n) => n.startsWith(STATE_PREFIX) && n.endsWith('.state.json'));
  if (other.length) {
    throw new Error(`startRealNodes: another real-node run is using this machine (${other.map((f) => join(STATE_DIR, f)).join(', ')}); ` +
      'run one at a time (its state file names its pid)');
  }
  const sockets: string[] = [];
  const state: HostState = { pid: process.pid, varRoot, runRoot, cgroupRoots, bridges, sockets,
    sysctls: Object.fromEntries(SYSCTLS.map((s) => [s, readSysctl(s)])),
    netnsBefore: existsSync('/run/netns') ? readdirSync('/run/netns') : [], pids: [] };
  mkdirSync(runRoot, { recursive: true });
  saveState(state);
  const g = new ProcessGroup('edgesplit-node-');
  const started = (name: string, binPath: string, args: string[]) => {
    g.start(name, binPath, args);
    state.pids = g.pids();
    saveState(state);
  };
  const host = cp.host;
  const kubectl = cp.kubectl;

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    step('teardown: deleting pods on the real nodes');
    // Pods first, through the kubelets, so that the CNI plugin releases veths and IPs and containerd its mounts.
    for (const n of names) {
      await kubectl(['delete', 'pods', '--all-namespaces', '--field-selector', `spec.nodeName=${n}`, '--grace-period=1',
        '--wait=false'], undefined).catch(() => undefined);
    }
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const left = sockets.map((s) => sh('ctr', ['--address', s, '-n', 'k8s.io', 'tasks', 'ls', '-q'], { allowFail: true }).trim()).join('');
      if (!left) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const n of names) await kubectl(['delete', 'node', n, '--wait=false']).catch(() => undefined);
    await g.stop();
    step('teardown: processes stopped');
    undoHost(state, bin('kube-proxy'));
    step('teardown: done');
  })());

  try {
    mkdirSync(varRoot, { recursive: true });
    // Forwarding between the node bridges and for Service traffic that kube-proxy sends back out of a bridge.
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    // kubelet wants its cgroup root to exist; cpuset needs cpus and mems before anything can join below it (v1).
    for (const h of cgroupHierarchies()) {
      for (const r of cgroupRoots) {
        const d = join(h, r);
        mkdirSync(d, { recursive: true });
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if (existsSync(join(d, f)) && !readFileSync(join(d, f), 'utf8').trim()) writeFileSync(join(d, f), readFileSync(join(h, f), 'utf8'));
        }
      }
    }
    const resolv = join(varRoot, 'resolv.conf');
    writeFileSync(resolv, '');
    const kubeconfigFor = (name: string, cert: string, key: string) => {
      const f = join(varRoot, `${name}.kubeconfig`);
      writeFileSync(f, JSON.stringify({
        apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'test', cluster: { server: cp.server, 'certificate-authority': cp.pki.ca } }],
        users: [{ name, user: { 'client-certificate': cert, 'client-key': key } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: name } }], 'current-context': 'test',
      }));
      return f;
    };

    const ports = await Promise.all(Array.from({ length: 2 * count + 5 }, () => freePort()));
    const nodeDirs = names.map((n, i) => ({ var: join(varRoot, `node${i}`), run: join(runRoot, `node${i}`) }));
    for (const [i, name] of names.entries()) {
      const d = nodeDirs[i];
      for (const p of [d.var, d.run, join(d.var, 'cni'), join(d.run, 'net.d'), join(d.var, 'pod-logs')]) mkdirSync(p, { recursive: true });
      const sock = join(d.run, 'containerd.sock');
      sockets.push(sock);
      writeFileSync(join(d.run, 'net.d', '10-edgesplit.conflist'), JSON.stringify({
        cniVersion: '0.4.0', name: `edgesplit-${i}`,
        plugins: [{
          type: 'bridge', bridge: bridges[i], isGateway: true, hairpinMode: true,
          // No masquerade: pods only talk to each other, the host and the apiserver (no iptables rules to leave behind).
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet: `10.244.${i}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(d.var, 'cni') },
        }],
      }));
      writeFileSync(join(d.run, 'containerd.toml'), `version = 2
root = "${join(d.var, 'containerd')}"
state = "${join(d.run, 'containerd')}"
[grpc]
  address = "${sock}"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(d.var, 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This VM lacks CAP_SYS_RESOURCE: without it every sandbox fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${join(d.run, 'net.d')}"
`);
      started(`containerd-${i}`, 'containerd', ['--config', join(d.run, 'containerd.toml'), '--log-level', 'warn']);
      await g.waitFor(`containerd-${i} socket`, () => sh('ctr', ['--address', sock, 'version'], { allowFail: true }).includes('Server'), 30_000);
      sh('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'import', join(dir, PAUSE_IMAGE_TAR)]);
      step(`containerd ${i} up, pause image imported`);

      const cert = cp.pki.leaf(`kubelet-${name}`, `/O=system:nodes/CN=system:node:${name}`);
      const kubelet = {
        apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
        // This machine has cgroup v1, which kubelet 1.35+ refuses unless told.
        failCgroupV1: false, cgroupDriver: 'cgroupfs', cgroupRoot: cgroupRoots[i],
        address: host, port: ports[2 * i], healthzBindAddress: '127.0.0.1', healthzPort: ports[2 * i + 1], readOnlyPort: 0,
        authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: cp.pki.ca } },
        // Only the apiserver (system:masters client cert, checked above) talks to this kubelet.
        authorization: { mode: 'AlwaysAllow' },
        clusterDNS: [DNS_IP], clusterDomain: 'cluster.local', resolvConf: resolv,
        containerRuntimeEndpoint: `unix://${sock}`, podLogsDir: join(d.var, 'pod-logs'),
        // Test pods are small and the disk is shared: no eviction or image GC surprises mid-test.
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
        imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
        // ConfigMap volumes (the plan) are refreshed on pod sync: 10 s instead of 1 min keeps planner tests short.
        syncFrequency: '10s', failSwapOn: false, maxPods: 40, serializeImagePulls: false,
        podCIDR: `10.244.${i}.0/24`,
      };
      writeFileSync(join(d.var, 'kubelet.yaml'), JSON.stringify(kubelet));
      const labels = Object.entries(opts.nodes?.[i]?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      started(`kubelet-${i}`, bin('kubelet'), [
        `--config=${join(d.var, 'kubelet.yaml')}`, `--kubeconfig=${kubeconfigFor(name, cert.cert, cert.key)}`,
        `--root-dir=${join(d.var, 'kubelet')}`, `--cert-dir=${join(d.var, 'pki')}`,
        `--hostname-override=${name}`, `--node-ip=${host}`, ...(labels ? [`--node-labels=${labels}`] : []), '--v=1',
      ]);
    }

    // One kube-proxy for the host's network namespace (all nodes share it).
    const proxyCert = cp.pki.leaf('kube-proxy', '/CN=system:kube-proxy');
    const proxyConf = join(varRoot, 'kube-proxy.yaml');
    writeFileSync(proxyConf, JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables',
      clientConnection: { kubeconfig: kubeconfigFor('kube-proxy', proxyCert.cert, proxyCert.key) },
      hostnameOverride: names[0], clusterCIDR: CLUSTER_CIDR,
      healthzBindAddress: `127.0.0.1:${ports[2 * count]}`, metricsBindAddress: `127.0.0.1:${ports[2 * count + 1]}`,
      // Leave the machine's conntrack sysctls and route_localnet alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      iptables: { localhostNodePorts: false, syncPeriod: '30s', minSyncPeriod: '0s' },
    }));
    started('kube-proxy', bin('kube-proxy'), [`--config=${proxyConf}`, '--v=1']);

    // CoreDNS on the host, behind the kube-dns Service (ClusterIP 10.96.0.10) via a hand-made EndpointSlice.
    const dnsPort = ports[2 * count + 2];
    const corefile = join(varRoot, 'Corefile');
    writeFileSync(corefile, `.:${dnsPort} {
  bind ${host}
  errors
  health 127.0.0.1:${ports[2 * count + 3]}
  ready 127.0.0.1:${ports[2 * count + 4]}
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig ${cp.kubeconfig}
    pods insecure
  }
  cache 5
}
`);
    started('coredns', bin('coredns'), ['-conf', corefile]);
    const dns = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        spec: { clusterIP: DNS_IP, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: dnsPort },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: dnsPort }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: 'kube-dns-host', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
        addressType: 'IPv4', endpoints: [{ addresses: [host], conditions: { ready: true } }],
        ports: [{ name: 'dns', port: dnsPort, protocol: 'UDP' }, { name: 'dns-tcp', port: dnsPort, protocol: 'TCP' }] },
    ];
    const applied = await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: dns }));
    if (applied.code !== 0) throw new Error(`kube-dns Service: ${applied.stderr}`);

    for (const n of names) {
      await g.waitFor(`node ${n} Ready`, async () => {
        const r = await kubectl(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        return r.stdout.trim() === 'True';
      }, 120_000);
    }
    await g.waitFor('CoreDNS ready', async () => (await fetch(`http://127.0.0.1:${ports[2 * count + 4]}/ready`)).ok, 60_000);
    step(`nodes ${names.join(', ')} Ready; kube-proxy and CoreDNS up`);

    return {
      names,
      async importImage(archive: string) {
        for (const s of sockets) sh('ctr', ['--address', s, '-n', 'k8s.io', 'images', 'import', archive]);
        step(`imported ${archive}`);
      },
      async runningContainers() {
        return sockets.flatMap((s, i) => {
          const images = new Map(sh('ctr', ['--address', s, '-n', 'k8s.io', 'containers', 'ls'], { allowFail: true }).split('\n').slice(1)
            .map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2).map((f) => [f[0], f[1]]));
          return sh('ctr', ['--address', s, '-n', 'k8s.io', 'tasks', 'ls'], { allowFail: true }).split('\n').slice(1)
            .map((l) => l.trim().split(/\s+/)).filter((f) => f[0] && f[2] === 'RUNNING' && images.get(f[0]) !== PAUSE_IMAGE)
            .map((f) => `${names[i]}/${f[0]}`);
        });
      },
      logs: () => g.logs(),
      stop,
    };
  } catch (e) {
    const logs = g.logs();
    await stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}

/** One real node (see startRealNodes). */
export function startRealNode(cp: ControlPlane, spec: RealNodeSpec & { log?: (s: string) => void } = {}): Promise<RealNodes> {
  return startRealNodes(cp, { nodes: [spec], log: spec.log });
}

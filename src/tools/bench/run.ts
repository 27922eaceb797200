// The benchmark: one emulated edge cluster (scripts/edge-emulator.sh), every configuration side by side at
// every bandwidth, measured through the real router and partition services, next to the planner's prediction.
import { calibrate, DEFAULT_CALIBRATION, emptyCalibration, type LivePartition, type RouterLive } from '../../roles/planner/core/calibrate.ts';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { loadCatalog as readCatalog, loadPackage, resolvePackageDir, MODELS_DIR } from '../../runtime/manifest.ts';
import { parseClusterYaml } from '../../roles/planner/cluster/cluster-file.ts';
import { predictLatency } from '../../roles/planner/core/latency-model.ts';
import { packageModel } from '../../roles/planner/core/package-model.ts';
import { plan as planSearch } from '../../roles/planner/core/search.ts';
import { loadCatalog } from '../../roles/planner/catalog.ts';
import type { Cluster, PackageModel } from '../../roles/planner/core/types.ts';
import { ensureBuilt, repoPath } from '../../runtime/paths.ts';
import { quantile } from '../../runtime/stats.ts';
import { SERVE_NODE_FLAGS } from '../cli/stack.ts';
import { stopProcessGroup } from '../cli/launchers.ts';
import { groupByFamily, mirroredOrder, poolPasses, splitCount } from './interleave.ts';

export const REPO = repoPath() + '/';
export const EMULATOR = join(REPO, 'scripts', 'edge-emulator.sh');
export const DEFAULT_WIDE_DIR = join(homedir(), '.cache', 'edgesplit', 'wide-packages');

/** The trained Fashion-MNIST packages, or a random-weight family measured for latency only. */
export type ModelFamily = 'fmnist' | 'wide4x' | 'large96';

/** Random-weight package families (scripts/make-wide-packages.py), measured for latency only. */
interface RandomFamily {
  model: Exclude<ModelFamily, 'fmnist'>;
  /** Config label prefix: '4x P=1', '96px P=1'. */
  label: string;
  what: string;
  dir: string;
  makeArgs: string[];
}

export interface BenchOptions {
  quick: boolean;
  bandwidths: number[];
  cpu: number;
  devices: number;
  wide: boolean;
  wideDir: string;
  /** The larger-input regime: 3x96x96 random-weight packages of the shipped width (latency only). */
  large?: boolean;
  /** Where those are built/reused (default: wideDir/large96). */
  largeDir?: string;
  /** Directory for the cluster files and the raw results JSON (bench/results in the full run). */
  outDir: string;
  /** The planner's accuracy floor for its pick (default: its own, within 0.5 points of the best package). */
  accuracyFloor?: number;
  log: (s: string) => void;
}

export interface Row {
  config: string;
  package: string;
  model: ModelFamily;
  bandwidthMbps: number;
  assignment: string[];
  p50Ms: number;
  p95Ms: number;
  throughput: number;
  predictedMs: number;
  measuredOverPredicted: number;
  exchangedBytesPerImage: number | null;
  wireBytesPerImage: number;
  expectedBytesPerImage: number;
  accuracy: number | null;
  accuracyN: number;
  speedupVsP1: number | null;
  /**
   * What a perfect split would give against P=1: the dense P=1 network's FLOPs per image over one partition's
   * (about 8 for the P=4 packages: the P=1 network has the same total width with 1x1 convs not grouped).
   */
  idealSpeedup: number;
  /** FLOPs per image of one partition (the whole network for P=1). */
  flopsPerPartition: number;
  /** Speedup against the same model family's P=4 no-exchange package with all 4 partitions on one device. */
  speedupVsOneDevice: number | null;
  /** Latency requests counted over all passes (p50Ms/p95Ms are over these; fewer than asked when the time bound ran out). */
  latencyN: number;
  /**
   * The same model with the live calibration the closed-loop planner applies (src/roles/planner/core/calibrate.ts),
   * from what this configuration's partitions and router measured in its last pass: GFLOPS per device from the
   * partitions' own run time, the per-request service path per device from the router's round trips.
   */
  calibratedMs?: number;
  measuredOverCalibrated?: number;
  /** Those figures: per partition its own work p50 and its pushes' send-to-acknowledgement p50, per router call what it adds to the run. */
  live?: { partition: number; computeMs: number; pushMs: number[]; routerOverheadMs: number | null }[];
  /** Each interleaved pass's own p50 (ms), in measurement order: the drift between passes (null: a pass measured nothing). */
  passP50Ms: (number | null)[];
}

/** Partitions started at once (about 130 MB RSS each); a model family with more is measured in several groups. */
export const MAX_GROUP_PROCS = 24;
/** Warm-up requests of each pass (a pass is a fresh client connection; the processes were warmed before pass 1). */
export const PASS_WARMUP = 3;

/** Latency requests per point (summed over its passes), passes, time bounds, and the throughput/accuracy sizes. */
export function latencySizes(quick: boolean, family: 'fmnist' | 'random') {
  if (family === 'fmnist') {
    return quick
      ? { latencyN: 100, passes: 2, latencySeconds: 30, throughputN: 24, concurrency: 4, accuracyN: 100, maxSeconds: 25 }
      : { latencyN: 200, passes: 4, latencySeconds: 90, throughputN: 160, concurrency: 4, accuracyN: 1000, maxSeconds: 90 };
  }
  // Random-weight families: 100-600 ms per request on a quarter core; the time bound may cut a slow point short
  // (its row's latencyN says how many were measured).
  return quick
    ? { latencyN: 100, passes: 2, latencySeconds: 50, throughputN: 8, concurrency: 4, accuracyN: 0, maxSeconds: 25 }
    : { latencyN: 100, passes: 4, latencySeconds: 90, throughputN: 40, concurrency: 4, accuracyN: 0, maxSeconds: 90 };
}

/** How latency was measured, for the results' `note`. */
export function measurementNote(quick: boolean): string {
  const f = latencySizes(quick, 'fmnist');
  const w = latencySizes(quick, 'random');
  return `latency: the configurations of a model family are up together and measured in ${f.passes} interleaved mirrored passes per bandwidth ` +
    `(A B C .. C B A${f.passes > 2 ? ' ..' : ''}), pooled into one row (passP50Ms: each pass's p50); ${f.latencyN} requests per point ` +
    `(${w.latencyN} for random-weight families), bounded at ${f.latencySeconds} s (${w.latencySeconds} s) per point: latencyN is the count measured`;
}

interface Config {
  config: string;
  pkgDir: string;
  model: ModelFamily;
  /** Device index of each partition. */
  assignment: number[];
  /** When set, this configuration is measured only at these bandwidths (the planner's pick). */
  only?: number;
}


export class Emulator {
  readonly prefix = `esemub${process.pid}`;
  private upDone = false;
  private readonly pids = new Set<number>();
  constructor(private readonly log: (s: string) => void) {}

  sh(args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    return execFileSync(EMULATOR, ['--prefix', this.prefix, ...args], {
      encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, env: { ...process.env, ES_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  up(devices: number, mbps: number, cpu: number): void {
    this.upDone = true;
    this.sh(['up', '--devices', String(devices), '--mbps', String(mbps), '--cpu', String(cpu)]);
  }

  setBandwidth(mbps: number): void { this.sh(['set-bandwidth', '--mbps', String(mbps)]); }

  addr(node: string): string { return this.sh(['addr', node]).trim(); }

  /** Starts a long-running command inside a node (own process group); returns its pid. */
  spawn(node: string, logFile: string, cmd: string[]): number {
    const pid = Number(this.sh(['spawn', node, logFile, '--', ...cmd]).trim());
    this.pids.add(pid);
    return pid;
  }

  async stop(pid: number): Promise<void> {
    await stopProcessGroup(pid);
    this.pids.delete(pid);
  }

  counters(): Map<string, { tx: number; rx: number }> {
    const m = new Map<string, { tx: number; rx: number }>();
    for (const line of this.sh(['counters']).trim().split('\n')) {
      const [n, tx, rx] = line.split(/\s+/);
      m.set(n, { tx: Number(tx), rx: Number(rx) });
    }
    return m;
  }

  /** Runs a bounded command in a node and returns its stdout. */
  execIn(node: string, cmd: string[], timeoutMs: number): string {
    return this.sh(['exec', node, '--', ...cmd], { timeoutMs });
  }

  /** Removes everything (processes, namespaces, cgroups); synchronous so it also works from an exit handler. */
  down(): void {
    if (!this.upDone) return;
    for (const pid of this.pids) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
    spawnSync(EMULATOR, ['--prefix', this.prefix, 'down'], { stdio: 'ignore', timeout: 60_000, env: { ...process.env, ES_QUIET: '1' } });
    this.upDone = false;
  }
}

function clusterAt(base: Cluster, mbps: number): Cluster {
  return {
    ...base,
    nodes: base.nodes.map((n) => ({ ...n, bandwidthMbps: mbps })),
    router: base.router.kind === 'own' ? { ...base.router, bandwidthMbps: mbps } : base.router,
  };
}

function modelOf(dir: string): PackageModel {
  const m = loadPackage(dir).manifest;
  return packageModel(m as unknown as Parameters<typeof packageModel>[0], dir);
}

/**
 * Runs `fn` on a fresh emulator (its devices run the compiled helpers, dist/, as the image does) that is torn down
 * however the run ends: returned, thrown, a signal or the process exiting.
 */
export async function withEmulator<T>(log: (s: string) => void, fn: (emu: Emulator) => Promise<T>): Promise<T> {
  ensureBuilt(log);
  const emu = new Emulator(log);
  const onSignal = (sig: NodeJS.Signals) => { emu.down(); process.kill(process.pid, sig); };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.once(s, onSignal);
  const onExit = () => emu.down();
  process.once('exit', onExit);
  try {
    return await fn(emu);
  } finally {
    emu.down();
    for (const s of sigs) process.removeListener(s, onSignal);
    process.removeListener('exit', onExit);
  }
}

export function runBench(o: BenchOptions): Promise<Row[]> {
  return withEmulator(o.log, (emu) => benchInside(emu, o));
}

async function benchInside(emu: Emulator, o: BenchOptions): Promise<Row[]> {
  mkdirSync(o.outDir, { recursive: true });
  const logDir = join(o.outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  const stamp = () => `${((Date.now() - t0) / 1000).toFixed(0)}s`;
  o.log(`[${stamp()}] emulator up: ${o.devices} devices, ${o.cpu} core each (prefix ${emu.prefix})`);
  emu.up(o.devices, o.bandwidths[0], o.cpu);

  // --- the configurations
  const catalog = readCatalog(join(MODELS_DIR, 'catalog.json'));
  const byName = (n: string) => join(MODELS_DIR, catalog.packages.find((p) => p.name === n)?.path ?? n);
  const p4 = catalog.packages.filter((p) => p.partitions === 4);
  const searched = p4.filter((p) => p.policyId !== 'baseline' && p.policyId !== 'none').sort((a, b) => b.testAccuracy - a.testAccuracy);
  const all4 = [0, 1, 2, 3].slice(0, Math.min(4, o.devices));
  const configs: Config[] = [
    { config: 'P=1', pkgDir: byName('fmnist-p1'), model: 'fmnist', assignment: [0] },
    { config: 'P=4 baseline', pkgDir: byName(p4.find((p) => p.policyId === 'baseline')!.name), model: 'fmnist', assignment: all4 },
    { config: 'P=4 none', pkgDir: byName(p4.find((p) => p.policyId === 'none')!.name), model: 'fmnist', assignment: all4 },
    // The fair reference for a split: the same P=4 package, all partitions on one device (no network in between).
    // Full run only: four processes starting on one quarter core take minutes on a busy machine.
    ...(o.quick ? [] : [{ config: 'P=4 none, one device', pkgDir: byName(p4.find((p) => p.policyId === 'none')!.name), model: 'fmnist' as const,
      assignment: [0, 0, 0, 0], only: Math.max(...o.bandwidths) }]),
    ...(o.quick ? searched.slice(0, 1) : searched).map((p) => ({ config: `P=4 searched ${p.policyId}`, pkgDir: byName(p.name), model: 'fmnist' as const, assignment: all4 })),
  ];
  const families: RandomFamily[] = [
    ...(o.wide ? [{ model: 'wide4x' as const, label: '4x', what: '4x-width', dir: o.wideDir, makeArgs: [] }] : []),
    ...(o.large ? [{ model: 'large96' as const, label: '96px', what: '3x96x96-input', dir: o.largeDir ?? join(o.wideDir, 'large96'),
      makeArgs: ['--input', '3x96x96'] }] : []),
  ];
  for (const f of families) {
    const index = join(f.dir, 'index.json');
    // Packages cached before fused runs of units existed would be measured on the slower unit-by-unit path.
    const stale = existsSync(index) && !isFused(join(f.dir, `${f.model}-p1`));
    if (!existsSync(index) || stale) {
      o.log(`[${stamp()}] building the ${f.what} random-weight packages in ${f.dir}${stale ? ' (the cached ones predate fused runs of units)' : ''}`);
      const py = join(REPO, 'training', '.venv', 'bin', 'python');
      if (!existsSync(py)) throw new Error(`the ${f.what} packages need ${py} (run: bash training/setup-venv.sh)`);
      execFileSync(py, [join(REPO, 'scripts', 'make-wide-packages.py'), '--out', f.dir, ...f.makeArgs, ...(stale ? ['--force'] : [])],
        { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
    }
    const idx = JSON.parse(readFileSync(index, 'utf8')) as { sparsePolicy: string; packages: string[] };
    const w = (n: string) => join(f.dir, `${f.model}-${n}`);
    configs.push(
      { config: `${f.label} P=1`, pkgDir: w('p1'), model: f.model, assignment: [0] },
      { config: `${f.label} P=4 baseline`, pkgDir: w('p4-baseline'), model: f.model, assignment: all4 },
      { config: `${f.label} P=4 none`, pkgDir: w('p4-none'), model: f.model, assignment: all4 },
      // A minute of slow requests: the full run only.
      ...(o.quick ? [] : [{ config: `${f.label} P=4 none, one device`, pkgDir: w('p4-none'), model: f.model,
        assignment: [0, 0, 0, 0], only: Math.max(...o.bandwidths) }]),
      { config: `${f.label} P=4 searched ${idx.sparsePolicy}`, pkgDir: w(`p4-${idx.sparsePolicy}`), model: f.model, assignment: all4 },
    );
  }

  // --- the measured cluster: GFLOPS inside each device's quota, on the units of each model family
  const measureReps = o.quick ? 8 : 20;
  // Measure on the fastest links: the per-request cost must not include wire effects the model carries itself.
  emu.setBandwidth(Math.max(...o.bandwidths));
  emu.sh(['measure', '--out', join(o.outDir, 'cluster.yaml'), '--package', byName('fmnist-p1'), '--package', byName('fmnist-p4-none'), '--reps', String(measureReps),
    '--service-package', byName('fmnist-p4-none'), '--service-n', String(o.quick ? 20 : 40)], { timeoutMs: 600_000 });
  const base: Record<string, Cluster> = { fmnist: parseClusterYaml(readFileSync(join(o.outDir, 'cluster.yaml'), 'utf8'), 'cluster.yaml') };
  for (const f of families) {
    const file = `cluster-${f.model}.yaml`;
    emu.sh(['measure', '--out', join(o.outDir, file), '--package', join(f.dir, `${f.model}-p1`), '--package', join(f.dir, `${f.model}-p4-none`), '--reps', String(o.quick ? 3 : 6),
      '--service-package', join(f.dir, `${f.model}-p4-none`), '--service-n', String(o.quick ? 10 : 20)], { timeoutMs: 600_000 });
    base[f.model] = parseClusterYaml(readFileSync(join(o.outDir, file), 'utf8'), file);
  }
  o.log(`[${stamp()}] measured GFLOPS per device: ` + Object.entries(base).map(([k, c]) => `${k} units ${c.nodes.map((n) => n.gflops.toFixed(1)).join(', ')}`).join('; '));
  for (const [k, c] of Object.entries(base)) {
    o.log(`[${stamp()}] ${k} service costs: request ms ${c.nodes.map((n) => n.perRequestOverheadMs?.toFixed(1)).join(', ')}; message ms ` +
      `${c.nodes.map((n) => n.perMessageOverheadMs?.toFixed(2)).join(', ')}; ms/MB ${c.nodes.map((n) => n.cpuMsPerMB?.toFixed(0)).join(', ')}; ` +
      `router request ms ${c.router.kind === 'own' ? c.router.perRequestOverheadMs?.toFixed(1) : '-'}`);
  }

  // Goodput of a link at each bandwidth (TCP over the tbf-shaped veth pair), used as the planner's bandwidth.
  const goodput = new Map<number, number>();
  for (const b of o.bandwidths) {
    emu.setBandwidth(b);
    const bytes = Math.min(50_000_000, Math.round((b * 1e6) / 8 * (o.quick ? 0.3 : 1)));
    const r = JSON.parse(emu.sh(['iperf', 'dev0', 'dev1', '--bytes', String(bytes)]).trim().split('\n').pop()!);
    goodput.set(b, r.mbps);
    o.log(`[${stamp()}] link ${b} Mbit/s: TCP goodput ${r.mbps.toFixed(1)} Mbit/s, RTT ${r.rttMs.toFixed(3)} ms`);
  }
  const clusterFor = (model: string, b: number) => clusterAt(base[model], goodput.get(b)!);

  // --- the planner's pick at every bandwidth (in-process planner core, the catalog and the measured cluster)
  const loaded = await loadCatalog(join(MODELS_DIR, 'catalog.json'));
  for (const b of o.bandwidths) {
    const r = planSearch(loaded.packages, clusterFor('fmnist', b),
      o.accuracyFloor === undefined ? { mode: 'latency' } : { mode: 'latency', accuracyFloor: o.accuracyFloor });
    const pkgDir = join(loaded.root, r.chosen.pkg.path);
    const assignment = r.chosen.assignment;
    const same = configs.find((c) => c.model === 'fmnist' && c.pkgDir === pkgDir && c.only === undefined
      && new Set(c.assignment).size === c.assignment.length && new Set(assignment).size === assignment.length && c.assignment.length === assignment.length);
    o.log(`[${stamp()}] planner at ${b} Mbit/s picks ${r.chosen.pkg.name} on ${assignment.map((i) => base.fmnist.nodes[i].name).join(',')} (predicted ${r.chosen.prediction.latencyMs.toFixed(2)} ms)`);
    configs.push({ config: `planner -> ${r.chosen.pkg.name}`, pkgDir, model: 'fmnist', assignment, only: b, ...(same ? { reuse: same.config } : {}) } as Config);
  }

  // --- measure
  // Latency: every configuration of a group is up at once, each on its own ports, and each bandwidth's point is
  // measured in `passes` interleaved, mirrored passes (A B C ... C B A ...) that are pooled into one row, so a slow
  // phase of the shared machine (the quarter-core devices change speed 2-5x within minutes) lands on every
  // configuration alike. Throughput and accuracy stay per configuration, after the latency passes.
  const sizes = latencySizes(o.quick, 'fmnist');
  const wideSizes = latencySizes(o.quick, 'random');
  const sizeOf = (m: ModelFamily) => (m === 'fmnist' ? sizes : wideSizes);
  const points = new Map<string, Row>();
  const accuracyOf = new Map<string, { acc: number | null; n: number }>();
  const routerIp = emu.addr('ctl');
  const ips = Array.from({ length: o.devices }, (_, i) => emu.addr(`dev${i}`));

  // One deployment (processes + ports) per distinct package and placement; configurations sharing one (the planner's
  // pick at two bandwidths) share its processes.
  interface Deployment {
    key: string; pkgDir: string; model: ModelFamily; assignment: number[]; P: number; tag: string;
    pkg: ReturnType<typeof loadPackage>; pm: PackageModel; addrs: string[]; ports: number[]; routerPort: number; warmed: boolean;
  }
  const deployments: Deployment[] = [];
  const depOf = new Map<Config, Deployment>();
  for (const c of configs) {
    if ((c as Config & { reuse?: string }).reuse) continue;
    const key = `${resolvePackageDir(c.pkgDir)}|${c.assignment.join(',')}`;
    let d = deployments.find((x) => x.key === key);
    if (!d) {
      const k = deployments.length;
      const pkg = loadPackage(resolvePackageDir(c.pkgDir));
      const P = pkg.manifest.partitions;
      const ports = Array.from({ length: P }, (_, i) => 7100 + 10 * k + i);
      d = { key, pkgDir: c.pkgDir, model: c.model, assignment: c.assignment, P, pkg, pm: modelOf(pkg.dir),
        tag: `${c.config.replace(/[^A-Za-z0-9]+/g, '_')}`, ports, addrs: c.assignment.map((dev, i) => `${ips[dev]}:${ports[i]}`),
        routerPort: 8001 + k, warmed: false };
      deployments.push(d);
    }
    depOf.set(c, d);
  }
  const bwsOf = (c: Config) => (c.only !== undefined ? [c.only] : o.bandwidths);
  const loadgen = (d: Deployment, args: string[], seconds: number) => JSON.parse(lastLine(emu.execIn('ctl', ['node',
    join(REPO, 'dist', 'src', 'tools', 'bench', 'loadgen.js'), '--router', `${routerIp}:${d.routerPort}`, ...args,
    '--max-seconds', String(seconds)], (seconds + 120) * 1000)));

  // Up to MAX_GROUP_PROCS partitions at once (~130 MB RSS each; start-up on a quarter core takes seconds per process).
  const groups = groupByFamily(deployments.map((d) => ({ family: d.model, procs: d.P })), MAX_GROUP_PROCS);
  for (const [gi, group] of groups.entries()) {
    const deps = group.map((i) => deployments[i]);
    const pids: number[] = [];
    try {
      o.log(`[${stamp()}] group ${gi + 1}/${groups.length}: starting ${deps.map((d) => `${d.tag} (${d.P})`).join(', ')}`);
      for (const d of deps) {
        for (let i = 0; i < d.P; i++) {
          pids.push(emu.spawn(`dev${d.assignment[i]}`, join(logDir, `${d.tag}-p${i}.log`), ['node', ...SERVE_NODE_FLAGS, join(REPO, 'bin', 'edgesplit.mjs'), 'serve', 'partition',
            '--package', d.pkg.dir, '--index', String(i), '--host', ips[d.assignment[i]], '--port', String(d.ports[i]),
            '--peers', d.addrs.join(','), '--measure', 'false', '--default-timeout-ms', '60000']));
        }
      }
      // The router opens a partition's circuit after a few failed calls: start it once every partition is ready.
      // Partitions sharing a device start on one quarter core together: allow each its own start-up time.
      const perDevice = Math.max(...Array.from({ length: o.devices }, (_, dev) => deps.reduce((t, d) => t + d.assignment.filter((x) => x === dev).length, 0)));
      for (const d of deps) {
        for (let i = 0; i < d.P; i++) await waitForLine(join(logDir, `${d.tag}-p${i}.log`), '"msg":"ready"', 120_000 * perDevice);
        pids.push(emu.spawn('ctl', join(logDir, `${d.tag}-router.log`), ['node', ...SERVE_NODE_FLAGS, join(REPO, 'bin', 'edgesplit.mjs'), 'serve', 'router',
          '--package', d.pkg.dir, '--partitions', d.addrs.join(','), '--host', routerIp, '--port', String(d.routerPort), '--timeout-ms', '60000']));
      }
      const groupConfigs = configs.filter((c) => deps.includes(depOf.get(c)!));
      for (const b of o.bandwidths) {
        const at = groupConfigs.filter((c) => bwsOf(c).includes(b));
        if (!at.length) continue;
        emu.setBandwidth(b);
        // Fresh processes run the request path unoptimised for the first hundred or so requests (V8's tiers): warm
        // each before its first pass, as a serving cluster is.
        for (const d of new Set(at.map((c) => depOf.get(c)!))) {
          if (d.warmed) continue;
          loadgen(d, ['--latency-n', '0', '--throughput-n', '0', '--accuracy-n', '0', '--warmup', String(o.quick ? 50 : 100)], sizeOf(d.model).maxSeconds);
          d.warmed = true;
        }
        const sz = sizeOf(at[0].model);
        const counts = splitCount(sz.latencyN, sz.passes);
        const passSeconds = Math.max(1, Math.ceil(sz.latencySeconds / sz.passes));
        const acc = new Map<Config, { passes: number[][]; exchanged: number[]; devTx: number; toRouter: number; requests: number; live?: LiveFigures }>(
          at.map((c) => [c, { passes: [], exchanged: [], devTx: 0, toRouter: 0, requests: 0 }]));
        o.log(`[${stamp()}] ${b} Mbit/s: ${sz.passes} passes of ${counts.join('/')} requests, order ${mirroredOrder(at.map((_, i) => String.fromCharCode(65 + i)), sz.passes).map((s) => s.item).join(' ')} ` +
          `(${at.map((c, i) => `${String.fromCharCode(65 + i)} ${c.config}`).join(', ')})`);
        for (const { item: c, pass } of mirroredOrder(at, sz.passes)) {
          const a = acc.get(c)!;
          const before = emu.counters();
          const lat = loadgen(depOf.get(c)!, ['--latency-n', String(counts[pass]), '--throughput-n', '0', '--accuracy-n', '0',
            '--warmup', String(PASS_WARMUP), '--live', depOf.get(c)!.addrs.join(',')], passSeconds);
          // The last pass's figures (its partitions' and router's windows hold this configuration's recent requests).
          a.live = lat.live;
          const after = emu.counters();
          a.passes[pass] = lat.latencyMs;
          a.exchanged.push(...lat.exchangedBytes);
          for (let dev = 0; dev < o.devices; dev++) a.devTx += after.get(`dev${dev}`)!.tx - before.get(`dev${dev}`)!.tx;
          a.toRouter += after.get('ctl')!.rx - before.get('ctl')!.rx;
          a.requests += lat.latencyMs.length + PASS_WARMUP;
        }
        for (const c of at) {
          const d = depOf.get(c)!;
          const a = acc.get(c)!;
          const wantAcc = c.model === 'fmnist' && !accuracyOf.has(c.pkgDir);
          const thr = loadgen(d, ['--latency-n', '0', '--throughput-n', String(sz.throughputN), '--concurrency', String(sz.concurrency),
            '--accuracy-n', String(wantAcc ? sz.accuracyN : 0), '--warmup', '0'], sz.maxSeconds);
          if (wantAcc) accuracyOf.set(c.pkgDir, { acc: thr.accuracy.n ? thr.accuracy.correct / thr.accuracy.n : null, n: thr.accuracy.n });
          const pooled = poolPasses(a.passes.map((p) => p ?? []));
          const pred = predictLatency(d.pm, clusterFor(c.model, b), c.assignment);
          const cal = a.live ? calibratedPrediction(d.pm, clusterFor(c.model, b), c.assignment, a.live) : undefined;
          const accuracy = accuracyOf.get(c.pkgDir);
          const r: Row = {
            config: c.config, package: d.pkg.manifest.name, model: c.model, bandwidthMbps: b,
            assignment: c.assignment.map((dev) => `dev${dev}`),
            p50Ms: round(pooled.p50), p95Ms: round(pooled.p95), throughput: round(thr.throughput.perSecond),
            predictedMs: round(pred.latencyMs), measuredOverPredicted: round(pooled.p50 / pred.latencyMs, 3),
            exchangedBytesPerImage: a.exchanged.length ? quantile(a.exchanged, 0.5) : null,
            wireBytesPerImage: Math.round(Math.max(0, a.devTx - a.toRouter) / Math.max(1, a.requests)),
            expectedBytesPerImage: d.pm.exchangedBytes,
            accuracy: accuracy?.acc == null ? null : round(accuracy.acc, 4), accuracyN: accuracy?.n ?? 0,
            speedupVsP1: null, idealSpeedup: d.P, speedupVsOneDevice: null,
            flopsPerPartition: d.pkg.manifest.stem.flops + d.pkg.manifest.blocks.reduce((t, u) => t + u.flops, 0),
            latencyN: pooled.n, passP50Ms: pooled.passP50,
            ...(cal ? { calibratedMs: round(cal.latencyMs), measuredOverCalibrated: round(pooled.p50 / cal.latencyMs, 3), live: compactLive(a.live!) } : {}),
          };
          points.set(`${c.config}@${b}`, r);
          o.log(`[${stamp()}]   ${c.config} ${b} Mbit/s: p50 ${r.p50Ms} ms (passes ${r.passP50Ms.join(' / ')}; n ${r.latencyN}), p95 ${r.p95Ms} ms, ${r.throughput} img/s, ` +
            `predicted ${r.predictedMs} ms (x${r.measuredOverPredicted}), calibrated ${r.calibratedMs ?? '-'} ms (x${r.measuredOverCalibrated ?? '-'}), exchanged ${r.exchangedBytesPerImage ?? '-'} B/img (wire ${r.wireBytesPerImage})`);
        }
      }
    } finally {
      for (const pid of pids) await emu.stop(pid);
    }
  }
  // The rows in configuration order; a planner pick that is an existing configuration repeats its row.
  const rows: Row[] = [];
  for (const c of configs) {
    const reuse = (c as Config & { reuse?: string }).reuse;
    for (const b of bwsOf(c)) {
      const r = points.get(`${reuse ?? c.config}@${b}`);
      if (r) rows.push({ ...r, config: c.config });
    }
  }
  // speedup vs P=1 of the same model family at the same bandwidth; the ideal is the FLOP ratio, not P
  for (const r of rows) {
    const ref = rows.find((x) => x.model === r.model && x.bandwidthMbps === r.bandwidthMbps && /^(\S+ )?P=1$/.test(x.config));
    r.speedupVsP1 = ref ? round(ref.p50Ms / r.p50Ms, 3) : null;
    if (ref) r.idealSpeedup = round(ref.flopsPerPartition / r.flopsPerPartition, 2);
    const one = rows.find((x) => x.model === r.model && x.config.endsWith('P=4 none, one device'));
    r.speedupVsOneDevice = one ? round(one.p50Ms / r.p50Ms, 3) : null;
  }
  o.log(`[${stamp()}] done`);
  return rows;
}

/** loadgen's `live`: the partitions' Describe figures and the router's RouterStats.Live. */
interface LiveFigures {
  partitions: LivePartition[];
  router: RouterLive & { planHash: string };
}

/** One-shot calibration (every estimate from this window, alpha 1) and the model's prediction on it. */
export function calibratedPrediction(pm: PackageModel, cluster: Cluster, assignment: number[], live: LiveFigures) {
  const o = { ...DEFAULT_CALIBRATION, alpha: 1, minRuns: 10, minPushes: 10 };
  const c = calibrate(cluster, emptyCalibration(), pm, assignment, live.partitions, Date.now(), o, live.router);
  return predictLatency(pm, c.cluster, assignment);
}

function compactLive(l: LiveFigures): NonNullable<Row['live']> {
  return l.partitions.map((p) => ({ partition: p.index, computeMs: round(p.computeMsP50), pushMs: p.pushes.map((x) => round(x.transferMsP50)),
    routerOverheadMs: ((o) => (o ? round(o.overheadMsP50) : null))(l.router.partitions.find((x) => x.partition === p.index && x.count > 0)) }));
}

/** Resolves once `file` holds `needle` (a process's ready line); throws with the file's tail after `timeoutMs`. */
export async function waitForLine(file: string, needle: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { /* not yet written */ }
    if (text.includes(needle)) return;
    if (Date.now() > until) throw new Error(`${file}: no ${needle} after ${timeoutMs / 1000} s:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

export function formatTable(rows: Row[]): string {
  const head = ['config', 'Mbit/s', 'p50 ms', 'p95 ms', 'img/s', 'pred ms', 'meas/pred', 'B/img', 'wire B/img', 'accuracy',
    'vs P=1 / ideal', 'vs one device'];
  const body = rows.map((r) => [r.config, String(r.bandwidthMbps), r.p50Ms.toFixed(1), r.p95Ms.toFixed(1), r.throughput.toFixed(1),
    r.predictedMs.toFixed(1), r.measuredOverPredicted.toFixed(2), r.exchangedBytesPerImage == null ? '-' : String(r.exchangedBytesPerImage),
    String(r.wireBytesPerImage), r.accuracy == null ? (r.model !== 'fmnist' ? 'n/a (random)' : '-') : (r.accuracy * 100).toFixed(1) + '%',
    r.speedupVsP1 == null ? '-' : `${r.speedupVsP1.toFixed(2)}x / ${r.idealSpeedup}`,
    r.speedupVsOneDevice == null ? '-' : `${r.speedupVsOneDevice.toFixed(2)}x`]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/** The fitted per-request service cost of each device (ms), from the cluster file `measure` wrote into `dir`. */
export function serviceCosts(dir: string): number[] {
  const c = parseClusterYaml(readFileSync(join(dir, 'cluster.yaml'), 'utf8'), 'cluster.yaml');
  return c.nodes.map((n) => round(n.perRequestOverheadMs ?? 0, 2));
}

export function writeResults(dir: string, rows: Row[], meta: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const f = join(dir, 'bench.json');
  writeFileSync(f, JSON.stringify({ ...meta, rows }, null, 2) + '\n');
  return f;
}

/** Runs a plot script of src/tools/bench (json in, png out) and resolves with its exit code. */
export function runPlot(json: string, png: string, script = 'plot.py'): Promise<number> {
  return new Promise((res) => {
    const p = spawn('/usr/bin/python3', [join(REPO, 'src', 'tools', 'bench', script), json, png], { stdio: 'inherit' });
    p.on('exit', (c) => res(c ?? 1));
    p.on('error', () => res(1));
  });
}

/** The package at `dir` ships fused runs of units (manifest onnx.fused). */
function isFused(dir: string): boolean {
  try {
    return Array.isArray(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).onnx?.fused);
  } catch {
    return false;
  }
}

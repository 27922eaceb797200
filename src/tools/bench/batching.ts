// `edgesplit bench --scenario batching`: throughput and tail latency as concurrent clients grow, with the router's
// dynamic batching on and off, for P = 1 on one emulated device and the default P = 4 package on four. Both routers of
// a package front the same partition processes; every client count measures the four candidates in mirrored passes
// (A B C D D C B A), so a slow phase of the shared machine lands on all of them alike.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackage, resolvePackageDir, type ModelPackage } from '../../runtime/manifest.ts';
import { quantile } from '../../runtime/stats.ts';
import { SERVE_NODE_FLAGS, defaultPackageName } from '../cli/stack.ts';
import { mirroredOrder } from './interleave.ts';
import { Emulator, REPO, waitForLine, withEmulator } from './run.ts';

export interface BatchingBenchOptions {
  outDir: string;
  cpu: number;
  mbps: number;
  clients: number[];
  quick: boolean;
  log: (s: string) => void;
}

export interface BatchingRow {
  config: 'P=1' | 'P=4';
  package: string;
  batching: boolean;
  clients: number;
  /** Requests answered per second over the point's passes. */
  throughputPerS: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Each pass's throughput, in measurement order. */
  passPerS: number[];
  /** Requests per batch through the partitions, mean over the passes (the router's RouterStats.Live); null: off. */
  meanBatch: number | null;
}

export interface BatchingSummary {
  /** P = 4, 16 clients: throughput with batching over without (target >= 2). */
  p4BatchingGainAt16: number | null;
  /** P = 4 with batching over P = 1 (one device) with batching, 16 clients (target >= 3); and over P = 1 without. */
  p4OverP1At16: number | null;
  p4OverP1NoBatchingAt16: number | null;
  /** P = 4, one client: p50 with batching over without (target <= 1.05). */
  p4OneClientP50Ratio: number | null;
}

interface Candidate {
  config: 'P=1' | 'P=4';
  pkg: ModelPackage;
  batching: boolean;
  router: string;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

/** The figures the issue asks for, from the rows (null where a row is missing). */
export function summarizeBatching(rows: readonly BatchingRow[]): BatchingSummary {
  const at = (config: string, batching: boolean, clients: number) =>
    rows.find((r) => r.config === config && r.batching === batching && r.clients === clients);
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? null : round(a / b, 3));
  return {
    p4BatchingGainAt16: ratio(at('P=4', true, 16)?.throughputPerS, at('P=4', false, 16)?.throughputPerS),
    p4OverP1At16: ratio(at('P=4', true, 16)?.throughputPerS, at('P=1', true, 16)?.throughputPerS),
    p4OverP1NoBatchingAt16: ratio(at('P=4', true, 16)?.throughputPerS, at('P=1', false, 16)?.throughputPerS),
    p4OneClientP50Ratio: ratio(at('P=4', true, 1)?.p50Ms, at('P=4', false, 1)?.p50Ms),
  };
}

/** Requests per point: enough for a p99 at every client count, bounded in time by loadgen's --max-seconds. */
export const requestsAt = (clients: number, quick: boolean) => (quick ? 100 + 20 * clients : 200 + 40 * clients);

type BatchingResult = { rows: BatchingRow[]; summary: BatchingSummary; packages: Record<string, string> };

export function runBatchingBench(o: BatchingBenchOptions): Promise<BatchingResult> {
  return withEmulator(o.log, (emu) => batchingInside(emu, o));
}

async function batchingInside(emu: Emulator, o: BatchingBenchOptions): Promise<BatchingResult> {
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(0)}s]`;
  const pids: number[] = [];
  try {
    o.log(`${stamp()} emulator up: 4 devices, ${o.cpu} core each, ${o.mbps} Mbit/s (prefix ${emu.prefix})`);
    emu.up(4, o.mbps, o.cpu);
    const p1 = loadPackage(resolvePackageDir('fmnist-p1'));
    const p4 = loadPackage(resolvePackageDir(defaultPackageName()));
    const ips = [0, 1, 2, 3].map((i) => emu.addr(`dev${i}`));
    const ctl = emu.addr('ctl');
    const logDir = join(o.outDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const deployments = [{ config: 'P=1' as const, pkg: p1, devices: [0], port: 7100 }, { config: 'P=4' as const, pkg: p4, devices: [0, 1, 2, 3], port: 7110 }];
    for (const d of deployments) {
      const addrs = d.devices.map((dev, i) => `${ips[dev]}:${d.port + i}`);
      d.devices.forEach((dev, i) => pids.push(emu.spawn(`dev${dev}`, join(logDir, `${d.config.replace('=', '')}-p${i}.log`), ['node', ...SERVE_NODE_FLAGS,
        join(REPO, 'bin', 'edgesplit.mjs'), 'serve', 'partition', '--package', d.pkg.dir, '--index', String(i), '--host', ips[dev],
        '--port', String(d.port + i), '--peers', addrs.join(','), '--measure', 'false', '--default-timeout-ms', '60000'])));
      (d as typeof d & { addrs: string[] }).addrs = addrs;
    }
    for (const d of deployments) {
      for (let i = 0; i < d.devices.length; i++) await waitForLine(join(logDir, `${d.config.replace('=', '')}-p${i}.log`), '"msg":"ready"', 240_000);
    }
    o.log(`${stamp()} partitions ready: ${p1.manifest.name} on dev0, ${p4.manifest.name} on dev0..3; starting a router with and one without batching for each`);
    const cands: Candidate[] = [];
    let port = 8001;
    for (const d of deployments) {
      for (const batching of [true, false]) {
        const tag = `${d.config.replace('=', '')}-router-${batching ? 'batching' : 'single'}`;
        const routerPort = port++;
        pids.push(emu.spawn('ctl', join(logDir, `${tag}.log`), ['node', ...SERVE_NODE_FLAGS, join(REPO, 'bin', 'edgesplit.mjs'), 'serve', 'router',
          '--package', d.pkg.dir, '--partitions', (d as typeof d & { addrs: string[] }).addrs.join(','), '--host', ctl, '--port', String(routerPort),
          '--timeout-ms', '60000', '--max-in-flight', '256', '--dynamic-batching', String(batching)]));
        cands.push({ config: d.config, pkg: d.pkg, batching, router: `${ctl}:${routerPort}` });
      }
    }
    const loadgen = (c: Candidate, args: string[], seconds: number) => JSON.parse(lastLine(emu.execIn('ctl', ['node',
      join(REPO, 'dist', 'src', 'tools', 'bench', 'loadgen.js'), '--router', c.router, '--latency-n', '0', '--accuracy-n', '0', ...args,
      '--max-seconds', String(seconds)], (seconds + 120) * 1000)));
    // V8 runs the request path unoptimised for the first hundred or so requests, and onnxruntime plans its memory
    // for each batch size it meets: warm every router and partition at the largest client count (so every batch
    // size is seen) before anything is timed.
    const most = Math.max(...o.clients);
    for (const c of cands) loadgen(c, ['--throughput-n', String((o.quick ? 10 : 20) * Math.max(8, most)), '--concurrency', String(most), '--warmup', '20'], 90);
    o.log(`${stamp()} warmed; order per client count: ${mirroredOrder(cands.map((_, i) => String.fromCharCode(65 + i)), 2).map((s) => s.item).join(' ')} ` +
      `(${cands.map((c, i) => `${String.fromCharCode(65 + i)} ${c.config} batching ${c.batching ? 'on' : 'off'}`).join(', ')})`);

    const rows: BatchingRow[] = [];
    for (const clients of o.clients) {
      const n = requestsAt(clients, o.quick);
      const perPass = Math.ceil(n / 2);
      const got = new Map<Candidate, { lat: { p50: number; p99: number; n: number }[]; perS: number[]; images: number; seconds: number; batches: number; batched: number }>(
        cands.map((c) => [c, { lat: [], perS: [], images: 0, seconds: 0, batches: 0, batched: 0 }]));
      for (const { item: c } of mirroredOrder(cands, 2)) {
        const r = loadgen(c, ['--throughput-n', String(perPass), '--concurrency', String(clients), '--warmup', '3', '--batch-stats'], o.quick ? 20 : 40);
        const g = got.get(c)!;
        g.perS.push(round(r.throughput.perSecond));
        g.images += r.throughput.images;
        g.seconds += r.throughput.seconds;
        g.lat.push({ p50: r.throughput.p50Ms, p99: r.throughput.p99Ms, n: r.throughput.images });
        g.batches += r.batching?.batches ?? 0;
        g.batched += r.batching?.requests ?? 0;
      }
      for (const c of cands) {
        const g = got.get(c)!;
        // Over the passes: the p50 is their p50s' middle, the p99 the worse pass's (conservative).
        const row: BatchingRow = { config: c.config, package: c.pkg.manifest.name, batching: c.batching, clients,
          throughputPerS: round(g.images / g.seconds), p50Ms: round(quantile(g.lat.map((l) => l.p50), 0.5)),
          p99Ms: round(Math.max(...g.lat.map((l) => l.p99))), requests: g.images, passPerS: g.perS,
          meanBatch: g.batches ? round(g.batched / g.batches) : null };
        rows.push(row);
        o.log(`${stamp()}   ${clients} clients, ${c.config} batching ${c.batching ? 'on ' : 'off'}: ${row.throughputPerS} req/s ` +
          `(passes ${g.perS.join(' / ')}), p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, mean batch ${row.meanBatch ?? '-'}`);
      }
    }
    o.log(`${stamp()} done`);
    return { rows, summary: summarizeBatching(rows), packages: { 'P=1': p1.manifest.name, 'P=4': p4.manifest.name } };
  } finally {
    for (const pid of pids) await emu.stop(pid).catch(() => {});
  }
}

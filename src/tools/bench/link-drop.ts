// `edgesplit bench --scenario link-drop`: the closed loop on the emulated edge cluster. The planner (`up --planner`,
// inside the emulator's ctl namespace) deploys its own choice at 1000 Mbit/s, a paced batch-1 load runs through
// the router, two device links drop mid-run and are restored later; the JSON says how fast the loop switched
// plans, whether any answer failed or was degraded, and how the latency during the drop compares with the
// planner's prediction for the plan then serving.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../../runtime/manifest.ts';
import { SERVE_NODE_FLAGS } from '../cli/stack.ts';
import { Emulator, REPO, withEmulator } from './run.ts';
import { summarizeLinkDrop, type LinkDropSummary, type TimelineRow, type LoopEvent } from './link-drop-summary.ts';

export interface LinkDropOptions {
  outDir: string;
  cpu: number;
  /** Planner's accuracy floor. */
  accuracyFloor: number;
  exchangingOnly: boolean;
  startMbps: number;
  dropMbps: number;
  /** The devices whose links drop; default: the first two the deployed plan uses (the drop must touch the plan). */
  dropNodes?: string[];
  /**
   * tbf bucket of the dropped links (bytes). The bench's 32 KiB (5 ms at the rate, at least 32 KiB) lets the few KB
   * of a request pass at line rate on a 10 Mbit/s link; a small bucket makes each message wait for its tokens as on
   * a real link of that speed.
   */
  dropBurstBytes: number;
  beforeS: number;
  duringS: number;
  afterS: number;
  intervalMs: number;
  log: (s: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

export function runLinkDrop(o: LinkDropOptions): Promise<LinkDropSummary & { dropNodes: string[]; planNodesBefore: string[] }> {
  return withEmulator(o.log, (emu) => linkDropInside(emu, o));
}

async function linkDropInside(emu: Emulator, o: LinkDropOptions): Promise<LinkDropSummary & { dropNodes: string[]; planNodesBefore: string[] }> {
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(0)}s]`;
  {
    o.log(`${stamp()} emulator up: 4 devices, ${o.cpu} core each, ${o.startMbps} Mbit/s (prefix ${emu.prefix})`);
    emu.up(4, o.startMbps, o.cpu);
    const catalog = JSON.parse(readFileSync(join(MODELS_DIR, 'catalog.json'), 'utf8')) as { packages: { name: string; path: string }[] };
    const pkg = (n: string) => join(MODELS_DIR, catalog.packages.find((p) => p.name === n)!.path);
    const clusterFile = join(o.outDir, 'cluster.yaml');
    o.log(`${stamp()} measuring the devices (GFLOPS, per-call, per-message, per-request costs) for the planner's priors`);
    emu.sh(['measure', '--out', clusterFile, '--package', pkg('fmnist-p1'), '--package', pkg('fmnist-p4-none'), '--reps', '8',
      '--service-package', pkg('fmnist-p4-none'), '--service-n', '20'], { timeoutMs: 600_000 });
    const iperf = JSON.parse(emu.sh(['iperf', 'dev0', 'dev1', '--bytes', String(Math.round(o.startMbps * 1e6 / 8 * 0.3))]).trim().split('\n').pop()!);
    // The planner's bandwidth is the link's measured TCP goodput, as in the bench.
    writeFileSync(clusterFile, readFileSync(clusterFile, 'utf8').replace(/bandwidthMbps: [0-9.]+/g, `bandwidthMbps: ${iperf.mbps.toFixed(1)}`));
    o.log(`${stamp()} link goodput ${iperf.mbps.toFixed(1)} Mbit/s; starting the closed loop (edgesplit up --planner) in ctl`);

    const ctl = emu.addr('ctl');
    const events = join(o.outDir, 'events.jsonl');
    writeFileSync(events, '');
    const upLog = join(o.outDir, 'up.log');
    emu.spawn('ctl', upLog, ['node', ...SERVE_NODE_FLAGS, join(REPO, 'bin', 'edgesplit.mjs'), 'up', '--planner', '--json', '--cluster', clusterFile,
      '--accuracy-floor', String(o.accuracyFloor), ...(o.exchangingOnly ? ['--exchanging-only'] : []), '--interval-ms', String(o.intervalMs),
      '--events', events, '--emulator-prefix', emu.prefix, '--emulator-mount-ns', `/proc/${process.pid}/ns/mnt`, '--host', ctl]);
    const ready = await waitFor('the closed loop to serve', () => {
      const line = read(upLog).split('\n').find((l) => l.startsWith('{"router"'));
      if (line) return JSON.parse(line) as { router: string; package: string; planHash: string };
      if (/Error|error:/.test(read(upLog)) && !read(upLog).includes('"router"')) throw new Error(`up --planner failed:\n${read(upLog).slice(-2000)}`);
      return undefined;
    }, 300_000);
    o.log(`${stamp()} serving ${ready.package} (plan ${ready.planHash}); router ${ready.router}`);
    const deployedNodes = await waitFor('the deployed event', () => {
      const e = read(events).split('\n').filter(Boolean).map((l) => JSON.parse(l) as LoopEvent & { nodes?: string[] }).find((x) => x.event === 'deployed');
      return e?.nodes;
    }, 30_000);
    const distinct = [...new Set(deployedNodes)];
    const dropNodes = o.dropNodes ?? [...distinct, ...['dev0', 'dev1', 'dev2', 'dev3'].filter((n) => !distinct.includes(n))].slice(0, 2);

    const timeline = join(o.outDir, 'timeline.json');
    const loadLog = join(o.outDir, 'load.log');
    const total = o.beforeS + o.duringS + o.afterS;
    const loadPid = emu.spawn('ctl', loadLog, ['node', join(REPO, 'dist', 'src', 'tools', 'bench', 'loadgen.js'), '--router', ready.router,
      '--latency-n', '0', '--throughput-n', '0', '--accuracy-n', '0', '--warmup', '100', '--max-seconds', '60',
      '--steady-seconds', String(total), '--steady-interval-ms', '50', '--timeline', timeline]);
    const startedAt = await waitFor('the steady load to start', () => {
      const m = /steady load started at (\d+)/.exec(read(loadLog));
      return m ? Number(m[1]) : undefined;
    }, 120_000);
    o.log(`${stamp()} steady load: one batch-1 request every 50 ms for ${total} s`);
    await sleep(Math.max(0, startedAt + o.beforeS * 1000 - Date.now()));
    const dropAt = Date.now();
    for (const n of dropNodes) emu.sh(['set-link', n, '--mbps', String(o.dropMbps), '--burst', String(o.dropBurstBytes)]);
    o.log(`${stamp()} dropped ${dropNodes.join(', ')} to ${o.dropMbps} Mbit/s (tbf burst ${o.dropBurstBytes} B)`);
    await sleep(Math.max(0, dropAt + o.duringS * 1000 - Date.now()));
    const restoreAt = Date.now();
    for (const n of dropNodes) emu.sh(['set-link', n, '--mbps', String(o.startMbps)]);
    o.log(`${stamp()} restored ${dropNodes.join(', ')} to ${o.startMbps} Mbit/s`);
    await waitFor('the load to finish', () => {
      try { process.kill(loadPid, 0); return undefined; } catch { return true; }
    }, (o.afterS + 120) * 1000);
    const tl = JSON.parse(readFileSync(timeline, 'utf8')) as { startedAt: number; rows: TimelineRow[] };
    const ev = read(events).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LoopEvent);
    const s = summarizeLinkDrop({ startedAt: tl.startedAt, rows: tl.rows, events: ev, dropAt, restoreAt });
    o.log(`${stamp()} done: ${s.requests} requests, ${s.failedRequests} failed, ${s.degradedRequests} degraded; ` +
      `switched after ${s.switchedAfterS ?? '-'} s, back after ${s.switchedBackAfterS ?? '-'} s; p50 ${s.p50BeforeMs} -> ${s.p50DuringMs} ms (predicted ${s.predictedDuringMs})`);
    return { ...s, dropNodes, planNodesBefore: deployedNodes };
  }
}

import { runLinkDrop } from '../../bench/link-drop.ts';
import { runBatchingBench } from '../../bench/batching.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Io } from '../main.ts';
import { z } from 'zod';
import { runCommand, type CommandSpec } from '../usage.ts';
import { intValue, switchValue } from './options.ts';
import { DEFAULT_WIDE_DIR, EMULATOR, REPO, formatTable, measurementNote, runBench, runPlot, serviceCosts, writeResults } from '../../bench/run.ts';
import { formatRuntime, runRuntimeBench } from '../../bench/runtime.ts';
import { resolvePackageFlag } from '../stack.ts';

export const runtimeSpec = {
  name: 'bench runtime',
  summary: "the runtime's own cost on loopback (no emulation, no root)",
  help: `Router + P partition processes through the OIP API against the same units in one process, beside bare grpc-js on
the same payloads (a unary call, and a round trip on an open stream), the pre-stream path (one unary call per Run
and per Push) and a stack tracing every request. Latencies in interleaved rounds, throughput with 16 concurrent
clients, peak partition RSS.`,
  settings: {
    quick: { flag: 'quick', kind: 'switch', description: 'fewer rounds and shorter throughput runs (about a minute)' },
    json: { flag: 'json', kind: 'switch', description: 'print the result as one JSON object on the last line of stdout' },
    package: { flag: 'package', arg: 'NAME|DIR', description: "a package name under models/ or a directory (default: the demo's P = 4 package)" },
    noUnary: { flag: 'no-unary', kind: 'switch', description: 'skip the pre-stream path' },
    tracingExportDelay: { flag: 'tracing-export-delay', arg: 'MS', description: "the traced stack's OTEL_BSP_SCHEDULE_DELAY (default: the SDK's 5000)" },
    out: { flag: 'out', arg: 'FILE', description: 'where the JSON is written (default: bench/results/runtime.json in the checkout)' },
  },
} satisfies CommandSpec;

const runtimeSchema = z.object({ quick: switchValue, json: switchValue, package: z.string().optional(), noUnary: switchValue,
  tracingExportDelay: intValue(1).optional(), out: z.string().min(1).optional() });

async function runtime(argv: string[], io: Io): Promise<number> {
  return runCommand(runtimeSpec, runtimeSchema, argv, io, async (v) => {
    const pkg = resolvePackageFlag(v.package);
    const out = v.out ?? join(REPO, 'bench', 'results', 'runtime.json');
    const r = await runRuntimeBench({ pkg, quick: v.quick, compareUnary: !v.noUnary, tracingExportDelayMs: v.tracingExportDelay,
      log: (l) => io.stderr(l) });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(r, null, 2) + '\n');
    io.stdout(formatRuntime(r));
    io.stderr(`results: ${out}`);
    if (v.json) io.stdout(JSON.stringify(r));
    return 0;
  });
}

export const spec = {
  name: 'bench',
  summary: 'benchmark every configuration on an emulated edge cluster (needs root)',
  help: `P=1 on one device, the P=4 baseline, no-exchange and searched policies, the planner's pick, the same architecture
at 4x width and at 3x96x96 input (both with random weights), on 4 network namespaces with tbf-shaped links and a
cgroup CPU quota each (scripts/edge-emulator.sh). Prints a table; --json prints {"rows":[...]} as the last line.`,
  settings: {
    quick: { flag: 'quick', kind: 'switch', description: 'one searched policy, no one-device reference, 2 latency passes, bandwidths 10,1000 unless given (< 12 minutes)' },
    json: { flag: 'json', kind: 'switch', description: 'print {"rows":[...]} as the last line of stdout' },
    bandwidths: { flag: 'bandwidths', arg: 'MBPS,...', description: 'link speeds in Mbit/s (default: 10,100,1000; 10,1000 with --quick)' },
    cpu: { flag: 'cpu', arg: 'SHARE', description: "each device's share of a core, 0.05..1", default: '0.25' },
    noWide: { flag: 'no-wide', kind: 'switch', description: 'skip the 4x-width packages' },
    wideDir: { flag: 'wide-dir', arg: 'DIR', description: 'where the 4x-width random-weight packages are built/reused', default: DEFAULT_WIDE_DIR },
    large: { flag: 'large', kind: 'switch', negatable: true, description: 'also the 3x96x96 RGB regime, latency only (default: on, off with --quick); built in --wide-dir/large96' },
    out: { flag: 'out', arg: 'DIR', description: 'where cluster files, logs and bench.json go (default: bench/results, or a temp dir with --quick)' },
    plot: { flag: 'plot', kind: 'switch', description: 'also draw latency-vs-bandwidth.png into --out (python3 + matplotlib)' },
    accuracyFloor: { flag: 'accuracy-floor', arg: 'X', description: "the planner's accuracy floor for its pick, 0..1 (default: within 0.5 points of the best package; 0.92 for --scenario link-drop)" },
    scenario: { flag: 'scenario', arg: 'NAME', description: 'link-drop: the closed-loop planner under a steady load while two device links drop and come back (JSON summary); batching: throughput and p99 as clients grow, dynamic batching on and off, P=1 and P=4' },
    clients: { flag: 'clients', arg: 'N,...', description: 'with --scenario batching: the concurrent client counts', default: '1,2,4,8,16,32' },
    dropMbps: { flag: 'drop-mbps', arg: 'MBPS', description: 'with --scenario link-drop: the dropped links\' speed', default: '10' },
    allPackages: { flag: 'all-packages', kind: 'switch', description: 'with --scenario link-drop: plan with every package, not only those whose policy exchanges' },
  },
  subcommands: { runtime: "the runtime's own cost on loopback (no root needed)" },
} satisfies CommandSpec;

const fraction = (what: string) => z.string().regex(/^\d*\.?\d+$/, `expected ${what}`).transform(Number);
const schema = z.object({
  quick: switchValue,
  json: switchValue,
  bandwidths: z.string().regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'expected integers 1..10000 Mbit/s separated by commas').optional()
    .refine((s) => s === undefined || s.split(',').every((b) => Number(b) >= 1 && Number(b) <= 10000), 'expected integers 1..10000 Mbit/s separated by commas'),
  cpu: fraction('a share of one core in 0.05..1').pipe(z.number().min(0.05, 'expected a share of one core in 0.05..1').max(1, 'expected a share of one core in 0.05..1')),
  noWide: switchValue,
  wideDir: z.string().min(1),
  large: z.enum(['true', 'false']).optional(),
  out: z.string().optional(),
  plot: switchValue,
  accuracyFloor: fraction('a fraction in 0..1').pipe(z.number().max(1, 'expected a fraction in 0..1')).optional(),
  scenario: z.enum(['link-drop', 'batching']).optional(),
  clients: z.string().regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'expected client counts 1..64 separated by commas')
    .transform((s) => s.split(',').map(Number)).pipe(z.array(z.number().int().min(1, 'expected client counts 1..64').max(64, 'expected client counts 1..64'))),
  dropMbps: z.string().regex(/^\d+$/, 'expected an integer 1..10000').transform(Number).pipe(z.number().min(1).max(10000)),
  allPackages: switchValue,
});

export async function run(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'runtime') return runtime(argv.slice(1), io);
  return runCommand(spec, schema, argv, io, async (v) => {
    const quick = v.quick;
    const bandwidths = (v.bandwidths ?? (quick ? '10,1000' : '10,100,1000')).split(',').map((s) => s.trim());
    const cpu = v.cpu;
    const accuracyFloor = v.accuracyFloor;
    const large = v.large === 'true' || (!quick && v.large !== 'false');
    const outDir = v.out ?? (quick ? join(tmpdir(), `edgesplit-bench-${process.pid}`) : join(REPO, 'bench', 'results'));

    // Preflight: root and kernel features, before anything is created.
    const check = spawnSync(EMULATOR, ['check'], { encoding: 'utf8', env: { ...process.env, ES_QUIET: '1', ES_PREFIX: 'esemuchk' } });
    if (check.status !== 0) {
      io.stderr(`edgesplit bench: cannot emulate the edge cluster on this machine:\n${(check.stderr || check.error?.message || '').trim()}`);
      return 1;
    }
    const log = (s: string) => io.stderr(s);
    const started = new Date().toISOString();
    if (v.scenario === 'link-drop') {
      const dir = v.out ?? join(tmpdir(), `edgesplit-link-drop-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const o = { outDir: dir, cpu, accuracyFloor: accuracyFloor ?? 0.92, exchangingOnly: !v.allPackages, startMbps: 1000, dropMbps: v.dropMbps,
        dropBurstBytes: 3000, beforeS: 40, duringS: 70, afterS: 70, intervalMs: 1000, log };
      const s = await runLinkDrop(o);
      const result = { scenario: 'link-drop', command: `edgesplit bench ${argv.join(' ')}`.trim(), started, finished: new Date().toISOString(),
        node: process.version, cpuPerDevice: cpu, accuracyFloor: o.accuracyFloor, exchangingOnly: o.exchangingOnly, startMbps: o.startMbps,
        dropMbps: o.dropMbps, dropBurstBytes: o.dropBurstBytes, seconds: { before: o.beforeS, during: o.duringS, after: o.afterS }, ...s };
      writeFileSync(join(dir, 'link-drop.json'), JSON.stringify(result, null, 2) + '\n');
      log(`results: ${join(dir, 'link-drop.json')} (timeline.json, events.jsonl and the logs beside it)`);
      io.stdout(JSON.stringify(result));
      return 0;
    }
    if (v.scenario === 'batching') {
      const dir = v.out ?? join(tmpdir(), `edgesplit-batching-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const mbps = Number(bandwidths[bandwidths.length - 1]);
      const r = await runBatchingBench({ outDir: dir, cpu, mbps: v.bandwidths ? mbps : 1000, clients: v.clients, quick, log });
      const result = { scenario: 'batching', command: `edgesplit bench ${argv.join(' ')}`.trim(), started, finished: new Date().toISOString(),
        node: process.version, cpuPerDevice: cpu, devices: 4, mbps: v.bandwidths ? mbps : 1000, quick, ...r };
      const file = join(dir, 'batching.json');
      writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
      log(`results: ${file}`);
      if (v.plot) {
        const code = await runPlot(file, join(dir, 'batching.png'), 'plot-batching.py');
        if (code !== 0) log('edgesplit bench: the plot failed (python3 with matplotlib needed); the numbers are in batching.json');
      }
      io.stdout(JSON.stringify(result));
      return 0;
    }
    const rows = await runBench({
      quick, bandwidths: bandwidths.map(Number), cpu, devices: 4, wide: !v.noWide,
      wideDir: v.wideDir, large, outDir, log, accuracyFloor,
    });
    const file = writeResults(outDir, rows, {
      command: `edgesplit bench ${argv.join(' ')}`.trim(), started, finished: new Date().toISOString(), node: process.version, cpuPerDevice: cpu,
      devices: 4, note: `link latency is not emulated (no netem); 4x-width and 96px rows use random weights (latency only); ${measurementNote(quick)}`,
      accuracyFloor: accuracyFloor ?? null, serviceCosts: serviceCosts(outDir),
    });
    log(`results: ${file}`);
    if (v.plot) {
      const code = await runPlot(file, join(outDir, 'latency-vs-bandwidth.png'));
      if (code !== 0) log('edgesplit bench: the plot failed (python3 with matplotlib needed); the numbers are in bench.json');
    }
    if (v.json) {
      io.stdout(formatTable(rows));
      io.stdout(JSON.stringify({ rows: rows.map((r) => ({ config: r.config, package: r.package, bandwidthMbps: r.bandwidthMbps, p50Ms: r.p50Ms,
        p95Ms: r.p95Ms, throughput: r.throughput, predictedMs: r.predictedMs, exchangedBytesPerImage: r.exchangedBytesPerImage,
        accuracy: r.accuracy, speedupVsP1: r.speedupVsP1, measuredOverPredicted: r.measuredOverPredicted, wireBytesPerImage: r.wireBytesPerImage,
        idealSpeedup: r.idealSpeedup, speedupVsOneDevice: r.speedupVsOneDevice, calibratedMs: r.calibratedMs ?? null, measuredOverCalibrated: r.measuredOverCalibrated ?? null, model: r.model, assignment: r.assignment,
        latencyN: r.latencyN, passP50Ms: r.passP50Ms })) }));
    } else {
      io.stdout(formatTable(rows));
    }
    return 0;
  });
}

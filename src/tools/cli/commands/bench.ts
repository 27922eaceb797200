import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Io } from '../main.ts';
import { UsageError, parseFlags } from '../../../runtime/cli-args.ts';
import { withUsage } from '../usage.ts';
import { DEFAULT_WIDE_DIR, EMULATOR, REPO, formatTable, runBench, runPlot, serviceCosts, writeResults } from '../../bench/run.ts';
import { formatRuntime, runRuntimeBench } from '../../bench/runtime.ts';
import { resolvePackageFlag } from '../stack.ts';

const RUNTIME_HELP = `usage: edgesplit bench runtime [--quick] [--json] [--package NAME|DIR] [--no-unary] [--out FILE]

The runtime's own cost on loopback (no emulation, no root): router + P partition processes through the OIP
API against the same units in one process, beside bare grpc-js on the same payloads (a unary call, and a round
trip on an open stream), the pre-stream path (one unary call per Run and per Push) and a stack tracing every
request. Latencies in interleaved rounds, throughput with 16 concurrent clients, peak partition RSS.
  --quick      fewer rounds and shorter throughput runs (about a minute)
  --json       print the result as one JSON object on the last line of stdout
  --package    a package name under models/ or a directory (default: the demo's P = 4 package)
  --no-unary   skip the pre-stream path
  --out        where the JSON is written (default bench/results/runtime.json)`;

const RUNTIME_FLAGS = {
  quick: { type: 'boolean' }, json: { type: 'boolean' }, package: { type: 'string' }, 'no-unary': { type: 'boolean' },
  out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

async function runtime(argv: string[], io: Io): Promise<number> {
  return withUsage('bench runtime', io, async () => {
    const { values: v } = parseFlags(argv, RUNTIME_FLAGS);
    if (v.help) { io.stdout(RUNTIME_HELP); return 0; }
    const pkg = resolvePackageFlag(v.package as string | undefined);
    const out = (v.out as string | undefined) ?? join(REPO, 'bench', 'results', 'runtime.json');
    const r = await runRuntimeBench({ pkg, quick: v.quick === true, compareUnary: v['no-unary'] !== true, log: (l) => io.stderr(l) });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(r, null, 2) + '\n');
    io.stdout(formatRuntime(r));
    io.stderr(`results: ${out}`);
    if (v.json) io.stdout(JSON.stringify(r));
    return 0;
  });
}

const HELP = `usage: edgesplit bench [--quick] [--json] [--bandwidths 10,100,1000] [--cpu 0.25] [--no-wide]
                       [--wide-dir DIR] [--large | --no-large] [--out DIR] [--plot]

Benchmarks every configuration (P=1 on one device, the P=4 baseline, no-exchange and searched policies,
the planner's pick, the same architecture at 4x width and at 3x96x96 input, both with random weights) on an emulated edge
cluster: 4 network namespaces with tbf-shaped links and a cgroup CPU quota each (scripts/edge-emulator.sh,
needs root). Prints a table; --json prints {"rows":[...]} as the last line of stdout.
\`edgesplit bench runtime --help\`: the runtime's own cost on loopback (no root needed).
  --quick        fewer requests, one searched policy, bandwidths 10,1000 unless given (< 5 minutes)
  --bandwidths   link speeds in Mbit/s (default 10,100,1000)
  --cpu          each device's share of a core (default 0.25)
  --no-wide      skip the 4x-width packages
  --wide-dir     where the 4x-width random-weight packages are built/reused (default ${DEFAULT_WIDE_DIR})
  --large        also the larger-input regime: 3x96x96 RGB input, shipped width, random weights, latency only
                 (on by default in the full run, off with --quick; --no-large skips it); built in --wide-dir/large96
  --out          where cluster files, logs and bench.json go (default: bench/results, or a temp dir with --quick)
  --plot         also draw latency-vs-bandwidth.png into --out (python3 + matplotlib)
  --accuracy-floor  the planner's accuracy floor for its pick, 0..1 (default: within 0.5 points of the best package)`;

const FLAGS = {
  quick: { type: 'boolean' }, json: { type: 'boolean' }, bandwidths: { type: 'string' }, cpu: { type: 'string' },
  'no-wide': { type: 'boolean' }, 'wide-dir': { type: 'string' }, large: { type: 'boolean' }, 'no-large': { type: 'boolean' }, out: { type: 'string' }, plot: { type: 'boolean' },
  'accuracy-floor': { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'runtime') return runtime(argv.slice(1), io);
  return withUsage('bench', io, async () => {
    const { values: v } = parseFlags(argv, FLAGS);
    if (v.help) { io.stdout(HELP); return 0; }
    const quick = v.quick === true;
    const bwText = (v.bandwidths as string | undefined) ?? (quick ? '10,1000' : '10,100,1000');
    const bandwidths = bwText.split(',').map((s) => s.trim());
    for (const b of bandwidths) {
      if (!/^\d+$/.test(b) || Number(b) < 1 || Number(b) > 10000) throw new UsageError('--bandwidths', `expected integers 1..10000 Mbit/s separated by commas, got '${bwText}'`);
    }
    const cpuText = (v.cpu as string | undefined) ?? '0.25';
    const cpu = Number(cpuText);
    if (!/^\d*\.?\d+$/.test(cpuText) || !(cpu >= 0.05 && cpu <= 1)) throw new UsageError('--cpu', `expected a share of one core in 0.05..1, got '${cpuText}'`);
    const floorText = v['accuracy-floor'] as string | undefined;
    const accuracyFloor = floorText === undefined ? undefined : Number(floorText);
    if (accuracyFloor !== undefined && !(/^\d*\.?\d+$/.test(floorText!) && accuracyFloor >= 0 && accuracyFloor <= 1)) {
      throw new UsageError('--accuracy-floor', `expected a fraction in 0..1, got '${floorText}'`);
    }
    if (v.large && v['no-large']) throw new UsageError('--large', 'give --large or --no-large, not both');
    const large = v.large === true || (!quick && v['no-large'] !== true);
    const outDir = (v.out as string | undefined) ?? (quick ? join(tmpdir(), `edgesplit-bench-${process.pid}`) : join(REPO, 'bench', 'results'));

    // Preflight: root and kernel features, before anything is created.
    const check = spawnSync(EMULATOR, ['check'], { encoding: 'utf8', env: { ...process.env, ES_QUIET: '1', ES_PREFIX: 'esemuchk' } });
    if (check.status !== 0) {
      io.stderr(`edgesplit bench: cannot emulate the edge cluster on this machine:\n${(check.stderr || check.error?.message || '').trim()}`);
      return 1;
    }
    const log = (s: string) => io.stderr(s);
    const started = new Date().toISOString();
    const rows = await runBench({
      quick, bandwidths: bandwidths.map(Number), cpu, devices: 4, wide: v['no-wide'] !== true,
      wideDir: (v['wide-dir'] as string | undefined) ?? DEFAULT_WIDE_DIR, large, outDir, log, accuracyFloor,
    });
    const file = writeResults(outDir, rows, {
      command: `edgesplit bench ${argv.join(' ')}`.trim(), started, finished: new Date().toISOString(), cpuPerDevice: cpu,
      devices: 4, note: 'link latency is not emulated (no netem); 4x-width and 96px rows use random weights (latency only)',
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
        idealSpeedup: r.idealSpeedup, speedupVsOneDevice: r.speedupVsOneDevice, model: r.model, assignment: r.assignment })) }));
    } else {
      io.stdout(formatTable(rows));
    }
    return 0;
  });
}

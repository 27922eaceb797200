/**
 * Where a request's CPU goes: runs the local stack (router + P partitions) with V8's CPU profiler in every child,
 * sends `--requests` batch-1 requests one after another through the OIP API, stops the stack (profiles are written on
 * exit) and prints self time per category and per role, in ms of CPU per request.
 * `node --import tsx src/tools/bench/profile-runtime.ts [--requests 400] [--warmup 500] [--package NAME] [--role router|'partition 0']
 *   [--no-profile] [--unary] [--traced OTLP_URL] [--top N] [--json]`
 * --no-profile: kernel CPU accounting only (the sampler costs CPU itself); --unary: the pre-stream data path.
 * --perf ROLE ('partition 1', 'router'): also record that process with Linux perf (native frames: ORT, V8's GC and
 * builtins, libc, the kernel) and print its CPU by category; --out FILE: write the JSON there too.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptArgs } from '../cli/usage.ts';
import { intValue, switchValue } from '../cli/commands/options.ts';
import { z } from 'zod';
import { loadSample, sampleDirFor } from '../../runtime/sample.ts';
import { OipClient } from '../cli/oip-client.ts';
import { resolvePackageFlag, startStack } from '../cli/stack.ts';

const values = scriptArgs({ name: 'profile-runtime', program: 'src/tools/bench/profile-runtime.ts',
  summary: 'CPU profile of the local stack serving batch-1 requests: where the time per request goes, per process',
  settings: {
    requests: { flag: 'requests', arg: 'N', description: 'profiled requests', default: '400' },
    warmup: { flag: 'warmup', arg: 'N', description: 'warm-up requests', default: '500' },
    package: { flag: 'package', arg: 'NAME|DIR', description: "a package (default: the catalog's demo package)" },
    role: { flag: 'role', arg: 'ROLE', description: 'only this process in the function table (router, partition 0, ...)' },
    top: { flag: 'top', arg: 'N', description: 'functions listed', default: '25' },
    traced: { flag: 'traced', arg: 'URL', description: 'export every trace to this OTLP endpoint' },
    perf: { flag: 'perf', arg: 'ROLE', description: 'also a native profile (perf) of this process' },
    out: { flag: 'out', arg: 'FILE', description: 'also write the JSON result here' },
    json: { flag: 'json', kind: 'switch', description: 'print the result as one JSON line' },
    keep: { flag: 'keep', kind: 'switch', description: 'keep the .cpuprofile files' },
    noProfile: { flag: 'no-profile', kind: 'switch', description: 'no --cpu-prof (timing only)' },
    idle: { flag: 'idle', kind: 'switch', description: 'wait 5 s before the profiled requests' },
    unary: { flag: 'unary', kind: 'switch', description: 'the pre-stream path (one unary call per Run and per Push)' },
  } }, z.object({ requests: intValue(1), warmup: intValue(0), package: z.string().optional(), role: z.string().optional(), top: intValue(1),
  traced: z.string().optional(), perf: z.string().optional(), out: z.string().optional(), json: switchValue, keep: switchValue,
  noProfile: switchValue, idle: switchValue, unary: switchValue }));
const N = values.requests;
const pkg = resolvePackageFlag(values.package);
const dir = mkdtempSync(join(tmpdir(), 'edgesplit-prof-'));
const perfData = join(tmpdir(), `edgesplit-perf-${process.pid}.data`);

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** A category for a frame: first match wins, so more specific patterns come first. */
const CATEGORIES: [string, (f: Node['callFrame']) => boolean][] = [
  ['gc', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['program (native, unattributed)', (f) => f.functionName === '(program)'],
  ['onnxruntime', (f) => /onnxruntime/.test(f.url)],
  ['protobuf (protobufjs, proto-loader)', (f) => /protobufjs|proto-loader|@protobufjs/.test(f.url)],
  ['grpc-js (framing, channels, http2 glue)', (f) => /@grpc\/grpc-js/.test(f.url)],
  ['telemetry (OpenTelemetry)', (f) => /@opentelemetry|src\/runtime\/telemetry|src\/roles\/\w+\/telemetry/.test(f.url)],
  ['codec (encode/decode)', (f) => /common\/codec/.test(f.url)],
  ['merge, pooling, slicing', (f) => /partition\/plan/.test(f.url)],
  ['request state', (f) => /partition\/state/.test(f.url)],
  ['runner and handlers', (f) => /src\/roles\/partition\//.test(f.url)],
  ['router (validate, fan-out, head, response)', (f) => /src\/roles\/router\//.test(f.url)],
  ['other edgesplit code', (f) => /\/src\//.test(f.url)],
  ['tsx / module loading', (f) => /tsx|esbuild|node:internal\/modules/.test(f.url)],
  ['node http2 and net', (f) => /node:internal\/(http2|stream_base|net|streams)|node:net|node:http2/.test(f.url)],
  ['node timers, promises, events', (f) => /node:internal\/(timers|process\/task_queues|event_target|abort)|node:events|node:timers/.test(f.url)],
  ['crypto (request ids)', (f) => /crypto/.test(f.url)],
  ['other node internals', (f) => f.url.startsWith('node:')],
  ['native / builtins (no url)', () => true],
];

/** Self time per category of the samples taken inside [fromUs, toUs] (CLOCK_MONOTONIC, as process.hrtime). */
const byFunction = new Map<string, number>();

function categorize(p: Profile, fromUs: number, toUs: number, countFunctions = true): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const n = byId.get(p.samples[i])!;
    const cat = CATEGORIES.find(([, test]) => test(n.callFrame))![0];
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    out.set(cat, (out.get(cat) ?? 0) + ms);
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')}:${f.lineNumber + 1}`;
    if (countFunctions) byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  return out;
}

// --no-profile: CPU accounting only (the sampler itself costs CPU); --unary: the pre-stream data path.
const stack = await startStack({ pkg, host: '127.0.0.1', nodeArgs: [...(values.noProfile ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]),
  ...(values.perf ? ['--perf-basic-prof-only-functions'] : [])],
  partitionArgs: ['--measure', 'false', ...(values.unary ? ['--push-calls', 'unary'] : [])],
  routerArgs: values.unary ? ['--partition-calls', 'unary'] : [],
  // --traced URL: every request traced, exported over OTLP/HTTP to URL (a collector or any sink).
  env: values.traced ? { OTEL_EXPORTER_OTLP_ENDPOINT: values.traced, OTEL_TRACES_SAMPLER: 'always_on', OTEL_METRICS_EXPORTER: 'none' } : {} });
const rolePids = new Map<number, string>([[stack.routerPid, 'router'], ...stack.partitions.map((p) => [p.pid, `partition ${p.index}`] as [number, string])]);
const client = new OipClient(stack.router);
const sample = loadSample(sampleDirFor(pkg));
const images = sample.images;
const px = sample.pixelsPerImage;
let wall = 0;
let fromUs = 0;
let toUs = 0;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
// CPU time as the kernel accounts it (utime + stime, all threads): exact even when the machine is loaded, where
// the sampling profile also counts time a process waited for a CPU against whatever it ran next.
const TICK_MS = 10;
const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
};
const kernelCpu: Record<string, number> = {};
try {
  // V8 optimises the request path over the first few hundred requests: profile the warm path.
  for (let i = 0; i < Number(values.warmup); i++) await client.classify(images.subarray((i % sample.count) * px, (i % sample.count + 1) * px), 1);
  const t0 = performance.now();
  fromUs = nowUs();
  const perfPid = values.perf ? [...rolePids].find(([, r]) => r === values.perf)?.[0] : undefined;
  if (values.perf && !perfPid) throw new Error(`--perf: no role '${values.perf}' (roles: ${[...rolePids.values()].join(', ')})`);
  const perf = perfPid ? spawn('perf', ['record', '-F', '2000', '-o', perfData, '-p', String(perfPid)], { stdio: 'ignore' }) : undefined;
  if (perf) await new Promise((r) => setTimeout(r, 300));
  const before = [...rolePids].map(([pid, role]) => [role, cpuMs(pid)] as const);
  if (values.idle) await new Promise((r) => setTimeout(r, 5000));
  else for (let i = 0; i < N; i++) await client.classify(images.subarray((i % sample.count) * px, (i % sample.count + 1) * px), 1);
  toUs = nowUs();
  for (const [role, c] of before) kernelCpu[role] = cpuMs([...rolePids].find(([, r]) => r === role)![0]) - c;
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  wall = performance.now() - t0;
} finally {
  client.close();
  await stack.stop();
}

/** Native CPU of one process by category, from `perf report` (percent of its samples). */
function perfCategories(): Record<string, number> {
  const out = execFileSync('perf', ['report', '-i', perfData, '--no-children', '--sort', 'dso,sym', '--stdio', '-g', 'none'],
    { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const cats: Record<string, number> = {};
  const RULES: [string, RegExp][] = [
    ['onnxruntime (the model)', /onnxruntime/],
    ['kernel (syscalls, scheduling, TCP)', /\[kernel/],
    ['libc (malloc, memcpy)', /libc\.so|libstdc\+\+/],
    ['V8 garbage collector', /Mark|Sweep|Scaveng|Heap|Evacuat|Compact|PointersUpdating|Remembered|SlotSet|MemoryChunk|Marking|Visitor|Worklist|GC/],
    ['V8 optimising compiler', /compiler::|Compile|Turbo|Maglev/],
    ['V8 builtins (property access, calls, promises)', /Builtins_/],
    ['JavaScript (JIT code)', /JS:|\[JIT\]/],
  ];
  for (const line of out.split('\n')) {
    const m = /^\s*([\d.]+)%\s+(.*)$/.exec(line);
    if (!m) continue;
    const cat = RULES.find(([, re]) => re.test(m[2]))?.[0] ?? 'V8 / Node.js runtime (other)';
    cats[cat] = (cats[cat] ?? 0) + Number(m[1]);
  }
  return cats;
}

const roles: Record<string, Record<string, number>> = {};
const totals = new Map<string, number>();
for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
  const pid = Number(f.split('.')[3]);
  const role = rolePids.get(pid) ?? `pid ${pid}`;
  const cats = categorize(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile, fromUs, toUs,
    values.role === undefined || values.role === role);
  // The tsx loader thread writes a profile of its own under the same pid: add, never replace.
  const r = (roles[role] ??= {});
  for (const [k, v] of cats) r[k] = (r[k] ?? 0) + v;
  for (const [k, v] of cats) if (k !== 'idle') totals.set(k, (totals.get(k) ?? 0) + v);
}
if (!values.keep) rmSync(dir, { recursive: true, force: true });
// Only samples inside the measured loop count (start-up and warm-up are left out).
const perReq = (ms: number) => ms / N;
const sorted = [...totals].sort((a, b) => b[1] - a[1]);
const totalCpu = sorted.reduce((s, [, v]) => s + v, 0);
console.log(`profile: ${pkg.manifest.name}, ${N} sequential batch-1 requests, wall ${(wall / N).toFixed(2)} ms/request`);
console.log(`CPU (all processes, non-idle) ${perReq(totalCpu).toFixed(2)} ms/request, by category:`);
for (const [k, v] of sorted) console.log(`  ${k.padEnd(44)} ${perReq(v).toFixed(3).padStart(8)} ms  ${(100 * v / totalCpu).toFixed(1).padStart(5)}%`);
console.log(`top functions by self time (${values.role ?? 'all processes'}):`);
for (const [k, v] of [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`  ${perReq(v).toFixed(3).padStart(7)} ms  ${k}`);
}
console.log('per role: sampled busy time and kernel-accounted CPU (utime+stime, every thread) per request:');
for (const role of Object.keys(kernelCpu).sort()) {
  const cats = roles[role] ?? {};
  const busy = Object.entries(cats).filter(([k]) => k !== 'idle').reduce((s, [, v]) => s + v, 0);
  console.log(`  ${role.padEnd(12)} sampled ${perReq(busy).toFixed(2)} ms, CPU ${perReq(kernelCpu[role]).toFixed(2)} ms`);
}
const totalKernel = Object.values(kernelCpu).reduce((s, v) => s + v, 0);
console.log(`  all          CPU ${perReq(totalKernel).toFixed(2)} ms/request`);
let native: Record<string, number> | undefined;
if (values.perf) {
  native = perfCategories();
  const cpu = perReq(kernelCpu[values.perf]);
  console.log(`${values.perf}: native profile (perf), ${cpu.toFixed(2)} ms CPU per request:`);
  for (const [k, v] of Object.entries(native).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${k.padEnd(48)} ${v.toFixed(1).padStart(5)}%  ${(cpu * v / 100).toFixed(2)} ms`);
  }
  rmSync(perfData, { force: true });
}
const result = { package: pkg.manifest.name, path: values.unary ? 'unary' : 'stream', traced: values.traced !== undefined,
  requests: N, warmup: Number(values.warmup), wallMsPerRequest: wall / N, loadAvg1m: loadavg()[0], node: process.version,
  kernelCpuMsPerRequest: Object.fromEntries(Object.entries(kernelCpu).map(([k, v]) => [k, perReq(v)])),
  ...(native ? { perfRole: values.perf, perfPercent: native } : {}),
  cpuMsPerRequest: Object.fromEntries(sorted.map(([k, v]) => [k, perReq(v)])),
  roles: Object.fromEntries(Object.entries(roles).map(([r, c]) => [r, Object.fromEntries(Object.entries(c).map(([k, v]) => [k, perReq(v)]))])),
  when: new Date().toISOString() };
if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
if (values.json) console.log(JSON.stringify(result));

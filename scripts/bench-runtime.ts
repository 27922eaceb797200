/**
 * Distributed path (P partition processes + router on loopback, through the OIP gRPC API) against the same units
 * in one process (`edgesplit eval`'s LocalEngine): batch-1 latency, throughput with 16 concurrent clients, and the
 * peak RSS of one partition process. `node --import tsx scripts/bench-runtime.ts [--quick] [--json] [--package NAME]`
 * Prints a table and writes bench/results/runtime.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadSample } from '../services/common/sample.ts';
import { OipClient } from '../services/cli/oip-client.ts';
import { LocalEngine } from '../services/cli/commands/eval.ts';
import { percentile } from '../services/cli/measure.ts';
import { resolvePackageFlag, startStack } from '../services/cli/stack.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, package: { type: 'string' } } });
const quick = Boolean(values.quick);
const LAT_N = quick ? 100 : 400;
const WARMUP = 20;
const CLIENTS = 16;
const DURATION_MS = quick ? 3000 : 10_000;

type Classify = (img: Uint8Array) => Promise<unknown>;

async function latency(fn: Classify, images: Uint8Array, count: number): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < WARMUP; i++) await fn(images.subarray((i % 1000) * 784, (i % 1000 + 1) * 784));
  const lat: number[] = [];
  for (let i = 0; i < count; i++) {
    const img = images.subarray((i % 1000) * 784, (i % 1000 + 1) * 784);
    const t0 = performance.now();
    await fn(img);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), mean: lat.reduce((s, v) => s + v, 0) / lat.length };
}

async function throughput(fn: Classify, images: Uint8Array): Promise<number> {
  let done = 0;
  const until = performance.now() + DURATION_MS;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = c; performance.now() < until; i += CLIENTS) {
      await fn(images.subarray((i % 1000) * 784, (i % 1000 + 1) * 784));
      done++;
    }
  }));
  return done / ((performance.now() - t0) / 1000);
}

function procKb(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const pkg = resolvePackageFlag(values.package);
const images = loadSample().images;
const load0 = loadavg()[0];

const local = await LocalEngine.create(pkg);
const localLat = await latency((img) => local.classify(img, 1), images, LAT_N);
const localTput = await throughput((img) => local.classify(img, 1), images);
await local.shutdown();

const stack = await startStack({ pkg, host: '127.0.0.1' });
const clients = Array.from({ length: CLIENTS }, () => new OipClient(stack.router));
let distLat, distTput, rss;
try {
  distLat = await latency((img) => clients[0].classify(img, 1), images, LAT_N);
  let k = 0;
  distTput = await throughput((img) => clients[k++ % CLIENTS].classify(img, 1), images);
  rss = { partition0PeakMb: procKb(stack.partitions[0].pid, 'VmHWM') / 1024,
    partitionsPeakMb: stack.partitions.map((p) => Number((procKb(p.pid, 'VmHWM') / 1024).toFixed(1))),
    routerPeakMb: procKb(stack.routerPid, 'VmHWM') / 1024 };
} finally {
  clients.forEach((c) => c.close());
  await stack.stop();
}

const r2 = (v: number) => Number(v.toFixed(3));
const result = {
  package: pkg.manifest.name, partitions: pkg.manifest.partitions, policyId: pkg.manifest.policy.id,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAvg1mAtStart: r2(load0), loadAvg1mAtEnd: r2(loadavg()[0]) },
  settings: { quick, latencyRequests: LAT_N, batch: 1, concurrentClients: CLIENTS, throughputSeconds: DURATION_MS / 1000 },
  local: { p50Ms: r2(localLat.p50), p99Ms: r2(localLat.p99), meanMs: r2(localLat.mean), throughputPerS: r2(localTput) },
  distributed: { p50Ms: r2(distLat.p50), p99Ms: r2(distLat.p99), meanMs: r2(distLat.mean), throughputPerS: r2(distTput) },
  overhead: { p50Ms: r2(distLat.p50 - localLat.p50), p99Ms: r2(distLat.p99 - localLat.p99),
    throughputRatio: r2(distTput / localTput) },
  rss: { partition0PeakMb: r2(rss.partition0PeakMb), partitionsPeakMb: rss.partitionsPeakMb, routerPeakMb: r2(rss.routerPeakMb) },
  targets: { p50OverheadMs: 2, throughputRatio: 0.8, partitionPeakMb: 150 },
  meets: { p50Overhead: distLat.p50 - localLat.p50 <= 2, throughput: distTput / localTput >= 0.8, rss: rss.partition0PeakMb <= 150 },
  when: new Date().toISOString(),
};
mkdirSync(new URL('../bench/results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../bench/results/runtime.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');

const row = (k: string, a: string, b: string, c: string) => `${k.padEnd(26)}${a.padStart(14)}${b.padStart(14)}${c.padStart(16)}`;
console.log(`runtime bench: ${result.package} (P=${result.partitions}), ${result.machine.cpus} CPUs, load ${result.machine.loadAvg1mAtStart}${quick ? ', quick' : ''}`);
console.log(row('', 'one process', 'distributed', 'difference'));
console.log(row('p50 latency, batch 1', `${result.local.p50Ms} ms`, `${result.distributed.p50Ms} ms`, `+${result.overhead.p50Ms} ms`));
console.log(row('p99 latency, batch 1', `${result.local.p99Ms} ms`, `${result.distributed.p99Ms} ms`, `+${result.overhead.p99Ms} ms`));
console.log(row(`throughput, ${CLIENTS} clients`, `${result.local.throughputPerS.toFixed(1)}/s`, `${result.distributed.throughputPerS.toFixed(1)}/s`, `x${result.overhead.throughputRatio}`));
console.log(row('peak RSS partition 0', '', `${result.rss.partition0PeakMb.toFixed(1)} MB`, ''));
console.log(`targets: p50 overhead <= 2 ms: ${result.meets.p50Overhead ? 'met' : 'NOT met'}; throughput >= 0.8x: ${result.meets.throughput ? 'met' : 'NOT met'}; partition RSS <= 150 MB: ${result.meets.rss ? 'met' : 'NOT met'}`);
if (values.json) console.log(JSON.stringify(result));

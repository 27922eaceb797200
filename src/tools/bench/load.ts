// Bounded load test on the local stack (P partition processes + the router process, as `edgesplit up` runs them):
// 1. steady: C concurrent clients for D seconds, each sending one request after the other; every answer must be
//    OK; p50/p99 latency; RSS of every process sampled at start (after warm-up) and end.
// 2. overload: more requests at once than the router admits (--max-in-flight): the excess must get
//    RESOURCE_EXHAUSTED at once (no pile-up), the admitted ones OK, and the stack must be idle and serving after.
// Usage: node --import tsx src/tools/bench/load.ts [--clients 4] [--seconds 20] [--batch 1] [--max-in-flight 16]
//        [--burst 96] [--package NAME] [--out bench/results/load.json]
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { scriptArgs } from '../cli/usage.ts';
import { intValue } from '../cli/commands/options.ts';
import { z } from 'zod';
import * as grpc from '@grpc/grpc-js';
import { loadPackage, resolvePackageDir } from '../../runtime/manifest.ts';
import { inferenceProto } from '../../runtime/proto.ts';
import { imagesOf, loadSample } from '../../runtime/sample.ts';
import { defaultPackageName, startStack } from '../cli/stack.ts';
import { quantile } from '../../runtime/stats.ts';
import type { GRPCInferenceServiceClient } from '../../runtime/generated/inference/GRPCInferenceService.ts';

const values = scriptArgs({ name: 'load', program: 'src/tools/bench/load.ts',
  summary: 'bounded load test on the local stack: steady clients, then an overload burst',
  settings: {
    clients: { flag: 'clients', arg: 'C', description: 'concurrent clients', default: '4' },
    seconds: { flag: 'seconds', arg: 'D', description: 'steady phase length', default: '20' },
    batch: { flag: 'batch', arg: 'N', description: 'images per request', default: '1' },
    maxInFlight: { flag: 'max-in-flight', arg: 'N', description: "the router's admission limit", default: '16' },
    burst: { flag: 'burst', arg: 'N', description: 'requests sent at once in the overload phase', default: '96' },
    package: { flag: 'package', arg: 'NAME', description: "a package (default: the catalog's demo package)" },
    out: { flag: 'out', arg: 'FILE', description: 'where the JSON goes', default: 'bench/results/load.json' },
  } }, z.object({ clients: intValue(1), seconds: intValue(1), batch: intValue(1), maxInFlight: intValue(1), burst: intValue(1),
  package: z.string().optional(), out: z.string().min(1) }));
const C = values.clients;
const D = values.seconds;
const N = values.batch;
const MAX_IN_FLIGHT = values.maxInFlight;
const BURST = values.burst;
const out = values.out;
const pkgName = values.package ?? defaultPackageName();

const rssMiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const pct = (xs: number[], p: number) => quantile(xs, p / 100);
const round = (x: number) => Math.round(x * 10) / 10;

const sample = loadSample();
const request = (k: number) => ({ modelName: 'edgesplit', inputs: [{ name: 'image', datatype: 'UINT8', shape: [N, ...sample.imageShape] }],
  outputs: [{ name: 'label' }], rawInputContents: [Buffer.from(imagesOf(sample, k % (sample.count - N), (k % (sample.count - N)) + N))] });

function call(stub: GRPCInferenceServiceClient, k: number, timeoutMs: number): Promise<{ code: number; ms: number; degraded: boolean }> {
  const t = performance.now();
  return new Promise((resolve) => stub.ModelInfer(request(k), { deadline: Date.now() + timeoutMs }, (err, res) =>
    resolve({ code: err ? err.code : 0, ms: performance.now() - t, degraded: res?.parameters.edgesplit_degraded?.boolParam ?? false })));
}

const pkg = loadPackage(resolvePackageDir(pkgName));
const stack = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'],
  routerArgs: ['--max-in-flight', String(MAX_IN_FLIGHT)] });
const pids = { router: stack.routerPid, ...Object.fromEntries(stack.partitions.map((p) => [`partition${p.index}`, p.pid])) };
const sampleRss = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, round(rssMiB(pid))]));
const Svc = inferenceProto().inference.GRPCInferenceService;
const stubs = Array.from({ length: C }, () => new Svc(stack.router, grpc.credentials.createInsecure()));
try {
  // Warm-up under the same load: ORT arenas, V8 heaps and connections reach their working size before the first
  // RSS sample, so start -> end measures growth, not warm-up.
  const warmEnd = Date.now() + Math.max(3, D / 4) * 1000;
  await Promise.all(stubs.map(async (stub, w) => { for (let k = w; Date.now() < warmEnd; k += 5) await call(stub, k, 5000); }));
  const rssStart = sampleRss();
  let rssMid: Record<string, number> = {};
  setTimeout(() => { rssMid = sampleRss(); }, (D * 1000) / 2).unref();
  const lat: number[] = [];
  const codes = new Map<string, number>();
  let degraded = 0;
  const end = Date.now() + D * 1000;
  const t0 = performance.now();
  await Promise.all(stubs.map(async (stub, w) => {
    for (let k = w * 97; Date.now() < end; k += 7) {
      const r = await call(stub, k, 5000);
      codes.set(grpc.status[r.code], (codes.get(grpc.status[r.code]) ?? 0) + 1);
      if (r.code === 0) lat.push(r.ms);
      if (r.degraded) degraded++;
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const rssEnd = sampleRss();
  const total = [...codes.values()].reduce((a, b) => a + b, 0);
  const steady = { clients: C, seconds: D, batch: N, requests: total, errors: total - (codes.get('OK') ?? 0), degraded,
    codes: Object.fromEntries(codes), throughputRps: round(total / wall), imagesPerSecond: round((total * N) / wall),
    p50Ms: round(pct(lat, 50)), p90Ms: round(pct(lat, 90)), p99Ms: round(pct(lat, 99)), maxMs: round(Math.max(...lat)),
    rssMiB: { start: rssStart, mid: rssMid, end: rssEnd,
      growth: Object.fromEntries(Object.keys(rssStart).map((k) => [k, round(rssEnd[k] - rssStart[k])])) } };
  process.stderr.write(`steady: ${JSON.stringify(steady)}\n`);

  // Overload: BURST requests at once (batch 8) against a router admitting MAX_IN_FLIGHT.
  const burstStub = new Svc(stack.router, grpc.credentials.createInsecure());
  const burstReq = { ...request(0), inputs: [{ name: 'image', datatype: 'UINT8', shape: [8, ...sample.imageShape] }],
    rawInputContents: [Buffer.from(imagesOf(sample, 0, 8))] };
  const tb = performance.now();
  const burst = await Promise.all(Array.from({ length: BURST }, () => new Promise<{ code: number; ms: number }>((resolve) => {
    const t = performance.now();
    burstStub.ModelInfer(burstReq, { deadline: Date.now() + 10_000 }, (err) => resolve({ code: err ? err.code : 0, ms: performance.now() - t }));
  })));
  const burstWall = performance.now() - tb;
  const rejected = burst.filter((b) => b.code === grpc.status.RESOURCE_EXHAUSTED);
  const ok = burst.filter((b) => b.code === 0);
  const other = burst.filter((b) => b.code !== 0 && b.code !== grpc.status.RESOURCE_EXHAUSTED);
  const after = await call(stubs[0], 1, 5000);
  burstStub.close();
  const overload = { burst: BURST, routerMaxInFlight: MAX_IN_FLIGHT, ok: ok.length, resourceExhausted: rejected.length,
    otherErrors: Object.fromEntries(other.map((o) => [grpc.status[o.code], other.filter((x) => x.code === o.code).length])),
    rejectP50Ms: round(pct(rejected.map((r) => r.ms), 50)), rejectP99Ms: round(pct(rejected.map((r) => r.ms), 99)),
    admittedP99Ms: round(pct(ok.map((r) => r.ms), 99)), burstWallMs: round(burstWall),
    servingAfter: after.code === 0 };
  process.stderr.write(`overload: ${JSON.stringify(overload)}\n`);

  // Growth is judged over the second half (mid -> end): a leak keeps climbing, a warmed-up process stays flat.
  const growthOk = Object.keys(rssStart).every((k) => rssEnd[k] - (rssMid[k] ?? rssStart[k]) <= Math.max(16, 0.1 * rssStart[k]));
  const doc = { what: 'bounded load test on the local stack (partition processes + router process, loopback)', package: pkgName,
    partitions: pkg.manifest.partitions, host: { cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg().map(round) },
    generatedAt: new Date().toISOString(), steady, overload,
    verdict: { zeroErrors: steady.errors === 0, noMemoryGrowth: growthOk,
      // Shed, not queued: every excess request is refused before the admitted ones finish, none times out.
      overloadShedQuickly: rejected.length > 0 && other.length === 0 && overload.rejectP99Ms <= overload.admittedP99Ms &&
        overload.servingAfter } };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  console.log(JSON.stringify(doc.verdict));
} finally {
  stubs.forEach((s) => s.close());
  await stack.stop(3000);
}

// Times batch-1 Runs, as the router makes them (one long-lived RunStream per partition, requests multiplexed on it),
// from the router's place (the emulator's ctl namespace) to P partitions of a no-exchange package, all P at once
// per round (the router's fan-out).
//   --addrs A,B,... --package NAME [--package-dir DIR] --n N [--max-seconds S]
// Prints one JSON line: {perPartitionMs: [median Run latency of each], fanOutMs: median over rounds of the slowest}.
import * as grpc from '@grpc/grpc-js';
import { MuxStream } from '../../runtime/mux-stream.ts';
import { partitionProto } from '../../runtime/proto.ts';
import { benchImages, batchOf } from './images.ts';
import { imageInputOf, uint8Shape } from '../../runtime/image-input.ts';
import { loadPackage, resolvePackageDir } from '../../runtime/manifest.ts';
import type { PartitionClient } from '../../runtime/generated/edgesplit/v1/Partition.ts';
import type { RunFrame } from '../../runtime/generated/edgesplit/v1/RunFrame.ts';
import { median } from '../../runtime/stats.ts';
import type { RunResult__Output } from '../../runtime/generated/edgesplit/v1/RunResult.ts';
import { z } from 'zod';
import { scriptArgs } from '../cli/usage.ts';
import { intValue } from '../cli/commands/options.ts';

const opts = scriptArgs({ name: 'measure-request', program: 'src/tools/bench/measure-request.ts',
  summary: 'one request straight to the partitions (no router): its latency, the critical path of the plan',
  settings: {
    addrs: { flag: 'addrs', arg: 'HOST:PORT,...', description: "the partitions' addresses in partition order (required)" },
    package: { flag: 'package', arg: 'NAME', description: 'the package they serve (required)' },
    packageDir: { flag: 'package-dir', arg: 'DIR', description: "the package's directory (default: --package in models/)" },
    n: { flag: 'n', arg: 'N', description: 'requests, 3..1000', default: '20' },
    maxSeconds: { flag: 'max-seconds', arg: 'S', description: 'time budget', default: '60' },
  } }, z.object({ addrs: z.string({ required_error: 'required' }).min(1), package: z.string({ required_error: 'required' }).min(1),
  packageDir: z.string().optional(), n: intValue(3, 1000), maxSeconds: intValue(1) }));
const addrs = opts.addrs.split(',').filter(Boolean);
const pkg = opts.package;
const n = opts.n;
const maxSeconds = opts.maxSeconds;

const Partition = partitionProto().edgesplit.v1.Partition;
const stubs = addrs.map((a) => new Partition(a, grpc.credentials.createInsecure(), {}) as unknown as PartitionClient);
const clients = stubs.map((s, i) => new MuxStream<RunFrame, RunResult__Output>({ open: () => s.RunStream(),
  keyOf: (r) => r.requestId, peer: `partition ${i}` }));
// The package's input shape (its directory, or the package of that name in models/).
const imageShape = uint8Shape(imageInputOf(loadPackage(resolvePackageDir(opts.packageDir ?? pkg)).manifest.input), 1).slice(1);
const bench = benchImages(imageShape);
const run = async (c: (typeof clients)[number], id: string, i: number): Promise<number> => {
  const t = performance.now();
  const r = await c.request(id, { run: { requestId: id, package: pkg, missingPartitions: [], timeoutMs: 30_000,
    images: { shape: [1, ...imageShape], precision: 'UINT8', rawUint8: true, data: batchOf(bench, i, 1) } } },
  Date.now() + 30_000);
  if (r.error && r.error.code !== 0) throw new Error(`partition: ${r.error.message}`);
  return performance.now() - t;
};

// Wait until every partition answers (they may still be loading), then warm up.
const until = Date.now() + 90_000;
for (let k = 0; ; k++) {
  try { await Promise.all(clients.map((c, j) => run(c, `warm${k}-${j}`, k))); break; } catch (e) {
    if (Date.now() > until) { console.error(`measure-request: partitions not answering: ${(e as Error).message}`); process.exit(1); }
    await new Promise((r) => setTimeout(r, 300));
  }
}
// Warm: a fresh process runs the request path unoptimised for its first hundred or so requests (V8's tiers).
const warmUntil = performance.now() + (maxSeconds * 1000) / 3;
for (let k = 0; k < 100 && performance.now() < warmUntil; k++) await Promise.all(clients.map((c, j) => run(c, `w${k}-${j}`, k)));
const per: number[][] = clients.map(() => []);
const fan: number[] = [];
const deadline = performance.now() + maxSeconds * 1000;
for (let i = 0; i < n && performance.now() < deadline; i++) {
  const ts = await Promise.all(clients.map((c, j) => run(c, `m${i}-${j}`, i)));
  ts.forEach((t, j) => per[j].push(t));
  fan.push(Math.max(...ts));
  // Back to back, as the latency runs of the load generator.
}
console.log(JSON.stringify({ perPartitionMs: per.map(median), fanOutMs: median(fan), n: fan.length }));
for (const c of clients) c.close();
for (const s of stubs) s.close();
process.exit(0);

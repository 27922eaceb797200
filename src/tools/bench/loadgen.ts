// Load generator for the benchmark; runs in the emulator's ctl namespace next to the router and talks to it
// with the Open Inference Protocol v2 gRPC API, like any client. Every loop is bounded in count and time.
//   --router HOST:PORT --latency-n N --throughput-n N --concurrency C --accuracy-n N --max-seconds S
// Prints one JSON line: {latencyMs[], exchangedBytes[], throughput:{images, seconds, perSecond, p50Ms, p99Ms}, accuracy:{n, correct}}
import * as grpc from '@grpc/grpc-js';
import { inferenceProto } from '../../runtime/proto.ts';
import { benchImages, batchOf, type BenchImages } from './images.ts';
import { imageShapeOf } from '../cli/oip-client.ts';
import type { ModelMetadataResponse__Output } from '../../runtime/generated/inference/ModelMetadataResponse.ts';
import type { GRPCInferenceServiceClient } from '../../runtime/generated/inference/GRPCInferenceService.ts';
import { argmax, quantile } from '../../runtime/stats.ts';
import type { ModelInferResponse__Output } from '../../runtime/generated/inference/ModelInferResponse.ts';
import { z } from 'zod';
import { writeFileSync } from 'node:fs';
import { GrpcPartitionStats } from '../../roles/planner/partition-stats.ts';
import { GrpcRouterStats } from '../../roles/planner/router-stats.ts';
import { scriptArgs } from '../cli/usage.ts';
import { intValue, switchValue } from '../cli/commands/options.ts';

const opts = scriptArgs({ name: 'loadgen', program: 'src/tools/bench/loadgen.ts',
  summary: "latency, throughput and accuracy through a router's OIP API (the bench's client)",
  settings: {
    router: { flag: 'router', arg: 'HOST:PORT', description: "the router's address", default: '127.0.0.1:8001' },
    latencyN: { flag: 'latency-n', arg: 'N', description: 'sequential batch-1 requests for latency, 0..10000', default: '50' },
    throughputN: { flag: 'throughput-n', arg: 'N', description: 'requests for throughput, 0..100000', default: '100' },
    concurrency: { flag: 'concurrency', arg: 'N', description: 'concurrent requests for throughput, 1..64', default: '4' },
    accuracyN: { flag: 'accuracy-n', arg: 'N', description: 'sample images for accuracy, 0..1000', default: '200' },
    accuracyBatch: { flag: 'accuracy-batch', arg: 'N', description: 'images per accuracy request, 1..64', default: '25' },
    maxSeconds: { flag: 'max-seconds', arg: 'S', description: 'time budget, 1..1800', default: '120' },
    warmup: { flag: 'warmup', arg: 'N', description: 'warm-up requests, 0..100', default: '5' },
    timeoutMs: { flag: 'timeout-ms', arg: 'MS', description: 'deadline of each request', default: '30000' },
    steadySeconds: { flag: 'steady-seconds', arg: 'S', description: 'first a steady batch-1 load for S seconds, 0..3600 (the link-drop scenario)', default: '0' },
    steadyIntervalMs: { flag: 'steady-interval-ms', arg: 'MS', description: 'one request started every MS (or when the last one ends, if later)', default: '50' },
    timeline: { flag: 'timeline', arg: 'FILE', description: 'with --steady-seconds: every request as {t, ms, code, degraded, package} (JSON)' },
    batchStats: { flag: 'batch-stats', kind: 'switch', description: "the router's dynamic batching over the throughput requests (RouterStats.Live: batches and the requests they carried), as `batching` in the JSON" },
    live: { flag: 'live', arg: 'HOST:PORT,...', description: "after the latency requests, the partitions' Describe live figures (these addresses) and the router's RouterStats.Live, as `live` in the JSON" },
  } }, z.object({ router: z.string().min(1), latencyN: intValue(0, 10_000), throughputN: intValue(0, 100_000), concurrency: intValue(1, 64),
  accuracyN: intValue(0, 1000), accuracyBatch: intValue(1, 64), maxSeconds: intValue(1, 1800), warmup: intValue(0, 100), timeoutMs: intValue(1),
  steadySeconds: intValue(0, 3600), steadyIntervalMs: intValue(1, 60_000), timeline: z.string().optional(), live: z.string().optional(),
  batchStats: switchValue }));
const { router, latencyN, throughputN, concurrency, accuracyN, accuracyBatch, maxSeconds, warmup, timeoutMs, steadySeconds, steadyIntervalMs, timeline, live, batchStats } = opts;

const hardStop = setTimeout(() => { console.error(`loadgen: hard time limit ${maxSeconds + steadySeconds + 30}s reached`); process.exit(3); },
  (maxSeconds + steadySeconds + 30) * 1000);
const deadlineAt = performance.now() + maxSeconds * 1000;
const inTime = () => performance.now() < deadlineAt;

const Svc = inferenceProto().inference.GRPCInferenceService;
const client = new Svc(router, grpc.credentials.createInsecure(), {
  'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20,
}) as unknown as GRPCInferenceServiceClient;
let imageShape: number[] = [];
let bench: BenchImages;

function infer(first: number, n: number): Promise<ModelInferResponse__Output> {
  const images = batchOf(bench, first, n);
  return new Promise((resolve, reject) => {
    client.modelInfer({
      modelName: 'edgesplit', id: `bench-${first}-${n}`,
      inputs: [{ name: 'image', datatype: 'UINT8', shape: [n, ...imageShape] }],
      outputs: [{ name: 'probabilities' }],
      rawInputContents: [images],
    }, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

const param = (r: ModelInferResponse__Output, k: string): number | undefined => {
  const p = r.parameters?.[k];
  if (!p) return undefined;
  const v = p.int64Param ?? p.uint64Param ?? p.doubleParam;
  return v === undefined ? undefined : Number(v);
};

async function waitReady(): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      await new Promise<void>((res, rej) => client.serverReady({}, { deadline: Date.now() + 2000 },
        (e, r) => (e ? rej(e) : r?.ready ? res() : rej(new Error('not ready')))));
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`router ${router} not ready after 60 s: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

await waitReady();
// The served input shape (any package: the shipped 28x28 ones or a larger random-weight one).
imageShape = imageShapeOf(await new Promise<ModelMetadataResponse__Output>((res, rej) => client.modelMetadata({ name: 'edgesplit' },
  { deadline: Date.now() + 10_000 }, (e, r) => (e ? rej(e) : res(r!)))));
bench = benchImages(imageShape);
for (let i = 0; i < warmup; i++) await infer(i, 1);

if (steadySeconds > 0) {
  // Paced batch-1 load: one request every interval (bounded by the duration); each request's outcome is kept.
  const rows: { t: number; ms: number; code: number; degraded: boolean; package: string; error?: string }[] = [];
  const start = performance.now();
  const startedAt = Date.now();
  console.error(`steady load started at ${startedAt}`);
  for (let i = 0; performance.now() - start < steadySeconds * 1000; i++) {
    const due = start + i * steadyIntervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    try {
      const r = await infer(i % 1000, 1);
      const p = r.parameters ?? {};
      rows.push({ t: (t0 - start) / 1000, ms: performance.now() - t0, code: 0, degraded: Boolean(p.edgesplit_degraded?.boolParam),
        package: p.edgesplit_package?.stringParam ?? '' });
    } catch (e) {
      const err = e as grpc.ServiceError;
      rows.push({ t: (t0 - start) / 1000, ms: performance.now() - t0, code: err.code ?? 2, degraded: false, package: '', error: err.details ?? err.message });
    }
  }
  if (timeline) writeFileSync(timeline, JSON.stringify({ startedAt, rows }));
}

const latencyMs: number[] = [];
const exchangedBytes: number[] = [];
for (let i = 0; i < latencyN && inTime(); i++) {
  const t0 = performance.now();
  const r = await infer(i, 1);
  latencyMs.push(performance.now() - t0);
  const x = param(r, 'edgesplit_exchanged_bytes');
  if (x !== undefined) exchangedBytes.push(x);
}

// What the partitions and the router measured of these requests (the planner's live calibration reads the same).
let liveFigures: unknown;
if (live) {
  const ps = new GrpcPartitionStats();
  const rs = new GrpcRouterStats(router);
  try {
    liveFigures = { partitions: await Promise.all(live.split(',').map((a, index) => ps.describe(a, 5000).then((d) => ({ index, ...d })))),
      router: await rs.live(5000) };
  } finally {
    ps.close();
    rs.close();
  }
}

const routerStats = batchStats ? new GrpcRouterStats(router) : undefined;
const batchesBefore = await routerStats?.live(5000);
let done = 0;
let issued = 0;
const throughputMs: number[] = [];
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (issued < throughputN && inTime()) {
    const i = issued++;
    const s = performance.now();
    await infer(i, 1);
    throughputMs.push(performance.now() - s);
    done++;
  }
}));
const seconds = (performance.now() - t0) / 1000;
throughputMs.sort((a, b) => a - b);
const batchesAfter = await routerStats?.live(5000);
routerStats?.close();
const batching = batchesBefore && batchesAfter ? { batches: batchesAfter.batches - batchesBefore.batches,
  requests: batchesAfter.batchedRequests - batchesBefore.batchedRequests } : undefined;

let correct = 0;
let n = 0;
const labels = bench.labels;
for (let first = 0; labels && first < Math.min(accuracyN, bench.count) && inTime(); first += accuracyBatch) {
  const b = Math.min(accuracyBatch, Math.min(accuracyN, bench.count) - first);
  const r = await infer(first, b);
  const probs = new Float32Array(new Uint8Array(r.rawOutputContents[0]).slice().buffer);
  const K = probs.length / b;
  for (let k = 0; k < b; k++) {
    if (argmax(probs, k, K) === labels[first + k]) correct++;
    n++;
  }
}
clearTimeout(hardStop);
console.log(JSON.stringify({ latencyMs, exchangedBytes, throughput: { images: done, seconds, perSecond: done / seconds,
  ...(done ? { p50Ms: quantile(throughputMs, 0.5), p99Ms: quantile(throughputMs, 0.99) } : {}) },
  accuracy: { n, correct }, ...(liveFigures ? { live: liveFigures } : {}), ...(batching ? { batching } : {}) }));
client.close();
process.exit(0);

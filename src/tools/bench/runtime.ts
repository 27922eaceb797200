// `edgesplit bench runtime`: the distributed path (router + P partition processes on loopback, through the OIP API)
// against the same units in one process, beside the floors it cannot beat (bare grpc-js on the same payloads:
// a unary call, and a round trip on an open bidirectional stream) and the path it replaced (one unary call per Run
// and per Push). Latencies are taken in interleaved rounds (A, B, C, A, B, C, ...) so that load from elsewhere on a
// shared machine hits every candidate alike; the figures that matter are ratios.
import * as grpc from '@grpc/grpc-js';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ModelPackage } from '../../runtime/manifest.ts';
import { loadSample, sampleDirFor } from '../../runtime/sample.ts';
import { imageInputOf, uint8Shape } from '../../runtime/image-input.ts';
import { benchImages } from './images.ts';
import { RUNNING_FROM_DIST } from '../../runtime/paths.ts';
import { OipClient } from '../cli/oip-client.ts';
import { LocalEngine } from '../../roles/partition/local-engine.ts';
import { quantile } from '../../runtime/stats.ts';
import { startStack, type Stack } from '../cli/stack.ts';

export interface RuntimeBenchOptions {
  pkg: ModelPackage;
  quick: boolean;
  /** Also measure the pre-stream path (unary Run and Push); default true. */
  compareUnary?: boolean;
  /** The traced stack's OTEL_BSP_SCHEDULE_DELAY in ms (default: unset, the SDK's 5 s). */
  tracingExportDelayMs?: number;
  log: (line: string) => void;
}

const CLIENTS = 16;

type Call = () => Promise<unknown>;

/**
 * p50/p99 of each candidate over `rounds` interleaved blocks of `block` sequential calls, after `warmup` calls each
 * (V8 optimises the request path over the first few hundred requests: CPU per request halves).
 */
async function interleaved(cands: Record<string, Call>, rounds: number, block: number, warmup: number): Promise<Record<string, { p50: number; p99: number; mean: number }>> {
  const lat: Record<string, number[]> = Object.fromEntries(Object.keys(cands).map((k) => [k, []]));
  for (const fn of Object.values(cands)) for (let i = 0; i < warmup; i++) await fn();
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of Object.entries(cands)) {
      for (let i = 0; i < block; i++) {
        const t0 = performance.now();
        await fn();
        lat[k].push(performance.now() - t0);
      }
    }
  }
  return Object.fromEntries(Object.entries(lat).map(([k, v]) => {
    v.sort((a, b) => a - b);
    return [k, { p50: quantile(v, 0.5), p99: quantile(v, 0.99), mean: v.reduce((s, x) => s + x, 0) / v.length }];
  }));
}

/** Requests per second with CLIENTS concurrent callers for `ms`. */
async function throughput(fn: (client: number, i: number) => Promise<unknown>, ms: number): Promise<number> {
  let done = 0;
  const until = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = c; performance.now() < until; i += CLIENTS) {
      await fn(c, i);
      done++;
    }
  }));
  return done / ((performance.now() - t0) / 1000);
}

const peakRssMb = (pid: number): number => {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/**
 * The floor: bare grpc-js (no protobuf, no validation, no model), server and client in this process, on the same
 * payload sizes as a batch-1 request (one image's pixels) and its answer (~1 KB).
 */
async function grpcFloor(requestBytes: number): Promise<{ unary: Call; stream: Call; close: () => void }> {
  const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
  const def: grpc.ServiceDefinition = {
    Echo: { path: '/floor.Floor/Echo', requestStream: false, responseStream: false, ...raw },
    EchoStream: { path: '/floor.Floor/EchoStream', requestStream: true, responseStream: true, ...raw },
  };
  const reply = Buffer.alloc(1024, 7);
  const server = new grpc.Server();
  server.addService(def, {
    Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, reply),
    EchoStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', () => call.write(reply));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const Client = grpc.makeGenericClientConstructor(def, 'Floor');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  const request = Buffer.alloc(requestBytes, 3);
  const stream = client.EchoStream() as grpc.ClientDuplexStream<Buffer, Buffer>;
  let waiting: (() => void) | undefined;
  stream.on('data', () => { const w = waiting; waiting = undefined; w?.(); });
  stream.on('error', () => {});
  return {
    unary: () => new Promise((res, rej) => client.Echo(request, { deadline: Date.now() + 5000 }, (e: Error | null) => (e ? rej(e) : res(undefined)))),
    stream: () => new Promise<void>((res) => { waiting = res; stream.write(request); }),
    close: () => {
      stream.end();
      client.close();
      server.forceShutdown();
    },
  };
}

/** Accepts OTLP/HTTP exports and drops them: the tracing bench pays for making and sending spans, not for a collector. */
async function otlpSink(): Promise<{ url: string; spans: () => number; close: () => void }> {
  let bytes = 0;
  const srv: HttpServer = createHttpServer((req, res) => {
    req.on('data', (c: Buffer) => { bytes += c.length; });
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, spans: () => bytes, close: () => srv.close() };
}

export interface RuntimeBenchResult {
  package: string;
  partitions: number;
  policyId: string;
  runtime: 'dist' | 'tsx';
  machine: { cpus: number; model?: string; node: string; loadAvg1mAtStart: number; loadAvg1mAtEnd: number };
  settings: { quick: boolean; warmup: number; rounds: number; block: number; batch: 1; concurrentClients: number; throughputSeconds: number;
    /** The traced stack's span export interval (OTEL_BSP_SCHEDULE_DELAY; the SDK's default 5000 when unset). */
    tracingExportDelayMs?: number };
  floorUnaryP50Ms: number;
  floorStreamP50Ms: number;
  inProcessP50Ms: number;
  distributedP50Ms: number;
  distributedP99Ms: number;
  distributedStreamInferP50Ms: number;
  /** The same stack with the router's dynamic batching off (--dynamic-batching false), one client. */
  distributedNoBatchingP50Ms: number;
  unaryPathP50Ms?: number;
  tracedP50Ms: number;
  latencyRatio: number;
  inProcessThroughputPerS: number;
  distributedThroughputPerS: number;
  /** 16 clients, dynamic batching off; and with it on over off. */
  distributedNoBatchingThroughputPerS: number;
  batchingThroughputGain: number;
  unaryPathThroughputPerS?: number;
  throughputRatio: number;
  /** Peak RSS of the partitions after the sequential batch-1 requests (max over partitions). */
  partitionRssMb: number;
  partitionsRssMb: number[];
  /** The same after the 16-client throughput run as well. */
  partitionRssUnderLoadMb: number;
  routerRssMb: number;
  tracingOverhead: number;
  targets: { latencyRatio: number; throughputRatio: number; partitionRssMb: number; tracingOverhead: number };
  meets: { latencyRatio: boolean; throughputRatio: boolean; partitionRssMb: boolean; tracingOverhead: boolean };
  when: string;
}

/** Runs the whole comparison; logs progress, returns the figures (the caller prints and writes them). */
export async function runRuntimeBench(o: RuntimeBenchOptions): Promise<RuntimeBenchResult> {
  const { pkg, quick, log } = o;
  const rounds = quick ? 6 : 20;
  const block = quick ? 20 : 25;
  const tputMs = quick ? 3000 : 8000;
  const warmup = quick ? 200 : 600;
  const input = imageInputOf(pkg.manifest.input);
  const bench = benchImages(uint8Shape(input, 1).slice(1), loadSample(sampleDirFor(pkg)));
  const img = (i: number) => bench.images.subarray((i % bench.count) * input.pixels, (i % bench.count + 1) * input.pixels);
  const load0 = loadavg()[0];
  const t0 = performance.now();
  const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(0)}s]`;

  log(`${stamp()} starting: in-process engine, grpc floor, stream stack${o.compareUnary === false ? '' : ', unary stack'}, traced stack`);
  const floor = await grpcFloor(input.pixels);
  const local = await LocalEngine.create(pkg);
  const sink = await otlpSink();
  const stacks: Stack[] = [];
  const clients: OipClient[] = [];
  try {
    const stack = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'] });
    stacks.push(stack);
    // The same stack with the router's dynamic batching off (every request travels alone, as before batching).
    const single = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'], routerArgs: ['--dynamic-batching', 'false'] });
    stacks.push(single);
    const unaryStack = o.compareUnary === false ? undefined : await startStack({ pkg, host: '127.0.0.1',
      partitionArgs: ['--measure', 'false', '--push-calls', 'unary'], routerArgs: ['--partition-calls', 'unary'] });
    if (unaryStack) stacks.push(unaryStack);
    // The batch span processor exports on its default schedule (every 5 s, OTEL_BSP_SCHEDULE_DELAY unset), as
    // deployments do. Each export costs about 1 ms of CPU whatever its size, so at the 200 ms this bench used
    // before, five processes exporting five times a second cost more than all the spans of the requests in between
    // (docs/tracing.md, "Overhead").
    const traced = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'], env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_METRICS_EXPORTER: 'none', ...(o.tracingExportDelayMs === undefined ? {} : { OTEL_BSP_SCHEDULE_DELAY: String(o.tracingExportDelayMs) }) } });
    stacks.push(traced);
    const oip = (s: Stack) => {
      const c = new OipClient(s.router, { imageShape: uint8Shape(input, 1).slice(1) });
      clients.push(c);
      return c;
    };
    const dist = oip(stack);
    const singleClient = oip(single);
    const tracedClient = oip(traced);
    const unaryClient = unaryStack ? oip(unaryStack) : undefined;
    const streamInfer = dist.openStream();
    let i = 0;
    log(`${stamp()} latency: ${warmup} warm-up requests, then ${rounds} interleaved rounds of ${block} batch-1 requests per candidate`);
    const cands: Record<string, Call> = {
      floorUnary: floor.unary,
      floorStream: floor.stream,
      inProcess: () => local.classify(img(i++), 1),
      distributed: () => dist.classify(img(i++), 1),
      noBatching: () => singleClient.classify(img(i++), 1),
      streamInfer: () => streamInfer.classify(img(i++), 1),
      traced: () => tracedClient.classify(img(i++), 1),
      ...(unaryClient ? { unaryPath: () => unaryClient.classify(img(i++), 1) } : {}),
    };
    const lat = await interleaved(cands, rounds, block, warmup);
    // Peak RSS after sequential batch-1 requests only (the target's condition); the peak under 16 concurrent
    // clients is reported apart below.
    const partitionsRssSeqMb = stack.partitions.map((p) => Number(peakRssMb(p.pid).toFixed(1)));
    log(`${stamp()} throughput: ${CLIENTS} concurrent clients, ${tputMs / 1000} s each`);
    const localTput = await throughput((_c, k) => local.classify(img(k), 1), tputMs);
    const pool = Array.from({ length: CLIENTS }, () => oip(stack));
    const distTput = await throughput((c, k) => pool[c].classify(img(k), 1), tputMs);
    const singlePool = Array.from({ length: CLIENTS }, () => oip(single));
    const singleTput = await throughput((c, k) => singlePool[c].classify(img(k), 1), tputMs);
    let unaryTput: number | undefined;
    if (unaryStack) {
      const upool = Array.from({ length: CLIENTS }, () => oip(unaryStack));
      unaryTput = await throughput((c, k) => upool[c].classify(img(k), 1), tputMs);
    }
    streamInfer.close();
    const partitionsRssMb = stack.partitions.map((p) => Number(peakRssMb(p.pid).toFixed(1)));
    const routerRssMb = Number(peakRssMb(stack.routerPid).toFixed(1));
    const r3 = (v: number) => Number(v.toFixed(3));
    const result: RuntimeBenchResult = {
      package: pkg.manifest.name, partitions: pkg.manifest.partitions, policyId: pkg.manifest.policy.id,
      runtime: RUNNING_FROM_DIST ? 'dist' : 'tsx',
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAvg1mAtStart: r3(load0), loadAvg1mAtEnd: r3(loadavg()[0]) },
      settings: { quick, warmup, rounds, block, batch: 1, concurrentClients: CLIENTS, throughputSeconds: tputMs / 1000,
        tracingExportDelayMs: o.tracingExportDelayMs ?? 5000 },
      floorUnaryP50Ms: r3(lat.floorUnary.p50), floorStreamP50Ms: r3(lat.floorStream.p50),
      inProcessP50Ms: r3(lat.inProcess.p50), distributedP50Ms: r3(lat.distributed.p50), distributedP99Ms: r3(lat.distributed.p99),
      distributedStreamInferP50Ms: r3(lat.streamInfer.p50),
      distributedNoBatchingP50Ms: r3(lat.noBatching.p50),
      ...(lat.unaryPath ? { unaryPathP50Ms: r3(lat.unaryPath.p50) } : {}),
      tracedP50Ms: r3(lat.traced.p50),
      latencyRatio: r3(lat.distributed.p50 / lat.inProcess.p50),
      inProcessThroughputPerS: r3(localTput), distributedThroughputPerS: r3(distTput),
      distributedNoBatchingThroughputPerS: r3(singleTput), batchingThroughputGain: r3(distTput / singleTput),
      ...(unaryTput !== undefined ? { unaryPathThroughputPerS: r3(unaryTput) } : {}),
      throughputRatio: r3(distTput / localTput),
      partitionRssMb: Math.max(...partitionsRssSeqMb), partitionsRssMb: partitionsRssSeqMb,
      partitionRssUnderLoadMb: Math.max(...partitionsRssMb), routerRssMb,
      tracingOverhead: r3(lat.traced.p50 / lat.distributed.p50 - 1),
      targets: { latencyRatio: 1.3, throughputRatio: 0.8, partitionRssMb: 100, tracingOverhead: 0.05 },
      meets: { latencyRatio: false, throughputRatio: false, partitionRssMb: false, tracingOverhead: false },
      when: new Date().toISOString(),
    };
    result.meets = { latencyRatio: result.latencyRatio <= result.targets.latencyRatio, throughputRatio: result.throughputRatio >= result.targets.throughputRatio,
      partitionRssMb: result.partitionRssMb <= result.targets.partitionRssMb, tracingOverhead: result.tracingOverhead <= result.targets.tracingOverhead };
    if (sink.spans() === 0) log(`${stamp()} warning: the traced stack exported nothing (tracing overhead may be understated)`);
    log(`${stamp()} done`);
    return result;
  } finally {
    for (const c of clients) c.close();
    floor.close();
    sink.close();
    await local.shutdown();
    await Promise.all(stacks.map((s) => s.stop()));
  }
}

/** The table for people. */
export function formatRuntime(r: RuntimeBenchResult): string {
  const row = (k: string, v: string, note = '') => `${k.padEnd(44)}${v.padStart(12)}  ${note}`;
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)} ms`);
  return [
    `runtime bench: ${r.package} (P=${r.partitions}), ${r.machine.cpus} CPUs, load ${r.machine.loadAvg1mAtStart}, node ${r.machine.node}, ${r.runtime}${r.settings.quick ? ', quick' : ''}`,
    row('floor: bare grpc-js unary call, p50', ms(r.floorUnaryP50Ms)),
    row('floor: bare grpc-js stream round trip, p50', ms(r.floorStreamP50Ms)),
    row('in one process (eval), p50', ms(r.inProcessP50Ms)),
    row('distributed, ModelInfer, p50', ms(r.distributedP50Ms), `x${r.latencyRatio} of one process (target <= ${r.targets.latencyRatio})`),
    row('distributed, dynamic batching off, p50', ms(r.distributedNoBatchingP50Ms), `batching on/off x${(r.distributedP50Ms / r.distributedNoBatchingP50Ms).toFixed(3)}`),
    row('distributed, ModelStreamInfer, p50', ms(r.distributedStreamInferP50Ms)),
    row('distributed, unary Run/Push path, p50', ms(r.unaryPathP50Ms), 'the pre-stream data path'),
    row('distributed, every request traced, p50', ms(r.tracedP50Ms), `overhead ${(100 * r.tracingOverhead).toFixed(1)}% (target <= ${100 * r.targets.tracingOverhead}%; spans exported every ${r.settings.tracingExportDelayMs ?? 200} ms)`),
    row(`throughput, ${r.settings.concurrentClients} clients, one process`, `${r.inProcessThroughputPerS.toFixed(0)}/s`),
    row(`throughput, ${r.settings.concurrentClients} clients, distributed`, `${r.distributedThroughputPerS.toFixed(0)}/s`, `x${r.throughputRatio} (target >= 0.8)`),
    row(`throughput, ${r.settings.concurrentClients} clients, batching off`, `${r.distributedNoBatchingThroughputPerS.toFixed(0)}/s`, `batching on/off x${r.batchingThroughputGain}`),
    row(`throughput, ${r.settings.concurrentClients} clients, unary path`, r.unaryPathThroughputPerS === undefined ? '-' : `${r.unaryPathThroughputPerS.toFixed(0)}/s`),
    row('partition peak RSS, batch 1, sequential', `${r.partitionRssMb.toFixed(1)} MB`, 'target <= 100 MB (max over partitions)'),
    row('partition peak RSS, after 16 clients', `${r.partitionRssUnderLoadMb.toFixed(1)} MB`, `router ${r.routerRssMb.toFixed(1)} MB`),
  ].join('\n');
}

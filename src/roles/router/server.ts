import { RouterLiveStats, type RouterLiveSnapshot } from './live-stats.ts';
import * as grpc from '@grpc/grpc-js';
import { EdgesplitError } from '../../runtime/errors.ts';
import { readFileSync } from 'node:fs';
import { inferenceProto, routerProto } from '../../runtime/proto.ts';
import { createRoleServer } from '../../runtime/role-server.ts';
import { routerRpcHooks, tracedHead } from './telemetry.ts';
import { GrpcPartitionClient, type PartitionClient } from './partition-client.ts';
import { HealthMonitor, RouterPipeline, type InferenceEngine } from './pipeline.ts';
import { inferenceHandlers } from './handlers.ts';
import type { ServedModel } from './oip-response.ts';
import type { RouterConfig } from './config.ts';
import type { TlsMaterial } from '../../runtime/tls.ts';
import { repoPath } from '../../runtime/paths.ts';
import { StreamRegistry } from '../../runtime/stream-registry.ts';
import { imageInputOf, uint8Shape } from '../../runtime/image-input.ts';
import type { BatchingSettings } from './batcher.ts';

export const SERVICE_NAME = 'inference.GRPCInferenceService';

export interface RouterDeps {
  model: ServedModel;
  clients: PartitionClient[];
  head: InferenceEngine;
  width: number;
  maxBatch: number;
  defaultTimeoutMs: number;
  maxMessageBytes: number;
  strict: boolean;
  healthIntervalMs: number;
  version: string;
  /** Bounded admission (RESOURCE_EXHAUSTED beyond it); default unbounded. */
  maxInFlight?: number;
  /** Consecutive failures that open a partition's circuit (default 3). */
  breakerFailures?: number;
  /** Dynamic batching (batcher.ts); undefined: every request travels alone. */
  batching?: BatchingSettings;
  /** TLS for the OIP port and mTLS towards the partitions (src/runtime/tls.ts); undefined: plaintext. */
  tls?: TlsMaterial;
  /**
   * The plan this generation serves (planner mode): grpc.health.v1 answers SERVING for `edgesplit.plan.<hash>` once
   * it serves new requests, which is how a planner knows the old plan's partitions can go.
   */
  planHash?: string;
}

/** The grpc.health.v1 service name that says "this router serves plan <hash>". */
export const planHealthService = (hash: string) => `edgesplit.plan.${hash}`;

/**
 * A router without a plan yet (planner mode before the planner has written its ConfigMap): it listens, reports
 * health NOT_SERVING and answers inference UNAVAILABLE with `pending` as the reason, until the first swap.
 */
export interface PendingRouterDeps {
  pending: string;
  maxMessageBytes: number;
  version: string;
  maxBatch: number;
  defaultTimeoutMs: number;
  tls?: TlsMaterial;
}

const NO_MODEL: ServedModel = { packageName: '', policyId: '', partitions: 0, classes: [], input: { channels: 0, height: 0, width: 0, pixels: 0 } };

export interface RouterServer {
  server: grpc.Server;
  /** The pipeline serving new requests now (replaced by swap); throws while the router waits for its first plan. */
  readonly pipeline: RouterPipeline;
  /** Binds and starts; resolves to the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number>;
  /**
   * Serves a new plan (package and partitions): once every new partition answers SERVING (or after
   * `readyWaitMs`, default 60 s: the old plan's partitions may be gone), new requests go to the new pipeline,
   * requests in flight finish on the old one, whose clients and head are closed once it has drained.
   */
  swap(next: RouterDeps, opts?: { drainMs?: number; readyWaitMs?: number }): Promise<void>;
  /** Health NOT_SERVING, refuse new inference, wait for in-flight calls (up to graceMs), then stop. Idempotent. */
  shutdown(graceMs?: number): Promise<void>;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
}

interface Generation {
  deps: RouterDeps;
  pipeline: RouterPipeline;
  monitor: HealthMonitor;
  live: RouterLiveStats;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drainAndClose(g: Generation, until: number): Promise<void> {
  g.monitor.stop();
  while (g.pipeline.stats().inFlight > 0 && Date.now() < until) await sleep(20);
  for (const c of g.deps.clients) c.close();
  await g.deps.head.shutdown();
}

/** The router's server (src/runtime/role-server.ts's scaffold) around a pipeline that a new plan can replace; with
 * PendingRouterDeps (planner mode before the planner has written the plan) it serves NOT_SERVING and answers
 * UNAVAILABLE until the first plan is swapped in. */
export function createServer(deps: RouterDeps | PendingRouterDeps): RouterServer {
  let accepting = true;
  let listening = false;
  // One object for the life of the server: handlers and span hooks read its fields per request, so a swap
  // that updates it in place is seen by everything that serves.
  const model = { ...('pending' in deps ? NO_MODEL : deps.model) };
  const generation = (d: RouterDeps): Generation => {
    const live = new RouterLiveStats(d.clients.length, d.planHash ?? '');
    const pipeline = new RouterPipeline({ clients: d.clients, head: d.head, packageName: d.model.packageName,
      imageShape: uint8Shape(d.model.input, 1).slice(1),
      width: d.width, strict: d.strict, maxInFlight: d.maxInFlight, breakerFailures: d.breakerFailures, live,
      ...(d.batching ? { batching: fitBatching(d.batching, d.model.input.pixels, d.maxMessageBytes) } : {}) });
    const g: Generation = { deps: d, pipeline, monitor: undefined as unknown as HealthMonitor, live };
    g.monitor = new HealthMonitor(d.clients, pipeline.breakers, d.healthIntervalMs, (all, healthy) => {
      if (!accepting || g !== gen) return;
      // Strict routers need every partition; a degrading one can answer while any partition is up.
      role.setServing(all || (!d.strict && healthy > 0) ? 'SERVING' : 'NOT_SERVING');
    });
    return g;
  };
  let gen: Generation | undefined = 'pending' in deps ? undefined : generation(deps);
  const firstPlan = 'pending' in deps ? undefined : deps.planHash;
  const pending = 'pending' in deps ? deps.pending : '';
  const current = (): Generation => {
    if (!gen) throw new EdgesplitError(`no plan yet: ${pending}`, grpc.status.UNAVAILABLE);
    return gen;
  };

  const streams = new StreamRegistry();
  const def = inferenceProto().inference.GRPCInferenceService.service;
  const role = createRoleServer({ maxMessageBytes: deps.maxMessageBytes, tls: deps.tls, services: [{
    definition: def,
    handlers: inferenceHandlers({
      model, pipeline: { infer: (...a) => current().pipeline.infer(...a) }, version: deps.version, maxBatch: deps.maxBatch,
      defaultTimeoutMs: deps.defaultTimeoutMs, accepting: () => accepting,
      partitionsReady: async (t) => gen !== undefined && gen.monitor.checkNow(t), streams,
      unavailable: () => (gen ? undefined : `no plan yet: ${pending}`),
    }),
    telemetry: routerRpcHooks(model),
  }, {
    // The plan's live figures for the planner's calibration (no telemetry hooks: polled every few seconds).
    definition: routerProto().edgesplit.v1.RouterStats.service,
    handlers: { Live: (_call: unknown, cb: grpc.sendUnaryData<RouterLiveSnapshot>) => {
      const b = gen?.pipeline.stats().batching;
      cb(null, gen ? { ...gen.live.snapshot(), ...(b ? { batches: b.batches, batchedRequests: b.requests } : {}) }
        : { windowS: 0, planHash: '', requests: 0, requestMsP50: 0, partitions: [] });
    } },
  }] });

  let stopped: Promise<void> | undefined;
  return {
    server: role.server,
    get pipeline() {
      return current().pipeline;
    },
    async listen(host, port) {
      const bound = await role.listen(host, port);
      if (firstPlan) role.health.setStatus(planHealthService(firstPlan), 'SERVING');
      listening = true;
      if (gen) void gen.monitor.start();
      return bound;
    },
    async swap(next, opts = {}) {
      if (stopped) throw new Error('router is shut down');
      const old = gen;
      const fresh = generation(next);
      // Switch only when the new plan can answer whole: until then the old one keeps serving (a plan change
      // starts its partitions beside the old ones), so no request is answered degraded because of the change.
      if (old) {
        const until = Date.now() + (opts.readyWaitMs ?? 60_000);
        while (!stopped && Date.now() < until && !(await fresh.monitor.checkNow(1000))) await sleep(200);
      }
      if (stopped) {
        fresh.monitor.stop();
        for (const c of next.clients) c.close();
        await next.head.shutdown();
        throw new Error('router is shut down');
      }
      gen = fresh;
      Object.assign(model, next.model);
      if (listening) void gen.monitor.start();
      if (old?.deps.planHash && old.deps.planHash !== next.planHash) role.health.setStatus(planHealthService(old.deps.planHash), 'NOT_SERVING');
      if (next.planHash) role.health.setStatus(planHealthService(next.planHash), 'SERVING');
      if (old) await drainAndClose(old, Date.now() + (opts.drainMs ?? 30_000));
    },
    shutdown(graceMs = 5000) {
      stopped ??= (async () => {
        accepting = false;
        gen?.monitor.stop();
        const until = Date.now() + graceMs;
        await role.shutdown({ timeoutMs: graceMs, drain: async () => {
          while (gen && gen.pipeline.stats().inFlight > 0 && Date.now() < until) await sleep(20);
          streams.endAll();
        } });
        if (gen) await drainAndClose(gen, until);
      })();
      return stopped;
    },
  };
}

/**
 * A batch travels to each partition as one message, which the router's send limit (its --max-message-bytes) bounds
 * like any request: the batch size is capped to what fits, with room for the frame's other fields.
 */
export function fitBatching(b: BatchingSettings, pixelsPerImage: number, maxMessageBytes: number): BatchingSettings {
  const fits = Math.max(1, Math.floor((maxMessageBytes - 16 * 1024) / Math.max(1, pixelsPerImage)));
  return { ...b, maxBatchSize: Math.min(b.maxBatchSize, fits) };
}

/** The real dependencies for a config: one gRPC client per partition and the package's head. */
export async function routerDepsFromConfig(c: RouterConfig, HeadCtor: { create(pkg: RouterConfig['pkg'], threads?: number): Promise<InferenceEngine> }): Promise<RouterDeps> {
  const m = c.pkg.manifest;
  const width = m.head.inFeatures / m.partitions;
  const head = tracedHead(await HeadCtor.create(c.pkg, c.headThreads));
  return {
    model: { packageName: m.name, policyId: m.policy.id, partitions: m.partitions, classes: m.classes, input: imageInputOf(m.input) },
    clients: c.partitions.map((a, i) => new GrpcPartitionClient(i, a, width, c.maxMessageBytes, c.tls,
      { unary: c.partitionCalls === 'unary' })),
    head, width, maxBatch: c.maxBatch, defaultTimeoutMs: c.defaultTimeoutMs, maxMessageBytes: c.maxMessageBytes,
    strict: c.strict, healthIntervalMs: c.healthIntervalMs, version: packageVersion(),
    maxInFlight: c.maxInFlight, breakerFailures: c.breakerFailures, tls: c.tls,
    ...(c.batching ? { batching: c.batching } : {}),
    ...(c.plan ? { planHash: c.plan.planHash } : {}),
  };
}

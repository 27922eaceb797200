import type * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { inferenceProto } from '../common/proto.ts';
import { hardenDefinition, rejectMalformed } from '../common/malformed.ts';
import { addClientFriendlyReflection } from '../common/reflection.ts';
import { addHealth, bindAsync, createGrpcServer, setServing, shutdownServer } from '../common/grpc-server.ts';
import { traceService } from '../common/telemetry/grpc-server.ts';
import { routerRpcHooks, tracedHead } from '../common/telemetry/router.ts';
import { GrpcPartitionClient, type PartitionClient } from './partition-client.ts';
import { HealthMonitor, RouterPipeline, type InferenceEngine } from './pipeline.ts';
import { inferenceHandlers } from './handlers.ts';
import type { ServedModel } from './oip-response.ts';
import type { RouterConfig } from './config.ts';
import { serverCredentials, type TlsMaterial } from '../common/tls.ts';

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
  /** TLS for the OIP port and mTLS towards the partitions (services/common/tls.ts); undefined: plaintext. */
  tls?: TlsMaterial;
}

export interface RouterServer {
  server: grpc.Server;
  pipeline: RouterPipeline;
  /** Binds and starts; resolves to the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number>;
  /** Health NOT_SERVING, refuse new inference, wait for in-flight calls (up to graceMs), then stop. Idempotent. */
  shutdown(graceMs?: number): Promise<void>;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Server options shared by every way the router is started: explicit message-size limits. */
export function createServer(deps: RouterDeps): RouterServer {
  const server = createGrpcServer({ maxMessageBytes: deps.maxMessageBytes });
  const pipeline = new RouterPipeline({ clients: deps.clients, head: deps.head, packageName: deps.model.packageName,
    width: deps.width, strict: deps.strict, maxInFlight: deps.maxInFlight, breakerFailures: deps.breakerFailures });
  const services = [SERVICE_NAME];
  let accepting = true;
  const monitor = new HealthMonitor(deps.clients, pipeline.breakers, deps.healthIntervalMs, (all, healthy) => {
    if (!accepting) return;
    // Strict routers need every partition; a degrading one can answer while any partition is up.
    setServing(health, services, all || (!deps.strict && healthy > 0) ? 'SERVING' : 'NOT_SERVING');
  });

  const def = inferenceProto().inference.GRPCInferenceService.service;
  server.addService(hardenDefinition(def), rejectMalformed(def, traceService(def, inferenceHandlers({
    model: deps.model, pipeline, version: deps.version, maxBatch: deps.maxBatch,
    defaultTimeoutMs: deps.defaultTimeoutMs, accepting: () => accepting,
    partitionsReady: (t) => monitor.checkNow(t),
  }), routerRpcHooks(deps.model))));
  const health = addHealth(server, services);
  addClientFriendlyReflection(server);

  let stopped: Promise<void> | undefined;
  return {
    server,
    pipeline,
    async listen(host, port) {
      const bound = await bindAsync(server, host, port, serverCredentials(deps.tls));
      void monitor.start();
      return bound;
    },
    shutdown(graceMs = 5000) {
      stopped ??= (async () => {
        accepting = false;
        monitor.stop();
        const until = Date.now() + graceMs;
        await shutdownServer(server, { health, services, timeoutMs: graceMs, drain: async () => {
          while (pipeline.stats().inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        } });
        for (const c of deps.clients) c.close();
        await deps.head.shutdown();
      })();
      return stopped;
    },
  };
}

/** The real dependencies for a config: one gRPC client per partition and the package's head. */
export async function routerDepsFromConfig(c: RouterConfig, HeadCtor: { create(pkg: RouterConfig['pkg'], threads?: number): Promise<InferenceEngine> }): Promise<RouterDeps> {
  const m = c.pkg.manifest;
  const width = m.head.inFeatures / m.partitions;
  const head = tracedHead(await HeadCtor.create(c.pkg, c.headThreads));
  return {
    model: { packageName: m.name, policyId: m.policy.id, partitions: m.partitions, classes: m.classes },
    clients: c.partitions.map((a, i) => new GrpcPartitionClient(i, a, width, c.maxMessageBytes, c.tls)),
    head, width, maxBatch: c.maxBatch, defaultTimeoutMs: c.defaultTimeoutMs, maxMessageBytes: c.maxMessageBytes,
    strict: c.strict, healthIntervalMs: c.healthIntervalMs, version: packageVersion(),
    maxInFlight: c.maxInFlight, breakerFailures: c.breakerFailures, tls: c.tls,
  };
}

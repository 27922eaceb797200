import type * as grpc from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { partitionProto } from '../../runtime/proto.ts';
import { createRoleServer } from '../../runtime/role-server.ts';
import type { TlsMaterial } from '../../runtime/tls.ts';
import { partitionRpcHooks } from './telemetry.ts';
import { describeHandler } from './describe.ts';
import { pushHandler } from './push.ts';
import type { PartitionRunner } from './runner.ts';
import { runHandler } from './run.ts';
import { pushStreamHandler, runStreamHandler } from './streams.ts';
import { StreamRegistry } from '../../runtime/stream-registry.ts';

export const PARTITION_SERVICE = 'edgesplit.v1.Partition';

/** What the handlers need of a runner (PartitionRunner satisfies it). */
export type RunnerApi = Pick<PartitionRunner, 'run' | 'acceptPush' | 'stats' | 'describe' | 'live' | 'packageName' | 'input' | 'drain'>;

export interface HandlerDeps {
  runner: RunnerApi;
  /** Peer addresses as currently configured (Describe reports them). */
  peers: () => string[];
  /** Deadline for a Run whose caller set none. */
  defaultTimeoutMs: number;
}

export interface PartitionServerDeps extends HandlerDeps {
  maxMessageBytes: number;
  /** undefined: plaintext. */
  tls?: TlsMaterial;
}

export interface PartitionServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** Binds (with the TLS given); resolves to the bound port. Health stays NOT_SERVING until ready(). */
  listen(host: string, port: number): Promise<number>;
  /** Health SERVING once bound and ready. */
  ready(): void;
  /** Health NOT_SERVING, drain in-flight Runs (at most drainMs), tryShutdown, forceShutdown after timeoutMs. */
  shutdown(opts?: { drainMs?: number; timeoutMs?: number }): Promise<void>;
}

export function createServer(deps: PartitionServerDeps): PartitionServer {
  const def = partitionProto().edgesplit.v1.Partition.service;
  const hooks = partitionRpcHooks(deps.runner.describe().index);
  const streams = new StreamRegistry();
  const role = createRoleServer({ maxMessageBytes: deps.maxMessageBytes, tls: deps.tls, services: [{
    definition: def,
    handlers: {
      Run: runHandler(deps),
      Push: pushHandler(deps),
      Describe: describeHandler(deps),
      RunStream: runStreamHandler(deps, streams, hooks.Run),
      PushStream: pushStreamHandler(deps, streams),
    },
    telemetry: hooks,
  }] });
  return {
    server: role.server,
    health: role.health,
    listen: (host, port) => role.listen(host, port),
    ready: () => role.setServing('SERVING'),
    shutdown: (opts = {}) => role.shutdown({
      // In-flight Runs finish first (their pushes still flow), then the data-path streams end so tryShutdown can.
      drain: async () => {
        await deps.runner.drain(opts.drainMs ?? 10_000);
        streams.endAll();
      }, timeoutMs: opts.timeoutMs }),
  };
}

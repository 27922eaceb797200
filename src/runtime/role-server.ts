import type * as grpc from '@grpc/grpc-js';
import type { HealthImplementation, ServingStatus } from 'grpc-health-check';
import { addHealth, bindAsync, createGrpcServer, setServing, shutdownServer } from './grpc-server.ts';
import { hardenDefinition, malformedRequestInterceptor } from './malformed.ts';
import { addClientFriendlyReflection } from './reflection.ts';
import { serverTelemetryInterceptor, type MethodHooks } from './telemetry/grpc-server.ts';
import { serverCredentials, type TlsMaterial } from './tls.ts';

/** One gRPC service a role serves. */
export interface RoleService {
  definition: grpc.ServiceDefinition;
  handlers: grpc.UntypedServiceImplementation;
  /** Unary methods that get a SERVER span and call metrics, with what their spans carry beyond rpc.*. */
  telemetry?: Record<string, MethodHooks>;
}

export interface RoleServerOptions {
  services: RoleService[];
  /** Largest message accepted or sent (grpc-server.ts's default when absent). */
  maxMessageBytes?: number;
  /** undefined: plaintext. */
  tls?: TlsMaterial;
}

/** The serving scaffold every role shares (partition, router, planner). */
export interface RoleServer {
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  /** Sets the overall status and every service's at once. */
  setServing(status: ServingStatus): void;
  /** Binds with the TLS given (or plaintext); resolves to the bound port (0 picks a free one). Health stays as it is. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Graceful stop: NOT_SERVING (balancers stop sending), `drain` (in-flight work finishes), tryShutdown for at most
   * `timeoutMs` (default 5 s), then forceShutdown. Idempotent.
   */
  shutdown(opts?: { drain?: () => Promise<void>; timeoutMs?: number }): Promise<void>;
}

const serviceName = (def: grpc.ServiceDefinition): string => {
  const path = Object.values(def)[0]?.path ?? '';
  return path.slice(1, path.lastIndexOf('/'));
};

/**
 * A role's gRPC server: explicit message limits, request decoders that answer undecodable bytes INVALID_ARGUMENT
 * (malformed.ts), the telemetry interceptor (spans and call metrics, decided per call), grpc.health.v1 NOT_SERVING
 * until the role says it is ready, and server reflection so grpcurl needs no proto files.
 */
export function createRoleServer(o: RoleServerOptions): RoleServer {
  const hooks = new Map<string, MethodHooks>();
  for (const s of o.services) {
    for (const [method, h] of Object.entries(s.telemetry ?? {})) {
      const m = s.definition[method];
      if (m) hooks.set(m.path, h);
    }
  }
  // Cross-cutting concerns are grpc-js server interceptors, the handlers stay as the roles wrote them. The malformed
  // guard comes first (nearest the transport): a request it answers is neither traced nor counted, as before.
  const server = createGrpcServer({ maxMessageBytes: o.maxMessageBytes,
    options: { interceptors: [malformedRequestInterceptor(), serverTelemetryInterceptor(hooks)] } });
  for (const s of o.services) server.addService(hardenDefinition(s.definition), s.handlers);
  const services = o.services.map((s) => serviceName(s.definition));
  const health = addHealth(server, services);
  addClientFriendlyReflection(server);
  return {
    server,
    health,
    setServing: (status) => setServing(health, services, status),
    listen: (host, port) => bindAsync(server, host, port, serverCredentials(o.tls)),
    shutdown: (opts = {}) => shutdownServer(server, { health, services, drain: opts.drain, timeoutMs: opts.timeoutMs }),
  };
}

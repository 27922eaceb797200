import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface GrpcServerOptions {
  /** Largest message accepted or sent, in bytes (oversized ones fail with RESOURCE_EXHAUSTED). */
  maxMessageBytes?: number;
  /** Extra server options, e.g. keepalive tuning or interceptors. */
  options?: grpc.ServerOptions;
}

/** A grpc-js server with explicit message-size limits and keepalive pings allowed from peers. */
export function createGrpcServer(opts: GrpcServerOptions = {}): grpc.Server {
  const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return new grpc.Server({
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    'grpc.keepalive_permit_without_calls': 1,
    ...opts.options,
  });
}

/**
 * Registers grpc.health.v1 with the overall status ('') and each named service set to `initial`
 * (default NOT_SERVING: call `setServing` once the server can answer).
 */
export function addHealth(server: grpc.Server, services: readonly string[],
  initial: ServingStatus = 'NOT_SERVING'): HealthImplementation {
  const health = new HealthImplementation(Object.fromEntries(['', ...services].map((s) => [s, initial])));
  health.addToServer(server);
  return health;
}

/** Sets the overall status and every named service at once. */
export function setServing(health: HealthImplementation, services: readonly string[], status: ServingStatus): void {
  for (const s of ['', ...services]) health.setStatus(s, status);
}

/** Binds (insecurely unless `creds` are given, see tls.ts) and resolves with the bound port (port 0 picks a free one). */
export function bindAsync(server: grpc.Server, host: string, port: number,
  creds: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  const target = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(target, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/**
 * Graceful stop: health NOT_SERVING (balancers stop sending), `drain` (in-flight work finishes),
 * tryShutdown for at most `timeoutMs`, then forceShutdown. Idempotent per server.
 */
export async function shutdownServer(server: grpc.Server, opts: { health?: HealthImplementation;
  services?: readonly string[]; drain?: () => Promise<void>; timeoutMs?: number } = {}): Promise<void> {
  const state = shutdowns.get(server);
  if (state) return state;
  const p = (async () => {
    if (opts.health) setServing(opts.health, opts.services ?? [], 'NOT_SERVING');
    if (opts.drain) await opts.drain();
    const timeoutMs = opts.timeoutMs ?? 5000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, timeoutMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  })();
  shutdowns.set(server, p);
  return p;
}

const shutdowns = new WeakMap<grpc.Server, Promise<void>>();

/** Milliseconds-since-epoch deadline of a call, or `fallbackMs` from now when the client set none. */
export function callDeadlineMs(call: grpc.ServerUnaryCall<unknown, unknown>, fallbackMs: number): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : Number(d);
  return Number.isFinite(ms) ? ms : Date.now() + fallbackMs;
}

// grpc-js reports 'cancelled' for every unary call once its stream closes, answered or not. abort() without a reason
// builds a DOMException (with a stack trace) each time: 0.1 ms per request in the router's profile. One reason, made once.
const CALL_CANCELLED = Object.freeze(new Error('the call was cancelled'));

/** An AbortSignal that fires when the client cancels the call (or it fails on the transport). */
export function callSignal(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const ac = new AbortController();
  if (call.cancelled) ac.abort(CALL_CANCELLED);
  else call.once('cancelled', () => ac.abort(CALL_CANCELLED));
  return ac.signal;
}

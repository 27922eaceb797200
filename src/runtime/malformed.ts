import { status as Status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';

/**
 * grpc-js answers a request it cannot decode with INTERNAL, which reads as a server bug. Hostile or truncated bytes
 * are the client's fault: these two wrappers make such a request decode to a marker and answer it
 * INVALID_ARGUMENT before any handler runs.
 */
const MALFORMED = Symbol('edgesplit.malformed');

interface Malformed {
  [MALFORMED]: string;
}

/** true for a request that `hardenDefinition` could not decode (streaming handlers check each message). */
export const isMalformed = (r: unknown): r is Malformed => typeof r === 'object' && r !== null && MALFORMED in r;

/** The same service with request decoders that never throw. */
export function hardenDefinition<D extends ServiceDefinition>(def: D): D {
  const out: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = { ...m, requestDeserialize: (buf: Buffer) => {
      try {
        return m.requestDeserialize(buf);
      } catch (e) {
        return { [MALFORMED]: e instanceof Error ? e.message : String(e) } satisfies Malformed;
      }
    } };
  }
  return out as D;
}

/** Unary handlers that answer the marker INVALID_ARGUMENT (streaming handlers pass through unchanged). */
export function rejectMalformed<H extends object>(def: ServiceDefinition, handlers: H): H {
  const out: Record<string, unknown> = { ...(handlers as Record<string, unknown>) };
  for (const [name, fn] of Object.entries(handlers as UntypedServiceImplementation)) {
    const m = def[name];
    if (!m || m.requestStream || m.responseStream || typeof fn !== 'function') continue;
    out[name] = (call: { request: unknown }, callback: (err: { code: Status; details: string } | null) => void) => {
      if (isMalformed(call.request)) {
        callback({ code: Status.INVALID_ARGUMENT, details: `request: not a valid ${m.path} message (${call.request[MALFORMED]})` });
        return;
      }
      (fn as (c: unknown, cb: unknown) => void)(call, callback);
    };
  }
  return out as H;
}

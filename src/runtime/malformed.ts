import { ServerInterceptingCall, status as Status, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';

/**
 * grpc-js answers a request it cannot decode with INTERNAL, which reads as a server bug. Hostile or truncated bytes
 * are the client's fault: hardenDefinition makes such a request decode to a marker, and malformedRequestInterceptor
 * answers a unary one INVALID_ARGUMENT before any handler runs (streaming handlers check each message themselves).
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

/**
 * A grpc-js server interceptor that answers a unary request `hardenDefinition` could not decode with INVALID_ARGUMENT:
 * neither the message nor the half-close reaches the handler, so it never runs. Put it first in the server's
 * interceptors (nearest the transport), so the others never see such a call. Streaming calls pass through untouched.
 */
export function malformedRequestInterceptor(): ServerInterceptor {
  return (method, call) => {
    if (method.requestStream || method.responseStream) return call as ServerInterceptingCall;
    let rejected = false;
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMessage(message, nextMessage) {
            if (!isMalformed(message)) {
              nextMessage(message);
              return;
            }
            rejected = true;
            intercepting.sendStatus({ code: Status.INVALID_ARGUMENT,
              details: `request: not a valid ${method.path} message (${message[MALFORMED]})` });
          },
          onReceiveHalfClose(nextHalfClose) {
            if (!rejected) nextHalfClose();
          },
        });
      },
    });
    return intercepting;
  };
}

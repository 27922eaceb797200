import * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { isMalformed } from '../malformed.ts';
import { hrNow } from './clock.ts';
import { instrumented, metricsOn, tracer, tracingOn } from './enabled.ts';
import { metadataGetter, splitPath } from './grpc-metadata.ts';
import { recordServerCall } from './metrics.ts';
import { ATTR } from './names.ts';

/** Per-method enrichment: attributes from the request, and a look at the response (metrics, attributes). */
export interface MethodHooks<Req = any, Res = any> {
  /** false: no SERVER span, only the call metrics (a push: an event on the Run spans records it instead). */
  span?: false;
  attributes?: (req: Req) => Attributes;
  /** `span` is undefined when the call has none (tracing off, or `span: false`): metrics are still recorded here. */
  onResponse?: (res: Res, span: Span | undefined, req: Req) => void;
}

/** Hooks by full method path ('/pkg.Service/Method'); the methods named here are the ones traced. */
export type HooksByPath = ReadonlyMap<string, MethodHooks>;

// Server-side, only these codes mean the server failed (OpenTelemetry's gRPC conventions); the rest are the caller's.
export const SERVER_ERRORS = new Set([grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNIMPLEMENTED,
  grpc.status.INTERNAL, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS]);

/**
 * A grpc-js server interceptor for the unary methods in `hooks`: extracts the caller's trace context from the
 * metadata, runs the handler inside a SERVER span (rpc.* attributes, status from the gRPC code) and records the
 * call's duration and status. Decided per call (src/runtime/telemetry/enabled.ts): with telemetry off, or for any
 * other method, the call passes through untouched. A request that could not be decoded (malformed.ts) is answered
 * before any handler and is not traced, as before interceptors.
 */
export function serverTelemetryInterceptor(hooks: HooksByPath): grpc.ServerInterceptor {
  return (method, call) => {
    const h = hooks.get(method.path);
    if (!h || method.requestStream || method.responseStream || !instrumented()) return call as grpc.ServerInterceptingCall;
    return tracedUnary(method.path, h, call);
  };
}

function tracedUnary(path: string, h: MethodHooks, call: grpc.ServerInterceptingCallInterface): grpc.ServerInterceptingCall {
  const [service, method] = splitPath(path);
  const base: Attributes = { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service, [ATTR.rpcMethod]: method };
  let metadata: grpc.Metadata | undefined;
  let request: unknown;
  let span: Span | undefined;
  let ctx: Context | undefined;
  let started = false;
  let t0 = 0;
  const end = (code: number, details: string) => {
    if (!started) return;
    started = false;
    const s = span;
    span = undefined;
    if (s) {
      s.setAttribute(ATTR.rpcStatus, code);
      if (SERVER_ERRORS.has(code)) s.setStatus({ code: SpanStatusCode.ERROR, message: details });
      s.end(hrNow());
    }
    if (metricsOn()) recordServerCall({ ...base, [ATTR.rpcStatus]: code }, (performance.now() - t0) / 1000);
  };
  return new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(md, nextMd) {
          metadata = md;
          nextMd(md);
        },
        onReceiveMessage(msg, nextMsg) {
          if (isMalformed(msg)) {
            nextMsg(msg);
            return;
          }
          request = msg;
          t0 = performance.now();
          started = true;
          if (h.span === false || !tracingOn()) {
            nextMsg(msg);
            return;
          }
          const parent = metadata ? propagation.extract(ROOT_CONTEXT, metadata, metadataGetter) : ROOT_CONTEXT;
          let extra: Attributes = {};
          try {
            extra = h.attributes?.(msg) ?? {};
          } catch {
            // Enrichment must never fail a call; the handler validates the request and answers for it.
          }
          span = tracer().startSpan(`${service}/${method}`, { kind: SpanKind.SERVER, attributes: { ...base, ...extra },
            startTime: hrNow() }, parent);
          ctx = trace.setSpan(parent, span);
          context.with(ctx, () => nextMsg(msg));
        },
        // grpc-js calls a unary handler from the half-close, synchronously: the handler and all it awaits run in the span.
        onReceiveHalfClose(nextHalfClose) {
          if (ctx) context.with(ctx, nextHalfClose);
          else nextHalfClose();
        },
        // grpc-js passes the cancel on to the handler itself; a handler that never answers still ends its span.
        onCancel() {
          end(grpc.status.CANCELLED, 'the call was cancelled');
        },
      });
    },
    sendMessage(message, nextMessage) {
      if (started) {
        try {
          h.onResponse?.(message, span, request);
        } catch {
          // as above: telemetry never changes an answer
        }
      }
      nextMessage(message);
    },
    sendStatus(status, nextStatus) {
      end(status.code, status.details);
      nextStatus(status);
    },
  });
}

import * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { hrNow } from './clock.ts';
import { metadataGetter } from './grpc-metadata.ts';
import { recordServerCall } from './metrics.ts';
import { ATTR, TRACER_NAME } from './names.ts';
import { instrumented, telemetryActive } from './state.ts';

/** Per-method enrichment: attributes from the request, and a look at the response (metrics, attributes). */
export interface MethodHooks<Req = any, Res = any> {
  attributes?: (req: Req) => Attributes;
  onResponse?: (res: Res, span: Span, req: Req) => void;
}

// Server-side, only these codes mean the server failed (OpenTelemetry's gRPC conventions); the rest are the caller's.
export const SERVER_ERRORS = new Set([grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNIMPLEMENTED,
  grpc.status.INTERNAL, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS]);

/**
 * Wraps the unary handlers named in `hooks`: extracts the caller's trace context from the metadata, runs the handler
 * inside a SERVER span (rpc.* attributes, status from the gRPC code) and records the call's duration and status.
 * With telemetry off it returns `impl` itself.
 */
export function traceService<T extends grpc.UntypedServiceImplementation>(def: grpc.ServiceDefinition, impl: T,
  hooks: Record<string, MethodHooks>): T {
  if (!instrumented()) return impl;
  const out: grpc.UntypedServiceImplementation = { ...impl };
  for (const [method, h] of Object.entries(hooks)) {
    const d = def[method];
    const handler = impl[method];
    if (!d || !handler || d.requestStream || d.responseStream) continue;
    const service = d.path.slice(1, d.path.lastIndexOf('/'));
    out[method] = wrapUnary(service, method, handler as grpc.handleUnaryCall<unknown, unknown>, h);
  }
  return out as T;
}

function wrapUnary(service: string, method: string, handler: grpc.handleUnaryCall<unknown, unknown>,
  h: MethodHooks): grpc.handleUnaryCall<unknown, unknown> {
  const tracer = trace.getTracer(TRACER_NAME);
  const base: Attributes = { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service, [ATTR.rpcMethod]: method };
  const name = `${service}/${method}`;
  return (call, callback) => {
    const t0 = performance.now();
    const parent = telemetryActive().tracing ? propagation.extract(ROOT_CONTEXT, call.metadata, metadataGetter) : ROOT_CONTEXT;
    let extra: Attributes = {};
    try {
      extra = h.attributes?.(call.request) ?? {};
    } catch {
      // Enrichment must never fail a call; the handler validates the request and answers for it.
    }
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: { ...base, ...extra }, startTime: hrNow() }, parent);
    let done = false;
    const finish: grpc.sendUnaryData<unknown> = (err, res, ...rest) => {
      if (!done) {
        done = true;
        const code = err ? (typeof err.code === 'number' ? err.code : grpc.status.UNKNOWN) : grpc.status.OK;
        span.setAttribute(ATTR.rpcStatus, code);
        if (err) {
          if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: err.details ?? ('message' in err ? String(err.message) : '') });
        } else {
          try {
            h.onResponse?.(res, span, call.request);
          } catch {
            // as above: telemetry never changes an answer
          }
        }
        span.end(hrNow());
        recordServerCall({ ...base, [ATTR.rpcStatus]: code }, (performance.now() - t0) / 1000);
      }
      callback(err, res, ...rest);
    };
    context.with(trace.setSpan(parent, span), () => handler(call, finish));
  };
}

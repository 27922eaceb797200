import * as grpc from '@grpc/grpc-js';
import { context, createContextKey, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { hrNow } from './clock.ts';
import { metadataSetter, splitPath } from './grpc-metadata.ts';
import { instruments } from './metrics.ts';
import { ATTR } from './names.ts';
import { instrumented, tracer } from './enabled.ts';

const CALL_ATTRIBUTES = createContextKey('edgesplit.rpc.client.attributes');

/** Runs `fn` so that the gRPC calls it starts carry `attrs` on their CLIENT spans (e.g. a push's point and bytes). */
export function withCallAttributes<T>(attrs: Attributes, fn: () => T): T {
  if (!instrumented()) return fn();
  const ctx = context.active();
  const prior = ctx.getValue(CALL_ATTRIBUTES) as Attributes | undefined;
  return context.with(ctx.setValue(CALL_ATTRIBUTES, { ...prior, ...attrs }), fn);
}

/** The attributes `withCallAttributes` set for calls started in the active context (for multiplexed requests). */
export function callAttributes(): Attributes | undefined {
  return context.active().getValue(CALL_ATTRIBUTES) as Attributes | undefined;
}

/** server.address / server.port of a gRPC target (dns:///host:port, host:port, [v6]:port). */
export function hostPort(target: string): Attributes {
  const m = /^(?:dns:(?:\/\/[^/]*\/)?)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
  if (!m) return { [ATTR.serverAddress]: target };
  return { [ATTR.serverAddress]: m[1].replace(/^\[|\]$/g, ''), ...(m[2] ? { [ATTR.serverPort]: Number(m[2]) } : {}) };
}

/**
 * Client interceptors for a stub talking to `target`: each unary call gets a CLIENT span (rpc.* attributes, status from
 * the gRPC code), its W3C trace context injected into the metadata, and a duration in rpc.client.call.duration.
 * Decided per call (enabled.ts): with telemetry off a call passes straight through. Pass as the stub's
 * `interceptors` channel option.
 */
export function clientInterceptors(target: string): grpc.Interceptor[] {
  const server = hostPort(target);
  const interceptor: grpc.Interceptor = (options, nextCall) => {
    if (!instrumented()) return nextCall(options) as grpc.InterceptingCall;
    const [service, method] = splitPath(options.method_definition.path);
    const base: Attributes = { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service, [ATTR.rpcMethod]: method };
    const parent: Context = context.active();
    const extra = parent.getValue(CALL_ATTRIBUTES) as Attributes | undefined;
    const span = tracer().startSpan(`${service}/${method}`, { kind: SpanKind.CLIENT,
      attributes: { ...base, ...server, ...extra }, startTime: hrNow() }, parent);
    const ctx = trace.setSpan(parent, span);
    const t0 = performance.now();
    let ended = false;
    const end = (code: number, details: string) => {
      if (ended) return;
      ended = true;
      span.setAttribute(ATTR.rpcStatus, code);
      if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
      span.end(hrNow());
      instruments().clientDuration.record((performance.now() - t0) / 1000, { ...base, [ATTR.rpcStatus]: code });
    };
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        propagation.inject(ctx, metadata, metadataSetter);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            end(status.code, status.details);
            nextStatus(status);
          },
        });
      },
    });
  };
  return [interceptor];
}

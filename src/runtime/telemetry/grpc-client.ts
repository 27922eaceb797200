import * as grpc from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { hrNow } from './clock.ts';
import { activeSpan, callEventAttributes, eventIfOpen, type CallEvent } from './events.ts';
import { metadataSetter, splitPath } from './grpc-metadata.ts';
import { instruments } from './metrics.ts';
import { ATTR } from './names.ts';
import { instrumented, metricsOn, tracer, tracingOn } from './enabled.ts';

/** server.address / server.port of a gRPC target (dns:///host:port, host:port, [v6]:port). */
export function hostPort(target: string): Attributes {
  const m = /^(?:dns:(?:\/\/[^/]*\/)?)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
  if (!m) return { [ATTR.serverAddress]: target };
  return { [ATTR.serverAddress]: m[1].replace(/^\[|\]$/g, ''), ...(m[2] ? { [ATTR.serverPort]: Number(m[2]) } : {}) };
}

/**
 * How a unary method is traced at the caller: 'span' (a CLIENT span, the default), a CallEvent (no span of its own:
 * the call is that event on the caller's active span, and the caller's context travels, so the callee's SERVER span
 * is the caller's child) or 'none' (nothing travels: the callee records no span either).
 */
export type CallTracing = 'span' | 'none' | CallEvent;

/**
 * Client interceptors for a stub talking to `target`: each unary call (streams pass through) is traced as `tracing` says for its method
 * name (rpc.* attributes, status from the gRPC code; W3C trace context injected into the metadata) and its duration
 * goes into rpc.client.call.duration. Decided per call (enabled.ts): with telemetry off a call passes straight
 * through. Pass as the stub's `interceptors` channel option.
 */
export function clientInterceptors(target: string, tracing: Readonly<Record<string, CallTracing>> = {}): grpc.Interceptor[] {
  const server = hostPort(target);
  const interceptor: grpc.Interceptor = (options, nextCall) => {
    // Streams pass straight through: a long-lived stream carries many requests (frames.ts traces those), and a
    // wrapper would cost every message on it a detour.
    const def = options.method_definition;
    if (def.requestStream || def.responseStream || !instrumented()) return nextCall(options) as grpc.InterceptingCall;
    const [service, method] = splitPath(def.path);
    const how = tracing[method] ?? 'span';
    const event = typeof how === 'object' ? how : undefined;
    const base: Attributes = { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service, [ATTR.rpcMethod]: method };
    const parent: Context = context.active();
    const caller = event ? activeSpan() : undefined;
    const span = how === 'span' && tracingOn() ? tracer().startSpan(`${service}/${method}`, { kind: SpanKind.CLIENT,
      attributes: { ...base, ...server }, startTime: hrNow() }, parent) : undefined;
    const ctx = span ? trace.setSpan(parent, span) : parent;
    const start = hrNow();
    const t0 = performance.now();
    let ended = false;
    const end = (code: number, details: string) => {
      if (ended) return;
      ended = true;
      const ms = performance.now() - t0;
      if (span) {
        span.setAttribute(ATTR.rpcStatus, code);
        if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
        span.end(hrNow());
      }
      if (caller && event) eventIfOpen(caller, event.name, callEventAttributes(event, code, ms, code === grpc.status.OK ? undefined : details), start);
      if (metricsOn()) instruments().clientDuration.record(ms / 1000, { ...base, [ATTR.rpcStatus]: code });
    };
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        if (how !== 'none') propagation.inject(ctx, metadata, metadataSetter);
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

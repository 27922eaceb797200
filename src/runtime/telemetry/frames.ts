import * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { hrNow } from './clock.ts';
import { callAttributes, hostPort } from './grpc-client.ts';
import { SERVER_ERRORS } from './grpc-server.ts';
import { instruments, recordServerCall } from './metrics.ts';
import { ATTR } from './names.ts';
import { instrumented, tracer, tracingOn } from './enabled.ts';

// Requests multiplexed on one long-lived stream get what a unary call got from the interceptors: a CLIENT span at the
// caller and a SERVER span at the callee (same names, rpc.* attributes, status codes) and the call-duration metrics.
// Their trace context travels in the frame (a string map), since the stream's metadata belongs to no one request.

export type Carrier = Record<string, string>;

const codeOf = (err: unknown): number =>
  typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'number'
    ? (err as { code: number }).code : grpc.status.UNKNOWN;

/**
 * Runs `fn` (which sends one multiplexed request) inside a CLIENT span named `service/method`; `fn` gets the carrier
 * to put in its frame (empty with tracing off). With telemetry off it is `fn({})`.
 */
export function clientRequest<T>(service: string, method: string, target: string, attrs: Attributes,
  fn: (carrier: Carrier) => Promise<T>): Promise<T> {
  if (!instrumented()) return fn({});
  const base: Attributes = { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service, [ATTR.rpcMethod]: method };
  const t0 = performance.now();
  const metric = (code: number) => instruments().clientDuration.record((performance.now() - t0) / 1000, { ...base, [ATTR.rpcStatus]: code });
  if (!tracingOn()) {
    return fn({}).then((v) => { metric(grpc.status.OK); return v; }, (e: unknown) => { metric(codeOf(e)); throw e; });
  }
  const parent = context.active();
  const span = tracer().startSpan(`${service}/${method}`, { kind: SpanKind.CLIENT,
    attributes: { ...base, ...hostPort(target), ...callAttributes(), ...attrs }, startTime: hrNow() }, parent);
  const ctx = trace.setSpan(parent, span);
  const carrier: Carrier = {};
  propagation.inject(ctx, carrier);
  const end = (code: number, message?: string) => {
    span.setAttribute(ATTR.rpcStatus, code);
    if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message });
    span.end(hrNow());
    metric(code);
  };
  return context.with(ctx, () => fn(carrier)).then((v) => {
    end(grpc.status.OK);
    return v;
  }, (e: unknown) => {
    end(codeOf(e), e instanceof Error ? e.message : String(e));
    throw e;
  });
}

/**
 * Runs the handling of one multiplexed request inside a SERVER span whose parent comes from the frame's carrier,
 * and records the server-call metrics. `onResult` may add attributes from the answer.
 */
export function serverRequest<T>(service: string, method: string, carrier: Carrier | undefined, attrs: () => Attributes,
  fn: () => Promise<T>, onResult?: (res: T, span: Span | undefined) => void): Promise<T> {
  if (!instrumented()) return fn();
  const base: Attributes = { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service, [ATTR.rpcMethod]: method };
  const t0 = performance.now();
  let span: Span | undefined;
  let run = fn;
  if (tracingOn()) {
    const parent = propagation.extract(ROOT_CONTEXT, carrier ?? {});
    let extra: Attributes = {};
    try {
      extra = attrs();
    } catch {
      // Enrichment never fails a request; the handler validates it.
    }
    span = tracer().startSpan(`${service}/${method}`, { kind: SpanKind.SERVER,
      attributes: { ...base, ...extra }, startTime: hrNow() }, parent);
    const ctx = trace.setSpan(parent, span);
    run = () => context.with(ctx, fn);
  }
  const end = (code: number, message?: string) => {
    if (span) {
      span.setAttribute(ATTR.rpcStatus, code);
      if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message });
      span.end(hrNow());
    }
    recordServerCall({ ...base, [ATTR.rpcStatus]: code }, (performance.now() - t0) / 1000);
  };
  return run().then((v) => {
    try {
      onResult?.(v, span);
    } catch {
      // as above
    }
    end(grpc.status.OK);
    return v;
  }, (e: unknown) => {
    end(codeOf(e), e instanceof Error ? e.message : String(e));
    throw e;
  });
}

import * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { hrNow } from './clock.ts';
import { activeSpan, callEventAttributes, eventIfOpen, type CallEvent } from './events.ts';
import { SERVER_ERRORS } from './grpc-server.ts';
import { instruments, recordServerCall } from './metrics.ts';
import { ATTR } from './names.ts';
import { instrumented, metricsOn, tracer, tracingOn } from './enabled.ts';

// Requests multiplexed on one long-lived stream get the call-duration metrics and, at the callee, a SERVER span
// (rpc.* attributes, status codes) like a unary call's; the caller records the call as an event on its own span.
// Their trace context travels in the frame (a string map), since the stream's metadata belongs to no one request.

export type Carrier = Record<string, string>;

const codeOf = (err: unknown): number =>
  typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'number'
    ? (err as { code: number }).code : grpc.status.UNKNOWN;

/** The empty carrier: nothing travels (tracing off, or a call whose callee records no span). Never written to. */
const NO_CARRIER: Carrier = Object.freeze({}) as Carrier;

// The router sends a request's P Runs from one context: its trace context is injected once and the carrier shared
// (frames only read it).
let injected: { ctx: Context; carrier: Carrier } | undefined;

function carrierOf(ctx: Context): Carrier {
  if (injected?.ctx !== ctx) {
    const carrier: Carrier = {};
    propagation.inject(ctx, carrier);
    injected = { ctx, carrier };
  }
  return injected.carrier;
}

/**
 * Sends one multiplexed request (`fn` puts the carrier in its frame) and records its duration in
 * rpc.client.call.duration. There is no CLIENT span: on this path a span per call cost more than the rest of the
 * tracing (docs/tracing.md, "Overhead"). With `event`, the caller's active context travels in the carrier, so the
 * callee's SERVER span is a child of the caller's span, and the call becomes one event on the caller's span when
 * it settles (its status code and duration; an ended span gets none). Without, nothing travels: for calls whose
 * callee records no span (a push is an event on both partitions' Run spans instead).
 */
export function clientRequest<T>(service: string, method: string, fn: (carrier: Carrier) => Promise<T>,
  event?: CallEvent): Promise<T> {
  if (!instrumented()) return fn(NO_CARRIER);
  const t0 = performance.now();
  const span = event ? activeSpan() : undefined;
  let carrier = NO_CARRIER;
  let start = 0;
  if (span) {
    carrier = carrierOf(context.active());
    start = hrNow();
  }
  const end = (code: number, message?: string) => {
    const ms = performance.now() - t0;
    if (span && event) {
      eventIfOpen(span, event.name, callEventAttributes(event, code, ms, message), start);
    }
    if (metricsOn()) instruments().clientDuration.record(ms / 1000, { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service,
      [ATTR.rpcMethod]: method, [ATTR.rpcStatus]: code });
  };
  return fn(carrier).then((v) => {
    end(grpc.status.OK);
    return v;
  }, (e: unknown) => {
    end(codeOf(e), e instanceof Error ? e.message : String(e));
    throw e;
  });
}

/** Handles one multiplexed request that records no span (a received push): only the server-call metrics. */
export function serverCallMetrics<T>(service: string, method: string, fn: () => Promise<T>): Promise<T> {
  if (!metricsOn()) return fn();
  const t0 = performance.now();
  const record = (code: number) => recordServerCall({ [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: service,
    [ATTR.rpcMethod]: method, [ATTR.rpcStatus]: code }, (performance.now() - t0) / 1000);
  return fn().then((v) => {
    record(grpc.status.OK);
    return v;
  }, (e: unknown) => {
    record(codeOf(e));
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
    if (metricsOn()) recordServerCall({ ...base, [ATTR.rpcStatus]: code }, (performance.now() - t0) / 1000);
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

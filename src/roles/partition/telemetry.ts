import type { Attributes, Span } from '@opentelemetry/api';
import { endSpanAfter } from '../../runtime/telemetry/span.ts';
import type { PushRequest__Output } from '../../runtime/generated/edgesplit/v1/PushRequest.ts';
import type { RunRequest__Output } from '../../runtime/generated/edgesplit/v1/RunRequest.ts';
import type { RunResponse } from '../../runtime/generated/edgesplit/v1/RunResponse.ts';
import { hrNow } from '../../runtime/telemetry/clock.ts';
import { withCallAttributes } from '../../runtime/telemetry/grpc-client.ts';
import type { MethodHooks } from '../../runtime/telemetry/grpc-server.ts';
import { instruments } from '../../runtime/telemetry/metrics.ts';
import { ATTR, SPAN } from '../../runtime/telemetry/names.ts';
import type { PushInfo, RunObserver } from '../../runtime/telemetry/observer.ts';
import { instrumented, tracer, tracingOn } from '../../runtime/telemetry/enabled.ts';

const traced = <T>(span: Span, fn: () => Promise<T>): Promise<T> => endSpanAfter(span, fn());

/**
 * Spans for partition `index`'s steps: one per unit computed (only with `unitSpans`, EDGESPLIT_TRACE_UNITS),
 * `edgesplit.wait` while a peer's slice is late; pushes get their edgesplit.* attributes on the gRPC CLIENT span the
 * interceptor opens, and count into exchanged bytes. Whether telemetry is on is asked per step (enabled.ts).
 */
export function partitionObserver(index: number, opts: { unitSpans?: boolean } = {}): RunObserver {
  return {
    unit(name, n, fn) {
      if (!opts.unitSpans || !tracingOn()) return fn();
      return traced(tracer().startSpan(SPAN.unit(name), { attributes: { [ATTR.unit]: name, [ATTR.partition]: index, [ATTR.batch]: n }, startTime: hrNow() }), fn);
    },
    push(info: PushInfo, fn) {
      if (!instrumented()) return fn();
      const attrs: Attributes = { [ATTR.partition]: index, [ATTR.point]: info.point, [ATTR.peer]: info.peer,
        [ATTR.bytes]: info.bytes, [ATTR.precision]: info.precision, [ATTR.batch]: info.n };
      return withCallAttributes(attrs, fn).then((v) => {
        instruments().exchangedBytes.add(info.bytes, { [ATTR.partition]: index, [ATTR.point]: info.point, [ATTR.precision]: info.precision });
        return v;
      });
    },
    wait(info, fn) {
      if (!tracingOn()) return fn();
      return traced(tracer().startSpan(SPAN.wait, { attributes: { [ATTR.partition]: index, [ATTR.point]: info.point, [ATTR.peer]: info.peer }, startTime: hrNow() }), fn);
    },
  };
}

const pushBytes = (r: PushRequest__Output): number => (r.tensor ? r.tensor.data.length + 4 * r.tensor.scales.length : 0);

/** What the partition's Run and Push SERVER spans carry beyond rpc.*; Run also feeds the compute-time histogram. */
export function partitionRpcHooks(index: number): Record<string, MethodHooks> {
  return {
    Run: {
      attributes: (r: RunRequest__Output): Attributes => ({ [ATTR.partition]: index, [ATTR.requestId]: r.requestId,
        [ATTR.batch]: r.images?.shape?.[0] ?? 0, [ATTR.package]: r.package }),
      onResponse: (res: RunResponse, span: Span) => {
        const computeMs = Number(res.computeMs ?? 0);
        const sent = (res.sent ?? []).reduce((s, p) => s + Number(p.bytes ?? 0), 0);
        span.setAttributes({ [ATTR.computeMs]: computeMs, [ATTR.exchangedBytes]: sent,
          ...(res.missedPoints?.length ? { 'edgesplit.missed_points': res.missedPoints.join(',') } : {}) });
        instruments().computeDuration.record(computeMs / 1000, { [ATTR.partition]: index });
      },
    },
    Push: {
      attributes: (r: PushRequest__Output): Attributes => ({ [ATTR.partition]: index, [ATTR.requestId]: r.requestId,
        [ATTR.point]: r.point, [ATTR.peer]: r.fromPartition, [ATTR.bytes]: pushBytes(r),
        [ATTR.precision]: String(r.tensor?.precision ?? '').toLowerCase() }),
    },
  };
}

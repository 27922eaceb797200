import type { Attributes, Span } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import type { RunRequest__Output } from '../../runtime/generated/edgesplit/v1/RunRequest.ts';
import type { RunResponse } from '../../runtime/generated/edgesplit/v1/RunResponse.ts';
import { hrNow } from '../../runtime/telemetry/clock.ts';
import { activeSpan, eventIfOpen } from '../../runtime/telemetry/events.ts';
import type { MethodHooks } from '../../runtime/telemetry/grpc-server.ts';
import { instruments } from '../../runtime/telemetry/metrics.ts';
import { ATTR, EVENT } from '../../runtime/telemetry/names.ts';
import type { MergeInfo, PushInfo, RunObserver } from '../../runtime/telemetry/observer.ts';
import { instrumented, metricsOn } from '../../runtime/telemetry/enabled.ts';

/**
 * Partition `index`'s steps as events on its Run span (the active span while the runner computes): every slice sent
 * (`edgesplit.push`: point, peer, bytes, precision) and every slice merged or given up on (`edgesplit.merge`: point,
 * peer, bytes, wait_ms, merged), and with `unitEvents` (EDGESPLIT_TRACE_UNITS) every onnxruntime session run
 * (`edgesplit.compute`). Events, not child spans: a span cost about ten times as much (docs/tracing.md, "Overhead").
 * Sent bytes also count into edgesplit.exchanged.bytes once the peer acknowledged them. Whether telemetry is on is
 * asked per step (enabled.ts).
 */
export function partitionObserver(index: number, opts: { unitEvents?: boolean } = {}): RunObserver {
  return {
    unit(name, _n, fn) {
      const span = opts.unitEvents ? activeSpan() : undefined;
      if (!span) return fn();
      const start = hrNow();
      const t0 = performance.now();
      return fn().then((v) => {
        eventIfOpen(span, EVENT.compute, { [ATTR.unit]: name, [ATTR.computeMs]: performance.now() - t0 }, start);
        return v;
      });
    },
    push(info: PushInfo, fn) {
      if (!instrumented()) return fn();
      activeSpan()?.addEvent(EVENT.push, { [ATTR.point]: info.point, [ATTR.peer]: info.peer, [ATTR.bytes]: info.bytes,
        [ATTR.precision]: info.precision }, hrNow());
      if (!metricsOn()) return fn();
      return fn().then((v) => {
        instruments().exchangedBytes.add(info.bytes, { [ATTR.partition]: index, [ATTR.point]: info.point, [ATTR.precision]: info.precision });
        return v;
      });
    },
    merge(info: MergeInfo) {
      activeSpan()?.addEvent(EVENT.merge, { [ATTR.point]: info.point, [ATTR.peer]: info.peer, [ATTR.bytes]: info.bytes,
        [ATTR.waitMs]: info.waitMs, [ATTR.merged]: info.merged }, hrNow());
    },
  };
}

/** What the partition's Run SERVER span carries beyond rpc.* (it also feeds the compute-time histogram); Push has none. */
export function partitionRpcHooks(index: number): Record<string, MethodHooks> {
  return {
    Run: {
      attributes: (r: RunRequest__Output): Attributes => ({ [ATTR.partition]: index, [ATTR.requestId]: r.requestId,
        [ATTR.batch]: r.images?.shape?.[0] ?? 0 }),
      onResponse: (res: RunResponse, span: Span | undefined) => {
        const computeMs = Number(res.computeMs ?? 0);
        const sent = (res.sent ?? []).reduce((s, p) => s + Number(p.bytes ?? 0), 0);
        span?.setAttributes({ [ATTR.computeMs]: computeMs, [ATTR.exchangedBytes]: sent,
          ...(res.missedPoints?.length ? { 'edgesplit.missed_points': res.missedPoints.join(',') } : {}) });
        instruments().computeDuration.record(computeMs / 1000, { [ATTR.partition]: index });
      },
    },
    // No span, only the call metrics: a received push is the merge event on this partition's Run span (and the
    // push event on the sender's).
    Push: { span: false },
  };
}

import type { Attributes, Span } from '@opentelemetry/api';
import type { ModelInferRequest__Output } from '../../runtime/generated/inference/ModelInferRequest.ts';
import type { ModelInferResponse } from '../../runtime/generated/inference/ModelInferResponse.ts';
import type { MethodHooks } from '../../runtime/telemetry/grpc-server.ts';
import { instruments } from '../../runtime/telemetry/metrics.ts';
import { performance } from 'node:perf_hooks';
import { hrNow } from '../../runtime/telemetry/clock.ts';
import { activeSpan, eventIfOpen } from '../../runtime/telemetry/events.ts';
import { ATTR, EVENT } from '../../runtime/telemetry/names.ts';

/** What the router's ModelInfer SERVER span carries beyond rpc.*; degraded answers also count into a metric. */
export function routerRpcHooks(model: { packageName: string; policyId: string; partitions: number }): Record<string, MethodHooks> {
  return {
    ModelInfer: {
      attributes: (r: ModelInferRequest__Output): Attributes => ({ [ATTR.package]: model.packageName,
        [ATTR.policyId]: model.policyId, [ATTR.partitions]: model.partitions,
        [ATTR.batch]: Number(r.inputs?.[0]?.shape?.[0] ?? 0), ...(r.id ? { 'edgesplit.oip_request_id': r.id } : {}) }),
      onResponse: (res: ModelInferResponse, span: Span | undefined) => {
        const p = res.parameters ?? {};
        const degraded = p.edgesplit_degraded?.boolParam === true;
        span?.setAttributes({ [ATTR.degraded]: degraded, [ATTR.exchangedBytes]: Number(p.edgesplit_exchanged_bytes?.int64Param ?? 0),
          ...(p.edgesplit_missing_partitions ? { [ATTR.missingPartitions]: String(p.edgesplit_missing_partitions.stringParam ?? '') } : {}) });
        if (degraded) instruments().degraded.add(1, { [ATTR.package]: model.packageName });
      },
    },
  };
}

interface Engine {
  run(features: Float32Array, n: number): Promise<{ logits: Float32Array; probabilities: Float32Array }>;
  shutdown(): Promise<void>;
}

/**
 * The head as an `edgesplit.head` event on the request's span (its duration; the batch is the span's), while tracing
 * is on (asked per run). An event, not a child span: a span cost about ten times as much (docs/tracing.md).
 */
export function tracedHead(engine: Engine): Engine {
  const wrapped: Engine = {
    run: (features, n) => {
      const span = activeSpan();
      if (!span) return engine.run(features, n);
      const start = hrNow();
      const t0 = performance.now();
      return engine.run(features, n).then((v) => {
        eventIfOpen(span, EVENT.head, { [ATTR.durationMs]: performance.now() - t0 }, start);
        return v;
      });
    },
    shutdown: () => engine.shutdown(),
  };
  return wrapped;
}

import type { Attributes, Span } from '@opentelemetry/api';
import type { ModelInferRequest__Output } from '../../runtime/generated/inference/ModelInferRequest.ts';
import type { ModelInferResponse } from '../../runtime/generated/inference/ModelInferResponse.ts';
import type { MethodHooks } from '../../runtime/telemetry/grpc-server.ts';
import { instruments } from '../../runtime/telemetry/metrics.ts';
import { hrNow } from '../../runtime/telemetry/clock.ts';
import { ATTR, SPAN } from '../../runtime/telemetry/names.ts';
import { endSpanAfter } from '../../runtime/telemetry/span.ts';
import { tracer, tracingOn } from '../../runtime/telemetry/enabled.ts';

/** What the router's ModelInfer SERVER span carries beyond rpc.*; degraded answers also count into a metric. */
export function routerRpcHooks(model: { packageName: string; policyId: string; partitions: number }): Record<string, MethodHooks> {
  return {
    ModelInfer: {
      attributes: (r: ModelInferRequest__Output): Attributes => ({ [ATTR.package]: model.packageName,
        [ATTR.policyId]: model.policyId, [ATTR.partitions]: model.partitions,
        [ATTR.batch]: Number(r.inputs?.[0]?.shape?.[0] ?? 0), 'edgesplit.oip_request_id': r.id ?? '' }),
      onResponse: (res: ModelInferResponse, span: Span) => {
        const p = res.parameters ?? {};
        const degraded = p.edgesplit_degraded?.boolParam === true;
        span.setAttributes({ [ATTR.degraded]: degraded, [ATTR.exchangedBytes]: Number(p.edgesplit_exchanged_bytes?.int64Param ?? 0),
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

/** The head inside an `edgesplit.head` span (a child of the request's span) while tracing is on (asked per run). */
export function tracedHead(engine: Engine): Engine {
  const wrapped: Engine = {
    run: (features, n) => {
      if (!tracingOn()) return engine.run(features, n);
      const span = tracer().startSpan(SPAN.head, { attributes: { [ATTR.batch]: n, 'edgesplit.features': features.length / Math.max(1, n) }, startTime: hrNow() });
      return endSpanAfter(span, engine.run(features, n));
    },
    shutdown: () => engine.shutdown(),
  };
  return wrapped;
}

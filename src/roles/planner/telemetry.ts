import type { Attributes, Span } from '@opentelemetry/api';
import type { MethodHooks } from '../../runtime/telemetry/grpc-server.ts';
import { hrNow } from '../../runtime/telemetry/clock.ts';
import { ATTR, SPAN } from '../../runtime/telemetry/names.ts';
import { endSpanAfter } from '../../runtime/telemetry/span.ts';
import { tracer, tracingOn } from '../../runtime/telemetry/enabled.ts';

/** The parts of a plan document a span reports (src/runtime/plan.ts). */
interface PlanLike {
  package: string;
  partitions: number;
  policyId: string;
  predicted: { latencyMs: number; computeMs: number; transferMs: number; exchangedBytes: number };
}

interface PlannerLike<D extends PlanLike> {
  plan(clusterYaml: string | undefined, objective: unknown): Promise<D>;
  apply(doc: D | undefined, objective: unknown): Promise<{ doc: D; hash: string; applied: string[]; deleted: string[] }>;
}

function planAttributes(d: PlanLike): Attributes {
  return { [ATTR.package]: d.package, [ATTR.partitions]: d.partitions, [ATTR.policyId]: d.policyId,
    [ATTR.predictedLatencyMs]: d.predicted.latencyMs, 'edgesplit.predicted_compute_ms': d.predicted.computeMs,
    'edgesplit.predicted_transfer_ms': d.predicted.transferMs, 'edgesplit.predicted_exchanged_bytes': d.predicted.exchangedBytes };
}

function inSpan<T>(name: string, attrs: Attributes, fn: () => Promise<T>, after: (v: T, span: Span) => void): Promise<T> {
  return tracer().startActiveSpan(name, { attributes: attrs, startTime: hrNow() }, (span) => endSpanAfter(span, fn(), after));
}

/**
 * The planner's plan and apply steps as `edgesplit.plan` / `edgesplit.apply` spans carrying the predicted latency
 * (edgesplit.predicted_latency_ms), so a request's trace can be set against the plan's prediction. With tracing off
 * (asked per call) they run bare; every other method passes through.
 */
export function tracedPlanner<D extends PlanLike, P extends PlannerLike<D>>(planner: P): P {
  return new Proxy(planner, {
    get(target, prop, receiver) {
      if ((prop === 'plan' || prop === 'apply') && !tracingOn()) {
        const v = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
        return v.bind(target);
      }
      if (prop === 'plan') {
        return (clusterYaml: string | undefined, objective: unknown) => inSpan(SPAN.plan,
          { 'edgesplit.cluster_source': clusterYaml ? 'request' : 'live' }, () => target.plan(clusterYaml, objective),
          (d, span) => span.setAttributes(planAttributes(d)));
      }
      if (prop === 'apply') {
        return (doc: D | undefined, objective: unknown) => inSpan(SPAN.apply,
          { 'edgesplit.plan_source': doc ? 'request' : 'planned' }, () => target.apply(doc, objective),
          (r, span) => span.setAttributes({ ...planAttributes(r.doc), 'edgesplit.plan_hash': r.hash,
            'edgesplit.applied_objects': r.applied.length, 'edgesplit.deleted_objects': r.deleted.length }));
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** rpc.* SERVER spans for Plan and Apply (the plan/apply spans above nest inside them). */
export function plannerRpcHooks(): Record<string, MethodHooks> {
  return {
    Plan: { onResponse: (res: { predictedLatencyMs?: number; package?: string }, span: Span | undefined) => span?.setAttributes({
      [ATTR.predictedLatencyMs]: Number(res.predictedLatencyMs ?? 0), [ATTR.package]: res.package ?? '' }) },
    Apply: {},
  };
}

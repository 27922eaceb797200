// The planner core's result as the one Plan (src/runtime/plan.ts) the rest of the system reads.
import { planHash, type Plan } from '../../runtime/plan.ts';
import type { PlanResult } from './core/search.ts';
import type { Cluster } from './core/types.ts';

const round = (x: number) => Math.round(x * 1000) / 1000;

export function toPlan(r: PlanResult, cluster: Cluster): Plan {
  const p = r.chosen.prediction;
  const placed = {
    package: r.chosen.pkg.name,
    policyId: r.chosen.pkg.policyId,
    assignments: r.chosen.assignment.map((n, partition) => ({ partition, node: cluster.nodes[n].name })),
  };
  return {
    planHash: planHash(placed),
    ...placed,
    packagePath: r.chosen.pkg.path,
    partitions: r.chosen.pkg.partitions,
    accuracy: r.chosen.pkg.accuracy,
    predicted: { latencyMs: round(p.latencyMs), computeMs: round(p.computeMs), transferMs: round(p.transferMs), exchangedBytes: p.exchangedBytes },
    objective: r.objective,
    strategy: r.strategy,
    alternatives: r.alternatives.map((a) => ({ ...a, latencyMs: a.latencyMs === null ? null : round(a.latencyMs) })),
    explanation: r.explanation,
  };
}

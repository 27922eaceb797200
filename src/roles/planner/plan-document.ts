// The plan as JSON: what `plan --json` prints, what the ConfigMap holds and
// what GetPlan returns. Deterministic for a given plan (no timestamps), so
// applying the same plan twice changes nothing.
import { createHash } from 'node:crypto';
import type { PlanResult } from './core/search.ts';
import type { Cluster } from './core/types.ts';

export interface PlanDocument {
  package: string;
  packagePath: string;
  partitions: number;
  policyId: string;
  accuracy: number;
  assignments: { partition: number; node: string }[];
  predicted: { latencyMs: number; computeMs: number; transferMs: number; exchangedBytes: number };
  objective: PlanResult['objective'];
  strategy: string;
  alternatives: PlanResult['alternatives'];
  explanation: string;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function planDocument(r: PlanResult, cluster: Cluster): PlanDocument {
  const p = r.chosen.prediction;
  return {
    package: r.chosen.pkg.name,
    packagePath: r.chosen.pkg.path,
    partitions: r.chosen.pkg.partitions,
    policyId: r.chosen.pkg.policyId,
    accuracy: r.chosen.pkg.accuracy,
    assignments: r.chosen.assignment.map((n, partition) => ({ partition, node: cluster.nodes[n].name })),
    predicted: { latencyMs: round(p.latencyMs), computeMs: round(p.computeMs), transferMs: round(p.transferMs), exchangedBytes: p.exchangedBytes },
    objective: r.objective,
    strategy: r.strategy,
    alternatives: r.alternatives.map((a) => ({ ...a, latencyMs: a.latencyMs === null ? null : round(a.latencyMs) })),
    explanation: r.explanation,
  };
}

/** Identifies what is deployed: package and placement, not predictions (which move with node specs). */
export function planHash(doc: Pick<PlanDocument, 'package' | 'policyId' | 'assignments'>): string {
  const key = JSON.stringify([doc.package, doc.policyId, doc.assignments.map((a) => [a.partition, a.node])]);
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

// decision.json in the router-facing ConfigMap: why the plan it holds was chosen, for people and tools that read
// the cluster (kubectl get cm edgesplit-plan). Pure, so the exact text is tested.

/** What the caller of a deploy knows about the choice (predicted or measured latencies, ...); JSON-serialisable. */
export type Decision = Record<string, unknown>;

export interface DecisionHeader {
  /** When the switch to this plan began. */
  at: Date;
  reason: string;
  planHash: string;
  /** The plan the router followed before; null for the first plan. */
  previousPlanHash: string | null;
}

/**
 * One line of JSON: the header's keys first in a fixed order, then the caller's keys sorted, so the same decision
 * always serialises to the same text (a re-applied plan must not change the ConfigMap). The header wins a name clash.
 */
export function decisionJson(header: DecisionHeader, decision: Decision = {}): string {
  const head = { at: header.at.toISOString(), reason: header.reason, planHash: header.planHash, previousPlanHash: header.previousPlanHash };
  const extra = Object.keys(decision).filter((k) => !(k in head)).sort().map((k) => [k, decision[k]] as const);
  return `${JSON.stringify({ ...head, ...Object.fromEntries(extra) })}\n`;
}

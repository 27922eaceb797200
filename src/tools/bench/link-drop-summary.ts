// The link-drop scenario's figures from its raw records (the load's timeline, the closed loop's events). Pure.
import { quantile } from '../../runtime/stats.ts';

export interface TimelineRow {
  /** Seconds since the load started. */
  t: number;
  ms: number;
  /** gRPC status code, 0 = OK. */
  code: number;
  degraded: boolean;
  package: string;
}

export interface LoopEvent {
  event: string;
  at: string;
  package?: string;
  from?: string;
  to?: string;
  readyS?: number;
  routerS?: number;
  doneS?: number;
  reason?: string;
  decision?: { at: string; action: string; deployed: { planHash: string; package: string; predictedMs: number } };
}

export interface LinkDropSummary {
  requests: number;
  failedRequests: number;
  degradedRequests: number;
  /** Seconds from the drop until the router served the new plan (null: no switch during the drop). */
  switchedAfterS: number | null;
  switchedBackAfterS: number | null;
  switches: number;
  p50BeforeMs: number;
  p50DuringMs: number;
  p50AfterMs: number;
  /** The planner's calibrated prediction for the plan serving before the drop (its last judgement before it). */
  predictedBeforeMs: number | null;
  /** The planner's calibrated prediction for the plan serving during the drop (its last judgement before the restore). */
  predictedDuringMs: number | null;
  policyBefore: string;
  policyDuring: string;
  policyAfter: string;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export function summarizeLinkDrop(x: { startedAt: number; rows: TimelineRow[]; events: LoopEvent[]; dropAt: number; restoreAt: number }): LinkDropSummary {
  const at = (r: TimelineRow) => x.startedAt + r.t * 1000;
  // When each switch's new plan started serving: the router's confirmation (or the switch's end without one).
  const switches = x.events.filter((e) => e.event === 'switched').map((e) => {
    const end = Date.parse(e.at);
    const serving = e.doneS !== undefined ? end - (e.doneS - (e.routerS ?? e.doneS)) * 1000 : end;
    return { serving, package: e.package ?? '' };
  }).sort((a, b) => a.serving - b.serving);
  const first = x.events.find((e) => e.event === 'deployed');
  const servingAt = (t: number) => [...switches].reverse().find((s) => s.serving <= t)?.package ?? first?.package ?? '';
  const during = switches.find((s) => s.serving > x.dropAt && s.serving <= x.restoreAt);
  const back = switches.find((s) => s.serving > x.restoreAt);
  const inWindow = (from: number, to: number) => x.rows.filter((r) => at(r) >= from && at(r) < to && r.code === 0).map((r) => r.ms);
  // "During": once the loop has reacted (or 5 s after the drop when it kept its plan), until the restore.
  const duringFrom = (during?.serving ?? x.dropAt + 5000) + 2000;
  const lastEnd = x.startedAt + Math.max(0, ...x.rows.map((r) => r.t * 1000));
  const decisions = x.events.filter((e) => e.event === 'decision' && e.decision && Date.parse(e.decision.at) < x.restoreAt && Date.parse(e.decision.at) >= duringFrom);
  const lastDecision = decisions[decisions.length - 1]?.decision;
  const beforeDecisions = x.events.filter((e) => e.event === 'decision' && e.decision && Date.parse(e.decision.at) < x.dropAt);
  const lastBefore = beforeDecisions[beforeDecisions.length - 1]?.decision;
  return {
    requests: x.rows.length,
    failedRequests: x.rows.filter((r) => r.code !== 0).length,
    degradedRequests: x.rows.filter((r) => r.degraded).length,
    switchedAfterS: during ? r2((during.serving - x.dropAt) / 1000) : null,
    switchedBackAfterS: back ? r2((back.serving - x.restoreAt) / 1000) : null,
    switches: switches.length,
    p50BeforeMs: r2(quantile(inWindow(x.startedAt + 10_000, x.dropAt), 0.5)),
    p50DuringMs: r2(quantile(inWindow(duringFrom, x.restoreAt), 0.5)),
    p50AfterMs: r2(quantile(inWindow((back?.serving ?? x.restoreAt + 5000) + 2000, lastEnd + 1), 0.5)),
    predictedBeforeMs: lastBefore ? lastBefore.deployed.predictedMs : null,
    predictedDuringMs: lastDecision ? lastDecision.deployed.predictedMs : null,
    policyBefore: servingAt(x.dropAt - 1),
    policyDuring: servingAt(x.restoreAt - 1),
    policyAfter: servingAt(lastEnd),
  };
}

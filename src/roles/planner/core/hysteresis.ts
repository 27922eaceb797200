// When to leave the deployed plan for a better one: only when the alternative is predicted faster by a margin,
// continuously for a while, and not too soon after the last switch. Pure, so the rule has exact tests.

export interface SwitchRule {
  /** The alternative must be predicted at most (1 - margin) x the current plan's latency. */
  margin: number;
  /** ... for this long without interruption (ms). */
  sustainMs: number;
  /** At least this long between two switches (ms). */
  minDwellMs: number;
}

export const DEFAULT_SWITCH_RULE: SwitchRule = { margin: 0.15, sustainMs: 6_000, minDwellMs: 20_000 };

export interface SwitchState {
  /** The alternative being watched and since when it has been better by the margin. */
  candidate?: string;
  betterSince?: number;
  lastSwitchAt: number;
}

export type SwitchDecision =
  | { action: 'stay'; state: SwitchState; why: string }
  | { action: 'switch'; state: SwitchState; why: string };

/**
 * One evaluation at `now`: `currentMs` is the deployed plan's prediction on the calibrated cluster, `best` the
 * planner's pick on it (its plan hash and prediction). The caller deploys on 'switch' and passes the state on.
 */
export function decideSwitch(s: SwitchState, now: number, current: { hash: string; latencyMs: number },
  best: { hash: string; latencyMs: number }, rule: SwitchRule = DEFAULT_SWITCH_RULE): SwitchDecision {
  const gain = current.latencyMs > 0 ? 1 - best.latencyMs / current.latencyMs : 0;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  if (best.hash === current.hash || gain < rule.margin) {
    const why = best.hash === current.hash ? 'the deployed plan is still the best'
      : `best alternative ${best.hash} only ${pct(gain)} faster (needs ${pct(rule.margin)})`;
    return { action: 'stay', state: { lastSwitchAt: s.lastSwitchAt }, why };
  }
  const since = s.candidate === best.hash && s.betterSince !== undefined ? s.betterSince : now;
  const state: SwitchState = { candidate: best.hash, betterSince: since, lastSwitchAt: s.lastSwitchAt };
  if (now - since < rule.sustainMs) {
    return { action: 'stay', state, why: `${best.hash} ${pct(gain)} faster for ${((now - since) / 1000).toFixed(1)} s (needs ${(rule.sustainMs / 1000).toFixed(0)} s)` };
  }
  if (now - s.lastSwitchAt < rule.minDwellMs) {
    return { action: 'stay', state, why: `${best.hash} ${pct(gain)} faster, but the last switch was ${((now - s.lastSwitchAt) / 1000).toFixed(1)} s ago (min ${(rule.minDwellMs / 1000).toFixed(0)} s)` };
  }
  return { action: 'switch', state: { lastSwitchAt: now },
    why: `${best.hash} predicted ${best.latencyMs.toFixed(2)} ms vs ${current.latencyMs.toFixed(2)} ms (${pct(gain)} faster) for ${((now - since) / 1000).toFixed(1)} s` };
}

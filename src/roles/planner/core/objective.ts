import { InvalidArgumentError } from '../../../runtime/errors.ts';
import type { Objective } from './types.ts';

/** What a caller may give: an accuracy floor (0..1) or a latency SLO (ms > 0), at most one; 0 or absent = not given. */
export interface ObjectiveInput {
  accuracyFloor?: number;
  sloMs?: number;
}

/**
 * The one reading of a planning objective, for flags, env vars and the Plan RPC alike. Errors name the caller's
 * own field (`--accuracy-floor`, `EDGESPLIT_SLO_MS`, `accuracy_floor`, ...).
 */
export function objectiveOf(input: ObjectiveInput, names: { accuracyFloor: string; sloMs: string }): Objective {
  const floor = input.accuracyFloor || undefined;
  const slo = input.sloMs || undefined;
  if (floor !== undefined && slo !== undefined) {
    throw new InvalidArgumentError(names.accuracyFloor, `give ${names.accuracyFloor} or ${names.sloMs}, not both`);
  }
  if (floor !== undefined) {
    if (!Number.isFinite(floor) || floor < 0 || floor > 1) throw new InvalidArgumentError(names.accuracyFloor, `must be a number within 0..1 (got ${floor})`);
    return { mode: 'latency', accuracyFloor: floor };
  }
  if (slo !== undefined) {
    if (!Number.isFinite(slo) || slo <= 0) throw new InvalidArgumentError(names.sloMs, `must be a number > 0 (got ${slo})`);
    return { mode: 'slo', sloMs: slo };
  }
  if (input.accuracyFloor !== undefined && !(input.accuracyFloor >= 0)) throw new InvalidArgumentError(names.accuracyFloor, `must be a number within 0..1 (got ${input.accuracyFloor})`);
  if (input.sloMs !== undefined && !(input.sloMs >= 0)) throw new InvalidArgumentError(names.sloMs, `must be a number > 0 (got ${input.sloMs})`);
  return { mode: 'latency' };
}

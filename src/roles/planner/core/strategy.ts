import type { Assignment, Candidate, Cluster, PackageModel, Prediction } from './types.ts';

/** Finds the fastest assignment of one package's partitions to nodes. */
export interface SearchStrategy {
  readonly name: string;
  /**
   * capacity[n] = how many of this package's partitions node n can hold (0 = none).
   * Returns null when no assignment fits.
   */
  best(pkg: PackageModel, cluster: Cluster, capacity: number[], evaluate: (a: Assignment) => Prediction): Candidate | null;
}

export function fits(assignment: Assignment, capacity: number[]): boolean {
  const used = new Map<number, number>();
  for (const n of assignment) {
    const u = (used.get(n) ?? 0) + 1;
    if (u > capacity[n]) return false;
    used.set(n, u);
  }
  return true;
}

/** Strictly better by latency; equal latencies keep the earlier candidate so results are deterministic. */
export function faster(a: Prediction, b: Prediction | undefined): boolean {
  return b === undefined || a.latencyMs < b.latencyMs - 1e-9;
}

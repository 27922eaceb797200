import { faster, fits, type SearchStrategy } from '../strategy.ts';
import type { Assignment, Candidate } from '../types.ts';

/** Tries every assignment (nodes^partitions); for small clusters, and as the yardstick for the pruned search. */
export class ExactSearch implements SearchStrategy {
  readonly name = 'exact';

  constructor(readonly maxAssignments = 200_000) {}

  best(...[pkg, cluster, capacity, evaluate]: Parameters<SearchStrategy['best']>): Candidate | null {
    const N = cluster.nodes.length;
    const P = pkg.partitions;
    if (N ** P > this.maxAssignments) {
      throw new Error(`exact search over ${N}^${P} assignments exceeds its limit of ${this.maxAssignments}`);
    }
    let best: Candidate | null = null;
    const a: Assignment = new Array(P).fill(0);
    for (;;) {
      if (fits(a, capacity)) {
        const p = evaluate(a);
        if (faster(p, best?.prediction)) best = { pkg, assignment: [...a], prediction: p };
      }
      let i = P - 1;
      while (i >= 0 && a[i] === N - 1) a[i--] = 0;
      if (i < 0) return best;
      a[i]++;
    }
  }
}

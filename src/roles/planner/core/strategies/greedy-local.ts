// Pruned search for large clusters: a handful of nodes can be on a good plan
// (the fastest computers, the best-connected ones, the best all-rounders, and
// the router's node), so keep only those, start from a few simple placements
// and improve them by moving one partition at a time.
import { faster, fits, type SearchStrategy } from '../strategy.ts';
import type { Assignment, Candidate, Cluster, NodeSpec, PackageModel, Prediction } from '../types.ts';

export class GreedyLocalSearch implements SearchStrategy {
  readonly name = 'greedy-local';

  /** @param topK nodes kept per ranking (at least 2 per partition). */
  constructor(readonly topK = 6, readonly maxRounds = 50) {}

  best(pkg: PackageModel, cluster: Cluster, capacity: number[], evaluate: (a: Assignment) => Prediction): Candidate | null {
    const P = pkg.partitions;
    const pool = this.pool(pkg, cluster, capacity);
    if (pool.length === 0) return null;
    const cache = new Map<string, Prediction>();
    const score = (a: Assignment): Prediction | undefined => {
      if (!fits(a, capacity)) return undefined;
      const key = a.join(',');
      let p = cache.get(key);
      if (!p) cache.set(key, (p = evaluate(a)));
      return p;
    };

    const byCompute = [...pool].sort((a, b) => cluster.nodes[b].gflops - cluster.nodes[a].gflops || a - b);
    // Packed on the fastest computer, packed on the best all-rounder, spread over the best distinct ones.
    const fill = (order: number[]): Assignment => {
      const a: Assignment = [];
      for (const n of order) for (let c = 0; c < capacity[n] && a.length < P; c++) a.push(n);
      return a;
    };
    const starts = [fill(byCompute), fill(pool), pool.slice(0, P), byCompute.slice(0, P)].filter((a) => a.length === P);

    let best: Candidate | null = null;
    for (const start of starts) {
      let cur = [...start];
      let curP = score(cur);
      if (!curP) continue;
      for (let round = 0; round < this.maxRounds; round++) {
        let move: Assignment | undefined;
        let moveP: Prediction | undefined;
        for (let i = 0; i < P; i++) {
          for (const n of pool) {
            if (n === cur[i]) continue;
            const next = [...cur];
            next[i] = n;
            const p = score(next);
            if (p && faster(p, moveP ?? curP)) {
              move = next;
              moveP = p;
            }
          }
        }
        if (!move || !moveP) break;
        cur = move;
        curP = moveP;
      }
      if (faster(curP, best?.prediction)) best = { pkg, assignment: cur, prediction: curP };
    }
    return best;
  }

  /** Candidate nodes, best all-rounder first. */
  pool(pkg: PackageModel, cluster: Cluster, capacity: number[]): number[] {
    const nodes = cluster.nodes;
    const units = pkg.unitCalls?.reduce((s, c) => s + c, 0) ?? 1 + pkg.blockFlops.length;
    const flops = pkg.stemFlops + pkg.blockFlops.reduce((s, f) => s + f, 0);
    const perImageBytes = pkg.imageBytes + pkg.featureBytes + pkg.exchanges.reduce((s, x) => s + 2 * x.bytes, 0);
    const messages = 2 + 2 * pkg.exchanges.length;
    const computeMs = (n: NodeSpec) => flops / (n.gflops * 1e6) + units * n.perCallOverheadMs + (n.perRequestOverheadMs ?? 0)
      + messages * (n.perMessageOverheadMs ?? 0) + (perImageBytes / 1e6) * (n.cpuMsPerMB ?? 0);
    const netMs = (n: NodeSpec) => (perImageBytes * 8) / (n.bandwidthMbps * 1000) + (2 + 2 * pkg.exchanges.length) * n.latencyMs;
    const usable = nodes.map((_, i) => i).filter((i) => capacity[i] > 0);
    const k = Math.max(this.topK, 2 * pkg.partitions);
    const top = (key: (n: NodeSpec) => number) =>
      [...usable].sort((a, b) => key(nodes[a]) - key(nodes[b]) || a - b).slice(0, k);
    const picked = new Set<number>();
    for (const list of [
      top((n) => computeMs(n) + netMs(n)),
      top(computeMs),
      top((n) => netMs(n) + computeMs(n) / 1e6),
    ]) for (const i of list) picked.add(i);
    if (cluster.router.kind === 'node') {
      const r = cluster.router.node;
      const i = nodes.findIndex((n) => n.name === r);
      if (i >= 0 && capacity[i] > 0) picked.add(i);
    }
    const allRound = (i: number) => computeMs(nodes[i]) + netMs(nodes[i]);
    return [...picked].sort((a, b) => allRound(a) - allRound(b) || a - b);
  }
}

// Planner scale benchmark: planning time on simulated clusters of 10, 100 and
// 1,000 nodes (target < 1 s at 1,000), and how far the pruned search lands from
// the exact one on clusters small enough for both.
// Usage: node --import tsx src/tools/bench/planner.ts [--json] [--catalog models/catalog.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { scriptArgs } from '../cli/usage.ts';
import { switchValue } from '../cli/commands/options.ts';
import { z } from 'zod';
import { loadCatalog } from '../../roles/planner/catalog.ts';
import { capacities, plan } from '../../roles/planner/core/search.ts';
import { predictLatency } from '../../roles/planner/core/latency-model.ts';
import { ExactSearch } from '../../roles/planner/core/strategies/exact.ts';
import { GreedyLocalSearch } from '../../roles/planner/core/strategies/greedy-local.ts';
import type { Cluster, NodeSpec } from '../../roles/planner/core/types.ts';

const values = scriptArgs({ name: 'planner', program: 'src/tools/bench/planner.ts', summary: "the planner's search time and quality",
  settings: {
    json: { flag: 'json', kind: 'switch', description: 'print the result as one JSON line' },
    catalog: { flag: 'catalog', arg: 'FILE', description: 'the package catalog', default: 'models/catalog.json' },
  } }, z.object({ json: switchValue, catalog: z.string().min(1) }));

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A mixed fleet: boards to small servers, Wi-Fi to gigabit. */
function simulatedCluster(n: number, seed: number, sharedMedium = false): Cluster {
  const r = rng(seed);
  const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => {
    const gflops = Math.round(2 ** (r() * 5) * 100) / 100; // 1..32
    return {
      name: `node-${String(i).padStart(4, '0')}`,
      gflops,
      bandwidthMbps: [10, 54, 100, 300, 1000][Math.floor(r() * 5)],
      latencyMs: Math.round((0.1 + r() * 4.9) * 100) / 100,
      perCallOverheadMs: 0.2,
      // Service-path CPU scales with the CPU: a 1-GFLOPS board pays 16 ms per request, 4 per push, 160 per MB.
      perRequestOverheadMs: 16 / gflops,
      perMessageOverheadMs: 4 / gflops,
      cpuMsPerMB: 160 / gflops,
      memoryMiB: [512, 1024, 4096][Math.floor(r() * 3)],
      labels: {},
    };
  });
  return { nodes, sharedMedium, linkContention: true, messageOverheadBytes: 450, router: { kind: 'own', gflops: 20, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0.2,
    perRequestOverheadMs: 0.5, perMessageOverheadMs: 0.1, cpuMsPerMB: 5 } };
}

const { packages } = await loadCatalog(values.catalog);
const objective = { mode: 'latency' as const, accuracyFloor: 0 }; // every package competes: the hardest search

const scale: { nodes: number; strategy: string; medianMs: number; maxMs: number; package: string; latencyMs: number }[] = [];
for (const n of [10, 100, 1000]) {
  const times: number[] = [];
  let last;
  for (let seed = 1; seed <= 5; seed++) {
    const c = simulatedCluster(n, seed * 7919 + n);
    const t0 = performance.now();
    last = plan(packages, c, objective);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  scale.push({
    nodes: n, strategy: last!.strategy, medianMs: +times[2].toFixed(1), maxMs: +times[4].toFixed(1),
    package: last!.chosen.pkg.name, latencyMs: +last!.chosen.prediction.latencyMs.toFixed(3),
  });
}

const gaps: { nodes: number; clusters: number; searches: number; worstGapPct: number; meanGapPct: number; exactMs: number; prunedMs: number }[] = [];
for (const n of [6, 8]) {
  const g: number[] = [];
  let exactMs = 0;
  let prunedMs = 0;
  const clusters = 20;
  for (let seed = 1; seed <= clusters; seed++) {
    const c = simulatedCluster(n, seed * 104729 + n, seed % 2 === 0);
    // Per package, so policies with exchanges are compared too, not only the overall winner.
    for (const pkg of packages) {
      const caps = capacities(pkg, c);
      const evaluate = (a: number[]) => predictLatency(pkg, c, a);
      let t = performance.now();
      const exact = new ExactSearch(10_000).best(pkg, c, caps, evaluate);
      exactMs += performance.now() - t;
      t = performance.now();
      const pruned = new GreedyLocalSearch().best(pkg, c, caps, evaluate);
      prunedMs += performance.now() - t;
      if (exact && pruned) g.push((pruned.prediction.latencyMs / exact.prediction.latencyMs - 1) * 100);
    }
  }
  gaps.push({
    nodes: n, clusters, searches: g.length, worstGapPct: +Math.max(...g).toFixed(3), meanGapPct: +(g.reduce((s, x) => s + x, 0) / g.length).toFixed(3),
    exactMs: +(exactMs / clusters).toFixed(1), prunedMs: +(prunedMs / clusters).toFixed(1),
  });
}

const result = { packages: packages.length, scale, gaps, targetMsAt1000: 1000 };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/planner.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(`planning time (${packages.length} packages, 5 simulated clusters each):`);
console.log('  nodes  strategy       median ms   max ms   chosen');
for (const s of scale) {
  console.log(`  ${String(s.nodes).padStart(5)}  ${s.strategy.padEnd(13)}  ${String(s.medianMs).padStart(9)}  ${String(s.maxMs).padStart(7)}   ${s.package} ${s.latencyMs} ms`);
}
console.log('pruned (greedy-local) vs exact search, best predicted latency per package and cluster:');
for (const g of gaps) {
  console.log(`  ${g.nodes} nodes x ${g.clusters} clusters (${g.searches} searches): worst gap ${g.worstGapPct}%, mean ${g.meanGapPct}%; exact ${g.exactMs} ms, pruned ${g.prunedMs} ms per cluster (all packages)`);
}
if (values.json) console.log(JSON.stringify(result));

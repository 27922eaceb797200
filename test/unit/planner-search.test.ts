import assert from 'node:assert/strict';
import { FailedPreconditionError } from '../../src/runtime/errors.ts';
import { predictLatency } from '../../src/roles/planner/core/latency-model.ts';
import { plan } from '../../src/roles/planner/core/search.ts';
import { ExactSearch } from '../../src/roles/planner/core/strategies/exact.ts';
import { GreedyLocalSearch } from '../../src/roles/planner/core/strategies/greedy-local.ts';
import type { Cluster, NodeSpec } from '../../src/roles/planner/core/types.ts';
import { EXCHANGE_AFTER_BLOCK0, syntheticPackage } from '../fakes/packages.ts';

const node = (name: string, over: Partial<NodeSpec> = {}): NodeSpec => ({
  name, gflops: 1, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0, labels: {}, ...over,
});
// FLOPs are conserved by the split, as in a plain channel split: P=2 does half the work per partition.
const p1 = syntheticPackage({ partitions: 1, name: 'one', accuracy: 0.93, stemFlops: 2e6, blockFlops: [4e6, 4e6, 4e6] });
const p2 = syntheticPackage({ partitions: 2, name: 'two', accuracy: 0.928, exchanges: [EXCHANGE_AFTER_BLOCK0] });
const p2weak = syntheticPackage({ partitions: 2, name: 'two-weak', accuracy: 0.91 });

function cluster(nodes: NodeSpec[], routerNode?: string): Cluster {
  return {
    nodes, sharedMedium: false,
    router: routerNode ? { kind: 'node', node: routerNode } : { kind: 'own', gflops: 10, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0 },
  };
}

describe('planner search', () => {
  it('should split over two nodes when the network is fast', () => {
    const c = cluster([node('a', { gflops: 1.5 }), node('b'), node('c')]);
    const r = plan([p1, p2], c);
    assert.equal(r.chosen.pkg.name, 'two');
    assert.equal(new Set(r.chosen.assignment).size, 2);
    assert.equal(r.strategy, 'exact');
    assert.match(r.explanation, /Splitting pays: unsplit on the fastest node a would take/);
  });

  it('should run unsplit on the fastest node when the network is too slow', () => {
    const slow = { bandwidthMbps: 0.1, latencyMs: 50 };
    const c = cluster([node('a', slow), node('b', { ...slow, gflops: 3 }), node('c', slow)]);
    const r = plan([p1, p2], c);
    assert.equal(r.chosen.pkg.name, 'one');
    assert.deepEqual(r.chosen.assignment, [1]);
    assert.match(r.explanation, /unsplit on b/);
  });

  it('should hold to the accuracy floor even when a less accurate package is faster', () => {
    const c = cluster([node('a'), node('b')]);
    const r = plan([p1, p2weak], c, { mode: 'latency', accuracyFloor: 0.92 });
    assert.equal(r.chosen.pkg.name, 'one');
    const alt = r.alternatives.find((a) => a.package === 'two-weak')!;
    assert.match(alt.reason, /^accuracy 91\.00% is below the floor 92\.00% \(it would be [\d.]+ ms faster\)$/);
  });

  it('should default the floor to half a point below the best package', () => {
    const r = plan([p1, p2, p2weak], cluster([node('a'), node('b')]));
    assert.deepEqual(r.objective, { mode: 'latency', accuracyFloor: 0.93 - 0.005 });
  });

  it('should pick the most accurate plan within an SLO', () => {
    const c = cluster([node('a'), node('b')]);
    const tight = plan([p1, p2], c, { mode: 'slo', sloMs: 12 });
    assert.equal(tight.chosen.pkg.name, 'two');
    const loose = plan([p1, p2], c, { mode: 'slo', sloMs: 100 });
    assert.equal(loose.chosen.pkg.name, 'one');
  });

  it('should refuse a floor no package meets, naming the best one', () => {
    assert.throws(() => plan([p1, p2], cluster([node('a')]), { mode: 'latency', accuracyFloor: 0.95 }),
      (e: Error) => e instanceof FailedPreconditionError && e.message === 'no package meets the accuracy floor 95.00%: the most accurate is one at 93.00%');
  });

  it('should refuse an SLO no plan meets and an empty catalog', () => {
    assert.throws(() => plan([p1], cluster([node('a')]), { mode: 'slo', sloMs: 1 }), /no plan meets the 1\.00 ms SLO: the fastest is one at/);
    assert.throws(() => plan([], cluster([node('a')])), /the catalog lists no packages/);
  });

  it('should say when no node can hold a partition', () => {
    const c = cluster([node('a', { memoryMiB: 32 }), node('b', { memoryMiB: 16 })]);
    assert.throws(() => plan([p1, p2], c), { message: 'no node can hold a partition: the smallest needs 64 MiB, the largest node offers 32 MiB' });
  });

  it('should put two partitions on a node only when its memory allows', () => {
    const c = cluster([node('a', { gflops: 10, memoryMiB: 100 }), node('b', { memoryMiB: 1000 })]);
    const r = plan([p2], c, { mode: 'latency', accuracyFloor: 0 });
    assert.deepEqual([...r.chosen.assignment].sort(), [0, 1]);
  });

  it('should find the exact optimum with the pruned search on a small heterogeneous cluster', () => {
    const nodes = [
      node('a', { gflops: 4 }), node('b', { gflops: 1, bandwidthMbps: 5 }), node('c', { gflops: 3, latencyMs: 2 }),
      node('d', { gflops: 2 }), node('e', { gflops: 4, bandwidthMbps: 1 }), node('f', { gflops: 0.5 }),
    ];
    const c = cluster(nodes);
    const p4 = syntheticPackage({ partitions: 4, accuracy: 0.9, exchanges: [{ ...EXCHANGE_AFTER_BLOCK0, shift: 2 }] });
    const evaluate = (a: number[]) => predictLatency(p4, c, a);
    const caps = nodes.map(() => 4);
    const exact = new ExactSearch().best(p4, c, caps, evaluate)!;
    const greedy = new GreedyLocalSearch().best(p4, c, caps, evaluate)!;
    assert.equal(greedy.prediction.latencyMs, exact.prediction.latencyMs);
  });
});

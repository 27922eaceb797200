import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseClusterYaml } from '../../src/roles/planner/cluster/cluster-file.ts';
import { clusterFromNodes, readNode } from '../../src/roles/planner/cluster/from-nodes.ts';
import { diffNodes } from '../../src/roles/planner/cluster/node-diff.ts';
import { edgeNode } from '../fakes/fake-cluster-api.ts';

const err = (text: string) => {
  try {
    parseClusterYaml(text, 'c.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('planner cluster input', () => {
  it('should read a cluster file with defaults', () => {
    const c = parseClusterYaml('nodes:\n  - { name: a, gflops: 2, bandwidthMbps: 100, latencyMs: 1 }\n');
    assert.deepEqual(c, {
      nodes: [{ name: 'a', gflops: 2, bandwidthMbps: 100, latencyMs: 1, perCallOverheadMs: 0.2, perRequestOverheadMs: 2,
        perMessageOverheadMs: 0.5, cpuMsPerMB: 20, labels: {} }],
      sharedMedium: false,
      linkContention: true,
      messageOverheadBytes: 450,
      router: { kind: 'own', gflops: 20, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0.2, perRequestOverheadMs: 0.5,
        perMessageOverheadMs: 0.1, cpuMsPerMB: 5 },
    });
  });

  it('should name the field of a bad cluster file', () => {
    assert.equal(err('nodes:\n  - { name: a, gflops: 2, bandwidthMbps: -5, latencyMs: 1 }\n'), 'c.yaml: nodes[0].bandwidthMbps: must be > 0 (got -5)');
    assert.equal(err('nodes:\n  - { name: a, gflops: 2, bandwidthMbps: 5, latencyMs: 1 }\n  - { name: a, gflops: 2, bandwidthMbps: 5, latencyMs: 1 }\n'),
      'c.yaml: nodes[1].name: duplicate node name "a" (also nodes[0])');
    assert.equal(err('nodes: []\n'), 'c.yaml: nodes: must list at least one node');
    assert.equal(err('nodes:\n  - { name: a, gflops: 2, bandwidthMbps: 5, latencyMs: 1 }\nrouter: { node: b }\n'), 'c.yaml: router.node: "b" is not one of the nodes');
    assert.equal(err('nodes:\n  - { name: a, gflops: fast, bandwidthMbps: 5, latencyMs: 1 }\n'), 'c.yaml: nodes[0].gflops: gflops must be a number');
    assert.match(err('nodes: [\n'), /^c\.yaml: not valid YAML/);
    assert.equal(err('- a\n'), 'c.yaml: (file): Expected object, received array');
  });

  it('should parse every fixture', () => {
    for (const f of ['fast-network', 'slow-network', 'heterogeneous']) {
      const c = parseClusterYaml(readFileSync(`test/fixtures/clusters/${f}.yaml`, 'utf8'), f);
      assert.equal(c.nodes.length, 4, f);
    }
  });

  it('should read edge Nodes from labels and fall back to allocatable CPU', () => {
    const labelled = readNode(edgeNode('a', { 'edgesplit.io/gflops': '7.5', 'edgesplit.io/bandwidth-mbps': '300', 'edgesplit.io/latency-ms': '0' }));
    assert.deepEqual(labelled?.spec, {
      name: 'a', gflops: 7.5, bandwidthMbps: 300, latencyMs: 0, perCallOverheadMs: 0.2, memoryMiB: 4096,
      perRequestOverheadMs: 2, perMessageOverheadMs: 0.5, cpuMsPerMB: 20,
      labels: { 'edgesplit.io/edge': 'true', 'edgesplit.io/gflops': '7.5', 'edgesplit.io/bandwidth-mbps': '300', 'edgesplit.io/latency-ms': '0' },
    });
    const bare = readNode(edgeNode('b', { 'edgesplit.io/gflops': 'lots' }, { cpu: '1500m', memory: '512Mi' }))!;
    assert.deepEqual([bare.spec.gflops, bare.spec.bandwidthMbps, bare.spec.latencyMs, bare.spec.memoryMiB], [3, 100, 1, 512]);
    assert.deepEqual(bare.defaulted, ['edgesplit.io/gflops', 'edgesplit.io/bandwidth-mbps', 'edgesplit.io/latency-ms']);
  });

  it('should read the service-cost labels and fields', () => {
    const r = readNode(edgeNode('a', { 'edgesplit.io/per-call-overhead-ms': '0.05', 'edgesplit.io/per-request-overhead-ms': '12',
      'edgesplit.io/per-message-overhead-ms': '0', 'edgesplit.io/cpu-ms-per-mb': '150', 'edgesplit.io/gflops': '14' }))!;
    assert.deepEqual([r.spec.perCallOverheadMs, r.spec.perRequestOverheadMs, r.spec.perMessageOverheadMs, r.spec.cpuMsPerMB], [0.05, 12, 0, 150]);
    const bad = readNode(edgeNode('b', { 'edgesplit.io/cpu-ms-per-mb': '-3' }))!;
    assert.equal(bad.spec.cpuMsPerMB, 20);
    const c = parseClusterYaml('router: { perRequestOverheadMs: 1.5, cpuMsPerMB: 0 }\nnodes:\n  - { name: a, gflops: 2, bandwidthMbps: 100, latencyMs: 1, perRequestOverheadMs: 11, perMessageOverheadMs: 3.5, cpuMsPerMB: 140 }\n');
    const n = c.nodes[0];
    assert.deepEqual([n.perRequestOverheadMs, n.perMessageOverheadMs, n.cpuMsPerMB], [11, 3.5, 140]);
    assert.deepEqual(c.router, { kind: 'own', gflops: 20, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0.2, perRequestOverheadMs: 1.5,
      perMessageOverheadMs: 0.1, cpuMsPerMB: 0 });
    assert.equal(err('nodes:\n  - { name: a, gflops: 2, bandwidthMbps: 5, latencyMs: 1, cpuMsPerMB: -1 }\n'), 'c.yaml: nodes[0].cpuMsPerMB: must be >= 0 (got -1)');
    const m = (x: ReturnType<typeof edgeNode>) => new Map([[x.metadata!.name!, readNode(x)!]]);
    assert.deepEqual(diffNodes(m(edgeNode('a')), m(edgeNode('a', { 'edgesplit.io/cpu-ms-per-mb': '80' }))), ['node a changed cpuMsPerMB 20→80']);
  });

  it('should leave out NotReady, unschedulable and unlabelled nodes', () => {
    const cordoned = { ...edgeNode('d'), spec: { unschedulable: true } };
    const plain = { ...edgeNode('e'), metadata: { name: 'e', labels: {} } };
    const c = clusterFromNodes([edgeNode('c'), edgeNode('b', {}, { ready: false }), cordoned, plain, edgeNode('a')]);
    assert.deepEqual(c.nodes.map((n) => n.name), ['a', 'c']);
  });

  it('should describe node changes that matter and ignore the rest', () => {
    const m = (...nodes: ReturnType<typeof edgeNode>[]) => new Map(nodes.map((n) => [n.metadata!.name!, readNode(n)!]));
    const before = m(edgeNode('a'), edgeNode('b'), edgeNode('c', { 'edgesplit.io/bandwidth-mbps': '100' }));
    const after = m(edgeNode('a', { unrelated: 'x' }), edgeNode('b', {}, { ready: false }),
      edgeNode('c', { 'edgesplit.io/bandwidth-mbps': '5' }), edgeNode('d'));
    assert.deepEqual(diffNodes(before, after), ['node b became NotReady', 'node c changed bandwidthMbps 100→5', 'node d joined']);
    assert.deepEqual(diffNodes(after, m(edgeNode('a'))), ['node b left', 'node c left', 'node d left']);
  });
});

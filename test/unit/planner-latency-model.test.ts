import assert from 'node:assert/strict';
import { predictLatency } from '../../src/roles/planner/core/latency-model.ts';
import { packageModel } from '../../src/roles/planner/core/package-model.ts';
import { roundHalfEven } from '../../src/runtime/codec.ts';
import { pointBytesPerImage } from '../../src/runtime/policy.ts';
import type { Cluster, NodeSpec, Prediction } from '../../src/roles/planner/core/types.ts';
import { EXCHANGE_AFTER_BLOCK0, syntheticPackage } from '../fakes/packages.ts';

// Hand-computed cases. Units: 1e6 FLOPs = 1 ms at 1 GFLOPS; 125 B = 0.1 ms at 10 Mbit/s.
const node = (name: string, over: Partial<NodeSpec> = {}): NodeSpec => ({
  name, gflops: 1, bandwidthMbps: 10, latencyMs: 0.5, perCallOverheadMs: 0, labels: {}, ...over,
});
const cluster = (nodes: NodeSpec[], sharedMedium = false): Cluster => ({
  nodes, sharedMedium, router: { kind: 'own', gflops: 1, bandwidthMbps: 10, latencyMs: 0, perCallOverheadMs: 0 },
});
const p2 = syntheticPackage({ partitions: 2, exchanges: [EXCHANGE_AFTER_BLOCK0] });

function rounded(p: Prediction) {
  const r = (x: number) => Math.round(x * 1e9) / 1e9;
  return {
    latencyMs: r(p.latencyMs), computeMs: r(p.computeMs), transferMs: r(p.transferMs), exchangedBytes: p.exchangedBytes,
    criticalPath: p.criticalPath.map((s) => `${s.label} ${r(s.startMs)}-${r(s.endMs)}`),
  };
}

describe('planner latency model', () => {
  it('should hide a fast exchange behind the next block (delayed merge)', () => {
    // image 0.1+0.5; stem 1; block0 2 (output at 3.6); exchange 1+0.5 arrives 5.1 < block1 done 5.6;
    // block2 5.6-7.6; features 0.2+0.5; head 1.
    assert.deepEqual(rounded(predictLatency(p2, cluster([node('a'), node('b')]), [0, 1])), {
      latencyMs: 9.3, computeMs: 8, transferMs: 1.3, exchangedBytes: 2500,
      criticalPath: [
        'image→p0 0-0.6', 'p0 stem@a 0.6-1.6', 'p0 block0@a 1.6-3.6', 'p0 block1@a 3.6-5.6', 'p0 block2@a 5.6-7.6',
        'features p0→router 7.6-8.3', 'head@router 8.3-9.3',
      ],
    });
  });

  it('should make the receiver wait for a slow exchange', () => {
    // At 1 Mbit/s: image 1.5, exchange 10.5 sent at 4.5 arrives 15, block2 15-17, features 2.5, head 1.
    const slow = cluster([node('a', { bandwidthMbps: 1 }), node('b', { bandwidthMbps: 1 })]);
    assert.deepEqual(rounded(predictLatency(p2, slow, [0, 1])), {
      latencyMs: 20.5, computeMs: 6, transferMs: 14.5, exchangedBytes: 2500,
      criticalPath: [
        'image→p1 0-1.5', 'p1 stem@b 1.5-2.5', 'p1 block0@b 2.5-4.5', 'p1→p0 point0 4.5-15', 'p0 block2@a 15-17',
        'features p0→router 17-19.5', 'head@router 19.5-20.5',
      ],
    });
  });

  it('should serialise partitions that share a node and skip transfers between them', () => {
    // All 8 units on one node back to back: 0.6 + 2*(1+2+2+2) = 14.6, features 0.7, head 1.
    const p = rounded(predictLatency(p2, cluster([node('a'), node('b')]), [0, 0]));
    assert.equal(p.latencyMs, 16.3);
    assert.equal(p.computeMs, 15);
    assert.equal(p.transferMs, 1.3);
    assert.deepEqual(p.criticalPath, [
      'image→p0 0-0.6', 'p0 stem@a 0.6-1.6', 'p1 stem@a 1.6-2.6', 'p0 block0@a 2.6-4.6', 'p1 block0@a 4.6-6.6',
      'p0 block1@a 6.6-8.6', 'p1 block1@a 8.6-10.6', 'p0 block2@a 10.6-12.6', 'p1 block2@a 12.6-14.6',
      'features p1→router 14.6-15.3', 'head@router 15.3-16.3',
    ]);
  });

  it('should take turns on a shared medium', () => {
    // image→p1 waits 0.1 for image→p0; p1→p0 waits for p0→p1 (medium busy 3.6-4.6) and arrives 6.1.
    assert.deepEqual(rounded(predictLatency(p2, cluster([node('a'), node('b')], true), [0, 1])), {
      latencyMs: 9.8, computeMs: 6, transferMs: 3.8, exchangedBytes: 2500,
      criticalPath: [
        'image→p0 0-0.6', 'p0 stem@a 0.6-1.6', 'p0 block0@a 1.6-3.6', 'p0→p1 point0 3.6-5.1', 'p1→p0 point0 4.6-6.1',
        'p0 block2@a 6.1-8.1', 'features p0→router 8.1-8.8', 'head@router 8.8-9.8',
      ],
    });
  });

  it('should add the per-call overhead to every unit and run the head on the router node', () => {
    const p1 = syntheticPackage({ partitions: 1 });
    const c: Cluster = { nodes: [node('a', { perCallOverheadMs: 0.25 })], sharedMedium: false, router: { kind: 'node', node: 'a' } };
    // 5 units of 1,2,2,2,1 ms + 0.25 each, nothing on the network.
    assert.deepEqual(rounded(predictLatency(p1, c, [0])), {
      latencyMs: 9.25, computeMs: 9.25, transferMs: 0, exchangedBytes: 0,
      criticalPath: ['p0 stem@a 0-1.25', 'p0 block0@a 1.25-3.5', 'p0 block1@a 3.5-5.75', 'p0 block2@a 5.75-8', 'head@a 8-9.25'],
    });
  });

  it('should charge the per-call overhead once per session when units run fused', () => {
    // stem+block0+block1 as one session (0.25 once), block2 alone (0.25): 1+2+2+2 + 2 * 0.25, the head 1 + 0.25.
    const fused = syntheticPackage({ partitions: 1, unitCalls: [1, 0, 0, 1] });
    const c: Cluster = { nodes: [node('a', { perCallOverheadMs: 0.25 })], sharedMedium: false, router: { kind: 'node', node: 'a' } };
    assert.deepEqual(rounded(predictLatency(fused, c, [0])), {
      latencyMs: 8.75, computeMs: 8.75, transferMs: 0, exchangedBytes: 0,
      criticalPath: ['p0 stem@a 0-1.25', 'p0 block0@a 1.25-3.25', 'p0 block1@a 3.25-5.25', 'p0 block2@a 5.25-7.5', 'head@a 7.5-8.75'],
    });
  });

  it('should add the service CPU: per request, per message and per MB, on sender and receiver', () => {
    // Router: request 0.3, 0.1 per message (its Run call to each partition and each reply). a, b: 0.5 per push
    // + 400 ms/MB at both ends of every message (image 0.05, push 0.5, features 0.1); per request (their Run call)
    // a 1, b 1.5. Router 0-0.3, sends the images 0.3-0.4 and 0.4-0.5; image→p1 0.5-1.1;
    // b: receive + request 1.1-2.65, stem -3.65, block0 -5.65, push encode 5.65-6.65 (before block1), block1 -8.65;
    // p0's push (encoded on a 5.05-6.05, over the link 6.05-7.55) is decoded on b after block1: 8.65-9.65;
    // block2 -11.65, features encode -11.75, link -12.45, router receive -12.55, head -13.55.
    const c: Cluster = {
      nodes: [
        node('a', { perRequestOverheadMs: 1, perMessageOverheadMs: 0.5, cpuMsPerMB: 400 }),
        node('b', { perRequestOverheadMs: 1.5, perMessageOverheadMs: 0.5, cpuMsPerMB: 400 }),
      ],
      sharedMedium: false,
      router: { kind: 'own', gflops: 1, bandwidthMbps: 10, latencyMs: 0, perCallOverheadMs: 0, perRequestOverheadMs: 0.3, perMessageOverheadMs: 0.1, cpuMsPerMB: 0 },
    };
    const p = predictLatency(p2, c, [0, 1]);
    assert.deepEqual(rounded(p), {
      latencyMs: 13.55, computeMs: 12.25, transferMs: 1.3, exchangedBytes: 2500,
      criticalPath: [
        'request@router 0-0.3', 'image→p0 send@router 0.3-0.4', 'image→p1 send@router 0.4-0.5', 'image→p1 0.5-1.1',
        'image→p1 receive@b 1.1-2.65', 'p1 stem@b 2.65-3.65', 'p1 block0@b 3.65-5.65', 'p1→p0 point0 send@b 5.65-6.65',
        'p1 block1@b 6.65-8.65', 'p0→p1 point0 receive@b 8.65-9.65', 'p1 block2@b 9.65-11.65',
        'features p1→router send@b 11.65-11.75', 'features p1→router 11.75-12.45', 'features p1→router receive@router 12.45-12.55',
        'head@router 12.55-13.55',
      ],
    });
    // ONNX 8 ms (stem 1, blocks 2+2+2, head 1); the rest of the compute is service CPU.
    assert.equal(Math.round(p.serviceMs * 1e9) / 1e9, 4.25);
  });

  it('should charge both ends of a push between partitions on one node, with no wire time', () => {
    // As the co-located case above (16.3 ms) plus, on a at 800 ms/MB: two image receives 0.1 each, two pushes
    // encoded and decoded 1 ms each (4), two feature sends 0.2 each: 16.3 + 4.6.
    const c = cluster([node('a', { cpuMsPerMB: 800 }), node('b')]);
    const p = rounded(predictLatency(p2, c, [0, 0]));
    assert.deepEqual([p.latencyMs, p.computeMs, p.transferMs], [20.9, 19.6, 1.3]);
  });

  it('should charge a router placed on a node with that node\'s service costs', () => {
    // Router: request 1, Run call 0.5; partition: request 1 (its Run call included), units 1+2+2+2; router: reply 0.5,
    // head 1.
    const p1 = syntheticPackage({ partitions: 1 });
    const c: Cluster = { nodes: [node('a', { perRequestOverheadMs: 1, perMessageOverheadMs: 0.5 })], sharedMedium: false,
      router: { kind: 'node', node: 'a' } };
    const p = predictLatency(p1, c, [0]);
    assert.deepEqual([p.latencyMs, p.computeMs, p.serviceMs, p.transferMs], [11, 11, 3, 0]);
  });

  it('should let access links carry one transfer at a time and add framing bytes to every message', () => {
    // 125 B of framing = 0.1 ms at 10 Mbit/s. The router's uplink sends image→p0 0-0.2 (+0.5) and image→p1 0.2-0.4;
    // p0 0.7-5.7 for stem..block1, p1 0.9-5.9; pushes of 1375 B (1.1 ms) arrive 5.3 and 5.5, hidden behind block1;
    // the router's downlink takes features p0 7.7-8.0 (+0.5) and then p1 8.0-8.3 (+0.5): head 8.8-9.8.
    const c: Cluster = { ...cluster([node('a'), node('b')]), linkContention: true, messageOverheadBytes: 125 };
    assert.deepEqual(rounded(predictLatency(p2, c, [0, 1])), {
      latencyMs: 9.8, computeMs: 8, transferMs: 1.8, exchangedBytes: 2500,
      criticalPath: [
        'image→p0 0-0.7', 'p0 stem@a 0.7-1.7', 'p0 block0@a 1.7-3.7', 'p0 block1@a 3.7-5.7', 'p0 block2@a 5.7-7.7',
        'features p0→router 7.7-8.5', 'features p1→router 8-8.8', 'head@router 8.8-9.8',
      ],
    });
  });

  it('should size exchanges like the catalog (k = round half even, uint8 scale included)', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.49, 3.5].map(roundHalfEven), [0, 2, 2, 3, 4]);
    assert.equal(pointBytesPerImage({ k: 16, height: 7, width: 7, precision: 'uint8' }), 788);
    assert.equal(pointBytesPerImage({ k: 16, height: 28, width: 28, precision: 'fp16' }), 25088);
    const pts = [{ afterBlock: 0, channels: 64, height: 7, width: 7 }, { afterBlock: 1, channels: 2, height: 7, width: 7 }];
    const m = packageModel({
      name: 'x', partitions: 4, stem: { flops: 1, paramBytes: 10 },
      blocks: [0, 1, 2].map((index) => ({ index, flops: 2, paramBytes: 5, outShape: [64, 7, 7] })),
      head: { flops: 3, inFeatures: 256 }, points: pts,
      policy: { id: 'x', points: [{ shift: 1, fraction: 0.25, precision: 'uint8' }, { shift: 2, fraction: 0.25, precision: 'fp32' }] },
      metrics: { testAccuracy: 0.9 }, input: { shape: [1, 28, 28] },
    });
    assert.deepEqual(m.exchanges.map((x) => [x.k, x.bytes]), [[16, 788], [1, 196]]);
    assert.equal(m.exchangedBytes, 4 * 788 + 4 * 196);
    assert.equal(m.featureBytes, 256);
    assert.equal(m.paramBytes, 25);
  });
});

import assert from 'node:assert/strict';
import { LiveLoop, type LiveDecision, type PartitionStatsSource, type PlanTarget, type RouterStatsSource } from '../../src/roles/planner/live-loop.ts';
import { plan } from '../../src/roles/planner/core/search.ts';
import type { Cluster } from '../../src/roles/planner/core/types.ts';
import { toPlan } from '../../src/roles/planner/to-plan.ts';
import type { Plan } from '../../src/runtime/plan.ts';
import { EXCHANGE_AFTER_BLOCK0, syntheticPackage } from '../fakes/packages.ts';

const node = (name: string) => ({ name, gflops: 1, bandwidthMbps: 100, latencyMs: 0, perCallOverheadMs: 0, labels: {} });
const cluster: Cluster = { sharedMedium: false, router: { kind: 'own', gflops: 100, bandwidthMbps: 1000, latencyMs: 0, perCallOverheadMs: 0 },
  nodes: [node('a'), node('b'), node('c'), node('d')] };
// One package, P=2, that exchanges 12,500 B per tensor after block 0: 1 ms at 100 Mbit/s, 100 ms at 1 Mbit/s.
const pkg = syntheticPackage({ partitions: 2, name: 'two', exchanges: [{ ...EXCHANGE_AFTER_BLOCK0, bytes: 12_500 }] });

/** Partitions of a P=2 plan whose pushes take 3 ms, plus 100 ms when either end is on a slow node; compute as modelled. */
function pushSource(deployed: () => Plan, slow: Set<string>): PartitionStatsSource {
  return {
    describe: async (address) => {
      const i = Number(address.split(':')[1]);
      const me = deployed().assignments[i].node;
      const peer = deployed().assignments[1 - i].node;
      return { runs: 50, computeMsP50: 7, pushes: [{ peer: 1 - i, count: 50, bytesMean: 12_500, transferMsP50: 3 + (slow.has(me) || slow.has(peer) ? 100 : 0) }] };
    },
  };
}

describe('live calibration loop', () => {
  it('should move the plan off a slow link once it is measured long enough, and record why', async () => {
    let now = 100_000;
    let deployed: Plan = toPlan(plan([pkg], cluster), cluster);
    const first = deployed.assignments.map((a) => a.node);
    const slow = new Set<string>();
    const source = pushSource(() => deployed, slow);
    const switches: { doc: Plan; reason: string; decision: LiveDecision }[] = [];
    const target: PlanTarget = {
      deployed: () => ({ doc: deployed, addresses: ['p:0', 'p:1'] }),
      switchTo: async (doc, reason, decision) => {
        switches.push({ doc, reason, decision });
        deployed = doc;
      },
    };
    const loop = LiveLoop.create({ prior: cluster, packages: [pkg], objective: { mode: 'latency' }, source, target, intervalMs: 3_600_000,
      rule: { margin: 0.2, sustainMs: 4000, minDwellMs: 10_000 }, now: () => now });
    try {
      // Learns the pair's base, then nothing is wrong.
      for (let k = 0; k < 3; k++, now += 2000) assert.equal((await loop.tick())!.action, 'stay');
      slow.add(first[0]);
      const seen: string[] = [];
      for (let k = 0; k < 6 && switches.length === 0; k++, now += 2000) seen.push((await loop.tick())!.why);
      assert.equal(switches.length, 1, seen.join('\n'));
      // Better for 4 s: the third slow judgement switches.
      assert.equal(seen.length, 3);
      const s = switches[0];
      assert.ok(!s.doc.assignments.some((a) => a.node === first[0]), JSON.stringify(s.doc.assignments));
      assert.match(s.reason, new RegExp(`live calibration: .* faster.*${first[0]}: .*link [0-9.]+ Mbit/s measured \\(label 100\\)`));
      assert.equal(s.decision.action, 'switch');
      assert.ok(s.decision.deployed.predictedMs > s.decision.best.predictedMs * 1.2);
      // Right after the switch, nothing moves (dwell), even though the slow node is no longer measured.
      for (let k = 0; k < 3; k++, now += 2000) assert.equal((await loop.tick())!.action, 'stay');
      assert.equal(switches.length, 1);
    } finally {
      await loop.shutdown();
      await loop.shutdown();
    }
  });
});

describe('live calibration loop: a switch on trial', () => {
  it('should go back when the router measures the new plan slower than the one it replaced, and not try it again soon', async () => {
    let now = 100_000;
    let deployed: Plan = toPlan(plan([pkg], cluster), cluster);
    const initial = deployed.planHash;
    const slow = new Set<string>([deployed.assignments[0].node]);
    const source = pushSource(() => deployed, slow);
    // The model is wrong about the alternative: the router measures it at 50 ms against 20.
    const router: RouterStatsSource = {
      live: async () => ({ planHash: deployed.planHash, requests: 50, requestMsP50: deployed.planHash === initial ? 20 : 50, partitions: [] }),
    };
    const reasons: string[] = [];
    const target: PlanTarget = {
      deployed: () => ({ doc: deployed, addresses: ['p:0', 'p:1'] }),
      switchTo: async (doc, reason) => {
        reasons.push(reason);
        deployed = doc;
      },
    };
    const loop = LiveLoop.create({ prior: cluster, packages: [pkg], objective: { mode: 'latency' }, source, router, target, intervalMs: 3_600_000,
      rule: { margin: 0.2, sustainMs: 0, minDwellMs: 0 }, now: () => now });
    try {
      const whys: string[] = [];
      // The base is learned at first sight (as if at the labels): the slow link shows from the second window on.
      for (let k = 0; k < 12; k++, now += 2000) whys.push((await loop.tick())!.why);
      assert.equal(reasons.length, 2, whys.join('\n'));
      assert.match(reasons[0], /^live calibration: .* faster/);
      assert.match(reasons[1], new RegExp(`measured 50.00 ms in the router, worse than the 20.00 ms of ${initial} it replaced: back to it$`));
      assert.equal(deployed.planHash, initial);
      assert.match(whys[whys.length - 1], /measured slower when last tried \(not again for \d+ s\)/);
    } finally {
      await loop.shutdown();
    }
  });
});

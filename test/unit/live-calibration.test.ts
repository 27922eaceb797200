import assert from 'node:assert/strict';
import { calibrate, DEFAULT_CALIBRATION, emptyCalibration, type LivePartition } from '../../src/roles/planner/core/calibrate.ts';
import { decideSwitch, type SwitchRule } from '../../src/roles/planner/core/hysteresis.ts';
import type { Cluster } from '../../src/roles/planner/core/types.ts';
import { LiveStats } from '../../src/roles/partition/live-stats.ts';
import { summarizeLinkDrop } from '../../src/tools/bench/link-drop-summary.ts';
import { syntheticPackage, EXCHANGE_AFTER_BLOCK0 } from '../fakes/packages.ts';

const node = (name: string, over: Partial<Cluster['nodes'][number]> = {}) => ({
  name, gflops: 1, bandwidthMbps: 100, latencyMs: 0, perCallOverheadMs: 0, perMessageOverheadMs: 0.5, labels: {}, ...over });
const cluster: Cluster = { sharedMedium: false, router: { kind: 'own', gflops: 10, bandwidthMbps: 1000, latencyMs: 0, perCallOverheadMs: 0 },
  nodes: [node('a'), node('b'), node('c')] };
// Two partitions, 7e6 FLOPs each (7 ms at 1 GFLOPS), one push of 1250 B per request.
const pkg = syntheticPackage({ partitions: 2, name: 'two', exchanges: [EXCHANGE_AFTER_BLOCK0] });
const live = (computeMs: number, transferMs: number, runs = 50): LivePartition[] => [
  { index: 0, runs, computeMsP50: computeMs, pushes: [{ peer: 1, count: runs, bytesMean: 1250, transferMsP50: transferMs }] },
  { index: 1, runs, computeMsP50: computeMs, pushes: [{ peer: 0, count: runs, bytesMean: 1250, transferMsP50: transferMs }] },
];

describe('live calibration (pure)', () => {
  it('should learn a link pair\'s base at first sight and call the link slow only when the time beyond it stands out', () => {
    const o = { ...DEFAULT_CALIBRATION, alpha: 1 };
    let s = emptyCalibration();
    // 1250 B at 100 Mbit/s: 0.1 ms on the wire; the rest (2.9 ms) is learned as the pair's base.
    let r = calibrate(cluster, s, pkg, [0, 1], live(7, 3), 0, o);
    assert.deepEqual(r.state.pairs, { 'a>b': 2.9, 'b>a': 2.9 });
    assert.deepEqual(r.cluster.nodes.map((n) => n.bandwidthMbps), [100, 100, 100]);
    s = r.state;
    // 3.5 ms: 0.5 ms beyond the base is noise (< minWireMs); the base rises 5% of the way (a base falls at once).
    r = calibrate(cluster, s, pkg, [0, 1], live(7, 3.5), 1000, o);
    assert.deepEqual(r.cluster.nodes.map((n) => n.bandwidthMbps), [100, 100, 100]);
    assert.deepEqual(r.state.pairs, { 'a>b': 2.925, 'b>a': 2.925 });
    // 12.925 ms: 10 ms of wire for 1250 B = 1 Mbit/s; both ends of the only observed link get it, c keeps its label.
    r = calibrate(cluster, r.state, pkg, [0, 1], live(7, 12.925), 2000, o);
    assert.deepEqual(r.state.pairs, { 'a>b': 2.925, 'b>a': 2.925 });
    assert.deepEqual(r.cluster.nodes.map((n) => n.bandwidthMbps), [1, 1, 100]);
    assert.deepEqual(r.notes[0].why, ['compute 1.00 GFLOPS measured', 'link 1.0 Mbit/s measured (label 100)']);
  });

  it('should estimate a node\'s GFLOPS from its partitions\' compute, smoothed and kept within the range', () => {
    const o = { ...DEFAULT_CALIBRATION, alpha: 0.5 };
    // 3.5 ms for 7e6 FLOPs = 2 GFLOPS; half way from the label 1 -> 1.5. The unmeasured node c is scaled alike.
    const r = calibrate(cluster, emptyCalibration(), pkg, [0, 1], live(3.5, 3), 0, o);
    assert.deepEqual(r.cluster.nodes.map((n) => n.gflops), [1.5, 1.5, 1.5]);
    // 0.1 ms would be 70 GFLOPS: clamped to 3x the label, then smoothed.
    const fast = calibrate(cluster, emptyCalibration(), pkg, [0, 1], live(0.1, 3), 0, o);
    assert.equal(fast.cluster.nodes[0].gflops, 2);
    // Too few runs: left alone.
    const few = calibrate(cluster, emptyCalibration(), pkg, [0, 1], live(3.5, 3, 5), 0, o);
    assert.deepEqual(few.cluster.nodes.map((n) => n.gflops), [1, 1, 1]);
  });

  it('should calibrate a node\'s per-request service path from the router\'s round trips minus the partitions\' runs', () => {
    const o = { ...DEFAULT_CALIBRATION, alpha: 1 };
    const withCosts: Cluster = { ...cluster, messageOverheadBytes: 0,
      router: { kind: 'own', gflops: 10, bandwidthMbps: 100, latencyMs: 0, perCallOverheadMs: 0, perMessageOverheadMs: 0.25, perRequestOverheadMs: 3 } };
    // Image 125 B + features 250 B at 100 Mbit/s: 0.03 ms on the wire; 2 x 0.25 ms of router messages.
    const router = { requests: 50, requestMsP50: 12, partitions: [
      { partition: 0, count: 50, rttMsP50: 9, overheadMsP50: 2.53 }, { partition: 1, count: 50, rttMsP50: 10, overheadMsP50: 4.03 }] };
    const r = calibrate(withCosts, emptyCalibration(), pkg, [0, 1], [], 0, o, router);
    // c, unmeasured, gets its label shifted like the measured nodes (median shift, upper middle: +3.5 ms).
    assert.deepEqual(r.cluster.nodes.map((n) => n.perRequestOverheadMs), [2, 3.5, 3.5]);
    assert.deepEqual(r.notes[1].why, ['service path 3.50 ms per request measured']);
    // The router's own cost stays as measured from a client's side.
    assert.deepEqual(r.cluster.router, withCosts.router);
    // 3 ms more on partition 1's round trips: its node's link, not its service path (375 B in 3 ms = 1 Mbit/s).
    const slower = { ...router, partitions: [router.partitions[0], { ...router.partitions[1], overheadMsP50: 7 }] };
    const s = calibrate(withCosts, r.state, pkg, [0, 1], [], 1000, o, slower);
    assert.deepEqual(s.cluster.nodes.map((n) => [n.bandwidthMbps, n.perRequestOverheadMs]), [[100, 2], [1, 3.5], [100, 3.5]]);
    assert.deepEqual(s.notes[1].why, ['link 1.0 Mbit/s measured (label 100)']);
  });

  it('should fall back to the label when a slow link is no longer measured, waiting twice as long after each relapse', () => {
    const o = { ...DEFAULT_CALIBRATION, alpha: 1, staleAfterMs: 10_000 };
    let r = calibrate(cluster, emptyCalibration(), pkg, [0, 1], live(7, 3), 0, o);
    r = calibrate(cluster, r.state, pkg, [0, 1], live(7, 12.9), 1000, o);
    assert.equal(r.cluster.nodes[1].bandwidthMbps, 1);
    // The plan moves to a and c: b is no longer measured.
    r = calibrate(cluster, r.state, pkg, [0, 2], [], 5000, o);
    assert.equal(r.cluster.nodes[1].bandwidthMbps, 1);
    r = calibrate(cluster, r.state, pkg, [0, 2], [], 11_000, o);
    assert.equal(r.cluster.nodes[1].bandwidthMbps, 100);
    assert.match(r.notes[1].why[0], /unmeasured for 10 s: back to its label 100/);
    // Tried again and still slow: the next fall-back waits 20 s.
    r = calibrate(cluster, r.state, pkg, [0, 1], live(7, 12.9), 12_000, o);
    assert.equal(r.cluster.nodes[1].bandwidthMbps, 1);
    assert.equal(r.state.nodes.b.staleAfterMs, 20_000);
  });

  it('should switch only when an alternative is better by the margin for the sustain time, and not within the dwell', () => {
    const rule: SwitchRule = { margin: 0.2, sustainMs: 5000, minDwellMs: 20_000 };
    const cur = { hash: 'old', latencyMs: 10 };
    let d = decideSwitch({ lastSwitchAt: 0 }, 30_000, cur, { hash: 'new', latencyMs: 8.5 }, rule);
    assert.deepEqual([d.action, d.why], ['stay', 'best alternative new only 15% faster (needs 20%)']);
    d = decideSwitch(d.state, 31_000, cur, { hash: 'new', latencyMs: 7 }, rule);
    assert.deepEqual([d.action, d.state.betterSince], ['stay', 31_000]);
    d = decideSwitch(d.state, 34_000, cur, { hash: 'new', latencyMs: 7 }, rule);
    assert.equal(d.action, 'stay');
    // A different best restarts the clock.
    d = decideSwitch(d.state, 35_000, cur, { hash: 'other', latencyMs: 7 }, rule);
    assert.equal(d.state.betterSince, 35_000);
    d = decideSwitch(d.state, 40_000, cur, { hash: 'other', latencyMs: 7 }, rule);
    assert.deepEqual([d.action, d.why], ['switch', 'other predicted 7.00 ms vs 10.00 ms (30% faster) for 5.0 s']);
    assert.deepEqual(d.state, { lastSwitchAt: 40_000 });
    // Within the dwell after a switch: stays even when sustained.
    let e = decideSwitch({ lastSwitchAt: 40_000 }, 41_000, cur, { hash: 'x', latencyMs: 5 }, rule);
    e = decideSwitch(e.state, 50_000, cur, { hash: 'x', latencyMs: 5 }, rule);
    assert.equal(e.action, 'stay');
    assert.match(e.why, /last switch was 10.0 s ago \(min 20 s\)/);
    assert.equal(decideSwitch(e.state, 60_000, cur, { hash: 'x', latencyMs: 5 }, rule).action, 'switch');
  });
});

describe('partition live stats', () => {
  it('should report medians over the window and drop what is older', () => {
    let now = 0;
    const s = new LiveStats(10_000, 400, () => now);
    s.recordRun(10, 2);
    s.recordRun(20, 4);
    s.recordPush(1, 1000, 3);
    now = 5000;
    s.recordRun(30, 6);
    s.recordPush(1, 2000, 5);
    s.recordPush(2, 500, 1);
    assert.deepEqual(s.snapshot(), { windowS: 10, runs: 3, runMsP50: 20, waitMsP50: 4, computeMsP50: 16,
      pushes: [{ peer: 1, count: 2, bytesMean: 1500, transferMsP50: 4 }, { peer: 2, count: 1, bytesMean: 500, transferMsP50: 1 }] });
    now = 12_000;
    assert.deepEqual(s.snapshot(), { windowS: 10, runs: 1, runMsP50: 30, waitMsP50: 6, computeMsP50: 24,
      pushes: [{ peer: 1, count: 1, bytesMean: 2000, transferMsP50: 5 }, { peer: 2, count: 1, bytesMean: 500, transferMsP50: 1 }] });
  });
});

describe('link-drop summary', () => {
  it('should time the switches from the drop and the restore and split the latencies around them', () => {
    const startedAt = 1_000_000;
    const rows = [];
    for (let t = 0; t < 100; t += 0.5) {
      rows.push({ t, ms: t < 40 ? 10 : t < 60 ? 30 : 20, code: t === 50 ? 14 : 0, degraded: t === 51, package: 'p' });
    }
    const iso = (s: number) => new Date(startedAt + s * 1000).toISOString();
    const events = [
      { event: 'deployed', at: iso(-5), package: 'heavy' },
      { event: 'decision', at: iso(30), decision: { at: iso(30), action: 'stay', deployed: { planHash: 'g', package: 'heavy', predictedMs: 9 } } },
      // Served at 52 s (router confirmed 3 s after the start of the switch, which ended at 54 s).
      { event: 'switched', at: iso(54), package: 'light', readyS: 2, routerS: 3, doneS: 5 },
      { event: 'decision', at: iso(70), decision: { at: iso(70), action: 'stay', deployed: { planHash: 'h', package: 'light', predictedMs: 18 } } },
      { event: 'switched', at: iso(85), package: 'heavy', readyS: 2, routerS: 3, doneS: 4 },
    ];
    const s = summarizeLinkDrop({ startedAt, rows, events, dropAt: startedAt + 40_000, restoreAt: startedAt + 80_000 });
    assert.deepEqual(s, { requests: 200, failedRequests: 1, degradedRequests: 1, switchedAfterS: 12, switchedBackAfterS: 4, switches: 2,
      p50BeforeMs: 10, p50DuringMs: 20, p50AfterMs: 20, predictedBeforeMs: 9, predictedDuringMs: 18, policyBefore: 'heavy', policyDuring: 'light', policyAfter: 'heavy' });
  });
});

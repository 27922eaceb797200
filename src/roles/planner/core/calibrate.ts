// Live calibration: what the deployed partitions measured (Describe's LiveStats) turned into a cluster the
// latency model can re-predict the current plan and every alternative on. Pure: state in, state out.
//
// Why these estimators:
// - Compute: a partition's run minus its waits for peers is its own work; against the model's ONNX time for its
//   FLOPs (plus per-call overheads) it gives the node's effective GFLOPS now. Smoothed (EWMA), and kept within a
//   factor of the prior both ways, because one window on a throttled quarter core can be 2x off.
// - Links: a push's send-to-acknowledgement time is CPU on both ends, scheduling, the ack's return and the wire.
//   The non-wire part is learned per pair of nodes while their links are at their labels (the time left after
//   the wire at the label and the model's per-MB CPU; the model's own per-message figures say too little on a
//   busy node: pushes of 788 B measured 1.2-1.7 ms on loopback where the wire takes microseconds). Later time
//   beyond that base is wire time; bytes over it is the link's goodput, which runs at the slower of its two access
//   links. The router's round trips to a partition (minus its run) are read the same way for the node's link, and
//   otherwise give the node's per-request service path.
// - Per-message costs stay as measured at start. A push's send-to-acknowledgement time is not CPU on the critical
//   path (it overlaps the peers' work and waits on both quotas): taken as the per-message cost (half each end) it
//   made a deployed P = 4 plan look 22.7 ms where it measured about 8, and the loop flapped between plans
//   (link-drop run of 2026-11-29 05:26). A node's link is then at least as fast as the fastest link it was seen on (max over its links), and
//   never faster than its label (the nominal speed). Small pushes hide the wire time in the CPU noise, so a link
//   is only called slower when its extra time stands out clearly.
// - Staleness: a link no plan uses any more is not measured; its estimate falls back to the label after
//   `staleAfterMs`, so a restored link is tried again. Each time the tried link proves slow again the wait
//   doubles (up to 16x), so a long outage costs a few tries, not a flap every minute.
import type { Assignment, Cluster, NodeSpec, PackageModel } from './types.ts';

export interface LivePush {
  peer: number;
  count: number;
  bytesMean: number;
  transferMsP50: number;
}

export interface LivePartition {
  /** Partition index in the deployed plan. */
  index: number;
  runs: number;
  computeMsP50: number;
  pushes: LivePush[];
}

/** The router's view of the deployed plan (RouterStats.Live); the per-partition figures calibrate the nodes. */
export interface RouterLive {
  requests: number;
  requestMsP50: number;
  /** Per partition: Run round trip minus the partition's own run time. */
  partitions: { partition: number; count: number; rttMsP50: number; overheadMsP50: number }[];
}

export interface NodeEstimate {
  gflops: number;
  /** gflops comes from this node's own partitions (else from its label, scaled like the measured nodes'). */
  gflopsMeasured?: boolean;
  /** The service path of one Run on this node (the model's perRequestOverheadMs), once measured. */
  perRequestOverheadMs?: number;
  /** When it was last measured: unmeasured for staleAfterMs, the prior's figure comes back. */
  perRequestSeenAt?: number;
  bandwidthMbps: number;
  /** When this node's link was last measured (ms), or undefined: never. */
  linkSeenAt?: number;
  /** When its bandwidth was last called lower than the label. */
  degradedAt?: number;
  /** Current wait before a stale degraded estimate falls back to the label. */
  staleAfterMs: number;
}

export interface CalibrationState {
  nodes: Record<string, NodeEstimate>;
  /** Learned non-wire time of a push between two nodes (`from>to`), beyond the model's per-MB CPU, in ms. */
  pairs: Record<string, number>;
}

export interface CalibrationOptions {
  /** Fewer batch-1 runs than this in the window: the compute estimate is left alone. */
  minRuns: number;
  /** Fewer pushes on a link than this: the link estimate is left alone. */
  minPushes: number;
  /** Weight of a new compute estimate (EWMA). */
  alpha: number;
  /** Measured wire time must exceed both this (ms) and `wireShare` of the push's non-wire time to count as slow. */
  minWireMs: number;
  wireShare: number;
  /** A degraded link estimate not measured for this long falls back to the label. */
  staleAfterMs: number;
  /** GFLOPS estimates are kept within prior / this .. prior * this. */
  gflopsRange: number;
  /** A learned push base is at most this much over the model's (ms). */
  maxBaseMs: number;
  /** Share of the way a base moves up towards a higher window per step (down: at once). */
  baseRise: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = {
  minRuns: 20, minPushes: 20, alpha: 0.5, minWireMs: 1, wireShare: 0.4, staleAfterMs: 60_000, gflopsRange: 3, maxBaseMs: 5, baseRise: 0.05,
};

/** A fresh state: every node gets its labelled figures when first seen (the priors may change between steps). */
export const emptyCalibration = (): CalibrationState => ({ nodes: {}, pairs: {} });

/**
 * A base moves down at once and up slowly (like a minimum round trip): a link that slows down gradually (a window's
 * median rises over several windows) must not drag its base up with it and hide its extra time.
 */
const trackBase = (base: number, learned: number, o: CalibrationOptions) =>
  round(learned <= base ? learned : base + o.baseRise * (learned - base), 4);

/**
 * A node's link from what was seen on its links: at least as fast as the fastest of them (a slow link may be the
 * other end's), but only among messages at least as large as the largest that came out slow: a tbf-shaped or
 * bursty link lets small messages through at line rate, so the router's small image proves nothing about a
 * push twice its size.
 */
function nodeMbps(obs: { mbps: number; bytes: number }[]): number {
  const slowest = Math.min(...obs.map((x) => x.mbps));
  const big = Math.max(0, ...obs.filter((x) => x.mbps === slowest).map((x) => x.bytes));
  return Math.max(...obs.filter((x) => x.bytes >= big).map((x) => x.mbps));
}

/** The model's per-MB CPU for one push of `bytes` between two nodes (both ends), in ms. */
const perMbMs = (from: NodeSpec, to: NodeSpec, bytes: number) => (bytes / 1e6) * ((from.cpuMsPerMB ?? 0) + (to.cpuMsPerMB ?? 0));
/** The model's non-wire time of a push before anything was learned: both ends' per-message CPU and the ack's way back. */
const modelBaseMs = (from: NodeSpec, to: NodeSpec) => (from.perMessageOverheadMs ?? 0) + (to.perMessageOverheadMs ?? 0) + 2 * Math.max(from.latencyMs, to.latencyMs);

/**
 * One observed message series on a link (a push between two nodes, or the router's round trip to a node): learns or
 * tracks its base (`key` in `pairs`) and says whether the time beyond the base makes the link slow, and how slow.
 * `ms` is the observed time without the model's per-MB CPU; `atLabelMs` the wire time at the label; `modelBase` the
 * base to assume before one is learned; `atLabel` whether both ends are believed at their labels.
 */
function judgeLink(pairs: Record<string, number>, key: string, x: { ms: number; atLabelMs: number; modelBase: number; atLabel: boolean;
  bytes: number; nominal: number }, o: CalibrationOptions): { mbps: number; slow: boolean } {
  // What this window says the base is if the link runs at its label; capped, so that a plan that starts on an
  // already slow link cannot learn a large message's slowness as its base.
  const learned = Math.min(o.maxBaseMs + x.modelBase, Math.max(0, x.ms - x.atLabelMs));
  if (pairs[key] === undefined && x.atLabel) {
    pairs[key] = round(learned, 4);
    return { mbps: x.nominal, slow: false };
  }
  const base = pairs[key] ?? x.modelBase;
  const extra = x.ms - base;
  // Called slow at a clear margin, and back to normal only at half of it: no flicker around one threshold.
  const k = x.atLabel ? 1 : 0.5;
  if (extra > k * o.minWireMs && extra > k * o.wireShare * base) return { mbps: Math.min(x.nominal, (x.bytes * 8) / 1000 / extra), slow: true };
  // Learn only while the ends are believed at their labels, and only from messages that looked normal.
  if (x.atLabel) pairs[key] = trackBase(base, learned, o);
  return { mbps: x.nominal, slow: false };
}

/** onnxruntime calls per request of one partition of `pkg`. */
const callsOf = (pkg: PackageModel) => (pkg.unitCalls ? pkg.unitCalls.reduce((s, c) => s + c, 0) : 1 + pkg.blockFlops.length);

export interface CalibrationNote {
  node: string;
  gflops: number;
  bandwidthMbps: number;
  why: string[];
}

/**
 * One calibration step at time `now`: the deployed package, its assignment (node index of each partition in
 * `prior`), and what each partition reported. Returns the new state, the calibrated cluster and per-node notes.
 */
export function calibrate(prior: Cluster, state: CalibrationState, pkg: PackageModel, assignment: Assignment,
  live: LivePartition[], now: number, o: CalibrationOptions = DEFAULT_CALIBRATION, router?: RouterLive): { state: CalibrationState; cluster: Cluster; notes: CalibrationNote[] } {
  const next: Record<string, NodeEstimate> = {};
  const why: Record<string, string[]> = {};
  for (const n of prior.nodes) {
    next[n.name] = { ...(state.nodes[n.name] ?? { gflops: n.gflops, bandwidthMbps: n.bandwidthMbps, staleAfterMs: o.staleAfterMs }) };
    why[n.name] = [];
  }
  // Compute: one estimate per partition, the median of a node's partitions.
  const gEst = new Map<string, number[]>();
  const calls = callsOf(pkg);
  const flops = pkg.stemFlops + pkg.blockFlops.reduce((s, f) => s + f, 0);
  for (const p of live) {
    const node = prior.nodes[assignment[p.index]];
    if (!node || p.runs < o.minRuns || !(p.computeMsP50 > 0)) continue;
    const onnxMs = Math.max(p.computeMsP50 - calls * node.perCallOverheadMs, 0.05);
    const g = flops / (onnxMs * 1e6);
    gEst.set(node.name, [...(gEst.get(node.name) ?? []), g]);
  }
  for (const [name, gs] of gEst) {
    const prev = next[name];
    const spec = prior.nodes.find((n) => n.name === name)!;
    const g = mid(gs);
    const clamped = Math.min(spec.gflops * o.gflopsRange, Math.max(spec.gflops / o.gflopsRange, g));
    prev.gflops = round(o.alpha * clamped + (1 - o.alpha) * prev.gflops, 3);
    prev.gflopsMeasured = true;
    why[name].push(`compute ${g.toFixed(2)} GFLOPS measured`);
  }
  // Links: goodput per observed link, then each node's link = the fastest link it was seen on.
  const pairs = { ...state.pairs };
  const seen = new Map<string, { mbps: number; bytes: number }[]>();
  for (const p of live) {
    const from = prior.nodes[assignment[p.index]];
    for (const s of p.pushes) {
      const to = prior.nodes[assignment[s.peer]];
      if (!from || !to || from.name === to.name || s.count < o.minPushes) continue;
      const bytes = s.bytesMean + (prior.messageOverheadBytes ?? 0);
      const nominal = Math.min(from.bandwidthMbps, to.bandwidthMbps);
      const { mbps } = judgeLink(pairs, `${from.name}>${to.name}`, { ms: s.transferMsP50 - perMbMs(from, to, s.bytesMean),
        atLabelMs: (bytes * 8) / 1000 / nominal, modelBase: modelBaseMs(from, to), bytes, nominal,
        atLabel: next[from.name].bandwidthMbps >= from.bandwidthMbps && next[to.name].bandwidthMbps >= to.bandwidthMbps }, o);
      for (const n of [from.name, to.name]) seen.set(n, [...(seen.get(n) ?? []), { mbps, bytes }]);
    }
  }
  // The router's round trip to a partition minus the partition's run: the image and features on the wire plus both
  // ends' service path. Its base is learned per node while the node's link is at its label, like a push's; time
  // beyond the base is the link's (the router's link is not the one that drops here: it is the node's), otherwise
  // what the model charges beyond the wire and per-MB terms is the node's perRequestOverheadMs (as
  // src/tools/bench/measure-request.ts defines it at start-up). The router's own per-request cost stays as measured at
  // start from a client's side (edge-emulator.sh measure): its live figure is taken inside the router and misses the
  // client-facing gRPC call, about 2 ms of that cost.
  const r = prior.router;
  const routerCosts = r.kind === 'own' ? r : prior.nodes.find((n) => n.name === r.node)!;
  const routerBw = r.kind === 'own' ? r.bandwidthMbps : Infinity;
  const routerMsgMs = 2 * (routerCosts.perMessageOverheadMs ?? 0);
  const perReq = new Map<string, number[]>();
  for (const c of router?.partitions ?? []) {
    const node = prior.nodes[assignment[c.partition]];
    if (!node || c.count < o.minRuns || (r.kind === 'node' && r.node === node.name)) continue;
    const framing = prior.messageOverheadBytes ?? 0;
    const bytes = pkg.imageBytes + pkg.featureBytes + 2 * framing;
    const nominal = Math.min(routerBw, node.bandwidthMbps);
    const mb = ((pkg.imageBytes + pkg.featureBytes) / 1e6) * ((node.cpuMsPerMB ?? 0) + (routerCosts.cpuMsPerMB ?? 0));
    const { mbps, slow } = judgeLink(pairs, `router>${node.name}`, { ms: c.overheadMsP50 - mb, atLabelMs: (bytes * 8) / 1000 / nominal,
      modelBase: routerMsgMs + (node.perRequestOverheadMs ?? 0), atLabel: next[node.name].bandwidthMbps >= node.bandwidthMbps, bytes, nominal }, o);
    seen.set(node.name, [...(seen.get(node.name) ?? []), { mbps, bytes }]);
    if (slow) continue;
    const wire = (bytes * 8) / 1000 / Math.min(routerBw, next[node.name].bandwidthMbps);
    perReq.set(node.name, [...(perReq.get(node.name) ?? []), Math.max(0, c.overheadMsP50 - wire - mb - routerMsgMs)]);
  }
  for (const [name, xs] of perReq) {
    const e = next[name];
    const m = mid(xs);
    e.perRequestOverheadMs = round(e.perRequestOverheadMs === undefined ? m : o.alpha * m + (1 - o.alpha) * e.perRequestOverheadMs, 3);
    e.perRequestSeenAt = now;
    why[name].push(`service path ${m.toFixed(2)} ms per request measured`);
  }
  for (const n of prior.nodes) {
    const e = next[n.name];
    if (e.perRequestSeenAt !== undefined && !perReq.has(n.name) && now - e.perRequestSeenAt >= o.staleAfterMs) {
      delete e.perRequestOverheadMs;
      delete e.perRequestSeenAt;
    }
  }
  for (const n of prior.nodes) {
    const e = next[n.name];
    const obs = seen.get(n.name);
    if (obs) {
      const mbps = nodeMbps(obs);
      if (mbps < n.bandwidthMbps) {
        // Proved slow again right after a fall-back to the label: wait longer before the next try.
        if (e.degradedAt !== undefined && e.bandwidthMbps >= n.bandwidthMbps) e.staleAfterMs = Math.min(e.staleAfterMs * 2, o.staleAfterMs * 16);
        e.degradedAt = now;
        why[n.name].push(`link ${mbps.toFixed(1)} Mbit/s measured (label ${n.bandwidthMbps})`);
      } else if (e.bandwidthMbps < n.bandwidthMbps) {
        e.staleAfterMs = o.staleAfterMs;
        e.degradedAt = undefined;
        why[n.name].push(`link back at its label ${n.bandwidthMbps} Mbit/s`);
      }
      e.bandwidthMbps = round(mbps, 3);
      e.linkSeenAt = now;
    } else if (e.bandwidthMbps < n.bandwidthMbps && e.linkSeenAt !== undefined && now - e.linkSeenAt >= e.staleAfterMs) {
      e.bandwidthMbps = n.bandwidthMbps;
      why[n.name].push(`link unmeasured for ${((now - e.linkSeenAt) / 1000).toFixed(0)} s: back to its label ${n.bandwidthMbps} Mbit/s`);
    }
  }
  // Nodes no plan has measured keep their labels, but shifted like the measured ones: the start-up fit and the live
  // figures measure differently (a fan-out of four Runs after a warm-up vs. the serving pipeline), and without this an
  // unmeasured node looks better or worse than a measured twin by that difference alone, which invites a switch.
  const measured = prior.nodes.filter((n) => next[n.name].gflopsMeasured);
  const ratio = measured.length ? mid(measured.map((n) => next[n.name].gflops / n.gflops)) : 1;
  const served = prior.nodes.filter((n) => next[n.name].perRequestOverheadMs !== undefined);
  const shift = served.length ? mid(served.map((n) => next[n.name].perRequestOverheadMs! - (n.perRequestOverheadMs ?? 0))) : 0;
  const cluster: Cluster = { ...prior,
    nodes: prior.nodes.map((n) => {
      const e = next[n.name];
      return { ...n, gflops: e.gflopsMeasured ? e.gflops : round(n.gflops * ratio, 3), bandwidthMbps: e.bandwidthMbps,
        ...(e.perRequestOverheadMs !== undefined ? { perRequestOverheadMs: e.perRequestOverheadMs }
          : served.length ? { perRequestOverheadMs: round(Math.max(0, (n.perRequestOverheadMs ?? 0) + shift), 3) } : {}) };
    }) };
  const notes = cluster.nodes.map((n) => ({ node: n.name, gflops: n.gflops, bandwidthMbps: n.bandwidthMbps, why: why[n.name] }));
  return { state: { nodes: next, pairs }, cluster, notes };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
/** The median (the upper middle of an even count). */
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

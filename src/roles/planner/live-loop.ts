// The closed loop: every interval, read what the deployed partitions measured, calibrate the cluster, re-predict
// the deployed plan and re-plan on the calibrated cluster, and switch when the hysteresis rule says so. The same
// loop drives Kubernetes (the controller's staged switch) and the local stack (src/tools/cli/plan-deployer.ts).
import type { Plan } from '../../runtime/plan.ts';
import { calibrate, DEFAULT_CALIBRATION, emptyCalibration, type CalibrationNote, type CalibrationOptions,
  type CalibrationState, type LivePartition, type RouterLive } from './core/calibrate.ts';
import { decideSwitch, DEFAULT_SWITCH_RULE, type SwitchRule, type SwitchState } from './core/hysteresis.ts';
import { predictLatency } from './core/latency-model.ts';
import { plan } from './core/search.ts';
import type { Cluster, Objective, PackageModel } from './core/types.ts';
import { toPlan } from './to-plan.ts';

/** Reads one partition's live figures (Describe). */
export interface PartitionStatsSource {
  describe(address: string, timeoutMs: number): Promise<Omit<LivePartition, 'index'>>;
}

/** Reads the router's figures of the plan it serves (RouterStats.Live). */
export interface RouterStatsSource {
  live(timeoutMs: number): Promise<RouterLive & { planHash: string }>;
}

/** Where plans run: the deployed plan and its partitions' addresses, and how to switch to another. */
export interface PlanTarget {
  deployed(): { doc: Plan; addresses: string[] } | undefined;
  /** Starts `doc` beside the deployed plan, moves the router once it all serves, then removes the old one. */
  switchTo(doc: Plan, reason: string, decision: LiveDecision): Promise<void>;
}

/** One evaluation, as recorded (the plan ConfigMap's decision.json, the local stack's event log). */
export interface LiveDecision {
  at: string;
  action: 'stay' | 'switch';
  why: string;
  deployed: { planHash: string; package: string; predictedMs: number };
  best: { planHash: string; package: string; predictedMs: number; nodes: string[] };
  nodes: CalibrationNote[];
  measured: { partition: number; runs: number; computeMsP50: number; pushes: { peer: number; count: number; bytes: number; transferMsP50: number }[] }[];
  /** The router's view: request p50 inside the router, per partition round trip and what it adds to the run. */
  router?: { requests: number; requestMsP50: number; partitions: { partition: number; rttMsP50: number; overheadMsP50: number }[] };
}

export interface LiveLoopDeps {
  /** The cluster as labelled / measured: the priors (a function when they can change, e.g. node labels). */
  prior: Cluster | (() => Cluster);
  packages: PackageModel[];
  objective: Objective;
  source: PartitionStatsSource;
  /** The router's figures (per-request service paths); absent: partitions' figures only. */
  router?: RouterStatsSource;
  target: PlanTarget;
  intervalMs?: number;
  rule?: SwitchRule;
  calibration?: CalibrationOptions;
  log?: (line: string) => void;
  onDecision?: (d: LiveDecision) => void;
  now?: () => number;
}

export class LiveLoop {
  private state: CalibrationState;
  private switchState: SwitchState;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  /**
   * The last switch, until the new plan has been measured: the model can be wrong about a plan it never saw serve
   * (two partitions on one quarter core looked 22% faster and measured 45% slower), so a switch is kept only if the
   * router does not measure the new plan slower than the old one by the switch margin.
   */
  private trial: { from: Plan; fromMs: number; toHash: string; at: number } | undefined;
  /** Plans measured worse than the plan they replaced, and until when they are not tried again. */
  private readonly avoid = new Map<string, number>();
  last: LiveDecision | undefined;

  private constructor(private readonly d: LiveLoopDeps) {
    // Nodes get their labelled figures when first seen, so the priors may change or be empty at start.
    this.state = emptyCalibration();
    this.switchState = { lastSwitchAt: this.now() };
  }

  static create(d: LiveLoopDeps): LiveLoop {
    const loop = new LiveLoop(d);
    loop.schedule();
    return loop;
  }

  private prior(): Cluster {
    return typeof this.d.prior === 'function' ? this.d.prior() : this.d.prior;
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().then(() => undefined, (e) => this.d.log?.(`live calibration: ${(e as Error).message}`))
        .finally(() => this.schedule());
    }, this.d.intervalMs ?? 2000);
    this.timer.unref?.();
  }

  /** One evaluation (the timer calls it; tests may too). Switches, and waits for the switch, when the rule says so. */
  async tick(): Promise<LiveDecision | undefined> {
    const dep = this.d.target.deployed();
    if (!dep || this.closed) return undefined;
    const pkg = this.d.packages.find((p) => p.name === dep.doc.package);
    if (!pkg) return undefined;
    const prior = this.prior();
    const index = new Map(prior.nodes.map((n, i) => [n.name, i]));
    const assignment = dep.doc.assignments.map((a) => index.get(a.node) ?? -1);
    if (assignment.some((i) => i < 0)) return undefined;
    const live: LivePartition[] = [];
    await Promise.all(dep.addresses.map(async (address, i) => {
      try {
        live.push({ index: i, ...(await this.d.source.describe(address, 2000)) });
      } catch (e) {
        this.d.log?.(`live calibration: partition ${i} at ${address}: ${(e as Error).message}`);
      }
    }));
    live.sort((a, b) => a.index - b.index);
    let router: (RouterLive & { planHash: string }) | undefined;
    try {
      router = await this.d.router?.live(2000);
      // Figures of another plan (the router has not switched yet, or already has) would calibrate the wrong nodes.
      if (router && router.planHash !== dep.doc.planHash) router = undefined;
    } catch (e) {
      this.d.log?.(`live calibration: router: ${(e as Error).message}`);
    }
    const now = this.now();
    const rule = this.d.rule ?? DEFAULT_SWITCH_RULE;
    const minRuns = (this.d.calibration ?? DEFAULT_CALIBRATION).minRuns;
    const c = calibrate(prior, this.state, pkg, assignment, live, now, this.d.calibration ?? DEFAULT_CALIBRATION, router);
    this.state = c.state;
    const current = predictLatency(pkg, c.cluster, assignment);
    let bestDoc = toPlan(plan(this.d.packages, c.cluster, this.d.objective), c.cluster);
    let decision = decideSwitch(this.switchState, now, { hash: dep.doc.planHash, latencyMs: current.latencyMs },
      { hash: bestDoc.planHash, latencyMs: bestDoc.predicted.latencyMs }, rule);
    const avoidUntil = this.avoid.get(bestDoc.planHash);
    if (decision.action === 'switch' && avoidUntil !== undefined && avoidUntil > now) {
      decision = { action: 'stay', state: { lastSwitchAt: this.switchState.lastSwitchAt },
        why: `${bestDoc.planHash} is predicted faster but measured slower when last tried (not again for ${((avoidUntil - now) / 1000).toFixed(0)} s)` };
    }
    // The trial of the last switch: judged once the new plan has served a full window.
    const t = this.trial;
    let reverting = false;
    if (t && (t.toHash !== dep.doc.planHash || now - t.at > 120_000)) this.trial = undefined;
    else if (t && router && router.requests >= minRuns && now - t.at >= 10_000) {
      this.trial = undefined;
      if (router.requestMsP50 > t.fromMs * (1 + rule.margin)) {
        this.avoid.set(t.toHash, now + 300_000);
        bestDoc = t.from;
        reverting = true;
        decision = { action: 'switch', state: { lastSwitchAt: now },
          why: `${t.toHash} measured ${router.requestMsP50.toFixed(2)} ms in the router, worse than the ${t.fromMs.toFixed(2)} ms of ${t.from.planHash} it replaced: back to it` };
      }
    }
    this.switchState = decision.state;
    const record: LiveDecision = {
      at: new Date(now).toISOString(), action: decision.action, why: decision.why,
      deployed: { planHash: dep.doc.planHash, package: dep.doc.package, predictedMs: round(current.latencyMs) },
      best: { planHash: bestDoc.planHash, package: bestDoc.package, predictedMs: bestDoc.predicted.latencyMs,
        nodes: bestDoc.assignments.map((a) => a.node) },
      nodes: c.notes,
      measured: live.map((p) => ({ partition: p.index, runs: p.runs, computeMsP50: round(p.computeMsP50),
        pushes: p.pushes.map((s) => ({ peer: s.peer, count: s.count, bytes: Math.round(s.bytesMean), transferMsP50: round(s.transferMsP50) })) })),
      ...(router ? { router: { requests: router.requests, requestMsP50: round(router.requestMsP50),
        partitions: router.partitions.map((p) => ({ partition: p.partition, rttMsP50: round(p.rttMsP50), overheadMsP50: round(p.overheadMsP50) })) } } : {}),
    };
    this.last = record;
    this.d.onDecision?.(record);
    if (decision.action === 'switch') {
      const slow = c.notes.filter((n) => n.why.length).map((n) => `${n.node}: ${n.why.join(', ')}`).join('; ');
      if (!reverting && router && router.requests >= minRuns) this.trial = { from: dep.doc, fromMs: router.requestMsP50, toHash: bestDoc.planHash, at: now };
      await this.d.target.switchTo(bestDoc, `live calibration: ${decision.why}${slow && !reverting ? ` (${slow})` : ''}`, record);
      if (this.trial) this.trial.at = this.now();
      // The new plan's partitions start with empty windows: give them a full dwell before judging again.
      this.switchState = { lastSwitchAt: this.now() };
    }
    return record;
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

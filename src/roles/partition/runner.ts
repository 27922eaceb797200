import { LiveStats } from './live-stats.ts';
import { performance } from 'node:perf_hooks';
import { encode, wireBytes, type Precision } from '../../runtime/codec.ts';
import { DeadlineExceededError, InvalidArgumentError, UnavailableError } from '../../runtime/errors.ts';
import type { ModelPackage } from '../../runtime/manifest.ts';
import type { OrtUnit, RunOutput } from '../../runtime/ort.ts';
import { loadChain, releaseChain, type ChainStep } from '../../runtime/unit-chain.ts';
import { NO_OBSERVER, type RunObserver } from '../../runtime/telemetry/observer.ts';
import { CancelledError } from '../../runtime/errors.ts';
import { checkPush, firstChannels, globalAvgPool, mergeInto, partitionPlan, type PointPlan } from './plan.ts';
import { checkPixels, imageInputOf, pixelsToUnitInput, unitShape, type ImageInput } from '../../runtime/image-input.ts';
import { DEFAULT_LIMITS, RequestTable, type DeliverOutcome, type RequestSlots, type Slice } from './state.ts';

export type { Precision };

export interface PushMessage {
  requestId: string;
  point: number;
  from: number;
  package: string;
  tensor: { shape: number[]; precision: Precision; data: Buffer; scales: number[] };
}

/** Delivers a push to partition `to`; rejects with a typed or gRPC error. */
export interface PeerTransport {
  push(to: number, msg: PushMessage, deadlineMs: number /* epoch ms */): Promise<void>;
}

export interface PointStat {
  point: number;
  peer: number;
  bytes: number;
  /** Sent pushes: until the peer acknowledged, or 0 when the answer went out first (it does not wait for acks). */
  transferMs: number;
  merged: boolean;
  waitMs: number;
}

export interface RunResult {
  /** [N, W3/P] */
  features: Float32Array;
  computeMs: number;
  sent: PointStat[];
  received: PointStat[];
  missedPoints: number[];
}

export interface UnitDescription {
  name: string;
  inShape: number[];
  outShape: number[];
  flops: number;
}

export interface RunnerDescription {
  index: number;
  partitions: number;
  package: string;
  policyId: string;
  units: UnitDescription[];
  /** onnxruntime sessions run per request: one per unit, or one per fused run of units. */
  calls: string[];
  gflops: number;
  perCallOverheadMs: number;
}

export interface RunnerOptions {
  pkg: ModelPackage;
  index: number;
  transport: PeerTransport;
  intraOpThreads?: number;
  /** Run the package's fused segments, one session per run of units between exchange points (default true). */
  fuseUnits?: boolean;
  maxInFlight?: number;
  maxBatch?: number;
  earlyPushTtlMs?: number;
  maxEarlyPushes?: number;
  maxEarlyBytes?: number;
  /** Largest batch given to one ORT call; bigger batches run in slices (default 16). */
  unitBatch?: number;
  /** Time the units at start-up for Describe's GFLOPS (default true). */
  measure?: boolean;
  /** Share of a request's budget kept after the last wait for a peer's push (default 0.25, at least 100 ms). */
  mergeMarginFraction?: number;
  /** Called when a push to a peer fails (the peer then merges nothing for that point). */
  onPushError?: (err: unknown, to: number, point: number) => void;
  /** Tracing hooks around each session run and push, and at each merge (default: none). */
  observer?: RunObserver;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs one partition's units for a batch, exchanging slices with peers at the policy's points. */
export class PartitionRunner {
  private readonly table: RequestTable;
  private readonly plan: Map<number, PointPlan>;
  private readonly byPoint: Map<number, PointPlan>;
  private readonly maxBatch: number;
  private readonly unitBatch: number;
  private readonly running = new Set<Promise<unknown>>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private shutdownPromise: Promise<void> | undefined;
  private gflops = 0;
  private perCallOverheadMs = 0;
  private readonly obs: RunObserver;
  /** Recent batch-1 timings and acknowledged pushes, for Describe (live calibration). */
  readonly live = new LiveStats();

  private constructor(private readonly opts: RunnerOptions, private readonly steps: ChainStep[]) {
    const m = opts.pkg.manifest;
    this.maxBatch = opts.maxBatch ?? 64;
    this.unitBatch = Math.max(1, opts.unitBatch ?? 16);
    this.obs = opts.observer ?? NO_OBSERVER;
    this.table = new RequestTable({ ...DEFAULT_LIMITS, maxInFlight: opts.maxInFlight ?? DEFAULT_LIMITS.maxInFlight,
      earlyPushTtlMs: opts.earlyPushTtlMs ?? DEFAULT_LIMITS.earlyPushTtlMs,
      maxEarlyPushes: opts.maxEarlyPushes ?? DEFAULT_LIMITS.maxEarlyPushes,
      maxEarlyBytes: opts.maxEarlyBytes ?? DEFAULT_LIMITS.maxEarlyBytes });
    this.plan = partitionPlan(m, opts.index);
    this.byPoint = new Map([...this.plan.values()].map((p) => [p.point, p]));
    // Expired early pushes are also swept lazily; the timer only bounds how long they hold memory.
    this.sweeper = setInterval(() => this.table.sweep(), Math.max(50, Math.floor(this.table.limits.earlyPushTtlMs / 2)));
    this.sweeper.unref();
  }

  static async create(opts: RunnerOptions): Promise<PartitionRunner> {
    const { pkg, index } = opts;
    const steps = await loadChain(pkg, index, { intraOpThreads: opts.intraOpThreads ?? 1, fuse: opts.fuseUnits });
    const runner = new PartitionRunner(opts, steps);
    if (opts.measure !== false) await runner.measure();
    return runner;
  }

  get index(): number {
    return this.opts.index;
  }

  get packageName(): string {
    return this.opts.pkg.manifest.name;
  }

  /** The package's image input (manifest `input`). */
  get input(): ImageInput {
    return imageInputOf(this.opts.pkg.manifest.input);
  }

  run(requestId: string, images: Uint8Array, n: number,
    opts: { deadlineMs: number; missing?: number[]; signal?: AbortSignal }): Promise<RunResult> {
    const p = this.runInner(requestId, images, n, opts);
    this.running.add(p);
    const forget = () => this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async runInner(requestId: string, images: Uint8Array, n: number,
    opts: { deadlineMs: number; missing?: number[]; signal?: AbortSignal }): Promise<RunResult> {
    if (this.closed) throw new UnavailableError(`partition ${this.opts.index} is shutting down`);
    if (!requestId) throw new InvalidArgumentError('request_id', 'empty');
    if (!Number.isInteger(n) || n < 1 || n > this.maxBatch) {
      throw new InvalidArgumentError('images.shape', `batch ${n} outside 1..${this.maxBatch}`);
    }
    const input = this.input;
    checkPixels(input, n, images.length, 'images.data');
    const ctx = { deadlineMs: opts.deadlineMs, signal: opts.signal, requestId,
      giveUpMs: mergeGiveUpAt(Date.now(), opts.deadlineMs, this.opts.mergeMarginFraction) };
    checkAlive(ctx);
    const slots = this.table.open(requestId, n);
    const missing = new Set(opts.missing ?? []);
    const sent: PointStat[] = [];
    const received: PointStat[] = [];
    const missedPoints: number[] = [];
    const t0 = performance.now();
    try {
      const pixels = pixelsToUnitInput(images, n, input);
      let x: RunOutput = { data: pixels, dims: unitShape(input, n) };
      let pending: PointPlan | undefined;
      for (const s of this.steps) {
        const input = x;
        x = await this.obs.unit(s.name, n, () => this.step(s.unit, input.data, input.dims, ctx));
        // Segments end where an output is needed (unitSegments), so a pending merge lands on the block after
        // the sending one, as unit by unit.
        if (pending) {
          await this.merge(slots, pending, x, missing, ctx, received, missedPoints);
          pending = undefined;
        }
        const p = this.plan.get(s.last - 1);
        if (p) {
          // Never rejects: a failed push costs the peer its merge and is reported through onPushError.
          if (!missing.has(p.sendTo)) void this.send(p, x, n, ctx, sent);
          pending = p;
        }
      }
      const [, c, h, w] = x.dims;
      const features = globalAvgPool(x.data, n, c, h * w);
      const computeMs = performance.now() - t0;
      if (n === 1) this.live.recordRun(computeMs, received.reduce((t, r) => t + r.waitMs, 0));
      // The answer does not wait for the peers' acknowledgements of our pushes: on a slow or busy peer that round
      // trip costs its event-loop turns, and our features do not depend on it. A push that fails before we answer
      // counts 0 bytes; its acknowledgement, if later, only completes the stats and the trace.
      sent.sort((a, b) => a.point - b.point);
      return { features, computeMs, sent, received, missedPoints };
    } finally {
      this.table.close(requestId);
    }
  }

  private async step(unit: OrtUnit, input: Float32Array, dims: readonly number[],
    ctx: { deadlineMs: number; signal?: AbortSignal; requestId: string }): Promise<RunOutput> {
    checkAlive(ctx);
    const n = dims[0];
    if (n <= this.unitBatch) return unit.run(input, dims);
    // ORT's scratch memory grows with the batch; slicing big batches bounds the process's peak RSS.
    const per = input.length / n;
    const parts: RunOutput[] = [];
    for (let i = 0; i < n; i += this.unitBatch) {
      if (i > 0) checkAlive(ctx);
      const m = Math.min(this.unitBatch, n - i);
      parts.push(await unit.run(input.slice(i * per, (i + m) * per), [m, ...dims.slice(1)]));
    }
    const out = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p.data, o);
      o += p.data.length;
    }
    return { data: out, dims: [n, ...parts[0].dims.slice(1)] };
  }

  /** Encodes and pushes a slice; never rejects (a failed push costs the peer its merge, not us our answer). */
  private send(p: PointPlan, x: RunOutput, n: number, ctx: { deadlineMs: number; requestId: string },
    sent: PointStat[]): Promise<void> {
    const [, c, h, w] = x.dims;
    const slice = firstChannels(x.data, n, c, h * w, p.k);
    const enc = encode(slice, n, p.precision);
    const stat: PointStat = { point: p.point, peer: p.sendTo, bytes: wireBytes(enc), transferMs: 0, merged: false, waitMs: 0 };
    const msg: PushMessage = { requestId: ctx.requestId, point: p.point, from: this.opts.index,
      package: this.packageName, tensor: { shape: [n, p.k, h, w], precision: p.precision, data: enc.data, scales: enc.scales } };
    const t = performance.now();
    sent.push(stat);
    return this.obs.push({ point: p.point, peer: p.sendTo, bytes: stat.bytes, precision: p.precision, n },
      () => this.opts.transport.push(p.sendTo, msg, ctx.deadlineMs)).then(
      () => {
        stat.transferMs = performance.now() - t;
        if (n === 1) this.live.recordPush(p.sendTo, stat.bytes, stat.transferMs);
      },
      (err) => {
        stat.transferMs = performance.now() - t;
        stat.bytes = 0;
        this.opts.onPushError?.(err, p.sendTo, p.point);
      });
  }

  private async merge(slots: RequestSlots, p: PointPlan, y: RunOutput, missing: Set<number>,
    ctx: { deadlineMs: number; giveUpMs: number; signal?: AbortSignal; requestId: string }, received: PointStat[],
    missedPoints: number[]): Promise<void> {
    const t = performance.now();
    let slice = slots.take(p.point);
    if (!slice) {
      if (missing.has(p.receiveFrom)) {
        missedPoints.push(p.point);
        this.received(received, { point: p.point, peer: p.receiveFrom, bytes: 0, transferMs: 0, merged: false, waitMs: 0 });
        return;
      }
      slice = await waitSlice(slots, p.point, ctx);
      if (!slice) {
        // The peer is late or dead: go on without its merge so the answer (degraded) still beats the deadline.
        missedPoints.push(p.point);
        this.received(received, { point: p.point, peer: p.receiveFrom, bytes: 0, transferMs: 0, merged: false,
          waitMs: performance.now() - t });
        return;
      }
    }
    const [n, c, h, w] = y.dims;
    mergeInto(y.data, slice.values, n, c, h * w, p.k);
    this.received(received, { point: p.point, peer: p.receiveFrom, bytes: slice.wireBytes, transferMs: 0, merged: true,
      waitMs: performance.now() - t });
  }

  /** Notes what arrived at a point, in the answer's stats and for the observer (the trace's merge event). */
  private received(received: PointStat[], stat: PointStat): void {
    received.push(stat);
    this.obs.merge({ point: stat.point, peer: stat.peer, bytes: stat.bytes, merged: stat.merged, waitMs: stat.waitMs });
  }

  /**
   * Validates a peer's push and routes it to its request (or the early buffer).
   * 'dropped' means the request already finished: the slice is discarded, never merged elsewhere.
   */
  acceptPush(msg: PushMessage): DeliverOutcome {
    if (this.closed) throw new UnavailableError(`partition ${this.opts.index} is shutting down`);
    const slice: Slice = checkPush(msg, { package: this.packageName, index: this.opts.index, maxBatch: this.maxBatch,
      byPoint: this.byPoint }, Date.now());
    return this.table.deliver(msg.requestId, msg.point, slice);
  }

  stats(): { inFlight: number; earlyBuffered: number; droppedPushes: number } {
    this.table.sweep();
    const s = this.table.stats();
    return { inFlight: s.inFlight, earlyBuffered: s.earlyBuffered, droppedPushes: s.droppedPushes };
  }

  describe(): RunnerDescription {
    const m = this.opts.pkg.manifest;
    const units: UnitDescription[] = [
      { name: 'stem', inShape: [...m.input.shape], outShape: [...m.stem.outShape], flops: m.stem.flops },
      ...m.blocks.map((b) => ({ name: `block${b.index}`, inShape: [...b.inShape], outShape: [...b.outShape], flops: b.flops })),
    ];
    return { index: this.opts.index, partitions: m.partitions, package: m.name, policyId: m.policy.id, units,
      calls: this.steps.map((s) => s.name), gflops: this.gflops, perCallOverheadMs: this.perCallOverheadMs };
  }

  /** Resolves when no request is in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise((r) => { timer = setTimeout(r, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.closed = true;
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      await this.drain(5000);
      this.table.clearEarly();
      await releaseChain(this.steps);
    })();
    return this.shutdownPromise;
  }

  /**
   * Times the partition's own sessions at batch 1 and batch B: t(n) = U * overhead + n * flops / G (U sessions).
   * GFLOPS is the batch-B throughput; the per-call overhead is what batch 1 costs beyond it.
   */
  private async measure(): Promise<void> {
    const m = this.opts.pkg.manifest;
    const flopsPerImage = m.stem.flops + m.blocks.reduce((s, b) => s + b.flops, 0);
    const B = 8;
    const chain = async (n: number): Promise<number> => {
      const input = this.input;
      const px = new Float32Array(n * input.pixels);
      for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 256;
      const t = performance.now();
      let x: RunOutput = { data: px, dims: unitShape(input, n) };
      for (const s of this.steps) x = await s.unit.run(x.data, x.dims);
      return performance.now() - t;
    };
    await chain(1);
    await chain(B);
    let t1 = Infinity;
    let tB = Infinity;
    for (let r = 0; r < 3; r++) t1 = Math.min(t1, await chain(1));
    for (let r = 0; r < 2; r++) tB = Math.min(tB, await chain(B));
    const U = this.steps.length;
    this.gflops = (flopsPerImage * B) / (tB / 1000) / 1e9;
    this.perCallOverheadMs = Math.max(0, (B * t1 - tB) / ((B - 1) * U));
  }
}

function checkAlive(ctx: { deadlineMs: number; signal?: AbortSignal; requestId: string }): void {
  if (ctx.signal?.aborted) throw new CancelledError(`request ${ctx.requestId} cancelled`);
  if (Date.now() >= ctx.deadlineMs) throw new DeadlineExceededError(`request ${ctx.requestId} passed its deadline`);
}

/**
 * When a partition stops waiting for a peer's push: `fraction` of the budget before the deadline (at least
 * MIN_MERGE_MARGIN_MS, at most half the budget), leaving the rest of the blocks, the pooling and the router's
 * head time to finish.
 */
export function mergeGiveUpAt(nowMs: number, deadlineMs: number, fraction = DEFAULT_MERGE_MARGIN_FRACTION): number {
  if (!Number.isFinite(deadlineMs)) return deadlineMs;
  const budget = Math.max(0, deadlineMs - nowMs);
  const margin = Math.min(budget / 2, Math.max(MIN_MERGE_MARGIN_MS, fraction * budget));
  return deadlineMs - margin;
}

const DEFAULT_MERGE_MARGIN_FRACTION = 0.25;
const MIN_MERGE_MARGIN_MS = 100;

/**
 * Waits for a peer's slice until `giveUpMs` (then resolves undefined: merge without it), or rejects on
 * cancellation.
 */
function waitSlice(slots: RequestSlots, point: number,
  ctx: { deadlineMs: number; giveUpMs: number; signal?: AbortSignal; requestId: string }): Promise<Slice | undefined> {
  checkAlive(ctx);
  return new Promise<Slice | undefined>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      unsubscribe();
    };
    const onAbort = (): void => {
      done();
      reject(new CancelledError(`request ${ctx.requestId} cancelled`));
    };
    // setTimeout turns delays past 2^31-1 ms (or Infinity: no deadline) into 1 ms, so clamp them.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, ctx.giveUpMs - Date.now()));
    const timer = Number.isFinite(ctx.giveUpMs) ? setTimeout(() => {
      done();
      resolve(undefined);
    }, delay) : undefined;
    const unsubscribe = slots.onArrive(point, (s) => {
      done();
      resolve(s);
    });
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

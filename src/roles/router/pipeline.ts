import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import { DeadlineExceededError, EdgesplitError, ResourceExhaustedError, UnavailableError } from '../../runtime/errors.ts';
import type { RouterLiveStats } from './live-stats.ts';
import { PartitionBreakers } from './circuit-breaker.ts';
import { assembleFeatures, partitionDeadline } from './degrade.ts';
import { runWithSafeRetry } from './retry.ts';
import type { PartitionClient, PartitionRunResult } from './partition-client.ts';
import type { InferResult } from './oip-response.ts';
import { DynamicBatcher, type Batch, type BatchingSettings } from './batcher.ts';
import { batchContext, inBatchTrace, type BatchTraceContext } from './batch-trace.ts';

/** The head (or anything that maps [N, W3] features to logits and probabilities). */
export interface InferenceEngine {
  run(features: Float32Array, n: number): Promise<{ logits: Float32Array; probabilities: Float32Array }>;
  shutdown(): Promise<void>;
}

export interface PipelineOptions {
  clients: PartitionClient[];
  head: InferenceEngine;
  packageName: string;
  /** One image's served shape, [H,W] or [H,W,C] (the manifest's input). */
  imageShape: readonly number[];
  /** W3 / P: features per partition per image. */
  width: number;
  strict: boolean;
  /** Requests admitted at once; more get RESOURCE_EXHAUSTED at once instead of queueing (default unbounded). */
  maxInFlight?: number;
  /** Consecutive failures that open a partition's circuit (default 3). */
  breakerFailures?: number;
  /** Where batch-1 timings go (RouterStats.Live); absent: not kept. */
  live?: RouterLiveStats;
  /** Dynamic batching of concurrent requests (batcher.ts); absent: every request travels alone. */
  batching?: BatchingSettings;
}

/** One request waiting in (or travelling with) a batch. */
interface Queued {
  images: Buffer;
  n: number;
  trace: BatchTraceContext;
}

/**
 * One request through the partition graph: broadcast the images to every partition in parallel (each with the
 * client's deadline), concatenate the pooled features in partition order, run the head.
 * Degradation (strict = false): partitions known down or failing are zero-filled and the present ones scaled by
 * P / present, as the supernet's branch dropout trained for; the answer is marked degraded.
 */
export class RouterPipeline {
  /** One circuit per partition, fed by calls and by the health monitor's probes. */
  readonly breakers: PartitionBreakers;
  private inFlight = 0;
  private readonly batcher: DynamicBatcher<Queued, InferResult> | undefined;

  constructor(private readonly o: PipelineOptions) {
    this.breakers = new PartitionBreakers(o.clients.length, { failureThreshold: o.breakerFailures ?? 3 });
    this.batcher = o.batching && new DynamicBatcher(o.batching, (b) => this.runBatch(b));
  }

  get partitions(): number {
    return this.o.clients.length;
  }

  /**
   * Requests admitted and not yet answered (queued for a batch included); with batching, the batcher's queue,
   * running batches and, since the start, batches dispatched and the requests they carried.
   */
  stats(): { inFlight: number; batching?: ReturnType<DynamicBatcher<Queued, InferResult>['stats']> } {
    return { inFlight: this.inFlight, ...(this.batcher ? { batching: this.batcher.stats() } : {}) };
  }

  async infer(images: Buffer, n: number, deadlineMs: number, signal?: AbortSignal): Promise<InferResult> {
    // Bounded admission: overload is answered at once, never queued behind work that would miss its deadline.
    if (this.inFlight >= (this.o.maxInFlight ?? Infinity)) {
      throw new ResourceExhaustedError(`router busy: ${this.inFlight} requests in flight (max ${this.o.maxInFlight})`);
    }
    this.inFlight++;
    const t0 = performance.now();
    try {
      const r = this.batcher ? await this.batcher.submit({ images, n, trace: batchContext() }, n, deadlineMs, signal)
        : await this.inferInner(images, n, deadlineMs, signal);
      if (n === 1 && !r.degraded) this.o.live?.recordRequest(performance.now() - t0);
      return r;
    } finally {
      this.inFlight--;
    }
  }

  /**
   * One batch as one request through the partitions (one Run per partition, one push per peer and point), the
   * answer cut back into each member's rows. Degradation is the batch's: every member of a degraded batch is marked.
   */
  private async runBatch(b: Batch<Queued>): Promise<InferResult[]> {
    const images = b.items.length === 1 ? b.items[0].images : Buffer.concat(b.items.map((q) => q.images));
    const r = await inBatchTrace(b.items.map((q) => q.trace), b.total,
      () => this.inferInner(images, b.total, b.deadlineMs, b.signal));
    if (b.items.length === 1) return [r];
    const k = r.logits.length / b.total;
    let row = 0;
    return b.items.map((q) => {
      const part = (a: Float32Array) => a.slice(row * k, (row + q.n) * k);
      const out = { ...r, logits: part(r.logits), probabilities: part(r.probabilities),
        // Every image of a batch puts the same bytes on the wire (one uint8 scale per image): the share is exact.
        exchangedBytes: Math.round(r.exchangedBytes * q.n / b.total) };
      row += q.n;
      return out;
    });
  }

  private async inferInner(images: Buffer, n: number, deadlineMs: number, signal?: AbortSignal): Promise<InferResult> {
    const P = this.o.clients.length;
    const now = Date.now();
    if (deadlineMs <= now) throw new DeadlineExceededError('the request deadline passed before the fan-out');
    // Open circuits are not called (their peers are told not to wait for them); a half-open one gets one trial.
    const breakers = this.breakers.each;
    const calling = breakers.map((b) => b.tryAcquire());
    const skip = calling.flatMap((c, i) => (c ? [] : [i]));
    const releaseAll = () => calling.forEach((c, i) => { if (c) breakers[i].release(); });
    if (this.o.strict && skip.length > 0) {
      releaseAll();
      throw new UnavailableError(`partition ${skip.join(',')} unavailable (circuit open); strict mode answers only from all ${P}`);
    }
    if (skip.length === P) throw new UnavailableError(`all ${P} partitions are down (circuits open)`);
    const requestId = randomUUID();
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    // Partition calls end a little before the client's deadline: a hung partition then costs its features, not the answer.
    const callDeadline = partitionDeadline(now, deadlineMs);
    try {
      const calls = this.o.clients.map((c) => skip.includes(c.index) ? Promise.resolve(null)
        : ((t: number) => runWithSafeRetry(c, { requestId, images, n, imageShape: this.o.imageShape, package: this.o.packageName, missing: skip }, callDeadline, abort.signal)
          .then((r) => {
            if (n === 1) this.o.live?.recordCall(c.index, performance.now() - t, r.computeMs);
            breakers[c.index].onSuccess();
            return r;
          }, (err: unknown) => {
            const code = errorCode(err);
            // Cancellation and overload say nothing about the partition's health.
            if (code === Status.CANCELLED || code === Status.RESOURCE_EXHAUSTED) breakers[c.index].release();
            else breakers[c.index].onFailure();
            // Strict: the first failure ends the request; overload: shed it. Either way stop the peers' work.
            if (this.o.strict || code === Status.RESOURCE_EXHAUSTED) abort.abort();
            throw err;
          }))(performance.now()));
      const settled = await Promise.allSettled(calls);
      const results: (PartitionRunResult | null)[] = [];
      let firstError: unknown;
      let overload: unknown;
      settled.forEach((s) => {
        if (s.status === 'fulfilled') results.push(s.value);
        else {
          results.push(null);
          if (errorCode(s.reason) === Status.RESOURCE_EXHAUSTED) overload ??= s.reason;
          // Report the root cause, not the CANCELLED of the peers we stopped because of it.
          if (firstError === undefined || errorCode(firstError) === Status.CANCELLED) firstError = s.reason;
        }
      });
      if (signal?.aborted) throw new EdgesplitError('cancelled by the client', Status.CANCELLED);
      if (overload !== undefined) throw new ResourceExhaustedError(`partition busy: ${errorText(overload)}`);
      const present = results.filter((r) => r !== null).length;
      if (this.o.strict && firstError !== undefined) throw firstError;
      if (present === 0) throw firstError ?? new UnavailableError('no partition answered');
      const { features, missing } = assembleFeatures(results.map((r) => r?.features ?? null), n, this.o.width);
      const head = await this.o.head.run(features, n);
      const missed = results.some((r) => r !== null && r.missedPoints.length > 0);
      return { ...head, degraded: missing.length > 0 || missed, missingPartitions: missing,
        exchangedBytes: results.reduce((s, r) => s + (r?.sentBytes ?? 0), 0) };
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

const errorCode = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'code' in err ? Number((err as { code: unknown }).code) : undefined;
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Polls the partitions' health; feeds each probe to its circuit breaker and reports when all-healthy changes. */
export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private allHealthy = false;

  constructor(private readonly clients: PartitionClient[], private readonly breakers: PartitionBreakers,
    private readonly intervalMs: number, private readonly onChange: (allHealthy: boolean, healthy: number) => void) {}

  async start(): Promise<void> {
    await this.poll();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const ok = await Promise.all(this.clients.map((c) => c.healthy(Math.min(1000, this.intervalMs))));
    if (this.stopped) return;
    ok.forEach((h, i) => this.breakers.each[i].onProbe(h));
    const all = ok.every(Boolean);
    if (all !== this.allHealthy || this.timer === undefined) this.onChange(all, ok.filter(Boolean).length);
    this.allHealthy = all;
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async checkNow(timeoutMs: number): Promise<boolean> {
    const ok = await Promise.all(this.clients.map((c) => c.healthy(timeoutMs)));
    return ok.every(Boolean);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

import { randomUUID } from 'node:crypto';
import { EdgesplitError, UnavailableError } from '../common/errors.ts';
import type { PartitionClient, PartitionRunResult } from './partition-client.ts';
import type { InferResult } from './oip-response.ts';

/** The head (or anything that maps [N, W3] features to logits and probabilities). */
export interface InferenceEngine {
  run(features: Float32Array, n: number): Promise<{ logits: Float32Array; probabilities: Float32Array }>;
  shutdown(): Promise<void>;
}

export interface PipelineOptions {
  clients: PartitionClient[];
  head: InferenceEngine;
  packageName: string;
  /** W3 / P: features per partition per image. */
  width: number;
  strict: boolean;
}

/**
 * One request through the partition graph: broadcast the images to every partition in parallel (each with the
 * client's deadline), concatenate the pooled features in partition order, run the head.
 * Degradation (strict = false): partitions known down or failing are zero-filled and the present ones scaled by
 * P / present, as the supernet's branch dropout trained for; the answer is marked degraded.
 */
export class RouterPipeline {
  /** Partitions the health monitor last saw down (only consulted when not strict). */
  readonly down = new Set<number>();
  private inFlight = 0;

  constructor(private readonly o: PipelineOptions) {}

  get partitions(): number {
    return this.o.clients.length;
  }

  stats(): { inFlight: number } {
    return { inFlight: this.inFlight };
  }

  async infer(images: Buffer, n: number, deadlineMs: number, signal?: AbortSignal): Promise<InferResult> {
    this.inFlight++;
    try {
      return await this.inferInner(images, n, deadlineMs, signal);
    } finally {
      this.inFlight--;
    }
  }

  private async inferInner(images: Buffer, n: number, deadlineMs: number, signal?: AbortSignal): Promise<InferResult> {
    const P = this.o.clients.length;
    const skip = this.o.strict ? [] : [...this.down].sort((a, b) => a - b);
    if (skip.length === P) throw new UnavailableError(`all ${P} partitions are down`);
    const requestId = randomUUID();
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      const calls = this.o.clients.map((c) => skip.includes(c.index) ? Promise.resolve(null)
        : c.run({ requestId, images, n, package: this.o.packageName, missing: skip }, deadlineMs, abort.signal)
          .catch((err: unknown) => {
            // Strict: the first failure ends the request; stop the peers waiting for its pushes.
            if (this.o.strict) abort.abort();
            throw err;
          }));
      const settled = await Promise.allSettled(calls);
      const results: (PartitionRunResult | null)[] = [];
      let firstError: unknown;
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') results.push(s.value);
        else {
          results.push(null);
          // Report the root cause, not the CANCELLED of the peers we stopped because of it.
          if (firstError === undefined || (firstError instanceof EdgesplitError && firstError.code === 1)) firstError = s.reason;
          if (!this.o.strict) this.down.add(i);
        }
      });
      if (signal?.aborted) throw new EdgesplitError('cancelled by the client', 1);
      const present = results.filter((r) => r !== null).length;
      if (this.o.strict && firstError !== undefined) throw firstError;
      if (present === 0) throw firstError ?? new UnavailableError('no partition answered');
      const W = this.o.width;
      const features = new Float32Array(n * W * P);
      const scale = P / present;
      results.forEach((r, p) => {
        if (!r) return;
        for (let i = 0; i < n; i++) {
          for (let w = 0; w < W; w++) features[i * W * P + p * W + w] = present === P ? r.features[i * W + w] : Math.fround(r.features[i * W + w] * scale);
        }
      });
      const head = await this.o.head.run(features, n);
      const missing = results.flatMap((r, p) => (r ? [] : [p]));
      const missed = results.some((r) => r !== null && r.missedPoints.length > 0);
      return { ...head, degraded: missing.length > 0 || missed, missingPartitions: missing,
        exchangedBytes: results.reduce((s, r) => s + (r?.sentBytes ?? 0), 0) };
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

/** Polls the partitions' health; keeps `pipeline.down` current and reports when all-healthy changes. */
export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private allHealthy = false;

  constructor(private readonly clients: PartitionClient[], private readonly down: Set<number>,
    private readonly intervalMs: number, private readonly onChange: (allHealthy: boolean, healthy: number) => void) {}

  async start(): Promise<void> {
    await this.poll();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const ok = await Promise.all(this.clients.map((c) => c.healthy(Math.min(1000, this.intervalMs))));
    if (this.stopped) return;
    ok.forEach((h, i) => (h ? this.down.delete(i) : this.down.add(i)));
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

// Dynamic batching with Triton's semantics (the dynamic_batching block of a model config): concurrent requests wait in
// one queue while every batch slot ("model instance") is busy, and a slot that frees takes what is queued as one batch,
// up to maxBatchSize images. With maxQueueDelayUs = 0 nothing ever waits for a fuller batch: a lone request is
// dispatched at once (no added latency at low load) and batches form only from requests that queued behind busy
// slots, which is where the fixed per-call costs of every partition are worth sharing.
//
// Each request keeps its own deadline and cancellation: one that expires or is cancelled in the queue leaves it at
// once; one that expires or is cancelled inside a running batch is answered at once and the batch goes on for the
// others (it is aborted only when no member is waiting for it any more). A failed batch fails only its own members.
import { CancelledError, DeadlineExceededError } from '../../runtime/errors.ts';

export interface BatchingSettings {
  /** Images (the batch dimension) one batch carries at most; a single larger request still goes, alone. */
  maxBatchSize: number;
  /**
   * Batch sizes worth dispatching without waiting out the queue delay (Triton's preferred_batch_size): a batch that
   * holds at least one of them goes at once.
   */
  preferredBatchSizes: readonly number[];
  /** How long the oldest queued request may wait for a fuller batch once a slot is free, in microseconds. */
  maxQueueDelayUs: number;
  /** Batches in flight at once; while all run, requests queue (Triton's instance_group count). */
  instances: number;
}

/** One batch as the run function gets it: members in arrival order. */
export interface Batch<T> {
  items: T[];
  /** Each member's image count, in the same order. */
  sizes: number[];
  /** Sum of sizes. */
  total: number;
  /** The latest member deadline: the batch may run until the last member stops waiting. */
  deadlineMs: number;
  /** Aborted when every member has been answered otherwise (expired or cancelled). */
  signal: AbortSignal;
}

/** Runs one batch; resolves to one result per member, in order. */
export type RunBatch<T, R> = (batch: Batch<T>) => Promise<R[]>;

interface Member<T, R> {
  item: T;
  size: number;
  deadlineMs: number;
  enqueuedAt: number;
  settled: boolean;
  resolve(r: R): void;
  reject(e: unknown): void;
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** The running batch it belongs to, once dispatched. */
  batch?: RunningBatch;
}

interface RunningBatch {
  open: number;
  abort: AbortController;
}

/** Which members the next batch takes: a prefix of the queue whose images fit maxBatchSize (the first always goes). */
export function takeCount(sizes: readonly number[], maxBatchSize: number): number {
  let total = 0;
  let k = 0;
  while (k < sizes.length && (k === 0 || total + sizes[k] <= maxBatchSize)) total += sizes[k++];
  return k;
}

/**
 * Whether a slot that is free should dispatch the queue's head now (true) or wait up to the queue delay for more:
 * at once when the delay is 0 or spent, when the batch is full (the next member would not fit), or when it holds
 * at least a preferred size.
 */
export function dispatchNow(s: BatchingSettings, sizes: readonly number[], waitedUs: number): boolean {
  if (s.maxQueueDelayUs <= 0 || waitedUs >= s.maxQueueDelayUs) return true;
  const k = takeCount(sizes, s.maxBatchSize);
  const total = sizes.slice(0, k).reduce((a, b) => a + b, 0);
  if (k < sizes.length || total >= s.maxBatchSize) return true;
  return s.preferredBatchSizes.some((p) => total >= p);
}

export class DynamicBatcher<T, R> {
  private readonly queue: Member<T, R>[] = [];
  private running = 0;
  private delayTimer: NodeJS.Timeout | undefined;
  private closed: unknown;
  private batches = 0;
  private requests = 0;

  constructor(private readonly s: BatchingSettings, private readonly run: RunBatch<T, R>) {
    if (s.maxBatchSize < 1 || s.instances < 1 || s.maxQueueDelayUs < 0) throw new RangeError('DynamicBatcher: bad settings');
  }

  /** Requests waiting for a slot, batches running, and since the start batches dispatched and the requests they carried. */
  stats(): { queued: number; running: number; batches: number; requests: number } {
    return { queued: this.queue.length, running: this.running, batches: this.batches, requests: this.requests };
  }

  /** Queues one request of `size` images; settles with its own result, or its deadline, or its cancellation. */
  submit(item: T, size: number, deadlineMs: number, signal?: AbortSignal): Promise<R> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    if (signal?.aborted) return Promise.reject(new CancelledError('cancelled by the client'));
    const now = Date.now();
    if (deadlineMs <= now) return Promise.reject(new DeadlineExceededError('the request deadline passed before it was queued'));
    return new Promise<R>((resolve, reject) => {
      const m: Member<T, R> = { item, size, deadlineMs, enqueuedAt: performance.now(), settled: false, resolve, reject, signal };
      if (signal) {
        m.onAbort = () => this.leave(m, new CancelledError('cancelled by the client'));
        signal.addEventListener('abort', m.onAbort, { once: true });
      }
      this.queue.push(m);
      this.schedule();
      // Still queued: its deadline must reach it in the queue. (A request dispatched at once, alone, needs no timer:
      // its batch runs to its own deadline.)
      if (!m.batch) this.armDeadline(m);
    });
  }

  /** Answers `m` with DEADLINE_EXCEEDED at its own deadline unless it was answered before. */
  private armDeadline(m: Member<T, R>): void {
    if (m.timer || m.settled) return;
    m.timer = setTimeout(() => this.leave(m, new DeadlineExceededError(m.batch
      ? 'the request deadline passed while its batch ran' : 'the request deadline passed while it waited for a batch')),
    Math.max(0, m.deadlineMs - Date.now()));
  }

  /** Fails every queued request with `err` and refuses new ones (running batches finish). */
  close(err: unknown): void {
    this.closed = err;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    for (const m of this.queue.splice(0)) this.settle(m, () => m.reject(err));
  }

  private schedule(): void {
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    while (this.running < this.s.instances && this.queue.length > 0) {
      const waitedUs = (performance.now() - this.queue[0].enqueuedAt) * 1000;
      const sizes = this.queue.map((m) => m.size);
      if (!dispatchNow(this.s, sizes, waitedUs)) {
        this.delayTimer = setTimeout(() => {
          this.delayTimer = undefined;
          this.schedule();
        }, Math.max(0, (this.s.maxQueueDelayUs - waitedUs) / 1000));
        return;
      }
      this.dispatch(this.queue.splice(0, takeCount(sizes, this.s.maxBatchSize)));
    }
  }

  private dispatch(members: Member<T, R>[]): void {
    const batch: RunningBatch = { open: members.length, abort: new AbortController() };
    for (const m of members) m.batch = batch;
    this.running++;
    this.batches++;
    this.requests += members.length;
    const b: Batch<T> = {
      items: members.map((m) => m.item), sizes: members.map((m) => m.size), total: members.reduce((s, m) => s + m.size, 0),
      deadlineMs: Math.max(...members.map((m) => m.deadlineMs)), signal: batch.abort.signal,
    };
    // A member whose deadline comes before the batch's is answered at its own.
    for (const m of members) if (m.deadlineMs < b.deadlineMs) this.armDeadline(m);
    let out: Promise<R[]>;
    try {
      out = this.run(b);
    } catch (e) {
      out = Promise.reject(e);
    }
    out.then((results) => {
      members.forEach((m, i) => this.settle(m, () => m.resolve(results[i])));
    }, (err: unknown) => {
      for (const m of members) this.settle(m, () => m.reject(err));
    }).finally(() => {
      this.running--;
      this.schedule();
    });
  }

  /** A member answered before its batch (deadline or cancel): out of the queue, or one fewer waiting on its batch. */
  private leave(m: Member<T, R>, err: unknown): void {
    if (m.settled) return;
    const i = this.queue.indexOf(m);
    if (i >= 0) this.queue.splice(i, 1);
    this.settle(m, () => m.reject(err));
    // Nobody waits for this batch's answer any more: stop its partitions' work.
    if (m.batch && m.batch.open === 0) m.batch.abort.abort();
    if (i === 0) this.schedule();
  }

  private settle(m: Member<T, R>, answer: () => void): void {
    if (m.settled) return;
    m.settled = true;
    if (m.timer) clearTimeout(m.timer);
    if (m.onAbort) m.signal?.removeEventListener('abort', m.onAbort);
    if (m.batch) m.batch.open--;
    answer();
  }
}

import { InvalidArgumentError, ResourceExhaustedError } from '../../runtime/errors.ts';
import { AlreadyExistsError } from '../../runtime/errors.ts';

/** A received, already validated and decoded slice. */
export interface Slice {
  from: number;
  /** Images in the batch (the push's shape[0]). */
  images: number;
  values: Float32Array;
  /** Bytes it occupied on the wire (data + scales). */
  wireBytes: number;
  receivedAt: number;
}

export interface StateLimits {
  maxInFlight: number;
  /** How long a push may wait for its Run (peers race the router). */
  earlyPushTtlMs: number;
  maxEarlyPushes: number;
  maxEarlyBytes: number;
  /** How many finished request ids are remembered so their late pushes are dropped at once. */
  finishedMemory: number;
}

export const DEFAULT_LIMITS: StateLimits = {
  maxInFlight: 64, earlyPushTtlMs: 2000, maxEarlyPushes: 256, maxEarlyBytes: 32 * 1024 * 1024, finishedMemory: 4096,
};

export type DeliverOutcome = 'delivered' | 'buffered' | 'dropped';

/** The points of one in-flight request: slices that arrived, and the one waiter per point. */
export class RequestSlots {
  private readonly slices = new Map<number, Slice>();
  private readonly seen = new Set<number>();
  private readonly waiters = new Map<number, (s: Slice) => void>();

  constructor(readonly requestId: string, readonly images: number) {}

  has(point: number): boolean {
    return this.seen.has(point);
  }

  /** Stores a slice (the caller checked for duplicates) and wakes its waiter. */
  put(point: number, slice: Slice): void {
    this.seen.add(point);
    const w = this.waiters.get(point);
    if (w) {
      this.waiters.delete(point);
      w(slice);
    } else {
      this.slices.set(point, slice);
    }
  }

  /** Removes and returns the slice of `point` if it is here. */
  take(point: number): Slice | undefined {
    const s = this.slices.get(point);
    this.slices.delete(point);
    return s;
  }

  /** Calls `cb` when the slice of `point` arrives; returns the unsubscribe function. */
  onArrive(point: number, cb: (s: Slice) => void): () => void {
    this.waiters.set(point, cb);
    return () => {
      if (this.waiters.get(point) === cb) this.waiters.delete(point);
    };
  }

  clear(): void {
    this.slices.clear();
    this.waiters.clear();
  }
}

interface EarlyPush {
  slice: Slice;
  expiresAt: number;
}

/**
 * Bounded per-request state of one partition: in-flight requests, pushes that came before their Run,
 * and recently finished ids. Pure (time comes from `now`), so the bounds are unit-tested without servers.
 */
export class RequestTable {
  private readonly active = new Map<string, RequestSlots>();
  private readonly early = new Map<string, Map<number, EarlyPush>>();
  private earlyCount = 0;
  private earlyBytes = 0;
  private readonly finished = new Set<string>();
  private readonly finishedOrder: string[] = [];
  private dropped = 0;

  constructor(readonly limits: StateLimits = DEFAULT_LIMITS, private readonly now: () => number = Date.now) {}

  /** Registers a request and adopts the pushes that were waiting for it. */
  open(requestId: string, images: number): RequestSlots {
    if (this.active.has(requestId)) throw new AlreadyExistsError(`request_id: ${requestId} is already in flight`);
    if (this.active.size >= this.limits.maxInFlight) {
      throw new ResourceExhaustedError(`partition busy: ${this.active.size} requests in flight (max ${this.limits.maxInFlight})`);
    }
    this.sweep();
    // A reused id starts afresh; its old late pushes were already dropped.
    this.forgetFinished(requestId);
    const slots = new RequestSlots(requestId, images);
    this.active.set(requestId, slots);
    const waiting = this.early.get(requestId);
    if (waiting) {
      this.early.delete(requestId);
      for (const [point, e] of waiting) {
        this.earlyCount--;
        this.earlyBytes -= e.slice.values.byteLength;
        // A push built for another batch size cannot be merged into this one.
        if (e.slice.images === images) slots.put(point, e.slice);
        else this.dropped++;
      }
    }
    return slots;
  }

  /** Frees a request's state; later pushes for it are dropped. */
  close(requestId: string): void {
    const slots = this.active.get(requestId);
    if (!slots) return;
    slots.clear();
    this.active.delete(requestId);
    this.finished.add(requestId);
    this.finishedOrder.push(requestId);
    while (this.finishedOrder.length > this.limits.finishedMemory) {
      const old = this.finishedOrder.shift()!;
      this.finished.delete(old);
    }
  }

  /**
   * Routes a validated slice: into its request, into the early buffer, or dropped (finished request).
   * Throws AlreadyExistsError for a second push of the same point and ResourceExhaustedError when the
   * early buffer is full.
   */
  deliver(requestId: string, point: number, slice: Slice): DeliverOutcome {
    const slots = this.active.get(requestId);
    if (slots) {
      if (slots.has(point)) {
        this.dropped++;
        throw new AlreadyExistsError(`point ${point} of request ${requestId} was already pushed`);
      }
      if (slice.images !== slots.images) {
        this.dropped++;
        throw new InvalidArgumentError('tensor.shape', `batch of ${slice.images} images, request ${requestId} has ${slots.images}`);
      }
      slots.put(point, slice);
      return 'delivered';
    }
    if (this.finished.has(requestId)) {
      this.dropped++;
      return 'dropped';
    }
    this.sweep();
    let waiting = this.early.get(requestId);
    if (waiting?.has(point)) {
      this.dropped++;
      throw new AlreadyExistsError(`point ${point} of request ${requestId} was already pushed`);
    }
    const bytes = slice.values.byteLength;
    if (this.earlyCount >= this.limits.maxEarlyPushes || this.earlyBytes + bytes > this.limits.maxEarlyBytes) {
      this.dropped++;
      throw new ResourceExhaustedError(`early push buffer full (${this.earlyCount} pushes, ${this.earlyBytes} bytes)`);
    }
    if (!waiting) {
      waiting = new Map();
      this.early.set(requestId, waiting);
    }
    waiting.set(point, { slice, expiresAt: this.now() + this.limits.earlyPushTtlMs });
    this.earlyCount++;
    this.earlyBytes += bytes;
    return 'buffered';
  }

  /** Drops early pushes whose Run never came; returns how many. */
  sweep(): number {
    if (this.earlyCount === 0) return 0;
    const t = this.now();
    let n = 0;
    for (const [id, waiting] of this.early) {
      for (const [point, e] of waiting) {
        if (e.expiresAt <= t) {
          waiting.delete(point);
          this.earlyCount--;
          this.earlyBytes -= e.slice.values.byteLength;
          n++;
        }
      }
      if (waiting.size === 0) this.early.delete(id);
    }
    this.dropped += n;
    return n;
  }

  /** Drops every early push (shutdown). */
  clearEarly(): void {
    this.dropped += this.earlyCount;
    this.early.clear();
    this.earlyCount = 0;
    this.earlyBytes = 0;
  }

  get(requestId: string): RequestSlots | undefined {
    return this.active.get(requestId);
  }

  stats(): { inFlight: number; earlyBuffered: number; earlyBytes: number; droppedPushes: number } {
    return { inFlight: this.active.size, earlyBuffered: this.earlyCount, earlyBytes: this.earlyBytes,
      droppedPushes: this.dropped };
  }

  private forgetFinished(requestId: string): void {
    if (!this.finished.delete(requestId)) return;
    const i = this.finishedOrder.indexOf(requestId);
    if (i >= 0) this.finishedOrder.splice(i, 1);
  }
}

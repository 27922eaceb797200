import { status as Status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { CancelledError, DeadlineExceededError, EdgesplitError, ResourceExhaustedError } from './errors.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface MuxStreamOptions<Req, Res> {
  /** Starts the bidirectional call (no deadline: the stream outlives every request on it). */
  open: () => ClientDuplexStream<Req, Res>;
  /** The key an answer belongs to (the request's key). */
  keyOf: (res: Res) => string;
  /** Who is at the other end, for error messages ("partition 2 at host:port"). */
  peer: string;
  /** Frames held while the transport pushes back (write() returned false); more fail at once (default 1024). */
  maxQueued?: number;
}

interface Pending<Res> {
  resolve: (res: Res) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  detach: () => void;
}

/**
 * Many requests over one long-lived gRPC bidirectional stream, each answered by a frame carrying its key.
 * What a unary call gave each request is kept per request: a deadline (a timer here, and the budget travels in
 * the frame for the server), cancellation (`cancelFrame` tells the server to stop), flow control (frames wait
 * while grpc-js pushes back, bounded), and failure (a broken stream fails exactly the requests it carried, with
 * grpc-js's status text, and the next request opens a new stream).
 */
export class MuxStream<Req, Res> {
  private call: ClientDuplexStream<Req, Res> | undefined;
  private readonly pending = new Map<string, Pending<Res>>();
  private readonly queue: Req[] = [];
  private blocked = false;
  private closed = false;

  constructor(private readonly o: MuxStreamOptions<Req, Res>) {}

  /** Requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Sends `frame` and resolves with the answer keyed `key`. Rejects with DEADLINE_EXCEEDED at `deadlineMs`,
   * CANCELLED when `signal` aborts (both also send `cancelFrame()` if given), or the stream's failure.
   */
  request(key: string, frame: Req, deadlineMs: number, signal?: AbortSignal, cancelFrame?: () => Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (this.closed) return reject(new EdgesplitError(`${this.o.peer}: client closed`, Status.UNAVAILABLE));
      if (signal?.aborted) return reject(new CancelledError(`${this.o.peer}: cancelled`));
      if (this.pending.has(key)) return reject(new EdgesplitError(`${this.o.peer}: ${key} is already in flight`, Status.ALREADY_EXISTS));
      if (this.blocked && this.queue.length >= (this.o.maxQueued ?? 1024)) {
        return reject(new ResourceExhaustedError(`${this.o.peer}: ${this.queue.length} frames waiting for the stream`));
      }
      const stop = (err: unknown): void => {
        if (this.pending.get(key) !== p) return;
        this.settle(key);
        if (cancelFrame && this.call) this.send(cancelFrame());
        reject(err);
      };
      const onAbort = (): void => stop(new CancelledError(`${this.o.peer}: cancelled`));
      const p: Pending<Res> = {
        resolve, reject,
        timer: Number.isFinite(deadlineMs)
          ? setTimeout(() => stop(new DeadlineExceededError(`${this.o.peer}: deadline exceeded`)),
            Math.min(MAX_TIMER_MS, Math.max(0, deadlineMs - Date.now())))
          : undefined,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(key, p);
      try {
        this.send(frame);
      } catch (err) {
        this.settle(key);
        reject(err);
      }
    });
  }

  /** Ends the stream; requests still waiting fail UNAVAILABLE. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const call = this.call;
    this.fail(new EdgesplitError(`${this.o.peer}: client closed`, Status.UNAVAILABLE));
    call?.cancel();
  }

  private settle(key: string): Pending<Res> | undefined {
    const p = this.pending.get(key);
    if (!p) return undefined;
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.detach();
    return p;
  }

  private send(frame: Req): void {
    const call = this.stream();
    if (this.blocked) {
      this.queue.push(frame);
      return;
    }
    if (!call.write(frame)) this.blocked = true;
  }

  private stream(): ClientDuplexStream<Req, Res> {
    if (this.call) return this.call;
    const call = this.o.open();
    this.call = call;
    this.blocked = false;
    call.on('data', (res: Res) => {
      const p = this.settle(this.o.keyOf(res));
      // An answer nobody waits for any more (its request timed out or was cancelled) is dropped.
      p?.resolve(res);
    });
    call.on('drain', () => {
      if (this.call !== call) return;
      this.blocked = false;
      while (this.queue.length > 0 && !this.blocked) {
        if (!call.write(this.queue.shift()!)) this.blocked = true;
      }
    });
    const broken = (err: EdgesplitError): void => {
      if (this.call !== call) return;
      this.call = undefined;
      this.queue.length = 0;
      this.fail(err);
    };
    call.on('error', (e: ServiceError) => broken(new EdgesplitError(`${this.o.peer}: ${e.details || e.message}`, e.code ?? Status.UNAVAILABLE)));
    // The server ended the stream (it is draining): what it did not answer will not be answered.
    call.on('end', () => broken(new EdgesplitError(`${this.o.peer}: stream ended by the server`, Status.UNAVAILABLE)));
    return call;
  }

  private fail(err: EdgesplitError): void {
    for (const key of [...this.pending.keys()]) this.settle(key)!.reject(err);
    if (this.call) {
      const c = this.call;
      this.call = undefined;
      c.cancel();
    }
  }
}

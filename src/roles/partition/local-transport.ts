import { DeadlineExceededError, UnavailableError } from '../../runtime/errors.ts';
import type { PeerTransport, PushMessage } from './runner.ts';

export interface PushSink {
  acceptPush(msg: PushMessage): unknown;
}

/** Connects runners in one process (eval, tests): a push is a call into the peer runner, on a later tick. */
export class LocalTransport implements PeerTransport {
  private readonly sinks = new Map<number, PushSink>();

  attach(index: number, sink: PushSink): void {
    this.sinks.set(index, sink);
  }

  detach(index: number): void {
    this.sinks.delete(index);
  }

  async push(to: number, msg: PushMessage, deadlineMs: number): Promise<void> {
    // Deliver asynchronously, as a network would, so a sender never re-enters its peer mid-step.
    await new Promise<void>((r) => setImmediate(r));
    if (Date.now() >= deadlineMs) throw new DeadlineExceededError(`push to partition ${to} passed its deadline`);
    const sink = this.sinks.get(to);
    if (!sink) throw new UnavailableError(`partition ${to} is not attached`);
    sink.acceptPush(msg);
  }
}

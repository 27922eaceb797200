import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { status as Status, type ClientDuplexStream } from '@grpc/grpc-js';
import { MuxStream } from '../../src/runtime/mux-stream.ts';

/** A duplex call that records writes, answers when told, and pushes back after `room` writes until drained. */
class FakeCall extends EventEmitter {
  written: { id: string; cancel?: boolean }[] = [];
  cancelled = false;
  constructor(private room = Infinity) {
    super();
  }
  write(frame: { id: string; cancel?: boolean }): boolean {
    this.written.push(frame);
    return --this.room > 0;
  }
  cancel(): void {
    this.cancelled = true;
  }
  answer(id: string): void {
    this.emit('data', { id });
  }
  drain(room: number): void {
    this.room = room;
    this.emit('drain');
  }
}

type Frame = { id: string; cancel?: boolean };

function mux(calls: FakeCall[], maxQueued?: number, room = Infinity): MuxStream<Frame, { id: string }> {
  return new MuxStream<Frame, { id: string }>({
    open: () => {
      const c = new FakeCall(room);
      calls.push(c);
      return c as unknown as ClientDuplexStream<Frame, { id: string }>;
    },
    keyOf: (r) => r.id, peer: 'fake', maxQueued,
  });
}

const code = (e: unknown) => (e as { code?: number }).code;

describe('MuxStream (requests multiplexed on one stream)', () => {
  it('should open one stream for many requests and match answers by key in any order', async () => {
    const calls: FakeCall[] = [];
    const m = mux(calls);
    const a = m.request('a', { id: 'a' }, Date.now() + 1000);
    const b = m.request('b', { id: 'b' }, Date.now() + 1000);
    assert.equal(calls.length, 1);
    calls[0].answer('b');
    calls[0].answer('a');
    assert.deepEqual(await Promise.all([a, b]), [{ id: 'a' }, { id: 'b' }]);
    assert.equal(m.size, 0);
  });

  it('should end a request at its deadline with DEADLINE_EXCEEDED and send its cancel frame', async () => {
    const calls: FakeCall[] = [];
    const m = mux(calls);
    await assert.rejects(m.request('x', { id: 'x' }, Date.now() + 20, undefined, () => ({ id: 'x', cancel: true })),
      (e) => code(e) === Status.DEADLINE_EXCEEDED);
    assert.deepEqual(calls[0].written.at(-1), { id: 'x', cancel: true });
    calls[0].answer('x'); // a late answer is dropped
    assert.equal(m.size, 0);
  });

  it('should reject on abort with CANCELLED and send the cancel frame', async () => {
    const calls: FakeCall[] = [];
    const m = mux(calls);
    const ac = new AbortController();
    const p = m.request('y', { id: 'y' }, Date.now() + 1000, ac.signal, () => ({ id: 'y', cancel: true }));
    ac.abort();
    await assert.rejects(p, (e) => code(e) === Status.CANCELLED);
    assert.deepEqual(calls[0].written.at(-1), { id: 'y', cancel: true });
  });

  it('should hold frames while the stream pushes back, refuse beyond maxQueued with RESOURCE_EXHAUSTED, and flush on drain', async () => {
    const calls: FakeCall[] = [];
    const m = mux(calls, 2, 1);
    const p1 = m.request('1', { id: '1' }, Date.now() + 1000); // written; the stream is now full
    const p2 = m.request('2', { id: '2' }, Date.now() + 1000); // queued
    const p3 = m.request('3', { id: '3' }, Date.now() + 1000); // queued
    await assert.rejects(m.request('4', { id: '4' }, Date.now() + 1000), (e) => code(e) === Status.RESOURCE_EXHAUSTED);
    assert.deepEqual(calls[0].written.map((f) => f.id), ['1']);
    calls[0].drain(10);
    assert.deepEqual(calls[0].written.map((f) => f.id), ['1', '2', '3']);
    ['1', '2', '3'].forEach((id) => calls[0].answer(id));
    await Promise.all([p1, p2, p3]);
  });

  it('should fail exactly the requests of a broken stream with its status text, and open a new stream for the next', async () => {
    const calls: FakeCall[] = [];
    const m = mux(calls);
    const a = m.request('a', { id: 'a' }, Date.now() + 1000);
    calls[0].emit('error', { code: Status.UNAVAILABLE, details: 'No connection established. Last error: connect ECONNREFUSED' });
    await assert.rejects(a, (e) => code(e) === Status.UNAVAILABLE && /No connection established/.test((e as Error).message));
    const b = m.request('b', { id: 'b' }, Date.now() + 1000);
    assert.equal(calls.length, 2);
    calls[1].answer('b');
    assert.deepEqual(await b, { id: 'b' });
  });

  it('should fail waiting requests UNAVAILABLE when the server ends the stream, and on close()', async () => {
    const calls: FakeCall[] = [];
    const m = mux(calls);
    const a = m.request('a', { id: 'a' }, Date.now() + 1000);
    calls[0].emit('end');
    await assert.rejects(a, (e) => code(e) === Status.UNAVAILABLE);
    const b = m.request('b', { id: 'b' }, Date.now() + 1000);
    m.close();
    await assert.rejects(b, (e) => code(e) === Status.UNAVAILABLE);
    assert.equal(calls[1].cancelled, true);
    await assert.rejects(m.request('c', { id: 'c' }, Date.now() + 1000), (e) => code(e) === Status.UNAVAILABLE);
  });
});

import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { DynamicBatcher, dispatchNow, takeCount, type Batch, type BatchingSettings } from '../../src/roles/router/batcher.ts';
import { RouterPipeline, type InferenceEngine } from '../../src/roles/router/pipeline.ts';
import { EdgesplitError, UnavailableError } from '../../src/runtime/errors.ts';
import type { PartitionClient, PartitionRunRequest, PartitionRunResult } from '../../src/roles/router/partition-client.ts';

const settings = (o: Partial<BatchingSettings> = {}): BatchingSettings =>
  ({ maxBatchSize: 8, preferredBatchSizes: [], maxQueueDelayUs: 0, instances: 1, ...o });

/** A run function whose batches the test answers by hand. */
function manual<R>() {
  const batches: { batch: Batch<string>; resolve(r: R[]): void; reject(e: unknown): void }[] = [];
  const run = (batch: Batch<string>) => new Promise<R[]>((resolve, reject) => batches.push({ batch, resolve, reject }));
  return { batches, run };
}

const tick = () => new Promise((r) => setImmediate(r));
const code = (c: number) => (e: unknown) => (e as EdgesplitError).code === c;

describe('dynamic batcher (batcher.ts)', () => {
  describe('takeCount and dispatchNow', () => {
    it('should take the longest prefix of the queue that fits, and always the first request', () => {
      assert.equal(takeCount([1, 1, 1], 8), 3);
      assert.equal(takeCount([4, 4, 1], 8), 2);
      assert.equal(takeCount([3, 6, 1], 8), 1);
      assert.equal(takeCount([12, 1], 8), 1, 'a request larger than a batch still goes, alone');
      assert.equal(takeCount([], 8), 0);
    });

    it('should dispatch at once without a queue delay, and otherwise only when full, preferred or waited out', () => {
      assert.equal(dispatchNow(settings(), [1], 0), true);
      const s = settings({ maxQueueDelayUs: 1000, preferredBatchSizes: [4] });
      assert.equal(dispatchNow(s, [1, 1], 10), false);
      assert.equal(dispatchNow(s, [1, 1], 1000), true, 'the oldest waited the whole delay');
      assert.equal(dispatchNow(s, [2, 2], 10), true, 'a preferred size is reached');
      assert.equal(dispatchNow(s, [6, 3], 10), true, 'the next request would not fit: the batch is full');
      assert.equal(dispatchNow(settings({ maxQueueDelayUs: 1000 }), [8], 10), true, 'exactly maxBatchSize');
    });
  });

  it('should dispatch a lone request at once when a slot is free', async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings(), m.run);
    const p = b.submit('a', 1, Date.now() + 5000);
    assert.equal(m.batches.length, 1, 'dispatched synchronously, no timer');
    assert.deepEqual(m.batches[0].batch.items, ['a']);
    m.batches[0].resolve(['A']);
    assert.equal(await p, 'A');
  });

  it('should group the requests that queued while every slot was busy, up to maxBatchSize images', async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings({ maxBatchSize: 4, instances: 1 }), m.run);
    const first = b.submit('a', 1, Date.now() + 5000);
    const rest = ['b', 'c', 'd', 'e', 'f'].map((x, i) => b.submit(x, i === 1 ? 2 : 1, Date.now() + 5000));
    assert.equal(m.batches.length, 1);
    assert.deepEqual(b.stats(), { queued: 5, running: 1, batches: 1, requests: 1 });
    m.batches[0].resolve(['A']);
    await first;
    await tick();
    assert.equal(m.batches.length, 2);
    assert.deepEqual(m.batches[1].batch.items, ['b', 'c', 'd'], '1 + 2 + 1 images = 4; e waits for the next batch');
    assert.deepEqual(m.batches[1].batch.sizes, [1, 2, 1]);
    assert.equal(m.batches[1].batch.total, 4);
    m.batches[1].resolve(['B', 'C', 'D']);
    await tick();
    assert.deepEqual(m.batches[2].batch.items, ['e', 'f']);
    m.batches[2].resolve(['E', 'F']);
    assert.deepEqual(await Promise.all(rest), ['B', 'C', 'D', 'E', 'F']);
    assert.deepEqual(b.stats(), { queued: 0, running: 0, batches: 3, requests: 6 });
  });

  it('should run as many batches at once as it has instances', () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings({ instances: 2 }), m.run);
    for (const x of ['a', 'b', 'c']) void b.submit(x, 1, Date.now() + 5000).catch(() => {});
    assert.deepEqual(m.batches.map((x) => x.batch.items), [['a'], ['b']]);
    assert.equal(b.stats().queued, 1);
    b.close(new UnavailableError('closed'));
  });

  it('should wait up to the queue delay for a fuller batch, and no longer', async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings({ maxQueueDelayUs: 30_000 }), m.run);
    const t0 = performance.now();
    const p = [b.submit('a', 1, Date.now() + 5000), b.submit('b', 1, Date.now() + 5000)];
    assert.equal(m.batches.length, 0, 'waits for more');
    while (m.batches.length === 0) await new Promise((r) => setTimeout(r, 2));
    const waited = performance.now() - t0;
    assert.ok(waited >= 29 && waited < 200, `dispatched after ${waited.toFixed(1)} ms`);
    assert.deepEqual(m.batches[0].batch.items, ['a', 'b']);
    m.batches[0].resolve(['A', 'B']);
    assert.deepEqual(await Promise.all(p), ['A', 'B']);
  });

  it('should dispatch at once when the queue reaches a preferred batch size', () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings({ maxQueueDelayUs: 1_000_000, preferredBatchSizes: [3] }), m.run);
    for (const x of ['a', 'b']) void b.submit(x, 1, Date.now() + 5000);
    assert.equal(m.batches.length, 0);
    void b.submit('c', 1, Date.now() + 5000);
    assert.deepEqual(m.batches.map((x) => x.batch.items), [['a', 'b', 'c']]);
    m.batches[0].resolve(['A', 'B', 'C']);
  });

  it('should answer a request whose deadline passes in the queue with DEADLINE_EXCEEDED and leave the others queued', async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings(), m.run);
    const a = b.submit('a', 1, Date.now() + 5000);
    const late = b.submit('late', 1, Date.now() + 20);
    const c = b.submit('c', 1, Date.now() + 5000);
    await assert.rejects(late, code(status.DEADLINE_EXCEEDED));
    assert.equal(b.stats().queued, 1);
    m.batches[0].resolve(['A']);
    await tick();
    assert.deepEqual(m.batches[1].batch.items, ['c'], 'the expired request is not sent');
    m.batches[1].resolve(['C']);
    assert.deepEqual([await a, await c], ['A', 'C']);
  });

  it('should give a batch the latest deadline of its members and answer each member by its own', async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings(), m.run);
    const blocker = b.submit('x', 1, Date.now() + 5000);
    const far = Date.now() + 5000;
    const short = b.submit('short', 1, Date.now() + 40);
    const long = b.submit('long', 1, far);
    m.batches[0].resolve(['X']);
    await blocker;
    await tick();
    assert.equal(m.batches[1].batch.deadlineMs, far);
    await assert.rejects(short, code(status.DEADLINE_EXCEEDED));
    assert.equal(m.batches[1].batch.signal.aborted, false, 'long still waits for the batch');
    m.batches[1].resolve(['SHORT', 'LONG']);
    assert.equal(await long, 'LONG');
  });

  it('should answer a cancelled member at once and abort its batch only when every member has left', async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings(), m.run);
    const blocker = b.submit('x', 1, Date.now() + 5000);
    const ac1 = new AbortController();
    const ac2 = new AbortController();
    const one = b.submit('one', 1, Date.now() + 5000, ac1.signal);
    const two = b.submit('two', 1, Date.now() + 5000, ac2.signal);
    m.batches[0].resolve(['X']);
    await blocker;
    await tick();
    const batch = m.batches[1].batch;
    ac1.abort();
    await assert.rejects(one, code(status.CANCELLED));
    assert.equal(batch.signal.aborted, false);
    ac2.abort();
    await assert.rejects(two, code(status.CANCELLED));
    assert.equal(batch.signal.aborted, true, 'nobody waits for the batch: its partition calls are stopped');
    m.batches[1].reject(new EdgesplitError('cancelled', status.CANCELLED));
    await tick();
    assert.deepEqual(b.stats(), { queued: 0, running: 0, batches: 2, requests: 3 });
  });

  it('should refuse a request cancelled or expired before it is queued', async () => {
    const b = new DynamicBatcher(settings(), manual<string>().run);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(b.submit('a', 1, Date.now() + 5000, ac.signal), code(status.CANCELLED));
    await assert.rejects(b.submit('a', 1, Date.now() - 1), code(status.DEADLINE_EXCEEDED));
    assert.equal(b.stats().batches, 0);
  });

  it("should fail only the failing batch's members", async () => {
    const m = manual<string>();
    const b = new DynamicBatcher(settings({ maxBatchSize: 2 }), m.run);
    const first = b.submit('a', 1, Date.now() + 5000);
    const second = [b.submit('b', 1, Date.now() + 5000), b.submit('c', 1, Date.now() + 5000)];
    const third = b.submit('d', 1, Date.now() + 5000);
    m.batches[0].resolve(['A']);
    await tick();
    m.batches[1].reject(new UnavailableError('partition 2 failed'));
    for (const p of second) await assert.rejects(p, code(status.UNAVAILABLE));
    await tick();
    m.batches[2].resolve(['D']);
    assert.deepEqual([await first, await third], ['A', 'D']);
  });
});

/** Features [n, width] whose values say which image (by its first pixel) they belong to. */
class EchoPartition implements PartitionClient {
  readonly address: string;
  runs: number[] = [];
  fail: Error | undefined;
  constructor(readonly index: number, private readonly width: number) {
    this.address = `echo:${index}`;
  }
  async run(req: PartitionRunRequest): Promise<PartitionRunResult> {
    this.runs.push(req.n);
    await new Promise((r) => setTimeout(r, 5));
    if (this.fail) throw this.fail;
    const px = req.images.length / req.n;
    const f = new Float32Array(req.n * this.width);
    for (let i = 0; i < req.n; i++) f.fill(req.images[i * px] + this.index / 10, i * this.width, (i + 1) * this.width);
    return { features: f, sentBytes: 100 * req.n, missedPoints: [], computeMs: 1 };
  }
  async healthy() { return true; }
  close() {}
}

/** Logits = the features as they are (classes = P * width), probabilities = the same. */
const identityHead: InferenceEngine = {
  run: async (features) => ({ logits: features.slice(), probabilities: features.slice() }),
  shutdown: async () => {},
};

describe('router pipeline with dynamic batching (fake partitions)', () => {
  const P = 2;
  const width = 2;
  const image = (v: number, n = 1) => Buffer.alloc(4 * n, v);
  const pipeline = (clients: EchoPartition[], strict = false) => new RouterPipeline({ clients, head: identityHead, packageName: 'p',
    imageShape: [2, 2], width, strict, batching: { maxBatchSize: 16, preferredBatchSizes: [], maxQueueDelayUs: 0, instances: 1 } });

  it("should answer every member of a batch with exactly its own rows and its share of the bytes", async () => {
    const clients = [0, 1].map((i) => new EchoPartition(i, width));
    const p = pipeline(clients);
    const answers = await Promise.all([1, 2, 3, 4].map((v) => p.infer(image(v, v === 3 ? 2 : 1), v === 3 ? 2 : 1, Date.now() + 5000)));
    assert.deepEqual(clients[0].runs, [1, 4], 'the first travels alone; the 3 that queued behind it (4 images) as one batch');
    answers.forEach((a, i) => {
      const v = i + 1;
      const rows = v === 3 ? 2 : 1;
      assert.deepEqual(Array.from(a.logits), Array.from({ length: rows }, () => [v, v, v + 0.1, v + 0.1].map(Math.fround)).flat());
      assert.equal(a.exchangedBytes, 2 * 100 * rows);
      assert.equal(a.degraded, false);
    });
    assert.deepEqual(p.stats(), { inFlight: 0, batching: { queued: 0, running: 0, batches: 2, requests: 4 } });
  });

  it('should mark every member of a degraded batch and answer it from the partitions left', async () => {
    const clients = [0, 1].map((i) => new EchoPartition(i, width));
    const p = pipeline(clients);
    clients[1].fail = new UnavailableError('partition 1 down');
    const answers = await Promise.all([1, 2, 3].map((v) => p.infer(image(v), 1, Date.now() + 5000)));
    answers.forEach((a, i) => {
      assert.equal(a.degraded, true);
      assert.deepEqual(a.missingPartitions, [1]);
      assert.deepEqual(Array.from(a.logits), [2 * (i + 1), 2 * (i + 1), 0, 0], 'present partition scaled by P / present');
    });
  });

  it('should fail every member of a batch whose partition fails in strict mode, and not the next batch', async () => {
    const clients = [0, 1].map((i) => new EchoPartition(i, width));
    const p = pipeline(clients, true);
    clients[1].fail = new EdgesplitError('partition 1: boom', status.INTERNAL);
    const failed = [1, 2, 3].map((v) => p.infer(image(v), 1, Date.now() + 5000));
    for (const f of failed) await assert.rejects(f, code(status.INTERNAL));
    clients[1].fail = undefined;
    const ok = await p.infer(image(7), 1, Date.now() + 5000);
    assert.deepEqual(Array.from(ok.logits), [7, 7, 7.1, 7.1].map(Math.fround));
  });
});

import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { EdgesplitError } from '../../src/runtime/errors.ts';
import { CircuitBreaker } from '../../src/roles/router/circuit-breaker.ts';
import { assembleFeatures, partitionDeadline } from '../../src/roles/router/degrade.ts';
import { neverSent, runWithSafeRetry } from '../../src/roles/router/retry.ts';
import { mergeGiveUpAt } from '../../src/roles/partition/runner.ts';
import { FakePartitionClient } from '../fakes/fake-partition-client.ts';

const req = { requestId: 'r', images: Buffer.alloc(784), n: 1, imageShape: [28, 28], package: 'p', missing: [] };
const refused = () => new EdgesplitError('partition 1 at x: No connection established. Last error: connect ECONNREFUSED', status.UNAVAILABLE);
const dropped = () => new EdgesplitError('partition 1 at x: Connection dropped', status.UNAVAILABLE);

describe('router reliability pieces (pure)', () => {
  describe('CircuitBreaker', () => {
    it('should open after N consecutive failures and not before', () => {
      const b = new CircuitBreaker({ failureThreshold: 3 });
      b.onFailure();
      b.onFailure();
      assert.equal(b.state, 'closed');
      b.onSuccess();
      b.onFailure();
      b.onFailure();
      assert.equal(b.state, 'closed');
      b.onFailure();
      assert.equal(b.state, 'open');
      assert.equal(b.tryAcquire(), false);
    });

    it('should admit one trial after a SERVING probe, close on its success and reopen on its failure', () => {
      const b = new CircuitBreaker({ failureThreshold: 1 });
      b.onFailure();
      b.onProbe(false);
      assert.equal(b.state, 'open');
      b.onProbe(true);
      assert.equal(b.state, 'half-open');
      assert.equal(b.tryAcquire(), true);
      assert.equal(b.tryAcquire(), false, 'only one trial at a time');
      b.onFailure();
      assert.equal(b.state, 'open');
      b.onProbe(true);
      assert.equal(b.tryAcquire(), true);
      b.onSuccess();
      assert.equal(b.state, 'closed');
      assert.equal(b.openings, 2);
    });

    it('should count failed probes towards opening a closed circuit', () => {
      const b = new CircuitBreaker({ failureThreshold: 2 });
      b.onProbe(false);
      b.onProbe(true);
      b.onProbe(false);
      assert.equal(b.state, 'open');
    });
  });

  describe('safe retry', () => {
    it('should call only never-sent failures safe to retry', () => {
      assert.equal(neverSent(refused()), true);
      assert.equal(neverSent(dropped()), false);
      assert.equal(neverSent(new EdgesplitError('No connection established', status.DEADLINE_EXCEEDED)), false);
      assert.equal(neverSent(new Error('No connection established')), false);
    });

    it('should call a Run left pending when a draining partition ended its stream safe to retry, once', async () => {
      const ended = () => new EdgesplitError('partition 0 at edgesplit-p0.edge.svc:50051: stream ended by the server', status.UNAVAILABLE);
      assert.equal(neverSent(ended()), true);
      assert.equal(neverSent(new EdgesplitError('partition 0: stream ended by the server', status.CANCELLED)), false);
      const c = new FakePartitionClient(1, [ended(), new Float32Array([1])]);
      const r = await runWithSafeRetry(c, req, Date.now() + 5000, undefined, 10);
      assert.deepEqual([...r.features], [1]);
      assert.equal(c.calls.length, 2);
    });

    it('should retry a refused call once and succeed', async () => {
      const c = new FakePartitionClient(1, [refused(), new Float32Array([1])]);
      const r = await runWithSafeRetry(c, req, Date.now() + 5000, undefined, 10);
      assert.deepEqual([...r.features], [1]);
      assert.equal(c.calls.length, 2);
    });

    it('should retry at most once', async () => {
      const c = new FakePartitionClient(1, [refused(), refused(), new Float32Array([1])]);
      await assert.rejects(runWithSafeRetry(c, req, Date.now() + 5000, undefined, 10), /ECONNREFUSED/);
      assert.equal(c.calls.length, 2);
    });

    it('should never retry once the partition may have seen the request', async () => {
      const c = new FakePartitionClient(1, [dropped(), new Float32Array([1])]);
      await assert.rejects(runWithSafeRetry(c, req, Date.now() + 5000, undefined, 10), /Connection dropped/);
      assert.equal(c.calls.length, 1);
    });

    it('should not retry when too little of the deadline is left', async () => {
      const c = new FakePartitionClient(1, [refused(), new Float32Array([1])]);
      await assert.rejects(runWithSafeRetry(c, req, Date.now() + 20, undefined, 10));
      assert.equal(c.calls.length, 1);
    });
  });

  describe('degradation math and deadlines', () => {
    it('should zero-fill missing partitions and rescale the present ones by P / present', () => {
      const { features, missing } = assembleFeatures([new Float32Array([1, 2]), null, new Float32Array([3, 4]), new Float32Array([5, 6])], 1, 2);
      assert.deepEqual(missing, [1]);
      const s = 4 / 3;
      assert.deepEqual([...features], [Math.fround(1 * s), Math.fround(2 * s), 0, 0, Math.fround(3 * s), Math.fround(4 * s),
        Math.fround(5 * s), Math.fround(6 * s)]);
    });

    it('should leave a whole answer unscaled, in partition order per image', () => {
      const { features } = assembleFeatures([new Float32Array([1, 2]), new Float32Array([3, 4])], 2, 1);
      assert.deepEqual([...features], [1, 3, 2, 4]);
    });

    it('should end partition calls before the client deadline and peer waits before that', () => {
      const now = 1_000_000;
      const d = partitionDeadline(now, now + 5000);
      assert.equal(d, now + 4500);
      const g = mergeGiveUpAt(now, d);
      assert.equal(g, now + 4500 - 1125);
      assert.ok(partitionDeadline(now, now + 100) >= now + 75);
      assert.equal(mergeGiveUpAt(now, now + 100), now + 50);
      assert.equal(mergeGiveUpAt(now, Infinity), Infinity);
    });
  });
});

import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadSample } from '../../src/runtime/sample.ts';
import type { RunResponse__Output } from '../../src/runtime/generated/edgesplit/v1/RunResponse.ts';
import { degradedOf, describePartition, imagesRequest, infer, partitionStub, startTestStack, until,
  type TestStack } from './reliability-helpers.ts';

// "Overload is refused, not queued" (README, Failure and security): the router's --max-in-flight answers a burst
// with RESOURCE_EXHAUSTED at once, and a partition's RESOURCE_EXHAUSTED reaches the client as RESOURCE_EXHAUSTED, with
// the other partitions' work cancelled and the partition's circuit untouched.
const sample = loadSample();
const batch = (n: number) => imagesRequest(sample.images.subarray(0, n * 784), n);

describe('overload (real partition processes, router in this process)', function () {
  this.timeout(120_000);

  describe('router --max-in-flight', () => {
    const LIMIT = 2;
    const BURST = 12;
    let t: TestStack;
    before(async () => {
      t = await startTestStack({ routerArgs: ['--max-in-flight', String(LIMIT)] });
    });
    after(async () => t?.stop());

    it(`should refuse a burst of ${BURST} beyond --max-in-flight ${LIMIT} with RESOURCE_EXHAUSTED at once, not queue it`, async () => {
      // Warm every partition's sessions, so the admitted requests take their steady-state time.
      assert.equal((await infer(t.stub, batch(64), 20_000)).code, grpc.status.OK);
      // 64-image requests keep the admitted ones busy for tens of ms while the burst arrives in the same few reads.
      const outcomes = await Promise.all(Array.from({ length: BURST }, () => infer(t.stub, batch(64), 20_000)));
      const codes = outcomes.map((o) => grpc.status[o.code]);
      const ok = outcomes.filter((o) => o.code === grpc.status.OK);
      const refused = outcomes.filter((o) => o.code === grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(ok.length + refused.length, BURST, `only OK or RESOURCE_EXHAUSTED: ${codes.join(', ')}`);
      assert.ok(ok.length >= LIMIT, `the first ${LIMIT} are served: ${codes.join(', ')}`);
      assert.ok(refused.length >= BURST - 2 * LIMIT, `the rest are refused, not queued: ${codes.join(', ')}`);
      const lastServed = Math.max(...ok.map((o) => o.ms));
      for (const r of refused) {
        assert.match(r.details, /in flight/);
        assert.ok(r.ms < lastServed, `a refusal took ${r.ms} ms, longer than the served requests (${lastServed} ms)`);
      }
    });

    it('should serve normally right after the burst (admission slots are returned)', async () => {
      for (let i = 0; i < 2 * LIMIT + 1; i++) {
        const r = await infer(t.stub, batch(2), 10_000);
        assert.equal(r.code, grpc.status.OK, r.details);
        assert.deepEqual(degradedOf(r.res!), { degraded: false, missing: '' });
      }
    });
  });

  describe('a partition answering RESOURCE_EXHAUSTED', () => {
    // Partitions admit one Run at a time. The router opens a circuit after a single failure and probes health only
    // at start (60 s interval): a RESOURCE_EXHAUSTED counted as a failure would leave partition 1 out of the next answer.
    let t: TestStack;
    before(async () => {
      t = await startTestStack({ partitionArgs: ['--max-in-flight', '1'],
        routerArgs: ['--breaker-failures', '1', '--health-interval-ms', '60000'] });
    });
    after(async () => t?.stop());

    it('should answer RESOURCE_EXHAUSTED at once, cancel the other partitions\' work and leave the circuit closed', async () => {
      assert.equal((await infer(t.stub, batch(1), 10_000)).code, grpc.status.OK, 'warm-up');
      // Occupy partition 1 through its public API: a Run whose peers never push waits until 25% of its budget is left.
      const p1 = partitionStub(t.stack.partitions[1].address);
      const hog = new Promise<{ err: grpc.ServiceError | null; res?: RunResponse__Output }>((resolve) =>
        p1.Run({ requestId: 'hog', package: t.pkg.manifest.name,
          images: { shape: [1, 28, 28], precision: 'UINT8', rawUint8: true, data: Buffer.from(sample.images.subarray(0, 784)) } },
        { deadline: Date.now() + 6000 }, (err, res) => resolve({ err, res })));
      try {
        assert.ok(await until(async () => Number((await describePartition(t.stack.partitions[1].address)).requestsInFlight) === 1, 5000),
          'partition 1 never admitted the hog');
        // A long client deadline: without cancellation partition 2 (which waits for partition 1's push) would hold
        // the request for seconds.
        const r = await infer(t.stub, batch(1), 10_000);
        assert.equal(r.code, grpc.status.RESOURCE_EXHAUSTED, `${grpc.status[r.code]}: ${r.details}`);
        assert.ok(r.ms < 1500, `RESOURCE_EXHAUSTED took ${r.ms} ms`);
        const refusedAt = Date.now();
        for (const i of [0, 2, 3]) {
          assert.ok(await until(async () => Number((await describePartition(t.stack.partitions[i].address)).requestsInFlight) === 0, 1000, 20),
            `partition ${i} still works on the refused request ${Date.now() - refusedAt} ms after the refusal`);
        }
        const h = await hog;
        assert.equal(h.err, null, h.err?.details);
      } finally {
        p1.close();
      }
      // The circuit stayed closed: the next answer is whole, with no health probe in between.
      const next = await infer(t.stub, batch(1), 10_000);
      assert.equal(next.code, grpc.status.OK, next.details);
      assert.deepEqual(degradedOf(next.res!), { degraded: false, missing: '' });
    });
  });
});

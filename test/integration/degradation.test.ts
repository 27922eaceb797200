import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadSample } from '../../src/runtime/sample.ts';
import { degradationTable, DEGRADATION_MARGIN, degradedOf, describePartition, imagesRequest, infer, PACKAGE, sampleAccuracy, sleep,
  startTestStack, until, type InferOutcome, type TestStack } from './reliability-helpers.ts';

// Graceful degradation (issue 8): a partition dies or hangs mid-stream; every request still gets an answer within
// its deadline, marked degraded and naming the missing partition; --strict answers UNAVAILABLE instead.
describe('graceful degradation (real partition processes, router in this process)', function () {
  this.timeout(90_000);
  const sample = loadSample();
  const batch = (s: number, n: number) => imagesRequest(sample.images.subarray(s * 784, (s + n) * 784), n);
  let t: TestStack;

  before(async () => {
    t = await startTestStack({ routerArgs: ['--timeout-ms', '2000'] });
  });
  after(async () => {
    await t?.stop();
  });

  it('should answer whole, not degraded, while every partition is up', async () => {
    const r = await infer(t.stub, batch(0, 4), 10_000);
    assert.equal(r.code, grpc.status.OK, r.details);
    assert.deepEqual(degradedOf(r.res!), { degraded: false, missing: '' });
  });

  it('should answer every request degraded, none hanging, when a partition is SIGKILLed mid-stream', async () => {
    const deadline = 3000;
    const results: { started: number; o: InferOutcome }[] = [];
    let killedAt = Infinity;
    let stop = false;
    const loops = [0, 1, 2].map(async (w) => {
      for (let k = 0; !stop; k++) {
        const started = Date.now();
        results.push({ started, o: await infer(t.stub, batch((w * 100 + k * 4) % 996, 4), deadline) });
      }
    });
    await sleep(800);
    process.kill(t.stack.partitions[2].pid, 'SIGKILL');
    killedAt = Date.now();
    // Long enough for the in-flight ones to finish, the circuit to open and fast degraded answers to follow.
    await sleep(5000);
    stop = true;
    await Promise.all(loops);
    const bad = results.filter((r) => r.o.code !== grpc.status.OK);
    assert.deepEqual(bad.map((r) => `${grpc.status[r.o.code]}: ${r.o.details}`), []);
    for (const r of results) assert.ok(r.o.ms < deadline + 500, `a request took ${r.o.ms} ms (deadline ${deadline})`);
    const after = results.filter((r) => r.started > killedAt + 2500);
    assert.ok(after.length >= 3, `only ${after.length} requests after the circuit opened`);
    for (const r of after) {
      assert.deepEqual(degradedOf(r.o.res!), { degraded: true, missing: '2' });
      assert.ok(r.o.ms < 1000, `with the circuit open a request took ${r.o.ms} ms`);
    }
    assert.ok(results.some((r) => r.started < killedAt && !degradedOf(r.o.res!).degraded), 'answers before the kill were whole');
    assert.deepEqual(t.router.pipeline.breakers.notClosed(), [2]);
  });

  it('should keep the degraded answers as accurate as the README\'s table says (partition 2 down)', async () => {
    // The whole 1,000-image sample, as in bench/results/degradation.json (the README's degradation table).
    const expected = degradationTable(PACKAGE).missing[2];
    const accuracy = await sampleAccuracy(t.address, '2');
    assert.ok(Math.abs(accuracy - expected) <= DEGRADATION_MARGIN,
      `accuracy ${(accuracy * 100).toFixed(1)}% with partition 2 down; the table says ${(expected * 100).toFixed(1)}%`);
  });

  it('should not hang on a partition that stops answering (SIGSTOP), even when the client sets no deadline', async () => {
    const pid = t.stack.partitions[1].pid;
    process.kill(pid, 'SIGSTOP');
    try {
      // No client deadline: the router's default (--timeout-ms 2000) bounds the fan-out and every peer wait.
      const r = await infer(t.stub, batch(0, 2));
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.ok(r.ms < 2500, `took ${r.ms} ms`);
      const d = degradedOf(r.res!);
      assert.equal(d.degraded, true);
      assert.match(d.missing, /^1,2$/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('should answer UNAVAILABLE at once with --strict while a partition is down', async () => {
    const strict = await startTestStackStrictView(t);
    try {
      const r = await infer(strict.stub, batch(0, 1), 3000);
      assert.equal(r.code, grpc.status.UNAVAILABLE, r.details);
      assert.match(r.details, /partition 2/);
      assert.ok(r.ms < 1500, `strict refusal took ${r.ms} ms`);
    } finally {
      await strict.stop();
    }
  });

  it('should leave no request state behind in the router or the surviving partitions', async () => {
    assert.ok(await until(() => t.router.pipeline.stats().inFlight === 0, 5000));
    for (const p of t.stack.partitions.filter((p) => p.index !== 2)) {
      assert.ok(await until(async () => Number((await describePartition(p.address)).requestsInFlight) === 0, 5000),
        `partition ${p.index} still has requests in flight`);
    }
  });
});

/** A second, strict router over the same (now partly dead) partitions. */
async function startTestStackStrictView(t: TestStack): Promise<{ stub: TestStack['stub']; stop(): Promise<void> }> {
  const { HeadEngine } = await import('../../src/runtime/head.ts');
  const { loadConfig } = await import('../../src/roles/router/config.ts');
  const { createServer, routerDepsFromConfig } = await import('../../src/roles/router/server.ts');
  const { oipStub } = await import('./reliability-helpers.ts');
  const config = loadConfig(['--package', t.pkg.dir, '--partitions', t.stack.partitions.map((p) => p.address).join(','),
    '--port', '0', '--health-interval-ms', '200', '--strict'], {});
  assert.equal(config.strict, true);
  const router = createServer(await routerDepsFromConfig(config, HeadEngine));
  const address = `127.0.0.1:${await router.listen('127.0.0.1', 0)}`;
  // Let the health monitor open partition 2's circuit.
  await until(() => router.pipeline.breakers.notClosed().includes(2), 5000);
  const stub = oipStub(address);
  return { stub, stop: async () => { stub.close(); await router.shutdown(1000); } };
}

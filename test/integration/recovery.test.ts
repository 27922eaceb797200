import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { loadSample } from '../../src/runtime/sample.ts';
import { degradedOf, imagesRequest, infer, startPartition, startTestStack, stopProcess, until, type InferOutcome,
  type TestStack } from './reliability-helpers.ts';

// Recovery (issue 8): a dead partition costs no request a full deadline (circuit open), and a restarted one rejoins
// on its own: the router and the other partitions keep running and reconnect.
/**
 * "At most a few degraded answers" after a graceful restart, as a time: the router's health probe (200 ms here) plus
 * the peers' reconnect backoff cap (1 s, RECONNECT_OPTIONS) plus scheduling slack on a busy 2-core machine.
 */
const REJOIN_MS = 2500;

describe('recovery (real partition processes, router in this process)', function () {
  this.timeout(90_000);
  const sample = loadSample();
  const req = imagesRequest(sample.images.subarray(0, 4 * 784), 4);
  let t: TestStack;
  let restarted: ChildProcess | undefined;

  before(async () => {
    t = await startTestStack({ routerArgs: ['--breaker-failures', '2'] });
  });
  after(async () => {
    await stopProcess(restarted);
    await t?.stop();
  });

  it('should open the circuit of a killed partition so requests stop paying a deadline for it', async () => {
    assert.equal((await infer(t.stub, req, 10_000)).code, grpc.status.OK);
    process.kill(t.stack.partitions[1].pid, 'SIGKILL');
    assert.ok(await until(() => t.router.pipeline.breakers.notClosed().includes(1), 5000), 'circuit never opened');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await infer(t.stub, req, 4000);
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.deepEqual(degradedOf(r.res!), { degraded: true, missing: '1' });
      times.push(r.ms);
    }
    assert.ok(Math.max(...times) < 1000, `degraded requests took ${times.join(', ')} ms with a 4000 ms deadline`);
  });

  it('should take a restarted partition back without restarting the router or the other partitions', async () => {
    const before = t.stack.partitions.filter((p) => p.index !== 1).map((p) => p.pid);
    const router = t.router;
    restarted = await startPartition(t.pkg, 1, t.stack.partitions.map((p) => p.address));
    // Half-open on the next SERVING probe, closed on the first successful call; peers reconnect within their backoff.
    const whole = await until(async () => {
      const r = await infer(t.stub, req, 4000);
      return r.code === grpc.status.OK && !degradedOf(r.res!).degraded;
    }, 15_000, 100);
    assert.ok(whole, 'answers never became whole again');
    for (let i = 0; i < 5; i++) {
      const r = await infer(t.stub, req, 4000);
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.deepEqual(degradedOf(r.res!), { degraded: false, missing: '' });
    }
    assert.equal(t.router, router);
    assert.deepEqual(t.router.pipeline.breakers.notClosed(), []);
    for (const pid of before) assert.doesNotThrow(() => process.kill(pid, 0), `pid ${pid} is gone`);
  });

  it('should answer quickly and whole again after a graceful partition restart (SIGTERM), with at most a few degraded answers', async () => {
    await stopProcess(restarted);
    restarted = await startPartition(t.pkg, 1, t.stack.partitions.map((p) => p.address));
    const serving = Date.now();
    // "A few", in time: answers are degraded only until the router's next health probe (every 200 ms here) half-opens
    // the circuit and the peers' channels reconnect (backoff capped at 1 s); after the first whole answer every one is
    // whole. Requests run back to back, bounded in count and time.
    const outcomes: { at: number; o: InferOutcome }[] = [];
    let wholeInARow = 0;
    while (wholeInARow < 10 && outcomes.length < 200 && Date.now() - serving < 10_000) {
      const o = await infer(t.stub, req, 4000);
      outcomes.push({ at: Date.now() - serving, o });
      wholeInARow = o.code === grpc.status.OK && !degradedOf(o.res!).degraded ? wholeInARow + 1 : 0;
    }
    assert.deepEqual(outcomes.filter(({ o }) => o.code !== grpc.status.OK).map(({ o }) => o.details), []);
    const degraded = outcomes.map(({ o }) => degradedOf(o.res!).degraded);
    const firstWhole = degraded.indexOf(false);
    const trace = outcomes.map(({ at, o }) => `${at}ms:${degradedOf(o.res!).degraded ? 'degraded' : 'whole'}`).join(', ');
    assert.ok(firstWhole >= 0 && outcomes[firstWhole].at <= REJOIN_MS,
      `the first whole answer came ${firstWhole < 0 ? 'never' : `${outcomes[firstWhole].at} ms`} after the partition was SERVING again (at most ${REJOIN_MS} ms): ${trace}`);
    assert.deepEqual(degraded.slice(firstWhole), degraded.slice(firstWhole).map(() => false), `degraded again after a whole answer: ${trace}`);
    for (const { o } of outcomes) assert.ok(o.ms < 1000, `an answer took ${o.ms} ms after the restart`);
  });
});

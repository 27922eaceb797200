import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HeadEngine } from '../../src/runtime/head.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadTestVectors } from '../../src/runtime/sample.ts';
import { loadConfig } from '../../src/roles/router/config.ts';
import { createServer, routerDepsFromConfig, type RouterServer } from '../../src/roles/router/server.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { logitTolerance } from '../claims.ts';

const PACKAGE = 'fmnist-p4-x-x-x-x-1au-x';

describe('dynamic batching (real partition processes, router on port 0)', function () {
  this.timeout(180_000);
  const pkg = loadPackage(resolvePackageDir(PACKAGE));
  const tv = loadTestVectors(pkg);
  const px = tv.pixelsPerImage;
  const K = pkg.manifest.classes.length;
  let stack: Stack;
  let router: RouterServer;
  let clients: OipClient[];

  before(async () => {
    stack = await startStack({ pkg, host: '127.0.0.1', withRouter: false, partitionArgs: ['--measure', 'false'] });
    // One batch slot: requests that arrive while a batch runs are grouped into the next one.
    const config = loadConfig(['--package', PACKAGE, '--partitions', stack.partitions.map((p) => p.address).join(','),
      '--host', '127.0.0.1', '--port', '0', '--health-interval-ms', '200', '--batch-instances', '1', '--batch-max-size', '16'], {});
    assert.deepEqual(config.batching, { maxBatchSize: 16, preferredBatchSizes: [], maxQueueDelayUs: 0, instances: 1 });
    router = createServer(await routerDepsFromConfig(config, HeadEngine));
    const address = `127.0.0.1:${await router.listen('127.0.0.1', 0)}`;
    clients = Array.from({ length: 8 }, () => new OipClient(address, { imageShape: tv.imageShape }));
  });

  after(async () => {
    for (const c of clients ?? []) c.close();
    await router?.shutdown(2000);
    await stack?.stop();
  });

  /** Each test vector as its own batch-1 request, 24 at a time (the router admits 64); each answer checked against its row. */
  async function concurrentVectors(rounds: number): Promise<number> {
    let max = 0;
    let next = 0;
    const total = rounds * tv.count;
    await Promise.all(Array.from({ length: 24 }, async () => { for (let k = next++; k < total; k = next++) {
      const i = k % tv.count;
      const r = await clients[k % clients.length].classify(tv.images.subarray(i * px, (i + 1) * px), 1, { logits: true });
      assert.equal(r.degraded, false);
      assert.equal(r.exchangedBytes, pkg.manifest.metrics.exchangedBytes, 'each member is charged its own images\' bytes');
      assert.equal(r.labels[0], pkg.manifest.classes[tv.logits[i].indexOf(Math.max(...tv.logits[i]))]);
      tv.logits[i].forEach((v, j) => { max = Math.max(max, Math.abs(v - r.logits![j])); });
      assert.equal(r.logits!.length, K);
    } }));
    return max;
  }

  it('should answer each request inside a batch with exactly its own test-vector logits', async () => {
    const before = router.pipeline.stats().batching!;
    const max = await concurrentVectors(3);
    const after = router.pipeline.stats().batching!;
    const requests = after.requests - before.requests;
    const batches = after.batches - before.batches;
    assert.equal(requests, 3 * tv.count);
    assert.ok(batches < requests, `${requests} concurrent requests went as ${batches} batches: none was grouped`);
    assert.ok(max <= logitTolerance(pkg), `max |logits - reference| = ${max} > ${logitTolerance(pkg)}`);
  });

  it('should answer a request that expires behind a running batch with DEADLINE_EXCEEDED and still answer the others exactly', async () => {
    // A 16-image request occupies the one slot; a 1 ms request queued behind it expires in the queue.
    const big = Buffer.concat(Array.from({ length: 16 }, (_, k) => tv.images.subarray((k % tv.count) * px, (k % tv.count + 1) * px)));
    const first = clients[0].classify(big, 16);
    const late = clients[1].inferRaw({ modelName: 'edgesplit', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, ...tv.imageShape] }],
      rawInputContents: [Buffer.from(tv.images.subarray(0, px))] }, 1);
    const ok = clients[2].classify(tv.images.subarray(0, px), 1, { logits: true });
    await assert.rejects(late, (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED);
    assert.equal((await first).labels.length, 16);
    const r = await ok;
    tv.logits[0].forEach((v, j) => assert.ok(Math.abs(v - r.logits![j]) <= logitTolerance(pkg)));
    assert.equal(router.pipeline.stats().inFlight, 0);
  });
});

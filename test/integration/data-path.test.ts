// The data path on long-lived streams (RunStream router -> partition, PushStream peer -> peer) with real partition
// servers on port 0: many requests on one stream, each with its own deadline, cancellation and errors; a broken
// stream re-opened; hostile frames ending only their own stream.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { bindAsync } from '../../src/runtime/grpc-server.ts';
import { HeadEngine } from '../../src/runtime/head.ts';
import { loadPackage, resolvePackageDir, type ModelPackage } from '../../src/runtime/manifest.ts';
import { partitionProto } from '../../src/runtime/proto.ts';
import { loadTestVectors } from '../../src/runtime/sample.ts';
import type { PartitionClient as PartitionStub } from '../../src/runtime/generated/edgesplit/v1/Partition.ts';
import type { PushAck__Output } from '../../src/runtime/generated/edgesplit/v1/PushAck.ts';
import type { RunResult__Output } from '../../src/runtime/generated/edgesplit/v1/RunResult.ts';
import { GrpcTransport } from '../../src/roles/partition/grpc-transport.ts';
import { PartitionRunner } from '../../src/roles/partition/runner.ts';
import { createServer, type PartitionServer } from '../../src/roles/partition/server.ts';
import { GrpcPartitionClient } from '../../src/roles/router/partition-client.ts';

const MAX = 16 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Part {
  runner: PartitionRunner;
  server: PartitionServer;
  transport: GrpcTransport;
}

/** Partition `index` of `pkg` on `port` (0: any), its peers at `peers` (filled in later when empty). */
async function startPart(pkg: ModelPackage, index: number, peers: string[], port = 0): Promise<{ part: Part; address: string }> {
  const transport = new GrpcTransport(peers, { maxMessageBytes: MAX });
  const runner = await PartitionRunner.create({ pkg, index, transport, measure: false });
  const server = createServer({ runner, peers: () => peers, defaultTimeoutMs: 10_000, maxMessageBytes: MAX });
  const bound = await bindAsync(server.server, '127.0.0.1', port);
  server.ready();
  return { part: { runner, server, transport }, address: `127.0.0.1:${bound}` };
}

async function stopPart(p: Part): Promise<void> {
  await p.server.shutdown({ drainMs: 500, timeoutMs: 500 });
  p.transport.close();
  await p.runner.shutdown();
}

async function rejectsWithCode(p: Promise<unknown>, code: grpc.status): Promise<void> {
  await assert.rejects(p, (e: { code?: number; message?: string }) => {
    assert.equal(e.code, code, `${grpc.status[e.code ?? -1]}: ${e.message}`);
    return true;
  });
}

describe('data path on long-lived streams (real partition servers)', function () {
  this.timeout(120_000);
  const pkg = loadPackage(resolvePackageDir('fmnist-p4-x-x-x-x-1au-x'));
  const P = pkg.manifest.partitions;
  const W = pkg.manifest.head.inFeatures / P;
  let parts: Part[] = [];
  let addresses: string[] = [];
  let clients: GrpcPartitionClient[] = [];

  before(async () => {
    const peers: string[] = [];
    for (let i = 0; i < P; i++) {
      const { part, address } = await startPart(pkg, i, peers);
      parts.push(part);
      addresses.push(address);
    }
    peers.push(...addresses);
    parts.forEach((p) => p.transport.setPeers(addresses));
    clients = addresses.map((a, i) => new GrpcPartitionClient(i, a, W, MAX));
  });

  after(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(parts.map(stopPart));
    parts = [];
    addresses = [];
  });

  it('should multiplex 32 concurrent requests on one stream per partition, each answered with its own logits', async () => {
    const tv = loadTestVectors(pkg);
    const head = await HeadEngine.create(pkg);
    try {
      const count = 32;
      const one = async (k: number) => {
        const i = k % tv.count;
        const img = Buffer.from(tv.images.subarray(i * 784, (i + 1) * 784));
        const rs = await Promise.all(clients.map((c) => c.run({ requestId: `mux-${k}`, images: img, n: 1,
          imageShape: [28, 28], package: pkg.manifest.name, missing: [] }, Date.now() + 20_000)));
        const features = new Float32Array(W * P);
        rs.forEach((r, p) => features.set(r.features, p * W));
        const { logits } = await head.run(features, 1);
        return Math.max(...Array.from(logits, (v, c) => Math.abs(v - tv.logits[i][c])));
      };
      const diffs = await Promise.all(Array.from({ length: count }, (_, k) => one(k)));
      // This package sends uint8 at one point: the README's bound for such policies is 3e-4.
      assert.ok(Math.max(...diffs) <= 3e-4, `max |dlogit| ${Math.max(...diffs)}`);
      for (const p of parts) assert.equal(p.runner.stats().inFlight, 0);
    } finally {
      await head.shutdown();
    }
  });

  it('should end one request at its deadline with DEADLINE_EXCEEDED and keep the stream serving the next', async () => {
    const img = Buffer.alloc(784, 9);
    // A budget shorter than the compute: the router's timer ends the request, and the partition, told the same
    // budget in the frame, stops it too.
    await rejectsWithCode(clients[0].run({ requestId: 'late', images: img, n: 1, imageShape: [28, 28], package: pkg.manifest.name, missing: [1, 2, 3] },
      Date.now() + 1), grpc.status.DEADLINE_EXCEEDED);
    const until = Date.now() + 2000;
    while (parts[0].runner.stats().inFlight > 0 && Date.now() < until) await sleep(10);
    assert.equal(parts[0].runner.stats().inFlight, 0);
    const ok = await Promise.all(clients.map((c) => c.run({ requestId: 'after-late', images: img, n: 1,
      imageShape: [28, 28], package: pkg.manifest.name, missing: [] }, Date.now() + 10_000)));
    assert.equal(ok.length, P);
  });

  it('should stop a Run at the partition when the caller cancels it (cancel frame), freeing its state', async () => {
    const img = Buffer.alloc(784, 5);
    const ac = new AbortController();
    // Partition 1 receives at the policy's point from partition 0, which is not asked: the Run waits for the merge.
    const pending = clients[1].run({ requestId: 'to-cancel', images: img, n: 1, imageShape: [28, 28], package: pkg.manifest.name, missing: [] },
      Date.now() + 30_000, ac.signal);
    await sleep(100);
    assert.equal(parts[1].runner.stats().inFlight, 1);
    ac.abort();
    await rejectsWithCode(pending, grpc.status.CANCELLED);
    const until = Date.now() + 2000;
    while (parts[1].runner.stats().inFlight > 0 && Date.now() < until) await sleep(10);
    assert.equal(parts[1].runner.stats().inFlight, 0, 'the partition still holds the cancelled request');
  });

  it('should answer a bad request on the stream with its own status and keep the stream for the next one', async () => {
    const img = Buffer.alloc(784, 1);
    await rejectsWithCode(clients[2].run({ requestId: 'wrong-package', images: img, n: 1, imageShape: [28, 28], package: 'another', missing: [] },
      Date.now() + 5000), grpc.status.FAILED_PRECONDITION);
    await rejectsWithCode(clients[2].run({ requestId: 'short', images: img.subarray(0, 700), n: 1, imageShape: [28, 28], package: pkg.manifest.name,
      missing: [] }, Date.now() + 5000), grpc.status.INVALID_ARGUMENT);
    const r = await clients[2].run({ requestId: 'fine', images: img, n: 1, imageShape: [28, 28], package: pkg.manifest.name, missing: [0, 1, 3] },
      Date.now() + 5000);
    assert.equal(r.features.length, W);
  });

  it('should refuse a second request with an id already in flight on the stream (ALREADY_EXISTS at the partition)', async () => {
    const Partition = partitionProto().edgesplit.v1.Partition;
    const stub = new Partition(addresses[1], grpc.credentials.createInsecure()) as unknown as PartitionStub;
    const call = stub.RunStream();
    const results: RunResult__Output[] = [];
    call.on('data', (r: RunResult__Output) => results.push(r));
    const frame = { run: { requestId: 'twice', package: pkg.manifest.name, timeoutMs: 2000,
      images: { shape: [1, 28, 28], precision: 'UINT8' as const, rawUint8: true, data: Buffer.alloc(784) } } };
    call.write(frame);
    call.write(frame);
    const until = Date.now() + 5000;
    while (results.length < 2 && Date.now() < until) await sleep(10);
    call.end();
    stub.close();
    assert.equal(results.length, 2);
    assert.ok(results.some((r) => r.error?.code === grpc.status.ALREADY_EXISTS && /already in flight/.test(r.error.message)),
      JSON.stringify(results.map((r) => r.error)));
  });

  it('should acknowledge pushes on the PushStream, and answer a push that breaks the policy with INVALID_ARGUMENT naming the field', async () => {
    const Partition = partitionProto().edgesplit.v1.Partition;
    const stub = new Partition(addresses[1], grpc.credentials.createInsecure()) as unknown as PartitionStub;
    const call = stub.PushStream();
    const acks: PushAck__Output[] = [];
    call.on('data', (a: PushAck__Output) => acks.push(a));
    // Partition 1 receives nothing at point 0 under this policy.
    call.write({ requestId: 'p', point: 0, fromPartition: 0, package: pkg.manifest.name,
      tensor: { shape: [1, 4, 28, 28], precision: 'FP32', data: Buffer.alloc(4 * 784 * 4), scales: [], rawUint8: false } });
    const until = Date.now() + 5000;
    while (acks.length < 1 && Date.now() < until) await sleep(10);
    call.end();
    stub.close();
    assert.equal(acks.length, 1);
    assert.equal(acks[0].accepted, false);
    assert.equal(acks[0].error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(acks[0].error!.message, /^point: /);
  });

  it('should end a stream carrying bytes that are not a frame with INVALID_ARGUMENT, and keep serving other streams', async () => {
    const raw: grpc.ServiceDefinition = { RunStream: { path: '/edgesplit.v1.Partition/RunStream', requestStream: true,
      responseStream: true, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } };
    const Raw = grpc.makeGenericClientConstructor(raw, 'Raw');
    const c = new Raw(addresses[3], grpc.credentials.createInsecure()) as unknown as grpc.Client &
      { RunStream: () => grpc.ClientDuplexStream<Buffer, Buffer> };
    const call = c.RunStream();
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    call.on('data', () => {});
    call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const s = await status;
    c.close();
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT, s.details);
    const r = await clients[3].run({ requestId: 'after-garbage', images: Buffer.alloc(784), n: 1, imageShape: [28, 28], package: pkg.manifest.name,
      missing: [0, 1, 2] }, Date.now() + 5000);
    assert.equal(r.features.length, W);
  });

  it('should re-open a broken stream: a partition restarted on the same port serves the next requests', async () => {
    const img = Buffer.alloc(784, 3);
    const port = Number(addresses[0].split(':')[1]);
    await stopPart(parts[0]);
    const { part } = await startPart(pkg, 0, addresses, port);
    parts[0] = part;
    // The old stream ended with the old server; the first call may still see that, the next ones must not.
    let ok = 0;
    for (let k = 0; k < 5; k++) {
      try {
        await clients[0].run({ requestId: `reopen-${k}`, images: img, n: 1, imageShape: [28, 28], package: pkg.manifest.name, missing: [1, 2, 3] },
          Date.now() + 5000);
        ok++;
      } catch (e) {
        assert.equal(k, 0, `request ${k} after the restart failed: ${(e as Error).message}`);
      }
    }
    assert.ok(ok >= 4, `${ok}/5 answered`);
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { encode, toProtoPrecision } from '../../src/runtime/codec.ts';
import type { DescribeResponse__Output } from '../../src/runtime/generated/edgesplit/v1/DescribeResponse.ts';
import type { PartitionClient } from '../../src/runtime/generated/edgesplit/v1/Partition.ts';
import type { PushRequest } from '../../src/runtime/generated/edgesplit/v1/PushRequest.ts';
import type { RunRequest } from '../../src/runtime/generated/edgesplit/v1/RunRequest.ts';
import type { RunResponse__Output } from '../../src/runtime/generated/edgesplit/v1/RunResponse.ts';
import { bindAsync } from '../../src/runtime/grpc-server.ts';
import { HeadEngine } from '../../src/runtime/head.ts';
import { loadCatalog, loadPackage, resolvePackageDir, type ModelPackage } from '../../src/runtime/manifest.ts';
import { activePoints, receiveFrom, unitSegments } from '../../src/runtime/policy.ts';
import { partitionProto } from '../../src/runtime/proto.ts';
import { loadTestVectors } from '../../src/runtime/sample.ts';
import { GrpcTransport } from '../../src/roles/partition/grpc-transport.ts';
import { PartitionRunner } from '../../src/roles/partition/runner.ts';
import { createServer, type PartitionServer } from '../../src/roles/partition/server.ts';
import { logitTolerance } from '../claims.ts';

const MAX_MESSAGE = 16 * 1024 * 1024;

interface Cluster {
  pkg: ModelPackage;
  runners: PartitionRunner[];
  servers: PartitionServer[];
  transports: GrpcTransport[];
  addresses: string[];
  clients: PartitionClient[];
  stop(): Promise<void>;
}

/** P partition servers on 127.0.0.1:0 wired to each other once every port is known. */
async function startCluster(name: string, opts: { measure?: boolean; maxInFlight?: number; earlyPushTtlMs?: number;
  fuseUnits?: boolean } = {}):
  Promise<Cluster> {
  const pkg = loadPackage(resolvePackageDir(name));
  const P = pkg.manifest.partitions;
  const transports = Array.from({ length: P }, () => new GrpcTransport([], { maxMessageBytes: MAX_MESSAGE }));
  const runners = await Promise.all(transports.map((transport, index) => PartitionRunner.create({ pkg, index, transport,
    measure: opts.measure ?? false, maxInFlight: opts.maxInFlight, earlyPushTtlMs: opts.earlyPushTtlMs,
    fuseUnits: opts.fuseUnits })));
  const addresses: string[] = [];
  const servers = runners.map((runner) => createServer({ runner, peers: () => addresses, defaultTimeoutMs: 10_000,
    maxMessageBytes: MAX_MESSAGE }));
  for (const s of servers) addresses.push(`127.0.0.1:${await bindAsync(s.server, '127.0.0.1', 0)}`);
  transports.forEach((t) => t.setPeers(addresses));
  servers.forEach((s) => s.ready());
  const Partition = partitionProto().edgesplit.v1.Partition;
  const clients = addresses.map((a) => new Partition(a, grpc.credentials.createInsecure(),
    { 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE }));
  return {
    pkg, runners, servers, transports, addresses, clients,
    async stop() {
      clients.forEach((c) => c.close());
      await Promise.all(servers.map((s) => s.shutdown({ drainMs: 1000, timeoutMs: 1000 })));
      transports.forEach((t) => t.close());
      await Promise.all(runners.map((r) => r.shutdown()));
    },
  };
}

function unary<Req, Res>(fn: (req: Req, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall,
  req: Req, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

const run = (c: PartitionClient, req: RunRequest, timeoutMs?: number): Promise<RunResponse__Output> =>
  unary(c.Run.bind(c), req, timeoutMs);
const push = (c: PartitionClient, req: PushRequest): Promise<{ accepted: boolean }> => unary(c.Push.bind(c), req);
const describePartition = (c: PartitionClient): Promise<DescribeResponse__Output> =>
  unary<object, DescribeResponse__Output>(c.Describe.bind(c), {});

async function rejectsWith(p: Promise<unknown>, code: grpc.status, detail?: string): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, code, `${grpc.status[e.code]}: ${e.details}`);
    if (detail) assert.ok(e.details.includes(detail), e.details);
    return true;
  });
}

const images = (data: Uint8Array, n: number): RunRequest['images'] =>
  ({ shape: [n, 28, 28], precision: 'UINT8', rawUint8: true, data: Buffer.from(data) });

describe('partition service over gRPC', function () {
  this.timeout(120_000);

  describe('parity with the test vectors for every shipped package', () => {
    for (const entry of loadCatalog().packages) for (const fuseUnits of [true, false]) {
      it(`should serve ${entry.name} (P=${entry.partitions}, ${fuseUnits ? 'fused runs of units' : 'unit by unit'}) with the test vectors' logits and the manifest's bytes`, async () => {
        const cl = await startCluster(entry.name, { fuseUnits });
        try {
          const { pkg, clients } = cl;
          const P = pkg.manifest.partitions;
          // Shipped packages carry every run of two or more units fused (training/edgesplit_train/fuse.py).
          const sessions = fuseUnits ? unitSegments(pkg.manifest).length : 1 + pkg.manifest.blocks.length;
          for (const r of cl.runners) assert.equal(r.describe().calls.length, sessions);
          const tv = loadTestVectors(pkg);
          const n = tv.count;
          const res = await Promise.all(clients.map((c) => run(c, { requestId: 'parity', package: pkg.manifest.name,
            images: images(tv.images, n) })));
          const W = pkg.manifest.head.inFeatures / P;
          const features = new Float32Array(n * W * P);
          let featureDiff = 0;
          res.forEach((r, p) => {
            assert.deepEqual(r.features!.shape, [n, W]);
            const f = new Float32Array(new Uint8Array(r.features!.data).buffer);
            for (let i = 0; i < n; i++) {
              features.set(f.subarray(i * W, (i + 1) * W), (i * P + p) * W);
              for (let c = 0; c < W; c++) featureDiff = Math.max(featureDiff, Math.abs(f[i * W + c] - tv.features[i][p][c]));
            }
            assert.deepEqual(r.missedPoints, []);
          });
          const head = await HeadEngine.create(pkg);
          const { logits } = await head.run(features, n);
          await head.shutdown();
          let diff = 0;
          for (let i = 0; i < n; i++) for (let c = 0; c < 10; c++) diff = Math.max(diff, Math.abs(logits[i * 10 + c] - tv.logits[i][c]));
          // README: 3e-6 for fp32 policies, 3e-4 through uint8 points (test/claims.ts adds the margin).
          const tol = logitTolerance(pkg);
          assert.ok(diff <= tol, `max abs logit diff ${diff} > ${tol}`);
          const sentBytes = res.reduce((s, r) => s + r.sent.reduce((a, x) => a + Number(x.bytes), 0), 0);
          const receivedBytes = res.reduce((s, r) => s + r.received.reduce((a, x) => a + Number(x.bytes), 0), 0);
          assert.equal(sentBytes / n, pkg.manifest.metrics.exchangedBytes);
          assert.equal(receivedBytes, sentBytes);
          assert.ok(res.every((r) => r.received.every((x) => x.merged)));
          console.log(`      ${entry.name}: max |dlogit| ${diff.toExponential(2)}, max |dfeature| ${featureDiff.toExponential(2)}, ` +
            `${sentBytes / n} B/image on the wire`);
          for (const r of cl.runners) assert.equal(r.stats().inFlight, 0);
          for (const r of cl.runners) assert.equal(r.stats().droppedPushes, 0);
        } finally {
          await cl.stop();
        }
      });
    }
  });

  describe('bad input, push races and bounded state', () => {
    // Points with uint8 and fp32 precisions and shifts 1 and 2.
    const NAME = 'fmnist-p4-1au-1au-1au-2cf-2au-1au';
    const TTL = 300;
    let cl: Cluster;
    let tv: ReturnType<typeof loadTestVectors>;
    before(async () => {
      cl = await startCluster(NAME, { measure: true, maxInFlight: 2, earlyPushTtlMs: TTL });
      tv = loadTestVectors(cl.pkg);
    });
    after(async () => cl?.stop());
    afterEach(() => {
      for (const r of cl.runners) assert.equal(r.stats().inFlight, 0, 'request state leaked');
    });

    /** Pushes left by Runs that ran on one partition alone expire after the TTL; wait for a clean buffer. */
    async function settleEarly(): Promise<void> {
      const until = Date.now() + 4 * TTL;
      while (cl.runners.some((r) => r.stats().earlyBuffered > 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, TTL / 4));
      }
      assert.ok(cl.runners.every((r) => r.stats().earlyBuffered === 0), 'early pushes did not expire');
    }

    const one = (): RunRequest['images'] => images(tv.images.subarray(0, 784), 1);
    /** A valid push from partition `from` to partition 1 at the first point partition 1 receives from 0 or from. */
    function validPush(requestId: string, point?: number, n = 1): PushRequest & { to: number } {
      const m = cl.pkg.manifest;
      const p = activePoints(m).find((a) => point === undefined || a.point === point)!;
      const to = 1;
      const from = receiveFrom(to, p.shift, m.partitions);
      const values = new Float32Array(n * p.k * p.height * p.width).map((_, i) => (i % 7) / 7);
      const enc = encode(values, n, p.precision);
      return { to, requestId, point: p.point, fromPartition: from, package: m.name,
        tensor: { shape: [n, p.k, p.height, p.width], precision: toProtoPrecision(p.precision), data: enc.data,
          scales: enc.scales } };
    }

    it('should reject a Run for another package with FAILED_PRECONDITION', async () => {
      await rejectsWith(run(cl.clients[0], { requestId: 'x', package: 'fmnist-p1', images: one() }),
        grpc.status.FAILED_PRECONDITION, 'package');
    });

    it('should reject malformed image batches with INVALID_ARGUMENT naming the field', async () => {
      const c = cl.clients[0];
      const pkg = NAME;
      await rejectsWith(run(c, { requestId: 'x', package: pkg }), grpc.status.INVALID_ARGUMENT, 'images');
      await rejectsWith(run(c, { requestId: 'x', package: pkg, images: { ...one(), shape: [1, 28, 27] } }),
        grpc.status.INVALID_ARGUMENT, 'images.shape');
      await rejectsWith(run(c, { requestId: 'x', package: pkg, images: { ...one(), shape: [2, 28, 28] } }),
        grpc.status.INVALID_ARGUMENT, 'images.data');
      await rejectsWith(run(c, { requestId: 'x', package: pkg, images: { ...one(), precision: 'FP32' } }),
        grpc.status.INVALID_ARGUMENT, 'images.precision');
      await rejectsWith(run(c, { requestId: 'x', package: pkg, images: images(new Uint8Array(65 * 784), 65) }),
        grpc.status.INVALID_ARGUMENT, 'images.shape');
      await rejectsWith(run(c, { requestId: '', package: pkg, images: one() }), grpc.status.INVALID_ARGUMENT, 'request_id');
      await rejectsWith(run(c, { requestId: 'x', package: pkg, images: one(), missingPartitions: [7] }),
        grpc.status.INVALID_ARGUMENT, 'missing_partitions');
    });

    it('should reject an oversized message with RESOURCE_EXHAUSTED and keep serving', async () => {
      const big = images(new Uint8Array(MAX_MESSAGE + 784), (MAX_MESSAGE + 784) / 784);
      const Partition = partitionProto().edgesplit.v1.Partition;
      const c = new Partition(cl.addresses[0], grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
      try {
        await rejectsWith(run(c, { requestId: 'big', package: NAME, images: big }), grpc.status.RESOURCE_EXHAUSTED);
      } finally {
        c.close();
      }
      const d = await describePartition(cl.clients[0]);
      assert.equal(d.index, 0);
    });

    it('should stop waiting for a silent peer before the deadline, answer with the missed points and free the request', async () => {
      // Degradation (issue 8): the merge is skipped once the deadline nears, so the router can still answer in time.
      const t = Date.now();
      const r = await run(cl.clients[0], { requestId: 'alone', package: NAME, images: one() }, 600);
      assert.ok(Date.now() - t < 600, `answered after ${Date.now() - t} ms`);
      assert.deepEqual(r.missedPoints, activePoints(cl.pkg.manifest).map((p) => p.point));
      assert.equal(cl.runners[0].stats().inFlight, 0);
      await new Promise((r) => setTimeout(r, 50));
    });

    it('should not wait for partitions the router marks missing and report the missed points', async () => {
      const r = await run(cl.clients[0], { requestId: 'degraded', package: NAME, images: one(), missingPartitions: [1, 2, 3] });
      assert.deepEqual(r.missedPoints, activePoints(cl.pkg.manifest).map((p) => p.point));
      assert.deepEqual(r.sent, []);
      assert.equal(r.features!.shape[0], 1);
    });

    it('should refuse Runs over maxInFlight with RESOURCE_EXHAUSTED and free state on cancellation', async () => {
      const c = cl.clients[0];
      const calls = ['w1', 'w2'].map((id) => c.Run({ requestId: id, package: NAME, images: one() },
        { deadline: new Date(Date.now() + 20_000) }, () => undefined));
      const settled = calls.map((call) => new Promise((r) => call.on('status', r)));
      while (cl.runners[0].stats().inFlight < 2) await new Promise((r) => setTimeout(r, 10));
      await rejectsWith(run(c, { requestId: 'w3', package: NAME, images: one() }), grpc.status.RESOURCE_EXHAUSTED);
      calls.forEach((call) => call.cancel());
      await Promise.all(settled);
      while (cl.runners[0].stats().inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    });

    it('should hold an early push until its Run and merge it', async () => {
      await settleEarly();
      const p = validPush('early-1');
      const { to, ...req } = p;
      assert.deepEqual(await push(cl.clients[to], req), { accepted: true });
      assert.equal(cl.runners[to].stats().earlyBuffered, 1);
      const others = [0, 2, 3];
      const r = await run(cl.clients[to], { requestId: 'early-1', package: NAME, images: one(), missingPartitions: others });
      const merged = r.received.find((x) => x.point === p.point)!;
      assert.equal(merged.merged, true);
      assert.equal(Number(merged.bytes), req.tensor!.data!.length + 4 * (req.tensor!.scales?.length ?? 0));
      assert.ok(!r.missedPoints.includes(p.point!));
      assert.equal(cl.runners[to].stats().earlyBuffered, 0);
    });

    it('should drop and count a push for a finished request without error', async () => {
      const before = cl.runners[1].stats().droppedPushes;
      const { to, ...req } = validPush('early-1', activePoints(cl.pkg.manifest)[1].point);
      assert.deepEqual(await push(cl.clients[to], req), { accepted: false });
      assert.equal(cl.runners[1].stats().droppedPushes, before + 1);
    });

    it('should drop and count a push whose Run never comes after the TTL', async () => {
      await settleEarly();
      const before = cl.runners[1].stats().droppedPushes;
      const { to, ...req } = validPush('ghost');
      assert.deepEqual(await push(cl.clients[to], req), { accepted: true });
      assert.equal(cl.runners[1].stats().earlyBuffered, 1);
      await new Promise((r) => setTimeout(r, TTL * 2));
      assert.deepEqual(cl.runners[1].stats(), { inFlight: 0, earlyBuffered: 0, droppedPushes: before + 1 });
      const d = await describePartition(cl.clients[1]);
      assert.equal(d.pushesDropped, before + 1);
    });

    it('should reject a duplicate push with ALREADY_EXISTS', async () => {
      const { to, ...req } = validPush('dup-1');
      await push(cl.clients[to], req);
      await rejectsWith(push(cl.clients[to], req), grpc.status.ALREADY_EXISTS);
    });

    it('should reject pushes that do not match the policy with the exact code naming the field', async () => {
      const { to, ...good } = validPush('bad-1');
      const c = cl.clients[to];
      const t = good.tensor!;
      const cases: [PushRequest, grpc.status, string][] = [
        [{ ...good, tensor: null }, grpc.status.INVALID_ARGUMENT, 'tensor'],
        [{ ...good, package: 'fmnist-p1' }, grpc.status.FAILED_PRECONDITION, 'package'],
        [{ ...good, point: 99 }, grpc.status.INVALID_ARGUMENT, 'point'],
        [{ ...good, fromPartition: to }, grpc.status.INVALID_ARGUMENT, 'from_partition'],
        [{ ...good, tensor: { ...t, shape: [1, 1, 28, 28] } }, grpc.status.INVALID_ARGUMENT, 'tensor.shape'],
        [{ ...good, tensor: { ...t, precision: 'FP16' } }, grpc.status.INVALID_ARGUMENT, 'tensor.precision'],
        [{ ...good, tensor: { ...t, precision: 'PRECISION_UNSPECIFIED' } }, grpc.status.INVALID_ARGUMENT, 'tensor.precision'],
        [{ ...good, tensor: { ...t, data: (t.data as Buffer).subarray(1) } }, grpc.status.INVALID_ARGUMENT, 'tensor.data'],
        [{ ...good, tensor: { ...t, scales: [] } }, grpc.status.INVALID_ARGUMENT, 'tensor.scales'],
        [{ ...good, tensor: { ...t, scales: [-1] } }, grpc.status.INVALID_ARGUMENT, 'tensor.scales'],
      ];
      await settleEarly();
      for (const [req, code, field] of cases) await rejectsWith(push(c, req), code, `${field}:`);
      // A non-finite fp32 value at the fp32 point (shift 2: partition 1 receives from 3).
      const fp32 = activePoints(cl.pkg.manifest).find((p) => p.precision === 'fp32')!;
      const data = Buffer.alloc(fp32.k * fp32.height * fp32.width * 4);
      data.writeFloatLE(NaN, 8);
      await rejectsWith(push(c, { requestId: 'bad-2', point: fp32.point, fromPartition: receiveFrom(1, fp32.shift, 4),
        package: NAME, tensor: { shape: [1, fp32.k, fp32.height, fp32.width], precision: 'FP32', data } }),
      grpc.status.INVALID_ARGUMENT, 'tensor.data');
      assert.equal(cl.runners[to].stats().earlyBuffered, 0);
    });

    it('should describe the partition with its units and a measured GFLOPS figure', async () => {
      const d = await describePartition(cl.clients[2]);
      assert.equal(d.index, 2);
      assert.equal(d.partitions, 4);
      assert.equal(d.package, NAME);
      assert.equal(d.policyId, cl.pkg.manifest.policy.id);
      assert.equal(d.units.length, 1 + cl.pkg.manifest.blocks.length);
      assert.deepEqual(d.units[1].outShape, cl.pkg.manifest.blocks[0].outShape);
      assert.ok(d.gflops > 0);
      assert.deepEqual(d.peers, cl.addresses);
    });

    it('should answer grpc.health.v1 Check with SERVING', async () => {
      const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
      const Health = (grpc.loadPackageDefinition(def) as any).grpc.health.v1.Health;
      const h = new Health(cl.addresses[3], grpc.credentials.createInsecure());
      try {
        for (const service of ['', 'edgesplit.v1.Partition']) {
          const r = await new Promise<any>((res, rej) => h.Check({ service }, (e: Error | null, v: any) => (e ? rej(e) : res(v))));
          assert.equal(r.status, 'SERVING');
        }
      } finally {
        h.close();
      }
    });
  });

  describe('servePartition (main.ts)', () => {
    it('should print one ready JSON line with the bound port, serve, and exit 0 on SIGTERM', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '-e',
        "import('./src/roles/partition/main.ts').then((m) => m.servePartition(process.argv.slice(1)))" +
        ".catch((e) => { console.error(e.message); process.exit(1); })",
        '--', '--package', 'fmnist-p1', '--index', '0', '--port', '0', '--measure', 'false'],
      { cwd: new URL('../../', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        const lines = createInterface({ input: child.stdout! });
        let ready: any;
        for await (const line of lines) {
          const j = JSON.parse(line);
          if (j.msg === 'ready') {
            ready = j;
            break;
          }
        }
        assert.ok(ready.port > 0);
        assert.equal(ready.package, 'fmnist-p1');
        const Partition = partitionProto().edgesplit.v1.Partition;
        const c = new Partition(ready.address, grpc.credentials.createInsecure());
        const d = await describePartition(c);
        assert.equal(d.package, 'fmnist-p1');
        c.close();
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});

import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HeadEngine } from '../../src/runtime/head.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { partitionProto } from '../../src/runtime/proto.ts';
import { loadSample, loadTestVectors } from '../../src/runtime/sample.ts';
import { HealthChecker } from '../../src/runtime/health-client.ts';
import { loadConfig } from '../../src/roles/router/config.ts';
import { createServer, routerDepsFromConfig, type RouterServer } from '../../src/roles/router/server.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { startStack, type Stack } from '../../src/tools/cli/stack.ts';
import type { GRPCInferenceServiceClient } from '../../src/runtime/generated/inference/GRPCInferenceService.ts';
import type { ModelInferRequest } from '../../src/runtime/generated/inference/ModelInferRequest.ts';
import { logitTolerance } from '../claims.ts';

const PACKAGE = 'fmnist-p4-x-x-x-x-1au-x';
const MAX_MESSAGE = 256 * 1024;

function unaryCall<Req, Res>(client: GRPCInferenceServiceClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Function>)[method](req, { deadline: Date.now() + 10_000 },
      (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
  });
}

async function expectStatus(p: Promise<unknown>, code: grpc.status, field: string): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    assert.ok(e.details.includes(field), `details '${e.details}' should name '${field}'`);
    return true;
  });
}

describe('router (real partition processes, router on port 0)', function () {
  this.timeout(180_000);
  const pkg = loadPackage(resolvePackageDir(PACKAGE));
  let stack: Stack;
  let router: RouterServer;
  let address: string;
  let client: OipClient;
  let stub: GRPCInferenceServiceClient;

  before(async () => {
    stack = await startStack({ pkg, host: '127.0.0.1', withRouter: false, partitionArgs: ['--measure', 'false'] });
    const config = loadConfig(['--package', PACKAGE, '--partitions', stack.partitions.map((p) => p.address).join(','),
      '--host', '127.0.0.1', '--port', '0', '--max-batch', '64', '--max-message-bytes', String(MAX_MESSAGE),
      '--health-interval-ms', '200', '--strict'], {});
    router = createServer(await routerDepsFromConfig(config, HeadEngine));
    address = `127.0.0.1:${await router.listen('127.0.0.1', 0)}`;
    client = new OipClient(address);
    stub = (client as unknown as { stub: GRPCInferenceServiceClient }).stub;
  });

  after(async () => {
    client?.close();
    await router?.shutdown(2000);
    await stack?.stop();
  });

  it('should answer the metadata calls of the Open Inference Protocol', async () => {
    assert.deepEqual(await unaryCall(stub, 'ServerLive', {}), { live: true });
    assert.deepEqual(await unaryCall(stub, 'ServerReady', {}), { ready: true });
    assert.deepEqual(await unaryCall(stub, 'ModelReady', { name: 'edgesplit' }), { ready: true });
    assert.deepEqual(await unaryCall(stub, 'ModelReady', { name: 'resnet' }), { ready: false });
    const sm = await unaryCall<object, { name: string; version: string; extensions: string[] }>(stub, 'ServerMetadata', {});
    assert.equal(sm.name, 'edgesplit');
    assert.match(sm.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(sm.extensions, []);
    const md = await client.metadata();
    assert.equal(md.name, 'edgesplit');
    assert.deepEqual(md.versions, [PACKAGE]);
    assert.equal(md.platform, 'edgesplit_onnxruntime');
    assert.deepEqual(md.inputs, [{ name: 'image', datatype: 'UINT8', shape: [-1, 28, 28] }]);
    assert.deepEqual(md.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [['probabilities', 'FP32', [-1, 10]], ['label', 'BYTES', [-1]], ['logits', 'FP32', [-1, 10]]]);
    await expectStatus(unaryCall(stub, 'ModelMetadata', { name: 'resnet' }), grpc.status.NOT_FOUND, "model 'resnet'");
  });

  it('should report SERVING through grpc.health.v1', async () => {
    const hc = new HealthChecker(address);
    try {
      assert.equal(await hc.check('', 2000), 'SERVING');
      assert.equal(await hc.check('inference.GRPCInferenceService', 2000), 'SERVING');
    } finally {
      hc.close();
    }
  });

  it('should classify the shipped sample at the accuracy the exporter measured, counting the bytes on the wire', async () => {
    const sample = loadSample();
    let correct = 0;
    for (let s = 0; s < sample.count; s += 50) {
      const r = await client.classify(sample.images.subarray(s * 784, (s + 50) * 784), 50);
      r.labels.forEach((l, i) => { if (l === sample.classes[sample.labels[s + i]]) correct++; });
      assert.equal(r.package, PACKAGE);
      assert.equal(r.policyId, pkg.manifest.policy.id);
      assert.equal(r.degraded, false);
      assert.equal(r.exchangedBytes, 50 * pkg.manifest.metrics.exchangedBytes);
    }
    const accuracy = correct / sample.count;
    assert.ok(Math.abs(accuracy - pkg.manifest.metrics.sampleAccuracy!) <= 0.005,
      `accuracy ${accuracy} vs the manifest's sampleAccuracy ${pkg.manifest.metrics.sampleAccuracy}`);
  });

  it('should serve logits equal to the test vectors', async () => {
    const tv = loadTestVectors(pkg);
    const r = await client.classify(tv.images, tv.count, { logits: true });
    let max = 0;
    tv.logits.forEach((row, i) => row.forEach((v, j) => { max = Math.max(max, Math.abs(v - r.logits![i * 10 + j])); }));
    assert.ok(max <= logitTolerance(pkg), `max |logits - reference| = ${max} > ${logitTolerance(pkg)}`);
  });

  it('should give the same answer for FP32 ToTensor input and typed contents as for raw UINT8', async () => {
    const sample = loadSample();
    const img = sample.images.subarray(0, 2 * 784);
    const base = await client.classify(img, 2);
    const f32 = Buffer.alloc(2 * 784 * 4);
    img.forEach((v, i) => f32.writeFloatLE(Math.fround(v / 255), i * 4));
    const viaF32 = await client.inferRaw({ modelName: 'edgesplit', inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 1, 28, 28] }],
      outputs: [{ name: 'probabilities' }], rawInputContents: [f32] });
    assert.deepEqual(viaF32.rawOutputContents[0], Buffer.from(base.probabilities.buffer));
    const typed = await client.inferRaw({ modelName: 'edgesplit', inputs: [{ name: 'image', datatype: 'UINT8', shape: [2, 28, 28],
      contents: { uintContents: [...img] } }], outputs: [{ name: 'probabilities' }] });
    assert.deepEqual(typed.rawOutputContents[0], Buffer.from(base.probabilities.buffer));
  });

  const one = () => Buffer.alloc(784, 3);
  const base = (over: Partial<ModelInferRequest> = {}): ModelInferRequest => ({ modelName: 'edgesplit',
    inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 28, 28] }], rawInputContents: [one()], ...over });
  const nanF32 = () => { const b = Buffer.alloc(3136); b.writeFloatLE(NaN, 0); return b; };
  const bad: [string, () => ModelInferRequest, grpc.status, string][] = [
    ['an unknown model', () => base({ modelName: 'resnet' }), grpc.status.NOT_FOUND, "model 'resnet'"],
    ['an empty request', () => ({ modelName: 'edgesplit' }), grpc.status.INVALID_ARGUMENT, 'inputs'],
    ['an unknown input name', () => base({ inputs: [{ name: 'pixels', datatype: 'UINT8', shape: [1, 28, 28] }] }), grpc.status.INVALID_ARGUMENT, 'inputs[0].name'],
    ['a wrong shape', () => base({ inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 32, 32] }] }), grpc.status.INVALID_ARGUMENT, 'inputs[0].shape'],
    ['a wrong dtype', () => base({ inputs: [{ name: 'image', datatype: 'INT64', shape: [1, 28, 28] }] }), grpc.status.INVALID_ARGUMENT, 'inputs[0].datatype'],
    ['a wrong byte length', () => base({ rawInputContents: [Buffer.alloc(700)] }), grpc.status.INVALID_ARGUMENT, 'raw_input_contents[0]'],
    ['a batch over the limit', () => base({ inputs: [{ name: 'image', datatype: 'UINT8', shape: [65, 28, 28] }], rawInputContents: [Buffer.alloc(65 * 784)] }),
      grpc.status.INVALID_ARGUMENT, 'inputs[0].shape'],
    ['a non-finite float', () => base({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 1, 28, 28] }], rawInputContents: [nanF32()] }),
      grpc.status.INVALID_ARGUMENT, 'raw_input_contents[0]'],
    ['raw and typed contents together', () => base({ inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 28, 28], contents: { uintContents: new Array(784).fill(1) } }] }),
      grpc.status.INVALID_ARGUMENT, 'inputs[0].contents'],
    ['an unknown output', () => base({ outputs: [{ name: 'scores' }] }), grpc.status.INVALID_ARGUMENT, 'outputs[0].name'],
    ['an oversized message', () => base({ inputs: [{ name: 'image', datatype: 'UINT8', shape: [400, 28, 28] }], rawInputContents: [Buffer.alloc(400 * 784)] }),
      grpc.status.RESOURCE_EXHAUSTED, 'message larger than max'],
  ];
  for (const [what, make, code, field] of bad) {
    it(`should answer ${what} with ${grpc.status[code]} naming '${field}'`, async () => {
      await expectStatus(client.inferRaw(make()), code, field);
    });
  }

  it('should keep serving after bad input and hold no request state', async () => {
    const r = await client.classify(loadSample().images.subarray(0, 784), 1);
    assert.equal(r.labels.length, 1);
    assert.equal(router.pipeline.stats().inFlight, 0);
    const Partition = partitionProto().edgesplit.v1.Partition;
    for (const p of stack.partitions) {
      const c = new Partition(p.address, grpc.credentials.createInsecure());
      const d = await new Promise<{ requestsInFlight: number; index: number }>((resolve, reject) =>
        c.Describe({}, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res as never))));
      c.close();
      assert.equal(d.index, p.index);
      assert.equal(Number(d.requestsInFlight), 0, `partition ${p.index} in flight`);
    }
  });

  it('should fail with UNAVAILABLE naming the partition when one is down (strict)', async () => {
    // Last test: it stops partition 3.
    process.kill(stack.partitions[3].pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    await expectStatus(client.classify(loadSample().images.subarray(0, 784), 1, { timeoutMs: 3000 }), grpc.status.UNAVAILABLE, 'partition 3');
    assert.deepEqual(await unaryCall(stub, 'ServerReady', {}), { ready: false });
  });
});

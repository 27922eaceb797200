import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { grpcurl } from './tools.ts';
import { skipBecause } from '../skip.ts';

describe('grpcurl (reflection, JSON) against the router', function () {
  this.timeout(300_000);
  let stack: Stack | undefined;
  let bin: string | null = null;
  const pkg = loadPackage(resolvePackageDir('fmnist-p4-x-x-x-x-1au-x'));

  before(async function () {
    bin = grpcurl();
    if (!bin) {
      skipBecause(this, 'needs grpcurl (scripts/build-test-tools.sh builds it into ~/.cache/edgesplit/tools/bin)');
    }
    stack = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'] });
  });

  after(async () => {
    await stack?.stop();
  });

  it('should list the services through server reflection', () => {
    const out = execFileSync(bin!, ['-plaintext', stack!.router, 'list'], { encoding: 'utf8' });
    const services = out.trim().split('\n');
    for (const s of ['inference.GRPCInferenceService', 'grpc.health.v1.Health']) assert.ok(services.includes(s), `${s} in ${out}`);
    const desc = execFileSync(bin!, ['-plaintext', stack!.router, 'describe', 'inference.GRPCInferenceService'], { encoding: 'utf8' });
    assert.match(desc, /rpc ModelInfer \( \.inference\.ModelInferRequest \) returns \( \.inference\.ModelInferResponse \)/);
  });

  it('should classify an image sent as JSON with typed uint_contents', () => {
    const sample = loadSample();
    const req = { model_name: 'edgesplit', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 28, 28],
      contents: { uint_contents: [...sample.images.subarray(0, 784)] } }], outputs: [{ name: 'label' }, { name: 'probabilities' }] };
    const out = execFileSync(bin!, ['-plaintext', '-d', '@', stack!.router, 'inference.GRPCInferenceService/ModelInfer'],
      { encoding: 'utf8', input: JSON.stringify(req) });
    // grpcurl prints the proto field names (the descriptors keep them).
    const res = JSON.parse(out);
    assert.equal(res.model_name, 'edgesplit');
    assert.deepEqual(res.outputs.map((o: { name: string }) => o.name), ['label', 'probabilities']);
    const label = Buffer.from(res.raw_output_contents[0], 'base64');
    assert.equal(label.subarray(4).toString('utf8'), sample.classes[sample.labels[0]]);
    assert.equal(res.parameters.edgesplit_package.string_param, pkg.manifest.name);
  });

  it('should answer a bad request with InvalidArgument naming the field', () => {
    const req = { model_name: 'edgesplit', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 27, 28] }] };
    const r = spawnSync(bin!, ['-plaintext', '-d', '@', stack!.router, 'inference.GRPCInferenceService/ModelInfer'],
      { encoding: 'utf8', input: JSON.stringify(req) });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Code: InvalidArgument/);
    assert.match(r.stderr, /inputs\[0\]\.shape/);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackage, MODELS_DIR, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { tritonPython } from './tools.ts';
import { skipBecause } from '../skip.ts';

const SCRIPT = fileURLToPath(new URL('./triton_client.py', import.meta.url));

describe('a Triton client (tritonclient[grpc] from PyPI) against the router', function () {
  this.timeout(420_000);
  let stack: Stack | undefined;
  let python: string | null = null;
  const pkg = loadPackage(resolvePackageDir('fmnist-p4-x-x-x-x-1au-x'));

  before(async function () {
    const t = tritonPython();
    if (!t.python) {
      skipBecause(this, `needs tritonclient[grpc]: ${t.reason}`);
    }
    python = t.python;
    stack = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'] });
  });

  after(async () => {
    await stack?.stop();
  });

  it('should see the server live, the model metadata and classify through ModelInfer', () => {
    const n = 16;
    const out = execFileSync(python!, [SCRIPT, stack!.router, join(MODELS_DIR, 'data', 'images.bin'), String(n)],
      { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    assert.equal(r.live, true);
    assert.equal(r.ready, true);
    assert.equal(r.modelReady, true);
    assert.equal(r.metadata.name, 'edgesplit');
    assert.deepEqual(r.metadata.versions, [pkg.manifest.name]);
    assert.deepEqual(r.metadata.inputs, [{ name: 'image', datatype: 'UINT8', shape: ['-1', '28', '28'] }]);
    assert.deepEqual(r.shape, [n, 10]);
    assert.equal(r.sumsToOne, true);
    assert.equal(r.fp32MaxDiff, 0);
    const sample = loadSample();
    assert.deepEqual(r.labels, r.argmax.map((c: number) => sample.classes[c]));
    const correct = r.argmax.filter((c: number, i: number) => c === sample.labels[i]).length;
    assert.ok(correct >= 12, `${correct}/${n} correct`);
    assert.equal(r.parameters.edgesplit_package.string_param, pkg.manifest.name);
    assert.equal(r.parameters.edgesplit_degraded.bool_param, false);
    assert.equal(Number(r.parameters.edgesplit_exchanged_bytes.int64_param), n * pkg.manifest.metrics.exchangedBytes);
    assert.equal(r.badInputStatus, 'StatusCode.INVALID_ARGUMENT');
    assert.equal(r.badShapeStatus, 'StatusCode.INVALID_ARGUMENT');
    assert.match(r.badShapeMessage, /inputs\[0\]\.shape: \[1,29,28\] is not \[N,28,28\] for UINT8/);
  });

  it('should answer Triton\'s streaming API (ModelStreamInfer) request by request, errors included', () => {
    const n = 8;
    const out = execFileSync(python!, [SCRIPT, stack!.router, join(MODELS_DIR, 'data', 'images.bin'), String(n)],
      { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    // The same images through ModelInfer and through the stream: the same classes, each answer under its own id.
    assert.deepEqual(r.streamArgmax, r.argmax);
    assert.match(String(r.streamError), /INVALID_ARGUMENT: .*pixels/);
  });
});

// A user's own images, end to end: an RGB image folder (made here from Fashion-MNIST, 64x64 PNG and JPEG files)
// through the quick training pipeline to packages, served by `edgesplit up --models-dir`, answered over OIP v2 by
// the unmodified tritonclient and by `edgesplit classify` on image files.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { loadCatalog, loadPackage, type ModelPackage } from '../../src/runtime/manifest.ts';
import { loadSample, loadTestVectors } from '../../src/runtime/sample.ts';
import { BIN } from '../../src/tools/cli/stack.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { tritonPython } from './tools.ts';
import { logitTolerance } from '../claims.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRAIN_PY = join(ROOT, 'training', '.venv', 'bin', 'python');
const TRITON_SCRIPT = fileURLToPath(new URL('./triton_client.py', import.meta.url));
const SIZE = 64;

describe('your own images: an RGB image folder to a served split model', function () {
  this.timeout(600_000);
  const tmp = mkdtempSync(join(tmpdir(), 'edgesplit-images-'));
  const folder = join(tmp, 'colour-garments');
  const models = join(tmp, 'models');
  let pkg: ModelPackage;
  let up: ChildProcess | undefined;
  let router = '';

  before(async function () {
    assert.ok(existsSync(TRAIN_PY), `${TRAIN_PY} is missing: run bash training/setup-venv.sh`);
    execFileSync('/usr/bin/python3', [join(ROOT, 'scripts', 'make-image-folder.py'), '--out', folder, '--classes', '3',
      '--per_class', '40', '--size', String(SIZE)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    const t0 = Date.now();
    const r = spawnSync(TRAIN_PY, [join(ROOT, 'training', 'pipeline.py'), 'all', '--quick', '--data', folder,
      '--out_dir', join(tmp, 'out'), '--models_dir', models], { encoding: 'utf8', timeout: 480_000, cwd: ROOT });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    console.log(`    quick pipeline on ${SIZE}x${SIZE} RGB: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // The exchanging P=2 package, so the byte count is checked on real pushes.
    const entry = loadCatalog(join(models, 'catalog.json')).packages.find((p) => p.partitions === 2 && p.policyId === 'baseline');
    assert.ok(entry, 'the quick pipeline made no P=2 baseline package');
    pkg = loadPackage(join(models, entry.path));
    up = spawn(process.execPath, [BIN, 'up', '--json', '--models-dir', models, '--package', entry.name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    up.stderr!.on('data', (d) => { err += d; });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: up!.stdout! }).once('line', resolve);
      up!.once('exit', (c) => reject(new Error(`up exited with ${c}: ${err}`)));
    });
    router = JSON.parse(line).router;
  });

  after(() => {
    if (up && up.exitCode === null) up.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('should make packages whose manifest input is the folder\'s [3,64,64] and classes its sub-folders', () => {
    const m = pkg.manifest;
    assert.deepEqual(m.input.shape, [3, SIZE, SIZE]);
    assert.equal((m.input as { layout?: string }).layout, 'NHWC');
    assert.deepEqual(m.classes, readdirSync(folder).sort());
    assert.equal(m.head.classes, 3);
    assert.equal((m.input.mean as number[]).length, 3);
    const sample = loadSample(join(models, 'data'));
    assert.deepEqual(sample.imageShape, [SIZE, SIZE, 3]);
  });

  it('should match the PyTorch test vectors through the router and count the manifest\'s bytes per image', async () => {
    const tv = loadTestVectors(pkg);
    const client = new OipClient(router);
    try {
      assert.deepEqual(await client.imageShape(), [SIZE, SIZE, 3]);
      const r = await client.classify(tv.images, tv.count, { logits: true, timeoutMs: 30_000 });
      const k = pkg.manifest.classes.length;
      let maxDiff = 0;
      for (let i = 0; i < tv.count; i++) for (let j = 0; j < k; j++) maxDiff = Math.max(maxDiff, Math.abs(r.logits![i * k + j] - tv.logits[i][j]));
      // 64x64x3 inputs sum more terms than 28x28: the fp32 bound is doubled (measured 5.0e-6 on the quick packages).
      assert.ok(maxDiff <= 2 * logitTolerance(pkg), `max |logit diff| ${maxDiff}`);
      assert.ok(pkg.manifest.metrics.exchangedBytes > 0);
      assert.equal(r.exchangedBytes, tv.count * pkg.manifest.metrics.exchangedBytes);
      assert.equal(r.degraded, false);
    } finally {
      client.close();
    }
  });

  it('should answer tritonclient\'s UINT8 [N,64,64,3] and FP32 [N,3,64,64] alike, and name the shape of a wrong one', function () {
    const t = tritonPython();
    assert.ok(t.python, `tritonclient[grpc] is needed: ${t.reason}`);
    const n = 8;
    const out = execFileSync(t.python!, [TRITON_SCRIPT, router, join(models, 'data', 'images.bin'), String(n)], { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    assert.deepEqual(r.metadata.inputs, [{ name: 'image', datatype: 'UINT8', shape: ['-1', String(SIZE), String(SIZE), '3'] }]);
    assert.deepEqual(r.shape, [n, 3]);
    assert.equal(r.sumsToOne, true);
    assert.equal(r.fp32MaxDiff, 0);
    const sample = loadSample(join(models, 'data'));
    assert.deepEqual(r.labels, r.argmax.map((c: number) => sample.classes[c]));
    assert.deepEqual(r.streamArgmax, r.argmax);
    assert.equal(r.badShapeStatus, 'StatusCode.INVALID_ARGUMENT');
    assert.match(r.badShapeMessage, /inputs\[0\]\.shape: \[1,65,64,3\] is not \[N,64,64,3\] for UINT8/);
  });

  it('should answer a 28x28 grayscale request with INVALID_ARGUMENT naming [N,64,64,3]', async () => {
    const client = new OipClient(router, { imageShape: [28, 28] });
    try {
      await assert.rejects(client.classify(new Uint8Array(784), 1), (e: { code?: number; details?: string }) => {
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.equal(e.details, 'inputs[0].shape: [1,28,28] is not [N,64,64,3] for UINT8');
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('should classify the folder\'s PNG and JPEG files with edgesplit classify, as the sample pixels classify', async () => {
    const cls = readdirSync(folder).sort()[0];
    const files = readdirSync(join(folder, cls)).sort();
    const png = files.find((f) => f.endsWith('.png'))!;
    const jpg = files.find((f) => /\.jpe?g$/.test(f))!;
    assert.ok(png && jpg, `expected PNG and JPEG files in ${cls}: ${files.slice(0, 8).join(', ')}`);
    const r = spawnSync(process.execPath, [BIN, 'classify', '--router', router, '--json', join(folder, cls, png), join(folder, cls, jpg)],
      { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(j.images, 2);
    assert.equal(j.labels.length, 2);
    for (const l of j.labels) assert.ok(pkg.manifest.classes.includes(l), l);
    for (const p of j.probabilities) assert.ok(p >= 1 / 3 && p <= 1, String(p));
    // The same file decoded here with sharp and sent as pixels gives the same label: classify adds no transform.
    const sharp = (await import('sharp')).default;
    const { data } = await sharp(join(folder, cls, png)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const client = new OipClient(router);
    try {
      assert.equal((await client.classify(new Uint8Array(data), 1)).labels[0], j.labels[0]);
    } finally {
      client.close();
    }
    const folderRun = spawnSync(process.execPath, [BIN, 'classify', '--router', router, join(folder, cls)], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(folderRun.status, 0, folderRun.stderr);
    assert.equal(folderRun.stdout.trim().split('\n').length, files.length);
    // And the whole held-out sample through the same router: the accuracy the export computed with onnxruntime.
    const sample = loadSample(join(models, 'data'));
    const s = spawnSync(process.execPath, [BIN, 'classify', '--router', router, '--samples', `0:${sample.count}`, '--models-dir', models, '--json'],
      { encoding: 'utf8', timeout: 120_000 });
    assert.equal(s.status, 0, s.stderr);
    const all = JSON.parse(s.stdout.trim().split('\n').pop()!);
    assert.equal(all.images, sample.count);
    assert.equal(all.accuracy, Number(pkg.manifest.metrics.sampleAccuracy!.toFixed(4)));
  });
});

import { join } from 'node:path';
import type { Io } from '../main.ts';
import { parseFlags, UsageError } from '../../../runtime/cli-args.ts';
import { MODELS_DIR } from '../../../runtime/manifest.ts';
import { imagesOf, loadSample } from '../../../runtime/sample.ts';
import { OipClient } from '../oip-client.ts';
import { expandImagePaths, loadImages } from '../images.ts';
import { withUsage } from '../usage.ts';

const FLAGS = { router: { type: 'string' }, png: { type: 'string' }, samples: { type: 'string' }, json: { type: 'boolean' },
  batch: { type: 'string' }, 'timeout-ms': { type: 'string' }, 'models-dir': { type: 'string' } } as const;

function parseRange(s: string, count: number): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new UsageError('--samples', `expected A:B (images A..B-1 of the shipped sample), got '${s}'`);
  const a = Number(m[1]), b = Number(m[2]);
  if (a >= b || b > count) throw new UsageError('--samples', `${a}:${b} must satisfy A < B <= ${count}`);
  return [a, b];
}

/**
 * `edgesplit classify --router ADDR (IMAGE|FOLDER ... | --samples A:B) [--json]`: a client of the router's OIP API.
 * Image files (PNG, JPEG; a folder's, recursively) are decoded and resized to the served model's input, which
 * the router's ModelMetadata gives; `--png FILE` is the older spelling of one image path.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  return withUsage('classify', io, async () => {
    const { values: v, positionals } = parseFlags(argv, FLAGS, true);
    const router = v.router as string | undefined;
    if (!router || !/^[^\s]+:\d{1,5}$/.test(router)) throw new UsageError('--router', `expected host:port, got '${router ?? ''}'`);
    const paths = [...(v.png ? [v.png as string] : []), ...positionals];
    if (!paths.length === !v.samples) {
      throw new UsageError(v.png ? '--png' : 'images', 'give image files or folders, or --samples A:B (one of the two)');
    }
    const batch = v.batch === undefined ? 32 : Number(v.batch);
    if (!Number.isInteger(batch) || batch < 1) throw new UsageError('--batch', `expected a positive integer, got '${v.batch}'`);
    const timeoutMs = v['timeout-ms'] === undefined ? 10_000 : Number(v['timeout-ms']);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout-ms', `expected a positive integer, got '${v['timeout-ms']}'`);
    const flag = v.png ? '--png' : 'images';
    const files = paths.length ? expandImagePaths(paths, flag) : [];
    // The sample and its range are checked before the router is asked anything.
    const sample = files.length ? undefined : loadSample(join((v['models-dir'] as string | undefined) ?? MODELS_DIR, 'data'));
    const range = sample ? parseRange(v.samples as string, sample.count) : undefined;

    const client = new OipClient(router);
    try {
      let imageShape: readonly number[];
      try {
        imageShape = await client.imageShape();
      } catch (e) {
        throw new UsageError('--router', `cannot read the model's input from ${router} (${(e as Error).message.split('\n')[0]})`);
      }
      let images: Uint8Array;
      let names: string[];
      let truth: number[] | undefined;
      let classes: string[] | undefined;
      if (files.length) {
        images = await loadImages(files, imageShape, flag);
        names = files;
      } else {
        if (sample!.imageShape.join(',') !== imageShape.join(',')) {
          throw new UsageError('--samples', `the sample's images are [${sample!.imageShape.join(',')}] but the router serves [${imageShape.join(',')}] (give --models-dir)`);
        }
        const [a, b] = range!;
        images = imagesOf(sample!, a, b);
        truth = [...sample!.labels.subarray(a, b)];
        classes = sample!.classes;
        names = truth.map((_, i) => `sample ${a + i}`);
      }
      const px = imageShape.reduce((x, y) => x * y, 1);
      const n = images.length / px;
      const labels: string[] = [];
      const probabilities: number[] = [];
      let degraded = 0;
      for (let s = 0; s < n; s += batch) {
        const m = Math.min(batch, n - s);
        const r = await client.classify(images.subarray(s * px, (s + m) * px), m, { timeoutMs });
        const k = r.probabilities.length / m;
        for (let i = 0; i < m; i++) probabilities.push(Math.max(...r.probabilities.subarray(i * k, (i + 1) * k)));
        labels.push(...r.labels);
        if (r.degraded) degraded += m;
      }
      const correct = truth ? labels.filter((l, i) => l === classes![truth![i]]).length : 0;
      const accuracy = truth ? Number((correct / n).toFixed(4)) : null;
      if (!v.json) {
        labels.forEach((l, i) => io.stdout(`${names[i]}: ${l} (p=${probabilities[i].toFixed(3)})${truth ? ` (true: ${classes![truth[i]]})` : ''}`));
        if (truth) io.stdout(`accuracy ${(100 * accuracy!).toFixed(1)}% over ${n} images${degraded ? `; ${degraded} answers degraded` : ''}`);
      } else {
        io.stdout(JSON.stringify({ images: n, accuracy, labels, probabilities: probabilities.map((p) => Number(p.toFixed(6))),
          files: files.length ? files : undefined, degraded }));
      }
      return 0;
    } finally {
      client.close();
    }
  });
}

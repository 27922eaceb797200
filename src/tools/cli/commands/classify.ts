import { join } from 'node:path';
import { z } from 'zod';
import type { Io } from '../main.ts';
import { UsageError } from '../../../runtime/errors.ts';
import { MODELS_DIR } from '../../../runtime/manifest.ts';
import { imagesOf, loadSample } from '../../../runtime/sample.ts';
import { OipClient } from '../oip-client.ts';
import { expandImagePaths, loadImages } from '../images.ts';
import { runCommand, type CommandSpec } from '../usage.ts';
import { intValue, switchValue } from './options.ts';

export const spec = {
  name: 'classify',
  summary: "classify images through a running router (OIP v2 gRPC)",
  help: "Image files (PNG, JPEG; a folder's, recursively) are decoded and resized to the served model's input, which the\n" +
    "router's ModelMetadata gives. Or --samples A:B: images A..B-1 of the shipped sample, with their accuracy.",
  args: { spec: '[images...]', description: 'image files or folders' },
  settings: {
    router: { flag: 'router', arg: 'HOST:PORT', description: "the router's OIP v2 gRPC address (required)" },
    samples: { flag: 'samples', arg: 'A:B', description: 'classify images A..B-1 of the shipped sample instead of files' },
    png: { flag: 'png', arg: 'FILE', description: 'one image file (the older spelling of an image argument)' },
    batch: { flag: 'batch', arg: 'N', description: 'images per request', default: '32' },
    timeoutMs: { flag: 'timeout-ms', arg: 'MS', description: 'deadline of each request', default: '10000' },
    modelsDir: { flag: 'models-dir', arg: 'DIR', description: "where --samples' data/ is (default: the shipped models/)" },
    json: { flag: 'json', kind: 'switch', description: 'print one JSON object {images, accuracy, labels, probabilities, files, degraded}' },
  },
} satisfies CommandSpec;

const schema = z.object({
  router: z.string({ required_error: 'expected host:port' }).regex(/^[^\s]+:\d{1,5}$/, 'expected host:port'),
  samples: z.string().optional(),
  png: z.string().optional(),
  batch: intValue(1),
  timeoutMs: intValue(1),
  modelsDir: z.string().optional(),
  json: switchValue,
});

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
  return runCommand(spec, schema, argv, io, async (v, r) => {
    const { router, batch, timeoutMs } = v;
    const paths = [...(v.png ? [v.png] : []), ...r.positionals];
    if (!paths.length === !v.samples) {
      throw new UsageError(v.png ? '--png' : 'images', 'give image files or folders, or --samples A:B (one of the two)');
    }
    const flag = v.png ? '--png' : 'images';
    const files = paths.length ? expandImagePaths(paths, flag) : [];
    // The sample and its range are checked before the router is asked anything.
    const sample = files.length ? undefined : loadSample(join(v.modelsDir ?? MODELS_DIR, 'data'));
    const range = sample ? parseRange(v.samples!, sample.count) : undefined;

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

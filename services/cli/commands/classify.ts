import { readFileSync } from 'node:fs';
import type { Io } from '../main.ts';
import { parseFlags, UsageError } from '../../common/cli-args.ts';
import { loadSample } from '../../common/sample.ts';
import { OipClient } from '../oip-client.ts';
import { decodePngGray } from '../png.ts';
import { withUsage } from '../usage.ts';

const FLAGS = { router: { type: 'string' }, png: { type: 'string' }, samples: { type: 'string' }, json: { type: 'boolean' },
  batch: { type: 'string' }, 'timeout-ms': { type: 'string' } } as const;

function parseRange(s: string, count: number): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new UsageError('--samples', `expected A:B (images A..B-1 of the shipped sample), got '${s}'`);
  const a = Number(m[1]), b = Number(m[2]);
  if (a >= b || b > count) throw new UsageError('--samples', `${a}:${b} must satisfy A < B <= ${count}`);
  return [a, b];
}

/** `edgesplit classify --router ADDR (--png FILE | --samples A:B) [--json]`: a client of the router's OIP API. */
export async function run(argv: string[], io: Io): Promise<number> {
  return withUsage('classify', io, async () => {
    const { values: v } = parseFlags(argv, FLAGS);
    const router = v.router as string | undefined;
    if (!router || !/^[^\s]+:\d{1,5}$/.test(router)) throw new UsageError('--router', `expected host:port, got '${router ?? ''}'`);
    if (!v.png === !v.samples) throw new UsageError('--png', 'give exactly one of --png FILE or --samples A:B');
    const batch = v.batch === undefined ? 32 : Number(v.batch);
    if (!Number.isInteger(batch) || batch < 1) throw new UsageError('--batch', `expected a positive integer, got '${v.batch}'`);
    const timeoutMs = v['timeout-ms'] === undefined ? 10_000 : Number(v['timeout-ms']);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout-ms', `expected a positive integer, got '${v['timeout-ms']}'`);

    let images: Uint8Array;
    let truth: number[] | undefined;
    let classes: string[] | undefined;
    if (v.png) {
      let png: ReturnType<typeof decodePngGray>;
      try {
        png = decodePngGray(readFileSync(v.png as string));
      } catch (e) {
        throw new UsageError('--png', `${v.png}: ${(e as Error).message}`);
      }
      if (png.width !== 28 || png.height !== 28) {
        throw new UsageError('--png', `${v.png} is ${png.width}x${png.height}; the model takes 28x28 grayscale images (resize it first)`);
      }
      images = png.pixels;
    } else {
      const sample = loadSample();
      const [a, b] = parseRange(v.samples as string, sample.count);
      images = sample.images.subarray(a * 784, b * 784);
      truth = [...sample.labels.subarray(a, b)];
      classes = sample.classes;
    }
    const n = images.length / 784;
    const client = new OipClient(router);
    const labels: string[] = [];
    let degraded = 0;
    try {
      for (let s = 0; s < n; s += batch) {
        const m = Math.min(batch, n - s);
        const r = await client.classify(images.subarray(s * 784, (s + m) * 784), m, { timeoutMs });
        labels.push(...r.labels);
        if (r.degraded) degraded += m;
      }
    } finally {
      client.close();
    }
    const correct = truth ? labels.filter((l, i) => l === classes![truth![i]]).length : 0;
    const accuracy = truth ? Number((correct / n).toFixed(4)) : null;
    if (!v.json) {
      labels.forEach((l, i) => io.stdout(`${v.png ? v.png : `sample ${Number((v.samples as string).split(':')[0]) + i}`}: ${l}${truth ? ` (true: ${classes![truth[i]]})` : ''}`));
      if (truth) io.stdout(`accuracy ${(100 * accuracy!).toFixed(1)}% over ${n} images${degraded ? `; ${degraded} answers degraded` : ''}`);
    } else {
      io.stdout(JSON.stringify({ images: n, accuracy, labels, degraded }));
    }
    return 0;
  });
}

import type { ModelPackage } from '../../runtime/manifest.ts';
import { argmax, quantile } from '../../runtime/stats.ts';
import { imagesOf, loadSample, loadTestVectors, sampleDirFor } from '../../runtime/sample.ts';

/** Anything that classifies a batch: the router through gRPC (demo) or the units in one process (eval). */
export interface Classifier {
  classify(images: Uint8Array, n: number, opts?: { logits?: boolean }): Promise<{ probabilities: Float32Array;
    logits?: Float32Array; exchangedBytes: number; degraded: boolean }>;
}

export interface RunSummary {
  package: string;
  partitions: number;
  policyId: string;
  images: number;
  accuracy: number;
  exchangedBytesPerImage: number;
  p50Ms: number;
  p99Ms: number;
  maxAbsDiffVsReference: number;
}

const round = (v: number, d: number) => Number(v.toFixed(d));

/**
 * Untimed requests before the timed ones. V8 optimises the request path (the client's and every serving
 * process's) over the first few hundred requests, and CPU per request halves meanwhile; without them a p50
 * measures the JIT's warm-up, not the router (`bench runtime` warms up the same way).
 */
export const DEFAULT_WARMUP = 300;

/**
 * Classifies the first `images` sample images one request each (batch 1: the latency a single user sees), after
 * `warmup` untimed ones (the sample's images, cycled), then the package's test vectors in batches with logits,
 * for the parity figure against PyTorch. Only the request is timed: scoring happens after the loop.
 */
export async function measure(c: Classifier, pkg: ModelPackage, images: number, opts: { warmup?: number } = {}): Promise<RunSummary> {
  const sample = loadSample(sampleDirFor(pkg));
  const n = Math.min(images, sample.count);
  const k = pkg.manifest.classes.length;
  for (let i = 0; i < (opts.warmup ?? DEFAULT_WARMUP); i++) await c.classify(imagesOf(sample, i % sample.count, i % sample.count + 1), 1);
  const lat: number[] = [];
  const answers: Awaited<ReturnType<Classifier['classify']>>[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    answers.push(await c.classify(imagesOf(sample, i, i + 1), 1));
    lat.push(performance.now() - t0);
  }
  let correct = 0;
  let bytes = 0;
  answers.forEach((r, i) => {
    if (argmax(r.probabilities, 0, k) === sample.labels[i]) correct++;
    bytes += r.exchangedBytes;
  });
  const tv = loadTestVectors(pkg);
  let maxDiff = 0;
  for (let s = 0; s < tv.count; s += 16) {
    const m = Math.min(16, tv.count - s);
    const r = await c.classify(imagesOf(tv, s, s + m), m, { logits: true });
    if (!r.logits) throw new Error('the classifier returned no logits');
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < k; j++) maxDiff = Math.max(maxDiff, Math.abs(r.logits[i * k + j] - tv.logits[s + i][j]));
    }
  }
  const m = pkg.manifest;
  return {
    package: m.name, partitions: m.partitions, policyId: m.policy.id, images: n,
    accuracy: n ? round(correct / n, 4) : 0, exchangedBytesPerImage: n ? round(bytes / n, 2) : 0,
    p50Ms: round(quantile(lat, 0.5), 3), p99Ms: round(quantile(lat, 0.99), 3), maxAbsDiffVsReference: maxDiff,
  };
}

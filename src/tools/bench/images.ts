// Images for load generators: the sample's when its shape is the served one, else deterministic noise of the
// served shape (random-weight packages of another input size measure latency only; accuracy is not reported).
import { loadSample, type Sample } from '../../runtime/sample.ts';

export interface BenchImages {
  images: Uint8Array;
  count: number;
  pixelsPerImage: number;
  /** null for synthetic images (no accuracy). */
  labels: Uint8Array | null;
}

export function benchImages(imageShape: readonly number[], sample: Sample | undefined = tryLoadSample()): BenchImages {
  const px = imageShape.reduce((a, b) => a * b, 1);
  if (sample && sample.imageShape.join(',') === imageShape.join(',')) {
    return { images: sample.images, count: sample.count, pixelsPerImage: px, labels: sample.labels };
  }
  const count = 64;
  const images = new Uint8Array(count * px);
  let x = 0x9e3779b9;
  for (let i = 0; i < images.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift32
    images[i] = x & 0xff;
  }
  return { images, count, pixelsPerImage: px, labels: null };
}

function tryLoadSample(): Sample | undefined {
  try {
    return loadSample();
  } catch {
    return undefined;
  }
}

/** Images first..first+n-1 (cycling) in one buffer. */
export function batchOf(b: BenchImages, first: number, n: number): Buffer {
  const out = Buffer.alloc(n * b.pixelsPerImage);
  for (let k = 0; k < n; k++) {
    const idx = (first + k) % b.count;
    out.set(b.images.subarray(idx * b.pixelsPerImage, (idx + 1) * b.pixelsPerImage), k * b.pixelsPerImage);
  }
  return out;
}

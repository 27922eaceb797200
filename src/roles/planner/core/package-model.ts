import type { Exchange, PackageModel, Precision } from './types.ts';

/** The parts of a package manifest the planner reads. */
export interface ManifestView {
  name: string;
  partitions: number;
  stem: { flops: number; paramBytes: number };
  blocks: { index: number; flops: number; paramBytes: number; outShape: number[] }[];
  head: { flops: number; inFeatures: number };
  points: { afterBlock: number; channels: number; height: number; width: number }[];
  policy: { id: string; points: { shift: number; fraction: number; precision: Precision }[] };
  metrics: { testAccuracy: number };
  /** [C,H,W]: the image each partition receives is C*H*W uint8 bytes. */
  input: { shape: readonly number[] };
}

const BYTES: Record<Precision, number> = { fp32: 4, fp16: 2, uint8: 1 };
/** Bytes of one uint8 image of the manifest's input shape [C,H,W]. */
export const imageBytes = (input: { shape: readonly number[] }): number => input.shape.reduce((a, b) => a * b, 1);

/** Python's round(): halves go to the even neighbour, as in training/export. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function exchangeBytes(channels: number, height: number, width: number, precision: Precision): number {
  return channels * height * width * BYTES[precision] + (precision === 'uint8' ? 4 : 0);
}

export function packageModel(m: ManifestView, path = m.name): PackageModel {
  const P = m.partitions;
  if (m.policy.points.length !== m.points.length) {
    throw new Error(`${m.name}: policy has ${m.policy.points.length} points, architecture ${m.points.length}`);
  }
  const exchanges: Exchange[] = [];
  m.points.forEach((pt, j) => {
    const q = m.policy.points[j];
    if (P === 1 || q.shift % P === 0) return;
    const channels = Math.max(1, roundHalfEven(q.fraction * pt.channels));
    exchanges.push({
      point: j, afterBlock: pt.afterBlock, shift: q.shift, fraction: q.fraction, precision: q.precision,
      channels, height: pt.height, width: pt.width,
      bytes: exchangeBytes(channels, pt.height, pt.width, q.precision),
    });
  });
  return {
    name: m.name,
    path,
    partitions: P,
    policyId: m.policy.id,
    accuracy: m.metrics.testAccuracy,
    stemFlops: m.stem.flops,
    blockFlops: m.blocks.map((b) => b.flops),
    headFlops: m.head.flops,
    exchanges,
    imageBytes: imageBytes(m.input),
    featureBytes: (4 * m.head.inFeatures) / P,
    paramBytes: m.stem.paramBytes + m.blocks.reduce((s, b) => s + b.paramBytes, 0),
    exchangedBytes: exchanges.reduce((s, x) => s + P * x.bytes, 0),
  };
}

import { activePoints, pointBytesPerImage, sessionRuns } from '../../../runtime/policy.ts';
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
  /** Fused runs of units the package ships (a partition runs each as one session). */
  onnx?: { fused?: readonly { first: number; last: number }[] };
}

/** Bytes of one uint8 image of the manifest's input shape [C,H,W]. */
export const imageBytes = (input: { shape: readonly number[] }): number => input.shape.reduce((a, b) => a * b, 1);

export function packageModel(m: ManifestView, path = m.name): PackageModel {
  const P = m.partitions;
  if (m.policy.points.length !== m.points.length) {
    throw new Error(`${m.name}: policy has ${m.policy.points.length} points, architecture ${m.points.length}`);
  }
  // The runtime's own policy arithmetic: the planner sizes exactly the pushes the partitions make.
  const exchanges: Exchange[] = activePoints(m).map((p) => ({ ...p, bytes: pointBytesPerImage(p) }));
  return {
    name: m.name,
    path,
    partitions: P,
    policyId: m.policy.id,
    accuracy: m.metrics.testAccuracy,
    stemFlops: m.stem.flops,
    blockFlops: m.blocks.map((b) => b.flops),
    unitCalls: unitCalls(m),
    headFlops: m.head.flops,
    exchanges,
    imageBytes: imageBytes(m.input),
    featureBytes: (4 * m.head.inFeatures) / P,
    paramBytes: m.stem.paramBytes + m.blocks.reduce((s, b) => s + b.paramBytes, 0),
    exchangedBytes: exchanges.reduce((s, x) => s + P * x.bytes, 0),
  };
}

/** 1 where a partition starts an onnxruntime call, per unit: every unit, except inside the fused runs it ships. */
export function unitCalls(m: ManifestView): number[] {
  const calls = new Array<number>(m.blocks.length + 1).fill(0);
  for (const r of sessionRuns(m)) calls[r.first] = 1;
  return calls;
}

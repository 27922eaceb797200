// The policy arithmetic the runtime and the planner share: which channels each point sends, to whom, and how many
// bytes that is (docs/design.md section 1). training/edgesplit_train/policy.py is the same in Python.
import { BYTES_PER_ELEMENT, roundHalfEven, type Precision } from './codec.ts';

/** The parts of a manifest the policy arithmetic reads. */
export interface PolicyView {
  partitions: number;
  points: readonly { afterBlock: number; channels: number; height: number; width: number }[];
  policy: { points: readonly { shift: number; fraction: number; precision: Precision }[] };
}

/** One active transmission point, resolved for a given partition count. */
export interface ActivePoint {
  point: number;
  afterBlock: number;
  /** Channels sent (the first k of the sender's block output). */
  k: number;
  shift: number;
  fraction: number;
  precision: Precision;
  channels: number;
  height: number;
  width: number;
}

export function channelsSent(fraction: number, channels: number): number {
  return Math.max(1, roundHalfEven(fraction * channels));
}

/** The points with shift != 0, in order. */
export function activePoints(m: PolicyView): ActivePoint[] {
  return m.points.flatMap((p, j) => {
    const pp = m.policy.points[j];
    if (pp.shift === 0 || m.partitions === 1) return [];
    return [{ point: j, afterBlock: p.afterBlock, k: channelsSent(pp.fraction, p.channels), shift: pp.shift,
      fraction: pp.fraction, precision: pp.precision, channels: p.channels, height: p.height, width: p.width }];
  });
}

export const sendTo = (i: number, shift: number, P: number): number => (i + shift) % P;
export const receiveFrom = (r: number, shift: number, P: number): number => (((r - shift) % P) + P) % P;

/** Bytes one partition puts on the wire at a point for one image: k x H x W elements, plus a uint8 tensor's scale. */
export function pointBytesPerImage(p: Pick<ActivePoint, 'k' | 'height' | 'width' | 'precision'>): number {
  return p.k * p.height * p.width * BYTES_PER_ELEMENT[p.precision] + (p.precision === 'uint8' ? 4 : 0);
}

/** Bytes exchanged per inference (per image), all partitions together (docs/design.md section 1). */
export function exchangedBytesPerImage(m: PolicyView): number {
  return activePoints(m).reduce((s, p) => s + m.partitions * pointBytesPerImage(p), 0);
}

/** A run of consecutive units [first, last] (unit 0 is the stem, unit u is block u-1) one ONNX session can execute. */
export interface UnitSegment {
  first: number;
  last: number;
}

/**
 * The runs of units a partition can execute without looking at an output in between: a run ends after the block
 * of an active point (part of its output is sent), after the next block (the received slice is merged into its
 * output), and at the last unit. training/edgesplit_train/policy.py unit_segments is the same in Python.
 */
export function unitSegments(m: PolicyView & { blocks: readonly unknown[] }): UnitSegment[] {
  const cut = new Set(activePoints(m).flatMap((p) => [p.afterBlock + 1, p.afterBlock + 2]));
  const n = m.blocks.length + 1;
  const out: UnitSegment[] = [];
  let first = 0;
  for (let u = 0; u < n; u++) {
    if (cut.has(u) || u === n - 1) {
      out.push({ first, last: u });
      first = u + 1;
    }
  }
  return out;
}

/** 'stem' for unit 0, 'block<b>' for unit b+1. */
export const unitName = (u: number): string => (u === 0 ? 'stem' : `block${u - 1}`);

/** One onnxruntime session of a partition: a fused run of units the package ships (`file`), or a single unit. */
export interface SessionRun extends UnitSegment {
  /** The fused model, relative to the partition's directory; absent for a single unit. */
  file?: string;
}

/**
 * The sessions a partition runs, in order: each run of units between exchange points that the package ships fused
 * (manifest onnx.fused) as one, every other unit alone; with `fuse` false, every unit alone.
 */
export function sessionRuns(m: PolicyView & { blocks: readonly unknown[];
  onnx?: { fused?: readonly { first: number; last: number; file?: string }[] } }, fuse = true): SessionRun[] {
  const shipped = new Map((fuse ? m.onnx?.fused ?? [] : []).map((f) => [`${f.first}..${f.last}`, f.file ?? '']));
  return unitSegments(m).flatMap((s) => {
    const file = shipped.get(`${s.first}..${s.last}`);
    if (file !== undefined) return [{ ...s, file }];
    return Array.from({ length: s.last - s.first + 1 }, (_, j) => ({ first: s.first + j, last: s.first + j }));
  });
}

/** 'block7' for a single unit, 'stem..block6' for a fused run. */
export const sessionName = (r: UnitSegment): string =>
  (r.first === r.last ? unitName(r.first) : `${unitName(r.first)}..${unitName(r.last)}`);

import { BYTES_PER_ELEMENT, type Precision } from './codec.ts';
import { roundHalfEven } from './codec.ts';
import type { Manifest } from './manifest.ts';

/** One active transmission point, resolved for a given partition count. */
export interface ActivePoint {
  point: number;
  afterBlock: number;
  /** Channels sent (the first k of the sender's block output). */
  k: number;
  shift: number;
  precision: Precision;
  channels: number;
  height: number;
  width: number;
}

export function channelsSent(fraction: number, channels: number): number {
  return Math.max(1, roundHalfEven(fraction * channels));
}

/** The points with shift != 0, in order. */
export function activePoints(m: Manifest): ActivePoint[] {
  return m.points.flatMap((p, j) => {
    const pp = m.policy.points[j];
    if (pp.shift === 0 || m.partitions === 1) return [];
    return [{ point: j, afterBlock: p.afterBlock, k: channelsSent(pp.fraction, p.channels), shift: pp.shift,
      precision: pp.precision, channels: p.channels, height: p.height, width: p.width }];
  });
}

export const sendTo = (i: number, shift: number, P: number): number => (i + shift) % P;
export const receiveFrom = (r: number, shift: number, P: number): number => (((r - shift) % P) + P) % P;

/** Bytes one partition puts on the wire at a point for one image. */
export function pointBytesPerImage(p: ActivePoint): number {
  return p.k * p.height * p.width * BYTES_PER_ELEMENT[p.precision] + (p.precision === 'uint8' ? 4 : 0);
}

/** Bytes exchanged per inference (per image), all partitions together (DESIGN.md section 1). */
export function exchangedBytesPerImage(m: Manifest): number {
  return activePoints(m).reduce((s, p) => s + m.partitions * pointBytesPerImage(p), 0);
}

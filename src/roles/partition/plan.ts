import { decode, wireBytes, type Precision } from '../../runtime/codec.ts';
import { FailedPreconditionError, InvalidArgumentError } from '../../runtime/errors.ts';
import type { Manifest } from '../../runtime/manifest.ts';
import { activePoints, receiveFrom, sendTo, type ActivePoint } from '../../runtime/policy.ts';
import type { Slice } from './state.ts';

/** What partition `index` does at one active point. */
export interface PointPlan extends ActivePoint {
  sendTo: number;
  receiveFrom: number;
}

/** The active points of partition `index`, keyed by the block they follow. */
export function partitionPlan(m: Manifest, index: number): Map<number, PointPlan> {
  const P = m.partitions;
  return new Map(activePoints(m).map((p) => [p.afterBlock, { ...p, sendTo: sendTo(index, p.shift, P),
    receiveFrom: receiveFrom(index, p.shift, P) }]));
}

/** A push as it arrives, transport-neutral (the gRPC handler and LocalTransport both produce it). */
export interface IncomingPush {
  requestId: string;
  point: number;
  from: number;
  package: string;
  tensor: { shape: number[]; precision: Precision; data: Buffer; scales: number[] };
}

/**
 * Checks a push against what the policy says partition `index` receives at that point and decodes it.
 * Every rejection names the field, so a misconfigured peer sees what it got wrong.
 */
export function checkPush(msg: IncomingPush, expect: { package: string; index: number; maxBatch: number;
  byPoint: Map<number, PointPlan> }, now: number): Slice {
  if (msg.package !== expect.package) {
    throw new FailedPreconditionError(`package: push is for ${JSON.stringify(msg.package)}, this partition serves ${expect.package}`);
  }
  if (!msg.requestId) throw new InvalidArgumentError('request_id', 'empty');
  const p = expect.byPoint.get(msg.point);
  if (!p) throw new InvalidArgumentError('point', `partition ${expect.index} receives nothing at point ${msg.point}`);
  if (msg.from !== p.receiveFrom) {
    throw new InvalidArgumentError('from_partition', `point ${msg.point} comes from partition ${p.receiveFrom}, not ${msg.from}`);
  }
  const t = msg.tensor;
  const s = t.shape;
  if (s.length !== 4 || s[1] !== p.k || s[2] !== p.height || s[3] !== p.width) {
    throw new InvalidArgumentError('tensor.shape', `expected [N,${p.k},${p.height},${p.width}], got [${s.join(',')}]`);
  }
  const n = s[0];
  if (!Number.isInteger(n) || n < 1 || n > expect.maxBatch) {
    throw new InvalidArgumentError('tensor.shape', `batch ${n} outside 1..${expect.maxBatch}`);
  }
  if (t.precision !== p.precision) {
    throw new InvalidArgumentError('tensor.precision', `point ${msg.point} travels as ${p.precision}, got ${t.precision}`);
  }
  if (p.precision !== 'uint8' && t.scales.length !== 0) {
    throw new InvalidArgumentError('tensor.scales', `${p.precision} tensors carry no scales, got ${t.scales.length}`);
  }
  const values = decode(t.data, t.scales, n * p.k * p.height * p.width, n, p.precision);
  return { from: msg.from, images: n, values, wireBytes: wireBytes({ data: t.data, scales: t.scales }), receivedAt: now };
}

/** Copies the first k channels of an [N,C,H,W] tensor into a contiguous [N,k,H,W] one. */
export function firstChannels(x: Float32Array, n: number, c: number, hw: number, k: number): Float32Array {
  const out = new Float32Array(n * k * hw);
  for (let i = 0; i < n; i++) out.set(x.subarray(i * c * hw, (i * c + k) * hw), i * k * hw);
  return out;
}

/** y[:, :k] = (y[:, :k] + a) / 2 in float32, in place (the delayed merge). */
export function mergeInto(y: Float32Array, a: Float32Array, n: number, c: number, hw: number, k: number): void {
  for (let i = 0; i < n; i++) {
    const yo = i * c * hw;
    const ao = i * k * hw;
    for (let j = 0; j < k * hw; j++) y[yo + j] = Math.fround((y[yo + j] + a[ao + j]) / 2);
  }
}

/** Mean over H,W per channel, accumulated in float64. */
export function globalAvgPool(x: Float32Array, n: number, c: number, hw: number): Float32Array {
  const out = new Float32Array(n * c);
  for (let i = 0; i < n * c; i++) {
    let s = 0;
    for (let j = i * hw; j < (i + 1) * hw; j++) s += x[j];
    out[i] = s / hw;
  }
  return out;
}

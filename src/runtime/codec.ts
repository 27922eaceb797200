import { endianness } from 'node:os';
import { InvalidArgumentError } from './errors.ts';

// On little-endian hosts (every target we know of) fp32 tensors are copied as whole typed arrays;
// the per-element DataView path stays for big-endian hosts.
const LITTLE_ENDIAN = endianness() === 'LE';

/** Wire precisions of docs/design.md section 1 (names as in manifests). */
export type Precision = 'fp32' | 'fp16' | 'uint8';
export const BYTES_PER_ELEMENT: Record<Precision, number> = { fp32: 4, fp16: 2, uint8: 1 };

export interface Encoded {
  data: Buffer;
  /** uint8 only: one fp32 scale per image. */
  scales: number[];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary32 -> binary16 bits, round to nearest, ties to even (as numpy/torch .half()). */
export function f32ToF16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry correctly rolls into the exponent
  return sign | half;
}

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Round half to even of a float32 value (exact: float32 values are exact doubles). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Per-image uint8 scale: max/255 in float32, or 1 when the max is 0. */
export function uint8Scale(values: Float32Array, start: number, end: number): number {
  let m = 0;
  for (let i = start; i < end; i++) if (values[i] > m) m = values[i];
  return m > 0 ? Math.fround(m / 255) : 1;
}

/**
 * Encodes `values` (row-major, `images` equal slices) at `precision`.
 * Non-finite values are rejected: they would poison the peer's merge.
 */
export function encode(values: Float32Array, images: number, precision: Precision): Encoded {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new InvalidArgumentError('tensor.data', `non-finite value at element ${i}`);
  }
  if (precision === 'fp32') {
    if (LITTLE_ENDIAN) return { data: Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)), scales: [] };
    const data = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) data.writeFloatLE(values[i], i * 4);
    return { data, scales: [] };
  }
  if (precision === 'fp16') {
    const data = Buffer.alloc(values.length * 2);
    if (LITTLE_ENDIAN) {
      const h = new Uint16Array(data.buffer, data.byteOffset, values.length);
      for (let i = 0; i < values.length; i++) h[i] = f32ToF16(values[i]);
    } else {
      for (let i = 0; i < values.length; i++) data.writeUInt16LE(f32ToF16(values[i]), i * 2);
    }
    return { data, scales: [] };
  }
  const per = values.length / images;
  const data = Buffer.alloc(values.length);
  const scales: number[] = [];
  for (let n = 0; n < images; n++) {
    const scale = uint8Scale(values, n * per, (n + 1) * per);
    scales.push(scale);
    for (let i = n * per; i < (n + 1) * per; i++) {
      const q = roundHalfEven(Math.fround(values[i] / scale));
      data[i] = q < 0 ? 0 : q > 255 ? 255 : q;
    }
  }
  return { data, scales };
}

/** Decodes what `encode` produced; checks sizes and scales so a malformed push cannot corrupt a merge. */
export function decode(data: Buffer, scales: readonly number[], elements: number, images: number,
  precision: Precision): Float32Array {
  const want = elements * BYTES_PER_ELEMENT[precision];
  if (data.length !== want) {
    throw new InvalidArgumentError('tensor.data', `expected ${want} bytes for ${elements} ${precision} elements, got ${data.length}`);
  }
  const out = new Float32Array(elements);
  if (precision === 'fp32') {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(data);
    else for (let i = 0; i < elements; i++) out[i] = data.readFloatLE(i * 4);
  } else if (precision === 'fp16') {
    for (let i = 0; i < elements; i++) out[i] = f16ToF32(data.readUInt16LE(i * 2));
  } else {
    if (scales.length !== images) {
      throw new InvalidArgumentError('tensor.scales', `expected ${images} scales, got ${scales.length}`);
    }
    const per = elements / images;
    for (let n = 0; n < images; n++) {
      const s = scales[n];
      if (!Number.isFinite(s) || s <= 0) throw new InvalidArgumentError('tensor.scales', `scale ${n} is ${s}`);
      for (let i = n * per; i < (n + 1) * per; i++) out[i] = Math.fround(data[i] * s);
    }
  }
  for (let i = 0; i < elements; i++) {
    if (!Number.isFinite(out[i])) throw new InvalidArgumentError('tensor.data', `non-finite value at element ${i}`);
  }
  return out;
}

/** Bytes a tensor occupies on the wire, the unit of every exchanged-bytes figure. */
export function wireBytes(enc: Encoded): number {
  return enc.data.length + 4 * enc.scales.length;
}

const PROTO_NAMES: Record<Precision, 'FP32' | 'FP16' | 'UINT8'> = { fp32: 'FP32', fp16: 'FP16', uint8: 'UINT8' };

export function toProtoPrecision(p: Precision): 'FP32' | 'FP16' | 'UINT8' {
  return PROTO_NAMES[p];
}

export function fromProtoPrecision(p: string | number | null | undefined, field = 'tensor.precision'): Precision {
  switch (p) {
    case 'FP32': case 1: return 'fp32';
    case 'FP16': case 2: return 'fp16';
    case 'UINT8': case 3: return 'uint8';
    default: throw new InvalidArgumentError(field, `unknown or unspecified precision ${String(p)}`);
  }
}

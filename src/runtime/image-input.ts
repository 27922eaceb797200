// The model's image input, from the package manifest: the one place that knows image shapes and layouts.
// Served images are uint8 as decoders give them: [N,H,W] for one channel, [N,H,W,C] (channels last) for C > 1.
// FP32 requests are [N,C,H,W] in 0..1 (torchvision's ToTensor()). The stem unit's ONNX input is float32
// [N,C,H,W] holding the 0..255 values; the stem normalises with the manifest's mean/std.
import { InvalidArgumentError } from './errors.ts';

/** The image input of a package (manifest `input`). */
export interface ImageInput {
  channels: number;
  height: number;
  width: number;
  /** Bytes of one served uint8 image: H * W * C. */
  pixels: number;
}

/** A manifest's `input` field (its shape is [C,H,W]). */
export interface ManifestInput { shape: readonly number[] }

export function imageInputOf(input: ManifestInput): ImageInput {
  const [channels, height, width] = input.shape;
  return { channels, height, width, pixels: channels * height * width };
}

/** The served uint8 shape of N images: [N,H,W] or [N,H,W,C]. */
export function uint8Shape(inp: ImageInput, n: number): number[] {
  return inp.channels === 1 ? [n, inp.height, inp.width] : [n, inp.height, inp.width, inp.channels];
}

/** The FP32 request shape of N images: [N,C,H,W]. */
export function fp32Shape(inp: ImageInput, n: number): number[] {
  return [n, inp.channels, inp.height, inp.width];
}

/** The stem unit's input shape for N images: [N,C,H,W]. */
export const unitShape = fp32Shape;

/** '[N,28,28]' or '[N,64,64,3]': the shape clients must send, as error messages and docs write it. */
export function describeUint8Shape(inp: ImageInput): string {
  return `[${['N', ...uint8Shape(inp, 0).slice(1)].join(',')}]`;
}

export function describeFp32Shape(inp: ImageInput): string {
  return `[${['N', ...fp32Shape(inp, 0).slice(1)].join(',')}]`;
}

/** True when `shape` is the served uint8 shape for some N (returned), else undefined. */
export function batchOfUint8Shape(inp: ImageInput, shape: readonly number[]): number | undefined {
  const want = uint8Shape(inp, 0);
  if (shape.length !== want.length) return undefined;
  for (let i = 1; i < want.length; i++) if (shape[i] !== want[i]) return undefined;
  return shape[0];
}

export function batchOfFp32Shape(inp: ImageInput, shape: readonly number[]): number | undefined {
  const want = fp32Shape(inp, 0);
  if (shape.length !== want.length) return undefined;
  for (let i = 1; i < want.length; i++) if (shape[i] !== want[i]) return undefined;
  return shape[0];
}

/**
 * The stem's input from served pixels: uint8 HWC (or HW) -> float32 CHW with the 0..255 values.
 * `out` (length >= n * pixels) is reused when given.
 */
export function pixelsToUnitInput(pixels: Uint8Array, n: number, inp: ImageInput, out?: Float32Array): Float32Array {
  const size = n * inp.pixels;
  const dst = out && out.length >= size ? out.subarray(0, size) : new Float32Array(size);
  const C = inp.channels;
  if (C === 1) {
    for (let i = 0; i < size; i++) dst[i] = pixels[i];
    return dst;
  }
  const hw = inp.height * inp.width;
  for (let b = 0; b < n; b++) {
    const base = b * inp.pixels;
    for (let p = 0; p < hw; p++) {
      const src = base + p * C;
      for (let c = 0; c < C; c++) dst[base + c * hw + p] = pixels[src + c];
    }
  }
  return dst;
}

/** Index into served uint8 pixels (HWC) of element i of an FP32 [N,C,H,W] tensor. */
export function chwToHwcIndex(inp: ImageInput, i: number): number {
  if (inp.channels === 1) return i;
  const hw = inp.height * inp.width;
  const b = Math.floor(i / inp.pixels);
  const r = i - b * inp.pixels;
  const c = Math.floor(r / hw);
  const p = r - c * hw;
  return b * inp.pixels + p * inp.channels + c;
}

/** Checks a batch of served pixels against the input; errors name `field`. */
export function checkPixels(inp: ImageInput, n: number, bytes: number, field: string): void {
  if (bytes !== n * inp.pixels) {
    throw new InvalidArgumentError(field, `expected ${n * inp.pixels} bytes for ${n} images of ${describeUint8Shape(inp).replace('N,', '')}, got ${bytes}`);
  }
}

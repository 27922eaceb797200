import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { decode, encode, f16ToF32, f32ToF16, roundHalfEven, wireBytes } from '../../src/runtime/codec.ts';
import { InvalidArgumentError } from '../../src/runtime/errors.ts';

interface Golden {
  fp16: { x: number; h: number }[];
  uint8: { images: number; x: number[]; scales: number[]; q: string; decoded: number[] }[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/codec-golden.json', import.meta.url), 'utf8')) as Golden;

const fromBits = (bits: number[]): Float32Array => new Float32Array(new Uint32Array(bits).buffer);
const toBits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const f32 = (v: number): number => Math.fround(v);

function assertInvalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && e.code === status.INVALID_ARGUMENT && e.field === field);
}

describe('codec', () => {
  describe('fp16', () => {
    const cases: [string, number, number][] = [
      ['should round a tie down to even (1 + 2^-11 -> 1)', 1 + 2 ** -11, 0x3c00],
      ['should round a tie up to even (1 + 3*2^-11 -> 1 + 2^-9)', 1 + 3 * 2 ** -11, 0x3c02],
      ['should round just above a tie up', 1 + 2 ** -11 + 2 ** -23, 0x3c01],
      ['should keep the largest finite half', 65504, 0x7bff],
      ['should round 65519 down to 65504', 65519, 0x7bff],
      ['should overflow 65520 (a tie at the top) to infinity', 65520, 0x7c00],
      ['should map -70000 to -infinity', -70000, 0xfc00],
      ['should keep the smallest normal', 2 ** -14, 0x0400],
      ['should keep the smallest subnormal', 2 ** -24, 0x0001],
      ['should round half the smallest subnormal (a tie) to zero', 2 ** -25, 0x0000],
      ['should round 3*2^-25 (a tie) up to the even subnormal 2*2^-24', 3 * 2 ** -25, 0x0002],
      ['should round 5*2^-25 (a tie) down to the even subnormal 2*2^-24', 5 * 2 ** -25, 0x0002],
      ['should round a subnormal carry into the smallest normal', 2 ** -14 - 2 ** -25, 0x0400],
      ['should flush 2^-26 to zero', 2 ** -26, 0x0000],
      ['should keep the sign of negative zero', -0, 0x8000],
      ['should map infinity', Infinity, 0x7c00],
      ['should map NaN to a quiet NaN', NaN, 0x7e00],
    ];
    for (const [name, x, h] of cases) {
      it(name, () => assert.equal(f32ToF16(f32(x)), h));
    }

    it('should match numpy float16 bit for bit on the golden values', () => {
      const xs = fromBits(golden.fp16.map((g) => g.x));
      const bad = golden.fp16.filter((g, i) => f32ToF16(xs[i]) !== g.h);
      assert.deepEqual(bad, []);
    });

    it('should round-trip every finite half exactly', () => {
      for (let h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) === 0x7c00) continue;
        assert.equal(f32ToF16(f16ToF32(h)), h);
      }
    });

    it('should encode and decode little-endian halves of 2 bytes each', () => {
      const x = new Float32Array([1, -2, 0.5, 65504]);
      const enc = encode(x, 1, 'fp16');
      assert.equal(enc.data.length, 8);
      assert.equal(enc.data.readUInt16LE(2), 0xc000);
      assert.deepEqual(Array.from(decode(enc.data, [], 4, 1, 'fp16')), [1, -2, 0.5, 65504]);
    });
  });

  describe('uint8', () => {
    it('should round half to even', () => {
      assert.deepEqual([0.5, 1.5, 2.5, 3.5, -1.5, 254.5].map(roundHalfEven), [0, 2, 2, 4, -2, 254]);
    });

    it('should use one scale per image, 1 for an all-zero image', () => {
      const x = new Float32Array([0, 0, 0, 0, 0.25, 1e-6, 3, 0.75]);
      const enc = encode(x, 2, 'uint8');
      assert.deepEqual(enc.scales, [1, Math.fround(3 / 255)]);
      assert.equal(wireBytes(enc), 8 + 2 * 4);
      assert.deepEqual(Array.from(enc.data.subarray(0, 4)), [0, 0, 0, 0]);
      assert.equal(enc.data[6], 255);
    });

    it('should round exact ties to even at scale 1', () => {
      const enc = encode(new Float32Array([0.5, 1.5, 2.5, 3.5, 254.5, 255, 0, 127.5]), 1, 'uint8');
      assert.deepEqual(enc.scales, [1]);
      assert.deepEqual(Array.from(enc.data), [0, 2, 2, 4, 254, 255, 0, 128]);
    });

    it('should match numpy (onnx_check.wire) byte for byte on the golden tensors', () => {
      for (const [i, g] of golden.uint8.entries()) {
        const x = fromBits(g.x);
        const enc = encode(x, g.images, 'uint8');
        assert.equal(enc.data.toString('hex'), g.q, `tensor ${i}: q`);
        assert.deepEqual(toBits(new Float32Array(enc.scales)), g.scales, `tensor ${i}: scales`);
        const dec = decode(enc.data, enc.scales, x.length, g.images, 'uint8');
        assert.deepEqual(toBits(dec), g.decoded, `tensor ${i}: decoded`);
      }
    });
  });

  describe('fp32', () => {
    it('should encode little-endian singles and decode them unchanged', () => {
      const x = new Float32Array([1.5, -0, 3.4e38, 1e-45]);
      const enc = encode(x, 1, 'fp32');
      assert.equal(enc.data.readFloatLE(0), 1.5);
      assert.deepEqual(toBits(decode(enc.data, [], 4, 1, 'fp32')), toBits(x));
    });
  });

  describe('rejections', () => {
    it('should reject non-finite values when encoding', () => {
      for (const p of ['fp32', 'fp16', 'uint8'] as const) {
        assertInvalid(() => encode(new Float32Array([1, NaN]), 1, p), 'tensor.data');
        assertInvalid(() => encode(new Float32Array([Infinity]), 1, p), 'tensor.data');
      }
    });

    it('should reject a data length that does not match the shape', () => {
      assertInvalid(() => decode(Buffer.alloc(15), [], 4, 1, 'fp32'), 'tensor.data');
      assertInvalid(() => decode(Buffer.alloc(9), [], 4, 1, 'fp16'), 'tensor.data');
      assertInvalid(() => decode(Buffer.alloc(3), [1], 4, 1, 'uint8'), 'tensor.data');
    });

    it('should reject a wrong number of scales', () => {
      assertInvalid(() => decode(Buffer.alloc(4), [1], 4, 2, 'uint8'), 'tensor.scales');
      assertInvalid(() => decode(Buffer.alloc(4), [], 4, 1, 'uint8'), 'tensor.scales');
    });

    it('should reject zero, negative and non-finite scales', () => {
      for (const s of [0, -1, NaN, Infinity]) assertInvalid(() => decode(Buffer.alloc(4), [s], 4, 1, 'uint8'), 'tensor.scales');
    });

    it('should reject decoded non-finite values (fp16 infinity, fp32 NaN)', () => {
      const h = Buffer.alloc(2);
      h.writeUInt16LE(0x7c00);
      assertInvalid(() => decode(h, [], 1, 1, 'fp16'), 'tensor.data');
      const f = Buffer.alloc(4);
      f.writeFloatLE(NaN);
      assertInvalid(() => decode(f, [], 1, 1, 'fp32'), 'tensor.data');
    });
  });
});

import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { encode } from '../../src/runtime/codec.ts';
import { EdgesplitError } from '../../src/runtime/errors.ts';
import { checkPush, firstChannels, globalAvgPool, mergeInto, type IncomingPush, type PointPlan }
  from '../../src/roles/partition/plan.ts';
import { RequestTable, type Slice, type StateLimits } from '../../src/roles/partition/state.ts';
import { FakeClock } from '../fakes/fake-clock.ts';

const LIMITS: StateLimits = { maxInFlight: 2, earlyPushTtlMs: 2000, maxEarlyPushes: 3, maxEarlyBytes: 1024, finishedMemory: 2 };

const slice = (images = 1, floats = 4): Slice => ({ from: 0, images, values: new Float32Array(floats), wireBytes: floats * 4, receivedAt: 0 });

function assertCode(fn: () => unknown, code: status, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgesplitError, `not an EdgesplitError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (field) assert.ok(e.message.startsWith(`${field}:`), e.message);
    return true;
  });
}

describe('partition request state', () => {
  let clock: FakeClock;
  let table: RequestTable;
  beforeEach(() => {
    clock = new FakeClock();
    table = new RequestTable(LIMITS, clock.now);
  });

  it('should refuse a request over maxInFlight with RESOURCE_EXHAUSTED and accept it after one closes', () => {
    table.open('a', 1);
    table.open('b', 1);
    assertCode(() => table.open('c', 1), status.RESOURCE_EXHAUSTED);
    table.close('a');
    table.open('c', 1);
    table.close('b');
    table.close('c');
    assert.equal(table.stats().inFlight, 0);
  });

  it('should refuse a second Run with an id in flight with ALREADY_EXISTS', () => {
    table.open('a', 1);
    assertCode(() => table.open('a', 1), status.ALREADY_EXISTS);
  });

  it('should deliver a push to its in-flight request and wake the waiter', () => {
    const slots = table.open('a', 1);
    let got: Slice | undefined;
    slots.onArrive(3, (s) => { got = s; });
    const s = slice();
    assert.equal(table.deliver('a', 3, s), 'delivered');
    assert.equal(got, s);
  });

  it('should hold an early push until its Run opens and then hand it over', () => {
    const s = slice();
    assert.equal(table.deliver('a', 0, s), 'buffered');
    assert.equal(table.stats().earlyBuffered, 1);
    const slots = table.open('a', 1);
    assert.equal(slots.take(0), s);
    assert.equal(table.stats().earlyBuffered, 0);
    assert.equal(table.stats().earlyBytes, 0);
  });

  it('should drop and count an early push whose Run never comes within the TTL', () => {
    table.deliver('a', 0, slice());
    clock.advance(LIMITS.earlyPushTtlMs - 1);
    assert.equal(table.sweep(), 0);
    clock.advance(1);
    assert.equal(table.sweep(), 1);
    assert.deepEqual(table.stats(), { inFlight: 0, earlyBuffered: 0, earlyBytes: 0, droppedPushes: 1 });
    const slots = table.open('a', 1);
    assert.equal(slots.take(0), undefined);
  });

  it('should bound the early buffer by count and by bytes with RESOURCE_EXHAUSTED', () => {
    table.deliver('a', 0, slice());
    table.deliver('b', 0, slice());
    table.deliver('c', 0, slice());
    assertCode(() => table.deliver('d', 0, slice()), status.RESOURCE_EXHAUSTED);
    const big = new RequestTable({ ...LIMITS, maxEarlyPushes: 100 }, clock.now);
    big.deliver('a', 0, slice(1, 200));
    assertCode(() => big.deliver('b', 0, slice(1, 100)), status.RESOURCE_EXHAUSTED);
    assert.equal(big.stats().droppedPushes, 1);
  });

  it('should reject a duplicate push with ALREADY_EXISTS, early, in flight and after its merge', () => {
    table.deliver('a', 0, slice());
    assertCode(() => table.deliver('a', 0, slice()), status.ALREADY_EXISTS);
    const slots = table.open('a', 1);
    assertCode(() => table.deliver('a', 0, slice()), status.ALREADY_EXISTS);
    slots.take(0);
    assertCode(() => table.deliver('a', 0, slice()), status.ALREADY_EXISTS);
    assert.equal(table.deliver('a', 1, slice()), 'delivered');
    assert.equal(table.stats().droppedPushes, 3);
  });

  it('should drop and count a push for a finished request, never merging it into a reused id', () => {
    table.open('a', 1);
    table.close('a');
    assert.equal(table.deliver('a', 0, slice()), 'dropped');
    assert.equal(table.stats().droppedPushes, 1);
    assert.equal(table.stats().earlyBuffered, 0);
    const slots = table.open('a', 1);
    assert.equal(slots.take(0), undefined);
  });

  it('should drop an early push built for another batch size when its Run opens', () => {
    table.deliver('a', 0, slice(2, 8));
    const slots = table.open('a', 1);
    assert.equal(slots.take(0), undefined);
    assert.equal(table.stats().droppedPushes, 1);
    assertCode(() => table.deliver('a', 1, slice(2, 8)), status.INVALID_ARGUMENT, 'tensor.shape');
  });

  it('should remember only finishedMemory finished ids', () => {
    for (const id of ['a', 'b', 'c']) {
      table.open(id, 1);
      table.close(id);
    }
    assert.equal(table.deliver('a', 0, slice()), 'buffered');
    assert.equal(table.deliver('c', 0, slice()), 'dropped');
  });

  it('should count every early push as dropped on clearEarly (shutdown)', () => {
    table.deliver('a', 0, slice());
    table.deliver('a', 1, slice());
    table.clearEarly();
    assert.deepEqual(table.stats(), { inFlight: 0, earlyBuffered: 0, earlyBytes: 0, droppedPushes: 2 });
  });
});

describe('partition push validation', () => {
  const plan: PointPlan = { point: 2, afterBlock: 3, k: 2, shift: 1, fraction: 0.5, precision: 'uint8', channels: 4, height: 2,
    width: 2, sendTo: 2, receiveFrom: 0 };
  const expect = { package: 'pkg', index: 1, maxBatch: 4, byPoint: new Map([[2, plan]]) };
  const good = (): IncomingPush => {
    const enc = encode(new Float32Array(2 * 2 * 4).map((_, i) => i), 2, 'uint8');
    return { requestId: 'r', point: 2, from: 0, package: 'pkg',
      tensor: { shape: [2, 2, 2, 2], precision: 'uint8', data: enc.data, scales: enc.scales } };
  };

  it('should accept and decode a push that matches the policy', () => {
    const s = checkPush(good(), expect, 0);
    assert.equal(s.images, 2);
    assert.equal(s.values.length, 16);
    assert.equal(s.wireBytes, 16 + 8);
  });

  const bad: [string, (m: IncomingPush) => void, status, string][] = [
    ['another package', (m) => { m.package = 'other'; }, status.FAILED_PRECONDITION, 'package'],
    ['an empty request id', (m) => { m.requestId = ''; }, status.INVALID_ARGUMENT, 'request_id'],
    ['a point this partition does not receive', (m) => { m.point = 1; }, status.INVALID_ARGUMENT, 'point'],
    ['the wrong sender', (m) => { m.from = 3; }, status.INVALID_ARGUMENT, 'from_partition'],
    ['the wrong channel count', (m) => { m.tensor.shape = [2, 3, 2, 2]; }, status.INVALID_ARGUMENT, 'tensor.shape'],
    ['a rank-3 shape', (m) => { m.tensor.shape = [2, 2, 4]; }, status.INVALID_ARGUMENT, 'tensor.shape'],
    ['a batch over maxBatch', (m) => { m.tensor.shape = [5, 2, 2, 2]; }, status.INVALID_ARGUMENT, 'tensor.shape'],
    ['a zero batch', (m) => { m.tensor.shape = [0, 2, 2, 2]; }, status.INVALID_ARGUMENT, 'tensor.shape'],
    ['another precision', (m) => { m.tensor.precision = 'fp16'; }, status.INVALID_ARGUMENT, 'tensor.precision'],
    ['too few bytes', (m) => { m.tensor.data = m.tensor.data.subarray(1); }, status.INVALID_ARGUMENT, 'tensor.data'],
    ['a missing scale', (m) => { m.tensor.scales = m.tensor.scales.slice(1); }, status.INVALID_ARGUMENT, 'tensor.scales'],
    ['a NaN scale', (m) => { m.tensor.scales = [NaN, 1]; }, status.INVALID_ARGUMENT, 'tensor.scales'],
  ];
  for (const [name, mutate, code, field] of bad) {
    it(`should reject ${name} naming ${field}`, () => {
      const m = good();
      mutate(m);
      assertCode(() => checkPush(m, expect, 0), code, field);
    });
  }

  it('should reject scales on an fp32 push and non-finite fp32 values', () => {
    const p32: PointPlan = { ...plan, precision: 'fp32' };
    const e32 = { ...expect, byPoint: new Map([[2, p32]]) };
    const data = Buffer.alloc(8 * 4);
    const m: IncomingPush = { requestId: 'r', point: 2, from: 0, package: 'pkg',
      tensor: { shape: [1, 2, 2, 2], precision: 'fp32', data, scales: [1] } };
    assertCode(() => checkPush(m, e32, 0), status.INVALID_ARGUMENT, 'tensor.scales');
    m.tensor.scales = [];
    data.writeFloatLE(Infinity, 4);
    assertCode(() => checkPush(m, e32, 0), status.INVALID_ARGUMENT, 'tensor.data');
  });
});

describe('partition tensor helpers', () => {
  // [N=2, C=3, HW=2]
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

  it('should copy the first k channels of each image contiguously', () => {
    assert.deepEqual(Array.from(firstChannels(x, 2, 3, 2, 2)), [1, 2, 3, 4, 7, 8, 9, 10]);
  });

  it('should merge (y + a) / 2 into the first k channels only, in float32', () => {
    const y = Float32Array.from(x);
    mergeInto(y, Float32Array.from([3, 4, 5, 6, 0.1, 0, 0, 0]), 2, 3, 2, 2);
    assert.deepEqual(Array.from(y), [2, 3, 4, 5, 5, 6, Math.fround((7 + Math.fround(0.1)) / 2), 4, 4.5, 5, 11, 12]);
  });

  it('should average over H and W per channel', () => {
    assert.deepEqual(Array.from(globalAvgPool(x, 2, 3, 2)), [1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
  });
});

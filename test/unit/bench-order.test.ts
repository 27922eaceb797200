import assert from 'node:assert/strict';
import { groupByFamily, mirroredOrder, poolPasses, splitCount } from '../../src/tools/bench/interleave.ts';

const order = (items: string[], passes: number) => mirroredOrder(items, passes).map((s) => `${s.item}${s.pass}`).join(' ');

describe('bench measurement order (interleaved mirrored passes)', () => {
  it('should measure A B C then C B A in two passes', () => {
    assert.equal(order(['A', 'B', 'C'], 2), 'A0 B0 C0 C1 B1 A1');
    assert.deepEqual(mirroredOrder(['x', 'y'], 2), [{ item: 'x', pass: 0 }, { item: 'y', pass: 0 }, { item: 'y', pass: 1 }, { item: 'x', pass: 1 }]);
  });

  it('should alternate the direction over four passes so every item has the same mean position', () => {
    assert.equal(order(['A', 'B', 'C'], 4), 'A0 B0 C0 C1 B1 A1 A2 B2 C2 C3 B3 A3');
    const slots = mirroredOrder(['A', 'B', 'C'], 4);
    const meanPos = (x: string) => slots.flatMap((s, i) => (s.item === x ? [i] : [])).reduce((t, i) => t + i, 0) / 4;
    assert.deepEqual(['A', 'B', 'C'].map(meanPos), [5.5, 5.5, 5.5]);
  });

  it('should give A/B/A for one item per pass pair and handle one item and one pass', () => {
    assert.equal(order(['A', 'B'], 3), 'A0 B0 B1 A1 A2 B2');
    assert.equal(order(['A'], 2), 'A0 A1');
    assert.equal(order(['A', 'B'], 1), 'A0 B0');
    assert.deepEqual(mirroredOrder([], 2), []);
  });

  it('should reject a pass count that is not a positive integer', () => {
    assert.throws(() => mirroredOrder(['A'], 0), /positive integer/);
    assert.throws(() => mirroredOrder(['A'], 1.5), /positive integer/);
  });

  it('should split a request count over passes as evenly as possible, larger shares first', () => {
    assert.deepEqual(splitCount(100, 2), [50, 50]);
    assert.deepEqual(splitCount(101, 2), [51, 50]);
    assert.deepEqual(splitCount(200, 4), [50, 50, 50, 50]);
    assert.deepEqual(splitCount(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(splitCount(1, 3), [1, 0, 0]);
    assert.deepEqual(splitCount(0, 2), [0, 0]);
    assert.throws(() => splitCount(10, 0), /positive integer/);
  });
});

describe('bench pooling of passes', () => {
  it('should take the median over all samples of all passes, not the median of pass medians', () => {
    // Pass medians 2 and 20 (their mean 11); the pooled median is between the 3rd and 4th of 1 2 3 4 20 30: 3.5.
    const p = poolPasses([[1, 2, 3], [4, 20, 30]]);
    assert.equal(p.p50, 3.5);
    assert.deepEqual(p.passP50, [2, 20]);
    assert.equal(p.n, 6);
    assert.deepEqual(p.samples, [1, 2, 3, 4, 20, 30]);
  });

  it('should report the 95th percentile over the pooled samples', () => {
    const p = poolPasses([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]]);
    // 21 samples 1..21: position 0.95 * 20 = 19 -> 20.
    assert.equal(p.p95, 20);
    assert.equal(p.p50, 11);
    assert.deepEqual(p.passP50, [5.5, 16]);
  });

  it('should round each pass median and mark a pass that measured nothing as null', () => {
    const p = poolPasses([[1.234, 1.238], [], [2.0004]]);
    assert.deepEqual(p.passP50, [1.24, null, 2]);
    assert.equal(p.n, 3);
    assert.equal(p.p50, 1.238);
    assert.deepEqual(poolPasses([[1.25]], 1).passP50, [1.3]);
  });

  it('should give NaN percentiles and no samples when no pass measured anything', () => {
    const p = poolPasses([[], []]);
    assert.equal(p.n, 0);
    assert.ok(Number.isNaN(p.p50) && Number.isNaN(p.p95));
    assert.deepEqual(p.passP50, [null, null]);
  });
});

describe('bench groups of configurations started together', () => {
  it('should group by model family in first-seen order within a process budget', () => {
    const items = [
      { family: 'fmnist', procs: 1 }, { family: 'fmnist', procs: 4 }, { family: 'wide4x', procs: 1 },
      { family: 'fmnist', procs: 4 }, { family: 'wide4x', procs: 4 }, { family: 'fmnist', procs: 2 },
    ];
    assert.deepEqual(groupByFamily(items, 24), [[0, 1, 3, 5], [2, 4]]);
    assert.deepEqual(groupByFamily(items, 9), [[0, 1, 3], [5], [2, 4]]);
  });

  it('should give an item larger than the budget a group of its own', () => {
    assert.deepEqual(groupByFamily([{ family: 'a', procs: 2 }, { family: 'a', procs: 8 }, { family: 'a', procs: 1 }], 4), [[0], [1], [2]]);
    assert.deepEqual(groupByFamily([], 4), []);
  });
});

import assert from 'node:assert/strict';
import { argmax, mean, median, quantile } from '../../src/runtime/stats.ts';

describe('stats (the one quantile, median and argmax)', () => {
  it('should interpolate quantiles between ranks of unsorted values', () => {
    assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(quantile([1, 2, 3, 4, 5], 0.99), 4.96);
    assert.equal(quantile([7], 0.95), 7);
    assert.equal(quantile([1, 9], 0), 1);
    assert.equal(quantile([1, 9], 1), 9);
    assert.ok(Number.isNaN(quantile([], 0.5)));
    assert.equal(mean([1, 2, 6]), 3);
  });

  it('should pick the first largest entry of a row', () => {
    const p = new Float32Array([0.1, 0.7, 0.2, 0.4, 0.4, 0.2]);
    assert.equal(argmax(p, 0, 3), 1);
    assert.equal(argmax(p, 1, 3), 0);
  });
});

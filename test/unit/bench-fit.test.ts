import assert from 'node:assert/strict';
import { fitLine, fitPasses } from '../../src/tools/bench/fit.ts';

describe('bench cost fits (non-negative least squares)', () => {
  it('should recover gflops and per-call overhead from exact pass timings', () => {
    // 2 GFLOPS and 0.1 ms per call: 10 MFLOP in 11 calls = 5 + 1.1 ms; 2.5 MFLOP in 11 calls = 1.25 + 1.1 ms.
    const fit = fitPasses([{ flops: 10e6, units: 11, ms: 6.1 }, { flops: 2.5e6, units: 11, ms: 2.35 }, { flops: 5e6, units: 5, ms: 3 }]);
    assert.ok(Math.abs(fit.gflops - 2) < 1e-9);
    assert.ok(Math.abs(fit.perCallOverheadMs - 0.1) < 1e-9);
  });

  it('should keep gflops positive when the smaller pass timed slower (the CI failure: gflops -43)', () => {
    // Same unit count, more FLOPs but less time: the unconstrained fit gives 1/G < 0.
    const fit = fitPasses([{ flops: 10e6, units: 11, ms: 4 }, { flops: 2.5e6, units: 11, ms: 4.5 }]);
    assert.ok(fit.gflops > 0 && Number.isFinite(fit.gflops), `gflops ${fit.gflops}`);
    assert.equal(fit.perCallOverheadMs, 0);
    // On c = 0 the least-squares slope through the origin: sum(f*ms) / sum(f^2).
    const inv = (10e6 * 4 + 2.5e6 * 4.5) / (10e6 ** 2 + 2.5e6 ** 2);
    assert.ok(Math.abs(fit.gflops - 1 / (inv * 1e6)) < 1e-9);
  });

  it('should clamp a negative per-call overhead to 0 and refit the compute term', () => {
    const fit = fitPasses([{ flops: 10e6, units: 11, ms: 4 }, { flops: 2.5e6, units: 11, ms: 0.5 }]);
    assert.equal(fit.perCallOverheadMs, 0);
    assert.ok(fit.gflops > 0);
  });

  it('should fit a line exactly and keep both terms non-negative on noisy points', () => {
    assert.deepEqual(fitLine([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), { a: 1, b: 2 });
    const falling = fitLine([{ x: 1, y: 3 }, { x: 2, y: 2 }]);
    assert.deepEqual(falling, { a: 2.5, b: 0 });
    const negIntercept = fitLine([{ x: 1, y: 1 }, { x: 2, y: 3 }]);
    assert.equal(negIntercept.a, 0);
    assert.ok(Math.abs(negIntercept.b - 7 / 5) < 1e-12);
  });

  it('should refuse to fit nothing', () => {
    assert.throws(() => fitPasses([]), RangeError);
    assert.throws(() => fitLine([]), RangeError);
  });
});

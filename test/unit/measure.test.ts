import assert from 'node:assert/strict';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { measure, type Classifier } from '../../src/tools/cli/measure.ts';

const pkg = loadPackage(resolvePackageDir('fmnist-p4-x-x-x-x-1au-x'));
const k = pkg.manifest.classes.length;

/** Answers class 0 for everything; the first `slow` calls take 50 ms (a cold JIT), the rest none. */
function fake(slow: number): Classifier & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    async classify(_images, n, opts) {
      calls.push(n);
      if (calls.length <= slow) await new Promise((r) => setTimeout(r, 50));
      const probabilities = new Float32Array(n * k);
      for (let i = 0; i < n; i++) probabilities[i * k] = 1;
      return { probabilities, logits: opts?.logits ? new Float32Array(n * k) : undefined, exchangedBytes: 10 * n, degraded: false };
    },
  };
}

describe('measure (the demo, eval and up --summary figures)', () => {
  it('should send the warm-up requests untimed before the timed ones', async () => {
    const c = fake(30);
    const s = await measure(c, pkg, 40, { warmup: 30 });
    assert.equal(c.calls.slice(0, 70).filter((n) => n === 1).length, 70, 'warm-up and timed requests are batch 1');
    assert.equal(s.images, 40);
    assert.ok(s.p99Ms < 40, `the slow warm-up calls were timed: p99 ${s.p99Ms} ms`);
    assert.equal(s.exchangedBytesPerImage, 10, 'only the timed requests count');
  });

  it('should time the cold requests when told not to warm up', async () => {
    const s = await measure(fake(30), pkg, 40, { warmup: 0 });
    assert.ok(s.p50Ms >= 40, `p50 ${s.p50Ms} ms`);
  });
});

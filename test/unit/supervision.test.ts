import assert from 'node:assert/strict';
import { backoffMs } from '../../src/tools/cli/stack.ts';

describe('edgesplit up supervision (restart back-off)', () => {
  it('should double the back-off from 1 s up to the 30 s cap, as a kubelet does', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.deepEqual([0, 1, 2].map((n) => backoffMs(n, { initialMs: 100, maxMs: 250 })), [100, 200, 250]);
  });
});

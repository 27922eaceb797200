import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unitCalls } from '../../src/roles/planner/core/package-model.ts';
import { PackageError } from '../../src/runtime/errors.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { unitSegments, type PolicyView } from '../../src/runtime/policy.ts';

/** Nine blocks after the stem and six points, as the shipped architecture; `active` lists afterBlock of shift-1 points. */
function view(active: number[], partitions = 4): PolicyView & { blocks: unknown[] } {
  const afterBlocks = [0, 1, 3, 4, 6, 7];
  return {
    partitions,
    blocks: new Array(9).fill({}),
    points: afterBlocks.map((afterBlock) => ({ afterBlock, channels: 16, height: 7, width: 7 })),
    policy: { points: afterBlocks.map((b) => ({ shift: active.includes(b) ? 1 : 0, fraction: 0.25, precision: 'uint8' as const })) },
  };
}
const runs = (v: PolicyView & { blocks: unknown[] }) => unitSegments(v).map((s) => `${s.first}..${s.last}`);

describe('fused runs of units', () => {
  it('should run the whole partition as one session when nothing is exchanged', () => {
    assert.deepEqual(runs(view([])), ['0..9']);
    assert.deepEqual(runs(view([0, 6], 1)), ['0..9']); // P = 1 exchanges nothing whatever the policy says
  });

  it('should end a run after the sending block and after the block whose output takes the merge', () => {
    assert.deepEqual(runs(view([6])), ['0..7', '8..8', '9..9']);
    assert.deepEqual(runs(view([3])), ['0..4', '5..5', '6..9']);
    assert.deepEqual(runs(view([1, 4, 7])), ['0..2', '3..3', '4..5', '6..6', '7..8', '9..9']);
    assert.deepEqual(runs(view([0, 1, 3, 4, 6, 7])), ['0..1', '2..2', '3..3', '4..4', '5..5', '6..6', '7..7', '8..8', '9..9']);
  });

  it('should count one onnxruntime call per shipped fused run and one per unit elsewhere', () => {
    const v = { ...view([6]), stem: { flops: 0, paramBytes: 0 } };
    const m = { ...v, blocks: v.blocks.map((_, index) => ({ index, flops: 1, paramBytes: 0, outShape: [1, 1, 1] })) };
    assert.deepEqual(unitCalls({ ...m, onnx: { fused: [{ first: 0, last: 7 }] } } as never), [1, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert.deepEqual(unitCalls(m as never), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('should refuse a manifest whose onnx.fused run crosses an exchange point, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgesplit-fused-'));
    try {
      cpSync(resolvePackageDir('fmnist-p4-x-x-x-x-1au-x'), dir, { recursive: true });
      const path = join(dir, 'manifest.json');
      const m = JSON.parse(readFileSync(path, 'utf8'));
      assert.deepEqual(m.onnx.fused, [{ first: 0, last: 7, file: 'fused/stem-block6.onnx' }]);
      m.onnx.fused = [{ first: 0, last: 8, file: 'fused/stem-block7.onnx' }];
      writeFileSync(path, JSON.stringify(m));
      assert.throws(() => loadPackage(dir), (e: Error) => e instanceof PackageError && /manifest onnx\.fused\.0 \(units 0\.\.8\)/.test(e.message));
      m.onnx.fused = [{ first: 0, last: 7, file: '../escape.onnx' }];
      writeFileSync(path, JSON.stringify(m));
      assert.throws(() => loadPackage(dir), (e: Error) => e instanceof PackageError && /onnx\.fused\.0\.file/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { checkPartitionFiles, type ModelPackage } from './manifest.ts';
import { createUnit, type OrtUnit, type SessionOptions } from './ort.ts';
import { sessionName, sessionRuns } from './policy.ts';

/** One onnxruntime session a partition runs: a single unit, or a fused run of units (manifest onnx.fused). */
export interface ChainStep {
  /** 'stem', 'block3', or 'stem..block6' for a fused run. */
  name: string;
  /** First and last unit it covers (unit 0 is the stem, unit u is block u-1). */
  first: number;
  last: number;
  flops: number;
  unit: OrtUnit;
}

export interface ChainOptions extends SessionOptions {
  /**
   * Run each fused segment the package ships as one session (default true). A call into onnxruntime-node costs
   * about 0.05 ms of CPU beyond the model, so a partition of ten units pays for ten calls; fused, it pays for one
   * per run of units between exchange points. Packages without onnx.fused run unit by unit either way.
   */
  fuse?: boolean;
}

/** Opens partition `index`'s sessions in execution order; every file is checked before any session opens. */
export async function loadChain(pkg: ModelPackage, index: number, opts: ChainOptions = {}): Promise<ChainStep[]> {
  const fuse = opts.fuse !== false;
  checkPartitionFiles(pkg, index, { fused: fuse });
  const m = pkg.manifest;
  const flops = [m.stem.flops, ...m.blocks.map((b) => b.flops)];
  const plan = sessionRuns(m, fuse).map((r) => ({ ...r, name: sessionName(r),
    path: r.file !== undefined ? pkg.fusedPath(index, r.file) : r.first === 0 ? pkg.stemPath(index) : pkg.blockPath(index, r.first - 1) }));
  const steps: ChainStep[] = [];
  try {
    for (const p of plan) {
      steps.push({ name: p.name, first: p.first, last: p.last, flops: flops.slice(p.first, p.last + 1).reduce((a, b) => a + b, 0),
        unit: await createUnit(p.path, p.name, opts) });
    }
  } catch (err) {
    await releaseChain(steps);
    throw err;
  }
  return steps;
}

export async function releaseChain(steps: readonly ChainStep[]): Promise<void> {
  await Promise.all(steps.map((s) => s.unit.release()));
}

import type { ModelPackage } from './manifest.ts';
import { createUnit, type OrtUnit } from './ort.ts';
import { InvalidArgumentError, PackageError } from './errors.ts';

/** The package's head (linear layer + softmax over the concatenated pooled features), run by the router. */
export class HeadEngine {
  private closed = false;

  private constructor(private readonly unit: OrtUnit, readonly inFeatures: number) {}

  static async create(pkg: ModelPackage, threads = 1): Promise<HeadEngine> {
    let unit: OrtUnit;
    try {
      unit = await createUnit(pkg.headPath(), 'head', { intraOpThreads: threads });
    } catch (e) {
      throw new PackageError(`package ${pkg.dir}: head.onnx cannot be loaded (${(e as Error).message})`);
    }
    for (const name of ['logits', 'probabilities']) {
      if (!unit.outputNames.includes(name)) {
        await unit.release();
        throw new PackageError(`package ${pkg.dir}: head.onnx has no output '${name}'`);
      }
    }
    return new HeadEngine(unit, pkg.manifest.head.inFeatures);
  }

  async run(features: Float32Array, n: number): Promise<{ logits: Float32Array; probabilities: Float32Array }> {
    if (this.closed) throw new PackageError('head engine is shut down');
    if (features.length !== n * this.inFeatures) {
      throw new InvalidArgumentError('features', `expected ${n}x${this.inFeatures} values, got ${features.length}`);
    }
    const out = await this.unit.runAll(features, [n, this.inFeatures]);
    return { logits: out.logits.data, probabilities: out.probabilities.data };
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.unit.release();
  }
}

import { randomUUID } from 'node:crypto';
import { HeadEngine } from '../../runtime/head.ts';
import type { ModelPackage } from '../../runtime/manifest.ts';
import { PartitionRunner } from './runner.ts';
import { LocalTransport } from './local-transport.ts';

/** Every partition of a package in this process, joined by LocalTransport: the same units, no network. */
export class LocalEngine {
  private constructor(private readonly runners: PartitionRunner[], private readonly head: HeadEngine,
    private readonly width: number) {}

  static async create(pkg: ModelPackage): Promise<LocalEngine> {
    const transport = new LocalTransport();
    const runners: PartitionRunner[] = [];
    for (let i = 0; i < pkg.manifest.partitions; i++) {
      const r = await PartitionRunner.create({ pkg, index: i, transport, measure: false });
      transport.attach(i, r);
      runners.push(r);
    }
    return new LocalEngine(runners, await HeadEngine.create(pkg), pkg.manifest.head.inFeatures / pkg.manifest.partitions);
  }

  async classify(images: Uint8Array, n: number): Promise<{ probabilities: Float32Array; logits: Float32Array;
    exchangedBytes: number; degraded: boolean }> {
    const id = randomUUID();
    const deadlineMs = Date.now() + 30_000;
    const results = await Promise.all(this.runners.map((r) => r.run(id, images, n, { deadlineMs })));
    const P = results.length, W = this.width;
    const features = new Float32Array(n * W * P);
    results.forEach((r, p) => {
      for (let i = 0; i < n; i++) features.set(r.features.subarray(i * W, (i + 1) * W), i * W * P + p * W);
    });
    const head = await this.head.run(features, n);
    return { ...head, degraded: results.some((r) => r.missedPoints.length > 0),
      exchangedBytes: results.reduce((s, r) => s + r.sent.reduce((t, p) => t + p.bytes, 0), 0) };
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.shutdown()));
    await this.head.shutdown();
  }
}

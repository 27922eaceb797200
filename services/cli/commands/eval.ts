import { randomUUID } from 'node:crypto';
import type { Io } from '../main.ts';
import { intFlag, parseFlags } from '../../common/cli-args.ts';
import { HeadEngine } from '../../common/head.ts';
import type { ModelPackage } from '../../common/manifest.ts';
import { PartitionRunner } from '../../partition/runner.ts';
import { LocalTransport } from '../../partition/local-transport.ts';
import { measure, type Classifier } from '../measure.ts';
import { resolvePackageFlag } from '../stack.ts';
import { withUsage } from '../usage.ts';

const FLAGS = { package: { type: 'string' }, 'models-dir': { type: 'string' }, images: { type: 'string' }, json: { type: 'boolean' } } as const;

/** Every partition of a package in this process, joined by LocalTransport: the same units, no network. */
export class LocalEngine implements Classifier {
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

/** `edgesplit eval`: a package in one process (no network), to check a manifest and its test vectors. */
export async function run(argv: string[], io: Io): Promise<number> {
  return withUsage('eval', io, async () => {
    const { values } = parseFlags(argv, FLAGS);
    const images = intFlag('images', values.images, 1000, 1, 1000);
    const pkg = resolvePackageFlag(values.package as string | undefined, values['models-dir'] as string | undefined);
    const engine = await LocalEngine.create(pkg);
    try {
      const s = await measure(engine, pkg, images);
      if (!values.json) {
        io.stdout(`eval: ${s.package} (P=${s.partitions}, policy ${s.policyId}) in one process`);
        io.stdout(`  ${s.images} images: accuracy ${(100 * s.accuracy).toFixed(1)}%, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms`);
        io.stdout(`  exchanged ${s.exchangedBytesPerImage} B/image (manifest: ${pkg.manifest.metrics.exchangedBytes}); max |logits - reference| ${s.maxAbsDiffVsReference.toExponential(2)}`);
      }
      io.stdout(JSON.stringify(s));
      return 0;
    } finally {
      await engine.shutdown();
    }
  });
}

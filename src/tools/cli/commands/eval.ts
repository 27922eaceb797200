import type { Io } from '../main.ts';
import { intFlag, parseFlags } from '../../../runtime/cli-args.ts';
import { LocalEngine } from '../../../roles/partition/local-engine.ts';
import { measure } from '../measure.ts';
import { resolvePackageFlag } from '../stack.ts';
import { withUsage } from '../usage.ts';

const FLAGS = { package: { type: 'string' }, 'models-dir': { type: 'string' }, images: { type: 'string' }, json: { type: 'boolean' } } as const;

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

import { z } from 'zod';
import type { Io } from '../main.ts';
import { LocalEngine } from '../../../roles/partition/local-engine.ts';
import { measure } from '../measure.ts';
import { resolvePackageFlag } from '../stack.ts';
import { runCommand, type CommandSpec } from '../usage.ts';
import { intValue, PACKAGE_SETTINGS, switchValue } from './options.ts';

export const spec = {
  name: 'eval',
  summary: 'run a package in one process (no network), to check a manifest and its test vectors',
  help: 'Prints a summary, then the measurements as one JSON object on the last line of stdout.',
  settings: {
    ...PACKAGE_SETTINGS,
    images: { flag: 'images', arg: 'N', description: 'how many sample images, 1..1000', default: '1000' },
    json: { flag: 'json', kind: 'switch', description: 'print only the JSON object' },
  },
} satisfies CommandSpec;

const schema = z.object({
  package: z.string().optional(),
  modelsDir: z.string().optional(),
  images: intValue(1, 1000),
  json: switchValue,
});

/** `edgesplit eval`: a package in one process (no network), to check a manifest and its test vectors. */
export async function run(argv: string[], io: Io): Promise<number> {
  return runCommand(spec, schema, argv, io, async (o) => {
    const pkg = resolvePackageFlag(o.package, o.modelsDir);
    const engine = await LocalEngine.create(pkg);
    try {
      const s = await measure(engine, pkg, o.images);
      if (!o.json) {
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

import { z } from 'zod';
import type { Io } from '../main.ts';
import { OipClient } from '../oip-client.ts';
import { imageInputOf, uint8Shape } from '../../../runtime/image-input.ts';
import { DEFAULT_WARMUP, measure } from '../measure.ts';
import { resolvePackageFlag, startStack } from '../stack.ts';
import { runCommand, type CommandSpec } from '../usage.ts';
import { intValue, PACKAGE_SETTINGS, switchValue } from './options.ts';

export const spec = {
  name: 'demo',
  summary: 'start the stack, classify sample images through the router (OIP v2 gRPC), stop',
  help: 'Prints a summary, then the measurements as one JSON object on the last line of stdout.',
  settings: {
    ...PACKAGE_SETTINGS,
    images: { flag: 'images', arg: 'N', description: 'how many sample images, 1..1000', default: '200' },
    warmup: { flag: 'warmup', arg: 'N', description: 'untimed requests first, so that the p50 is not the JIT warming up', default: String(DEFAULT_WARMUP) },
    host: { flag: 'host', arg: 'HOST', description: 'address the partitions and the router listen on', default: '127.0.0.1' },
    json: { flag: 'json', kind: 'switch', description: 'print only the JSON object' },
    verbose: { flag: 'verbose', kind: 'switch', description: "show the children's logs on stderr" },
  },
} satisfies CommandSpec;

const schema = z.object({
  package: z.string().optional(),
  modelsDir: z.string().optional(),
  images: intValue(1, 1000),
  warmup: intValue(0, 100_000),
  host: z.string().min(1),
  json: switchValue,
  verbose: switchValue,
});

/** `edgesplit demo`: start the stack, classify N sample images through the router's gRPC API, stop. */
export async function run(argv: string[], io: Io): Promise<number> {
  return runCommand(spec, schema, argv, io, async (o) => {
    const pkg = resolvePackageFlag(o.package, o.modelsDir);
    const stack = await startStack({ pkg, host: o.host, log: o.verbose ? io.stderr : undefined });
    const client = new OipClient(stack.router, { imageShape: uint8Shape(imageInputOf(pkg.manifest.input), 1).slice(1) });
    try {
      if (!o.json) io.stdout(`demo: ${pkg.manifest.name} on ${pkg.manifest.partitions} partition processes, router at ${stack.router}`);
      const broken = stack.childExit.then((w) => { throw new Error(w); });
      const s = await Promise.race([measure(client, pkg, o.images, { warmup: o.warmup }), broken]);
      if (!o.json) {
        io.stdout(`  ${s.images} images: accuracy ${(100 * s.accuracy).toFixed(1)}%, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms`);
        io.stdout(`  exchanged ${s.exchangedBytesPerImage} B/image between partitions; max |logits - PyTorch reference| ${s.maxAbsDiffVsReference.toExponential(2)}`);
      }
      io.stdout(JSON.stringify(s));
      return 0;
    } finally {
      client.close();
      await stack.stop();
    }
  });
}

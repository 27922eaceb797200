import type { Io } from '../main.ts';
import { intFlag, parseFlags } from '../../../runtime/cli-args.ts';
import { OipClient } from '../oip-client.ts';
import { imageInputOf, uint8Shape } from '../../../runtime/image-input.ts';
import { measure } from '../measure.ts';
import { resolvePackageFlag, startStack } from '../stack.ts';
import { withUsage } from '../usage.ts';

const FLAGS = { package: { type: 'string' }, 'models-dir': { type: 'string' }, images: { type: 'string' }, json: { type: 'boolean' },
  host: { type: 'string' }, verbose: { type: 'boolean' } } as const;

/** `edgesplit demo`: start the stack, classify N sample images through the router's gRPC API, stop. */
export async function run(argv: string[], io: Io): Promise<number> {
  return withUsage('demo', io, async () => {
    const { values } = parseFlags(argv, FLAGS);
    const images = intFlag('images', values.images, 200, 1, 1000);
    const pkg = resolvePackageFlag(values.package as string | undefined, values['models-dir'] as string | undefined);
    const stack = await startStack({ pkg, host: (values.host as string | undefined) ?? '127.0.0.1',
      log: values.verbose ? io.stderr : undefined });
    const client = new OipClient(stack.router, { imageShape: uint8Shape(imageInputOf(pkg.manifest.input), 1).slice(1) });
    try {
      if (!values.json) io.stdout(`demo: ${pkg.manifest.name} on ${pkg.manifest.partitions} partition processes, router at ${stack.router}`);
      const broken = stack.childExit.then((w) => { throw new Error(w); });
      const s = await Promise.race([measure(client, pkg, images), broken]);
      if (!values.json) {
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

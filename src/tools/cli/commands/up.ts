import type { Io } from '../main.ts';
import { z } from 'zod';
import { imagesOf, loadSample, sampleDirFor } from '../../../runtime/sample.ts';
import type { ModelPackage } from '../../../runtime/manifest.ts';
import { OipClient } from '../oip-client.ts';
import { baselineBytes, resolvePackageFlag, startStack, type Stack } from '../stack.ts';
import { quantile } from '../../../runtime/stats.ts';
import { parseArgv, withUsage, type CommandSpec } from '../usage.ts';
import { PACKAGE_SETTINGS, switchValue } from './options.ts';

export const spec = {
  name: 'up',
  summary: 'start the local stack (P partition processes + router) and keep serving until Ctrl-C',
  settings: {
    package: PACKAGE_SETTINGS.package, 'models-dir': PACKAGE_SETTINGS.modelsDir,
    host: { flag: 'host', arg: 'HOST', description: 'address the partitions and the router listen on', default: '127.0.0.1' },
    json: { flag: 'json', kind: 'switch', description: 'print one JSON line {router, partitions, package, routerPid} when ready' },
    summary: { flag: 'summary', kind: 'switch', description: 'classify 100 sample images and print what the stack does' },
    verbose: { flag: 'verbose', kind: 'switch', description: "show the children's logs on stderr" },
  },
} satisfies CommandSpec;

const schema = z.object({ package: z.string().optional(), 'models-dir': z.string().optional(), host: z.string().min(1),
  json: switchValue, summary: switchValue, verbose: switchValue });

async function summary(stack: Stack, io: Io, pkg: ModelPackage, modelsDir: string | undefined): Promise<void> {
  const pkgBaseline = baselineBytes(pkg);
  const sampleDir = sampleDirFor(pkg);
  const sample = loadSample(sampleDir);
  const client = new OipClient(stack.router, { imageShape: sample.imageShape });
  try {
    const n = Math.min(100, sample.count);
    const lat: number[] = [];
    let correct = 0;
    let bytes = 0;
    let pkgName = '';
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await client.classify(imagesOf(sample, i, i + 1), 1);
      lat.push(performance.now() - t0);
      if (r.labels[0] === sample.classes[sample.labels[i]]) correct++;
      bytes += r.exchangedBytes;
      pkgName = r.package;
    }
    const per = bytes / n;
    const cut = pkgBaseline > 0 ? ` (${(100 * (1 - per / pkgBaseline)).toFixed(1)}% less than the baseline policy's ${pkgBaseline} B)` : '';
    io.stdout(`edgesplit is serving ${pkgName} on ${stack.partitions.length} partition processes; router (OIP v2 gRPC) at ${stack.router}`);
    io.stdout(`  ${n} sample images: accuracy ${(100 * correct / n).toFixed(1)}%, p50 latency ${quantile(lat, 0.5).toFixed(2)} ms`);
    io.stdout(`  bytes exchanged between partitions per image: ${per.toFixed(0)}${cut}`);
    io.stdout(`  try: node bin/edgesplit.mjs classify --router ${stack.router} --samples 0:20${modelsDir ? ` --models-dir ${modelsDir}` : ''}`);
    io.stdout(`   or: node bin/edgesplit.mjs classify --router ${stack.router} IMAGE.png|IMAGE.jpg|FOLDER ...`);
    io.stdout('  Ctrl-C stops everything.');
  } finally {
    client.close();
  }
}

/** `edgesplit up`: the local stack (P partition processes + router) until Ctrl-C. */
export async function run(argv: string[], io: Io): Promise<number> {
  return withUsage('up', io, async () => {
    const values = parseArgv(spec, schema, argv, io);
    const modelsDir = values['models-dir'] as string | undefined;
    const pkg = resolvePackageFlag(values.package as string | undefined, modelsDir);
    const host = (values.host as string | undefined) ?? '127.0.0.1';
    // Supervised like a kubelet would: a partition that dies is restarted with back-off while the router answers
    // degraded (src/tools/cli/stack.ts); Ctrl-C stops everything, pending restarts included.
    const stack = await startStack({ pkg, host, log: values.verbose ? io.stderr : undefined,
      restart: { onEvent: (line) => io.stderr(`edgesplit up: ${line}`) } });
    let signalled = false;
    const stopped = new Promise<string>((resolve) => {
      const onSignal = (sig: string) => {
        signalled = true;
        resolve(sig);
      };
      process.once('SIGINT', () => onSignal('SIGINT'));
      process.once('SIGTERM', () => onSignal('SIGTERM'));
    });
    try {
      if (values.json) {
        io.stdout(JSON.stringify({ router: stack.router, partitions: stack.partitions, package: pkg.manifest.name,
          routerPid: stack.routerPid }));
      } else if (!values.summary) {
        io.stdout(`edgesplit up: ${pkg.manifest.name} on ${stack.partitions.length} partitions; router at ${stack.router} (Ctrl-C stops)`);
      }
      if (values.summary) await summary(stack, io, pkg, modelsDir);
      await stopped;
      return 0;
    } finally {
      await stack.stop();
      if (!signalled && !values.json) io.stderr('edgesplit up: stopped');
    }
  });
}

import type { Io } from '../main.ts';
import { z } from 'zod';
import { loadSample, sampleDirFor } from '../../../runtime/sample.ts';
import type { ModelPackage } from '../../../runtime/manifest.ts';
import { OipClient } from '../oip-client.ts';
import { baselineBytes, resolvePackageFlag, startStack, type Stack } from '../stack.ts';
import { measure } from '../measure.ts';
import { parseArgv, withUsage, type CommandSpec } from '../usage.ts';
import { intValue, PACKAGE_SETTINGS, switchValue } from './options.ts';
import { appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../runtime/errors.ts';
import { MODELS_DIR } from '../../../runtime/manifest.ts';
import { startClosedLoop } from '../closed-loop.ts';
import { EmulatorLauncher, LocalLauncher } from '../launchers.ts';

export const spec = {
  name: 'up',
  summary: 'start the local stack (P partition processes + router) and keep serving until Ctrl-C',
  settings: {
    package: PACKAGE_SETTINGS.package, 'models-dir': PACKAGE_SETTINGS.modelsDir,
    host: { flag: 'host', arg: 'HOST', description: 'address the partitions and the router listen on', default: '127.0.0.1' },
    json: { flag: 'json', kind: 'switch', description: 'print one JSON line {router, partitions, package, routerPid} when ready' },
    summary: { flag: 'summary', kind: 'switch', description: 'classify 100 sample images and print what the stack does' },
    verbose: { flag: 'verbose', kind: 'switch', description: "show the children's logs on stderr" },
    planner: { flag: 'planner', kind: 'switch', description: 'closed loop: the planner picks the plan, calibrates on what the partitions measure and switches plans live (no --package)' },
    cluster: { flag: 'cluster', arg: 'FILE', description: 'with --planner: the nodes to plan for (default: four equal nodes on this machine)' },
    'accuracy-floor': { flag: 'accuracy-floor', arg: 'X', description: "with --planner: the planner's accuracy floor, 0..1 (default: within 0.5 points of the best package)" },
    'exchanging-only': { flag: 'exchanging-only', kind: 'switch', description: 'with --planner: plan only with packages whose policy exchanges' },
    'interval-ms': { flag: 'interval-ms', arg: 'MS', description: 'with --planner: how often the live figures are read and the plan re-judged', default: '2000' },
    events: { flag: 'events', arg: 'FILE', description: 'with --planner: append every decision and switch as one JSON line (default: switches on stderr)' },
    'emulator-mount-ns': { flag: 'emulator-mount-ns', arg: 'FILE', description: "with --emulator-prefix from inside an emulator namespace: /proc/PID/ns/mnt of a process outside it (the cgroup file system)" },
    'emulator-prefix': { flag: 'emulator-prefix', arg: 'PREFIX', description: "with --planner: start partitions in scripts/edge-emulator.sh's devices (nodes dev0..) of that prefix (root)" },
  },
} satisfies CommandSpec;

const schema = z.object({ package: z.string().optional(), 'models-dir': z.string().optional(), host: z.string().min(1),
  json: switchValue, summary: switchValue, verbose: switchValue, planner: switchValue, cluster: z.string().optional(),
  'accuracy-floor': z.coerce.number().min(0).max(1).optional(), 'exchanging-only': switchValue,
  'interval-ms': intValue(100, 600_000), events: z.string().optional(),
  'emulator-mount-ns': z.string().regex(/^\/proc\/\d+\/ns\/mnt$/, 'expected /proc/PID/ns/mnt').optional(),
  'emulator-prefix': z.string().regex(/^esemu[A-Za-z0-9_]{0,20}$/, 'expected esemu followed by up to 20 letters, digits or _').optional() });

/** `up --planner`: the closed loop until Ctrl-C. */
async function runPlanner(values: Record<string, unknown>, io: Io): Promise<number> {
  if (values.package !== undefined) throw new UsageError('--package', 'not with --planner: the planner picks the package');
  if (values.summary) throw new UsageError('--summary', 'not with --planner');
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const modelsDir = (values['models-dir'] as string | undefined) ?? MODELS_DIR;
  const clusterFile = values.cluster as string | undefined;
  if (clusterFile !== undefined && !existsSync(clusterFile)) throw new UsageError('--cluster', `${clusterFile} does not exist`);
  const events = values.events as string | undefined;
  const log = values.verbose ? io.stderr : undefined;
  const prefix = values['emulator-prefix'] as string | undefined;
  const launcher = prefix ? new EmulatorLauncher(prefix, join(tmpdir(), `edgesplit-${prefix}-logs`), values['emulator-mount-ns'] as string | undefined) : new LocalLauncher(host, log);
  const routerLauncher = new LocalLauncher(host, log);
  const floor = values['accuracy-floor'] as number | undefined;
  const loop = await startClosedLoop({
    modelsDir, clusterFile, objective: floor === undefined ? { mode: 'latency' } : { mode: 'latency', accuracyFloor: floor },
    exchangingOnly: values['exchanging-only'] as boolean, launcher, host, intervalMs: values['interval-ms'] as number,
    startRouter: (args) => routerLauncher.start('router', 'router', args),
    onEvent: (e) => {
      if (events) appendFileSync(events, JSON.stringify(e) + '\n');
      if (e.event !== 'decision') io.stderr(`edgesplit up: ${e.event} ${e.package} on ${e.nodes.join(',')} (plan ${e.to}): ${e.reason}`);
    },
    log: (line) => io.stderr(`edgesplit up: ${line}`),
  });
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      loop.quiesce();
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    const d = loop.deployer.deployed()!;
    if (values.json) io.stdout(JSON.stringify({ router: loop.router, package: d.doc.package, planHash: d.doc.planHash, partitions: d.addresses }));
    else io.stdout(`edgesplit up --planner: ${d.doc.package} on ${d.doc.assignments.map((a) => a.node).join(',')}; router at ${loop.router} (Ctrl-C stops)`);
    await stopped;
    return 0;
  } finally {
    await loop.stop();
  }
}

async function summary(stack: Stack, io: Io, pkg: ModelPackage, modelsDir: string | undefined): Promise<void> {
  const pkgBaseline = baselineBytes(pkg);
  const client = new OipClient(stack.router, { imageShape: loadSample(sampleDirFor(pkg)).imageShape });
  try {
    // The demo's measurement (warm-up first), so that `npm start` and `demo` report the same thing: the router's cost.
    const s = await measure(client, pkg, 100);
    const per = s.exchangedBytesPerImage;
    const cut = pkgBaseline > 0 ? ` (${(100 * (1 - per / pkgBaseline)).toFixed(1)}% less than the baseline policy's ${pkgBaseline} B)` : '';
    io.stdout(`edgesplit is serving ${s.package} on ${stack.partitions.length} partition processes; router (OIP v2 gRPC) at ${stack.router}`);
    io.stdout(`  ${s.images} sample images: accuracy ${(100 * s.accuracy).toFixed(1)}%, p50 latency ${s.p50Ms.toFixed(2)} ms`);
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
    if (values.planner) return await runPlanner(values, io);
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

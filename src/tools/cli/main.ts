import { readFileSync } from 'node:fs';
import { repoPath } from '../../runtime/paths.ts';
import { parseCommand, quietCommand, UsageError } from '../../runtime/config.ts';
import { withUsage, type Io } from './usage.ts';

export type { Io } from './usage.ts';

/** Every command lives in commands/<name>.ts and exports `run(argv, io)` returning the exit code. */
export type CliCommand = { run(argv: string[], io: Io): Promise<number> };

export const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  up: { summary: 'start the local stack (partitions + router) and keep serving', load: () => import('./commands/up.ts') },
  demo: { summary: 'start the stack, classify sample images, stop', load: () => import('./commands/demo.ts') },
  classify: { summary: 'classify images through a running router (OIP v2 gRPC)', load: () => import('./commands/classify.ts') },
  eval: { summary: 'run a package in one process, no network', load: () => import('./commands/eval.ts') },
  plan: { summary: 'pick package, policy and placement for a cluster', load: () => import('./commands/plan.ts') },
  apply: { summary: 'apply a plan to Kubernetes', load: () => import('./commands/apply.ts') },
  bench: { summary: 'benchmark on an emulated edge cluster', load: () => import('./commands/bench.ts') },
  serve: { summary: 'run one role: partition | router | planner (container entrypoint)', load: () => import('./commands/serve.ts') },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
  return pkg.version as string;
}

/** The top level: the command list, --help, --version; each command parses its own options. */
function program(io: Io) {
  const cmd = quietCommand('edgesplit', (s) => io.stdout(s.replace(/\n$/, '')))
    .usage('<command> [options]')
    .description('Run one split neural network across edge devices: partition services, an OIP v2 router and a placement planner.')
    .version(`edgesplit ${version()}`, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', '\nedgesplit <command> --help for its options');
  for (const [name, c] of Object.entries(COMMANDS)) cmd.command(name).description(c.summary).helpOption(false).allowUnknownOption();
  return cmd;
}

/** Runs one command line; returns the exit code (0 ok, 1 runtime error, 2 usage error). */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  const known = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (known) {
    try {
      return await (await known.load()).run(rest, io);
    } catch (err) {
      io.stderr(`edgesplit ${name}: error: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  }
  if (name === 'help' && rest[0] !== undefined) {
    if (Object.hasOwn(COMMANDS, rest[0])) return runCli([rest[0], '--help'], io);
    return withUsage('help', io, async () => { throw new UsageError(rest[0], `unknown command (${Object.keys(COMMANDS).join(', ')})`); });
  }
  return withUsage('', io, async () => {
    const root = program(io);
    if (argv.length === 0) {
      io.stdout(root.helpInformation().replace(/\n$/, ''));
      return 0;
    }
    parseCommand(root, argv);
    return 0;
  });
}

export async function main(argv: string[]): Promise<void> {
  const io: Io = { stdout: (s) => process.stdout.write(s + '\n'), stderr: (s) => process.stderr.write(s + '\n') };
  process.exitCode = await runCli(argv, io);
}

import { readFileSync } from 'node:fs';
import { repoPath } from '../../runtime/paths.ts';

/** Every command lives in commands/<name>.ts and exports `run(argv, io)` returning the exit code. */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}
export type Command = { run(argv: string[], io: Io): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
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

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return `usage: edgesplit <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nedgesplit <command> --help for its options`;
}

export async function main(argv: string[]): Promise<void> {
  const io: Io = { stdout: (s) => process.stdout.write(s + '\n'), stderr: (s) => process.stderr.write(s + '\n') };
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.stdout(`edgesplit ${version()}`);
    return;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr(`edgesplit: unknown command '${name}'\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  try {
    const code = await (await cmd.load()).run(rest, io);
    process.exitCode = code;
  } catch (err) {
    io.stderr(`edgesplit ${name}: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

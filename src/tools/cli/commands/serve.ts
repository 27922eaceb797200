import type { Io } from '../main.ts';
import { UsageError } from '../../../runtime/cli-args.ts';
import { withUsage } from '../usage.ts';

const ROLES = {
  partition: async (argv: string[]) => (await import('../../../roles/partition/main.ts')).servePartition(argv),
  router: async (argv: string[]) => (await import('../../../roles/router/main.ts')).serveRouter(argv),
  planner: async (argv: string[]) => (await import('../../../roles/planner/main.ts')).servePlanner(argv),
} as const;

/** When a parent (`edgesplit up`) set this, a closed stdin means the parent is gone: stop gracefully. */
function exitWithParent(): void {
  if (process.env.EDGESPLIT_EXIT_WITH_PARENT !== '1') return;
  const stdin = process.stdin;
  stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
  stdin.resume();
  stdin.unref?.();
}

/** `edgesplit serve <partition|router|planner> [flags]`: the container entrypoint; serves until SIGTERM. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [role, ...rest] = argv;
  return withUsage(`serve ${role ?? ''}`.trim(), io, async () => {
    if (!role || !(role in ROLES)) {
      throw new UsageError('role', `expected one of ${Object.keys(ROLES).join(', ')}, got '${role ?? ''}'`);
    }
    exitWithParent();
    await ROLES[role as keyof typeof ROLES](rest);
    return 0;
  });
}

import { z } from 'zod';
import type { Io } from '../main.ts';
import { parseCommand, UsageError, type Settings } from '../../../runtime/config.ts';
import { commandOf, runCommand, withUsage, type CommandSpec } from '../usage.ts';
import { createLogger } from '../../../runtime/log.ts';

/** Each role: its settings (for --help and the flag check) and its entry point, which loads and validates its config. */
const ROLES: Record<string, { summary: string; settings: () => Promise<Settings>; serve: (argv: string[]) => Promise<void> }> = {
  partition: {
    summary: 'serve one partition of a package (edgesplit.v1.Partition gRPC) until SIGTERM',
    settings: async () => (await import('../../../roles/partition/config.ts')).SETTINGS,
    serve: async (argv) => (await import('../../../roles/partition/main.ts')).servePartition(argv),
  },
  router: {
    summary: "serve the OIP v2 gRPC API in front of a package's partitions until SIGTERM",
    settings: async () => (await import('../../../roles/router/config.ts')).SETTINGS,
    serve: async (argv) => (await import('../../../roles/router/main.ts')).serveRouter(argv),
  },
  planner: {
    summary: 'plan and deploy the partitions on Kubernetes (or plan a cluster file) and serve edgesplit.v1.Planner',
    settings: async () => (await import('../../../roles/planner/config.ts')).SETTINGS,
    serve: async (argv) => (await import('../../../roles/planner/main.ts')).servePlanner(argv),
  },
};

export const spec = {
  name: 'serve',
  summary: 'run one role: partition | router | planner (the container entrypoint)',
  help: 'Each flag can also be set by the environment variable its --help names; a flag wins over its variable.',
  settings: {},
  subcommands: Object.fromEntries(Object.entries(ROLES).map(([n, r]) => [n, r.summary])),
} satisfies CommandSpec;

/** When a parent (`edgesplit up`) set this, a closed stdin means the parent is gone: stop gracefully. */
function exitWithParent(): void {
  if (process.env.EDGESPLIT_EXIT_WITH_PARENT !== '1') return;
  const stdin = process.stdin;
  stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
  stdin.resume();
  stdin.unref?.();
}

/**
 * The role has drained, stopped and flushed its telemetry ('stopped' is logged): the process should end now. A handle
 * left behind must not keep it until the kubelet's SIGKILL: on `helm uninstall` in planner mode the router stopped in
 * 4 ms but then lived on with an outgoing TCP connect pending (active resources ConnectWrap + TCPSocketWrap; most
 * likely grpc-js reconnecting to the partition Service the uninstall had just deleted, whose ClusterIP now answers
 * nothing; closing a channel does not cancel a connect in progress), so the pod took its whole 30 s grace period. If the process is still alive 500 ms after 'stopped', say what holds it and exit. Unref'd: it never
 * keeps the process alive itself; only the container entrypoint does this, never a role started in-process.
 */
function exitSoonAfterStop(role: string): void {
  setTimeout(() => {
    createLogger(role).warn({ resources: process.getActiveResourcesInfo() }, 'still running 500 ms after stopped: exiting');
    process.exit();
  }, 500).unref();
}

/** `edgesplit serve <partition|router|planner> [flags]`: the container entrypoint; serves until SIGTERM. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [role, ...rest] = argv;
  if (role !== undefined && Object.hasOwn(ROLES, role)) {
    const r = ROLES[role];
    return withUsage(`serve ${role}`, io, async () => {
      // The flags are checked (and --help answered) before anything starts; the role's loadConfig validates the values.
      parseCommand(commandOf({ name: `serve ${role}`, summary: r.summary, help: spec.help, settings: await r.settings() }, io.stdout), rest);
      exitWithParent();
      await r.serve(rest);
      exitSoonAfterStop(role);
      return 0;
    });
  }
  if (role !== undefined && !role.startsWith('-')) {
    return withUsage('serve', io, async () => {
      throw new UsageError('role', `expected one of ${Object.keys(ROLES).join(', ')}, got '${role}'`);
    });
  }
  return runCommand(spec, z.object({}), argv, io, async () => {
    throw new UsageError('role', `expected one of ${Object.keys(ROLES).join(', ')}`);
  });
}

import { createLogger, errorText, type Logger } from './log.ts';
import { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry/sdk.ts';

export type RoleName = 'partition' | 'router' | 'planner';

/** A role once it serves: what its ready line says, and how it stops. */
export interface ServingRole {
  /** The bound port (the ready line's `port`). */
  port: number;
  /** More fields for the ready line (address, package, tls, ...). */
  ready: Record<string, unknown>;
  /** Fields for the 'stopping' line, read when the signal comes (e.g. requests in flight). */
  stopping?: () => Record<string, unknown>;
  /** Drains and stops everything the role started (its server's shutdown included); may return fields for 'stopped'. */
  stop(): Promise<Record<string, unknown> | void>;
}

export interface ServeRoleOptions {
  role: RoleName;
  /** The role's logger (default: createLogger(role)). */
  log?: Logger;
  /** OpenTelemetry resource for this process (service name, attributes). */
  telemetry: Omit<TelemetryOptions, 'log'>;
  /** Builds, binds and readies the role (health SERVING when it can answer); called once telemetry has started. */
  start(ctx: { log: Logger; telemetry: Telemetry }): Promise<ServingRole>;
  /** Signals that stop the role (default SIGTERM and SIGINT). */
  signals?: NodeJS.Signals[];
}

/**
 * The life of every serving process (`edgesplit serve partition|router|planner`): telemetry, start, one
 * {"msg":"ready","ready":ROLE,"port":N,...} line on stdout, serve until SIGTERM or SIGINT, then 'stopping', drain and
 * stop (the role's server drains, then tryShutdown, then forceShutdown after its grace period), flush telemetry,
 * 'stopped'. A second signal while stopping is logged and otherwise ignored: the drain is bounded already, and
 * `edgesplit up` follows Ctrl-C (SIGINT to the process group) with its own SIGTERM to each child.
 */
export async function serveRole(o: ServeRoleOptions): Promise<void> {
  const log = o.log ?? createLogger(o.role);
  const telemetry = await startTelemetry({ ...o.telemetry, log });
  let role: ServingRole;
  try {
    role = await o.start({ log, telemetry });
  } catch (e) {
    await telemetry.shutdown();
    throw e;
  }
  log.info({ ready: o.role, port: role.port, ...role.ready }, 'ready');
  const signals = o.signals ?? ['SIGTERM', 'SIGINT'];
  let first!: (s: NodeJS.Signals) => void;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    first = resolve;
    for (const s of signals) process.on(s, first);
  });
  const again = (s: NodeJS.Signals) => log.info({ signal: s }, 'already stopping');
  for (const s of signals) {
    process.off(s, first);
    process.on(s, again);
  }
  log.info({ signal, ...role.stopping?.() }, 'stopping');
  let fields: Record<string, unknown> | void;
  try {
    fields = await role.stop();
  } catch (e) {
    log.error({ error: errorText(e) }, 'stop failed');
    throw e;
  } finally {
    await telemetry.shutdown();
    for (const s of signals) process.off(s, again);
  }
  log.info({ ...(fields ?? {}) }, 'stopped');
}

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The one log format of every serving process: JSON lines {"level":"info","ts":ISO-8601,"service":ROLE,...,"msg":...}.
 * The "ready" line (msg "ready", with the bound port) is what `edgesplit up`, the tests and the benches wait for.
 * info and below go to stdout, warn and above to stderr (each line once), so a plain `2>` still separates problems.
 * Writes are synchronous: lines are few, and a process that exits right after a line must not lose it.
 */
export function createLogger(service: string, dest?: DestinationStream): Logger {
  const stream = dest ?? pino.multistream([
    { level: 'trace', stream: quiet(pino.destination({ dest: 1, sync: true })) },
    { level: 'warn', stream: quiet(pino.destination({ dest: 2, sync: true })) },
  ], { dedupe: true });
  return pino({
    level: 'info',
    base: { service },
    messageKey: 'msg',
    timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
  }, stream);
}

/**
 * A line that cannot be written (EPIPE once `edgesplit up` has gone) must not take the process down in the middle
 * of its drain: the destination's write errors are dropped.
 */
function quiet<T extends { on(event: 'error', f: (e: Error) => void): unknown }>(d: T): T {
  d.on('error', () => {});
  return d;
}

/** A logger that writes each line to `write` (tests, and callers that collect lines). */
export function lineLogger(service: string, write: (line: string) => void): Logger {
  return createLogger(service, { write });
}

/** Error text for a log field: the message only, never a stack (stacks go to stderr only on a crash). */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

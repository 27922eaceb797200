import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { core } from '@opentelemetry/sdk-node';
import type { Logger } from '../log.ts';

/**
 * Telemetry problems (an unreachable collector, a bad OTEL_* value) must never break serving nor flood the log:
 * each kind of problem is logged once (a warn line on stderr), and then only counted.
 */
export class WarnOnce {
  private readonly seen = new Set<string>();
  suppressed = 0;

  /** `log`: the role's logger (warnings go to stderr, src/runtime/log.ts). */
  constructor(private readonly log: Logger) {}

  warn(message: string): void {
    // Messages differ in details (ports, counts, timestamps); the first words name the kind of problem.
    const kind = message.replace(/[0-9]+/g, '#').slice(0, 48);
    if (this.seen.has(kind) || this.seen.size >= 8) {
      this.suppressed++;
      return;
    }
    this.seen.add(kind);
    this.log.warn({ note: 'serving continues; further telemetry warnings of this kind are suppressed' }, `telemetry: ${message}`);
  }

  /** Routes the SDK's own diagnostics (warn and error) and its export-failure handler through warn(). */
  install(): void {
    const text = (msg: string, args: unknown[]) => [msg, ...args.map(describe)].join(' ');
    const logger: DiagLogger = {
      error: (m, ...a) => this.warn(text(m, a)),
      warn: (m, ...a) => this.warn(text(m, a)),
      info: () => {}, debug: () => {}, verbose: () => {},
    };
    // OTEL_LOG_LEVEL, when set, makes NodeSDK install its console logger instead, as the user asked.
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    core.setGlobalErrorHandler((err) => this.warn(`export failed: ${describe(err)}`));
  }
}

function describe(x: unknown): string {
  if (x instanceof Error) return x.message;
  if (typeof x === 'string') return x;
  try {
    return JSON.stringify(x);
  } catch {
    return String(x);
  }
}

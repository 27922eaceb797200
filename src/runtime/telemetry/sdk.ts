import { telemetryConfig, telemetryWanted, type TelemetryConfig } from './config.ts';

export interface TelemetryOptions {
  /** Default service.name (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it). */
  service: string;
  version?: string;
  /** Extra resource attributes, e.g. { 'edgesplit.partition': 2 }. */
  attributes?: Record<string, string | number | boolean>;
  env?: NodeJS.ProcessEnv;
  /** Where warnings go (default: one JSON line on stderr). */
  write?: (line: string) => void;
}

export interface Telemetry {
  /** Spans are recorded and exported. */
  readonly tracing: boolean;
  /** Metric instruments record (some reader is installed). */
  readonly metrics: boolean;
  readonly config: TelemetryConfig;
  /** Flushes what is buffered, for at most `timeoutMs`; never rejects. Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export const OFF = (config: TelemetryConfig): Telemetry => ({ tracing: false, metrics: false, config, shutdown: async () => {} });

let current: Promise<Telemetry> | undefined;

/**
 * Starts @opentelemetry/sdk-node from the OTEL_* environment, or nothing when none of it asks for telemetry (then the
 * SDK's modules are not even loaded: they would add about 30 MB to every process).
 * Call before the gRPC servers and clients are created: the wrappers decide at creation whether to trace.
 * Never throws: a bad configuration is warned about once and the process serves without telemetry.
 */
export function startTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  current ??= (async () => {
    const env = o.env ?? process.env;
    const config = telemetryConfig(env);
    if (!telemetryWanted(config)) return OFF(config);
    const { startNodeSdk } = await import('./sdk-node.ts');
    return startNodeSdk(o, env, config);
  })();
  return current;
}

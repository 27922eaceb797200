import type { Logger } from '../log.ts';
import { telemetryConfig, telemetryWanted, type TelemetryConfig } from './config.ts';
import { instrumented } from './enabled.ts';

export interface TelemetryOptions {
  /** Default service.name (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it). */
  service: string;
  version?: string;
  /** Extra resource attributes, e.g. { 'edgesplit.partition': 2 }. */
  attributes?: Record<string, string | number | boolean>;
  env?: NodeJS.ProcessEnv;
  /** Where warnings go (the role's logger; default: a new one for `service`). */
  log?: Logger;
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

/** A second SDK in one process: the first keeps the API's global providers, so the second's options would be ignored. */
export class TelemetryStartedError extends Error {
  constructor(service: string) {
    super(`telemetry for ${service}: an OpenTelemetry SDK is already started in this process (shut it down first)`);
    this.name = 'TelemetryStartedError';
  }
}

/**
 * Starts @opentelemetry/sdk-node from the OTEL_* environment, or nothing when none of it asks for telemetry (then the
 * SDK's modules are not even loaded: they would add about 30 MB to every process).
 * May be called before or after gRPC servers and clients exist: they ask the API's global providers per call
 * (enabled.ts), and the SDK becomes those providers' delegate here.
 * A bad configuration is warned about once and the process serves without telemetry. Starting a second SDK while
 * one runs is a TelemetryStartedError; with no telemetry configured a call starts nothing and never fails.
 */
export async function startTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  const env = o.env ?? process.env;
  const config = telemetryConfig(env);
  if (!telemetryWanted(config)) return OFF(config);
  if (instrumented()) throw new TelemetryStartedError(o.service);
  const { startNodeSdk } = await import('./sdk-node.ts');
  // Checked again: another start may have finished while the SDK's modules loaded.
  if (instrumented()) throw new TelemetryStartedError(o.service);
  return startNodeSdk(o, env, config);
}

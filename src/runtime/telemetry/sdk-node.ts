// The OpenTelemetry SDK proper (about 30 MB of modules): loaded by sdk.ts only when the environment asks for telemetry.
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPMetricExporter as OtlpGrpcMetrics } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as OtlpHttpMetrics } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetrics } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type IMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from './config.ts';
import { OFF, type Telemetry, type TelemetryOptions } from './sdk.ts';
import { metrics, trace } from '@opentelemetry/api';
import { createLogger } from '../log.ts';
import { WarnOnce } from './warn.ts';

function intervalMs(env: NodeJS.ProcessEnv, warn: WarnOnce): number {
  const raw = (env.OTEL_METRIC_EXPORT_INTERVAL ?? '').trim();
  if (raw === '') return 60_000;
  const v = Number(raw);
  if (Number.isFinite(v) && v > 0) return v;
  warn.warn(`OTEL_METRIC_EXPORT_INTERVAL: expected milliseconds > 0, got ${JSON.stringify(raw)}; using 60000`);
  return 60_000;
}

function otlpMetricExporter(env: NodeJS.ProcessEnv, warn: WarnOnce): PushMetricExporter {
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim() || 'http/protobuf';
  if (protocol === 'grpc') return new OtlpGrpcMetrics();
  if (protocol === 'http/json') return new OtlpHttpMetrics();
  if (protocol !== 'http/protobuf') warn.warn(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported ${JSON.stringify(protocol)}; using http/protobuf`);
  return new OtlpProtoMetrics();
}

function metricReaders(c: TelemetryConfig, env: NodeJS.ProcessEnv, warn: WarnOnce): IMetricReader[] {
  const readers: IMetricReader[] = [];
  const every = intervalMs(env, warn);
  for (const e of c.metricExporters) {
    if (e === 'otlp') readers.push(new PeriodicExportingMetricReader({ exporter: otlpMetricExporter(env, warn), exportIntervalMillis: every, exportTimeoutMillis: Math.min(every, 30_000) }));
    else if (e === 'console') readers.push(new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: every }));
    else if (e === 'prometheus') readers.push(new PrometheusExporter({}));
  }
  if (c.prometheus) readers.push(new PrometheusExporter({ host: c.prometheus.host, port: c.prometheus.port }));
  return readers;
}

/** Starts @opentelemetry/sdk-node for a config that wants telemetry (sdk.ts decides that, and loads this module only then). */
export function startNodeSdk(o: TelemetryOptions, env: NodeJS.ProcessEnv, config: TelemetryConfig): Telemetry {
  const warn = new WarnOnce(o.log ?? createLogger(o.service));
  warn.install();
  for (const p of config.problems) warn.warn(p);
  let sdk: NodeSDK;
  let readers: IMetricReader[] = [];
  try {
    readers = metricReaders(config, env, warn);
    sdk = new NodeSDK({
      // The base resource; the environment detector (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) overrides it.
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: o.service,
        ...(o.version ? { [ATTR_SERVICE_VERSION]: o.version } : {}), ...o.attributes }),
      metricReaders: readers,
      // Traces: NodeSDK reads OTEL_TRACES_EXPORTER, the OTLP endpoint/protocol/headers and the sampler itself.
      ...(config.traces ? {} : { spanProcessors: [] }),
      // We emit no logs through OpenTelemetry; an empty list keeps NodeSDK from starting an OTLP log exporter.
      ...((env.OTEL_LOGS_EXPORTER ?? '').trim() === '' ? { logRecordProcessors: [] } : {}),
      // gRPC is traced by our own client and server interceptors (src/runtime/telemetry/grpc-*.ts), which work
      // under ESM; @opentelemetry/instrumentation-grpc patches require() and would add duplicate spans.
      instrumentations: [],
    });
    sdk.start();
  } catch (err) {
    warn.warn(`could not start the OpenTelemetry SDK (${err instanceof Error ? err.message : String(err)}); serving without telemetry`);
    return OFF(config);
  }
  let stopped: Promise<void> | undefined;
  const telemetry: Telemetry = {
    tracing: config.traces,
    metrics: readers.length > 0,
    config,
    shutdown(timeoutMs = 3000) {
      stopped ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        // An unreachable collector must not hold up a SIGTERM: flush what we can, then go.
        await Promise.race([
          sdk.shutdown().catch((err: unknown) => warn.warn(`shutdown: ${err instanceof Error ? err.message : String(err)}`)),
          new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); timer.unref(); }),
        ]);
        clearTimeout(timer);
        // Back to the API's no-op providers: nothing records into the stopped SDK, and a new one may start.
        trace.disable();
        metrics.disable();
      })();
      return stopped;
    },
  };
  return telemetry;
}

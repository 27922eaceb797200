// Which telemetry the standard OTEL_* variables (plus EDGESPLIT_PROMETHEUS_PORT) ask for. Pure: reads only `env`.

export interface TelemetryConfig {
  /** Spans are exported (OTEL_TRACES_EXPORTER, or an OTLP endpoint with no exporter named). */
  traces: boolean;
  /** Metric exporters named by OTEL_METRICS_EXPORTER (or 'otlp' when only an endpoint is set), minus 'none'. */
  metricExporters: string[];
  /** A Prometheus scrape endpoint of our own (EDGESPLIT_PROMETHEUS_PORT, EDGESPLIT_PROMETHEUS_HOST). */
  prometheus?: { host: string; port: number };
  /** Problems found in the variables; each is warned about once and the value ignored. */
  problems: string[];
  /**
   * One event per onnxruntime session run on the partition's Run span (EDGESPLIT_TRACE_UNITS=true). Off by default:
   * a few per partition per request (one per unit with --fuse-units false), each costing tracing time.
   */
  unitEvents?: boolean;
}

const list = (v: string | undefined): string[] | undefined =>
  v === undefined || v.trim() === '' ? undefined : [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))];

const isTrue = (v: string | undefined): boolean => (v ?? '').trim().toLowerCase() === 'true';

/** Off unless configured: no OTEL_* exporter or endpoint and no Prometheus port means no SDK at all. */
export function telemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig {
  const problems: string[] = [];
  const off: TelemetryConfig = { traces: false, metricExporters: [], problems };
  if (isTrue(env.OTEL_SDK_DISABLED)) return off;
  const endpoint = (name: string) => (env[name] ?? '').trim() !== '';
  const anyEndpoint = endpoint('OTEL_EXPORTER_OTLP_ENDPOINT');
  const tracesNamed = list(env.OTEL_TRACES_EXPORTER);
  const traces = tracesNamed
    ? !tracesNamed.includes('none') && tracesNamed.length > 0
    : anyEndpoint || endpoint('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const metricsNamed = list(env.OTEL_METRICS_EXPORTER);
  let metricExporters = metricsNamed
    ? (metricsNamed.includes('none') ? [] : metricsNamed)
    : (anyEndpoint || endpoint('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') ? ['otlp'] : []);
  const unknown = metricExporters.filter((e) => !['otlp', 'prometheus', 'console'].includes(e));
  if (unknown.length) problems.push(`OTEL_METRICS_EXPORTER: unsupported ${unknown.join(', ')} (supported: otlp, prometheus, console, none)`);
  metricExporters = metricExporters.filter((e) => !unknown.includes(e));

  let prometheus: TelemetryConfig['prometheus'];
  const portText = (env.EDGESPLIT_PROMETHEUS_PORT ?? '').trim();
  if (portText !== '') {
    const port = Number(portText);
    if (Number.isInteger(port) && port >= 1 && port <= 65535) {
      prometheus = { host: (env.EDGESPLIT_PROMETHEUS_HOST ?? '').trim() || '0.0.0.0', port };
    } else {
      problems.push(`EDGESPLIT_PROMETHEUS_PORT: expected a port 1..65535, got ${JSON.stringify(portText)}`);
    }
  }
  return { traces, metricExporters, prometheus, problems, unitEvents: traces && isTrue(env.EDGESPLIT_TRACE_UNITS) };
}

/** True when the config starts anything (traces or at least one metric reader). */
export function telemetryWanted(c: TelemetryConfig): boolean {
  return c.traces || c.metricExporters.length > 0 || c.prometheus !== undefined;
}

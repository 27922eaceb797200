// A real Jaeger v2 (all-in-one: OTLP receiver, in-memory storage, query API)
// on free loopback ports, from the binary scripts/build-test-tools.sh builds.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ProcessGroup, toolPath, toolsDir } from './processes.ts';

export interface Jaeger {
  /** host:port of the OTLP/gRPC receiver. */
  otlpGrpc: string;
  /** host:port of the OTLP/HTTP receiver (POST /v1/traces). */
  otlpHttp: string;
  /** Base URL of the query service (GET /api/traces?service=...). */
  queryUrl: string;
  logs(): string;
  stop(): Promise<void>;
}

export function haveJaeger(dir = toolsDir()): boolean {
  return existsSync(toolPath('jaeger', dir));
}

export const missingJaegerMessage = `jaeger not found in ${toolsDir()}/bin; build it with: scripts/build-test-tools.sh jaeger`;

// Only what tests need: every listener on a chosen loopback port, and the
// collector's own metrics server (default :8888) switched off.
function config(p: { grpc: number; http: number; query: number; queryGrpc: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${p.query}
    grpc:
      endpoint: 127.0.0.1:${p.queryGrpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${p.grpc}
      http:
        endpoint: 127.0.0.1:${p.http}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

export async function startJaeger(opts: { toolsDir?: string } = {}): Promise<Jaeger> {
  const dir = opts.toolsDir ?? toolsDir();
  if (!haveJaeger(dir)) throw new Error(missingJaegerMessage);
  const g = new ProcessGroup('edgesplit-jaeger-');
  try {
    const [grpc, http, query, queryGrpc] = await Promise.all(Array.from({ length: 4 }, () => freePort()));
    const cfg = join(g.dir, 'jaeger.yaml');
    writeFileSync(cfg, config({ grpc, http, query, queryGrpc }));
    g.start('jaeger', toolPath('jaeger', dir), [`--config=${cfg}`]);
    const queryUrl = `http://127.0.0.1:${query}`;
    await g.waitFor('jaeger query API', async () => (await fetch(`${queryUrl}/api/services`)).ok, 30_000);
    // The receivers start after the extensions; a refused first export would lose spans.
    await g.waitFor('jaeger OTLP/HTTP receiver', async () =>
      (await fetch(`http://127.0.0.1:${http}/v1/traces`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}',
      })).ok, 30_000);
    return {
      otlpGrpc: `127.0.0.1:${grpc}`, otlpHttp: `127.0.0.1:${http}`, queryUrl,
      logs: () => g.logs(), stop: () => g.stop(),
    };
  } catch (e) {
    await g.stop();
    throw e;
  }
}

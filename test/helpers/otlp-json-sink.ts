// An OTLP/HTTP receiver for tests: services export with OTEL_EXPORTER_OTLP_PROTOCOL=http/json, so the spans
// arrive as plain JSON and are read back without a collector or any protobuf definitions.
import { createServer, type Server } from 'node:http';

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
interface KeyValue { key: string; value: AnyValue }

export interface SinkEvent { name: string; timeUnixNano: string; attributes: Record<string, unknown> }
export interface SinkSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
  events: SinkEvent[];
}

const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined)
  ?? v.doubleValue ?? v.boolValue;
const attrs = (kvs: KeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

interface ExportBody {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: (Omit<SinkSpan, 'service' | 'attributes' | 'events'> &
    { attributes?: KeyValue[]; events?: { name: string; timeUnixNano: string; attributes?: KeyValue[] }[] })[] }[] }[];
}

export interface OtlpJsonSink {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: SinkSpan[];
  /** Export bodies that were not OTLP JSON (should stay empty). */
  rejected: string[];
  close(): Promise<void>;
}

export async function startOtlpJsonSink(): Promise<OtlpJsonSink> {
  const spans: SinkSpan[] = [];
  const rejected: string[] = [];
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        const body = JSON.parse(text) as ExportBody;
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind,
                service, attributes: attrs(s.attributes),
                events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: attrs(e.attributes) })) });
            }
          }
        }
      } catch {
        rejected.push(`${req.url}: ${text.slice(0, 200)}`);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, spans, rejected, close: () => new Promise((r) => srv.close(() => r())) };
}

// Reading traces back from Jaeger's query API (GET /api/traces, /api/traces/{id}) and printing one as an indented
// waterfall. Used by scripts/show-trace.ts, `edgesplit demo --trace`-style helpers and the Jaeger tests.

export interface JaegerTag { key: string; type: string; value: unknown }
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  /** microseconds since the epoch */
  startTime: number;
  /** microseconds */
  duration: number;
  tags: JaegerTag[];
  /** The span's events: each a timestamp (microseconds since the epoch) and fields, the name under `event`. */
  logs?: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
}

export async function fetchTraces(queryUrl: string, q: { service: string; operation?: string; limit?: number; lookback?: string }): Promise<JaegerTrace[]> {
  const u = new URL('/api/traces', queryUrl);
  u.searchParams.set('service', q.service);
  if (q.operation) u.searchParams.set('operation', q.operation);
  u.searchParams.set('limit', String(q.limit ?? 20));
  if (q.lookback) u.searchParams.set('lookback', q.lookback);
  const r = await fetch(u);
  if (r.status === 404) return [];
  if (!r.ok) throw new Error(`jaeger ${u}: HTTP ${r.status} ${await r.text()}`);
  return ((await r.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

export async function fetchTrace(queryUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
  const r = await fetch(new URL(`/api/traces/${traceId}`, queryUrl));
  if (r.status === 404) return undefined;
  if (!r.ok) throw new Error(`jaeger trace ${traceId}: HTTP ${r.status} ${await r.text()}`);
  return ((await r.json()) as { data: JaegerTrace[] }).data?.[0];
}

export const tag = (s: JaegerSpan, key: string): unknown => s.tags.find((t) => t.key === key)?.value;
export const service = (t: JaegerTrace, s: JaegerSpan): string => t.processes[s.processID]?.serviceName ?? '?';
export const parentOf = (s: JaegerSpan): string | undefined => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

export interface JaegerEvent { name: string; timestamp: number; attributes: Record<string, unknown> }

/** A span's events (OpenTelemetry span events arrive as Jaeger logs), optionally only those named `name`. */
export function eventsOf(s: JaegerSpan, name?: string): JaegerEvent[] {
  return (s.logs ?? []).map((l) => ({ timestamp: l.timestamp,
    name: String(l.fields.find((f) => f.key === 'event')?.value ?? ''),
    attributes: Object.fromEntries(l.fields.filter((f) => f.key !== 'event').map((f) => [f.key, f.value])) }))
    .filter((e) => name === undefined || e.name === name);
}

const SHOWN = ['edgesplit.partition', 'edgesplit.point', 'edgesplit.peer', 'edgesplit.bytes', 'edgesplit.precision',
  'edgesplit.batch', 'edgesplit.exchanged_bytes', 'edgesplit.degraded', 'edgesplit.predicted_latency_ms', 'rpc.grpc.status_code',
  'edgesplit.unit', 'edgesplit.duration_ms', 'edgesplit.compute_ms', 'edgesplit.wait_ms', 'edgesplit.merged'];

const shown = (get: (k: string) => unknown): string => SHOWN.filter((k) => get(k) !== undefined && !(k === 'rpc.grpc.status_code' && get(k) === 0))
  .map((k) => {
    const v = get(k);
    return `${k.replace('edgesplit.', '')}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`;
  }).join(' ');

/**
 * One line per span, children under their parent in start order: offset from the trace's start, duration, a bar on a
 * shared time axis, service, name and the edgesplit.* attributes that matter; under each span its events (pushes,
 * merges, the partitions' Runs as the router saw them, the head), a `*` at their time.
 */
export function waterfall(t: JaegerTrace, width = 40): string {
  const spans = [...t.spans].sort((a, b) => a.startTime - b.startTime);
  const ids = new Set(spans.map((s) => s.spanID));
  const kids = new Map<string, JaegerSpan[]>();
  const roots: JaegerSpan[] = [];
  for (const s of spans) {
    const p = parentOf(s);
    if (p && ids.has(p)) kids.set(p, [...(kids.get(p) ?? []), s]);
    else roots.push(s);
  }
  const t0 = Math.min(...spans.map((s) => s.startTime));
  const total = Math.max(1, Math.max(...spans.map((s) => s.startTime + s.duration)) - t0);
  const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
  const lines = [`trace ${t.traceID}: ${spans.length} spans, ${ms(total)} ms`];
  const walk = (s: JaegerSpan, depth: number) => {
    const a = Math.floor(((s.startTime - t0) / total) * width);
    const b = Math.max(a + 1, Math.round(((s.startTime - t0 + s.duration) / total) * width));
    const bar = ' '.repeat(a) + '#'.repeat(Math.min(width, b) - a) + ' '.repeat(Math.max(0, width - b));
    const kind = tag(s, 'span.kind');
    const attrs = shown((k) => tag(s, k));
    lines.push(`${ms(s.startTime - t0).padStart(8)} ${ms(s.duration).padStart(8)} ms |${bar}| ${'  '.repeat(depth)}` +
      `${s.operationName}${kind && kind !== 'internal' ? ` [${kind}]` : ''} (${service(t, s)})${attrs ? `  ${attrs}` : ''}`);
    for (const e of eventsOf(s).sort((x, y) => x.timestamp - y.timestamp)) {
      const at = Math.min(width - 1, Math.floor(((e.timestamp - t0) / total) * width));
      const mark = ' '.repeat(at) + '*' + ' '.repeat(width - at - 1);
      const ea = shown((k) => e.attributes[k]);
      lines.push(`${ms(e.timestamp - t0).padStart(8)} ${''.padStart(8)}    |${mark}| ${'  '.repeat(depth + 1)}. ${e.name}${ea ? `  ${ea}` : ''}`);
    }
    for (const k of kids.get(s.spanID) ?? []) walk(k, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return lines.join('\n');
}

/** Polls until `accept` is satisfied by the traces found (spans reach Jaeger through batch processors). */
export async function waitForTraces(queryUrl: string, q: { service: string; operation?: string; limit?: number },
  accept: (ts: JaegerTrace[]) => boolean, timeoutMs = 20_000): Promise<JaegerTrace[]> {
  let last: JaegerTrace[] = [];
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    last = await fetchTraces(queryUrl, q);
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

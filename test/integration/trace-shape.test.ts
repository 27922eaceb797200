// One inference = one trace holding every partition and every push with its bytes, as the real processes (router
// and P partitions) export it over OTLP/HTTP (JSON, read back by a test sink). Nothing here builds spans.
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { activePoints, receiveFrom, sendTo, sessionName, sessionRuns } from '../../src/runtime/policy.ts';
import { startOtlpJsonSink, type OtlpJsonSink, type SinkEvent, type SinkSpan } from '../helpers/otlp-json-sink.ts';
import { classifySample } from '../helpers/classify-sample.ts';

const PACKAGE = 'fmnist-p4-1au-1au-1au-2cf-2au-1au';
const REQUESTS = 3;
const N = 2;
const SERVER = 2;

describe('the trace of one inference (real processes, OTLP/HTTP JSON)', function () {
  this.timeout(120_000);
  const pkg = loadPackage(resolvePackageDir(PACKAGE));
  const P = pkg.manifest.partitions;
  const points = activePoints(pkg.manifest);
  const sessions = sessionRuns(pkg.manifest).map(sessionName);
  let sink: OtlpJsonSink | undefined;
  let stack: Stack | undefined;
  const answers: { exchangedBytes: number }[] = [];
  const logs: string[] = [];
  let traces = new Map<string, SinkSpan[]>();
  const roots = () => sink!.spans.filter((s) => s.name === 'inference.GRPCInferenceService/ModelInfer');
  const events = (s: SinkSpan, name: string): SinkEvent[] => s.events.filter((e) => e.name === name);

  before(async () => {
    sink = await startOtlpJsonSink();
    stack = await startStack({ pkg, host: '127.0.0.1', log: (l) => logs.push(l), env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRICS_EXPORTER: 'none',
      OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '100', EDGESPLIT_TRACE_UNITS: 'true' } });
    answers.push(...await classifySample(stack.router, REQUESTS, N));
    // Every process exports on its own schedule: wait until each request's partition spans are in.
    const complete = () => {
      traces = new Map(roots().map((r) => [r.traceId, sink!.spans.filter((s) => s.traceId === r.traceId)]));
      return traces.size >= REQUESTS && [...traces.values()].every((t) => t.length >= 1 + P);
    };
    for (const until = Date.now() + 20_000; !complete() && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    await stack?.stop();
    await sink?.close();
  });

  it('should export one trace per request: the router\'s request span and one Run span per partition, nothing else', () => {
    assert.deepEqual(sink!.rejected, []);
    assert.equal(traces.size, REQUESTS, `traces: ${traces.size}, spans: ${sink!.spans.map((s) => s.name).join(', ')}\n${logs.join('\n')}`);
    for (const spans of traces.values()) {
      const root = spans.filter((s) => s.parentSpanId === '');
      assert.equal(root.length, 1, spans.map((s) => `${s.service} ${s.name}`).join('\n'));
      assert.equal(root[0].service, 'edgesplit-router');
      assert.equal(root[0].kind, SERVER);
      assert.equal(root[0].attributes['rpc.grpc.status_code'], 0);
      assert.equal(root[0].attributes['edgesplit.batch'], N);
      const runs = spans.filter((s) => s.name === 'edgesplit.v1.Partition/Run');
      assert.equal(spans.length, 1 + P, spans.map((s) => `${s.service} ${s.name}`).join('\n'));
      assert.deepEqual(runs.map((s) => s.attributes['edgesplit.partition']).sort(), Array.from({ length: P }, (_, i) => i));
      for (const r of runs) {
        assert.equal(r.parentSpanId, root[0].spanId, 'a partition\'s Run span is a child of the router\'s request span');
        assert.equal(r.service, 'edgesplit-partition');
        assert.equal(r.kind, SERVER);
        assert.equal(r.attributes['edgesplit.batch'], N);
      }
    }
  });

  it('should show every partition\'s Run as the router saw it, and the head, as events on the request span', () => {
    for (const spans of traces.values()) {
      const root = spans.find((s) => s.parentSpanId === '')!;
      const runs = events(root, 'edgesplit.run');
      assert.deepEqual(runs.map((e) => e.attributes['edgesplit.partition']).sort(), Array.from({ length: P }, (_, i) => i));
      for (const e of runs) {
        assert.equal(e.attributes['rpc.grpc.status_code'], 0);
        assert.ok(Number(e.attributes['edgesplit.duration_ms']) > 0);
      }
      assert.equal(events(root, 'edgesplit.head').length, 1);
    }
  });

  it('should show every push, sent and merged, with its point, peers, precision and bytes, on the Run spans', () => {
    for (const spans of traces.values()) {
      const runs = spans.filter((s) => s.name === 'edgesplit.v1.Partition/Run');
      for (const r of runs) {
        const i = Number(r.attributes['edgesplit.partition']);
        const sent = events(r, 'edgesplit.push');
        const merged = events(r, 'edgesplit.merge');
        assert.deepEqual(sent.map((e) => e.attributes['edgesplit.point']), points.map((p) => p.point), `partition ${i} sent`);
        assert.deepEqual(merged.map((e) => e.attributes['edgesplit.point']), points.map((p) => p.point), `partition ${i} merged`);
        points.forEach((p, j) => {
          assert.equal(sent[j].attributes['edgesplit.peer'], sendTo(i, p.shift, P));
          assert.equal(sent[j].attributes['edgesplit.precision'], p.precision);
          assert.equal(merged[j].attributes['edgesplit.peer'], receiveFrom(i, p.shift, P));
          assert.equal(merged[j].attributes['edgesplit.merged'], true);
          assert.ok(Number(merged[j].attributes['edgesplit.wait_ms']) >= 0);
        });
        assert.deepEqual(events(r, 'edgesplit.compute').map((e) => e.attributes['edgesplit.unit']), sessions);
      }
    }
  });

  it('should sum the pushes\' bytes, sent and merged, to the manifest\'s exchangedBytes per image x N', () => {
    const expected = pkg.manifest.metrics.exchangedBytes * N;
    for (const spans of traces.values()) {
      const sum = (name: string) => spans.flatMap((s) => events(s, name)).reduce((a, e) => a + Number(e.attributes['edgesplit.bytes']), 0);
      assert.equal(sum('edgesplit.push'), expected);
      assert.equal(sum('edgesplit.merge'), expected);
      const root = spans.find((s) => s.parentSpanId === '')!;
      assert.equal(root.attributes['edgesplit.exchanged_bytes'], expected);
    }
    for (const a of answers) assert.equal(a.exchangedBytes, expected);
  });
});

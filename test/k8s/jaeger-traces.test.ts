// One inference = one trace, read back from a real Jaeger that the real stack (partition and router processes)
// exported to over OTLP. Nothing here builds spans: every span asserted on was made by the services.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BIN, freePort, startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { loadProto } from '../../src/runtime/proto.ts';
import type { ProtoGrpcType } from '../../src/runtime/generated/planner.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { activePoints, receiveFrom, sendTo, sessionName, sessionRuns } from '../../src/runtime/policy.ts';
import { eventsOf, parentOf, service, tag, waitForTraces, waterfall, type JaegerSpan, type JaegerTrace } from '../helpers/jaeger-query.ts';
import { haveJaeger, missingJaegerMessage, startJaeger, type Jaeger } from './harness/jaeger.ts';
import { skipBecause } from '../skip.ts';
import { classifySample } from '../helpers/classify-sample.ts';

const PACKAGE = 'fmnist-p4-1au-1au-1au-2cf-2au-1au';
const REQUESTS = 3;
const N = 2;

const kindOf = (s: JaegerSpan) => tag(s, 'span.kind');
const named = (t: JaegerTrace, name: string, kind?: string) =>
  t.spans.filter((s) => s.operationName === name && (kind === undefined || kindOf(s) === kind));

describe('traces in Jaeger (real collector, real stack)', function () {
  this.timeout(180_000);
  let jaeger: Jaeger | undefined;
  let stack: Stack | undefined;
  const pkg = loadPackage(resolvePackageDir(PACKAGE));
  const P = pkg.manifest.partitions;
  const points = activePoints(pkg.manifest);
  // One compute event per onnxruntime session: the package's fused runs of units, each unit elsewhere (src/runtime/unit-chain.ts).
  const sessions = sessionRuns(pkg.manifest).map(sessionName);
  const answers: { exchangedBytes: number }[] = [];
  let traces: JaegerTrace[] = [];
  const logs: string[] = [];

  before(async function () {
    if (!haveJaeger()) {
      skipBecause(this, `needs Jaeger: ${missingJaegerMessage}`);
    }
    jaeger = await startJaeger();
    stack = await startStack({ pkg, host: '127.0.0.1', log: (l) => logs.push(l), env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${jaeger.otlpHttp}`,
      // Jaeger takes traces only; metrics are covered by the Prometheus test.
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      // One event per onnxruntime session run is opt-in; this test asks for them.
      EDGESPLIT_TRACE_UNITS: 'true',
    } });
    answers.push(...await classifySample(stack.router, REQUESTS, N));
    // The router's request span and one Run span per partition: pushes, merges, the head and the session runs are
    // events on them (docs/tracing.md).
    const spansPerTrace = 1 + P;
    traces = await waitForTraces(jaeger.queryUrl, { service: 'edgesplit-router', operation: 'inference.GRPCInferenceService/ModelInfer' },
      (ts) => ts.length >= REQUESTS && ts.every((t) => t.spans.length >= spansPerTrace), 30_000);
  });

  after(async () => {
    await stack?.stop();
    await jaeger?.stop();
  });

  it('should record one trace per request, rooted at the router span, and nothing but the Run spans under it', () => {
    assert.equal(traces.length, REQUESTS, `traces: ${traces.map((t) => `${t.traceID}(${t.spans.length})`).join(' ')}\n${jaeger!.logs()}`);
    for (const t of traces) {
      const roots = t.spans.filter((s) => !parentOf(s));
      assert.equal(roots.length, 1, waterfall(t));
      assert.equal(roots[0].operationName, 'inference.GRPCInferenceService/ModelInfer');
      assert.equal(kindOf(roots[0]), 'server');
      assert.equal(service(t, roots[0]), 'edgesplit-router');
      assert.equal(tag(roots[0], 'rpc.grpc.status_code'), 0);
      assert.equal(t.spans.length, 1 + P, waterfall(t));
      assert.equal(eventsOf(roots[0], 'edgesplit.head').length, 1, 'one head event');
    }
  });

  it('should hold every partition\'s Run (a server span at the partition, an event at the router) and every session run', () => {
    for (const t of traces) {
      const root = t.spans.find((s) => !parentOf(s))!;
      const servers = named(t, 'edgesplit.v1.Partition/Run', 'server');
      assert.deepEqual(servers.map((s) => tag(s, 'edgesplit.partition')).sort(), Array.from({ length: P }, (_, i) => i));
      assert.deepEqual(eventsOf(root, 'edgesplit.run').map((e) => e.attributes['edgesplit.partition']).sort(),
        Array.from({ length: P }, (_, i) => i), waterfall(t));
      for (const s of servers) {
        assert.equal(parentOf(s), root.spanID, 'a partition Run span is the child of the router\'s request span');
        assert.equal(service(t, s), 'edgesplit-partition');
        assert.deepEqual(eventsOf(s, 'edgesplit.compute').map((e) => e.attributes['edgesplit.unit']), sessions);
      }
      assert.equal(named(t, 'edgesplit.v1.Partition/Run').length, P);
    }
  });

  it('should hold every push, sent and merged, with its point, peer, precision and byte count', () => {
    for (const t of traces) {
      const runs = named(t, 'edgesplit.v1.Partition/Run', 'server');
      const sent = runs.flatMap((s) => eventsOf(s, 'edgesplit.push').map((e) => ({ e, from: Number(tag(s, 'edgesplit.partition')) })));
      const merged = runs.flatMap((s) => eventsOf(s, 'edgesplit.merge').map((e) => ({ e, to: Number(tag(s, 'edgesplit.partition')) })));
      assert.equal(sent.length, P * points.length, waterfall(t));
      assert.equal(merged.length, P * points.length);
      for (const { e, from } of sent) {
        for (const k of ['edgesplit.point', 'edgesplit.peer', 'edgesplit.bytes', 'edgesplit.precision']) {
          assert.notEqual(e.attributes[k], undefined, `push event lacks ${k}`);
        }
        const pt = points.find((p) => p.point === e.attributes['edgesplit.point']);
        assert.ok(pt, `push at an inactive point ${e.attributes['edgesplit.point']}`);
        assert.equal(e.attributes['edgesplit.precision'], pt.precision);
        assert.equal(e.attributes['edgesplit.peer'], sendTo(from, pt.shift, P));
      }
      for (const { e, to } of merged) {
        const pt = points.find((p) => p.point === e.attributes['edgesplit.point']);
        assert.ok(pt, `merge at an inactive point ${e.attributes['edgesplit.point']}`);
        assert.equal(e.attributes['edgesplit.peer'], receiveFrom(to, pt.shift, P));
        assert.equal(e.attributes['edgesplit.merged'], true);
      }
    }
  });

  it('should sum the push events\' bytes, sent and merged, to the manifest\'s exchangedBytes per image x N', () => {
    const expected = pkg.manifest.metrics.exchangedBytes * N;
    for (const t of traces) {
      const sum = (name: string) => t.spans.flatMap((s) => eventsOf(s, name)).reduce((a, e) => a + Number(e.attributes['edgesplit.bytes']), 0);
      assert.equal(sum('edgesplit.push'), expected);
      assert.equal(sum('edgesplit.merge'), expected);
    }
    for (const a of answers) assert.equal(a.exchangedBytes, expected);
  });
});

describe('planner traces in Jaeger (real collector, real planner process)', function () {
  this.timeout(120_000);
  let jaeger: Jaeger | undefined;
  let planner: ChildProcess | undefined;
  let out = '';

  before(async function () {
    if (!haveJaeger()) {
      skipBecause(this, `needs Jaeger: ${missingJaegerMessage}`);
    }
    jaeger = await startJaeger();
  });

  after(async () => {
    if (planner && planner.exitCode === null) {
      const gone = new Promise((r) => planner!.once('exit', r));
      planner.kill('SIGTERM');
      await gone;
    }
    await jaeger?.stop();
  });

  it('should trace Plan as a server span holding edgesplit.plan with the predicted latency', async () => {
    const port = await freePort('127.0.0.1');
    const cluster = fileURLToPath(new URL('../fixtures/clusters/heterogeneous.yaml', import.meta.url));
    planner = spawn(process.execPath, [BIN, 'serve', 'planner', '--port', String(port), '--cluster', cluster], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://${jaeger!.otlpHttp}`, OTEL_METRICS_EXPORTER: 'none',
        OTEL_BSP_SCHEDULE_DELAY: '200' } });
    planner.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    planner.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    for (const until = Date.now() + 60_000; !out.includes('"msg":"ready"');) {
      assert.ok(Date.now() < until && planner.exitCode === null, `planner did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const Planner = loadProto<ProtoGrpcType>('edgesplit/v1/planner.proto').edgesplit.v1.Planner;
    const client = new Planner(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const res = await new Promise<any>((resolve, reject) => client.Plan({}, { deadline: Date.now() + 30_000 },
      (err: grpc.ServiceError | null, r: unknown) => (err ? reject(err) : resolve(r))));
    client.close();
    const traces = await waitForTraces(jaeger!.queryUrl, { service: 'edgesplit-planner' },
      (ts) => ts.some((t) => named(t, 'edgesplit.plan').length === 1), 20_000);
    assert.equal(traces.length, 1, `planner traces: ${traces.length}\n${out}`);
    const t = traces[0];
    const rpc = named(t, 'edgesplit.v1.Planner/Plan', 'server');
    const plan = named(t, 'edgesplit.plan');
    assert.equal(rpc.length, 1, waterfall(t));
    assert.equal(plan.length, 1);
    assert.equal(parentOf(plan[0]), rpc[0].spanID);
    assert.equal(tag(plan[0], 'edgesplit.predicted_latency_ms'), res.predictedLatencyMs);
    assert.equal(tag(plan[0], 'edgesplit.package'), res.package);
    assert.equal(tag(rpc[0], 'edgesplit.predicted_latency_ms'), res.predictedLatencyMs);
  });
});

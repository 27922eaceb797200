// One inference = one trace, read back from a real Jaeger that the real stack (partition and router processes)
// exported to over OTLP. Nothing here builds spans: every span asserted on was made by the services.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { BIN, freePort, startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { loadProto } from '../../src/runtime/proto.ts';
import type { ProtoGrpcType } from '../../src/runtime/generated/planner.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { activePoints, sendTo, sessionName, sessionRuns } from '../../src/runtime/policy.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { parentOf, service, tag, waitForTraces, waterfall, type JaegerSpan, type JaegerTrace } from '../helpers/jaeger-query.ts';
import { haveJaeger, missingJaegerMessage, startJaeger, type Jaeger } from './harness/jaeger.ts';
import { skipBecause } from '../skip.ts';

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
  // One span per onnxruntime session: the package's fused runs of units, each unit elsewhere (src/runtime/unit-chain.ts).
  const sessions = sessionRuns(pkg.manifest).map(sessionName);
  const units = sessions.length;
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
      // One span per ONNX unit is opt-in (it costs more than a small model's units); this test asks for them.
      EDGESPLIT_TRACE_UNITS: 'true',
    } });
    const client = new OipClient(stack.router);
    const s = loadSample();
    try {
      for (let r = 0; r < REQUESTS; r++) {
        answers.push(await client.classify(s.images.subarray(r * N * 784, (r + 1) * N * 784), N, { timeoutMs: 30_000 }));
      }
    } finally {
      client.close();
    }
    const spansPerTrace = 1 + 2 * P + P * units + 2 * P * points.length + 1;
    traces = await waitForTraces(jaeger.queryUrl, { service: 'edgesplit-router', operation: 'inference.GRPCInferenceService/ModelInfer' },
      (ts) => ts.length >= REQUESTS && ts.every((t) => t.spans.length >= spansPerTrace), 30_000);
  });

  after(async () => {
    await stack?.stop();
    await jaeger?.stop();
  });

  it('should record one trace per request, rooted at the router span', () => {
    assert.equal(traces.length, REQUESTS, `traces: ${traces.map((t) => `${t.traceID}(${t.spans.length})`).join(' ')}\n${jaeger!.logs()}`);
    for (const t of traces) {
      const roots = t.spans.filter((s) => !parentOf(s));
      assert.equal(roots.length, 1, waterfall(t));
      assert.equal(roots[0].operationName, 'inference.GRPCInferenceService/ModelInfer');
      assert.equal(kindOf(roots[0]), 'server');
      assert.equal(service(t, roots[0]), 'edgesplit-router');
      assert.equal(tag(roots[0], 'rpc.grpc.status_code'), 0);
      assert.equal(named(t, 'edgesplit.head').length, 1, 'one head span');
    }
  });

  it('should hold every partition\'s Run (client at the router, server at the partition) and every unit', () => {
    for (const t of traces) {
      const clients = named(t, 'edgesplit.v1.Partition/Run', 'client');
      const servers = named(t, 'edgesplit.v1.Partition/Run', 'server');
      assert.equal(clients.length, P, waterfall(t));
      assert.deepEqual(servers.map((s) => tag(s, 'edgesplit.partition')).sort(), Array.from({ length: P }, (_, i) => i));
      const clientIds = new Set(clients.map((s) => s.spanID));
      for (const s of servers) {
        assert.ok(clientIds.has(parentOf(s)!), 'a partition Run span is the child of the router\'s Run client span');
        assert.equal(service(t, s), 'edgesplit-partition');
      }
      const computes = t.spans.filter((s) => s.operationName.startsWith('compute '));
      assert.equal(computes.length, P * units);
      for (let i = 0; i < P; i++) {
        const mine = computes.filter((s) => tag(s, 'edgesplit.partition') === i);
        assert.deepEqual(mine.map((s) => tag(s, 'edgesplit.unit')).sort(), [...sessions].sort());
      }
    }
  });

  it('should hold every push, sent and received, with its point, peer, precision and byte count', () => {
    for (const t of traces) {
      const sent = named(t, 'edgesplit.v1.Partition/Push', 'client');
      const received = named(t, 'edgesplit.v1.Partition/Push', 'server');
      assert.equal(sent.length, P * points.length, waterfall(t));
      assert.equal(received.length, P * points.length);
      const sentIds = new Set(sent.map((s) => s.spanID));
      for (const r of received) assert.ok(sentIds.has(parentOf(r)!), 'a received push is the child of the sender\'s push');
      for (const s of sent) {
        for (const k of ['edgesplit.point', 'edgesplit.peer', 'edgesplit.bytes', 'edgesplit.precision', 'edgesplit.partition']) {
          assert.notEqual(tag(s, k), undefined, `push span lacks ${k}`);
        }
        const pt = points.find((p) => p.point === tag(s, 'edgesplit.point'));
        assert.ok(pt, `push at an inactive point ${tag(s, 'edgesplit.point')}`);
        assert.equal(tag(s, 'edgesplit.precision'), pt.precision);
        assert.equal(tag(s, 'edgesplit.peer'), sendTo(Number(tag(s, 'edgesplit.partition')), pt.shift, P));
      }
    }
  });

  it('should sum the push spans\' bytes to the manifest\'s exchangedBytes per image x N', () => {
    const expected = pkg.manifest.metrics.exchangedBytes * N;
    for (const t of traces) {
      const sum = (spans: JaegerSpan[]) => spans.reduce((a, s) => a + Number(tag(s, 'edgesplit.bytes')), 0);
      assert.equal(sum(named(t, 'edgesplit.v1.Partition/Push', 'client')), expected);
      assert.equal(sum(named(t, 'edgesplit.v1.Partition/Push', 'server')), expected);
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

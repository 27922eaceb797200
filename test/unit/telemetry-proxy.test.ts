import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { metrics, SpanKind, trace } from '@opentelemetry/api';
import { MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { instrumented, metricsOn, tracingOn } from '../../src/runtime/telemetry/enabled.ts';
import { clientInterceptors } from '../../src/runtime/telemetry/grpc-client.ts';
import { instruments } from '../../src/runtime/telemetry/metrics.ts';
import { startTelemetry, TelemetryStartedError } from '../../src/runtime/telemetry/sdk.ts';
import type { RoleServer } from '../../src/runtime/role-server.ts';
import { echoServer, EchoClient, say } from '../helpers/echo-service.ts';

/** Collects on demand (no timer), so the test reads exactly what was recorded. */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  async read(): Promise<ResourceMetrics> {
    return (await this.collect()).resourceMetrics;
  }
}

describe('telemetry through the OpenTelemetry API\'s global providers (no state of our own)', () => {
  let role: RoleServer;
  let client: grpc.Client;
  let address: string;
  let sdk: NodeSDK | undefined;
  const spans = new tracing.InMemorySpanExporter();
  const reader = new TestReader();

  before(async () => {
    // Server and client exist before any SDK: what they do is decided per call, not at creation.
    assert.equal(instrumented(), false);
    ({ role } = echoServer({ telemetry: true }));
    address = `127.0.0.1:${await role.listen('127.0.0.1', 0)}`;
    client = new EchoClient(address, grpc.credentials.createInsecure(), { interceptors: clientInterceptors(address) });
  });
  after(async () => {
    client.close();
    await role.shutdown({ timeoutMs: 1000 });
    await sdk?.shutdown();
    trace.disable();
    metrics.disable();
  });

  it('should pass calls through untraced while no SDK is started', async () => {
    assert.equal((await say(client, { text: 'before' })).text, 'before');
    assert.equal(tracingOn(), false);
    assert.equal(metricsOn(), false);
  });

  it('should trace a server and a client made before the SDK started, once it has', async () => {
    sdk = new NodeSDK({ spanProcessors: [new tracing.SimpleSpanProcessor(spans)], metricReaders: [reader], instrumentations: [] });
    sdk.start();
    assert.equal(tracingOn(), true);
    assert.equal(metricsOn(), true);
    await say(client, { text: 'after' });
    // The SDK exports once the resource's asynchronous attributes are in: a moment after the spans end.
    for (let i = 0; i < 100 && spans.getFinishedSpans().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    const done = spans.getFinishedSpans();
    const server = done.find((s) => s.kind === SpanKind.SERVER);
    const caller = done.find((s) => s.kind === SpanKind.CLIENT);
    assert.ok(server && caller, done.map((s) => `${s.name} ${s.kind}`).join('\n'));
    assert.equal(server.name, 'test.v1.Echo/Say');
    assert.equal(server.attributes['rpc.grpc.status_code'], 0);
    assert.equal(server.attributes['test.text'], 'after');
    assert.equal(server.attributes['test.n'], 2);
    // The caller's context travelled in the metadata: one trace, the server span a child of the client span.
    assert.equal(server.spanContext().traceId, caller.spanContext().traceId);
    assert.equal(server.parentSpanContext?.spanId, caller.spanContext().spanId);
    // The handler ran inside the SERVER span, across its awaits.
    const inner = done.find((s) => s.name === 'echo.inner');
    assert.equal(inner?.parentSpanContext?.spanId, server.spanContext().spanId);
  });

  it('should neither trace nor count a request the malformed guard answered', async () => {
    spans.reset();
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve) => raw.makeUnaryRequest('/test.v1.Echo/Say',
      (b: Buffer) => b, (b: Buffer) => b, Buffer.from('{not json'), (e) => resolve(e!)));
    raw.close();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(spans.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).map((s) => s.name), []);
  });

  it('should record call metrics in instruments made after the MeterProvider changed', async () => {
    instruments().requests.add(0);
    const rm = await reader.read();
    const names = rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    assert.ok(names.includes('rpc.server.call.duration'), names.join(','));
    assert.ok(names.includes('edgesplit.requests'), names.join(','));
  });

  it('should refuse to start a second SDK while one runs, naming the service', async () => {
    await assert.rejects(startTelemetry({ service: 'second', env: { OTEL_TRACES_EXPORTER: 'console' } }),
      (e: Error) => e instanceof TelemetryStartedError && /second/.test(e.message));
    // Nothing configured: nothing to start, never an error.
    assert.equal((await startTelemetry({ service: 'off', env: {} })).tracing, false);
  });
});

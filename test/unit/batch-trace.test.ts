import assert from 'node:assert/strict';
import { context, metrics, trace } from '@opentelemetry/api';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { BATCH_SPAN, batchContext, inBatchTrace } from '../../src/roles/router/batch-trace.ts';
import { DynamicBatcher } from '../../src/roles/router/batcher.ts';

describe('traces through the dynamic batcher (batch-trace.ts, in-memory exporter)', () => {
  const spans = new tracing.InMemorySpanExporter();
  let sdk: NodeSDK;

  before(() => {
    sdk = new NodeSDK({ spanProcessors: [new tracing.SimpleSpanProcessor(spans)], instrumentations: [] });
    sdk.start();
  });
  after(async () => {
    await sdk.shutdown();
    trace.disable();
    metrics.disable();
    context.disable();
  });

  it("should run a batch in its first member's trace, linked to the others, each of which is told where it went", async () => {
    spans.reset();
    const tracer = trace.getTracer('test');
    // One partition call per batch, as a child span of whatever context the batch runs in.
    const batcher = new DynamicBatcher<{ trace: ReturnType<typeof batchContext> }, string>(
      { maxBatchSize: 8, preferredBatchSizes: [], maxQueueDelayUs: 0, instances: 1 },
      (b) => inBatchTrace(b.items.map((i) => i.trace), b.total, async () => {
        await new Promise((r) => setTimeout(r, 10));
        tracer.startSpan('partition call').end();
        return b.items.map((_, k) => `r${k}`);
      }));
    const request = (name: string) => tracer.startActiveSpan(name, async (span) => {
      try {
        return await batcher.submit({ trace: batchContext() }, 1, Date.now() + 5000);
      } finally {
        span.end();
      }
    });
    // a travels alone (the slot was free); b, c, d queue behind it and travel as one batch.
    await Promise.all(['a', 'b', 'c', 'd'].map(request));
    const done = spans.getFinishedSpans();
    const byName = (n: string) => done.filter((s) => s.name === n);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => byName(n)[0]);
    const calls = byName('partition call');
    assert.equal(calls.length, 2);
    assert.equal(calls[0].spanContext().traceId, a.spanContext().traceId, 'a lone request keeps its own trace, no batch span');
    assert.equal(calls[0].parentSpanContext?.spanId, a.spanContext().spanId);
    const [batch] = byName(BATCH_SPAN);
    assert.equal(byName(BATCH_SPAN).length, 1);
    assert.equal(batch.spanContext().traceId, b.spanContext().traceId, "the batch runs in its first member's trace");
    assert.equal(batch.parentSpanContext?.spanId, b.spanContext().spanId);
    assert.equal(calls[1].parentSpanContext?.spanId, batch.spanContext().spanId);
    assert.deepEqual(batch.attributes, { 'edgesplit.batch': 3, 'edgesplit.batch_requests': 3 });
    assert.deepEqual(batch.links.map((l) => l.context.spanId), [c.spanContext().spanId, d.spanContext().spanId]);
    for (const m of [c, d]) {
      const ev = m.events.find((e) => e.name === 'edgesplit.batched');
      assert.ok(ev, `${m.name} has no edgesplit.batched event`);
      assert.equal(ev.attributes?.['edgesplit.batch_trace_id'], batch.spanContext().traceId);
      assert.equal(ev.attributes?.['edgesplit.batch_span_id'], batch.spanContext().spanId);
    }
    assert.equal(b.events.length, 0);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { haveJaeger, missingJaegerMessage, startJaeger, type Jaeger } from './harness/jaeger.ts';
import { skipBecause } from '../skip.ts';

describe('test Jaeger (real all-in-one)', function () {
  this.timeout(60_000);
  let jaeger: Jaeger | undefined;

  before(async function () {
    if (!haveJaeger()) {
      skipBecause(this, `needs Jaeger: ${missingJaegerMessage}`);
    }
    jaeger = await startJaeger();
  });

  after(async () => {
    await jaeger?.stop();
  });

  it('should return a span posted over OTLP/HTTP from its query API', async () => {
    const service = `edgesplit-test-${randomBytes(3).toString('hex')}`;
    const traceId = randomBytes(16).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{
          scope: { name: 'edgesplit-test' },
          spans: [{
            traceId, spanId: randomBytes(8).toString('hex'), name: 'infer', kind: 2,
            startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now),
          }],
        }],
      }],
    };
    const posted = await fetch(`http://${jaeger!.otlpHttp}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.equal(posted.status, 200, await posted.text());

    // Spans reach storage through a batch processor, so poll briefly.
    let traces: any[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && traces.length === 0;) {
      const r = await fetch(`${jaeger!.queryUrl}/api/traces?service=${service}`);
      if (r.ok) traces = (await r.json()).data ?? [];
      if (traces.length === 0) await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(traces.length, 1, `no trace for ${service}\n${jaeger!.logs()}`);
    assert.equal(traces[0].traceID, traceId);
    assert.equal(traces[0].spans[0].operationName, 'infer');
  });
});

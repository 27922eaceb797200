// Telemetry must never break serving: the real stack (partition + router processes) with its collector unreachable
// and bad OTEL_* values keeps answering, warns once per kind of problem, and serves Prometheus metrics.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadSample } from '../../src/runtime/sample.ts';

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

describe('telemetry with an unreachable collector and bad OTEL_* values (real processes)', function () {
  this.timeout(120_000);
  let stack: Stack | undefined;
  const lines: string[] = [];
  let promPort = 0;
  const pkg = loadPackage(resolvePackageDir('fmnist-p1'));

  before(async () => {
    const dead = await freePort(); // nothing listens here: every export is refused
    promPort = await freePort();
    stack = await startStack({ pkg, host: '127.0.0.1', log: (l) => lines.push(l), env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'bogus_sampler',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      // Both processes ask for this port: one serves metrics on it, the other warns (address in use) and serves on.
      EDGESPLIT_PROMETHEUS_PORT: String(promPort),
      EDGESPLIT_PROMETHEUS_HOST: '127.0.0.1',
    } });
  });

  after(async () => {
    await stack?.stop();
  });

  it('should keep answering while every export fails', async () => {
    const client = new OipClient(stack!.router);
    const s = loadSample();
    try {
      for (let r = 0; r < 6; r++) {
        const a = await client.classify(s.images.subarray(r * 784, (r + 1) * 784), 1, { timeoutMs: 20_000 });
        assert.equal(a.labels.length, 1);
        assert.equal(a.degraded, false);
        // Let the batch processors and metric readers try (and fail) to export between requests.
        await new Promise((res) => setTimeout(res, 400));
      }
    } finally {
      client.close();
    }
    const exited = await Promise.race([stack!.childExit, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
    assert.equal(exited, null, `a process exited: ${exited}`);
  });

  it('should warn about each kind of telemetry problem once, not per export', () => {
    const warnings = lines.filter((l) => l.includes('telemetry: '));
    for (const who of ['[router]', '[partition 0]']) {
      const mine = warnings.filter((l) => l.startsWith(who));
      assert.ok(mine.some((l) => l.includes('OTEL_TRACES_SAMPLER')), `${who} did not warn about the sampler:\n${lines.join('\n')}`);
      assert.ok(mine.some((l) => l.includes('export failed')), `${who} did not warn about the failed export:\n${lines.join('\n')}`);
      const exportWarnings = mine.filter((l) => l.includes('export failed'));
      assert.ok(exportWarnings.length <= 2, `${who} repeated export warnings:\n${exportWarnings.join('\n')}`);
      assert.ok(mine.length <= 6, `${who} warned ${mine.length} times:\n${mine.join('\n')}`);
    }
  });

  it('should serve request, status and compute metrics on the Prometheus port', async () => {
    const r = await fetch(`http://127.0.0.1:${promPort}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /rpc_server_call_duration(_seconds)?_bucket\{[^}]*rpc_grpc_status_code="0"/);
    assert.match(text, /edgesplit_requests_total\{[^}]*rpc_method="(ModelInfer|Run)"[^}]*\} [1-9]/);
    assert.ok(/edgesplit_partition_compute_duration(_seconds)?_count/.test(text) || /rpc_client_call_duration(_seconds)?_count/.test(text),
      `neither the partition's compute nor the router's client histogram:\n${text.slice(0, 2000)}`);
  });
});

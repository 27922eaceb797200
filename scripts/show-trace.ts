/**
 * One inference as a waterfall a person can read, from Jaeger's query API.
 *
 *   node --import tsx scripts/show-trace.ts --jaeger http://127.0.0.1:16686            latest router trace
 *   node --import tsx scripts/show-trace.ts --jaeger http://127.0.0.1:16686 --trace ID  that trace
 *   node --import tsx scripts/show-trace.ts --demo [--package NAME] [--images N]
 *       starts the test Jaeger (scripts/build-test-tools.sh jaeger) and the local stack with OTLP export to it,
 *       classifies N images (one request) through the router and prints that request's trace.
 */
import { parseArgs } from 'node:util';
import { OipClient } from '../src/tools/cli/oip-client.ts';
import { resolvePackageFlag, startStack } from '../src/tools/cli/stack.ts';
import { imagesOf, loadSample, sampleDirFor } from '../src/runtime/sample.ts';
import { fetchTrace, fetchTraces, waitForTraces, waterfall, type JaegerTrace } from '../test/helpers/jaeger-query.ts';

const { values } = parseArgs({ options: { jaeger: { type: 'string' }, trace: { type: 'string' }, service: { type: 'string' },
  demo: { type: 'boolean' }, package: { type: 'string' }, images: { type: 'string' }, json: { type: 'boolean' } } });

function print(t: JaegerTrace | undefined): number {
  if (!t) {
    console.error('no trace found');
    return 1;
  }
  console.log(values.json ? JSON.stringify(t) : waterfall(t));
  return 0;
}

async function demo(): Promise<number> {
  const { haveJaeger, missingJaegerMessage, startJaeger } = await import('../test/k8s/harness/jaeger.ts');
  if (!haveJaeger()) {
    console.error(missingJaegerMessage);
    return 2;
  }
  const n = Math.min(64, Math.max(1, Number(values.images ?? 1)));
  const pkg = resolvePackageFlag(values.package);
  const jaeger = await startJaeger();
  try {
    const stack = await startStack({ pkg, host: '127.0.0.1', env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://${jaeger.otlpHttp}`,
      OTEL_METRICS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_TRACES_SAMPLER: 'parentbased_always_on' } });
    const client = new OipClient(stack.router);
    try {
      const sample = loadSample(sampleDirFor(pkg));
      // The first request pays for warm-up (sessions, connections); show the second.
      await client.classify(imagesOf(sample, 0, n), n);
      const r = await client.classify(imagesOf(sample, n, 2 * n), n);
      console.error(`${pkg.manifest.name}: ${n} image(s) -> ${r.labels.join(', ')}; ${r.exchangedBytes} bytes exchanged; Jaeger UI ${jaeger.queryUrl}`);
    } finally {
      client.close();
    }
    const ts = await waitForTraces(jaeger.queryUrl, { service: 'edgesplit-router', operation: 'inference.GRPCInferenceService/ModelInfer' },
      (t) => t.length >= 2, 20_000);
    // Spans from the partitions arrive on their own schedule: wait until the newest trace stops growing.
    const newest = ts.sort((a, b) => Math.max(...b.spans.map((s) => s.startTime)) - Math.max(...a.spans.map((s) => s.startTime)))[0];
    let t = newest;
    for (let last = -1; t && t.spans.length !== last;) {
      last = t.spans.length;
      await new Promise((res) => setTimeout(res, 700));
      t = (await fetchTrace(jaeger.queryUrl, newest.traceID)) ?? t;
    }
    await stack.stop();
    return print(t);
  } finally {
    await jaeger.stop();
  }
}

async function main(): Promise<number> {
  if (values.demo) return demo();
  const url = values.jaeger ?? process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
  if (values.trace) return print(await fetchTrace(url, values.trace));
  const ts = await fetchTraces(url, { service: values.service ?? 'edgesplit-router', limit: 20 });
  const latest = ts.sort((a, b) => Math.min(...b.spans.map((s) => s.startTime)) - Math.min(...a.spans.map((s) => s.startTime)))[0];
  return print(latest);
}

process.exitCode = await main();

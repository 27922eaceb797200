/**
 * Tracing's cost, paired: a plain stack and one exporting every request's spans over OTLP/HTTP to a sink in this
 * process, batch-1 requests alternated between them one by one (the order flipped every pair), so that load from
 * elsewhere on a shared machine hits both alike. Prints one JSON line: both p50s, the overhead, and the kernel CPU
 * (utime + stime, every thread) per request of each process, which is steadier than latency on a loaded machine.
 * `node --import tsx src/tools/bench/tracing-pair.ts [--requests 1000] [--warmup 400] [--export-delay MS]
 *   [--sampler always_on|always_off|...] [--package NAME]`
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { intValue } from '../cli/commands/options.ts';
import { OipClient } from '../cli/oip-client.ts';
import { resolvePackageFlag, startStack, type Stack } from '../cli/stack.ts';
import { scriptArgs } from '../cli/usage.ts';
import { imagesOf, loadSample, sampleDirFor } from '../../runtime/sample.ts';
import { quantile } from '../../runtime/stats.ts';

const values = scriptArgs({ name: 'tracing-pair', program: 'src/tools/bench/tracing-pair.ts',
  summary: 'p50 and CPU per request of a plain and a traced stack, requests alternated one by one',
  settings: {
    requests: { flag: 'requests', arg: 'N', description: 'measured requests per stack', default: '1000' },
    warmup: { flag: 'warmup', arg: 'N', description: 'warm-up requests per stack', default: '400' },
    exportDelay: { flag: 'export-delay', arg: 'MS', description: "OTEL_BSP_SCHEDULE_DELAY (default: the SDK's 5000)" },
    sampler: { flag: 'sampler', arg: 'NAME', description: 'OTEL_TRACES_SAMPLER of the traced stack', default: 'always_on' },
    package: { flag: 'package', arg: 'NAME|DIR', description: "a package (default: the catalog's demo package)" },
  } }, z.object({ requests: intValue(10), warmup: intValue(0), exportDelay: intValue(1).optional(), sampler: z.string().min(1),
  package: z.string().optional() }));

const pkg = resolvePackageFlag(values.package);
let exportedBytes = 0;
const sink = createServer((req, res) => {
  req.on('data', (c: Buffer) => { exportedBytes += c.length; });
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;

/** CPU ms so far (kernel accounting, 10 ms ticks) of each process: router first, then partitions. */
const cpuMs = (s: Stack): number[] => [s.routerPid, ...s.partitions.map((p) => p.pid)].map((pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
});

const stacks: Stack[] = [];
const clients: OipClient[] = [];
try {
  const plain = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'] });
  stacks.push(plain);
  const traced = await startStack({ pkg, host: '127.0.0.1', partitionArgs: ['--measure', 'false'], env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_METRICS_EXPORTER: 'none',
    OTEL_TRACES_SAMPLER: values.sampler,
    ...(values.exportDelay === undefined ? {} : { OTEL_BSP_SCHEDULE_DELAY: String(values.exportDelay) }) } });
  stacks.push(traced);
  const sample = loadSample(sampleDirFor(pkg));
  const img = (i: number) => imagesOf(sample, i % sample.count, i % sample.count + 1);
  const [a, b] = [plain, traced].map((s) => {
    const c = new OipClient(s.router);
    clients.push(c);
    return c;
  });
  for (let i = 0; i < values.warmup; i++) {
    await a.classify(img(i), 1);
    await b.classify(img(i), 1);
  }
  const cpu0 = [cpuMs(plain), cpuMs(traced)];
  const lat: [number[], number[]] = [[], []];
  for (let i = 0; i < values.requests; i++) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      await [a, b][k].classify(img(i), 1);
      lat[k].push(performance.now() - t0);
    }
  }
  const perRequest = (s: Stack, k: number) => cpuMs(s).map((c, j) => Number(((c - cpu0[k][j]) / values.requests).toFixed(3)));
  const cpu = [perRequest(plain, 0), perRequest(traced, 1)];
  const p50 = (v: number[]) => quantile([...v].sort((x, y) => x - y), 0.5);
  const sum = (v: number[]) => Number(v.reduce((s, x) => s + x, 0).toFixed(3));
  console.log(JSON.stringify({ package: pkg.manifest.name, requests: values.requests, sampler: values.sampler,
    exportDelayMs: values.exportDelay ?? 5000, plainP50Ms: Number(p50(lat[0]).toFixed(3)), tracedP50Ms: Number(p50(lat[1]).toFixed(3)),
    overhead: Number((p50(lat[1]) / p50(lat[0]) - 1).toFixed(3)), cpuMsPerRequest: { plain: cpu[0], traced: cpu[1] },
    cpuMsPerRequestAll: { plain: sum(cpu[0]), traced: sum(cpu[1]) }, exportedBytes }));
} finally {
  for (const c of clients) c.close();
  await Promise.all(stacks.map((s) => s.stop()));
  sink.close();
}

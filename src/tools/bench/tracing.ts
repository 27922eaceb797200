/**
 * Tracing overhead: batch-1 latency through the router's OIP API of three identical local stacks, side by side in one
 * run: tracing off, on with sampling 1.0, on with sampling 0.1 (OTLP/HTTP to a real Jaeger on loopback). Requests go
 * one at a time to the stacks in a fresh random order each round, so drift on a shared machine hits all three alike.
 * `node --import tsx src/tools/bench/tracing.ts [--requests N] [--package NAME] [--json]`
 * Prints p50/p90 and the ratios to "off"; writes bench/results/tracing.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { scriptArgs } from '../cli/usage.ts';
import { intValue, switchValue } from '../cli/commands/options.ts';
import { z } from 'zod';
import { quantile } from '../../runtime/stats.ts';
import { OipClient } from '../cli/oip-client.ts';
import { resolvePackageFlag, startStack, type Stack } from '../cli/stack.ts';
import { imagesOf, loadSample } from '../../runtime/sample.ts';
import { fetchTraces } from '../../../test/helpers/jaeger-query.ts';
import { haveJaeger, missingJaegerMessage, startJaeger } from '../../../test/k8s/harness/jaeger.ts';

const values = scriptArgs({ name: 'tracing', program: 'src/tools/bench/tracing.ts',
  summary: 'the cost of tracing: the local stack with and without OTLP export to Jaeger, at each sampling ratio',
  settings: {
    requests: { flag: 'requests', arg: 'N', description: 'requests per configuration, 20..2000', default: '200' },
    warmup: { flag: 'warmup', arg: 'N', description: 'warm-up requests, 5..200', default: '30' },
    ratios: { flag: 'ratios', arg: 'R,...', description: 'sampling ratios', default: '1.0,0.1' },
    package: { flag: 'package', arg: 'NAME|DIR', description: "a package (default: the catalog's demo package)" },
    json: { flag: 'json', kind: 'switch', description: 'print the result as one JSON line' },
  } }, z.object({ requests: intValue(20, 2000), warmup: intValue(5, 200), ratios: z.string().min(1), package: z.string().optional(), json: switchValue }));
const REQUESTS = values.requests;
const WARMUP = values.warmup;

if (!haveJaeger()) {
  console.error(missingJaegerMessage);
  process.exit(2);
}
const pkg = resolvePackageFlag(values.package);
const sample = loadSample();
const jaeger = await startJaeger();
const otlp = (ratio: string): NodeJS.ProcessEnv => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://${jaeger.otlpHttp}`, OTEL_METRICS_EXPORTER: 'none',
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio,
});
// The parent's environment must not switch tracing on in the "off" stack.
const clean = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_') || k.startsWith('EDGESPLIT_PROMETHEUS'))
  .map((k) => [k, undefined]));
// --ratios 1.0,0.1,0 adds "on, sampling 0": the wrappers and context propagation with nothing recorded.
const ratios = values.ratios.split(',').map((r) => r.trim()).filter(Boolean);
const configs = [
  { name: 'off', env: { ...clean, OTEL_SDK_DISABLED: 'true' } },
  ...ratios.map((r) => ({ name: `on, sampling ${r}`, env: { ...clean, ...otlp(r) } })),
];

/** CPU seconds (user + system) a process has used so far; latency on a shared machine is noisy, CPU time is not. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}
const stackCpu = (s: Stack) => [s.routerPid, ...s.partitions.map((p) => p.pid)].reduce((a, pid) => a + cpuSeconds(pid), 0);

const stacks: Stack[] = [];
const clients: OipClient[] = [];
const lat: number[][] = configs.map(() => []);
const load0 = loadavg()[0];
try {
  for (const c of configs) {
    const s = await startStack({ pkg, host: '127.0.0.1', env: c.env });
    stacks.push(s);
    clients.push(new OipClient(s.router));
  }
  const img = (i: number) => imagesOf(sample, i % sample.count, i % sample.count + 1);
  for (let i = 0; i < WARMUP; i++) for (const c of clients) await c.classify(img(i), 1);
  const cpu0 = stacks.map(stackCpu);
  // A fresh random order every round (seeded, so runs repeat): a fixed rotation would always put the same stack
  // right after the fully sampled one's export burst, and another always after a quiet one.
  let seed = 0x2545f491;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < REQUESTS; i++) {
    const order = clients.map((_, j) => j);
    for (let k = order.length - 1; k > 0; k--) {
      const r = Math.floor(rand() * (k + 1));
      [order[k], order[r]] = [order[r], order[k]];
    }
    for (const j of order) {
      const t0 = performance.now();
      await clients[j].classify(img(i), 1);
      lat[j].push(performance.now() - t0);
    }
  }
  // Include the exports that follow the last requests (the batch processors flush every 5 s by default).
  await new Promise((r) => setTimeout(r, 6000));
  const cpuMs = stacks.map((s, i) => ((stackCpu(s) - cpu0[i]) * 1000) / REQUESTS);
  const traced = (await fetchTraces(jaeger.queryUrl, { service: 'edgesplit-router', limit: 100_000 })).length;
  const stats = lat.map((l) => {
    const s = [...l].sort((a, b) => a - b);
    return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), mean: s.reduce((a, v) => a + v, 0) / s.length };
  });
  const results = configs.map((c, i) => ({ config: c.name, requests: lat[i].length,
    p50Ms: +stats[i].p50.toFixed(3), p90Ms: +stats[i].p90.toFixed(3), meanMs: +stats[i].mean.toFixed(3),
    p50RatioVsOff: +(stats[i].p50 / stats[0].p50).toFixed(4), meanRatioVsOff: +(stats[i].mean / stats[0].mean).toFixed(4),
    cpuMsPerRequest: +cpuMs[i].toFixed(3), cpuRatioVsOff: +(cpuMs[i] / cpuMs[0]).toFixed(4) }));
  const out = {
    package: pkg.manifest.name, partitions: pkg.manifest.partitions, batch: 1, warmupPerStack: WARMUP,
    requestsPerStack: REQUESTS, exporter: 'otlp http/protobuf -> jaeger (loopback)', metrics: 'off in all three',
    tracesInJaeger: traced, expectedTraces: Math.round((WARMUP + REQUESTS) * ratios.reduce((a, r) => a + Number(r), 0)),
    cpus: cpus().length, loadavgBefore: load0, loadavgAfter: loadavg()[0], node: process.version,
    date: new Date().toISOString(), results, targetP50RatioAt1: 1.1,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/tracing.json', JSON.stringify(out, null, 2) + '\n');
  if (values.json) console.log(JSON.stringify(out));
  else {
    console.log(`tracing overhead: ${pkg.manifest.name} (P=${pkg.manifest.partitions}), batch 1, ${REQUESTS} requests per config, interleaved`);
    console.log(`${'config'.padEnd(18)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'mean ms'.padStart(8)} ${'p50/off'.padStart(8)} ${'mean/off'.padStart(9)} ${'cpu ms/req'.padStart(11)} ${'cpu/off'.padStart(8)}`);
    for (const r of results) {
      console.log(`${r.config.padEnd(18)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p90Ms.toFixed(2).padStart(8)} ${r.meanMs.toFixed(2).padStart(8)} ${r.p50RatioVsOff.toFixed(3).padStart(8)} ${r.meanRatioVsOff.toFixed(3).padStart(9)} ${r.cpuMsPerRequest.toFixed(2).padStart(11)} ${r.cpuRatioVsOff.toFixed(3).padStart(8)}`);
    }
    console.log(`traces stored in Jaeger: ${traced}; written bench/results/tracing.json`);
  }
} finally {
  for (const c of clients) c.close();
  await Promise.all(stacks.map((s) => s.stop()));
  await jaeger.stop();
}

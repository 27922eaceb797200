// Writes the planner's cluster YAML from per-device measurements (edge-emulator.sh measure).
// usage: write-cluster.mjs --out FILE --mbps M --router-mbps M --cpu F --latency-json '{...}' [--service-json '{...}'] DEVJSON...
// DEVJSON: measure-device.ts's line plus {exchange: measure-exchange.ts's line}.
// --service-json: {package, dir, perPartitionMs[], fanOutMs, e2eMs} from the per-request measurement, turned into
// each node's perRequestOverheadMs and the router's, using the same accounting as the latency model:
//   Run latency seen from the router = wire + node receive (MB + per request) + units + node send (MB) + wire
// (a partition's Run call and reply cost it perRequestOverheadMs, not perMessageOverheadMs, which is for pushes)
// with the router's per-message costs 0 (its side of the Run call is inside the measured Run latency), and
//   router perRequestOverheadMs = end-to-end through a real router - the same fan-out of Runs made directly.
import { readFileSync, writeFileSync } from 'node:fs';
const a = process.argv.slice(2);
const opt = (n) => { const i = a.indexOf(`--${n}`); if (i < 0) return undefined; const v = a[i + 1]; a.splice(i, 2); return v; };
const out = opt('out'); const mbps = Number(opt('mbps')); const rmbps = Number(opt('router-mbps'));
const cpu = opt('cpu'); const lat = JSON.parse(opt('latency-json') ?? '{"rttMs":0.1}');
const service = JSON.parse(opt('service-json') ?? '{}');
const devs = a.map((s) => JSON.parse(s));
const latencyMs = Math.max(0.01, Number((lat.rttMs / 2).toFixed(3)));
const f = (x, d = 3) => Number(x).toFixed(d);
// Wire bytes per message beyond the payload (HTTP/2 + gRPC + TCP/IP), from the bench's interface counters:
// 450 B per push for the 3 KB policy, 537 B for the baseline (ACKs included).
const MESSAGE_OVERHEAD_BYTES = 450;

let routerRequestMs;
const requestMs = devs.map(() => undefined);
const notes = [];
if (service.perPartitionMs) {
  const m = JSON.parse(readFileSync(`${service.dir}/manifest.json`, 'utf8'));
  const P = m.partitions;
  const flops = m.stem.flops + m.blocks.reduce((s, b) => s + b.flops, 0);
  const units = 1 + m.blocks.length;
  const imageBytes = m.input.shape.reduce((x, y) => x * y, 1); // one uint8 image, [C,H,W]
  const featureBytes = (4 * m.head.inFeatures) / P;
  // tbf goodput is ~96% of the shaped rate; both messages cross the link once each way.
  const wireMs = ((imageBytes + featureBytes + 2 * MESSAGE_OVERHEAD_BYTES) * 8) / (mbps * 0.96 * 1000) + 2 * latencyMs;
  service.perPartitionMs.forEach((runMs, i) => {
    const d = devs[i];
    const computeMs = flops / (d.gflops * 1e6) + units * d.perCallOverheadMs;
    const x = d.exchange ?? { perMessageOverheadMs: 0, cpuMsPerMB: 0 };
    const messagesMs = ((imageBytes + featureBytes) / 1e6) * x.cpuMsPerMB;
    requestMs[i] = Math.max(0, runMs - wireMs - computeMs - messagesMs);
    notes.push(`dev${i}: Run ${f(runMs, 2)} ms = compute ${f(computeMs, 2)} + wire ${f(wireMs, 2)} + messages ${f(messagesMs, 2)} + request ${f(requestMs[i], 2)}`);
  });
  routerRequestMs = Math.max(0, service.e2eMs - service.fanOutMs);
  notes.push(`router: end-to-end ${f(service.e2eMs, 2)} ms - direct fan-out ${f(service.fanOutMs, 2)} ms = ${f(routerRequestMs, 2)} ms per request`);
}

const svc = (i) => {
  const d = devs[i];
  const parts = [];
  if (requestMs[i] !== undefined) parts.push(`perRequestOverheadMs: ${f(requestMs[i])}`);
  if (d.exchange) parts.push(`perMessageOverheadMs: ${f(d.exchange.perMessageOverheadMs)}`, `cpuMsPerMB: ${f(d.exchange.cpuMsPerMB)}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
};
const lines = [
  `# Written by scripts/edge-emulator.sh measure: ${devs.length} emulated devices, ${cpu} core each (cgroup quota),`,
  `# links shaped with tbf to ${mbps} Mbit/s; gflops and perCallOverheadMs timed inside each device's quota;`,
  '# perMessageOverheadMs and cpuMsPerMB: the real push path with both ends inside the quota (measure-exchange.ts);',
  `# perRequestOverheadMs: batch-1 Runs of ${service.package ?? '(not measured)'} from the router's namespace minus the model's other terms;`,
  '# the router runs on the host (no quota): its perRequestOverheadMs is a real router minus the same Runs made directly.',
  ...notes.map((n) => `#   ${n}`),
  `# latencyMs is the measured veth one-way latency (no netem on this kernel: real link latency is not emulated).`,
  'sharedMedium: false',
  '# access links (tbf on each end) carry one transfer at a time per direction; framing per message from the wire counters',
  'linkContention: true',
  `messageOverheadBytes: ${MESSAGE_OVERHEAD_BYTES}`,
  `router: { gflops: 20, bandwidthMbps: ${rmbps}, latencyMs: ${latencyMs}, perCallOverheadMs: 0.1` +
    (routerRequestMs !== undefined ? `, perRequestOverheadMs: ${f(routerRequestMs)}, perMessageOverheadMs: 0, cpuMsPerMB: 0` : '') + ' }',
  'nodes:',
  ...devs.map((d, i) => `  - { name: dev${i}, gflops: ${d.gflops.toFixed(3)}, bandwidthMbps: ${mbps}, latencyMs: ${latencyMs}, perCallOverheadMs: ${d.perCallOverheadMs.toFixed(4)}${svc(i)}, labels: { emulated: "true", cpu: "${cpu}" } }`),
];
writeFileSync(out, lines.join('\n') + '\n');
console.log(out);

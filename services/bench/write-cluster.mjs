// Writes the planner's cluster YAML from per-device measurements (edge-emulator.sh measure).
// usage: write-cluster.mjs --out FILE --mbps M --router-mbps M --cpu F --latency-json '{...}' DEVJSON...
import { writeFileSync } from 'node:fs';
const a = process.argv.slice(2);
const opt = (n) => { const i = a.indexOf(`--${n}`); if (i < 0) return undefined; const v = a[i + 1]; a.splice(i, 2); return v; };
const out = opt('out'); const mbps = Number(opt('mbps')); const rmbps = Number(opt('router-mbps'));
const cpu = opt('cpu'); const lat = JSON.parse(opt('latency-json') ?? '{"rttMs":0.1}');
const devs = a.map((s) => JSON.parse(s));
const latencyMs = Math.max(0.01, Number((lat.rttMs / 2).toFixed(3)));
const lines = [
  `# Written by scripts/edge-emulator.sh measure: ${devs.length} emulated devices, ${cpu} core each (cgroup quota),`,
  `# links shaped with tbf to ${mbps} Mbit/s; gflops and perCallOverheadMs timed inside each device's quota;`,
  `# latencyMs is the measured veth one-way latency (no netem on this kernel: real link latency is not emulated).`,
  'sharedMedium: false',
  `router: { gflops: 20, bandwidthMbps: ${rmbps}, latencyMs: ${latencyMs}, perCallOverheadMs: 0.1 }`,
  'nodes:',
  ...devs.map((d, i) => `  - { name: dev${i}, gflops: ${d.gflops.toFixed(3)}, bandwidthMbps: ${mbps}, latencyMs: ${latencyMs}, perCallOverheadMs: ${d.perCallOverheadMs.toFixed(4)}, labels: { emulated: "true", cpu: "${cpu}" } }`),
];
writeFileSync(out, lines.join('\n') + '\n');
console.log(out);

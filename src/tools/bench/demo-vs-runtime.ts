/**
 * The CLI's client path against the runtime bench: `edgesplit demo --json --images N` and `edgesplit bench runtime
 * --quick --no-unary --json` run alternately (demo, bench, demo, bench, ...) on the same package, so that load from
 * elsewhere on a shared machine hits both alike; their p50s should agree (the demo measures the router, not itself).
 * Each round also runs the demo with `--warmup 0`, as it measured before it warmed up.
 * Usage: node --import tsx src/tools/bench/demo-vs-runtime.ts [--rounds 2] [--images 1000] [--out FILE]  (build dist/ first)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN } from '../cli/stack.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, images: { type: 'string', default: '1000' },
  package: { type: 'string' }, out: { type: 'string' } } });
const pkgArgs = values.package ? ['--package', values.package] : [];
const dir = mkdtempSync(join(tmpdir(), 'demo-vs-runtime-'));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const cli = (args: string[]) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });

const demoP50Ms: number[] = [];
const demoColdP50Ms: number[] = [];
const distributedP50Ms: number[] = [];
const inProcessP50Ms: number[] = [];
const partitionRssMb: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  demoP50Ms.push(lastJson(cli(['demo', '--json', '--images', values.images!, ...pkgArgs])).p50Ms);
  demoColdP50Ms.push(lastJson(cli(['demo', '--json', '--warmup', '0', '--images', values.images!, ...pkgArgs])).p50Ms);
  const out = join(dir, `runtime-${r}.json`);
  cli(['bench', 'runtime', '--quick', '--no-unary', '--json', '--out', out, ...pkgArgs]);
  const rt = JSON.parse(readFileSync(out, 'utf8'));
  distributedP50Ms.push(rt.distributedP50Ms);
  inProcessP50Ms.push(rt.inProcessP50Ms);
  partitionRssMb.push(rt.partitionRssMb);
  process.stderr.write(`round ${r}: demo p50 ${demoP50Ms.at(-1)} ms (--warmup 0: ${demoColdP50Ms.at(-1)} ms), bench runtime distributed p50 ${rt.distributedP50Ms} ms\n`);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
const result = { images: Number(values.images), rounds: Number(values.rounds), demoP50Ms, demoColdP50Ms, distributedP50Ms, inProcessP50Ms, partitionRssMb,
  demoOverDistributed: Number((median(demoP50Ms) / median(distributedP50Ms)).toFixed(3)),
  demoColdOverDistributed: Number((median(demoColdP50Ms) / median(distributedP50Ms)).toFixed(3)), when: new Date().toISOString() };
if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result));

// Accuracy on the shipped 1,000-image sample with each single partition down, for every shipped package with
// P > 1 (the default best P=4 package and the P=4 baseline among them). The partitions run in this process
// (LocalTransport), exactly as the router serves a request whose missing_partitions lists the dead one: the others
// skip its merges and its sends, and the router's assembleFeatures zero-fills and rescales by P / present.
// Usage: node --import tsx src/tools/bench/degradation.ts [--packages a,b] [--out bench/results/degradation.json]
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { scriptArgs } from '../cli/usage.ts';
import { intValue, switchValue } from '../cli/commands/options.ts';
import { z } from 'zod';
import { HeadEngine } from '../../runtime/head.ts';
import { loadCatalog, loadPackage, resolvePackageDir } from '../../runtime/manifest.ts';
import { imagesOf, loadSample } from '../../runtime/sample.ts';
import { LocalTransport } from '../../roles/partition/local-transport.ts';
import { PartitionRunner } from '../../roles/partition/runner.ts';
import { assembleFeatures } from '../../roles/router/degrade.ts';
import { defaultPackageName } from '../cli/stack.ts';

const values = scriptArgs({ name: 'degradation', program: 'src/tools/bench/degradation.ts',
  summary: 'accuracy on the shipped sample with each single partition down, for every package with P > 1',
  settings: {
    packages: { flag: 'packages', arg: 'A,B', description: 'packages (default: every catalog package with P > 1)' },
    out: { flag: 'out', arg: 'FILE', description: 'where the JSON goes', default: 'bench/results/degradation.json' },
    batch: { flag: 'batch', arg: 'N', description: 'images per Run', default: '50' },
  } }, z.object({ packages: z.string().optional(), out: z.string().min(1), batch: intValue(1) }));
const out = values.out;
const B = values.batch;
const names = values.packages ? values.packages.split(',')
  : loadCatalog().packages.filter((p) => p.partitions > 1).map((p) => p.name);
const sample = loadSample();
const best = defaultPackageName();

interface Row { package: string; partitions: number; policyId: string; default: boolean; full: number;
  missing: { partition: number; accuracy: number; drop: number }[]; worst: number; mean: number }

async function accuracy(runners: PartitionRunner[], head: HeadEngine, width: number, down: number | null): Promise<number> {
  let correct = 0;
  for (let s = 0; s < sample.count; s += B) {
    const n = Math.min(B, sample.count - s);
    const images = imagesOf(sample, s, s + n);
    const id = randomUUID();
    const missing = down === null ? [] : [down];
    const parts = await Promise.all(runners.map((r, i) => (i === down ? Promise.resolve(null)
      : r.run(id, images, n, { deadlineMs: Date.now() + 60_000, missing }).then((x) => x.features))));
    const { features } = assembleFeatures(parts, n, width);
    const { probabilities } = await head.run(features, n);
    for (let i = 0; i < n; i++) {
      let arg = 0;
      for (let c = 1; c < 10; c++) if (probabilities[i * 10 + c] > probabilities[i * 10 + arg]) arg = c;
      if (arg === sample.labels[s + i]) correct++;
    }
  }
  return correct / sample.count;
}

const rows: Row[] = [];
const t0 = Date.now();
for (const name of names) {
  const pkg = loadPackage(resolvePackageDir(name));
  const m = pkg.manifest;
  const P = m.partitions;
  const width = m.head.inFeatures / P;
  const transport = new LocalTransport();
  const runners: PartitionRunner[] = [];
  for (let i = 0; i < P; i++) {
    const r = await PartitionRunner.create({ pkg, index: i, transport, measure: false });
    transport.attach(i, r);
    runners.push(r);
  }
  const head = await HeadEngine.create(pkg);
  const full = await accuracy(runners, head, width, null);
  const missing: Row['missing'] = [];
  for (let k = 0; k < P; k++) {
    const a = await accuracy(runners, head, width, k);
    missing.push({ partition: k, accuracy: a, drop: full - a });
  }
  await Promise.all(runners.map((r) => r.shutdown()));
  await head.shutdown();
  const accs = missing.map((x) => x.accuracy);
  const row: Row = { package: name, partitions: P, policyId: m.policy.id, default: name === best, full, missing,
    worst: Math.min(...accs), mean: accs.reduce((a, b) => a + b, 0) / accs.length };
  rows.push(row);
  process.stderr.write(`${name}: full ${(100 * full).toFixed(1)}% | ${missing.map((x) => `-p${x.partition} ${(100 * x.accuracy).toFixed(1)}%`).join(' ')}\n`);
}

const doc = { what: 'accuracy on the 1,000-image sample with one partition down (zero-fill + rescale by P/present; peers skip its merges)',
  images: sample.count, generatedAt: new Date().toISOString(), seconds: (Date.now() - t0) / 1000, defaultPackage: best, packages: rows };
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const maxP = Math.max(...rows.map((r) => r.partitions));
const head = ['package', 'all up', ...Array.from({ length: maxP }, (_, k) => `p${k} down`), 'worst'];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
for (const r of rows) {
  const cells = Array.from({ length: maxP }, (_, k) => (r.missing[k] ? pct(r.missing[k].accuracy) : ''));
  console.log(`| ${r.package}${r.default ? ' (default)' : ''} | ${pct(r.full)} | ${cells.join(' | ')} | ${pct(r.worst)} |`);
}

// Measures one device's compute inside its CPU quota: runs partition 0's units of each given package
// (stem, then every block, batch 1, one intra-op thread, as a partition service does) for a bounded
// number of passes and fits  unit time = flops / GFLOPS + per-call overhead  by least squares.
// Prints one JSON line: {gflops, perCallOverheadMs, passes: {package: medianPassMs}, units}.
// Run it inside the device: scripts/edge-emulator.sh exec dev0 -- node dist/src/tools/bench/measure-device.js
import { loadPackage, resolvePackageDir } from '../../runtime/manifest.ts';
import { createUnit } from '../../runtime/ort.ts';
import { fitLine, fitPasses } from './fit.ts';

const argv = process.argv.slice(2);
const pkgs: string[] = [];
let reps = 20;
let maxSeconds = 60;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--package') pkgs.push(argv[++i]);
  else if (argv[i] === '--reps') reps = Math.max(3, Math.min(1000, Number(argv[++i])));
  else if (argv[i] === '--max-seconds') maxSeconds = Number(argv[++i]);
  else { console.error(`measure-device: unknown option ${argv[i]}`); process.exit(2); }
}
if (pkgs.length === 0) pkgs.push('fmnist-p1', 'fmnist-p4-none');

const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const points: { flops: number; ms: number }[] = [];
const passes: Record<string, number> = {};
const pkgRows: { flops: number; units: number; ms: number }[] = [];
const deadline = performance.now() + maxSeconds * 1000;
for (const name of pkgs) {
  const pkg = loadPackage(resolvePackageDir(name));
  const m = pkg.manifest;
  const units = [await createUnit(pkg.stemPath(0), 'stem'),
    ...await Promise.all(m.blocks.map((b) => createUnit(pkg.blockPath(0, b.index), `block${b.index}`)))];
  const flops = [m.stem.flops, ...m.blocks.map((b) => b.flops)];
  const inShapes = [[1, ...m.input.shape], ...m.blocks.map((b) => [1, ...b.inShape])];
  const inputs = inShapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5));
  const times: number[][] = units.map(() => []);
  const passMs: number[] = [];
  for (let r = 0; r < reps + 2 && performance.now() < deadline; r++) {
    const t0 = performance.now();
    for (let u = 0; u < units.length; u++) {
      const s = performance.now();
      await units[u].run(inputs[u], inShapes[u]);
      if (r >= 2) times[u].push(performance.now() - s); // two warm-up passes
    }
    if (r >= 2) passMs.push(performance.now() - t0);
    // A short pause between passes, as between requests; the quota refills per period either way.
    await new Promise((res) => setTimeout(res, 2));
  }
  for (let u = 0; u < units.length; u++) if (times[u].length) points.push({ flops: flops[u], ms: median(times[u]) });
  passes[m.name] = passMs.length ? median(passMs) : NaN;
  if (passMs.length) pkgRows.push({ flops: flops.reduce((x, y) => x + y, 0), units: units.length, ms: median(passMs) });
  await Promise.all(units.map((u) => u.release()));
}
// Fit on whole passes (what a partition does per request):  passMs = flops / G + units * c.
const { gflops, perCallOverheadMs: c } = fitPasses(pkgRows);
console.log(JSON.stringify({ gflops, perCallOverheadMs: c, passes, unitFit: unitFit(), units: points.length }));

function unitFit() {
  const { a, b } = fitLine(points.map((p) => ({ x: p.flops, y: p.ms })));
  return { gflops: b > 0 ? 1 / (b * 1e6) : Infinity, perCallOverheadMs: a };
}

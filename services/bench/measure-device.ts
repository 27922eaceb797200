// Measures one device's compute inside its CPU quota: runs partition 0's units of each given package
// (stem, then every block, batch 1, one intra-op thread, as a partition service does) for a bounded
// number of passes and fits  unit time = flops / GFLOPS + per-call overhead  by least squares.
// Prints one JSON line: {gflops, perCallOverheadMs, passes: {package: medianPassMs}, units}.
// Run it inside the device: scripts/edge-emulator.sh exec dev0 -- node dist/services/bench/measure-device.js
import { loadPackage, resolvePackageDir } from '../common/manifest.ts';
import { createUnit } from '../common/ort.ts';

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
  const inShapes = [[1, 1, 28, 28], ...m.blocks.map((b) => [1, ...b.inShape])];
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
// Fit on whole passes (what a partition does per request):  passMs = flops / G + units * c,  least squares
// over the packages; a negative c (short passes run at full speed inside one quota slice) is clamped to 0.
const rows = pkgRows;
let gflops: number;
let c = 0;
if (rows.length >= 2) {
  // Normal equations for [1/G, c] on x1 = flops, x2 = units.
  let s11 = 0, s12 = 0, s22 = 0, t1 = 0, t2 = 0;
  for (const r of rows) { s11 += r.flops ** 2; s12 += r.flops * r.units; s22 += r.units ** 2; t1 += r.flops * r.ms; t2 += r.units * r.ms; }
  const det = s11 * s22 - s12 * s12;
  let inv = (t1 * s22 - t2 * s12) / det;
  c = (s11 * t2 - s12 * t1) / det;
  if (!(c >= 0) || !Number.isFinite(inv)) { c = 0; inv = t1 / s11; }
  gflops = 1 / (inv * 1e6);
} else {
  gflops = rows[0].flops / (rows[0].ms * 1e6);
}
console.log(JSON.stringify({ gflops, perCallOverheadMs: c, passes, unitFit: unitFit(), units: points.length }));

function unitFit() {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.flops, 0) / n;
  const my = points.reduce((s, p) => s + p.ms, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.flops - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.flops - mx) * (p.ms - my), 0);
  const a = sxx > 0 ? sxy / sxx : my / mx;
  return { gflops: 1 / (a * 1e6), perCallOverheadMs: Math.max(0, my - a * mx) };
}

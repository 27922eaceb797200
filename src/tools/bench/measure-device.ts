// Measures one device's compute inside its CPU quota: runs partition 0's sessions of each given package
// (its fused runs of units where the package ships them, else unit by unit; batch 1, one intra-op thread, as a
// partition service does) for a bounded number of passes and fits  pass time = flops / GFLOPS + sessions x
// per-call overhead  by least squares.
// Prints one JSON line: {gflops, perCallOverheadMs, passes: {package: medianPassMs}, passesMean, passesEffective, units}.
// Run it inside the device: scripts/edge-emulator.sh exec dev0 -- node dist/src/tools/bench/measure-device.js
import { loadPackage, resolvePackageDir } from '../../runtime/manifest.ts';
import { unitShape, imageInputOf } from '../../runtime/image-input.ts';
import { loadChain, releaseChain } from '../../runtime/unit-chain.ts';
import { median } from '../../runtime/stats.ts';
import { fitLine, fitPasses } from './fit.ts';
import { z } from 'zod';
import { scriptArgs } from '../cli/usage.ts';
import { intValue } from '../cli/commands/options.ts';

const opts = scriptArgs({ name: 'measure-device', program: 'src/tools/bench/measure-device.ts',
  summary: "one device's compute inside its CPU quota: GFLOPS and per-call overhead fitted over each package's units",
  settings: {
    package: { flag: 'package', arg: 'NAME', repeat: true, description: 'a package whose partition 0 is timed; repeat for more', default: 'fmnist-p1,fmnist-p4-none' },
    reps: { flag: 'reps', arg: 'N', description: 'passes per package, 3..1000', default: '20' },
    maxSeconds: { flag: 'max-seconds', arg: 'S', description: 'time budget', default: '60' },
  } }, z.object({ package: z.string().min(1), reps: intValue(3, 1000), maxSeconds: intValue(1) }));
const pkgs = opts.package.split(',');
const { reps, maxSeconds } = opts;


const points: { flops: number; ms: number }[] = [];
const passes: Record<string, number> = {};
/** Mean pass time, and the loop's wall time per pass minus the pauses (what throttling costs shows up here too). */
const passesMean: Record<string, number> = {};
const passesEffective: Record<string, number> = {};
const pkgRows: { flops: number; units: number; ms: number }[] = [];
const deadline = performance.now() + maxSeconds * 1000;
for (const name of pkgs) {
  const pkg = loadPackage(resolvePackageDir(name));
  const m = pkg.manifest;
  const steps = await loadChain(pkg, 0);
  const units = steps.map((s) => s.unit);
  const flops = steps.map((s) => s.flops);
  const inShapes = steps.map((s) => (s.first === 0 ? unitShape(imageInputOf(m.input), 1) : [1, ...m.blocks[s.first - 1].inShape]));
  const inputs = inShapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5));
  const times: number[][] = units.map(() => []);
  const passMs: number[] = [];
  let loopStart = 0;
  let pausesMs = 0;
  for (let r = 0; r < reps + 2 && performance.now() < deadline; r++) {
    const t0 = performance.now();
    if (r === 2) loopStart = t0;
    for (let u = 0; u < units.length; u++) {
      const s = performance.now();
      await units[u].run(inputs[u], inShapes[u]);
      if (r >= 2) times[u].push(performance.now() - s); // two warm-up passes
    }
    if (r >= 2) passMs.push(performance.now() - t0);
    // A short pause between passes, as between requests; the quota refills per period either way.
    await new Promise((res) => setTimeout(res, 2));
    if (r >= 2) pausesMs += 2;
  }
  const loopMs = performance.now() - loopStart;
  for (let u = 0; u < units.length; u++) if (times[u].length) points.push({ flops: flops[u], ms: median(times[u]) });
  passes[m.name] = passMs.length ? median(passMs) : NaN;
  passesMean[m.name] = passMs.length ? passMs.reduce((a, b) => a + b, 0) / passMs.length : NaN;
  passesEffective[m.name] = passMs.length ? (loopMs - pausesMs) / passMs.length : NaN;
  // The fit takes the loop's wall time per pass (pauses excluded), not the median pass: the kernel charges a CPU
  // quota at tick granularity, so a pass shorter than a tick can run at full speed and leave its debt to a pause or
  // a later pass. The median then picked such bursts on some devices and not on others (GFLOPS 9-21 against 55-87
  // on identical quarter-core devices); the loop's wall time carries the throttling wherever it lands.
  if (passMs.length) pkgRows.push({ flops: flops.reduce((x, y) => x + y, 0), units: units.length, ms: passesEffective[m.name] });
  await releaseChain(steps);
}
// Fit on whole passes (what a partition does per request):  passMs = flops / G + units * c.
const { gflops, perCallOverheadMs: c } = fitPasses(pkgRows);
console.log(JSON.stringify({ gflops, perCallOverheadMs: c, passes, passesMean, passesEffective, unitFit: unitFit(), units: points.length }));

function unitFit() {
  const { a, b } = fitLine(points.map((p) => ({ x: p.flops, y: p.ms })));
  return { gflops: b > 0 ? 1 / (b * 1e6) : Infinity, perCallOverheadMs: a };
}

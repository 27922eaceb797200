// Least-squares fits of the bench's cost models, constrained to non-negative costs. Timings taken inside a CPU
// quota are noisy in a way that can invert the order of two measurements (a short pass runs at full speed inside
// one quota slice, a longer one is throttled), and an unconstrained fit then gives a negative cost, which is no
// device at all (the planner rejects a cluster file with gflops <= 0).

/** One timed pass: its FLOPs, how many unit calls it made and its median wall time. */
export interface PassTiming { flops: number; units: number; ms: number }

/** passMs = flops / (gflops * 1e6) + units * perCallOverheadMs, least squares with 1/gflops > 0 and overhead >= 0. */
export function fitPasses(rows: readonly PassTiming[]): { gflops: number; perCallOverheadMs: number } {
  if (rows.length === 0) throw new RangeError('fitPasses: no timed passes');
  const through0 = () => rows.reduce((s, r) => s + r.flops * r.ms, 0) / rows.reduce((s, r) => s + r.flops ** 2, 0);
  let inv: number;
  let c = 0;
  if (rows.length >= 2) {
    let s11 = 0, s12 = 0, s22 = 0, t1 = 0, t2 = 0;
    for (const r of rows) { s11 += r.flops ** 2; s12 += r.flops * r.units; s22 += r.units ** 2; t1 += r.flops * r.ms; t2 += r.units * r.ms; }
    const det = s11 * s22 - s12 * s12;
    inv = (t1 * s22 - t2 * s12) / det;
    c = (s11 * t2 - s12 * t1) / det;
    // Outside the feasible region the constrained optimum lies on c = 0 (1/G = 0 would be an infinitely fast device).
    if (!(c >= 0) || !(inv > 0) || !Number.isFinite(inv) || !Number.isFinite(c)) { c = 0; inv = through0(); }
  } else {
    inv = through0();
  }
  return { gflops: 1 / (inv * 1e6), perCallOverheadMs: c };
}

/** y = a + b * x, least squares with a >= 0 and b >= 0. */
export function fitLine(points: readonly { x: number; y: number }[]): { a: number; b: number } {
  if (points.length === 0) throw new RangeError('fitLine: no points');
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  let b = sxx > 0 ? points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx : NaN;
  let a = my - b * mx;
  if (b >= 0 && a >= 0) return { a, b };
  // On the boundary: the better of the line through the origin (a = 0) and the flat line (b = 0).
  const sse = (a0: number, b0: number) => points.reduce((s, p) => s + (p.y - a0 - b0 * p.x) ** 2, 0);
  const sxx0 = points.reduce((s, p) => s + p.x * p.x, 0);
  const b0 = sxx0 > 0 ? Math.max(0, points.reduce((s, p) => s + p.x * p.y, 0) / sxx0) : 0;
  const a1 = Math.max(0, my);
  [a, b] = sse(0, b0) <= sse(a1, 0) ? [0, b0] : [a1, 0];
  return { a, b };
}

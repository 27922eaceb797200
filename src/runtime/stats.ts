// The one definition of the summary statistics every report uses (CLI, benchmarks, the runtime's own figures).

/**
 * The q-quantile (0..1) of unsorted values, linearly interpolated between the two nearest ranks (numpy's default),
 * so p50 of an even count is the mean of the middle two. NaN for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export const mean = (values: readonly number[]): number =>
  values.length ? values.reduce((s, v) => s + v, 0) / values.length : NaN;

/** Index of the largest of row `i` of a row-major [N,k] array (the first one on ties). */
export function argmax(values: ArrayLike<number>, i: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (values[i * k + c] > values[i * k + best]) best = c;
  return best;
}

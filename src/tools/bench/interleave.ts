// The benchmark's measurement order, pure: configurations measured in interleaved, mirrored passes
// (A B C, C B A, A B C, ...) so that a slow phase of the shared machine lands on every configuration alike,
// and the pooling of each configuration's passes into one point.
import { quantile } from '../../runtime/stats.ts';

/** One slot of the order: which item, in which pass (0-based). */
export interface Slot<T> {
  item: T;
  pass: number;
}

/**
 * The items in `passes` passes, even passes forward and odd ones backward: [A, B, C] in 2 passes is
 * A B C C B A, in 3 passes A B C C B A A B C. Each item's mean position over an even number of passes is the
 * same for all items, so a linear drift of the machine's speed shifts them all alike.
 */
export function mirroredOrder<T>(items: readonly T[], passes: number): Slot<T>[] {
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`passes must be a positive integer, got ${passes}`);
  const out: Slot<T>[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const seq = pass % 2 === 0 ? items : [...items].reverse();
    for (const item of seq) out.push({ item, pass });
  }
  return out;
}

/** `total` requests over `parts` passes, as even as can be, the larger shares first: 101 over 2 is [51, 50]. */
export function splitCount(total: number, parts: number): number[] {
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`parts must be a positive integer, got ${parts}`);
  const n = Math.max(0, Math.floor(total));
  const base = Math.floor(n / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < n % parts ? 1 : 0));
}

/** A point pooled from its passes. */
export interface Pooled {
  /** Every pass's samples together, in pass order. */
  samples: number[];
  /** Count of samples over all passes. */
  n: number;
  /** Median of all samples (NaN when there are none). */
  p50: number;
  /** 95th percentile of all samples. */
  p95: number;
  /** Each pass's own median, rounded to `decimals` (null for a pass that measured nothing), to show the drift. */
  passP50: (number | null)[];
}

/** Pools a configuration's passes: the row's p50/p95 are over all samples, not a median of pass medians. */
export function poolPasses(passes: readonly (readonly number[])[], decimals = 2): Pooled {
  const samples = passes.flatMap((p) => [...p]);
  const r = (x: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;
  return {
    samples,
    n: samples.length,
    p50: quantile(samples, 0.5),
    p95: quantile(samples, 0.95),
    passP50: passes.map((p) => (p.length ? r(quantile(p, 0.5)) : null)),
  };
}

/**
 * Groups items whose processes are up together: items of one model family (in first-seen order), each group
 * holding at most `maxProcs` processes (an item larger than that gets a group of its own). Returns the items'
 * indices per group.
 */
export function groupByFamily(items: readonly { family: string; procs: number }[], maxProcs: number): number[][] {
  const families: string[] = [];
  for (const it of items) if (!families.includes(it.family)) families.push(it.family);
  const groups: number[][] = [];
  for (const f of families) {
    let cur: number[] = [];
    let procs = 0;
    items.forEach((it, i) => {
      if (it.family !== f) return;
      if (cur.length && procs + it.procs > maxProcs) {
        groups.push(cur);
        cur = [];
        procs = 0;
      }
      cur.push(i);
      procs += it.procs;
    });
    if (cur.length) groups.push(cur);
  }
  return groups;
}

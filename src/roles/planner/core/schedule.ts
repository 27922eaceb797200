// A list scheduler for a small task DAG with exclusive resources. The latency
// model turns one (package, assignment) into such a DAG; keeping the scheduling
// here lets the model stay a plain description of who waits for what.

export interface Task {
  kind: 'compute' | 'transfer';
  label: string;
  /** A service-CPU task (per request / message / MB), reported apart from ONNX compute. */
  service?: boolean;
  /** Index of the exclusive resource the task holds (a node, the shared medium), or -1. */
  resource: number;
  /** Time the resource is held. */
  occupancyMs: number;
  /** Time after releasing the resource until the task is done (a link's propagation latency). */
  tailMs: number;
  deps: number[];
}

export interface ScheduledTask {
  startMs: number;
  endMs: number;
  /** The task whose end decided this task's start (a dependency or the previous holder of the resource), or -1. */
  pred: number;
}

/**
 * Runs tasks in order of their earliest possible start (ties: lower task index).
 * A resource serves one task at a time and never idles while a task for it is
 * ready, i.e. a node runs units in the order they become ready; starts come out
 * non-decreasing, so the schedule is what an event-driven simulation would give.
 */
export function schedule(tasks: Task[], resourceCount: number): ScheduledTask[] {
  const n = tasks.length;
  const out: ScheduledTask[] = new Array(n);
  const missing = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const readyAt = new Float64Array(n);
  const readyPred = new Int32Array(n).fill(-1);
  const free = new Float64Array(resourceCount);
  const holder = new Int32Array(resourceCount).fill(-1);
  const ready: number[] = [];
  for (let t = 0; t < n; t++) {
    missing[t] = tasks[t].deps.length;
    for (const d of tasks[t].deps) dependents[d].push(t);
    if (missing[t] === 0) ready.push(t);
  }
  let done = 0;
  while (ready.length > 0) {
    let best = -1;
    let bestStart = Infinity;
    let bestPos = -1;
    for (let k = 0; k < ready.length; k++) {
      const t = ready[k];
      const r = tasks[t].resource;
      const s = r >= 0 ? Math.max(readyAt[t], free[r]) : readyAt[t];
      if (s < bestStart || (s === bestStart && t < best)) {
        best = t;
        bestStart = s;
        bestPos = k;
      }
    }
    ready.splice(bestPos, 1);
    const task = tasks[best];
    const r = task.resource;
    let pred = readyPred[best];
    if (r >= 0) {
      if (free[r] > readyAt[best]) pred = holder[r];
      free[r] = bestStart + task.occupancyMs;
      holder[r] = best;
    }
    const end = bestStart + task.occupancyMs + task.tailMs;
    out[best] = { startMs: bestStart, endMs: end, pred };
    done++;
    for (const d of dependents[best]) {
      if (readyPred[d] === -1 || end > readyAt[d]) {
        readyAt[d] = end;
        readyPred[d] = best;
      }
      if (--missing[d] === 0) ready.push(d);
    }
  }
  if (done !== n) throw new Error('task graph has a cycle');
  return out;
}

/** The chain of tasks that decided when `last` finished, first task first. */
export function criticalChain(result: ScheduledTask[], last: number): number[] {
  const chain: number[] = [];
  for (let t = last; t >= 0; t = result[t].pred) chain.push(t);
  return chain.reverse();
}

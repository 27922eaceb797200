// Joint choice of package (P, policy) and placement under the user's objective,
// with the reasons a person needs to trust it.
import { FailedPreconditionError, InvalidArgumentError } from '../../../runtime/errors.ts';
import { predictLatency } from './latency-model.ts';
import type { SearchStrategy } from './strategy.ts';
import { ExactSearch } from './strategies/exact.ts';
import { GreedyLocalSearch } from './strategies/greedy-local.ts';
import type { Candidate, Cluster, Objective, PackageModel } from './types.ts';

/** Default floor: within half a point of the most accurate package. */
export const DEFAULT_FLOOR_MARGIN = 0.005;
/** Memory a partition process needs besides its weights (Node.js + ONNX Runtime), in MiB. */
export const PARTITION_BASE_MIB = 64;
/** Largest nodes^partitions the automatic choice still searches exactly. */
export const EXACT_LIMIT = 5_000;

export interface Alternative {
  package: string;
  partitions: number;
  policyId: string;
  accuracy: number;
  latencyMs: number | null;
  nodes: string[];
  reason: string;
}

export interface PlanResult {
  chosen: Candidate;
  objective: { mode: 'latency'; accuracyFloor: number } | { mode: 'slo'; sloMs: number };
  strategy: string;
  alternatives: Alternative[];
  explanation: string;
}

export function partitionMiB(pkg: PackageModel): number {
  return PARTITION_BASE_MIB + pkg.paramBytes / 2 ** 20;
}

export function capacities(pkg: PackageModel, cluster: Cluster): number[] {
  const need = partitionMiB(pkg);
  return cluster.nodes.map((n) => (n.memoryMiB === undefined ? pkg.partitions : Math.min(pkg.partitions, Math.floor(n.memoryMiB / need))));
}

export function autoStrategy(cluster: Cluster, packages: PackageModel[]): SearchStrategy {
  const maxP = Math.max(...packages.map((p) => p.partitions));
  return cluster.nodes.length ** maxP <= EXACT_LIMIT ? new ExactSearch() : new GreedyLocalSearch();
}

const ms = (x: number) => `${x.toFixed(2)} ms`;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function plan(packages: PackageModel[], cluster: Cluster, objective: Objective = { mode: 'latency' },
  strategy: SearchStrategy = autoStrategy(cluster, packages)): PlanResult {
  if (packages.length === 0) throw new FailedPreconditionError('the catalog lists no packages');
  if (cluster.nodes.length === 0) throw new InvalidArgumentError('nodes', 'the cluster has no nodes');
  const top = packages.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  let resolved: PlanResult['objective'];
  if (objective.mode === 'slo') {
    if (!(objective.sloMs > 0)) throw new InvalidArgumentError('sloMs', `must be > 0 (got ${objective.sloMs})`);
    resolved = { mode: 'slo', sloMs: objective.sloMs };
  } else {
    const floor = objective.accuracyFloor ?? top.accuracy - DEFAULT_FLOOR_MARGIN;
    if (!(floor >= 0 && floor <= 1)) throw new InvalidArgumentError('accuracyFloor', `must be within 0..1 (got ${floor})`);
    if (top.accuracy < floor - 1e-12) {
      throw new FailedPreconditionError(
        `no package meets the accuracy floor ${pct(floor)}: the most accurate is ${top.name} at ${pct(top.accuracy)}`);
    }
    resolved = { mode: 'latency', accuracyFloor: floor };
  }

  const bestOf = new Map<PackageModel, Candidate | null>();
  for (const pkg of packages) {
    bestOf.set(pkg, strategy.best(pkg, cluster, capacities(pkg, cluster), (a) => predictLatency(pkg, cluster, a)));
  }
  const feasible = [...bestOf.values()].filter((c): c is Candidate => c !== null);
  if (feasible.length === 0) {
    const need = Math.min(...packages.map(partitionMiB));
    const most = Math.max(...cluster.nodes.map((n) => n.memoryMiB ?? Infinity));
    throw new FailedPreconditionError(
      `no node can hold a partition: the smallest needs ${need.toFixed(0)} MiB, the largest node offers ${most} MiB`);
  }

  let chosen: Candidate | undefined;
  if (resolved.mode === 'latency') {
    const floor = resolved.accuracyFloor;
    const ok = feasible.filter((c) => c.pkg.accuracy >= floor - 1e-12);
    if (ok.length === 0) {
      throw new FailedPreconditionError(`no package at accuracy >= ${pct(floor)} fits on this cluster's nodes`);
    }
    chosen = ok.reduce((a, b) => (better(b, a, 'latency') ? b : a));
  } else {
    const slo = resolved.sloMs;
    const ok = feasible.filter((c) => c.prediction.latencyMs <= slo);
    if (ok.length === 0) {
      const fastest = feasible.reduce((a, b) => (b.prediction.latencyMs < a.prediction.latencyMs ? b : a));
      throw new FailedPreconditionError(
        `no plan meets the ${ms(slo)} SLO: the fastest is ${fastest.pkg.name} at ${ms(fastest.prediction.latencyMs)}`);
    }
    chosen = ok.reduce((a, b) => (better(b, a, 'accuracy') ? b : a));
  }

  const names = (c: Candidate) => c.assignment.map((n) => cluster.nodes[n].name);
  const alternatives: Alternative[] = packages.filter((p) => p !== chosen!.pkg).map((pkg) => {
    const c = bestOf.get(pkg)!;
    const base = { package: pkg.name, partitions: pkg.partitions, policyId: pkg.policyId, accuracy: pkg.accuracy };
    if (!c) return { ...base, latencyMs: null, nodes: [], reason: 'does not fit on the nodes (memory)' };
    return { ...base, latencyMs: c.prediction.latencyMs, nodes: names(c), reason: whyNot(c, chosen!, resolved) };
  }).sort((a, b) => (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity) || a.package.localeCompare(b.package));

  return { chosen, objective: resolved, strategy: strategy.name, alternatives, explanation: explain(chosen, feasible, cluster, resolved) };
}

function better(a: Candidate, b: Candidate, by: 'latency' | 'accuracy'): boolean {
  const dl = a.prediction.latencyMs - b.prediction.latencyMs;
  const da = a.pkg.accuracy - b.pkg.accuracy;
  const first = by === 'latency' ? -dl : da;
  const second = by === 'latency' ? da : -dl;
  if (Math.abs(first) > 1e-9) return first > 0;
  if (Math.abs(second) > 1e-9) return second > 0;
  return a.pkg.partitions < b.pkg.partitions;
}

function whyNot(c: Candidate, chosen: Candidate, objective: PlanResult['objective']): string {
  const dl = c.prediction.latencyMs - chosen.prediction.latencyMs;
  if (objective.mode === 'latency') {
    if (c.pkg.accuracy < objective.accuracyFloor - 1e-12) {
      return `accuracy ${pct(c.pkg.accuracy)} is below the floor ${pct(objective.accuracyFloor)}` +
        (dl < 0 ? ` (it would be ${ms(-dl)} faster)` : '');
    }
    if (dl > 1e-9) return `${ms(dl)} slower`;
    return c.pkg.accuracy < chosen.pkg.accuracy ? `as fast, but less accurate (${pct(c.pkg.accuracy)})` : 'as fast, with more partitions';
  }
  if (c.prediction.latencyMs > objective.sloMs) return `predicted ${ms(c.prediction.latencyMs)} exceeds the ${ms(objective.sloMs)} SLO`;
  return `less accurate (${pct(c.pkg.accuracy)} vs ${pct(chosen.pkg.accuracy)})`;
}

function explain(chosen: Candidate, feasible: Candidate[], cluster: Cluster, objective: PlanResult['objective']): string {
  const p = chosen.prediction;
  const nodes = [...new Set(chosen.assignment.map((n) => cluster.nodes[n].name))];
  const parts: string[] = [];
  const where = nodes.length === 1
    ? (chosen.pkg.partitions === 1 ? `unsplit on ${nodes[0]}` : `all ${chosen.pkg.partitions} partitions on ${nodes[0]}`)
    : `split ${chosen.pkg.partitions} ways over ${nodes.map((n) => {
      const k = chosen.assignment.filter((i) => cluster.nodes[i].name === n).length;
      return k > 1 ? `${n} (x${k})` : n;
    }).join(', ')}`;
  parts.push(`Run ${chosen.pkg.name} (P=${chosen.pkg.partitions}, policy ${chosen.pkg.policyId}, test accuracy ${pct(chosen.pkg.accuracy)}) ${where}: ` +
    `predicted ${ms(p.latencyMs)} per image (critical path: ${ms(p.computeMs)} compute, ${ms(p.transferMs)} transfer; ` +
    `${chosen.pkg.exchangedBytes} B exchanged between partitions).`);
  parts.push(objective.mode === 'latency'
    ? `Objective: lowest latency at accuracy >= ${pct(objective.accuracyFloor)}.`
    : `Objective: highest accuracy within ${ms(objective.sloMs)}.`);
  const unsplit = feasible.filter((c) => c.pkg.partitions === 1).sort((a, b) => a.prediction.latencyMs - b.prediction.latencyMs)[0];
  const split = feasible
    .filter((c) => new Set(c.assignment).size > 1)
    .sort((a, b) => a.prediction.latencyMs - b.prediction.latencyMs)[0];
  if (nodes.length > 1 && unsplit) {
    parts.push(`Splitting pays: unsplit on the fastest node ${cluster.nodes[unsplit.assignment[0]].name} would take ${ms(unsplit.prediction.latencyMs)}.`);
  } else if (nodes.length === 1 && split) {
    const net = split.prediction.transferMs;
    parts.push(`Splitting does not pay here: the best split (${split.pkg.name} over ${split.assignment.map((n) => cluster.nodes[n].name).join(', ')}) ` +
      `would take ${ms(split.prediction.latencyMs)}, ${ms(net)} of it on the network.`);
  }
  return parts.join(' ');
}

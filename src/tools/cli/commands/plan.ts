// edgesplit plan: which package, policy and nodes, and why.
import { z } from 'zod';
import { loadCatalog } from '../../../roles/planner/catalog.ts';
import { CLUSTER_SETTINGS, defaultCatalog, OBJECTIVE_SETTINGS, objectiveFromFlags, readClusterFile, readKubeCluster } from '../../../roles/planner/cli-support.ts';
import { UsageError } from '../../../runtime/errors.ts';
import { oneLine, runCommand, type CommandSpec, type Io } from '../usage.ts';
import { switchValue } from './options.ts';
import { plan } from '../../../roles/planner/core/search.ts';
import { ExactSearch } from '../../../roles/planner/core/strategies/exact.ts';
import { GreedyLocalSearch } from '../../../roles/planner/core/strategies/greedy-local.ts';
import { toPlan } from '../../../roles/planner/to-plan.ts';
import type { Plan } from '../../../runtime/plan.ts';

export type { Io } from '../usage.ts';

export const spec = {
  name: 'plan',
  summary: 'pick package, policy and placement for a cluster, and say why',
  help: 'Give exactly one of --cluster FILE or --kube. --json also prints the plan as one JSON line (the input of `edgesplit apply --plan`).',
  settings: {
    ...CLUSTER_SETTINGS,
    ...OBJECTIVE_SETTINGS,
    strategy: { flag: 'strategy', arg: 'NAME', description: 'search: auto, exact or greedy-local', default: 'auto' },
    json: { flag: 'json', kind: 'switch', description: 'also print the plan as one JSON line' },
  },
} satisfies CommandSpec;

const schema = z.object({
  cluster: z.string().optional(),
  kube: switchValue,
  kubeconfig: z.string().optional(),
  catalog: z.string().optional(),
  accuracyFloor: z.string().optional(),
  sloMs: z.string().optional(),
  strategy: z.enum(['auto', 'exact', 'greedy-local']),
  json: switchValue,
});

export function describePlan(doc: Plan): string[] {
  const lines = [doc.explanation, '', 'Placement:'];
  for (const a of doc.assignments) lines.push(`  partition ${a.partition} -> ${a.node}`);
  lines.push('', `Predicted: ${doc.predicted.latencyMs} ms per image (compute ${doc.predicted.computeMs} ms, transfer ${doc.predicted.transferMs} ms on the critical path), ${doc.predicted.exchangedBytes} B exchanged`);
  if (doc.alternatives.length) {
    lines.push('', 'Alternatives (best placement of each other package):');
    for (const a of doc.alternatives.slice(0, 6)) {
      const t = a.latencyMs === null ? 'n/a' : `${a.latencyMs} ms`;
      lines.push(`  ${a.package} (P=${a.partitions}, ${(a.accuracy * 100).toFixed(2)}%): ${t} on ${a.nodes.join(', ') || '-'}: ${a.reason}`);
    }
  }
  return lines;
}

export async function run(argv: string[], io: Io): Promise<number> {
  return runCommand(spec, schema, argv, io, async (values) => {
    if (!values.cluster === !values.kube) throw new UsageError(values.kube ? '--kube' : '--cluster', 'give exactly one of --cluster FILE or --kube');
    const objective = objectiveFromFlags(values.accuracyFloor, values.sloMs);
    try {
      const { packages } = await loadCatalog(values.catalog ?? defaultCatalog());
      const cluster = values.cluster ? await readClusterFile(values.cluster) : await readKubeCluster(values.kubeconfig);
      const strategy = values.strategy === 'exact' ? new ExactSearch() : values.strategy === 'greedy-local' ? new GreedyLocalSearch() : undefined;
      const doc = toPlan(plan(packages, cluster, objective, strategy), cluster);
      io.stdout(`${describePlan(doc).join('\n')}`);
      if (values.json) io.stdout(`${JSON.stringify(doc)}`);
      return 0;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      io.stderr(`edgesplit plan: ${oneLine(e)}`);
      return 1;
    }
  });
}

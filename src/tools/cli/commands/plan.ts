// edgesplit plan: which package, policy and nodes, and why.
import { parseArgs } from 'node:util';
import { loadCatalog } from '../../../roles/planner/catalog.ts';
import { defaultCatalog, objectiveFromFlags, oneLine, readClusterFile, readKubeCluster } from '../../../roles/planner/cli-support.ts';
import { plan } from '../../../roles/planner/core/search.ts';
import { ExactSearch } from '../../../roles/planner/core/strategies/exact.ts';
import { GreedyLocalSearch } from '../../../roles/planner/core/strategies/greedy-local.ts';
import { planDocument, type PlanDocument } from '../../../roles/planner/plan-document.ts';

const USAGE = 'usage: edgesplit plan (--cluster FILE | --kube [--kubeconfig PATH]) [--catalog FILE] [--accuracy-floor X | --slo-ms Y] [--strategy auto|exact|greedy-local] [--json]';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export function describePlan(doc: PlanDocument): string[] {
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
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        cluster: { type: 'string' }, kube: { type: 'boolean' }, kubeconfig: { type: 'string' }, catalog: { type: 'string' },
        'accuracy-floor': { type: 'string' }, 'slo-ms': { type: 'string' }, json: { type: 'boolean' },
        strategy: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`edgesplit plan: ${oneLine(e)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${USAGE}`);
    return 0;
  }
  if (!values.cluster === !values.kube) {
    io.stderr(`edgesplit plan: give exactly one of --cluster FILE or --kube\n${USAGE}`);
    return 2;
  }
  try {
    const objective = objectiveFromFlags(values['accuracy-floor'], values['slo-ms']);
    const { packages } = await loadCatalog(values.catalog ?? defaultCatalog());
    const cluster = values.cluster ? await readClusterFile(values.cluster) : await readKubeCluster(values.kubeconfig);
    const strategy = values.strategy === 'exact' ? new ExactSearch()
      : values.strategy === 'greedy-local' ? new GreedyLocalSearch()
        : values.strategy === undefined || values.strategy === 'auto' ? undefined
          : (() => { throw new Error(`--strategy: unknown strategy "${values.strategy}" (auto, exact, greedy-local)`); })();
    const doc = planDocument(plan(packages, cluster, objective, strategy), cluster);
    io.stdout(`${describePlan(doc).join('\n')}`);
    if (values.json) io.stdout(`${JSON.stringify(doc)}`);
    return 0;
  } catch (e) {
    io.stderr(`edgesplit plan: ${oneLine(e)}`);
    return 1;
  }
}

// Local mode (edgesplit up, no Kubernetes): plans a cluster file; nothing to apply.
import { FailedPreconditionError } from '../../runtime/errors.ts';
import { parseClusterYaml } from './cluster/cluster-file.ts';
import type { NodeReading } from './cluster/from-nodes.ts';
import { plan } from './core/search.ts';
import type { Cluster, Objective, PackageModel } from './core/types.ts';
import { toPlan } from './to-plan.ts';
import type { PlannerService, PlanStatus } from './planner-service.ts';

export class LocalPlanner implements PlannerService {
  private readonly state: PlanStatus;

  constructor(private readonly packages: PackageModel[], private readonly cluster: Cluster, private readonly objective: Objective) {
    const doc = toPlan(plan(packages, cluster, objective), cluster);
    this.state = { doc, hash: doc.planHash, lastReason: 'planned from the cluster file at start', lastError: '', updatedAt: new Date() };
  }

  async plan(clusterYaml: string | undefined, objective: Objective | undefined) {
    const cluster = clusterYaml !== undefined ? parseClusterYaml(clusterYaml, 'cluster_yaml') : this.cluster;
    return toPlan(plan(this.packages, cluster, objective ?? this.objective), cluster);
  }

  async apply(): Promise<never> {
    throw new FailedPreconditionError('the planner runs in local mode (a cluster file, no Kubernetes): there is nothing to apply to');
  }

  status(): PlanStatus {
    return { ...this.state };
  }

  nodes(): NodeReading[] {
    return this.cluster.nodes.map((spec) => ({ name: spec.name, ready: true, spec, defaulted: [] }));
  }
}

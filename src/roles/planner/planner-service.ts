import type { NodeReading } from './cluster/from-nodes.ts';
import type { Objective } from './core/types.ts';
import type { Plan } from '../../runtime/plan.ts';

export interface PlanStatus {
  doc?: Plan;
  hash?: string;
  lastReason: string;
  lastError: string;
  updatedAt?: Date;
}

/** What the gRPC server serves; the Kubernetes controller and the local (file) planner both provide it. */
export interface PlannerService {
  /** clusterYaml undefined: the live cluster. */
  plan(clusterYaml: string | undefined, objective: Objective | undefined): Promise<Plan>;
  apply(doc: Plan | undefined, objective: Objective | undefined): Promise<{ doc: Plan; hash: string; applied: string[]; deleted: string[] }>;
  status(): PlanStatus;
  nodes(): NodeReading[];
}

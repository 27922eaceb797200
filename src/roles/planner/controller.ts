// Controller mode: keeps the deployed plan right for the live cluster. It
// watches edge Nodes, re-plans (debounced, so a flapping node or a rolling
// relabel causes one re-plan) when one goes NotReady, leaves, joins or changes
// its spec, applies the result and says why in Events and GetPlan. A failed
// re-plan leaves the last good plan running.
import { FailedPreconditionError, InvalidArgumentError } from '../../runtime/errors.ts';
import { parseClusterYaml } from './cluster/cluster-file.ts';
import { clusterFromNodes, readNode, type KubeNode, type NodeReading } from './cluster/from-nodes.ts';
import { diffNodes } from './cluster/node-diff.ts';
import { plan } from './core/search.ts';
import type { Cluster, Objective, PackageModel } from './core/types.ts';
import type { ClusterApi, NodeEvent } from './k8s/cluster-api.ts';
import { desiredObjects, PLAN_CONFIGMAP, type DeployOptions } from './k8s/objects.ts';
import { reconcile } from './k8s/reconcile.ts';
import type { Plan } from '../../runtime/plan.ts';
import { toPlan } from './to-plan.ts';
import type { PlannerService, PlanStatus } from './planner-service.ts';

export interface ControllerDeps {
  api: ClusterApi;
  packages: PackageModel[];
  objective: Objective;
  deploy: DeployOptions;
  debounceMs?: number;
  sharedMedium?: boolean;
  log?: (line: string) => void;
}

export class PlannerController implements PlannerService {
  private readonly nodesByName = new Map<string, KubeNode>();
  /** Node readings the current plan (or the last attempt) was made from. */
  private plannedFrom = new Map<string, NodeReading>();
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private state: PlanStatus = { lastReason: '', lastError: '' };
  private closed = false;
  private readonly log: (line: string) => void;

  private constructor(private readonly deps: ControllerDeps) {
    this.log = deps.log ?? (() => {});
  }

  /** Starts watching and makes (and applies) the first plan before returning; a failed first plan is recorded, not thrown. */
  static async create(deps: ControllerDeps): Promise<PlannerController> {
    const c = new PlannerController(deps);
    c.stopWatch = await deps.api.watchNodes((e) => c.onNodeEvent(e), (err) => c.log(`node watch: ${err.message}`));
    await c.enqueue(() => c.replan('planner started'));
    return c;
  }

  status(): PlanStatus {
    return { ...this.state };
  }

  nodes(): NodeReading[] {
    return [...this.nodesByName.values()].map(readNode).filter((r): r is NodeReading => r !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Resolves when queued re-plans (including a pending debounced one) are done; for tests and shutdown. */
  async idle(): Promise<void> {
    await this.queue;
  }

  async plan(clusterYaml: string | undefined, objective: Objective | undefined): Promise<Plan> {
    const cluster = clusterYaml !== undefined ? parseClusterYaml(clusterYaml, 'cluster_yaml') : this.liveCluster();
    return toPlan(plan(this.deps.packages, cluster, objective ?? this.deps.objective), cluster);
  }

  async apply(doc: Plan | undefined, objective: Objective | undefined) {
    return await this.enqueue(async () => {
      if (!doc) {
        doc = await this.plan(undefined, objective);
      } else {
        this.checkDocument(doc);
      }
      return await this.deploy(doc, 'requested through Apply');
    });
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.stopWatch?.();
    await this.queue.catch(() => {});
  }

  private liveCluster(): Cluster {
    const cluster = clusterFromNodes([...this.nodesByName.values()], { sharedMedium: this.deps.sharedMedium });
    if (cluster.nodes.length === 0) {
      throw new FailedPreconditionError('no Ready node is labelled edgesplit.io/edge=true');
    }
    return cluster;
  }

  private checkDocument(doc: Plan): void {
    const pkg = this.deps.packages.find((p) => p.name === doc.package);
    if (!pkg) throw new InvalidArgumentError('plan_json.package', `"${doc.package}" is not in the catalog`);
    if (!Array.isArray(doc.assignments) || doc.assignments.length !== pkg.partitions) {
      throw new InvalidArgumentError('plan_json.assignments', `needs ${pkg.partitions} entries for ${pkg.name}`);
    }
    const ready = new Set(this.liveCluster().nodes.map((n) => n.name));
    for (const a of doc.assignments) {
      if (!ready.has(a.node)) throw new FailedPreconditionError(`plan places partition ${a.partition} on ${a.node}, which is not a Ready edge node`);
    }
  }

  private onNodeEvent(e: NodeEvent): void {
    if (e.type === 'SYNC') {
      this.nodesByName.clear();
      for (const n of e.nodes) if (n.metadata?.name) this.nodesByName.set(n.metadata.name, n);
    } else if (e.node.metadata?.name) {
      if (e.type === 'DELETED') this.nodesByName.delete(e.node.metadata.name);
      else this.nodesByName.set(e.node.metadata.name, e.node);
    }
    if (!this.state.updatedAt || this.closed) return; // the first plan reads the nodes itself
    const reasons = diffNodes(this.plannedFrom, this.readings());
    if (reasons.length === 0) {
      // A change that was reverted before the debounce fired needs no re-plan.
      this.pending = [];
      clearTimeout(this.timer);
      return;
    }
    this.pending = reasons;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const reason = this.pending.join('; ');
      this.pending = [];
      void this.enqueue(() => this.replan(reason));
    }, this.deps.debounceMs ?? 2000);
  }

  private readings(): Map<string, NodeReading> {
    const m = new Map<string, NodeReading>();
    for (const r of this.nodes()) m.set(r.name, r);
    return m;
  }

  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => {});
    return run;
  }

  private async replan(reason: string): Promise<void> {
    if (this.closed) return;
    this.plannedFrom = this.readings();
    try {
      const doc = await this.plan(undefined, undefined);
      await this.deploy(doc, reason);
    } catch (e) {
      const msg = (e as Error).message;
      const keeping = this.state.hash ? `keeping plan ${this.state.hash} (${this.state.doc!.package})` : 'no plan is deployed';
      this.state = { ...this.state, lastReason: reason, lastError: `could not re-plan (${reason}): ${msg}; ${keeping}`, updatedAt: new Date() };
      this.log(this.state.lastError);
      await this.event('Warning', 'ReplanFailed', this.state.lastError);
    }
  }

  private async deploy(doc: Plan, reason: string) {
    const hash = doc.planHash;
    const changed = hash !== this.state.hash;
    const { applied, deleted } = await reconcile(this.deps.api, this.deps.deploy.namespace, desiredObjects(doc, this.deps.deploy));
    this.state = { doc, hash, lastReason: reason, lastError: '', updatedAt: new Date() };
    const where = doc.assignments.map((a) => `p${a.partition}→${a.node}`).join(', ');
    const message = changed
      ? `${reason}: now ${doc.package} (${where}), predicted ${doc.predicted.latencyMs} ms${deleted.length ? `; removed ${deleted.join(', ')}` : ''}`
      : `${reason}: plan unchanged (${doc.package}, ${where})`;
    this.log(message);
    await this.event('Normal', changed ? 'Replanned' : 'PlanUnchanged', message);
    return { doc, hash, applied, deleted };
  }

  private async event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await this.deps.api.createEvent({
        namespace: this.deps.deploy.namespace, involved: { apiVersion: 'v1', kind: 'ConfigMap', name: PLAN_CONFIGMAP }, type, reason, message,
      });
    } catch (e) {
      this.log(`could not record event ${reason}: ${(e as Error).message}`);
    }
  }
}

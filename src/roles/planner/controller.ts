// Controller mode: keeps the deployed plan right for the live cluster. It
// watches edge Nodes, re-plans (debounced, so a flapping node or a rolling
// relabel causes one re-plan) when one goes NotReady, leaves, joins or changes
// its spec, applies the result and says why in Events and GetPlan. A failed
// re-plan leaves the last good plan running.
//
// A plan change is a staged switch, so no answer is degraded by it: the new plan's partitions start beside the old
// ones (per-plan names), the router is switched only once they are all ready, and the old ones are removed only
// once the router serves the new plan (or a grace has passed).
import { DeadlineExceededError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../../runtime/errors.ts';
import { parseClusterYaml } from './cluster/cluster-file.ts';
import { clusterFromNodes, readNode, type KubeNode, type NodeReading } from './cluster/from-nodes.ts';
import { diffNodes } from './cluster/node-diff.ts';
import { plan } from './core/search.ts';
import type { Cluster, Objective, PackageModel } from './core/types.ts';
import type { ClusterApi, NodeEvent } from './k8s/cluster-api.ts';
import { decisionJson, type Decision } from './k8s/decision.ts';
import { deployedPlan, PLAN_CONFIGMAP, planObjects, routerConfigMap, type DeployOptions, type KubeObject } from './k8s/objects.ts';
import { applyObjects, prune, sleep, waitDeploymentsReady } from './k8s/reconcile.ts';
import { GraceDelayProbe, type RouterProbe } from './router-probe.ts';
import { parsePlan, type Plan } from '../../runtime/plan.ts';
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
  /** Tells when the router serves a new plan; absent: wait switchGraceMs instead. */
  router?: RouterProbe;
  /** The longest wait for the router to serve a new plan (the whole wait without a router probe); default 90 s. */
  switchGraceMs?: number;
  /** How long a new plan's Deployments may take to become ready before the switch is abandoned; default 180 s. */
  readyTimeoutMs?: number;
  /** Pause after the router switched before the old partitions go, for requests still in flight there; default 2 s. */
  drainMs?: number;
  /** How often Deployment readiness is polled; default 1 s. */
  readyPollMs?: number;
}

export const DEFAULT_SWITCH_GRACE_MS = 90_000;
export const DEFAULT_READY_TIMEOUT_MS = 180_000;
const DEFAULT_DRAIN_MS = 2000;

/** A new plan's partitions did not all become ready in time; its objects were removed and the old plan kept. */
export class PartitionsNotReadyError extends DeadlineExceededError {
  constructor(readonly planHash: string, readonly deployments: string[], timeoutMs: number) {
    super(`plan ${planHash}: ${deployments.join(', ')} not ready after ${timeoutMs / 1000} s; removed the new plan's objects`);
  }
}

/** What the router-facing ConfigMap holds now (the cluster's truth, also after a planner restart). */
interface Current {
  hash: string;
  decisionJson?: string;
}

export interface DeployResult {
  doc: Plan;
  hash: string;
  applied: string[];
  deleted: string[];
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
  /** Ends the waits of a switch in progress at shutdown; the next planner finishes the switch (see deploy). */
  private readonly stopping = new AbortController();
  private readonly router: RouterProbe;

  private constructor(private readonly deps: ControllerDeps) {
    this.log = deps.log ?? (() => {});
    this.router = deps.router ?? new GraceDelayProbe();
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

  async apply(doc: Plan | undefined, objective: Objective | undefined): Promise<DeployResult> {
    return await this.enqueue(async () => {
      if (!doc) {
        doc = await this.plan(undefined, objective);
      } else {
        this.checkDocument(doc);
      }
      try {
        return await this.deploy(doc, 'requested through Apply');
      } catch (e) {
        // A switch abandoned for unready partitions is a failed re-plan as much as a node-triggered one.
        if (e instanceof PartitionsNotReadyError) await this.recordFailure('requested through Apply', e);
        throw e;
      }
    });
  }

  /**
   * Deploys `doc` (made elsewhere, e.g. by live calibration) through the staged switch, queued behind other re-plans;
   * `decision` goes into decision.json. A failure is recorded like a failed re-plan (status, Event) and thrown.
   */
  async replanWith(doc: Plan, reason: string, decision: Decision): Promise<void> {
    await this.enqueue(async () => {
      if (this.closed) return;
      this.plannedFrom = this.readings();
      try {
        this.checkDocument(doc);
        await this.deploy(doc, reason, decision);
      } catch (e) {
        await this.recordFailure(reason, e as Error);
        throw e;
      }
    });
  }

  /** The current plan's partition Service addresses (host:port, partition order); empty without a plan. */
  partitionAddresses(): string[] {
    const doc = this.state.doc;
    return doc ? deployedPlan(doc, this.deps.deploy.namespace).peers ?? [] : [];
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.stopWatch?.();
    this.stopping.abort();
    await this.queue.catch(() => {});
    this.router.close?.();
  }

  /** The cluster as the Ready edge nodes' labels give it now (the live calibration's priors). */
  clusterNow(): Cluster {
    return this.liveCluster();
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
      await this.recordFailure(reason, e as Error);
    }
  }

  private async recordFailure(reason: string, e: Error): Promise<void> {
    const keeping = this.state.hash ? `keeping plan ${this.state.hash} (${this.state.doc!.package})` : 'no plan is deployed';
    this.state = { ...this.state, lastReason: reason, lastError: `could not re-plan (${reason}): ${e.message}; ${keeping}`, updatedAt: new Date() };
    this.log(this.state.lastError);
    await this.event('Warning', 'ReplanFailed', this.state.lastError);
  }

  /**
   * Puts `doc` in place. A first plan (or the same plan again) is applied at once. A different plan goes through the
   * staged switch: (a) its objects beside the old plan's, (b) wait until its Deployments are ready (else remove them
   * and throw PartitionsNotReadyError, the old plan untouched), (c) the router-facing ConfigMap, (d) wait until the
   * router serves it, plus a drain, (e) remove the old plan's objects. Interrupted by shutdown after (c), the old
   * objects stay; the next planner start sees the plan in place and prunes them.
   */
  private async deploy(doc: Plan, reason: string, decision?: Decision): Promise<DeployResult> {
    const hash = doc.planHash;
    const changed = hash !== this.state.hash;
    const opts = this.deps.deploy;
    const current = await this.current();
    const mine = planObjects(doc, opts);
    const started = Date.now();
    const header = { at: new Date(started), reason, planHash: hash, previousPlanHash: current?.hash ?? null };
    // The same plan keeps its decision.json: re-applying it must change nothing.
    const decisionText = current?.hash === hash && current.decisionJson !== undefined && decision === undefined
      ? current.decisionJson : decisionJson(header, decision);
    const shared = routerConfigMap(doc, opts, decisionText);
    const where = doc.assignments.map((a) => `p${a.partition}→${a.node}`).join(', ');

    if (!current || current.hash === hash) {
      // Nothing serves yet, or this plan already does: no answer depends on what is pruned.
      const applied = [...await applyObjects(this.deps.api, mine), ...await applyObjects(this.deps.api, [shared])];
      const deleted = await prune(this.deps.api, opts.namespace, [shared, ...mine]);
      this.state = { doc, hash, lastReason: reason, lastError: '', updatedAt: new Date() };
      const message = changed
        ? `${reason}: now ${doc.package} (${where}), predicted ${doc.predicted.latencyMs} ms${deleted.length ? `; removed ${deleted.join(', ')}` : ''}`
        : `${reason}: plan unchanged (${doc.package}, ${where})`;
      this.log(message);
      await this.event('Normal', changed ? 'Replanned' : 'PlanUnchanged', message);
      return { doc, hash, applied, deleted };
    }

    // (a) and (b): the old plan keeps serving meanwhile.
    const applied = await applyObjects(this.deps.api, mine);
    const tApplied = Date.now();
    const deployments = mine.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    const timeoutMs = this.deps.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const unready = await waitDeploymentsReady(this.deps.api, opts.namespace, deployments,
      { timeoutMs, pollMs: this.deps.readyPollMs, signal: this.stopping.signal });
    if (unready.length > 0) {
      if (this.stopping.signal.aborted) throw new FailedPreconditionError(`plan ${hash}: the planner stopped before its partitions were ready`);
      await this.removeAll(mine);
      throw new PartitionsNotReadyError(hash, unready, timeoutMs);
    }
    const tReady = Date.now();
    // (c) The switch: the router follows this ConfigMap.
    applied.push(...await applyObjects(this.deps.api, [shared]));
    this.state = { doc, hash, lastReason: reason, lastError: '', updatedAt: new Date() };
    const message = `${reason}: now ${doc.package} (${where}), predicted ${doc.predicted.latencyMs} ms; switching from ${current.hash}`;
    this.log(message);
    await this.event('Normal', changed ? 'Replanned' : 'PlanUnchanged', message);
    // (d) Until the router serves the new plan, the old partitions may still be answering its requests.
    const confirmed = await this.router.waitServes(hash, this.deps.switchGraceMs ?? DEFAULT_SWITCH_GRACE_MS, this.stopping.signal);
    await sleep(this.deps.drainMs ?? DEFAULT_DRAIN_MS, this.stopping.signal);
    const tSwitched = Date.now();
    if (this.stopping.signal.aborted) return { doc, hash, applied, deleted: [] };
    // (e)
    const deleted = await prune(this.deps.api, opts.namespace, [shared, ...mine]);
    const s = (t: number) => ((t - started) / 1000).toFixed(1);
    const switched = `switched ${current.hash} → ${hash} (${reason}): new objects applied ${s(tApplied)} s, ready ${s(tReady)} s, ` +
      `router ${confirmed ? 'confirmed' : 'not confirmed, grace over'} ${s(tSwitched)} s, old removed ${s(Date.now())} s` +
      `${deleted.length ? ` (${deleted.join(', ')})` : ''}`;
    this.log(switched);
    await this.event('Normal', 'PlanSwitched', switched);
    return { doc, hash, applied, deleted };
  }

  /** The plan the router-facing ConfigMap holds, if any (a ConfigMap that does not parse counts as none). */
  private async current(): Promise<Current | undefined> {
    let cm: KubeObject;
    try {
      cm = await this.deps.api.getObject({ apiVersion: 'v1', kind: 'ConfigMap', name: PLAN_CONFIGMAP, namespace: this.deps.deploy.namespace });
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
    const data = (cm.data ?? {}) as Record<string, string>;
    try {
      return { hash: parsePlan(data['plan.json'] ?? '', PLAN_CONFIGMAP).planHash, decisionJson: data['decision.json'] };
    } catch {
      return undefined;
    }
  }

  private async removeAll(objects: KubeObject[]): Promise<void> {
    for (const o of objects) {
      await this.deps.api.deleteObject({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: this.deps.deploy.namespace });
    }
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

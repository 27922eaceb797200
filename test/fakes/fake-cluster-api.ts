import { NotFoundError } from '../../src/runtime/errors.ts';
// In-memory ClusterApi for unit tests: objects keyed by kind/name, node events pushed by the test.
import type { KubeNode } from '../../src/roles/planner/cluster/from-nodes.ts';
import type { ClusterApi, EventSpec, NodeEvent } from '../../src/roles/planner/k8s/cluster-api.ts';
import type { KubeObject } from '../../src/roles/planner/k8s/objects.ts';

export class FakeClusterApi implements ClusterApi {
  readonly objects = new Map<string, KubeObject>();
  readonly events: EventSpec[] = [];
  readonly calls: string[] = [];
  nodes: KubeNode[] = [];
  failApply: Error | undefined;
  /** Called after every apply and delete, with the call's text: tests check invariants that must hold at all times. */
  afterCall: ((call: string) => void) | undefined;
  /** Deployments report a ready replica as soon as they are applied, unless this is set (then markReady does it). */
  holdUnready = false;
  private listeners: ((e: NodeEvent) => void)[] = [];
  private version = 0;

  async listNodes(): Promise<KubeNode[]> {
    return structuredClone(this.nodes);
  }

  async watchNodes(onEvent: (e: NodeEvent) => void): Promise<() => void> {
    this.listeners.push(onEvent);
    onEvent({ type: 'SYNC', nodes: structuredClone(this.nodes) });
    return () => {
      this.listeners = this.listeners.filter((l) => l !== onEvent);
    };
  }

  /** Replaces or adds a node and tells the watchers. */
  setNode(node: KubeNode): void {
    const name = node.metadata!.name!;
    const existed = this.nodes.some((n) => n.metadata?.name === name);
    this.nodes = [...this.nodes.filter((n) => n.metadata?.name !== name), node];
    for (const l of this.listeners) l({ type: existed ? 'MODIFIED' : 'ADDED', node: structuredClone(node) });
  }

  removeNode(name: string): void {
    const node = this.nodes.find((n) => n.metadata?.name === name);
    this.nodes = this.nodes.filter((n) => n.metadata?.name !== name);
    if (node) for (const l of this.listeners) l({ type: 'DELETED', node });
  }

  async applyObject(obj: KubeObject): Promise<KubeObject> {
    this.calls.push(`apply ${obj.kind}/${obj.metadata.name}`);
    if (this.failApply) throw this.failApply;
    const key = `${obj.kind}/${obj.metadata.name}`;
    const old = this.objects.get(key);
    const { resourceVersion: _, ...oldMeta } = old?.metadata ?? {};
    const { status, ...oldSpec } = old ?? ({} as KubeObject);
    const same = old && JSON.stringify({ ...oldSpec, metadata: oldMeta }) === JSON.stringify(obj);
    const stored: KubeObject = same ? old : { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.version) } };
    // Like the Deployment controller: the status is the cluster's, not the applier's.
    if (obj.kind === 'Deployment' && !same) stored.status = status ?? { readyReplicas: this.holdUnready ? 0 : 1 };
    this.objects.set(key, stored);
    this.afterCall?.(`apply ${key}`);
    return stored;
  }

  /** A held Deployment (holdUnready) reports its replica ready. */
  markReady(name: string): void {
    const d = this.objects.get(`Deployment/${name}`);
    if (!d) throw new Error(`no Deployment/${name}`);
    d.status = { readyReplicas: 1, availableReplicas: 1 };
  }

  async deleteObject(ref: { kind: string; name: string }): Promise<void> {
    this.calls.push(`delete ${ref.kind}/${ref.name}`);
    this.objects.delete(`${ref.kind}/${ref.name}`);
    this.afterCall?.(`delete ${ref.kind}/${ref.name}`);
  }

  async getObject(ref: { kind: string; name: string }): Promise<KubeObject> {
    const o = this.objects.get(`${ref.kind}/${ref.name}`);
    if (!o) throw new NotFoundError(`${ref.kind}/${ref.name} not found`);
    return o;
  }

  async listOwned(): Promise<KubeObject[]> {
    return [...this.objects.values()];
  }

  async createEvent(e: EventSpec): Promise<void> {
    this.events.push(e);
  }
}

/**
 * A RouterProbe that answers `serves` at once, or, while `held`, when release() is called; it logs into the api's
 * calls so tests can check the order of the switch.
 */
export class FakeRouterProbe {
  serves = true;
  held = false;
  readonly asked: { hash: string; timeoutMs: number }[] = [];
  private waiting: (() => void)[] = [];
  constructor(private readonly api?: FakeClusterApi) {}

  async waitServes(hash: string, timeoutMs: number): Promise<boolean> {
    this.asked.push({ hash, timeoutMs });
    this.api?.calls.push(`router serves ${hash}?`);
    if (this.held) await new Promise<void>((r) => this.waiting.push(r));
    return this.serves;
  }

  release(): void {
    this.held = false;
    for (const r of this.waiting.splice(0)) r();
  }
}

export function edgeNode(name: string, labels: Record<string, string> = {}, opts: { ready?: boolean; cpu?: string; memory?: string } = {}): KubeNode {
  return {
    metadata: { name, labels: { 'edgesplit.io/edge': 'true', ...labels } },
    status: {
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '4Gi' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

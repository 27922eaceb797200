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
    const same = old && JSON.stringify({ ...old, metadata: oldMeta }) === JSON.stringify(obj);
    const stored = same ? old : { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.version) } };
    this.objects.set(key, stored);
    return stored;
  }

  async deleteObject(ref: { kind: string; name: string }): Promise<void> {
    this.calls.push(`delete ${ref.kind}/${ref.name}`);
    this.objects.delete(`${ref.kind}/${ref.name}`);
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

export function edgeNode(name: string, labels: Record<string, string> = {}, opts: { ready?: boolean; cpu?: string; memory?: string } = {}): KubeNode {
  return {
    metadata: { name, labels: { 'edgesplit.io/edge': 'true', ...labels } },
    status: {
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '4Gi' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

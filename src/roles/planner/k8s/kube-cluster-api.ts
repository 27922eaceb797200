// ClusterApi on @kubernetes/client-node 1.x (promise-based, object parameters).
import * as k8s from '@kubernetes/client-node';
import { FailedPreconditionError, NotFoundError, UnavailableError, EdgesplitError } from '../../../runtime/errors.ts';
import { EDGE_LABEL, type KubeNode } from '../cluster/from-nodes.ts';
import type { ClusterApi, EventSpec, NodeEvent } from './cluster-api.ts';
import { FIELD_MANAGER, OWNED_KINDS, type KubeObject } from './objects.ts';

const EDGE_SELECTOR = `${EDGE_LABEL}=true`;
const CALL_TIMEOUT_MS = 15_000;

export class KubeClusterApi implements ClusterApi {
  private stops = new Set<() => void>();

  private constructor(readonly kc: k8s.KubeConfig, private readonly core: k8s.CoreV1Api,
    private readonly objects: k8s.KubernetesObjectApi) {}

  /** kubeconfig: a file; undefined: $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  static async create(opts: { kubeconfig?: string } = {}): Promise<KubeClusterApi> {
    const kc = new k8s.KubeConfig();
    try {
      if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
      else kc.loadFromDefault();
    } catch (e) {
      throw new FailedPreconditionError(`cannot load kubeconfig ${opts.kubeconfig ?? '(default)'}: ${(e as Error).message}`);
    }
    if (!kc.getCurrentCluster()) throw new FailedPreconditionError('no Kubernetes cluster configured (no kubeconfig and not in a cluster)');
    return new KubeClusterApi(kc, kc.makeApiClient(k8s.CoreV1Api), k8s.KubernetesObjectApi.makeApiClient(kc));
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '(unknown)';
  }

  async listNodes(): Promise<KubeNode[]> {
    return (await this.call('list nodes', () => this.core.listNode({ labelSelector: EDGE_SELECTOR }))).items as KubeNode[];
  }

  async watchNodes(onEvent: (e: NodeEvent) => void, onError: (err: Error) => void): Promise<() => void> {
    let stopped = false;
    let abort: AbortController | undefined;
    let retry: NodeJS.Timeout | undefined;
    const watch = new k8s.Watch(this.kc);
    const start = async (): Promise<void> => {
      const list = await this.call('list nodes', () => this.core.listNode({ labelSelector: EDGE_SELECTOR }));
      if (stopped) return;
      onEvent({ type: 'SYNC', nodes: list.items as KubeNode[] });
      let rv = list.metadata?.resourceVersion;
      abort = await watch.watch('/api/v1/nodes', { labelSelector: EDGE_SELECTOR, resourceVersion: rv, allowWatchBookmarks: true },
        (phase, obj) => {
          if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') onEvent({ type: phase, node: obj as KubeNode });
        },
        (err) => {
          if (stopped) return;
          if (err && (err as Error).name !== 'AbortError') onError(this.wrap('watch nodes', err));
          // A closed or expired watch is normal; re-list so nothing that changed meanwhile is missed.
          retry = setTimeout(again, err ? 1000 : 0);
        });
    };
    const again = () => {
      if (stopped) return;
      start().catch((e) => {
        onError(e as Error);
        retry = setTimeout(again, 2000);
      });
    };
    await start();
    const stop = () => {
      stopped = true;
      clearTimeout(retry);
      abort?.abort();
      this.stops.delete(stop);
    };
    this.stops.add(stop);
    return stop;
  }

  async applyObject(obj: KubeObject): Promise<KubeObject> {
    return await this.call(`apply ${obj.kind}/${obj.metadata.name}`, () =>
      this.objects.patch(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply),
    ) as KubeObject;
  }

  async deleteObject(ref: { apiVersion: string; kind: string; name: string; namespace: string }): Promise<void> {
    try {
      await this.call(`delete ${ref.kind}/${ref.name}`, () => this.objects.delete(
        { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
        undefined, undefined, undefined, undefined, 'Background'));
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }

  async getObject(ref: { apiVersion: string; kind: string; name: string; namespace: string }): Promise<KubeObject> {
    return await this.call(`get ${ref.kind}/${ref.name}`, () => this.objects.read(
      { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } })) as KubeObject;
  }

  async listOwned(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const { apiVersion, kind } of OWNED_KINDS) {
      const list = await this.call(`list ${kind}`, () =>
        this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector));
      for (const item of list.items) out.push({ ...(item as KubeObject), apiVersion, kind });
    }
    return out;
  }

  async createEvent(e: EventSpec): Promise<void> {
    const now = new Date();
    await this.call('create event', () => this.core.createNamespacedEvent({
      namespace: e.namespace,
      body: {
        metadata: { generateName: `${e.involved.name}.`, namespace: e.namespace },
        involvedObject: { apiVersion: e.involved.apiVersion, kind: e.involved.kind, name: e.involved.name, namespace: e.namespace },
        type: e.type, reason: e.reason, message: e.message.slice(0, 1024),
        firstTimestamp: now, lastTimestamp: now, count: 1,
        source: { component: FIELD_MANAGER }, reportingComponent: FIELD_MANAGER, reportingInstance: FIELD_MANAGER,
      },
    }));
  }

  async shutdown(): Promise<void> {
    for (const stop of [...this.stops]) stop();
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        f(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UnavailableError(
            `cannot reach the Kubernetes API server at ${this.server}: ${what} timed out after ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      throw this.wrap(what, e);
    } finally {
      clearTimeout(timer);
    }
  }

  private wrap(what: string, e: unknown): Error {
    if (e instanceof EdgesplitError) return e;
    const code = (e as { code?: number | string }).code;
    const body = (e as { body?: unknown }).body;
    let detail = (e as Error).message ?? String(e);
    if (typeof body === 'string') {
      try {
        detail = JSON.parse(body).message ?? detail;
      } catch { /* not JSON: keep the message */ }
    } else if (body && typeof body === 'object' && 'message' in body) detail = String((body as { message: unknown }).message);
    if (code === 404) return new NotFoundError(`${what}: ${detail}`);
    if (code === 401 || code === 403) {
      return new FailedPreconditionError(`${what}: forbidden by the API server (check the planner's RBAC, k8s/rbac/planner-rbac.yaml): ${detail}`);
    }
    if (typeof code === 'number') return new FailedPreconditionError(`${what}: API server answered ${code}: ${detail}`);
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (typeof code === 'string' ? code : undefined);
    return new UnavailableError(`cannot reach the Kubernetes API server at ${this.server}: ${what} failed (${cause ?? detail})`);
  }
}

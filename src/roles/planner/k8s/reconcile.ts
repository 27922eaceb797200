import type { ClusterApi } from './cluster-api.ts';
import { MANAGED_SELECTOR, type KubeObject } from './objects.ts';

export interface ReconcileResult {
  applied: string[];
  deleted: string[];
}

export const objectKey = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

/** Applies objects in order, ConfigMaps first: pods must find the ConfigMap they mount when they start. */
export async function applyObjects(api: ClusterApi, objects: KubeObject[]): Promise<string[]> {
  const ordered = [...objects].sort((a, b) => Number(b.kind === 'ConfigMap') - Number(a.kind === 'ConfigMap'));
  for (const o of ordered) await api.applyObject(o);
  return ordered.map(objectKey);
}

/** Deletes the objects this planner owns that are not in `keep`; returns their kind/name, sorted. */
export async function prune(api: ClusterApi, namespace: string, keep: KubeObject[]): Promise<string[]> {
  const want = new Set(keep.map(objectKey));
  const deleted: string[] = [];
  for (const o of await api.listOwned(namespace, MANAGED_SELECTOR)) {
    if (want.has(objectKey(o))) continue;
    await api.deleteObject({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace });
    deleted.push(objectKey(o));
  }
  return deleted.sort();
}

/** Applies the desired objects, then deletes objects this planner owns that are no longer desired. */
export async function reconcile(api: ClusterApi, namespace: string, desired: KubeObject[]): Promise<ReconcileResult> {
  const applied = await applyObjects(api, desired);
  return { applied, deleted: await prune(api, namespace, desired) };
}

interface DeploymentStatus {
  observedGeneration?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

/** A Deployment whose (current) status says a replica is ready; a status older than the spec does not count. */
export function deploymentReady(d: KubeObject): boolean {
  const status = (d.status ?? {}) as DeploymentStatus;
  const generation = (d.metadata as { generation?: number }).generation;
  if (generation !== undefined && status.observedGeneration !== undefined && status.observedGeneration < generation) return false;
  return (status.readyReplicas ?? 0) >= 1 || (status.availableReplicas ?? 0) >= 1;
}

/**
 * Polls the named Deployments until each has a ready replica, for at most timeoutMs; returns the names that never
 * became ready (empty: all did). An aborted signal ends the wait early with what is still unready.
 */
export async function waitDeploymentsReady(api: ClusterApi, namespace: string, names: string[],
  opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<string[]> {
  const end = Date.now() + opts.timeoutMs;
  let waiting = [...names];
  for (;;) {
    const still: string[] = [];
    for (const name of waiting) {
      let ready = false;
      try {
        ready = deploymentReady(await api.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace }));
      } catch {
        // Not found yet, or the API server hiccuped: ask again on the next poll.
      }
      if (!ready) still.push(name);
    }
    waiting = still;
    if (waiting.length === 0 || Date.now() >= end || opts.signal?.aborted) return waiting;
    await sleep(Math.min(opts.pollMs ?? 1000, Math.max(1, end - Date.now())), opts.signal);
  }
}

/** setTimeout as a promise that an abort ends early (resolving, not rejecting: callers check the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

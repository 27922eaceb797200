import type { ClusterApi } from './cluster-api.ts';
import { MANAGED_SELECTOR, type KubeObject } from './objects.ts';

export interface ReconcileResult {
  applied: string[];
  deleted: string[];
}

const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

/** Applies the desired objects, then deletes objects this planner owns that are no longer desired. */
export async function reconcile(api: ClusterApi, namespace: string, desired: KubeObject[]): Promise<ReconcileResult> {
  // The ConfigMap first: pods of the new plan must find it when they start.
  const ordered = [...desired].sort((a, b) => Number(b.kind === 'ConfigMap') - Number(a.kind === 'ConfigMap'));
  for (const o of ordered) await api.applyObject(o);
  const want = new Set(desired.map(key));
  const deleted: string[] = [];
  for (const o of await api.listOwned(namespace, MANAGED_SELECTOR)) {
    if (want.has(key(o))) continue;
    await api.deleteObject({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace });
    deleted.push(key(o));
  }
  return { applied: ordered.map(key), deleted: deleted.sort() };
}

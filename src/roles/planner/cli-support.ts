// What `edgesplit plan` and `edgesplit apply` share: reading the cluster from a file or from Kubernetes.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import { parseClusterYaml } from './cluster/cluster-file.ts';
import { clusterFromNodes } from './cluster/from-nodes.ts';
import type { Cluster, Objective } from './core/types.ts';
import { KubeClusterApi } from './k8s/kube-cluster-api.ts';
import { repoPath } from '../../runtime/paths.ts';

export const REPO_CATALOG = repoPath('models', 'catalog.json');

/** ./models/catalog.json when run from a checkout root, else the one next to this code. */
export function defaultCatalog(): string {
  return existsSync('models/catalog.json') ? 'models/catalog.json' : REPO_CATALOG;
}

export async function readClusterFile(path: string): Promise<Cluster> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(path, `cannot read the cluster file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseClusterYaml(text, path);
}

export async function readKubeCluster(kubeconfig: string | undefined): Promise<Cluster> {
  const api = await KubeClusterApi.create({ kubeconfig });
  const cluster = clusterFromNodes(await api.listNodes());
  if (cluster.nodes.length === 0) {
    throw new InvalidArgumentError('nodes', `no Ready node labelled edgesplit.io/edge=true on ${api.server}`);
  }
  return cluster;
}

export function objectiveFromFlags(floor: string | undefined, slo: string | undefined): Objective {
  if (floor !== undefined && slo !== undefined) throw new InvalidArgumentError('--accuracy-floor', 'give --accuracy-floor or --slo-ms, not both');
  if (floor !== undefined) {
    const x = Number(floor);
    if (!Number.isFinite(x) || x < 0 || x > 1) throw new InvalidArgumentError('--accuracy-floor', `must be a number within 0..1 (got ${floor})`);
    return { mode: 'latency', accuracyFloor: x };
  }
  if (slo !== undefined) {
    const x = Number(slo);
    if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('--slo-ms', `must be a number > 0 (got ${slo})`);
    return { mode: 'slo', sloMs: x };
  }
  return { mode: 'latency' };
}

/** One line for stderr, whatever was thrown. */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

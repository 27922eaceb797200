// What `edgesplit plan` and `edgesplit apply` share: reading the cluster from a file or from Kubernetes.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, UsageError } from '../../runtime/errors.ts';
import type { Settings } from '../../runtime/config.ts';
import { objectiveOf } from './core/objective.ts';
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

/** --accuracy-floor and --slo-ms, as `plan` and `apply` take them. */
/** Where `plan` and `apply` read the cluster and the catalog from. */
export const CLUSTER_SETTINGS = {
  cluster: { flag: 'cluster', arg: 'FILE', description: 'a cluster file (YAML: nodes with gflops, bandwidthMbps, latencyMs, memoryMiB)' },
  kube: { flag: 'kube', kind: 'switch', description: 'read the cluster from Kubernetes (Ready nodes labelled edgesplit.io/edge=true)' },
  kubeconfig: { flag: 'kubeconfig', arg: 'PATH', description: 'kubeconfig for --kube (default: KUBECONFIG, else ~/.kube/config)' },
  catalog: { flag: 'catalog', arg: 'FILE', description: 'the package catalog (default: ./models/catalog.json, else the shipped one)' },
} satisfies Settings;

export const OBJECTIVE_SETTINGS = {
  accuracyFloor: { flag: 'accuracy-floor', arg: 'X', description: 'lowest accuracy a package may have, 0..1 (default: within 0.5 points of the best package)' },
  sloMs: { flag: 'slo-ms', arg: 'MS', description: 'latency target in ms: the most accurate package that meets it (instead of --accuracy-floor)' },
} satisfies Settings;

/** The objective of --accuracy-floor / --slo-ms (at most one); a bad value is a UsageError naming the flag. */
export function objectiveFromFlags(floor: string | undefined, slo: string | undefined): Objective {
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(flag, `expected a number, got '${v}'`);
    return x;
  };
  try {
    return objectiveOf({ accuracyFloor: num('--accuracy-floor', floor), sloMs: num('--slo-ms', slo) },
      { accuracyFloor: '--accuracy-floor', sloMs: '--slo-ms' });
  } catch (e) {
    if (e instanceof InvalidArgumentError && !(e instanceof UsageError)) throw new UsageError(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

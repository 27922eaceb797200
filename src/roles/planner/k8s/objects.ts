// Desired Kubernetes objects for a plan. Pure, so tests can compare exact output
// and the reconciler only has to apply and prune.
import { serializePlan, type Plan } from '../../../runtime/plan.ts';
import type { PodTemplate } from '../config.ts';

export const FIELD_MANAGER = 'edgesplit-planner';
export const PLAN_CONFIGMAP = 'edgesplit-plan';
export const GRPC_PORT = 50051;
export const PLAN_MOUNT = '/etc/edgesplit/plan';
/** Where the image (Dockerfile, scripts/build-image.sh: WORKDIR /app, models/ copied in) holds the model packages. */
export const IMAGE_MODELS_DIR = '/app/models';
export const MANAGED_SELECTOR = 'app.kubernetes.io/name=edgesplit,app.kubernetes.io/managed-by=edgesplit-planner';
/** Kinds the planner owns; pruning looks only at these. */
export const OWNED_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
] as const;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string; uid?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[] };
  [k: string]: unknown;
}

export interface DeployOptions {
  namespace: string;
  image: string;
  /** Where packages live inside the image (default IMAGE_MODELS_DIR). */
  modelsDir?: string;
  /** Pod settings from the chart (security contexts, resources, node selector, volumes, env). */
  podTemplate?: PodTemplate;
  /** Owner of every object, so that deleting the planner's Deployment removes what it created. */
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
}

type Obj = Record<string, unknown>;

/**
 * Merges the chart's pod settings under ours: lists (env, volumes, mounts) are joined, our fields win, except
 * resources and probes, where the chart's win (under TLS the chart sends TCP probes: the kubelet's gRPC probe
 * cannot do TLS, so ours would never pass).
 */
function withTemplate(pod: Obj, tpl: PodTemplate | undefined): Obj {
  if (!tpl?.spec) return pod;
  const { containers: tplContainers, ...tplSpec } = tpl.spec;
  const ours = pod.spec as Obj & { containers: Obj[]; volumes?: Obj[] };
  const tc = (tplContainers?.[0] ?? {}) as Obj;
  const join = (a: unknown, b: unknown) => [...((a as Obj[] | undefined) ?? []), ...((b as Obj[] | undefined) ?? [])];
  const container = ours.containers[0];
  const merged: Obj = {
    ...tc, ...container,
    env: join(container.env, tc.env),
    // The chart's extra ports (metrics) beside ours (grpc).
    ports: join(container.ports, ((tc.ports as Obj[] | undefined) ?? []).filter((p) => !(container.ports as Obj[] | undefined)?.some((q) => q.name === p.name))),
    volumeMounts: join(container.volumeMounts, tc.volumeMounts),
    ...(container.resources && tc.resources ? { resources: tc.resources } : {}),
    ...(tc.readinessProbe ? { readinessProbe: tc.readinessProbe } : {}),
    ...(tc.livenessProbe ? { livenessProbe: tc.livenessProbe } : {}),
  };
  return {
    metadata: { ...(pod.metadata as Obj), labels: { ...(tpl.metadata?.labels ?? {}), ...((pod.metadata as Obj).labels as Obj) } },
    spec: { ...tplSpec, ...ours, volumes: join(ours.volumes, tplSpec.volumes), containers: [merged] },
  };
}

export const PLAN_LABEL = 'edgesplit.io/plan';

/**
 * Per-plan names: two plans' partitions run side by side while the router switches, so they cannot share a name.
 * The planHash is 12 hex characters, so `edgesplit-<hash>-p<i>` stays a DNS-1035 label starting with a letter.
 */
export const partitionName = (hash: string, i: number) => `edgesplit-${hash}-p${i}`;
/** The ConfigMap the partitions of one plan mount (its peers are that plan's Services). */
export const planConfigMapName = (hash: string) => `${PLAN_CONFIGMAP}-${hash}`;

/** The plan as deployed (the ConfigMaps' plan.json): the same Plan, with the partitions' Service addresses as peers. */
export function deployedPlan(doc: Plan, namespace: string): Plan {
  return { ...doc, peers: doc.assignments.map((a) => `${partitionName(doc.planHash, a.partition)}.${namespace}.svc:${GRPC_PORT}`) };
}

const commonLabels = (hash: string) => ({
  'app.kubernetes.io/name': 'edgesplit',
  'app.kubernetes.io/managed-by': FIELD_MANAGER,
  [PLAN_LABEL]: hash,
});

function owned(objects: KubeObject[], opts: DeployOptions): KubeObject[] {
  if (!opts.owner) return objects;
  const ref = { ...opts.owner, blockOwnerDeletion: false, controller: false };
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, ownerReferences: [ref] } as KubeObject['metadata'] }));
}

/**
 * The router-facing ConfigMap (edgesplit-plan): the plan the router follows, and why it was chosen (decision.json,
 * see decision.ts). Applying it is the switch, so it is kept apart from the plan's own objects.
 */
export function routerConfigMap(doc: Plan, opts: DeployOptions, decisionJson?: string): KubeObject {
  return owned([{
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: PLAN_CONFIGMAP, namespace: opts.namespace, labels: { ...commonLabels(doc.planHash), 'app.kubernetes.io/component': 'plan' } },
    data: { 'plan.json': serializePlan(deployedPlan(doc, opts.namespace)), ...(decisionJson !== undefined ? { 'decision.json': decisionJson } : {}) },
  }], opts)[0];
}

/** Everything of one plan that can run beside another plan's: its ConfigMap, then a Deployment and a Service per partition. */
export function planObjects(doc: Plan, opts: DeployOptions): KubeObject[] {
  const ns = opts.namespace;
  const hash = doc.planHash;
  const modelsDir = (opts.modelsDir ?? IMAGE_MODELS_DIR).replace(/\/+$/, '');
  const common = commonLabels(hash);
  // The chart's pod template names a metrics port when metrics.enabled: the Services expose it for the ServiceMonitor.
  const metricsPort = ((opts.podTemplate?.spec?.containers?.[0]?.ports as Obj[] | undefined) ?? []).find((p) => p.name === 'metrics');
  const objects: KubeObject[] = [{
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: planConfigMapName(hash), namespace: ns, labels: { ...common, 'app.kubernetes.io/component': 'plan' } },
    data: { 'plan.json': serializePlan(deployedPlan(doc, ns)) },
  }];
  for (const { partition: i, node } of doc.assignments) {
    // The plan hash in the selector: an old plan's pod must never answer behind a new plan's Service (or the reverse).
    const selector = { 'app.kubernetes.io/name': 'edgesplit', 'app.kubernetes.io/component': 'partition', 'edgesplit.io/partition': String(i), [PLAN_LABEL]: hash };
    const labels = { ...common, 'app.kubernetes.io/component': 'partition', 'edgesplit.io/partition': String(i) };
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: partitionName(hash, i), namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: withTemplate({
          metadata: { labels: { ...selector, 'edgesplit.io/package': doc.package } },
          spec: {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
                },
              },
            },
            containers: [{
              name: 'partition',
              image: opts.image,
              args: ['serve', 'partition', '--index', String(i), '--package', `${modelsDir}/${doc.packagePath}`,
                '--plan', `${PLAN_MOUNT}/plan.json`, '--port', String(GRPC_PORT)],
              env: [
                { name: 'EDGESPLIT_PARTITION_INDEX', value: String(i) },
                { name: 'EDGESPLIT_PACKAGE', value: `${modelsDir}/${doc.packagePath}` },
                { name: 'EDGESPLIT_PLAN', value: `${PLAN_MOUNT}/plan.json` },
              ],
              ports: [{ name: 'grpc', containerPort: GRPC_PORT }],
              readinessProbe: { grpc: { port: GRPC_PORT } },
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
              volumeMounts: [{ name: 'plan', mountPath: PLAN_MOUNT, readOnly: true }],
            }],
            volumes: [{ name: 'plan', configMap: { name: planConfigMapName(hash) } }],
          },
        }, opts.podTemplate),
      },
    });
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: partitionName(hash, i), namespace: ns, labels },
      spec: { selector, ports: [{ name: 'grpc', port: GRPC_PORT, targetPort: 'grpc', protocol: 'TCP' },
        ...(metricsPort ? [{ name: 'metrics', port: metricsPort.containerPort, targetPort: 'metrics', protocol: 'TCP' }] : [])] },
    });
  }
  return owned(objects, opts);
}

/** The whole desired state for one plan: the router-facing ConfigMap, then the plan's own objects. */
export function desiredObjects(doc: Plan, opts: DeployOptions, decisionJson?: string): KubeObject[] {
  return [routerConfigMap(doc, opts, decisionJson), ...planObjects(doc, opts)];
}

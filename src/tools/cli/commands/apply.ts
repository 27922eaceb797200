// edgesplit apply: put a plan on Kubernetes (a saved `plan --json`, or plan now and apply).
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InvalidArgumentError, UsageError } from '../../../runtime/errors.ts';
import { loadCatalog } from '../../../roles/planner/catalog.ts';
import { CLUSTER_SETTINGS, defaultCatalog, OBJECTIVE_SETTINGS, objectiveFromFlags, readClusterFile } from '../../../roles/planner/cli-support.ts';
import { clusterFromNodes } from '../../../roles/planner/cluster/from-nodes.ts';
import { plan } from '../../../roles/planner/core/search.ts';
import type { Objective } from '../../../roles/planner/core/types.ts';
import { KubeClusterApi } from '../../../roles/planner/k8s/kube-cluster-api.ts';
import { desiredObjects, IMAGE_MODELS_DIR } from '../../../roles/planner/k8s/objects.ts';
import { reconcile } from '../../../roles/planner/k8s/reconcile.ts';
import { toPlan } from '../../../roles/planner/to-plan.ts';
import { parsePlan, type Plan } from '../../../runtime/plan.ts';
import { oneLine, runCommand, type CommandSpec, type Io } from '../usage.ts';
import { switchValue } from './options.ts';

export const spec = {
  name: 'apply',
  summary: 'apply a plan to Kubernetes: a saved `plan --json`, or plan now and apply',
  help: 'Give exactly one of --plan FILE, --cluster FILE or --kube. --dry-run prints the objects instead of applying them.',
  settings: {
    plan: { flag: 'plan', arg: 'FILE', description: 'a saved `edgesplit plan --json` output' },
    ...CLUSTER_SETTINGS,
    namespace: { flag: 'namespace', arg: 'NS', description: 'where the partitions are deployed', default: 'default' },
    image: { flag: 'image', arg: 'IMAGE', description: 'container image of the partitions', default: 'ghcr.io/edgesplit/edgesplit:0.1.0' },
    modelsDir: { flag: 'models-dir', arg: 'DIR', description: 'where the packages are inside the image (an absolute path)', default: IMAGE_MODELS_DIR },
    ...OBJECTIVE_SETTINGS,
    dryRun: { flag: 'dry-run', kind: 'switch', description: 'print the objects (a v1 List) instead of applying them' },
  },
} satisfies CommandSpec;

const schema = z.object({
  plan: z.string().optional(),
  cluster: z.string().optional(),
  kube: switchValue,
  kubeconfig: z.string().optional(),
  namespace: z.string().min(1),
  image: z.string().min(1),
  modelsDir: z.string().regex(/^\//, 'must be an absolute path inside the image'),
  catalog: z.string().optional(),
  accuracyFloor: z.string().optional(),
  sloMs: z.string().optional(),
  dryRun: switchValue,
});

/** A plan file is `plan --json` output: the JSON document is its last non-empty line (or the whole file). */
export function parsePlanFile(text: string, source: string): Plan {
  const lines = text.trim().split('\n');
  const last = lines[lines.length - 1];
  try {
    return parsePlan(text, source);
  } catch (e) {
    if (last === text.trim()) throw e;
    return parsePlan(last, source);
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  return runCommand(spec, schema, argv, io, async (values) => {
    if ([values.plan, values.cluster, values.kube].filter(Boolean).length !== 1) {
      throw new UsageError(values.cluster && !values.plan ? '--cluster' : values.kube && !values.plan ? '--kube' : '--plan', 'give exactly one of --plan FILE, --cluster FILE or --kube');
    }
    const objective = objectiveFromFlags(values.accuracyFloor, values.sloMs);
    return applyPlan(values, objective, io);
  });
}

async function applyPlan(values: z.infer<typeof schema>, objective: Objective, io: Io): Promise<number> {
  try {
    const deploy = { namespace: values.namespace, image: values.image, modelsDir: values.modelsDir };
    let doc: Plan;
    let api: KubeClusterApi | undefined;
    const kube = async () => (api ??= await KubeClusterApi.create({ kubeconfig: values.kubeconfig }));
    if (values.plan) {
      doc = parsePlanFile(await readFile(values.plan, 'utf8').catch((e) => {
        throw new InvalidArgumentError(values.plan!, `cannot read it (${e.code ?? e})`);
      }), values.plan);
    } else {
      const { packages } = await loadCatalog(values.catalog ?? defaultCatalog());
      const cluster = values.cluster ? await readClusterFile(values.cluster) : clusterFromNodes(await (await kube()).listNodes());
      doc = toPlan(plan(packages, cluster, objective), cluster);
    }
    const objects = desiredObjects(doc, deploy);
    if (values.dryRun) {
      io.stdout(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}`);
      return 0;
    }
    const live = new Set(clusterFromNodes(await (await kube()).listNodes()).nodes.map((n) => n.name));
    const missing = doc.assignments.filter((a) => !live.has(a.node));
    if (missing.length) {
      throw new InvalidArgumentError('assignments', `node ${missing[0].node} (partition ${missing[0].partition}) is not a Ready edge node of the cluster`);
    }
    const r = await reconcile(api!, deploy.namespace, objects);
    io.stdout(`applied plan ${doc.planHash}: ${doc.package} ${doc.assignments.map((a) => `p${a.partition}→${a.node}`).join(', ')}`);
    if (r.deleted.length) io.stdout(`deleted ${r.deleted.join(', ')}`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr(`edgesplit apply: ${oneLine(e)}`);
    return 1;
  }
}

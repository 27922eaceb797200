// edgesplit apply: put a plan on Kubernetes (a saved `plan --json`, or plan now and apply).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../common/errors.ts';
import { loadCatalog } from '../../planner/catalog.ts';
import { defaultCatalog, objectiveFromFlags, oneLine, readClusterFile } from '../../planner/cli-support.ts';
import { clusterFromNodes } from '../../planner/cluster/from-nodes.ts';
import { plan } from '../../planner/core/search.ts';
import { KubeClusterApi } from '../../planner/k8s/kube-cluster-api.ts';
import { desiredObjects, IMAGE_MODELS_DIR } from '../../planner/k8s/objects.ts';
import { reconcile } from '../../planner/k8s/reconcile.ts';
import { planDocument, planHash, type PlanDocument } from '../../planner/plan-document.ts';
import type { Io } from './plan.ts';

const USAGE = 'usage: edgesplit apply (--plan FILE | --cluster FILE | --kube) [--kubeconfig PATH] [--namespace NS] [--image IMG] [--models-dir DIR] [--catalog FILE] [--accuracy-floor X | --slo-ms Y] [--dry-run]';

/** A plan file is `plan --json` output: the JSON document is its last non-empty line (or the whole file). */
export function parsePlanFile(text: string, source: string): PlanDocument {
  const lines = text.trim().split('\n');
  for (const candidate of [text, lines[lines.length - 1]]) {
    try {
      const d = JSON.parse(candidate);
      if (d && typeof d.package === 'string' && Array.isArray(d.assignments)) return d as PlanDocument;
    } catch { /* try the next form */ }
  }
  throw new InvalidArgumentError(source, 'not a plan (expected the JSON printed by `edgesplit plan --json`)');
}

export async function run(argv: string[], io: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true,
      options: {
        plan: { type: 'string' }, cluster: { type: 'string' }, kube: { type: 'boolean' }, kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: 'default' }, image: { type: 'string', default: 'ghcr.io/edgesplit/edgesplit:0.1.0' },
        'models-dir': { type: 'string', default: IMAGE_MODELS_DIR },
        catalog: { type: 'string' }, 'accuracy-floor': { type: 'string' }, 'slo-ms': { type: 'string' },
        'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`edgesplit apply: ${oneLine(e)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${USAGE}`);
    return 0;
  }
  if ([values.plan, values.cluster, values.kube].filter(Boolean).length !== 1) {
    io.stderr(`edgesplit apply: give exactly one of --plan FILE, --cluster FILE or --kube\n${USAGE}`);
    return 2;
  }
  // A path inside the image, where the partition pods find the packages: relative would resolve against /app by accident.
  if (!values['models-dir']!.startsWith('/')) {
    io.stderr(`edgesplit apply: --models-dir: must be an absolute path inside the image (got '${values['models-dir']}')\n${USAGE}`);
    return 2;
  }
  try {
    const deploy = { namespace: values.namespace!, image: values.image!, modelsDir: values['models-dir']! };
    const objective = objectiveFromFlags(values['accuracy-floor'], values['slo-ms']);
    let doc: PlanDocument;
    let api: KubeClusterApi | undefined;
    const kube = async () => (api ??= await KubeClusterApi.create({ kubeconfig: values.kubeconfig }));
    if (values.plan) {
      doc = parsePlanFile(await readFile(values.plan, 'utf8').catch((e) => {
        throw new InvalidArgumentError(values.plan!, `cannot read it (${e.code ?? e})`);
      }), values.plan);
    } else {
      const { packages } = await loadCatalog(values.catalog ?? defaultCatalog());
      const cluster = values.cluster ? await readClusterFile(values.cluster) : clusterFromNodes(await (await kube()).listNodes());
      doc = planDocument(plan(packages, cluster, objective), cluster);
    }
    const objects = desiredObjects(doc, deploy);
    if (values['dry-run']) {
      io.stdout(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}`);
      return 0;
    }
    const live = new Set(clusterFromNodes(await (await kube()).listNodes()).nodes.map((n) => n.name));
    const missing = doc.assignments.filter((a) => !live.has(a.node));
    if (missing.length) {
      throw new InvalidArgumentError('assignments', `node ${missing[0].node} (partition ${missing[0].partition}) is not a Ready edge node of the cluster`);
    }
    const r = await reconcile(api!, deploy.namespace, objects);
    io.stdout(`applied plan ${planHash(doc)}: ${doc.package} ${doc.assignments.map((a) => `p${a.partition}→${a.node}`).join(', ')}`);
    if (r.deleted.length) io.stdout(`deleted ${r.deleted.join(', ')}`);
    return 0;
  } catch (e) {
    io.stderr(`edgesplit apply: ${oneLine(e)}`);
    return 1;
  }
}

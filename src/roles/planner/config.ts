import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { loadSettings, loadTlsFiles, roleSettings, TLS_SETTINGS, tlsFilesFromSettings, UsageError, type Env } from '../../runtime/config.ts';
import type { TlsFiles, TlsMaterial } from '../../runtime/tls.ts';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import { objectiveOf } from './core/objective.ts';
import { IMAGE_MODELS_DIR } from './k8s/objects.ts';
import type { Objective } from './core/types.ts';

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Every flag of `edgesplit serve planner`; each also reads its variable (EDGESPLIT_<FLAG> unless named here). */
export const SETTINGS = roleSettings({
  namespace: { flag: 'namespace', arg: 'NS', description: "where partitions are deployed (default: the pod's own namespace, else default)" },
  catalog: { flag: 'catalog', arg: 'FILE', description: 'the package catalog', default: 'models/catalog.json' },
  accuracyFloor: { flag: 'accuracy-floor', arg: 'X', description: 'lowest accuracy a package may have, 0..1 (default: within 0.5 points of the best)' },
  sloMs: { flag: 'slo-ms', arg: 'MS', description: 'latency target: the most accurate package that meets it (instead of --accuracy-floor)' },
  image: { flag: 'image', arg: 'IMAGE', description: 'container image of the partitions', default: 'ghcr.io/edgesplit/edgesplit:0.1.0' },
  modelsDir: { flag: 'models-dir', arg: 'DIR', description: 'where the packages are inside the image (an absolute path)', default: IMAGE_MODELS_DIR },
  port: { flag: 'port', env: 'EDGESPLIT_PLANNER_PORT', arg: 'PORT', description: "the planner's gRPC port (0: any free port)", default: '50052' },
  debounceMs: { flag: 'debounce-ms', arg: 'MS', description: 'quiet time after a node change before replanning', default: '2000' },
  sharedMedium: { flag: 'shared-medium', arg: 'BOOL', description: 'the nodes share one network medium (transfers do not overlap)', default: 'false' },
  cluster: { flag: 'cluster', env: 'EDGESPLIT_CLUSTER_FILE', arg: 'FILE', description: 'local mode: plan this cluster file instead of watching Kubernetes' },
  kubeconfig: { flag: 'kubeconfig', env: 'KUBECONFIG', arg: 'PATH', description: 'kubeconfig (default: in-cluster, else ~/.kube/config)' },
  partitionTemplate: { flag: 'partition-template', arg: 'JSON', description: "pod settings {metadata, spec} merged into every partition Deployment's pod template" },
  ownerDeployment: { flag: 'owner-deployment', arg: 'NAME', description: "the planner's own Deployment: owner of everything it creates" },
  routerAddress: { flag: 'router-address', arg: 'HOST:PORT', description: "the router's gRPC address: a plan change waits until it serves the new plan (health service edgesplit.plan.<hash>)" },
  switchGraceMs: { flag: 'switch-grace-ms', arg: 'MS', description: "the longest wait for the router to serve a new plan before the old partitions go (the whole wait without --router-address, or with TLS)", default: '90000' },
  calibrateIntervalMs: { flag: 'calibrate-interval-ms', arg: 'MS', description: "live calibration: how often the partitions' measured figures are read and the plan re-judged (0: off; off under TLS)", default: '5000' },
  readyTimeoutMs: { flag: 'ready-timeout-ms', arg: 'MS', description: "how long a new plan's partitions may take to become ready before the change is abandoned", default: '180000' },
  ...TLS_SETTINGS,
});

const text = z.string().min(1);

const schema = z.object({
  namespace: z.string().regex(DNS_LABEL).optional(),
  catalog: text,
  accuracyFloor: z.coerce.number().min(0).max(1).optional(),
  sloMs: z.coerce.number().positive().optional(),
  image: text,
  // A path inside the partition pods' image: a relative one would resolve against /app by accident.
  modelsDir: z.string().regex(/^\//, 'must be an absolute path inside the image'),
  port: z.coerce.number().int().min(0).max(65535),
  debounceMs: z.coerce.number().int().min(0),
  sharedMedium: z.enum(['true', 'false']),
  /** Local mode: plan this cluster file instead of watching Kubernetes. */
  cluster: text.optional(),
  kubeconfig: text.optional(),
  /** Pod settings (JSON {metadata, spec}) merged into every partition Deployment's pod template (the chart's). */
  partitionTemplate: text.optional(),
  /** The planner's own Deployment: owner of everything it creates, so deleting it garbage-collects them. */
  ownerDeployment: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).optional(),
  routerAddress: z.string().regex(/^[^\s,/]+:\d{1,5}$/, 'expected host:port').optional(),
  switchGraceMs: z.coerce.number().int().min(0),
  readyTimeoutMs: z.coerce.number().int().positive(),
  calibrateIntervalMs: z.coerce.number().int().min(0).max(3_600_000),
});

export interface PlannerConfig {
  namespace: string;
  catalog: string;
  objective: Objective;
  image: string;
  modelsDir: string;
  port: number;
  debounceMs: number;
  sharedMedium: boolean;
  clusterFile?: string;
  kubeconfig?: string;
  partitionTemplate?: PodTemplate;
  ownerDeployment?: string;
  /** The router's gRPC address (its Service), health-checked during a plan change; absent: wait switchGraceMs. */
  routerAddress?: string;
  switchGraceMs: number;
  readyTimeoutMs: number;
  /** Live calibration (src/roles/planner/live-loop.ts) every this many ms; 0: off. */
  calibrateIntervalMs: number;
  /**
   * TLS for the planner's gRPC API (--tls-* or EDGESPLIT_TLS_*, src/runtime/tls.ts): PEM paths, read by PlannerApp at
   * start-up (loadPlannerTls). Absent: plaintext.
   */
  tls?: TlsFiles;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: Record<string, unknown> & { containers?: Record<string, unknown>[] };
}

function parseTemplate(raw: string, name: string): PodTemplate {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new UsageError(name, `not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UsageError(name, 'expected a JSON object {metadata, spec}');
  }
  return v as PodTemplate;
}

/** Reads the PEM files named by `cfg.tls` (undefined: plaintext); errors name the flag or variable, never contents. */
export function loadPlannerTls(files: TlsFiles | undefined): TlsMaterial | undefined {
  return files ? loadTlsFiles(files) : undefined;
}

/**
 * The planner's configuration: --flags win over the variables (EDGESPLIT_*, KUBECONFIG), which win over the defaults;
 * validated once, here. Every problem is a UsageError naming the flag or variable.
 */
export function loadConfig(argv: string[], env: Env = process.env): PlannerConfig {
  const r = loadSettings(argv, env, SETTINGS, schema);
  const c = r.config;
  let objective: Objective;
  try {
    objective = objectiveOf(c, { accuracyFloor: r.nameOf('accuracyFloor'), sloMs: r.nameOf('sloMs') });
  } catch (e) {
    if (!(e instanceof InvalidArgumentError)) throw e;
    throw new UsageError(e.field, e.message.slice(e.field.length + 2));
  }
  const tls = tlsFilesFromSettings(r);
  const namespace = c.namespace ??
    (existsSync(IN_CLUSTER_NAMESPACE) ? readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim() : 'default');
  return {
    namespace,
    catalog: c.catalog,
    objective,
    image: c.image,
    modelsDir: c.modelsDir,
    port: c.port,
    debounceMs: c.debounceMs,
    sharedMedium: c.sharedMedium === 'true',
    ...(c.cluster ? { clusterFile: c.cluster } : {}),
    ...(c.kubeconfig ? { kubeconfig: c.kubeconfig } : {}),
    ...(c.partitionTemplate ? { partitionTemplate: parseTemplate(c.partitionTemplate, r.nameOf('partitionTemplate')) } : {}),
    ...(c.ownerDeployment ? { ownerDeployment: c.ownerDeployment } : {}),
    ...(c.routerAddress ? { routerAddress: c.routerAddress } : {}),
    switchGraceMs: c.switchGraceMs,
    readyTimeoutMs: c.readyTimeoutMs,
    calibrateIntervalMs: c.calibrateIntervalMs,
    ...(tls.cert !== undefined ? { tls } : {}),
  };
}

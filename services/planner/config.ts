import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidArgumentError } from '../common/errors.ts';
import { loadTls, tlsFilesFrom, TlsConfigError, type TlsFiles, type TlsMaterial } from '../common/tls.ts';
import type { Objective } from './core/types.ts';
import { IMAGE_MODELS_DIR } from './k8s/objects.ts';

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const schema = z.object({
  EDGESPLIT_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).optional(),
  EDGESPLIT_CATALOG: z.string().min(1).default('models/catalog.json'),
  EDGESPLIT_ACCURACY_FLOOR: z.coerce.number().min(0).max(1).optional(),
  EDGESPLIT_SLO_MS: z.coerce.number().positive().optional(),
  EDGESPLIT_IMAGE: z.string().min(1).default('ghcr.io/edgesplit/edgesplit:0.1.0'),
  // The image's path (IMAGE_MODELS_DIR); the chart sets it from model.modelsDir.
  EDGESPLIT_MODELS_DIR: z.string().regex(/^\//, 'must be an absolute path inside the image').default(IMAGE_MODELS_DIR),
  EDGESPLIT_PLANNER_PORT: z.coerce.number().int().min(0).max(65535).default(50052),
  EDGESPLIT_DEBOUNCE_MS: z.coerce.number().int().min(0).default(2000),
  EDGESPLIT_SHARED_MEDIUM: z.enum(['true', 'false']).default('false'),
  /** Local mode: plan this cluster file instead of watching Kubernetes. */
  EDGESPLIT_CLUSTER_FILE: z.string().min(1).optional(),
  KUBECONFIG: z.string().min(1).optional(),
  /** Pod settings (JSON {metadata, spec}) merged into every partition Deployment's pod template (the chart's). */
  EDGESPLIT_PARTITION_TEMPLATE: z.string().min(1).optional(),
  /** The planner's own Deployment: owner of everything it creates, so deleting it garbage-collects them. */
  EDGESPLIT_OWNER_DEPLOYMENT: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).optional(),
}).refine((e) => e.EDGESPLIT_ACCURACY_FLOOR === undefined || e.EDGESPLIT_SLO_MS === undefined, {
  message: 'set EDGESPLIT_ACCURACY_FLOOR or EDGESPLIT_SLO_MS, not both', path: ['EDGESPLIT_SLO_MS'],
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
  /**
   * TLS for the planner's gRPC API (EDGESPLIT_TLS_CERT/KEY/CA/REQUIRE_CLIENT_CERT, services/common/tls.ts): PEM paths,
   * read by PlannerApp at start-up. Absent: plaintext.
   */
  tls?: TlsFiles;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: Record<string, unknown> & { containers?: Record<string, unknown>[] };
}

function parseTemplate(raw: string): PodTemplate {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new InvalidArgumentError('EDGESPLIT_PARTITION_TEMPLATE', `not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InvalidArgumentError('EDGESPLIT_PARTITION_TEMPLATE', 'expected a JSON object {metadata, spec}');
  }
  return v as PodTemplate;
}

/** The planner takes its TLS settings from the environment only, so TLS errors name the variable, not the flag. */
function withTlsEnvNames<T>(f: () => T): T {
  const envName = (flag: string) => `EDGESPLIT_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
  try {
    return f();
  } catch (err) {
    if (!(err instanceof TlsConfigError)) throw err;
    throw new InvalidArgumentError(envName(err.flag), err.message.slice(err.flag.length + 2).replace(/--tls-[a-z-]+/g, envName));
  }
}

/** Reads the PEM files named by `cfg.tls` (undefined: plaintext); errors name the EDGESPLIT_TLS_* variable, never contents. */
export function loadPlannerTls(files: TlsFiles | undefined): TlsMaterial | undefined {
  return files ? withTlsEnvNames(() => loadTls(files)) : undefined;
}

export function loadConfig(env: Record<string, string | undefined>): PlannerConfig {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(blanksRemoved);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new InvalidArgumentError(String(i.path[0] ?? 'environment'), i.message);
  }
  const e = r.data;
  const tls = withTlsEnvNames(() => tlsFilesFrom({}, blanksRemoved));
  const namespace = e.EDGESPLIT_NAMESPACE ??
    (existsSync(IN_CLUSTER_NAMESPACE) ? readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim() : 'default');
  return {
    namespace,
    catalog: e.EDGESPLIT_CATALOG,
    objective: e.EDGESPLIT_SLO_MS !== undefined
      ? { mode: 'slo', sloMs: e.EDGESPLIT_SLO_MS }
      : { mode: 'latency', ...(e.EDGESPLIT_ACCURACY_FLOOR !== undefined ? { accuracyFloor: e.EDGESPLIT_ACCURACY_FLOOR } : {}) },
    image: e.EDGESPLIT_IMAGE,
    modelsDir: e.EDGESPLIT_MODELS_DIR,
    port: e.EDGESPLIT_PLANNER_PORT,
    debounceMs: e.EDGESPLIT_DEBOUNCE_MS,
    sharedMedium: e.EDGESPLIT_SHARED_MEDIUM === 'true',
    ...(e.EDGESPLIT_CLUSTER_FILE ? { clusterFile: e.EDGESPLIT_CLUSTER_FILE } : {}),
    ...(e.KUBECONFIG ? { kubeconfig: e.KUBECONFIG } : {}),
    ...(e.EDGESPLIT_PARTITION_TEMPLATE ? { partitionTemplate: parseTemplate(e.EDGESPLIT_PARTITION_TEMPLATE) } : {}),
    ...(e.EDGESPLIT_OWNER_DEPLOYMENT ? { ownerDeployment: e.EDGESPLIT_OWNER_DEPLOYMENT } : {}),
    ...(tls.cert !== undefined ? { tls } : {}),
  };
}

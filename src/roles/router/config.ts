import { z } from 'zod';
import { join } from 'node:path';
import { loadPackage, resolvePackageDir, MODELS_DIR, type ModelPackage } from '../../runtime/manifest.ts';
import { peersOf, readPlanFile, type Plan } from '../../runtime/plan.ts';
import { boolText, loadSettings, roleSettings, TLS_SETTINGS, tlsFromSettings, UsageError, type Env } from '../../runtime/config.ts';
import type { TlsMaterial } from '../../runtime/tls.ts';
import type { BatchingSettings } from './batcher.ts';

export interface RouterConfig {
  pkg: ModelPackage;
  /** Partition addresses in partition order (host:port), exactly P of them. */
  partitions: string[];
  host: string;
  port: number;
  maxBatch: number;
  /** Applied when the client sets no deadline. */
  defaultTimeoutMs: number;
  /** gRPC receive limit; a larger request is answered RESOURCE_EXHAUSTED by grpc-js itself. */
  maxMessageBytes: number;
  /** true: any partition failure fails the request; false (default): answer from the partitions left (degraded). */
  strict: boolean;
  headThreads: number;
  healthIntervalMs: number;
  /** Requests admitted at once; beyond it RESOURCE_EXHAUSTED, never a queue. */
  maxInFlight: number;
  /** Consecutive failures that open a partition's circuit. */
  breakerFailures: number;
  /** undefined: plaintext. */
  tls?: TlsMaterial;
  /** The planner's plan.json: package and partitions come from it (and follow it) unless given as flags. */
  planPath?: string;
  plan?: Plan;
  /** What follows the plan file when it changes: what was not given by flag or variable, decided at start-up. */
  follows?: { package: boolean; partitions: boolean; modelsDir: string };
  planPollMs: number;
  /** How Runs reach the partitions: 'stream' (one RunStream each, the default) or 'unary' (one call per Run). */
  partitionCalls: 'stream' | 'unary';
  /** Dynamic batching of concurrent requests (batcher.ts); undefined: off (--dynamic-batching false). */
  batching?: BatchingSettings;
}

/** Every flag of `edgesplit serve router`; each also reads EDGESPLIT_<FLAG> (--timeout-ms: EDGESPLIT_TIMEOUT_MS). */
export const SETTINGS = roleSettings({
  package: { flag: 'package', arg: 'NAME|DIR', description: 'a package name under models/ or a package directory; from --plan when absent' },
  partitions: { flag: 'partitions', arg: 'HOST:PORT,...', description: "the partitions' addresses in partition order; from --plan when absent" },
  host: { flag: 'host', arg: 'HOST', description: 'address to listen on', default: '0.0.0.0' },
  port: { flag: 'port', arg: 'PORT', description: 'OIP v2 gRPC port (0: any free port)', default: '8001' },
  maxBatch: { flag: 'max-batch', arg: 'N', description: 'largest batch, 1..4096', default: '64' },
  timeoutMs: { flag: 'timeout-ms', arg: 'MS', description: 'deadline of a request whose client set none', default: '5000' },
  maxMessageBytes: { flag: 'max-message-bytes', arg: 'BYTES', description: 'gRPC receive limit', default: String(4 * 1024 * 1024) },
  strict: { flag: 'strict', kind: 'optional', arg: 'BOOL', description: 'fail a request when any partition fails (default: answer degraded)', default: 'false' },
  headThreads: { flag: 'head-threads', arg: 'N', description: 'ONNX Runtime threads of the head, 1..64', default: '1' },
  healthIntervalMs: { flag: 'health-interval-ms', arg: 'MS', description: "how often the partitions' health is checked", default: '1000' },
  maxInFlight: { flag: 'max-in-flight', arg: 'N', description: 'requests admitted at once (beyond: RESOURCE_EXHAUSTED)', default: '64' },
  breakerFailures: { flag: 'breaker-failures', arg: 'N', description: "consecutive failures that open a partition's circuit", default: '3' },
  plan: { flag: 'plan', arg: 'FILE', description: "the planner's plan.json: package and partitions come from it (and follow it)" },
  planPollMs: { flag: 'plan-poll-ms', arg: 'MS', description: 'how often --plan is checked for changes', default: '2000' },
  partitionCalls: { flag: 'partition-calls', arg: 'MODE', description: 'how Runs reach the partitions: stream or unary', default: 'stream' },
  modelsDir: { flag: 'models-dir', arg: 'DIR', description: "where the plan's package paths are resolved", default: MODELS_DIR },
  // Dynamic batching (Triton's dynamic_batching): defaults from `bench --scenario batching` (bench/README.md).
  dynamicBatching: { flag: 'dynamic-batching', kind: 'optional', arg: 'BOOL', description: 'group concurrent requests into one pass through the partitions', default: 'true' },
  batchMaxSize: { flag: 'batch-max-size', arg: 'N', description: "images in one batch at most, 1..4096 (keep it within the partitions' --max-batch)", default: '16' },
  batchPreferredSizes: { flag: 'batch-preferred-sizes', arg: 'N,...', description: 'batch sizes dispatched without waiting out the queue delay', default: '' },
  batchMaxQueueDelayUs: { flag: 'batch-max-queue-delay-us', arg: 'US', description: 'how long a queued request may wait for a fuller batch once a slot is free (0: never)', default: '0' },
  batchInstances: { flag: 'batch-instances', arg: 'N', description: 'batches in flight at once; further requests queue and form the next batch', default: '2' },
  ...TLS_SETTINGS,
});

const address = z.string().regex(/^[^\s,]+:\d{1,5}$/, 'expected host:port');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const text = z.string().min(1);

const schema = z.object({
  package: text.optional(),
  partitions: z.string().optional().transform((s) => s?.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(address).min(1).optional()),
  host: text,
  port: int(0, 65535),
  maxBatch: int(1, 4096),
  timeoutMs: int(1, 600_000),
  maxMessageBytes: int(1024, 1 << 30),
  strict: z.string().transform(boolText),
  headThreads: int(1, 64),
  healthIntervalMs: int(50, 60_000),
  maxInFlight: int(1, 100_000),
  breakerFailures: int(1, 1000),
  plan: text.optional(),
  planPollMs: int(50, 600_000),
  partitionCalls: z.enum(['stream', 'unary']),
  modelsDir: text,
  dynamicBatching: z.string().transform(boolText),
  batchMaxSize: int(1, 4096),
  batchPreferredSizes: z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.coerce.number().int().min(1).max(4096))),
  batchMaxQueueDelayUs: int(0, 10_000_000),
  batchInstances: int(1, 1024),
});

/** What the router needs before it knows its package and partitions: enough to listen and answer NOT_SERVING. */
export type RouterServerConfig = Omit<RouterConfig, 'pkg' | 'partitions' | 'plan'> & {
  /** --package / --partitions as given (they then do not follow the plan). */
  packageRef?: string;
  partitionsGiven?: string[];
};

/**
 * Thrown when the plan file named by --plan cannot be read yet, or is not a deployed plan: a fresh planner-mode
 * install starts the router before the planner has written its ConfigMap. serveRouter waits for it instead of exiting.
 */
export class PlanNotReadyError extends UsageError {
  constructor(readonly planPath: string, detail: string, readonly server: RouterServerConfig) {
    super('--plan', detail);
  }
}

function serverSettings(c: z.infer<typeof schema>, tls: TlsMaterial | undefined) {
  return { host: c.host, port: c.port, maxBatch: c.maxBatch, defaultTimeoutMs: c.timeoutMs,
    maxMessageBytes: c.maxMessageBytes, strict: c.strict, headThreads: c.headThreads, healthIntervalMs: c.healthIntervalMs,
    maxInFlight: c.maxInFlight, breakerFailures: c.breakerFailures, tls, planPollMs: c.planPollMs,
    partitionCalls: c.partitionCalls,
    ...(c.dynamicBatching ? { batching: { maxBatchSize: c.batchMaxSize, preferredBatchSizes: c.batchPreferredSizes,
      maxQueueDelayUs: c.batchMaxQueueDelayUs, instances: c.batchInstances } } : {}) };
}

/**
 * The router's configuration: --flags win over EDGESPLIT_* variables, which win over the defaults. Validated once,
 * here, at start-up (plan, package, partitions, TLS files included); every problem is a UsageError naming the flag
 * or variable.
 */
export function loadConfig(argv: string[], env: Env = process.env): RouterConfig {
  const r = loadSettings(argv, env, SETTINGS, schema);
  const c = r.config;
  let plan: Plan | undefined;
  if (c.plan) {
    try {
      plan = readPlanFile(c.plan);
      peersOf(plan, c.plan);
    } catch (e) {
      // Planner mode before the planner has written its ConfigMap: every other setting is checked now (a typo must not
      // wait for the planner), and serveRouter waits for the plan, NOT_SERVING, instead of exiting.
      const server: RouterServerConfig = {
        ...serverSettings(c, tlsFromSettings(r)), planPath: c.plan,
        follows: { package: c.package === undefined, partitions: c.partitions === undefined, modelsDir: c.modelsDir },
        ...(c.package !== undefined ? { packageRef: c.package } : {}), ...(c.partitions !== undefined ? { partitionsGiven: c.partitions } : {}),
      };
      throw new PlanNotReadyError(c.plan, (e as Error).message.split('\n')[0].replace(/^--plan: /, ''), server);
    }
  }
  const packageRef = c.package ?? (plan ? join(c.modelsDir, plan.packagePath) : undefined);
  if (!packageRef) throw new UsageError(r.nameOf('package'), 'required (or --plan)');
  const partitions = c.partitions ?? (plan && c.plan ? peersOf(plan, c.plan) : undefined);
  if (!partitions?.length) throw new UsageError(r.nameOf('partitions'), 'required (or --plan)');
  let pkg: ModelPackage;
  try {
    pkg = loadPackage(resolvePackageDir(packageRef));
  } catch (e) {
    throw new UsageError(c.package ? r.nameOf('package') : r.nameOf('plan'), (e as Error).message.split('\n')[0]);
  }
  const tls = tlsFromSettings(r);
  const P = pkg.manifest.partitions;
  if (partitions.length !== P) {
    throw new UsageError(c.partitions ? r.nameOf('partitions') : r.nameOf('plan'),
      `package ${pkg.manifest.name} has ${P} partitions, got ${partitions.length} addresses`);
  }
  return {
    pkg, partitions, ...serverSettings(c, tls), ...(c.plan ? { planPath: c.plan } : {}), ...(plan ? { plan } : {}),
    ...(plan ? { follows: { package: c.package === undefined, partitions: c.partitions === undefined, modelsDir: c.modelsDir } } : {}),
  };
}

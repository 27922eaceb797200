import { z } from 'zod';
import { join } from 'node:path';
import { loadPackage, resolvePackageDir, MODELS_DIR, type ModelPackage } from '../common/manifest.ts';
import { readPlanFile, type PlanFile } from '../common/plan-file.ts';
import { UsageError, parseFlags, boolText } from '../common/cli-args.ts';
import { loadTls, tlsFilesFrom, TlsConfigError, TLS_FLAGS, type TlsMaterial } from '../common/tls.ts';

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
  plan?: PlanFile;
  planPollMs: number;
  /** How Runs reach the partitions: 'stream' (one RunStream each, the default) or 'unary' (one call per Run). */
  partitionCalls: 'stream' | 'unary';
}

const FLAGS = {
  package: { type: 'string' }, partitions: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
  'max-batch': { type: 'string' }, 'timeout-ms': { type: 'string' }, 'max-message-bytes': { type: 'string' },
  strict: { type: 'string' }, 'head-threads': { type: 'string' }, 'health-interval-ms': { type: 'string' },
  'max-in-flight': { type: 'string' }, 'breaker-failures': { type: 'string' }, plan: { type: 'string' }, 'plan-poll-ms': { type: 'string' },
  'partition-calls': { type: 'string' }, ...TLS_FLAGS,
} as const;

/**
 * The plan file named by --plan cannot be read yet (a fresh planner-mode install starts the router before the planner
 * has written its ConfigMap) or is not a valid plan. serveRouter waits for it instead of exiting.
 */
export class PlanNotReadyError extends UsageError {
  constructor(readonly planPath: string, detail: string, readonly server: RouterServerConfig) {
    super('--plan', detail);
    this.name = 'PlanNotReadyError';
  }
}

/** What the router needs before it knows its package and partitions: enough to listen and answer NOT_SERVING. */
export type RouterServerConfig = Omit<RouterConfig, 'pkg' | 'partitions' | 'plan'>;

const address = z.string().regex(/^[^\s,]+:\d{1,5}$/, 'expected host:port');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  package: z.string().min(1),
  partitions: z.array(address).min(1),
  host: z.string().min(1),
  port: int(0, 65535),
  'max-batch': int(1, 4096),
  'timeout-ms': int(1, 600_000),
  'max-message-bytes': int(1024, 1 << 30),
  'head-threads': int(1, 64),
  'health-interval-ms': int(50, 60_000),
  'max-in-flight': int(1, 100_000),
  'breaker-failures': int(1, 1000),
  'plan-poll-ms': int(50, 600_000),
  'partition-calls': z.enum(['stream', 'unary']),
});

/**
 * Flags win over EDGESPLIT_* environment variables (the container form). Validated once, here, at start-up;
 * every problem is a UsageError naming the flag.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const { values } = parseFlags(bareStrict(argv), FLAGS);
  const pick = (flag: keyof typeof FLAGS, envName: string, def?: string): string | undefined =>
    (values[flag] as string | undefined) ?? env[envName] ?? def;
  const planPath = pick('plan', 'EDGESPLIT_PLAN');
  let plan: PlanFile | undefined;
  let planError: string | undefined;
  if (planPath) {
    try {
      plan = readPlanFile(planPath);
    } catch (e) {
      planError = (e as Error).message;
    }
  }
  const modelsDir = env.EDGESPLIT_MODELS_DIR ?? MODELS_DIR;
  const raw = {
    package: pick('package', 'EDGESPLIT_PACKAGE') ?? (plan ? join(modelsDir, plan.packagePath) : undefined),
    partitions: (pick('partitions', 'EDGESPLIT_PARTITIONS') ?? plan?.peers.join(',') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    host: pick('host', 'EDGESPLIT_HOST', '0.0.0.0'),
    port: pick('port', 'EDGESPLIT_PORT', '8001'),
    'max-batch': pick('max-batch', 'EDGESPLIT_MAX_BATCH', '64'),
    'timeout-ms': pick('timeout-ms', 'EDGESPLIT_TIMEOUT_MS', '5000'),
    'max-message-bytes': pick('max-message-bytes', 'EDGESPLIT_MAX_MESSAGE_BYTES', String(4 * 1024 * 1024)),
    'head-threads': pick('head-threads', 'EDGESPLIT_HEAD_THREADS', '1'),
    'health-interval-ms': pick('health-interval-ms', 'EDGESPLIT_HEALTH_INTERVAL_MS', '1000'),
    'max-in-flight': pick('max-in-flight', 'EDGESPLIT_MAX_IN_FLIGHT', '64'),
    'breaker-failures': pick('breaker-failures', 'EDGESPLIT_BREAKER_FAILURES', '3'),
    'plan-poll-ms': pick('plan-poll-ms', 'EDGESPLIT_PLAN_POLL_MS', '2000'),
    'partition-calls': pick('partition-calls', 'EDGESPLIT_PARTITION_CALLS', 'stream'),
  };
  // Without a plan yet, every other flag is still checked now: a typo must not wait for the planner to show up.
  const parsed = (planError ? schema.extend({ package: z.string().optional(), partitions: z.array(address) }) : schema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const value = raw[issue.path[0] as keyof typeof raw];
    throw new UsageError(`--${String(issue.path[0])}`, `${issue.message} (got '${Array.isArray(value) ? value.join(',') : value ?? ''}')`);
  }
  const c = parsed.data;
  let tls: TlsMaterial | undefined;
  try {
    tls = loadTls(tlsFilesFrom(values, env));
  } catch (e) {
    if (e instanceof TlsConfigError) throw new UsageError(e.flag, e.message.slice(e.flag.length + 2));
    throw e;
  }
  const server: RouterServerConfig = {
    host: c.host, port: c.port, maxBatch: c['max-batch'],
    defaultTimeoutMs: c['timeout-ms'], maxMessageBytes: c['max-message-bytes'],
    strict: boolText('--strict', pick('strict', 'EDGESPLIT_STRICT'), false), headThreads: c['head-threads'],
    healthIntervalMs: c['health-interval-ms'], maxInFlight: c['max-in-flight'], breakerFailures: c['breaker-failures'], tls,
    planPollMs: c['plan-poll-ms'], partitionCalls: c['partition-calls'], ...(planPath ? { planPath } : {}),
  };
  if (planError) throw new PlanNotReadyError(planPath!, planError, server);
  let pkg: ModelPackage;
  try {
    pkg = loadPackage(resolvePackageDir(c.package!));
  } catch (e) {
    throw new UsageError('--package', (e as Error).message);
  }
  const P = pkg.manifest.partitions;
  if (c.partitions.length !== P) {
    throw new UsageError('--partitions', `package ${pkg.manifest.name} has ${P} partitions, got ${c.partitions.length} addresses`);
  }
  return { ...server, pkg, partitions: c.partitions, ...(plan ? { plan } : {}) };
}

/** `--strict` alone means `--strict true` (the chart passes `--strict "true"`/`"false"`, which still parses). */
function bareStrict(argv: string[]): string[] {
  return argv.map((a, i) => (a === '--strict' && (i + 1 >= argv.length || argv[i + 1].startsWith('--')) ? '--strict=true' : a));
}

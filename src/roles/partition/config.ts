import { parseArgs } from 'node:util';
import { z } from 'zod';
import { readPlanFile } from '../../runtime/plan-file.ts';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../runtime/grpc-server.ts';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

export const configSchema = z.object({
  /** A package name under models/ or a package directory. */
  package: z.string().min(1),
  index: int(0),
  port: int(0, 65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  /** host:port of every partition in partition order (this partition's own entry is ignored). */
  peers: z.string().default('').transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p.length > 0))
    .pipe(z.array(z.string().regex(/^[^\s]+:\d{1,5}$/, 'expected host:port'))),
  intraOpThreads: int(1, 64).default(1),
  maxInFlight: int(1, 10_000).default(64),
  maxBatch: int(1, 4096).default(64),
  maxMessageBytes: int(1024, 2 ** 31 - 1).default(DEFAULT_MAX_MESSAGE_BYTES),
  earlyPushTtlMs: int(1, 600_000).default(2000),
  /** Deadline applied to a Run whose caller set none. */
  defaultTimeoutMs: int(1, 3_600_000).default(30_000),
  /** Longest wait for in-flight requests on SIGTERM. */
  drainMs: int(0, 600_000).default(10_000),
  /** Time the units at start-up for Describe (off only to start faster in tests). */
  measure: z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).default(true)
    .transform((v) => v === true || v === 'true' || v === '1'),
  /** TLS / mTLS (src/runtime/tls.ts): PEM paths, checked and read by tlsFilesFrom/loadTls at start-up. */
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  tlsCa: z.string().min(1).optional(),
  tlsRequireClientCert: z.string().optional(),
  tlsServerName: z.string().min(1).optional(),
  /** The planner's plan.json: the peers come from it when --peers is not given. */
  plan: z.string().min(1).optional(),
  /** How slices reach peers: 'stream' (one PushStream per peer, the default) or 'unary' (one call per push). */
  pushCalls: z.enum(['stream', 'unary']).default('stream'),
});

export type PartitionConfig = z.infer<typeof configSchema>;

/** Flag name (kebab) -> config key; the same keys read EDGESPLIT_<UPPER_SNAKE> from the environment. */
const FLAGS = {
  package: 'package', index: 'index', port: 'port', host: 'host', peers: 'peers',
  'intra-op-threads': 'intraOpThreads', 'max-in-flight': 'maxInFlight', 'max-batch': 'maxBatch',
  'max-message-bytes': 'maxMessageBytes', 'early-push-ttl-ms': 'earlyPushTtlMs',
  'default-timeout-ms': 'defaultTimeoutMs', 'drain-ms': 'drainMs', measure: 'measure',
  'tls-cert': 'tlsCert', 'tls-key': 'tlsKey', 'tls-ca': 'tlsCa', 'tls-require-client-cert': 'tlsRequireClientCert',
  'tls-server-name': 'tlsServerName', plan: 'plan', 'push-calls': 'pushCalls',
} as const satisfies Record<string, keyof PartitionConfig>;

const envName = (key: string): string => `EDGESPLIT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * Reads the partition's configuration from EDGESPLIT_* variables, overridden by --flags, validated once.
 * Errors are InvalidArgumentError naming the flag.
 */
export function loadConfig(env: NodeJS.ProcessEnv, argv: string[]): PartitionConfig {
  let values: Record<string, string | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]));
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new InvalidArgumentError('arguments', (e as Error).message.split('\n')[0]);
  }
  const raw: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const v = values[flag] ?? env[envName(key)];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (raw.plan !== undefined && raw.peers === undefined) {
    // Service DNS names of the plan's partitions; they stay the same when a partition moves to another node.
    raw.peers = readPlanFile(String(raw.plan)).peers.join(',');
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? '');
    const flag = Object.entries(FLAGS).find(([, k]) => k === key)?.[0] ?? key;
    throw new InvalidArgumentError(`--${flag}`, issue.message);
  }
  return parsed.data;
}

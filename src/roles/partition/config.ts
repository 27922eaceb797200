import { z } from 'zod';
import { peersOf, readPlanFile } from '../../runtime/plan.ts';
import { loadPackage, resolvePackageDir, type ModelPackage } from '../../runtime/manifest.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../runtime/grpc-server.ts';
import { boolText, loadSettings, roleSettings, TLS_SETTINGS, tlsFromSettings, UsageError, type Env } from '../../runtime/config.ts';
import type { TlsMaterial } from '../../runtime/tls.ts';

/** Every flag of `edgesplit serve partition`; each also reads EDGESPLIT_<FLAG> (--max-batch: EDGESPLIT_MAX_BATCH). */
export const SETTINGS = roleSettings({
  package: { flag: 'package', arg: 'NAME|DIR', description: 'a package name under models/ or a package directory' },
  index: { flag: 'index', arg: 'I', description: "this partition's index, 0..P-1" },
  port: { flag: 'port', arg: 'PORT', description: 'gRPC port (0: any free port)', default: '0' },
  host: { flag: 'host', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
  peers: { flag: 'peers', arg: 'HOST:PORT,...', description: "every partition's address in partition order (its own entry is ignored); from --plan when absent" },
  intraOpThreads: { flag: 'intra-op-threads', arg: 'N', description: 'ONNX Runtime intra-op threads, 1..64', default: '1' },
  fuseUnits: { flag: 'fuse-units', kind: 'optional', arg: 'BOOL', description: "run the package's fused segments, one ONNX session per run of units between exchange points (false: one per unit)", default: 'true' },
  maxInFlight: { flag: 'max-in-flight', arg: 'N', description: 'requests admitted at once, 1..10000', default: '64' },
  maxBatch: { flag: 'max-batch', arg: 'N', description: 'largest batch, 1..4096', default: '64' },
  maxMessageBytes: { flag: 'max-message-bytes', arg: 'BYTES', description: 'gRPC message limit', default: String(DEFAULT_MAX_MESSAGE_BYTES) },
  earlyPushTtlMs: { flag: 'early-push-ttl-ms', arg: 'MS', description: 'how long a push that arrives before its Run is kept', default: '2000' },
  defaultTimeoutMs: { flag: 'default-timeout-ms', arg: 'MS', description: 'deadline of a Run whose caller set none', default: '30000' },
  drainMs: { flag: 'drain-ms', arg: 'MS', description: 'longest wait for in-flight requests on SIGTERM', default: '10000' },
  measure: { flag: 'measure', kind: 'optional', arg: 'BOOL', description: 'time the units at start-up for Describe (false: start faster)', default: 'true' },
  plan: { flag: 'plan', arg: 'FILE', description: "the planner's plan.json: the peers come from it when --peers is not given" },
  pushCalls: { flag: 'push-calls', arg: 'MODE', description: 'how slices reach peers: stream (one PushStream per peer) or unary (one call per push)', default: 'stream' },
  ...TLS_SETTINGS,
});

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const text = z.string().min(1);

export const configSchema = z.object({
  /** A package name under models/ or a package directory. */
  package: text,
  index: int(0),
  port: int(0, 65535),
  host: text,
  /** host:port of every partition in partition order (this partition's own entry is ignored). */
  peers: z.string().default('').transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p.length > 0))
    .pipe(z.array(z.string().regex(/^[^\s]+:\d{1,5}$/, 'expected host:port'))),
  intraOpThreads: int(1, 64),
  /** One ONNX session per run of units between exchange points, where the package ships them (manifest onnx.fused). */
  fuseUnits: z.string().transform(boolText),
  maxInFlight: int(1, 10_000),
  maxBatch: int(1, 4096),
  maxMessageBytes: int(1024, 2 ** 31 - 1),
  earlyPushTtlMs: int(1, 600_000),
  /** Deadline applied to a Run whose caller set none. */
  defaultTimeoutMs: int(1, 3_600_000),
  /** Longest wait for in-flight requests on SIGTERM. */
  drainMs: int(0, 600_000),
  /** Time the units at start-up for Describe (off only to start faster in tests). */
  measure: z.string().transform(boolText),
  /** TLS / mTLS (src/runtime/tls.ts): PEM paths, checked and read by loadConfig (`tls`). */
  tlsCert: text.optional(),
  tlsKey: text.optional(),
  tlsCa: text.optional(),
  tlsRequireClientCert: z.string().optional(),
  tlsServerName: text.optional(),
  /** The planner's plan.json: the peers come from it when --peers is not given. */
  plan: text.optional(),
  /** How slices reach peers: 'stream' (one PushStream per peer, the default) or 'unary' (one call per push). */
  pushCalls: z.enum(['stream', 'unary']),
});

export type PartitionConfig = z.infer<typeof configSchema> & {
  /** The package `package` names, loaded and checked against index and peers. */
  pkg: ModelPackage;
  /** The PEM material the tls* settings name; undefined: plaintext. */
  tls?: TlsMaterial;
};

/**
 * The partition's configuration: --flags win over EDGESPLIT_* variables, which win over the defaults; validated
 * once, here (package, index, peers, TLS files included). Every problem is a UsageError naming the flag or variable.
 */
export function loadConfig(argv: string[], env: Env = process.env): PartitionConfig {
  const r = loadSettings(argv, env, SETTINGS, configSchema);
  const c = r.config;
  if (c.plan !== undefined && r.raw.peers === undefined) {
    // Service DNS names of the plan's partitions; they stay the same when a partition moves to another node.
    try {
      c.peers = peersOf(readPlanFile(c.plan), c.plan);
    } catch (e) {
      throw new UsageError(r.nameOf('plan'), (e as Error).message.split('\n')[0]);
    }
  }
  let pkg: ModelPackage;
  try {
    pkg = loadPackage(resolvePackageDir(c.package));
  } catch (e) {
    throw new UsageError(r.nameOf('package'), (e as Error).message.split('\n')[0]);
  }
  const P = pkg.manifest.partitions;
  if (c.index >= P) throw new UsageError(r.nameOf('index'), `${c.index} is outside 0..${P - 1} for ${pkg.manifest.name}`);
  if (P > 1 && c.peers.length !== P) {
    throw new UsageError(r.raw.peers === undefined && c.plan ? r.nameOf('plan') : r.nameOf('peers'),
      `expected ${P} addresses in partition order, got ${c.peers.length}`);
  }
  const tls = tlsFromSettings(r);
  return { ...c, pkg, ...(tls ? { tls } : {}) };
}

// The cluster YAML users write by hand (edgesplit plan --cluster FILE).
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidArgumentError } from '../../../runtime/errors.ts';
import type { Cluster } from '../core/types.ts';

/** Per-call overhead of one ONNX unit when a node does not say (measured order of magnitude on small ARM boards). */
export const DEFAULT_PER_CALL_OVERHEAD_MS = 0.2;
/**
 * Service-path CPU of a node when it does not say (order of magnitude of a Node.js gRPC service on one small ARM
 * core; measure yours with scripts/edge-emulator.sh measure or the bench): a request's Run handling, one push
 * sent or received, and encode/decode/framing per MB.
 */
export const DEFAULT_PER_REQUEST_OVERHEAD_MS = 2;
export const DEFAULT_PER_MESSAGE_OVERHEAD_MS = 0.5;
export const DEFAULT_CPU_MS_PER_MB = 20;
/** Framing per message on the wire (HTTP/2 headers and frames, gRPC prefix, TCP/IP): 450-540 B measured per push. */
export const DEFAULT_MESSAGE_OVERHEAD_BYTES = 450;
/** Cluster-wide link options when the file does not say: access links carry one transfer at a time per direction. */
export const DEFAULT_LINKS = { linkContention: true, messageOverheadBytes: DEFAULT_MESSAGE_OVERHEAD_BYTES };
/** A router on its own machine, when the file does not place it: a wired gateway (a faster CPU than the nodes). */
export const DEFAULT_ROUTER = {
  gflops: 20, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: DEFAULT_PER_CALL_OVERHEAD_MS,
  perRequestOverheadMs: 0.5, perMessageOverheadMs: 0.1, cpuMsPerMB: 5,
};

const positive = (what: string) => z.number({ invalid_type_error: `${what} must be a number` }).positive(`must be > 0`);
const nonNegative = (what: string) => z.number({ invalid_type_error: `${what} must be a number` }).nonnegative('must be >= 0');

const nodeSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name (lower case, digits, - and .)'),
  gflops: positive('gflops'),
  bandwidthMbps: positive('bandwidthMbps'),
  latencyMs: nonNegative('latencyMs'),
  perCallOverheadMs: nonNegative('perCallOverheadMs').default(DEFAULT_PER_CALL_OVERHEAD_MS),
  perRequestOverheadMs: nonNegative('perRequestOverheadMs').default(DEFAULT_PER_REQUEST_OVERHEAD_MS),
  perMessageOverheadMs: nonNegative('perMessageOverheadMs').default(DEFAULT_PER_MESSAGE_OVERHEAD_MS),
  cpuMsPerMB: nonNegative('cpuMsPerMB').default(DEFAULT_CPU_MS_PER_MB),
  memoryMiB: positive('memoryMiB').optional(),
  labels: z.record(z.string()).default({}),
}).strict();

const fileSchema = z.object({
  nodes: z.array(nodeSchema).min(1, 'must list at least one node'),
  sharedMedium: z.boolean().default(false),
  linkContention: z.boolean().default(DEFAULT_LINKS.linkContention),
  messageOverheadBytes: nonNegative('messageOverheadBytes').default(DEFAULT_LINKS.messageOverheadBytes),
  router: z.object({
    node: z.string().optional(),
    gflops: positive('gflops').optional(),
    bandwidthMbps: positive('bandwidthMbps').optional(),
    latencyMs: nonNegative('latencyMs').optional(),
    perCallOverheadMs: nonNegative('perCallOverheadMs').optional(),
    perRequestOverheadMs: nonNegative('perRequestOverheadMs').optional(),
    perMessageOverheadMs: nonNegative('perMessageOverheadMs').optional(),
    cpuMsPerMB: nonNegative('cpuMsPerMB').optional(),
  }).strict().optional(),
}).strict().superRefine((f, ctx) => {
  const seen = new Map<string, number>();
  f.nodes.forEach((n, i) => {
    if (seen.has(n.name)) {
      ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `duplicate node name "${n.name}" (also nodes[${seen.get(n.name)}])` });
    } else seen.set(n.name, i);
  });
  if (f.router?.node !== undefined && !seen.has(f.router.node)) {
    ctx.addIssue({ code: 'custom', path: ['router', 'node'], message: `"${f.router.node}" is not one of the nodes` });
  }
});

function fieldPath(path: (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(file)';
}

/** Parses and validates a cluster file; errors name the offending field, e.g. "nodes[2].bandwidthMbps: must be > 0". */
export function parseClusterYaml(text: string, source = 'cluster'): Cluster {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InvalidArgumentError(source, `not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (doc === null || typeof doc !== 'object') throw new InvalidArgumentError(source, 'expected a mapping with a "nodes" list');
  const r = fileSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0];
    let detail = i.message;
    if (i.code === 'too_small' && i.path.at(-1) !== 'nodes') {
      const value = i.path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)?.[k], doc);
      detail = `${i.message} (got ${JSON.stringify(value)})`;
    }
    throw new InvalidArgumentError(`${source}: ${fieldPath(i.path)}`, detail);
  }
  const f = r.data;
  return {
    nodes: f.nodes.map((n) => ({ ...n })),
    sharedMedium: f.sharedMedium,
    linkContention: f.linkContention,
    messageOverheadBytes: f.messageOverheadBytes,
    router: f.router?.node !== undefined
      ? { kind: 'node', node: f.router.node }
      : { kind: 'own', ...DEFAULT_ROUTER, ...stripUndefined(f.router ?? {}) },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

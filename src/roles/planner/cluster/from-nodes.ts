// Kubernetes Nodes -> planner node specs. Edge nodes opt in with the label
// edgesplit.io/edge=true and may describe themselves with labels; what they do
// not say is estimated from allocatable CPU with deliberately modest defaults.
import { DEFAULT_CPU_MS_PER_MB, DEFAULT_PER_CALL_OVERHEAD_MS, DEFAULT_PER_MESSAGE_OVERHEAD_MS, DEFAULT_PER_REQUEST_OVERHEAD_MS,
  DEFAULT_LINKS, DEFAULT_ROUTER } from './cluster-file.ts';
import type { Cluster, NodeSpec } from '../core/types.ts';

export const EDGE_LABEL = 'edgesplit.io/edge';
export const GFLOPS_LABEL = 'edgesplit.io/gflops';
export const BANDWIDTH_LABEL = 'edgesplit.io/bandwidth-mbps';
export const LATENCY_LABEL = 'edgesplit.io/latency-ms';
/** Optional service-path costs (cluster-file fields perCallOverheadMs, perRequestOverheadMs, perMessageOverheadMs, cpuMsPerMB). */
export const PER_CALL_OVERHEAD_LABEL = 'edgesplit.io/per-call-overhead-ms';
export const PER_REQUEST_OVERHEAD_LABEL = 'edgesplit.io/per-request-overhead-ms';
export const PER_MESSAGE_OVERHEAD_LABEL = 'edgesplit.io/per-message-overhead-ms';
export const CPU_MS_PER_MB_LABEL = 'edgesplit.io/cpu-ms-per-mb';
/** A small ARM core sustains about 2 GFLOPS on these convolutions. */
export const DEFAULT_GFLOPS_PER_CORE = 2;
/** Fast Ethernet. */
export const DEFAULT_BANDWIDTH_MBPS = 100;
export const DEFAULT_LATENCY_MS = 1;

/** The parts of a v1 Node the planner reads. */
export interface KubeNode {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}

export interface NodeReading {
  name: string;
  ready: boolean;
  spec: NodeSpec;
  /** Which numbers came from defaults rather than labels, for ListNodes and warnings. */
  defaulted: string[];
}

export function parseCpu(q: string | undefined): number | undefined {
  if (!q) return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

const UNITS: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};
export function parseMemoryBytes(q: string | undefined): number | undefined {
  if (!q) return undefined;
  const m = /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/.exec(q.trim());
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

function positiveLabel(labels: Record<string, string>, key: string, allowZero = false): number | undefined {
  const v = labels[key];
  if (v === undefined) return undefined;
  const x = Number(v);
  return Number.isFinite(x) && (allowZero ? x >= 0 : x > 0) ? x : undefined;
}

export function readNode(node: KubeNode): NodeReading | undefined {
  const name = node.metadata?.name;
  const labels = node.metadata?.labels ?? {};
  if (!name || labels[EDGE_LABEL] !== 'true') return undefined;
  const ready = !node.spec?.unschedulable &&
    (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const defaulted: string[] = [];
  const pick = (key: string, fallback: number, allowZero = false) => {
    const v = positiveLabel(labels, key, allowZero);
    if (v !== undefined) return v;
    defaulted.push(key);
    return fallback;
  };
  const cores = parseCpu(node.status?.allocatable?.cpu) ?? 1;
  const memory = parseMemoryBytes(node.status?.allocatable?.memory);
  return {
    name,
    ready,
    defaulted,
    spec: {
      name,
      gflops: pick(GFLOPS_LABEL, DEFAULT_GFLOPS_PER_CORE * cores),
      bandwidthMbps: pick(BANDWIDTH_LABEL, DEFAULT_BANDWIDTH_MBPS),
      latencyMs: pick(LATENCY_LABEL, DEFAULT_LATENCY_MS, true),
      // Optional labels: not reported in `defaulted` (they have defaults most users never change).
      perCallOverheadMs: positiveLabel(labels, PER_CALL_OVERHEAD_LABEL, true) ?? DEFAULT_PER_CALL_OVERHEAD_MS,
      perRequestOverheadMs: positiveLabel(labels, PER_REQUEST_OVERHEAD_LABEL, true) ?? DEFAULT_PER_REQUEST_OVERHEAD_MS,
      perMessageOverheadMs: positiveLabel(labels, PER_MESSAGE_OVERHEAD_LABEL, true) ?? DEFAULT_PER_MESSAGE_OVERHEAD_MS,
      cpuMsPerMB: positiveLabel(labels, CPU_MS_PER_MB_LABEL, true) ?? DEFAULT_CPU_MS_PER_MB,
      ...(memory !== undefined ? { memoryMiB: memory / 2 ** 20 } : {}),
      labels,
    },
  };
}

/** Ready edge nodes in name order (a stable order keeps plans stable), as a cluster. */
export function clusterFromNodes(nodes: KubeNode[], opts: { sharedMedium?: boolean } = {}): Cluster {
  const specs = nodes.map(readNode).filter((r): r is NodeReading => r !== undefined && r.ready)
    .map((r) => r.spec).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { nodes: specs, sharedMedium: opts.sharedMedium ?? false, ...DEFAULT_LINKS, router: { kind: 'own', ...DEFAULT_ROUTER } };
}

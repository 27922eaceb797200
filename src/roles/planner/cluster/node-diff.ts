import type { NodeReading } from './from-nodes.ts';

/** What the planner cares about in a node; anything else (heartbeats, other labels) is not a reason to re-plan. */
export function nodeSignature(r: NodeReading): string {
  const s = r.spec;
  return JSON.stringify([r.ready, s.gflops, s.bandwidthMbps, s.latencyMs, s.memoryMiB ?? null, s.perCallOverheadMs,
    s.perRequestOverheadMs ?? null, s.perMessageOverheadMs ?? null, s.cpuMsPerMB ?? null]);
}

/** Human reasons for re-planning, in node-name order; empty when nothing that matters changed. */
export function diffNodes(before: Map<string, NodeReading>, after: Map<string, NodeReading>): string[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: string[] = [];
  for (const name of names) {
    const a = before.get(name);
    const b = after.get(name);
    if (!a && b) out.push(`node ${name} joined${b.ready ? '' : ' (NotReady)'}`);
    else if (a && !b) out.push(`node ${name} left`);
    else if (a && b && nodeSignature(a) !== nodeSignature(b)) {
      if (a.ready !== b.ready) out.push(`node ${name} became ${b.ready ? 'Ready' : 'NotReady'}`);
      const changes: string[] = [];
      const num = (k: string, x: number | undefined, y: number | undefined) => {
        if (x !== y) changes.push(`${k} ${x ?? '-'}→${y ?? '-'}`);
      };
      num('gflops', a.spec.gflops, b.spec.gflops);
      num('bandwidthMbps', a.spec.bandwidthMbps, b.spec.bandwidthMbps);
      num('latencyMs', a.spec.latencyMs, b.spec.latencyMs);
      num('memoryMiB', a.spec.memoryMiB, b.spec.memoryMiB);
      num('perCallOverheadMs', a.spec.perCallOverheadMs, b.spec.perCallOverheadMs);
      num('perRequestOverheadMs', a.spec.perRequestOverheadMs, b.spec.perRequestOverheadMs);
      num('perMessageOverheadMs', a.spec.perMessageOverheadMs, b.spec.perMessageOverheadMs);
      num('cpuMsPerMB', a.spec.cpuMsPerMB, b.spec.cpuMsPerMB);
      if (changes.length) out.push(`node ${name} changed ${changes.join(', ')}`);
    }
  }
  return out;
}

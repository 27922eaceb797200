// The plan: one type, one schema, one serializer, used by the planner (its core's result turned into a Plan, the
// Plan/GetPlan RPCs), the edgesplit-plan ConfigMap, `edgesplit plan --json` and `apply --plan`, the router and the
// partitions. Deterministic for a given placement (no timestamps), so applying the same plan twice changes nothing.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidArgumentError } from './errors.ts';

const hostPort = z.string().regex(/^[^\s,]+:\d{1,5}$/, 'expected host:port');
const objectiveSchema = z.union([
  z.object({ mode: z.literal('latency'), accuracyFloor: z.number().min(0).max(1) }),
  z.object({ mode: z.literal('slo'), sloMs: z.number().positive() }),
]);

export const planSchema = z.object({
  /** Identifies what is deployed (package, policy, placement); see planHash. */
  planHash: z.string().min(1),
  package: z.string().min(1),
  /** The package's folder under the models directory. */
  packagePath: z.string().min(1),
  partitions: z.number().int().positive(),
  policyId: z.string().min(1),
  accuracy: z.number().min(0).max(1),
  assignments: z.array(z.object({ partition: z.number().int().nonnegative(), node: z.string().min(1) })).min(1),
  /** Each partition's address (host:port), in partition order; set where the plan is deployed (the ConfigMap). */
  peers: z.array(hostPort).optional(),
  predicted: z.object({ latencyMs: z.number(), computeMs: z.number(), transferMs: z.number(), exchangedBytes: z.number() }),
  objective: objectiveSchema,
  strategy: z.string(),
  alternatives: z.array(z.object({ package: z.string(), partitions: z.number(), policyId: z.string(), accuracy: z.number(),
    latencyMs: z.number().nullable(), nodes: z.array(z.string()), reason: z.string() })),
  explanation: z.string(),
}).passthrough()
  .refine((p) => p.assignments.length === p.partitions, { message: 'needs one entry per partition', path: ['assignments'] })
  .refine((p) => p.peers === undefined || p.peers.length === p.partitions, { message: 'needs one peer per partition', path: ['peers'] });

export type Plan = z.infer<typeof planSchema>;

/** Identifies what is deployed: package and placement, not predictions (which move with node specs). */
export function planHash(p: Pick<Plan, 'package' | 'policyId' | 'assignments'>): string {
  const key = JSON.stringify([p.package, p.policyId, p.assignments.map((a) => [a.partition, a.node])]);
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/** The one serialization (plan --json, the ConfigMap's plan.json, GetPlan's plan_json). */
export function serializePlan(p: Plan): string {
  return `${JSON.stringify(p, null, 2)}\n`;
}

/** Parses and validates a plan; errors name the source and the field (`plan.json: peers: ...`). */
export function parsePlan(text: string, source = 'plan.json'): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(source, `not JSON (${(e as Error).message})`);
  }
  const r = planSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new InvalidArgumentError(`${source}: ${i.path.join('.') || '(root)'}`, i.message);
  }
  if (r.data.planHash !== planHash(r.data)) {
    throw new InvalidArgumentError(`${source}: planHash`, `${r.data.planHash} is not the hash of its package and assignments (${planHash(r.data)})`);
  }
  return r.data;
}

/** A deployed plan's peers (router and partitions need them). */
export function peersOf(p: Plan, source = 'plan.json'): string[] {
  if (!p.peers) throw new InvalidArgumentError(`${source}: peers`, 'missing: the plan is not deployed (the ConfigMap plan carries them)');
  return p.peers;
}

/** Reads a plan file (`--plan FILE`). */
export function readPlanFile(path: string, flag = '--plan'): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(flag, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePlan(text, path);
}

/**
 * Polls a plan file (a ConfigMap volume is updated by an atomic symlink swap, which fs.watch misses) and
 * calls onChange with each new valid plan. An unreadable or invalid file keeps the last good plan.
 */
export class PlanWatcher {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private warnedMissing = false;

  private constructor(private readonly path: string, first: Plan | undefined, private readonly onChange: (p: Plan) => void,
    private readonly warn: (msg: string) => void, private readonly quietUntilFirst: boolean) {
    this.last = first?.planHash;
  }

  /**
   * `current` undefined: no plan yet, the first valid file is a change. `quietUntilFirst`: a missing file is said once,
   * not every poll (a fresh install waits for the planner for a while).
   */
  static start(path: string, current: Plan | undefined, onChange: (p: Plan) => void,
    opts: { intervalMs?: number; warn?: (msg: string) => void; quietUntilFirst?: boolean } = {}): PlanWatcher {
    const w = new PlanWatcher(path, current, onChange, opts.warn ?? ((m) => process.stderr.write(m + '\n')),
      opts.quietUntilFirst ?? false);
    w.timer = setInterval(() => w.poll(), opts.intervalMs ?? 2000);
    w.timer.unref();
    return w;
  }

  /** Exposed for tests: one poll now. */
  poll(): void {
    let plan: Plan;
    try {
      plan = readPlanFile(this.path);
      peersOf(plan, this.path);
    } catch (e) {
      if (this.last === undefined) {
        if (!this.quietUntilFirst || !this.warnedMissing) this.warn(`plan ${this.path}: waiting for a plan: ${(e as Error).message}`);
        this.warnedMissing = true;
      } else {
        this.warn(`plan ${this.path}: keeping plan ${this.last}: ${(e as Error).message}`);
      }
      return;
    }
    if (plan.planHash === this.last) return;
    this.last = plan.planHash;
    this.onChange(plan);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidArgumentError } from './errors.ts';

/** What router and partitions need from the planner's plan.json (the edgesplit-plan ConfigMap). */
export const planFileSchema = z.object({
  planHash: z.string().min(1),
  package: z.string().min(1),
  packagePath: z.string().min(1),
  partitions: z.number().int().positive(),
  peers: z.array(z.string().regex(/^[^\s,]+:\d{1,5}$/, 'expected host:port')).min(1),
}).passthrough().refine((p) => p.peers.length === p.partitions, { message: 'needs one peer per partition', path: ['peers'] });

export type PlanFile = z.infer<typeof planFileSchema>;

export function parsePlanFile(text: string, source = 'plan.json'): PlanFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(source, `not JSON (${(e as Error).message})`);
  }
  const r = planFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new InvalidArgumentError(`${source}: ${i.path.join('.') || '(root)'}`, i.message);
  }
  return r.data;
}

export function readPlanFile(path: string): PlanFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError('--plan', `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePlanFile(text, path);
}

/**
 * Polls a plan file (a ConfigMap volume is updated by an atomic symlink swap, which fs.watch misses) and
 * calls onChange with each new valid plan. An unreadable or invalid file keeps the last good plan.
 */
export class PlanWatcher {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private warnedMissing = false;

  private constructor(private readonly path: string, first: PlanFile | undefined, private readonly onChange: (p: PlanFile) => void,
    private readonly warn: (msg: string) => void, private readonly quietUntilFirst: boolean) {
    this.last = first?.planHash;
  }

  /**
   * `current` undefined: no plan yet, the first valid file is a change. `quietUntilFirst`: a missing file is said once,
   * not every poll (a fresh install waits for the planner for a while).
   */
  static start(path: string, current: PlanFile | undefined, onChange: (p: PlanFile) => void,
    opts: { intervalMs?: number; warn?: (msg: string) => void; quietUntilFirst?: boolean } = {}): PlanWatcher {
    const w = new PlanWatcher(path, current, onChange, opts.warn ?? ((m) => process.stderr.write(m + '\n')),
      opts.quietUntilFirst ?? false);
    w.timer = setInterval(() => w.poll(), opts.intervalMs ?? 2000);
    w.timer.unref();
    return w;
  }

  /** Exposed for tests: one poll now. */
  poll(): void {
    let plan: PlanFile;
    try {
      plan = readPlanFile(this.path);
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

// The local stack's counterpart of the Kubernetes controller's staged switch: each plan's partitions run as their
// own processes (per-plan ports, a per-plan plan file with their peers); a new plan starts beside the old one, the
// router (following its plan file) is moved once every new partition answers SERVING and confirms on
// grpc.health.v1 `edgesplit.plan.<hash>`, and only then are the old partitions stopped. No request is answered
// from a half-started plan.
import { renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitServing } from '../../runtime/health-client.ts';
import { serializePlan, type Plan } from '../../runtime/plan.ts';
import type { LiveDecision, PlanTarget } from '../../roles/planner/live-loop.ts';
import { backoffMs } from './stack.ts';

/** A serving process started on a node. */
export interface Launched {
  /** Resolves when the process has exited (with a description). */
  exited: Promise<string>;
  /** Its process id (for tools and tests). */
  pid?: number;
  alive(): boolean;
  stop(): Promise<void>;
}

/** Starts serving processes on the cluster's nodes: local child processes, or processes inside emulated devices. */
export interface NodeLauncher {
  /** The address a process on `node` listens on and is reached at. */
  host(node: string): string;
  /** A port free on that node's address. */
  port(node: string): Promise<number>;
  start(node: string, name: string, args: string[]): Launched;
}

export interface SwitchEvent {
  event: 'deployed' | 'switched' | 'switch-failed';
  at: string;
  from?: string;
  to: string;
  package: string;
  nodes: string[];
  reason: string;
  /** Seconds from the start of the switch: new partitions serving, router confirmed, old ones stopped. */
  readyS?: number;
  routerS?: number;
  doneS?: number;
  error?: string;
  decision?: LiveDecision;
}

interface Deployed {
  doc: Plan;
  addresses: string[];
  procs: Launched[];
  /** Set when the plan is being removed: its processes' exits are expected, not restarted. */
  stopped: boolean;
  timers: Set<NodeJS.Timeout>;
}

export interface LocalPlanDeployerOptions {
  launcher: NodeLauncher;
  /** Resolves a plan's packagePath (the router's --models-dir). */
  modelsDir: string;
  /** Where the plan files live (the router's is `router-plan.json`). */
  dir: string;
  /** The router's address, for the confirmation check. */
  router: () => string;
  /** Extra arguments for every partition. */
  partitionArgs?: string[];
  readyTimeoutMs?: number;
  routerTimeoutMs?: number;
  onEvent?: (e: SwitchEvent) => void;
  log?: (line: string) => void;
}

export class LocalPlanDeployer implements PlanTarget {
  private current: Deployed | undefined;
  private closed = false;

  constructor(private readonly o: LocalPlanDeployerOptions) {}

  get routerPlanPath(): string {
    return join(this.o.dir, 'router-plan.json');
  }

  deployed(): { doc: Plan; addresses: string[] } | undefined {
    return this.current ? { doc: this.current.doc, addresses: this.current.addresses } : undefined;
  }

  /** The deployed plan's partition process ids, in partition order (for tools and tests). */
  pids(): (number | undefined)[] {
    return this.current?.procs.map((p) => p.pid) ?? [];
  }

  /** The first plan: start its partitions, then write the router's plan file. */
  async deployFirst(doc: Plan, reason: string): Promise<void> {
    const t0 = Date.now();
    this.current = await this.startPlan(doc);
    this.writeAtomic(this.routerPlanPath, serializePlan({ ...doc, peers: this.current.addresses }));
    this.o.onEvent?.({ event: 'deployed', at: new Date().toISOString(), to: doc.planHash, package: doc.package,
      nodes: doc.assignments.map((a) => a.node), reason, readyS: (Date.now() - t0) / 1000 });
  }

  async switchTo(doc: Plan, reason: string, decision: LiveDecision): Promise<void> {
    const old = this.current;
    if (!old || old.doc.planHash === doc.planHash || this.closed) return;
    const t0 = Date.now();
    const secs = () => (Date.now() - t0) / 1000;
    let next: Deployed;
    try {
      next = await this.startPlan(doc);
    } catch (e) {
      this.o.onEvent?.({ event: 'switch-failed', at: new Date().toISOString(), from: old.doc.planHash, to: doc.planHash,
        package: doc.package, nodes: doc.assignments.map((a) => a.node), reason, error: (e as Error).message, decision });
      throw e;
    }
    const readyS = secs();
    this.writeAtomic(this.routerPlanPath, serializePlan({ ...doc, peers: next.addresses }));
    let routerS: number | undefined;
    try {
      await waitServing(this.o.router(), `edgesplit.plan.${doc.planHash}`, this.o.routerTimeoutMs ?? 60_000);
      routerS = secs();
    } catch (e) {
      this.o.log?.(`router did not confirm plan ${doc.planHash}: ${(e as Error).message}; stopping the old partitions anyway`);
    }
    this.current = next;
    // Requests the router sent to the old plan just before it switched finish there.
    await new Promise((r) => setTimeout(r, 1000));
    await this.stopPlan(old);
    this.o.onEvent?.({ event: 'switched', at: new Date().toISOString(), from: old.doc.planHash, to: doc.planHash, package: doc.package,
      nodes: doc.assignments.map((a) => a.node), reason, readyS, ...(routerS !== undefined ? { routerS } : {}), doneS: secs(), decision });
  }

  private async startPlan(doc: Plan): Promise<Deployed> {
    const L = this.o.launcher;
    const addresses: string[] = [];
    for (const a of doc.assignments) addresses.push(`${L.host(a.node)}:${await L.port(a.node)}`);
    const file = join(this.o.dir, `plan-${doc.planHash}.json`);
    this.writeAtomic(file, serializePlan({ ...doc, peers: addresses }));
    const pkgDir = resolve(this.o.modelsDir, doc.packagePath);
    const specs = doc.assignments.map((a, i) => ({ node: a.node, name: `${doc.planHash} partition ${a.partition}`, args: ['serve', 'partition',
      '--package', pkgDir, '--index', String(a.partition), '--plan', file, '--host', L.host(a.node),
      '--port', addresses[i].slice(addresses[i].lastIndexOf(':') + 1), ...(this.o.partitionArgs ?? [])] }));
    const procs = specs.map((s) => L.start(s.node, s.name, s.args));
    try {
      await Promise.all(addresses.map((addr, i) => waitServing(addr, '', this.o.readyTimeoutMs ?? 120_000, () => procs[i].alive())));
    } catch (e) {
      await Promise.all(procs.map((p) => p.stop()));
      throw e;
    }
    const d: Deployed = { doc, addresses, procs, stopped: false, timers: new Set() };
    specs.forEach((s, i) => this.supervise(d, i, s, 0));
    return d;
  }

  /**
   * As a kubelet would: a partition of a serving plan that exits is started again on its port (its peers and the
   * router address it there) after a back-off (1 s, doubling to 30 s while it keeps exiting quickly); meanwhile the
   * router answers degraded.
   */
  private supervise(d: Deployed, i: number, s: { node: string; name: string; args: string[] }, failures: number): void {
    const startedAt = Date.now();
    void d.procs[i].exited.then((why) => {
      if (d.stopped || this.closed) return;
      const n = Date.now() - startedAt >= 10_000 ? 0 : failures;
      const delay = backoffMs(n);
      this.o.log?.(`${why}; restarting it in ${(delay / 1000).toFixed(1)} s`);
      const t = setTimeout(() => {
        d.timers.delete(t);
        if (d.stopped || this.closed) return;
        d.procs[i] = this.o.launcher.start(s.node, s.name, s.args);
        this.o.log?.(`${s.name} restarted`);
        this.supervise(d, i, s, n + 1);
      }, delay);
      d.timers.add(t);
    });
  }

  private async stopPlan(d: Deployed): Promise<void> {
    d.stopped = true;
    for (const t of d.timers) clearTimeout(t);
    d.timers.clear();
    await Promise.all(d.procs.map((p) => p.stop()));
  }

  private writeAtomic(path: string, text: string): void {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }

  /** From now on an exiting partition is expected (the stack is stopping): nothing is restarted. Synchronous. */
  quiesce(): void {
    if (this.current) this.current.stopped = true;
  }

  /** Stops every partition of the deployed plan. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.current) await this.stopPlan(this.current);
  }
}

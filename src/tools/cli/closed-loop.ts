// `edgesplit up --planner`: the local stack with the planner in the loop. The planner core plans on a cluster
// file, the plan's partitions start (LocalPlanDeployer), the router follows a plan file, and the live calibration
// loop re-plans from what the partitions measure, switching plans without degraded answers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitServing } from '../../runtime/health-client.ts';
import { loadCatalog } from '../../roles/planner/catalog.ts';
import { parseClusterYaml } from '../../roles/planner/cluster/cluster-file.ts';
import { plan } from '../../roles/planner/core/search.ts';
import type { Cluster, Objective, PackageModel } from '../../roles/planner/core/types.ts';
import type { SwitchRule } from '../../roles/planner/core/hysteresis.ts';
import { LiveLoop, type LiveDecision } from '../../roles/planner/live-loop.ts';
import { GrpcPartitionStats } from '../../roles/planner/partition-stats.ts';
import { GrpcRouterStats } from '../../roles/planner/router-stats.ts';
import { toPlan } from '../../roles/planner/to-plan.ts';
import type { Launched, NodeLauncher, SwitchEvent } from './plan-deployer.ts';
import { LocalPlanDeployer } from './plan-deployer.ts';
import { freePort } from './stack.ts';

/** Four nodes on this machine, as a cluster file would give them, when --cluster is not given. */
export const LOCAL_CLUSTER: Cluster = {
  sharedMedium: false, router: { kind: 'own', gflops: 20, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0.1 },
  nodes: ['local0', 'local1', 'local2', 'local3'].map((name) => ({ name, gflops: 5, bandwidthMbps: 1000, latencyMs: 0.1, perCallOverheadMs: 0.05, labels: {} })),
};

export interface ClosedLoopOptions {
  modelsDir: string;
  clusterFile?: string;
  objective: Objective;
  /** Only packages whose policy exchanges (exchangedBytes > 0). */
  exchangingOnly?: boolean;
  launcher: NodeLauncher;
  /** Starts the router process (on this machine). */
  startRouter: (args: string[]) => Launched;
  host: string;
  intervalMs?: number;
  rule?: SwitchRule;
  onEvent?: (e: SwitchEvent | { event: 'decision'; decision: LiveDecision }) => void;
  log?: (line: string) => void;
}

export interface ClosedLoop {
  router: string;
  deployer: LocalPlanDeployer;
  loop: LiveLoop;
  /** Stops the loop, the router and every partition. Idempotent. */
  stop(): Promise<void>;
  /** Call on a stop signal, before the children see it: their exits are then not restarted. */
  quiesce(): void;
}

export async function startClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoop> {
  const loaded = await loadCatalog(join(o.modelsDir, 'catalog.json'));
  let packages: PackageModel[] = loaded.packages;
  if (o.exchangingOnly) packages = packages.filter((p) => p.exchangedBytes > 0);
  if (packages.length === 0) throw new Error(`${o.modelsDir}/catalog.json has no package to plan with${o.exchangingOnly ? ' that exchanges' : ''}`);
  const cluster = o.clusterFile ? parseClusterYaml(readFileSync(o.clusterFile, 'utf8'), o.clusterFile) : LOCAL_CLUSTER;
  const dir = mkdtempSync(join(tmpdir(), 'edgesplit-loop-'));
  const routerPort = await freePort(o.host);
  const router = `${o.host}:${routerPort}`;
  const deployer = new LocalPlanDeployer({ launcher: o.launcher, modelsDir: loaded.root, dir, router: () => router,
    partitionArgs: ['--default-timeout-ms', '60000'], onEvent: o.onEvent, log: o.log });
  let routerProc: Launched | undefined;
  let loop: LiveLoop | undefined;
  const stats = new GrpcPartitionStats();
  let routerStats: GrpcRouterStats | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    deployer.quiesce();
    await loop?.shutdown();
    stats.close();
    routerStats?.close();
    await routerProc?.stop();
    await deployer.shutdown();
    rmSync(dir, { recursive: true, force: true });
  })());
  try {
    const first = toPlan(plan(packages, cluster, o.objective), cluster);
    await deployer.deployFirst(first, 'planned from the cluster at start');
    routerProc = o.startRouter(['serve', 'router', '--plan', deployer.routerPlanPath, '--models-dir', loaded.root,
      '--host', o.host, '--port', String(routerPort), '--plan-poll-ms', '200', '--timeout-ms', '60000']);
    await waitServing(router, '', 120_000, () => routerProc!.alive());
    routerStats = new GrpcRouterStats(router);
    loop = LiveLoop.create({ prior: cluster, packages, objective: o.objective, source: stats, router: routerStats, intervalMs: o.intervalMs, rule: o.rule,
      target: {
        deployed: () => deployer.deployed(),
        switchTo: async (doc, reason, decision) => {
          await deployer.switchTo(doc, reason, decision);
          stats.keepOnly(deployer.deployed()?.addresses ?? []);
        },
      },
      onDecision: (decision) => o.onEvent?.({ event: 'decision', decision }), log: o.log });
  } catch (e) {
    await stop();
    throw e;
  }
  return { router, deployer, loop, stop, quiesce: () => deployer.quiesce() };
}

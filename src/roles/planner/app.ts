import type { DeployOptions } from './k8s/objects.ts';
// The planner process: config -> catalog -> controller (or local planner) -> gRPC server.
import { readFile } from 'node:fs/promises';
import { loadCatalog } from './catalog.ts';
import { parseClusterYaml } from './cluster/cluster-file.ts';
import { loadPlannerTls, type PlannerConfig } from './config.ts';
import { PlannerController } from './controller.ts';
import { KubeClusterApi } from './k8s/kube-cluster-api.ts';
import type { ClusterApi } from './k8s/cluster-api.ts';
import { LocalPlanner } from './local-planner.ts';
import { LiveLoop } from './live-loop.ts';
import { GrpcPartitionStats } from './partition-stats.ts';
import { GrpcRouterStats } from './router-stats.ts';
import { HealthRouterProbe, type RouterProbe } from './router-probe.ts';
import type { PlannerService } from './planner-service.ts';
import { createServer } from './server.ts';
import { tracedPlanner } from './telemetry.ts';
import { describeTls } from '../../runtime/tls.ts';
import type { RoleServer } from '../../runtime/role-server.ts';

export class PlannerApp {
  private closed = false;

  private constructor(readonly planner: PlannerService, readonly port: number, private readonly server: RoleServer,
    private readonly closers: (() => Promise<void>)[], /** 'off' | 'tls' | 'mtls' (no paths, no contents). */ readonly tls: string) {}

  /** api: inject a ClusterApi (tests); otherwise one is made from the config's kubeconfig or in-cluster credentials. */
  static async create(cfg: PlannerConfig, opts: { api?: ClusterApi; log?: (s: string) => void } = {}): Promise<PlannerApp> {
    const closers: (() => Promise<void>)[] = [];
    // Before anything starts: a missing or unreadable certificate fails the planner at once (errors name the variable).
    const tls = loadPlannerTls(cfg.tls);
    try {
      const { packages } = await loadCatalog(cfg.catalog);
      let planner: PlannerService;
      if (cfg.clusterFile) {
        planner = new LocalPlanner(packages, parseClusterYaml(await readFile(cfg.clusterFile, 'utf8'), cfg.clusterFile), cfg.objective);
      } else {
        let api = opts.api;
        if (!api) {
          const kube = await KubeClusterApi.create({ kubeconfig: cfg.kubeconfig });
          closers.push(() => kube.shutdown());
          api = kube;
        }
        let owner: DeployOptions['owner'];
        if (cfg.ownerDeployment) {
          const d = await api.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: cfg.ownerDeployment, namespace: cfg.namespace });
          owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: cfg.ownerDeployment, uid: String(d.metadata.uid) };
        }
        // Under TLS the router wants a client certificate the planner need not have: wait the grace instead of asking.
        const router: RouterProbe | undefined = cfg.routerAddress && !cfg.tls ? new HealthRouterProbe(cfg.routerAddress) : undefined;
        // Until the controller exists (it closes the probe at shutdown), a failed start must close it here.
        const closeRouter = async () => router?.close?.();
        closers.push(closeRouter);
        const controller = await PlannerController.create({
          api, packages, objective: cfg.objective, debounceMs: cfg.debounceMs, sharedMedium: cfg.sharedMedium, log: opts.log,
          ...(router ? { router } : {}), switchGraceMs: cfg.switchGraceMs, readyTimeoutMs: cfg.readyTimeoutMs,
          deploy: { namespace: cfg.namespace, image: cfg.image, modelsDir: cfg.modelsDir,
            ...(cfg.partitionTemplate ? { podTemplate: cfg.partitionTemplate } : {}), ...(owner ? { owner } : {}) },
        });
        closers.splice(closers.indexOf(closeRouter), 1);
        closers.unshift(() => controller.shutdown());
        planner = controller;
        // Live calibration reads Describe from the partitions; under TLS that needs a client certificate the
        // planner does not have, so it stays off there (as the router probe does).
        if (cfg.calibrateIntervalMs > 0 && !cfg.tls) {
          const stats = new GrpcPartitionStats();
          const routerStats = cfg.routerAddress ? new GrpcRouterStats(cfg.routerAddress) : undefined;
          const loop = LiveLoop.create({
            prior: () => controller.clusterNow(), packages, objective: cfg.objective, source: stats, intervalMs: cfg.calibrateIntervalMs,
            ...(routerStats ? { router: routerStats } : {}),
            target: {
              deployed: () => {
                const doc = controller.status().doc;
                return doc ? { doc, addresses: controller.partitionAddresses() } : undefined;
              },
              switchTo: async (doc, reason, decision) => {
                await controller.replanWith(doc, reason, decision as unknown as Record<string, unknown>);
                stats.keepOnly(controller.partitionAddresses());
              },
            },
            log: opts.log,
          });
          closers.unshift(async () => {
            await loop.shutdown();
            stats.close();
            routerStats?.close();
          });
        }
      }
      const server = createServer({ planner: tracedPlanner(planner), tls });
      const port = await server.listen('0.0.0.0', cfg.port);
      // NOT_SERVING until here: the catalog is loaded and the planner (or the controller, watching) exists.
      server.setServing('SERVING');
      return new PlannerApp(planner, port, server, closers, describeTls(tls));
    } catch (e) {
      for (const c of closers) await c();
      throw e;
    }
  }

  /** Health NOT_SERVING, tryShutdown (answers in flight finish), forceShutdown after graceMs, then the controller. */
  async shutdown(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.shutdown({ timeoutMs: graceMs });
    for (const c of this.closers) await c();
  }
}

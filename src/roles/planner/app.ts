import type { DeployOptions } from './k8s/objects.ts';
// The planner process: config -> catalog -> controller (or local planner) -> gRPC server.
import * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { loadCatalog } from './catalog.ts';
import { parseClusterYaml } from './cluster/cluster-file.ts';
import { loadPlannerTls, type PlannerConfig } from './config.ts';
import { PlannerController } from './controller.ts';
import { KubeClusterApi } from './k8s/kube-cluster-api.ts';
import type { ClusterApi } from './k8s/cluster-api.ts';
import { LocalPlanner } from './local-planner.ts';
import type { PlannerService } from './planner-service.ts';
import { createServer } from './server.ts';
import { tracedPlanner } from './telemetry.ts';
import { describeTls, serverCredentials } from '../../runtime/tls.ts';

export class PlannerApp {
  private closed = false;

  private constructor(readonly planner: PlannerService, readonly port: number, private readonly server: grpc.Server,
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
        const controller = await PlannerController.create({
          api, packages, objective: cfg.objective, debounceMs: cfg.debounceMs, sharedMedium: cfg.sharedMedium, log: opts.log,
          deploy: { namespace: cfg.namespace, image: cfg.image, modelsDir: cfg.modelsDir,
            ...(cfg.partitionTemplate ? { podTemplate: cfg.partitionTemplate } : {}), ...(owner ? { owner } : {}) },
        });
        closers.unshift(() => controller.shutdown());
        planner = controller;
      }
      const { server } = createServer({ planner: tracedPlanner(planner) });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`0.0.0.0:${cfg.port}`, serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))));
      return new PlannerApp(planner, port, server, closers, describeTls(tls));
    } catch (e) {
      for (const c of closers) await c();
      throw e;
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    for (const c of this.closers) await c();
  }
}

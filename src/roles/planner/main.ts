import { PlannerApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger } from '../../runtime/log.ts';
import { serveRole } from '../../runtime/serve-role.ts';

/** `edgesplit serve planner [--port N] [--cluster FILE] [--namespace NS] [--catalog FILE]`; flags override the environment. */
export async function servePlanner(argv: string[]): Promise<void> {
  const cfg = loadConfig(argv, process.env);
  const log = createLogger('planner');
  await serveRole({
    role: 'planner', log,
    telemetry: { service: 'edgesplit-planner' },
    async start() {
      const app = await PlannerApp.create(cfg, { log: (s) => log.info(s) });
      return {
        port: app.port,
        ready: { address: `0.0.0.0:${app.port}`, grpcService: 'edgesplit.v1.Planner',
          ...(cfg.clusterFile ? { mode: 'local', cluster: cfg.clusterFile } : { mode: 'kubernetes', namespace: cfg.namespace }),
          tls: app.tls },
        stop: () => app.shutdown(),
      };
    },
  });
}

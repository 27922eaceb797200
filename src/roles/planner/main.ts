import { parseArgs } from 'node:util';
import { PlannerApp } from './app.ts';
import { loadConfig } from './config.ts';
import { startTelemetry } from '../../runtime/telemetry/sdk.ts';

/** `edgesplit serve planner [--port N] [--cluster FILE] [--namespace NS] [--catalog FILE]`; flags override the environment. */
export async function servePlanner(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      port: { type: 'string' }, cluster: { type: 'string' }, namespace: { type: 'string' },
      catalog: { type: 'string' }, kubeconfig: { type: 'string' },
    },
  });
  const cfg = loadConfig({
    ...process.env,
    ...(values.port ? { EDGESPLIT_PLANNER_PORT: values.port } : {}),
    ...(values.cluster ? { EDGESPLIT_CLUSTER_FILE: values.cluster } : {}),
    ...(values.namespace ? { EDGESPLIT_NAMESPACE: values.namespace } : {}),
    ...(values.catalog ? { EDGESPLIT_CATALOG: values.catalog } : {}),
    ...(values.kubeconfig ? { KUBECONFIG: values.kubeconfig } : {}),
  });
  // Before the gRPC server exists: the tracing wrappers are chosen when it is created.
  const telemetry = await startTelemetry({ service: 'edgesplit-planner' });
  const app = await PlannerApp.create(cfg, { log: (s) => console.log(`[planner] ${s}`) });
  console.log(`[planner] serving edgesplit.v1.Planner on :${app.port} (${cfg.clusterFile ? `local mode, ${cfg.clusterFile}` : `namespace ${cfg.namespace}`}, tls ${app.tls})`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.shutdown();
  await telemetry.shutdown();
}

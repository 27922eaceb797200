import { HeadEngine } from '../../runtime/head.ts';
import { createLogger, errorText } from '../../runtime/log.ts';
import { serveRole } from '../../runtime/serve-role.ts';
import { loadConfig, type RouterConfig } from './config.ts';
import { describeTls } from '../../runtime/tls.ts';
import { createServer, routerDepsFromConfig } from './server.ts';
import { PlanWatcher } from '../../runtime/plan.ts';
import { configForPlan } from './plan-config.ts';

/** `edgesplit serve router ...`: one JSON ready line, serves until SIGTERM/SIGINT, then drains. */
export async function serveRouter(argv: string[]): Promise<void> {
  const config = loadConfig(argv, process.env);
  const log = createLogger('router');
  await serveRole({
    role: 'router', log,
    telemetry: { service: 'edgesplit-router', attributes: { 'edgesplit.package': config.pkg.manifest.name } },
    async start() {
      const router = createServer(await routerDepsFromConfig(config, HeadEngine));
      // Health turns SERVING when the partitions answer (the server's HealthMonitor), not at bind.
      const port = await router.listen(config.host, config.port);
      const m = config.pkg.manifest;
      // Planner mode: follow the plan ConfigMap; a new package or placement is swapped in without dropping requests.
      let current: RouterConfig = config;
      const planPath = config.planPath;
      const watcher = planPath && config.plan ? PlanWatcher.start(planPath, config.plan, (plan) => {
        void (async () => {
          try {
            const next = configForPlan(current, plan, planPath);
            await router.swap(await routerDepsFromConfig(next, HeadEngine));
            current = next;
            log.info({ planHash: plan.planHash, package: next.pkg.manifest.name, partitions: next.partitions }, 'plan changed');
          } catch (e) {
            log.warn({ planHash: plan.planHash, error: errorText(e) }, 'plan change not applied; keeping the current plan');
          }
        })();
      }, { intervalMs: config.planPollMs, warn: (msg) => log.warn(msg) }) : undefined;
      return {
        port,
        ready: { address: `${config.host}:${port}`, package: m.name, policyId: m.policy.id, partitions: config.partitions,
          strict: config.strict, tls: describeTls(config.tls) },
        async stop() {
          watcher?.stop();
          await router.shutdown();
        },
      };
    },
  });
}

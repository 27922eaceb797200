import { HeadEngine } from '../../runtime/head.ts';
import { createLogger, errorText } from '../../runtime/log.ts';
import { serveRole } from '../../runtime/serve-role.ts';
import { loadConfig, PlanNotReadyError, type RouterConfig, type RouterServerConfig } from './config.ts';
import { describeTls } from '../../runtime/tls.ts';
import { createServer, packageVersion, routerDepsFromConfig } from './server.ts';
import { PlanWatcher } from '../../runtime/plan.ts';
import { configForFirstPlan, configForPlan } from './plan-config.ts';

/** `edgesplit serve router ...`: one JSON ready line, serves until SIGTERM/SIGINT, then drains. */
export async function serveRouter(argv: string[]): Promise<void> {
  let config: RouterConfig | undefined;
  let waiting: PlanNotReadyError | undefined;
  try {
    config = loadConfig(argv, process.env);
  } catch (e) {
    // Planner mode before the planner has written the plan: serve NOT_SERVING and follow the file (below).
    if (!(e instanceof PlanNotReadyError)) throw e;
    waiting = e;
  }
  const server: RouterServerConfig = config ?? waiting!.server;
  const log = createLogger('router');
  await serveRole({
    role: 'router', log,
    telemetry: { service: 'edgesplit-router', attributes: config ? { 'edgesplit.package': config.pkg.manifest.name } : {} },
    async start() {
      const router = createServer(config ? await routerDepsFromConfig(config, HeadEngine) : {
        pending: `waiting for the plan file ${waiting!.planPath} (${waiting!.message})`, maxMessageBytes: server.maxMessageBytes,
        version: packageVersion(), maxBatch: server.maxBatch, defaultTimeoutMs: server.defaultTimeoutMs, tls: server.tls,
      });
      // Health turns SERVING when the partitions answer (the server's HealthMonitor), not at bind.
      const port = await router.listen(server.host, server.port);
      // Planner mode: follow the plan ConfigMap; a new package or placement is swapped in without dropping requests
      // (the first plan, when the router started without one, is swapped in the same way).
      let current = config;
      const planPath = server.planPath;
      // One swap at a time, in the order the plans came: a swap waits for its partitions to answer.
      let swaps: Promise<void> = Promise.resolve();
      const watcher = planPath ? PlanWatcher.start(planPath, config?.plan, (plan) => {
        swaps = swaps.then(async () => {
          try {
            const next = current ? configForPlan(current, plan, planPath) : configForFirstPlan(server, plan, planPath);
            await router.swap(await routerDepsFromConfig(next, HeadEngine));
            log.info({ planHash: plan.planHash, package: next.pkg.manifest.name, partitions: next.partitions },
              current ? 'plan changed' : 'plan loaded');
            current = next;
          } catch (e) {
            log.warn({ planHash: plan.planHash, error: errorText(e) },
              current ? 'plan change not applied; keeping the current plan' : 'plan not applied; still waiting for a usable plan');
          }
        });
      }, { intervalMs: server.planPollMs, warn: (msg) => log.warn(msg), quietUntilFirst: !config }) : undefined;
      const m = config?.pkg.manifest;
      return {
        port,
        ready: { address: `${server.host}:${port}`,
          ...(m && config ? { package: m.name, policyId: m.policy.id, partitions: config.partitions }
            : { waitingForPlan: waiting!.planPath, reason: waiting!.message }),
          strict: server.strict, tls: describeTls(server.tls) },
        async stop() {
          watcher?.stop();
          await router.shutdown();
        },
      };
    },
  });
}

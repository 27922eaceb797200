import { HeadEngine } from '../common/head.ts';
import { startTelemetry } from '../common/telemetry/sdk.ts';
import { loadConfig, PlanNotReadyError, type RouterConfig } from './config.ts';
import { describeTls } from '../common/tls.ts';
import { createServer, packageVersion, routerDepsFromConfig } from './server.ts';
import { PlanWatcher } from '../common/plan-file.ts';

/** `edgesplit serve router ...`: prints one JSON ready line, serves until SIGTERM/SIGINT, then drains. */
export async function serveRouter(argv: string[]): Promise<void> {
  let config: RouterConfig | undefined;
  let waiting: PlanNotReadyError | undefined;
  try {
    config = loadConfig(argv);
  } catch (e) {
    // Planner mode before the planner has written the plan: serve NOT_SERVING and follow the file (below).
    if (!(e instanceof PlanNotReadyError)) throw e;
    waiting = e;
  }
  const server = config ?? waiting!.server;
  // Before the partition clients and the server exist: the tracing wrappers are chosen when those are created.
  const telemetry = await startTelemetry({ service: 'edgesplit-router',
    attributes: config ? { 'edgesplit.package': config.pkg.manifest.name } : {} });
  const router = createServer(config ? await routerDepsFromConfig(config, HeadEngine) : {
    pending: `waiting for the plan file ${waiting!.planPath} (${waiting!.message})`, maxMessageBytes: server.maxMessageBytes,
    version: packageVersion(), maxBatch: server.maxBatch, defaultTimeoutMs: server.defaultTimeoutMs, tls: server.tls,
  });
  const port = await router.listen(server.host, server.port);
  const m = config?.pkg.manifest;
  process.stdout.write(JSON.stringify({ ready: 'router', address: `${server.host}:${port}`, port,
    ...(m && config ? { package: m.name, policyId: m.policy.id, partitions: config.partitions }
      : { waitingForPlan: waiting!.planPath, reason: waiting!.message }),
    strict: server.strict, tls: describeTls(server.tls) }) + '\n');
  // Planner mode: follow the plan ConfigMap; a new package or placement is swapped in without dropping requests
  // (the first plan, when the router started without one, is swapped in the same way).
  const watcher = server.planPath ? PlanWatcher.start(server.planPath, config?.plan, (plan) => {
    void (async () => {
      try {
        const next = loadConfig(argv);
        await router.swap(await routerDepsFromConfig(next, HeadEngine));
        process.stdout.write(JSON.stringify({ msg: config ? 'plan changed' : 'plan loaded', planHash: plan.planHash,
          package: next.pkg.manifest.name, partitions: next.partitions }) + '\n');
        config = next;
      } catch (e) {
        process.stderr.write(JSON.stringify({ msg: config ? 'plan change not applied; keeping the current plan'
          : 'plan not applied; still waiting for a usable plan', planHash: plan.planHash, error: (e as Error).message }) + '\n');
      }
    })();
  }, { intervalMs: server.planPollMs, quietUntilFirst: !config }) : undefined;
  await new Promise<void>((resolve) => {
    const stop = () => {
      watcher?.stop();
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void router.shutdown().then(() => telemetry.shutdown()).then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

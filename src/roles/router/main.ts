import { HeadEngine } from '../../runtime/head.ts';
import { startTelemetry } from '../../runtime/telemetry/sdk.ts';
import { loadConfig } from './config.ts';
import { describeTls } from '../../runtime/tls.ts';
import { createServer, routerDepsFromConfig } from './server.ts';
import { PlanWatcher } from '../../runtime/plan-file.ts';

/** `edgesplit serve router ...`: prints one JSON ready line, serves until SIGTERM/SIGINT, then drains. */
export async function serveRouter(argv: string[]): Promise<void> {
  const config = loadConfig(argv);
  // Before the partition clients and the server exist: the tracing wrappers are chosen when those are created.
  const telemetry = await startTelemetry({ service: 'edgesplit-router', attributes: { 'edgesplit.package': config.pkg.manifest.name } });
  const router = createServer(await routerDepsFromConfig(config, HeadEngine));
  const port = await router.listen(config.host, config.port);
  const m = config.pkg.manifest;
  process.stdout.write(JSON.stringify({ ready: 'router', address: `${config.host}:${port}`, port,
    package: m.name, policyId: m.policy.id, partitions: config.partitions, strict: config.strict,
    tls: describeTls(config.tls) }) + '\n');
  // Planner mode: follow the plan ConfigMap; a new package or placement is swapped in without dropping requests.
  const watcher = config.planPath && config.plan ? PlanWatcher.start(config.planPath, config.plan, (plan) => {
    void (async () => {
      try {
        const next = loadConfig(argv);
        await router.swap(await routerDepsFromConfig(next, HeadEngine));
        process.stdout.write(JSON.stringify({ msg: 'plan changed', planHash: plan.planHash, package: next.pkg.manifest.name,
          partitions: next.partitions }) + '\n');
      } catch (e) {
        process.stderr.write(JSON.stringify({ msg: 'plan change not applied; keeping the current plan', planHash: plan.planHash,
          error: (e as Error).message }) + '\n');
      }
    })();
  }, { intervalMs: config.planPollMs }) : undefined;
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

import { HeadEngine } from '../common/head.ts';
import { loadConfig } from './config.ts';
import { createServer, routerDepsFromConfig } from './server.ts';

/** `edgesplit serve router ...`: prints one JSON ready line, serves until SIGTERM/SIGINT, then drains. */
export async function serveRouter(argv: string[]): Promise<void> {
  const config = loadConfig(argv);
  const router = createServer(await routerDepsFromConfig(config, HeadEngine));
  const port = await router.listen(config.host, config.port);
  const m = config.pkg.manifest;
  process.stdout.write(JSON.stringify({ ready: 'router', address: `${config.host}:${port}`, port,
    package: m.name, policyId: m.policy.id, partitions: config.partitions }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void router.shutdown().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

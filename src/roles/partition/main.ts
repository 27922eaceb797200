import { createLogger, errorText } from '../../runtime/log.ts';
import { serveRole } from '../../runtime/serve-role.ts';
import { partitionObserver } from './telemetry.ts';
import { loadConfig } from './config.ts';
import { GrpcTransport } from './grpc-transport.ts';
import { PartitionRunner } from './runner.ts';
import { describeTls } from '../../runtime/tls.ts';
import { createServer } from './server.ts';

/** `edgesplit serve partition`: config -> runner -> server; one JSON ready line; graceful stop on SIGTERM/SIGINT. */
export async function servePartition(argv: string[]): Promise<void> {
  // Package, index, peers and TLS files are loaded and checked here (a UsageError names the flag).
  const cfg = loadConfig(argv, process.env);
  const { pkg, tls } = cfg;
  const P = pkg.manifest.partitions;
  const log = createLogger('partition');
  await serveRole({
    role: 'partition', log,
    telemetry: { service: 'edgesplit-partition', attributes: { 'edgesplit.partition': cfg.index, 'edgesplit.package': pkg.manifest.name } },
    async start({ telemetry }) {
      const transport = new GrpcTransport(cfg.peers, { maxMessageBytes: cfg.maxMessageBytes, tls,
        unary: cfg.pushCalls === 'unary' });
      const runner = await PartitionRunner.create({ pkg, index: cfg.index, transport, intraOpThreads: cfg.intraOpThreads, fuseUnits: cfg.fuseUnits,
        maxInFlight: cfg.maxInFlight, maxBatch: cfg.maxBatch, earlyPushTtlMs: cfg.earlyPushTtlMs, measure: cfg.measure,
        observer: partitionObserver(cfg.index, { unitEvents: telemetry.config.unitEvents === true }),
        onPushError: (err, to, point) => log.warn({ to, point, error: errorText(err) }, 'push failed') });
      const srv = createServer({ runner, peers: () => cfg.peers, defaultTimeoutMs: cfg.defaultTimeoutMs,
        maxMessageBytes: cfg.maxMessageBytes, tls });
      let port: number;
      try {
        port = await srv.listen(cfg.host, cfg.port);
      } catch (err) {
        transport.close();
        await runner.shutdown();
        throw err;
      }
      srv.ready();
      const d = runner.describe();
      return {
        port,
        ready: { package: d.package, policyId: d.policyId, index: cfg.index, partitions: P, host: cfg.host,
          address: `${cfg.host}:${port}`, gflops: d.gflops, perCallOverheadMs: d.perCallOverheadMs, pid: process.pid,
          tls: describeTls(tls) },
        stopping: () => ({ inFlight: runner.stats().inFlight }),
        async stop() {
          await srv.shutdown({ drainMs: cfg.drainMs });
          transport.close();
          await runner.shutdown();
          return { droppedPushes: runner.stats().droppedPushes };
        },
      };
    },
  });
  process.exitCode = 0;
}

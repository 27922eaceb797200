import { InvalidArgumentError } from '../common/errors.ts';
import { bindAsync } from '../common/grpc-server.ts';
import { loadPackage, resolvePackageDir } from '../common/manifest.ts';
import { startTelemetry } from '../common/telemetry/sdk.ts';
import { partitionObserver } from '../common/telemetry/partition.ts';
import { loadConfig } from './config.ts';
import { GrpcTransport } from './grpc-transport.ts';
import { PartitionRunner } from './runner.ts';
import { describeTls, loadTls, serverCredentials, tlsFilesFrom, TlsConfigError, type TlsMaterial } from '../common/tls.ts';
import { createServer } from './server.ts';

const log = (obj: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), service: 'partition', ...obj }) + '\n');
};

/** `edgesplit serve partition`: config -> runner -> server; one JSON line when ready; graceful stop on SIGTERM/SIGINT. */
export async function servePartition(argv: string[]): Promise<void> {
  const cfg = loadConfig(process.env, argv);
  const pkg = loadPackage(resolvePackageDir(cfg.package));
  const P = pkg.manifest.partitions;
  if (cfg.index >= P) throw new InvalidArgumentError('--index', `${cfg.index} is outside 0..${P - 1} for ${pkg.manifest.name}`);
  if (P > 1 && cfg.peers.length !== P) {
    throw new InvalidArgumentError('--peers', `expected ${P} addresses in partition order, got ${cfg.peers.length}`);
  }
  // Before any gRPC client or server exists: the tracing wrappers are chosen when those are created.
  const telemetry = await startTelemetry({ service: 'edgesplit-partition', attributes: { 'edgesplit.partition': cfg.index,
    'edgesplit.package': pkg.manifest.name } });
  let tls: TlsMaterial | undefined;
  try {
    tls = loadTls(tlsFilesFrom({ 'tls-cert': cfg.tlsCert, 'tls-key': cfg.tlsKey, 'tls-ca': cfg.tlsCa,
      'tls-require-client-cert': cfg.tlsRequireClientCert, 'tls-server-name': cfg.tlsServerName }, {}));
  } catch (e) {
    throw e instanceof TlsConfigError ? new InvalidArgumentError(e.flag, e.message.slice(e.flag.length + 2)) : e;
  }
  const transport = new GrpcTransport(cfg.peers, { maxMessageBytes: cfg.maxMessageBytes, tls,
    unary: cfg.pushCalls === 'unary' });
  const runner = await PartitionRunner.create({ pkg, index: cfg.index, transport, intraOpThreads: cfg.intraOpThreads,
    maxInFlight: cfg.maxInFlight, maxBatch: cfg.maxBatch, earlyPushTtlMs: cfg.earlyPushTtlMs, measure: cfg.measure,
    observer: partitionObserver(cfg.index),
    onPushError: (err, to, point) => log({ level: 'warn', msg: 'push failed', to, point,
      error: err instanceof Error ? err.message : String(err) }) });
  const srv = createServer({ runner, peers: () => cfg.peers, defaultTimeoutMs: cfg.defaultTimeoutMs,
    maxMessageBytes: cfg.maxMessageBytes });
  let port: number;
  try {
    port = await bindAsync(srv.server, cfg.host, cfg.port, serverCredentials(tls));
  } catch (err) {
    await runner.shutdown();
    throw err;
  }
  srv.ready();
  const d = runner.describe();
  log({ level: 'info', msg: 'ready', package: d.package, policyId: d.policyId, index: cfg.index, partitions: P,
    host: cfg.host, port, address: `${cfg.host}:${port}`, gflops: d.gflops, perCallOverheadMs: d.perCallOverheadMs,
    pid: process.pid, tls: describeTls(tls) });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log({ level: 'info', msg: 'stopping', signal, inFlight: runner.stats().inFlight });
      void (async () => {
        await srv.shutdown({ drainMs: cfg.drainMs });
        transport.close();
        await runner.shutdown();
        await telemetry.shutdown();
        log({ level: 'info', msg: 'stopped', droppedPushes: runner.stats().droppedPushes });
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.exitCode = 0;
}

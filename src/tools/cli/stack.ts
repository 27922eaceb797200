import { spawn, type ChildProcess } from 'node:child_process';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCatalog, loadPackage, MODELS_DIR, resolvePackageDir, type ModelPackage } from '../../runtime/manifest.ts';
import { waitServing } from '../../runtime/health-client.ts';
import { UsageError } from '../../runtime/errors.ts';
import { repoPath } from '../../runtime/paths.ts';

export const BIN = repoPath('bin', 'edgesplit.mjs');

/**
 * Node.js flags for serving processes (the image sets the same: NODE_OPTIONS and its entrypoint). A 1 MB young
 * generation instead of V8's 16 MB: a partition's garbage is short-lived (activations, frames), so scavenges stay
 * cheap and cache-warm, and V8 no longer answers ONNX output buffers with full collections (partition peak RSS
 * 130 -> 99 MB at the time, CPU per request within the noise). No concurrent recompilation: TurboFan otherwise
 * compiles on V8's worker threads, whose zones (20 MB at peak) each leave pages in that thread's malloc arena; on
 * the main thread they go back to the one heap (src/tools/bench/partition-rss.ts, 600 batch-1 requests on Node 24:
 * anonymous RSS 46 -> 26 MB, peak 148 -> 120 MB). The compiles it moves onto the main thread happen during the
 * warm-up; NODE_OPTIONS does not allow the flag, so the image passes it in its entrypoint.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=1', '--no-concurrent-recompilation'];

/**
 * The default package of a models directory: among those with the most partitions (P=4 for the shipped models),
 * the most accurate of those cutting >= 90% of the baseline's bytes.
 */
export function defaultPackageName(modelsDir = MODELS_DIR): string {
  const all = loadCatalog(join(modelsDir, 'catalog.json')).packages;
  if (all.length === 0) throw new Error(`${join(modelsDir, 'catalog.json')} lists no package`);
  const maxP = Math.max(...all.map((p) => p.partitions));
  const p4 = all.filter((p) => p.partitions === maxP);
  const lean = p4.filter((p) => p.reductionVsBaseline >= 0.9);
  const pool = lean.length ? lean : p4;
  return pool.reduce((a, b) => (b.testAccuracy > a.testAccuracy ? b : a)).name;
}

/** --package NAME|DIR, or the default; a bad name is a usage error naming the flag. */
export function resolvePackageFlag(value: string | undefined, modelsDir?: string): ModelPackage {
  if (modelsDir !== undefined && !existsSync(join(modelsDir, 'catalog.json'))) {
    throw new UsageError('--models-dir', `${modelsDir} holds no catalog.json (make one with training/pipeline.py ... --models_dir ${modelsDir})`);
  }
  try {
    return loadPackage(resolvePackageDir(value ?? defaultPackageName(modelsDir), modelsDir));
  } catch (e) {
    throw new UsageError('--package', (e as Error).message);
  }
}

/** Bytes per image of the same-P baseline policy (for "vs baseline" figures). */
export function baselineBytes(pkg: ModelPackage): number {
  const m = pkg.manifest;
  if (m.metrics.baselineBytes !== undefined) return m.metrics.baselineBytes;
  const own = join(dirname(pkg.dir), 'catalog.json');
  const b = loadCatalog(existsSync(own) ? own : undefined).packages.find((p) => p.partitions === m.partitions && p.policyId === 'baseline');
  return b?.exchangedBytes ?? 0;
}

/** A port the OS calls free right now (closed again before the child binds it; the window is tiny on loopback). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StackProcess {
  index: number;
  address: string;
  pid: number;
}

export interface Stack {
  router: string;
  routerPid: number;
  partitions: StackProcess[];
  /** Resolves when any child exits (with a description); the stack is then broken. Never resolves with `restart`. */
  childExit: Promise<string>;
  /** Restarts so far per child name ('partition 0', ..., 'router'), with `restart`. */
  restarts(): Record<string, number>;
  /** SIGTERM to every child, SIGKILL after `graceMs`; resolves once all have exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StackOptions {
  pkg: ModelPackage;
  host: string;
  startTimeoutMs?: number;
  /** Child stderr lines, prefixed with the role (default: dropped, kept for error messages). */
  log?: (line: string) => void;
  partitionArgs?: string[];
  routerArgs?: string[];
  /** false: partitions only (tests that run the router in-process); `router` is then ''. */
  withRouter?: boolean;
  /** Extra environment for every child (e.g. OTEL_* for tracing), over this process's own. */
  env?: NodeJS.ProcessEnv;
  /** Node.js flags for every child (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  /** Credentials for the readiness health checks when the stack serves TLS (src/runtime/tls.ts). */
  healthCredentials?: ChannelCredentials;
  healthChannelOptions?: ChannelOptions;
  /**
   * Supervise like a kubelet once the stack is up: a child that exits is started again on its port with
   * exponential back-off (the router answers degraded meanwhile); `stop()` ends supervision first.
   */
  restart?: RestartPolicy;
}

export interface RestartPolicy {
  /** First back-off (default 1 s); doubled after each quick exit, up to maxMs. */
  initialMs?: number;
  /** Longest back-off (default 30 s), as a kubelet's CrashLoopBackOff caps at 5 minutes. */
  maxMs?: number;
  /** A child that ran this long before exiting starts the back-off over (default 10 s). */
  resetAfterMs?: number;
  /** One line per exit and restart. */
  onEvent?: (line: string) => void;
}

/** The delay before restart number `failures` (0-based) of a child that keeps exiting quickly. */
export function backoffMs(failures: number, p: RestartPolicy = {}): number {
  return Math.min(p.maxMs ?? 30_000, (p.initialMs ?? 1000) * 2 ** failures);
}

export interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<string>;
  tail: string[];
  startedAt: number;
}

export function launch(name: string, args: string[], log?: (line: string) => void, env?: NodeJS.ProcessEnv,
  nodeArgs: string[] = []): Child {
  // EDGESPLIT_EXIT_WITH_PARENT: the child stops when its stdin closes, so even a killed `up` leaves nothing behind.
  const proc = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...nodeArgs, BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, EDGESPLIT_EXIT_WITH_PARENT: '1' } });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      log?.(`[${name}] ${line}`);
    }
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(`${name} (pid ${proc.pid}) exited with ${signal ?? `code ${code}`}`));
    proc.once('error', (err) => resolve(`${name} could not start: ${err.message}`));
  });
  return { name, proc, exited, tail, startedAt: Date.now() };
}

export async function stopAll(children: Child[], graceMs: number): Promise<void> {
  await Promise.all(children.map(async (c) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    c.proc.kill('SIGTERM');
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
    await c.exited;
    clearTimeout(timer);
  }));
}

/** Starts P partition processes and the router on local ports and waits until every one is SERVING. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const m = o.pkg.manifest;
  const P = m.partitions;
  const ports: number[] = [];
  for (let i = 0; i <= P; i++) ports.push(await freePort(o.host));
  const addresses = ports.slice(0, P).map((p) => `${o.host}:${p}`);
  const router = `${o.host}:${ports[P]}`;
  const children: Child[] = [];
  const specs: { name: string; args: string[] }[] = [];
  const restarts: Record<string, number> = {};
  const pending = new Set<NodeJS.Timeout>();
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000) => (stopping ??= (async () => {
    for (const t of pending) clearTimeout(t);
    pending.clear();
    await stopAll(children, graceMs);
  })());
  for (let i = 0; i < P; i++) {
    specs.push({ name: `partition ${i}`, args: ['serve', 'partition', '--package', o.pkg.dir, '--index', String(i),
      '--peers', addresses.join(','), '--host', o.host, '--port', String(ports[i]), ...(o.partitionArgs ?? [])] });
  }
  if (o.withRouter !== false) specs.push({ name: 'router', args: ['serve', 'router', '--package', o.pkg.dir, '--partitions', addresses.join(','),
    '--host', o.host, '--port', String(ports[P]), ...(o.routerArgs ?? [])] });
  // Kubernetes-style supervision: restart on the same port (peers and router address partitions by port).
  const supervise = (i: number, failures: number): void => {
    const c = children[i];
    void c.exited.then((why) => {
      if (stopping) return;
      const ranMs = Date.now() - c.startedAt;
      const n = ranMs >= (o.restart!.resetAfterMs ?? 10_000) ? 0 : failures;
      const delay = backoffMs(n, o.restart);
      o.restart!.onEvent?.(`${why}; restarting it in ${(delay / 1000).toFixed(1)} s`);
      const t = setTimeout(() => {
        pending.delete(t);
        if (stopping) return;
        children[i] = launch(specs[i].name, specs[i].args, o.log, o.env, o.nodeArgs);
        restarts[specs[i].name] = (restarts[specs[i].name] ?? 0) + 1;
        o.restart!.onEvent?.(`${specs[i].name} restarted (pid ${children[i].proc.pid}, restart ${restarts[specs[i].name]})`);
        supervise(i, n + 1);
      }, delay);
      pending.add(t);
    });
  };
  try {
    for (const spec of specs) children.push(launch(spec.name, spec.args, o.log, o.env, o.nodeArgs));
    const timeout = o.startTimeoutMs ?? 90_000;
    const firstExit = Promise.race(children.map((c) => c.exited.then((why) => ({ c, why }))));
    const ready = Promise.all([...addresses, router].slice(0, children.length).map((a, i) =>
      waitServing(a, '', timeout, () => children[i].proc.exitCode === null && children[i].proc.signalCode === null,
        o.healthCredentials, o.healthChannelOptions)));
    const r = await Promise.race([ready.then(() => null), firstExit]);
    if (r) throw new Error(`${r.why} before the stack was ready${r.c.tail.length ? `:\n  ${r.c.tail.slice(-8).join('\n  ')}` : ''}`);
  } catch (e) {
    await stop(3000);
    throw e;
  }
  if (o.restart) children.forEach((_, i) => supervise(i, 0));
  return {
    router: children[P] ? router : '', routerPid: children[P]?.proc.pid ?? 0,
    partitions: addresses.map((address, index) => ({ index, address, pid: children[index].proc.pid! })),
    childExit: o.restart ? new Promise<string>(() => {}) : Promise.race(children.map((c) => c.exited.then((why) =>
      `${why}${c.tail.length ? `:\n  ${c.tail.slice(-8).join('\n  ')}` : ''}`))),
    restarts: () => ({ ...restarts }),
    stop,
  };
}

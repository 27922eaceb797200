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
 * Node.js flags for serving processes (also NODE_OPTIONS in the image). A 1 MB young generation instead of V8's
 * 16 MB: a partition's garbage is short-lived (activations, frames), so scavenges stay cheap and cache-warm, and
 * V8 no longer answers ONNX output buffers with full collections. Measured on the local stack after 500 batch-1
 * requests: partition peak RSS 130 MB (16 MB) -> 114 MB (4 MB) -> 99 MB (1 MB); CPU per request changed less than
 * the run-to-run noise (src/tools/bench/profile-runtime.ts --no-profile, 800 requests each).
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=1'];

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
  /** Resolves when any child exits (with a description); the stack is then broken. */
  childExit: Promise<string>;
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
}

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<string>;
  tail: string[];
}

function launch(name: string, args: string[], log?: (line: string) => void, env?: NodeJS.ProcessEnv,
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
  return { name, proc, exited, tail };
}

async function stopAll(children: Child[], graceMs: number): Promise<void> {
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
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000) => (stopping ??= stopAll(children, graceMs));
  try {
    for (let i = 0; i < P; i++) {
      children.push(launch(`partition ${i}`, ['serve', 'partition', '--package', o.pkg.dir, '--index', String(i),
        '--peers', addresses.join(','), '--host', o.host, '--port', String(ports[i]), ...(o.partitionArgs ?? [])], o.log, o.env, o.nodeArgs));
    }
    if (o.withRouter !== false) children.push(launch('router', ['serve', 'router', '--package', o.pkg.dir, '--partitions', addresses.join(','),
      '--host', o.host, '--port', String(ports[P]), ...(o.routerArgs ?? [])], o.log, o.env, o.nodeArgs));
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
  return {
    router: children[P] ? router : '', routerPid: children[P]?.proc.pid ?? 0,
    partitions: addresses.map((address, index) => ({ index, address, pid: children[index].proc.pid! })),
    childExit: Promise.race(children.map((c) => c.exited.then((why) =>
      `${why}${c.tail.length ? `:\n  ${c.tail.slice(-8).join('\n  ')}` : ''}`))),
    stop,
  };
}

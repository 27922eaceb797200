// Child processes for the test harnesses: each logs to a file in one temp dir,
// a crash fails the waiting caller with the log tail, and nothing outlives the
// test process (killed on stop() and on exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export function toolsDir(): string {
  return process.env.EDGESPLIT_TOOLS ?? join(homedir(), '.cache', 'edgesplit', 'tools');
}

export function toolPath(name: string, dir = toolsDir()): string {
  return join(dir, 'bin', name);
}

/** A loopback port that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tailOf(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exit?: string;
}

const live = new Set<ProcessGroup>();
process.on('exit', () => {
  for (const g of live) g.killNow();
});

export class ProcessGroup {
  readonly dir: string;
  private readonly procs: Proc[] = [];
  private stopping?: Promise<void>;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    live.add(this);
  }

  start(name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): void {
    const log = join(this.dir, `${name}.log`);
    const fd = openSync(log, 'a');
    try {
      const child = spawn(bin, args, { cwd: this.dir, stdio: ['ignore', fd, fd], env: env ?? process.env });
      const p: Proc = { name, child, log };
      child.on('error', (e) => (p.exit = `failed to start: ${e.message}`));
      child.on('exit', (code, signal) => (p.exit = `exited with ${signal ?? `code ${code}`}`));
      this.procs.push(p);
    } finally {
      closeSync(fd);
    }
  }

  /** PIDs of the processes still running. */
  pids(): number[] {
    return this.procs.filter((p) => !p.exit && p.child.pid).map((p) => p.child.pid!);
  }

  logPath(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  /** Throws, with its log tail, if any process has ended while it should be running. */
  assertAlive(): void {
    if (this.stopping) throw new Error('process group is stopped');
    const dead = this.procs.find((p) => p.exit);
    if (dead) throw new Error(`${dead.name} ${dead.exit}; log tail:\n${tailOf(dead.log)}`);
  }

  /** Log tails of every process, for failure messages. */
  logs(lines = 30): string {
    return this.procs.map((p) => `--- ${p.name} (${p.exit ?? 'running'}) ${p.log}\n${tailOf(p.log, lines)}`).join('\n');
  }

  /** Polls check() until it returns a truthy value; a dead process or the deadline fails it. */
  async waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      this.assertAlive();
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}\n${this.logs()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const running = this.procs.filter((p) => !p.exit);
      const exited = running.map((p) => new Promise<void>((r) => (p.exit ? r() : p.child.once('exit', () => r()))));
      for (const p of running) p.child.kill('SIGTERM');
      const timer = setTimeout(() => running.forEach((p) => p.exit || p.child.kill('SIGKILL')), 5_000);
      await Promise.all(exited);
      clearTimeout(timer);
      rmSync(this.dir, { recursive: true, force: true });
      live.delete(this);
    })();
    return this.stopping;
  }

  killNow(): void {
    for (const p of this.procs) if (!p.exit) p.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

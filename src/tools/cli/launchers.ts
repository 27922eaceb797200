// Where the local stack's closed loop starts partitions: this machine's processes, or the emulated devices of
// scripts/edge-emulator.sh (the link-drop scenario runs the loop inside the emulator's ctl namespace).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../runtime/paths.ts';
import type { Launched, NodeLauncher } from './plan-deployer.ts';
import { BIN, freePort, launch, SERVE_NODE_FLAGS, stopAll } from './stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process exists (signal 0). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to a process group, SIGKILL after 5 s if its leader is still there (processes started with setsid). */
export async function stopProcessGroup(pid: number): Promise<void> {
  const alive = () => running(pid);
  try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < 50 && alive(); i++) await sleep(100);
  if (alive()) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

/** Every node is this machine: processes on `host`, free ports. */
export class LocalLauncher implements NodeLauncher {
  constructor(private readonly hostAddr: string, private readonly log?: (line: string) => void, private readonly env?: NodeJS.ProcessEnv) {}

  host(): string {
    return this.hostAddr;
  }

  port(): Promise<number> {
    return freePort(this.hostAddr);
  }

  start(_node: string, name: string, args: string[]): Launched {
    const c = launch(name, args, this.log, this.env);
    let done = false;
    void c.exited.then(() => { done = true; });
    return {
      exited: c.exited,
      pid: c.proc.pid,
      alive: () => !done,
      stop: () => stopAll([c], 10_000),
    };
  }
}

/** Nodes are the emulator's devices (devN): each process in its device's namespace and CPU quota. */
export class EmulatorLauncher implements NodeLauncher {
  private readonly ips = new Map<string, string>();
  private nextPort = 7200;
  private readonly script = repoPath('scripts', 'edge-emulator.sh');

  /**
   * mountNs: the mount namespace to run the emulator script in (`/proc/PID/ns/mnt` of a process outside the
   * emulator). Inside a device's or ctl's namespace `ip netns exec` has remounted /sys, which hides the cgroup
   * file system the script moves processes with.
   */
  constructor(private readonly prefix: string, private readonly logDir: string, private readonly mountNs?: string) {
    mkdirSync(logDir, { recursive: true });
  }

  private sh(args: string[]): string {
    const [cmd, pre] = this.mountNs ? ['nsenter', [`--mount=${this.mountNs}`, '--', this.script]] : [this.script, []];
    return execFileSync(cmd, [...pre, '--prefix', this.prefix, ...args], { encoding: 'utf8', env: { ...process.env, ES_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  }

  host(node: string): string {
    let ip = this.ips.get(node);
    if (!ip) this.ips.set(node, (ip = this.sh(['addr', node]).trim()));
    return ip;
  }

  async port(): Promise<number> {
    return this.nextPort++;
  }

  start(node: string, name: string, args: string[]): Launched {
    const log = join(this.logDir, `${name.replace(/[^A-Za-z0-9]+/g, '_')}.log`);
    const pid = Number(this.sh(['spawn', node, log, '--', process.execPath, ...SERVE_NODE_FLAGS, BIN, ...args]).trim());
    const alive = () => running(pid);
    const exited = (async () => {
      while (alive()) await sleep(250);
      return `${name} (pid ${pid}) exited; log ${log}`;
    })();
    return {
      exited, alive, pid,
      stop: () => stopProcessGroup(pid),
    };
  }
}

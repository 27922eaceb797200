import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VENV = join(ROOT, '.cache', 'tritonclient-venv');

/** A venv with tritonclient[grpc] (created once under .cache); null plus the reason when it cannot be made. */
export function tritonPython(): { python: string | null; reason: string } {
  const python = join(VENV, 'bin', 'python');
  const ok = () => existsSync(python) && spawnSync(python, ['-c', 'import tritonclient.grpc, numpy'], { stdio: 'ignore' }).status === 0;
  if (ok()) return { python, reason: '' };
  const base = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-m', 'venv', '--help'], { stdio: 'ignore' }).status === 0);
  if (!base) return { python: null, reason: 'no python3 with the venv module' };
  try {
    execFileSync(base, ['-m', 'venv', VENV], { stdio: 'pipe' });
    execFileSync(join(VENV, 'bin', 'pip'), ['install', '-q', 'tritonclient[grpc]', 'numpy'], { stdio: 'pipe', timeout: 300_000 });
  } catch (e) {
    return { python: null, reason: `installing tritonclient[grpc] failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() ?? (e as Error).message}` };
  }
  return ok() ? { python, reason: '' } : { python: null, reason: 'tritonclient installed but does not import' };
}

/** grpcurl as built by the test harness (go install) or on PATH. */
export function grpcurl(): string | null {
  const cands = [process.env.GRPCURL, join(homedir(), '.cache', 'edgesplit', 'tools', 'bin', 'grpcurl'), 'grpcurl'].filter(Boolean) as string[];
  return cands.find((c) => spawnSync(c, ['-version'], { stdio: 'ignore' }).status === 0) ?? null;
}

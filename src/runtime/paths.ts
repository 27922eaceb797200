import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root (the folder holding package.json, models/ and protos/), found by walking up from this module:
 * the same answer whether it runs from src/ through tsx or compiled from dist/src/.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'protos'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`edgesplit: no package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const REPO_ROOT = findRoot();

/** A path under the project root. */
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);

/** true when this code runs compiled from dist/ (not the TypeScript sources through tsx). */
export const RUNNING_FROM_DIST = /[\\/]dist[\\/]src[\\/]/.test(fileURLToPath(import.meta.url));

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Makes sure dist/ holds the current sources compiled (runs `npm run build` when it is missing or older), for tools
 * that start compiled helpers in other processes (the edge bench). In the image (no sources) it checks nothing.
 */
export function ensureBuilt(log: (line: string) => void = () => {}): void {
  const stamp = repoPath('dist', '.build-stamp');
  const sources = repoPath('src');
  if (!existsSync(sources)) return;
  if (existsSync(stamp) && newestSource(sources) <= statSync(stamp).mtimeMs) return;
  log('dist/ is missing or older than the sources: npm run build');
  execFileSync(process.execPath, [repoPath('scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

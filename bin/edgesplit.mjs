#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`): no TypeScript compiler in the serving processes. In a
// checkout whose sources are newer than the build (or never built), it runs the sources through tsx instead, so
// an edit is never silently ignored; tsx is a development dependency and the image ships dist/ only.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// The image ships Node 24 and CI tests on it (package.json engines). An older node still runs the CLI (a fresh machine's
// `npm ci && npm start` on Node 20 works), with one notice on stderr, once per process tree (children inherit the env).
if (Number(process.versions.node.split('.')[0]) < 24 && !process.env.EDGESPLIT_OLD_NODE_NOTICE) {
  process.env.EDGESPLIT_OLD_NODE_NOTICE = '1';
  process.stderr.write(`edgesplit: node ${process.version} is older than 24, the version the image ships and the tests run on; `
    + 'it should work, but only 24 is tested. For that one: export PATH="$(dirname "$(bash scripts/node-runtime.sh)"):$PATH"\n');
}
const stamp = join(root, 'dist', '.build-stamp');
const sources = join(root, 'src');

/** Newest mtime of the .ts files under dir (about 150 files: a millisecond or two). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function useDist() {
  if (process.env.EDGESPLIT_FROM_SOURCE === '1') return false;
  if (!existsSync(stamp)) return false;
  // The image has dist/ and no sources: nothing to compare.
  return !existsSync(sources) || newest(sources) <= statSync(stamp).mtimeMs;
}

let main;
if (useDist()) {
  ({ main } = await import(pathToFileURL(join(root, 'dist', 'src', 'tools', 'cli', 'main.js')).href));
} else {
  const { register } = await import('tsx/esm/api').catch(() => {
    process.stderr.write('edgesplit: dist/ is missing or older than the sources and tsx is not installed: run `npm run build`\n');
    process.exit(1);
  });
  register();
  ({ main } = await import(pathToFileURL(join(root, 'src', 'tools', 'cli', 'main.ts')).href));
}
await main(process.argv.slice(2));

#!/usr/bin/env node
// `npm run build`: tsc -p tsconfig.build.json into dist/, then the stamp bin/edgesplit.mjs compares with the
// sources' mtimes (so a stale dist/ is never run). Prints what it did and how long it took.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const t0 = Date.now();
const started = new Date();
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit', cwd: root });
mkdirSync(join(root, 'dist'), { recursive: true });
// The stamp carries the time the compile started: a source saved during the compile counts as newer.
writeFileSync(join(root, 'dist', '.build-stamp'), `${started.toISOString()}\n`);
const { utimesSync } = await import('node:fs');
utimesSync(join(root, 'dist', '.build-stamp'), started, started);
console.error(`build: dist/ compiled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

#!/usr/bin/env node
// Generates src/runtime/generated from protos/ with proto-loader-gen-types, using the same
// loader options the roles load the protos with (protos/loader-options.json).
// --check: regenerate into a temp dir and fail if the committed files differ.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, rmSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const opts = JSON.parse(readFileSync(join(root, 'protos/loader-options.json'), 'utf8'));
const check = process.argv.includes('--check');
const outDir = check ? mkdtempSync(join(tmpdir(), 'gen-')) : join(root, 'src/runtime/generated');
const protos = ['edgesplit/v1/tensor.proto', 'edgesplit/v1/partition.proto', 'edgesplit/v1/planner.proto', 'edgesplit/v1/router.proto',
  'inference/grpc_predict_v2.proto'].filter((p) => existsSync(join(root, 'protos', p)));
if (!check) rmSync(outDir, { recursive: true, force: true });
const args = [
  ...protos,
  ...(opts.keepCase ? ['--keepCase'] : []),
  `--longs=${opts.longs}`, `--enums=${opts.enums}`, `--bytes=${opts.bytes}`,
  ...(opts.defaults ? ['--defaults'] : []), ...(opts.oneofs ? ['--oneofs'] : []),
  '--grpcLib=@grpc/grpc-js', '--importFileExtension=.ts', `--outDir=${outDir}`, '--includeDirs=protos',
];
// Relative include paths keep the generated files' "Original file" comments free of the checkout's location.
execFileSync(join(root, 'node_modules/.bin/proto-loader-gen-types'), args, { stdio: 'inherit', cwd: root });

function files(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}
if (check) {
  const committed = join(root, 'src/runtime/generated');
  const a = files(outDir).map((f) => relative(outDir, f)).sort();
  const b = existsSync(committed) ? files(committed).map((f) => relative(committed, f)).sort() : [];
  const stale = a.filter((f) => !b.includes(f) || readFileSync(join(outDir, f), 'utf8') !== readFileSync(join(committed, f), 'utf8'));
  const extra = b.filter((f) => !a.includes(f));
  rmSync(outDir, { recursive: true, force: true });
  if (stale.length || extra.length) {
    console.error(`generated types are out of date (${[...stale, ...extra].join(', ')}): run npm run gen:types`);
    process.exit(1);
  }
  console.log('generated types are up to date');
}

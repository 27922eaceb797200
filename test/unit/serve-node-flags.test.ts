import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoPath } from '../../src/runtime/paths.ts';
import { SERVE_NODE_FLAGS } from '../../src/tools/cli/stack.ts';

const read = (...p: string[]) => readFileSync(repoPath(...p), 'utf8');

describe('SERVE_NODE_FLAGS (the serving processes\' node flags, locally and in the image)', () => {
  it('should give the image every flag, in NODE_OPTIONS or its entrypoint', () => {
    const dockerfile = read('Dockerfile');
    const nodeOptions = /NODE_OPTIONS=(\S+)/.exec(dockerfile)?.[1];
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    const umoci = read('scripts', 'build-image.sh');
    for (const flag of SERVE_NODE_FLAGS) {
      assert.ok(nodeOptions === flag || entrypoint.includes(flag), `Dockerfile lacks ${flag}`);
      assert.ok(umoci.includes(`NODE_OPTIONS=${flag}`) || umoci.includes(`--config.entrypoint=${flag}`), `build-image.sh lacks ${flag}`);
    }
    assert.deepEqual(entrypoint.at(-1), '/app/bin/edgesplit.mjs', 'node flags come before the script');
  });

  it('should give the emulated devices\' partitions and router the same flags', () => {
    const emulator = read('scripts', 'edge-emulator.sh');
    const launches = emulator.split('\n').filter((l) => l.includes('bin/edgesplit.mjs" serve'));
    assert.ok(launches.length >= 2);
    for (const l of launches) for (const flag of SERVE_NODE_FLAGS) assert.ok(l.includes(flag), `${l.trim()} lacks ${flag}`);
  });

  it('should only hold flags that node accepts', () => {
    assert.equal(execFileSync(process.execPath, [...SERVE_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' }), 'ok');
  });
});

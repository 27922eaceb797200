import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadPackage, MODELS_DIR, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { imagesOf, loadSample } from '../../src/runtime/sample.ts';
import sharp from 'sharp';
import { BIN } from '../../src/tools/cli/stack.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { logitTolerance } from '../claims.ts';

const PACKAGE = 'fmnist-p4-x-x-x-x-1au-x';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function cli(args: string[], timeoutMs = 240_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split('\n').pop() ?? '' };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  while (Date.now() < until && pids.some(alive)) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive);
}

describe('edgesplit CLI', function () {
  this.timeout(300_000);
  const pkg = loadPackage(resolvePackageDir(PACKAGE));

  it('should run the demo through the router and print the JSON summary last', () => {
    const r = cli(['demo', '--json', '--images', '50', '--package', PACKAGE]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.last);
    assert.deepEqual(Object.keys(s), ['package', 'partitions', 'policyId', 'images', 'accuracy', 'exchangedBytesPerImage',
      'p50Ms', 'p99Ms', 'maxAbsDiffVsReference']);
    assert.equal(s.package, PACKAGE);
    assert.equal(s.partitions, 4);
    assert.equal(s.images, 50);
    assert.ok(s.accuracy >= 0.8, `accuracy ${s.accuracy}`);
    assert.equal(s.exchangedBytesPerImage, pkg.manifest.metrics.exchangedBytes);
    assert.ok(s.maxAbsDiffVsReference <= logitTolerance(pkg), `max diff ${s.maxAbsDiffVsReference} > ${logitTolerance(pkg)}`);
    assert.ok(s.p50Ms > 0 && s.p99Ms >= s.p50Ms);
  });

  it('should evaluate a package in one process with the same fields', () => {
    const r = cli(['eval', '--json', '--images', '30', '--package', 'fmnist-p2-x-1bu-x-1au-x-x']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.last);
    assert.equal(s.partitions, 2);
    const p2 = loadPackage(resolvePackageDir('fmnist-p2-x-1bu-x-1au-x-x'));
    assert.equal(s.exchangedBytesPerImage, p2.manifest.metrics.exchangedBytes);
    assert.ok(s.maxAbsDiffVsReference <= logitTolerance(p2), `max diff ${s.maxAbsDiffVsReference} > ${logitTolerance(p2)}`);
  });

  for (const [args, flag] of [[['demo', '--images', 'many'], '--images'], [['eval', '--package', 'no-such'], '--package'],
    [['classify', '--samples', '0:5'], '--router'], [['classify', '--router', '127.0.0.1:1', '--samples', '9:2'], '--samples'],
    [['up', '--bogus'], '--bogus'], [['serve', 'router', '--package', PACKAGE, '--partitions', 'a:1'], '--partitions']] as const) {
    it(`should reject '${args.join(' ')}' with one line naming ${flag} and exit code 2`, () => {
      const r = cli([...args], 60_000);
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.includes(flag), r.stderr);
    });
  }

  for (const cmd of [['up'], ['demo'], ['classify'], ['eval'], ['plan'], ['apply'], ['bench'], ['bench', 'runtime'], ['serve'],
    ['serve', 'partition'], ['serve', 'router'], ['serve', 'planner']]) {
    it(`should answer 'edgesplit ${cmd.join(' ')} --help' with its usage and exit code 0`, () => {
      const r = cli([...cmd, '--help'], 60_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: edgesplit ${cmd.join(' ')} \\[options\\]`));
      assert.match(r.stdout, /-h, --help/);
    });
  }

  it('should name the variable when a role gets a bad value from the environment (exit code 2)', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', 'router', '--package', PACKAGE], { encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, EDGESPLIT_PARTITIONS: 'a:1,b:2,c:3,d:4', EDGESPLIT_MAX_BATCH: 'lots' } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^edgesplit serve router: EDGESPLIT_MAX_BATCH: /);
  });

  describe('up', () => {
    let up: ChildProcess | undefined;
    let ready: { router: string; partitions: { index: number; address: string; pid: number }[]; routerPid: number };
    const tmp = mkdtempSync(join(tmpdir(), 'edgesplit-cli-'));
    let upErr = '';

    before(async () => {
      up = spawn(process.execPath, [BIN, 'up', '--json', '--package', PACKAGE], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      up.stderr!.on('data', (d) => { err += d; upErr += d; });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: up!.stdout! }).once('line', resolve);
        up!.once('exit', (c) => reject(new Error(`up exited with ${c}: ${err}`)));
      });
      ready = JSON.parse(line);
    });

    after(() => {
      if (up && up.exitCode === null) up.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    });

    it('should print the router and one address and pid per partition', () => {
      assert.match(ready.router, /^127\.0\.0\.1:\d+$/);
      assert.deepEqual(ready.partitions.map((p) => p.index), [0, 1, 2, 3]);
      for (const p of ready.partitions) {
        assert.match(p.address, /^127\.0\.0\.1:\d+$/);
        assert.ok(alive(p.pid));
      }
    });

    it('should classify sample images, a PNG, a JPEG and a folder of them through the running router', async () => {
      const r = cli(['classify', '--router', ready.router, '--samples', '0:20', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.last);
      assert.equal(s.images, 20);
      assert.equal(s.labels.length, 20);
      assert.ok(s.accuracy >= 0.75);
      assert.equal(s.degraded, 0);
      const sample = loadSample();
      const png = join(tmp, 'sample1.png');
      const raw = { raw: { width: 28, height: 28, channels: 1 as const } };
      await sharp(Buffer.from(imagesOf(sample, 1, 2)), raw).png().toFile(png);
      const one = cli(['classify', '--router', ready.router, '--png', png, '--json']);
      assert.equal(one.code, 0, one.stderr);
      const j = JSON.parse(one.last);
      assert.equal(j.images, 1);
      assert.equal(j.accuracy, null);
      assert.deepEqual(j.labels, [JSON.parse(r.last).labels[1]]);
      // A folder: the PNG above, an RGB JPEG at another size (decoded to gray, resized) and a non-image file.
      const folder = join(tmp, 'images');
      mkdirSync(folder);
      await sharp(Buffer.from(imagesOf(sample, 1, 2)), raw).png().toFile(join(folder, 'a.png'));
      await sharp(Buffer.from(imagesOf(sample, 2, 3)), raw).resize(56, 56).toColourspace('srgb').jpeg({ quality: 95 }).toFile(join(folder, 'b.jpg'));
      writeFileSync(join(folder, 'notes.txt'), 'not an image');
      const many = cli(['classify', '--router', ready.router, folder]);
      assert.equal(many.code, 0, many.stderr);
      const lines = many.stdout.trim().split('\n');
      assert.equal(lines.length, 2, many.stdout);
      assert.match(lines[0], new RegExp(`a\\.png: ${escapeRe(j.labels[0])} \\(p=0\\.\\d{3}\\)$`));
      assert.match(lines[1], /b\.jpg: .+ \(p=[01]\.\d{3}\)$/);
      const bad = cli(['classify', '--router', ready.router, join(tmp, 'no-such.png')]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /images: .*no-such\.png: no such file or folder/);
      const corrupt = join(tmp, 'corrupt.png');
      writeFileSync(corrupt, 'not a png');
      const bad2 = cli(['classify', '--router', ready.router, corrupt]);
      assert.equal(bad2.code, 2);
      assert.match(bad2.stderr, /images: .*corrupt\.png: cannot decode it as an image/);
    });

    it('should restart a partition killed with SIGKILL while the router answers degraded, and answer in full again', async () => {
      const victim = ready.partitions[2];
      const sample = loadSample();
      const client = new OipClient(ready.router);
      let degraded = 0;
      let full = 0;
      const failures: string[] = [];
      try {
        process.kill(victim.pid, 'SIGKILL');
        const until = Date.now() + 60_000;
        // Bounded: at most a minute of requests, until full answers come back after degraded ones.
        while (Date.now() < until && !(degraded > 0 && full >= 3)) {
          try {
            const r = await client.classify(imagesOf(sample, 0, 1), 1, { timeoutMs: 5000 });
            if (r.degraded) degraded++;
            else if (degraded > 0) full++;
          } catch (e) {
            failures.push((e as Error).message);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        client.close();
      }
      assert.deepEqual(failures, []);
      assert.ok(degraded > 0, 'no degraded answer while partition 2 was down');
      assert.ok(full >= 3, `no full answers after the restart (${degraded} degraded)`);
      assert.match(upErr, new RegExp(`partition 2 \\(pid ${victim.pid}\\) exited with SIGKILL; restarting it in 1\\.0 s`));
      assert.match(upErr, /partition 2 restarted \(pid \d+, restart 1\)/);
      assert.ok(alive(ready.routerPid) && alive(ready.partitions[0].pid), 'the rest of the stack kept running');
    });

    it('should stop every child on SIGTERM and leave no process behind', async () => {
      // The children now (the restarted partition has a new pid).
      const pids = readFileSync(`/proc/${up!.pid}/task/${up!.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      assert.equal(pids.length, 5, `children of up: ${pids.join(' ')}`);
      const exited = new Promise<number | null>((resolve) => up!.once('exit', (c) => resolve(c)));
      up!.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.deepEqual(await waitGone(pids, 5000), []);
    });
  });

  it('should exit non-zero with a clear error and stop everything when a partition dies at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgesplit-broken-'));
    try {
      cpSync(join(MODELS_DIR, PACKAGE), dir, { recursive: true });
      // Every model file partition 2 could load (its units and its fused runs of units).
      for (const f of readdirSync(join(dir, 'p2'), { recursive: true, encoding: 'utf8' })) {
        if (f.endsWith('.onnx')) writeFileSync(join(dir, 'p2', f), 'not an onnx model');
      }
      const before = new Set(spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean));
      const r = cli(['up', '--json', '--package', dir], 120_000);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout.trim(), '');
      assert.match(r.stderr, /partition 2 \(pid \d+\) exited/);
      const left = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p && !before.has(p));
      assert.deepEqual(left, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

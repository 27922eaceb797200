import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The test run's own tooling: the summary reporter that lets scripts/test.sh count skipped tests with their reasons,
// and the README figures check.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('test tooling', function () {
  this.timeout(60_000);
  const tmp = mkdtempSync(join(tmpdir(), 'edgesplit-tooling-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('should report every skipped test with the reason skipBecause gave, and none for a bare skip', () => {
    const summary = join(tmp, 'summary.json');
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/mocha/bin/mocha.js'), '--no-config', '-n', 'import=tsx',
      '--extension', 'ts', '--reporter', './scripts/mocha-summary-reporter.cjs', 'test/fixtures/skips.fixture.ts'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, EDGESPLIT_TEST_SUMMARY: summary } });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(readFileSync(summary, 'utf8'));
    assert.equal(j.passes, 1);
    assert.equal(j.failures, 0);
    assert.deepEqual(j.pending.map((p: { title: string; reason: string | null }) => [p.title.replace(/^fixture: /, ''), p.reason]), [
      ['skipped from a hook should not run (hook skip)', 'needs a GPU'],
      ['skipped from a hook nested should not run either', 'needs a GPU'],
      ['skipped in a test should skip with a reason', 'needs a unicorn'],
      ['skipped in a test should skip without a reason', null],
    ]);
  });

  describe('scripts/check-readme-figures.ts', () => {
    const check = (markdown: string) => {
      const file = join(tmp, `doc-${Math.random().toString(36).slice(2)}.md`);
      writeFileSync(file, markdown);
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-readme-figures.ts', file], { cwd: ROOT, encoding: 'utf8' });
      return { code: r.status, out: r.stdout + r.stderr };
    };
    const degradation = JSON.parse(readFileSync(join(ROOT, 'bench/results/degradation.json'), 'utf8'));
    const runtime = JSON.parse(readFileSync(join(ROOT, 'bench/results/runtime.json'), 'utf8'));

    it('should pass the repository\'s README and docs as they are', () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-readme-figures.ts'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it('should accept a figure equal to its JSON at the decimals written and refuse one that drifted', () => {
      const p50 = runtime.inProcessP50Ms as number;
      assert.equal(check(`p50 ${p50.toFixed(2)}<!--fig runtime.inProcessP50Ms--> ms, ${p50.toFixed(0)}<!--fig runtime.inProcessP50Ms--> ms\n`).code, 0);
      const bad = check(`line one\np50 ${(p50 + 0.1).toFixed(2)}<!--fig runtime.inProcessP50Ms--> ms\n`);
      assert.equal(bad.code, 1);
      assert.match(bad.out, /:2: README says [\d.]+, runtime\.inProcessP50Ms gives/);
      assert.equal(check('x 1.0<!--fig no.such.value--> ms\n').code, 1);
    });

    it('should refuse an unmarked figure inside a figures region and accept input and unchecked markers', () => {
      assert.equal(check('<!--figures-->\ntarget 0.8<!--fig input-->x, about 30<!--fig unchecked: by hand--> MB, `--x 1.5`\n<!--/figures-->\n').code, 0);
      const r = check('<!--figures-->\nsomething took 12.5 ms\n<!--/figures-->\nbut 3.5 ms outside is not checked\n');
      assert.equal(r.code, 1);
      assert.match(r.out, /:2: unmarked figure '12\.5'/);
      assert.doesNotMatch(r.out, /'3\.5'/);
      assert.equal(check('<!--figures-->\n30<!--fig unchecked--> MB\n<!--/figures-->\n').code, 1, 'unchecked needs a reason');
    });

    it('should compare every cell of a degradation table', () => {
      const d = degradation.packages.find((p: { package: string }) => p.package === degradation.defaultPackage);
      const cell = (v: number) => `${(v * 100).toFixed(1)}%`;
      const table = (p1: string) => `<!--fig-table degradation-->\n| package | all up | p0 down | p1 down | p2 down | p3 down |\n|---|---|---|---|---|---|\n` +
        `| ${d.package} (default) | ${cell(d.full)} | ${cell(d.missing[0].accuracy)} | ${p1} | ${cell(d.missing[2].accuracy)} | ${cell(d.missing[3].accuracy)} |\n`;
      assert.equal(check(table(cell(d.missing[1].accuracy))).code, 0);
      const r = check(table(cell(d.missing[1].accuracy + 0.01)));
      assert.equal(r.code, 1);
      assert.match(r.out, /p1 down: README says/);
    });
  });
});

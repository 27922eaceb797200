import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlanFile, PlanWatcher, readPlanFile } from '../../src/runtime/plan-file.ts';
import { InvalidArgumentError } from '../../src/runtime/errors.ts';

const plan = (hash: string, peers = ['edgesplit-p0.ns.svc:50051', 'edgesplit-p1.ns.svc:50051']) => JSON.stringify({
  planHash: hash, package: 'fmnist-p2-none', packagePath: 'fmnist-p2-none', partitions: peers.length, peers, extra: 1 });

describe('plan file', () => {
  it('should parse the planner ConfigMap plan and keep unknown fields', () => {
    const p = parsePlanFile(plan('abc'));
    assert.deepEqual(p.peers, ['edgesplit-p0.ns.svc:50051', 'edgesplit-p1.ns.svc:50051']);
    assert.equal(p.package, 'fmnist-p2-none');
  });

  it('should name the field when the peers do not match the partitions', () => {
    const bad = JSON.stringify({ ...JSON.parse(plan('abc')), partitions: 3 });
    assert.throws(() => parsePlanFile(bad, 'plan.json'), (e: unknown) =>
      e instanceof InvalidArgumentError && e.message === 'plan.json: peers: needs one peer per partition');
  });

  it('should report an unreadable file as a --plan error', () => {
    assert.throws(() => readPlanFile('/nonexistent/plan.json'), /--plan: cannot read \/nonexistent\/plan.json \(ENOENT\)/);
  });

  it('should call back on a new plan only and keep the last good plan on a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    const path = join(dir, 'plan.json');
    writeFileSync(path, plan('h1'));
    const seen: string[] = [];
    const warnings: string[] = [];
    const w = PlanWatcher.start(path, readPlanFile(path), (p) => seen.push(p.planHash), { intervalMs: 60_000, warn: (m) => warnings.push(m) });
    w.poll();
    writeFileSync(path, '{broken');
    w.poll();
    writeFileSync(path, plan('h2'));
    w.poll();
    w.poll();
    w.stop();
    assert.deepEqual(seen, ['h2']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /keeping plan h1/);
  });
});

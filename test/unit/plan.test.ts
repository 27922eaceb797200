import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan, peersOf, planHash, PlanWatcher, readPlanFile, serializePlan, type Plan } from '../../src/runtime/plan.ts';
import { InvalidArgumentError } from '../../src/runtime/errors.ts';

/** A deployed plan of fmnist-p2-none on the given nodes. */
function plan(nodes = ['edge-a', 'edge-b'], peers: string[] | null = ['edgesplit-p0.ns.svc:50051', 'edgesplit-p1.ns.svc:50051']): Plan {
  const assignments = nodes.map((node, partition) => ({ partition, node }));
  return {
    planHash: planHash({ package: 'fmnist-p2-none', policyId: 'none', assignments }), package: 'fmnist-p2-none',
    packagePath: 'fmnist-p2-none', partitions: nodes.length, policyId: 'none', accuracy: 0.92, assignments,
    ...(peers ? { peers } : {}),
    predicted: { latencyMs: 7, computeMs: 6, transferMs: 1, exchangedBytes: 0 },
    objective: { mode: 'latency', accuracyFloor: 0.9 }, strategy: 'exact', alternatives: [], explanation: 'test',
  };
}

const rejects = (text: string, message: string) => assert.throws(() => parsePlan(text, 'plan.json'), (e: unknown) => {
  assert.ok(e instanceof InvalidArgumentError, String(e));
  assert.equal(e.message, message);
  return true;
});

describe('plan (one type, schema and serializer)', () => {
  it('should round-trip through the serializer and keep unknown fields', () => {
    const p = { ...plan(), extra: 1 };
    assert.deepEqual(parsePlan(serializePlan(p)), p);
    assert.deepEqual(peersOf(parsePlan(serializePlan(p))), ['edgesplit-p0.ns.svc:50051', 'edgesplit-p1.ns.svc:50051']);
  });

  it('should hash only package, policy and placement', () => {
    const a = plan();
    assert.equal(planHash(a), planHash({ ...a, explanation: 'other' } as Plan));
    assert.notEqual(planHash(a), planHash(plan(['edge-b', 'edge-a'])));
    assert.match(planHash(a), /^[0-9a-f]{12}$/);
  });

  it('should name the field of a bad plan', () => {
    rejects(JSON.stringify({ ...plan(), partitions: 3 }), 'plan.json: assignments: needs one entry per partition');
    rejects(JSON.stringify({ ...plan(), peers: ['a:1'] }), 'plan.json: peers: needs one peer per partition');
    rejects(JSON.stringify({ ...plan(), peers: ['no-port', 'b:2'] }), 'plan.json: peers.0: expected host:port');
    rejects(JSON.stringify({ ...plan(), planHash: 'abc' }), `plan.json: planHash: abc is not the hash of its package and assignments (${plan().planHash})`);
    assert.throws(() => parsePlan('{broken', 'plan.json'), /^InvalidArgumentError: plan\.json: not JSON \(/);
    assert.throws(() => peersOf(plan(undefined, null)), /plan.json: peers: missing/);
  });

  it('should report an unreadable file as a --plan error', () => {
    assert.throws(() => readPlanFile('/nonexistent/plan.json'), /--plan: cannot read \/nonexistent\/plan.json \(ENOENT\)/);
  });

  it('should call back on a new plan only and keep the last good plan on a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    const path = join(dir, 'plan.json');
    const first = plan();
    const second = plan(['edge-b', 'edge-a']);
    writeFileSync(path, serializePlan(first));
    const seen: string[] = [];
    const warnings: string[] = [];
    const w = PlanWatcher.start(path, readPlanFile(path), (p) => seen.push(p.planHash), { intervalMs: 60_000, warn: (m) => warnings.push(m) });
    w.poll();
    writeFileSync(path, '{broken');
    w.poll();
    writeFileSync(path, serializePlan(second));
    w.poll();
    w.poll();
    w.stop();
    assert.deepEqual(seen, [second.planHash]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`keeping plan ${first.planHash}`));
  });
});

import assert from 'node:assert/strict';
import { PlannerController } from '../../src/roles/planner/controller.ts';
import { UnavailableError } from '../../src/runtime/errors.ts';
import { edgeNode, FakeClusterApi } from '../fakes/fake-cluster-api.ts';
import { EXCHANGE_AFTER_BLOCK0, syntheticPackage } from '../fakes/packages.ts';

const packages = [
  syntheticPackage({ partitions: 1, name: 'one', accuracy: 0.93, stemFlops: 2e6, blockFlops: [4e6, 4e6, 4e6] }),
  syntheticPackage({ partitions: 2, name: 'two', accuracy: 0.928, exchanges: [EXCHANGE_AFTER_BLOCK0] }),
];
const fast = (gflops: string) => ({ 'edgesplit.io/gflops': gflops, 'edgesplit.io/bandwidth-mbps': '1000', 'edgesplit.io/latency-ms': '0.1' });

async function until(f: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('planner controller', () => {
  let api: FakeClusterApi;
  let c: PlannerController | undefined;

  beforeEach(() => {
    api = new FakeClusterApi();
    api.nodes = [edgeNode('a', fast('0.001')), edgeNode('b', fast('0.001')), edgeNode('c', fast('0.0015'))];
  });
  afterEach(async () => {
    await c?.shutdown();
    await c?.shutdown(); // idempotent
  });

  const create = async () => (c = await PlannerController.create({
    api, packages, objective: { mode: 'latency' }, deploy: { namespace: 'ns', image: 'img' }, debounceMs: 20,
  }));

  it('should plan and apply at start and record why', async () => {
    await create();
    const s = c!.status();
    assert.equal(s.doc?.package, 'two');
    assert.equal(s.lastReason, 'planner started');
    assert.equal(s.lastError, '');
    assert.ok(api.objects.has('Deployment/edgesplit-p1'));
    assert.deepEqual(api.events.map((e) => [e.type, e.reason, e.involved.name]), [['Normal', 'Replanned', 'edgesplit-plan']]);
  });

  it('should re-place a partition when its node goes NotReady, once per burst of changes', async () => {
    await create();
    const before = c!.status().doc!.assignments.map((a) => a.node);
    const victim = before[0];
    api.setNode(edgeNode(victim, fast(victim === 'c' ? '0.0015' : '0.001'), { ready: false }));
    api.setNode(edgeNode(victim, { ...fast('0.001'), unrelated: 'x' }, { ready: false }));
    await until(() => c!.status().lastReason.includes('NotReady'), 're-plan');
    await c!.idle();
    const after = c!.status().doc!.assignments.map((a) => a.node);
    assert.ok(!after.includes(victim), `${victim} still used: ${after}`);
    assert.equal(c!.status().lastReason, `node ${victim} became NotReady`);
    assert.equal(api.events.filter((e) => e.reason === 'Replanned').length, 2);
  });

  it('should keep the last good plan and say why it could not re-plan', async () => {
    await create();
    const hash = c!.status().hash;
    api.failApply = new UnavailableError('cannot reach the Kubernetes API server at https://x: apply failed (ECONNREFUSED)');
    api.setNode(edgeNode('d', fast('1')));
    await until(() => c!.status().lastError !== '', 'failure');
    const s = c!.status();
    assert.equal(s.hash, hash);
    assert.equal(s.lastError, `could not re-plan (node d joined): cannot reach the Kubernetes API server at https://x: apply failed (ECONNREFUSED); keeping plan ${hash} (two)`);
    assert.equal(api.events.at(-1)?.reason, 'ReplanFailed');
  });

  it('should refuse to plan with no Ready edge node but keep running', async () => {
    api.nodes = [edgeNode('a', {}, { ready: false })];
    await create();
    assert.equal(c!.status().doc, undefined);
    assert.match(c!.status().lastError, /no Ready node is labelled edgesplit.io\/edge=true; no plan is deployed$/);
  });
});

import assert from 'node:assert/strict';
import { PlannerController, type ControllerDeps } from '../../src/roles/planner/controller.ts';
import { UnavailableError } from '../../src/runtime/errors.ts';
import { parsePlan, planHash, type Plan } from '../../src/runtime/plan.ts';
import { edgeNode, FakeClusterApi, FakeRouterProbe } from '../fakes/fake-cluster-api.ts';
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
  let router: FakeRouterProbe;
  let c: PlannerController | undefined;

  beforeEach(() => {
    api = new FakeClusterApi();
    router = new FakeRouterProbe(api);
    api.nodes = [edgeNode('a', fast('0.001')), edgeNode('b', fast('0.001')), edgeNode('c', fast('0.0015'))];
  });
  afterEach(async () => {
    await c?.shutdown();
    await c?.shutdown(); // idempotent
  });

  const create = async (more: Partial<ControllerDeps> = {}) => (c = await PlannerController.create({
    api, packages, objective: { mode: 'latency' }, deploy: { namespace: 'ns', image: 'img' }, debounceMs: 20,
    router, switchGraceMs: 1000, drainMs: 0, readyPollMs: 2, ...more,
  }));

  /** The plan the router-facing ConfigMap holds now. */
  const served = (): Plan | undefined => {
    const cm = api.objects.get('ConfigMap/edgesplit-plan') as any;
    return cm ? parsePlan(cm.data['plan.json']) : undefined;
  };
  const deploymentsOf = (hash: string) => [...api.objects.keys()].filter((k) => k.startsWith(`Deployment/edgesplit-${hash}-`)).sort();
  const ownedBy = (hash: string) => [...api.objects.values()].filter((o) => o.metadata.labels?.['edgesplit.io/plan'] === hash &&
    o.metadata.name !== 'edgesplit-plan').map((o) => `${o.kind}/${o.metadata.name}`).sort();
  /** The current plan with its two partitions' nodes swapped: another plan of the same package, on Ready nodes. */
  const swapped = (d: Plan): Plan => {
    const assignments = d.assignments.map((a, i) => ({ partition: a.partition, node: d.assignments[d.assignments.length - 1 - i].node }));
    return { ...d, assignments, planHash: planHash({ ...d, assignments }) };
  };

  it('should plan and apply at start and record why', async () => {
    await create();
    const s = c!.status();
    assert.equal(s.doc?.package, 'two');
    assert.equal(s.lastReason, 'planner started');
    assert.equal(s.lastError, '');
    assert.ok(api.objects.has(`Deployment/edgesplit-${s.hash}-p1`));
    assert.deepEqual(api.events.map((e) => [e.type, e.reason, e.involved.name]), [['Normal', 'Replanned', 'edgesplit-plan']]);
    assert.deepEqual(router.asked, [], 'a first plan has no old one to keep: no wait for the router');
    assert.deepEqual(c!.partitionAddresses(), [`edgesplit-${s.hash}-p0.ns.svc:50051`, `edgesplit-${s.hash}-p1.ns.svc:50051`]);
  });

  it('should change nothing when the same plan is applied again', async () => {
    await create();
    const versions = () => [...api.objects.entries()].map(([k, o]) => `${k}@${o.metadata.resourceVersion}`).sort();
    const before = versions();
    const r = await c!.apply(c!.status().doc, undefined);
    assert.deepEqual(r.deleted, []);
    assert.deepEqual(versions(), before);
    assert.equal(api.events.at(-1)?.reason, 'PlanUnchanged');
    assert.deepEqual(router.asked, []);
  });

  it('should keep the old plan\'s objects until the new Deployments are ready and the router confirmed', async () => {
    await create();
    const old = c!.status().doc!;
    const oldObjects = ownedBy(old.planHash);
    assert.equal(oldObjects.length, 5, 'a ConfigMap, and a Deployment and a Service per partition');
    api.holdUnready = true;
    router.held = true;
    const next = swapped(old);
    const switching = c!.replanWith(next, 'calibrated', {});
    await until(() => deploymentsOf(next.planHash).length === 2, 'the new Deployments');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(ownedBy(old.planHash), oldObjects, 'not ready yet: the old plan stays');
    assert.equal(served()?.planHash, old.planHash, 'the router is not switched to unready partitions');
    assert.equal(c!.status().hash, old.planHash);
    for (const name of deploymentsOf(next.planHash)) api.markReady(name.slice('Deployment/'.length));
    await until(() => router.asked.length === 1, 'the router wait');
    assert.equal(served()?.planHash, next.planHash, 'switched once every new partition is ready');
    assert.equal(c!.status().hash, next.planHash);
    assert.deepEqual(ownedBy(old.planHash), oldObjects, 'the router has not confirmed: the old plan stays');
    assert.deepEqual(router.asked, [{ hash: next.planHash, timeoutMs: 1000 }]);
    router.release();
    await switching;
    assert.deepEqual(ownedBy(old.planHash), []);
    assert.equal(ownedBy(next.planHash).length, 5);
    assert.deepEqual(c!.partitionAddresses(), [0, 1].map((i) => `edgesplit-${next.planHash}-p${i}.ns.svc:50051`));
  });

  it('should never leave a partition of the served plan without a ready Deployment while the plan changes', async () => {
    const violations: string[] = [];
    api.afterCall = (call) => {
      const plan = served();
      if (!plan) return;
      for (const a of plan.assignments) {
        const d = api.objects.get(`Deployment/edgesplit-${plan.planHash}-p${a.partition}`) as any;
        if (!((d?.status?.readyReplicas ?? 0) >= 1)) violations.push(`after ${call}: partition ${a.partition} of ${plan.planHash} not ready`);
      }
    };
    await create();
    const old = c!.status().doc!;
    const victim = old.assignments[0].node;
    api.setNode(edgeNode(victim, fast('0.001'), { ready: false }));
    await until(() => api.events.some((e) => e.reason === 'PlanSwitched'), 'the switch');
    await c!.idle();
    const next = c!.status().doc!;
    assert.notEqual(next.planHash, old.planHash);
    assert.deepEqual(violations, []);
    // The order of the switch: new objects, the router's ConfigMap, the router's confirmation, only then deletions.
    const at = (call: string) => api.calls.indexOf(call);
    const switchAt = api.calls.lastIndexOf('apply ConfigMap/edgesplit-plan');
    const newApplies = api.calls.filter((k) => k.startsWith(`apply Deployment/edgesplit-${next.planHash}-`));
    assert.equal(newApplies.length, next.partitions);
    for (const k of newApplies) assert.ok(at(k) < switchAt, `${k} before the switch`);
    const confirmedAt = at(`router serves ${next.planHash}?`);
    assert.ok(switchAt < confirmedAt);
    const deletions = api.calls.map((k, i) => [k, i] as const).filter(([k]) => k.startsWith('delete '));
    assert.deepEqual(deletions.map(([k]) => k).sort(), ownedByNames(old.planHash));
    for (const [k, i] of deletions) assert.ok(i > confirmedAt, `${k} after the router confirmed`);
  });

  /** What a plan owns, by kind/name, as the fake would list it. */
  function ownedByNames(hash: string): string[] {
    return [`delete ConfigMap/edgesplit-plan-${hash}`, ...[0, 1].map((i) => `delete Deployment/edgesplit-${hash}-p${i}`),
      ...[0, 1].map((i) => `delete Service/edgesplit-${hash}-p${i}`)].sort();
  }

  it('should roll back when the new Deployments never become ready: new objects removed, old plan and status kept, a Warning', async () => {
    await create({ readyTimeoutMs: 60 });
    const old = c!.status().doc!;
    const oldObjects = ownedBy(old.planHash);
    const oldConfigMap = structuredClone(api.objects.get('ConfigMap/edgesplit-plan'));
    api.holdUnready = true;
    const next = swapped(old);
    await assert.rejects(c!.replanWith(next, 'calibrated', { predictedNewMs: 1 }), (e: Error) => {
      assert.match(e.message, new RegExp(`edgesplit-${next.planHash}-p0, edgesplit-${next.planHash}-p1 not ready after 0.06 s`));
      return true;
    });
    assert.deepEqual(ownedBy(next.planHash), []);
    assert.deepEqual(ownedBy(old.planHash), oldObjects);
    assert.deepEqual(api.objects.get('ConfigMap/edgesplit-plan'), oldConfigMap);
    const s = c!.status();
    assert.equal(s.hash, old.planHash);
    assert.equal(s.doc, old);
    assert.match(s.lastError, /^could not re-plan \(calibrated\): plan \w+: .* not ready after 0.06 s; removed the new plan's objects; keeping plan /);
    const ev = api.events.at(-1)!;
    assert.deepEqual([ev.type, ev.reason], ['Warning', 'ReplanFailed']);
    assert.match(ev.message, new RegExp(`edgesplit-${next.planHash}-p0, edgesplit-${next.planHash}-p1`));
    assert.deepEqual(router.asked, [], 'the router was never switched');
    assert.ok(!api.events.some((e) => e.reason === 'PlanSwitched'));
  });

  it('should write decision.json with the reason, both plan hashes and the caller\'s figures, and say how long the switch took', async () => {
    await create();
    const old = c!.status().doc!;
    const first = JSON.parse((api.objects.get('ConfigMap/edgesplit-plan') as any).data['decision.json']);
    assert.deepEqual(Object.keys(first), ['at', 'reason', 'planHash', 'previousPlanHash']);
    assert.deepEqual([first.reason, first.planHash, first.previousPlanHash], ['planner started', old.planHash, null]);
    const next = swapped(old);
    await c!.replanWith(next, 'calibrated: partition 1 measured slow', { predictedOldMs: 9.5, predictedNewMs: 7, measuredOldMs: 12 });
    const cm = api.objects.get('ConfigMap/edgesplit-plan') as any;
    const d = JSON.parse(cm.data['decision.json']);
    assert.deepEqual(Object.keys(d), ['at', 'reason', 'planHash', 'previousPlanHash', 'measuredOldMs', 'predictedNewMs', 'predictedOldMs']);
    assert.deepEqual({ ...d, at: undefined }, { at: undefined, reason: 'calibrated: partition 1 measured slow', planHash: next.planHash,
      previousPlanHash: old.planHash, measuredOldMs: 12, predictedNewMs: 7, predictedOldMs: 9.5 });
    assert.ok(Math.abs(Date.parse(d.at) - Date.now()) < 5000);
    assert.equal(parsePlan(cm.data['plan.json']).planHash, next.planHash);
    assert.deepEqual(api.events.slice(-2).map((e) => [e.type, e.reason]), [['Normal', 'Replanned'], ['Normal', 'PlanSwitched']]);
    assert.match(api.events.at(-2)!.message, /^calibrated: partition 1 measured slow: now two /);
    assert.match(api.events.at(-1)!.message, new RegExp(`^switched ${old.planHash} → ${next.planHash} \\(calibrated: partition 1 measured slow\\): ` +
      'new objects applied \\d+\\.\\d s, ready \\d+\\.\\d s, router confirmed \\d+\\.\\d s, old removed \\d+\\.\\d s'));
    // Applying the same plan again keeps the decision that put it there.
    await c!.apply(next, undefined);
    assert.equal((api.objects.get('ConfigMap/edgesplit-plan') as any).data['decision.json'], cm.data['decision.json']);
  });

  it('should wait the whole grace when the router cannot be asked', async () => {
    await create({ router: undefined, switchGraceMs: 150 });
    const old = c!.status().doc!;
    const t0 = Date.now();
    await c!.replanWith(swapped(old), 'calibrated', {});
    assert.ok(Date.now() - t0 >= 140, `switched after ${Date.now() - t0} ms`);
    assert.match(api.events.at(-1)!.message, /router not confirmed, grace over/);
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

import assert from 'node:assert/strict';
import { loadCatalog } from '../../src/roles/planner/catalog.ts';
import { PlannerController } from '../../src/roles/planner/controller.ts';
import { KubeClusterApi } from '../../src/roles/planner/k8s/kube-cluster-api.ts';
import { deployedPlan } from '../../src/roles/planner/k8s/objects.ts';
import { planHash, type Plan } from '../../src/runtime/plan.ts';
import { createKwokNode, haveTools, missingToolsMessage, startControlPlane, type ControlPlane } from './harness/control-plane.ts';
import { skipBecause } from '../skip.ts';

const NS = 'edgesplit-test';
const FAST = { 'edgesplit.io/edge': 'true', 'edgesplit.io/gflops': '5', 'edgesplit.io/bandwidth-mbps': '1000', 'edgesplit.io/latency-ms': '0.1' };

async function poll<T>(what: string, f: () => Promise<T | undefined>, cp: ControlPlane, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}\n${cp.logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('planner on a real control plane (KWOK edge nodes)', function () {
  this.timeout(150_000);
  let cp: ControlPlane | undefined;
  let api: KubeClusterApi | undefined;
  let controller: PlannerController | undefined;

  before(async function () {
    if (!haveTools()) {
      skipBecause(this, `needs the Kubernetes test tools: ${missingToolsMessage}`);
    }
    cp = await startControlPlane();
    assert.equal((await cp.kubectl(['create', 'namespace', NS])).code, 0);
    await Promise.all(['edge-a', 'edge-b', 'edge-c', 'edge-d'].map((name) => createKwokNode(cp!, { name, labels: FAST, cpu: '4', memory: '4Gi' })));
    // Not an edge node: the planner must never use it.
    await createKwokNode(cp, { name: 'core-1', cpu: '16', memory: '32Gi', labels: { 'edgesplit.io/gflops': '500' } });
  });

  after(async () => {
    await controller?.shutdown();
    await api?.shutdown();
    await cp?.stop();
  });

  /** Waits until every partition has exactly one Running pod of the plan's package, on its planned node. */
  async function podsOnPlannedNodes(doc: Plan): Promise<void> {
    await poll(`pods of ${doc.package} on ${doc.assignments.map((a) => a.node)}`, async () => {
      const r = await cp!.kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=partition', '-o', 'json']);
      const pods = JSON.parse(r.stdout).items.filter((p: any) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
      for (const a of doc.assignments) {
        const mine = pods.filter((p: any) => p.metadata.labels['edgesplit.io/partition'] === String(a.partition));
        if (mine.length !== 1 || mine[0].spec.nodeName !== a.node || mine[0].metadata.labels['edgesplit.io/package'] !== doc.package) return undefined;
      }
      const extra = pods.filter((p: any) => Number(p.metadata.labels['edgesplit.io/partition']) >= doc.partitions);
      return extra.length === 0 ? true : undefined;
    }, cp!);
  }

  async function configMapPlan(): Promise<any> {
    const r = await cp!.kubectl(['get', 'configmap', 'edgesplit-plan', '-n', NS, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(JSON.parse(r.stdout).data['plan.json']);
  }

  it('should deploy the plan: pods Running on exactly the planned nodes, ConfigMap matching', async () => {
    const { packages } = await loadCatalog('models/catalog.json');
    api = await KubeClusterApi.create({ kubeconfig: cp!.kubeconfig });
    // No router here: a short grace stands in for its confirmation.
    controller = await PlannerController.create({
      api, packages, objective: { mode: 'latency', accuracyFloor: 0.915 }, debounceMs: 300,
      deploy: { namespace: NS, image: 'example.invalid/edgesplit:test' }, switchGraceMs: 1500, drainMs: 200, readyPollMs: 250, readyTimeoutMs: 60_000,
    });
    const s = controller.status();
    assert.equal(s.lastError, '');
    const doc = s.doc!;
    assert.equal(doc.partitions, 4);
    assert.deepEqual(doc.assignments.map((a) => a.node).sort(), ['edge-a', 'edge-b', 'edge-c', 'edge-d']);
    await podsOnPlannedNodes(doc);
    assert.deepEqual(await configMapPlan(), deployedPlan(doc, NS));
    const ev = await cp!.kubectl(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=edgesplit-plan,reason=Replanned', '-o', 'json']);
    assert.match(JSON.parse(ev.stdout).items[0]?.message ?? '', /^planner started: now fmnist-p4/);
  });

  it('should change nothing when the same plan is applied again', async () => {
    const versions = async () => (await cp!.kubectl(['get', 'deploy,svc,cm', '-n', NS, '-l', 'app.kubernetes.io/managed-by=edgesplit-planner',
      '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion} {end}'])).stdout;
    const before = await versions();
    const r = await controller!.apply(controller!.status().doc, undefined);
    assert.deepEqual(r.deleted, []);
    assert.equal(await versions(), before);
  });

  it('should change plans in stages: every partition always has a Running pod, and only the new plan\'s objects are left', async () => {
    const old = controller!.status().doc!;
    const n = old.assignments.length;
    // Same package, every partition on another node: each partition's pod must move.
    const assignments = old.assignments.map((a, i) => ({ partition: a.partition, node: old.assignments[(i + 1) % n].node }));
    const next: Plan = { ...old, assignments, planHash: planHash({ ...old, assignments }) };
    const gaps: string[] = [];
    let overlap = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const r = await cp!.kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=partition', '-o', 'json']);
        if (r.code === 0) {
          const running = JSON.parse(r.stdout).items.filter((p: any) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
          for (let i = 0; i < n; i++) {
            if (!running.some((p: any) => p.metadata.labels['edgesplit.io/partition'] === String(i))) gaps.push(`partition ${i} at ${new Date().toISOString()}`);
          }
          const plans = new Set(running.map((p: any) => p.metadata.labels['edgesplit.io/plan']));
          if (plans.has(old.planHash) && plans.has(next.planHash)) overlap = true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await controller!.replanWith(next, 'test: move every partition', { predictedOldMs: old.predicted.latencyMs });
    } finally {
      watching = false;
      await watcher;
    }
    assert.deepEqual(gaps, [], 'a partition without a Running pod during the change');
    assert.ok(overlap, 'old and new pods ran side by side');
    assert.equal(controller!.status().hash, next.planHash);
    const names = (await cp!.kubectl(['get', 'deploy,svc,cm', '-n', NS, '-l', 'app.kubernetes.io/managed-by=edgesplit-planner', '-o', 'name'])).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['configmap/edgesplit-plan', `configmap/edgesplit-plan-${next.planHash}`,
      ...[...Array(n).keys()].map((i) => `deployment.apps/edgesplit-${next.planHash}-p${i}`),
      ...[...Array(n).keys()].map((i) => `service/edgesplit-${next.planHash}-p${i}`)].sort());
    assert.deepEqual(await configMapPlan(), deployedPlan(next, NS));
    const cm = JSON.parse((await cp!.kubectl(['get', 'configmap', 'edgesplit-plan', '-n', NS, '-o', 'json'])).stdout);
    const decision = JSON.parse(cm.data['decision.json']);
    assert.deepEqual([decision.reason, decision.planHash, decision.previousPlanHash, decision.predictedOldMs],
      ['test: move every partition', next.planHash, old.planHash, old.predicted.latencyMs]);
    await podsOnPlannedNodes(next);
    const ev = await cp!.kubectl(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=edgesplit-plan,reason=PlanSwitched', '-o', 'json']);
    assert.match(JSON.parse(ev.stdout).items.at(-1)?.message ?? '', /^switched .* old removed [\d.]+ s/);
  });

  it('should re-place the partition of a node that leaves', async () => {
    const before = controller!.status().doc!;
    const gone = before.assignments[1].node;
    assert.equal((await cp!.kubectl(['delete', 'node', gone])).code, 0);
    const doc = await poll('re-plan without the node', async () => {
      const s = controller!.status();
      return s.doc && !s.doc.assignments.some((a) => a.node === gone) ? s.doc : undefined;
    }, cp!);
    assert.equal(controller!.status().lastReason, `node ${gone} left`);
    await podsOnPlannedNodes(doc);
    assert.deepEqual(await configMapPlan(), deployedPlan(doc, NS));
  });

  it('should change the package when the network gets slow', async () => {
    const before = controller!.status().doc!;
    const nodes = JSON.parse((await cp!.kubectl(['get', 'nodes', '-l', 'edgesplit.io/edge=true', '-o', 'json'])).stdout).items.map((n: any) => n.metadata.name);
    // 0.2 Mbit/s and 30 ms: with the per-request and framing costs the model charges, a slower link than a
    // handful of Mbit/s is needed before sending the image to several nodes stops paying.
    const r = await cp!.kubectl(['label', 'node', ...nodes, 'edgesplit.io/bandwidth-mbps=0.2', 'edgesplit.io/latency-ms=30', '--overwrite']);
    assert.equal(r.code, 0, r.stderr);
    const doc = await poll('a new package', async () => {
      const d = controller!.status().doc!;
      return d.package !== before.package ? d : undefined;
    }, cp!);
    assert.match(controller!.status().lastReason, /bandwidthMbps 1000→0\.2/);
    await podsOnPlannedNodes(doc);
    assert.deepEqual(await configMapPlan(), deployedPlan(doc, NS));
    const left = await cp!.kubectl(['get', 'deploy', '-n', NS, '-o', 'name']);
    assert.equal(left.stdout.trim().split('\n').length, doc.partitions);
  });
});

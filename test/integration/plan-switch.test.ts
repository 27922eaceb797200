import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../src/roles/planner/catalog.ts';
import { plan } from '../../src/roles/planner/core/search.ts';
import { GrpcPartitionStats } from '../../src/roles/planner/partition-stats.ts';
import { GrpcRouterStats } from '../../src/roles/planner/router-stats.ts';
import { toPlan } from '../../src/roles/planner/to-plan.ts';
import { HealthChecker, waitServing } from '../../src/runtime/health-client.ts';
import { MODELS_DIR } from '../../src/runtime/manifest.ts';
import type { Plan } from '../../src/runtime/plan.ts';
import { imagesOf, loadSample } from '../../src/runtime/sample.ts';
import { LOCAL_CLUSTER } from '../../src/tools/cli/closed-loop.ts';
import { LocalLauncher } from '../../src/tools/cli/launchers.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { LocalPlanDeployer, type Launched, type SwitchEvent } from '../../src/tools/cli/plan-deployer.ts';
import { freePort } from '../../src/tools/cli/stack.ts';

const HOST = '127.0.0.1';

async function until(f: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The planner core's plan for one catalog package on the four local nodes. */
async function planFor(name: string): Promise<Plan> {
  const { packages } = await loadCatalog(join(MODELS_DIR, 'catalog.json'));
  return toPlan(plan(packages.filter((p) => p.name === name), LOCAL_CLUSTER, { mode: 'latency', accuracyFloor: 0 }), LOCAL_CLUSTER);
}

describe('plan switch on the local stack (per-plan partitions, router moved once the new plan serves)', function () {
  this.timeout(180_000);
  let deployer: LocalPlanDeployer | undefined;
  let router: Launched | undefined;

  after(async () => {
    await router?.stop();
    await deployer?.shutdown();
  });

  it('should switch packages under load with no failed or degraded answer, then stop the old partitions', async () => {
    const events: SwitchEvent[] = [];
    const launcher = new LocalLauncher(HOST);
    const port = await freePort(HOST);
    deployer = new LocalPlanDeployer({ launcher, modelsDir: MODELS_DIR, dir: mkdtempSync(join(tmpdir(), 'plan-switch-')),
      router: () => `${HOST}:${port}`, partitionArgs: ['--measure', 'false'], onEvent: (e) => events.push(e) });
    const before = await planFor('fmnist-p4-x-x-x-x-1au-x');
    const after = await planFor('fmnist-p2-x-x-x-1au-x-x');
    await deployer.deployFirst(before, 'test');
    const oldAddresses = deployer.deployed()!.addresses;
    router = launcher.start('router', 'router', ['serve', 'router', '--plan', deployer.routerPlanPath, '--models-dir', MODELS_DIR,
      '--host', HOST, '--port', String(port), '--plan-poll-ms', '100']);
    await waitServing(`${HOST}:${port}`, '', 60_000);
    const health = new HealthChecker(`${HOST}:${port}`);
    assert.equal(await health.check(`edgesplit.plan.${before.planHash}`, 2000), 'SERVING');

    // A bounded load through the router during the whole switch.
    const sample = loadSample();
    const client = new OipClient(`${HOST}:${port}`, { imageShape: sample.imageShape });
    const outcomes: { ok: boolean; degraded: boolean; package: string; error?: string }[] = [];
    let switching = true;
    const load = (async () => {
      for (let i = 0; (switching || i < 20) && i < 5000; i++) {
        try {
          const r = await client.classify(imagesOf(sample, i % 100, i % 100 + 1), 1);
          outcomes.push({ ok: true, degraded: r.degraded, package: r.package });
        } catch (e) {
          outcomes.push({ ok: false, degraded: false, package: '', error: (e as Error).message });
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await deployer.switchTo(after, 'test switch', undefined as never);
    switching = false;
    await load;
    client.close();

    assert.deepEqual(outcomes.filter((o) => !o.ok || o.degraded), []);
    assert.equal(outcomes[0].package, before.package);
    assert.equal(outcomes[outcomes.length - 1].package, after.package);
    const ev = events.find((e) => e.event === 'switched')!;
    assert.equal(ev.to, after.planHash);
    assert.ok(ev.routerS !== undefined && ev.readyS! <= ev.routerS && ev.routerS <= ev.doneS!, JSON.stringify(ev));
    assert.equal(await health.check(`edgesplit.plan.${after.planHash}`, 2000), 'SERVING');
    assert.equal(await health.check(`edgesplit.plan.${before.planHash}`, 2000), 'NOT_SERVING');
    // The old plan's partitions are gone.
    for (const a of oldAddresses) assert.notEqual(await new HealthChecker(a).check('', 500), 'SERVING');

    // The live figures of the new plan: the router's per-partition round trips and the partitions' pushes.
    const rs = new GrpcRouterStats(`${HOST}:${port}`);
    const live = await rs.live(2000);
    rs.close();
    assert.equal(live.planHash, after.planHash);
    assert.equal(live.partitions.length, 2);
    assert.ok(live.requests > 0 && live.partitions.every((p) => p.count > 0 && p.rttMsP50 > 0), JSON.stringify(live));
    const ps = new GrpcPartitionStats();
    const d = await ps.describe(deployer.deployed()!.addresses[0], 2000);
    ps.close();
    assert.ok(d.runs > 0 && d.pushes.length === 1 && d.pushes[0].peer === 1 && d.pushes[0].bytesMean > 0, JSON.stringify(d));
    health.close();
  });

  it('should start a killed partition of the serving plan again on its port', async () => {
    const [pid] = deployer!.pids();
    const address = deployer!.deployed()!.addresses[0];
    process.kill(pid!, 'SIGKILL');
    await until(() => deployer!.pids()[0] !== pid, 'a new process', 30_000);
    await waitServing(address, '', 60_000);
    assert.notEqual(deployer!.pids()[0], pid);
  });
});

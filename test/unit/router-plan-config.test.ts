import assert from 'node:assert/strict';
import { loadPackage, MODELS_DIR, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { planHash, type Plan } from '../../src/runtime/plan.ts';
import type { RouterConfig } from '../../src/roles/router/config.ts';
import { configForPlan } from '../../src/roles/router/plan-config.ts';

/** A deployed plan of `pkg` with one peer per partition on ports from `port`. */
function plan(pkg: string, partitions: number, port: number): Plan {
  const assignments = Array.from({ length: partitions }, (_, partition) => ({ partition, node: `edge-${partition}` }));
  return {
    planHash: planHash({ package: pkg, policyId: 'none', assignments }), package: pkg, packagePath: pkg, partitions,
    policyId: 'none', accuracy: 0.9, assignments, peers: assignments.map((a) => `p${a.partition}:${port + a.partition}`),
    predicted: { latencyMs: 1, computeMs: 1, transferMs: 0, exchangedBytes: 0 },
    objective: { mode: 'latency', accuracyFloor: 0.9 }, strategy: 'exact', alternatives: [], explanation: 'test',
  };
}

/** What loadConfig returns for `--plan` (package and partitions from the plan) or for flags. */
function config(p: Plan, fromFlags?: { pkg: string; partitions: string[] }): RouterConfig {
  return { pkg: loadPackage(resolvePackageDir(fromFlags?.pkg ?? p.packagePath, MODELS_DIR)),
    partitions: fromFlags?.partitions ?? p.peers!, plan: p, planPath: '/plan.json', host: '127.0.0.1', port: 0,
    follows: { package: !fromFlags, partitions: !fromFlags, modelsDir: MODELS_DIR }, strict: true } as RouterConfig;
}

describe('the router config for a plan its watcher parsed', () => {
  it('should take package and partitions from the new plan when they came from the plan', () => {
    const next = configForPlan(config(plan('fmnist-p1', 1, 5000)), plan('fmnist-p2-none', 2, 6000), '/plan.json');
    assert.equal(next.pkg.manifest.name, 'fmnist-p2-none');
    assert.deepEqual(next.partitions, ['p0:6000', 'p1:6001']);
    assert.equal(next.plan?.package, 'fmnist-p2-none');
    assert.equal(next.strict, true);
  });

  it('should keep a package and partitions given as flags', () => {
    const next = configForPlan(config(plan('fmnist-p1', 1, 5000), { pkg: 'fmnist-p1', partitions: ['x:1'] }),
      plan('fmnist-p1', 1, 6000), '/plan.json');
    assert.equal(next.pkg.manifest.name, 'fmnist-p1');
    assert.deepEqual(next.partitions, ['x:1']);
  });

  it('should keep a package given by flag even when it is the plan\'s own package, and follow the partitions', () => {
    const p = plan('fmnist-p2-none', 2, 5000);
    const c = { ...config(p), follows: { package: false, partitions: true, modelsDir: MODELS_DIR } };
    const next = configForPlan(c, { ...plan('fmnist-p2-none', 2, 6000), packagePath: 'elsewhere' }, '/plan.json');
    assert.equal(next.pkg.dir, c.pkg.dir);
    assert.deepEqual(next.partitions, ['p0:6000', 'p1:6001']);
  });

  it('should refuse a plan whose package does not fit the partitions given as flags', () => {
    const c = { ...config(plan('fmnist-p1', 1, 5000), { pkg: 'fmnist-p1', partitions: ['x:1'] }),
      follows: { package: true, partitions: false, modelsDir: MODELS_DIR } };
    assert.throws(() => configForPlan(c, plan('fmnist-p2-none', 2, 6000), '/plan.json'),
      /\/plan\.json: peers: package fmnist-p2-none has 2 partitions, got 1 addresses/);
  });
});

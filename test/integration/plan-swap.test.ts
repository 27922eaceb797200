import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, freePort } from '../../src/tools/cli/stack.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { HealthChecker, waitServing } from '../../src/runtime/health-client.ts';
import { imagesOf, loadSample } from '../../src/runtime/sample.ts';
import { planHash, serializePlan, type Plan } from '../../src/runtime/plan.ts';
import { imagesRequest, infer, oipStub, stopProcess, until } from './reliability-helpers.ts';

const HOST = '127.0.0.1';

function serve(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['pipe', 'ignore', 'inherit'],
    env: { ...process.env, EDGESPLIT_EXIT_WITH_PARENT: '1' } });
}

/** Writes plan.json the way a ConfigMap volume changes: a complete new file swapped in at once. */
function writePlan(dir: string, plan: object): void {
  writeFileSync(join(dir, 'plan.tmp'), JSON.stringify(plan));
  renameSync(join(dir, 'plan.tmp'), join(dir, 'plan.json'));
}

function testPlan(pkg: string, peers: string[]): Plan {
  const assignments = peers.map((_, partition) => ({ partition, node: `local-${partition}` }));
  return { planHash: planHash({ package: pkg, policyId: 'none', assignments }), package: pkg, packagePath: pkg,
    partitions: peers.length, policyId: 'none', accuracy: 0.9, assignments, peers,
    predicted: { latencyMs: 1, computeMs: 1, transferMs: 0, exchangedBytes: 0 }, objective: { mode: 'latency', accuracyFloor: 0.9 },
    strategy: 'test', alternatives: [], explanation: 'test' };
}

describe('router and partitions following the planner\'s plan file', function () {
  this.timeout(120_000);
  const procs: ChildProcess[] = [];
  after(async () => {
    for (const p of procs) await stopProcess(p);
  });

  it('should read peers and package from the plan and swap packages without failing requests in flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-swap-'));
    const [a, b0, b1, r] = [await freePort(HOST), await freePort(HOST), await freePort(HOST), await freePort(HOST)];
    // Plans as the planner deploys them (src/runtime/plan.ts), placed on two local "nodes".
    const p1 = testPlan('fmnist-p1', [`${HOST}:${a}`]);
    const p2 = testPlan('fmnist-p2-none', [`${HOST}:${b0}`, `${HOST}:${b1}`]);
    writeFileSync(join(dir, 'p2.json'), serializePlan(p2));
    procs.push(serve(['partition', '--package', 'fmnist-p1', '--index', '0', '--host', HOST, '--port', String(a), '--measure', 'false']));
    // The P=2 partitions take their peers from a plan file, as the planner's Deployments do.
    for (const [i, port] of [b0, b1].entries()) {
      procs.push(serve(['partition', '--package', 'fmnist-p2-none', '--index', String(i), '--plan', join(dir, 'p2.json'),
        '--host', HOST, '--port', String(port), '--measure', 'false']));
    }
    writePlan(dir, p1);
    procs.push(serve(['router', '--plan', join(dir, 'plan.json'), '--plan-poll-ms', '100', '--host', HOST, '--port', String(r)]));
    for (const port of [a, b0, b1, r]) await waitServing(`${HOST}:${port}`, '', 60_000);

    const client = new OipClient(`${HOST}:${r}`);
    const sample = loadSample();
    const seen: string[] = [];
    let errors = 0;
    let stop = false;
    // Four bounded client loops keep requests in flight while the plan changes under them.
    const loops = [0, 1, 2, 3].map(async (k) => {
      for (let i = 0; i < 400 && !stop; i++) {
        try {
          const res = await client.classify(sample.images.subarray((k * 50 + i % 50) * 784), 1, { timeoutMs: 10_000 });
          seen.push(res.package);
        } catch {
          errors++;
        }
      }
    });
    const deadline = Date.now() + 30_000;
    while (!seen.includes('fmnist-p1') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    writePlan(dir, p2);
    while (!seen.includes('fmnist-p2-none') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const switchedAt = seen.length;
    while (seen.length < switchedAt + 20 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    stop = true;
    await Promise.all(loops);
    client.close();
    assert.equal(errors, 0);
    assert.ok(seen.includes('fmnist-p1'), 'answers before the change came from the first plan');
    // up to four requests that started before the swap may still finish on the old pipeline
    assert.deepEqual([...new Set(seen.slice(switchedAt + 4))], ['fmnist-p2-none'], 'after the switch every answer uses the new plan');
  });

  // A fresh planner-mode install starts the router before the planner has written its ConfigMap: the router must
  // wait for the plan (NOT_SERVING, inference UNAVAILABLE) instead of exiting into CrashLoopBackOff.
  it('should start without a plan file, answer NOT_SERVING and UNAVAILABLE until the plan appears, then serve it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-wait-'));
    const [a, r] = [await freePort(HOST), await freePort(HOST)];
    procs.push(serve(['partition', '--package', 'fmnist-p1', '--index', '0', '--host', HOST, '--port', String(a), '--measure', 'false']));
    const router = serve(['router', '--plan', join(dir, 'plan.json'), '--plan-poll-ms', '100', '--host', HOST, '--port', String(r)]);
    procs.push(router);
    let exit: number | null | undefined;
    router.on('exit', (code) => (exit = code));
    const hc = new HealthChecker(`${HOST}:${r}`);
    const stub = oipStub(`${HOST}:${r}`);
    try {
      assert.ok(await until(async () => (await hc.check('', 500)) === 'NOT_SERVING', 30_000),
        `the router should answer health NOT_SERVING while the plan is missing (exit code ${exit})`);
      const sample = loadSample();
      const before = await infer(stub, imagesRequest(imagesOf(sample, 0, 1), 1), 5000);
      assert.equal(before.code, grpc.status.UNAVAILABLE, `ModelInfer before the plan: ${before.code} ${before.details}`);
      assert.match(before.details ?? '', /plan/);
      assert.equal(exit, undefined, 'the router is still running');
      writePlan(dir, testPlan('fmnist-p1', [`${HOST}:${a}`]));
      await waitServing(`${HOST}:${r}`, '', 60_000, () => exit === undefined);
      const after = await infer(stub, imagesRequest(imagesOf(sample, 0, 1), 1), 10_000);
      assert.equal(after.code, grpc.status.OK, `ModelInfer after the plan: ${after.code} ${after.details}`);
    } finally {
      hc.close();
      stub.close();
    }
  });
});

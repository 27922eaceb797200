import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { GraceDelayProbe, HealthRouterProbe, planHealthService } from '../../src/roles/planner/router-probe.ts';

describe('planner router probe', () => {
  let server: grpc.Server | undefined;
  let probe: HealthRouterProbe | undefined;
  afterEach(() => {
    probe?.close();
    server?.forceShutdown();
  });

  async function router(statuses: Record<string, 'SERVING' | 'NOT_SERVING'>): Promise<{ health: HealthImplementation; address: string }> {
    const health = new HealthImplementation(statuses);
    server = new grpc.Server();
    health.addToServer(server);
    const port = await new Promise<number>((res, rej) => server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    return { health, address: `127.0.0.1:${port}` };
  }

  it('should confirm once the router reports the plan\'s health service SERVING', async () => {
    const { health, address } = await router({ '': 'SERVING', [planHealthService('aaaaaaaaaaaa')]: 'NOT_SERVING' });
    probe = new HealthRouterProbe(address, 10);
    setTimeout(() => health.setStatus(planHealthService('aaaaaaaaaaaa'), 'SERVING'), 100);
    const t0 = Date.now();
    assert.equal(await probe.waitServes('aaaaaaaaaaaa', 5000), true);
    assert.ok(Date.now() - t0 >= 90);
  });

  it('should give up after the timeout when the router does not know the plan, or cannot be reached', async () => {
    const { address } = await router({ '': 'SERVING' });
    probe = new HealthRouterProbe(address, 10);
    assert.equal(await probe.waitServes('bbbbbbbbbbbb', 150), false);
    const nowhere = new HealthRouterProbe('127.0.0.1:1', 10);
    try {
      assert.equal(await nowhere.waitServes('bbbbbbbbbbbb', 150), false);
    } finally {
      nowhere.close();
    }
  });

  it('should wait the whole grace without a router to ask, and stop early when aborted', async () => {
    const t0 = Date.now();
    assert.equal(await new GraceDelayProbe().waitServes('cccccccccccc', 80), false);
    assert.ok(Date.now() - t0 >= 75);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    const t1 = Date.now();
    await new GraceDelayProbe().waitServes('cccccccccccc', 10_000, stop.signal);
    assert.ok(Date.now() - t1 < 1000);
  });
});

import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { RoleServer } from '../../src/runtime/role-server.ts';
import { echoServer, EchoClient, say } from '../helpers/echo-service.ts';
import { waitServing } from '../../src/runtime/health-client.ts';

describe('the role server scaffold (limits, malformed guard, health lifecycle, reflection)', () => {
  let role: RoleServer;
  let calls: () => number;
  let address: string;
  let client: grpc.Client;

  before(async () => {
    ({ role, calls } = echoServer({ maxMessageBytes: 1024 }));
    address = `127.0.0.1:${await role.listen('127.0.0.1', 0)}`;
    client = new EchoClient(address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await role.shutdown({ timeoutMs: 1000 });
  });

  it('should report NOT_SERVING once bound until the role says it is ready, then SERVING', async () => {
    await assert.rejects(waitServing(address, '', 300));
    role.setServing('SERVING');
    await waitServing(address, '', 5000);
    await waitServing(address, 'test.v1.Echo', 5000);
  });

  it('should answer undecodable bytes INVALID_ARGUMENT before the handler runs', async () => {
    const before = calls();
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve) => raw.makeUnaryRequest('/test.v1.Echo/Say',
      (b: Buffer) => b, (b: Buffer) => b, Buffer.from('{not json'), (e) => resolve(e!)));
    raw.close();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /not a valid \/test\.v1\.Echo\/Say message/);
    assert.equal(calls(), before);
  });

  it('should refuse a message over the limit with RESOURCE_EXHAUSTED', async () => {
    await assert.rejects(say(client, { text: 'x'.repeat(4096) }), { code: grpc.status.RESOURCE_EXHAUSTED });
    assert.equal((await say(client, { text: 'ok' })).text, 'ok');
  });

  it('should offer server reflection', async () => {
    const { loadSync } = await import('@grpc/proto-loader');
    const def = loadSync(new URL('../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto', import.meta.url).pathname);
    const Reflection = grpc.loadPackageDefinition(def).grpc as unknown as { reflection: { v1: { ServerReflection: typeof grpc.Client } } };
    const r = new Reflection.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as unknown as {
      ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, { listServicesResponse?: { service: { name: string }[] } }>; close(): void };
    const stream = r.ServerReflectionInfo();
    const names = await new Promise<string[]>((resolve, reject) => {
      stream.on('data', (m: { listServicesResponse?: { service: { name: string }[] } }) =>
        resolve((m.listServicesResponse?.service ?? []).map((s) => s.name)));
      stream.on('error', reject);
      stream.write({ listServices: '' });
    });
    stream.end();
    r.close();
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(','));
  });

  it('should run the drain, then stop serving, on shutdown', async () => {
    const { role: r2 } = echoServer();
    const a = `127.0.0.1:${await r2.listen('127.0.0.1', 0)}`;
    r2.setServing('SERVING');
    let drained = false;
    await r2.shutdown({ drain: async () => { drained = true; }, timeoutMs: 1000 });
    assert.equal(drained, true);
    const c = new EchoClient(a, grpc.credentials.createInsecure());
    await assert.rejects(say(c, { text: 'late' }), { code: grpc.status.UNAVAILABLE });
    c.close();
    assert.ok(r2.health instanceof HealthImplementation);
  });
});

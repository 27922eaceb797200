import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { readFileSync, rmSync } from 'node:fs';
import { loadProto } from '../../src/runtime/proto.ts';
import type { ProtoGrpcType } from '../../src/runtime/generated/planner.ts';
import { PlannerApp } from '../../src/roles/planner/app.ts';
import { loadConfig } from '../../src/roles/planner/config.ts';
import type { InvalidArgumentError } from '../../src/runtime/errors.ts';
import { makePki, type Pki } from '../integration/reliability-helpers.ts';

describe('planner gRPC service (local mode)', () => {
  let app: PlannerApp;
  let client: any;
  const call = (m: string, req: object) => new Promise<any>((res, rej) => client[m](req, (e: unknown, r: unknown) => (e ? rej(e) : res(r))));

  before(async () => {
    app = await PlannerApp.create(loadConfig([], {
      EDGESPLIT_CLUSTER_FILE: 'test/fixtures/clusters/fast-network.yaml', EDGESPLIT_PLANNER_PORT: '0', EDGESPLIT_ACCURACY_FLOOR: '0.915',
    }));
    const proto = loadProto<ProtoGrpcType>('edgesplit/v1/planner.proto');
    client = new proto.edgesplit.v1.Planner(`127.0.0.1:${app.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await app?.shutdown();
    await app?.shutdown();
  });

  it('should serve the current plan and the nodes it sits on', async () => {
    const p = await call('GetPlan', {});
    assert.equal(JSON.parse(p.planJson).partitions, 4);
    assert.equal(p.lastError, '');
    const n = await call('ListNodes', {});
    assert.deepEqual(n.nodes.map((x: any) => [x.name, x.partitions.length]), [['edge-a', 1], ['edge-b', 1], ['edge-c', 1], ['edge-d', 1]]);
  });

  it('should plan a cluster given in the request', async () => {
    const r = await call('Plan', { clusterYaml: readFileSync('test/fixtures/clusters/slow-network.yaml', 'utf8') });
    assert.deepEqual([...new Set(JSON.parse(r.planJson).assignments.map((a: any) => a.node))], ['edge-fast']);
    const unsplit = await call('Plan', { clusterYaml: readFileSync('test/fixtures/clusters/slow-network.yaml', 'utf8'), accuracyFloor: 0.93 });
    assert.equal(unsplit.package, 'fmnist-p1');
    assert.match(unsplit.explanation, /unsplit on edge-fast/);
  });

  it('should map bad requests to INVALID_ARGUMENT and impossible ones to FAILED_PRECONDITION', async () => {
    await assert.rejects(call('Plan', { clusterYaml: 'nodes: []' }), { code: grpc.status.INVALID_ARGUMENT, details: 'cluster_yaml: nodes: must list at least one node' });
    await assert.rejects(call('Plan', { accuracyFloor: 0.9, sloMs: 5 }), { code: grpc.status.INVALID_ARGUMENT });
    await assert.rejects(call('Plan', { accuracyFloor: 0.999 }), { code: grpc.status.FAILED_PRECONDITION });
    await assert.rejects(call('Apply', {}), { code: grpc.status.FAILED_PRECONDITION });
  });
});

describe('planner gRPC service over TLS / mTLS (EDGESPLIT_TLS_*, openssl certificates in a temp dir)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let app: PlannerApp | undefined;
  const base = { EDGESPLIT_CLUSTER_FILE: 'test/fixtures/clusters/fast-network.yaml', EDGESPLIT_PLANNER_PORT: '0' };
  const getPlan = (creds: grpc.ChannelCredentials) => {
    const proto = loadProto<ProtoGrpcType>('edgesplit/v1/planner.proto');
    const c: any = new proto.edgesplit.v1.Planner(`127.0.0.1:${app!.port}`, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    return new Promise<any>((res, rej) => c.GetPlan({}, { deadline: Date.now() + 5000 }, (e: unknown, r: unknown) => {
      c.close();
      return e ? rej(e) : res(r);
    }));
  };
  const refused = (creds: grpc.ChannelCredentials) => assert.rejects(getPlan(creds), { code: grpc.status.UNAVAILABLE });

  before(() => {
    pki = makePki();
  });
  afterEach(async () => {
    await app?.shutdown();
    app = undefined;
  });
  after(() => {
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('should serve TLS with a certificate and refuse plaintext clients', async () => {
    const cfg = loadConfig([], { ...base, EDGESPLIT_TLS_CERT: pki.cert, EDGESPLIT_TLS_KEY: pki.key, EDGESPLIT_TLS_CA: pki.ca });
    assert.deepEqual(cfg.tls, { cert: pki.cert, key: pki.key, ca: pki.ca, requireClientCert: false, serverName: undefined });
    app = await PlannerApp.create(cfg);
    assert.equal(app.tls, 'tls');
    assert.ok(JSON.parse((await getPlan(grpc.credentials.createSsl(readFileSync(pki.ca)))).planJson).partitions >= 1);
    await refused(grpc.credentials.createInsecure());
  });

  it('should require a client certificate signed by the cluster CA with EDGESPLIT_TLS_REQUIRE_CLIENT_CERT=true', async () => {
    app = await PlannerApp.create(loadConfig([], { ...base, EDGESPLIT_TLS_CERT: pki.cert, EDGESPLIT_TLS_KEY: pki.key,
      EDGESPLIT_TLS_CA: pki.ca, EDGESPLIT_TLS_REQUIRE_CLIENT_CERT: 'true' }));
    assert.equal(app.tls, 'mtls');
    const ca = readFileSync(pki.ca);
    await refused(grpc.credentials.createSsl(ca));
    await refused(grpc.credentials.createSsl(ca, readFileSync(pki.rogueKey), readFileSync(pki.rogueCert)));
    await refused(grpc.credentials.createInsecure());
    const member = grpc.credentials.createSsl(ca, readFileSync(pki.key), readFileSync(pki.cert));
    assert.ok(JSON.parse((await getPlan(member)).planJson).partitions >= 1);
  });

  it('should stay plaintext without EDGESPLIT_TLS_* and reject half-configured TLS naming the variable', async () => {
    assert.equal(loadConfig([], base).tls, undefined);
    assert.throws(() => loadConfig([], { ...base, EDGESPLIT_TLS_CERT: pki.cert }), (e: InvalidArgumentError) =>
      e.field === 'EDGESPLIT_TLS_KEY' && /EDGESPLIT_TLS_CERT and EDGESPLIT_TLS_KEY together/.test(e.message));
    assert.throws(() => loadConfig([], { ...base, EDGESPLIT_TLS_CERT: pki.cert, EDGESPLIT_TLS_KEY: pki.key, EDGESPLIT_TLS_REQUIRE_CLIENT_CERT: 'true' }),
      (e: InvalidArgumentError) => e.field === 'EDGESPLIT_TLS_REQUIRE_CLIENT_CERT');
    const missing = loadConfig([], { ...base, EDGESPLIT_TLS_CERT: `${pki.dir}/nope.crt`, EDGESPLIT_TLS_KEY: pki.key });
    await assert.rejects(PlannerApp.create(missing), (e: InvalidArgumentError) =>
      e.field === 'EDGESPLIT_TLS_CERT' && /cannot read the file \(ENOENT\)/.test(e.message) && !e.message.includes(pki.dir));
  });
});

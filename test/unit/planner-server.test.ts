import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { loadProto } from '../../services/common/proto.ts';
import type { ProtoGrpcType } from '../../services/common/generated/planner.ts';
import { PlannerApp } from '../../services/planner/app.ts';
import { loadConfig } from '../../services/planner/config.ts';

describe('planner gRPC service (local mode)', () => {
  let app: PlannerApp;
  let client: any;
  const call = (m: string, req: object) => new Promise<any>((res, rej) => client[m](req, (e: unknown, r: unknown) => (e ? rej(e) : res(r))));

  before(async () => {
    app = await PlannerApp.create(loadConfig({
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

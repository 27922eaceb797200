import assert from 'node:assert/strict';
import {
  createKwokNode, haveTools, missingToolsMessage, pinnedVersions, startControlPlane, type ControlPlane,
} from './harness/control-plane.ts';
import { skipBecause } from '../skip.ts';

describe('test control plane (real Kubernetes + KWOK)', function () {
  this.timeout(120_000);
  let cp: ControlPlane | undefined;

  before(async function () {
    if (!haveTools()) {
      skipBecause(this, `needs the Kubernetes test tools: ${missingToolsMessage}`);
    }
    const t0 = Date.now();
    cp = await startControlPlane({ log: (s) => process.env.EDGESPLIT_DEBUG && console.log(s) });
    console.log(`    control plane started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    await cp?.stop();
  });

  it('should report the pinned server version', async () => {
    const r = await cp!.kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.serverVersion.gitVersion, pinnedVersions().K8S_VERSION);
    assert.equal(v.clientVersion.gitVersion, pinnedVersions().K8S_VERSION);
  });

  it('should run a pod with required node affinity on that KWOK node', async () => {
    await createKwokNode(cp!, { name: 'edge-a', labels: { 'edgesplit.io/tier': 'edge' }, cpu: '2', memory: '2Gi' });
    await createKwokNode(cp!, { name: 'edge-b', labels: { 'edgesplit.io/tier': 'edge' }, cpu: '4', memory: '4Gi' });

    const node = JSON.parse((await cp!.kubectl(['get', 'node', 'edge-b', '-o', 'json'])).stdout);
    assert.equal(node.status.allocatable.cpu, '4');
    assert.equal(node.metadata.labels['edgesplit.io/tier'], 'edge');

    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'pinned', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'pinned' } },
        template: {
          metadata: { labels: { app: 'pinned' } },
          spec: {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-b'] }] }],
                },
              },
            },
            containers: [{ name: 'c', image: 'example.invalid/never-pulled:1', resources: { requests: { cpu: '100m' } } }],
          },
        },
      },
    };
    const created = await cp!.kubectl(['apply', '-f', '-'], JSON.stringify(deployment));
    assert.equal(created.code, 0, created.stderr);

    const deadline = Date.now() + 60_000;
    let pods: any[] = [];
    while (Date.now() < deadline) {
      const r = await cp!.kubectl(['get', 'pods', '-l', 'app=pinned', '-o', 'json']);
      pods = r.code === 0 ? JSON.parse(r.stdout).items : [];
      if (pods.length === 1 && pods[0].status.phase === 'Running') break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(pods.length, 1, `expected one pod\n${cp!.logs()}`);
    assert.equal(pods[0].status.phase, 'Running', `pod status: ${JSON.stringify(pods[0].status)}\n${cp!.logs()}`);
    assert.equal(pods[0].spec.nodeName, 'edge-b');
  });
});

import assert from 'node:assert/strict';
import { decisionJson } from '../../src/roles/planner/k8s/decision.ts';
import { deployedPlan, desiredObjects, planObjects, routerConfigMap } from '../../src/roles/planner/k8s/objects.ts';
import { deploymentReady, reconcile } from '../../src/roles/planner/k8s/reconcile.ts';
import { parsePlan, planHash, type Plan } from '../../src/runtime/plan.ts';
import { FakeClusterApi } from '../fakes/fake-cluster-api.ts';

function doc(pkg: string, nodes: string[]): Plan {
  const assignments = nodes.map((node, partition) => ({ partition, node }));
  return {
    planHash: planHash({ package: pkg, policyId: 'x', assignments }), package: pkg, packagePath: pkg, partitions: nodes.length, policyId: 'x', accuracy: 0.92,
    assignments: nodes.map((node, partition) => ({ partition, node })),
    predicted: { latencyMs: 7, computeMs: 6, transferMs: 1, exchangedBytes: 3152 },
    objective: { mode: 'latency', accuracyFloor: 0.9 }, strategy: 'exact', alternatives: [], explanation: 'because',
  };
}

describe('planner Kubernetes objects', () => {
  it('should hash only package, policy and placement', () => {
    const a = doc('pkg', ['n1', 'n2']);
    const b = { ...a, predicted: { ...a.predicted, latencyMs: 99 }, explanation: 'other' };
    assert.equal(planHash(a), planHash(b));
    assert.notEqual(planHash(a), planHash(doc('pkg', ['n2', 'n1'])));
    assert.match(planHash(a), /^[0-9a-f]{12}$/);
  });

  it('should make the router\'s ConfigMap, and per plan a ConfigMap, a pinned Deployment and a Service per partition', () => {
    const d = doc('fmnist-p2-none', ['edge-a', 'edge-b']);
    const h = planHash(d);
    const objs = desiredObjects(d, { namespace: 'ns1', image: 'img:1' });
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), ['ConfigMap/edgesplit-plan', `ConfigMap/edgesplit-plan-${h}`,
      `Deployment/edgesplit-${h}-p0`, `Service/edgesplit-${h}-p0`, `Deployment/edgesplit-${h}-p1`, `Service/edgesplit-${h}-p1`]);
    for (const o of objs.slice(1)) assert.match(o.metadata.name, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a DNS-1035 label');
    const dep = objs[4] as any;
    assert.deepEqual(dep.metadata.labels, {
      'app.kubernetes.io/name': 'edgesplit', 'app.kubernetes.io/managed-by': 'edgesplit-planner', 'edgesplit.io/plan': h,
      'app.kubernetes.io/component': 'partition', 'edgesplit.io/partition': '1',
    });
    const selector = { 'app.kubernetes.io/name': 'edgesplit', 'app.kubernetes.io/component': 'partition', 'edgesplit.io/partition': '1', 'edgesplit.io/plan': h };
    assert.deepEqual(dep.spec.selector, { matchLabels: selector });
    assert.deepEqual(dep.spec.template.metadata.labels, { ...selector, 'edgesplit.io/package': 'fmnist-p2-none' });
    assert.deepEqual(dep.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-b'] }] }]);
    assert.deepEqual(dep.spec.template.spec.containers[0].args, ['serve', 'partition', '--index', '1', '--package',
      '/app/models/fmnist-p2-none', '--plan', '/etc/edgesplit/plan/plan.json', '--port', '50051']);
    assert.deepEqual(dep.spec.template.spec.volumes, [{ name: 'plan', configMap: { name: `edgesplit-plan-${h}` } }]);
    const svc = objs[5] as any;
    assert.deepEqual(svc.spec, { selector, ports: [{ name: 'grpc', port: 50051, targetPort: 'grpc', protocol: 'TCP' }] });
    const plan = JSON.parse((objs[0] as any).data['plan.json']);
    assert.deepEqual(plan, deployedPlan(d, 'ns1'));
    assert.deepEqual(parsePlan((objs[0] as any).data['plan.json']), deployedPlan(d, 'ns1'));
    assert.deepEqual(plan.peers, [`edgesplit-${h}-p0.ns1.svc:50051`, `edgesplit-${h}-p1.ns1.svc:50051`]);
    assert.deepEqual((objs[1] as any).data, (objs[0] as any).data, 'the partitions read the same plan.json');
    assert.deepEqual((objs[0] as any).metadata.labels, { 'app.kubernetes.io/name': 'edgesplit', 'app.kubernetes.io/managed-by': 'edgesplit-planner',
      'edgesplit.io/plan': h, 'app.kubernetes.io/component': 'plan' });
    assert.deepEqual(desiredObjects(d, { namespace: 'ns1', image: 'img:1' }).slice(1), planObjects(d, { namespace: 'ns1', image: 'img:1' }));
  });

  it('should put decision.json beside plan.json in the router\'s ConfigMap, header first and the rest sorted', () => {
    const d = doc('p2', ['a', 'b']);
    const text = decisionJson({ at: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), reason: 'calibrated', planHash: d.planHash, previousPlanHash: 'abcdefabcdef' },
      { predictedNewMs: 7, predictedOldMs: 9.5, measuredOldMs: 11, reason: 'ignored: the header wins' });
    assert.equal(text, `{"at":"2025-01-02T03:04:05.000Z","reason":"calibrated","planHash":"${d.planHash}","previousPlanHash":"abcdefabcdef",` +
      '"measuredOldMs":11,"predictedNewMs":7,"predictedOldMs":9.5}\n');
    const cm = routerConfigMap(d, { namespace: 'ns', image: 'i', owner: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'pl', uid: 'u1' } }, text) as any;
    assert.deepEqual(Object.keys(cm.data), ['plan.json', 'decision.json']);
    assert.equal(cm.data['decision.json'], text);
    assert.deepEqual(cm.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'pl', uid: 'u1', blockOwnerDeletion: false, controller: false }]);
  });

  it('should count a Deployment ready only with a ready replica and a status as new as its spec', () => {
    const dep = (status: object, generation?: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', generation }, status });
    assert.equal(deploymentReady(dep({})), false);
    assert.equal(deploymentReady(dep({ readyReplicas: 0 })), false);
    assert.equal(deploymentReady(dep({ readyReplicas: 1 })), true);
    assert.equal(deploymentReady(dep({ availableReplicas: 1 })), true);
    assert.equal(deploymentReady(dep({ readyReplicas: 1, observedGeneration: 1 }, 2)), false, 'the status of the previous spec');
    assert.equal(deploymentReady(dep({ readyReplicas: 1, observedGeneration: 2 }, 2)), true);
  });

  it('should merge the chart\'s pod template: lists joined, our fields kept, the chart\'s resources and probes used', () => {
    const tlsDir = '/etc/edgesplit/tls';
    const podTemplate = {
      metadata: { labels: { team: 'edge' } },
      spec: {
        securityContext: { runAsNonRoot: true },
        volumes: [{ name: 'tls', secret: { secretName: 'cluster-tls' } }],
        containers: [{
          name: 'ignored', args: ['ignored'], resources: { limits: { memory: '768Mi' } },
          env: [{ name: 'EDGESPLIT_TLS_CERT', value: `${tlsDir}/tls.crt` }],
          volumeMounts: [{ name: 'tls', mountPath: tlsDir, readOnly: true }],
          readinessProbe: { tcpSocket: { port: 'grpc' } }, livenessProbe: { tcpSocket: { port: 'grpc' } },
        }],
      },
    };
    const dep = planObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i', podTemplate })[1] as any;
    const pod = dep.spec.template;
    const c = pod.spec.containers[0];
    assert.equal(pod.metadata.labels.team, 'edge');
    assert.equal(pod.metadata.labels['edgesplit.io/partition'], '0');
    assert.deepEqual(pod.spec.securityContext, { runAsNonRoot: true });
    assert.deepEqual(pod.spec.volumes.map((v: any) => v.name), ['plan', 'tls']);
    assert.equal(c.name, 'partition');
    assert.equal(c.args[0], 'serve');
    assert.deepEqual(c.env.map((e: any) => e.name), ['EDGESPLIT_PARTITION_INDEX', 'EDGESPLIT_PACKAGE', 'EDGESPLIT_PLAN', 'EDGESPLIT_TLS_CERT']);
    assert.deepEqual(c.volumeMounts.map((m: any) => m.mountPath), ['/etc/edgesplit/plan', tlsDir]);
    assert.deepEqual(c.resources, { limits: { memory: '768Mi' } });
    assert.deepEqual(c.readinessProbe, { tcpSocket: { port: 'grpc' } }, 'TLS: the kubelet gRPC probe cannot do TLS');
    assert.deepEqual(c.livenessProbe, { tcpSocket: { port: 'grpc' } });
    const plain = planObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i', podTemplate: { spec: { containers: [{}] } } })[1] as any;
    assert.deepEqual(plain.spec.template.spec.containers[0].readinessProbe, { grpc: { port: 50051 } });
  });

  it('should expose the chart\'s metrics port on the partition containers and Services (for the ServiceMonitor)', () => {
    const podTemplate = { spec: { containers: [{ ports: [{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }] }] } };
    const objs = planObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i', podTemplate }) as any[];
    assert.deepEqual(objs[1].spec.template.spec.containers[0].ports.map((p: any) => `${p.name}:${p.containerPort}`), ['grpc:50051', 'metrics:9464']);
    assert.deepEqual(objs[2].spec.ports.map((p: any) => `${p.name}:${p.port}`), ['grpc:50051', 'metrics:9464']);
    const none = planObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i' }) as any[];
    assert.deepEqual(none[2].spec.ports.map((p: any) => p.name), ['grpc']);
  });

  it('should apply idempotently and delete what another plan no longer needs', async () => {
    const api = new FakeClusterApi();
    const d4 = doc('p4', ['a', 'b', 'c', 'd']);
    const four = desiredObjects(d4, { namespace: 'ns', image: 'i' });
    await reconcile(api, 'ns', four);
    const versions = [...api.objects.values()].map((o) => o.metadata.resourceVersion);
    const again = await reconcile(api, 'ns', four);
    assert.deepEqual(again.deleted, []);
    assert.deepEqual([...api.objects.values()].map((o) => o.metadata.resourceVersion), versions);
    const d1 = doc('p1', ['b']);
    const [h1, h4] = [d1.planHash, d4.planHash];
    const one = await reconcile(api, 'ns', desiredObjects(d1, { namespace: 'ns', image: 'i' }));
    assert.deepEqual(one.applied, ['ConfigMap/edgesplit-plan', `ConfigMap/edgesplit-plan-${h1}`, `Deployment/edgesplit-${h1}-p0`, `Service/edgesplit-${h1}-p0`]);
    assert.deepEqual(one.deleted, [`ConfigMap/edgesplit-plan-${h4}`, ...[0, 1, 2, 3].map((i) => `Deployment/edgesplit-${h4}-p${i}`),
      ...[0, 1, 2, 3].map((i) => `Service/edgesplit-${h4}-p${i}`)]);
  });
});

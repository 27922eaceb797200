import assert from 'node:assert/strict';
import { deployedPlan, desiredObjects } from '../../src/roles/planner/k8s/objects.ts';
import { reconcile } from '../../src/roles/planner/k8s/reconcile.ts';
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

  it('should make a ConfigMap, and a pinned Deployment and a Service per partition', () => {
    const d = doc('fmnist-p2-none', ['edge-a', 'edge-b']);
    const objs = desiredObjects(d, { namespace: 'ns1', image: 'img:1' });
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`),
      ['ConfigMap/edgesplit-plan', 'Deployment/edgesplit-p0', 'Service/edgesplit-p0', 'Deployment/edgesplit-p1', 'Service/edgesplit-p1']);
    const dep = objs[3] as any;
    assert.deepEqual(dep.metadata.labels, {
      'app.kubernetes.io/name': 'edgesplit', 'app.kubernetes.io/managed-by': 'edgesplit-planner', 'edgesplit.io/plan': planHash(d),
      'app.kubernetes.io/component': 'partition', 'edgesplit.io/partition': '1',
    });
    assert.deepEqual(dep.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-b'] }] }]);
    assert.deepEqual(dep.spec.template.spec.containers[0].args, ['serve', 'partition', '--index', '1', '--package',
      '/app/models/fmnist-p2-none', '--plan', '/etc/edgesplit/plan/plan.json', '--port', '50051']);
    assert.equal(dep.spec.template.metadata.labels['edgesplit.io/plan'], undefined);
    assert.deepEqual((objs[4] as any).spec.ports, [{ name: 'grpc', port: 50051, targetPort: 'grpc', protocol: 'TCP' }]);
    const plan = JSON.parse((objs[0] as any).data['plan.json']);
    assert.deepEqual(plan, deployedPlan(d, 'ns1'));
    assert.deepEqual(parsePlan((objs[0] as any).data['plan.json']), deployedPlan(d, 'ns1'));
    assert.deepEqual(plan.peers, ['edgesplit-p0.ns1.svc:50051', 'edgesplit-p1.ns1.svc:50051']);
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
    const dep = desiredObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i', podTemplate })[1] as any;
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
    const plain = desiredObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i', podTemplate: { spec: { containers: [{}] } } })[1] as any;
    assert.deepEqual(plain.spec.template.spec.containers[0].readinessProbe, { grpc: { port: 50051 } });
  });

  it('should expose the chart\'s metrics port on the partition containers and Services (for the ServiceMonitor)', () => {
    const podTemplate = { spec: { containers: [{ ports: [{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }] }] } };
    const objs = desiredObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i', podTemplate }) as any[];
    assert.deepEqual(objs[1].spec.template.spec.containers[0].ports.map((p: any) => `${p.name}:${p.containerPort}`), ['grpc:50051', 'metrics:9464']);
    assert.deepEqual(objs[2].spec.ports.map((p: any) => `${p.name}:${p.port}`), ['grpc:50051', 'metrics:9464']);
    const none = desiredObjects(doc('p2', ['a', 'b']), { namespace: 'ns', image: 'i' }) as any[];
    assert.deepEqual(none[2].spec.ports.map((p: any) => p.name), ['grpc']);
  });

  it('should apply idempotently and delete what a smaller plan no longer needs', async () => {
    const api = new FakeClusterApi();
    const four = desiredObjects(doc('p4', ['a', 'b', 'c', 'd']), { namespace: 'ns', image: 'i' });
    await reconcile(api, 'ns', four);
    const versions = [...api.objects.values()].map((o) => o.metadata.resourceVersion);
    const again = await reconcile(api, 'ns', four);
    assert.deepEqual(again.deleted, []);
    assert.deepEqual([...api.objects.values()].map((o) => o.metadata.resourceVersion), versions);
    const one = await reconcile(api, 'ns', desiredObjects(doc('p1', ['b']), { namespace: 'ns', image: 'i' }));
    assert.deepEqual(one.applied, ['ConfigMap/edgesplit-plan', 'Deployment/edgesplit-p0', 'Service/edgesplit-p0']);
    assert.deepEqual(one.deleted, ['Deployment/edgesplit-p1', 'Deployment/edgesplit-p2', 'Deployment/edgesplit-p3',
      'Service/edgesplit-p1', 'Service/edgesplit-p2', 'Service/edgesplit-p3']);
  });
});

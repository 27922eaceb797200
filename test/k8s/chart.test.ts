// The Helm chart (charts/edgesplit) against real tools: helm lint/template, the
// API server's own validation (kubectl apply --dry-run=server), and a real
// install / upgrade / uninstall on the test control plane with KWOK edge nodes.
//
// What runs how: KWOK runs no containers, so the planner pod the chart creates
// is Running but does nothing. The planner controller therefore runs in this
// process (src/roles/planner, the same code as `edgesplit serve planner`) with
// the exact environment of the chart's planner container (from the installed
// Deployment; /app mapped to this checkout) and under the chart's planner
// ServiceAccount identity (a TokenRequest token), so the RBAC under test is the
// RBAC it really uses. A helm upgrade is followed by restarting it with the new
// Deployment's environment, as the Recreate rollout would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import {
  createKwokNode, haveTools, missingToolsMessage, startControlPlane, type ControlPlane,
} from './harness/control-plane.ts';
import { toolPath } from './harness/processes.ts';
import { planHash, type Plan } from '../../src/runtime/plan.ts';
import { waitFor } from '../helpers/wait.ts';
import { skipBecause } from '../skip.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHART = join(ROOT, 'charts/edgesplit');
const HELM = toolPath('helm');
const SCENARIOS = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
const NS = 'edge';
const RELEASE = 'edgesplit';
const EDGE_NODES = ['edge-1', 'edge-2', 'edge-3', 'edge-4'];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const helmHome = mkdtempSync(join(tmpdir(), 'edgesplit-helm-'));
process.on('exit', () => rmSync(helmHome, { recursive: true, force: true }));

function helm(args: string[], kubeconfig?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env, HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'), ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
  };
  return new Promise((resolve) => {
    execFile(HELM, args, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function render(args: string[] = [], release = RELEASE): Promise<Obj[]> {
  const r = await helm(['template', release, CHART, '--namespace', NS, ...args]);
  assert.equal(r.code, 0, `helm template ${args.join(' ')}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS()).filter((o): o is Obj => o && typeof o === 'object');
}

const podSpecs = (objs: Obj[]) => objs.filter((o) => o.kind === 'Deployment').map((d) => ({ name: d.metadata.name, spec: d.spec.template.spec }));

function containerEnv(objs: Obj[], deployment: string): Record<string, string> {
  const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment);
  assert.ok(d, `no Deployment ${deployment}`);
  return Object.fromEntries(d.spec.template.spec.containers[0].env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
}


const haveHelm = existsSync(HELM);

/** A two-partition plan, for rendering the objects the planner would create from the chart's pod template. */
function testPlan(): Plan {
  const assignments = [{ partition: 0, node: 'edge-1' }, { partition: 1, node: 'edge-2' }];
  return {
    planHash: planHash({ package: 'fmnist-p2-baseline', policyId: 'baseline', assignments }), package: 'fmnist-p2-baseline', packagePath: 'fmnist-p2-baseline', partitions: 2, policyId: 'baseline', accuracy: 0.93,
    assignments: [{ partition: 0, node: 'edge-1' }, { partition: 1, node: 'edge-2' }],
    predicted: { latencyMs: 7, computeMs: 6, transferMs: 1, exchangedBytes: 3152 },
    objective: { mode: 'latency', accuracyFloor: 0.9 }, strategy: 'exact', alternatives: [], explanation: 'chart test',
  };
}

describe('helm chart charts/edgesplit (helm lint and template)', function () {
  this.timeout(120_000);

  before(function () {
    if (!haveHelm) {
      skipBecause(this, `needs helm at ${HELM} (scripts/build-test-tools.sh)`);
    }
  });

  it('should pass helm lint --strict with the default values and every ci/*-values.yaml', async () => {
    assert.ok(SCENARIOS.length >= 5, `expected the ci scenarios, found ${SCENARIOS.join(', ')}`);
    for (const f of [undefined, ...SCENARIOS]) {
      const r = await helm(['lint', '--strict', CHART, ...(f ? ['-f', join(CHART, 'ci', f)] : [])]);
      assert.equal(r.code, 0, `helm lint ${f ?? '(defaults)'}:\n${r.stdout}${r.stderr}`);
    }
  });

  it('should render the planner, its RBAC and the router by default, and static partitions without the planner', async () => {
    const kinds = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds(await render()), [
      'ClusterRole/edgesplit-planner-edge', 'ClusterRoleBinding/edgesplit-planner-edge',
      'Deployment/edgesplit-planner', 'Deployment/edgesplit-router', 'Role/edgesplit-planner', 'RoleBinding/edgesplit-planner',
      'Service/edgesplit-planner', 'Service/edgesplit-router', 'ServiceAccount/edgesplit-planner',
    ]);
    const statics = await render(['-f', join(CHART, 'ci/static-values.yaml')]);
    assert.deepEqual(kinds(statics), [
      ...[0, 1, 2, 3].map((i) => `Deployment/edgesplit-p${i}`), 'Deployment/edgesplit-router',
      ...[0, 1, 2, 3].map((i) => `Service/edgesplit-p${i}`), 'Service/edgesplit-router',
    ].sort());
    const peers = [0, 1, 2, 3].map((i) => `edgesplit-p${i}.${NS}.svc:50051`).join(',');
    for (let i = 0; i < 4; i++) {
      const d = statics.find((o) => o.metadata.name === `edgesplit-p${i}` && o.kind === 'Deployment')!;
      const pod = d.spec.template.spec;
      assert.deepEqual(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0],
        { key: 'kubernetes.io/hostname', operator: 'In', values: [`edge-${i + 1}`] });
      assert.deepEqual(pod.containers[0].args, ['serve', 'partition', '--package', '/app/models/fmnist-p4-baseline',
        '--index', String(i), '--port', '50051', '--peers', peers]);
    }
    const router = statics.find((o) => o.metadata.name === 'edgesplit-router' && o.kind === 'Deployment')!;
    const args: string[] = router.spec.template.spec.containers[0].args;
    assert.equal(args[args.indexOf('--partitions') + 1], peers);
    assert.equal(args[args.indexOf('--package') + 1], '/app/models/fmnist-p4-baseline');
  });

  it('should map the objective and OTel values onto the containers', async () => {
    const slo = await render(['-f', join(CHART, 'ci/slo-values.yaml')]);
    const env = containerEnv(slo, 'edgesplit-planner');
    assert.equal(env.EDGESPLIT_SLO_MS, '40');
    assert.equal(env.EDGESPLIT_ACCURACY_FLOOR, undefined);
    assert.equal(env.EDGESPLIT_NAMESPACE, undefined, 'namespace comes from the downward API');
    const router = containerEnv(slo, 'edgesplit-router');
    assert.equal(router.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger.observability.svc:4317');
    assert.equal(router.OTEL_SERVICE_NAME, 'edgesplit-router');
    assert.equal(router.OTEL_TRACES_SAMPLER_ARG, '0.25');
    assert.match(router.OTEL_RESOURCE_ATTRIBUTES, /k8s\.namespace\.name=edge,.*deployment\.environment=ci$/);
    const tpl = JSON.parse(env.EDGESPLIT_PARTITION_TEMPLATE);
    assert.ok(tpl.spec.containers[0].env.some((e: any) => e.name === 'OTEL_SERVICE_NAME' && e.value === 'edgesplit-partition'));

    const plain = (await render()).find((o) => o.kind === 'Deployment' && o.metadata.name === 'edgesplit-router')!;
    assert.deepEqual(plain.spec.template.spec.containers[0].readinessProbe.grpc, { port: 8001 });
    assert.deepEqual(plain.spec.template.spec.containers[0].livenessProbe.tcpSocket, { port: 8001 }, 'NOT_SERVING while partitions are down must not restart the router');

    const both = await helm(['template', RELEASE, CHART, '--set', 'model.sloMs=40', '--set', 'model.accuracyFloor=0.9']);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /accuracyFloor or model\.sloMs, not both/);
    const noSecret = await helm(['template', RELEASE, CHART, '--set', 'tls.enabled=true']);
    assert.match(noSecret.stderr, /tls\.secretName is required/);
  });

  it('should degrade by default and pass the router\'s strict, admission and circuit-breaker values', async () => {
    const routerArgs = (objs: Obj[]) => {
      const a: string[] = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'edgesplit-router')!.spec.template.spec.containers[0].args;
      return Object.fromEntries(['--strict', '--max-in-flight', '--breaker-failures'].map((f) => [f, a[a.indexOf(f) + 1]]));
    };
    assert.deepEqual(routerArgs(await render()), { '--strict': 'false', '--max-in-flight': '64', '--breaker-failures': '3' },
      'degradation is the default; router defaults (src/roles/router/config.ts)');
    assert.deepEqual(routerArgs(await render(['--set', 'router.strict=true', '--set', 'router.maxInFlight=16', '--set', 'router.breakerFailures=5'])),
      { '--strict': 'true', '--max-in-flight': '16', '--breaker-failures': '5' });
  });

  it("should pass the router's dynamic batching values, on by default", async () => {
    const flags = ['--dynamic-batching', '--batch-max-size', '--batch-preferred-sizes', '--batch-max-queue-delay-us', '--batch-instances'];
    const routerArgs = (objs: Obj[]) => {
      const a: string[] = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'edgesplit-router')!.spec.template.spec.containers[0].args;
      return Object.fromEntries(flags.map((f) => [f, a[a.indexOf(f) + 1]]));
    };
    assert.deepEqual(routerArgs(await render()), { '--dynamic-batching': 'true', '--batch-max-size': '16', '--batch-preferred-sizes': '',
      '--batch-max-queue-delay-us': '0', '--batch-instances': '2' }, 'router defaults (src/roles/router/config.ts)');
    assert.deepEqual(routerArgs(await render(['--set', 'router.batching.enabled=false', '--set', 'router.batching.maxBatchSize=8',
      '--set', 'router.batching.preferredBatchSizes={4,8}', '--set', 'router.batching.maxQueueDelayUs=500', '--set', 'router.batching.instances=1'])),
    { '--dynamic-batching': 'false', '--batch-max-size': '8', '--batch-preferred-sizes': '4,8', '--batch-max-queue-delay-us': '500', '--batch-instances': '1' });
    const bad = await helm(['template', RELEASE, CHART, '--set', 'router.batching.maxBatchSize=0']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /maxBatchSize/);
  });

  it('should mount one TLS Secret into router, planner and every partition, with TCP probes on TLS ports', async () => {
    const tlsDir = '/etc/edgesplit/tls';
    const secret = 'edgesplit-cluster-tls';
    /** The TLS part of one pod: EDGESPLIT_TLS_* env, the mount, the Secret volume, the probes. */
    const tlsOf = (spec: any) => {
      const c = spec.containers[0];
      const env = Object.fromEntries(c.env.filter((e: any) => e.name.startsWith('EDGESPLIT_TLS_')).map((e: any) => [e.name, e.value]));
      const mount = c.volumeMounts.find((m: any) => m.mountPath === tlsDir);
      const volume = spec.volumes.find((v: any) => v.name === mount?.name);
      return { env, mount, volume, readiness: c.readinessProbe, liveness: c.livenessProbe };
    };
    const expectTls = (spec: any, at: string, require: boolean, serverName?: string) => {
      const t = tlsOf(spec);
      assert.deepEqual(t.env, {
        EDGESPLIT_TLS_CERT: `${tlsDir}/tls.crt`, EDGESPLIT_TLS_KEY: `${tlsDir}/tls.key`, EDGESPLIT_TLS_CA: `${tlsDir}/ca.crt`,
        EDGESPLIT_TLS_REQUIRE_CLIENT_CERT: String(require), ...(serverName ? { EDGESPLIT_TLS_SERVER_NAME: serverName } : {}),
      }, at);
      assert.equal(t.mount?.readOnly, true, `${at}: read-only mount`);
      assert.equal(t.volume?.secret?.secretName, secret, `${at}: the one cluster Secret`);
      assert.equal(t.volume?.secret?.defaultMode, 0o440, at);
      for (const p of [t.readiness, t.liveness]) {
        assert.ok(p?.tcpSocket && !p.grpc, `${at}: the kubelet's gRPC probe cannot do TLS: ${JSON.stringify(p)}`);
      }
    };
    const spec = (objs: Obj[], name: string) => objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec.template.spec;

    const tls = await render(['-f', join(CHART, 'ci/tls-values.yaml')]);
    assert.equal(containerEnv(tls, 'edgesplit-planner').EDGESPLIT_ACCURACY_FLOOR, '0.9');
    expectTls(spec(tls, 'edgesplit-router'), 'router', false, 'edgesplit.internal');
    assert.deepEqual(spec(tls, 'edgesplit-router').containers[0].readinessProbe.tcpSocket, { port: 8001 });
    expectTls(spec(tls, 'edgesplit-planner'), 'planner', true, 'edgesplit.internal');
    assert.deepEqual(spec(tls, 'edgesplit-planner').containers[0].readinessProbe.tcpSocket, { port: 50052 });
    // The partitions the planner creates: the pod template it is handed, merged the way it merges it.
    const tpl = JSON.parse(containerEnv(tls, 'edgesplit-planner').EDGESPLIT_PARTITION_TEMPLATE);
    expectTls(tpl.spec, 'planner partition template', true, 'edgesplit.internal');
    assert.deepEqual(tpl.spec.containers[0].readinessProbe.tcpSocket, { port: 'grpc' });
    const { desiredObjects } = await import('../../src/roles/planner/k8s/objects.ts');
    const planned = desiredObjects(testPlan(), { namespace: NS, image: 'i', podTemplate: tpl })
      .filter((o) => o.kind === 'Deployment').map((d: any) => d.spec.template.spec);
    assert.equal(planned.length, 2);
    for (const [i, p] of planned.entries()) {
      expectTls(p, `planner-created partition ${i}`, true, 'edgesplit.internal');
      assert.ok(p.volumes.some((v: any) => v.name === 'plan') && p.volumes.some((v: any) => v.name === 'tmp'), 'the planner\'s and the chart\'s volumes');
    }

    const statics = await render(['-f', join(CHART, 'ci/static-tls-values.yaml')]);
    expectTls(spec(statics, 'edgesplit-router'), 'static router', false);
    for (const i of [0, 1]) {
      expectTls(spec(statics, `edgesplit-p${i}`), `static edgesplit-p${i}`, true);
      assert.deepEqual(spec(statics, `edgesplit-p${i}`).containers[0].readinessProbe.tcpSocket, { port: 50051 });
    }
    const mtlsRouter = await render(['-f', join(CHART, 'ci/tls-values.yaml'), '--set', 'tls.routerRequireClientCert=true',
      '--set', 'tls.plannerRequireClientCert=false', '--set', 'tls.serverName=']);
    expectTls(spec(mtlsRouter, 'edgesplit-router'), 'router with client certificates', true);
    expectTls(spec(mtlsRouter, 'edgesplit-planner'), 'planner without client certificates', false);

    // Without TLS nothing of it is rendered, and the probes stay gRPC.
    const plainObjs = await render(['-f', join(CHART, 'ci/static-values.yaml')]);
    for (const name of ['edgesplit-router', 'edgesplit-p0']) {
      const t = tlsOf(spec(plainObjs, name));
      assert.deepEqual([t.env, t.mount, t.volume], [{}, undefined, undefined], name);
      assert.ok(t.readiness.grpc, name);
    }
    const plainTpl = JSON.parse(containerEnv(await render(), 'edgesplit-planner').EDGESPLIT_PARTITION_TEMPLATE);
    assert.equal(plainTpl.spec.containers[0].readinessProbe, undefined, 'the planner\'s own gRPC probe stays');
    assert.ok(!plainTpl.spec.volumes.some((v: any) => v.secret));
  });

  it('should run every pod non-root with a read-only root filesystem, no privilege escalation, no capabilities and resources set', async () => {
    for (const f of [undefined, ...SCENARIOS]) {
      const objs = await render(f ? ['-f', join(CHART, 'ci', f)] : []);
      const specs = podSpecs(objs);
      const planner = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'edgesplit-planner');
      if (planner) specs.push({ name: 'planner partition template', spec: JSON.parse(containerEnv(objs, 'edgesplit-planner').EDGESPLIT_PARTITION_TEMPLATE).spec });
      for (const { name, spec } of specs) {
        const at = `${f ?? 'defaults'}: ${name}`;
        assert.equal(spec.securityContext.runAsNonRoot, true, at);
        assert.equal(spec.securityContext.runAsUser, 10001, at);
        assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault', at);
        for (const c of spec.containers) {
          assert.equal(c.securityContext.readOnlyRootFilesystem, true, at);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, at);
          assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], at);
          assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${at}: resources`);
          assert.ok(c.volumeMounts.some((m: any) => m.mountPath === '/tmp'), `${at}: writable /tmp`);
        }
        if (name !== 'edgesplit-planner') assert.equal(spec.automountServiceAccountToken, false, `${at}: only the planner talks to the API`);
      }
    }
  });

  it('should keep every name within 63 characters and carry the app.kubernetes.io labels', async () => {
    const long = 'a-very-long-release-name-for-an-edge-cluster-fleet-x'; // 52 characters
    for (const f of [undefined, ...SCENARIOS]) {
      for (const objs of [await render(f ? ['-f', join(CHART, 'ci', f)] : []), await render(f ? ['-f', join(CHART, 'ci', f)] : [], long)]) {
        for (const o of objs) {
          const at = `${f ?? 'defaults'}: ${o.kind}/${o.metadata.name}`;
          assert.ok(o.metadata.name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name), `${at}: not a DNS label`);
          const l = o.metadata.labels ?? {};
          for (const k of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart']) {
            assert.ok(l[k], `${at}: label ${k}`);
          }
          if (o.kind === 'Deployment') assert.ok(o.spec.template.metadata.labels['app.kubernetes.io/component'], at);
        }
        const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
        assert.equal(new Set(names).size, names.length, 'names must stay distinct after truncation');
      }
    }
  });

  it('should document every value in values.yaml with a comment', () => {
    // A key is documented when a comment sits right above it or above an enclosing key.
    const lines = readFileSync(join(CHART, 'values.yaml'), 'utf8').split('\n');
    const documented: { indent: number; ok: boolean }[] = [];
    const missing: string[] = [];
    let comment = false;
    lines.forEach((line, n) => {
      if (/^\s*#/.test(line)) { comment = true; return; }
      if (!line.trim()) { comment = false; return; }
      const m = /^(\s*)(- )?([\w./-]+):/.exec(line);
      if (!m || m[2]) { comment = false; return; }
      const indent = m[1].length;
      while (documented.length && documented[documented.length - 1].indent >= indent) documented.pop();
      const ok = comment || documented.some((d) => d.ok);
      documented.push({ indent, ok });
      const isLeaf = !/:\s*$/.test(line) || /^\s*-/.test(lines[n + 1] ?? '');
      if (isLeaf && !ok) missing.push(`line ${n + 1}: ${line.trim()}`);
      comment = false;
    });
    assert.deepEqual(missing, []);
    assert.ok(parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')));
  });

  it('should reject empty or mistyped numbers and unknown keys with the value\'s path (values.schema.json)', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'router.timeoutMs='], /\/router\/timeoutMs.*got string, want integer/],
      [['--set', 'partition.port=0'], /\/partition\/port/],
      [['--set', 'router.service.type=Ingress'], /\/router\/service\/type/],
      [['--set', 'model.accuracyFloor=1.5'], /\/model\/accuracyFloor/],
      [['--set', 'router.timeoutMS=5000'], /timeoutMS/],
      [['--set-json', 'static.partitions=[{"node":""}]'], /\/static\/partitions\/0\/node/],
    ];
    for (const [args, re] of cases) {
      const r = await helm(['template', RELEASE, CHART, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} should be rejected`);
      assert.match(r.stderr, re, args.join(' '));
    }
    // Empty strings that mean "not set" stay allowed.
    for (const args of [['--set', 'model.accuracyFloor='], ['--set', 'model.sloMs=250'], ['--set', 'router.service.nodePort=']]) {
      const r = await helm(['template', RELEASE, CHART, ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('should serve /metrics from every pod with metrics.enabled, and add a ServiceMonitor only when asked', async () => {
    assert.equal((await render()).some((o) => o.kind === 'ServiceMonitor'), false);
    for (const d of podSpecs(await render())) {
      const env = d.spec.containers[0].env.map((e: any) => e.name);
      assert.ok(!env.includes('EDGESPLIT_PROMETHEUS_PORT') && env.includes('OTEL_SDK_DISABLED'), d.name);
    }
    for (const mode of [[], ['-f', join(CHART, 'ci/static-values.yaml')]]) {
      const objs = await render([...mode, '--set', 'metrics.enabled=true', '--set', 'metrics.serviceMonitor.enabled=true']);
      for (const d of podSpecs(objs)) {
        const c = d.spec.containers[0];
        const env = Object.fromEntries(c.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
        // OTEL_SDK_DISABLED would switch the Prometheus endpoint off too (services/common/telemetry/config.ts).
        assert.equal(env.OTEL_SDK_DISABLED, undefined, d.name);
        assert.equal(env.EDGESPLIT_PROMETHEUS_PORT, '9464', d.name);
        assert.ok(c.ports.some((p: any) => p.name === 'metrics' && p.containerPort === 9464), d.name);
      }
      for (const svc of objs.filter((o) => o.kind === 'Service')) {
        assert.ok(svc.spec.ports.some((p: any) => p.name === 'metrics' && p.targetPort === 'metrics'), svc.metadata.name);
      }
      const sm = objs.find((o) => o.kind === 'ServiceMonitor');
      assert.deepEqual(sm?.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s' }]);
      assert.deepEqual(sm?.spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'edgesplit' } });
    }
    // The planner gets the port in the partition template, so the partitions it creates serve it too.
    const tpl = JSON.parse(containerEnv(await render(['--set', 'metrics.enabled=true']), `${RELEASE}-planner`).EDGESPLIT_PARTITION_TEMPLATE);
    assert.deepEqual(tpl.spec.containers[0].ports, [{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    const bad = await helm(['template', RELEASE, CHART, '--set', 'metrics.serviceMonitor.enabled=true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /metrics.serviceMonitor.enabled needs metrics.enabled=true/);
  });

  // Found on real nodes: a partition moved by a re-plan closed its port before kube-proxy stopped sending it new
  // connections, and the router's requests were refused for about a second.
  it('should keep terminating router and partition pods serving for preStopSleepSeconds (planner-made partitions too)', async () => {
    const hook = { preStop: { exec: { command: ['sleep', '5'] } } };
    for (const d of podSpecs(await render(['-f', join(CHART, 'ci/static-values.yaml')]))) {
      assert.deepEqual(d.spec.containers[0].lifecycle, hook, d.name);
    }
    const objs = await render();
    assert.deepEqual(podSpecs(objs).find((d) => d.name === `${RELEASE}-router`)!.spec.containers[0].lifecycle, hook);
    const tpl = JSON.parse(containerEnv(objs, `${RELEASE}-planner`).EDGESPLIT_PARTITION_TEMPLATE);
    assert.deepEqual(tpl.spec.containers[0].lifecycle, hook);
    const off = await render(['--set', 'partition.preStopSleepSeconds=0', '--set', 'router.preStopSleepSeconds=0']);
    assert.ok(podSpecs(off).every((d) => d.spec.containers[0].lifecycle === undefined));
    assert.equal(JSON.parse(containerEnv(off, `${RELEASE}-planner`).EDGESPLIT_PARTITION_TEMPLATE).spec.containers[0].lifecycle, undefined);
  });

  it('should add a router PodDisruptionBudget only when there is more than one router', async () => {
    assert.equal((await render()).some((o) => o.kind === 'PodDisruptionBudget'), false);
    const pdb = (await render(['--set', 'router.replicas=3'])).filter((o) => o.kind === 'PodDisruptionBudget');
    assert.deepEqual(pdb.map((o) => [o.metadata.name, o.spec.minAvailable, o.spec.selector.matchLabels['app.kubernetes.io/component']]),
      [[`${RELEASE}-router`, 1, 'router']]);
    assert.equal((await render(['--set', 'router.replicas=3', '--set', 'router.podDisruptionBudget.enabled=false']))
      .some((o) => o.kind === 'PodDisruptionBudget'), false);
  });

  it('should keep k8s/base/edgesplit.yaml identical to the chart\'s default render', async () => {
    const strip = (objs: any[]) => objs.filter(Boolean).map((o) => {
      const c = structuredClone(o);
      for (const labels of [c.metadata.labels, c.spec?.template?.metadata?.labels]) {
        if (!labels) continue;
        delete labels['helm.sh/chart'];
        delete labels['app.kubernetes.io/managed-by'];
      }
      return c;
    });
    const r = await helm(['template', 'edgesplit', CHART, '--namespace', 'edgesplit']);
    assert.equal(r.code, 0, r.stderr);
    const chart = strip(parseAllDocuments(r.stdout).map((d) => d.toJS()));
    const base = strip(parseAllDocuments(readFileSync(join(ROOT, 'k8s/base/edgesplit.yaml'), 'utf8')).map((d) => d.toJS()));
    assert.deepEqual(base, chart, 'regenerate k8s/base/edgesplit.yaml (docs/deploy.md, "Without Helm")');
  });

  it('should lint the example values in k8s/examples', async () => {
    const r = await helm(['lint', '--strict', CHART, '-f', join(ROOT, 'k8s/examples/static-placement-values.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('should keep the chart RBAC identical to k8s/rbac/planner-rbac.yaml', async () => {
    const file = join(ROOT, 'k8s/rbac/planner-rbac.yaml');
    assert.ok(existsSync(file), `${file} (written with the planner) is missing`);
    const norm = (rules: any[]) => rules.flatMap((r) => (r.resources as string[]).flatMap((res) => (r.apiGroups as string[]).map((g) =>
      `${g || 'core'}/${res}: ${[...r.verbs].sort().join(',')}`))).sort();
    const byKind = (objs: any[]) => Object.fromEntries(['ClusterRole', 'Role'].map((k) => [k, norm(objs.filter((o) => o?.kind === k).flatMap((o) => o.rules))]));
    const chart = byKind(await render());
    const manifest = byKind(parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()));
    assert.deepEqual(chart, manifest);
  });
});

describe('helm chart on the test control plane (real API server, KWOK edge nodes)', function () {
  this.timeout(180_000);
  let cp: ControlPlane | undefined;
  let stopPlanner: (() => Promise<void>) | undefined;
  let plannerLog: string[] = [];

  const kubectl = async (args: string[], input?: string) => {
    const r = await cp!.kubectl(args, input);
    return r;
  };
  const getJson = async (args: string[]) => {
    const r = await kubectl([...args, '-o', 'json']);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const detail = () => `planner log:\n${plannerLog.slice(-30).join('\n')}`;

  /** The chart's planner container, run in this process with its Deployment's env under its ServiceAccount's token. */
  async function startPlannerFromDeployment(): Promise<void> {
    const d = await getJson(['-n', NS, 'get', 'deployment', `${RELEASE}-planner`]);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(c.args, ['serve', 'planner']);
    const env: Record<string, string> = {};
    for (const e of c.env) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = NS;
      else if (typeof e.value === 'string') env[e.name] = e.value.startsWith('/app/') ? join(ROOT, e.value.slice(5)) : e.value;
    }
    const token = await kubectl(['-n', NS, 'create', 'token', pod.serviceAccountName, '--duration=1h']);
    assert.equal(token.code, 0, token.stderr);
    const admin = parse(readFileSync(cp!.kubeconfig, 'utf8'));
    const saConfig = join(dirname(cp!.kubeconfig), `planner-sa-${Date.now()}.kubeconfig`);
    writeFileSync(saConfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
      clusters: [{ name: 'c', cluster: admin.clusters[0].cluster }],
      users: [{ name: 'sa', user: { token: token.stdout.trim() } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa', namespace: NS } }],
    }));
    const { loadConfig } = await import('../../src/roles/planner/config.ts');
    const { PlannerApp } = await import('../../src/roles/planner/app.ts');
    assert.equal(env.EDGESPLIT_ROUTER_ADDRESS, `${RELEASE}-router.${NS}.svc:8001`, 'the router Service, asked during a plan change');
    // No router runs on KWOK nodes and its Service name does not resolve here: a short grace instead of 90 s.
    const cfg = loadConfig([], { ...env, EDGESPLIT_PLANNER_PORT: '0', KUBECONFIG: saConfig, EDGESPLIT_SWITCH_GRACE_MS: '1000' });
    assert.equal(cfg.namespace, NS);
    assert.equal(cfg.readyTimeoutMs, 180_000);
    const app = await PlannerApp.create(cfg, { log: (s) => plannerLog.push(s) });
    stopPlanner = async () => {
      stopPlanner = undefined;
      await app.shutdown();
    };
  }

  async function deployedPlan(): Promise<any> {
    const cm = await getJson(['-n', NS, 'get', 'configmap', 'edgesplit-plan']);
    return JSON.parse(cm.data['plan.json']);
  }

  /** Waits until the plan in the ConfigMap satisfies `ok` and each of its partitions has a Running pod on its node. */
  async function waitForPlacedPlan(ok: (plan: any) => boolean): Promise<any> {
    return await waitFor('the planned partitions Running on their nodes', async () => {
      const plan = await deployedPlan();
      if (!ok(plan)) return undefined;
      const pods = (await getJson(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/component=partition'])).items;
      const live = pods.filter((p: any) => !p.metadata.deletionTimestamp);
      if (live.length !== plan.assignments.length) return undefined;
      for (const a of plan.assignments) {
        const pod = live.find((p: any) => p.metadata.labels['edgesplit.io/partition'] === String(a.partition));
        if (!pod || pod.status.phase !== 'Running' || pod.spec.nodeName !== a.node) return undefined;
      }
      return plan;
    }, 90_000, detail);
  }

  before(async function () {
    if (!haveTools() || !haveHelm) {
      skipBecause(this, haveHelm ? `needs the Kubernetes test tools: ${missingToolsMessage}` : `needs helm at ${HELM} (scripts/build-test-tools.sh)`);
    }
    cp = await startControlPlane({ log: (s) => process.env.EDGESPLIT_DEBUG && console.log(s) });
    assert.equal((await kubectl(['create', 'namespace', NS])).code, 0);
    await Promise.all(EDGE_NODES.map((name) => createKwokNode(cp!, {
      name, cpu: '4', memory: '4Gi',
      labels: { 'edgesplit.io/edge': 'true', 'edgesplit.io/gflops': '6', 'edgesplit.io/bandwidth-mbps': '300', 'edgesplit.io/latency-ms': '2' },
    })));
  });

  after(async () => {
    await stopPlanner?.();
    await cp?.stop();
  });

  afterEach(function () {
    // Component logs only with EDGESPLIT_DEBUG: the API server's and KWOK's routine lines drown the planner's.
    if (this.currentTest?.state === 'failed' && cp) {
      console.log(detail());
      if (process.env.EDGESPLIT_DEBUG) console.log(cp.logs());
    }
  });

  it('should render objects the API server accepts (kubectl apply --dry-run=server) for the defaults and every scenario', async () => {
    for (const f of [undefined, ...SCENARIOS]) {
      const r = await helm(['template', RELEASE, CHART, '--namespace', NS, ...(f ? ['-f', join(CHART, 'ci', f)] : [])]);
      assert.equal(r.code, 0, r.stderr);
      const a = await kubectl(['apply', '--dry-run=server', '-n', NS, '-f', '-'], r.stdout);
      assert.equal(a.code, 0, `${f ?? 'defaults'}: ${a.stderr}`);
      assert.ok(a.stdout.includes('deployment.apps/edgesplit-router created (server dry run)'), a.stdout);
      // What the planner would create from this scenario's EDGESPLIT_PARTITION_TEMPLATE (TLS mounts and probes included).
      const objs = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter((o): o is Obj => o && typeof o === 'object');
      if (!objs.some((o) => o.kind === 'Deployment' && o.metadata.name === 'edgesplit-planner')) continue;
      const { desiredObjects } = await import('../../src/roles/planner/k8s/objects.ts');
      const tpl = JSON.parse(containerEnv(objs, 'edgesplit-planner').EDGESPLIT_PARTITION_TEMPLATE);
      const planned = desiredObjects(testPlan(), { namespace: NS, image: 'ghcr.io/edgesplit/edgesplit:0.1.0', podTemplate: tpl });
      const p = await kubectl(['apply', '--dry-run=server', '-n', NS, '-f', '-'], planned.map((o) => JSON.stringify(o)).join('\n---\n'));
      assert.equal(p.code, 0, `${f ?? 'defaults'}, planner-created partitions: ${p.stderr}`);
      assert.match(p.stdout, new RegExp(`deployment\\.apps/edgesplit-${testPlan().planHash}-p1 created \\(server dry run\\)`), p.stdout);
    }
  });

  it('should build the kustomize base, the k3s overlay and the Jaeger example into objects the API server accepts', async () => {
    for (const ns of ['edgesplit', 'observability']) await kubectl(['create', 'namespace', ns]);
    for (const dir of ['k8s/base', 'k8s/overlays/k3s']) {
      const a = await kubectl(['apply', '--dry-run=server', '-k', join(ROOT, dir)]);
      assert.equal(a.code, 0, `${dir}: ${a.stderr}`);
      assert.match(a.stdout, /deployment\.apps\/edgesplit-planner (created|configured) \(server dry run\)/, a.stdout);
    }
    const k3s = await kubectl(['kustomize', join(ROOT, 'k8s/overlays/k3s')]);
    const objs = parseAllDocuments(k3s.stdout).map((d) => d.toJS());
    assert.equal(objs.find((o) => o.kind === 'Service' && o.metadata.name === 'edgesplit-router').spec.type, 'LoadBalancer');
    const j = await kubectl(['apply', '--dry-run=server', '-f', join(ROOT, 'k8s/examples/jaeger.yaml')]);
    assert.equal(j.code, 0, j.stderr);
    for (const ns of ['edgesplit', 'observability']) await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('should install with helm: planner and router Running, NOTES telling how to call the router', async () => {
    const r = await helm(['install', RELEASE, CHART, '--namespace', NS, '--set', 'model.accuracyFloor=0.9', '--wait', '--timeout', '120s'], cp!.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /port-forward svc\/edgesplit-router 8001:8001/);
    assert.match(r.stdout, /grpcurl -plaintext localhost:8001 inference\.GRPCInferenceService\/ServerReady/);
    for (const component of ['planner', 'router']) {
      const pods = (await getJson(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/component=${component}`])).items;
      assert.equal(pods.length, 1, component);
      assert.equal(pods[0].status.phase, 'Running', component);
      assert.ok(pods[0].status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'), `${component} Ready`);
    }
  });

  it('should let the planner, as the chart\'s service account, create the partitions on the planned nodes', async () => {
    await startPlannerFromDeployment();
    const plan = await waitForPlacedPlan((p) => p.partitions > 1);
    assert.ok(plan.accuracy >= 0.9, `accuracy floor 0.9, got ${plan.accuracy}`);
    assert.equal(new Set(plan.assignments.map((a: any) => a.node)).size, plan.partitions, 'one node per partition');
    for (const a of plan.assignments) {
      const svc = await getJson(['-n', NS, 'get', 'service', `edgesplit-${plan.planHash}-p${a.partition}`]);
      assert.equal(svc.spec.ports[0].port, 50051);
      assert.equal(svc.spec.selector['edgesplit.io/plan'], plan.planHash);
    }
    const events = (await getJson(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=edgesplit-plan'])).items;
    assert.ok(events.some((e: any) => e.reason === 'Replanned'), 'the planner records why it planned');
  });

  it('should give the partitions the planner creates the chart\'s pod settings and an owner for garbage collection', async () => {
    const d = await getJson(['-n', NS, 'get', 'deployment', `edgesplit-${(await deployedPlan()).planHash}-p0`]);
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext?.runAsNonRoot, true, 'EDGESPLIT_PARTITION_TEMPLATE: pod securityContext');
    assert.equal(pod.containers[0].securityContext?.readOnlyRootFilesystem, true, 'EDGESPLIT_PARTITION_TEMPLATE: container securityContext');
    assert.equal(pod.containers[0].resources?.limits?.memory, '768Mi', 'EDGESPLIT_PARTITION_TEMPLATE: resources');
    const owner = await getJson(['-n', NS, 'get', 'deployment', `${RELEASE}-planner`]);
    for (const kind of ['deployment', 'service', 'configmap']) {
      for (const o of (await getJson(['-n', NS, 'get', kind, '-l', 'app.kubernetes.io/managed-by=edgesplit-planner'])).items) {
        const refs = (o.metadata.ownerReferences ?? []).map((r: any) => r.uid);
        assert.ok(refs.length > 0, `${kind}/${o.metadata.name} has no ownerReferences (EDGESPLIT_OWNER_DEPLOYMENT)`);
        assert.ok(refs.includes(owner.metadata.uid) || kind !== 'configmap', `${kind}/${o.metadata.name} is not owned by the planner Deployment`);
      }
    }
  });

  it('should change the plan when helm upgrade sets a different accuracy floor', async () => {
    const before = await deployedPlan();
    const r = await helm(['upgrade', RELEASE, CHART, '--namespace', NS, '--reuse-values', '--set', 'model.accuracyFloor=0.93', '--wait', '--timeout', '120s'], cp!.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    const env = (await getJson(['-n', NS, 'get', 'deployment', `${RELEASE}-planner`])).spec.template.spec.containers[0].env;
    assert.ok(env.some((e: any) => e.name === 'EDGESPLIT_ACCURACY_FLOOR' && e.value === '0.93'));
    // The Recreate rollout replaces the planner pod: stop the old process, start one with the new environment.
    await stopPlanner?.();
    await startPlannerFromDeployment();
    const after = await waitForPlacedPlan((p) => p.package !== before.package);
    assert.ok(after.accuracy >= 0.93, `floor 0.93, got ${after.package} at ${after.accuracy}`);
    assert.equal(after.package, 'fmnist-p1', 'only the unsplit reference reaches 93% test accuracy');
    const left = async (kind: string, hash: string) =>
      (await getJson(['-n', NS, 'get', kind, '-l', `app.kubernetes.io/managed-by=edgesplit-planner,edgesplit.io/plan=${hash}`])).items
        .map((o: any) => o.metadata.name).filter((n: string) => n !== 'edgesplit-plan');
    await waitFor(`plan ${before.planHash}'s objects removed`, async () => {
      for (const kind of ['deployment', 'service', 'configmap']) if ((await left(kind, before.planHash)).length) return undefined;
      return true;
    }, 60_000, detail);
    assert.deepEqual(await left('deployment', after.planHash), [...Array(after.partitions).keys()].map((i) => `edgesplit-${after.planHash}-p${i}`));
  });

  it('should grant the planner service account what it needs and nothing more', async () => {
    const sa = `system:serviceaccount:${NS}:${RELEASE}-planner`;
    /** kubectl's answer, yes or no; anything else (kubectl failing, an API error) fails the test instead of reading as "no". */
    const can = async (verb: string, resource: string, ns?: string) => {
      const r = await kubectl(['auth', 'can-i', verb, resource, `--as=${sa}`, ...(ns ? ['-n', ns] : [])]);
      const answer = r.stdout.trim().split('\n')[0];
      const at = `kubectl auth can-i ${verb} ${resource}${ns ? ` -n ${ns}` : ''}`;
      assert.ok(answer === 'yes' || answer === 'no', `${at}: no answer (exit ${r.code}): ${r.stderr}`);
      assert.equal(r.code, answer === 'yes' ? 0 : 1, `${at}: '${answer}' with exit ${r.code}: ${r.stderr}`);
      return answer === 'yes';
    };
    const allowed: [string, string, string?][] = [
      ['list', 'nodes'], ['watch', 'nodes'], ['get', 'nodes'],
      ['create', 'deployments.apps', NS], ['patch', 'deployments.apps', NS], ['delete', 'deployments.apps', NS], ['list', 'deployments.apps', NS],
      ['create', 'services', NS], ['patch', 'services', NS], ['delete', 'services', NS],
      ['create', 'configmaps', NS], ['patch', 'configmaps', NS], ['delete', 'configmaps', NS],
      ['create', 'events', NS],
    ];
    const refused: [string, string, string?][] = [
      ['create', 'deployments.apps', 'default'], ['list', 'configmaps', 'kube-system'], ['create', 'services', 'default'],
      ['create', 'events', 'default'], ['patch', 'nodes'], ['delete', 'nodes'], ['get', 'secrets', NS], ['list', 'secrets', NS],
      ['create', 'pods', NS], ['create', 'roles.rbac.authorization.k8s.io', NS], ['create', 'clusterroles.rbac.authorization.k8s.io'],
      ['create', 'deployments.apps'], ['create', 'serviceaccounts/token', NS], ['patch', 'deployments.apps', 'kube-system'],
    ];
    for (const [v, r, ns] of allowed) assert.ok(await can(v, r, ns), `should be allowed: ${v} ${r}${ns ? ` -n ${ns}` : ''}`);
    for (const [v, r, ns] of refused) assert.ok(!(await can(v, r, ns)), `should be refused: ${v} ${r}${ns ? ` -n ${ns}` : ''}`);
  });

  it('should leave nothing behind after helm uninstall, planner-created objects included', async () => {
    await stopPlanner?.(); // the planner pod goes with its Deployment
    const r = await helm(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '120s'], cp!.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    /** What is left; kubectl must succeed, or an empty listing would pass for "nothing left". */
    const leftovers = async () => {
      const inNs = await kubectl(['-n', NS, 'get', 'deployments,replicasets,pods,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies', '-o', 'name']);
      const cluster = await kubectl(['get', 'clusterroles,clusterrolebindings', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name']);
      assert.equal(inNs.code, 0, `kubectl get -n ${NS}: ${inNs.stderr}`);
      assert.equal(cluster.code, 0, `kubectl get clusterroles,clusterrolebindings: ${cluster.stderr}`);
      return [...inNs.stdout.split('\n'), ...cluster.stdout.split('\n')].filter((n) => n &&
        n !== 'configmap/kube-root-ca.crt' && n !== 'serviceaccount/default');
    };
    // Garbage collection of the planner-created objects takes a moment; poll (bounded), then compare.
    const end = Date.now() + 60_000;
    let left = await leftovers();
    while (left.length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      left = await leftovers();
    }
    assert.deepEqual(left, [], 'objects left after helm uninstall');
    // The listing itself works: the namespace's own default objects are there to be seen.
    const sanity = await kubectl(['-n', NS, 'get', 'configmap/kube-root-ca.crt', '-o', 'name']);
    assert.equal(sanity.code, 0, sanity.stderr);
  });
});

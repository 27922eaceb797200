// The Helm chart on real nodes: kubelet + containerd on this machine (harness/node.ts) joined to the test control
// plane, running the image that scripts/build-image.sh builds (scripts/cached-image.sh: rebuilt only when its
// inputs change), under the chart's hardened pod settings. Inference goes through the router's Service ClusterIP
// from this host (kube-proxy's rules), so every request crosses kube-proxy, the pod network and two real pods.
// Two nodes, one bridge each: the partitions' pushes cross from one node's pod network to the other's.
//
// Needs root and the node pieces (scripts/build-test-tools.sh node coredns pause; apt: containerd runc
// containernetworking-plugins iptables conntrack socat; debootstrap umoci for the image). .ci/run provides all.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from './harness/control-plane.ts';
import { hostAddress, realNodeBlocker, startRealNodes, type RealNodes } from './harness/node.ts';
import { toolPath } from './harness/processes.ts';
import { HealthChecker } from '../../src/runtime/health-client.ts';
import { OipClient } from '../../src/tools/cli/oip-client.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { logitTolerance } from '../claims.ts';
import { waitFor } from '../helpers/wait.ts';
import { tritonPython } from '../e2e/tools.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHART = join(ROOT, 'charts/edgesplit');
const HELM = toolPath('helm');
const NS = 'edge';
const RELEASE = 'edgesplit';
const STATIC_PACKAGE = 'fmnist-p2-baseline';
/** What a node says about itself to the planner (src/roles/planner/cluster/from-nodes.ts). */
const FAST = { 'edgesplit.io/gflops': '6', 'edgesplit.io/bandwidth-mbps': '300', 'edgesplit.io/latency-ms': '2' };
const debug = (s: string) => process.env.EDGESPLIT_DEBUG && console.log(s);

const helmHome = mkdtempSync(join(tmpdir(), 'edgesplit-helm-'));
process.on('exit', () => rmSync(helmHome, { recursive: true, force: true }));

function helm(args: string[], kubeconfig: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'), KUBECONFIG: kubeconfig };
  return new Promise((resolve) => {
    execFile(HELM, args, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


interface Load {
  ok: number;
  degraded: number;
  failed: string[];
  packages: Set<string>;
  /** Time of the last full (not degraded) answer. */
  lastFull: number;
  /** The last outcomes, for failure messages. */
  recent: string[];
  stop(): Promise<void>;
}

/** One request at a time through the router's Service until stopped; every outcome is counted. */
function startLoad(address: string): Load {
  const client = new OipClient(address, { imageShape: [28, 28] });
  const sample = loadSample();
  let running = true;
  const load: Load = { ok: 0, degraded: 0, failed: [], packages: new Set(), lastFull: 0, recent: [], stop: async () => {
    running = false;
    await loop;
    client.close();
  } };
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        const r = await client.classify(sample.images.subarray((i % 64) * 784, (i % 64 + 1) * 784), 1, { timeoutMs: 10_000 });
        load.ok++;
        load.packages.add(r.package);
        if (r.degraded) load.degraded++;
        else load.lastFull = Date.now();
        load.recent.push(`${new Date().toISOString()} ${r.package}${r.degraded ? ` degraded` : ''}`);
      } catch (e) {
        load.failed.push(`${new Date().toISOString()} ${(e as Error).message}`);
        load.recent.push(`${new Date().toISOString()} failed: ${(e as Error).message}`);
      }
      if (load.recent.length > 12) load.recent.shift();
      await sleep(20);
    }
  })();
  return load;
}

describe('the chart on real nodes (kubelet + containerd, the image from scripts/build-image.sh)', function () {
  this.timeout(600_000);
  let cp: ControlPlane | undefined;
  let nodes: RealNodes | undefined;
  let python: string | null = null;
  const startTimes: string[] = [];

  const kubectl = (args: string[], input?: string) => cp!.kubectl(args, input);
  const getJson = async (args: string[]) => {
    const r = await kubectl([...args, '-o', 'json']);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const detail = () => (process.env.EDGESPLIT_DEBUG ? `${nodes?.logs() ?? ''}\n${cp?.logs() ?? ''}` : '(EDGESPLIT_DEBUG=1 for component logs)');
  const pods = async (selector = 'app.kubernetes.io/name=edgesplit') =>
    (await getJson(['-n', NS, 'get', 'pods', '-l', selector])).items.filter((p: any) => !p.metadata.deletionTimestamp);
  const ready = (p: any) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
  const restarts = (p: any) => (p.status.containerStatuses ?? []).reduce((s: number, c: any) => s + c.restartCount, 0);
  const routerAddress = async () => `${(await getJson(['-n', NS, 'get', 'service', `${RELEASE}-router`])).spec.clusterIP}:8001`;
  /** Pod create -> Ready, for the report. */
  const recordStartTimes = (label: string, list: any[]) => {
    for (const p of list) {
      const readyAt = p.status.conditions.find((c: any) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;
      const s = (Date.parse(readyAt) - Date.parse(p.metadata.creationTimestamp)) / 1000;
      startTimes.push(`${label} ${p.metadata.name} on ${p.spec.nodeName}: ${s}s create->Ready`);
    }
  };

  /** helm uninstall, then nothing of the release is left: objects (planner-made too), pods, containers on the nodes. */
  async function uninstallLeavesNothing(): Promise<void> {
    const r = await helm(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '180s'], cp!.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    const leftovers = async () => {
      const inNs = await kubectl(['-n', NS, 'get', 'deployments,replicasets,pods,services,endpointslices,configmaps,serviceaccounts,roles,rolebindings,networkpolicies,poddisruptionbudgets', '-o', 'name']);
      const cluster = await kubectl(['get', 'clusterroles,clusterrolebindings', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name']);
      assert.equal(inNs.code, 0, inNs.stderr);
      assert.equal(cluster.code, 0, cluster.stderr);
      return [...inNs.stdout.split('\n'), ...cluster.stdout.split('\n')].filter((n) => n &&
        n !== 'configmap/kube-root-ca.crt' && n !== 'serviceaccount/default');
    };
    const t0 = Date.now();
    let lastPods: string[] = [];
    const left = await waitFor('nothing left after helm uninstall', async () => {
      const l = await leftovers();
      const p = l.filter((n) => n.startsWith('pod/'));
      if (p.length) lastPods = p;
      return l.length === 0 ? l : undefined;
    }, 120_000, () => '').catch(async (e) => {
      throw new Error(`${(e as Error).message}\nleft: ${(await leftovers()).join(', ')}`);
    });
    assert.deepEqual(left, []);
    // For the report: how long the pods took to go (a pod that ignores SIGTERM takes its whole 30 s grace period).
    startTimes.push(`uninstall: objects gone after ${((Date.now() - t0) / 1000).toFixed(1)} s (last pods: ${lastPods.join(', ') || 'none'})`);
    // The kubelets have really stopped the containers: no edgesplit task left in containerd.
    await waitFor('no containers of the release on the nodes', async () => (await nodes!.runningContainers()).length === 0, 60_000);
  }

  before(async function () {
    this.timeout(1_500_000);
    const blocker = realNodeBlocker();
    if (blocker) throw new Error(`cannot start real nodes: ${blocker}`);
    const t = tritonPython();
    if (!t.python) throw new Error(`tritonclient[grpc] is needed: ${t.reason}`);
    python = t.python;
    const t0 = Date.now();
    const image = execFileSync('bash', [join(ROOT, 'scripts/cached-image.sh')], { encoding: 'utf8', timeout: 1_200_000,
      stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    console.log(`      image ${image}: ${(statSync(image).size / 2 ** 20).toFixed(0)} MiB (OCI archive), ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    cp = await startControlPlane({ podReachable: hostAddress(), log: debug });
    nodes = await startRealNodes(cp, { nodes: [{ labels: { 'edgesplit.io/edge': 'true', ...FAST } },
      { labels: { 'edgesplit.io/edge': 'true', ...FAST } }], log: debug });
    await nodes.importImage(image);
    assert.equal((await kubectl(['create', 'namespace', NS])).code, 0);
  });

  after(async () => {
    if (startTimes.length) console.log(`      pod start times (and uninstall times):\n${startTimes.map((s) => `        ${s}`).join('\n')}`);
    await nodes?.stop();
    await cp?.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && cp) {
      const r = await kubectl(['-n', NS, 'get', 'pods,events', '-o', 'wide']);
      console.log(r.stdout);
      for (const p of await pods().catch(() => [])) {
        const l = await kubectl(['-n', NS, 'logs', p.metadata.name, '--tail=20']);
        console.log(`--- ${p.metadata.name}\n${l.stdout}${l.stderr}`);
      }
      console.log(detail());
    }
  });

  describe('static mode', () => {
    it('should install with helm --wait: every pod Ready on its real node, none restarted', async () => {
      const r = await helm(['install', RELEASE, CHART, '--namespace', NS, '--wait', '--timeout', '300s',
        '--set', 'planner.enabled=false', '--set', `static.package=${STATIC_PACKAGE}`,
        '--set-json', `static.partitions=${JSON.stringify(nodes!.names.map((node) => ({ node })))}`], cp!.kubeconfig);
      assert.equal(r.code, 0, `helm install: ${r.stderr}`);
      const list = await pods();
      assert.equal(list.length, 3, list.map((p: any) => p.metadata.name).join(', '));
      for (const p of list) {
        assert.ok(ready(p), `${p.metadata.name} not Ready`);
        assert.equal(restarts(p), 0, `${p.metadata.name} restarted`);
      }
      const placed = Object.fromEntries(list.filter((p: any) => p.metadata.labels['edgesplit.io/partition'])
        .map((p: any) => [p.metadata.labels['edgesplit.io/partition'], p.spec.nodeName]));
      assert.deepEqual(placed, { 0: nodes!.names[0], 1: nodes!.names[1] });
      recordStartTimes('static', list);
    });

    it('should answer the package\'s test vectors through the router\'s Service with tritonclient, not degraded', async () => {
      const pkg = loadPackage(resolvePackageDir(STATIC_PACKAGE));
      // A non-strict router is Ready (grpc.health SERVING) once one partition answers, so right after helm --wait the
      // first answers may still be degraded; ServerReady checks every partition (as a careful client would).
      // The first answers after a fresh start can also be degraded (a peer's push misses its wait while the
      // partitions' first inferences and connections are slow): single-image requests until one is whole, counted.
      const client = new OipClient(await routerAddress(), { imageShape: [28, 28] });
      let warmup = 0;
      try {
        await waitFor('ServerReady (every partition reachable from the router)', async () => client.serverReady(2000), 30_000, detail);
        await waitFor('a whole (not degraded) answer', async () => {
          warmup++;
          return !(await client.classify(new Uint8Array(784), 1, { timeoutMs: 10_000 })).degraded;
        }, 30_000, detail);
      } finally {
        client.close();
      }
      startTimes.push(`static: ${warmup} request(s) until the first whole answer after helm install --wait`);
      const out = execFileSync(python!, [join(ROOT, 'test/k8s/triton_vectors.py'), await routerAddress(), pkg.testVectorsPath()],
        { encoding: 'utf8', timeout: 60_000 });
      const res = JSON.parse(out.trim().split('\n').pop()!);
      assert.equal(res.live, true);
      assert.equal(res.package, STATIC_PACKAGE);
      assert.equal(res.degraded, false);
      assert.ok(res.maxAbsDiff <= logitTolerance(pkg), `max |logits - reference| = ${res.maxAbsDiff} > ${logitTolerance(pkg)}`);
    });

    it('should keep answering with no failed request while a partition pod is deleted and replaced', async () => {
      // The ReplicaSet starts the replacement at once and the old pod keeps serving through its preStop sleep, so the
      // switch is normally seamless (degraded answers, if any, only for a moment).
      const load = startLoad(await routerAddress());
      try {
        await waitFor('first full answers', async () => load.ok >= 5 && load.lastFull > 0, 30_000);
        const [old] = await pods('edgesplit.io/partition=1');
        const del = await kubectl(['-n', NS, 'delete', 'pod', old.metadata.name, '--wait=false']);
        assert.equal(del.code, 0, del.stderr);
        const back = await waitFor('a new partition-1 pod Ready and the old one gone', async () => {
          const all = (await getJson(['-n', NS, 'get', 'pods', '-l', 'edgesplit.io/partition=1'])).items;
          const [p] = all;
          return all.length === 1 && p.metadata.name !== old.metadata.name && ready(p) ? p : undefined;
        }, 120_000);
        recordStartTimes('replacement', [back]);
        const readyAt = Date.now();
        await waitFor('full answers after the replacement', async () => load.lastFull > readyAt, 30_000,
          () => `ok ${load.ok}, degraded ${load.degraded}, failed ${load.failed.length}; last answers:\n${load.recent.join('\n')}`);
      } finally {
        await load.stop();
      }
      assert.deepEqual(load.failed, [], 'no request may fail');
    });

    it('should answer degraded while a partition is gone and whole again once it is back, with no failed request', async () => {
      const load = startLoad(await routerAddress());
      try {
        await waitFor('first full answers', async () => load.ok >= 5 && load.lastFull > 0, 30_000);
        assert.equal((await kubectl(['-n', NS, 'scale', `deployment/${RELEASE}-p1`, '--replicas=0'])).code, 0);
        await waitFor('degraded answers while partition 1 is gone', async () => load.degraded > 0, 60_000,
          () => `ok ${load.ok}, degraded ${load.degraded}, failed ${load.failed.length}; last answers:\n${load.recent.join('\n')}`);
        const degradedAt = load.degraded;
        assert.equal((await kubectl(['-n', NS, 'scale', `deployment/${RELEASE}-p1`, '--replicas=1'])).code, 0);
        const back = await waitFor('partition 1 Ready again', async () => {
          const [p] = await pods('edgesplit.io/partition=1');
          return p && ready(p) ? p : undefined;
        }, 120_000);
        recordStartTimes('scaled back', [back]);
        const readyAt = Date.now();
        // The router's health probe closes the partition's circuit within seconds on a quiet machine; a busy one (a CI
        // run measured quarter-core devices several times slower) needs longer.
        await waitFor('full answers again', async () => load.lastFull > readyAt, 120_000,
          () => `ok ${load.ok}, degraded ${load.degraded}, failed ${load.failed.length}; last answers:\n${load.recent.join('\n')}`);
        assert.ok(load.degraded >= degradedAt);
      } finally {
        await load.stop();
      }
      assert.deepEqual(load.failed, [], 'no request may fail');
      assert.ok(load.degraded > 0 && load.ok > load.degraded);
    });

    it('should leave nothing behind after helm uninstall', async () => {
      await uninstallLeavesNothing();
    });
  });

  describe('planner mode', () => {
    let routerPodIp = '';

    it('should start the router NOT_SERVING (not crashing) while no plan exists', async () => {
      // No edge nodes yet: the planner has nothing to plan on, so the router really waits.
      for (const n of nodes!.names) assert.equal((await kubectl(['label', 'node', n, 'edgesplit.io/edge-'])).code, 0);
      const r = await helm(['install', RELEASE, CHART, '--namespace', NS], cp!.kubeconfig);
      assert.equal(r.code, 0, `helm install: ${r.stderr}`);
      const router = await waitFor('the router pod Running', async () => {
        const [p] = await pods('app.kubernetes.io/component=router');
        return p?.status.phase === 'Running' && p.status.podIP ? p : undefined;
      }, 180_000, detail);
      routerPodIp = router.status.podIP;
      const hc = new HealthChecker(`${routerPodIp}:8001`);
      try {
        await waitFor('router health NOT_SERVING', async () => (await hc.check('', 1000)) === 'NOT_SERVING', 60_000);
      } finally {
        hc.close();
      }
      const client = new OipClient(`${routerPodIp}:8001`, { imageShape: [28, 28] });
      try {
        await assert.rejects(client.classify(new Uint8Array(784), 1, { timeoutMs: 5000 }), (e: any) => {
          assert.equal(e.code, 14, `ModelInfer before the plan: ${e.code} ${e.details}`);
          assert.match(e.details, /no plan yet/);
          return true;
        });
      } finally {
        client.close();
      }
      await sleep(15_000); // longer than the liveness probe's first checks: it must not be restarted meanwhile
      const list = await pods();
      for (const p of list) assert.equal(restarts(p), 0, `${p.metadata.name} restarted`);
      const [r2] = await pods('app.kubernetes.io/component=router');
      assert.ok(!ready(r2), 'the router is not Ready without a plan');
    });

    it('should place the partitions on the labelled nodes and classify through the router once the plan exists', async () => {
      for (const n of nodes!.names) assert.equal((await kubectl(['label', 'node', n, 'edgesplit.io/edge=true'])).code, 0);
      const plan = await waitFor('a plan', async () => {
        const cm = await kubectl(['-n', NS, 'get', 'configmap', 'edgesplit-plan', '-o', 'jsonpath={.data.plan\\.json}']);
        return cm.code === 0 && cm.stdout ? JSON.parse(cm.stdout) : undefined;
      }, 60_000, detail);
      const all = await waitFor('every pod Ready', async () => {
        const list = await pods();
        return list.length === plan.partitions + 2 && list.every(ready) ? list : undefined;
      }, 240_000, detail);
      for (const a of plan.assignments) {
        assert.ok(nodes!.names.includes(a.node), `partition ${a.partition} planned on ${a.node}`);
        const p = all.find((x: any) => x.metadata.labels['edgesplit.io/partition'] === String(a.partition));
        assert.equal(p?.spec.nodeName, a.node, `partition ${a.partition} runs on its planned node`);
      }
      for (const p of all) assert.equal(restarts(p), 0, `${p.metadata.name} restarted`);
      recordStartTimes('planner', all);
      const client = new OipClient(await routerAddress(), { imageShape: [28, 28] });
      try {
        const sample = loadSample();
        const r = await client.classify(sample.images.subarray(0, 8 * 784), 8, { timeoutMs: 10_000 });
        assert.equal(r.package, plan.package);
        assert.equal(r.degraded, false);
        const correct = r.labels.filter((l, i) => l === sample.classes[sample.labels[i]]).length;
        assert.ok(correct >= 6, `${correct}/8 correct`);
      } finally {
        client.close();
      }
    });

    it('should re-plan when a node\'s edgesplit.io label changes, roll the pods and keep answering', async () => {
      const cmPlan = async () => JSON.parse((await kubectl(['-n', NS, 'get', 'configmap', 'edgesplit-plan', '-o', 'jsonpath={.data.plan\\.json}'])).stdout);
      const before = await cmPlan();
      const load = startLoad(await routerAddress());
      try {
        await waitFor('answers before the change', async () => load.ok >= 5, 30_000);
        // A node of the current plan becomes far slower: the planner must move its partition elsewhere.
        const slow = before.assignments[0].node;
        const l = await kubectl(['label', 'node', slow, '--overwrite', 'edgesplit.io/gflops=0.2']);
        assert.equal(l.code, 0, l.stderr);
        const after = await waitFor('a new plan', async () => {
          const p = await cmPlan();
          return p.planHash !== before.planHash ? p : undefined;
        }, 60_000, detail);
        assert.ok(after.assignments.every((a: any) => a.node !== slow), `new plan still uses ${slow}: ${JSON.stringify(after.assignments)}`);
        const rolled = await waitFor('the partitions rolled onto the new plan\'s nodes', async () => {
          const list = await pods();
          const placed = after.assignments.every((a: any) => list.some((p: any) => ready(p) && p.spec.nodeName === a.node &&
            p.metadata.labels['edgesplit.io/partition'] === String(a.partition) && p.metadata.labels['edgesplit.io/package'] === after.package));
          return placed && list.length === after.partitions + 2 && list.every(ready) && load.packages.has(after.package) ? list : undefined;
        }, 240_000, detail);
        recordStartTimes('re-planned', rolled.filter((p: any) => p.metadata.labels['edgesplit.io/partition'] !== undefined));
        const seen = load.ok;
        await waitFor('answers after the change', async () => load.ok >= seen + 5, 30_000,
          () => `ok ${load.ok}, degraded ${load.degraded}, failed ${load.failed.length}; last answers:\n${load.recent.join('\n')}`);
      } finally {
        await load.stop();
      }
      assert.deepEqual(load.failed, [], 'no request may fail while the plan changes');
    });

    it('should leave nothing behind after helm uninstall, planner-created objects included', async () => {
      await uninstallLeavesNothing();
    });
  });
});

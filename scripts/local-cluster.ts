// A throw-away Kubernetes cluster on this one machine, for trying the chart without a k3s cluster: the test
// control plane (etcd, kube-apiserver, controller-manager, scheduler) and real nodes (kubelet + containerd each,
// one kube-proxy, CoreDNS) from test/k8s/harness, the same code the real-node tests run, with the edgesplit image
// imported into every node. Prints a KUBECONFIG line, serves until Ctrl-C, then undoes everything it changed.
//
//   sudo node --import tsx scripts/local-cluster.ts [--nodes N] [--image PATH]
//
// Needs root, the tools of `scripts/build-test-tools.sh` and the Debian packages containerd runc
// containernetworking-plugins iptables conntrack socat debootstrap umoci (docs/deploy.md, "Try it on one machine").
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/k8s/harness/control-plane.ts';
import { hostAddress, realNodeBlocker, startRealNodes } from '../test/k8s/harness/node.ts';
import { toolPath } from '../test/k8s/harness/processes.ts';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { nodes: { type: 'string', default: '2' }, image: { type: 'string' },
  kubeconfig: { type: 'string', default: join(ROOT, 'build', 'local-cluster.kubeconfig') } } });
const count = Number(values.nodes);
if (!Number.isInteger(count) || count < 1 || count > 8) {
  console.error(`local-cluster: --nodes: expected 1..8, got '${values.nodes}'`);
  process.exit(2);
}
const blocker = realNodeBlocker();
if (blocker) {
  console.error(`local-cluster: ${blocker}`);
  process.exit(1);
}
const image = values.image ?? execFileSync('bash', [join(ROOT, 'scripts/cached-image.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const log = (s: string) => console.error(s);
const cp = await startControlPlane({ podReachable: hostAddress(), log });
let nodes: Awaited<ReturnType<typeof startRealNodes>> | undefined;
const stop = async () => {
  console.error('local-cluster: tearing down');
  await nodes?.stop();
  await cp.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
try {
  nodes = await startRealNodes(cp, { count, log, nodes: Array.from({ length: count }, () => ({ labels: { 'edgesplit.io/edge': 'true' } })) });
  await nodes.importImage(image);
} catch (e) {
  console.error(`local-cluster: ${(e as Error).message}`);
  await stop();
}
// The control plane's kubeconfig lives in its temp dir (removed on stop); a copy at a stable path for kubectl/helm.
copyFileSync(cp.kubeconfig, values.kubeconfig!);
console.log(`export KUBECONFIG=${values.kubeconfig}   # nodes: ${nodes!.names.join(', ')}; kubectl and helm: ${toolPath('kubectl')}, ${toolPath('helm')}`);
console.error('local-cluster: up; Ctrl-C tears it down');
await new Promise(() => {});

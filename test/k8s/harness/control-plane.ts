// A real single-node Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) plus the KWOK controller for fake
// edge nodes, all on 127.0.0.1, from the binaries scripts/build-test-tools.sh builds.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ProcessGroup, toolPath, toolsDir } from './processes.ts';

export { toolsDir };

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ControlPlane {
  kubeconfig: string;
  server: string;
  /** The test CA and its key (real nodes sign their kubelet certificates with it), and the apiserver's client cert for kubelets. */
  pki: Pki;
  /** The address the apiserver listens on: 127.0.0.1, or the host address given as `podReachable`. */
  host: string;
  /** Runs kubectl against this cluster; never throws on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** Log tails of every component, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../scripts/build-test-tools.sh');
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];
const KWOK_STAGES = 'share/kwok/stages.yaml';
const SERVICE_CIDR = '10.96.0.0/16';

export function haveTools(dir = toolsDir()): boolean {
  return BINARIES.every((b) => existsSync(toolPath(b, dir))) && existsSync(join(dir, KWOK_STAGES));
}

export const missingToolsMessage = `control-plane binaries not found in ${toolsDir()}/bin; build them with: scripts/build-test-tools.sh kube kwok`;

/** Versions pinned in scripts/build-test-tools.sh (its single source), e.g. { K8S_VERSION: 'v1.37.2' }. */
export function pinnedVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of readFileSync(BUILD_SCRIPT, 'utf8').matchAll(/^([A-Z0-9_]+_VERSION)=(v\S+)$/gm)) out[m[1]] = m[2];
  return out;
}

const opensslCnf = (extraIps: string[]) => `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,${extraIps.map((ip) => `IP:${ip},`).join('')}DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[node_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth,serverAuth
`;

export interface Pki {
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
  /** Client certificate the apiserver presents to kubelets (logs, exec, port-forward). */
  kubeletClientCert: string;
  kubeletClientKey: string;
  /** Signs a leaf (client and server auth) with the test CA; returns its cert and key paths. */
  leaf(name: string, subject: string): { cert: string; key: string };
}

// Our own config keeps the result independent of the distribution's openssl.cnf.
function makePki(dir: string, extraIps: string[] = []): Pki {
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(p('openssl.cnf'), opensslCnf(extraIps));
  const ecKey = (f: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(f));
  ecKey('ca.key');
  ssl('req', '-x509', '-new', '-config', p('openssl.cnf'), '-key', p('ca.key'), '-subj', '/CN=edgesplit-test-ca',
    '-days', '3650', '-extensions', 'ca_ext', '-out', p('ca.crt'));
  const leaf = (name: string, subj: string, ext: string) => {
    ecKey(`${name}.key`);
    ssl('req', '-new', '-config', p('openssl.cnf'), '-key', p(`${name}.key`), '-subj', subj, '-out', p(`${name}.csr`));
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '365',
      '-extfile', p('openssl.cnf'), '-extensions', ext, '-out', p(`${name}.crt`));
  };
  leaf('apiserver', '/CN=kube-apiserver', 'server_ext');
  leaf('admin', '/O=system:masters/CN=edgesplit-admin', 'client_ext');
  leaf('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'client_ext');
  ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p('sa.key'));
  ssl('pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub'));
  return {
    ca: p('ca.crt'), caKey: p('ca.key'), serverCert: p('apiserver.crt'), serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'), adminKey: p('admin.key'), saKey: p('sa.key'), saPub: p('sa.pub'),
    kubeletClientCert: p('apiserver-kubelet-client.crt'), kubeletClientKey: p('apiserver-kubelet-client.key'),
    leaf: (name, subject) => {
      leaf(name, subject, 'node_ext');
      return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
    },
  };
}

function kubeconfigYaml(server: string, pki: Pki): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: edgesplit-test
  cluster: {server: "${server}", certificate-authority: "${pki.ca}"}
users:
- name: admin
  user: {client-certificate: "${pki.adminCert}", client-key: "${pki.adminKey}"}
contexts:
- name: edgesplit-test
  context: {cluster: edgesplit-test, user: admin, namespace: default}
current-context: edgesplit-test
`;
}

/** GET over TLS; `tls` carries the CA and client cert, or nothing for self-signed component endpoints. */
function httpsGet(url: string, tls: { ca?: string; cert?: string; key?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ca: tls.ca && readFileSync(tls.ca), cert: tls.cert && readFileSync(tls.cert), key: tls.key && readFileSync(tls.key),
      rejectUnauthorized: Boolean(tls.ca), timeout: 2_000,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function runKubectl(bin: string, base: string[], args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...base, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    child.stdin.end(input ?? '');
  });
}

/**
 * `podReachable`: an address of this host that pods on real nodes can reach (not 127.0.0.1, which inside a pod is
 * the pod itself); the apiserver listens there and advertises it as the `kubernetes` Service's endpoint.
 */
export async function startControlPlane(opts: { toolsDir?: string; log?: (s: string) => void; podReachable?: string } = {}): Promise<ControlPlane> {
  const dir = opts.toolsDir ?? toolsDir();
  const log = opts.log ?? (() => {});
  if (!haveTools(dir)) throw new Error(missingToolsMessage);
  const bin = (n: string) => toolPath(n, dir);
  const t0 = Date.now();
  const step = (s: string) => log(`[control-plane +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);

  const g = new ProcessGroup('edgesplit-k8s-');
  try {
    const host = opts.podReachable ?? '127.0.0.1';
    const pki = makePki(g.dir, opts.podReachable ? [opts.podReachable] : []);
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()));
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    g.start('etcd', bin('etcd'), [
      '--name=node0', `--data-dir=${join(g.dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=node0=${peerUrl}`,
      // Test data is throw-away: skipping fsync keeps etcd fast on a busy disk.
      '--unsafe-no-fsync', '--log-level=warn',
    ]);
    await g.waitFor('etcd /health', async () => (await fetch(`${etcdUrl}/health`)).ok, 15_000);
    step('etcd ready');

    const server = `https://${host}:${apiPort}`;
    g.start('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${host}`, `--secure-port=${apiPort}`,
      ...(opts.podReachable ? [`--advertise-address=${host}`,
        // Real kubelets register with their InternalIP; logs, exec and port-forward go there with this client cert.
        '--kubelet-preferred-address-types=InternalIP,Hostname',
        `--kubelet-client-certificate=${pki.kubeletClientCert}`, `--kubelet-client-key=${pki.kubeletClientKey}`] : []),
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.ca}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true', '--profiling=false',
    ]);
    await g.waitFor('kube-apiserver /readyz', async () => {
      const r = await httpsGet(`${server}/readyz`, { ca: pki.ca, cert: pki.adminCert, key: pki.adminKey });
      return r.status === 200;
    }, 60_000);
    step('kube-apiserver ready');

    const kubeconfig = join(g.dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, pki));
    const component = (port: number) => [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${port}`,
      `--cert-dir=${join(g.dir, `certs-${port}`)}`,
    ];
    g.start('kube-controller-manager', bin('kube-controller-manager'), [
      ...component(kcmPort),
      '--controllers=*', '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.ca}`,
      `--cluster-signing-cert-file=${pki.ca}`, `--cluster-signing-key-file=${pki.caKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ]);
    g.start('kube-scheduler', bin('kube-scheduler'), component(schedPort));
    g.start('kwok', bin('kwok'), [
      `--kubeconfig=${kubeconfig}`, `--config=${join(dir, KWOK_STAGES)}`,
      '--manage-all-nodes=false', '--manage-nodes-with-label-selector=type=kwok',
      '--node-ip=127.0.0.1', `--node-port=${kwokPort}`, `--server-address=127.0.0.1:${kwokPort}`,
      '--cidr=10.244.0.1/16', '--node-lease-duration-seconds=40',
    ]);

    const kubectlBase = [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(g.dir, 'kubectl-cache')}`];
    const kubectl = (args: string[], input?: string) => runKubectl(bin('kubectl'), kubectlBase, args, input);
    const healthy = (port: number) => async () => (await httpsGet(`https://127.0.0.1:${port}/healthz`, {})).status === 200;
    await Promise.all([
      g.waitFor('kube-controller-manager /healthz', healthy(kcmPort)),
      g.waitFor('kube-scheduler /healthz', healthy(schedPort)),
      // Pods are refused until the service-account controller has made this one.
      g.waitFor('serviceaccount default/default', async () =>
        (await kubectl(['get', 'serviceaccount', 'default', '-o', 'name'])).code === 0),
    ]);
    g.assertAlive();
    step('controller-manager, scheduler and kwok up');

    return { kubeconfig, server, pki, host, kubectl, logs: () => g.logs(), stop: () => g.stop() };
  } catch (e) {
    await g.stop();
    throw e;
  }
}

export interface KwokNodeSpec {
  name: string;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  /** Wait until KWOK reports the node Ready (default true). */
  waitReady?: boolean;
}

/** Creates a fake node that the control plane's KWOK controller manages. */
export async function createKwokNode(cp: ControlPlane, spec: KwokNodeSpec): Promise<void> {
  const resources = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: '110' };
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        ...spec.labels, type: 'kwok',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
    // Status given at create is kept (kubelets register this way); KWOK fills in the rest.
    status: { capacity: resources, allocatable: resources },
  };
  const r = await cp.kubectl(['create', '-f', '-'], JSON.stringify(node));
  if (r.code !== 0) throw new Error(`creating node ${spec.name} failed: ${r.stderr}`);
  if (spec.waitReady ?? true) {
    const w = await cp.kubectl(['wait', '--for=condition=Ready', `node/${spec.name}`, '--timeout=30s']);
    if (w.code !== 0) throw new Error(`node ${spec.name} did not become Ready: ${w.stderr}\n${cp.logs()}`);
  }
}

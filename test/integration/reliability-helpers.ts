// Shared by the issue-8 integration tests (degradation, recovery, fuzz, tls): a stack of real partition
// processes with the router in this process, a raw OIP stub, Describe, a partition (re)start, openssl certificates.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { HeadEngine } from '../../src/runtime/head.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { waitServing } from '../../src/runtime/health-client.ts';
import { loadPackage, resolvePackageDir, type ModelPackage } from '../../src/runtime/manifest.ts';
import { inferenceProto, partitionProto } from '../../src/runtime/proto.ts';
import { loadConfig } from '../../src/roles/router/config.ts';
import { createServer, routerDepsFromConfig, type RouterServer } from '../../src/roles/router/server.ts';
import { BIN, startStack, type Stack } from '../../src/tools/cli/stack.ts';
import type { GRPCInferenceServiceClient } from '../../src/runtime/generated/inference/GRPCInferenceService.ts';
import type { ModelInferRequest } from '../../src/runtime/generated/inference/ModelInferRequest.ts';
import type { ModelInferResponse__Output } from '../../src/runtime/generated/inference/ModelInferResponse.ts';
import type { PartitionClient } from '../../src/runtime/generated/edgesplit/v1/Partition.ts';
import type { DescribeResponse__Output } from '../../src/runtime/generated/edgesplit/v1/DescribeResponse.ts';

/** The default best P=4 package (one uint8 exchange at point 4, shift 1: partition i pushes to i+1). */
export const PACKAGE = 'fmnist-p4-x-x-x-x-1au-x';

export interface TestStack {
  pkg: ModelPackage;
  stack: Stack;
  router: RouterServer;
  address: string;
  stub: GRPCInferenceServiceClient;
  stop(): Promise<void>;
}

export async function startTestStack(o: { pkg?: string; routerArgs?: string[]; partitionArgs?: string[];
  env?: NodeJS.ProcessEnv; creds?: grpc.ChannelCredentials; channelOptions?: grpc.ChannelOptions;
  log?: (line: string) => void } = {}): Promise<TestStack> {
  const pkg = loadPackage(resolvePackageDir(o.pkg ?? PACKAGE));
  const stack = await startStack({ pkg, host: '127.0.0.1', withRouter: false,
    partitionArgs: ['--measure', 'false', ...(o.partitionArgs ?? [])], healthCredentials: o.creds,
    healthChannelOptions: o.channelOptions, log: o.log });
  let router: RouterServer | undefined;
  try {
    const config = loadConfig(['--package', pkg.dir, '--partitions', stack.partitions.map((p) => p.address).join(','),
      '--host', '127.0.0.1', '--port', '0', '--health-interval-ms', '200', ...(o.routerArgs ?? [])], o.env ?? {});
    router = createServer(await routerDepsFromConfig(config, HeadEngine));
    const address = `127.0.0.1:${await router.listen('127.0.0.1', 0)}`;
    const stub = oipStub(address, o.creds, o.channelOptions);
    const r = router;
    return { pkg, stack, router: r, address, stub, stop: async () => {
      stub.close();
      await r.shutdown(2000);
      await stack.stop(3000);
    } };
  } catch (e) {
    await router?.shutdown(1000);
    await stack.stop(3000);
    throw e;
  }
}

export function oipStub(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): GRPCInferenceServiceClient {
  const Svc = inferenceProto().inference.GRPCInferenceService;
  return new Svc(address, creds, { 'grpc.max_receive_message_length': 16 << 20, ...options });
}

export function partitionStub(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): PartitionClient {
  const Partition = partitionProto().edgesplit.v1.Partition;
  return new Partition(address, creds, options);
}

export interface InferOutcome {
  code: grpc.status;
  details: string;
  res?: ModelInferResponse__Output;
  ms: number;
}

/** One ModelInfer; never rejects. timeoutMs undefined: no client deadline at all. */
export function infer(stub: GRPCInferenceServiceClient, req: ModelInferRequest, timeoutMs?: number): Promise<InferOutcome> {
  const t = Date.now();
  return new Promise((resolve) => {
    stub.ModelInfer(req, timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs }, (err, res) =>
      resolve(err ? { code: err.code, details: err.details, ms: Date.now() - t } : { code: grpc.status.OK, details: '', res, ms: Date.now() - t }));
  });
}

export const imagesRequest = (images: Uint8Array, n: number): ModelInferRequest => ({
  modelName: 'edgesplit', inputs: [{ name: 'image', datatype: 'UINT8', shape: [n, 28, 28] }],
  outputs: [{ name: 'probabilities' }, { name: 'label' }],
  rawInputContents: [Buffer.from(images.buffer, images.byteOffset, n * 784)],
});

export const degradedOf = (r: ModelInferResponse__Output): { degraded: boolean; missing: string } => ({
  degraded: r.parameters.edgesplit_degraded?.boolParam ?? false,
  missing: r.parameters.edgesplit_missing_partitions?.stringParam ?? '',
});

export function describePartition(address: string, creds?: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions): Promise<DescribeResponse__Output> {
  const c = partitionStub(address, creds, options);
  return new Promise<DescribeResponse__Output>((resolve, reject) =>
    c.Describe({}, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res!)))).finally(() => c.close());
}

/** Starts (or restarts) partition `index` of a stack on its old address; resolves once it is SERVING. */
export async function startPartition(pkg: ModelPackage, index: number, addresses: string[], extra: string[] = []):
  Promise<ChildProcess> {
  const [host, port] = addresses[index].split(':');
  const proc = spawn(process.execPath, [BIN, 'serve', 'partition', '--package', pkg.dir, '--index', String(index),
    '--peers', addresses.join(','), '--host', host, '--port', port, '--measure', 'false', ...extra],
  { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, EDGESPLIT_EXIT_WITH_PARENT: '1' } });
  await waitServing(addresses[index], '', 60_000, () => proc.exitCode === null && proc.signalCode === null);
  return proc;
}

export async function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(stepMs);
  }
  return fn();
}

export interface Pki {
  dir: string;
  ca: string;
  /** Member certificate (server and client use), SAN 127.0.0.1 / localhost. */
  cert: string;
  key: string;
  /** A client certificate from another CA. */
  rogueCert: string;
  rogueKey: string;
  rogueCa: string;
}

/** A cluster CA, one member certificate and a certificate from an unrelated CA, made with openssl in a temp dir. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'edgesplit-pki-'));
  const p = (f: string) => join(dir, f);
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const ca of ['ca', 'rogue-ca']) {
    ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${ca}.key`), '-out', p(`${ca}.crt`), '-days', '2',
      '-subj', `/CN=edgesplit test ${ca}`]);
  }
  for (const [name, ca] of [['member', 'ca'], ['rogue', 'rogue-ca']]) {
    ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`]);
    ossl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${ca}.crt`), '-CAkey', p(`${ca}.key`), '-CAcreateserial',
      '-out', p(`${name}.crt`), '-days', '2', '-extfile', p('ext.cnf')]);
  }
  return { dir, ca: p('ca.crt'), cert: p('member.crt'), key: p('member.key'), rogueCert: p('rogue.crt'),
    rogueKey: p('rogue.key'), rogueCa: p('rogue-ca.crt') };
}

/**
 * One package's row of bench/results/degradation.json (the README's degradation table): accuracy on the 1,000-image
 * sample with every partition up and with partition i down (missing[i]).
 */
export function degradationTable(pkg: string): { full: number; missing: number[] } {
  const doc = JSON.parse(readFileSync(new URL('../../bench/results/degradation.json', import.meta.url), 'utf8')) as {
    packages: { package: string; full: number; missing: { partition: number; accuracy: number }[] }[] };
  const row = doc.packages.find((p) => p.package === pkg);
  if (!row) throw new Error(`${pkg} is not in bench/results/degradation.json`);
  return { full: row.full, missing: [...row.missing].sort((a, b) => a.partition - b.partition).map((m) => m.accuracy) };
}
/** Half a point: the benchmark runs the same zero-fill and rescale in one process; only float ties may differ. */
export const DEGRADATION_MARGIN = 0.005;

/** Accuracy of the router at `address` on the whole sample, 50 images per request; every answer must be degraded as `missing`. */
export async function sampleAccuracy(address: string, missing: string): Promise<number> {
  const sample = loadSample();
  const stub = oipStub(address);
  let correct = 0;
  try {
    for (let s = 0; s < sample.count; s += 50) {
      const r = await infer(stub, imagesRequest(sample.images.subarray(s * 784, (s + 50) * 784), 50), 20_000);
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.deepEqual(degradedOf(r.res!), { degraded: missing !== '', missing });
      const labels = r.res!.rawOutputContents[1];
      let o = 0;
      for (let i = 0; i < 50; i++) {
        const len = labels.readUInt32LE(o);
        if (labels.subarray(o + 4, o + 4 + len).toString() === sample.classes[sample.labels[s + i]]) correct++;
        o += 4 + len;
      }
    }
  } finally {
    stub.close();
  }
  return correct / sample.count;
}

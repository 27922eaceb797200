import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { BIN, startStack, type Stack } from '../../src/tools/cli/stack.ts';
import type { RunRequest } from '../../src/runtime/generated/edgesplit/v1/RunRequest.ts';
import { degradedOf, imagesRequest, infer, oipStub, partitionStub, PACKAGE, stopProcess, type InferOutcome } from './reliability-helpers.ts';

// The documented defaults (README "Failure and security", docs/failure-and-security.md "Limits"), with no flag set:
// router deadline 5 s, router 4 MiB / 64 images, partition 16 MiB / 64 images. Every other test passes explicit
// values; these start `edgesplit serve router` and `edgesplit serve partition` the way a user does.
const MiB = 1024 * 1024;
const sample = loadSample();

/** `edgesplit serve router` with only the package, the partitions and a free loopback port. */
async function serveRouter(pkgDir: string, partitions: string[]): Promise<{ proc: ChildProcess; address: string; log: string[] }> {
  const proc = spawn(process.execPath, [BIN, 'serve', 'router', '--package', pkgDir, '--partitions', partitions.join(','),
    '--host', '127.0.0.1', '--port', '0'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, EDGESPLIT_EXIT_WITH_PARENT: '1' } });
  const log: string[] = [];
  proc.stderr!.on('data', (d) => log.push(String(d)));
  const ready = await new Promise<{ address: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      log.push(line);
      try {
        const j = JSON.parse(line);
        if (j.ready === 'router') resolve(j);
      } catch { /* not JSON */ }
    });
    proc.once('exit', (c) => reject(new Error(`router exited with ${c}: ${log.join('\n')}`)));
  });
  return { proc, address: ready.address, log };
}

async function expectCode(p: Promise<unknown>, code: grpc.status, what: string): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, code, `${what}: ${grpc.status[e.code]} ${e.details}`);
    return true;
  });
}

describe('documented defaults (CLI processes started without limit flags)', function () {
  this.timeout(120_000);
  const pkg = loadPackage(resolvePackageDir(PACKAGE));
  let stack: Stack;
  let router: { proc: ChildProcess; address: string; log: string[] };
  let stub: ReturnType<typeof oipStub>;

  before(async () => {
    stack = await startStack({ pkg, host: '127.0.0.1', withRouter: false, partitionArgs: ['--measure', 'false'] });
    router = await serveRouter(pkg.dir, stack.partitions.map((p) => p.address));
    stub = oipStub(router.address, undefined, { 'grpc.max_send_message_length': -1 });
  });
  after(async () => {
    stub?.close();
    await stopProcess(router?.proc);
    await stack?.stop(3000);
  });

  it('should accept 64 images per request at the router and refuse 65 with INVALID_ARGUMENT', async () => {
    const ok = await infer(stub, imagesRequest(sample.images, 64), 30_000);
    assert.equal(ok.code, grpc.status.OK, ok.details);
    assert.equal(ok.res!.outputs[0].shape.map(Number)[0], 64);
    const over = await infer(stub, imagesRequest(new Uint8Array(65 * 784), 65), 10_000);
    assert.equal(over.code, grpc.status.INVALID_ARGUMENT, over.details);
    assert.match(over.details, /inputs\[0\]\.shape/);
  });

  it('should take a message just under 4 MiB at the router and refuse one just over with RESOURCE_EXHAUSTED', async () => {
    const sized = (bytes: number) => ({ ...imagesRequest(sample.images, 1), rawInputContents: [Buffer.alloc(bytes)] });
    // Under the limit the request is decoded and validated (wrong byte count); over it grpc-js refuses it unread.
    const under = await infer(stub, sized(4 * MiB - 1024), 10_000);
    assert.equal(under.code, grpc.status.INVALID_ARGUMENT, `${grpc.status[under.code]}: ${under.details}`);
    const over = await infer(stub, sized(4 * MiB + 1024), 10_000);
    assert.equal(over.code, grpc.status.RESOURCE_EXHAUSTED, `${grpc.status[over.code]}: ${over.details}`);
  });

  it('should accept 64 images per Run at a partition and refuse 65 with INVALID_ARGUMENT', async () => {
    const c = partitionStub(stack.partitions[0].address);
    const run = (n: number, data = Buffer.alloc(n * 784)) => new Promise((resolve, reject) =>
      c.Run({ requestId: `defaults-${n}`, package: pkg.manifest.name, missingPartitions: [1, 2, 3],
        images: { shape: [n, 28, 28], precision: 'UINT8', rawUint8: true, data } } as RunRequest,
      { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res))));
    try {
      await run(64);
      await expectCode(run(65), grpc.status.INVALID_ARGUMENT, '65 images');
    } finally {
      c.close();
    }
  });

  it('should take a message just under 16 MiB at a partition and refuse one just over with RESOURCE_EXHAUSTED', async () => {
    const c = partitionStub(stack.partitions[0].address, undefined, { 'grpc.max_send_message_length': -1 });
    const run = (bytes: number) => new Promise((resolve, reject) =>
      c.Run({ requestId: 'defaults-big', package: pkg.manifest.name,
        images: { shape: [1, 28, 28], precision: 'UINT8', rawUint8: true, data: Buffer.alloc(bytes) } },
      { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res))));
    try {
      await expectCode(run(16 * MiB - 64 * 1024), grpc.status.INVALID_ARGUMENT, 'just under 16 MiB (decoded, wrong size)');
      await expectCode(run(16 * MiB + 64 * 1024), grpc.status.RESOURCE_EXHAUSTED, 'just over 16 MiB');
    } finally {
      c.close();
    }
  });

  it('should end a request without a client deadline by the router\'s default 5 s when a partition hangs', async () => {
    // Last: it stops partition 3 (SIGSTOP). No client deadline: the router applies its default to the fan-out
    // (partition calls end 10% earlier, at 4.5 s); a 30 s default, or none, would run into the local bound below.
    const pid = stack.partitions[3].pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const bound = 9000;
      const r = await new Promise<InferOutcome>((resolve) => {
        const t = Date.now();
        const call = stub.ModelInfer(imagesRequest(sample.images, 2), {}, (err, res) =>
          resolve(err ? { code: err.code, details: err.details, ms: Date.now() - t } : { code: grpc.status.OK, details: '', res, ms: Date.now() - t }));
        setTimeout(() => call.cancel(), bound).unref();
      });
      assert.equal(r.code, grpc.status.OK, `${grpc.status[r.code]} after ${r.ms} ms: ${r.details}`);
      assert.ok(r.ms >= 4000 && r.ms <= 5500, `answered after ${r.ms} ms; the default deadline is 5000 ms (partition calls 4500 ms)`);
      const d = degradedOf(r.res!);
      assert.equal(d.degraded, true);
      assert.ok(d.missing.split(',').includes('3'), `missing '${d.missing}'`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});

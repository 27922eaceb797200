import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { loadSample } from '../../src/runtime/sample.ts';
import { loadConfig } from '../../src/roles/router/config.ts';
import { UsageError } from '../../src/runtime/errors.ts';
import { BIN } from '../../src/tools/cli/stack.ts';
import { degradedOf, describePartition, imagesRequest, infer, makePki, oipStub, startTestStack, stopProcess, type Pki,
  type TestStack } from './reliability-helpers.ts';

// TLS and mutual TLS (issue 8): only holders of a certificate signed by the cluster CA may talk to partitions
// (and so push activations); the whole stack works end to end over mTLS; no key material reaches the logs.
describe('TLS / mTLS between router and partitions (openssl certificates in a temp dir)', function () {
  this.timeout(90_000);
  let pki: Pki;
  let t: TestStack;
  const logs: string[] = [];
  const sample = loadSample();

  before(async () => {
    pki = makePki();
    const tls = ['--tls-cert', pki.cert, '--tls-key', pki.key, '--tls-ca', pki.ca];
    const ca = readFileSync(pki.ca);
    // The test process is a member too (it checks readiness): it presents the member certificate.
    const member = grpc.credentials.createSsl(ca, readFileSync(pki.key), readFileSync(pki.cert));
    t = await startTestStack({ partitionArgs: [...tls, '--tls-require-client-cert', 'true'], routerArgs: tls,
      creds: member, log: (l) => logs.push(l) });
  });
  after(async () => {
    await t?.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const ca = () => readFileSync(pki.ca);

  it('should serve whole answers end to end over mTLS (router -> partitions and partition -> partition pushes)', async () => {
    const stub = oipStub(t.address, grpc.credentials.createSsl(ca()));
    try {
      const r = await infer(stub, imagesRequest(sample.images.subarray(0, 8 * 784), 8), 10_000);
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.deepEqual(degradedOf(r.res!), { degraded: false, missing: '' });
      assert.equal(Number(r.res!.parameters.edgesplit_exchanged_bytes?.int64Param), 8 * t.pkg.manifest.metrics.exchangedBytes);
    } finally {
      stub.close();
    }
  });

  const refused = async (creds: grpc.ChannelCredentials, what: string) => {
    await assert.rejects(describePartition(t.stack.partitions[0].address, creds), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE, `${what}: ${grpc.status[e.code]} ${e.details}`);
      return true;
    });
  };

  it('should refuse a partition client that presents no certificate', async () => {
    await refused(grpc.credentials.createSsl(ca()), 'no client certificate');
  });

  it('should refuse a partition client whose certificate another CA signed', async () => {
    await refused(grpc.credentials.createSsl(ca(), readFileSync(pki.rogueKey), readFileSync(pki.rogueCert)), 'rogue CA');
  });

  it('should refuse a plaintext partition client', async () => {
    await refused(grpc.credentials.createInsecure(), 'plaintext');
  });

  it('should let a member certificate in (the same check the peers pass when they push)', async () => {
    const d = await describePartition(t.stack.partitions[0].address,
      grpc.credentials.createSsl(ca(), readFileSync(pki.key), readFileSync(pki.cert)));
    assert.equal(d.index, 0);
  });

  it('should log that TLS is on without any certificate or key material', () => {
    const text = logs.join('\n');
    assert.match(text, /"tls":"mtls"/);
    assert.doesNotMatch(text, /BEGIN|PRIVATE KEY|MII/);
    const key = readFileSync(pki.key, 'utf8').split('\n')[1];
    assert.ok(!text.includes(key));
  });

  /** Every line of PEM material in the test PKI (certificates and keys), base64 bodies only. */
  const pemLines = () => [pki.key, pki.cert, pki.ca].flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
  const assertNoKeyMaterial = (text: string, what: string) => {
    assert.doesNotMatch(text, /BEGIN|PRIVATE KEY/, what);
    const leaked = pemLines().filter((l) => text.includes(l));
    assert.deepEqual(leaked, [], `${what}: PEM lines in the output`);
  };

  it('should keep key material out of the router process\'s own output, serving and stopping over TLS', async () => {
    // The router as deployed (`edgesplit serve router`), not the in-process one: its stdout and stderr are its logs.
    const proc = spawn(process.execPath, [BIN, 'serve', 'router', '--package', t.pkg.dir,
      '--partitions', t.stack.partitions.map((p) => p.address).join(','), '--host', '127.0.0.1', '--port', '0',
      '--tls-cert', pki.cert, '--tls-key', pki.key, '--tls-ca', pki.ca], { stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, EDGESPLIT_EXIT_WITH_PARENT: '1' } });
    let out = '';
    proc.stderr!.on('data', (d) => { out += d; });
    try {
      const ready = await new Promise<{ address: string; tls: string }>((resolve, reject) => {
        createInterface({ input: proc.stdout! }).on('line', (line) => {
          out += `${line}\n`;
          if (line.includes('"ready":"router"')) resolve(JSON.parse(line));
        });
        proc.once('exit', (c) => reject(new Error(`router exited with ${c}: ${out}`)));
      });
      assert.equal(ready.tls, 'tls');
      const stub = oipStub(ready.address, grpc.credentials.createSsl(ca()));
      try {
        const r = await infer(stub, imagesRequest(sample.images.subarray(0, 784), 1), 10_000);
        assert.equal(r.code, grpc.status.OK, r.details);
        // A failing call too: error paths log as well.
        assert.equal((await infer(stub, { modelName: 'nope' }, 10_000)).code, grpc.status.NOT_FOUND);
      } finally {
        stub.close();
      }
    } finally {
      await stopProcess(proc);
    }
    assertNoKeyMaterial(out, 'router output');
  });

  it('should name the flag but print no key material when the router is given the wrong PEM files', () => {
    // Key and certificate swapped, and a key given as the CA.
    for (const args of [['--tls-cert', pki.key, '--tls-key', pki.cert, '--tls-ca', pki.ca],
      ['--tls-cert', pki.cert, '--tls-key', pki.key, '--tls-ca', pki.key]]) {
      const r = spawnSync(process.execPath, [BIN, 'serve', 'router', '--package', t.pkg.dir,
        '--partitions', t.stack.partitions.map((p) => p.address).join(','), '--host', '127.0.0.1', '--port', '0', ...args],
      { encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(r.status, 0, `the router started with ${args.join(' ')}`);
      assert.equal(r.signal, null, 'the router did not exit on its own');
      assert.match(r.stderr, /--tls-/, r.stderr);
      assertNoKeyMaterial(r.stdout + r.stderr, args.join(' '));
    }
  });

  it('should reject half-configured TLS with a usage error naming the flag', () => {
    const base = ['--package', t.pkg.dir, '--partitions', t.stack.partitions.map((p) => p.address).join(',')];
    assert.throws(() => loadConfig([...base, '--tls-cert', pki.cert], {}), (e: UsageError) => e.flag === '--tls-key');
    assert.throws(() => loadConfig([...base, '--tls-require-client-cert', 'true'], {}),
      (e: UsageError) => e.flag === '--tls-require-client-cert');
    assert.throws(() => loadConfig([...base, '--tls-cert', pki.dir + '/nope.crt', '--tls-key', pki.key], {}),
      (e: UsageError) => e.flag === '--tls-cert' && !e.message.includes('BEGIN'));
    const viaEnv = loadConfig(base, { EDGESPLIT_TLS_CERT: pki.cert, EDGESPLIT_TLS_KEY: pki.key, EDGESPLIT_TLS_CA: pki.ca });
    assert.equal(viaEnv.tls?.requireClientCert, false);
    assert.ok(viaEnv.tls?.ca);
  });
});

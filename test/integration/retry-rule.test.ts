import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { bindAsync } from '../../src/runtime/grpc-server.ts';
import { partitionProto } from '../../src/runtime/proto.ts';
import { freePort } from '../../src/tools/cli/stack.ts';
import { GrpcPartitionClient, type PartitionRunRequest } from '../../src/roles/router/partition-client.ts';
import { neverSent, runWithSafeRetry } from '../../src/roles/router/retry.ts';

// The safe-retry rule (README: "A partition call is retried once, only when no connection was established") against
// the errors grpc-js really produces, not strings written by the test: a closed port, a connection dropped while the
// partition works on the call, and a deadline. Real sockets on loopback, the router's real partition client.
const WIDTH = 2;
const req = (n = 1): PartitionRunRequest => ({ requestId: 'retry-rule', images: Buffer.alloc(n * 784), n, imageShape: [28, 28], package: 'p', missing: [] });

/**
 * A Partition server on `port` whose Runs (unary, or on the RunStream the router's client uses) either answer valid
 * features or never answer; counts the Runs it sees.
 */
const answer = (r: { images?: { shape: number[] } }) => {
  const n = Number(r.images?.shape[0] ?? 1);
  return { requestId: 'retry-rule', features: { shape: [n, WIDTH], precision: 'FP32', data: Buffer.alloc(n * WIDTH * 4) },
    sent: [], received: [], missedPoints: [], computeMs: 0 };
};

async function partitionServer(port: number, mode: 'answer' | 'hang'): Promise<{ server: grpc.Server; runs: () => number; started: Promise<void> }> {
  const server = new grpc.Server();
  let runs = 0;
  let onRun!: () => void;
  const started = new Promise<void>((r) => { onRun = r; });
  server.addService(partitionProto().edgesplit.v1.Partition.service, {
    Run: (call: grpc.ServerUnaryCall<{ images?: { shape: number[] } }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      runs++;
      onRun();
      if (mode === 'hang') return;
      cb(null, answer(call.request));
    },
    RunStream: (call: grpc.ServerDuplexStream<{ run?: { requestId: string; images?: { shape: number[] } } }, unknown>) => {
      call.on('data', (frame) => {
        if (!frame.run) return;
        runs++;
        onRun();
        if (mode === 'answer') call.write({ requestId: frame.run.requestId, response: answer(frame.run) });
      });
      call.on('error', () => undefined);
    },
  } as unknown as grpc.UntypedServiceImplementation);
  await bindAsync(server, '127.0.0.1', port);
  return { server, runs: () => runs, started };
}

/**
 * A TCP proxy on a free port in front of `target()`: drop() resets every connection through it, as a partition
 * process that dies (or a network that breaks) mid-call does.
 */
async function proxy(target: () => number): Promise<{ port: number; drop(): void; close(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = connect(target(), '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port,
    drop: () => sockets.forEach((s) => s.resetAndDestroy()), close: () => { server.close(); sockets.forEach((s) => s.destroy()); } };
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError & Error> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError & Error;
  }
  assert.fail('the call succeeded');
}

describe('safe retry rule against real grpc-js errors (loopback sockets)', function () {
  this.timeout(30_000);
  const clients: GrpcPartitionClient[] = [];
  const servers: grpc.Server[] = [];
  const client = (address: string) => {
    const c = new GrpcPartitionClient(0, address, WIDTH, 4 << 20);
    clients.push(c);
    return c;
  };
  after(() => {
    clients.forEach((c) => c.close());
    servers.forEach((s) => s.forceShutdown());
  });

  it('should call a Run to a closed port never sent (UNAVAILABLE), so it may be retried', async () => {
    const c = client(`127.0.0.1:${await freePort('127.0.0.1')}`);
    const err = await failure(c.run(req(), Date.now() + 3000));
    assert.equal(err.code, grpc.status.UNAVAILABLE, `${grpc.status[err.code]}: ${err.message}`);
    assert.equal(neverSent(err), true, `grpc-js said: ${err.message}`);
  });

  it('should call a Run whose connection dropped while the partition had it not safe to retry', async () => {
    const port = await freePort('127.0.0.1');
    const s = await partitionServer(port, 'hang');
    servers.push(s.server);
    const p = await proxy(() => port);
    const c = client(`127.0.0.1:${p.port}`);
    const call = failure(c.run(req(), Date.now() + 5000));
    await s.started;
    p.drop();
    const err = await call;
    p.close();
    assert.equal(err.code, grpc.status.UNAVAILABLE, `${grpc.status[err.code]}: ${err.message}`);
    assert.equal(neverSent(err), false, `grpc-js said: ${err.message}`);
  });

  it('should call a Run that ran out of its deadline at the partition not safe to retry', async () => {
    const port = await freePort('127.0.0.1');
    const s = await partitionServer(port, 'hang');
    servers.push(s.server);
    const err = await failure(client(`127.0.0.1:${port}`).run(req(), Date.now() + 300));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED, `${grpc.status[err.code]}: ${err.message}`);
    assert.equal(neverSent(err), false);
  });

  it('should retry once and succeed when the partition\'s port opens after a refused first attempt', async () => {
    const port = await freePort('127.0.0.1');
    const c = client(`127.0.0.1:${port}`);
    // The channel has seen the port closed: the next Run fails at once with "No connection established".
    assert.equal(neverSent(await failure(c.run(req(), Date.now() + 3000))), true);
    const s = await partitionServer(port, 'answer');
    servers.push(s.server);
    const r = await runWithSafeRetry(c, req(2), Date.now() + 5000, undefined);
    assert.deepEqual([...r.features], [0, 0, 0, 0]);
    assert.equal(s.runs(), 1, 'the partition sees the request once');
  });

  it('should not send the Run again after the connection dropped while the partition had it', async () => {
    const [hangPort, answerPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const first = await partitionServer(hangPort, 'hang');
    const second = await partitionServer(answerPort, 'answer');
    servers.push(first.server, second.server);
    let target = hangPort;
    const p = await proxy(() => target);
    const c = client(`127.0.0.1:${p.port}`);
    const call = failure(runWithSafeRetry(c, req(), Date.now() + 5000, undefined));
    await first.started;
    // A partition answers again at once behind the same address: a retry would reach it.
    target = answerPort;
    p.drop();
    const err = await call;
    p.close();
    assert.equal(err.code, grpc.status.UNAVAILABLE, `${grpc.status[err.code]}: ${err.message}`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(first.runs() + second.runs(), 1, 'the Run was sent again after the partition had seen it');
  });
});

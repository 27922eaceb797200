// Measures one device's CPU cost of exchanging tensors, inside its CPU quota: the real push path (slice copy,
// codec encode, protobuf + gRPC/HTTP2 framing, loopback TCP, decode, merge) between a client and a server that
// both run in this process, so both ends are charged to this device's quota. Fits
//   push time = 2 * (perMessageOverheadMs + MB * cpuMsPerMB)
// over a few fp32 tensor sizes (the latency model charges each end of a push once).
// Prints one JSON line: {perMessageOverheadMs, cpuMsPerMB, points: [{bytes, ms}]}.
// Run it inside a device: scripts/edge-emulator.sh exec dev0 -- node dist/src/tools/bench/measure-exchange.js
import * as grpc from '@grpc/grpc-js';
import { decode, encode } from '../../runtime/codec.ts';
import { partitionProto } from '../../runtime/proto.ts';
import { decodePush } from '../../roles/partition/push.ts';
import type { PushRequest__Output } from '../../runtime/generated/edgesplit/v1/PushRequest.ts';
import { GrpcTransport } from '../../roles/partition/grpc-transport.ts';
import { firstChannels, mergeInto } from '../../roles/partition/plan.ts';
import { median } from '../../runtime/stats.ts';
import { fitLine } from './fit.ts';
import { z } from 'zod';
import { scriptArgs } from '../cli/usage.ts';
import { intValue } from '../cli/commands/options.ts';

const { reps, maxSeconds, serve, to: toAddr } = scriptArgs({ name: 'measure-exchange', program: 'src/tools/bench/measure-exchange.ts',
  summary: "one device's cost of sending a slice: Push round trips to itself at several sizes, fitted to a line",
  settings: {
    reps: { flag: 'reps', arg: 'N', description: 'round trips per size, 3..200', default: '16' },
    maxSeconds: { flag: 'max-seconds', arg: 'S', description: 'time budget', default: '30' },
    serve: { flag: 'serve', arg: 'HOST:PORT', description: 'only the receiving end (in another device), until killed' },
    to: { flag: 'to', arg: 'HOST:PORT', description: 'push to a receiving end started with --serve (default: one in this process)' },
  } }, z.object({ reps: intValue(3, 200), maxSeconds: intValue(1), serve: z.string().optional(), to: z.string().optional() }));
// Channels of a 7x7 (and 14x14) fp32 slice: 1.5 KB .. 400 KB, the range the catalog's policies send.
const shapes: [number, number][] = [[8, 49], [64, 49], [128, 196], [512, 196]];

const PROTO = partitionProto().edgesplit.v1.Partition;
const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 });
const sink = new Map<number, Float32Array>();
const receive = (req: PushRequest__Output): void => {
  const m = decodePush(req);
  const [n, k, h, w] = m.tensor.shape;
  const values = decode(m.tensor.data, m.tensor.scales, n * k * h * w, n, m.tensor.precision);
  let y = sink.get(values.length);
  if (!y) sink.set(values.length, (y = new Float32Array(values.length * 2)));
  mergeInto(y, values, n, 2 * k, h * w, k);
};
server.addService(PROTO.service, {
  Push: (call: grpc.ServerUnaryCall<PushRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    receive(call.request);
    cb(null, { accepted: true });
  },
  // The partitions' data path: pushes on one long-lived stream, each acknowledged.
  PushStream: (call: grpc.ServerDuplexStream<PushRequest__Output, unknown>) => {
    call.on('data', (req: PushRequest__Output) => {
      receive(req);
      call.write({ requestId: req.requestId, point: req.point, accepted: true });
    });
    call.on('end', () => call.end());
  },
  Run: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
  Describe: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
} as unknown as grpc.UntypedServiceImplementation);
// --serve HOST:PORT: only the receiving end (in another device), until killed; --to HOST:PORT: push to it.
const serveAt = serve ?? '';
const port = await new Promise<number>((res, rej) => server.bindAsync(serveAt || '127.0.0.1:0', grpc.ServerCredentials.createInsecure(),
  (e, p) => (e ? rej(e) : res(p))));
if (serveAt) { console.log(JSON.stringify({ serving: serveAt })); await new Promise(() => {}); }
const to = toAddr ?? '';
if (to) server.forceShutdown();
const transport = new GrpcTransport(['', to || `127.0.0.1:${port}`], { maxMessageBytes: 64 << 20 });

const deadline = performance.now() + maxSeconds * 1000;
const points: { bytes: number; ms: number }[] = [];
let id = 0;
for (const [k, hw] of shapes) {
  const block = new Float32Array(2 * k * hw).map((_, i) => (i % 97) / 97);
  const times: number[] = [];
  for (let r = 0; r < reps + 2 && performance.now() < deadline; r++) {
    const t = performance.now();
    const slice = firstChannels(block, 1, 2 * k, hw, k);
    const enc = encode(slice, 1, 'fp32');
    const side = Math.sqrt(hw);
    await transport.push(1, { requestId: `m${id++}`, point: 0, from: 0, package: 'measure',
      tensor: { shape: [1, k, side, side], precision: 'fp32', data: enc.data, scales: enc.scales } }, Date.now() + 30_000);
    if (r >= 2) times.push(performance.now() - t);
    // Back to back: during a request a device's CPU is busy (units, pushes), so its quota is the limit; with idle
    // gaps a short push would run at full speed on the quota refilled meanwhile and look several times cheaper.
  }
  if (times.length) points.push({ bytes: k * hw * 4, ms: median(times) });
}
transport.close();
server.forceShutdown();
// Least squares ms = a + b * MB, both terms non-negative.
const { a, b } = fitLine(points.map((p) => ({ x: p.bytes / 1e6, y: p.ms })));
console.log(JSON.stringify({ perMessageOverheadMs: a / 2, cpuMsPerMB: b / 2, points }));
process.exit(0);

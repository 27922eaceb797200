import * as grpc from '@grpc/grpc-js';
import { toProtoPrecision } from '../../runtime/codec.ts';
import { UnavailableError } from '../../runtime/errors.ts';
import { partitionProto } from '../../runtime/proto.ts';
import { channelCredentials, channelTlsOptions, RECONNECT_OPTIONS, type TlsMaterial } from '../../runtime/tls.ts';
import { clientInterceptors } from '../../runtime/telemetry/grpc-client.ts';
import { clientRequest } from '../../runtime/telemetry/frames.ts';
import { EdgesplitError } from '../../runtime/errors.ts';
import { MuxStream } from '../../runtime/mux-stream.ts';
import type { PartitionClient } from '../../runtime/generated/edgesplit/v1/Partition.ts';
import type { PushAck__Output } from '../../runtime/generated/edgesplit/v1/PushAck.ts';
import type { PushRequest } from '../../runtime/generated/edgesplit/v1/PushRequest.ts';
import type { PeerTransport, PushMessage } from './runner.ts';

export interface GrpcTransportOptions {
  /** Max message size in bytes for pushes, both directions. */
  maxMessageBytes: number;
  keepaliveMs?: number;
  /** mTLS to peers (src/runtime/tls.ts): this partition's certificate and the cluster CA. */
  tls?: TlsMaterial;
  /** One unary Push per slice instead of the PushStream (the pre-stream path, kept for comparison). */
  unary?: boolean;
}

const pushKey = (requestId: string, point: number): string => `${point}/${requestId}`;

/**
 * Pushes slices straight to peer partitions over gRPC: one long-lived client per peer and, on it, one PushStream
 * that carries every push to that peer (each acknowledged), or one unary Push per slice with `unary: true`.
 */
export class GrpcTransport implements PeerTransport {
  private peers: string[] = [];
  private readonly clients = new Map<number, PartitionClient>();
  private readonly streams = new Map<number, MuxStream<PushRequest, PushAck__Output>>();

  constructor(peers: readonly string[], private readonly opts: GrpcTransportOptions) {
    this.setPeers(peers);
  }

  /** Replaces the peer addresses (partition order), closing clients whose address changed. */
  setPeers(peers: readonly string[]): void {
    peers.forEach((addr, i) => {
      if (this.peers[i] !== addr) this.drop(i);
    });
    for (let i = peers.length; i < this.peers.length; i++) this.drop(i);
    this.peers = [...peers];
  }

  private client(to: number): PartitionClient {
    let c = this.clients.get(to);
    if (c) return c;
    const addr = this.peers[to];
    if (!addr) throw new UnavailableError(`no address for partition ${to}`);
    const Partition = partitionProto().edgesplit.v1.Partition;
    c = new Partition(addr, channelCredentials(this.opts.tls), {
      ...RECONNECT_OPTIONS,
      ...channelTlsOptions(this.opts.tls),
      'grpc.max_send_message_length': this.opts.maxMessageBytes,
      'grpc.max_receive_message_length': this.opts.maxMessageBytes,
      // Peers idle between requests; keepalive notices a dead peer before a request waits on it.
      'grpc.keepalive_time_ms': this.opts.keepaliveMs ?? 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      // A push records no span of its own (it is an event on both partitions' Run spans): nothing travels with it.
      interceptors: clientInterceptors(addr, { Push: 'none' }),
    });
    this.clients.set(to, c);
    return c;
  }

  private drop(i: number): void {
    this.streams.get(i)?.close();
    this.streams.delete(i);
    this.clients.get(i)?.close();
    this.clients.delete(i);
  }

  private stream(to: number): MuxStream<PushRequest, PushAck__Output> {
    let s = this.streams.get(to);
    if (s) return s;
    const c = this.client(to);
    s = new MuxStream<PushRequest, PushAck__Output>({
      open: () => c.PushStream(),
      keyOf: (a) => pushKey(a.requestId, a.point),
      peer: `partition ${to} at ${this.peers[to]}`,
    });
    this.streams.set(to, s);
    return s;
  }

  push(to: number, msg: PushMessage, deadlineMs: number): Promise<void> {
    if (this.opts.unary) return this.pushUnary(to, msg, deadlineMs);
    let s: MuxStream<PushRequest, PushAck__Output>;
    try {
      s = this.stream(to);
    } catch (err) {
      return Promise.reject(err);
    }
    const t = msg.tensor;
    return clientRequest('edgesplit.v1.Partition', 'Push', (traceContext) => s.request(
      pushKey(msg.requestId, msg.point), {
        requestId: msg.requestId, point: msg.point, fromPartition: msg.from, package: msg.package,
        tensor: { shape: t.shape, precision: toProtoPrecision(t.precision), data: t.data, scales: t.scales, rawUint8: false },
        timeoutMs: Number.isFinite(deadlineMs) ? Math.max(1, deadlineMs - Date.now()) : 0, traceContext,
      }, deadlineMs)).then((ack) => {
      if (ack.error && ack.error.code !== 0) throw new EdgesplitError(`partition ${to}: ${ack.error.message}`, ack.error.code);
    });
  }

  private pushUnary(to: number, msg: PushMessage, deadlineMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let c: PartitionClient;
      try {
        c = this.client(to);
      } catch (err) {
        reject(err);
        return;
      }
      const options: grpc.CallOptions = Number.isFinite(deadlineMs) ? { deadline: new Date(deadlineMs) } : {};
      c.Push({
        requestId: msg.requestId, point: msg.point, fromPartition: msg.from, package: msg.package,
        tensor: { shape: msg.tensor.shape, precision: toProtoPrecision(msg.tensor.precision), data: msg.tensor.data,
          scales: msg.tensor.scales, rawUint8: false },
      }, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

import * as grpc from '@grpc/grpc-js';
import { toProtoPrecision } from '../common/codec.ts';
import { UnavailableError } from '../common/errors.ts';
import { partitionProto } from '../common/proto.ts';
import { channelCredentials, channelTlsOptions, RECONNECT_OPTIONS, type TlsMaterial } from '../common/tls.ts';
import { clientInterceptors } from '../common/telemetry/grpc-client.ts';
import type { PartitionClient } from '../common/generated/edgesplit/v1/Partition.ts';
import type { PeerTransport, PushMessage } from './runner.ts';

export interface GrpcTransportOptions {
  /** Max message size in bytes for pushes, both directions. */
  maxMessageBytes: number;
  keepaliveMs?: number;
  /** mTLS to peers (services/common/tls.ts): this partition's certificate and the cluster CA. */
  tls?: TlsMaterial;
}

/** Pushes slices straight to peer partitions over gRPC, one long-lived client per peer. */
export class GrpcTransport implements PeerTransport {
  private peers: string[] = [];
  private readonly clients = new Map<number, PartitionClient>();

  constructor(peers: readonly string[], private readonly opts: GrpcTransportOptions) {
    this.setPeers(peers);
  }

  /** Replaces the peer addresses (partition order), closing clients whose address changed. */
  setPeers(peers: readonly string[]): void {
    peers.forEach((addr, i) => {
      if (this.peers[i] !== addr) {
        this.clients.get(i)?.close();
        this.clients.delete(i);
      }
    });
    for (let i = peers.length; i < this.peers.length; i++) {
      this.clients.get(i)?.close();
      this.clients.delete(i);
    }
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
      interceptors: clientInterceptors(addr),
    });
    this.clients.set(to, c);
    return c;
  }

  push(to: number, msg: PushMessage, deadlineMs: number): Promise<void> {
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
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

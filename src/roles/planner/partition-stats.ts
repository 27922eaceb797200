// Describe over gRPC: the live figures the calibration loop reads from each deployed partition.
import * as grpc from '@grpc/grpc-js';
import { partitionProto } from '../../runtime/proto.ts';
import { channelCredentials, channelTlsOptions, type TlsMaterial } from '../../runtime/tls.ts';
import type { DescribeResponse__Output } from '../../runtime/generated/edgesplit/v1/DescribeResponse.ts';
import type { LivePartition } from './core/calibrate.ts';
import type { PartitionStatsSource } from './live-loop.ts';

type DescribeClient = grpc.Client & {
  Describe(req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: DescribeResponse__Output) => void): grpc.ClientUnaryCall;
};

/** One channel per address, kept while the address is in use; `close()` ends them all. */
export class GrpcPartitionStats implements PartitionStatsSource {
  private readonly clients = new Map<string, DescribeClient>();
  constructor(private readonly tls?: TlsMaterial) {}

  private client(address: string): DescribeClient {
    let c = this.clients.get(address);
    if (!c) {
      const Partition = partitionProto().edgesplit.v1.Partition as unknown as new (a: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => DescribeClient;
      c = new Partition(address, channelCredentials(this.tls), channelTlsOptions(this.tls));
      this.clients.set(address, c);
    }
    return c;
  }

  describe(address: string, timeoutMs: number): Promise<Omit<LivePartition, 'index'>> {
    return new Promise((resolve, reject) => {
      this.client(address).Describe({}, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) {
          reject(err ?? new Error('empty Describe answer'));
          return;
        }
        const l = res.live;
        resolve({ runs: Number(l?.runs ?? 0), computeMsP50: l?.computeMsP50 ?? 0,
          pushes: (l?.pushes ?? []).map((p) => ({ peer: p.peer, count: Number(p.count), bytesMean: p.bytesMean, transferMsP50: p.transferMsP50 })) });
      });
    });
  }

  /** Drops the channels of addresses no longer deployed. */
  keepOnly(addresses: string[]): void {
    for (const [a, c] of this.clients) {
      if (!addresses.includes(a)) {
        c.close();
        this.clients.delete(a);
      }
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

// RouterStats.Live over gRPC: the router's figures of the plan it serves, for the live calibration.
import * as grpc from '@grpc/grpc-js';
import { routerProto } from '../../runtime/proto.ts';
import type { RouterLive__Output } from '../../runtime/generated/edgesplit/v1/RouterLive.ts';
import type { RouterLive } from './core/calibrate.ts';
import type { RouterStatsSource } from './live-loop.ts';

type LiveClient = grpc.Client & {
  Live(req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: RouterLive__Output) => void): grpc.ClientUnaryCall;
};

export class GrpcRouterStats implements RouterStatsSource {
  private readonly client: LiveClient;
  constructor(address: string) {
    const Svc = routerProto().edgesplit.v1.RouterStats as unknown as new (a: string, c: grpc.ChannelCredentials) => LiveClient;
    this.client = new Svc(address, grpc.credentials.createInsecure());
  }

  live(timeoutMs: number): Promise<RouterLive & { planHash: string; batches: number; batchedRequests: number }> {
    return new Promise((resolve, reject) => {
      this.client.Live({}, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) {
          reject(err ?? new Error('empty RouterStats.Live answer'));
          return;
        }
        resolve({ planHash: res.planHash, requests: Number(res.requests), requestMsP50: res.requestMsP50,
          partitions: res.partitions.map((p) => ({ partition: p.partition, count: Number(p.count), rttMsP50: p.rttMsP50, overheadMsP50: p.overheadMsP50 })),
          batches: Number(res.batches), batchedRequests: Number(res.batchedRequests) });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

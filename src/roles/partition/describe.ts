import type * as grpc from '@grpc/grpc-js';
import { toGrpcStatus } from '../../runtime/errors.ts';
import type { DescribeRequest__Output } from '../../runtime/generated/edgesplit/v1/DescribeRequest.ts';
import type { DescribeResponse } from '../../runtime/generated/edgesplit/v1/DescribeResponse.ts';
import type { HandlerDeps } from './server.ts';

export function describeHandler(d: HandlerDeps): grpc.handleUnaryCall<DescribeRequest__Output, DescribeResponse> {
  return (_call, callback) => {
    let res: DescribeResponse;
    try {
      const x = d.runner.describe();
      const s = d.runner.stats();
      res = { index: x.index, partitions: x.partitions, package: x.package, policyId: x.policyId,
        units: x.units.map((u) => ({ name: u.name, inShape: u.inShape, outShape: u.outShape, flops: u.flops })),
        gflops: x.gflops, perCallOverheadMs: x.perCallOverheadMs, peers: d.peers(),
        requestsInFlight: s.inFlight, pushesDropped: s.droppedPushes, live: d.runner.live.snapshot() };
    } catch (err) {
      callback(toGrpcStatus(err));
      return;
    }
    callback(null, res);
  };
}

import type * as grpc from '@grpc/grpc-js';
import { fromProtoPrecision } from '../../runtime/codec.ts';
import { InvalidArgumentError, toGrpcStatus } from '../../runtime/errors.ts';
import type { PushRequest__Output } from '../../runtime/generated/edgesplit/v1/PushRequest.ts';
import type { PushResponse } from '../../runtime/generated/edgesplit/v1/PushResponse.ts';
import type { PushMessage } from './runner.ts';
import type { HandlerDeps } from './server.ts';

export function decodePush(req: PushRequest__Output): PushMessage {
  const t = req.tensor;
  if (!t) throw new InvalidArgumentError('tensor', 'missing');
  return { requestId: req.requestId, point: req.point, from: req.fromPartition, package: req.package,
    tensor: { shape: t.shape, precision: fromProtoPrecision(t.precision), data: t.data, scales: t.scales } };
}

/** A peer's slice: validated and handed to the runner; `accepted` is false when its request already finished. */
export function pushHandler(d: HandlerDeps): grpc.handleUnaryCall<PushRequest__Output, PushResponse> {
  return (call, callback) => {
    let res: PushResponse;
    try {
      res = { accepted: d.runner.acceptPush(decodePush(call.request)) !== 'dropped' };
    } catch (err) {
      callback(toGrpcStatus(err));
      return;
    }
    callback(null, res);
  };
}

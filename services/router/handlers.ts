import type * as grpc from '@grpc/grpc-js';
import { toGrpcStatus, EdgesplitError } from '../common/errors.ts';
import { callDeadlineMs as callDeadline, callSignal } from '../common/grpc-server.ts';
import type { GRPCInferenceServiceHandlers } from '../common/generated/inference/GRPCInferenceService.ts';
import { checkModel, validateInferRequest, MODEL_NAME } from './oip-validate.ts';
import { inferResponse, modelMetadata, type ServedModel } from './oip-response.ts';
import type { RouterPipeline } from './pipeline.ts';

export interface HandlerDeps {
  model: ServedModel;
  pipeline: Pick<RouterPipeline, 'infer'>;
  /** Live check of every partition (ServerReady / ModelReady). */
  partitionsReady: (timeoutMs: number) => Promise<boolean>;
  version: string;
  maxBatch: number;
  defaultTimeoutMs: number;
  /** false once draining: new inference is refused with UNAVAILABLE. */
  accepting: () => boolean;
}

/** Wraps an async handler so the callback runs exactly once, every error through toGrpcStatus. */
function unary<Req, Res>(fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let done = false;
    fn(call).then((res) => {
      if (!done) { done = true; callback(null, res); }
    }, (err: unknown) => {
      if (!done) { done = true; callback(toGrpcStatus(err)); }
    });
  };
}


export function inferenceHandlers(d: HandlerDeps): GRPCInferenceServiceHandlers {
  const readyTimeout = (call: grpc.ServerUnaryCall<unknown, unknown>) =>
    Math.max(1, Math.min(1000, callDeadline(call, 1000) - Date.now()));
  return {
    ServerLive: unary(async () => ({ live: true })),
    ServerReady: unary(async (call) => ({ ready: d.accepting() && await d.partitionsReady(readyTimeout(call)) })),
    ModelReady: unary(async (call) => {
      const versions = [d.model.packageName];
      if (call.request.name !== MODEL_NAME || (call.request.version !== '' && !versions.includes(call.request.version))) return { ready: false };
      return { ready: d.accepting() && await d.partitionsReady(readyTimeout(call)) };
    }),
    ServerMetadata: unary(async () => ({ name: MODEL_NAME, version: d.version, extensions: [] })),
    ModelMetadata: unary(async (call) => {
      checkModel(call.request.name, call.request.version, [d.model.packageName]);
      return modelMetadata(d.model);
    }),
    ModelInfer: unary(async (call) => {
      const v = validateInferRequest(call.request, { maxBatch: d.maxBatch, versions: [d.model.packageName] });
      if (!d.accepting()) throw new EdgesplitError('the router is shutting down', 14);
      const r = await d.pipeline.infer(v.images, v.n, callDeadline(call, d.defaultTimeoutMs), callSignal(call));
      return inferResponse(d.model, v.id, v.n, v.outputs, r);
    }),
  };
}

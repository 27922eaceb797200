import * as grpc from '@grpc/grpc-js';
import { toGrpcStatus, EdgesplitError } from '../../runtime/errors.ts';
import { isMalformed } from '../../runtime/malformed.ts';
import { halfCloser, type StreamRegistry } from '../../runtime/stream-registry.ts';
import { serverRequest } from '../../runtime/telemetry/frames.ts';
import type { ModelInferRequest__Output } from '../../runtime/generated/inference/ModelInferRequest.ts';
import type { ModelStreamInferResponse } from '../../runtime/generated/inference/ModelStreamInferResponse.ts';
import { callDeadlineMs as callDeadline, callSignal } from '../../runtime/grpc-server.ts';
import type { GRPCInferenceServiceHandlers } from '../../runtime/generated/inference/GRPCInferenceService.ts';
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
  /** Open ModelStreamInfer streams, ended by a draining router once their requests are answered. */
  streams: StreamRegistry;
  /** Why the router cannot serve at all yet (no plan), or undefined: inference and metadata answer UNAVAILABLE with it. */
  unavailable?: () => string | undefined;
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
      notYet(d);
      checkModel(call.request.name, call.request.version, [d.model.packageName]);
      return modelMetadata(d.model);
    }),
    ModelInfer: unary((call) => infer(d, call.request, callDeadline(call, d.defaultTimeoutMs), callSignal(call))),
    ModelStreamInfer: streamInfer(d),
  };
}

/** Before the first plan there is no model to validate against: UNAVAILABLE (retryable), not INVALID_ARGUMENT. */
function notYet(d: HandlerDeps): void {
  const why = d.unavailable?.();
  if (why !== undefined) throw new EdgesplitError(why, grpc.status.UNAVAILABLE);
}

async function infer(d: HandlerDeps, req: ModelInferRequest__Output, deadlineMs: number, signal: AbortSignal) {
  notYet(d);
  const v = validateInferRequest(req, { maxBatch: d.maxBatch, versions: [d.model.packageName], input: d.model.input });
  if (!d.accepting()) throw new EdgesplitError('the router is shutting down', grpc.status.UNAVAILABLE);
  const r = await d.pipeline.infer(v.images, v.n, deadlineMs, signal);
  return inferResponse(d.model, v.id, v.n, v.outputs, r);
}

/**
 * ModelStreamInfer (Triton's streaming extension): every request on the stream is served like a ModelInfer, with
 * the router's default timeout (or the stream's deadline, if sooner) and answered as soon as it is done; a failed
 * request is answered with `error_message` ("CODE_NAME: details") and the request's id, and the stream goes on.
 */
function streamInfer(d: HandlerDeps): grpc.handleBidiStreamingCall<ModelInferRequest__Output, ModelStreamInferResponse> {
  return (call) => {
    const ac = new AbortController();
    let inFlight = 0;
    const close = halfCloser(call, () => inFlight);
    const unregister = d.streams.add({ end: () => close.request() });
    const streamDeadline = callDeadline(call as unknown as grpc.ServerUnaryCall<unknown, unknown>, Infinity);
    const reply = (r: ModelStreamInferResponse) => {
      if (!close.ended && !ac.signal.aborted) call.write(r);
    };
    call.on('data', (req: ModelInferRequest__Output) => {
      if (isMalformed(req)) {
        reply({ errorMessage: `INVALID_ARGUMENT: request: not a valid ModelInferRequest`, inferResponse: null });
        return;
      }
      inFlight++;
      const deadlineMs = Math.min(streamDeadline, Date.now() + d.defaultTimeoutMs);
      serverRequest(SERVICE, 'ModelStreamInfer', undefined, () => ({}), () => infer(d, req, deadlineMs, ac.signal))
        .then((res) => reply({ errorMessage: '', inferResponse: res }), (err: unknown) => {
          const s = toGrpcStatus(err);
          reply({ errorMessage: `${grpc.status[s.code] ?? s.code}: ${s.details}`,
            inferResponse: { modelName: MODEL_NAME, id: req.id ?? '', outputs: [], parameters: {}, rawOutputContents: [] } });
        })
        .finally(() => {
          inFlight--;
          close.maybe();
        });
    });
    call.on('end', () => close.request());
    const onGone = () => {
      unregister();
      ac.abort();
    };
    call.on('cancelled', onGone);
    call.on('error', onGone);
    call.on('finish', unregister);
  };
}

const SERVICE = 'inference.GRPCInferenceService';

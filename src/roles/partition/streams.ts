import * as grpc from '@grpc/grpc-js';
import { AlreadyExistsError, InvalidArgumentError, toGrpcStatus } from '../../runtime/errors.ts';
import { isMalformed } from '../../runtime/malformed.ts';
import { serverCallMetrics, serverRequest } from '../../runtime/telemetry/frames.ts';
import type { PushAck } from '../../runtime/generated/edgesplit/v1/PushAck.ts';
import type { PushRequest__Output } from '../../runtime/generated/edgesplit/v1/PushRequest.ts';
import type { RunFrame__Output } from '../../runtime/generated/edgesplit/v1/RunFrame.ts';
import type { RunResult } from '../../runtime/generated/edgesplit/v1/RunResult.ts';
import type { RunResponse } from '../../runtime/generated/edgesplit/v1/RunResponse.ts';
import { halfCloser, StreamRegistry } from '../../runtime/stream-registry.ts';
import { decodePush } from './push.ts';
import { executeRun } from './run.ts';
import type { HandlerDeps } from './server.ts';
import type { MethodHooks } from '../../runtime/telemetry/grpc-server.ts';

const SERVICE = 'edgesplit.v1.Partition';

/** Ends a stream with INVALID_ARGUMENT (grpc-js sends a server stream's status when it emits 'error'). */
function failStream(call: grpc.ServerDuplexStream<unknown, unknown>, details: string): void {
  call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details });
}

const statusOf = (err: unknown) => {
  const s = toGrpcStatus(err);
  return { code: s.code, message: s.details };
};

/**
 * RunStream: Runs multiplexed on one stream. Each RunFrame.run is validated and computed like a unary Run (its
 * budget is `timeout_ms`, else the default), answered by a RunResult with the same request id, in completion order.
 * A cancel frame aborts that request; the stream's cancellation or failure aborts all of them, while the client's
 * half-close (end) lets them finish and then ends the stream.
 */
export function runStreamHandler(d: HandlerDeps, registry: StreamRegistry,
  hooks?: MethodHooks): grpc.handleBidiStreamingCall<RunFrame__Output, RunResult> {
  return (call) => {
    const inFlight = new Map<string, AbortController>();
    const close = halfCloser(call, () => inFlight.size);
    let gone = false;
    const unregister = registry.add({ end: () => close.request() });
    const abortAll = () => {
      for (const ac of inFlight.values()) ac.abort();
    };
    call.on('data', (frame: RunFrame__Output) => {
      if (isMalformed(frame)) {
        // The stream's framing is broken: nothing on it can be trusted any more.
        abortAll();
        failStream(call, `request: not a valid ${SERVICE}/RunStream frame`);
        return;
      }
      if (frame.cancel) {
        inFlight.get(frame.cancel.requestId)?.abort();
        return;
      }
      const req = frame.run;
      if (!req) return;
      const id = req.requestId;
      const reply = (res: RunResult) => {
        // A cancelled or failed stream takes no more writes; its requests were aborted with it.
        if (!close.ended && !gone) call.write(res);
      };
      if (!id || inFlight.has(id)) {
        reply({ requestId: id, error: statusOf(id ? new AlreadyExistsError(`request_id: ${id} is already in flight on this stream`)
          : new InvalidArgumentError('request_id', 'empty')) });
        return;
      }
      const ac = new AbortController();
      inFlight.set(id, ac);
      const budget = req.timeoutMs > 0 ? req.timeoutMs : d.defaultTimeoutMs;
      const deadlineMs = Date.now() + budget;
      serverRequest<RunResponse>(SERVICE, 'Run', req.traceContext, () => hooks?.attributes?.(req) ?? {},
        () => executeRun(d, req, deadlineMs, ac.signal), (res, span) => hooks?.onResponse?.(res, span, req))
        .then((response) => reply({ requestId: id, response }), (err) => reply({ requestId: id, error: statusOf(err) }))
        .finally(() => {
          inFlight.delete(id);
          close.maybe();
        });
    });
    call.on('end', () => close.request());
    const onGone = () => {
      gone = true;
      unregister();
      abortAll();
    };
    call.on('cancelled', onGone);
    call.on('error', onGone);
    call.on('finish', unregister);
  };
}

/**
 * PushStream: a peer's pushes on one stream, each validated and delivered like a unary Push and acknowledged by
 * (request id, point) with `accepted` (false: its request already finished) or the error a unary Push would give.
 */
export function pushStreamHandler(d: HandlerDeps, registry: StreamRegistry): grpc.handleBidiStreamingCall<PushRequest__Output, PushAck> {
  return (call) => {
    const close = halfCloser(call, () => 0);
    const unregister = registry.add({ end: () => close.request() });
    let gone = false;
    call.on('data', (req: PushRequest__Output) => {
      if (isMalformed(req)) {
        failStream(call, `request: not a valid ${SERVICE}/PushStream frame`);
        return;
      }
      const ack = (a: PushAck) => {
        if (!close.ended && !gone) call.write(a);
      };
      // No span (the push is an event on the Run spans of both partitions): only the call metrics.
      serverCallMetrics(SERVICE, 'Push', async () => d.runner.acceptPush(decodePush(req)) !== 'dropped')
        .then((accepted) => ack({ requestId: req.requestId, point: req.point, accepted }),
          (err) => ack({ requestId: req.requestId, point: req.point, accepted: false, error: statusOf(err) }));
    });
    call.on('end', () => close.request());
    const onGone = () => {
      gone = true;
      unregister();
    };
    call.on('cancelled', onGone);
    call.on('error', onGone);
    call.on('finish', unregister);
  };
}

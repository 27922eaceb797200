import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, toGrpcStatus } from '../common/errors.ts';
import { isMalformed } from '../common/malformed.ts';
import { serverRequest } from '../common/telemetry/frames.ts';
import type { PushAck } from '../common/generated/edgesplit/v1/PushAck.ts';
import type { PushRequest__Output } from '../common/generated/edgesplit/v1/PushRequest.ts';
import type { RunFrame__Output } from '../common/generated/edgesplit/v1/RunFrame.ts';
import type { RunResult } from '../common/generated/edgesplit/v1/RunResult.ts';
import type { RunResponse } from '../common/generated/edgesplit/v1/RunResponse.ts';
import { decodePush } from './push.ts';
import { executeRun } from './run.ts';
import type { HandlerDeps } from './server.ts';
import type { MethodHooks } from '../common/telemetry/grpc-server.ts';

const SERVICE = 'edgesplit.v1.Partition';

type Duplex<Req, Res> = grpc.ServerDuplexStream<Req, Res>;

/**
 * The open data-path streams of one server, so that a draining partition can end them (a long-lived stream
 * would otherwise hold tryShutdown until its timeout).
 */
export class StreamRegistry {
  private readonly open = new Set<{ end: () => void }>();
  private closing = false;

  add(s: { end: () => void }): () => void {
    if (this.closing) {
      s.end();
      return () => {};
    }
    this.open.add(s);
    return () => this.open.delete(s);
  }

  /** Ends every stream once its in-flight requests are answered; new streams are ended at once. */
  endAll(): void {
    this.closing = true;
    for (const s of this.open) s.end();
    this.open.clear();
  }
}

const statusOf = (err: unknown) => {
  const s = toGrpcStatus(err);
  return { code: s.code, message: s.details };
};

/** Half-closes the server side once the client has half-closed (or we are draining) and nothing is in flight. */
function closer<Req, Res>(call: Duplex<Req, Res>, inFlight: () => number) {
  let wantEnd = false;
  let ended = false;
  return {
    request(): void {
      wantEnd = true;
      this.maybe();
    },
    maybe(): void {
      if (wantEnd && !ended && inFlight() === 0) {
        ended = true;
        call.end();
      }
    },
    get ended(): boolean {
      return ended;
    },
  };
}

/**
 * RunStream: Runs multiplexed on one stream. Each RunFrame.run is validated and computed like a unary Run (its
 * budget is `timeout_ms`, else the default), answered by a RunResult with the same request id, in completion order.
 * A cancel frame aborts that request; the stream's end or cancellation aborts all of this stream's requests.
 */
export function runStreamHandler(d: HandlerDeps, registry: StreamRegistry,
  hooks?: MethodHooks): grpc.handleBidiStreamingCall<RunFrame__Output, RunResult> {
  return (call) => {
    const inFlight = new Map<string, AbortController>();
    const close = closer(call, () => inFlight.size);
    const unregister = registry.add({ end: () => close.request() });
    const abortAll = () => {
      for (const ac of inFlight.values()) ac.abort();
    };
    call.on('data', (frame: RunFrame__Output) => {
      if (isMalformed(frame)) {
        // The stream's framing is broken: nothing on it can be trusted any more.
        abortAll();
        call.destroy(Object.assign(new Error(`request: not a valid ${SERVICE}/RunStream frame`), { code: grpc.status.INVALID_ARGUMENT }));
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
        if (!close.ended) call.write(res);
      };
      if (!id || inFlight.has(id)) {
        reply({ requestId: id, error: statusOf(id ? new InvalidArgumentError('request_id', `${id} is already in flight on this stream`)
          : new InvalidArgumentError('request_id', 'empty')) });
        return;
      }
      const ac = new AbortController();
      inFlight.set(id, ac);
      const budget = req.timeoutMs > 0 ? req.timeoutMs : d.defaultTimeoutMs;
      const deadlineMs = Date.now() + budget;
      serverRequest<RunResponse>(SERVICE, 'Run', req.traceContext, () => hooks?.attributes?.(req) ?? {},
        () => executeRun(d, req, deadlineMs, ac.signal), (res, span) => { if (span) hooks?.onResponse?.(res, span, req); })
        .then((response) => reply({ requestId: id, response }), (err) => reply({ requestId: id, error: statusOf(err) }))
        .finally(() => {
          inFlight.delete(id);
          close.maybe();
        });
    });
    call.on('end', () => close.request());
    const gone = () => {
      unregister();
      abortAll();
    };
    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('finish', unregister);
  };
}

/**
 * PushStream: a peer's pushes on one stream, each validated and delivered like a unary Push and acknowledged by
 * (request id, point) with `accepted` (false: its request already finished) or the error a unary Push would give.
 */
export function pushStreamHandler(d: HandlerDeps, registry: StreamRegistry,
  hooks?: MethodHooks): grpc.handleBidiStreamingCall<PushRequest__Output, PushAck> {
  return (call) => {
    const close = closer(call, () => 0);
    const unregister = registry.add({ end: () => close.request() });
    call.on('data', (req: PushRequest__Output) => {
      if (isMalformed(req)) {
        call.destroy(Object.assign(new Error(`request: not a valid ${SERVICE}/PushStream frame`), { code: grpc.status.INVALID_ARGUMENT }));
        return;
      }
      const ack = (a: PushAck) => {
        if (!close.ended) call.write(a);
      };
      serverRequest(SERVICE, 'Push', req.traceContext, () => hooks?.attributes?.(req) ?? {},
        async () => d.runner.acceptPush(decodePush(req)) !== 'dropped')
        .then((accepted) => ack({ requestId: req.requestId, point: req.point, accepted }),
          (err) => ack({ requestId: req.requestId, point: req.point, accepted: false, error: statusOf(err) }));
    });
    call.on('end', () => close.request());
    call.on('cancelled', unregister);
    call.on('error', unregister);
    call.on('finish', unregister);
  };
}

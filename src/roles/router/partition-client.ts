import * as grpc from '@grpc/grpc-js';
import { partitionProto } from '../../runtime/proto.ts';
import { EdgesplitError, DeadlineExceededError } from '../../runtime/errors.ts';
import { HealthChecker } from '../../runtime/health-client.ts';
import { channelCredentials, channelTlsOptions, RECONNECT_OPTIONS, type TlsMaterial } from '../../runtime/tls.ts';
import { clientInterceptors } from '../../runtime/telemetry/grpc-client.ts';
import type { CallEvent } from '../../runtime/telemetry/events.ts';
import { ATTR, EVENT } from '../../runtime/telemetry/names.ts';
import type { PartitionClient as PartitionStub } from '../../runtime/generated/edgesplit/v1/Partition.ts';
import type { RunResponse__Output } from '../../runtime/generated/edgesplit/v1/RunResponse.ts';
import type { RunFrame } from '../../runtime/generated/edgesplit/v1/RunFrame.ts';
import type { RunResult__Output } from '../../runtime/generated/edgesplit/v1/RunResult.ts';
import { MuxStream } from '../../runtime/mux-stream.ts';
import { clientRequest } from '../../runtime/telemetry/frames.ts';

export interface PartitionRunRequest {
  requestId: string;
  /** N images of raw pixels as served ([H,W] or [H,W,C] each). */
  images: Buffer;
  n: number;
  /** One image's served shape: [H,W] or [H,W,C]. */
  imageShape: readonly number[];
  package: string;
  missing: number[];
}

export interface PartitionRunResult {
  /** [N, W3/P] */
  features: Float32Array;
  /** Bytes this partition put on the wire at its points, as it counted them. */
  sentBytes: number;
  missedPoints: number[];
  computeMs: number;
}

/** The router's view of one partition; the gRPC one below, in-memory fakes in test/fakes. */
export interface PartitionClient {
  readonly index: number;
  readonly address: string;
  run(req: PartitionRunRequest, deadlineMs: number, signal?: AbortSignal): Promise<PartitionRunResult>;
  /** true when the partition's health service answers SERVING within `timeoutMs`. */
  healthy(timeoutMs: number): Promise<boolean>;
  /** true once the connection is up (within `timeoutMs`); used only before the one safe retry. */
  waitReady?(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Copies into an aligned buffer (gRPC buffers may start at any offset); data are little-endian, as is every host we run on. */
function toFloat32(buf: Buffer): Float32Array {
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/**
 * A partition over gRPC: every Run travels on one long-lived RunStream (multiplexed by request id, see
 * MuxStream), or as one unary Run call each with `unary: true` (the pre-stream path, kept for comparison).
 */
export class GrpcPartitionClient implements PartitionClient {
  private readonly stub: PartitionStub;
  private readonly health: HealthChecker;
  private readonly stream: MuxStream<RunFrame, RunResult__Output>;
  /** How a Run shows in the request's trace: an event on the router's request span (the partition's span is its child). */
  private readonly runEvent: CallEvent;

  constructor(readonly index: number, readonly address: string, readonly width: number, maxMessageBytes: number,
    tls?: TlsMaterial, private readonly opts: { unary?: boolean } = {}) {
    this.runEvent = { name: EVENT.run, attributes: { [ATTR.partition]: index } };
    const Partition = partitionProto().edgesplit.v1.Partition;
    this.stub = new Partition(address, channelCredentials(tls), {
      ...RECONNECT_OPTIONS,
      ...channelTlsOptions(tls),
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      // No CLIENT span per Run: the call is an event on the request's span (this partition, status, duration).
      interceptors: clientInterceptors(address, { Run: this.runEvent }),
    });
    // Share the stub's channel: one connection per partition.
    this.health = new HealthChecker(address, this.stub.getChannel() as grpc.Channel, channelCredentials(tls));
    this.stream = new MuxStream<RunFrame, RunResult__Output>({
      open: () => this.stub.RunStream(),
      keyOf: (r) => r.requestId,
      peer: `partition ${index} at ${address}`,
    });
  }

  run(req: PartitionRunRequest, deadlineMs: number, signal?: AbortSignal): Promise<PartitionRunResult> {
    if (this.opts.unary) return this.runUnary(req, deadlineMs, signal);
    return clientRequest('edgesplit.v1.Partition', 'Run', (traceContext) => this.stream.request(req.requestId, {
      run: {
        requestId: req.requestId, package: req.package, missingPartitions: req.missing,
        images: { shape: [req.n, ...req.imageShape], precision: 'UINT8', rawUint8: true, data: req.images },
        timeoutMs: Math.max(1, deadlineMs - Date.now()), traceContext,
      },
    }, deadlineMs, signal, () => ({ cancel: { requestId: req.requestId } })), this.runEvent).then((r) => {
      if (r.error && r.error.code !== 0) {
        const where = `partition ${this.index} at ${this.address}`;
        if (r.error.code === grpc.status.DEADLINE_EXCEEDED) throw new DeadlineExceededError(`${where}: deadline exceeded`);
        throw new EdgesplitError(`${where}: ${r.error.message}`, r.error.code);
      }
      if (!r.response) throw new EdgesplitError(`partition ${this.index} answered ${r.requestId} with neither a response nor an error`, grpc.status.INTERNAL);
      return this.decode(r.response, req.n);
    });
  }

  private runUnary(req: PartitionRunRequest, deadlineMs: number, signal?: AbortSignal): Promise<PartitionRunResult> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new EdgesplitError(`partition ${this.index}: cancelled`, grpc.status.CANCELLED));
      const call = this.stub.Run({
        requestId: req.requestId, package: req.package, missingPartitions: req.missing,
        images: { shape: [req.n, ...req.imageShape], precision: 'UINT8', rawUint8: true, data: req.images },
      }, { deadline: deadlineMs, waitForReady: false } as grpc.CallOptions, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          const where = `partition ${this.index} at ${this.address}`;
          if (err.code === grpc.status.DEADLINE_EXCEEDED) return reject(new DeadlineExceededError(`${where}: deadline exceeded`));
          return reject(new EdgesplitError(`${where}: ${err.details}`, err.code));
        }
        try {
          resolve(this.decode(res!, req.n));
        } catch (e) {
          reject(e);
        }
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private decode(res: RunResponse__Output, n: number): PartitionRunResult {
    const f = res.features;
    const shape = f?.shape ?? [];
    if (!f || f.precision !== 'FP32' || shape.length !== 2 || shape[0] !== n || shape[1] !== this.width ||
      f.data.length !== n * this.width * 4) {
      throw new Error(`partition ${this.index} returned features ${f?.precision} [${shape.join(',')}] (${f?.data.length ?? 0} bytes), expected FP32 [${n},${this.width}]`);
    }
    const sentBytes = res.sent.reduce((s, p) => s + Number(p.bytes), 0);
    return { features: toFloat32(f.data), sentBytes, missedPoints: res.missedPoints, computeMs: res.computeMs };
  }

  async healthy(timeoutMs: number): Promise<boolean> {
    return (await this.health.check('', timeoutMs)) === 'SERVING';
  }

  waitReady(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => this.stub.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)));
  }

  close(): void {
    this.stream.close();
    this.health.close();
    this.stub.close();
  }
}

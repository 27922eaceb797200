import type * as grpc from '@grpc/grpc-js';
import { FailedPreconditionError, InvalidArgumentError, toGrpcStatus } from '../../runtime/errors.ts';
import { callDeadlineMs, callSignal } from '../../runtime/grpc-server.ts';
import type { RunRequest__Output } from '../../runtime/generated/edgesplit/v1/RunRequest.ts';
import type { RunResponse } from '../../runtime/generated/edgesplit/v1/RunResponse.ts';
import type { Tensor__Output } from '../../runtime/generated/edgesplit/v1/Tensor.ts';
import type { PointStat as ProtoPointStat } from '../../runtime/generated/edgesplit/v1/PointStat.ts';
import type { HandlerDeps } from './server.ts';
import type { PointStat } from './runner.ts';
import { batchOfUint8Shape, checkPixels, describeUint8Shape, type ImageInput } from '../../runtime/image-input.ts';

/** The router's image batch: raw UINT8 pixels as served, [N,H,W] or [N,H,W,C] (the package's input). */
export function decodeImages(t: Tensor__Output | null, input: ImageInput): { data: Uint8Array; n: number } {
  if (!t) throw new InvalidArgumentError('images', 'missing');
  if (t.precision !== 'UINT8' || !t.rawUint8) {
    throw new InvalidArgumentError('images.precision', `expected raw UINT8 pixels, got ${t.precision}${t.rawUint8 ? '' : ' (raw_uint8 unset)'}`);
  }
  const s = t.shape.map(Number);
  const n = batchOfUint8Shape(input, s);
  if (n === undefined || !Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError('images.shape', `expected ${describeUint8Shape(input)} with N >= 1, got [${s.join(',')}]`);
  }
  checkPixels(input, n, t.data.length, 'images.data');
  return { data: t.data, n };
}

function checkMissing(missing: number[], partitions: number, self: number): number[] {
  for (const m of missing) {
    if (!Number.isInteger(m) || m < 0 || m >= partitions || m === self) {
      throw new InvalidArgumentError('missing_partitions', `${m} is not another partition of 0..${partitions - 1}`);
    }
  }
  return missing;
}

const toProtoStat = (s: PointStat): ProtoPointStat => ({ point: s.point, peer: s.peer, bytes: s.bytes,
  transferMs: s.transferMs, merged: s.merged, waitMs: s.waitMs });

/** Validates one Run and computes it; shared by the unary Run and the multiplexed RunStream. */
export async function executeRun(d: HandlerDeps, req: RunRequest__Output, deadlineMs: number,
  signal: AbortSignal): Promise<RunResponse> {
  if (req.package !== d.runner.packageName) {
    throw new FailedPreconditionError(`package: request is for ${JSON.stringify(req.package)}, this partition serves ${d.runner.packageName}`);
  }
  const { data, n } = decodeImages(req.images, d.runner.input);
  const desc = d.runner.describe();
  const missing = checkMissing(req.missingPartitions, desc.partitions, desc.index);
  const r = await d.runner.run(req.requestId, data, n, { deadlineMs, missing, signal });
  const f = r.features;
  return {
    requestId: req.requestId,
    // Float32Array memory is little-endian on every platform Node supports here, as the wire wants.
    features: { shape: [n, f.length / n], precision: 'FP32', data: Buffer.from(f.buffer, f.byteOffset, f.byteLength),
      scales: [], rawUint8: false },
    computeMs: r.computeMs, sent: r.sent.map(toProtoStat), received: r.received.map(toProtoStat),
    missedPoints: r.missedPoints,
  };
}

export function runHandler(d: HandlerDeps): grpc.handleUnaryCall<RunRequest__Output, RunResponse> {
  return (call, callback) => {
    executeRun(d, call.request, callDeadlineMs(call, d.defaultTimeoutMs), callSignal(call))
      .then((res) => callback(null, res), (err) => callback(toGrpcStatus(err)));
  };
}

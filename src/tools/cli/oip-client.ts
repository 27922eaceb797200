import * as grpc from '@grpc/grpc-js';
import { inferenceProto } from '../../runtime/proto.ts';
import type { GRPCInferenceServiceClient } from '../../runtime/generated/inference/GRPCInferenceService.ts';
import type { ModelInferResponse__Output } from '../../runtime/generated/inference/ModelInferResponse.ts';
import type { ModelMetadataResponse__Output } from '../../runtime/generated/inference/ModelMetadataResponse.ts';
import type { ModelInferRequest } from '../../runtime/generated/inference/ModelInferRequest.ts';
import type { ModelStreamInferResponse__Output } from '../../runtime/generated/inference/ModelStreamInferResponse.ts';
import { MuxStream } from '../../runtime/mux-stream.ts';

export interface Classified {
  probabilities: Float32Array;
  logits?: Float32Array;
  labels: string[];
  package: string;
  policyId: string;
  degraded: boolean;
  exchangedBytes: number;
}

function f32(buf: Buffer): Float32Array {
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export function decodeBytesTensor(buf: Buffer): string[] {
  const out: string[] = [];
  for (let o = 0; o < buf.length;) {
    const len = buf.readUInt32LE(o);
    out.push(buf.subarray(o + 4, o + 4 + len).toString('utf8'));
    o += 4 + len;
  }
  return out;
}

/** imageShape: one image as the model takes it, [H,W] or [H,W,C] (ModelMetadata's input shape without the batch). */
function classifyRequest(images: Uint8Array, n: number, imageShape: readonly number[], logits = false, id = ''): ModelInferRequest {
  const outputs = ['probabilities', 'label', ...(logits ? ['logits'] : [])].map((name) => ({ name }));
  const bytes = n * imageShape.reduce((a, b) => a * b, 1);
  if (images.length < bytes) throw new RangeError(`classify: ${images.length} bytes hold fewer than ${n} images of [${imageShape.join(',')}]`);
  return { modelName: 'edgesplit', id, inputs: [{ name: 'image', datatype: 'UINT8', shape: [n, ...imageShape] }],
    outputs, rawInputContents: [Buffer.from(images.buffer, images.byteOffset, bytes)] };
}

/** The served image shape from ModelMetadata: its input's shape without the batch dimension. */
export function imageShapeOf(meta: ModelMetadataResponse__Output): number[] {
  const shape = meta.inputs?.[0]?.shape?.map(Number) ?? [];
  if (shape.length < 3) throw new Error(`the router's ModelMetadata gives no image shape ([${shape.join(',')}])`);
  return shape.slice(1);
}

function classified(res: ModelInferResponse__Output): Classified {
  const byName = new Map(res.outputs.map((o, i) => [o.name, res.rawOutputContents[i]]));
  const p = res.parameters;
  return {
    probabilities: f32(byName.get('probabilities')!),
    logits: byName.has('logits') ? f32(byName.get('logits')!) : undefined,
    labels: decodeBytesTensor(byName.get('label')!),
    package: p.edgesplit_package?.stringParam ?? '', policyId: p.edgesplit_policy?.stringParam ?? '',
    degraded: p.edgesplit_degraded?.boolParam ?? false, exchangedBytes: Number(p.edgesplit_exchanged_bytes?.int64Param ?? 0),
  };
}

/** Requests on one ModelStreamInfer call (Triton's streaming extension), as tritonclient's stream API sends them. */
export class OipStream {
  private readonly mux: MuxStream<ModelInferRequest, ModelStreamInferResponse__Output>;
  private next = 0;

  constructor(stub: GRPCInferenceServiceClient, private readonly imageShape: () => Promise<readonly number[]>) {
    this.mux = new MuxStream({ open: () => stub.ModelStreamInfer(), keyOf: (r) => r.inferResponse?.id ?? '', peer: 'router' });
  }

  async classify(images: Uint8Array, n: number, opts: { logits?: boolean; timeoutMs?: number } = {}): Promise<Classified> {
    const id = `s${this.next++}`;
    const r = await this.mux.request(id, classifyRequest(images, n, await this.imageShape(), opts.logits, id), Date.now() + (opts.timeoutMs ?? 10_000));
    if (r.errorMessage) throw new Error(r.errorMessage);
    return classified(r.inferResponse!);
  }

  close(): void {
    this.mux.close();
  }
}

/** A client of the router's Open Inference Protocol API (the same calls a Triton or KServe client makes). */
export class OipClient {
  private readonly stub: GRPCInferenceServiceClient;
  private shape: Promise<readonly number[]> | undefined;

  /** `imageShape` ([H,W] or [H,W,C]); without it, the first classify asks ModelMetadata. */
  constructor(readonly address: string, opts: { imageShape?: readonly number[] } = {}) {
    if (opts.imageShape) this.shape = Promise.resolve(opts.imageShape);
    const Svc = inferenceProto().inference.GRPCInferenceService;
    this.stub = new Svc(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 16 << 20 });
  }

  /** Raw call, for tests that check status codes. */
  inferRaw(req: Parameters<GRPCInferenceServiceClient['ModelInfer']>[0], timeoutMs = 10_000): Promise<ModelInferResponse__Output> {
    return new Promise((resolve, reject) => {
      this.stub.ModelInfer(req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  metadata(timeoutMs = 5000): Promise<ModelMetadataResponse__Output> {
    return new Promise((resolve, reject) => {
      this.stub.ModelMetadata({ name: 'edgesplit' }, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  serverReady(timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.stub.ServerReady({}, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!.ready)));
    });
  }

  /** One image's served shape: as given, or from ModelMetadata (asked once). */
  imageShape(): Promise<readonly number[]> {
    this.shape ??= this.metadata().then(imageShapeOf);
    this.shape.catch(() => { this.shape = undefined; }); // ask again next time
    return this.shape;
  }

  /** Classifies N uint8 images (served layout: [H,W] or [H,W,C] each) in one request. */
  async classify(images: Uint8Array, n: number, opts: { logits?: boolean; timeoutMs?: number } = {}): Promise<Classified> {
    return classified(await this.inferRaw(classifyRequest(images, n, await this.imageShape(), opts.logits), opts.timeoutMs));
  }

  /** A ModelStreamInfer stream: many requests on one call, matched to their answers by request id. */
  openStream(): OipStream {
    return new OipStream(this.stub, () => this.imageShape());
  }

  close(): void {
    this.stub.close();
  }
}

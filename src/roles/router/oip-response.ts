import type { ModelInferResponse } from '../../runtime/generated/inference/ModelInferResponse.ts';
import type { ModelMetadataResponse } from '../../runtime/generated/inference/ModelMetadataResponse.ts';
import type { InferParameter } from '../../runtime/generated/inference/InferParameter.ts';
import { MODEL_NAME, type OutputName } from './oip-validate.ts';
import { argmax } from '../../runtime/stats.ts';
import { uint8Shape, type ImageInput } from '../../runtime/image-input.ts';

export const PLATFORM = 'edgesplit_onnxruntime';

export interface ServedModel {
  packageName: string;
  policyId: string;
  partitions: number;
  classes: string[];
  input: ImageInput;
}

/** Versions are the package names: a client pinning one gets NOT_FOUND once another package serves. */
export function modelMetadata(m: ServedModel): ModelMetadataResponse {
  return {
    name: MODEL_NAME, versions: [m.packageName], platform: PLATFORM,
    inputs: [{ name: 'image', datatype: 'UINT8', shape: uint8Shape(m.input, -1) }],
    outputs: [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, m.classes.length] },
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'logits', datatype: 'FP32', shape: [-1, m.classes.length] },
    ],
  };
}

export interface InferResult {
  logits: Float32Array;
  probabilities: Float32Array;
  degraded: boolean;
  exchangedBytes: number;
  missingPartitions: number[];
}

function f32Bytes(a: Float32Array): Buffer {
  const b = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i], i * 4);
  return b;
}

/** BYTES tensors travel as a 4-byte little-endian length before each element (the OIP raw encoding). */
export function encodeBytesTensor(items: string[]): Buffer {
  const parts = items.flatMap((s) => {
    const body = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    return [len, body];
  });
  return Buffer.concat(parts);
}

export function argmaxLabels(probabilities: Float32Array, n: number, classes: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(classes[argmax(probabilities, i, classes.length)]);
  return out;
}

/** The response: requested outputs, in the order asked, as raw_output_contents; package facts as parameters. */
export function inferResponse(m: ServedModel, id: string, n: number, outputs: OutputName[], r: InferResult): ModelInferResponse {
  const k = m.classes.length;
  const tensors = outputs.map((name) => {
    if (name === 'label') return { meta: { name, datatype: 'BYTES', shape: [n] }, raw: encodeBytesTensor(argmaxLabels(r.probabilities, n, m.classes)) };
    const data = name === 'logits' ? r.logits : r.probabilities;
    return { meta: { name, datatype: 'FP32', shape: [n, k] }, raw: f32Bytes(data) };
  });
  const parameters: Record<string, InferParameter> = {
    edgesplit_package: { stringParam: m.packageName },
    edgesplit_policy: { stringParam: m.policyId },
    edgesplit_partitions: { int64Param: m.partitions },
    edgesplit_degraded: { boolParam: r.degraded },
    edgesplit_exchanged_bytes: { int64Param: r.exchangedBytes },
  };
  if (r.missingPartitions.length) parameters.edgesplit_missing_partitions = { stringParam: r.missingPartitions.join(',') };
  return {
    modelName: MODEL_NAME, modelVersion: m.packageName, id, parameters,
    outputs: tensors.map((t) => t.meta), rawOutputContents: tensors.map((t) => t.raw),
  };
}

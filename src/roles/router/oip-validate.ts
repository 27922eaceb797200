import { InvalidArgumentError, NotFoundError } from '../../runtime/errors.ts';
import type { ModelInferRequest__Output } from '../../runtime/generated/inference/ModelInferRequest.ts';
import { batchOfFp32Shape, batchOfUint8Shape, chwToHwcIndex, describeFp32Shape, describeUint8Shape,
  type ImageInput } from '../../runtime/image-input.ts';

/** The one model name served, whatever package runs (ModelMetadata says which). */
export const MODEL_NAME = 'edgesplit';
export const INPUT_NAME = 'image';
export const OUTPUT_NAMES = ['probabilities', 'label', 'logits'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];
/** Served when the request names no outputs (logits are on request only: they exist for parity checks). */
export const DEFAULT_OUTPUTS: OutputName[] = ['probabilities', 'label'];

export interface ValidatedInfer {
  id: string;
  n: number;
  /** N images of uint8 pixels as served: [N,H,W] or [N,H,W,C]. */
  images: Buffer;
  outputs: OutputName[];
}

export interface ValidateOptions {
  maxBatch: number;
  /** Model versions accepted besides '' (ModelMetadata's versions). */
  versions: string[];
  /** The package's image input (manifest `input`). */
  input: ImageInput;
}

/** NOT_FOUND for any model but ours; used by ModelMetadata and ModelInfer. */
export function checkModel(name: string, version: string, versions: string[]): void {
  if (name !== MODEL_NAME) throw new NotFoundError(`model '${name}' not found; this server serves '${MODEL_NAME}'`);
  if (version !== '' && !versions.includes(version)) {
    throw new NotFoundError(`model '${name}' version '${version}' not found; served versions: ${versions.join(', ')}`);
  }
}

const isTypedEmpty = (c: NonNullable<ModelInferRequest__Output['inputs'][number]['contents']>): boolean =>
  c.boolContents.length + c.intContents.length + c.int64Contents.length + c.uintContents.length +
  c.uint64Contents.length + c.fp32Contents.length + c.fp64Contents.length + c.bytesContents.length === 0;

/**
 * Checks a ModelInfer request completely and turns its image input into raw uint8 pixels.
 * UINT8 [N,H,W] (one channel) or [N,H,W,C] (channels last, as image decoders give them) is taken as is. FP32
 * [N,C,H,W] holds 0..1 values as torchvision's ToTensor() makes them; each is multiplied by 255 and rounded to the
 * nearest integer (a value that is not within 0..1 is rejected) and stored channels last, so an image sent either
 * way gives the same answer. The sizes come from the package's manifest. Every error is INVALID_ARGUMENT naming the field
 * (protocol field names as in grpc_predict_v2.proto), or NOT_FOUND for the model.
 */
export function validateInferRequest(req: ModelInferRequest__Output, opts: ValidateOptions): ValidatedInfer {
  checkModel(req.modelName, req.modelVersion, opts.versions);
  const inputs = req.inputs ?? [];
  const raw = req.rawInputContents ?? [];
  if (inputs.length === 0) throw new InvalidArgumentError('inputs', `empty request: expected one input '${INPUT_NAME}'`);
  inputs.forEach((inp, i) => {
    if (inp.name !== INPUT_NAME) throw new InvalidArgumentError(`inputs[${i}].name`, `unknown input '${inp.name}'; expected '${INPUT_NAME}'`);
    if (i > 0) throw new InvalidArgumentError(`inputs[${i}].name`, `input '${INPUT_NAME}' given more than once`);
  });
  if (raw.length !== 0 && raw.length !== inputs.length) {
    throw new InvalidArgumentError('raw_input_contents', `has ${raw.length} entries for ${inputs.length} inputs`);
  }
  const inp = inputs[0];
  const dtype = inp.datatype;
  const shape = (inp.shape ?? []).map(Number);
  const inputShape = opts.input;
  let n: number | undefined;
  if (dtype === 'UINT8') {
    n = batchOfUint8Shape(inputShape, shape);
    if (n === undefined) {
      throw new InvalidArgumentError('inputs[0].shape', `[${shape.join(',')}] is not ${describeUint8Shape(inputShape)} for UINT8`);
    }
  } else if (dtype === 'FP32') {
    n = batchOfFp32Shape(inputShape, shape);
    if (n === undefined) {
      throw new InvalidArgumentError('inputs[0].shape', `[${shape.join(',')}] is not ${describeFp32Shape(inputShape)} for FP32`);
    }
  } else {
    throw new InvalidArgumentError('inputs[0].datatype',
      `'${dtype}' is not supported; use UINT8 ${describeUint8Shape(inputShape)} or FP32 ${describeFp32Shape(inputShape)}`);
  }
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('inputs[0].shape', `batch size ${n} must be at least 1`);
  if (n > opts.maxBatch) throw new InvalidArgumentError('inputs[0].shape', `batch size ${n} exceeds the limit of ${opts.maxBatch}`);
  const elements = n * inputShape.pixels;
  const contents = inp.contents;
  const typedGiven = contents !== null && contents !== undefined && !isTypedEmpty(contents);

  const images = Buffer.alloc(elements);
  if (raw.length > 0) {
    if (typedGiven) throw new InvalidArgumentError('inputs[0].contents', 'given together with raw_input_contents; send one or the other');
    const bytes = raw[0];
    const want = elements * (dtype === 'UINT8' ? 1 : 4);
    if (bytes.length !== want) {
      throw new InvalidArgumentError('raw_input_contents[0]', `expected ${want} bytes for ${dtype} [${shape.join(',')}], got ${bytes.length}`);
    }
    if (dtype === 'UINT8') bytes.copy(images);
    else for (let i = 0; i < elements; i++) images[chwToHwcIndex(inputShape, i)] = unitToPixel(bytes.readFloatLE(i * 4), i, 'raw_input_contents[0]');
  } else {
    if (!typedGiven) throw new InvalidArgumentError('inputs[0].contents', 'no data: set raw_input_contents or typed contents');
    const field = dtype === 'UINT8' ? 'uint_contents' : 'fp32_contents';
    const values: number[] = dtype === 'UINT8' ? contents!.uintContents : contents!.fp32Contents;
    const others = isTypedEmpty({ ...contents!, uintContents: [], fp32Contents: [] }) ? 0 : 1;
    if (others || (dtype === 'UINT8' ? contents!.fp32Contents.length : contents!.uintContents.length)) {
      throw new InvalidArgumentError('inputs[0].contents', `only ${field} may be set for ${dtype}`);
    }
    if (values.length !== elements) {
      throw new InvalidArgumentError(`inputs[0].contents.${field}`, `expected ${elements} values for [${shape.join(',')}], got ${values.length}`);
    }
    for (let i = 0; i < elements; i++) {
      const v = values[i];
      if (dtype === 'UINT8') {
        if (!Number.isInteger(v) || v < 0 || v > 255) throw new InvalidArgumentError(`inputs[0].contents.${field}`, `value ${v} at element ${i} is not within 0..255`);
        images[i] = v;
      } else {
        images[chwToHwcIndex(inputShape, i)] = unitToPixel(v, i, `inputs[0].contents.${field}`);
      }
    }
  }

  const outputs: OutputName[] = [];
  (req.outputs ?? []).forEach((o, i) => {
    if (!(OUTPUT_NAMES as readonly string[]).includes(o.name)) {
      throw new InvalidArgumentError(`outputs[${i}].name`, `unknown output '${o.name}'; available: ${OUTPUT_NAMES.join(', ')}`);
    }
    if (outputs.includes(o.name as OutputName)) throw new InvalidArgumentError(`outputs[${i}].name`, `output '${o.name}' requested twice`);
    outputs.push(o.name as OutputName);
  });
  return { id: req.id ?? '', n, images, outputs: outputs.length ? outputs : [...DEFAULT_OUTPUTS] };
}

function unitToPixel(v: number, i: number, field: string): number {
  if (!Number.isFinite(v)) throw new InvalidArgumentError(field, `non-finite value ${v} at element ${i}`);
  if (v < 0 || v > 1) throw new InvalidArgumentError(field, `value ${v} at element ${i} is not within 0..1 (FP32 takes ToTensor() pixels)`);
  return Math.round(v * 255);
}

import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { validateInferRequest, checkModel, DEFAULT_OUTPUTS } from '../../src/roles/router/oip-validate.ts';
import { encodeBytesTensor, argmaxLabels, inferResponse } from '../../src/roles/router/oip-response.ts';
import { EdgesplitError } from '../../src/runtime/errors.ts';
import { imageInputOf, pixelsToUnitInput } from '../../src/runtime/image-input.ts';
import type { ModelInferRequest__Output } from '../../src/runtime/generated/inference/ModelInferRequest.ts';
import type { InferTensorContents__Output } from '../../src/runtime/generated/inference/InferTensorContents.ts';

const FMNIST = imageInputOf({ shape: [1, 28, 28] });
const OPTS = { maxBatch: 4, versions: ['fmnist-p4-test'], input: FMNIST };
const RGB = { ...OPTS, input: imageInputOf({ shape: [3, 4, 5] }) };

function contents(over: Partial<InferTensorContents__Output> = {}): InferTensorContents__Output {
  return { boolContents: [], intContents: [], int64Contents: [], uintContents: [], uint64Contents: [],
    fp32Contents: [], fp64Contents: [], bytesContents: [], ...over };
}

function request(over: Partial<ModelInferRequest__Output> = {}, input: Partial<ModelInferRequest__Output['inputs'][number]> = {}): ModelInferRequest__Output {
  return {
    modelName: 'edgesplit', modelVersion: '', id: 'r1', parameters: {}, outputs: [],
    inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 28, 28], parameters: {}, contents: null, ...input }],
    rawInputContents: [Buffer.alloc(784, 7)], ...over,
  };
}

function rejects(fn: () => unknown, code: status, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgesplitError, `expected an EdgesplitError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

describe('oip-validate', () => {
  it('should accept raw UINT8 [N,28,28] and default to probabilities and label', () => {
    const raw = Buffer.alloc(2 * 784);
    raw[5] = 200;
    const v = validateInferRequest(request({ rawInputContents: [raw] }, { shape: [2, 28, 28] }), OPTS);
    assert.equal(v.n, 2);
    assert.equal(v.id, 'r1');
    assert.equal(v.images[5], 200);
    assert.equal(v.images.length, 1568);
    assert.deepEqual(v.outputs, DEFAULT_OUTPUTS);
  });

  it('should turn FP32 ToTensor values into the same pixels (x 255, rounded)', () => {
    const raw = Buffer.alloc(784 * 4);
    raw.writeFloatLE(Math.fround(200 / 255), 0);
    raw.writeFloatLE(1, 4);
    raw.writeFloatLE(Math.fround(3 / 255), 8);
    const v = validateInferRequest(request({ rawInputContents: [raw] }, { datatype: 'FP32', shape: [1, 1, 28, 28] }), OPTS);
    assert.deepEqual([...v.images.subarray(0, 4)], [200, 255, 3, 0]);
  });

  it('should accept typed uint_contents and fp32_contents', () => {
    const u = validateInferRequest(request({ rawInputContents: [] }, { contents: contents({ uintContents: new Array(784).fill(9) }) }), OPTS);
    assert.equal(u.images[783], 9);
    const f = validateInferRequest(request({ rawInputContents: [] },
      { datatype: 'FP32', shape: [1, 1, 28, 28], contents: contents({ fp32Contents: new Array(784).fill(0.5) }) }), OPTS);
    assert.equal(f.images[0], 128);
  });

  it('should honour the requested outputs in order', () => {
    const v = validateInferRequest(request({ outputs: [{ name: 'logits', parameters: {} }, { name: 'label', parameters: {} }] }), OPTS);
    assert.deepEqual(v.outputs, ['logits', 'label']);
  });

  it('should answer NOT_FOUND for another model or version', () => {
    rejects(() => validateInferRequest(request({ modelName: 'resnet' }), OPTS), status.NOT_FOUND,
      "model 'resnet' not found; this server serves 'edgesplit'");
    rejects(() => checkModel('edgesplit', '3', OPTS.versions), status.NOT_FOUND,
      "model 'edgesplit' version '3' not found; served versions: fmnist-p4-test");
    assert.doesNotThrow(() => checkModel('edgesplit', 'fmnist-p4-test', OPTS.versions));
  });

  it("should take a C-channel package's UINT8 [N,H,W,C] as is and store FP32 [N,C,H,W] channels last", () => {
    const raw = Buffer.from(Array.from({ length: 2 * 60 }, (_, i) => i));
    const u = validateInferRequest(request({ rawInputContents: [raw] }, { shape: [2, 4, 5, 3] }), RGB);
    assert.equal(u.n, 2);
    assert.deepEqual([...u.images], [...raw]);
    // The same pixels as ToTensor() floats, [N,C,H,W]: element (b, c, p) = raw[b*60 + p*3 + c] / 255.
    const f = Buffer.alloc(2 * 60 * 4);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) for (let p = 0; p < 20; p++) {
      f.writeFloatLE(Math.fround(raw[b * 60 + p * 3 + c] / 255), 4 * (b * 60 + c * 20 + p));
    }
    const v = validateInferRequest(request({ rawInputContents: [f] }, { datatype: 'FP32', shape: [2, 3, 4, 5] }), RGB);
    assert.deepEqual([...v.images], [...raw]);
    // And the stem gets [N,C,H,W] back.
    const unit = pixelsToUnitInput(v.images, 2, RGB.input);
    assert.equal(unit[20], raw[1]);
    assert.equal(unit[60 + 40 + 19], raw[60 + 19 * 3 + 2]);
  });

  it('should name the expected shape of a C-channel package in INVALID_ARGUMENT', () => {
    rejects(() => validateInferRequest(request({}, { shape: [1, 28, 28] }), RGB), status.INVALID_ARGUMENT,
      'inputs[0].shape: [1,28,28] is not [N,4,5,3] for UINT8');
    rejects(() => validateInferRequest(request({}, { datatype: 'FP32', shape: [1, 4, 5, 3] }), RGB), status.INVALID_ARGUMENT,
      'inputs[0].shape: [1,4,5,3] is not [N,3,4,5] for FP32');
    rejects(() => validateInferRequest(request({}, { datatype: 'BYTES' }), RGB), status.INVALID_ARGUMENT,
      "inputs[0].datatype: 'BYTES' is not supported; use UINT8 [N,4,5,3] or FP32 [N,3,4,5]");
  });

  const cases: [string, () => ModelInferRequest__Output, string][] = [
    ['an empty request', () => request({ inputs: [], rawInputContents: [] }), "inputs: empty request: expected one input 'image'"],
    ['an unknown input name', () => request({}, { name: 'pixels' }), "inputs[0].name: unknown input 'pixels'; expected 'image'"],
    ['a second input', () => { const r = request(); r.inputs.push({ ...r.inputs[0], name: 'extra' }); return r; },
      "inputs[1].name: unknown input 'extra'; expected 'image'"],
    ['raw contents not matching the inputs', () => request({ rawInputContents: [Buffer.alloc(784), Buffer.alloc(784)] }),
      'raw_input_contents: has 2 entries for 1 inputs'],
    ['a wrong dtype', () => request({}, { datatype: 'INT32' }),
      "inputs[0].datatype: 'INT32' is not supported; use UINT8 [N,28,28] or FP32 [N,1,28,28]"],
    ['a wrong UINT8 shape', () => request({}, { shape: [1, 1, 28, 28] }), 'inputs[0].shape: [1,1,28,28] is not [N,28,28] for UINT8'],
    ['a wrong FP32 shape', () => request({}, { datatype: 'FP32', shape: [1, 28, 28] }), 'inputs[0].shape: [1,28,28] is not [N,1,28,28] for FP32'],
    ['a zero batch', () => request({ rawInputContents: [Buffer.alloc(0)] }, { shape: [0, 28, 28] }), 'inputs[0].shape: batch size 0 must be at least 1'],
    ['a batch over the limit', () => request({ rawInputContents: [Buffer.alloc(5 * 784)] }, { shape: [5, 28, 28] }),
      'inputs[0].shape: batch size 5 exceeds the limit of 4'],
    ['a wrong byte length', () => request({ rawInputContents: [Buffer.alloc(783)] }),
      'raw_input_contents[0]: expected 784 bytes for UINT8 [1,28,28], got 783'],
    ['a wrong FP32 byte length', () => request({ rawInputContents: [Buffer.alloc(784)] }, { datatype: 'FP32', shape: [1, 1, 28, 28] }),
      'raw_input_contents[0]: expected 3136 bytes for FP32 [1,1,28,28], got 784'],
    ['a non-finite float', () => { const b = Buffer.alloc(3136); b.writeFloatLE(NaN, 8); return request({ rawInputContents: [b] }, { datatype: 'FP32', shape: [1, 1, 28, 28] }); },
      'raw_input_contents[0]: non-finite value NaN at element 2'],
    ['a float above 1', () => request({ rawInputContents: [] }, { datatype: 'FP32', shape: [1, 1, 28, 28], contents: contents({ fp32Contents: [...new Array(783).fill(0), 255] }) }),
      'inputs[0].contents.fp32_contents: value 255 at element 783 is not within 0..1 (FP32 takes ToTensor() pixels)'],
    ['an infinite typed float', () => request({ rawInputContents: [] }, { datatype: 'FP32', shape: [1, 1, 28, 28], contents: contents({ fp32Contents: [Infinity, ...new Array(783).fill(0)] }) }),
      'inputs[0].contents.fp32_contents: non-finite value Infinity at element 0'],
    ['both raw and typed contents', () => request({}, { contents: contents({ uintContents: new Array(784).fill(1) }) }),
      'inputs[0].contents: given together with raw_input_contents; send one or the other'],
    ['no data at all', () => request({ rawInputContents: [] }), 'inputs[0].contents: no data: set raw_input_contents or typed contents'],
    ['typed contents of the wrong kind', () => request({ rawInputContents: [] }, { contents: contents({ intContents: new Array(784).fill(1) }) }),
      'inputs[0].contents: only uint_contents may be set for UINT8'],
    ['too few typed values', () => request({ rawInputContents: [] }, { contents: contents({ uintContents: [1, 2, 3] }) }),
      'inputs[0].contents.uint_contents: expected 784 values for [1,28,28], got 3'],
    ['a typed pixel over 255', () => request({ rawInputContents: [] }, { contents: contents({ uintContents: [256, ...new Array(783).fill(0)] }) }),
      'inputs[0].contents.uint_contents: value 256 at element 0 is not within 0..255'],
    ['an unknown output', () => request({ outputs: [{ name: 'scores', parameters: {} }] }),
      "outputs[0].name: unknown output 'scores'; available: probabilities, label, logits"],
    ['a repeated output', () => request({ outputs: [{ name: 'label', parameters: {} }, { name: 'label', parameters: {} }] }),
      "outputs[1].name: output 'label' requested twice"],
  ];
  for (const [what, make, message] of cases) {
    it(`should reject ${what} with INVALID_ARGUMENT naming the field`, () => {
      rejects(() => validateInferRequest(make(), OPTS), status.INVALID_ARGUMENT, message);
    });
  }
});

describe('oip-response', () => {
  it('should length-prefix BYTES elements little-endian', () => {
    assert.deepEqual([...encodeBytesTensor(['ab', ''])], [2, 0, 0, 0, 97, 98, 0, 0, 0, 0]);
  });

  it('should label by the largest probability', () => {
    const p = new Float32Array([0.1, 0.7, 0.2, 0.5, 0.3, 0.2]);
    assert.deepEqual(argmaxLabels(p, 2, ['a', 'b', 'c']), ['b', 'a']);
  });

  it('should put the package facts in the response parameters', () => {
    const r = inferResponse({ packageName: 'pkg', policyId: 'pol', partitions: 2, classes: ['a', 'b'], input: FMNIST }, 'x', 1, ['probabilities', 'label'],
      { logits: new Float32Array([0, 1]), probabilities: new Float32Array([0.25, 0.75]), degraded: false, exchangedBytes: 42, missingPartitions: [] });
    assert.deepEqual(r.parameters, {
      edgesplit_package: { stringParam: 'pkg' }, edgesplit_policy: { stringParam: 'pol' }, edgesplit_partitions: { int64Param: 2 },
      edgesplit_degraded: { boolParam: false }, edgesplit_exchanged_bytes: { int64Param: 42 } });
    assert.deepEqual(r.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2] }, { name: 'label', datatype: 'BYTES', shape: [1] }]);
    assert.equal((r.rawOutputContents![0] as Buffer).readFloatLE(4), 0.75);
    assert.deepEqual([...(r.rawOutputContents![1] as Buffer)], [1, 0, 0, 0, 98]);
  });
});

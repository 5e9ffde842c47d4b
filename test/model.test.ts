// The model reader: real models read right, malformed ones rejected with a typed error saying what and where.
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../src/errors.js';
import { readModel } from '../src/model.js';
import { writeModel, type ModelSpec } from '../reference/model-writer.js';
import { readModelBytes } from './helpers/shared.js';

const int8 = (values: number[]) => new Uint8Array(Int8Array.from(values).buffer);

/** A valid two-tensor model: RELU from t0 to t1. */
function reluModel(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    tensors: [
      { dtype: 'int8', shape: [1, 4], quantization: { scale: [0.5], zeroPoint: [0] } },
      { dtype: 'int8', shape: [1, 4], quantization: { scale: [0.5], zeroPoint: [0] } },
    ],
    operators: [{ op: 19, inputs: [0], outputs: [1] }],
    inputs: [0],
    outputs: [1],
    ...overrides,
  };
}

describe('readModel on real models', () => {
  it('reads person_detect: tensors, operators, quantization, I/O', () => {
    const model = readModel(readModelBytes('person_detect.tflite'));
    expect(model.version).toBe(3);
    const g = model.subgraphs[0];
    expect(g.tensors.length).toBe(89);
    expect(g.operators.length).toBe(31);
    expect(g.inputs).toEqual([88]);
    expect(g.outputs).toEqual([87]);
    const input = g.tensors[88];
    expect(input.dtype).toBe('int8');
    expect(input.shape).toEqual([1, 96, 96, 1]);
    expect(input.quantization?.scale[0]).toBeCloseTo(0.00784313772, 9);
    expect(input.quantization?.zeroPoint).toEqual([-1]);
    // op 0 is DEPTHWISE_CONV_2D reading input 88, filter 0 and bias 33 (golden meta operator_sequence)
    expect(g.operators[0]).toMatchObject({ opName: 'DEPTHWISE_CONV_2D', inputs: [88, 0, 33], outputs: [34] });
    // Its filter is per-channel on dimension 3, 8 channels; the 1-D bias carries quantized_dimension 3 (TFLM accepts it)
    expect(g.tensors[0].quantization?.quantizedDimension).toBe(3);
    expect(g.tensors[0].quantization?.scale.length).toBe(8);
    expect(g.tensors[33].shape).toEqual([8]);
    expect(g.tensors[33].quantization?.quantizedDimension).toBe(3);
    // Constant data is a view into the file, not a copy
    expect(g.tensors[0].data?.buffer).toBe(model.bytes.buffer);
    expect(g.tensors[0].data?.length).toBe(72);
  });

  it('takes the larger of builtin_code and deprecated_builtin_code (old TF1 files)', () => {
    const model = readModel(readModelBytes('mobilenet_v1_0.25_128_quant.tflite'));
    expect(model.operatorCodes.map((c) => c.name).sort()).toEqual(
      ['AVERAGE_POOL_2D', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'RESHAPE', 'SOFTMAX'],
    );
  });

  it('reads shape_signature with its -1', () => {
    const g = readModel(readModelBytes('hello_world_int8.tflite')).subgraphs[0];
    expect(g.tensors[g.inputs[0]].shapeSignature).toEqual([-1, 1]);
    expect(g.tensors[g.inputs[0]].shape).toEqual([1, 1]);
  });
});

describe('readModel rejects malformed models', () => {
  it('model_invoking_error.tflite: tensors reference buffer 0 of 0 buffers', () => {
    expect(() => readModel(readModelBytes('model_invoking_error.tflite'))).toThrow(
      new ModelFormatError('subgraph 0 tensor 0: buffer 0 out of range (model has 0 buffers)'),
    );
  });

  it('a file that is not a flatbuffer', () => {
    expect(() => readModel(new TextEncoder().encode('hello, this is not a model'))).toThrow(
      /identifier is "o, t", expected "TFL3"/,
    );
    expect(() => readModel(new Uint8Array(3))).toThrow(/3 bytes is too short/);
  });

  it('a schema version TFLM does not accept', () => {
    expect(() => readModel(writeModel(reluModel({ version: 2 })))).toThrow(/^model: schema version 2, expected 3$/);
  });

  it('a buffer index out of range', () => {
    const spec = reluModel();
    spec.tensors[1].buffer = 9;
    expect(() => readModel(writeModel(spec))).toThrow('subgraph 0 tensor 1: buffer 9 out of range (model has 1 buffers)');
  });

  it('an operator input index out of range', () => {
    const spec = reluModel({ operators: [{ op: 19, inputs: [5], outputs: [1] }] });
    expect(() => readModel(writeModel(spec))).toThrow(
      'subgraph 0 operator 0 (RELU) input 0: tensor 5 out of range (subgraph has 2 tensors)',
    );
  });

  it('a tensor read before any operator writes it', () => {
    const spec = reluModel({ inputs: [] });
    expect(() => readModel(writeModel(spec))).toThrow(
      'subgraph 0 operator 0 (RELU): reads tensor 0 (t0) before any operator writes it',
    );
  });

  it('constant data whose length does not match its shape and type', () => {
    const spec = reluModel();
    spec.tensors.push({ dtype: 'int32', shape: [3], data: int8([1, 2, 3, 4, 5, 6, 7, 8]) });
    expect(() => readModel(writeModel(spec))).toThrow(
      'subgraph 0 tensor 2: constant data is 8 bytes, but int32[3] needs 12',
    );
  });

  it('negative and absurd shapes', () => {
    const negative = reluModel();
    negative.tensors[1].shape = [1, -4];
    expect(() => readModel(writeModel(negative))).toThrow('subgraph 0 tensor 1: shape [1,-4] has a negative dimension');
    const huge = reluModel();
    huge.tensors[1].shape = [65536, 65536, 4];
    expect(() => readModel(writeModel(huge))).toThrow(/tensor 1: shape \[65536,65536,4\] of int8 needs 17179869184 bytes/);
  });

  it('mismatched scale and zero point counts', () => {
    const spec = reluModel();
    spec.tensors[0].quantization = { scale: [0.5, 0.25, 1], zeroPoint: [0, 1] };
    expect(() => readModel(writeModel(spec))).toThrow('subgraph 0 tensor 0: quantization has 3 scales but 2 zero points');
  });

  it('every truncation of a real model', () => {
    const bytes = readModelBytes('person_detect.tflite');
    for (const fraction of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.9999]) {
      const cut = bytes.slice(0, Math.floor(bytes.length * fraction));
      expect(() => readModel(cut), `cut at ${fraction}`).toThrow(ModelFormatError);
    }
  });
});

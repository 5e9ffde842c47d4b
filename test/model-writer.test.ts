// The model writer's rewrite of real models: read back with our reader, everything is as it was (weights, scales
// bit for bit, per-channel quantization, options, operator codes, metadata, signatures), apart from the edits asked
// for; and the rewritten models run to the same outputs.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Table } from '../schema/flatbuffer.js';
import {
  readActivationOptions, readConcatenationOptions, readConv2DOptions, readDepthwiseConv2DOptions,
  readFullyConnectedOptions, readPool2DOptions, readReducerOptions, readReshapeOptions, readSoftmaxOptions,
  readSplitOptions, readSqueezeOptions,
} from '../schema/tflite.js';
import { everyOpOutput } from '../reference/compare.js';
import { rewriteModel, writeModel } from '../reference/model-writer.js';
import { allOps } from '../src/all-ops.js';
import { ModelFormatError } from '../src/errors.js';
import { Interpreter } from '../src/interpreter.js';
import { readModel, type Model } from '../src/model.js';
import { goldenInputs, MODELS, readModelBytes } from './helpers/shared.js';

const OPTION_READERS: Record<number, (t: Table | null) => unknown> = {
  1: readConv2DOptions, 2: readDepthwiseConv2DOptions, 5: readPool2DOptions, 8: readFullyConnectedOptions,
  9: readSoftmaxOptions, 10: readConcatenationOptions, 11: readActivationOptions, 17: readReshapeOptions,
  21: readActivationOptions, 27: readReducerOptions, 28: readActivationOptions, 30: readSqueezeOptions, 35: readSplitOptions,
};

/** Byte contents by digest: megabytes of weights compare fast, and any changed byte changes the digest. */
const bytesOf = (data: Uint8Array | null) => (data ? createHash('sha256').update(data).digest('hex') : null);
/** Float scales by their bits, so that a scale changed in its last bit is seen. */
const bitsOf = (scales: Float32Array) => Array.from(new Uint32Array(Float32Array.from(scales).buffer));

/** Everything our reader gets from a model, as plain data to compare. */
function contents(model: Model) {
  return {
    version: model.version,
    description: model.description,
    operatorCodes: model.operatorCodes,
    buffers: model.buffers.map(bytesOf),
    metadata: model.metadata.map((m) => ({ name: m.name, buffer: m.buffer, data: bytesOf(m.data) })),
    signatures: model.signatures,
    subgraphs: model.subgraphs.map((g) => ({
      name: g.name,
      inputs: g.inputs,
      outputs: g.outputs,
      tensors: g.tensors.map((t) => ({
        ...t,
        data: bytesOf(t.data),
        quantization: t.quantization && { ...t.quantization, scale: bitsOf(t.quantization.scale) },
      })),
      operators: g.operators.map((op) => ({
        ...op,
        builtinOptions: op.builtinOptions ? (OPTION_READERS[op.builtinOptionsType]?.(op.builtinOptions) ?? 'table') : null,
        customOptions: bytesOf(op.customOptions),
      })),
    })),
  };
}

const SHARED_MODELS = readdirSync(MODELS).filter((f) => f.endsWith('.tflite') && f !== 'model_invoking_error.tflite');

describe('rewriteModel on the shared models', () => {
  it('has the shared models to rewrite', () => expect(SHARED_MODELS.length).toBe(12));

  for (const name of SHARED_MODELS) {
    it(`${name}: reads back identical`, () => {
      const bytes = readModelBytes(name);
      const rewritten = rewriteModel(bytes);
      expect(rewritten).not.toEqual(bytes);
      expect(contents(readModel(rewritten))).toEqual(contents(readModel(bytes)));
    });
  }

  it('keeps the per-channel scales, quantized_dimension and metadata it must not touch', () => {
    // Spot values from the source models, so that `contents` itself is known to see them.
    const person = readModel(rewriteModel(readModelBytes('person_detect.tflite'))).subgraphs[0];
    expect(person.tensors[0].quantization?.scale.length).toBe(8);
    expect(person.tensors[33].quantization?.quantizedDimension).toBe(3);
    const v1 = readModel(rewriteModel(readModelBytes('mobilenet_v1_0.25_128_quant.tflite')));
    expect(v1.operatorCodes.map((c) => c.name)).toContain('DEPTHWISE_CONV_2D');
    expect(v1.metadata.map((m) => m.name)).toEqual(['min_runtime_version', 'TFLITE_METADATA']);
    const hello = readModel(rewriteModel(readModelBytes('hello_world_int8.tflite')));
    expect(hello.signatures[0].inputs.length).toBe(1);
  });
});

describe('rewriteModel edits', () => {
  const bytes = readModelBytes('person_detect.tflite');
  const original = readModel(bytes);

  it('renames subgraph 0 and changes nothing else', () => {
    const renamed = readModel(rewriteModel(bytes, { subgraphName: 'VALIDATION:person' }));
    expect(renamed.subgraphs[0].name).toBe('VALIDATION:person');
    const expected = contents(original);
    expected.subgraphs[0].name = 'VALIDATION:person';
    expect(contents(renamed)).toEqual(expected);
  });

  it('makes every op output a graph output, original outputs first', () => {
    const outputs = everyOpOutput(original.subgraphs[0]);
    expect(outputs.length).toBe(31);
    expect(outputs[0]).toBe(87);
    const rewritten = readModel(rewriteModel(bytes, { outputs }));
    expect(rewritten.subgraphs[0].outputs).toEqual(outputs);
    const expected = contents(original);
    expected.subgraphs[0].outputs = outputs;
    expect(contents(rewritten)).toEqual(expected);
  });

  it('edits shape_signature and quantized_dimension of the tensors asked for, and drops signatures', () => {
    const hello = readModelBytes('hello_world_int8.tflite');
    const edited = readModel(
      rewriteModel(hello, {
        tensor: (t) => (t.index === 0 ? { shapeSignature: null, quantizedDimension: 1 } : undefined),
        dropSignatures: true,
      }),
    );
    expect(edited.subgraphs[0].tensors[0].shapeSignature).toBeNull();
    expect(edited.subgraphs[0].tensors[0].quantization?.quantizedDimension).toBe(1);
    expect(edited.subgraphs[0].tensors[7].shapeSignature).toEqual(readModel(hello).subgraphs[0].tensors[7].shapeSignature);
    expect(edited.signatures).toEqual([]);
  });

  it('refuses what it cannot copy faithfully, naming it', () => {
    const relu = {
      tensors: [
        { dtype: 'int8' as const, shape: [1], quantization: { scale: [1], zeroPoint: [0] } },
        { dtype: 'int8' as const, shape: [1], quantization: { scale: [1], zeroPoint: [0] } },
      ],
      inputs: [0],
      outputs: [1],
    };
    // An options table with a field past Conv2DOptions' last (slot 6).
    const extraField = writeModel({
      ...relu,
      operators: [{ op: 19, inputs: [0], outputs: [1], options: { type: 1, fields: [{ slot: 9, kind: 'int32', value: 7 }] } }],
    });
    expect(() => rewriteModel(extraField)).toThrow(ModelFormatError);
    expect(() => rewriteModel(extraField)).toThrow(/Conv2DOptions has field 9, beyond the schema we know/);
    // A BuiltinOptions union member the rewriter has no schema for (60: GreaterOptions).
    const unknownUnion = writeModel({
      ...relu,
      operators: [{ op: 19, inputs: [0], outputs: [1], options: { type: 60, fields: [] } }],
    });
    expect(() => rewriteModel(unknownUnion)).toThrow(/Operator field 4 holds union type 60, which the model rewriter cannot copy/);
  });
});

describe('rewritten models run to the same outputs', () => {
  const run = (bytes: Uint8Array, inputs: Uint8Array[]) => {
    const interpreter = new Interpreter(bytes, { resolver: allOps(), preserveAllTensors: true });
    inputs.forEach((b, k) => interpreter.setInputBytes(k, b));
    interpreter.invoke();
    return interpreter;
  };

  for (const name of ['person_detect.tflite', 'micro_speech_quantized.tflite', 'split_concat.tflite', 'mobilenet_v1_0.25_128_quant.tflite']) {
    it(name, () => {
      const bytes = readModelBytes(name);
      const inputs = goldenInputs(name);
      const original = run(bytes, inputs);
      const outputs = everyOpOutput(original.subgraph);
      const rewritten = run(rewriteModel(bytes, { subgraphName: 'VALIDATION:x', outputs }), inputs);
      // The original outputs come first; then every op output equals the tensor it was in the original.
      expect(rewritten.outputs.map((t) => Array.from(t.bytes))).toEqual(
        outputs.map((i) => Array.from(original.tensors[i].bytes)),
      );
    });
  }
});

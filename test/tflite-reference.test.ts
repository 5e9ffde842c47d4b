// The TFLite reference itself (reference/tflite-runner.ts) and the layer-by-layer comparison (reference/compare.ts):
// the runner reproduces the TFLite goldens of ../shared/golden, the golden-rule inputs are the golden input files,
// and TFLite's per-layer tensors agree with TFLM's preserved tensors wherever README says the two runtimes agree.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffOperators, everyOpOutput, opDiffers, type OpDiff } from '../reference/compare.js';
import { goldenRuleInput } from '../reference/golden-inputs.js';
import { writeModel } from '../reference/model-writer.js';
import { TfliteRunner } from '../reference/tflite-runner.js';
import { allOps } from '../src/all-ops.js';
import { Interpreter } from '../src/interpreter.js';
import { readModel } from '../src/model.js';
import type { Rounding } from '../src/quant.js';
import { elementCount } from '../src/tensor.js';
import { GOLDEN, goldenInputs, goldenModels, goldenOutputs, goldenTensors, readModelBytes } from './helpers/shared.js';

let runner: TfliteRunner;
beforeAll(async () => {
  runner = await TfliteRunner.load();
});

function runOurs(model: string, rounding: Rounding): Interpreter {
  const interpreter = new Interpreter(readModelBytes(model), { resolver: allOps(), rounding, preserveAllTensors: true });
  goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
  interpreter.invoke();
  return interpreter;
}

/** TFLite's value of every op output of `interpreter`'s model, by tensor index (one run, every op output a graph output). */
async function tflitePerLayer(model: string, interpreter: Interpreter): Promise<Map<number, Uint8Array>> {
  const tensors = everyOpOutput(interpreter.subgraph);
  const run = await runner.run(readModelBytes(model), goldenInputs(model), { tensors });
  return new Map(tensors.map((t, k) => [t, run.tensors[k]]));
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

describe('golden-rule inputs', () => {
  // model_invoking_error.tflite is malformed on purpose: our reader refuses it, so it gives no input types.
  const files = readdirSync(join(GOLDEN, 'inputs')).filter((f) => !f.startsWith('model_invoking_error'));

  it('reproduce every input file of ../shared/golden/inputs', () => {
    expect(files.length).toBe(14);
    for (const file of files) {
      const [, model, k] = /^(.*)\.in(\d+)\.bin$/.exec(file)!;
      const g = readModel(readModelBytes(model)).subgraphs[0];
      const t = g.tensors[g.inputs[Number(k)]];
      const generated = goldenRuleInput(t.dtype, elementCount(t.shape), Number(k));
      expect(Buffer.from(generated).equals(readFileSync(join(GOLDEN, 'inputs', file))), file).toBe(true);
    }
  });
});

describe('TfliteRunner reproduces the TFLite goldens (built-in kernels, delegates off)', () => {
  const models = goldenModels('tflite');
  it('has the TFLite goldens', () => expect(models.length).toBe(12));

  for (const model of models) {
    it(model, async () => {
      const run = await runner.run(readModelBytes(model), goldenInputs(model));
      expect(run.runtime).toBe('litert');
      expect(run.tensors).toEqual(goldenOutputs('tflite', model));
    });
  }

  it('person_detect and hello_world load only after their numerically neutral fixes, which it reports', async () => {
    const person = await runner.run(readModelBytes('person_detect.tflite'), goldenInputs('person_detect.tflite'));
    expect(person.sanitized).toEqual([
      'quantized_dimension beyond the rank set to 0 on tensors 33,36,40,44,48,52,56,60,64,68,72,76,80,84',
    ]);
    const hello = await runner.run(readModelBytes('hello_world_int8.tflite'), goldenInputs('hello_world_int8.tflite'));
    expect(hello.sanitized).toEqual(['shape_signature with -1 removed (static shape) on tensors 0,7,8,9']);
  });

  it('with xnnpack, the XNNPACK delegate runs instead, and differs (README: ±1 LSB per op)', async () => {
    const model = 'mobilenet_v1_0.25_128_quant.tflite';
    const run = await runner.run(readModelBytes(model), goldenInputs(model), { xnnpack: true });
    expect(run.tensors[0]).not.toEqual(goldenOutputs('tflite', model)[0]);
  });

  it('falls back to tfjs-tflite for a model with a variable tensor, which LiteRT.js cannot load', async () => {
    // ADD(x, v) with v a variable tensor, which TFLite starts at real 0 (its zero point 3). Input and variable
    // scale 0.5, output scale 0.25 zero point -1: out = 2 (x - 3) - 1: x = 1 -> -5, 2 -> -3, -6 -> -19, 100 -> 127.
    const q = { scale: [0.5], zeroPoint: [3] };
    const model = writeModel({
      tensors: [
        { dtype: 'int8', shape: [1, 4], quantization: q },
        { dtype: 'int8', shape: [1, 4], quantization: q, isVariable: true },
        { dtype: 'int8', shape: [1, 4], quantization: { scale: [0.25], zeroPoint: [-1] } },
      ],
      operators: [{ op: 0, inputs: [0, 1], outputs: [2], options: { type: 11, fields: [] } }],
      inputs: [0],
      outputs: [2],
    });
    const run = await runner.run(model, [new Uint8Array(Int8Array.from([1, 2, -6, 100]).buffer)]);
    expect(run.runtime).toBe('tfjs-tflite');
    expect(run.fallbackReason).toBe('LiteRT.js cannot load models with variable tensors');
    expect(Array.from(new Int8Array(run.tensors[0].buffer))).toEqual([-5, -3, -19, 127]);
  });
});

describe('per layer, TFLite against the TFLM goldens and against us', () => {
  // TFLM and TFLite agree on every op (README, golden/README.md) but these, where TFLite's int8 kernel rounds once
  // (CONV_2D, FULLY_CONNECTED) or is another algorithm (MEAN, SOFTMAX, LOGISTIC; kernel suite, FOLLOWS_TFLM).
  const TFLITE_DIFFERS = new Set(['CONV_2D', 'FULLY_CONNECTED', 'MEAN', 'SOFTMAX', 'LOGISTIC']);
  const withTensorDumps = goldenModels('tflm').filter((m) => existsSync(join(GOLDEN, 'tflm', m, 'tensors')));

  it('has the three TFLM tensor dumps', () => expect(withTensorDumps.length).toBe(3));

  /** The first op whose output differs, as "index OP", or "none". */
  const firstDiverging = (diffs: OpDiff[]) => {
    const d = diffs.find(opDiffers);
    return d ? `${d.index} ${d.op}` : 'none';
  };

  // The first op where we, with rounding single, differ from TFLite: int8 MEAN's global average pool (FOLLOWS_TFLM).
  const FIRST_DIVERGENCE: Record<string, string> = {
    'person_detect.tflite': 'none',
    'tf2_mobilenet_v2_1.0_224_ptq.tflite': '63 MEAN',
    'mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite': '23 MEAN',
  };

  for (const model of withTensorDumps) {
    it(`${model}: where TFLM's inputs are TFLite's, outputs agree as README says; single rounding diverges first at MEAN`, async () => {
      const single = runOurs(model, 'single');
      const tflite = await tflitePerLayer(model, single);
      const tflm = goldenTensors(model);
      const g = single.subgraph;

      // The rewrite for the per-layer run is neutral: its model outputs are TFLite's golden outputs.
      expect(g.outputs.map((o) => tflite.get(o))).toEqual(goldenOutputs('tflite', model));

      const agreeing: string[] = [];
      const roundingOnce: string[] = [];
      for (const op of g.operators) {
        const inputsShared = op.inputs.every((i) => i < 0 || g.tensors[i].data !== null || g.inputs.includes(i) || same(tflite.get(i), tflm.get(i)));
        if (!inputsShared) continue;
        const [out] = op.outputs;
        if (!TFLITE_DIFFERS.has(op.opName)) {
          expect(same(tflite.get(out), tflm.get(out)), `op ${op.index} ${op.opName}: TFLite equals TFLM`).toBe(true);
          agreeing.push(`${op.index} ${op.opName}`);
        } else {
          expect(same(tflite.get(out), single.tensors[out].bytes), `op ${op.index} ${op.opName}: TFLite equals ours with single rounding`).toBe(true);
          roundingOnce.push(`${op.index} ${op.opName}`);
        }
      }
      expect({ agreeing, roundingOnce }).toEqual(OVERLAP[model]);
      expect(firstDiverging(diffOperators(single, tflite))).toBe(FIRST_DIVERGENCE[model]);
    });
  }

  it('mobilenet_v2_quantized_1x3x224x224: the 1-LSB output differences come from MEAN (op 81), on identical inputs', async () => {
    const model = 'mobilenet_v2_quantized_1x3x224x224.tflite';
    const single = runOurs(model, 'single');
    const diffs = diffOperators(single, await tflitePerLayer(model, single));
    const first = diffs.find(opDiffers)!;
    expect(`${first.index} ${first.op}`).toBe('81 MEAN');
    expect(first.inputsIdentical).toBe(true);
    expect(first.outputs[0]).toMatchObject({ elements: 1280, differing: 42, maxDiff: 1 });
    expect(diffs.filter(opDiffers).map((d) => `${d.index} ${d.op}`)).toEqual(['81 MEAN', '82 RESHAPE', '83 FULLY_CONNECTED']);
  });
});

/** The ops checked above, per model: against TFLM, and (the ops TFLite computes otherwise) against us. */
const OVERLAP: Record<string, { agreeing: string[]; roundingOnce: string[] }> = {
  'person_detect.tflite': { agreeing: ['0 DEPTHWISE_CONV_2D', '1 DEPTHWISE_CONV_2D'], roundingOnce: ['2 CONV_2D'] },
  'tf2_mobilenet_v2_1.0_224_ptq.tflite': { agreeing: ['0 QUANTIZE'], roundingOnce: ['1 CONV_2D'] },
  'mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite': {
    agreeing: ['0 QUANTIZE', '1 MUL', '2 SUB', '9 MUL', '58 MUL'],
    roundingOnce: ['3 CONV_2D', '7 CONV_2D', '8 CONV_2D', '57 CONV_2D'],
  },
};

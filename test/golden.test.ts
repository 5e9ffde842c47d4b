// Whole real models against the real runtimes' outputs: TFLM's reference kernels where TFLM runs the model
// (and every preserved intermediate tensor), TFLite's built-in kernels for the uint8 models TFLM refuses.
import { describe, expect, it } from 'vitest';
import { allOps } from '../src/all-ops.js';
import { Interpreter } from '../src/interpreter.js';
import type { Rounding } from '../src/quant.js';
import { diffSummary, goldenInputs, goldenModels, goldenOutputs, goldenTensors, readModelBytes } from './helpers/shared.js';

function runModel(model: string, rounding: Rounding, preserveAllTensors = false): Interpreter {
  const interpreter = new Interpreter(readModelBytes(model), { resolver: allOps(), rounding, preserveAllTensors });
  goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
  interpreter.invoke();
  return interpreter;
}

function outputDiffs(interpreter: Interpreter, golden: Uint8Array[]): string[] {
  expect(interpreter.outputs.length).toBe(golden.length);
  return interpreter.outputs.map((t, k) => `out${k}: ${diffSummary(t.bytes, golden[k], t.dtype === 'int8')}`);
}

const tflmModels = goldenModels('tflm');
const tfliteOnlyModels = goldenModels('tflite').filter((m) => !tflmModels.includes(m));

describe('bit-exact with TFLM reference kernels', () => {
  it('has TFLM goldens to check', () => expect(tflmModels.length).toBe(6));

  for (const model of tflmModels) {
    it(`${model}: outputs and every preserved tensor`, () => {
      const golden = goldenTensors(model);
      const interpreter = runModel(model, 'double', golden.size > 0);
      expect(outputDiffs(interpreter, goldenOutputs('tflm', model))).toEqual(
        interpreter.outputs.map((_, k) => `out${k}: identical`),
      );
      // Report the first diverging tensor in execution order, which names the op to look at.
      for (const op of interpreter.subgraph.operators) {
        for (const o of op.outputs) {
          const expected = golden.get(o);
          if (!expected) continue;
          const t = interpreter.tensors[o];
          expect(`op ${op.index} ${op.opName} t${o}: ${diffSummary(t.bytes, expected, t.dtype === 'int8')}`).toBe(
            `op ${op.index} ${op.opName} t${o}: identical`,
          );
        }
      }
    });
  }
});

describe('bit-exact with TFLite built-in kernels on the models TFLM does not run', () => {
  it('has TFLite-only goldens to check', () => expect(tfliteOnlyModels.length).toBe(6));

  for (const model of tfliteOnlyModels) {
    it(model, () => {
      const interpreter = runModel(model, 'double');
      expect(outputDiffs(interpreter, goldenOutputs('tflite', model))).toEqual(
        interpreter.outputs.map((_, k) => `out${k}: identical`),
      );
    });
  }
});

describe("--rounding single reproduces TFLite's built-in per-channel convolution", () => {
  for (const model of ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 'person_detect.tflite', 'mobilenet_v2_quantized_1x3x224x224.tflite']) {
    it(model, () => {
      const interpreter = runModel(model, 'single');
      expect(outputDiffs(interpreter, goldenOutputs('tflite', model))).toEqual(
        interpreter.outputs.map((_, k) => `out${k}: identical`),
      );
    });
  }
});

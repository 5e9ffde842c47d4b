// The arena planner: TFLM's figure to the byte on every model TFLM ran, TFLM's rules on hand-made cases,
// and no two buffers alive at the same time sharing memory on any model.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeModel, type TensorSpec } from '../reference/model-writer.js';
import { BuiltinOperator, builtinOperatorName } from '../schema/tflite.js';
import { ModelFormatError } from '../src/errors.js';
import { readModel, type Model } from '../src/model.js';
import {
  alignUp,
  planGreedyTflm,
  tensorLifetimes,
  tflmBufferRequests,
  type ArenaPlan,
  type BufferRequest,
} from '../src/planner.js';
import { GOLDEN, MODELS, readModelBytes } from './helpers/shared.js';

const TFLM_ARENA: Record<string, { head_nonpersistent: number }> = JSON.parse(
  readFileSync(join(GOLDEN, 'tflm-arena.json'), 'utf8'),
);

describe('planGreedyTflm on real models', () => {
  it('covers the six models TFLM ran', () => {
    expect(Object.keys(TFLM_ARENA).sort()).toEqual([
      'hello_world_int8.tflite',
      'micro_speech_quantized.tflite',
      'mobilenet_v2_quantized_1x3x224x224.tflite',
      'mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite',
      'person_detect.tflite',
      'tf2_mobilenet_v2_1.0_224_ptq.tflite',
    ]);
  });

  for (const [name, { head_nonpersistent }] of Object.entries(TFLM_ARENA)) {
    it(`${name}: planned bytes equal TFLM's head_nonpersistent (${head_nonpersistent})`, () => {
      const model = readModel(readModelBytes(name));
      expect(planGreedyTflm(tflmBufferRequests(model)).size).toBe(head_nonpersistent);
    });
  }

  it('adds the int32 accumulator TFLM requests for every int8 MEAN, alive only at its node', () => {
    const model = readModel(readModelBytes('mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite'));
    const g = model.subgraphs[0];
    const requests = tflmBufferRequests(model);
    const scratch = requests.filter((r) => r.tensor < 0);
    const means = g.operators.filter((op) => op.opName === 'MEAN');
    expect(means.length).toBe(9);
    expect(scratch).toEqual(
      means.map((op) => ({
        tensor: -1,
        node: op.index,
        size: 4 * g.tensors[op.outputs[0]].shape.reduce((a, b) => a * b, 1),
        firstUse: op.index + 1,
        lastUse: op.index + 1,
      })),
    );
    // Scratch buffers follow the tensor buffers, as in TFLM's AllocationInfo array (the order decides ties).
    expect(requests.slice(-scratch.length)).toEqual(scratch);
  });
});

describe('planGreedyTflm by hand', () => {
  const buffer = (size: number, firstUse: number, lastUse: number, tensor = 0): BufferRequest => ({
    tensor,
    size,
    firstUse,
    lastUse,
  });

  it('puts a buffer into the gap left by one that is no longer alive', () => {
    // Sizes align to 112, 64, 32. A goes to 0; B overlaps A at time 1, so it goes after A (112);
    // C overlaps only B, so the first gap that fits, below B, is at 0.
    const plan = planGreedyTflm([buffer(100, 0, 1), buffer(50, 1, 2), buffer(30, 2, 3)]);
    expect(plan).toEqual({ offsets: [0, 112, 0], size: 176 });
  });

  it('stacks buffers that are all alive at once, largest first', () => {
    const plan = planGreedyTflm([buffer(16, 0, 2), buffer(48, 1, 1), buffer(32, 0, 1)]);
    expect(plan).toEqual({ offsets: [80, 0, 48], size: 96 });
  });

  it('gives buffers that never meet in time the same memory', () => {
    const plan = planGreedyTflm([buffer(40, 0, 0), buffer(64, 1, 1), buffer(8, 2, 2)]);
    expect(plan).toEqual({ offsets: [0, 0, 0], size: 64 });
  });

  it('places the later request first among equal sizes, as TFLM does', () => {
    // TFLM fills its sort array from the tail, then bubble-sorts it (stable): equal sizes come out latest first.
    const plan = planGreedyTflm([buffer(32, 0, 1), buffer(32, 0, 1), buffer(32, 1, 1)]);
    expect(plan).toEqual({ offsets: [64, 32, 0], size: 96 });
  });

  it('compares sizes after rounding up to 16 bytes', () => {
    // 20 and 30 both round to 32, so they tie, and the later (30) goes first.
    const plan = planGreedyTflm([buffer(20, 0, 0), buffer(30, 0, 0), buffer(1, 0, 0)]);
    expect(plan).toEqual({ offsets: [32, 0, 64], size: 80 });
    expect([alignUp(0), alignUp(1), alignUp(16), alignUp(17)]).toEqual([0, 16, 16, 32]);
  });

  it('places offline-planned buffers first, where they are told, and fits the rest around them', () => {
    const plan = planGreedyTflm([buffer(64, 0, 1), { ...buffer(32, 0, 1), offlineOffset: 0 }]);
    expect(plan).toEqual({ offsets: [32, 0], size: 96 });
  });

  it('plans nothing into nothing', () => {
    expect(planGreedyTflm([])).toEqual({ offsets: [], size: 0 });
  });
});

describe('lifetimes and requests by hand', () => {
  const int8 = (shape: number[], extra: Partial<TensorSpec> = {}): TensorSpec => ({
    dtype: 'int8',
    shape,
    quantization: { scale: [0.5], zeroPoint: [0] },
    ...extra,
  });

  it('follows TFLM: inputs from 0, operator n at n + 1, outputs to the end; constants and variables unplanned', () => {
    const model = readModel(
      writeModel({
        tensors: [
          int8([1, 4]), // 0: graph input, read by op 0
          int8([1, 4]), // 1: op 0 -> op 1
          int8([1, 4]), // 2: op 1 -> op 2, and a graph output
          int8([1, 4]), // 3: op 2 -> graph output
          int8([1, 4]), // 4: touched by nothing
          int8([1, 4], { data: new Uint8Array(4) }), // 5: constant
          int8([1, 4], { isVariable: true }), // 6: variable
          int8([0, 4]), // 7: zero bytes
        ],
        operators: [
          { op: BuiltinOperator.RELU, inputs: [0], outputs: [1] },
          { op: BuiltinOperator.RELU, inputs: [1], outputs: [2] },
          { op: BuiltinOperator.RELU, inputs: [2], outputs: [3] },
        ],
        inputs: [0],
        outputs: [2, 3],
      }),
    );
    expect(tensorLifetimes(model.subgraphs[0]).map((r) => [r.tensor, r.size, r.firstUse, r.lastUse])).toEqual([
      [0, 4, 0, 1],
      [1, 4, 1, 2],
      [2, 4, 2, 3],
      [3, 4, 3, 3],
      [4, 4, -1, -1],
    ]);
  });

  // schema.fbs BuiltinOperator values of reductions we do not implement.
  const SUM = 74;
  const REDUCE_MAX = 82;

  /** One reduction op on an int8 [1,4,4,8] input over axes [1,2], as TFLM's kernel would see it. */
  function reduceModel(op: number, dtype: 'int8' | 'float32' = 'int8'): Model {
    const q = dtype === 'int8' ? { quantization: { scale: [0.5], zeroPoint: [0] } } : {};
    return readModel(
      writeModel({
        tensors: [
          { dtype, shape: [1, 4, 4, 8], ...q },
          { dtype: 'int32', shape: [2], data: new Uint8Array(Int32Array.from([1, 2]).buffer) },
          { dtype, shape: [1, 1, 1, 8], ...q },
        ],
        operators: [{ op, inputs: [0, 1], outputs: [2] }],
        inputs: [0],
        outputs: [2],
      }),
    );
  }

  it('requests TFLM reference kernels’ scratch buffers: MEAN/SUM int8, REDUCE_MAX, none for float MEAN', () => {
    expect([builtinOperatorName(SUM), builtinOperatorName(REDUCE_MAX)]).toEqual(['SUM', 'REDUCE_MAX']);
    const scratch = (model: Model) => tflmBufferRequests(model).filter((r) => r.tensor < 0).map((r) => r.size);
    expect(scratch(reduceModel(BuiltinOperator.MEAN))).toEqual([32]);
    expect(scratch(reduceModel(SUM))).toEqual([32]);
    expect(scratch(reduceModel(REDUCE_MAX))).toEqual([16, 8]);
    expect(scratch(reduceModel(BuiltinOperator.MEAN, 'float32'))).toEqual([]);
    // MEAN: input 128 B [0,1], output 8 B [1,1], scratch 32 B at op 0 (time 1): 128 + 32 + 16.
    expect(planGreedyTflm(tflmBufferRequests(reduceModel(BuiltinOperator.MEAN))).size).toBe(176);
  });

  it('reads an offline plan from OfflineMemoryAllocation metadata', () => {
    const model = reduceModel(BuiltinOperator.MEAN);
    const offline = (offsets: number[]): Model => {
      const data = new Uint8Array(Int32Array.from([1, 1, offsets.length, ...offsets]).buffer);
      return { ...model, metadata: [{ name: 'OfflineMemoryAllocation', buffer: 0, data }] };
    };
    const requests = tflmBufferRequests(offline([256, -1, -1]));
    expect(requests.map((r) => r.offlineOffset)).toEqual([256, undefined, undefined]);
    expect(planGreedyTflm(requests)).toEqual({ offsets: [256, 32, 0], size: 384 });
    expect(() => tflmBufferRequests(offline([0, 0]))).toThrow(ModelFormatError);
  });
});

describe('every shared model: buffers alive at the same time never share memory', () => {
  function overlaps(requests: readonly BufferRequest[], plan: ArenaPlan): string[] {
    const found: string[] = [];
    requests.forEach((a, i) => {
      const aEnd = plan.offsets[i] + alignUp(a.size);
      if (plan.offsets[i] % 16 !== 0 || aEnd > plan.size) found.push(`buffer ${i} at ${plan.offsets[i]} misplaced`);
      for (let j = i + 1; j < requests.length; j++) {
        const b = requests[j];
        if (a.lastUse < b.firstUse || b.lastUse < a.firstUse) continue;
        if (aEnd <= plan.offsets[j] || plan.offsets[j] + alignUp(b.size) <= plan.offsets[i]) continue;
        found.push(`buffers ${i} (tensor ${a.tensor}) and ${j} (tensor ${b.tensor}) overlap`);
      }
    });
    return found;
  }

  // model_invoking_error.tflite is malformed on purpose (MANIFEST.md): the reader rejects it.
  const models = readdirSync(MODELS)
    .filter((f) => f.endsWith('.tflite') && f !== 'model_invoking_error.tflite')
    .sort();

  it('finds the shared models', () => {
    expect(models.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of models) {
    it(name, () => {
      const model = readModel(readModelBytes(name));
      const withScratch = tflmBufferRequests(model);
      expect(overlaps(withScratch, planGreedyTflm(withScratch))).toEqual([]);
      // What the interpreter plans: tensor buffers only.
      const tensors = tensorLifetimes(model.subgraphs[0]);
      expect(tensors.length).toBeGreaterThan(0);
      expect(overlaps(tensors, planGreedyTflm(tensors))).toEqual([]);
    });
  }
});

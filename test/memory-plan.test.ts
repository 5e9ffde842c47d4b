// The optimized memory planner (src/memory-plan.ts): byte counts derived by hand on small models, one per
// technique, each run under both planners with identical outputs; the figures on the shared models against
// TFLM's plan; buffers alive together never overlapping unless one took over the other's memory; the
// interpreter's arenaBytes option.
import { describe, expect, it } from 'vitest';
import { writeModel, type OperatorSpec, type TensorSpec } from '../reference/model-writer.js';
import { BuiltinOperator, BuiltinOptionsType, Padding } from '../schema/tflite.js';
import { allOps } from '../src/all-ops.js';
import { ArenaError } from '../src/errors.js';
import { Interpreter } from '../src/interpreter.js';
import { planMemory, type MemoryPlan, type PlannedBuffer, type PlannerName } from '../src/memory-plan.js';
import { readModel } from '../src/model.js';
import { xorshift } from './helpers/garble.js';
import { goldenInputs, goldenModels, goldenOutputs, readModelBytes } from './helpers/shared.js';

// ---- Small models ----------------------------------------------------------------------------------------

const random = xorshift(7);
const int8Values = (n: number) => Int8Array.from({ length: n }, () => Math.floor(random() * 256) - 128);
const bytesOf = (values: Int8Array | Int32Array) => new Uint8Array(values.buffer.slice(0));

/** An activation: int8 with a nonzero zero point, so that padding and skipped taps are really tested. */
const act = (shape: number[], scale = 0.5, zeroPoint = -5): TensorSpec => ({
  dtype: 'int8',
  shape,
  quantization: { scale: [scale], zeroPoint: [zeroPoint] },
});
const filter = (shape: number[], quantizedDimension: number): TensorSpec => ({
  dtype: 'int8',
  shape,
  data: bytesOf(int8Values(shape.reduce((a, b) => a * b, 1))),
  // Per-channel scales, different per channel.
  quantization: {
    scale: Array.from({ length: shape[quantizedDimension] }, (_, c) => 0.02 + 0.01 * c),
    zeroPoint: new Array<number>(shape[quantizedDimension]).fill(0),
    quantizedDimension,
  },
});
const bias = (n: number): TensorSpec => ({
  dtype: 'int32',
  shape: [n],
  data: bytesOf(Int32Array.from({ length: n }, () => Math.floor(random() * 2000) - 1000)),
  quantization: { scale: new Array<number>(n).fill(0.01), zeroPoint: new Array<number>(n).fill(0) },
});
const int32s = (shape: number[], values: number[]): TensorSpec => ({
  dtype: 'int32',
  shape,
  data: bytesOf(Int32Array.from(values)),
});

const conv = (inputs: number[], output: number, stride = 1, padding: number = Padding.SAME): OperatorSpec => ({
  op: BuiltinOperator.CONV_2D,
  inputs,
  outputs: [output],
  options: {
    type: BuiltinOptionsType.Conv2DOptions,
    fields: [
      { slot: 0, kind: 'int8', value: padding },
      { slot: 1, kind: 'int32', value: stride },
      { slot: 2, kind: 'int32', value: stride },
    ],
  },
});
const depthwise = (inputs: number[], output: number, stride = 1, padding: number = Padding.SAME, dilation = 1): OperatorSpec => ({
  op: BuiltinOperator.DEPTHWISE_CONV_2D,
  inputs,
  outputs: [output],
  options: {
    type: BuiltinOptionsType.DepthwiseConv2DOptions,
    fields: [
      { slot: 0, kind: 'int8', value: padding },
      { slot: 1, kind: 'int32', value: stride },
      { slot: 2, kind: 'int32', value: stride },
      { slot: 3, kind: 'int32', value: 1 },
      { slot: 5, kind: 'int32', value: dilation },
      { slot: 6, kind: 'int32', value: dilation },
    ],
  },
});
const concat = (inputs: number[], output: number, axis: number): OperatorSpec => ({
  op: BuiltinOperator.CONCATENATION,
  inputs,
  outputs: [output],
  options: { type: BuiltinOptionsType.ConcatenationOptions, fields: [{ slot: 0, kind: 'int32', value: axis }] },
});
const unary = (op: number, input: number, output: number): OperatorSpec => ({ op, inputs: [input], outputs: [output] });

interface Run {
  plan: MemoryPlan;
  outputs: Uint8Array[];
}

/** Runs the model under `planner` on deterministic inputs, returning the plan and copies of the outputs. */
function run(model: Uint8Array, planner: PlannerName): Run {
  const interpreter = new Interpreter(model, { resolver: allOps(), planner });
  const inputs = xorshift(11);
  interpreter.inputs.forEach((t, k) =>
    interpreter.setInputBytes(k, Uint8Array.from({ length: t.byteLength }, () => Math.floor(inputs() * 256))),
  );
  interpreter.invoke();
  return { plan: interpreter.memoryPlan, outputs: interpreter.outputs.map((t) => t.bytes.slice()) };
}

/** Both planners' runs; their outputs must be the same bytes. */
function bothPlanners(model: Uint8Array): { tflm: MemoryPlan; optimized: MemoryPlan } {
  const tflm = run(model, 'tflm');
  const optimized = run(model, 'optimized');
  expect(optimized.outputs).toEqual(tflm.outputs);
  return { tflm: tflm.plan, optimized: optimized.plan };
}

const saving = (plan: MemoryPlan, name: string) => plan.savings.find((s) => s.name === name)!;
const bufferOf = (plan: MemoryPlan, tensor: number) => plan.buffers.find((b) => b.tensor === tensor)!;

describe('each technique on a small model, derived by hand', () => {
  it('alias: a RESHAPE output is its input', () => {
    // x [1,16] (16 B, times 0-1) → CONCATENATION of 4 × x → a [1,64] (64 B, 1-2) → RESHAPE → b [8,8] (output, 2).
    // TFLM: a and b are both alive at time 2: 64 + 64 = 128. Ours: b is a's bytes, so one 64 B buffer
    // [1,2], which meets x at time 1: 64 + 16 = 80.
    const model = writeModel({
      tensors: [act([1, 16]), act([1, 64]), act([8, 8]), int32s([2], [8, 8])],
      operators: [concat([0, 0, 0, 0], 1, 1), { op: BuiltinOperator.RESHAPE, inputs: [1, 3], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([128, 80]);
    expect(bufferOf(optimized, 2)).toMatchObject({ sharesWith: 1, offset: bufferOf(optimized, 1).offset });
    expect(saving(optimized, 'alias')).toEqual({ name: 'alias', bytes: 48, detail: 'at 1: RESHAPE 1' });
  });

  it('in-place: ADD with a broadcast constant, RELU, then QUANTIZE int8 → uint8 each write over their input', () => {
    // x [1,16] → CONCATENATION ×4 → a [1,64] → ADD(a, c[1]) → b → RELU → d → QUANTIZE → y uint8 [1,64].
    // TFLM: each op's input and output are alive together, 64 + 64 = 128. Ours: a, b, d, y one 64 B
    // buffer [1,4], meeting only x (16 B) at time 1: 80.
    const model = writeModel({
      tensors: [
        act([1, 16]),
        act([1, 64]),
        { dtype: 'int8', shape: [1], data: Uint8Array.of(7), quantization: { scale: [0.25], zeroPoint: [1] } },
        act([1, 64], 0.75, 2),
        act([1, 64], 0.75, 2),
        { dtype: 'uint8', shape: [1, 64], quantization: { scale: [0.5], zeroPoint: [128] } },
      ],
      operators: [
        concat([0, 0, 0, 0], 1, 1),
        { op: BuiltinOperator.ADD, inputs: [1, 2], outputs: [3] },
        unary(BuiltinOperator.RELU, 3, 4),
        unary(BuiltinOperator.QUANTIZE, 4, 5),
      ],
      inputs: [0],
      outputs: [5],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([128, 80]);
    expect([3, 4, 5].map((t) => bufferOf(optimized, t).sharesWith)).toEqual([1, 3, 4]);
    expect(saving(optimized, 'in-place')).toEqual({
      name: 'in-place',
      bytes: 48,
      detail: 'at 3: ADD 1, RELU 2, QUANTIZE 3',
    });
  });

  it('pad folding: a PAD before a VALID depthwise convolution is never stored', () => {
    // x [1,4,4,8] (128 B, graph input) → PAD 1 row/column each side → p [1,6,6,8] (288 B) → DEPTHWISE 3×3
    // VALID → y [1,4,4,8] (128 B). TFLM: x + p at time 1, p + y at time 2: 416. Ours: the depthwise reads x
    // with one row/column of implicit padding; x and y are alive together at time 2: 256. (x is a graph input,
    // so the depthwise cannot write over it.) The padding value is the zero point -5, which the skipped taps
    // would have contributed as (-5 - -5) · w = 0: the outputs are identical.
    const model = writeModel({
      tensors: [
        act([1, 4, 4, 8]),
        int32s([4, 2], [0, 0, 1, 1, 1, 1, 0, 0]),
        act([1, 6, 6, 8]),
        filter([1, 3, 3, 8], 3),
        bias(8),
        act([1, 4, 4, 8], 1, 3),
      ],
      operators: [{ op: BuiltinOperator.PAD, inputs: [0, 1], outputs: [2] }, depthwise([2, 3, 4], 5, 1, Padding.VALID)],
      inputs: [0],
      outputs: [5],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([416, 256]);
    expect(optimized.buffers.map((b) => b.tensor)).toEqual([0, 5]);
    expect(saving(optimized, 'pad folding')).toEqual({
      name: 'pad folding',
      bytes: 160,
      detail: 'at 1: PAD 0 into DEPTHWISE_CONV_2D 1',
    });
  });

  it('pad folding into a strided CONV_2D with padding on one side only, same outputs', () => {
    // x [1,5,5,3] → PAD bottom/right 1 → [1,6,6,3] → CONV_2D 3×3 stride 2 VALID → [1,2,2,4].
    const model = writeModel({
      tensors: [
        act([1, 5, 5, 3]),
        int32s([4, 2], [0, 0, 0, 1, 0, 1, 0, 0]),
        act([1, 6, 6, 3]),
        filter([4, 3, 3, 3], 0),
        bias(4),
        act([1, 2, 2, 4], 1, 3),
      ],
      operators: [{ op: BuiltinOperator.PAD, inputs: [0, 1], outputs: [2] }, conv([2, 3, 4], 5, 2, Padding.VALID)],
      inputs: [0],
      outputs: [5],
    });
    const { optimized } = bothPlanners(model);
    expect(saving(optimized, 'pad folding').detail).toBe('at 1: PAD 0 into CONV_2D 1');
  });

  it('in-place convolution: a depthwise writes over its input, holding back two rows', () => {
    // x [1,8,8,1] (64 B) → CONCATENATION ×4 on channels → a [1,8,8,4] (256 B) → DEPTHWISE 3×3 SAME stride 1
    // → y [1,8,8,4] (256 B). TFLM: a + y at time 2 = 512. Ours: output row h goes where input row h was;
    // input row h is read until output row h + 1 is computed, so two output rows (2 × 32 B) wait in a pending
    // buffer. Time 1: x + a = 320; time 2: a/y + 64 = 320.
    const model = writeModel({
      tensors: [act([1, 8, 8, 1]), act([1, 8, 8, 4]), filter([1, 3, 3, 4], 3), bias(4), act([1, 8, 8, 4], 1, 3)],
      operators: [concat([0, 0, 0, 0], 1, 3), depthwise([1, 2, 3], 4)],
      inputs: [0],
      outputs: [4],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([512, 320]);
    expect(bufferOf(optimized, 4)).toMatchObject({ sharesWith: 1, offset: bufferOf(optimized, 1).offset });
    expect(optimized.buffers.filter((b) => b.tensor < 0)).toMatchObject([{ node: 1, size: 64, firstUse: 2, lastUse: 2 }]);
    expect(saving(optimized, 'in-place convolution')).toEqual({
      name: 'in-place convolution',
      bytes: 192,
      detail: 'at 1: DEPTHWISE_CONV_2D 1',
    });
  });

  it('in-place convolution, strided depthwise over two batches: its rows land where input rows are done', () => {
    // x [2,8,8,1] (128 B) → CONCATENATION ×8 → a [2,8,8,8] (1024 B) → DEPTHWISE 3×3 SAME stride 2 → y
    // [2,4,4,8] (256 B). TFLM: a + y = 1280. Ours: output row h (32 B) covers half of input row h/2, which only
    // output rows up to h/4 read: one pending row. Time 1: x + a = 1152; time 2: 1024 + 32.
    const model = writeModel({
      tensors: [act([2, 8, 8, 1]), act([2, 8, 8, 8]), filter([1, 3, 3, 8], 3), bias(8), act([2, 4, 4, 8], 1, 3)],
      operators: [concat(new Array<number>(8).fill(0), 1, 3), depthwise([1, 2, 3], 4, 2)],
      inputs: [0],
      outputs: [4],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([1280, 1152]);
    expect(bufferOf(optimized, 4).sharesWith).toBe(1);
    expect(optimized.buffers.filter((b) => b.tensor < 0)).toMatchObject([{ node: 1, size: 32 }]);
  });

  it('in-place convolution, narrowing 1×1 CONV_2D over two batches', () => {
    // x [2,8,8,1] (128 B) → CONCATENATION ×8 → a [2,8,8,8] (1024 B) → CONV_2D 1×1 → y [2,8,8,4] (512 B).
    // TFLM: a + y = 1536. Ours: output row h (32 B) lies in input row h/2, read by output row h/2 only: one
    // pending row. Time 1: x + a = 1152; time 2: 1024 + 32.
    const model = writeModel({
      tensors: [act([2, 8, 8, 1]), act([2, 8, 8, 8]), filter([4, 1, 1, 8], 0), bias(4), act([2, 8, 8, 4], 2, -1)],
      operators: [concat(new Array<number>(8).fill(0), 1, 3), conv([1, 2, 3], 4)],
      inputs: [0],
      outputs: [4],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([1536, 1152]);
    expect(bufferOf(optimized, 4).sharesWith).toBe(1);
    expect(optimized.buffers.filter((b) => b.tensor < 0)).toMatchObject([{ node: 1, size: 32 }]);
  });

  it('row fusion: an expanding 1×1 CONV_2D streams rows into a strided depthwise, never stored whole', () => {
    // x [1,8,8,2] (128 B, graph input) → CONV_2D 1×1 → e [1,8,8,16] (1024 B) → DEPTHWISE 3×3 SAME stride 2
    // → y [1,4,4,16] (256 B). TFLM: e + y at time 2 = 1280. Ours: e's rows pass through a ring of the 3
    // rows one depthwise output row reads (3 × 8 × 16 = 384 B); x, ring and y alive together: 768. Without
    // fusion the depthwise would run in place (1024 B and one 64 B pending row), leaving x + e = 1152 at time 1.
    const model = writeModel({
      tensors: [
        act([1, 8, 8, 2]),
        filter([16, 1, 1, 2], 0),
        bias(16),
        act([1, 8, 8, 16], 1, 3),
        filter([1, 3, 3, 16], 3),
        bias(16),
        act([1, 4, 4, 16], 2, -1),
      ],
      operators: [conv([0, 1, 2], 3), depthwise([3, 4, 5], 6, 2)],
      inputs: [0],
      outputs: [6],
    });
    const { tflm, optimized } = bothPlanners(model);
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([1280, 768]);
    expect(optimized.buffers.map((b) => [b.tensor, b.size])).toEqual([
      [0, 128],
      [6, 256],
      [-1, 384],
    ]);
    expect(saving(optimized, 'row fusion')).toEqual({
      name: 'row fusion',
      bytes: 384,
      detail: 'at 1: CONV_2D 0 → DEPTHWISE_CONV_2D 1',
    });
  });

  it('row fusion through a folded PAD into a strided, dilated depthwise, two batches: same outputs', () => {
    // x [2,9,9,2] → CONV_2D 1×1 → e [2,9,9,32] → PAD 2 each side → [2,13,13,32] → DEPTHWISE 3×3 VALID stride 2
    // dilation 2 → y [2,5,5,32]. The dilated window spans 5 rows: the ring holds 5 rows of e, 5 × 9 × 32 B.
    const model = writeModel({
      tensors: [
        act([2, 9, 9, 2]),
        filter([32, 1, 1, 2], 0),
        bias(32),
        act([2, 9, 9, 32], 1, 3),
        int32s([4, 2], [0, 0, 2, 2, 2, 2, 0, 0]),
        act([2, 13, 13, 32], 1, 3),
        filter([1, 3, 3, 32], 3),
        bias(32),
        act([2, 5, 5, 32], 2, -1),
      ],
      operators: [
        conv([0, 1, 2], 3),
        { op: BuiltinOperator.PAD, inputs: [3, 4], outputs: [5] },
        depthwise([5, 6, 7], 8, 2, Padding.VALID, 2),
      ],
      inputs: [0],
      outputs: [8],
    });
    const { optimized } = bothPlanners(model);
    expect(saving(optimized, 'pad folding').detail).toBe('at 1: PAD 1 into DEPTHWISE_CONV_2D 2');
    expect(saving(optimized, 'row fusion').detail).toBe('at 1: CONV_2D 0 → DEPTHWISE_CONV_2D 2');
    expect(optimized.buffers.find((b) => b.tensor < 0)).toMatchObject({ node: 2, size: 5 * 9 * 32 });
  });

  it('row fusion and in-place convolution on float32, same outputs', () => {
    // x [1,8,8,2] → CONV_2D 1×1 → e [1,8,8,16] → DEPTHWISE 3×3 stride 2 → d [1,4,4,16]: fused (float32 ring).
    // d → CONV_2D 1×1 → f [1,4,4,64] (4 KiB) → RELU → g → DEPTHWISE 3×3 → y [1,4,4,64]: g + y would be the
    // peak, 8 KiB; in place it is 4096 + two pending rows of 4 × 64 floats = 6144, above the fused pair's
    // x + ring + d = 512 + 3 × 8 × 16 × 4 + 1024 = 3072 and d + f = 5120.
    const float = (shape: number[], values?: number[]): TensorSpec => ({
      dtype: 'float32',
      shape,
      ...(values ? { data: new Uint8Array(Float32Array.from(values).buffer) } : {}),
    });
    const weights = (n: number) => Array.from({ length: n }, () => random() * 2 - 1);
    const model = writeModel({
      tensors: [
        float([1, 8, 8, 2]),
        float([16, 1, 1, 2], weights(32)),
        float([16], weights(16)),
        float([1, 8, 8, 16]),
        float([1, 3, 3, 16], weights(144)),
        float([16], weights(16)),
        float([1, 4, 4, 16]),
        float([64, 1, 1, 16], weights(1024)),
        float([64], weights(64)),
        float([1, 4, 4, 64]),
        float([1, 4, 4, 64]),
        float([1, 3, 3, 64], weights(576)),
        float([64], weights(64)),
        float([1, 4, 4, 64]),
      ],
      operators: [
        conv([0, 1, 2], 3),
        depthwise([3, 4, 5], 6, 2),
        conv([6, 7, 8], 9),
        unary(BuiltinOperator.RELU, 9, 10),
        depthwise([10, 11, 12], 13),
      ],
      inputs: [0],
      outputs: [13],
    });
    const { optimized } = bothPlanners(model);
    expect(saving(optimized, 'row fusion').detail).toBe('at 1: CONV_2D 0 → DEPTHWISE_CONV_2D 1');
    expect(saving(optimized, 'in-place convolution').detail).toBe('at 1: DEPTHWISE_CONV_2D 4');
    expect(optimized.arenaBytes).toBe(4096 + 2 * 4 * 64 * 4);
  });

  it('leaves graph inputs and outputs alone: an input read once is still not written over', () => {
    // x → RELU → y, both graph tensors: nothing may share.
    const model = writeModel({
      tensors: [act([1, 64]), act([1, 64])],
      operators: [unary(BuiltinOperator.RELU, 0, 1)],
      inputs: [0],
      outputs: [1],
    });
    const { optimized } = bothPlanners(model);
    expect(optimized.arenaBytes).toBe(128);
    expect(optimized.buffers.some((b) => b.sharesWith !== undefined)).toBe(false);
  });
});

// ---- The shared models -----------------------------------------------------------------------------------

const sharedModels = [...new Set([...goldenModels('tflm'), ...goldenModels('tflite')])];
const plans = new Map<string, { tflm: MemoryPlan; optimized: MemoryPlan }>();
function plansOf(name: string) {
  if (!plans.has(name)) {
    const model = readModel(readModelBytes(name));
    plans.set(name, { tflm: planMemory(model, 'tflm'), optimized: planMemory(model, 'optimized') });
  }
  return plans.get(name)!;
}

describe('the shared models', () => {
  it.each(sharedModels)('%s: ours needs no more than TFLM', (name) => {
    const { tflm, optimized } = plansOf(name);
    expect(optimized.arenaBytes).toBeLessThanOrEqual(tflm.arenaBytes);
  });

  // The peak of all three MobileNet v2 is their first convolution: 3×3 stride 2 from the 224×224×3 image (150,528
  // B) to 112×112×32 (401,408 B). The image is the graph input, which must survive invoke, and the output's rows
  // are larger than the input rows they would replace, so neither in place nor fused (fused with the depthwise
  // after it, the depthwise's 401,408 B output would join the image instead) does better: 150,528 + 401,408.
  it.each([
    // TFLM 1,505,280: the expand CONV_2D 4 → 112×112×96 (1,204,224 B) then DEPTHWISE 5 → 56×56×96 (301,056 B).
    ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 1_505_280, 1, 109, 110],
    // TFLM 2,451,840: the same block with PAD 7 between: 112×112×96 padded to 114×114×96 (1,247,616 B).
    ['mobilenet_v2_quantized_1x3x224x224.tflite', 2_451_840, 2, 94, 201],
    // uint8; TFLM does not run it, 1,505,280 is TFLM's planner on it (the tf2 model's block).
    ['mobilenet_v2_1.0_224_quant.tflite', 1_505_280, 0, 0, 56],
  ])('%s: TFLM %i B, ours 551,936 B, peak at node %i (t%i + t%i)', (name, tflmBytes, node, input, output) => {
    const { tflm, optimized } = plansOf(name);
    expect(tflm.arenaBytes).toBe(tflmBytes);
    expect(optimized.arenaBytes).toBe(551_936);
    expect(optimized.arenaBytes).toBeLessThanOrEqual(0.7 * tflmBytes);
    const [x, y] = [bufferOf(optimized, input), bufferOf(optimized, output)];
    expect([x.size, y.size]).toEqual([150_528, 401_408]);
    expect(x.lastUse >= node + 1 && y.firstUse <= node + 1).toBe(true);
  });

  it('mobilenet_v2 blocks: each expand CONV_2D → DEPTHWISE stride 2 is fused, its PAD folded', () => {
    const { optimized } = plansOf('mobilenet_v2_quantized_1x3x224x224.tflite');
    expect(saving(optimized, 'row fusion').detail).toBe(
      'at 4: CONV_2D 6 → DEPTHWISE_CONV_2D 8, CONV_2D 15 → DEPTHWISE_CONV_2D 17, CONV_2D 29 → DEPTHWISE_CONV_2D 31, ' +
        'CONV_2D 62 → DEPTHWISE_CONV_2D 64',
    );
    expect(saving(optimized, 'pad folding').detail).toMatch(/^at 18: PAD 1 into CONV_2D 2, /);
  });

  it("mobilenet_quant_v1_224_head_layers: our placement alone saves 992 B on TFLM's greedy", () => {
    // t0 1024 B [0,1] → CONV_2D → t2 1008 B [1,2] → RESHAPE → t5 [2,3] → SOFTMAX → t6 [3,3]. TFLM's greedy:
    // t0 at 0, then the 1008s latest first: t6 at 0, t5 above t6 at 1008, t2 above t0 and t5 at 2016: 3024.
    // No more than two are ever alive together, 1024 + 1008 = 2032, which our placement reaches, alias or not.
    const { tflm, optimized } = plansOf('mobilenet_quant_v1_224_head_layers.tflite');
    expect([tflm.arenaBytes, optimized.arenaBytes]).toEqual([3024, 2032]);
    expect(optimized.savings.map((s) => [s.name, s.bytes])).toEqual([
      ['kernel scratch', 0],
      ['placement', 992],
      ['alias', 0],
      ['in-place', 0],
      ['pad folding', 0],
      ['in-place convolution', 0],
      ['row fusion', 0],
    ]);
  });

  it.each(sharedModels)('%s: buffers alive at the same time overlap only where one took over the other', (name) => {
    const { optimized } = plansOf(name);
    const byTensor = new Map(optimized.buffers.filter((b) => b.tensor >= 0).map((b) => [b.tensor, b]));
    const root = (b: PlannedBuffer): PlannedBuffer => (b.sharesWith === undefined ? b : root(byTensor.get(b.sharesWith)!));
    const clashes: string[] = [];
    optimized.buffers.forEach((a, i) =>
      optimized.buffers.slice(i + 1).forEach((b) => {
        const together = a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;
        const overlap = a.offset < b.offset + b.size && b.offset < a.offset + a.size;
        const shared = a.tensor >= 0 && b.tensor >= 0 && root(a) === root(b) && a.offset === b.offset;
        if (together && overlap && !shared) clashes.push(`t${a.tensor}/t${b.tensor}`);
      }),
    );
    expect(clashes).toEqual([]);
    expect(Math.max(...optimized.buffers.map((b) => b.offset + b.size))).toBe(optimized.arenaBytes);
  });
});

// ---- The interpreter's arena -----------------------------------------------------------------------------

describe('Interpreter arenaBytes', () => {
  const name = 'person_detect.tflite';
  const bytes = readModelBytes(name);
  const planned = plansOf(name).optimized.arenaBytes;

  it(`runs in exactly the planned ${planned} bytes, or more, with the golden output`, () => {
    for (const arenaBytes of [planned, planned + 100]) {
      const interpreter = new Interpreter(bytes, { resolver: allOps(), arenaBytes });
      expect(interpreter.arenaBytes).toBe(arenaBytes);
      interpreter.setInputBytes(0, goldenInputs(name)[0]);
      interpreter.invoke();
      expect(interpreter.output(0).bytes).toEqual(goldenOutputs('tflm', name)[0]);
    }
  });

  it('refuses one byte less, naming both sizes and the planner', () => {
    const tooSmall = () => new Interpreter(bytes, { resolver: allOps(), arenaBytes: planned - 1 });
    expect(tooSmall).toThrow(ArenaError);
    expect(tooSmall).toThrow(
      `arena of ${planned - 1} bytes is too small: this model needs ${planned} bytes with the optimized planner`,
    );
    expect(() => new Interpreter(bytes, { resolver: allOps(), planner: 'tflm', arenaBytes: planned })).toThrow(
      `arena of ${planned} bytes is too small: this model needs 55296 bytes with the tflm planner`,
    );
  });

  it('preserveAllTensors gives every tensor its own memory for the whole run', () => {
    const interpreter = new Interpreter(bytes, { resolver: allOps(), preserveAllTensors: true });
    const { buffers, arenaBytes } = interpreter.memoryPlan;
    expect(buffers.some((b) => b.sharesWith !== undefined || b.tensor < 0)).toBe(false);
    expect(buffers.every((b) => b.firstUse === 0 && b.lastUse === interpreter.subgraph.operators.length)).toBe(true);
    expect(arenaBytes).toBe(buffers.reduce((n, b) => n + b.size, 0));
  });
});

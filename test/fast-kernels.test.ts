// The fast convolution kernels (ops/fast/) against the readable reference kernels: identical bytes on every
// shared model, and on seeded random single ops that exercise what the fast paths special-case (uint8 zero points
// folded into constants, packed channel pairs, channel counts off the block size, odd pixel counts and patch
// lengths, long dot products, padded taps, border pixels, strides and dilations, extreme multipliers and biases,
// every activation, both roundings).
import { describe, expect, it } from 'vitest';
import { Conv2D } from '../ops/conv2d.js';
import { DepthwiseConv2D } from '../ops/depthwise-conv2d.js';
import { Padding, type Conv2DOptions, type DepthwiseConv2DOptions } from '../schema/tflite.js';
import { allOps } from '../src/all-ops.js';
import { Interpreter } from '../src/interpreter.js';
import type { KernelTier, OpKernel } from '../src/op.js';
import type { Rounding } from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';
import { makeTensor, runKernel } from './helpers/op-harness.js';
import { random } from './helpers/random.js';
import { goldenInputs, goldenModels, readModelBytes } from './helpers/shared.js';

describe('whole models: fast kernels give the reference kernels\' bytes', () => {
  const models = [...new Set([...goldenModels('tflm'), ...goldenModels('tflite')])];
  it('has models to check', () => expect(models.length).toBeGreaterThanOrEqual(10));

  for (const model of models) {
    it(model, () => {
      const outputs = (['reference', 'js', 'simd'] as const).map((kernels) => {
        const interpreter = new Interpreter(readModelBytes(model), { resolver: allOps(), kernels });
        goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
        interpreter.invoke();
        return interpreter.outputs.map((t) => Buffer.from(t.bytes).toString('hex'));
      });
      expect(outputs[1]).toEqual(outputs[0]);
      expect(outputs[2]).toEqual(outputs[0]);
    });
  }
});

type Random = ReturnType<typeof random>;

const ACTIVATIONS = [0, 1, 2, 3]; // NONE, RELU, RELU_N1_TO_1, RELU6

/**
 * Scales for a layer summing `taps` products. Mostly the output scale keeps outputs inside the type's range
 * (the accumulator, of magnitude about sqrt(taps) or taps times 4000, maps to tens of steps), so a wrong
 * accumulator shows; one case in eight takes an extreme multiplier, from 2^-31 (large right shifts) to above 1.
 */
function scales(r: Random, filterChannels: number, taps: number) {
  const inputScale = 2 ** r.int(-10, 0) * (0.5 + r.next());
  const filterBase = 2 ** r.int(-12, 2);
  const filterScales = Array.from({ length: filterChannels }, () => filterBase * 2 ** (2 * r.next() - 1));
  const multiplier = r.next() < 0.125
    ? 2 ** r.int(-31, 3) * (0.5 + r.next())
    : (2 ** r.int(-3, 3) * 50) / (r.pick([Math.sqrt(taps), taps]) * 4000);
  const outputScale = (inputScale * filterBase) / multiplier;
  return { inputScale, filterScales, outputScale };
}

interface OpCase {
  kernel: OpKernel<Conv2DOptions, unknown>;
  options: Conv2DOptions;
  inputs: Tensor[];
  output: Tensor;
  rounding: Rounding;
  describe: string;
}

/** The weighted op's quantized operands: per-channel or per-tensor int8, or uint8 with zero points. */
function operands(
  r: Random,
  dtype: 'int8' | 'uint8',
  inputShape: number[],
  filterShape: number[],
  outputShape: number[],
  channels: number,
  quantizedDimension: number,
  taps: number,
) {
  const perChannel = dtype === 'int8' && r.next() < 0.6;
  const { inputScale, filterScales, outputScale } = scales(r, perChannel ? channels : 1, taps);
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const zero = () => (dtype === 'int8' ? r.int(-128, 127) : r.int(0, 255));
  const filterZeroPoint = dtype === 'int8' ? 0 : r.pick([0, 1, 128, 255, r.int(0, 255)]);
  const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  // Weights are sometimes all at an extreme, the worst case for the packed dot product's bound.
  const extreme = r.next() < 0.1;
  const inputValues = Array.from({ length: count(inputShape) }, () => r.int(lo, hi));
  const input = makeTensor(dtype, inputShape, inputValues, { scale: inputScale, zeroPoint: zero() }, false);
  const filter = makeTensor(dtype, filterShape, Array.from({ length: count(filterShape) }, () => (extreme ? lo : r.int(lo, hi))), {
    scale: filterScales, zeroPoint: filterScales.map(() => filterZeroPoint), quantizedDimension,
  });
  const biasScale = perChannel ? filterScales.map((s) => s * inputScale) : Math.fround(inputScale * filterScales[0]);
  const biasRange = r.pick([1000, 100000, 2 ** 31 - 1]);
  const bias = makeTensor('int32', [channels], Array.from({ length: channels }, () => r.int(-biasRange, biasRange)), {
    scale: biasScale,
  });
  const output = makeTensor(dtype, outputShape, undefined, { scale: outputScale, zeroPoint: zero() });
  return { input, filter, bias: r.next() < 0.15 ? null : bias, output };
}

function pointwiseCase(seed: number): OpCase {
  const r = random(seed);
  const dtype = r.pick(['int8', 'uint8'] as const);
  const batches = r.int(1, 2);
  const height = r.int(1, 4);
  const width = r.int(1, 9);
  const depth = r.next() < 0.08 ? r.pick([1024, 2048, 2500]) : r.int(1, 70);
  const channels = r.int(1, 23);
  const ops = operands(r, dtype, [batches, height, width, depth], [channels, 1, 1, depth], [batches, height, width, channels], channels, 0, depth);
  const options: Conv2DOptions = {
    padding: r.pick([Padding.SAME, Padding.VALID]), strideW: 1, strideH: 1, activation: r.pick(ACTIVATIONS),
    dilationW: r.int(1, 2), dilationH: r.int(1, 2),
  };
  const rounding = dtype === 'int8' ? r.pick(['double', 'single'] as const) : 'double';
  return {
    kernel: Conv2D as OpKernel<Conv2DOptions, unknown>, options, rounding,
    inputs: [ops.input, ops.filter, ...(ops.bias ? [ops.bias] : [])], output: ops.output,
    describe: `seed ${seed}: ${dtype} ${batches}x${height}x${width}x${depth} -> ${channels}, ${rounding}`,
  };
}

/** A CONV_2D of any filter size, stride and dilation, SAME or VALID: patches with padded taps. */
function convCase(seed: number): OpCase {
  const r = random(seed);
  const dtype = r.pick(['int8', 'uint8'] as const);
  const batches = r.int(1, 2);
  const height = r.int(1, 7);
  const width = r.int(1, 9);
  const depth = r.int(1, 9);
  const channels = r.int(1, 14);
  const [filterHeight, filterWidth] = [r.int(1, 4), r.int(1, 4)];
  const [strideH, strideW] = [r.int(1, 3), r.int(1, 3)];
  const [dilationH, dilationW] = [r.int(1, 2), r.int(1, 2)];
  const padding = r.pick([Padding.SAME, Padding.VALID]);
  const out = (n: number, f: number, stride: number, dilation: number) =>
    padding === Padding.SAME ? Math.ceil(n / stride) : Math.floor((n - (f - 1) * dilation - 1) / stride) + 1;
  const outHeight = out(height, filterHeight, strideH, dilationH);
  const outWidth = out(width, filterWidth, strideW, dilationW);
  if (outHeight < 1 || outWidth < 1) return convCase(seed + 100000);
  const taps = filterHeight * filterWidth * depth;
  const ops = operands(
    r, dtype, [batches, height, width, depth], [channels, filterHeight, filterWidth, depth],
    [batches, outHeight, outWidth, channels], channels, 0, taps,
  );
  const options: Conv2DOptions = { padding, strideW, strideH, activation: r.pick(ACTIVATIONS), dilationW, dilationH };
  const rounding = dtype === 'int8' ? r.pick(['double', 'single'] as const) : 'double';
  return {
    kernel: Conv2D as OpKernel<Conv2DOptions, unknown>, options, rounding,
    inputs: [ops.input, ops.filter, ...(ops.bias ? [ops.bias] : [])], output: ops.output,
    describe:
      `seed ${seed}: ${dtype} ${batches}x${height}x${width}x${depth} * ${filterHeight}x${filterWidth} ` +
      `stride ${strideH}x${strideW} dilation ${dilationH}x${dilationW} padding ${padding} -> ${channels}, ${rounding}`,
  };
}

function depthwiseCase(seed: number): OpCase {
  const r = random(seed);
  const dtype = r.pick(['int8', 'uint8'] as const);
  const batches = r.int(1, 2);
  const height = r.int(1, 9);
  const width = r.int(1, 11);
  const channels = r.int(1, 19);
  const stride = r.int(1, 3);
  const padding = r.pick([Padding.SAME, Padding.VALID]);
  const out = (n: number) => (padding === Padding.SAME ? Math.ceil(n / stride) : Math.floor((n - 3) / stride) + 1);
  if (out(height) < 1 || out(width) < 1) return depthwiseCase(seed + 100000);
  const ops = operands(
    r, dtype, [batches, height, width, channels], [1, 3, 3, channels], [batches, out(height), out(width), channels],
    channels, 3, 9,
  );
  const options: DepthwiseConv2DOptions = {
    padding, strideW: stride, strideH: stride, activation: r.pick(ACTIVATIONS), dilationW: 1, dilationH: 1,
    depthMultiplier: 1,
  };
  return {
    kernel: DepthwiseConv2D as OpKernel<Conv2DOptions, unknown>, options, rounding: 'double',
    inputs: [ops.input, ops.filter, ...(ops.bias ? [ops.bias] : [])], output: ops.output,
    describe: `seed ${seed}: ${dtype} ${batches}x${height}x${width}x${channels} stride ${stride} padding ${padding}`,
  };
}

/** Runs the case under one tier; returns the output bytes and the prepared data. */
function runTier(c: OpCase, kernels: KernelTier): { bytes: string; data: Record<string, unknown> } {
  c.output.bytes.fill(0xa5);
  const data = runKernel(c.kernel, c.options, c.inputs, [c.output], { rounding: c.rounding, kernels });
  return { bytes: Buffer.from(c.output.bytes).toString('hex'), data: data as Record<string, unknown> };
}

/** Outputs of the compared cases, and those strictly inside the activation's range (not clamped). */
interface Seen {
  outputs: number;
  unclamped: number;
}

/** Whether the fast tier took its fast path; the outputs are counted into `seen`. */
function compareTiers(c: OpCase, fastField: string, seen: Seen = { outputs: 0, unclamped: 0 }): boolean {
  const reference = runTier(c, 'reference');
  expect(reference.data[fastField], c.describe).toBeNull();
  const { min, max } = reference.data as { min: number; max: number };
  for (const v of c.output.data as Int8Array | Uint8Array) {
    seen.outputs++;
    if (v > min && v < max) seen.unclamped++;
  }
  const fast = runTier(c, 'fast');
  expect(fast.bytes, c.describe).toBe(reference.bytes);
  return fast.data[fastField] !== null;
}

describe('random single ops: fast kernels give the reference kernels\' bytes', () => {
  // Most outputs must be unclamped, so that they show the accumulators.
  it('pointwise CONV_2D, 400 seeded cases', () => {
    const seen = { outputs: 0, unclamped: 0 };
    let fastRuns = 0;
    for (let seed = 1; seed <= 400; seed++) if (compareTiers(pointwiseCase(seed), 'patches', seen)) fastRuns++;
    // All but the cases whose long, extreme dot products exceed the packed bound took the fast path.
    expect(fastRuns).toBeGreaterThan(370);
    expect(seen.outputs).toBeGreaterThan(20000);
    expect(seen.unclamped / seen.outputs).toBeGreaterThan(0.15);
  });

  it('CONV_2D of any filter size, stride and dilation, 400 seeded cases', () => {
    const seen = { outputs: 0, unclamped: 0 };
    let fastRuns = 0;
    for (let seed = 1; seed <= 400; seed++) if (compareTiers(convCase(seed), 'patches', seen)) fastRuns++;
    expect(fastRuns).toBe(400);
    expect(seen.outputs).toBeGreaterThan(20000);
    expect(seen.unclamped / seen.outputs).toBeGreaterThan(0.15);
  });

  it('depthwise 3x3, 400 seeded cases', () => {
    const seen = { outputs: 0, unclamped: 0 };
    let fastRuns = 0;
    for (let seed = 1; seed <= 400; seed++) if (compareTiers(depthwiseCase(seed), 'fast3x3', seen)) fastRuns++;
    expect(fastRuns).toBe(400);
    expect(seen.outputs).toBeGreaterThan(20000);
    expect(seen.unclamped / seen.outputs).toBeGreaterThan(0.15);
  });

  it('accumulators beyond the closed-form requantization: tiny multipliers against huge biases, 100 cases', () => {
    // A multiplier near 2^-26 puts the closed form's limit below these accumulators (biases up to 2^31), while
    // the outputs stay mostly unclamped: the wide requantization decides them.
    const seen = { outputs: 0, unclamped: 0 };
    for (let seed = 1; seed <= 100; seed++) {
      const r = random(seed * 3);
      const dtype = r.pick(['int8', 'uint8'] as const);
      const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
      const zero = () => r.int(lo, hi);
      const values = (n: number) => Array.from({ length: n }, () => r.int(lo, hi));
      const depthwise = seed % 2 === 0;
      const [height, width, channels] = [r.int(1, 5), r.int(1, 7), r.int(1, 9)];
      const inputScale = 0.01;
      const filterScales = Array.from({ length: channels }, () => 0.01 * (0.5 + r.next()));
      const multiplier = 2 ** r.int(-28, -23) * (0.5 + r.next());
      const shape = [1, height, width, channels];
      const input = makeTensor(dtype, shape, values(height * width * channels), { scale: inputScale, zeroPoint: zero() }, false);
      const filterQuantization = (quantizedDimension: number) =>
        dtype === 'int8'
          ? { scale: filterScales, zeroPoint: filterScales.map(() => 0), quantizedDimension }
          : { scale: [filterScales[0]], zeroPoint: [zero()], quantizedDimension };
      const filter = depthwise
        ? makeTensor(dtype, [1, 3, 3, channels], values(9 * channels), filterQuantization(3))
        : makeTensor(dtype, [channels, 1, 1, channels], values(channels * channels), filterQuantization(0));
      const biasScale = dtype === 'int8' ? filterScales.map((s) => s * inputScale) : Math.fround(inputScale * filterScales[0]);
      const biases = Array.from({ length: channels }, () => r.int(-(2 ** 31) + 1, 2 ** 31 - 1));
      const bias = makeTensor('int32', [channels], biases, { scale: biasScale });
      const output = makeTensor(dtype, shape, undefined, { scale: (inputScale * filterScales[0]) / multiplier, zeroPoint: zero() });
      const options = { padding: Padding.SAME, strideW: 1, strideH: 1, activation: 0, dilationW: 1, dilationH: 1 };
      const c: OpCase = {
        kernel: (depthwise ? DepthwiseConv2D : Conv2D) as OpKernel<Conv2DOptions, unknown>, rounding: 'double',
        inputs: [input, filter, bias], output, describe: `seed ${seed}: ${depthwise ? 'depthwise' : 'pointwise'} ${dtype}`,
        options: depthwise ? ({ ...options, depthMultiplier: 1 } as DepthwiseConv2DOptions) : options,
      };
      expect(compareTiers(c, depthwise ? 'fast3x3' : 'patches', seen), c.describe).toBe(true);
    }
    expect(seen.unclamped / seen.outputs).toBeGreaterThan(0.3);
  });

  it('a dot product too long for the packed bound runs the reference kernel', () => {
    // 2500 int8 weights of -128 against inputs up to -128: 128 · 2500 · 128 > 2^25.
    const r = random(7);
    const ops = operands(r, 'int8', [1, 1, 2, 2500], [3, 1, 1, 2500], [1, 1, 2, 3], 3, 0, 2500);
    ops.filter.int8().fill(-128);
    const c: OpCase = {
      kernel: Conv2D as OpKernel<Conv2DOptions, unknown>, rounding: 'double', inputs: [ops.input, ops.filter],
      output: ops.output, describe: 'bound',
      options: { padding: Padding.VALID, strideW: 1, strideH: 1, activation: 0, dilationW: 1, dilationH: 1 },
    };
    expect(compareTiers(c, 'patches')).toBe(false);
  });
});

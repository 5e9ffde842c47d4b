import { describe, expect, it } from 'vitest';
import { FullyConnected } from '../../ops/fully-connected.js';
import type { FullyConnectedOptions } from '../../schema/tflite.js';
import type { Tensor } from '../../src/tensor.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const RELU6 = 3;

function options(overrides: Partial<FullyConnectedOptions> = {}): FullyConnectedOptions {
  return { activation: 0, weightsFormat: 0, keepNumDims: false, ...overrides };
}

function run(opts: FullyConnectedOptions, inputs: (Tensor | null)[], out: Tensor): number[] {
  runKernel(FullyConnected, opts, inputs, [out]);
  return values(out);
}

const unit = { scale: 1 };

describe('FULLY_CONNECTED int8', () => {
  it('per-tensor weights: input, weights and output zero points all applied', () => {
    // Input scale 0.5, zero point -1: real [2, 3, 4, 0]. Weights scale 0.5, zero point 2 (TFLM keeps the
    // per-tensor weights offset): unit 0 real [1, 0, -1, -2], unit 1 real [-4, 2, 0, 0].
    // Multiplier float32(0.5·0.5) / 0.25 = 1; bias scale 0.25.
    //   unit 0: 2 - 4 = -2, + 10 = 8, + output zero point 3 = 11
    //   unit 1: -8 + 6 = -2, - 1 = -3, + 3 = 0
    const inputT = makeTensor('int8', [1, 4], [1, 2, 3, -1], { scale: 0.5, zeroPoint: -1 });
    const weights = makeTensor('int8', [2, 4], [3, 2, 1, 0, -2, 4, 2, 2], { scale: 0.5, zeroPoint: 2 });
    const bias = makeTensor('int32', [2], [10, -1], { scale: 0.25 });
    const out = makeTensor('int8', [1, 2], undefined, { scale: 0.25, zeroPoint: 3 });
    expect(run(options(), [inputT, weights, bias], out)).toEqual([11, 0]);
  });

  it('per-channel weights with different scales, two batches', () => {
    // Scales 0.5 and 2 (shift +2 with multiplier 2^30). Batch [3, -5]: unit 0 [1, 1] → -2 → -1;
    // unit 1 [10, 2] → 20 → 40. Batch [1, 2]: unit 0 → 3 → 1.5 → 2 (halves round up); unit 1 → 14 → 28.
    const inputT = makeTensor('int8', [2, 2], [3, -5, 1, 2], unit);
    const weights = makeTensor('int8', [2, 2], [1, 1, 10, 2], { scale: [0.5, 2] });
    const out = makeTensor('int8', [2, 2], undefined, unit);
    expect(run(options(), [inputT, weights], out)).toEqual([-1, 40, 2, 28]);
  });

  it('flattens the input to [batches, depth] and saturates at -128 and 127', () => {
    // Input [1, 2, 1, 2] is 2 batches of depth 2: [100, 0] and [0, -100]. One unit, weights [100, 100]:
    // 10000 → 127 and -10000 → -128.
    const inputT = makeTensor('int8', [1, 2, 1, 2], [100, 0, 0, -100], unit);
    const weights = makeTensor('int8', [1, 2], [100, 100], unit);
    const out = makeTensor('int8', [2, 1], undefined, unit);
    expect(run(options(), [inputT, weights], out)).toEqual([127, -128]);
  });

  it('keep_num_dims keeps the input rank, replacing the last dimension by the units', () => {
    // Input [1, 2, 2]: rows [1, 2] and [3, 4]; one unit [1, -1] with bias 5 → 4 and 4.
    const inputT = makeTensor('int8', [1, 2, 2], [1, 2, 3, 4], unit);
    const weights = makeTensor('int8', [1, 2], [1, -1], unit);
    const bias = makeTensor('int32', [1], [5], unit);
    const out = makeTensor('int8', [1, 2, 1], undefined, unit);
    expect(run(options({ keepNumDims: true }), [inputT, weights, bias], out)).toEqual([4, 4]);
  });

  it('fused RELU6', () => {
    // Output scale 0.1, zero point 0: the clamp is [0, 60]. Input scale 0.1: 5 → 5, 100 → 60, -7 → 0.
    const inputT = makeTensor('int8', [3, 1], [5, 100, -7], { scale: 0.1 });
    const weights = makeTensor('int8', [1, 1], [1], unit);
    const out = makeTensor('int8', [3, 1], undefined, { scale: 0.1 });
    expect(run(options({ activation: RELU6 }), [inputT, weights], out)).toEqual([5, 60, 0]);
  });

  it('a zero output scale without bias gives the zero point everywhere', () => {
    const inputT = makeTensor('int8', [1, 2], [50, -50], unit);
    const weights = makeTensor('int8', [2, 2], [1, 2, 3, 4], unit);
    const out = makeTensor('int8', [1, 2], undefined, { scale: 0, zeroPoint: 9 });
    expect(run(options(), [inputT, weights], out)).toEqual([9, 9]);
  });

  it('a zero output scale with a bias fails the bias-scale check, as in TFLM', () => {
    const inputT = makeTensor('int8', [1, 2], [50, -50], unit);
    const weights = makeTensor('int8', [2, 2], [1, 2, 3, 4], unit);
    const bias = makeTensor('int32', [2], [0, 0], unit);
    const out = makeTensor('int8', [1, 2], undefined, { scale: 0 });
    expect(() => run(options(), [inputT, weights, bias], out)).toThrow(/within 2% of the output scale 0/);
  });
});

describe('FULLY_CONNECTED uint8', () => {
  it('applies input, weights and output zero points and saturates to 0 and 255', () => {
    // All zero points 128, all scales 1. Real input [10, -10].
    //   unit 0 real [100, -100]: 2000 → 2128 → 255;  unit 1 [-100, 100]: -2000 → 0;  unit 2 [1, -1]: 20 → 148.
    const inputT = makeTensor('uint8', [1, 2], [138, 118], { scale: 1, zeroPoint: 128 });
    const weights = makeTensor('uint8', [3, 2], [228, 28, 28, 228, 129, 127], { scale: 1, zeroPoint: 128 });
    const out = makeTensor('uint8', [1, 3], undefined, { scale: 1, zeroPoint: 128 });
    expect(run(options(), [inputT, weights], out)).toEqual([255, 0, 148]);
  });
});

describe('FULLY_CONNECTED float32', () => {
  it('accumulates in float32, in order, with keep_num_dims', () => {
    // Row [2^24, 1, 1]: unit 0 (all 1): 2^24 + 1 rounds back to 2^24, twice → 16777216 (not ...218).
    // unit 1 (all 0.5): 2^23 + 0.5 rounds to even 2^23, twice → 8388608 (not ...609).
    // Row [1, 2, 3]: 6 and 3, plus biases 0.
    const inputT = makeTensor('float32', [1, 2, 3], [16777216, 1, 1, 1, 2, 3]);
    const weights = makeTensor('float32', [2, 3], [1, 1, 1, 0.5, 0.5, 0.5]);
    const out = makeTensor('float32', [1, 2, 2]);
    expect(run(options({ keepNumDims: true }), [inputT, weights], out)).toEqual([16777216, 8388608, 6, 3]);
  });

  it('bias and RELU6', () => {
    // [1, 2] · [2, 3] = 8, + bias -1.5 = 6.5 → 6;  [1, 2] · [-1, 0] = -1, + 0.5 = -0.5 → 0.
    const inputT = makeTensor('float32', [1, 2], [1, 2]);
    const weights = makeTensor('float32', [2, 2], [2, 3, -1, 0]);
    const bias = makeTensor('float32', [2], [-1.5, 0.5]);
    const out = makeTensor('float32', [1, 2]);
    expect(run(options({ activation: RELU6 }), [inputT, weights, bias], out)).toEqual([6, 0]);
  });
});

describe('FULLY_CONNECTED prepare errors', () => {
  const inputT = () => makeTensor('int8', [1, 2], [0, 0], unit);
  const weights = () => makeTensor('int8', [2, 2], [0, 0, 0, 0], unit);

  it('refuses SHUFFLED4x16INT8 weights', () => {
    const out = makeTensor('int8', [1, 2], undefined, unit);
    expect(() => run(options({ weightsFormat: 1 }), [inputT(), weights()], out)).toThrow(
      /weights_format SHUFFLED4x16INT8 is not supported/,
    );
  });

  it('checks the output shape', () => {
    const out = makeTensor('int8', [1, 3], undefined, unit);
    expect(() => run(options(), [inputT(), weights()], out)).toThrow(/output shape is \[1,3\], expected \[1,2\]/);
  });

  it('refuses an input whose size is not a multiple of the depth', () => {
    const x = makeTensor('int8', [1, 3], [0, 0, 0], unit);
    const out = makeTensor('int8', [1, 2], undefined, unit);
    expect(() => run(options(), [x, weights()], out)).toThrow(/not a multiple of the weights' depth 2/);
  });

  it('refuses per-channel scales that do not match the units', () => {
    const w = makeTensor('int8', [2, 2], [0, 0, 0, 0], { scale: [1, 1, 1] });
    const out = makeTensor('int8', [1, 2], undefined, unit);
    expect(() => run(options(), [inputT(), w], out)).toThrow(/filter has 3 per-channel scales, output has 2 channels/);
  });

  it('refuses a bias of the wrong length', () => {
    const out = makeTensor('int8', [1, 2], undefined, unit);
    const bias = makeTensor('int32', [3], [0, 0, 0], unit);
    expect(() => run(options(), [inputT(), weights(), bias], out)).toThrow(/bias has 3 elements, weights have 2 units/);
  });
});

describe('FULLY_CONNECTED rounding', () => {
  // Multiplier 1 · 0.375 / 1 = 0.75 · 2^-1 (Q31 1610612736, shift -1); accumulators 1 and -1.
  // Double rounding: the doubling high multiply gives round(0.75) = 1 and round(-0.75) = -1, then the rounding
  // halving gives 1 (0.5 away from zero) and -1 (-0.5 away from zero). Single rounding: (±1 · 1610612736 + 2^31)
  // >> 32 = 0 for both. TFLite's built-in int8 kernel rounds once (ruy); its uint8 kernel and TFLM round twice.
  const run2 = (dtype: 'int8' | 'uint8', rounding: 'double' | 'single') => {
    const zero = dtype === 'int8' ? 0 : 128;
    const x = makeTensor(dtype, [1, 1], [zero + 1], { scale: 1, zeroPoint: zero });
    const w = makeTensor(dtype, [2, 1], [zero + 1, zero - 1], { scale: 0.375, zeroPoint: zero });
    const out = makeTensor(dtype, [1, 2], undefined, { scale: 1, zeroPoint: zero });
    runKernel(FullyConnected, options(), [x, w], [out], { rounding });
    return values(out).map((v) => v - zero);
  };

  it('int8 rounds twice by default and once with rounding single', () => {
    expect(run2('int8', 'double')).toEqual([1, -1]);
    expect(run2('int8', 'single')).toEqual([0, 0]);
  });

  it('uint8 rounds twice either way', () => {
    expect(run2('uint8', 'single')).toEqual([1, -1]);
  });
});

describe('FULLY_CONNECTED bias scale check', () => {
  it('compares the bias scale with the float32 product of input and weights scales, as TFLite does', () => {
    // GetQuantizedConvolutionMultipler: double(input_scale * filter_scale), a float32 product. Here that product is
    // the bias scale exactly; the float64 product differs from it by 3.5e-10, more than 2% of the output scale.
    const inputScale = 0.14139322936534882;
    const weightScale = 0.059986457228660583;
    const biasScale = Math.fround(inputScale * weightScale);
    expect(Math.abs(inputScale * weightScale - biasScale) / 6.586267087271835e-9).toBeGreaterThan(0.02);
    const x = makeTensor('uint8', [1, 1], [157], { scale: inputScale, zeroPoint: 157 });
    const w = makeTensor('uint8', [1, 1], [26], { scale: weightScale, zeroPoint: 26 });
    const bias = makeTensor('int32', [1], [0], { scale: biasScale });
    const out = makeTensor('uint8', [1, 1], undefined, { scale: 6.586267087271835e-9, zeroPoint: 93 });
    expect(run(options(), [x, w, bias], out)).toEqual([93]);
  });
});

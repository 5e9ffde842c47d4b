import { describe, expect, it } from 'vitest';
import { DepthwiseConv2D } from '../../ops/depthwise-conv2d.js';
import { Padding, type DepthwiseConv2DOptions } from '../../schema/tflite.js';
import type { Rounding } from '../../src/quant.js';
import type { Tensor } from '../../src/tensor.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const RELU = 1;

function options(overrides: Partial<DepthwiseConv2DOptions> = {}): DepthwiseConv2DOptions {
  return {
    padding: Padding.SAME, strideW: 1, strideH: 1, depthMultiplier: 1, activation: 0, dilationW: 1, dilationH: 1,
    ...overrides,
  };
}

function run(opts: DepthwiseConv2DOptions, inputs: (Tensor | null)[], out: Tensor, rounding: Rounding = 'double'): number[] {
  runKernel(DepthwiseConv2D, opts, inputs, [out], { rounding });
  return values(out);
}

/** Input scale × filter scale / output scale = 1: an exact identity multiplier. */
const unit = { scale: 1 };

describe('DEPTHWISE_CONV_2D int8', () => {
  it('depth multiplier 2, SAME padding of a 2×2 filter (the extra row/column goes after)', () => {
    // Input zero point 5; real input c0 = [[1,2],[3,4]], c1 = [[10,20],[30,40]]. Total padding 1, 0 before,
    // so the window at (oy, ox) covers rows oy..oy+1, columns ox..ox+1. Output channel ic·2 + m:
    //   oc0 (c0): all-ones taps, the window sum;   oc1 (c0): tap (0,0) only, c0(oy, ox);
    //   oc2 (c1): tap (0,1) only, c1(oy, ox+1);    oc3 (c1): tap (1,1) = -1, -c1(oy+1, ox+1).
    // Bias [100, 0, 0, 0].
    //   (0,0): 10+100, 1, 20, -40   (0,1): 6+100, 2, 0, 0   (1,0): 7+100, 3, 40, 0   (1,1): 4+100, 4, 0, 0
    const inputT = makeTensor('int8', [1, 2, 2, 2], [6, 15, 7, 25, 8, 35, 9, 45], { scale: 1, zeroPoint: 5 });
    // [1, fy, fx, oc]: taps (0,0), (0,1), (1,0), (1,1), four channels each.
    const filter = makeTensor('int8', [1, 2, 2, 4], [1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, -1], unit);
    const bias = makeTensor('int32', [4], [100, 0, 0, 0]);
    const out = makeTensor('int8', [1, 2, 2, 4], undefined, unit);
    expect(run(options({ depthMultiplier: 2 }), [inputT, filter, bias], out)).toEqual([
      110, 1, 20, -40, 106, 2, 0, 0, 107, 3, 40, 0, 104, 4, 0, 0,
    ]);
  });

  it('stride 2 on an odd 3×3 input with per-channel scales; double rounding even when single is asked', () => {
    // out = ceil(3/2) = 2, padding 1 before: windows cover rows/columns {0,1} then {1,2}.
    // Channel 0: all-ones input, all-ones filter, scale 1: 4 taps in every window → 4.
    // Channel 1: input 1..9, all-ones filter, scale 0.25, bias -30:
    //   12-30 = -18 → -4.5 → -5;  16-30 = -14 → -3.5 → -4;  24-30 = -6 → -1.5 → -2;  28-30 = -2 → -0.5 → -1
    // (ties away from zero after an exact halving; single rounding would give -4, -3, -1, 0).
    const inputT = makeTensor('int8', [1, 3, 3, 2], [1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1, 6, 1, 7, 1, 8, 1, 9], unit);
    const filter = makeTensor('int8', [1, 3, 3, 2], new Array(18).fill(1), { scale: [1, 0.25], quantizedDimension: 3 });
    const bias = makeTensor('int32', [2], [0, -30]);
    const out = makeTensor('int8', [1, 2, 2, 2], undefined, unit);
    const expected = [4, -5, 4, -4, 4, -2, 4, -1];
    expect(run(options({ strideH: 2, strideW: 2 }), [inputT, filter, bias], out)).toEqual(expected);
    expect(run(options({ strideH: 2, strideW: 2 }), [inputT, filter, bias], out, 'single')).toEqual(expected);
  });

  it('dilation 2 with SAME padding', () => {
    // v(y, x) = 5y + x on 5×5; taps (0,0) = 1 and (1,1) = 2 with dilation 2 and padding 2:
    // out(y, x) = 2·v(y, x) + v(y-2, x-2), the second term only where y ≥ 2 and x ≥ 2.
    const inputT = makeTensor('int8', [1, 5, 5, 1], Array.from({ length: 25 }, (_, i) => i), unit);
    const filter = makeTensor('int8', [1, 3, 3, 1], [1, 0, 0, 0, 2, 0, 0, 0, 0], unit);
    const out = makeTensor('int8', [1, 5, 5, 1], undefined, unit);
    expect(run(options({ dilationH: 2, dilationW: 2 }), [inputT, filter], out)).toEqual([
      0, 2, 4, 6, 8,
      10, 12, 14, 16, 18,
      20, 22, 24 + 0, 26 + 1, 28 + 2,
      30, 32, 34 + 5, 36 + 6, 38 + 7,
      40, 42, 44 + 10, 46 + 11, 48 + 12,
    ]);
  });

  it('saturates at -128 and 127', () => {
    // Channel 0: 100 · 100 = 10000 → 127; channel 1: 100 · -100 → -128.
    const inputT = makeTensor('int8', [1, 1, 1, 2], [100, 100], unit);
    const filter = makeTensor('int8', [1, 1, 1, 2], [100, -100], unit);
    const out = makeTensor('int8', [1, 1, 1, 2], undefined, unit);
    expect(run(options(), [inputT, filter], out)).toEqual([127, -128]);
  });

  it('a zero output scale gives the zero point everywhere', () => {
    const inputT = makeTensor('int8', [1, 1, 1, 2], [100, -3], unit);
    const filter = makeTensor('int8', [1, 1, 1, 2], [1, 1], { scale: [1, 2], quantizedDimension: 3 });
    const out = makeTensor('int8', [1, 1, 1, 2], undefined, { scale: 0, zeroPoint: -4 });
    expect(run(options(), [inputT, filter], out)).toEqual([-4, -4]);
  });
});

describe('DEPTHWISE_CONV_2D uint8', () => {
  it('applies input and filter zero points with depth multiplier 2, saturates to 0', () => {
    // The CONV_2D uint8 case as a depthwise: both output channels read the single input channel.
    // Real input [2, -2, 0, 12] (zero point 128); filter zero point 120: channel 0 real [4, -4, 80, 0],
    // channel 1 all -120. Multiplier 0.5 · 0.25 / 0.5 = 0.25, bias scale 0.125, output zero point 100.
    //   channel 0: 16 + bias 6 = 22 → 5.5 → 6 → 106;  channel 1: -1440 - 6 = -1446 → -362 → -262 → 0.
    const inputT = makeTensor('uint8', [1, 2, 2, 1], [130, 126, 128, 140], { scale: 0.5, zeroPoint: 128 });
    const filter = makeTensor('uint8', [1, 2, 2, 2], [124, 0, 116, 0, 200, 0, 120, 0], { scale: 0.25, zeroPoint: 120 });
    const bias = makeTensor('int32', [2], [6, -6], { scale: 0.125 });
    const out = makeTensor('uint8', [1, 1, 1, 2], undefined, { scale: 0.5, zeroPoint: 100 });
    expect(run(options({ padding: Padding.VALID, depthMultiplier: 2 }), [inputT, filter, bias], out)).toEqual([106, 0]);
  });
});

describe('DEPTHWISE_CONV_2D float32', () => {
  it('depth multiplier 2 with bias and RELU', () => {
    // Channel 0: 0.5·1 + 0.25·2 - 1·3 + 2·4 = 6, + 0.125 = 6.125. Channel 1: 1+2+3+4 = 10, - 20 → RELU → 0.
    const inputT = makeTensor('float32', [1, 2, 2, 1], [1, 2, 3, 4]);
    const filter = makeTensor('float32', [1, 2, 2, 2], [0.5, 1, 0.25, 1, -1, 1, 2, 1]);
    const bias = makeTensor('float32', [2], [0.125, -20]);
    const out = makeTensor('float32', [1, 1, 1, 2]);
    expect(
      run(options({ padding: Padding.VALID, depthMultiplier: 2, activation: RELU }), [inputT, filter, bias], out),
    ).toEqual([6.125, 0]);
  });

  it('accumulates in float32: 2^24 + 1 + 1 stays 2^24', () => {
    const inputT = makeTensor('float32', [1, 1, 3, 1], [16777216, 1, 1]);
    const filter = makeTensor('float32', [1, 1, 3, 1], [1, 1, 1]);
    const out = makeTensor('float32', [1, 1, 1, 1]);
    expect(run(options({ padding: Padding.VALID }), [inputT, filter], out)).toEqual([16777216]);
  });
});

describe('DEPTHWISE_CONV_2D prepare errors', () => {
  it('refuses a depth multiplier that disagrees with the shapes', () => {
    const inputT = makeTensor('int8', [1, 2, 2, 2], new Array(8).fill(0), unit);
    const filter = makeTensor('int8', [1, 2, 2, 4], new Array(16).fill(0), unit);
    const out = makeTensor('int8', [1, 2, 2, 4], undefined, unit);
    expect(() => run(options(), [inputT, filter], out)).toThrow(
      /depth multiplier 1 × input depth 2 is not the filter's 4 channels/,
    );
  });

  it('refuses per-channel scales that do not match the channels', () => {
    const inputT = makeTensor('int8', [1, 1, 1, 2], [0, 0], unit);
    const filter = makeTensor('int8', [1, 1, 1, 2], [0, 0], { scale: [1, 2, 3], quantizedDimension: 3 });
    const out = makeTensor('int8', [1, 1, 1, 2], undefined, unit);
    expect(() => run(options(), [inputT, filter], out)).toThrow(/filter has 3 per-channel scales, output has 2 channels/);
  });

  it('checks the output shape', () => {
    const inputT = makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(0), unit);
    const filter = makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(0), unit);
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, unit);
    expect(() => run(options({ strideH: 2, strideW: 2 }), [inputT, filter], out)).toThrow(
      /output shape is \[1,3,3,1\], expected \[1,2,2,1\]/,
    );
  });

  it('refuses a uint8 filter with per-channel scales', () => {
    const inputT = makeTensor('uint8', [1, 1, 1, 2], [0, 0], { scale: 1, zeroPoint: 0 });
    const filter = makeTensor('uint8', [1, 1, 1, 2], [0, 0], { scale: [1, 2], quantizedDimension: 3 });
    const out = makeTensor('uint8', [1, 1, 1, 2], undefined, unit);
    expect(() => run(options(), [inputT, filter], out)).toThrow(/per-channel quantization needs int8/);
  });
});

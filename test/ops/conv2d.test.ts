import { describe, expect, it } from 'vitest';
import { Conv2D } from '../../ops/conv2d.js';
import { Padding, type Conv2DOptions } from '../../schema/tflite.js';
import type { Rounding } from '../../src/quant.js';
import type { Tensor } from '../../src/tensor.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const RELU = 1;
const RELU6 = 3;

function options(overrides: Partial<Conv2DOptions> = {}): Conv2DOptions {
  return { padding: Padding.SAME, strideW: 1, strideH: 1, activation: 0, dilationW: 1, dilationH: 1, ...overrides };
}

function run(opts: Conv2DOptions, inputs: (Tensor | null)[], out: Tensor, rounding: Rounding = 'double'): number[] {
  runKernel(Conv2D, opts, inputs, [out], { rounding });
  return values(out);
}

/** Input scale × filter scale / output scale = 1: quantizeMultiplier(1) = 2^30 · 2^(1-31), exact identity. */
const unit = { scale: 1 };

/** The 5×5 single-channel image v(y, x) = 5y + x. */
const ramp5x5 = Array.from({ length: 25 }, (_, i) => i);

describe('CONV_2D int8', () => {
  it('SAME padding omits the border taps; input/output zero points and bias', () => {
    // Real input (q - zp) is 1..9 in a 3×3 grid; the 3×3 all-ones filter sums each window, borders included
    // only where the window overlaps the image:
    //   1+2+4+5=12  1+2+3+4+5+6=21  2+3+5+6=16
    //   27          45              33
    //   4+5+7+8=24  39              5+6+8+9=28
    // + bias 10, × 1, + output zero point -3.
    const inputT = makeTensor('int8', [1, 3, 3, 1], [2, 3, 4, 5, 6, 7, 8, 9, 10], { scale: 0.5, zeroPoint: 1 });
    const filter = makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(1), { scale: 1 });
    const bias = makeTensor('int32', [1], [10], { scale: 0.5 });
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, { scale: 0.5, zeroPoint: -3 });
    expect(run(options(), [inputT, filter, bias], out)).toEqual([19, 28, 23, 34, 52, 40, 31, 46, 35]);
  });

  it('stride 2 on an odd 5×5 input: 3×3 output, one padding row/column before', () => {
    // out = ceil(5/2) = 3; total padding (3-1)·2 + 3 - 5 = 2, so 1 before. Output (oy, ox) sums rows
    // Y ∈ {0,1} | {1,2,3} | {3,4} and columns X likewise: Σ(5y + x) = 5·|X|·ΣY + |Y|·ΣX.
    //   12  27  24 / 63 108 81 / 72 117 84.
    // Effective scale 0.5 = 2^30 · 2^-31: (x + 1) >> 1 rounds halves up: 27 → 14, 63 → 32, 81 → 41, 117 → 59.
    const inputT = makeTensor('int8', [1, 5, 5, 1], ramp5x5, unit);
    const filter = makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(1), unit);
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, { scale: 2 });
    expect(run(options({ strideH: 2, strideW: 2 }), [inputT, filter], out)).toEqual([6, 14, 12, 32, 54, 41, 36, 59, 42]);
  });

  it('dilation 2 with SAME padding', () => {
    // Effective filter 5×5, padding 2 before. Filter taps: (0,0) = 1, centre (1,1) = 2, others 0, so
    // out(y, x) = 2·v(y, x) + v(y-2, x-2), the second term only where y ≥ 2 and x ≥ 2.
    const inputT = makeTensor('int8', [1, 5, 5, 1], ramp5x5, unit);
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

  it('dilation 2 with VALID padding touches only every other pixel', () => {
    // 5×5 effective window on 5×5: one output, the 3×3 all-ones filter sums v at y, x ∈ {0, 2, 4}:
    // 5·3·(0+2+4) + 3·(0+2+4) = 108.
    const inputT = makeTensor('int8', [1, 5, 5, 1], ramp5x5, unit);
    const filter = makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(1), unit);
    const out = makeTensor('int8', [1, 1, 1, 1], undefined, unit);
    expect(run(options({ padding: Padding.VALID, dilationH: 2, dilationW: 2 }), [inputT, filter], out)).toEqual([108]);
  });

  describe('per-channel scales', () => {
    // 1×1 convolution over two pixels [10, 20] and [-7, 3]; filters [1, 2], [3, -1], [4, 4] with scales
    // 1, 0.5, 0.25 and biases 0, 1, -2. Accumulators: pixel A 50, 11, 118; pixel B -1, -23, -18.
    //   × 1:    50, -1
    //   × 0.5:  5.5 → 6; -11.5 → -11 (the doubling high multiply rounds halves up)
    //   × 0.25: 29.5 → 30; -4.5: double rounding first halves to -9 exactly, then RoundingDivideByPOT
    //           rounds -4.5 away from zero to -5; single rounding (-18·2^30 + 2^31) >> 32 gives -4.
    const make = (filterScale: number | number[], filterShape = [3, 1, 1, 2]) => [
      makeTensor('int8', [1, 1, 2, 2], [10, 20, -7, 3], unit),
      makeTensor('int8', filterShape, [1, 2, 3, -1, 4, 4], { scale: filterScale }),
      makeTensor('int32', [3], [0, 1, -2]),
    ];

    it('double rounding (TFLM) by default', () => {
      const out = makeTensor('int8', [1, 1, 2, 3], undefined, unit);
      expect(run(options(), make([1, 0.5, 0.25]), out)).toEqual([50, 6, 30, -1, -11, -5]);
    });

    it("rounding: 'single' rounds the -4.5 tie upward, as TFLite's ruy path does", () => {
      const out = makeTensor('int8', [1, 1, 2, 3], undefined, unit);
      expect(run(options(), make([1, 0.5, 0.25]), out, 'single')).toEqual([50, 6, 30, -1, -11, -4]);
    });

    it("rounding: 'single' applies to a per-tensor int8 filter too: TFLite runs it through the same per-channel gemm", () => {
      // Every channel × 0.25: 50 → 12.5 → 13; 11 → 2.75 → 3; 118 → 29.5 → 30; -1 → -0.25 → 0;
      // -23 → -5.75 → -6; -18 → -4.5 → -5 (double) or -4 (single).
      const double = makeTensor('int8', [1, 1, 2, 3], undefined, unit);
      const single = makeTensor('int8', [1, 1, 2, 3], undefined, unit);
      expect(run(options(), make(0.25), double)).toEqual([13, 3, 30, 0, -6, -5]);
      expect(run(options(), make(0.25), single, 'single')).toEqual([13, 3, 30, 0, -6, -4]);
    });

    it('refuses a scale count that does not match the output channels', () => {
      const out = makeTensor('int8', [1, 1, 2, 3], undefined, unit);
      expect(() => run(options(), make([1, 0.5]), out)).toThrow(/filter has 2 per-channel scales, output has 3 channels/);
    });
  });

  it('a multiplier above 1 is a positive shift applied before the high multiply', () => {
    // Effective scale 3 = 0.75 · 2^2: multiplier 0x60000000, shift 2. 5 → 15, -7 → -21.
    const inputT = makeTensor('int8', [1, 1, 2, 1], [5, -7], unit);
    const filter = makeTensor('int8', [1, 1, 1, 1], [1], { scale: 3 });
    const out = makeTensor('int8', [1, 1, 2, 1], undefined, unit);
    expect(run(options(), [inputT, filter], out)).toEqual([15, -21]);
  });

  it('saturates at -128 and 127', () => {
    // 100 · ±100 = ±10000, far outside int8.
    const inputT = makeTensor('int8', [1, 1, 2, 1], [100, -100], unit);
    const filter = makeTensor('int8', [1, 1, 1, 1], [100], unit);
    const out = makeTensor('int8', [1, 1, 2, 1], undefined, unit);
    expect(run(options(), [inputT, filter], out)).toEqual([127, -128]);
  });

  it('fused RELU6 clamps to the quantized [0, 6]', () => {
    // Output scale 0.1, zero point -10: 0 → -10, 6 → -10 + 60 = 50. Inputs 20, 70, -30 × 1.
    const inputT = makeTensor('int8', [1, 1, 3, 1], [20, 70, -30], { scale: 0.1 });
    const filter = makeTensor('int8', [1, 1, 1, 1], [1], unit);
    const out = makeTensor('int8', [1, 1, 3, 1], undefined, { scale: 0.1, zeroPoint: -10 });
    // 20·0.1·1/0.1 = 20 → 20 - 10 = 10; 70 - 10 = 60 → 50; -30 - 10 = -40 → -10.
    expect(run(options({ activation: RELU6 }), [inputT, filter], out)).toEqual([10, 50, -10]);
  });

  it('grouped convolution: filter depth 1 over 2 input channels', () => {
    // Two groups, one filter each: output channel g reads input channel g only. [3, 5] · [2, 7] → [6, 35].
    const inputT = makeTensor('int8', [1, 1, 1, 2], [3, 5], unit);
    const filter = makeTensor('int8', [2, 1, 1, 1], [2, 7], unit);
    const out = makeTensor('int8', [1, 1, 1, 2], undefined, unit);
    expect(run(options(), [inputT, filter], out)).toEqual([6, 35]);
  });

  it('a zero output scale does not crash: the multiplier is 0 and every output is the zero point', () => {
    const inputT = makeTensor('int8', [1, 1, 2, 1], [5, -7], unit);
    const filter = makeTensor('int8', [1, 1, 1, 1], [1], unit);
    const out = makeTensor('int8', [1, 1, 2, 1], undefined, { scale: 0, zeroPoint: 7 });
    expect(run(options(), [inputT, filter], out)).toEqual([7, 7]);
  });

  it('a zero output scale with a fused RELU fails in prepare, as TFLite does', () => {
    const inputT = makeTensor('int8', [1, 1, 2, 1], [5, -7], unit);
    const filter = makeTensor('int8', [1, 1, 1, 1], [1], unit);
    const out = makeTensor('int8', [1, 1, 2, 1], undefined, { scale: 0 });
    expect(() => run(options({ activation: RELU }), [inputT, filter], out)).toThrow(
      /fused RELU cannot be quantized with output scale 0/,
    );
  });
});

describe('CONV_2D uint8', () => {
  // 2×2 VALID window, input zero point 128, filter zero point 120, output zero point 100.
  // Real input [2, -2, 0, 12]; filter 0 real [4, -4, 80, 0], filter 1 all 0 - 120 = -120.
  // Scales 0.5 · 0.25 / 0.5 = 0.25 (float32 product, then double division) with bias scale 0.125.
  //   channel 0: 8 + 8 + 0 + 0 = 16, bias -34 → -18 → × 0.25 = -4.5 → -5 (double rounding) → 95.
  //   channel 1: -120 · 12 = -1440, bias -6 → -1446 → -361.5 → -362 → -262, saturated to 0.
  const make = (biasScale = 0.125) => [
    makeTensor('uint8', [1, 2, 2, 1], [130, 126, 128, 140], { scale: 0.5, zeroPoint: 128 }),
    makeTensor('uint8', [2, 2, 2, 1], [124, 116, 200, 120, 0, 0, 0, 0], { scale: 0.25, zeroPoint: 120 }),
    makeTensor('int32', [2], [-34, -6], { scale: biasScale }),
  ];

  it('applies input and filter zero points, saturates to 0', () => {
    const out = makeTensor('uint8', [1, 1, 1, 2], undefined, { scale: 0.5, zeroPoint: 100 });
    expect(run(options({ padding: Padding.VALID }), make(), out)).toEqual([95, 0]);
  });

  it("keeps double rounding under rounding: 'single' (TFLite's uint8 conv goes through gemmlowp)", () => {
    const out = makeTensor('uint8', [1, 1, 1, 2], undefined, { scale: 0.5, zeroPoint: 100 });
    expect(run(options({ padding: Padding.VALID }), make(), out, 'single')).toEqual([95, 0]);
  });

  it('refuses a bias scale far from input scale × filter scale', () => {
    // |0.125 - 0.2| / 0.5 = 0.15 > 0.02.
    const out = makeTensor('uint8', [1, 1, 1, 2], undefined, { scale: 0.5, zeroPoint: 100 });
    expect(() => run(options({ padding: Padding.VALID }), make(0.2), out)).toThrow(/bias scale 0.2/);
  });

  it('saturates to 255', () => {
    // (228 - 128) · (228 - 128) = 10000 → 255.
    const inputT = makeTensor('uint8', [1, 1, 1, 1], [228], { scale: 1, zeroPoint: 128 });
    const filter = makeTensor('uint8', [1, 1, 1, 1], [228], { scale: 1, zeroPoint: 128 });
    const out = makeTensor('uint8', [1, 1, 1, 1], undefined, { scale: 1, zeroPoint: 128 });
    expect(run(options(), [inputT, filter], out)).toEqual([255]);
  });
});

describe('CONV_2D float32', () => {
  it('adds the bias and clamps with the fused activation', () => {
    // Filter 0: 0.5·1 + 1·(-2) + 2·3 + (-4)·0.5 = 2.5, + bias 4 = 6.5 → RELU6 → 6.
    // Filter 1: -(1 - 2 + 3 + 0.5) = -2.5 → 0.
    const inputT = makeTensor('float32', [1, 2, 2, 1], [1, -2, 3, 0.5]);
    const filter = makeTensor('float32', [2, 2, 2, 1], [0.5, 1, 2, -4, -1, -1, -1, -1]);
    const bias = makeTensor('float32', [2], [4, 0]);
    const out = makeTensor('float32', [1, 1, 1, 2]);
    expect(run(options({ padding: Padding.VALID, activation: RELU6 }), [inputT, filter, bias], out)).toEqual([6, 0]);
  });

  it('accumulates in float32: 2^24 + 1 + 1 stays 2^24', () => {
    const inputT = makeTensor('float32', [1, 1, 1, 3], [16777216, 1, 1]);
    const filter = makeTensor('float32', [1, 1, 1, 3], [1, 1, 1]);
    const out = makeTensor('float32', [1, 1, 1, 1]);
    expect(run(options(), [inputT, filter], out)).toEqual([16777216]);
  });
});

describe('CONV_2D prepare errors', () => {
  const inputT = () => makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(0), unit);
  const filter = () => makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(1), unit);

  it('checks the output shape', () => {
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, unit);
    expect(() => run(options({ padding: Padding.VALID }), [inputT(), filter()], out)).toThrow(
      /output shape is \[1,3,3,1\], expected \[1,1,1,1\]/,
    );
  });

  it('refuses int8 filter zero points other than 0', () => {
    const f = makeTensor('int8', [1, 3, 3, 1], new Array(9).fill(1), { scale: 1, zeroPoint: 3 });
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, unit);
    expect(() => run(options(), [inputT(), f], out)).toThrow(/int8 filter zero points must be 0, are \[3\]/);
  });

  it('refuses a zero stride', () => {
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, unit);
    expect(() => run(options({ strideH: 0 }), [inputT(), filter()], out)).toThrow(/strides must be positive/);
  });

  it('refuses a bias of the wrong length', () => {
    const out = makeTensor('int8', [1, 3, 3, 1], undefined, unit);
    const bias = makeTensor('int32', [2], [0, 0]);
    expect(() => run(options(), [inputT(), filter(), bias], out)).toThrow(/bias has 2 elements, output has 1 channels/);
  });

  it('refuses a hybrid float input with int8 filter', () => {
    const f32 = makeTensor('float32', [1, 3, 3, 1], new Array(9).fill(0));
    const out = makeTensor('float32', [1, 3, 3, 1]);
    expect(() => run(options(), [f32, filter()], out)).toThrow(/filter is int8, input is float32/);
  });
});

import { describe, expect, it } from 'vitest';
import { AveragePool2D, MaxPool2D } from '../../ops/pooling.js';
import { Padding, type Pool2DOptions } from '../../schema/tflite.js';
import { FusedActivation } from '../../src/quant.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

function options(o: Partial<Pool2DOptions>): Pool2DOptions {
  return { padding: Padding.VALID, strideH: 1, strideW: 1, filterHeight: 1, filterWidth: 1, activation: FusedActivation.NONE, ...o };
}

const q = { scale: 0.5, zeroPoint: 0 };

describe('AVERAGE_POOL_2D', () => {
  it('int8 SAME 3x3: each window divides by its count of in-bounds taps, rounding half away from zero', () => {
    // SAME, 3x3 input, 3x3 filter, stride 1: padding 1 all round. Corner windows hold 4 taps, edges 6, the centre 9.
    //   [1 2 3]   (0,0): 1+2+4+5 = 12/4 = 3      (0,1): 1+..+6 = 21/6 = 3.5 -> 4   (0,2): 2+3+5+6 = 16/4 = 4
    //   [4 5 6]   (1,0): 27/6 = 4.5 -> 5         (1,1): 45/9 = 5                   (1,2): 33/6 = 5.5 -> 6
    //   [7 8 9]   (2,0): 24/4 = 6                (2,1): 39/6 = 6.5 -> 7            (2,2): 28/4 = 7
    const opts = options({ padding: Padding.SAME, filterHeight: 3, filterWidth: 3 });
    const x = makeTensor('int8', [1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9], q);
    const y = makeTensor('int8', [1, 3, 3, 1], undefined, q);
    runKernel(AveragePool2D, opts, [x], [y]);
    expect(values(y)).toEqual([3, 4, 4, 5, 5, 6, 6, 7, 7]);

    // Negated, the ties round away from zero too: -3.5 -> -4, -4.5 -> -5 (TFLM's (acc - count/2) / count).
    const xn = makeTensor('int8', [1, 3, 3, 1], [-1, -2, -3, -4, -5, -6, -7, -8, -9], q);
    runKernel(AveragePool2D, opts, [xn], [y]);
    expect(values(y)).toEqual([-3, -4, -4, -5, -5, -6, -6, -7, -7]);
  });

  it('int8 stride 2 on an odd size: SAME puts the extra padding after, VALID drops the last column', () => {
    // x[r][c] = 10r + c on 5x5, filter 2x2, stride 2. SAME: out 3, total padding 1, so 0 before and 1 after:
    // windows cover rows/cols [0,2), [2,4), [4,5).
    //   (0,0) (0+1+10+11)/4 = 5.5 -> 6   (0,1) (2+3+12+13)/4 = 7.5 -> 8     (0,2) (4+14)/2 = 9
    //   (1,0) 102/4 = 25.5 -> 26         (1,1) 110/4 = 27.5 -> 28           (1,2) (24+34)/2 = 29
    //   (2,0) (40+41)/2 = 40.5 -> 41     (2,1) (42+43)/2 = 42.5 -> 43       (2,2) 44/1 = 44
    const x = makeTensor('int8', [1, 5, 5, 1], Array.from({ length: 25 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5)), q);
    const same = makeTensor('int8', [1, 3, 3, 1], undefined, q);
    runKernel(AveragePool2D, options({ padding: Padding.SAME, filterHeight: 2, filterWidth: 2, strideH: 2, strideW: 2 }), [x], [same]);
    expect(values(same)).toEqual([6, 8, 9, 26, 28, 29, 41, 43, 44]);

    // VALID: out = (5 + 2 - 2) / 2 = 2.
    const valid = makeTensor('int8', [1, 2, 2, 1], undefined, q);
    runKernel(AveragePool2D, options({ filterHeight: 2, filterWidth: 2, strideH: 2, strideW: 2 }), [x], [valid]);
    expect(values(valid)).toEqual([6, 8, 26, 28]);
  });

  it('keeps channels apart and clamps to the fused activation', () => {
    // 2x2 input, 2 channels, one 2x2 window. Channel 0: (-20-16-12-8)/4 = -14; channel 1: (10+20+30+41)/4 = 25.25 -> 25.
    // RELU6 with scale 0.5, zero point -10: [-10 + 0/0.5, -10 + 6/0.5] = [-10, 2].
    const quant = { scale: 0.5, zeroPoint: -10 };
    const x = makeTensor('int8', [1, 2, 2, 2], [-20, 10, -16, 20, -12, 30, -8, 41], quant);
    const y = makeTensor('int8', [1, 1, 1, 2], undefined, quant);
    runKernel(AveragePool2D, options({ filterHeight: 2, filterWidth: 2 }), [x], [y]);
    expect(values(y)).toEqual([-14, 25]);
    runKernel(AveragePool2D, options({ filterHeight: 2, filterWidth: 2, activation: FusedActivation.RELU6 }), [x], [y]);
    expect(values(y)).toEqual([-10, 2]);
  });

  it('uint8 rounds half up (TFLite: (sum + count/2) / count)', () => {
    // 1x4 row, 1x2 windows at stride 2: (1+2)/2 = 1.5 -> 2, (0+255)/2 = 127.5 -> 128.
    const quant = { scale: 1, zeroPoint: 128 };
    const x = makeTensor('uint8', [1, 1, 4, 1], [1, 2, 0, 255], quant);
    const y = makeTensor('uint8', [1, 1, 2, 1], undefined, quant);
    runKernel(AveragePool2D, options({ filterWidth: 2, strideW: 2 }), [x], [y]);
    expect(values(y)).toEqual([2, 128]);
  });

  it('float32 divides in float and clamps to the activation', () => {
    // (1 + 2 + 3 + 10) / 4 = 4; RELU_N1_TO_1 clamps it to 1.
    const x = makeTensor('float32', [1, 2, 2, 1], [1, 2, 3, 10]);
    const y = makeTensor('float32', [1, 1, 1, 1]);
    runKernel(AveragePool2D, options({ filterHeight: 2, filterWidth: 2 }), [x], [y]);
    expect(values(y)).toEqual([4]);
    runKernel(AveragePool2D, options({ filterHeight: 2, filterWidth: 2, activation: FusedActivation.RELU_N1_TO_1 }), [x], [y]);
    expect(values(y)).toEqual([1]);
    // A 1x3 window over [0, 0, 1]: 1 / 3, rounded to float32.
    const x3 = makeTensor('float32', [1, 1, 3, 1], [0, 0, 1]);
    const y3 = makeTensor('float32', [1, 1, 1, 1]);
    runKernel(AveragePool2D, options({ filterWidth: 3 }), [x3], [y3]);
    expect(values(y3)).toEqual([Math.fround(1 / 3)]);
  });

  it('rejects int8 pooling whose output quantization differs from the input', () => {
    const x = makeTensor('int8', [1, 2, 2, 1], [0, 0, 0, 0], { scale: 0.5, zeroPoint: 0 });
    const y = makeTensor('int8', [1, 1, 1, 1], undefined, { scale: 0.25, zeroPoint: 0 });
    expect(() => runKernel(AveragePool2D, options({ filterHeight: 2, filterWidth: 2 }), [x], [y])).toThrow(
      /quantization must match: scale 0.5 vs 0.25/,
    );
  });

  it('rejects an output shape other than the computed one, and zero strides', () => {
    const x = makeTensor('int8', [1, 5, 5, 1], new Array(25).fill(0), q);
    const y = makeTensor('int8', [1, 2, 2, 1], undefined, q);
    const same = options({ padding: Padding.SAME, filterHeight: 2, filterWidth: 2, strideH: 2, strideW: 2 });
    expect(() => runKernel(AveragePool2D, same, [x], [y])).toThrow(/output is int8\[1,2,2,1\], expected \[1,3,3,1\]/);
    expect(() => runKernel(MaxPool2D, { ...same, strideW: 0 }, [x], [y])).toThrow(/strides must be positive/);
  });
});

describe('MAX_POOL_2D', () => {
  it('int8 SAME with stride 2: the max of the in-bounds taps, padding never wins', () => {
    // All values negative, so a padded zero would win if padding were read. 3x3 input, 2x2 filter, stride 2,
    // SAME: out 2, total padding 1 after. Windows: rows/cols [0,2), [2,3).
    //   [-9 -8 -7]
    //   [-6 -5 -4]  ->  [max(-9,-8,-6,-5), max(-7,-4)]     = [-5, -4]
    //   [-3 -2 -1]      [max(-3,-2),       max(-1)]        = [-2, -1]
    const x = makeTensor('int8', [1, 3, 3, 1], [-9, -8, -7, -6, -5, -4, -3, -2, -1], q);
    const y = makeTensor('int8', [1, 2, 2, 1], undefined, q);
    runKernel(MaxPool2D, options({ padding: Padding.SAME, filterHeight: 2, filterWidth: 2, strideH: 2, strideW: 2 }), [x], [y]);
    expect(values(y)).toEqual([-5, -4, -2, -1]);
  });

  it('int8 with RELU: the max is clamped below at the quantized zero', () => {
    // scale 0.5, zero point -10: RELU's floor is -10. Channel 0's max is -11 -> -10; channel 1's is 7.
    const quant = { scale: 0.5, zeroPoint: -10 };
    const x = makeTensor('int8', [1, 2, 2, 2], [-20, -5, -15, 3, -12, -128, -11, 7], quant);
    const y = makeTensor('int8', [1, 1, 1, 2], undefined, quant);
    runKernel(MaxPool2D, options({ filterHeight: 2, filterWidth: 2, activation: FusedActivation.RELU }), [x], [y]);
    expect(values(y)).toEqual([-10, 7]);
  });

  it('uint8 and float32', () => {
    const xu = makeTensor('uint8', [1, 1, 4, 1], [0, 255, 3, 2], { scale: 1, zeroPoint: 0 });
    const yu = makeTensor('uint8', [1, 1, 2, 1], undefined, { scale: 1, zeroPoint: 0 });
    runKernel(MaxPool2D, options({ filterWidth: 2, strideW: 2 }), [xu], [yu]);
    expect(values(yu)).toEqual([255, 3]);

    const xf = makeTensor('float32', [1, 1, 4, 1], [-3.5, -7, 8.25, 1]);
    const yf = makeTensor('float32', [1, 1, 2, 1]);
    runKernel(MaxPool2D, options({ filterWidth: 2, strideW: 2, activation: FusedActivation.RELU6 }), [xf], [yf]);
    expect(values(yf)).toEqual([0, 6]);
  });
});

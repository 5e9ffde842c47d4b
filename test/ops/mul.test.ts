import { describe, expect, it } from 'vitest';
import { Mul } from '../../ops/mul.js';
import { FusedActivation } from '../../src/quant.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const none = { activation: FusedActivation.NONE };

describe('MUL int8 (TFLM)', () => {
  it('multiplies by a rank-0 constant, rounding twice as MultiplyByQuantizedMultiplier does', () => {
    // 0.5 * 0.25 / 0.5 = 0.25: multiplier 2^30, shift -1. out = RDBPOT(srdhm(x, 2^30), 1) with
    // srdhm(x, 2^30) = floor((x + 1) / 2): x = 1 -> 1 -> 0.5 -> 1 (exactly 0.25, yet 1); x = -1 -> 0 -> 0;
    // x = 3 -> 2 -> 1; x = 85 -> 43 -> 21.5 -> 22 (exactly 21.25).
    const a = makeTensor('int8', [1, 2, 2, 1], [1, -1, 3, 85], { scale: 0.5, zeroPoint: 0 });
    const y = makeTensor('int8', [1, 2, 2, 1], undefined, { scale: 0.5, zeroPoint: 0 });
    runKernel(Mul, none, [a, makeTensor('int8', [], [1], { scale: 0.25, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([1, 0, 1, 22]);
  });

  it('saturates, and takes zero points off both inputs', () => {
    // b = 127 with zero point -1 is 128: out = round(x * 128 / 4) = 32 x for x = a - zp_a.
    const a = makeTensor('int8', [4], [5, 4, 1, -4], { scale: 0.5, zeroPoint: 1 });
    const y = makeTensor('int8', [4], undefined, { scale: 0.5, zeroPoint: 0 });
    runKernel(Mul, none, [a, makeTensor('int8', [1], [127], { scale: 0.25, zeroPoint: -1 })], [y]);
    expect(values(y)).toEqual([127, 96, 0, -128]); // 128 -> 127, 96, 0, -160 -> -128
  });

  it('takes a multiplier above 1 as a left shift, and clamps to a fused RELU', () => {
    // 0.5 * 0.5 / 0.125 = 2: multiplier 2^30, shift 2, i.e. srdhm(4x, 2^30) = 2x exactly. RELU at zero point -3.
    const q = { scale: 0.5, zeroPoint: 0 };
    const y = makeTensor('int8', [4], undefined, { scale: 0.125, zeroPoint: -3 });
    runKernel(Mul, { activation: FusedActivation.RELU }, [makeTensor('int8', [4], [3, -3, 2, 10], q), makeTensor('int8', [4], [2, 2, -1, 7], q)], [y]);
    expect(values(y)).toEqual([9, -3, -3, 127]); // 12-3, -12-3 -> -3, -4-3 -> -3, 140-3 -> 127
  });

  it('gives the output zero point for a zero output scale, as TFLM on x86', () => {
    const q = { scale: 0.5, zeroPoint: 0 };
    const y = makeTensor('int8', [3], undefined, { scale: 0, zeroPoint: 5 });
    runKernel(Mul, none, [makeTensor('int8', [3], [1, -100, 127], q), makeTensor('int8', [3], [3, 50, 127], q)], [y]);
    expect(values(y)).toEqual([5, 5, 5]);
  });
});

describe('MUL uint8 (TFLite)', () => {
  it('forms its multiplier from float32 products and quotients', () => {
    // int8 (TFLM, double): 0.1f * 0.2f / 0.3f = 0.066666666 -> Q31 1145324601, shift -3.
    // uint8 (TFLite): the float32 quotient 0.06666667 = 0x3D888889, mantissa 0x888889 << 7 = 1145324672.
    const tensors = (dtype: 'int8' | 'uint8') =>
      [
        [makeTensor(dtype, [1], [0], { scale: 0.1, zeroPoint: 0 }), makeTensor(dtype, [1], [0], { scale: 0.2, zeroPoint: 0 })],
        [makeTensor(dtype, [1], undefined, { scale: 0.3, zeroPoint: 0 })],
      ] as const;
    const [i8in, i8out] = tensors('int8');
    expect([runKernel(Mul, none, [...i8in], [...i8out]).multiplier]).toEqual([1145324601]);
    const [u8in, u8out] = tensors('uint8');
    const data = runKernel(Mul, none, [...u8in], [...u8out]);
    expect([data.multiplier, data.shift]).toEqual([0x888889 << 7, -3]);
  });

  it('multiplies around zero point 128', () => {
    // 0.5 * 0.5 / 0.25 = 1 (2^30, shift 1): out = (a - 128)(b - 128) + 10.
    const q = { scale: 0.5, zeroPoint: 128 };
    const y = makeTensor('uint8', [3], undefined, { scale: 0.25, zeroPoint: 10 });
    runKernel(Mul, none, [makeTensor('uint8', [3], [130, 126, 255], q), makeTensor('uint8', [1], [132], q)], [y]);
    expect(values(y)).toEqual([18, 2, 255]); // 8, -8, 508 -> 255
  });
});

describe('MUL float32', () => {
  it('broadcasts [2,1] * [1,3] and applies RELU_N1_TO_1', () => {
    const y = makeTensor('float32', [2, 3]);
    const a = makeTensor('float32', [2, 1], [1, -2]);
    const b = makeTensor('float32', [1, 3], [3, 0.5, -4]);
    runKernel(Mul, none, [a, b], [y]);
    expect(values(y)).toEqual([3, 0.5, -4, -6, -1, 8]);
    runKernel(Mul, { activation: FusedActivation.RELU_N1_TO_1 }, [a, b], [y]);
    expect(values(y)).toEqual([1, 0.5, -1, -1, -1, 1]);
  });
});

describe('MUL prepare', () => {
  it('checks types and the broadcast shape', () => {
    const q = { scale: 1, zeroPoint: 0 };
    expect(() => runKernel(Mul, none, [makeTensor('int8', [2], [1, 2], q), makeTensor('int8', [3], [1, 2, 3], q)], [makeTensor('int8', [2], undefined, q)])).toThrow(
      /int8\[2\] and int8\[3\] do not broadcast/,
    );
    expect(() => runKernel(Mul, none, [makeTensor('int8', [2], [1, 2], q), makeTensor('int8', [2], [1, 2], q)], [makeTensor('uint8', [2], undefined, q)])).toThrow(
      /inputs are int8 and int8, output is uint8/,
    );
    expect(() => runKernel(Mul, none, [makeTensor('int8', [2], [1, 2]), makeTensor('int8', [2], [1, 2], q)], [makeTensor('int8', [2], undefined, q)])).toThrow(
      /input 1 is int8 but has no quantization parameters/,
    );
  });
});

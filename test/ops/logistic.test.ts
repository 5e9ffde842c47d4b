import { describe, expect, it } from 'vitest';
import { Logistic } from '../../ops/logistic.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const out8 = { scale: 1 / 256, zeroPoint: -128 };

describe('LOGISTIC int8 (TFLM fixed point)', () => {
  it('rescales to Q4.27, saturates beyond the range radius, and rounds to 1/256', () => {
    // Input scale 1/16: 2^-4 * 2^27 = 2^23 = 0.5 * 2^24, so multiplier 2^30, shift 24, and the range radius is
    // floor(15 * 2^27 / 2^24) = 120 (|x| >= 120, i.e. 7.5, saturates). Inside, out = round(256 sigmoid(x/16)) - 128
    // (the fixed-point logistic is good to 1e-7, far below the 1/256 step):
    //   x = 0: exactly 1/2 -> 128 - 128 = 0;  x = ±16 (±1): 187.15 -> 59, 68.85 -> -59;
    //   x = ±40 (±2.5): 236.58 -> 109, 19.42 -> -109;  x = 119 (7.44): 255.85 -> 256 -> 127;  x = -119: 0.15 -> -128.
    const x = makeTensor('int8', [11], [0, 16, -16, 40, -40, 119, -119, 120, -120, 127, -128], { scale: 1 / 16, zeroPoint: 0 });
    const y = makeTensor('int8', [11], undefined, out8);
    const data = runKernel(Logistic, undefined, [x], [y]);
    expect([data.inputMultiplier, data.inputLeftShift, data.inputRangeRadius]).toEqual([1 << 30, 24, 120]);
    expect(values(y)).toEqual([0, 59, -59, 109, -109, 127, -128, 127, -128, 127, -128]);
  });

  it('centres on the input zero point', () => {
    const x = makeTensor('int8', [3], [10, 26, -6], { scale: 1 / 16, zeroPoint: 10 });
    const y = makeTensor('int8', [3], undefined, out8);
    runKernel(Logistic, undefined, [x], [y]);
    expect(values(y)).toEqual([0, 59, -59]);
  });

  it('requires output zero point -128', () => {
    const x = makeTensor('int8', [1], [0], { scale: 1 / 16, zeroPoint: 0 });
    expect(() => runKernel(Logistic, undefined, [x], [makeTensor('int8', [1], undefined, { scale: 1 / 256, zeroPoint: 0 })])).toThrow(
      /output zero point must be -128, is 0/,
    );
  });

  it('does not crash on a zero input scale: every input is 0, output 1/2', () => {
    const y = makeTensor('int8', [2], undefined, out8);
    runKernel(Logistic, undefined, [makeTensor('int8', [2], [-128, 127], { scale: 0, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([0, 0]);
  });
});

describe('LOGISTIC uint8 (TFLite float32 table)', () => {
  it('looks up round(sigmoid(dequantized) * 256) + zero point, clamped', () => {
    // Input scale 1/16, zero point 128: q = 128 -> 0.5 -> 128; 144 (1.0) -> 187.15 -> 187; 112 (-1) -> 68.85 -> 69;
    // 0 (-8) -> 0.09 -> 0; 255 (7.94) -> 255.91 -> 256 -> 255.
    const x = makeTensor('uint8', [5], [128, 144, 112, 0, 255], { scale: 1 / 16, zeroPoint: 128 });
    const y = makeTensor('uint8', [5], undefined, { scale: 1 / 256, zeroPoint: 0 });
    runKernel(Logistic, undefined, [x], [y]);
    expect(values(y)).toEqual([128, 187, 69, 0, 255]);
  });

  it('requires output scale 1/256', () => {
    const x = makeTensor('uint8', [1], [0], { scale: 1 / 16, zeroPoint: 128 });
    expect(() => runKernel(Logistic, undefined, [x], [makeTensor('uint8', [1], undefined, { scale: 1 / 255, zeroPoint: 0 })])).toThrow(
      /output scale must be 1\/256/,
    );
  });
});

describe('LOGISTIC float32 (TFLM reference)', () => {
  it('is 1 above 16.619, exp(x) below -9, 1 / (1 + exp(-x)) between', () => {
    const y = makeTensor('float32', [6]);
    runKernel(Logistic, undefined, [makeTensor('float32', [6], [0, 1, -1, 20, -10, -9])], [y]);
    const [zero, one, minusOne, twenty, minusTen, minusNine] = values(y);
    expect(zero).toBe(0.5);
    expect(one).toBeCloseTo(0.7310586, 7);
    expect(minusOne).toBeCloseTo(0.2689414, 7);
    expect(twenty).toBe(1);
    // exp(-10) = 4.53999e-5 is not sigmoid(-10) = 4.53979e-5: below the cutoff TFLM returns exp itself.
    expect(minusTen).toBe(Math.fround(Math.exp(-10)));
    expect(minusNine).toBeCloseTo(1 / (1 + Math.exp(9)), 9);
  });
});

describe('LOGISTIC prepare', () => {
  it('checks types and shapes', () => {
    const q = { scale: 1 / 16, zeroPoint: 0 };
    expect(() => runKernel(Logistic, undefined, [makeTensor('int8', [2], [0, 0], q)], [makeTensor('uint8', [2], undefined, out8)])).toThrow(
      /output is uint8, input is int8/,
    );
    expect(() => runKernel(Logistic, undefined, [makeTensor('int8', [2], [0, 0], q)], [makeTensor('int8', [3], undefined, out8)])).toThrow(
      /output is int8\[3\], input is int8\[2\]/,
    );
    expect(() => runKernel(Logistic, undefined, [makeTensor('int16', [2], [0, 0], q)], [makeTensor('int16', [2], undefined, q)])).toThrow(
      /input is int16; expected int8, uint8 or float32/,
    );
  });
});

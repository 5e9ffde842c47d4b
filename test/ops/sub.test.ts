import { describe, expect, it } from 'vitest';
import { Sub } from '../../ops/sub.js';
import { FusedActivation } from '../../src/quant.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const none = { activation: FusedActivation.NONE };

describe('SUB int8 (TFLM)', () => {
  it('subtracts the second input, broadcast [2,2] - [2], and saturates', () => {
    // Scales 1, zero points 0: out = a - b exactly (see add.test.ts for the arithmetic).
    const q = { scale: 1, zeroPoint: 0 };
    const y = makeTensor('int8', [2, 2], undefined, q);
    runKernel(Sub, none, [makeTensor('int8', [2, 2], [-128, 127, 0, 5], q), makeTensor('int8', [2], [100, -100], q)], [y]);
    expect(values(y)).toEqual([-128, 127, -100, 105]); // -228 and 227 saturate
  });

  it('rounds halves away from zero on both sides, with zero points', () => {
    // Input scales 0.5, output 1: out = round((v1 - v2) / 2) + zp_out with v = q - zp.
    // v1 = [3, 0, 5, -5] (a - 1), v2 = [0, 3, 0, 0] (b + 2): 1.5 -> 2, -1.5 -> -2, 2.5 -> 3, -2.5 -> -3; +10.
    const y = makeTensor('int8', [4], undefined, { scale: 1, zeroPoint: 10 });
    runKernel(
      Sub,
      none,
      [makeTensor('int8', [4], [4, 1, 6, -4], { scale: 0.5, zeroPoint: 1 }), makeTensor('int8', [4], [-2, 1, -2, -2], { scale: 0.5, zeroPoint: -2 })],
      [y],
    );
    expect(values(y)).toEqual([12, 8, 13, 7]);
  });

  it('computes its multipliers in float32 (sub_common.cc), unlike ADD', () => {
    // 0.1f / (2 * 0.3f) in float32 is 0.16666666 = 0x3E2AAAAA: its 24-bit mantissa 0xAAAAAA, times 2^7, is
    // the Q31 multiplier 1431655680 (in double it would be 1431655730).
    const data = runKernel(
      Sub,
      none,
      [makeTensor('int8', [1], [0], { scale: 0.1, zeroPoint: 0 }), makeTensor('int8', [1], [0], { scale: 0.3, zeroPoint: 0 })],
      [makeTensor('int8', [1], undefined, { scale: 1, zeroPoint: 0 })],
    );
    expect([data.input1Multiplier, data.input1Shift]).toEqual([0xaaaaaa << 7, -2]);
  });
});

describe('SUB uint8 (TFLite)', () => {
  it('computes its multipliers in double (sub.cc) and subtracts around the zero point', () => {
    const data = runKernel(
      Sub,
      none,
      [makeTensor('uint8', [1], [0], { scale: 0.1, zeroPoint: 0 }), makeTensor('uint8', [1], [0], { scale: 0.3, zeroPoint: 0 })],
      [makeTensor('uint8', [1], undefined, { scale: 1, zeroPoint: 0 })],
    );
    expect([data.input1Multiplier, data.input1Shift]).toEqual([1431655730, -2]);

    const q = { scale: 1, zeroPoint: 128 };
    const y = makeTensor('uint8', [3], undefined, q);
    runKernel(Sub, none, [makeTensor('uint8', [3], [200, 0, 255], q), makeTensor('uint8', [], [100], q)], [y]);
    // (a - 128) - (100 - 128) + 128: 100 + 128, -100 + 128, 155 + 128 = 283 -> 255.
    expect(values(y)).toEqual([228, 28, 255]);
  });
});

describe('SUB float32', () => {
  it('subtracts a rank-0 operand and applies RELU_N1_TO_1', () => {
    const y = makeTensor('float32', [3]);
    runKernel(Sub, none, [makeTensor('float32', [3], [1, 2, 3]), makeTensor('float32', [], [0.5])], [y]);
    expect(values(y)).toEqual([0.5, 1.5, 2.5]);
    runKernel(Sub, { activation: FusedActivation.RELU_N1_TO_1 }, [makeTensor('float32', [], [0.5]), makeTensor('float32', [3], [-1, 1, 2])], [y]);
    expect(values(y)).toEqual([1, -0.5, -1]);
  });
});

describe('SUB prepare', () => {
  it('refuses a zero output scale and a wrong output shape', () => {
    const q = { scale: 1, zeroPoint: 0 };
    const a = makeTensor('int8', [2], [1, 2], q);
    expect(() => runKernel(Sub, none, [a, a], [makeTensor('int8', [2], undefined, { scale: 0, zeroPoint: 0 })])).toThrow(
      /output multiplier is Infinity; it must lie in \(0, 1\)/,
    );
    expect(() => runKernel(Sub, none, [a, a], [makeTensor('int8', [1, 2], undefined, q)])).toThrow(/broadcast to \[2\], output is int8\[1,2\]/);
  });
});

import { describe, expect, it } from 'vitest';
import { Add } from '../../ops/add.js';
import { FusedActivation } from '../../src/quant.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const none = { activation: FusedActivation.NONE };

describe('ADD int8 (TFLM)', () => {
  it('broadcasts [1,2,2,3] + [3] with zero points', () => {
    // Input scales 0.5, output scale 1: twice the max input scale is 1, so both input multipliers are 0.5
    // (2^30, shift 0) and the output one is 1 / 2^20 (2^30, shift -19). With v = q - zp:
    //   scaled = srdhm(v * 2^20, 2^30) = v * 2^19 exactly; out = RDBPOT(srdhm(S, 2^30), 19) = round((v1 + v2) / 2)
    // rounding half away from zero. v1 = a - 2, v2 = b + 4 = [14, -11, 34], zero point -1:
    //   row 0: (-22+14)/2 = -4, (-9-11)/2 = -10, (-2+34)/2 = 16           -> -5, -11, 15
    //   row 1: (3+14)/2 = 8.5 -> 9, (7-11)/2 = -2, (38+34)/2 = 36          -> 8, -3, 35
    //   row 2: 112/2 = 56, -113/2 = -56.5 -> -57, 35/2 = 17.5 -> 18       -> 55, -58, 17
    //   row 3: 73/2 = 36.5 -> 37, -74/2 = -37, 46/2 = 23                   -> 36, -38, 22
    const a = makeTensor('int8', [1, 2, 2, 3], [-20, -7, 0, 5, 9, 40, 100, -100, 3, 61, -61, 14], { scale: 0.5, zeroPoint: 2 });
    const b = makeTensor('int8', [3], [10, -15, 30], { scale: 0.5, zeroPoint: -4 });
    const y = makeTensor('int8', [1, 2, 2, 3], undefined, { scale: 1, zeroPoint: -1 });
    runKernel(Add, none, [a, b], [y]);
    expect(values(y)).toEqual([-5, -11, 15, 8, -3, 35, 55, -58, 17, 36, -38, 22]);
  });

  it('saturates at the type limits, with a [1,1,1,1] and a rank-0 operand', () => {
    // All scales 1: the output multiplier is 2 / 2^20 (2^30, shift -18) and the sum comes out exact.
    const q = { scale: 1, zeroPoint: 0 };
    const a = makeTensor('int8', [1, 2, 2, 1], [127, -128, 100, -100], q);
    const y = makeTensor('int8', [1, 2, 2, 1], undefined, q);
    runKernel(Add, none, [a, makeTensor('int8', [1, 1, 1, 1], [50], q)], [y]);
    expect(values(y)).toEqual([127, -78, 127, -50]); // 177 and 150 saturate
    runKernel(Add, none, [a, makeTensor('int8', [], [-50], q)], [y]);
    expect(values(y)).toEqual([77, -128, 50, -128]); // -178 and -150 saturate
  });

  it('clamps to a fused RELU6 on the output scale', () => {
    // Inputs at scale 1, output at 0.5: out = 2 (a + b). RELU6 on scale 0.5, zero point 0 is [0, 12].
    const q = { scale: 1, zeroPoint: 0 };
    const y = makeTensor('int8', [4], undefined, { scale: 0.5, zeroPoint: 0 });
    runKernel(
      Add,
      { activation: FusedActivation.RELU6 },
      [makeTensor('int8', [4], [1, 2, 3, -4], q), makeTensor('int8', [4], [2, 2, 4, 1], q)],
      [y],
    );
    expect(values(y)).toEqual([6, 8, 12, 0]); // 6, 8, 14 -> 12, -6 -> 0
  });

  it('computes its multipliers in double (add_common.cc)', () => {
    // 0.1f / (2 * 0.3f) in double is 0.1666666625, whose Q31 mantissa (x 2^33) is 1431655730.
    const a = makeTensor('int8', [1], [0], { scale: 0.1, zeroPoint: 0 });
    const b = makeTensor('int8', [1], [0], { scale: 0.3, zeroPoint: 0 });
    const data = runKernel(Add, none, [a, b], [makeTensor('int8', [1], undefined, { scale: 1, zeroPoint: 0 })]);
    expect([data.input1Multiplier, data.input1Shift]).toEqual([1431655730, -2]);
    expect([data.input2Multiplier, data.input2Shift]).toEqual([1 << 30, 0]); // exactly 0.5
  });
});

describe('ADD uint8 (TFLite)', () => {
  it('adds around zero point 128 and saturates at 0 and 255', () => {
    // Scales 1: out = (a - 128) + (b - 128) + 128.
    const q = { scale: 1, zeroPoint: 128 };
    const y = makeTensor('uint8', [4], undefined, q);
    runKernel(Add, none, [makeTensor('uint8', [4], [128, 255, 0, 200], q), makeTensor('uint8', [4], [128, 255, 0, 100], q)], [y]);
    expect(values(y)).toEqual([128, 255, 0, 172]); // 0, 254 -> 255, -256 -> 0, 44
  });
});

describe('ADD float32', () => {
  it('broadcasts [2,1,2] + [1,3,2]', () => {
    const a = makeTensor('float32', [2, 1, 2], [1, 2, 10, 20]);
    const b = makeTensor('float32', [1, 3, 2], [0.5, 0.25, -1, -2, 100, 200]);
    const y = makeTensor('float32', [2, 3, 2]);
    runKernel(Add, none, [a, b], [y]);
    expect(values(y)).toEqual([1.5, 2.25, 0, 0, 101, 202, 10.5, 20.25, 9, 18, 110, 220]);
  });

  it('applies RELU, and clamps an overflow at FLT_MAX as CalculateActivationRange does', () => {
    const y = makeTensor('float32', [3]);
    runKernel(Add, { activation: FusedActivation.RELU }, [makeTensor('float32', [3], [1, -2, 3e38]), makeTensor('float32', [], [-1.5])], [y]);
    expect(values(y)).toEqual([0, 0, Math.fround(3e38)]); // 1.5 is far below 3e38's float32 spacing
    const big = makeTensor('float32', [1]);
    runKernel(Add, none, [makeTensor('float32', [1], [3e38]), makeTensor('float32', [1], [3e38])], [big]);
    expect(values(big)).toEqual([3.4028234663852886e38]);
  });
});

describe('ADD prepare', () => {
  const q = { scale: 1, zeroPoint: 0 };

  it('checks the output shape against the broadcast one', () => {
    const a = makeTensor('int8', [1, 2, 2, 3], undefined, q);
    expect(() => runKernel(Add, none, [a, makeTensor('int8', [3], undefined, q)], [makeTensor('int8', [1, 2, 2, 4], undefined, q)])).toThrow(
      /broadcast to \[1,2,2,3\], output is int8\[1,2,2,4\]/,
    );
    expect(() => runKernel(Add, none, [a, makeTensor('int8', [2], undefined, q)], [a])).toThrow(/do not broadcast/);
  });

  it('refuses zero scales, where TFLM aborts, and mixed types', () => {
    const zero = { scale: 0, zeroPoint: 0 };
    expect(() =>
      runKernel(Add, none, [makeTensor('int8', [1], [1], zero), makeTensor('int8', [1], [1], zero)], [makeTensor('int8', [1], undefined, q)]),
    ).toThrow(/input 1 multiplier is NaN; it must lie in \(0, 1\)/);
    expect(() =>
      runKernel(Add, none, [makeTensor('int8', [1], [1], q), makeTensor('int8', [1], [1], q)], [makeTensor('int8', [1], undefined, zero)]),
    ).toThrow(/output multiplier is Infinity; it must lie in \(0, 1\)/);
    expect(() =>
      runKernel(Add, none, [makeTensor('int8', [1], [1], q), makeTensor('uint8', [1], [1], q)], [makeTensor('int8', [1], undefined, q)]),
    ).toThrow(/inputs are int8 and uint8, output is int8/);
    expect(() =>
      runKernel(Add, none, [makeTensor('int16', [1], [1], q), makeTensor('int16', [1], [1], q)], [makeTensor('int16', [1], undefined, q)]),
    ).toThrow(/output is int16; expected int8, uint8 or float32/);
  });

  it('refuses a fused activation it cannot apply', () => {
    const a = makeTensor('int8', [1], [1], q);
    expect(() => runKernel(Add, { activation: FusedActivation.TANH }, [a, a], [makeTensor('int8', [1], undefined, q)])).toThrow(/TANH/);
  });
});

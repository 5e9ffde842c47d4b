import { describe, expect, it } from 'vitest';
import { Mean } from '../../ops/mean.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const keep = { keepDims: true };
const drop = { keepDims: false };
const axes = (...a: number[]) => makeTensor('int32', [a.length], a);

describe('MEAN', () => {
  it('int8, different scales: one requantization with 1/count folded into the multiplier, double rounding', () => {
    // input scale 0.5, output scale 1: real multiplier 0.5 = 2^30 * 2^(0-31). Folding count 4 shifts it left by
    // floor(log2 4) = 2 and divides by 4: still 2^30, shift 0 - 2 = -2. Output = RDBP(SRDHM(d, 2^30), 2) + zp_out,
    // d = sum - 4 * zp_in, where SRDHM(d, 2^30) = floor((d + 1) / 2).
    //   ch0 d = 4:   floor(5/2) = 2,   2/4 = 0.5   -> 1       (real 4 * 0.5 / 4 = 0.5: tie away from zero)
    //   ch1 d = -4:  floor(-3/2) = -2, -2/4 = -0.5 -> -1      (real -0.5)
    //   ch2 d = 3:   floor(4/2) = 2,   2/4 = 0.5   -> 1       (real 0.375: the first rounding pushes it to a tie)
    //   ch3 d = -12: floor(-11/2) = -6, -6/4 = -1.5 -> -2     (real -1.5)
    // zp_in = 10 (values are 10 + deviation), zp_out = -5.
    const dev = [
      [1, -1, 1, -3],
      [1, -1, 1, -3],
      [1, -1, 1, -3],
      [1, -1, 0, -3],
    ];
    const x = makeTensor('int8', [1, 2, 2, 4], dev.flat().map((v) => v + 10), { scale: 0.5, zeroPoint: 10 });
    const y = makeTensor('int8', [1, 1, 1, 4], undefined, { scale: 1, zeroPoint: -5 });
    runKernel(Mean, keep, [x, axes(1, 2)], [y]);
    expect(values(y)).toEqual([1 - 5, -1 - 5, 1 - 5, -2 - 5]);
  });

  it('int8, count 3: the folded multiplier is truncated, floor(2^31 / 3)', () => {
    // Scales 1 and 1 (zero points differ, so this is QuantizedMeanOrSum): multiplier 2^30, shift 1. Folding 3
    // shifts by floor(log2 3) = 1: multiplier floor(2^31 / 3) = 715827882, shift 0. SRDHM(d, m) = floor((d*m + 2^30) / 2^31):
    //   d = 2:  floor(2505397588 / 2^31) = 1     d = 1:  floor(1789569706 / 2^31) = 0
    //   d = -1: floor(357913942 / 2^31) = 0      d = -2: floor(-357913940 / 2^31) = -1
    // plus zp_out 1.
    const x = makeTensor('int8', [4, 3], [1, 1, 0, 1, 0, 0, -1, 0, 0, -1, -1, 0], { scale: 1, zeroPoint: 0 });
    const y = makeTensor('int8', [4], undefined, { scale: 1, zeroPoint: 1 });
    runKernel(Mean, drop, [x, axes(1)], [y]);
    expect(values(y)).toEqual([2, 1, 1, 0]);
  });

  it('int8, same scale and zero point: TFLM divides the raw sum with truncation toward zero', () => {
    // reference_ops::Mean<int8_t, int32_t> (not the 4-D keep_dims global pool): 7/4 = 1.75 -> 1, -7/4 -> -1.
    const quant = { scale: 0.5, zeroPoint: 3 };
    const x = makeTensor('int8', [1, 2, 2, 2], [1, -1, 2, -2, 2, -2, 2, -2], quant);
    const y = makeTensor('int8', [1, 2], undefined, quant);
    runKernel(Mean, drop, [x, axes(1, 2)], [y]);
    expect(values(y)).toEqual([1, -1]);
  });

  it('int8 4-D global average (axes 1,2, keep_dims) requantizes even with equal scales, as TFLM', () => {
    // Sums minus zero point: 7 - 4*3 = -5 and -7 - 12 = -19. Multiplier 1 = 2^30 shift 1, with count 4 folded
    // in: (2^30 << 2) / 4 = 2^30, shift -1. -5: SRDHM = floor(-4*2^30 / 2^31) = -2, /2 -> -1, +3 = 2.
    // -19: SRDHM = floor(-18*2^30 / 2^31) = -9, /2 = -4.5 -> -5 (away from zero), +3 = -2.
    // (The truncating path above would give 1 and -1.)
    const quant = { scale: 0.5, zeroPoint: 3 };
    const x = makeTensor('int8', [1, 2, 2, 2], [1, -1, 2, -2, 2, -2, 2, -2], quant);
    const y = makeTensor('int8', [1, 1, 1, 2], undefined, quant);
    runKernel(Mean, keep, [x, axes(1, 2)], [y]);
    expect(values(y)).toEqual([2, -2]);
  });

  it('negative and repeated axes, without keep_dims', () => {
    // Axes -3 and 1 both mean dim 1 of a 4-D input; -2 is dim 2. [1,2,2,1] -> [1,1].
    // Same quantization: (5 + 6 + 7 + 9) / 4 = 6.75 -> 6.
    const quant = { scale: 1, zeroPoint: 0 };
    const x = makeTensor('int8', [1, 2, 2, 1], [5, 6, 7, 9], quant);
    const y = makeTensor('int8', [1, 1], undefined, quant);
    runKernel(Mean, drop, [x, axes(-3, 1, -2)], [y]);
    expect(values(y)).toEqual([6]);
  });

  it('float32 over the last axis', () => {
    const x = makeTensor('float32', [2, 3], [1, 2, 4, -1, 0, 0.5]);
    const y = makeTensor('float32', [2, 1]);
    runKernel(Mean, keep, [x, axes(-1)], [y]);
    expect(values(y)).toEqual([Math.fround(7 / 3), Math.fround(-0.5 / 3)]);
  });

  it('uint8 global average pool takes TFLite\'s optimized_ops::Mean path; other axes the integer path', () => {
    // Input scale 0.5, zero point 129; output scale 1, zero point 100; four values of 130 (real 0.5 each).
    // optimized_ops::Mean (4-D, axes {1,2}, keep_dims): bias = 100 - trunc(129 * 0.5 / 1 + 0.5) = 100 - 65 = 35,
    //   multiplier for 0.5 / (4 * 1) = 0.125: 2^30, shift -2. Sum 520: SRDHM = floor(521/2) = 260, 260/4 = 65.
    //   65 + 35 = 100: the rounding of the zero point's share lost the half.
    // QuantizedMeanOrSum (keep_dims false): d = 520 - 4 * 129 = 4, multiplier 2^30 shift -2 after folding:
    //   floor(5/2) = 2, 2/4 = 0.5 -> 1; 1 + 100 = 101.
    const quantIn = { scale: 0.5, zeroPoint: 129 };
    const quantOut = { scale: 1, zeroPoint: 100 };
    const x = makeTensor('uint8', [1, 2, 2, 1], [130, 130, 130, 130], quantIn);
    const global = makeTensor('uint8', [1, 1, 1, 1], undefined, quantOut);
    runKernel(Mean, keep, [x, axes(1, 2)], [global]);
    expect(values(global)).toEqual([100]);
    const flat = makeTensor('uint8', [1, 1], undefined, quantOut);
    runKernel(Mean, drop, [x, axes(1, 2)], [flat]);
    expect(values(flat)).toEqual([101]);
    // The same dims written as negative axes: TFLite compares the axes as written, so this is the integer path.
    const negative = makeTensor('uint8', [1, 1, 1, 1], undefined, quantOut);
    runKernel(Mean, keep, [x, axes(-3, -2)], [negative]);
    expect(values(negative)).toEqual([101]);
  });

  it('clamps to the type range, and a zero output scale gives the zero point without crashing', () => {
    // uint8 global path: in scale 1 zp 0, out scale 1 zp 200; mean 100 -> 300 -> 255.
    const x = makeTensor('uint8', [1, 1, 2, 1], [100, 100], { scale: 1, zeroPoint: 0 });
    const y = makeTensor('uint8', [1, 1, 1, 1], undefined, { scale: 1, zeroPoint: 200 });
    runKernel(Mean, keep, [x, axes(1, 2)], [y]);
    expect(values(y)).toEqual([255]);

    const xi = makeTensor('int8', [1, 2, 2, 1], [10, 20, 30, 40], { scale: 0.5, zeroPoint: 0 });
    const yi = makeTensor('int8', [1, 1, 1, 1], undefined, { scale: 0, zeroPoint: -7 });
    runKernel(Mean, keep, [xi, axes(1, 2)], [yi]);
    expect(values(yi)).toEqual([-7]);
  });

  it('resets its accumulators on every eval', () => {
    const quant = { scale: 1, zeroPoint: 0 };
    const x = makeTensor('int8', [1, 2, 2, 1], [4, 4, 4, 4], quant);
    const y = makeTensor('int8', [1, 1, 1, 1], undefined, quant);
    const node = { index: 0, op: 'MEAN', inputs: [x, axes(1, 2)], outputs: [y], options: keep };
    const data = Mean.prepare(node, { rounding: 'double' });
    Mean.eval(node, data);
    Mean.eval(node, data);
    expect(values(y)).toEqual([4]);
  });

  it('rejects bad axes and output shapes', () => {
    const quant = { scale: 1, zeroPoint: 0 };
    const x = makeTensor('int8', [1, 2, 2, 2], new Array(8).fill(0), quant);
    const y = makeTensor('int8', [1, 2], undefined, quant);
    expect(() => runKernel(Mean, drop, [x, axes(4)], [y])).toThrow(/axis 4 is out of range for a 4-D input/);
    expect(() => runKernel(Mean, keep, [x, axes(1, 2)], [y])).toThrow(/output is int8\[1,2\], expected \[1,1,1,2\]/);
    const dynamicAxes = makeTensor('int32', [2], undefined, undefined, false);
    expect(() => runKernel(Mean, keep, [x, dynamicAxes], [y])).toThrow(/axis tensor must be constant/);
  });
});

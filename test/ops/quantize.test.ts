import { describe, expect, it } from 'vitest';
import { Quantize } from '../../ops/quantize.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

describe('QUANTIZE float32 -> int8 / int16 (TFLM AffineQuantize)', () => {
  it('rounds x / scale half away from zero, adds the zero point and clamps', () => {
    // scale 0.5, zero point -1: 0 -> -1; 0.5 -> 1 -> 0; -0.5 -> -1 -> -2; 1.5 -> 2 -> 1; 2.6 -> 3 -> 2;
    // 200 -> 199 -> 127; -200 -> -201 -> -128.
    const x = makeTensor('float32', [7], [0, 0.25, -0.25, 0.75, 1.3, 100, -100]);
    const y = makeTensor('int8', [7], undefined, { scale: 0.5, zeroPoint: -1 });
    runKernel(Quantize, undefined, [x], [y]);
    expect(values(y)).toEqual([-1, 0, -2, 1, 2, 127, -128]);
  });

  it('to int16', () => {
    const y = makeTensor('int16', [4], undefined, { scale: 1 / 1024, zeroPoint: 0 });
    runKernel(Quantize, undefined, [makeTensor('float32', [4], [1, -1, 40, -40])], [y]);
    expect(values(y)).toEqual([1024, -1024, 32767, -32768]);
  });

  it('divides in float32 where TFLite divides uint8 in double', () => {
    // 0.25 / 0.1f: the float32 quotient is exactly 2.5 (-> 3), the double one 2.4999999627 (-> 2).
    const x = makeTensor('float32', [1], [0.25]);
    const y8 = makeTensor('int8', [1], undefined, { scale: 0.1, zeroPoint: 0 });
    runKernel(Quantize, undefined, [x], [y8]);
    expect(values(y8)).toEqual([3]);
    const yu8 = makeTensor('uint8', [1], undefined, { scale: 0.1, zeroPoint: 0 });
    runKernel(Quantize, undefined, [x], [yu8]);
    expect(values(yu8)).toEqual([2]);
  });

  it('to uint8 around zero point 128', () => {
    const y = makeTensor('uint8', [4], undefined, { scale: 0.5, zeroPoint: 128 });
    runKernel(Quantize, undefined, [makeTensor('float32', [4], [0, -64, 63.75, -1000])], [y]);
    expect(values(y)).toEqual([128, 0, 255, 0]); // 128, 0, 127.5 -> 128 + 128 = 256 -> 255, clamped
  });

  it('maps everything to the minimum for a zero scale, as the x86 cast of ±inf and NaN to INT32_MIN does', () => {
    const y = makeTensor('int8', [3], undefined, { scale: 0, zeroPoint: 0 });
    runKernel(Quantize, undefined, [makeTensor('float32', [3], [1, -1, 0])], [y]);
    expect(values(y)).toEqual([-128, -128, -128]);
  });
});

describe('QUANTIZE requantization (TFLM Requantize)', () => {
  it('int8 -> int8 with a new scale', () => {
    // 0.5 / 0.25 = 2 (2^30, shift 2, exact): out = 2 q + 10.
    const y = makeTensor('int8', [4], undefined, { scale: 0.25, zeroPoint: 10 });
    runKernel(Quantize, undefined, [makeTensor('int8', [4], [0, 60, -69, 5], { scale: 0.5, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([10, 127, -128, 20]); // 130 and -128 saturate
  });

  it('with equal scales only moves the zero point: int8 <-> uint8 by 128, int8 -> int8 clamped', () => {
    const toUint8 = makeTensor('uint8', [3], undefined, { scale: 0.5, zeroPoint: 0 });
    const data = runKernel(Quantize, undefined, [makeTensor('int8', [3], [-128, 0, 127], { scale: 0.5, zeroPoint: -128 })], [toUint8]);
    expect(data.sameScale).toBe(true);
    expect(values(toUint8)).toEqual([0, 128, 255]);

    const toInt8 = makeTensor('int8', [3], undefined, { scale: 0.5, zeroPoint: 0 });
    runKernel(Quantize, undefined, [makeTensor('uint8', [3], [0, 128, 255], { scale: 0.5, zeroPoint: 128 })], [toInt8]);
    expect(values(toInt8)).toEqual([-128, 0, 127]);

    const shifted = makeTensor('int8', [3], undefined, { scale: 0.5, zeroPoint: -5 });
    runKernel(Quantize, undefined, [makeTensor('int8', [3], [-128, 0, 127], { scale: 0.5, zeroPoint: 5 })], [shifted]);
    expect(values(shifted)).toEqual([-128, -10, 117]); // -138 saturates
  });

  it('rounds through MultiplyByQuantizedMultiplier, and widens int8 to int16', () => {
    // uint8 -> uint8, 0.3 / 0.6: multiplier 0.5 (2^30, shift 0): srdhm(x, 2^30) = floor((x + 1) / 2).
    // x = q - 100: 1 -> 1, -1 -> 0, 3 -> 2, -3 -> -1; + 50.
    const y = makeTensor('uint8', [4], undefined, { scale: Math.fround(0.3) * 2, zeroPoint: 50 });
    runKernel(Quantize, undefined, [makeTensor('uint8', [4], [101, 99, 103, 97], { scale: 0.3, zeroPoint: 100 })], [y]);
    expect(values(y)).toEqual([51, 50, 52, 49]);
    // int8 -> int16, 0.5 / (1/256) = 128 (2^30, shift 8): out = 128 q.
    const wide = makeTensor('int16', [2], undefined, { scale: 1 / 256, zeroPoint: 0 });
    runKernel(Quantize, undefined, [makeTensor('int8', [2], [127, -128], { scale: 0.5, zeroPoint: 0 })], [wide]);
    expect(values(wide)).toEqual([16256, -16384]);
  });
});

describe('QUANTIZE prepare', () => {
  it('refuses per-channel outputs, float outputs and unsupported pairs', () => {
    const x = makeTensor('float32', [2], [0, 0]);
    expect(() => runKernel(Quantize, undefined, [x], [makeTensor('int8', [2], undefined, { scale: [0.5, 0.25], zeroPoint: 0 })])).toThrow(
      /output has 2 scales/,
    );
    expect(() => runKernel(Quantize, undefined, [x], [makeTensor('float32', [2])])).toThrow(/output is float32; expected int8, uint8 or int16/);
    expect(() =>
      runKernel(Quantize, undefined, [makeTensor('int16', [2], [0, 0], { scale: 1, zeroPoint: 0 })], [makeTensor('uint8', [2], undefined, { scale: 1, zeroPoint: 0 })]),
    ).toThrow(/requantizing int16 to uint8 is not supported/);
    expect(() => runKernel(Quantize, undefined, [x], [makeTensor('int8', [3], undefined, { scale: 1, zeroPoint: 0 })])).toThrow(
      /output is int8\[3\], input is float32\[2\]/,
    );
  });
});

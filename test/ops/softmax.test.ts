import { describe, expect, it } from 'vitest';
import { Softmax } from '../../ops/softmax.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const beta1 = { beta: 1 };
const out8 = { scale: 1 / 256, zeroPoint: -128 };
const out16 = { scale: 1 / 65536, zeroPoint: -32768 };

describe('SOFTMAX int8 (TFLM fixed point)', () => {
  it('gives equal inputs equal shares: 1/4 is 64/256, 1/3 is 85.33/256', () => {
    // Four exps of 1 sum to 4 (2^21 in Q12.19): num_bits_over_unit 2, reciprocal 1/2^2, out = 2^31/4 / 2^25 = 64.
    const y = makeTensor('int8', [2, 4], undefined, out8);
    runKernel(Softmax, beta1, [makeTensor('int8', [2, 4], [3, 3, 3, 3, -128, -128, -128, -128], { scale: 0.1, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual(Array(8).fill(64 - 128));
    const y3 = makeTensor('int8', [1, 3], undefined, out8);
    runKernel(Softmax, beta1, [makeTensor('int8', [1, 3], [5, 5, 5], { scale: 0.1, zeroPoint: 0 })], [y3]);
    expect(values(y3)).toEqual([85 - 128, 85 - 128, 85 - 128]);
  });

  it('weights inputs by exp(beta * scale * difference)', () => {
    // scale ln(3)/10 and a difference of 10: exps 1 and 1/3, so 3/4 and 1/4 -> 192 and 64 of 256.
    const x = makeTensor('int8', [2], [10, 0], { scale: Math.log(3) / 10, zeroPoint: 0 });
    const y = makeTensor('int8', [2], undefined, out8);
    runKernel(Softmax, beta1, [x], [y]);
    expect(values(y)).toEqual([64, -64]);
    // beta 0.5 on scale ln(9)/10 is the same.
    runKernel(Softmax, { beta: 0.5 }, [makeTensor('int8', [2], [10, 0], { scale: Math.log(9) / 10, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([64, -64]);
  });

  it('drops differences below diff_min to the minimum and clamps a certain class at 127', () => {
    // Scale 1, beta 1: multiplier 2^26 = 2^30 with shift 27, so diff_min = -floor(31 * 2^26 / 2^27) = -15.
    // Row [0, -20, -100, 10]: differences -10 (kept), -30 and -110 (dropped), 0. exp(-10) = 4.5e-5 rounds to 0/256;
    // the max gets 0.99995 * 256 = 255.99 -> 256 -> 128, clamped to 127.
    const y = makeTensor('int8', [4], undefined, out8);
    const data = runKernel(Softmax, beta1, [makeTensor('int8', [4], [0, -20, -100, 10], { scale: 1, zeroPoint: 0 })], [y]);
    expect([data.inputMultiplier, data.inputLeftShift, data.diffMin]).toEqual([1 << 30, 27, -15]);
    expect(values(y)).toEqual([-128, -128, -128, 127]);
  });

  it('to int16: shares of 65536 from -32768, clamped at 32767', () => {
    const y = makeTensor('int16', [2, 2], undefined, out16);
    runKernel(Softmax, beta1, [makeTensor('int8', [2, 2], [7, 7, 10, -100], { scale: 1, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([0, 0, 32767, -32768]);
  });

  it('normalizes 256 equal classes, and throws where TFLM aborts on a sum too large', () => {
    // 256 exps of 1 sum to 2^27: exponent 8 + 23 = 31, each share 1/256 -> -127.
    const y = makeTensor('int8', [256], undefined, out8);
    runKernel(Softmax, beta1, [makeTensor('int8', [256], new Array(256).fill(0), { scale: 1, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual(new Array(256).fill(-127));
    // 512: 2^28 needs exponent 32, beyond TFLITE_CHECK(exponent <= 31).
    const x512 = makeTensor('int8', [512], new Array(512).fill(0), { scale: 1, zeroPoint: 0 });
    expect(() => runKernel(Softmax, beta1, [x512], [makeTensor('int8', [512], undefined, out8)])).toThrow(/too large to normalize/);
  });
});

describe('SOFTMAX uint8 (TFLite float table)', () => {
  it('rounds float32 probabilities with + 0.5f and ignores the output zero point', () => {
    // Scale 0.1: exps 1 and expf(-1) = 0.36787945; 256 / 1.36787951 = 187.151: 187.65 -> 187 and 69.35 -> 69.
    const x = makeTensor('uint8', [2], [200, 190], { scale: 0.1, zeroPoint: 0 });
    const y = makeTensor('uint8', [2], undefined, { scale: 1 / 256, zeroPoint: 0 });
    runKernel(Softmax, beta1, [x], [y]);
    expect(values(y)).toEqual([187, 69]);
    // QuantizeSoftmaxOutput<uint8_t> (off aarch64) never adds the zero point.
    const shifted = makeTensor('uint8', [2], undefined, { scale: 1 / 256, zeroPoint: 10 });
    runKernel(Softmax, beta1, [x], [shifted]);
    expect(values(shifted)).toEqual([187, 69]);
  });

  it('gives equal inputs equal shares, and a sure class 255', () => {
    const y = makeTensor('uint8', [2, 4], undefined, { scale: 1 / 256, zeroPoint: 0 });
    runKernel(Softmax, beta1, [makeTensor('uint8', [2, 4], [7, 7, 7, 7, 255, 0, 0, 0], { scale: 1, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([64, 64, 64, 64, 255, 0, 0, 0]); // 256 clamps to 255, exp(-255) is 0
  });
});

describe('SOFTMAX float32 (TFLM reference)', () => {
  it('is exp(beta (x - max)) / sum per row', () => {
    const y = makeTensor('float32', [2, 3]);
    runKernel(Softmax, beta1, [makeTensor('float32', [2, 3], [1, 2, 3, 5, 5, 5])], [y]);
    const v = values(y);
    [0.09003057, 0.24472847, 0.66524096].forEach((p, i) => expect(v[i]).toBeCloseTo(p, 7));
    expect(v.slice(3)).toEqual([Math.fround(1 / 3), Math.fround(1 / 3), Math.fround(1 / 3)]);
    const y2 = makeTensor('float32', [2]);
    runKernel(Softmax, { beta: 2 }, [makeTensor('float32', [2], [1, 2])], [y2]);
    expect(values(y2)[0]).toBeCloseTo(0.11920292, 7);
  });
});

describe('SOFTMAX prepare', () => {
  const x = makeTensor('int8', [2], [0, 0], { scale: 0.1, zeroPoint: 0 });

  it('requires TFLM output quantization', () => {
    expect(() => runKernel(Softmax, beta1, [x], [makeTensor('int8', [2], undefined, { scale: 1 / 255, zeroPoint: -128 })])).toThrow(
      /int8 output scale must be exactly 1\/256/,
    );
    expect(() => runKernel(Softmax, beta1, [x], [makeTensor('int8', [2], undefined, { scale: 1 / 256, zeroPoint: -127 })])).toThrow(
      /int8 output zero point must be -128, is -127/,
    );
    expect(() => runKernel(Softmax, beta1, [x], [makeTensor('int16', [2], undefined, { scale: 1 / 32768, zeroPoint: -32768 })])).toThrow(
      /int16 output scale must be 1\/65536/,
    );
  });

  it('refuses an input multiplier of 1 or less (including a zero scale), as TFLM aborts', () => {
    const tiny = makeTensor('int8', [2], [0, 0], { scale: 1e-9, zeroPoint: 0 });
    expect(() => runKernel(Softmax, beta1, [tiny], [makeTensor('int8', [2], undefined, out8)])).toThrow(/TFLM requires it to exceed 1/);
    const zero = makeTensor('int8', [2], [0, 0], { scale: 0, zeroPoint: 0 });
    expect(() => runKernel(Softmax, beta1, [zero], [makeTensor('int8', [2], undefined, out8)])).toThrow(/is 0; TFLM requires it to exceed 1/);
  });

  it('checks ranks and type pairs', () => {
    expect(() => runKernel(Softmax, beta1, [makeTensor('int8', [], [0], { scale: 1, zeroPoint: 0 })], [makeTensor('int8', [], undefined, out8)])).toThrow(
      /at least one dimension/,
    );
    const u = makeTensor('uint8', [2], [0, 0], { scale: 1, zeroPoint: 0 });
    expect(() => runKernel(Softmax, beta1, [u], [makeTensor('int8', [2], undefined, out8)])).toThrow(/a uint8 input needs a uint8 output/);
    expect(() => runKernel(Softmax, beta1, [x], [makeTensor('int8', [3], undefined, out8)])).toThrow(/output is int8\[3\], input is int8\[2\]/);
  });
});

import { describe, expect, it } from 'vitest';
import { Relu, Relu6 } from '../../ops/relu.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

describe('RELU int8 (TFLM ReluQuantized)', () => {
  it('requantizes to the output scale and clamps at the output zero point', () => {
    // Input scale 0.5, zero point -10; output 0.25, zero point 3: multiplier 2 (2^30, shift 2), exact here:
    // out = 3 + 2 (q + 10), clamped to [3, 127].
    const x = makeTensor('int8', [6], [-128, -10, -11, 0, 50, 100], { scale: 0.5, zeroPoint: -10 });
    const y = makeTensor('int8', [6], undefined, { scale: 0.25, zeroPoint: 3 });
    runKernel(Relu, undefined, [x], [y]);
    expect(values(y)).toEqual([3, 3, 3, 23, 123, 127]); // -233, 3, 1, 23, 123, 223
  });

  it('does not crash on a zero output scale', () => {
    // 0 / 0 quantizes the lower bound to INT32_MIN (x86), so it stays -128; the multiplier is 0: every output is
    // the zero point.
    const y = makeTensor('int8', [3], undefined, { scale: 0, zeroPoint: 0 });
    runKernel(Relu, undefined, [makeTensor('int8', [3], [-5, 0, 5], { scale: 0.5, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([0, 0, 0]);
  });
});

describe('RELU6 int8 (TFLM Relu6Quantized)', () => {
  it("clamps on the input's own scale to [zero point, quantized 6], ignoring the output's quantization", () => {
    // six = round(6 / 0.5) - 10 = 2; lower = -10. The output's scale and zero point play no part.
    const x = makeTensor('int8', [6], [-128, -10, -5, 2, 3, 127], { scale: 0.5, zeroPoint: -10 });
    const y = makeTensor('int8', [6], undefined, { scale: 0.25, zeroPoint: 3 });
    runKernel(Relu6, undefined, [x], [y]);
    expect(values(y)).toEqual([-10, -10, -5, 2, 2, 2]);
  });

  it('clamps a quantized 6 beyond the type to 127', () => {
    // round(6 / 0.01) + 0 = 600 -> 127.
    const y = makeTensor('int8', [3], undefined, { scale: 0.01, zeroPoint: 0 });
    runKernel(Relu6, undefined, [makeTensor('int8', [3], [-128, 50, 127], { scale: 0.01, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([0, 50, 127]);
  });
});

describe('RELU and RELU6 uint8 (TFLite QuantizedReluX)', () => {
  it('both requantize and clamp on the output scale', () => {
    // Input 0.5 / 128, output 0.25 / 100: out = 100 + 2 (q - 128) in [100, 255]; RELU6's top is 100 + 6 / 0.25 = 124.
    const x = makeTensor('uint8', [5], [0, 128, 127, 140, 200], { scale: 0.5, zeroPoint: 128 });
    const y = makeTensor('uint8', [5], undefined, { scale: 0.25, zeroPoint: 100 });
    runKernel(Relu, undefined, [x], [y]);
    expect(values(y)).toEqual([100, 100, 100, 124, 244]); // -156, 100, 98, 124, 244
    runKernel(Relu6, undefined, [x], [y]);
    expect(values(y)).toEqual([100, 100, 100, 124, 124]);
  });

  it('divides the scales in float32', () => {
    // 0.1f / 0.3f in float32 is 0.33333331 = 0x3EAAAAAA: mantissa 0xAAAAAA << 7 (TFLM's double would give 1431655730).
    const x = makeTensor('uint8', [1], [0], { scale: 0.1, zeroPoint: 0 });
    const data = runKernel(Relu, undefined, [x], [makeTensor('uint8', [1], undefined, { scale: 0.3, zeroPoint: 0 })]);
    expect([data.multiplier, data.shift]).toEqual([0xaaaaaa << 7, -1]);
    const x8 = makeTensor('int8', [1], [0], { scale: 0.1, zeroPoint: 0 });
    expect(runKernel(Relu, undefined, [x8], [makeTensor('int8', [1], undefined, { scale: 0.3, zeroPoint: 0 })]).multiplier).toBe(1431655730);
  });
});

describe('RELU and RELU6 float32', () => {
  it('clamp below at 0 (keeping -0 and NaN) and above at 6', () => {
    const x = makeTensor('float32', [6], [-1, -0, 2.5, 7, NaN, -Infinity]);
    const y = makeTensor('float32', [6]);
    runKernel(Relu, undefined, [x], [y]);
    expect(values(y)).toEqual([0, -0, 2.5, 7, NaN, 0]);
    runKernel(Relu6, undefined, [x], [y]);
    expect(values(y)).toEqual([0, -0, 2.5, 6, NaN, 0]);
  });
});

describe('RELU prepare', () => {
  it('checks types and shapes', () => {
    const q = { scale: 1, zeroPoint: 0 };
    expect(() => runKernel(Relu, undefined, [makeTensor('int8', [2], [0, 0], q)], [makeTensor('uint8', [2], undefined, q)])).toThrow(
      /output is uint8, input is int8/,
    );
    expect(() => runKernel(Relu6, undefined, [makeTensor('int8', [2], [0, 0], q)], [makeTensor('int8', [1, 2], undefined, q)])).toThrow(
      /output is int8\[1,2\], input is int8\[2\]/,
    );
    expect(() => runKernel(Relu, undefined, [makeTensor('int8', [2], [0, 0])], [makeTensor('int8', [2], undefined, q)])).toThrow(
      /input is int8 but has no quantization parameters/,
    );
  });
});

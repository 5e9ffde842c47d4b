import { describe, expect, it } from 'vitest';
import { Dequantize } from '../../ops/dequantize.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

describe('DEQUANTIZE', () => {
  it('int8, uint8 and int16: scale * (q - zero point)', () => {
    const y = makeTensor('float32', [4]);
    runKernel(Dequantize, undefined, [makeTensor('int8', [4], [-128, -1, 0, 127], { scale: 0.5, zeroPoint: -1 })], [y]);
    expect(values(y)).toEqual([-63.5, 0, 0.5, 64]);
    const y3 = makeTensor('float32', [3]);
    runKernel(Dequantize, undefined, [makeTensor('uint8', [3], [0, 128, 255], { scale: 0.25, zeroPoint: 128 })], [y3]);
    expect(values(y3)).toEqual([-32, 0, 31.75]);
    const y2 = makeTensor('float32', [2]);
    runKernel(Dequantize, undefined, [makeTensor('int16', [2], [32767, -32768], { scale: 1 / 1024, zeroPoint: 0 })], [y2]);
    expect(values(y2)).toEqual([31.9990234375, -32]);
  });

  it('rounds the exact double product once to float32', () => {
    // 0.1f = 0.100000001490116..., times 3 = 0.300000004470348...; the nearest float32 is 0.300000011920929
    // (0x3E99999A), not 0.299999982118607 (0x3E999999).
    const y = makeTensor('float32', [1]);
    runKernel(Dequantize, undefined, [makeTensor('int8', [1], [3], { scale: 0.1, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([0.30000001192092896]);
  });

  it('gives zeros (signed) for a zero scale', () => {
    const y = makeTensor('float32', [2]);
    runKernel(Dequantize, undefined, [makeTensor('int8', [2], [5, -5], { scale: 0, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([0, -0]);
  });

  it('checks types, shapes and per-tensor quantization', () => {
    const q = { scale: 1, zeroPoint: 0 };
    expect(() => runKernel(Dequantize, undefined, [makeTensor('int8', [2], [0, 0], q)], [makeTensor('int8', [2], undefined, q)])).toThrow(
      /output is int8; expected float32/,
    );
    expect(() => runKernel(Dequantize, undefined, [makeTensor('float32', [2], [0, 0])], [makeTensor('float32', [2])])).toThrow(
      /input is float32; expected int8, uint8 or int16/,
    );
    expect(() =>
      runKernel(Dequantize, undefined, [makeTensor('int8', [2], [0, 0], { scale: [1, 2], zeroPoint: 0 })], [makeTensor('float32', [2])]),
    ).toThrow(/input has 2 scales/);
    expect(() => runKernel(Dequantize, undefined, [makeTensor('int8', [2], [0, 0], q)], [makeTensor('float32', [4])])).toThrow(
      /output is float32\[4\], input is int8\[2\]/,
    );
  });
});

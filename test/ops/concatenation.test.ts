import { describe, expect, it } from 'vitest';
import { Concatenation } from '../../ops/concatenation.js';
import { FusedActivation } from '../../src/quant.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const none = (axis: number) => ({ axis, activation: FusedActivation.NONE });

describe('CONCATENATION', () => {
  it('axis 0 appends whole tensors (float32, moved as bytes)', () => {
    const a = makeTensor('float32', [1, 2], [1.5, -2]);
    const b = makeTensor('float32', [2, 2], [3, 4, 5, 6.25]);
    const y = makeTensor('float32', [3, 2]);
    runKernel(Concatenation, none(0), [a, b], [y]);
    expect(values(y)).toEqual([1.5, -2, 3, 4, 5, 6.25]);
  });

  it('axis -1 interleaves rows: each outer slice takes one block from each input in turn', () => {
    const quant = { scale: 0.5, zeroPoint: 1 };
    const a = makeTensor('int8', [2, 1], [1, 2], quant);
    const b = makeTensor('int8', [2, 2], [3, 4, 5, 6], quant);
    const y = makeTensor('int8', [2, 3], undefined, quant);
    runKernel(Concatenation, none(-1), [a, b], [y]);
    expect(values(y)).toEqual([1, 3, 4, 2, 5, 6]);

    const c = makeTensor('int64', [2, 1], [7, -8]);
    const d = makeTensor('int64', [2, 1], [9, 10]);
    const z = makeTensor('int64', [2, 2]);
    runKernel(Concatenation, none(1), [c, d], [z]);
    expect(values(z)).toEqual([7n, 9n, -8n, 10n]);
  });

  it('uint8 inputs with other quantization are requantized in float as TFLite does', () => {
    // b: scale 0.5, zero point 128 into scale 1, zero point 128. s = 0.5 * (1/1) = 0.5, bias = -128 * 0.5 = -64:
    //   131 -> 65.5 - 64 = 1.5 -> 2 -> 130      129 -> 0.5 -> 1 -> 129      127 -> -0.5 -> -1 -> 127
    //   0   -> -64 -> 64                          255 -> 63.5 -> 64 -> 192
    // a already has the output's quantization and is copied.
    const out = { scale: 1, zeroPoint: 128 };
    const a = makeTensor('uint8', [1, 2], [0, 255], out);
    const b = makeTensor('uint8', [1, 5], [131, 129, 127, 0, 255], { scale: 0.5, zeroPoint: 128 });
    const y = makeTensor('uint8', [1, 7], undefined, out);
    runKernel(Concatenation, none(1), [a, b], [y]);
    expect(values(y)).toEqual([0, 255, 130, 129, 127, 64, 192]);
  });

  it('int8 with other quantization is copied unchanged, as TFLM does', () => {
    // TFLM's concatenation.cc copies int8 bytes whatever the scales; requantizing would give [127, -128, 6].
    const a = makeTensor('int8', [3], [100, -100, 3], { scale: 2, zeroPoint: 0 });
    const y = makeTensor('int8', [3], undefined, { scale: 1, zeroPoint: 0 });
    runKernel(Concatenation, none(0), [a], [y]);
    expect(values(y)).toEqual([100, -100, 3]);
  });

  it('rejects fused activations and shapes that do not line up', () => {
    const a = makeTensor('int8', [2, 2], [0, 0, 0, 0], { scale: 1 });
    const b = makeTensor('int8', [3, 2], [0, 0, 0, 0, 0, 0], { scale: 1 });
    const y = makeTensor('int8', [2, 4], undefined, { scale: 1 });
    expect(() => runKernel(Concatenation, { axis: 1, activation: FusedActivation.RELU }, [a, a], [y])).toThrow(
      /fused activation 1 is not supported/,
    );
    expect(() => runKernel(Concatenation, none(1), [a, b], [y])).toThrow(/input 1 is int8\[3,2\]; output int8\[2,4\] needs the same dims except axis 1/);
    expect(() => runKernel(Concatenation, none(1), [a], [y])).toThrow(/inputs sum to 2 along axis 1, output has 4/);
  });
});

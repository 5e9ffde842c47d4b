import { describe, expect, it } from 'vitest';
import { Pad } from '../../ops/pad.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const paddings = (p: number[][], dtype: 'int32' | 'int64' = 'int32') => makeTensor(dtype, [p.length, 2], p.flat());

describe('PAD', () => {
  it('int8 pads with the output zero point (real 0.0)', () => {
    // [1,2,2,1] with one row before and one column after: [1,3,3,1].
    const quant = { scale: 0.5, zeroPoint: -3 };
    const x = makeTensor('int8', [1, 2, 2, 1], [10, 20, 30, 40], quant);
    const y = makeTensor('int8', [1, 3, 3, 1], undefined, quant);
    runKernel(Pad, undefined, [x, paddings([[0, 0], [1, 0], [0, 1], [0, 0]])], [y]);
    expect(values(y)).toEqual([
      -3, -3, -3,
      10, 20, -3,
      30, 40, -3,
    ]);
  });

  it('uint8 pads with its zero point too, on the channel axis as well', () => {
    const quant = { scale: 1, zeroPoint: 128 };
    const x = makeTensor('uint8', [1, 1, 2, 2], [1, 2, 3, 4], quant);
    const y = makeTensor('uint8', [1, 1, 2, 4], undefined, quant);
    runKernel(Pad, undefined, [x, paddings([[0, 0], [0, 0], [0, 0], [1, 1]])], [y]);
    expect(values(y)).toEqual([128, 1, 2, 128, 128, 3, 4, 128]);
  });

  it('float32 and int32 pad with 0; int64 paddings work; 1-D and 5-D shapes', () => {
    const xf = makeTensor('float32', [2], [1.5, -2.5]);
    const yf = makeTensor('float32', [5]);
    runKernel(Pad, undefined, [xf, paddings([[2, 1]], 'int64')], [yf]);
    expect(values(yf)).toEqual([0, 0, 1.5, -2.5, 0]);

    const xi = makeTensor('int32', [1, 1, 1, 1, 2], [-7, 9]);
    const yi = makeTensor('int32', [2, 1, 1, 1, 3]);
    runKernel(Pad, undefined, [xi, paddings([[0, 1], [0, 0], [0, 0], [0, 0], [1, 0]])], [yi]);
    expect(values(yi)).toEqual([0, -7, 9, 0, 0, 0]);
  });

  it('rejects negative paddings and a wrong output shape', () => {
    const x = makeTensor('int8', [2, 2], [0, 0, 0, 0], { scale: 1 });
    expect(() => runKernel(Pad, undefined, [x, paddings([[0, -1], [0, 0]])], [makeTensor('int8', [1, 2], undefined, { scale: 1 })])).toThrow(
      /paddings must not be negative/,
    );
    expect(() => runKernel(Pad, undefined, [x, paddings([[1, 1], [0, 0]])], [makeTensor('int8', [3, 2], undefined, { scale: 1 })])).toThrow(
      /output is int8\[3,2\], expected \[4,2\]/,
    );
    expect(() => runKernel(Pad, undefined, [x, paddings([[1, 1]])], [makeTensor('int8', [4, 2], undefined, { scale: 1 })])).toThrow(
      /paddings are int32\[1,2\], expected \[2,2\]/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { Transpose } from '../../ops/transpose.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const perm = (...p: number[]) => makeTensor('int32', [p.length], p);

describe('TRANSPOSE', () => {
  it('NCHW to NHWC with perm [0,2,3,1]', () => {
    // x[c][h][w] = 6c + 3h + w with C=2, H=2, W=3; y[h][w][c] = x[c][h][w], walked in h, w, c order.
    const quant = { scale: 1, zeroPoint: 0 };
    const x = makeTensor('int8', [1, 2, 2, 3], Array.from({ length: 12 }, (_, i) => i), quant);
    const y = makeTensor('int8', [1, 2, 3, 2], undefined, quant);
    runKernel(Transpose, undefined, [x, perm(0, 2, 3, 1)], [y]);
    expect(values(y)).toEqual([0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]);
  });

  it('a float32 matrix', () => {
    const x = makeTensor('float32', [2, 3], [1, 2, 3, 4, 5, 6.5]);
    const y = makeTensor('float32', [3, 2]);
    runKernel(Transpose, undefined, [x, perm(1, 0)], [y]);
    expect(values(y)).toEqual([1, 4, 2, 5, 3, 6.5]);
  });

  it('6-D int16, swapping the outer and inner dims', () => {
    // x[a][0][0][0][0][f] = 3a + f, shape [2,1,1,1,1,3]; y[f][0][0][0][0][a].
    const x = makeTensor('int16', [2, 1, 1, 1, 1, 3], [0, 1, 2, 3, 4, -300]);
    const y = makeTensor('int16', [3, 1, 1, 1, 1, 2]);
    runKernel(Transpose, undefined, [x, perm(5, 1, 2, 3, 4, 0)], [y]);
    expect(values(y)).toEqual([0, 3, 1, 4, 2, -300]);
  });

  it('rejects a perm that is not a permutation and a wrong output shape', () => {
    const x = makeTensor('int8', [2, 3], new Array(6).fill(0), { scale: 1 });
    const y = makeTensor('int8', [3, 2], undefined, { scale: 1 });
    expect(() => runKernel(Transpose, undefined, [x, perm(0, 0)], [y])).toThrow(/perm \[0,0\] is not a permutation of the 2 input dims/);
    expect(() => runKernel(Transpose, undefined, [x, perm(0, 1)], [y])).toThrow(/output is int8\[3,2\], expected \[2,3\]/);
  });
});
